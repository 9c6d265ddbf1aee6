"""Messaging verbs: store what arrives, queue what leaves, track delivery, honour opt-outs."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import JSON, Text, bindparam, cast, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api import texts
from api.config import Settings
from api.db import utcnow
from api.messaging import render
from api.messaging.keywords import CONSENT_KEYWORDS, Keyword, classify
from api.messaging.models import (
    Channel,
    Direction,
    Message,
    MessageCategory,
    MessageStatus,
    OptOut,
)
from api.messaging.schemas import InboundMessage
from api.patients.models import Patient
from api.system import localtime

log = logging.getLogger(__name__)

WHATSAPP_WINDOW = timedelta(hours=24)

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
# Messages a patient must still get after opting out: the confirmation, safety advice.
SENT_DESPITE_OPT_OUT = frozenset({MessageCategory.SERVICE, MessageCategory.SAFETY_NET,
                                  MessageCategory.OPT_OUT_CONFIRMATION})
# The per-number daily cap: every message to a number in the last 24 hours counts, except the
# safety net, which is never counted and never refused. The cap refuses automatic messages
# only: a staff reply is a person's decision, and the one opt-out confirmation a day that
# handle_keyword sends uncapped has been counted already when it was queued.
DAILY_CAP_WINDOW = timedelta(days=1)
NOT_COUNTED_BY_CAP = frozenset({MessageCategory.SAFETY_NET})
NEVER_REFUSED_BY_CAP = frozenset({MessageCategory.SAFETY_NET, MessageCategory.STAFF_REPLY,
                                  MessageCategory.OPT_OUT_CONFIRMATION})
# Messages we start (not replies): only inside the send window, never at night.
UNSOLICITED = frozenset(
    {MessageCategory.NOTIFICATION, MessageCategory.CHASER, MessageCategory.REMINDER}
)


def sent_since(*, session: Session, conversation_id: int, category: MessageCategory,
               since: datetime) -> bool:
    """True when a message of this category went to the conversation after `since`."""
    return session.scalar(
        select(Message.id).where(Message.conversation_id == conversation_id,
                                 Message.direction == Direction.OUTBOUND,
                                 Message.category == category, Message.created_at >= since)
        .limit(1)) is not None


def bare_number(address: str) -> str:
    """"whatsapp:+447700900123" -> "+447700900123"."""
    return address.removeprefix("whatsapp:")


def addresses_of_number(address: str) -> list[str]:
    """Every address one number is written to: SMS and WhatsApp (a cap is per number)."""
    if "@" in address:
        return [address]
    return [bare_number(address), f"whatsapp:{bare_number(address)}"]


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


def sender_for(*, settings: Settings, channel: Channel) -> str:
    """Our own address on a channel."""
    if channel is Channel.EMAIL:
        return settings.smtp_from
    return settings.twilio_whatsapp_from if channel is Channel.WHATSAPP else settings.twilio_sms_from


def next_send_time(*, settings: Settings, now: datetime | None = None) -> datetime:
    """`now` if inside the send window (Europe/London), else when the window next opens."""
    now = now or utcnow()
    zone = localtime.patient_zone(settings)
    local = now.astimezone(zone)
    opens = time.fromisoformat(settings.send_window_start)
    closes = time.fromisoformat(settings.send_window_end)
    if opens <= local.time() < closes:
        return now
    day = local.date() if local.time() < opens else local.date() + timedelta(days=1)
    return datetime.combine(day, opens, tzinfo=zone).astimezone(now.tzinfo)


def _insert_ignoring_duplicates(session: Session, values: dict) -> int | None:
    """INSERT a message unless its provider SID is stored already; the new id, or None."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["provider_sid"])
        .returning(Message.id)
    )
    return session.execute(statement).scalar()


def _inbound_row(inbound: InboundMessage, now: datetime) -> dict:
    return {
        "direction": Direction.INBOUND,
        "channel": inbound.channel,
        "from_address": inbound.address,
        "to_address": inbound.to,
        "body": inbound.text,
        "provider_sid": inbound.message_sid,
        "status": MessageStatus.RECEIVED,
        "category": MessageCategory.PATIENT,
        "media": inbound.media_urls or None,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def record_inbound(*, session: Session, inbound: InboundMessage) -> int | None:
    """Store an inbound message once; its id, or None when this MessageSid was stored before."""
    return _insert_ignoring_duplicates(session, _inbound_row(inbound, utcnow()))


def record_inbound_batch(*, session: Session, batch: list[InboundMessage]) -> dict[str, int]:
    """Store many inbound messages in one statement, each MessageSid once.

    Returns MessageSid -> id for the rows this call inserted; a MessageSid stored before (or
    repeated within the batch) is left out, exactly as `record_inbound` returns None for it.
    """
    now = utcnow()
    rows: dict[str, dict] = {}
    for inbound in batch:  # in arrival order, so ids (and the worker's order) follow it
        rows.setdefault(inbound.message_sid, _inbound_row(inbound, now))
    if session.get_bind().dialect.name == "postgresql":
        return _insert_inbound_from_arrays(session, list(rows.values()))
    table = Message.__table__
    statement = (sqlite_insert(table).on_conflict_do_nothing(index_elements=["provider_sid"])
                 .returning(table.c.provider_sid, table.c.id))
    return dict(session.connection().execute(statement, list(rows.values())).all())


# The columns that differ between the messages of one batch; the rest are the same for all.
_VARYING = ("channel", "from_address", "to_address", "body", "provider_sid", "media")
_SHARED = ("direction", "status", "category", "attempts", "created_at", "updated_at")


@lru_cache(maxsize=1)
def _inbound_from_arrays_statement():
    """INSERT ... SELECT FROM unnest(arrays) WITH ORDINALITY ... RETURNING, built once."""
    table = Message.__table__
    given = func.unnest(*(bindparam(name, type_=ARRAY(Text)) for name in _VARYING)
                        ).table_valued(*_VARYING, with_ordinality="arrival").render_derived()
    shared = {name: bindparam(f"shared_{name}", type_=table.c[name].type) for name in _SHARED}
    source = select(
        shared["direction"], given.c.channel, given.c.from_address, given.c.to_address,
        given.c.body, given.c.provider_sid, shared["status"], shared["category"],
        cast(given.c.media, JSON), shared["attempts"], shared["created_at"],
        shared["updated_at"],
    ).order_by(given.c.arrival)
    columns = ["direction", *_VARYING[:5], "status", "category", "media", *_SHARED[3:]]
    return (pg_insert(table).from_select(columns, source)
            .on_conflict_do_nothing(index_elements=["provider_sid"])
            .returning(table.c.provider_sid, table.c.id))


def _insert_inbound_from_arrays(session: Session, rows: list[dict]) -> dict[str, int]:
    """PostgreSQL: the batch as six arrays, inserted in arrival order.

    One statement text and a dozen parameters whatever the batch size, so the driver parses
    and prepares it once; a multi-row VALUES list has 12 parameters a row, and psycopg
    re-parses such a long statement every time (measured: ~3 ms of CPU for 40 rows, half of
    the webhook's work under load).
    """
    params = {name: [row[name] for row in rows] for name in _VARYING}
    params["channel"] = [channel.value for channel in params["channel"]]
    params["media"] = [json.dumps(media) if media else None for media in params["media"]]
    params.update({f"shared_{name}": rows[0][name] for name in _SHARED})
    return dict(session.connection().execute(_inbound_from_arrays_statement(), params).all())


def patients_on_number(*, session: Session, address: str) -> list[Patient]:
    """Every patient whose mobile is this number (phones are shared)."""
    number = bare_number(address)
    return list(session.scalars(select(Patient).where(Patient.mobile == number).order_by(Patient.id)))


def is_opted_out(*, session: Session, address: str) -> bool:
    """True when the number behind `address` has opted out."""
    if session.get(OptOut, bare_number(address)) is not None:
        return True
    patients = patients_on_number(session=session, address=address)
    return bool(patients) and all(p.opted_out for p in patients)


def set_opt_out(*, session: Session, address: str, opted_out: bool) -> int:
    """Opt the number, and every patient on it, out (or back in); how many patient records
    changed."""
    number = bare_number(address)
    recorded = session.get(OptOut, number)
    if opted_out and recorded is None:
        session.add(OptOut(number=number))
    elif not opted_out and recorded is not None:
        session.delete(recorded)
    changed = 0
    for patient in patients_on_number(session=session, address=address):
        if patient.opted_out != opted_out:
            patient.opted_out = opted_out
            patient.opted_out_at = utcnow() if opted_out else None
            changed += 1
    return changed


def help_text(*, settings: Settings) -> str:
    """The answer to HELP: who we are, how to reach a person, where to get urgent help."""
    return texts.text("keyword_help", trust_name=settings.trust_name,
                      phone=settings.bookings_phone)


def handle_keyword(*, session: Session, message_id: int, body: str, settings: Settings) -> bool:
    """Act on STOP / START at once; True when the message was one of them.

    HELP is left to the worker, which answers it after the safety screen and the inbound
    rate limit like any other message.
    """
    keyword = classify(body)
    if keyword not in CONSENT_KEYWORDS:
        return False  # the common case costs no query
    message = session.get(Message, message_id)
    address = message.from_address
    if keyword is Keyword.OPT_IN and not is_opted_out(session=session, address=address):
        return False  # "yes" from a subscribed patient is an answer, not a keyword
    if keyword is Keyword.OPT_OUT:
        set_opt_out(session=session, address=address, opted_out=True)
        text = texts.text("keyword_stop", trust_name=settings.trust_name,
                          phone=settings.bookings_phone)
        category = MessageCategory.OPT_OUT_CONFIRMATION
        # UK practice (and Twilio's own opt-out handling) is one confirmation that a STOP
        # took effect, so the first one a day goes even past the daily cap: the patient must
        # know the messages will stop. Further STOPs that day (a repeated STOP, or STOP and
        # START alternated to run up our bill) are ordinary replies: capped, so the number
        # gets at most its cap plus one.
        uncapped = not sent_to_number_since(
            session=session, address=address, category=category,
            since=utcnow() - DAILY_CAP_WINDOW)
    else:
        set_opt_out(session=session, address=address, opted_out=False)
        text = texts.text("keyword_start", trust_name=settings.trust_name)
        category, uncapped = MessageCategory.SERVICE, False
    message.status = MessageStatus.PROCESSED
    log.info("carrier keyword handled", extra={"keyword": keyword.value, "message_id": message.id})
    if not settings.keyword_replies:
        return True  # Twilio's Advanced Opt-Out confirms instead
    if uncapped or not daily_cap_reached(session=session, settings=settings, address=address):
        queue_message(session=session, settings=settings, channel=message.channel,
                      to_address=address, text=text, category=category, reply_to=message)
    else:
        log.info("keyword confirmation withheld: daily cap reached",
                 extra={"message_id": message.id})
    return True


def sent_to_number_since(*, session: Session, address: str, category: MessageCategory,
                         since: datetime) -> bool:
    """True when a message of this category was queued for the number after `since`."""
    return session.scalar(
        select(Message.id).where(Message.to_address.in_(addresses_of_number(address)),
                                 Message.direction == Direction.OUTBOUND,
                                 Message.category == category, Message.created_at >= since)
        .limit(1)) is not None


def render_for(*, channel: Channel, text: str,
               buttons: list[dict] | None = None) -> tuple[str, list[dict] | None]:
    """The body and buttons as they are stored and sent on `channel`."""
    if channel is Channel.SMS:
        return render.render_sms(text, buttons), None
    if channel is Channel.WHATSAPP:
        body, quick = render.render_whatsapp(text, buttons)
        return body, quick or None
    return text, None


def queue_message(
    *,
    session: Session,
    settings: Settings,
    channel: Channel,
    to_address: str,
    text: str,
    category: MessageCategory = MessageCategory.REPLY,
    buttons: list[dict] | None = None,
    reply_to: Message | None = None,
    conversation_id: int | None = None,
    patient_id: int | None = None,
    idempotency_key: str | None = None,
    content_sid: str | None = None,
    content_variables: dict | None = None,
    subject: str | None = None,
    send_at: datetime | None = None,
    flush: bool = True,
) -> Message:
    """Add an outbound message to the outbox, rendered for its channel; the dispatcher sends it."""
    body, rendered_buttons = render_for(channel=channel, text=text, buttons=buttons)
    message = Message(
        direction=Direction.OUTBOUND,
        channel=channel,
        from_address=sender_for(settings=settings, channel=channel),
        to_address=to_address,
        body=body,
        buttons=rendered_buttons,
        status=MessageStatus.QUEUED,
        category=category,
        conversation_id=conversation_id if conversation_id else (
            reply_to.conversation_id if reply_to else None),
        patient_id=patient_id,
        idempotency_key=idempotency_key,
        content_sid=content_sid,
        content_variables=content_variables,
        subject=subject,
        next_attempt_at=send_at or utcnow(),
    )
    session.add(message)
    if flush:  # bulk callers (campaigns) flush once per batch instead
        session.flush()
    return message


def whatsapp_window_open(*, session: Session, address: str, now: datetime | None = None) -> bool:
    """True while the patient's last WhatsApp message is less than 24 hours old."""
    last = session.scalar(
        select(func.max(Message.created_at)).where(
            Message.direction == Direction.INBOUND, Message.from_address == address
        )
    )
    return last is not None and (now or utcnow()) - last < WHATSAPP_WINDOW


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


def sent_to(*, session: Session, to_address: str) -> list[Message]:
    """Outbound messages to one address, oldest first (the sandbox's record)."""
    return list(
        session.scalars(
            select(Message)
            .where(Message.direction == Direction.OUTBOUND, Message.to_address == to_address)
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


def parked(*, session: Session, limit: int = 200) -> list[Message]:
    """Messages set aside for staff (either direction), newest first, with why."""
    return list(session.scalars(
        select(Message).where(Message.status == MessageStatus.PARKED)
        .order_by(Message.id.desc()).limit(limit)))
