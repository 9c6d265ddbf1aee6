"""What every action shares: a database session per run, the conversation behind the sender id,
the identity gate, and small tracker helpers.

Each action run opens its own session (`api.db.session_scope`, the app's DATABASE_URL) and does
its database work in a worker thread, so the action server's event loop never blocks on I/O.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import event
from sqlalchemy.orm import Session

from api import db, texts
from api.config import Settings, get_settings
from api.conversations import identity, turns
from api.conversations import service as conversations_service
from api.conversations.models import Conversation
from api.patients.models import Patient

IDENTITY_FORM = "identity_form"
SLOT_VERIFIED = "verified"
SLOT_QUESTION = "question"
SLOT_OFFERS = "offers"
SLOT_APPOINTMENT = "appointment_id"
SLOT_PREFERENCES = "preferences"
SLOT_CANCEL_REASON = "cancel_reason"

Events = list[dict[str, Any]]
T = TypeVar("T")


def open_session() -> AbstractContextManager[Session]:
    """A committing session on the app's database (tests replace this)."""
    return db.session_scope()


@dataclass
class Turn:
    """One action run: who is talking, what they said, and where to answer."""

    dispatcher: CollectingDispatcher
    tracker: Tracker
    domain: DomainDict
    session: Session
    settings: Settings
    conversation: Conversation | None
    message: dict[str, Any]  # the user message being answered (intent, entities, text)
    patient: Patient | None = None

    @property
    def text(self) -> str:
        return self.message.get("text") or ""

    @property
    def intent(self) -> str:
        return (self.message.get("intent") or {}).get("name") or ""

    def entities(self, name: str) -> list[str]:
        """Values of one entity in the message, in order (synonyms already mapped)."""
        return [str(e.get("value")) for e in self.message.get("entities") or []
                if e.get("entity") == name and e.get("value") is not None]

    @property
    def channel(self) -> str:
        metadata = self.message.get("metadata") or self.tracker.latest_message.get("metadata")
        return (metadata or {}).get("channel") or "sms"

    def now(self) -> datetime:
        return db.utcnow()


def conversation_for(session: Session, tracker: Tracker) -> Conversation | None:
    """The conversation record behind Rasa's sender id (the pseudonymous public id)."""
    return conversations_service.by_public_id(session=session, public_id=tracker.sender_id)


def answer_later(*, settings: Settings, due_at: datetime) -> str:
    """"They'll be in touch by 3pm today." in the patient's time zone."""
    return texts.answer_by(settings=settings, due_at=due_at)


class _Superseded(Exception):
    """This run must not stand: the message was answered, or this action already acted."""

    def __init__(self, earlier: turns.EarlierRun, own_result: Any):
        super().__init__("superseded by an earlier run")
        self.earlier = earlier
        self.own_result = own_result


def message_id_of(tracker: Tracker) -> int | None:
    """The inbound message this turn answers (the worker puts its id in the metadata)."""
    value = (tracker.latest_message.get("metadata") or {}).get("message_id")
    return value if isinstance(value, int) else None


class _WriteWatch:
    """Notes whether a session changed anything, through the ORM or a bulk statement."""

    def __init__(self, session: Session):
        self.session = session
        self.wrote = False

    def __enter__(self) -> _WriteWatch:
        event.listen(self.session, "after_flush", self._after_flush)
        event.listen(self.session, "do_orm_execute", self._on_execute)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.session, "after_flush", self._after_flush)
        event.remove(self.session, "do_orm_execute", self._on_execute)

    def _after_flush(self, session: Session, _context: Any) -> None:
        self.wrote = self.wrote or bool(session.new or session.dirty or session.deleted)

    def _on_execute(self, state: Any) -> None:
        self.wrote = self.wrote or state.is_insert or state.is_update or state.is_delete


async def in_session(tracker: Tracker, work: Callable[[Session, Conversation | None], T], *,
                     key: str | None = None, dispatcher: CollectingDispatcher | None = None
                     ) -> T:
    """Run `work(session, conversation)` in a thread with a committing session.

    With a `key` (the action, or the form step) the run counts once per inbound message: a
    run for a message already acted on replays what was said and returned then, and a run
    for a message the worker has already answered changes and says nothing.
    """
    message_id = message_id_of(tracker) if key else None

    def run() -> T:
        with open_session() as session, _WriteWatch(session) as watch:
            result = work(session, conversation_for(session, tracker))
            session.flush()  # errors surface inside the action, not at commit
            if message_id is None:
                return result
            earlier = turns.earlier_run(session=session, message_id=message_id, action=key)
            if earlier is not None:
                raise _Superseded(earlier, result)  # rolls this run's changes back
            if watch.wrote:
                turns.record_run(session=session, message_id=message_id, action=key,
                                 replies=list(dispatcher.messages) if dispatcher else [],
                                 result=result)
            return result

    try:
        return await asyncio.to_thread(run)
    except _Superseded as superseded:
        earlier = superseded.earlier
        if dispatcher is not None:  # the first run's words; none if the turn is over
            dispatcher.messages[:] = earlier.replies
        # Nobody listens to a turn that is over: the (rolled back) run's own result will do.
        return superseded.own_result if earlier.answered else earlier.result


def question(value: str | None) -> dict[str, Any]:
    """Set (or clear) the yes/no question the bot has just asked."""
    return SlotSet(SLOT_QUESTION, value)


class DbAction(Action, ABC):
    """An action whose work needs the database: `respond(turn)` runs in a worker thread.

    Abstract, so the action server does not register it (it registers every concrete Action).
    """

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def respond(self, turn: Turn) -> Events: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> Events:
        def work(session: Session, conversation: Conversation | None) -> Events:
            patient = (identity.verified_patient(session=session, conversation=conversation)
                       if conversation is not None else None)
            turn = Turn(dispatcher=dispatcher, tracker=tracker, domain=domain, session=session,
                        settings=get_settings(), conversation=conversation,
                        message=tracker.latest_message or {}, patient=patient)
            return self.respond(turn)

        return await in_session(tracker, work, key=self.name(), dispatcher=dispatcher)


class GatedAction(DbAction):
    """An action about the patient's own appointments: only for a verified conversation.

    If the identity check has expired since the rules let this action run, the patient is
    asked to confirm their date of birth again and the question is answered afterwards
    (action_identity_done reads it back from the tracker).
    """

    @abstractmethod
    def answer(self, turn: Turn) -> Events: ...

    def respond(self, turn: Turn) -> Events:
        if turn.patient is None:
            return [SlotSet(SLOT_VERIFIED, False), FollowupAction(IDENTITY_FORM)]
        return self.answer(turn)

