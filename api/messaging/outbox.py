"""Queueing what leaves: a message rendered for its channel, from our address on it, due
inside the send window when we start the conversation; the dispatcher sends it."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.config import Settings
from api.db import utcnow
from api.messaging import render, sender_pool
from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.system import localtime

WHATSAPP_WINDOW = timedelta(hours=24)
# Messages we start (not replies): only inside the send window, never at night.
UNSOLICITED = frozenset(
    {MessageCategory.NOTIFICATION, MessageCategory.CHASER, MessageCategory.REMINDER}
)


def render_for(*, channel: Channel, text: str,
               buttons: list[dict] | None = None) -> tuple[str, list[dict] | None]:
    """The body and buttons as they are stored and sent on `channel`."""
    if channel is Channel.SMS:
        return render.render_sms(text, buttons), None
    if channel is Channel.WHATSAPP:
        body, quick = render.render_whatsapp(text, buttons)
        return body, quick or None
    if channel is Channel.VOICE:  # spoken by api.voice, which reads the options out itself
        return text, buttons or None
    return text, None


def sender_for(*, settings: Settings, channel: Channel, to_address: str) -> str:
    """Our own address on a channel (for SMS, the patient's sender in the pool, if any)."""
    if channel is Channel.EMAIL:
        return settings.smtp_from
    if channel is Channel.WHATSAPP:
        return settings.twilio_whatsapp_from
    return sender_pool.sms_sender_for(settings=settings, address=to_address)


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
        from_address=sender_for(settings=settings, channel=channel, to_address=to_address),
        to_address=to_address,
        body=body,
        buttons=rendered_buttons,
        status=MessageStatus.QUEUED,
        category=category,
        conversation_id=conversation_id if conversation_id else (
            reply_to.conversation_id if reply_to else None),
        reply_to_id=reply_to.id if reply_to else None,
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
