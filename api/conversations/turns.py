"""Retry-safe assistant turns: one change and one set of words per inbound message.

A turn's change (a booking, a hold, a handover...) is committed by the action server and its
words by the worker, in two processes. The inbound message's id travels with the turn (Rasa
message metadata), so each side can find the other's work:

- an action that changed something records what it said (`record_run`) in the transaction
  that holds the change;
- an action run again for the same message (a retried turn, or a slow first attempt still
  running) replays that record instead of acting twice (`earlier_run`);
- a worker retrying a message whose actions already committed writes the recorded words
  instead of asking Rasa again (`recorded_replies`), and every finished turn forgets its
  records in the same transaction as its replies (`forget`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.conversations.models import TurnOutcome
from api.conversations.rasa_client import AssistantReply
from api.messaging.models import Message, MessageStatus

# An inbound message in one of these states has been answered: nothing may act on it again.
ANSWERED = frozenset({MessageStatus.PROCESSED, MessageStatus.PARKED})


@dataclass(frozen=True)
class EarlierRun:
    """What an action already did for this message: replay it, or (answered) do nothing."""

    answered: bool
    replies: list[dict[str, Any]]
    result: Any  # the events an action returned (a form step: the slot values it set)


def earlier_run(*, session: Session, message_id: int, action: str) -> EarlierRun | None:
    """Whether `action` must not act for this message: it did already, or the turn is over.

    Locks the inbound message's row (PostgreSQL) until the caller commits, so a worker that
    gives up on a slow turn and an action finishing it cannot both decide the outcome.
    """
    row = session.execute(
        select(Message.status, TurnOutcome.replies, TurnOutcome.result, TurnOutcome.id)
        .outerjoin(TurnOutcome, (TurnOutcome.message_id == Message.id)
                   & (TurnOutcome.action == action))
        .where(Message.id == message_id)
        .with_for_update(of=Message)).first()  # one round trip per action run
    if row is None:
        return None  # not a stored message (a test or a hand-made turn): nothing to key on
    status, replies, result, outcome_id = row
    if status in ANSWERED:
        return EarlierRun(answered=True, replies=[], result=None)
    if outcome_id is None:
        return None
    return EarlierRun(answered=False, replies=list(replies), result=result)


def record_run(*, session: Session, message_id: int, action: str,
               replies: list[dict[str, Any]], result: Any) -> None:
    """Record what an action changed and said, in the transaction holding the change."""
    session.add(TurnOutcome(message_id=message_id, action=action, replies=replies,
                            result=result))


def recorded_replies(*, session: Session, message_id: int) -> list[AssistantReply]:
    """The words of every action that committed while answering this message, in order."""
    outcomes = session.scalars(select(TurnOutcome).where(TurnOutcome.message_id == message_id)
                               .order_by(TurnOutcome.id))
    return [AssistantReply(text=reply.get("text") or "",
                           buttons=[{"title": b.get("title", ""), "payload": b.get("payload", "")}
                                    for b in reply.get("buttons") or []])
            for outcome in outcomes for reply in outcome.replies
            if reply.get("text") or reply.get("buttons")]


def hold_message(*, session: Session, message_id: int) -> None:
    """Lock the inbound message's row (PostgreSQL) until commit: see `earlier_run`."""
    session.execute(select(Message.id).where(Message.id == message_id).with_for_update())


def forget(*, session: Session, message_id: int) -> None:
    """The turn's words are written: its records have served their purpose."""
    session.execute(delete(TurnOutcome).where(TurnOutcome.message_id == message_id))
