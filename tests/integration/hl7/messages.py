"""Hand-made ADT and SIU messages for the listener's tests (synthetic patients only)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import Settings
from api.integration.hl7 import export
from api.integration.models import Adapter
from api.integration.records import (
    AppointmentRecord,
    Change,
    PasAppointmentStatus,
    PatientRecord,
)
from api.reference.models import Clinician, Site, Specialty
from tests.factories import valid_nhs_number

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def patient(n: int = 1, **changes) -> PatientRecord:
    record = PatientRecord(
        change=Change(Adapter.HL7, f"P{n}", event_at=T0), nhs_number=valid_nhs_number(n * 20),
        given_name="Ada", family_name="Testpatient", date_of_birth=date(1970, 1, 2),
        postcode="NX1 1AA", mobile=f"+4477009{n % 100000:05d}")
    return dataclasses.replace(record, **changes)


def appointment(session: Session, n: int = 1, *, patient_n: int = 1,
                **changes) -> AppointmentRecord:
    """A booked appointment in the target's reference data (its first codes)."""
    specialty = session.scalar(select(Specialty.code).order_by(Specialty.id))
    clinician = session.scalar(select(Clinician.code).where(
        Clinician.specialty_id == select(Specialty.id).where(Specialty.code == specialty)
        .scalar_subquery()).order_by(Clinician.id))
    record = AppointmentRecord(
        change=Change(Adapter.HL7, f"A{n}", event_at=T0), patient_pas_id=f"P{patient_n}",
        status=PasAppointmentStatus.BOOKED, specialty_code=specialty,
        referral_date=date(2026, 9, 1), breach_date=date(2027, 1, 5),
        start_at=T0 + timedelta(days=20), site_code=session.scalar(select(Site.code)),
        clinician_code=clinician)
    session.rollback()  # Rebook's SQLite transactions take the write lock: the listener's turn
    return dataclasses.replace(record, **changes)


def siu(record: AppointmentRecord, patient_record: PatientRecord, *, settings: Settings,
        event: str | None = None, control_id: str | None = None) -> str:
    """An SIU for the record (its trigger `event` if given, MSH-10 `control_id` if given)."""
    text = export.siu(record, patient_record, settings=settings)
    return with_header(text, event=event, control_id=control_id)


def adt(record: PatientRecord, *, settings: Settings, control_id: str | None = None) -> str:
    return with_header(export.adt(record, settings=settings), control_id=control_id)


def with_header(text: str, *, event: str | None = None, control_id: str | None = None,
                message_type: str | None = None) -> str:
    segments = text.split("\r")
    msh = segments[0].split("|")
    if message_type:
        msh[8] = message_type
    if event:
        msh[8] = f"{msh[8].split('^')[0]}^{event}"
    if control_id:
        msh[9] = control_id
    return "\r".join(["|".join(msh), *segments[1:]])


def without(text: str, name: str, field: int) -> str:
    """The message with one field of a segment emptied."""
    segments = text.split("\r")
    for i, seg in enumerate(segments):
        if seg.startswith(name + "|"):
            parts = seg.split("|")
            parts[field] = ""
            segments[i] = "|".join(parts)
    return "\r".join(segments)


def later(record, minutes: int, **changes):
    """The record as an update `minutes` after T0."""
    change = dataclasses.replace(record.change, event_at=T0 + timedelta(minutes=minutes))
    return dataclasses.replace(record, change=change, **changes)
