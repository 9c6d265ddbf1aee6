"""Holding and releasing slots for offers.

Every slot status change here is a conditional UPDATE (on the status it must still have, with
the version bumped), so two processes can never both hold, book or free one slot: the loser's
UPDATE matches no row and it moves on. That works the same on PostgreSQL (row locks, then the
WHERE is re-checked) and SQLite (one writer at a time).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.appointments import service as appointments_service
from api.appointments.models import Appointment, AppointmentStatus
from api.scheduling.models import Offer, OfferStatus, Slot, SlotStatus


def move_slot(*, session: Session, slot_id: int, from_status: SlotStatus,
              to_status: SlotStatus) -> bool:
    """Change a slot's status only if it still has `from_status`; True when it did."""
    result = session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.status == from_status)
        .values(status=to_status, version=Slot.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        cached = session.identity_map.get(session.identity_key(Slot, slot_id))
        if cached is not None:
            session.expire(cached, ["status", "version"])
        return True
    return False


def lock_free(*, session: Session, slot_ids: list[int]) -> set[int]:
    """Lock those of `slot_ids` that are free and not being taken right now by another request.

    SKIP LOCKED on PostgreSQL: a slot another transaction is holding or booking is passed
    over instead of waited for, so concurrent offer searches never queue or deadlock on each
    other. SQLite has no row locks (one writer at a time) and ignores the clause.
    """
    if not slot_ids:
        return set()
    return set(session.scalars(
        select(Slot.id).where(Slot.id.in_(slot_ids), Slot.status == SlotStatus.FREE)
        .with_for_update(skip_locked=True)))


def hold(*, session: Session, appointment: Appointment, slot: Slot, expires_at: datetime,
         source: str, rank: int, now: datetime) -> Offer | None:
    """Hold a free slot for an appointment; None when somebody else got it first."""
    if not move_slot(session=session, slot_id=slot.id, from_status=SlotStatus.FREE,
                     to_status=SlotStatus.HELD):
        return None
    offer = Offer(appointment_id=appointment.id, slot_id=slot.id, status=OfferStatus.HELD,
                  source=source, rank=rank, expires_at=expires_at, created_at=now)
    session.add(offer)
    return offer


def held_offers(*, session: Session, appointment_id: int) -> list[Offer]:
    """The appointment's open offers, best first."""
    return list(session.scalars(
        select(Offer).where(Offer.appointment_id == appointment_id,
                            Offer.status == OfferStatus.HELD).order_by(Offer.rank, Offer.id)))


def release(*, session: Session, offers: list[Offer], status: OfferStatus,
            now: datetime) -> list[Offer]:
    """Close open offers with `status` and free their slots; returns those this call closed."""
    session.flush()
    closed = []
    for offer in offers:
        result = session.execute(
            update(Offer)
            .where(Offer.id == offer.id, Offer.status == OfferStatus.HELD)
            .values(status=status, decided_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            continue  # closed meanwhile by another request
        session.expire(offer, ["status", "decided_at"])
        move_slot(session=session, slot_id=offer.slot_id, from_status=SlotStatus.HELD,
                  to_status=SlotStatus.FREE)
        closed.append(offer)
    return closed


def reopen(*, session: Session, appointment_ids: set[int], reason: str, actor: str) -> None:
    """Put OFFERED appointments with no open offer left back to POSTPONED."""
    if not appointment_ids:
        return
    session.flush()
    still_held = set(session.scalars(
        select(Offer.appointment_id).where(Offer.appointment_id.in_(sorted(appointment_ids)),
                                           Offer.status == OfferStatus.HELD)))
    for appointment_id in sorted(appointment_ids - still_held):
        appointment = session.get(Appointment, appointment_id, populate_existing=True)
        if appointment is not None and appointment.status is AppointmentStatus.OFFERED:
            appointments_service.change_status(
                session=session, appointment=appointment, to_status=AppointmentStatus.POSTPONED,
                reason=reason, actor=actor)



def held_for_patient(*, session: Session, patient_id: int) -> list[Offer]:
    """Every open offer of the patient's appointments, best first (what they were last given,
    by whichever channel: a call's options texted on, a staff reply)."""
    return list(session.scalars(
        select(Offer).join(Appointment, Appointment.id == Offer.appointment_id)
        .where(Appointment.patient_id == patient_id, Offer.status == OfferStatus.HELD)
        .order_by(Offer.rank, Offer.id)))
