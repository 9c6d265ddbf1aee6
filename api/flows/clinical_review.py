"""An appointment released for a clinician to decide (the patient cannot come, or no longer
needs it): the engine frees its slot, and the hospital's PAS is asked to cancel the booking
it holds, in the same transaction (its outbox), so the two never disagree for long.

Callers: the assistant's cancellation step and `POST /api/v1/scheduling/appointments/{id}/
clinical-review`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.appointments.models import Appointment
from api.config import Settings
from api.integration import writeback
from api.integration.models import RequestKind
from api.scheduling import service as scheduling_service


def release_for_review(*, session: Session, settings: Settings, appointment_id: int,
                       reason: str, actor: str) -> Appointment:
    """Send an appointment to clinical review; a booked slot's cancellation goes to the PAS."""
    before = session.get(Appointment, appointment_id)
    freed_slot = before.slot_id if before is not None else None
    appointment = scheduling_service.send_to_clinical_review(
        session=session, appointment_id=appointment_id, reason=reason, actor=actor)
    if freed_slot is not None:
        writeback.request_change(
            session=session, settings=settings, kind=RequestKind.CANCEL, appointment=appointment,
            slot_id=freed_slot, key=f"cancel:appointment:{appointment.id}:slot:{freed_slot}")
    return appointment
