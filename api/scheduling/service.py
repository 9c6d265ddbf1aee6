"""Scheduling verbs: offers, booking, releasing holds, clinical review, the waiting-list order.

Each verb flushes and leaves the commit to its caller. Verbs that change several rows run in a
SAVEPOINT, so a refused request (a `SchedulingError`) leaves the caller's session as it was.
Disruptions, new capacity and the backlog plan live in their own modules and are re-exported
here, so callers need only `from api.scheduling import service as scheduling_service`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.appointments import service as appointments_service
from api.appointments.models import AWAITING_DATE, Appointment, AppointmentStatus
from api.db import utcnow
from api.patients.models import Patient
from api.reference.models import AppointmentType, Specialty
from api.scheduling import capacity, holds, matching, priority
from api.scheduling.capacity import add_clinic, approve, propose  # noqa: F401 - re-exported
from api.scheduling.disruptions import (  # noqa: F401 - re-exported
    PostponementRules,
    declare_disruption,
    postpone_disruption,
    preview_disruption,
)
from api.scheduling.errors import (  # noqa: F401 - re-exported for callers
    AlreadyBooked,
    Conflict,
    InvalidRequest,
    NotFound,
    NotYourOffer,
    OfferExpired,
    OfferNotOpen,
    SchedulingError,
    SlotTaken,
)
from api.scheduling.models import Offer, OfferStatus, Slot, SlotStatus
from api.scheduling.pas_changes import (  # noqa: F401 - re-exported
    book_for_pas,
    cancel_for_pas,
    free_slot_for_pas,
    postpone_for_pas,
    take_slot_for_pas,
    withdraw_offers,
)
from api.system import localtime

# How long the assistant holds the slots it offers (the patient is told this many minutes).
ASSISTANT_HOLD_MINUTES = 30
# How many matching slots to look at when choosing `limit` of them on different days.
_SCAN = 60


def _today(now: datetime):
    return localtime.local_today(now=now)


def _appointment(session: Session, appointment_id: int) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment {appointment_id}")
    return appointment


def facts_of(*, session: Session, appointment: Appointment) -> priority.Facts:
    """The ordering facts of one appointment."""
    vulnerable = session.scalar(select(Patient.vulnerable).where(
        Patient.id == appointment.patient_id))
    return priority.Facts(appointment.id, appointment.priority, appointment.pathway,
                          appointment.referral_date, appointment.breach_date,
                          appointment.times_postponed, bool(vulnerable))


def _release(*, session: Session, offers: list[Offer], status: OfferStatus, now: datetime,
             actor: str, reason: str, follow_up: bool = True) -> int:
    """Close offers, put their appointments back on the list, cascade freed capacity slots."""
    closed = holds.release(session=session, offers=offers, status=status, now=now)
    if follow_up:
        holds.reopen(session=session, appointment_ids={o.appointment_id for o in closed},
                     reason=reason, actor=actor)
        capacity.cascade(session=session, now=now, actor="system", slot_ids=[
            o.slot_id for o in closed if o.source == capacity.CAPACITY_SOURCE])
    return len(closed)


def held_for_patient(*, session: Session, patient_id: int) -> list[Offer]:
    """The patient's open offers, best first, whichever channel gave them."""
    return holds.held_for_patient(session=session, patient_id=patient_id)


def awaiting_date(*, session: Session, patient_id: int,
                  now: datetime | None = None) -> list[Appointment]:
    """The patient's postponed or offered appointments, most pressing first."""
    appointments = list(session.scalars(
        select(Appointment).where(Appointment.patient_id == patient_id,
                                  Appointment.status.in_(AWAITING_DATE))))
    vulnerable = bool(session.scalar(select(Patient.vulnerable).where(Patient.id == patient_id)))
    today = _today(now or utcnow())
    return sorted(appointments, key=lambda a: priority.sort_key(priority.Facts(
        a.id, a.priority, a.pathway, a.referral_date, a.breach_date, a.times_postponed,
        vulnerable), today))


def find_offers(*, session: Session, appointment_id: int,
                preferences: matching.Preferences | None = None, limit: int = 3,
                hold_minutes: int = ASSISTANT_HOLD_MINUTES, source: str = "assistant",
                now: datetime | None = None) -> list[Offer]:
    """Hold up to `limit` matching slots, on different days where possible, earliest first."""
    now = now or utcnow()
    if limit < 1 or hold_minutes < 1:
        raise InvalidRequest("limit and hold_minutes must be at least 1")
    appointment = _appointment(session, appointment_id)
    if appointment.status not in AWAITING_DATE:
        raise Conflict(f"appointment {appointment_id} is {appointment.status.value}; "
                       "only postponed appointments are offered new dates")
    with session.begin_nested():
        # Previous holds go first: they are this patient's, and may be what matches best.
        released = holds.held_offers(session=session, appointment_id=appointment.id)
        _release(session=session, offers=released, status=OfferStatus.WITHDRAWN, now=now,
                 actor=source, reason="new offers", follow_up=False)
        scanned = []
        for slot in matching.matching_slots(session=session, appointment=appointment,
                                            preferences=preferences, now=now):
            scanned.append(slot)
            if len(scanned) >= _SCAN:
                break
        offers: list[Offer] = []
        picked = matching.spread(scanned, len(scanned))
        expires_at = now + timedelta(minutes=hold_minutes)
        while picked and len(offers) < limit:
            chunk, picked = picked[:limit - len(offers)], picked[limit - len(offers):]
            free = holds.lock_free(session=session, slot_ids=[slot.id for slot in chunk])
            for slot in chunk:
                if slot.id not in free:
                    continue
                offer = holds.hold(session=session, appointment=appointment, slot=slot,
                                   expires_at=expires_at, source=source, rank=0, now=now)
                if offer is not None:
                    offers.append(offer)
        by_slot = {s.id: s for s in scanned}
        offers.sort(key=lambda o: (by_slot[o.slot_id].start_at, o.slot_id))
        for rank, offer in enumerate(offers, start=1):
            offer.rank = rank
        session.flush()
        if offers and appointment.status is AppointmentStatus.POSTPONED:
            appointments_service.change_status(
                session=session, appointment=appointment, to_status=AppointmentStatus.OFFERED,
                reason=f"{len(offers)} slot(s) offered", actor=source,
                details={"offer_ids": [o.id for o in offers]})
        elif not offers and appointment.status is AppointmentStatus.OFFERED:
            appointments_service.change_status(
                session=session, appointment=appointment, to_status=AppointmentStatus.POSTPONED,
                reason="no matching slot to offer", actor=source)
        # A short-notice slot this patient no longer holds goes to the next in line.
        capacity.cascade(session=session, now=now, slot_ids=[
            o.slot_id for o in released if o.source == capacity.CAPACITY_SOURCE])
    return offers


def book_offer(*, session: Session, offer_id: int, patient_id: int, actor: str = "assistant",
               now: datetime | None = None) -> Appointment:
    """Book the slot an offer holds: the appointment is REBOOKED, its other offers released."""
    now = now or utcnow()
    offer = session.get(Offer, offer_id, populate_existing=True)
    if offer is None:
        raise NotFound(f"no offer {offer_id}")
    appointment = _appointment(session, offer.appointment_id)
    if appointment.patient_id != patient_id:
        raise NotYourOffer("this offer is for another patient")
    if offer.status is OfferStatus.EXPIRED or (
            offer.status is OfferStatus.HELD and offer.expires_at <= now):
        if offer.status is OfferStatus.HELD:
            _release(session=session, offers=[offer], status=OfferStatus.EXPIRED, now=now,
                     actor=actor, reason="offer expired")
        raise OfferExpired("this offer has expired; ask for new dates")
    if offer.status is not OfferStatus.HELD:
        raise OfferNotOpen(f"this offer was already {offer.status.value}")
    try:
        with session.begin_nested():
            _book(session=session, offer=offer, appointment=appointment, patient_id=patient_id,
                  actor=actor, now=now)
    except SlotTaken:
        # The hold was lost (only possible if a slot was double-offered): close the dead offer.
        _release(session=session, offers=[offer], status=OfferStatus.WITHDRAWN, now=now,
                 actor=actor, reason="slot taken by another patient")
        raise
    return appointment


def _book(*, session: Session, offer: Offer, appointment: Appointment, patient_id: int,
          actor: str, now: datetime) -> None:
    # One patient's bookings queue behind each other (a row lock on PostgreSQL; SQLite's
    # BEGIN IMMEDIATE already admits one writer), so two at once cannot overlap.
    session.execute(select(Patient.id).where(Patient.id == patient_id).with_for_update())
    slot = session.get(Slot, offer.slot_id, populate_existing=True)
    busy = matching.busy_intervals(session=session, patient_id=patient_id,
                                   except_appointment_id=appointment.id)
    if matching.overlaps(slot.start_at, slot.duration_minutes, busy):
        raise AlreadyBooked("the patient already has an appointment at that time")
    accepted = session.execute(
        update(Offer).where(Offer.id == offer.id, Offer.status == OfferStatus.HELD,
                            Offer.expires_at > now)
        .values(status=OfferStatus.ACCEPTED, decided_at=now)
        .execution_options(synchronize_session=False))
    if accepted.rowcount != 1:
        raise OfferNotOpen("this offer was closed a moment ago")
    if not holds.move_slot(session=session, slot_id=slot.id, from_status=SlotStatus.HELD,
                           to_status=SlotStatus.BOOKED):
        raise SlotTaken("that slot has just been taken")
    claimed = session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.slot_id.is_(None),
               Appointment.status.in_(AWAITING_DATE))
        .values(slot_id=slot.id, site_id=slot.site_id, clinician_id=(
            appointment.clinician_id if appointment.requires_named_clinician
            else slot.clinician_id))
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise AlreadyBooked("this appointment has been booked already")
    session.refresh(appointment)
    session.expire(offer, ["status", "decided_at"])
    appointments_service.change_status(
        session=session, appointment=appointment, to_status=AppointmentStatus.REBOOKED,
        reason="patient accepted an offer", actor=actor,
        details={"offer_id": offer.id, "source": offer.source})
    others = [o for o in holds.held_offers(session=session, appointment_id=appointment.id)
              if o.id != offer.id]
    _release(session=session, offers=others, status=OfferStatus.WITHDRAWN, now=now,
             actor=actor, reason="another offer accepted", follow_up=False)
    capacity.cascade(session=session, now=now, slot_ids=[
        o.slot_id for o in others if o.source == capacity.CAPACITY_SOURCE])
    session.flush()


def decline_offers(*, session: Session, appointment_id: int, actor: str,
                   now: datetime | None = None) -> int:
    """Release the appointment's open offers as declined; it goes back to POSTPONED."""
    now = now or utcnow()
    appointment = _appointment(session, appointment_id)
    reason = "patient declined the offered dates"
    with session.begin_nested():
        released = _release(session=session, offers=holds.held_offers(
            session=session, appointment_id=appointment.id), status=OfferStatus.DECLINED,
            now=now, actor=actor, reason=reason)
        # Also when nothing was open any more (the offers lapsed): back on the list.
        holds.reopen(session=session, appointment_ids={appointment.id}, reason=reason,
                     actor=actor)
    return released


def release_expired_holds(*, session: Session, now: datetime | None = None,
                          batch: int = 1000) -> int:
    """Expire every open offer past its expiry, free its slot and cascade; returns how many."""
    now = now or utcnow()
    total = 0
    while True:
        offers = list(session.scalars(
            select(Offer).where(Offer.status == OfferStatus.HELD, Offer.expires_at <= now)
            .order_by(Offer.expires_at, Offer.id).limit(batch)))
        if not offers:
            return total
        with session.begin_nested():
            total += _release(session=session, offers=offers, status=OfferStatus.EXPIRED,
                              now=now, actor="system", reason="offer expired")
        if len(offers) < batch:
            return total


def send_to_clinical_review(*, session: Session, appointment_id: int, reason: str, actor: str,
                            now: datetime | None = None) -> Appointment:
    """Release the appointment's slot or holds and put it in front of a clinician to decide."""
    now = now or utcnow()
    appointment = _appointment(session, appointment_id)
    if appointment.status is AppointmentStatus.PENDING_CLINICAL_REVIEW:
        return appointment
    if AppointmentStatus.PENDING_CLINICAL_REVIEW not in appointments_service.ALLOWED_TRANSITIONS[
            appointment.status]:
        raise Conflict(f"appointment {appointment_id} is {appointment.status.value} already")
    with session.begin_nested():
        _release(session=session, offers=holds.held_offers(
            session=session, appointment_id=appointment.id), status=OfferStatus.WITHDRAWN,
            now=now, actor=actor, reason="sent to clinical review", follow_up=False)
        freed = appointment.slot_id
        appointments_service.change_status(
            session=session, appointment=appointment,
            to_status=AppointmentStatus.PENDING_CLINICAL_REVIEW, reason=reason, actor=actor)
        if freed is not None:
            # The slot goes back to the pool; the history event above keeps which one it was.
            holds.move_slot(session=session, slot_id=freed, from_status=SlotStatus.BOOKED,
                            to_status=SlotStatus.FREE)
            appointment.slot_id = None
        session.flush()
    return appointment


def queue(*, session: Session, specialty_id: int, appointment_type: AppointmentType,
          now: datetime | None = None) -> list[priority.Facts]:
    """Everyone waiting for a date in one specialty and type, most pressing first."""
    rows = session.execute(
        select(Appointment.id, Appointment.priority, Appointment.pathway,
               Appointment.referral_date, Appointment.breach_date, Appointment.times_postponed,
               Patient.vulnerable)
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(Appointment.status.in_(AWAITING_DATE), Appointment.specialty_id == specialty_id,
               Appointment.type == appointment_type))
    return priority.order([priority.Facts(*row[:6], bool(row[6])) for row in rows],
                          _today(now or utcnow()))


def explain_position(*, session: Session, appointment_id: int,
                     now: datetime | None = None) -> str:
    """One sentence saying why the appointment is where it is in its queue."""
    now = now or utcnow()
    appointment = _appointment(session, appointment_id)
    facts = facts_of(session=session, appointment=appointment)
    specialty = session.get(Specialty, appointment.specialty_id)
    kind = {AppointmentType.OUTPATIENT: "outpatient appointments",
            AppointmentType.PROCEDURE: "procedures",
            AppointmentType.THEATRE: "operations"}[appointment.type]
    label = f"{specialty.name} {kind}"
    if appointment.status not in AWAITING_DATE:
        sentence = priority.reasons(facts, _today(now))
        return (f"{sentence[0].upper()}{sentence[1:]}; not waiting for a date "
                f"({appointment.status.value.replace('_', ' ')}).")
    ordered = queue(session=session, specialty_id=appointment.specialty_id,
                    appointment_type=appointment.type, now=now)
    position = next(i for i, f in enumerate(ordered, start=1)
                    if f.appointment_id == facts.appointment_id)
    return priority.explain(facts, today=_today(now), position=position, total=len(ordered),
                            queue=label)
