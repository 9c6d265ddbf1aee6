"""Read-only lists of what scheduling holds: disruptions, clinic sessions, and the codes and
priority values people type (for `rebook disruption list`, `clinic list`, `codes`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from api.appointments import priorities
from api.appointments.models import Appointment, Pathway
from api.reference.models import Clinician, Site, Specialty
from api.scheduling.models import ClinicSession, Disruption, Slot, SlotStatus
from api.scheduling.priority import TARGET_LABEL


def disruptions(*, session: Session) -> list[dict]:
    """Every disruption, latest first, with what it touches and how many it postponed."""
    postponed = dict(session.execute(
        select(Appointment.disruption_id, func.count()).where(
            Appointment.disruption_id.is_not(None)).group_by(Appointment.disruption_id)).all())
    found = session.scalars(select(Disruption).options(
        selectinload(Disruption.specialties), selectinload(Disruption.sites))
        .order_by(Disruption.starts_at.desc(), Disruption.id.desc()))
    return [{"id": d.id, "name": d.name, "starts_at": d.starts_at, "ends_at": d.ends_at,
             "staff_group": d.staff_group, "reason": d.reason,
             "specialties": sorted(s.code for s in d.specialties),
             "sites": sorted(s.code for s in d.sites), "postponed": postponed.get(d.id, 0)}
            for d in found]


def clinic_sessions(*, session: Session, starting: datetime, until: datetime,
                    site_codes: list[str] = (), specialty_codes: list[str] = (),
                    limit: int = 200) -> list[dict]:
    """Clinic sessions and theatre lists starting in [starting, until), with free slots."""
    query = (select(ClinicSession)
             .options(selectinload(ClinicSession.site), selectinload(ClinicSession.specialty))
             .where(ClinicSession.starts_at >= starting, ClinicSession.starts_at < until)
             .order_by(ClinicSession.starts_at, ClinicSession.id).limit(limit))
    if site_codes:
        query = query.join(Site, Site.id == ClinicSession.site_id).where(Site.code.in_(site_codes))
    if specialty_codes:
        query = query.join(Specialty, Specialty.id == ClinicSession.specialty_id).where(
            Specialty.code.in_(specialty_codes))
    found = list(session.scalars(query))
    counts = {row[0]: row[1:] for row in session.execute(
        select(Slot.session_id, func.count(), func.sum(case((Slot.status == SlotStatus.FREE, 1),
                                                            else_=0)))
        .where(Slot.session_id.in_([c.id for c in found])).group_by(Slot.session_id))}
    return [{"id": c.id, "kind": c.kind.value, "site": c.site.code, "site_name": c.site.name,
             "specialty": c.specialty.code, "specialty_name": c.specialty.name,
             "location": c.location, "starts_at": c.starts_at, "ends_at": c.ends_at,
             "slots": counts.get(c.id, (0, 0))[0], "free": int(counts.get(c.id, (0, 0))[1] or 0),
             "short_notice": c.short_notice}
            for c in found]


def codes(*, session: Session) -> dict[str, list[dict]]:
    """What `--specialty`, `--site`, `--priority` and `--keep-pathway` accept, with labels."""
    return {
        "specialties": [{"code": s.code, "name": s.name, "surgical": s.surgical}
                        for s in session.scalars(select(Specialty).order_by(Specialty.code))],
        "sites": [{"code": s.code, "name": s.name, "postcode": s.postcode}
                  for s in session.scalars(select(Site).order_by(Site.code))],
        "priorities": [{"value": value, "label": text} for value, text in priorities.choices()],
        "pathways": [{"value": p.value, "label": TARGET_LABEL[p]} for p in Pathway],
    }


def site_names(*, session: Session) -> dict[str, str]:
    """Site code -> name: what `--site` accepts."""
    return dict(session.execute(select(Site.code, Site.name)).all())


def specialty_names(*, session: Session) -> dict[str, str]:
    """Specialty code -> name: what `--specialty` accepts."""
    return dict(session.execute(select(Specialty.code, Specialty.name)).all())


def clinician_names(*, session: Session) -> dict[str, str]:
    """Clinician code -> name: what `--clinician` accepts."""
    return dict(session.execute(select(Clinician.code, Clinician.name)).all())
