"""What "the same trust" means after an export and a load through an adapter.

Each snapshot is keyed by the PAS's identifiers: the source (the seeded demo) by the ids its
exporters use (`api.integration.export`), the target by the links the load made. Rebook's
own intermediate states read as the PAS sees them: an appointment OFFERED is still waiting
(POSTPONED); a slot HELD for an offer is free.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments.models import Appointment, AppointmentStatus
from api.integration import export
from api.integration.models import DataKind, PasLink
from api.patients.models import Patient
from api.reference.models import Clinician, Site, Specialty
from api.scheduling.models import ClinicSession, Slot, SlotStatus

AS_THE_PAS_SEES_IT = {AppointmentStatus.OFFERED: AppointmentStatus.POSTPONED,
                      AppointmentStatus.REBOOKED: AppointmentStatus.BOOKED}


def _codes(session: Session, model) -> dict[int, str]:
    return dict(session.execute(select(model.id, model.code)).all())


def patients(session: Session) -> dict[str, tuple]:
    """Every patient by NHS number, with what the PAS holds about them."""
    return {p.nhs_number: (p.given_name, p.family_name, p.date_of_birth, p.postcode, p.mobile,
                           p.email, p.preferred_language, tuple(p.communication_needs or ()))
            for p in session.scalars(select(Patient))}


def appointments(session: Session, *, by_link: bool, with_slot_times: bool = True
                 ) -> dict[str, tuple]:
    """Every appointment by PAS id: patient, status, specialty, type, priority, pathway,
    dates, length, and (when booked) its start, site and clinician."""
    sites, specialties = _codes(session, Site), _codes(session, Specialty)
    clinicians = _codes(session, Clinician)
    nhs = dict(session.execute(select(Patient.id, Patient.nhs_number)).all())
    starts = dict(session.execute(select(Slot.id, Slot.start_at)).all())
    keys = _keys(session, DataKind.APPOINTMENT) if by_link else None
    found = {}
    for a in session.scalars(select(Appointment)):
        key = keys.get(a.id) if keys is not None else export.appointment_pas_id(a.id)
        booked = a.slot_id is not None
        found[key] = (nhs[a.patient_id], AS_THE_PAS_SEES_IT.get(a.status, a.status),
                      specialties[a.specialty_id], a.type, a.priority, a.pathway,
                      a.referral_date, a.breach_date, a.duration_minutes,
                      a.disruption_id is not None,
                      starts[a.slot_id] if booked and with_slot_times else None,
                      sites.get(a.site_id) if booked else None,
                      clinicians.get(a.clinician_id) if booked else None)
    return found


def slots(session: Session, *, by_link: bool) -> dict[str, tuple]:
    """Every slot by PAS id: site, specialty, clinician, type, start, length, status, and its
    clinic session's room and times."""
    sites, specialties = _codes(session, Site), _codes(session, Specialty)
    clinicians = _codes(session, Clinician)
    sessions = {s.id: (s.kind, s.location, s.starts_at, s.ends_at, s.short_notice)
                for s in session.scalars(select(ClinicSession))}
    keys = _keys(session, DataKind.SLOT) if by_link else None
    found = {}
    for s in session.scalars(select(Slot)):
        key = keys.get(s.id) if keys is not None else export.slot_pas_id(s.id)
        status = SlotStatus.FREE if s.status is SlotStatus.HELD else s.status
        found[key] = (sites[s.site_id], specialties[s.specialty_id],
                      clinicians.get(s.clinician_id), s.type, s.start_at, s.duration_minutes,
                      status, sessions.get(s.session_id))
    return found


def _keys(session: Session, kind: DataKind) -> dict[int, str]:
    return {local: pas for pas, local in session.execute(
        select(PasLink.pas_id, PasLink.local_id).where(PasLink.kind == kind)).all()}


def assert_same(source: dict, target: dict, what: str) -> None:
    """Field-by-field equality, with the first differences named when it fails."""
    missing = sorted(set(source) - set(target))[:5]
    extra = sorted(set(target) - set(source))[:5]
    differing = [(k, source[k], target[k]) for k in sorted(set(source) & set(target))
                 if source[k] != target[k]][:5]
    assert not missing and not extra and not differing, (
        f"{what}: {len(source)} in the source, {len(target)} loaded; missing {missing}, "
        f"extra {extra}, differing {differing}")
