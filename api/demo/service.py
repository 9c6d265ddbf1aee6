"""The synthetic demo trust: seed it once, deterministically, and describe it as JSON.

Everything random comes from one `random.Random(seed)`, and every date and time is derived
from `today`: the same seed and `today` on an empty database give byte-identical output.
The rows are made by a pure generator (`api.demo.generator`, with `capacity` and `people`) and
persisted by `api.demo.writer`, which gives the bulk-inserted tables explicit ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments.models import Appointment
from api.demo import data, writer
from api.demo.generator import strike_window
from api.patients.models import Patient
from api.reference.models import Site, Specialty
from api.scheduling.models import Slot
from api.system import localtime

__all__ = ["MAX_PATIENTS", "SeedResult", "describe", "is_seeded", "seed", "seed_reference",
           "strike_window"]

MAX_PATIENTS = 20_000


@dataclass(frozen=True)
class SeedResult:
    """What `seed` did: `created` is False when the demo trust already existed."""

    created: bool
    seed: int
    today: date
    patients: int = 0
    appointments: int = 0
    postponed: int = 0
    sessions: int = 0
    slots: int = 0
    free_future_slots: int = 0
    disruption_id: int | None = None
    strike_starts_at: datetime | None = None

    def summary(self) -> str:
        if not self.created:
            return "The demo trust is already seeded; nothing was changed."
        strike = localtime.to_local(self.strike_starts_at) if self.strike_starts_at else None
        return (
            f"Seeded the demo trust (seed {self.seed}, today {self.today.isoformat()}): "
            f"{_count(self.patients, 'patient')}, {_count(self.appointments, 'appointment')}, "
            f"{self.postponed:,} postponed by the {data.DISRUPTION_NAME.lower()} from "
            f"{strike:%a %d %b %Y}, {self.sessions:,} sessions holding {self.slots:,} slots "
            f"({self.free_future_slots:,} free in the next 12 weeks)."
        )


# --- public verbs -----------------------------------------------------------------------


def is_seeded(*, session: Session) -> bool:
    """True when the demo trust's sites already exist."""
    found = session.scalar(select(Site.id).where(Site.code.in_(data.DEMO_SITE_CODES)).limit(1))
    return found is not None


def seed(*, session: Session, patients: int = 2500, seed: int = 2024,
         today: date | None = None) -> SeedResult:
    """Create the synthetic demo trust once (flushes; the caller commits)."""
    _check_arguments(patients=patients, seed=seed, today=today)
    today = today or localtime.local_today()
    if is_seeded(session=session):
        return SeedResult(created=False, seed=seed, today=today)
    trust, disruption, postponed = writer.write(session=session, patients=patients, seed=seed,
                                                today=today)
    return SeedResult(
        created=True, seed=seed, today=today, patients=len(trust.patients),
        appointments=len(trust.appointments), postponed=postponed, sessions=len(trust.sessions),
        slots=len(trust.slots), free_future_slots=trust.free_future_slots,
        disruption_id=disruption.id, strike_starts_at=trust.strike_start,
    )


def seed_reference(*, session: Session, today: date | None = None) -> int:
    """The demo trust's sites, specialties, clinicians and strike only (no patients, no
    capacity): what its PAS export is loaded into. Returns the strike's disruption id."""
    return writer.write_reference(session=session,
                                  today=today or localtime.local_today()).id


def describe(*, session: Session) -> dict:
    """The demo patients and their appointments, as the `rebook demo seed --json` contract."""
    demo_sites = select(Site.id).where(Site.code.in_(data.DEMO_SITE_CODES))
    demo_patients = select(Appointment.patient_id).where(Appointment.site_id.in_(demo_sites))
    appointments: dict[int, list[dict]] = {}
    rows = session.execute(
        select(Appointment.id, Appointment.patient_id, Appointment.status, Specialty.name,
               Appointment.priority, Slot.start_at)
        .join(Specialty, Appointment.specialty_id == Specialty.id)
        .outerjoin(Slot, Appointment.slot_id == Slot.id)
        .where(Appointment.patient_id.in_(demo_patients))
        .order_by(Appointment.id)
    )
    for appointment_id, patient_id, status, specialty, priority, start in rows:
        appointments.setdefault(patient_id, []).append({
            "id": appointment_id,
            "status": status.value,
            "specialty": specialty,
            "priority": priority.value,
            "start": start.astimezone(UTC).isoformat() if start else None,
        })
    people = session.execute(
        select(Patient.id, Patient.nhs_number, Patient.given_name, Patient.family_name,
               Patient.date_of_birth, Patient.postcode, Patient.mobile, Patient.email,
               Patient.whatsapp_opt_in)
        .where(Patient.id.in_(demo_patients))
        .order_by(Patient.nhs_number)
    )
    return {"patients": [
        {
            "nhs_number": nhs_number,
            "name": f"{given} {family}",
            "dob": dob.isoformat(),
            "postcode": postcode,
            "mobile": mobile,
            "email": email,
            "whatsapp": f"whatsapp:{mobile}" if whatsapp and mobile else None,
            "appointments": appointments.get(patient_id, []),
        }
        for patient_id, nhs_number, given, family, dob, postcode, mobile, email, whatsapp in people
    ]}


# --- arguments and calendar ---------------------------------------------------------------


def _check_arguments(*, patients: int, seed: int, today: date | None) -> None:
    if isinstance(patients, bool) or not isinstance(patients, int):
        raise ValueError(f"patients must be a whole number, not {patients!r}")
    if not 1 <= patients <= MAX_PATIENTS:
        raise ValueError(f"patients must be between 1 and {MAX_PATIENTS:,}, not {patients:,}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be a whole number, not {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be zero or more, not {seed}")
    if today is not None and (isinstance(today, datetime) or not isinstance(today, date)):
        raise ValueError(f"today must be a date (no time of day), not {today!r}")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
