"""Persists the demo trust: reference data, the generated rows, then the strike.

Row ids are part of the seeded output, so the bulk-inserted tables get explicit ids (next after
the current maximum) instead of sequence values, which PostgreSQL does not roll back.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session, selectinload

from api.appointments import service as appointments_service
from api.appointments.models import Appointment, AppointmentEvent, AppointmentStatus
from api.demo import data, generator
from api.patients.models import Patient
from api.reference.models import Clinician, Site, Specialty
from api.scheduling.models import ClinicSession, Disruption, Slot, SlotStatus


def write(*, session: Session, patients: int, seed: int,
          today: date) -> tuple[generator.Trust, Disruption, int]:
    """Create the demo trust (flushes); the generated rows, the strike and how many it postponed."""
    sites = _sites(session)
    specialties, clinicians = _specialties(session)
    existing = generator.Existing(
        site_ids={code: site.id for code, site in sites.items()},
        specialty_ids={code: specialty.id for code, specialty in specialties.items()},
        clinician_ids={code: [c.id for c in people] for code, people in clinicians.items()},
        next_ids={"clinic_session": _next_id(session, ClinicSession),
                  "slot": _next_id(session, Slot), "patient": _next_id(session, Patient),
                  "appointment": _next_id(session, Appointment)},
        taken_nhs_numbers=frozenset(session.scalars(
            select(Patient.nhs_number).where(Patient.nhs_number.like("999%")))),
    )
    trust = generator.generate(patients=patients, seed=seed, today=today, existing=existing)

    # Bulk inserts keep 2,500 patients well under 10 s. Appointments therefore bypass
    # appointments_service.create: the generator writes the same AppointmentEvent rows it would
    # (from None to booked, then booked to attended for past care). The postponement
    # itself goes through appointments_service.change_status, as any later one would.
    _bulk_insert(session, ClinicSession, trust.sessions)
    _bulk_insert(session, Slot, trust.slots)
    _bulk_insert(session, Patient, trust.patients)
    _bulk_insert(session, Appointment, trust.appointments)
    _bulk_insert(session, AppointmentEvent, trust.events)
    _advance_sequences(session, ("clinic_session", "slot", "patient", "appointment"))

    disruption, postponed = _strike(session, trust, sites, specialties)
    return trust, disruption, postponed


def write_reference(*, session: Session, today: date) -> Disruption:
    """The demo trust without its people or capacity: sites, specialties, clinicians and the
    strike, as a trust has them before its PAS feeds Rebook (the integration round trip)."""
    sites = _sites(session)
    specialties, _ = _specialties(session)
    starts_at, ends_at = generator.strike_window(today=today)
    disruption = Disruption(
        name=data.DISRUPTION_NAME, starts_at=starts_at, ends_at=ends_at,
        staff_group=data.DISRUPTION_STAFF_GROUP, reason=data.DISRUPTION_REASON,
        specialties=[specialties[info.code] for info in data.SPECIALTIES if info.affected],
        sites=list(sites.values()))
    session.add(disruption)
    session.flush()
    return disruption


# reference data: few rows, plain ORM


def _sites(session: Session) -> dict[str, Site]:
    sites = {info.code: Site(code=info.code, name=info.name, address=info.address,
                             postcode=info.postcode, parking=info.parking,
                             transport=info.transport,
                             step_free_access=info.step_free_access)
             for info in data.SITES}
    session.add_all(sites.values())
    session.flush()
    return sites


def _specialties(session: Session) -> tuple[dict[str, Specialty], dict[str, list[Clinician]]]:
    # Reused when a specialty or clinician code already exists (e.g. set up by hand).
    codes = [info.code for info in data.SPECIALTIES]
    specialties = {s.code: s for s in session.scalars(
        select(Specialty).where(Specialty.code.in_(codes)))}
    for info in data.SPECIALTIES:
        if info.code not in specialties:
            specialties[info.code] = Specialty(code=info.code, name=info.name,
                                               surgical=info.surgical)
            session.add(specialties[info.code])
    session.flush()
    wanted = {f"{info.code}-{i + 1:02d}": (info, name)
              for info in data.SPECIALTIES for i, name in enumerate(info.clinicians)}
    existing = {c.code: c for c in session.scalars(
        select(Clinician).where(Clinician.code.in_(list(wanted))))}
    clinicians: dict[str, list[Clinician]] = {info.code: [] for info in data.SPECIALTIES}
    for code, (info, name) in wanted.items():
        clinician = existing.get(code)
        if clinician is None:
            clinician = Clinician(code=code, name=name, specialty_id=specialties[info.code].id)
            session.add(clinician)
        clinicians[info.code].append(clinician)
    session.flush()
    return specialties, clinicians


# the strike


def _strike(session: Session, trust: generator.Trust, sites: dict[str, Site],
            specialties: dict[str, Specialty]) -> tuple[Disruption, int]:
    affected = [specialties[info.code] for info in data.SPECIALTIES if info.affected]
    disruption = Disruption(
        name=data.DISRUPTION_NAME, starts_at=trust.strike_start, ends_at=trust.strike_end,
        staff_group=data.DISRUPTION_STAFF_GROUP, reason=data.DISRUPTION_REASON,
        created_at=trust.as_of, specialties=affected, sites=list(sites.values()),
    )
    session.add(disruption)
    session.flush()
    in_window = (
        Slot.start_at >= disruption.starts_at, Slot.start_at < disruption.ends_at,
        Slot.specialty_id.in_([s.id for s in affected]),
        Slot.site_id.in_([s.id for s in sites.values()]),
    )
    appointments = session.scalars(
        select(Appointment).join(Slot, Appointment.slot_id == Slot.id)
        .where(*in_window, Appointment.status == AppointmentStatus.BOOKED)
        .order_by(Appointment.id)
        .options(selectinload(Appointment.history))
    ).all()
    reason = f"industrial action: {disruption.name}"
    for appointment in appointments:
        event = appointments_service.change_status(
            session=session, appointment=appointment,
            to_status=AppointmentStatus.POSTPONED, reason=reason, actor="system",
            details={"disruption_id": disruption.id},
        )
        event.occurred_at = trust.as_of
        appointment.disruption_id = disruption.id
        appointment.slot_id = None  # released: the clinic is cancelled
        appointment.updated_at = trust.as_of
    session.flush()
    # Cancelled clinics: every slot in them is withdrawn, booked or not, so nobody is
    # offered a strike-day slot.
    session.execute(
        update(Slot).where(*in_window)
        .values(status=SlotStatus.BLOCKED, version=Slot.version + 1)
        .execution_options(synchronize_session=False)
    )
    return disruption, len(appointments)


# storage


def _next_id(session: Session, model) -> int:
    return (session.scalar(select(func.max(model.id))) or 0) + 1


def _bulk_insert(session: Session, model, rows: list[dict], batch: int = 5000) -> None:
    for start in range(0, len(rows), batch):
        session.execute(insert(model), rows[start:start + batch])


def _advance_sequences(session: Session, tables: tuple[str, ...]) -> None:
    # Explicit ids leave PostgreSQL's sequences behind: move them past our rows so the
    # application's own inserts do not collide. SQLite needs nothing (max(rowid) + 1).
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT max(id) FROM {table}))"
        ))
