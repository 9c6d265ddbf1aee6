"""Integration exceptions: PAS messages and write-backs that staff must resolve.

They hold raw patient records, so only the configured role opens them and every view is
audited (`api/console/integration_views.py`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.audit import service as audit_service
from api.db import utcnow
from api.integration.models import Adapter, ExceptionStatus, IntegrationException
from api.scheduling.errors import Conflict, NotFound

# Each reason in words for staff: what happened, and what to do (docs/integration.md).
REASONS = {
    "unknown_code": "A site, specialty or clinician code Rebook does not know. Add it to the "
                    "reference data (or correct it in the PAS), then have the PAS send the "
                    "record again.",
    "missing_code": "The record has no specialty or site code. Correct it in the PAS.",
    "no_nhs_number": "The patient has no valid NHS number. Correct it in the PAS (or trace "
                     "it on PDS); Rebook takes the next update.",
    "missing_date_of_birth": "A new patient without a date of birth. Add it in the PAS.",
    "wrong_patient_risk": "The PAS record does not match the patient Rebook holds (another "
                          "NHS number or date of birth, or a duplicate). Check the identity in "
                          "the PAS before anything is sent; merge or correct it there.",
    "unknown_patient": "An appointment or merge for a patient Rebook has not received. Have "
                       "the PAS send the patient's record, then the appointment again.",
    "unknown_session": "A slot in a clinic session Rebook has not received. Resend the "
                       "schedule, then the slot.",
    "missing_field": "A required field is empty (referral or breach date, start time, site). "
                     "Correct it in the PAS.",
    "conflict": "The PAS's change clashes with what Rebook holds (a booking of Rebook's on "
                "its way, an appointment already cancelled or attended). Decide which is right "
                "and correct the other.",
    "slot_taken": "The slot was taken in the PAS meanwhile. The booking was undone, new dates "
                  "were offered and the bookings team has a case: check the patient is "
                  "rebooked.",
    "writeback_refused": "The PAS refused Rebook's booking. It was undone and the patient "
                         "re-offered; see why in the detail and fix it in the PAS if needed.",
    "pas_not_answering": "The PAS has not answered a booking after several attempts. Rebook "
                         "keeps trying; the patient has not been told it is confirmed. Check "
                         "the connection with the integration team.",
}


def open_exception(*, session: Session, adapter: Adapter, reason: str, detail: str,
                   raw: str = "", inbound_id: int | None = None, request_id: int | None = None,
                   patient_id: int | None = None,
                   appointment_id: int | None = None) -> IntegrationException:
    """Put a problem on the staff exceptions list."""
    row = IntegrationException(adapter=adapter, reason=reason[:40], detail=detail, raw=raw,
                               inbound_id=inbound_id, request_id=request_id,
                               patient_id=patient_id, appointment_id=appointment_id)
    session.add(row)
    session.flush()
    return row


def open_count(*, session: Session) -> int:
    """How many exceptions wait for staff."""
    return session.scalar(select(func.count()).select_from(IntegrationException).where(
        IntegrationException.status == ExceptionStatus.OPEN)) or 0


def listing(*, session: Session, status: ExceptionStatus | None = ExceptionStatus.OPEN,
            reason: str | None = None, limit: int = 200) -> list[IntegrationException]:
    """The newest exceptions first (open ones by default; one reason when given)."""
    query = select(IntegrationException).order_by(IntegrationException.id.desc()).limit(limit)
    if status is not None:
        query = query.where(IntegrationException.status == status)
    if reason:
        query = query.where(IntegrationException.reason == reason)
    return list(session.scalars(query))


def list_viewed(*, session: Session, actor: str, status: ExceptionStatus | None,
                reason: str | None = None, limit: int = 200) -> list[IntegrationException]:
    """The list for a member of staff; the read is audited (with whose records it showed)."""
    rows = listing(session=session, status=status, reason=reason, limit=limit)
    audit_service.record(
        session=session, actor=actor, action="integration_exceptions_listed",
        object_type="integration_exception", object_id="*",
        details={"count": len(rows), "status": status.value if status else "all",
                 **({"reason": reason} if reason else {}),
                 **audit_service.patient_ids_detail(r.patient_id for r in rows)})
    return rows


def view(*, session: Session, exception_id: int, actor: str) -> IntegrationException:
    """One exception with its raw message; the read is audited."""
    row = session.get(IntegrationException, exception_id)
    if row is None:
        raise NotFound(f"no integration exception {exception_id}")
    audit_service.record(session=session, actor=actor, action="integration_exception_viewed",
                         object_type="integration_exception", object_id=row.id,
                         patient_id=row.patient_id, details={"reason": row.reason})
    return row


def resolve(*, session: Session, exception_id: int, actor: str, staff_id: int | None,
            resolution: str, now: datetime | None = None) -> IntegrationException:
    """Close an exception with what was done about it (audited)."""
    row = session.get(IntegrationException, exception_id)
    if row is None:
        raise NotFound(f"no integration exception {exception_id}")
    if row.status is ExceptionStatus.RESOLVED:
        raise Conflict("this exception is resolved already")
    resolution = resolution.strip()
    if not resolution:
        raise Conflict("say what was done about it")
    row.status = ExceptionStatus.RESOLVED
    row.resolved_by = staff_id
    row.resolved_at = now or utcnow()
    row.resolution = resolution[:2000]
    audit_service.record(session=session, actor=actor, action="integration_exception_resolved",
                         object_type="integration_exception", object_id=row.id,
                         patient_id=row.patient_id, details={"reason": row.reason})
    session.flush()
    return row
