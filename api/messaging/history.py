"""What was already said: reads over the message record (to a conversation, to a number, to an
address), so a message is not said twice and a conversation can be shown whole."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.messaging.numbers import addresses_of_number
from api.messaging.outbox import render_for


def sent_since(*, session: Session, conversation_id: int, category: MessageCategory,
               since: datetime) -> bool:
    """True when a message of this category went to the conversation after `since`."""
    return session.scalar(
        select(Message.id).where(Message.conversation_id == conversation_id,
                                 Message.direction == Direction.OUTBOUND,
                                 Message.category == category, Message.created_at >= since)
        .limit(1)) is not None


def sent_same_since(*, session: Session, conversation_id: int, category: MessageCategory,
                    channel: Channel, text: str, since: datetime) -> bool:
    """True when this very text went to the conversation after `since` (and did not fail)."""
    body, _ = render_for(channel=channel, text=text)
    return session.scalar(
        select(Message.id).where(
            Message.conversation_id == conversation_id, Message.direction == Direction.OUTBOUND,
            Message.category == category, Message.created_at >= since, Message.body == body,
            Message.status.notin_([MessageStatus.FAILED, MessageStatus.UNDELIVERED,
                                   MessageStatus.PARKED, MessageStatus.CANCELLED]))
        .limit(1)) is not None


def sent_to_number_since(*, session: Session, address: str, category: MessageCategory,
                         since: datetime) -> bool:
    """True when a message of this category was queued for the number after `since`."""
    return session.scalar(
        select(Message.id).where(Message.to_address.in_(addresses_of_number(address)),
                                 Message.direction == Direction.OUTBOUND,
                                 Message.channel != Channel.VOICE,
                                 Message.category == category, Message.created_at >= since)
        .limit(1)) is not None


def sent_to(*, session: Session, to_address: str) -> list[Message]:
    """Outbound messages to one address, oldest first (the sandbox's record of what was sent:
    what a call said is in its conversation, not here)."""
    return list(
        session.scalars(
            select(Message)
            .where(Message.direction == Direction.OUTBOUND, Message.to_address == to_address,
                   Message.channel != Channel.VOICE)
            .order_by(Message.id)
        )
    )


def transcript(*, session: Session, conversation_id: int) -> list[Message]:
    """Every message of a conversation, in order."""
    return list(
        session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        )
    )


def message_in_hand(*, session: Session, conversation_id: int) -> Message | None:
    """The patient message being answered now: the oldest not processed yet (the worker takes
    them one at a time, in order), else the latest one the patient wrote."""
    inbound = (select(Message).where(Message.conversation_id == conversation_id,
                                     Message.direction == Direction.INBOUND))
    return (session.scalars(inbound.where(Message.status == MessageStatus.RECEIVED)
                            .order_by(Message.id).limit(1)).first()
            or session.scalars(inbound.order_by(Message.id.desc()).limit(1)).first())
