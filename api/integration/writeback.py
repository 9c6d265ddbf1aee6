"""The outbox back to the PAS: bookings (and cancellations) made in Rebook, sent once.

A booking's request is written in the same transaction as the booking (flows/booking.py).
The write-back dispatcher (flows/pas_writeback.py) claims due requests under a lease (FOR
UPDATE SKIP LOCKED on PostgreSQL), hands each to its adapter's `PasWriter`, and records the
answer. A dispatcher killed mid-send leaves the row `sending` with a lapsed lease; the next
one sends it again with the same idempotency key (the FHIR Appointment's identifier, the HL7
message control id), which the PAS recognises, so a crash neither loses nor doubles it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from tenacity import RetryCallState, wait_random_exponential

from api.appointments.models import Appointment
from api.config import Settings
from api.db import utcnow
from api.integration.models import (
    OPEN_REQUEST,
    Adapter,
    DataKind,
    PasLink,
    PasRequest,
    RequestKind,
    RequestStatus,
)
from api.patients.models import Patient
from api.reference.models import Clinician, Site, Specialty
from api.scheduling.models import Slot

# Long enough for one FHIR transaction or MLLP round trip with its timeout; short enough
# that a killed dispatcher's requests are picked up again promptly.
CLAIM_LEASE = timedelta(seconds=60)
IDENTIFIER_SYSTEM = "https://rebook.example.nhs.uk/Id/booking-request"


@dataclass(frozen=True)
class WriteBack:
    """Everything an adapter needs to tell the PAS about one change, read once."""

    request_id: int
    kind: RequestKind
    idempotency_key: str
    attempts: int
    nhs_number: str
    patient_pas_id: str | None
    appointment_pas_id: str | None
    slot_pas_id: str | None
    slot_version: str | None  # the PAS's version of the slot we saw (FHIR If-Match)
    start_at: datetime | None
    duration_minutes: int
    site_code: str | None
    specialty_code: str
    clinician_code: str | None
    appointment_type: str
    priority: str
    given_name: str
    family_name: str


@dataclass(frozen=True)
class WriteResult:
    """The PAS's answer: accepted (with its reference), refused (it said no: `conflict` when
    the slot was taken meanwhile), or neither (unreachable, timed out: try again later)."""

    accepted: bool = False
    refused: bool = False
    conflict: bool = False
    pas_reference: str | None = None
    reason: str = ""

    @classmethod
    def ok(cls, reference: str | None) -> WriteResult:
        return cls(accepted=True, pas_reference=reference)

    @classmethod
    def no(cls, reason: str, *, conflict: bool = False) -> WriteResult:
        return cls(refused=True, conflict=conflict, reason=reason)

    @classmethod
    def later(cls, reason: str) -> WriteResult:
        return cls(reason=reason)


class PasWriter(Protocol):
    """What an adapter implements to send Rebook's changes to the PAS."""

    def send(self, change: WriteBack) -> WriteResult: ...


def request_change(*, session: Session, settings: Settings, kind: RequestKind,
                   appointment: Appointment, key: str, offer_id: int | None = None,
                   conversation_id: int | None = None,
                   slot_id: int | None = None) -> PasRequest | None:
    """Queue a change for the PAS (None when no PAS is connected); once per `key`. The slot
    is the appointment's, or for a cancellation the one it has just given up."""
    adapter = settings.pas_writeback_adapter
    if adapter is None:
        return None
    existing = session.scalar(select(PasRequest).where(PasRequest.idempotency_key == key))
    if existing is not None:
        return existing
    request = PasRequest(
        adapter=Adapter(adapter), kind=kind, appointment_id=appointment.id,
        patient_id=appointment.patient_id, slot_id=slot_id or appointment.slot_id,
        offer_id=offer_id,
        conversation_id=conversation_id, idempotency_key=key,
        status=(RequestStatus.PENDING_UPLOAD if adapter == Adapter.CSV
                else RequestStatus.PENDING))
    session.add(request)
    session.flush()
    return request


def awaits_pas(request: PasRequest | None) -> bool:
    """True when the patient is told only after the PAS accepts (FHIR, HL7; not CSV)."""
    return request is not None and request.status in OPEN_REQUEST


def claim(*, session: Session, owner: str, now: datetime | None = None,
          batch: int = 20) -> list[int]:
    """Claim due requests under a lease (the caller commits); their ids, oldest first."""
    now = now or utcnow()
    due = or_(PasRequest.status == RequestStatus.PENDING,
              (PasRequest.status == RequestStatus.SENDING) & (PasRequest.lease_until < now))
    ids = list(session.scalars(
        select(PasRequest.id).where(due, PasRequest.next_attempt_at <= now)
        .order_by(PasRequest.next_attempt_at, PasRequest.id).limit(batch)
        .with_for_update(skip_locked=True)))
    if ids:
        session.execute(update(PasRequest).where(PasRequest.id.in_(ids))
                        .values(status=RequestStatus.SENDING, lease_owner=owner,
                                lease_until=now + CLAIM_LEASE)
                        .execution_options(synchronize_session=False))
        session.flush()
    return ids


def describe(*, session: Session, request: PasRequest) -> WriteBack:
    """The change as the adapters see it: PAS identifiers, codes, the slot's PAS version."""
    appointment = session.get(Appointment, request.appointment_id)
    patient = session.get(Patient, request.patient_id)
    slot = session.get(Slot, request.slot_id) if request.slot_id else None
    slot_link = _link(session, DataKind.SLOT, request.slot_id)
    return WriteBack(
        request_id=request.id, kind=request.kind, idempotency_key=request.idempotency_key,
        attempts=request.attempts, nhs_number=patient.nhs_number,
        patient_pas_id=_pas_id(session, DataKind.PATIENT, patient.id),
        appointment_pas_id=_pas_id(session, DataKind.APPOINTMENT, appointment.id),
        slot_pas_id=slot_link.pas_id if slot_link else None,
        slot_version=slot_link.version if slot_link else None,
        start_at=slot.start_at if slot else None,
        duration_minutes=slot.duration_minutes if slot else appointment.duration_minutes,
        site_code=_code(session, Site, slot.site_id if slot else appointment.site_id),
        specialty_code=_code(session, Specialty, appointment.specialty_id),
        clinician_code=_code(session, Clinician,
                             slot.clinician_id if slot else appointment.clinician_id),
        appointment_type=appointment.type.value, priority=appointment.priority.value,
        given_name=patient.given_name, family_name=patient.family_name)


def _link(session: Session, kind: DataKind, local_id: int | None) -> PasLink | None:
    if local_id is None:
        return None
    return session.scalar(select(PasLink).where(PasLink.kind == kind,
                                                PasLink.local_id == local_id).limit(1))


def _pas_id(session: Session, kind: DataKind, local_id: int) -> str | None:
    link = _link(session, kind, local_id)
    return link.pas_id if link else None


def _code(session: Session, model, row_id: int | None) -> str | None:
    return session.scalar(select(model.code).where(model.id == row_id)) if row_id else None


def mark_accepted(*, session: Session, request: PasRequest, result: WriteResult,
                  now: datetime | None = None) -> None:
    """The PAS took it: remember its reference (and link the appointment to it)."""
    request.status = RequestStatus.ACCEPTED
    request.decided_at = now or utcnow()
    request.pas_reference = result.pas_reference
    request.last_error = ""
    request.lease_owner = request.lease_until = None
    if result.pas_reference and _link(session, DataKind.APPOINTMENT,
                                      request.appointment_id) is None:
        session.add(PasLink(kind=DataKind.APPOINTMENT, pas_id=result.pas_reference,
                            local_id=request.appointment_id, adapter=request.adapter))
    session.flush()


def mark_refused(*, session: Session, request: PasRequest, reason: str,
                 now: datetime | None = None) -> None:
    """The PAS said no: the request is closed with its reason."""
    request.status = RequestStatus.REFUSED
    request.decided_at = now or utcnow()
    request.last_error = reason[:2000]
    request.lease_owner = request.lease_until = None
    session.flush()


def mark_retry(*, session: Session, settings: Settings, request: PasRequest, reason: str,
               now: datetime | None = None) -> None:
    """No answer: back to pending, due again after a jittered exponential backoff."""
    now = now or utcnow()
    request.attempts += 1
    request.status = RequestStatus.PENDING
    request.last_error = reason[:2000]
    request.lease_owner = request.lease_until = None
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = request.attempts
    wait = wait_random_exponential(multiplier=1, max=settings.pas_writeback_max_backoff_seconds)
    request.next_attempt_at = now + timedelta(seconds=wait(state))
    session.flush()


def abandon_for_appointment(*, session: Session, appointment_id: int, reason: str,
                            now: datetime | None = None) -> int:
    """Close open requests of an appointment the PAS itself cancelled meanwhile."""
    result = session.execute(
        update(PasRequest).where(PasRequest.appointment_id == appointment_id,
                                 PasRequest.status.in_(OPEN_REQUEST))
        .values(status=RequestStatus.REFUSED, decided_at=now or utcnow(), last_error=reason,
                lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False))
    return result.rowcount


def pending_upload(*, session: Session) -> list[PasRequest]:
    """CSV mode: bookings waiting to be exported for upload to the PAS, oldest first."""
    return list(session.scalars(select(PasRequest).where(
        PasRequest.status == RequestStatus.PENDING_UPLOAD).order_by(PasRequest.id)))


def mark_uploaded(*, session: Session, request_ids: list[int],
                  now: datetime | None = None) -> int:
    """CSV mode: these bookings went into an export for upload."""
    if not request_ids:
        return 0
    result = session.execute(
        update(PasRequest).where(PasRequest.id.in_(request_ids),
                                 PasRequest.status == RequestStatus.PENDING_UPLOAD)
        .values(status=RequestStatus.UPLOADED, decided_at=now or utcnow())
        .execution_options(synchronize_session=False))
    return result.rowcount
