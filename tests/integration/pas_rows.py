"""A day of PAS traffic as rows (inbound messages, write-backs, cursors, exceptions), for the
status, console, command-line and metrics tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from api.integration import exceptions
from api.integration.models import (
    Adapter,
    InboundStatus,
    PasInbound,
    PasRequest,
    RequestKind,
    RequestStatus,
    SyncCursor,
)
from tests import factories

RAW_PID = "PID|1||9990000018^^^NHS^NH||Rawrecord^Wendy||19700101|F"


@dataclass
class Traffic:
    now: datetime
    patient_id: int
    appointment_id: int
    exception_id: int


def _inbound(session, adapter: Adapter, n: int, status: InboundStatus, at: datetime) -> None:
    session.add(PasInbound(adapter=adapter, message_id=f"{adapter.value}-{status.value}-{n}-"
                           f"{at.isoformat()}", message_type="SIU^S12", raw="MSH|...",
                           received_at=at, status=status))


def _request(session, n: int, adapter: Adapter, status: RequestStatus, *, created: datetime,
             appointment, decided: datetime | None = None, attempts: int = 0) -> None:
    session.add(PasRequest(adapter=adapter, kind=RequestKind.BOOK, status=status,
                           appointment_id=appointment.id, patient_id=appointment.patient_id,
                           idempotency_key=f"test-{adapter.value}-{n}", created_at=created,
                           decided_at=decided, attempts=attempts))


def make_traffic(session: Session, now: datetime) -> Traffic:
    """HL7: 3 applied, 1 ignored and 1 parked in the last hour, 2 applied 5 hours ago, 1
    applied 30 hours ago (outside the day). FHIR: two cursors (Slot stalest, with an error),
    write-backs: 2 accepted and 1 refused today, 1 accepted 2 days ago, 2 open (the oldest
    40 minutes, one retrying). CSV: 2 pending upload (oldest 3 hours). 2 open exceptions
    (one on a patient with the raw message), 1 resolved."""
    specialty = factories.make_specialty(session)
    patient = factories.make_patient(session)
    appointment = factories.make_appointment(session, patient=patient, specialty=specialty)
    hour_ago = now - timedelta(minutes=20)
    for n in range(3):
        _inbound(session, Adapter.HL7, n, InboundStatus.APPLIED, hour_ago)
    _inbound(session, Adapter.HL7, 3, InboundStatus.IGNORED, hour_ago)
    _inbound(session, Adapter.HL7, 4, InboundStatus.PARKED, now - timedelta(minutes=10))
    for n in range(2):
        _inbound(session, Adapter.HL7, 5 + n, InboundStatus.APPLIED, now - timedelta(hours=5))
    _inbound(session, Adapter.HL7, 7, InboundStatus.APPLIED, now - timedelta(hours=30))
    session.add_all([
        SyncCursor(adapter=Adapter.FHIR, resource="Appointment",
                   last_updated=(now - timedelta(minutes=2)).isoformat(),
                   synced_at=now - timedelta(minutes=1)),
        SyncCursor(adapter=Adapter.FHIR, resource="Slot",
                   last_updated=(now - timedelta(minutes=15)).isoformat().replace("+00:00", "Z"),
                   synced_at=now - timedelta(minutes=10), last_error="HTTP 503 from the PAS",
                   last_error_at=now - timedelta(minutes=5))])
    for n, (status, ago) in enumerate([(RequestStatus.ACCEPTED, 1), (RequestStatus.ACCEPTED, 3),
                                       (RequestStatus.REFUSED, 3), (RequestStatus.ACCEPTED, 48)]):
        _request(session, n, Adapter.FHIR, status, appointment=appointment,
                 created=now - timedelta(hours=ago, minutes=5),
                 decided=now - timedelta(hours=ago))
    _request(session, 10, Adapter.FHIR, RequestStatus.PENDING, appointment=appointment,
             created=now - timedelta(minutes=40), attempts=3)
    _request(session, 11, Adapter.FHIR, RequestStatus.SENDING, appointment=appointment,
             created=now - timedelta(minutes=2))
    for n, ago in ((20, 3), (21, 1)):
        _request(session, n, Adapter.CSV, RequestStatus.PENDING_UPLOAD, appointment=appointment,
                 created=now - timedelta(hours=ago))
    session.flush()
    wrong = exceptions.open_exception(
        session=session, adapter=Adapter.HL7, reason="wrong_patient_risk",
        detail="a patient with this NHS number exists with another date of birth",
        raw=RAW_PID, patient_id=patient.id, appointment_id=appointment.id)
    exceptions.open_exception(session=session, adapter=Adapter.FHIR, reason="slot_taken",
                              detail="The PAS refused: 412", patient_id=patient.id)
    done = exceptions.open_exception(session=session, adapter=Adapter.CSV,
                                     reason="unknown_code", detail="site code 'ZZ'")
    exceptions.resolve(session=session, exception_id=done.id, actor="cli:test", staff_id=None,
                       resolution="added the site")
    session.flush()
    return Traffic(now=now, patient_id=patient.id, appointment_id=appointment.id,
                   exception_id=wrong.id)
