"""Appointment verbs. Every status change goes through `change_status`, which keeps history."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments.models import Appointment, AppointmentEvent, AppointmentStatus
from api.audit import service as audit_service
from api.errors import RefusedRequest

# Which status may follow which. Anything else is a bug or a bad request.
ALLOWED_TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.BOOKED: frozenset(
        {
            AppointmentStatus.POSTPONED,
            AppointmentStatus.PENDING_CLINICAL_REVIEW,
            AppointmentStatus.ATTENDED,
            AppointmentStatus.CANCELLED,
        }
    ),
    AppointmentStatus.POSTPONED: frozenset(
        {
            AppointmentStatus.OFFERED,
            AppointmentStatus.REBOOKED,
            AppointmentStatus.PENDING_CLINICAL_REVIEW,
            AppointmentStatus.CANCELLED,
        }
    ),
    AppointmentStatus.OFFERED: frozenset(
        {
            AppointmentStatus.POSTPONED,  # every offer declined or expired
            AppointmentStatus.REBOOKED,
            AppointmentStatus.PENDING_CLINICAL_REVIEW,
            AppointmentStatus.CANCELLED,
        }
    ),
    AppointmentStatus.REBOOKED: frozenset(
        {
            AppointmentStatus.POSTPONED,
            AppointmentStatus.PENDING_CLINICAL_REVIEW,
            AppointmentStatus.ATTENDED,
            AppointmentStatus.CANCELLED,
        }
    ),
    AppointmentStatus.PENDING_CLINICAL_REVIEW: frozenset(
        {AppointmentStatus.POSTPONED, AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED}
    ),
    AppointmentStatus.CANCELLED: frozenset(),
    AppointmentStatus.ATTENDED: frozenset(),
}


class InvalidTransition(RefusedRequest):
    """A status change the appointment lifecycle does not allow."""

    status_code = 409


def create(*, session: Session, appointment: Appointment, actor: str = "system",
           reason: str = "booked") -> Appointment:
    """Add a new appointment and record its first status in the history."""
    appointment.status = appointment.status or AppointmentStatus.BOOKED
    appointment.history.append(
        AppointmentEvent(
            from_status=None,
            to_status=appointment.status,
            reason=reason,
            actor=actor,
            slot_id=appointment.slot_id,
        )
    )
    session.add(appointment)
    return appointment


def change_status(
    *,
    session: Session,
    appointment: Appointment,
    to_status: AppointmentStatus,
    reason: str,
    actor: str,
    details: dict | None = None,
) -> AppointmentEvent:
    """Move an appointment to `to_status`, recording who, why and the slot at the time."""
    if to_status not in ALLOWED_TRANSITIONS[appointment.status]:
        raise InvalidTransition(f"cannot go from {appointment.status} to {to_status}")
    event = AppointmentEvent(
        from_status=appointment.status,
        to_status=to_status,
        reason=reason,
        actor=actor,
        slot_id=appointment.slot_id,
        details=details or {},
    )
    if to_status is AppointmentStatus.POSTPONED and appointment.status in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.REBOOKED,
    ):
        appointment.times_postponed += 1
    appointment.status = to_status
    appointment.history.append(event)
    session.add(event)
    return event


def note(*, session: Session, appointment: Appointment, reason: str, actor: str,
         details: dict | None = None) -> AppointmentEvent:
    """Record a change that keeps the status (a booking moved to another slot) in the history."""
    event = AppointmentEvent(from_status=appointment.status, to_status=appointment.status,
                             reason=reason, actor=actor, slot_id=appointment.slot_id,
                             details=details or {})
    appointment.history.append(event)
    session.add(event)
    return event


def request_interpreter(*, session: Session, appointments: list[Appointment], language: str,
                        actor: str) -> int:
    """Note that the patient needs a `language` interpreter at each appointment; how many
    changed. Each change goes in the audit log, so staff can see who asked and when."""
    changed = 0
    for appointment in appointments:
        if appointment.interpreter_language == language:
            continue
        audit_service.record(session=session, actor=actor, action="interpreter_requested",
                             object_type="appointment", object_id=appointment.id,
                             patient_id=appointment.patient_id,
                             details={"language": language,
                                      "previous": appointment.interpreter_language})
        appointment.interpreter_language = language
        changed += 1
    return changed


def history(*, session: Session, appointment_id: int) -> list[AppointmentEvent]:
    """Every status change of one appointment, oldest first."""
    return list(
        session.scalars(
            select(AppointmentEvent)
            .where(AppointmentEvent.appointment_id == appointment_id)
            .order_by(AppointmentEvent.id)
        )
    )
