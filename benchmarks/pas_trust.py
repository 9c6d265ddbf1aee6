"""A large synthetic PAS trust as inbound records, for benchmarks/integration_sync.py.

`synthetic_trust(appointments=100_000, slots=250_000)` gives clinic sessions of 10 slots each
(a quarter of the slots booked), one patient per 1.3 appointments, and appointments of which
half are booked into those slots and the rest wait on the list (postponed by the demo strike,
dated before it) or were attended. Codes are the demo trust's (`api.demo.data`), so a database
holding `demo_service.seed_reference` takes them. NHS numbers come from the 999 test range,
mobiles from Ofcom's 07700 900xxx drama range. Deterministic for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from api.appointments.models import OUTPATIENT_PRIORITIES, Pathway
from api.demo import data
from api.demo.generator import strike_window
from api.integration.models import Adapter
from api.integration.records import (
    AppointmentRecord,
    Change,
    PasAppointmentStatus,
    PasSlotStatus,
    PatientRecord,
    SessionRecord,
    SlotRecord,
)
from api.patients.identifiers import nhs_check_digit
from api.reference.models import AppointmentType
from api.scheduling.models import SessionKind

TODAY = date(2026, 11, 30)
SLOTS_PER_SESSION = 10
SLOT_MINUTES = 20


@dataclass
class Trust:
    sessions: list[SessionRecord] = field(default_factory=list)
    slots: list[SlotRecord] = field(default_factory=list)
    patients: list[PatientRecord] = field(default_factory=list)
    appointments: list[AppointmentRecord] = field(default_factory=list)


def _nhs_numbers():
    n = 0
    while True:
        first_nine = f"999{n:06d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            yield f"{first_nine}{check}"
        n += 1


def synthetic_trust(*, appointments: int, slots: int, adapter: Adapter, seed: int = 16,
                    today: date = TODAY) -> Trust:
    """The records of a trust with about `appointments` appointments and `slots` slots."""
    rng = random.Random(seed)
    trust = Trust()
    specialties = [s for s in data.SPECIALTIES]
    clinic_day = today + timedelta(days=14)
    booked_slots: list[SlotRecord] = []
    for number in range(slots // SLOTS_PER_SESSION):
        specialty = specialties[number % len(specialties)]
        site = specialty.sites[number % len(specialty.sites)]
        clinician = f"{specialty.code}-{number % len(specialty.clinicians) + 1:02d}"
        day = clinic_day + timedelta(days=(number // 40) % 180)
        starts = datetime.combine(day, time(9 + (number % 2) * 4, 0), tzinfo=UTC)
        session_id = f"C{number + 1}"
        trust.sessions.append(SessionRecord(
            change=Change(adapter, session_id), kind=SessionKind.CLINIC, site_code=site,
            specialty_code=specialty.code, location=f"Outpatients {number % 6 + 1}",
            starts_at=starts, ends_at=starts + timedelta(minutes=SLOTS_PER_SESSION
                                                         * SLOT_MINUTES),
            clinician_code=clinician))
        for k in range(SLOTS_PER_SESSION):
            status = PasSlotStatus.BUSY if rng.random() < 0.25 else PasSlotStatus.FREE
            slot = SlotRecord(
                change=Change(adapter, f"S{number * SLOTS_PER_SESSION + k + 1}"),
                site_code=site, specialty_code=specialty.code, type=AppointmentType.OUTPATIENT,
                start_at=starts + timedelta(minutes=k * SLOT_MINUTES),
                duration_minutes=SLOT_MINUTES, status=status, session_pas_id=session_id,
                clinician_code=clinician)
            trust.slots.append(slot)
            if status is PasSlotStatus.BUSY:
                booked_slots.append(slot)
    numbers = _nhs_numbers()
    for index in range(max(1, int(appointments / 1.3))):
        trust.patients.append(PatientRecord(
            change=Change(adapter, f"P{index + 1}"), nhs_number=next(numbers),
            given_name=rng.choice(("Alex", "Sam", "Jo", "Priya", "Tom", "Aisha")),
            family_name=f"Synthetic{index}", date_of_birth=date(1940, 1, 1) + timedelta(
                days=rng.randrange(25_000)), postcode="NT1 1AA",
            mobile=f"+447700900{index % 1000:03d}"))
    strike_start, _ = strike_window(today=today)
    for index in range(appointments):
        patient = trust.patients[index % len(trust.patients)]
        specialty = specialties[index % len(specialties)]
        referral = today - timedelta(days=rng.randrange(30, 200))
        common = dict(patient_pas_id=patient.change.pas_id, specialty_code=specialty.code,
                      priority=rng.choice(OUTPATIENT_PRIORITIES), pathway=Pathway.RTT,
                      referral_date=referral, breach_date=referral + timedelta(weeks=18),
                      duration_minutes=SLOT_MINUTES)
        change = Change(adapter, f"A{index + 1}")
        if index < len(booked_slots) and index % 2 == 0:
            slot = booked_slots[index]
            trust.appointments.append(AppointmentRecord(
                change=change, status=PasAppointmentStatus.BOOKED, start_at=slot.start_at,
                site_code=slot.site_code, clinician_code=slot.clinician_code,
                slot_pas_id=slot.change.pas_id, **common | {"specialty_code":
                                                            slot.specialty_code}))
        else:
            trust.appointments.append(AppointmentRecord(
                change=change, status=PasAppointmentStatus.WAITLIST,
                original_start_at=strike_start + timedelta(hours=2 + index % 40), **common))
    return trust
