"""Declaring a disruption, previewing what it touches, and postponing by adjustable rules.

An appointment is affected when it is booked into a slot that starts inside the disruption, in
one of its specialties (none listed: every specialty) at one of its sites (none listed: every
site). The rules then keep or postpone each one; by default P1a, P1b and suspected-cancer care
(both cancer pathways) goes ahead and everything else is postponed. Postponing is
all-or-nothing: it runs in one SAVEPOINT and a refused request changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.appointments import service as appointments_service
from api.appointments.models import Appointment, AppointmentStatus, Pathway, Priority
from api.db import utcnow
from api.reference.models import Site, Specialty
from api.scheduling import holds
from api.scheduling.errors import InvalidRequest, NotFound
from api.scheduling.models import Disruption, Offer, OfferStatus, Slot, SlotStatus

DEFAULT_KEEP_PRIORITIES = frozenset({Priority.P1A, Priority.P1B, Priority.SUSPECTED_CANCER})
DEFAULT_KEEP_PATHWAYS = frozenset({Pathway.CANCER_FDS, Pathway.CANCER_62})
BOOKED_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.REBOOKED)


@dataclass
class PostponementRules:
    """Which affected appointments go ahead; staff adjust these before postponing."""

    keep_priorities: frozenset[Priority] = DEFAULT_KEEP_PRIORITIES
    keep_pathways: frozenset[Pathway] = DEFAULT_KEEP_PATHWAYS
    keep_appointment_ids: frozenset[int] = field(default_factory=frozenset)
    postpone_appointment_ids: frozenset[int] = field(default_factory=frozenset)
    # Withdraw the disrupted sessions' free slots too, so nobody is offered a strike-day slot.
    block_free_slots: bool = True

    def __post_init__(self) -> None:
        self.keep_priorities = frozenset(Priority(p) for p in self.keep_priorities)
        self.keep_pathways = frozenset(Pathway(p) for p in self.keep_pathways)
        self.keep_appointment_ids = frozenset(self.keep_appointment_ids)
        self.postpone_appointment_ids = frozenset(self.postpone_appointment_ids)
        both = self.keep_appointment_ids & self.postpone_appointment_ids
        if both:
            raise InvalidRequest(f"appointments {sorted(both)} are both kept and postponed")

    def decide(self, appointment: Appointment) -> tuple[bool, str]:
        """(postpone?, why) for one affected appointment."""
        if appointment.id in self.postpone_appointment_ids:
            return True, "postponed by staff decision"
        if appointment.id in self.keep_appointment_ids:
            return False, "kept by staff decision"
        if appointment.priority in self.keep_priorities:
            return False, f"kept: priority {appointment.priority.value}"
        if appointment.pathway in self.keep_pathways:
            return False, f"kept: {appointment.pathway.value} cancer pathway"
        return True, f"postponed: priority {appointment.priority.value}"


@dataclass(frozen=True)
class Decision:
    appointment_id: int
    patient_id: int
    start_at: datetime
    specialty_id: int
    priority: Priority
    postpone: bool
    why: str


@dataclass(frozen=True)
class PostponeResult:
    disruption_id: int
    postponed: int
    kept: int
    slots_blocked: int
    offers_withdrawn: int


def declare_disruption(*, session: Session, name: str, starts_at: datetime, ends_at: datetime,
                       staff_group: str, specialty_codes: list[str] | None = None,
                       site_codes: list[str] | None = None,
                       reason: str = "industrial action",
                       now: datetime | None = None) -> Disruption:
    """Record a period of industrial action and what it touches (no appointment changes yet)."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidRequest("give the start and end with a timezone")
    if ends_at <= starts_at:
        raise InvalidRequest("the disruption ends before it starts")
    if not name.strip() or not staff_group.strip():
        raise InvalidRequest("name and staff_group are required")
    specialties = _by_code(session, Specialty, specialty_codes or [], "specialty")
    sites = _by_code(session, Site, site_codes or [], "site")
    disruption = Disruption(name=name.strip(), starts_at=starts_at, ends_at=ends_at,
                            staff_group=staff_group.strip(), reason=reason,
                            created_at=now or utcnow(), specialties=specialties, sites=sites)
    session.add(disruption)
    session.flush()
    return disruption


def _by_code(session: Session, model, codes: list[str], noun: str) -> list:
    rows = list(session.scalars(select(model).where(model.code.in_(codes)))) if codes else []
    unknown = sorted(set(codes) - {row.code for row in rows})
    if unknown:
        raise InvalidRequest(f"unknown {noun} code(s): {', '.join(unknown)}")
    return rows


def get_disruption(*, session: Session, disruption_id: int) -> Disruption:
    """The disruption, or NotFound."""
    disruption = session.get(Disruption, disruption_id)
    if disruption is None:
        raise NotFound(f"no disruption {disruption_id}")
    return disruption


def _window(disruption: Disruption) -> list:
    conditions = [Slot.start_at >= disruption.starts_at, Slot.start_at < disruption.ends_at]
    if disruption.specialties:
        conditions.append(Slot.specialty_id.in_([s.id for s in disruption.specialties]))
    if disruption.sites:
        conditions.append(Slot.site_id.in_([s.id for s in disruption.sites]))
    return conditions


def _affected(session: Session, disruption: Disruption) -> list[tuple[Appointment, Slot]]:
    return [(appointment, slot) for appointment, slot in session.execute(
        select(Appointment, Slot).join(Slot, Appointment.slot_id == Slot.id)
        .where(*_window(disruption), Appointment.status.in_(BOOKED_STATUSES))
        .order_by(Slot.start_at, Appointment.id))]


def preview_disruption(*, session: Session, disruption_id: int,
                       rules: PostponementRules | None = None) -> list[Decision]:
    """Every appointment the disruption affects and what the rules would do with it."""
    rules = rules or PostponementRules()
    disruption = get_disruption(session=session, disruption_id=disruption_id)
    decisions = []
    for appointment, slot in _affected(session, disruption):
        postpone, why = rules.decide(appointment)
        decisions.append(Decision(appointment.id, appointment.patient_id, slot.start_at,
                                  appointment.specialty_id, appointment.priority, postpone, why))
    return decisions


def postpone_disruption(*, session: Session, disruption_id: int, actor: str,
                        rules: PostponementRules | None = None,
                        now: datetime | None = None) -> PostponeResult:
    """Postpone the affected appointments the rules do not keep, with reasons and history."""
    rules = rules or PostponementRules()
    now = now or utcnow()
    disruption = get_disruption(session=session, disruption_id=disruption_id)
    with session.begin_nested():
        affected = _affected(session, disruption)
        named = rules.keep_appointment_ids | rules.postpone_appointment_ids
        strangers = named - {appointment.id for appointment, _ in affected}
        if strangers:
            raise InvalidRequest(
                f"appointment(s) {sorted(strangers)} are not affected by this disruption")
        postponed = kept = 0
        reason = f"{disruption.reason}: {disruption.name}"
        postponed_slots = []
        for appointment, slot in affected:
            postpone, why = rules.decide(appointment)
            if not postpone:
                kept += 1
                continue
            appointments_service.change_status(
                session=session, appointment=appointment, to_status=AppointmentStatus.POSTPONED,
                reason=reason, actor=actor,
                details={"disruption_id": disruption.id, "rule": why})
            appointment.disruption_id = disruption.id
            appointment.slot_id = None
            postponed_slots.append(slot.id)
            postponed += 1
        session.flush()
        # Open offers on slots inside the disruption are withdrawn: those clinics are not running.
        in_window = select(Slot.id).where(*_window(disruption))
        open_offers = list(session.scalars(select(Offer).where(
            Offer.status == OfferStatus.HELD, Offer.slot_id.in_(in_window))))
        withdrawn = holds.release(session=session, offers=open_offers,
                                  status=OfferStatus.WITHDRAWN, now=now)
        holds.reopen(session=session, appointment_ids={o.appointment_id for o in withdrawn},
                     reason=f"offered slot withdrawn: {disruption.name}", actor=actor)
        blocked = 0
        # The postponed patients' clinics are not running: their slots are withdrawn too.
        for slot_id in postponed_slots:
            blocked += holds.move_slot(session=session, slot_id=slot_id,
                                       from_status=SlotStatus.BOOKED, to_status=SlotStatus.BLOCKED)
        if rules.block_free_slots:
            blocked += session.execute(
                update(Slot).where(*_window(disruption), Slot.status == SlotStatus.FREE)
                .values(status=SlotStatus.BLOCKED, version=Slot.version + 1)
                .execution_options(synchronize_session=False)).rowcount
            session.expire_all()
        session.flush()
    return PostponeResult(disruption.id, postponed, kept, blocked, len(withdrawn))
