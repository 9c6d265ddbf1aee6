"""Read-only lists of what scheduling holds: disruptions, clinic sessions, and the codes and
priority values people type (for `rebook disruption list`, `clinic list`, `codes`), and the
same lists a page at a time for the staff API (`GET /api/v1/disruptions`, `/clinics`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from api.appointments import priorities
from api.appointments.models import AWAITING_DATE, Appointment, AppointmentStatus, Pathway
from api.reference.models import Clinician, Site, Specialty
from api.scheduling.errors import InvalidRequest
from api.scheduling.models import ClinicSession, Disruption, SessionKind, Slot, SlotStatus
from api.scheduling.priority import TARGET_LABEL
from api.system import localtime


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
    counts = _slot_counts(session, found)
    return [{"id": c.id, "kind": c.kind.value, "site": c.site.code, "site_name": c.site.name,
             "specialty": c.specialty.code, "specialty_name": c.specialty.name,
             "location": c.location, "starts_at": c.starts_at, "ends_at": c.ends_at,
             "slots": counts[c.id][0], "free": counts[c.id][1], "short_notice": c.short_notice}
            for c in found]


def _slot_counts(session: Session, clinics: list[ClinicSession]) -> dict[int, tuple[int, int]]:
    """Clinic session id -> (slots, free slots)."""
    counts = {c.id: (0, 0) for c in clinics}
    for session_id, slots, free in session.execute(
            select(Slot.session_id, func.count(),
                   func.sum(case((Slot.status == SlotStatus.FREE, 1), else_=0)))
            .where(Slot.session_id.in_(list(counts))).group_by(Slot.session_id)):
        counts[session_id] = (slots, int(free or 0))
    return counts


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


# --- a page at a time, for the staff API ---------------------------------------------------


@dataclass(frozen=True)
class DisruptionListing:
    disruption: Disruption
    postponed: int  # appointments it postponed, whatever happened to them since
    awaiting_date: int  # of those, still postponed or offered
    rebooked: int


@dataclass(frozen=True)
class ClinicListing:
    clinic: ClinicSession
    local_date: date  # the day it runs, in the trust's time zone
    slots: int
    free_slots: int


def disruption_page(*, session: Session, limit: int, offset: int
                    ) -> tuple[list[DisruptionListing], int]:
    """Newest first, with how many appointments each postponed and where they are now."""
    total = session.scalar(select(func.count()).select_from(Disruption)) or 0
    page = list(session.scalars(
        select(Disruption).options(selectinload(Disruption.specialties),
                                   selectinload(Disruption.sites))
        .order_by(Disruption.starts_at.desc(), Disruption.id.desc())
        .limit(limit).offset(offset)))
    counts: dict[int, dict[AppointmentStatus, int]] = {d.id: {} for d in page}
    if page:
        rows = session.execute(
            select(Appointment.disruption_id, Appointment.status, func.count())
            .where(Appointment.disruption_id.in_(counts))
            .group_by(Appointment.disruption_id, Appointment.status))
        for disruption_id, status, count in rows:
            counts[disruption_id][status] = count
    return [DisruptionListing(
        disruption=d, postponed=sum(counts[d.id].values()),
        awaiting_date=sum(counts[d.id].get(s, 0) for s in AWAITING_DATE),
        rebooked=counts[d.id].get(AppointmentStatus.REBOOKED, 0)) for d in page], total


@dataclass(frozen=True)
class ClinicFilters:
    from_date: date | None = None  # local dates, both ends included
    to_date: date | None = None
    site_code: str | None = None
    specialty_code: str | None = None
    short_notice: bool | None = None
    kind: SessionKind | None = None
    with_free_slots: bool = False


def _clinic_query(session: Session, filters: ClinicFilters):
    if filters.from_date and filters.to_date and filters.to_date < filters.from_date:
        raise InvalidRequest("to_date is before from_date")
    query = select(ClinicSession)
    if filters.from_date:
        query = query.where(ClinicSession.starts_at >= localtime.local_midnight(filters.from_date))
    if filters.to_date:
        query = query.where(ClinicSession.starts_at
                            < localtime.local_midnight(filters.to_date + timedelta(days=1)))
    if filters.site_code:
        query = query.where(ClinicSession.site_id == _id_of(session, Site, filters.site_code))
    if filters.specialty_code:
        query = query.where(ClinicSession.specialty_id
                            == _id_of(session, Specialty, filters.specialty_code))
    if filters.short_notice is not None:
        query = query.where(ClinicSession.short_notice.is_(filters.short_notice))
    if filters.kind is not None:
        query = query.where(ClinicSession.kind == filters.kind)
    if filters.with_free_slots:
        query = query.where(select(Slot.id).where(Slot.session_id == ClinicSession.id,
                                                  Slot.status == SlotStatus.FREE).exists())
    return query


def _id_of(session: Session, model, code: str) -> int:
    found = session.scalar(select(model.id).where(model.code == code))
    if found is None:
        raise InvalidRequest(f"unknown {model.__tablename__} code {code!r}")
    return found


def clinic_page(*, session: Session, filters: ClinicFilters, limit: int, offset: int
                ) -> tuple[list[ClinicListing], int]:
    """Clinic sessions and theatre lists, soonest first, with their free slots."""
    query = _clinic_query(session, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = list(session.scalars(
        query.options(selectinload(ClinicSession.site), selectinload(ClinicSession.specialty))
        .order_by(ClinicSession.starts_at, ClinicSession.id).limit(limit).offset(offset)))
    counts = _slot_counts(session, page)
    return [ClinicListing(clinic=c, local_date=_local_date(c.starts_at), slots=counts[c.id][0],
                          free_slots=counts[c.id][1]) for c in page], total


def _local_date(moment: datetime) -> date:
    return localtime.to_local(moment).date()
