"""Delivery: Twilio's status callbacks move a message forward only; failed messages wait for
the worker's fallback, parked ones for staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.db import utcnow
from api.messaging.models import Direction, Message, MessageStatus

# What the dispatcher records on a message it refused itself (the worker's fallback reads
# them): Twilio's own error code for an opted-out number and for free WhatsApp text outside
# the 24-hour window, and the parked reason of a message held back by the daily cap.
LOCAL_OPTED_OUT = 21610
LOCAL_OUTSIDE_WINDOW = 63016
PARKED_BY_DAILY_CAP = "daily cap per number reached"

# Twilio's status order; a late callback never moves a message backwards.
STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.UNDELIVERED: 3,
    MessageStatus.FAILED: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.READ: 5,
}
TWILIO_STATUSES = {
    "accepted": MessageStatus.QUEUED,
    "scheduled": MessageStatus.QUEUED,
    "queued": MessageStatus.QUEUED,
    "sending": MessageStatus.SENDING,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
}


def apply_status_callback(*, session: Session, sid: str, twilio_status: str,
                          error_code: int | None) -> Message | None:
    """Record a delivery status from Twilio; None when the SID is not ours."""
    message = session.scalar(select(Message).where(Message.provider_sid == sid))
    status = TWILIO_STATUSES.get(twilio_status.lower())
    if message is None or status is None or message.direction is not Direction.OUTBOUND:
        return message
    if STATUS_RANK.get(status, 0) < STATUS_RANK.get(message.status, 0):
        return message  # a late callback: keep the furthest status
    message.status = status
    if error_code is not None:
        message.error_code = error_code
    if status in (MessageStatus.DELIVERED, MessageStatus.READ) and message.delivered_at is None:
        message.delivered_at = utcnow()
    return message


def failed_unhandled(*, session: Session, limit: int = 100) -> list[Message]:
    """Outbound messages that failed for good and still await a fallback decision."""
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.direction == Direction.OUTBOUND,
                Message.status.in_(
                    [MessageStatus.UNDELIVERED, MessageStatus.FAILED, MessageStatus.PARKED]
                ),
                Message.failure_handled_at.is_(None),
            )
            .order_by(Message.id)
            .limit(limit)
        )
    )


def mark_failure_handled(*, session: Session, message_id: int) -> bool:
    """Claim a failed message's fallback exactly once across processes."""
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.failure_handled_at.is_(None))
        .values(failure_handled_at=utcnow())
    )
    return result.rowcount == 1


def parked(*, session: Session, limit: int = 200) -> list[Message]:
    """Messages set aside for staff (either direction), newest first, with why."""
    return list(session.scalars(
        select(Message).where(Message.status == MessageStatus.PARKED)
        .order_by(Message.id.desc()).limit(limit)))


def oldest_queued_age(*, session: Session, now: datetime | None = None) -> float:
    """Seconds the oldest due message has waited (outbox lag)."""
    oldest = session.scalar(
        select(func.min(Message.next_attempt_at)).where(
            Message.direction == Direction.OUTBOUND, Message.status == MessageStatus.QUEUED
        )
    )
    return 0.0 if oldest is None else max(0.0, ((now or utcnow()) - oldest).total_seconds())
