"""The bookings team's verbs on a case: claim, status, notes, resolve, open one by hand, hold
slots for the patient, check a booking, and the reply templates and the record of a reply. Each
is audited. What crosses domains (the case file, handing the conversation back to the assistant,
booking and confirming, sending a staff reply on the conversation's channel, opening a case on
a conversation by its id) is in api.flows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import errors, texts
from api.appointments.models import Appointment
from api.audit import service as audit_service
from api.audit.models import AuditEvent
from api.config import Settings
from api.db import utcnow
from api.errors import RefusedRequest
from api.handover import service as intake
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency
from api.handover.summary import ConversationFacts, summary_with_update
from api.messaging.models import Message
from api.patients.models import Patient
from api.scheduling import service as scheduling_service
from api.scheduling.models import Offer
from api.staff import names as staff_names
from api.staff.models import Role, StaffUser

# Only clinicians (and admins) may close a case that asks for a clinical decision: a red flag
# too (a clerk may instead lower it for a clinician's review: api.handover.red_flags).
CLINICAL_REASONS = frozenset({HandoverReason.CLINICAL_REVIEW, HandoverReason.RED_FLAG})
CLINICAL_ROLES = frozenset({Role.CLINICIAN, Role.ADMIN})
STAFF_SETTABLE = (HandoverStatus.OPEN, HandoverStatus.CLAIMED, HandoverStatus.WAITING_FOR_PATIENT)
MAX_NOTE_CHARS = 2000
MAX_REPLY_CHARS = 1000
# How staff may check who a patient is before linking a case to them (the fixed list).
IDENTITY_CHECKS = {
    "dob_postcode_phone": "Date of birth and postcode, by phone",
    "nhs_number_dob": "NHS number and date of birth",
    "in_person": "In person",
}
# Outside WhatsApp's 24-hour window only approved templates may be sent (ContentSid). The SIDs
# are the trust's own approved templates; these are the sandbox's stand-ins.
REPLY_TEMPLATES: dict[str, dict[str, str]] = {
    "please_call": {
        "label": "Ask the patient to call the bookings team",
        "text": texts.template("staff_template_please_call"),
        "content_sid": "HXsandboxpleasecall000000000000001",
    },
    "reply_here": {
        "label": "Ask the patient to reply to this message",
        "text": texts.template("staff_template_reply_here"),
        "content_sid": "HXsandboxreplyhere0000000000000002",
    },
}


class HandoverError(RefusedRequest):
    """A request on a handover that cannot be honoured; nothing was changed."""

    # Input the schema cannot check (a missing choice, an unknown template): 422, as for any
    # other invalid input.
    status_code = 422


class NotFound(HandoverError, errors.NotFound):
    status_code = 404


class Forbidden(HandoverError, errors.Forbidden):
    status_code = 403


class Conflict(HandoverError, errors.Conflict):
    status_code = 409


class WindowClosed(Conflict):
    """WhatsApp free text outside the 24-hour window: send a template instead."""


def get(*, session: Session, handover_id: int) -> Handover:
    """The handover with this id (NotFound otherwise)."""
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise NotFound("no such handover")
    return handover


def is_overdue(*, handover: Handover, now: datetime | None = None) -> bool:
    """True when an unresolved handover is past its due time."""
    return handover.status is not HandoverStatus.RESOLVED and handover.due_at < (now or utcnow())


def _audit(session: Session, user: StaffUser, action: str, handover: Handover,
           **details) -> AuditEvent:
    return audit_service.record(session=session, actor=user.audit_actor,
                                action=action, object_type="handover", object_id=handover.id,
                                patient_id=handover.patient_id, details=details)


def record_view(*, session: Session, handover: Handover, user: StaffUser) -> AuditEvent:
    """Note that `user` opened the case file (reading a case is audited too)."""
    return _audit(session, user, "view_handover", handover)


def ensure_open(handover: Handover) -> None:
    """Refuse (Conflict) to act on a resolved case."""
    if handover.status is HandoverStatus.RESOLVED:
        raise Conflict("this handover is resolved already")


def claim(*, session: Session, handover: Handover, user: StaffUser) -> Handover:
    """Take a handover: it is assigned to `user` and marked claimed."""
    ensure_open(handover)
    previous = handover.assignee_id
    handover.assignee_id = user.id
    handover.status = HandoverStatus.CLAIMED
    _audit(session, user, "claim_handover", handover, previous_assignee=previous)
    session.flush()
    return handover


def set_status(*, session: Session, handover: Handover, user: StaffUser,
               status: HandoverStatus) -> Handover:
    """Move an unresolved handover between open, claimed and waiting for the patient."""
    ensure_open(handover)
    if status not in STAFF_SETTABLE:
        raise HandoverError("resolve a handover with resolve, choosing hand back or close")
    previous = handover.status
    handover.status = status
    if status is HandoverStatus.CLAIMED and handover.assignee_id is None:
        handover.assignee_id = user.id
    _audit(session, user, "set_handover_status", handover, status=status.value,
           previous=previous.value)
    session.flush()
    return handover


def add_note(*, session: Session, handover: Handover, user: StaffUser, text: str) -> AuditEvent:
    """Add a staff note; notes are append-only entries of the audit log, like every action."""
    text = text.strip()
    if not text or len(text) > MAX_NOTE_CHARS:
        raise HandoverError(f"a note holds 1 to {MAX_NOTE_CHARS} characters")
    return _audit(session, user, "add_note", handover, text=text)


# Audit events shown as a handover's notes: staff notes, resolutions, and what the gateway
# held back on the case (a repeated safety net).
NOTE_ACTIONS = ("add_note", "resolve_handover", "safety_net_not_repeated", "identify_patient",
                "lower_red_flag", "confirm_not_red_flag", "reopen_red_flag")


@dataclass(frozen=True)
class Note:
    """A note on a case as staff read it: the audit event, and who wrote it in words."""

    id: int
    occurred_at: datetime
    actor: str
    author_name: str
    action: str
    details: dict


def notes(*, session: Session, handover_id: int) -> list[Note]:
    """The notes of a handover, oldest first, each signed with its author's name."""
    events = list(session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "handover",
                                 AuditEvent.object_id == str(handover_id),
                                 AuditEvent.action.in_(NOTE_ACTIONS))
        .order_by(AuditEvent.id)))
    names = staff_names.display_names(session=session, actors=(e.actor for e in events))
    return [Note(id=e.id, occurred_at=e.occurred_at, actor=e.actor, author_name=names[e.actor],
                 action=e.action, details=e.details or {}) for e in events]


def can_resolve(*, handover: Handover, user: StaffUser) -> bool:
    """Clinical-review cases are resolved only by a clinician or an admin."""
    return handover.reason not in CLINICAL_REASONS or user.role in CLINICAL_ROLES


def resolve(*, session: Session, handover: Handover, user: StaffUser, hand_back: bool,
            note: str = "") -> Handover:
    """Resolve: handed back to the assistant, or closed. What that does to the conversation
    is the conversations domain's (api.flows.hand_back resolves through both)."""
    ensure_open(handover)
    if not can_resolve(handover=handover, user=user):
        raise Forbidden(f"only a clinician or an admin can resolve a "
                        f"{handover.reason.value.replace('_', ' ')}")
    handover.status = HandoverStatus.RESOLVED
    handover.resolution = "handed_back" if hand_back else "closed"
    handover.resolved_at = utcnow()
    handover.assignee_id = handover.assignee_id or user.id
    _audit(session, user, "resolve_handover", handover, resolution=handover.resolution,
           text=note.strip()[:MAX_NOTE_CHARS])
    session.flush()
    return handover


def identify(*, session: Session, handover: Handover, user: StaffUser, patient_id: int,
             check: str, on_conversation_number: bool) -> Handover:
    """Link the case to the patient staff found, recording how they checked who it is.

    The conversation is the conversations domain's: verifying it as this patient (only when
    the check was made with the person on its number) is api.flows.identify's."""
    ensure_open(handover)
    if check not in IDENTITY_CHECKS:
        raise HandoverError("choose how you checked the patient's identity")
    if check == "in_person" and on_conversation_number:
        raise HandoverError("a check in person was not made on the conversation's number")
    if session.get(Patient, patient_id) is None:
        raise NotFound("no such patient")
    previous = handover.patient_id
    handover.patient_id = patient_id
    handover.identity_check = check
    handover.identity_on_conversation_number = on_conversation_number
    handover.identity_checked_by = user.id
    handover.identity_checked_at = utcnow()
    # The summary was written when the case opened ("Identity NOT verified"): say what changed.
    where = " with the person on this number" if on_conversation_number else ""
    handover.summary = summary_with_update(
        summary=handover.summary,
        update=f"Identified by {user.display_name}: {IDENTITY_CHECKS[check]}{where}.")
    _audit(session, user, "identify_patient", handover, check=check,
           on_conversation_number=on_conversation_number, previous_patient_id=previous)
    session.flush()
    return handover


def record_reply(*, session: Session, handover: Handover, user: StaffUser, message: Message,
                 template: str | None = None, action: str = "send_reply",
                 **details) -> AuditEvent:
    """Note a staff reply queued on this case (api.flows.staff_reply sends it; `action` names
    what it was, such as "send_options"): replying to an open case takes it."""
    if handover.status is HandoverStatus.OPEN:
        handover.status = HandoverStatus.CLAIMED
        handover.assignee_id = handover.assignee_id or user.id
    return _audit(session, user, action, handover, message_id=message.id,
                  template=template or None, **details)


def create_by_staff(*, session: Session, settings: Settings, user: StaffUser,
                    reason: HandoverReason, urgency: Urgency, patient_id: int | None = None,
                    conversation: ConversationFacts | None = None,
                    appointment_id: int | None = None, note: str = "") -> Handover:
    """Open a handover on a member of staff's initiative, with the automatic summary.
    `conversation` is the facts of the conversation it is about (api.flows.staff_case finds
    the conversation a request names)."""
    if patient_id is not None and session.get(Patient, patient_id) is None:
        raise NotFound("no such patient")
    if appointment_id is not None:
        appointment = session.get(Appointment, appointment_id)
        if appointment is None or (patient_id is not None and appointment.patient_id != patient_id):
            raise NotFound("no such appointment for this patient")
        patient_id = patient_id or appointment.patient_id
    if patient_id is None and conversation is None:
        raise HandoverError("name a patient or a conversation")
    # open_handover appends the automatic summary.
    summary = f"Opened by staff: {note.strip()[:MAX_NOTE_CHARS]}" if note.strip() else ""
    handover = intake.open_handover(
        session=session, settings=settings, reason=reason, urgency=urgency, created_by="staff",
        summary=summary, conversation=conversation, patient_id=patient_id,
        appointment_id=appointment_id)
    _audit(session, user, "open_handover", handover, reason=reason.value, urgency=urgency.value)
    return handover


def _patient_appointment(session: Session, handover: Handover, appointment_id: int) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or handover.patient_id is None or \
            appointment.patient_id != handover.patient_id:
        raise NotFound("no such appointment for this handover's patient")
    return appointment


def find_slots(*, session: Session, handover: Handover, user: StaffUser,
               appointment_id: int, limit: int = 3) -> list[Offer]:
    """Hold up to `limit` matching slots for one of the handover patient's appointments."""
    ensure_open(handover)
    appointment = _patient_appointment(session, handover, appointment_id)
    offers = scheduling_service.find_offers(session=session, appointment_id=appointment.id,
                                            limit=limit, source="staff")
    _audit(session, user, "find_slots", handover, appointment_id=appointment.id,
           offer_ids=[o.id for o in offers])
    return offers


def check_booking(*, session: Session, handover: Handover, offer_id: int) -> None:
    """Refuse to book unless the handover is open and the offer is for its patient.

    The booking itself is a flow (api.flows.booking), which also confirms it to the patient.
    """
    ensure_open(handover)
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise NotFound("no such offer for this handover's patient")
    _patient_appointment(session, handover, offer.appointment_id)


def record_booking(*, session: Session, handover: Handover, user: StaffUser,
                   appointment: Appointment, offer_id: int) -> None:
    """Note on the handover's audit trail that staff booked one of its offers."""
    _audit(session, user, "book_slot", handover, appointment_id=appointment.id,
           offer_id=offer_id, slot_id=appointment.slot_id)
