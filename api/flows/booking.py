"""Book and confirm: one way to book a held offer, whoever books it, and tell the patient.

Staff (the console and the JSON API) and the assistant all book through `book_and_confirm`,
so every booking is confirmed once, in the same words (the catalogue's "booked"), with the
time in the patient's time zone. The assistant says it in the conversation it is having (the
worker writes its replies to the outbox); staff bookings queue it on the patient's channel in
the same transaction as the booking, so the two are committed together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import texts
from api.appointments.models import Appointment
from api.config import Settings
from api.conversations import service as conversations_service
from api.conversations import trust_info
from api.db import utcnow
from api.handover import casework
from api.handover.models import Handover
from api.integration import writeback
from api.integration.models import RequestKind
from api.messaging import numbers, opt_outs, outbox
from api.messaging.models import Channel, Message, MessageCategory
from api.patients.models import Patient
from api.scheduling import service as scheduling_service
from api.staff.models import StaffUser
from api.system import localtime


@dataclass(frozen=True)
class Booking:
    """What a booking did: the appointment, the confirmation's words, the message queued."""

    appointment: Appointment
    confirmation: str
    # None when the caller says the words itself (the assistant), or the patient cannot be
    # texted (no mobile, or a communication need that rules text out): staff tell them, or
    # the PAS must accept the booking first (then the confirmation follows its answer).
    message: Message | None
    # True while the PAS has not accepted the booking (FHIR, HL7 write-back): `confirmation`
    # then says it is being booked and a text will confirm it.
    awaiting_pas: bool = False


def confirmation_text(*, settings: Settings, appointment: Appointment) -> str:
    """The booking confirmation: date, time (patient's zone), place, what to bring."""
    return texts.text("booked", slot=texts.slot_line(appointment.slot,
                                                       zone=localtime.patient_zone(settings)),
                      bring=trust_info.what_to_bring(appointment_type=appointment.type))


def book_and_confirm(*, session: Session, settings: Settings, offer_id: int, patient_id: int,
                     actor: str, conversation_id: int | None = None,
                     said_in_conversation: bool = False,
                     now: datetime | None = None) -> Booking:
    """Book a held offer (scheduling) and queue its confirmation to the patient (messaging)."""
    now = now or utcnow()
    appointment = scheduling_service.book_offer(session=session, offer_id=offer_id,
                                                patient_id=patient_id, actor=actor, now=now)
    # The PAS hears of it in the same transaction (its outbox); FHIR and HL7 must accept it
    # before the patient is told it is booked, the CSV export confirms at once.
    request = writeback.request_change(
        session=session, settings=settings, kind=RequestKind.BOOK, appointment=appointment,
        key=f"book:offer:{offer_id}", offer_id=offer_id, conversation_id=conversation_id)
    if writeback.awaits_pas(request):
        pending = texts.text("booking_sent_to_pas", slot=texts.slot_line(
            appointment.slot, zone=localtime.patient_zone(settings)))
        return Booking(appointment=appointment, confirmation=pending, message=None,
                       awaiting_pas=True)
    confirmation = confirmation_text(settings=settings, appointment=appointment)
    if said_in_conversation:
        return Booking(appointment=appointment, confirmation=confirmation, message=None)
    message = queue_confirmation(session=session, settings=settings, appointment=appointment,
                                 offer_id=offer_id, conversation_id=conversation_id, now=now)
    return Booking(appointment=appointment, confirmation=confirmation, message=message)


def queue_confirmation(*, session: Session, settings: Settings, appointment: Appointment,
                       offer_id: int, conversation_id: int | None,
                       now: datetime | None = None) -> Message | None:
    """Queue a booking's confirmation on the patient's channel (None if they cannot be
    texted: staff tell them). An offer is accepted once, so its id keys the one confirmation."""
    key = f"confirm:offer:{offer_id}"
    queued = session.scalar(select(Message).where(Message.idempotency_key == key))
    if queued is not None:
        return queued
    route = patient_route(session=session, patient=session.get(Patient, appointment.patient_id),
                          conversation_id=conversation_id, now=now)
    if route is None:
        return None
    channel, address, on_conversation = route
    return outbox.queue_message(
        session=session, settings=settings, channel=channel, to_address=address,
        text=confirmation_text(settings=settings, appointment=appointment),
        category=MessageCategory.SERVICE, conversation_id=on_conversation,
        patient_id=appointment.patient_id, idempotency_key=key)


def book_for_handover(*, session: Session, settings: Settings, handover: Handover,
                      user: StaffUser, offer_id: int) -> Booking:
    """A member of staff books one of the handover patient's offers; the patient is told."""
    casework.check_booking(session=session, handover=handover, offer_id=offer_id)
    booking = book_and_confirm(session=session, settings=settings, offer_id=offer_id,
                               patient_id=handover.patient_id,
                               actor=user.audit_actor,
                               conversation_id=handover.conversation_id)
    casework.record_booking(session=session, handover=handover, user=user,
                            appointment=booking.appointment, offer_id=offer_id)
    return booking


def _patients_conversation(session: Session, patient: Patient, conversation_id: int | None):
    """The conversation to confirm on: the handover's when it is the patient's (verified as
    them, or on their recorded number), else the one they last wrote on from their number. A
    case linked to a patient after a check made elsewhere must not confirm to a stranger."""
    addresses = numbers.addresses_of_number(patient.mobile) if patient.mobile else []
    conversation = (conversations_service.get(session=session, conversation_id=conversation_id)
                    if conversation_id else None)
    if conversation is not None and (conversation.verified_as() == patient.id
                                     or conversation.address in addresses):
        return conversation
    return (conversations_service.last_written_on(session=session, addresses=addresses)
            if addresses else None)


def patient_route(*, session: Session, patient: Patient | None, conversation_id: int | None,
                  now: datetime | None = None) -> tuple[Channel, str, int | None] | None:
    """Where the confirmation goes: the conversation the patient is on (the handover's, else
    the one they wrote on last), WhatsApp only inside its 24-hour window since free text
    outside it is refused; otherwise a text to their recorded mobile. Never to a number that
    opted out (staff tell the patient instead)."""
    if patient is None or not patient.text_is_accessible:
        return None
    conversation = _patients_conversation(session, patient, conversation_id)
    if conversation is not None and conversation.purged_at is None and not \
            opt_outs.is_opted_out(session=session, address=conversation.address):
        if conversation.channel is Channel.SMS:
            return Channel.SMS, conversation.address, conversation.id
        if conversation.channel is Channel.WHATSAPP and outbox.whatsapp_window_open(
                session=session, address=conversation.address, now=now or utcnow()):
            return Channel.WHATSAPP, conversation.address, conversation.id
    if patient.mobile and not opt_outs.is_opted_out(session=session, address=patient.mobile):
        return Channel.SMS, patient.mobile, None
    return None
