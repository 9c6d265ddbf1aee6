"""The planner's store: a disruption's problem read from the database, a plan sent as offers."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments import service as appointments_service
from api.appointments.models import Appointment, AppointmentStatus, Priority
from api.db import utcnow
from api.patients.models import Patient
from api.scheduling import holds, matching, priority
from api.scheduling.errors import NotFound
from api.scheduling.models import Disruption, Slot, SlotStatus
from api.scheduling.planning.model import Need, Opening, Plan, Problem
from api.system import localtime

PLAN_SOURCE = "plan"


def load_problem(*, session: Session, disruption_id: int, now: datetime | None = None,
                 min_notice: timedelta = matching.MIN_NOTICE) -> Problem:
    """The disruption's postponed appointments and every free slot that could take them."""
    now = now or utcnow()
    if session.get(Disruption, disruption_id) is None:
        raise NotFound(f"no disruption {disruption_id}")
    zone = localtime.patient_zone()
    today = now.astimezone(zone).date()
    rows = session.execute(
        select(Appointment.id, Appointment.patient_id, Appointment.specialty_id,
               Appointment.type, Appointment.duration_minutes,
               Appointment.requires_named_clinician, Appointment.clinician_id,
               Appointment.priority, Appointment.pathway, Appointment.referral_date,
               Appointment.breach_date, Appointment.times_postponed, Patient.vulnerable)
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(Appointment.disruption_id == disruption_id,
               Appointment.status == AppointmentStatus.POSTPONED))
    needs = []
    kinds = set()
    for (a_id, p_id, specialty_id, a_type, minutes, named, clinician_id, prio, pathway,
         referral, breach, times, vulnerable) in rows:
        facts = priority.Facts(a_id, prio, pathway, referral, breach, times, bool(vulnerable))
        kind = (specialty_id, a_type, minutes)
        kinds.add(kind)
        needs.append(Need(a_id, p_id, kind, clinician_id if named else None,
                          priority.TIER[Priority(prio)], (breach - today).days,
                          priority.sort_key(facts, today)))
    openings = []
    specialties = sorted({k[0] for k in kinds})
    if specialties:
        for slot_id, specialty_id, s_type, minutes, clinician_id, start_at in session.execute(
                select(Slot.id, Slot.specialty_id, Slot.type, Slot.duration_minutes,
                       Slot.clinician_id, Slot.start_at)
                .where(Slot.status == SlotStatus.FREE, Slot.start_at >= now + min_notice,
                       Slot.specialty_id.in_(specialties))):
            kind = (specialty_id, s_type, minutes)
            if kind in kinds:
                openings.append(Opening(
                    slot_id, kind, clinician_id, (start_at.astimezone(zone).date() - today).days,
                    int((start_at - now).total_seconds() // 60), minutes))
    return Problem(needs, openings, _busy(session, disruption_id, now))


def _busy(session: Session, disruption_id: int, now: datetime) -> dict[int, list[tuple[int, int]]]:
    """Patients already booked elsewhere: a plan must not overlap those appointments either."""
    waiting = select(Appointment.patient_id).where(
        Appointment.disruption_id == disruption_id,
        Appointment.status == AppointmentStatus.POSTPONED)
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for patient_id, start_at, minutes in session.execute(
            select(Appointment.patient_id, Slot.start_at, Slot.duration_minutes)
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(Appointment.patient_id.in_(waiting), Slot.start_at >= now,
                   Appointment.status.in_(matching.ACTIVE_STATUSES))):
        start = int((start_at - now).total_seconds() // 60)
        busy[patient_id].append((start, start + minutes))
    return dict(busy)


def apply_plan(*, session: Session, plan: Plan, actor: str, hold_hours: int = 24,
               now: datetime | None = None) -> int:
    """Send the plan as offers: each slot held for its appointment for `hold_hours`."""
    now = now or utcnow()
    made = 0
    with session.begin_nested():
        for appointment_id, slot_id in sorted(plan.assignment.items()):
            appointment = session.get(Appointment, appointment_id)
            slot = session.get(Slot, slot_id)
            if appointment is None or appointment.status is not AppointmentStatus.POSTPONED:
                continue
            if matching.overlaps(slot.start_at, slot.duration_minutes, matching.busy_intervals(
                    session=session, patient_id=appointment.patient_id,
                    except_appointment_id=appointment.id)):
                continue
            offer = holds.hold(session=session, appointment=appointment, slot=slot,
                               expires_at=now + timedelta(hours=hold_hours), source=PLAN_SOURCE,
                               rank=1, now=now)
            if offer is None:
                continue
            appointments_service.change_status(
                session=session, appointment=appointment, to_status=AppointmentStatus.OFFERED,
                reason="offered a date from the backlog plan", actor=actor,
                details={"slot_id": slot_id, "plan": plan.method})
            made += 1
        session.flush()
    return made
