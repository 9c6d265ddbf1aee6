"""The per-number daily cap: how many messages a number has had today, and the lock that
lets one transaction count and queue for a number without a race."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.config import Settings
from api.db import utcnow
from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.messaging.numbers import addresses_of_number, bare_number

# The per-number daily cap: every message to a number in the last 24 hours counts, except the
# safety net, which is never counted and never refused. The cap refuses automatic messages
# only: a staff reply is a person's decision, and the one opt-out confirmation a day that
# handle_keyword sends uncapped has been counted already when it was queued. The cap is a
# patient's: the on-call alert to staff is neither counted nor refused.
DAILY_CAP_WINDOW = timedelta(days=1)
NOT_COUNTED_BY_CAP = frozenset({MessageCategory.SAFETY_NET, MessageCategory.STAFF_ALERT})
NEVER_REFUSED_BY_CAP = frozenset({MessageCategory.SAFETY_NET, MessageCategory.STAFF_REPLY,
                                  MessageCategory.OPT_OUT_CONFIRMATION,
                                  MessageCategory.STAFF_ALERT})


def messages_today(*, session: Session, address: str, now: datetime | None = None) -> int:
    """Messages queued for the number behind `address` in the last 24 hours that count
    against its daily cap (everything but the safety net; withdrawn messages aside)."""
    since = (now or utcnow()) - DAILY_CAP_WINDOW
    return session.scalar(
        select(func.count()).select_from(Message).where(
            Message.to_address.in_(addresses_of_number(address)),
            Message.created_at >= since,
            Message.direction == Direction.OUTBOUND,
            Message.category.notin_(NOT_COUNTED_BY_CAP),
            # What a call says is spoken to a caller on the line, not sent: it costs nothing.
            Message.channel != Channel.VOICE,
            Message.status.notin_([MessageStatus.CANCELLED, MessageStatus.HELD])))


def hold_number_for_cap(*, session: Session, address: str) -> None:
    """Hold the number's cap lock until this transaction ends, before counting and queueing.

    Two conversations of one number (its SMS and its WhatsApp) run on different workers:
    without the lock both could count "one left" and both queue. For a transaction about ONE
    number (a worker's turn); a batch over many numbers would risk lock-order deadlocks.
    SQLite serialises every writer already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction, number = session.get_transaction(), bare_number(address)
    held = session.info.get("cap_lock")
    if held is not None and held[0] is transaction and held[1] == number:
        return  # this transaction holds it already: spare the round trip
    digest = hashlib.blake2b(number.encode(), digest_size=8).digest()
    session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest, "big", signed=True))))
    session.info["cap_lock"] = (transaction, number)


def daily_cap_reached(*, session: Session, settings: Settings, address: str) -> bool:
    """True when the number behind `address` has had its day's share of messages."""
    return messages_today(session=session, address=address) >= settings.daily_cap_per_number
