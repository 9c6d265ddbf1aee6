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

from api import texts
from api.config import Settings
from api.conversations import service as conversations_service
from api.handover import casework
from api.handover.models import Handover
from api.messaging import opt_outs, outbox
from api.messaging.models import Channel, Message, MessageCategory
from api.patients.models import Patient
from api.scheduling.models import Offer, Slot
from api.staff.models import StaffUser
from api.system import localtime


def channel_and_address(*, session: Session, handover: Handover) -> tuple[Channel, str]:
    """Where a reply on this case goes: the conversation's channel and address, else an SMS to
    the patient's mobile (Conflict when there is neither). A case from a phone call is
    answered by text to the mobile that called (a landline or withheld number: the patient's
    mobile, if the case knows the patient)."""
    conversation = (conversations_service.get(session=session,
                                              conversation_id=handover.conversation_id)
                    if handover.conversation_id else None)
    if conversation is not None and conversation.channel is not Channel.VOICE:
        return conversation.channel, conversation.address
    if conversation is not None and _is_mobile(conversation.address):
        return Channel.SMS, conversation.address
    patient = session.get(Patient, handover.patient_id) if handover.patient_id else None
    if patient is None or not patient.mobile:
        raise casework.Conflict("this handover has no conversation and the patient no mobile "
                                "number")
    return Channel.SMS, patient.mobile


def _is_mobile(address: str) -> bool:
    """A UK mobile number (+447..., but not the 070 personal or 076 pager ranges): by prefix,
    as Ofcom's drama numbers (07700 900xxx) are mobiles the parser calls unknown."""
    return address.startswith("+447") and not address.startswith(("+4470", "+4476"))


def reply_options(*, session: Session, handover: Handover) -> dict:
    """How staff can reply now: the channel, whether free text is allowed (WhatsApp window),
    and whether the number opted out (then nothing staff write would arrive: they call)."""
    try:
        channel, address = channel_and_address(session=session, handover=handover)
    except casework.Conflict:
        return {"channel": None, "free_text": False, "templates": {}, "opted_out": False,
                "address": None}
    opted_out = opt_outs.is_opted_out(session=session, address=address)
    free_text = not opted_out and (channel is not Channel.WHATSAPP or outbox.whatsapp_window_open(
        session=session, address=address))
    return {"channel": channel.value, "free_text": free_text, "opted_out": opted_out,
            "address": address,
            "templates": {} if opted_out else {
                key: t["label"] for key, t in casework.REPLY_TEMPLATES.items()}}


def _writable(session: Session, handover: Handover) -> tuple[Channel, str]:
    """The channel and address of an open case's patient, refusing an opted-out number (the
    dispatcher would fail the message: staff call instead)."""
    casework.ensure_open(handover)
    channel, address = channel_and_address(session=session, handover=handover)
    if opt_outs.is_opted_out(session=session, address=address):
        raise casework.Conflict("this number has opted out of messages: call the patient "
                                "instead")
    return channel, address


def reply(*, session: Session, settings: Settings, handover: Handover, user: StaffUser,
          text: str | None = None, template: str | None = None) -> Message:
    """Send a staff reply through the patient's channel (the outbox; the dispatcher sends it)."""
    channel, address = _writable(session, handover)
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


def send_options(*, session: Session, settings: Settings, handover: Handover,
                 user: StaffUser, offers: list[tuple[Offer, Slot]]) -> Message:
    """Offer the slots held for the case's patient by message, as numbered options (buttons on
    WhatsApp), through the outbox like any staff reply; audited as "send_options"."""
    channel, address = _writable(session, handover)
    if not offers:
        raise casework.Conflict("no slots are held for this patient: find slots first")
    if channel is Channel.WHATSAPP and not outbox.whatsapp_window_open(
            session=session, address=address):
        raise casework.WindowClosed("the patient's WhatsApp window is closed: send a template "
                                    "asking them to reply, then send the options")
    zone = localtime.patient_zone(settings)
    until = min(offer.expires_at for offer, _ in offers)
    body = texts.text("staff_slot_options", when=texts.when(until, zone=zone),
                      phone=settings.bookings_phone)
    buttons = [{"title": texts.slot_line(slot, zone=zone), "payload": f"offer:{offer.id}"}
               for offer, slot in offers]
    message = outbox.queue_message(
        session=session, settings=settings, channel=channel, to_address=address, text=body,
        buttons=buttons, category=MessageCategory.STAFF_REPLY,
        conversation_id=handover.conversation_id, patient_id=handover.patient_id)
    casework.record_reply(session=session, handover=handover, user=user, message=message,
                          action="send_options", offer_ids=[offer.id for offer, _ in offers])
    return message
