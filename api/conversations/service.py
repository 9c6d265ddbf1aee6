"""Conversation verbs: attach inbound messages to conversations and lease them to one worker."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from api.conversations.models import Conversation, ConversationState, new_public_id
from api.db import utcnow
from api.handover import summary as handover_summary
from api.messaging import numbers
from api.messaging.models import (
    ADDRESS_CHARS,
    PARKED_REASON_CHARS,
    Direction,
    Message,
    MessageStatus,
)

log = logging.getLogger(__name__)


def get_or_create(*, session: Session, channel, address: str) -> Conversation:
    """The conversation for this channel and address, created on first contact."""
    existing = select(Conversation).where(Conversation.channel == channel,
                                          Conversation.address == address)
    conversation = session.scalars(existing).first()
    if conversation is not None:
        return conversation  # the usual case: no write, so no flush at commit
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    created = session.scalars(
        insert(Conversation)
        .values(public_id=new_public_id(), channel=channel, address=address,
                state=ConversationState.ACTIVE,
                failed_identity_attempts=0, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["channel", "address"])
        .returning(Conversation)
    ).first()
    # None: another worker created it a moment ago.
    return created if created is not None else session.scalars(existing).one()


def assign_inbound(*, session: Session, limit: int = 500) -> int:
    """Give newly stored inbound messages their conversation; how many had to be parked.

    A message that cannot be attached (an address longer than the column, whatever else the
    database refuses) is parked with its reason instead of failing the pass: before, one such
    row made every pass fail and held up every message behind it.

    A carrier keyword (STOP, START) arrives here already processed (the webhook acts on it at
    once); it is attached all the same, with the confirmation the webhook queued in answer, so
    the conversation's transcript holds both.
    """
    query = (
        select(Message)
        .where(Message.direction == Direction.INBOUND, Message.conversation_id.is_(None),
               Message.status.in_((MessageStatus.RECEIVED, MessageStatus.PROCESSED)))
        .order_by(Message.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Workers racing to assign the same rows would deadlock; each takes what is free.
        query = query.with_for_update(skip_locked=True)
    # Workers assigning at once hold disjoint messages but may share conversations (one
    # number's messages in both batches); each takes the conversations' row locks in the same
    # order (by address), so two passes never wait on each other in a cycle (a deadlock).
    messages = sorted(session.scalars(query), key=lambda m: (m.channel.value, m.from_address,
                                                             m.id))
    parked = 0
    for message in messages:
        if len(message.from_address) > ADDRESS_CHARS:
            park(message=message, reason=f"sender address longer than {ADDRESS_CHARS} characters")
            parked += 1
    try:
        with session.begin_nested():  # the usual case: the whole batch at once
            for message in messages:
                if message.status is not MessageStatus.PARKED:
                    _assign(session, message)
        return parked
    except SQLAlchemyError:
        log.warning("assigning a batch failed; assigning its messages one by one", exc_info=True)
    for message in messages:
        if message.status is MessageStatus.PARKED or message.conversation_id is not None:
            continue
        try:
            with session.begin_nested():
                _assign(session, message)
        except OperationalError:
            # Lock trouble or a lost connection, not this row: the next pass assigns it.
            log.warning("could not assign a message now; tried again on the next pass",
                        exc_info=True, extra={"message_id": message.id})
        except SQLAlchemyError as exc:
            park(message=message,
                 reason=f"could not be attached to a conversation ({type(exc).__name__})")
            parked += 1
    return parked


def _assign(session: Session, message: Message) -> None:
    conversation = get_or_create(session=session, channel=message.channel,
                                 address=message.from_address)
    message.conversation_id = conversation.id
    if message.status is MessageStatus.PROCESSED:  # a keyword: its answer joins it
        session.execute(update(Message).where(Message.reply_to_id == message.id,
                                              Message.conversation_id.is_(None))
                        .values(conversation_id=conversation.id))
    if conversation.last_inbound_at is None or conversation.last_inbound_at < message.created_at:
        conversation.last_inbound_at = message.created_at


def park(*, message: Message, reason: str) -> None:
    """Set an inbound message aside for staff, with why, so the rest of the queue flows."""
    message.status = MessageStatus.PARKED
    message.parked_reason = reason[:PARKED_REASON_CHARS]
    log.error("inbound message parked", extra={"message_id": message.id, "reason": reason})


class Work(NamedTuple):
    """A conversation with messages waiting, and the patient's number (both channels)."""

    conversation_id: int
    number: str


def conversations_with_work(*, session: Session, owner: str, limit: int = 50) -> list[Work]:
    """Conversations with unprocessed messages that `owner` may take, longest-waiting first.

    Conversations leased to another worker are left out (unless the lease has run out).
    """
    now = utcnow()
    rows = session.execute(
        select(Message.conversation_id, Conversation.address,
               func.min(Message.id).label("first"))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.direction == Direction.INBOUND, Message.status == MessageStatus.RECEIVED,
               or_(Conversation.lease_owner.is_(None), Conversation.lease_owner == owner,
                   Conversation.lease_expires_at < now))
        .group_by(Message.conversation_id, Conversation.address)
        .order_by("first")
        .limit(limit)
    )
    return [Work(row.conversation_id, numbers.bare_number(row.address)) for row in rows]


def take_lease(*, session: Session, conversation_id: int, owner: str,
               seconds: float) -> Conversation | None:
    """Take (or renew) a conversation's lease: the conversation, or None when another worker
    holds it. One statement: the UPDATE returns the row, so the turn needs no extra SELECT."""
    now = utcnow()
    return session.scalars(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            or_(Conversation.lease_owner.is_(None), Conversation.lease_owner == owner,
                Conversation.lease_expires_at < now),
        )
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=seconds))
        .returning(Conversation)
        .execution_options(populate_existing=True)
    ).first()


def release_lease(*, session: Session, conversation_id: int, owner: str) -> None:
    """Give up a conversation's lease (only if we still hold it)."""
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )


def _count_attempt_on_next_pending(*, session: Session, conversation_id: int) -> Message | None:
    """The oldest unprocessed message of a conversation, its attempt counted; one statement."""
    oldest_pending = (
        select(Message.id)
        .where(Message.conversation_id == conversation_id,
               Message.direction == Direction.INBOUND, Message.status == MessageStatus.RECEIVED)
        .order_by(Message.id)
        .limit(1)
        .scalar_subquery()
    )
    return session.scalars(
        update(Message)
        .where(Message.id == oldest_pending)
        .values(attempts=Message.attempts + 1)
        .returning(Message)
        .execution_options(populate_existing=True)
    ).first()


def claim_next_message(*, session: Session, conversation_id: int, owner: str,
                       seconds: float) -> tuple[Conversation, Message] | None:
    """Lease the conversation and take its next pending message (strictly one at a time, in
    arrival order), counting the attempt.

    None when another worker holds the lease, or when nothing is pending (then our lease is
    given up). The caller commits: the attempt is counted before the turn runs, so a message
    that kills its worker every time is given up on after a few tries.
    """
    conversation = take_lease(session=session, conversation_id=conversation_id, owner=owner,
                              seconds=seconds)
    if conversation is None:
        return None
    message = _count_attempt_on_next_pending(session=session, conversation_id=conversation_id)
    if message is None:
        release_lease(session=session, conversation_id=conversation_id, owner=owner)
        return None
    return conversation, message


def by_public_id(*, session: Session, public_id: str) -> Conversation | None:
    """The conversation behind the pseudonymous id Rasa knows."""
    return session.scalar(select(Conversation).where(Conversation.public_id == public_id))


def get(*, session: Session, conversation_id: int) -> Conversation | None:
    """One conversation by id."""
    return session.get(Conversation, conversation_id)


def last_written_on(*, session: Session, addresses: list[str]) -> Conversation | None:
    """Of the conversations on these addresses, the one whose patient wrote last."""
    return session.scalars(
        select(Conversation).where(Conversation.address.in_(addresses),
                                   Conversation.last_inbound_at.is_not(None),
                                   Conversation.purged_at.is_(None))
        .order_by(Conversation.last_inbound_at.desc(), Conversation.id.desc()).limit(1)).first()


def facts_of(conversation: Conversation) -> handover_summary.ConversationFacts:
    """What a handover needs of this conversation (its id, channel, address, identity) as
    plain facts, passed to the handover domain, which sits below this one and never reads the
    conversation itself."""
    return handover_summary.ConversationFacts(
        id=conversation.id, channel=conversation.channel, address=conversation.address,
        verified_patient_id=conversation.verified_patient_id,
        verified=conversation.verified_as() is not None,
        failed_identity_attempts=conversation.failed_identity_attempts)


def staff_finished(*, session: Session, conversation_id: int, hand_back: bool) -> None:
    """Staff resolved the conversation's case: the assistant takes it up again (hand back),
    or the conversation is closed."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is not None:
        conversation.state = ConversationState.ACTIVE if hand_back else ConversationState.CLOSED
