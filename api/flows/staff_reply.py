"""A member of staff replies to the patient of a case, on the case's conversation's channel.

The handover knows the case (open or resolved, the templates, the audit trail); the
conversation knows the channel and the address (conversations sits above handover, so this
flow reads it); messaging queues the words in the outbox, and the dispatcher sends them. A
case with no conversation is answered by SMS to the patient's mobile. Outside WhatsApp's
24-hour window only an approved template goes. Callers: the console and
`POST /api/v1/handovers/{id}/reply`; the case file shows `reply_options`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.config import Settings
from api.conversations import service as conversations_service
from api.handover import casework
from api.handover.models import Handover
from api.messaging import outbox
from api.messaging.models import Channel, Message, MessageCategory
from api.patients.models import Patient
from api.staff.models import StaffUser


def channel_and_address(*, session: Session, handover: Handover) -> tuple[Channel, str]:
    """Where a reply on this case goes: the conversation's channel and address, else an SMS to
    the patient's mobile (Conflict when there is neither)."""
    conversation = (conversations_service.get(session=session,
                                              conversation_id=handover.conversation_id)
                    if handover.conversation_id else None)
    if conversation is not None:
        return conversation.channel, conversation.address
    patient = session.get(Patient, handover.patient_id) if handover.patient_id else None
    if patient is None or not patient.mobile:
        raise casework.Conflict("this handover has no conversation and the patient no mobile "
                                "number")
    return Channel.SMS, patient.mobile


def reply_options(*, session: Session, handover: Handover) -> dict:
    """How staff can reply now: the channel, and whether free text is allowed (WhatsApp window)."""
    try:
        channel, address = channel_and_address(session=session, handover=handover)
    except casework.Conflict:
        return {"channel": None, "free_text": False, "templates": {}}
    free_text = channel is not Channel.WHATSAPP or outbox.whatsapp_window_open(
        session=session, address=address)
    return {"channel": channel.value, "free_text": free_text,
            "templates": {key: t["label"] for key, t in casework.REPLY_TEMPLATES.items()}}


def reply(*, session: Session, settings: Settings, handover: Handover, user: StaffUser,
          text: str | None = None, template: str | None = None) -> Message:
    """Send a staff reply through the patient's channel (the outbox; the dispatcher sends it)."""
    casework.ensure_open(handover)
    channel, address = channel_and_address(session=session, handover=handover)
    content_sid = content_variables = None
    if template:
        chosen = casework.REPLY_TEMPLATES.get(template)
        if chosen is None:
            raise casework.HandoverError("no such template")
        body = chosen["text"].format(trust=settings.trust_name, phone=settings.bookings_phone)
        if channel is Channel.WHATSAPP:
            content_sid = chosen["content_sid"]
            content_variables = {"1": settings.trust_name, "2": settings.bookings_phone}
    else:
        body = (text or "").strip()
        if not body or len(body) > casework.MAX_REPLY_CHARS:
            raise casework.HandoverError(
                f"a reply holds 1 to {casework.MAX_REPLY_CHARS} characters")
        if channel is Channel.WHATSAPP and not outbox.whatsapp_window_open(
                session=session, address=address):
            raise casework.WindowClosed("the patient's WhatsApp window is closed: send a "
                                        "template")
    message = outbox.queue_message(
        session=session, settings=settings, channel=channel, to_address=address, text=body,
        category=MessageCategory.STAFF_REPLY, conversation_id=handover.conversation_id,
        patient_id=handover.patient_id, content_sid=content_sid,
        content_variables=content_variables)
    casework.record_reply(session=session, handover=handover, user=user, message=message,
                          template=template)
    return message
