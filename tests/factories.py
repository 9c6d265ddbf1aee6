"""Factories for model rows: sensible synthetic defaults, override what a test cares about."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from api.appointments import service as appointments_service
from api.appointments.models import Appointment, AppointmentStatus, Pathway, Priority
from api.patients.identifiers import nhs_check_digit
from api.patients.models import Patient
from api.reference.models import AppointmentType, Site, Specialty
from api.scheduling.models import Slot, SlotStatus

_counter = itertools.count(1)


def valid_nhs_number(seed: int) -> str:
    """A valid NHS number in the 999 test range."""
    n = seed
    while True:
        first_nine = f"999{n % 1_000_000:06d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            return f"{first_nine}{check}"
        n += 1


def make_site(session: Session, **overrides) -> Site:
    n = next(_counter)
    site = Site(code=f"S{n}", name=f"Test Hospital {n}", **overrides)
    session.add(site)
    session.flush()
    return site


def make_specialty(session: Session, **overrides) -> Specialty:
    n = next(_counter)
    values = {"code": f"SP{n}", "name": f"Specialty {n}", "surgical": False} | overrides
    specialty = Specialty(**values)
    session.add(specialty)
    session.flush()
    return specialty


def make_patient(session: Session, **overrides) -> Patient:
    n = next(_counter)
    values = {
        "nhs_number": valid_nhs_number(n * 7919),
        "given_name": "Alex",
        "family_name": f"Tester{n}",
        "date_of_birth": date(1958, 7, 3),
        "postcode": "BL1 1AA",
        "mobile": f"+4477009{n % 100000:05d}",
    } | overrides
    patient = Patient(**values)
    session.add(patient)
    session.flush()
    return patient


def make_slot(session: Session, *, site: Site, specialty: Specialty, **overrides) -> Slot:
    values = {
        "site_id": site.id,
        "specialty_id": specialty.id,
        "type": AppointmentType.OUTPATIENT,
        "start_at": datetime.now(UTC).replace(microsecond=0) + timedelta(days=7),
        "duration_minutes": 20,
        "status": SlotStatus.FREE,
    } | overrides
    slot = Slot(**values)
    session.add(slot)
    session.flush()
    return slot


def make_appointment(session: Session, *, patient: Patient, specialty: Specialty,
                     **overrides) -> Appointment:
    values = {
        "patient_id": patient.id,
        "specialty_id": specialty.id,
        "type": AppointmentType.OUTPATIENT,
        "priority": Priority.ROUTINE,
        "pathway": Pathway.RTT,
        "referral_date": date(2026, 9, 1),
        "breach_date": date(2026, 9, 1) + timedelta(weeks=18),
    } | overrides
    appointment = appointments_service.create(session=session, appointment=Appointment(**values))
    session.flush()
    return appointment


def make_postponed_appointment(session: Session, *, specialty: Specialty,
                               **overrides) -> Appointment:
    """A new patient's appointment, postponed by a strike (waiting to be rebooked)."""
    values = {"referral_date": date(2026, 1, 5), "breach_date": date(2026, 5, 11)} | overrides
    appointment = make_appointment(session, patient=make_patient(session), specialty=specialty,
                                   **values)
    appointments_service.change_status(session=session, appointment=appointment,
                                       to_status=AppointmentStatus.POSTPONED,
                                       reason="strike", actor="system")
    return appointment
