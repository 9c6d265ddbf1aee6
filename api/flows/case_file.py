"""The case file: everything staff need on one page about a handover, read across domains
(the conversation and its transcript, the patient, appointments with the explanation of
their priority, the offers held, the case's notes and how to reply). Viewing it is audited.

Callers: the console's case page and `GET /api/v1/handovers/{id}`.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments.models import AWAITING_DATE, Appointment
from api.conversations import service as conversations_service
from api.flows import staff_reply
from api.handover import casework, red_flags
from api.handover.models import Handover
from api.messaging import history
from api.patients.models import Patient
from api.reference.models import Specialty
from api.scheduling import service as scheduling_service
from api.scheduling.models import Offer, OfferStatus, Slot
from api.staff.models import StaffUser

log = logging.getLogger(__name__)


def held_offers_for_patient(*, session: Session, patient_id: int) -> list[tuple[Offer, Slot]]:
    """The patient's open offers with their slots, earliest first."""
    return [(offer, slot) for offer, slot in session.execute(
        select(Offer, Slot).join(Slot, Slot.id == Offer.slot_id)
        .join(Appointment, Appointment.id == Offer.appointment_id)
        .where(Appointment.patient_id == patient_id, Offer.status == OfferStatus.HELD)
        .order_by(Slot.start_at, Offer.id)).all()]


def appointments_of(*, session: Session, patient_id: int) -> list[dict]:
    """Every appointment of the patient, with its slot and why it sits where it does."""
    appointments = []
    rows = session.execute(
        select(Appointment, Specialty.name)
        .join(Specialty, Specialty.id == Appointment.specialty_id)
        .where(Appointment.patient_id == patient_id).order_by(Appointment.id)).all()
    for appointment, specialty in rows:
        try:
            explanation = scheduling_service.explain_position(
                session=session, appointment_id=appointment.id)
        except Exception:  # an explanation is a courtesy; the page must still open
            log.exception("priority explanation failed",
                          extra={"appointment_id": appointment.id})
            explanation = ""
        slot = session.get(Slot, appointment.slot_id) if appointment.slot_id else None
        appointments.append({"appointment": appointment, "specialty": specialty,
                             "explanation": explanation, "slot": slot,
                             "awaiting_date": appointment.status in AWAITING_DATE})
    return appointments


def case_file(*, session: Session, handover: Handover, user: StaffUser) -> dict:
    """Everything staff need on one page: transcript, patient, appointments with the
    explanation of their priority, open offers, notes, how to reply. Viewing it is audited."""
    patient = session.get(Patient, handover.patient_id) if handover.patient_id else None
    conversation = (conversations_service.get(session=session,
                                              conversation_id=handover.conversation_id)
                    if handover.conversation_id else None)
    transcript = (history.transcript(session=session, conversation_id=conversation.id)
                  if conversation is not None else [])
    verified = conversation is not None and conversation.verified_as() is not None
    assignee = session.get(StaffUser, handover.assignee_id) if handover.assignee_id else None
    casework.record_view(session=session, handover=handover, user=user)
    return {
        "handover": handover,
        "patient": patient,
        "conversation": conversation,
        "verified": verified,
        "assignee": assignee,
        "appointments": (appointments_of(session=session, patient_id=patient.id)
                         if patient is not None else []),
        "offers": (held_offers_for_patient(session=session, patient_id=patient.id)
                   if patient is not None else []),
        "transcript": transcript,
        "notes": casework.notes(session=session, handover_id=handover.id),
        "reply": staff_reply.reply_options(session=session, handover=handover),
        "overdue": casework.is_overdue(handover=handover),
        "can_resolve": casework.can_resolve(handover=handover, user=user),
        "identity": identity_state(session=session, handover=handover,
                                   conversation=conversation),
        "identity_checks": casework.IDENTITY_CHECKS,
        "red_flag_review": red_flags.review_of(session=session, handover_id=handover.id),
        "opted_out": patient is not None and patient.opted_out,
    }


def identity_state(*, session: Session, handover: Handover, conversation) -> dict:
    """Who the case is about, as it stands now: "verified" (the conversation proved it is the
    case's patient), "checked" (staff checked and linked the patient: how, by whom, when),
    "unverified" (a patient is linked but nobody here proved the writer is them), or
    "unidentified". The page's identity banner reads this, so it follows every change."""
    verified_as = conversation.verified_as() if conversation is not None else None
    if handover.patient_id is None:
        return {"state": "unidentified"}
    if handover.identity_check:
        checker = (session.get(StaffUser, handover.identity_checked_by)
                   if handover.identity_checked_by else None)
        return {"state": "checked", "how": casework.IDENTITY_CHECKS.get(handover.identity_check,
                                                                        handover.identity_check),
                "by": checker.display_name if checker else "", "at": handover.identity_checked_at,
                "on_number": bool(handover.identity_on_conversation_number),
                "conversation_verified": verified_as == handover.patient_id}
    if verified_as is not None and verified_as == handover.patient_id:
        return {"state": "verified"}
    return {"state": "unverified"}
