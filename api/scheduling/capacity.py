"""New capacity: short-notice clinics and theatre lists, who should fill them, and the cascade.

Staff add a session; `propose` lists, slot by slot in time order, the most pressing postponed
appointment that fits it; `approve` holds each slot for that patient as a sent offer (24 h).
When a capacity offer is declined, expires or is withdrawn, `cascade` offers the slot to the
next patient in the same order, skipping anyone who already had this slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments import service as appointments_service
from api.appointments.models import Appointment, AppointmentStatus
from api.db import utcnow
from api.patients.models import Patient
from api.reference.models import AppointmentType, Clinician, Site, Specialty
from api.scheduling import holds, matching, priority
from api.scheduling.errors import Conflict, InvalidRequest, NotFound
from api.scheduling.models import ClinicSession, Offer, OfferStatus, SessionKind, Slot, SlotStatus
from api.system import localtime

CAPACITY_SOURCE = "capacity"
SENT_OFFER_HOURS = 24
MAX_SESSION_HOURS = 14


@dataclass(frozen=True)
class Proposal:
    """One slot of a new session and the patient the engine would offer it to."""

    slot_id: int
    start_at: datetime
    appointment_id: int
    patient_id: int
    reasons: str


@dataclass(frozen=True, slots=True)
class _Candidate:
    facts: priority.Facts
    patient_id: int
    duration_minutes: int
    requires_named_clinician: bool
    clinician_id: int | None


def add_clinic(*, session: Session, site_code: str, specialty_code: str, location: str,
               starts_at: datetime, slot_minutes: list[int],
               kind: SessionKind = SessionKind.CLINIC,
               appointment_type: AppointmentType = AppointmentType.OUTPATIENT,
               clinician_code: str | None = None, now: datetime | None = None) -> ClinicSession:
    """Create a short-notice clinic or theatre list: one free slot per length in `slot_minutes`."""
    now = now or utcnow()
    if starts_at.tzinfo is None:
        raise InvalidRequest("starts_at needs a timezone (or give it as Europe/London local time)")
    if starts_at <= now:
        raise InvalidRequest("the session would start in the past")
    if not slot_minutes or any(m <= 0 for m in slot_minutes):
        raise InvalidRequest("give at least one slot, each of a positive number of minutes")
    ends_at = starts_at + timedelta(minutes=sum(slot_minutes))
    if ends_at - starts_at > timedelta(hours=MAX_SESSION_HOURS):
        raise InvalidRequest(f"a session may last at most {MAX_SESSION_HOURS} hours")
    if not location.strip():
        raise InvalidRequest("say which room or theatre the session is in")
    if (kind is SessionKind.THEATRE_LIST) != (appointment_type is AppointmentType.THEATRE):
        raise InvalidRequest("theatre lists hold theatre slots, and only they do")
    site = session.scalar(select(Site).where(Site.code == site_code))
    if site is None:
        raise InvalidRequest(f"unknown site {site_code!r}")
    specialty = session.scalar(select(Specialty).where(Specialty.code == specialty_code))
    if specialty is None:
        raise InvalidRequest(f"unknown specialty {specialty_code!r}")
    clinician = None
    if clinician_code is not None:
        clinician = session.scalar(select(Clinician).where(Clinician.code == clinician_code))
        if clinician is None:
            raise InvalidRequest(f"unknown clinician {clinician_code!r}")
    clash = [ClinicSession.site_id == site.id, ClinicSession.location == location.strip()]
    overlapping = select(ClinicSession).where(ClinicSession.starts_at < ends_at,
                                              ClinicSession.ends_at > starts_at)
    if session.scalar(overlapping.where(*clash).limit(1)) is not None:
        raise Conflict(f"{location.strip()} at {site.name} is already in use at that time")
    if clinician is not None and session.scalar(
            overlapping.where(ClinicSession.clinician_id == clinician.id).limit(1)) is not None:
        raise Conflict(f"{clinician.name} already has a session at that time")

    clinic = ClinicSession(kind=kind, site_id=site.id, specialty_id=specialty.id,
                           clinician_id=clinician.id if clinician else None,
                           location=location.strip(), starts_at=starts_at, ends_at=ends_at,
                           short_notice=True, created_at=now)
    session.add(clinic)
    session.flush()
    offset = 0
    for minutes in slot_minutes:
        session.add(Slot(session_id=clinic.id, site_id=site.id, specialty_id=specialty.id,
                         clinician_id=clinic.clinician_id, type=appointment_type,
                         start_at=starts_at + timedelta(minutes=offset),
                         duration_minutes=minutes, status=SlotStatus.FREE, version=0))
        offset += minutes
    session.flush()
    return clinic


def _candidates(*, session: Session, specialty_id: int, appointment_type: AppointmentType,
                today) -> list[_Candidate]:
    """Postponed appointments of one specialty and type with no open offer, most pressing first."""
    open_offer = select(Offer.appointment_id).where(Offer.status == OfferStatus.HELD)
    rows = session.execute(
        select(Appointment.id, Appointment.patient_id, Appointment.priority,
               Appointment.pathway, Appointment.referral_date, Appointment.breach_date,
               Appointment.times_postponed, Patient.vulnerable, Appointment.duration_minutes,
               Appointment.requires_named_clinician, Appointment.clinician_id)
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(Appointment.status == AppointmentStatus.POSTPONED,
               Appointment.specialty_id == specialty_id, Appointment.type == appointment_type,
               Appointment.id.not_in(open_offer))
    )
    candidates = [
        _Candidate(priority.Facts(a_id, prio, pathway, referral, breach, times, bool(vuln)),
                   patient_id, minutes, bool(named), clinician_id)
        for (a_id, patient_id, prio, pathway, referral, breach, times, vuln, minutes, named,
             clinician_id) in rows
    ]
    candidates.sort(key=lambda c: priority.sort_key(c.facts, today))
    return candidates


def _fits(candidate: _Candidate, slot: Slot) -> bool:
    return candidate.duration_minutes == slot.duration_minutes and (
        not candidate.requires_named_clinician or candidate.clinician_id is None
        or candidate.clinician_id == slot.clinician_id)


def _had_slot(*, session: Session, slot_ids: list[int]) -> set[tuple[int, int]]:
    """(slot, appointment) pairs already offered, so a cascade never asks anyone twice."""
    return set(session.execute(
        select(Offer.slot_id, Offer.appointment_id).where(Offer.slot_id.in_(slot_ids))))


def _choose(*, session: Session, slots: list[Slot], now: datetime,
            min_notice: timedelta) -> list[tuple[Slot, _Candidate]]:
    """For each free slot in time order, the most pressing candidate not chosen already."""
    today = localtime.local_today(now=now)
    slots = [s for s in slots if s.status is SlotStatus.FREE and s.start_at >= now + min_notice]
    if not slots:
        return []
    pools: dict[tuple[int, AppointmentType], list[_Candidate]] = {}
    asked = _had_slot(session=session, slot_ids=[s.id for s in slots])
    chosen: set[int] = set()
    busy_cache: dict[int, list] = {}
    pairs = []
    for slot in sorted(slots, key=lambda s: (s.start_at, s.id)):
        key = (slot.specialty_id, slot.type)
        if key not in pools:
            pools[key] = _candidates(session=session, specialty_id=slot.specialty_id,
                                     appointment_type=slot.type, today=today)
        for candidate in pools[key]:
            a_id = candidate.facts.appointment_id
            if a_id in chosen or (slot.id, a_id) in asked or not _fits(candidate, slot):
                continue
            if candidate.patient_id not in busy_cache:
                busy_cache[candidate.patient_id] = matching.busy_intervals(
                    session=session, patient_id=candidate.patient_id)
            if matching.overlaps(slot.start_at, slot.duration_minutes,
                                 busy_cache[candidate.patient_id]):
                continue
            chosen.add(a_id)
            end = slot.start_at + timedelta(minutes=slot.duration_minutes)
            busy_cache[candidate.patient_id].append((slot.start_at, end))
            pairs.append((slot, candidate))
            break
    return pairs


def _session_slots(*, session: Session, clinic_session_id: int) -> list[Slot]:
    clinic = session.get(ClinicSession, clinic_session_id)
    if clinic is None:
        raise NotFound(f"no clinic session {clinic_session_id}")
    return list(session.scalars(select(Slot).where(Slot.session_id == clinic.id)
                                .order_by(Slot.start_at, Slot.id)))


def propose(*, session: Session, clinic_session_id: int, now: datetime | None = None,
            min_notice: timedelta = matching.MIN_NOTICE) -> list[Proposal]:
    """Who the engine would offer each free slot of a session to, in priority order."""
    now = now or utcnow()
    today = localtime.local_today(now=now)
    pairs = _choose(session=session, slots=_session_slots(
        session=session, clinic_session_id=clinic_session_id), now=now, min_notice=min_notice)
    return [Proposal(slot.id, slot.start_at, c.facts.appointment_id, c.patient_id,
                     priority.reasons(c.facts, today)) for slot, c in pairs]


def _offer(*, session: Session, pairs: list[tuple[Slot, _Candidate]], now: datetime,
           hold_hours: int, actor: str) -> list[Offer]:
    offers = []
    for slot, candidate in pairs:
        appointment = session.get(Appointment, candidate.facts.appointment_id)
        offer = holds.hold(session=session, appointment=appointment, slot=slot,
                           expires_at=now + timedelta(hours=hold_hours),
                           source=CAPACITY_SOURCE, rank=1, now=now)
        if offer is None:
            continue
        appointments_service.change_status(
            session=session, appointment=appointment, to_status=AppointmentStatus.OFFERED,
            reason="offered a slot in a short-notice session", actor=actor,
            details={"slot_id": slot.id, "source": CAPACITY_SOURCE})
        offers.append(offer)
    session.flush()
    return offers


def approve(*, session: Session, clinic_session_id: int, actor: str,
            hold_hours: int = SENT_OFFER_HOURS, now: datetime | None = None,
            min_notice: timedelta = matching.MIN_NOTICE) -> list[Offer]:
    """Offer every free slot of a session to its proposed patient, most pressing first."""
    now = now or utcnow()
    slots = _session_slots(session=session, clinic_session_id=clinic_session_id)
    with session.begin_nested():
        pairs = _choose(session=session, slots=slots, now=now, min_notice=min_notice)
        return _offer(session=session, pairs=pairs, now=now, hold_hours=hold_hours, actor=actor)


def cascade(*, session: Session, slot_ids: list[int], now: datetime, actor: str = "system",
            hold_hours: int = SENT_OFFER_HOURS,
            min_notice: timedelta = matching.MIN_NOTICE) -> list[Offer]:
    """Offer freed short-notice slots to the next patient in line."""
    if not slot_ids:
        return []
    session.flush()
    slots = list(session.scalars(
        select(Slot).join(ClinicSession, ClinicSession.id == Slot.session_id)
        .where(Slot.id.in_(sorted(slot_ids)), ClinicSession.short_notice,
               Slot.status == SlotStatus.FREE)
        .execution_options(populate_existing=True)))
    pairs = _choose(session=session, slots=slots, now=now, min_notice=min_notice)
    return _offer(session=session, pairs=pairs, now=now, hold_hours=hold_hours, actor=actor)
