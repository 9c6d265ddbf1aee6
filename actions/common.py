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
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from api import db, texts
from api.config import Settings, get_settings
from api.conversations import identity
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


async def in_session(tracker: Tracker, work: Callable[[Session, Conversation | None], Events]
                     ) -> Events:
    """Run `work(session, conversation)` in a thread with a committing session."""

    def run() -> Events:
        with open_session() as session:
            events = work(session, conversation_for(session, tracker))
            session.flush()  # errors surface inside the action, not at commit
            return events

    return await asyncio.to_thread(run)


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

        return await in_session(tracker, work)


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

