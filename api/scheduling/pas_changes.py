"""Changes the hospital's PAS makes to capacity and appointments, applied to the engine.

The PAS is the trust's record: what it books, blocks or cancels wins over an offer Rebook is
holding. Each verb withdraws the offers the change makes impossible (so a slot booked in the
PAS is never offered again) and returns how many it withdrew. Slot moves are conditional
UPDATEs like every other (`holds.move_slot`), so they are safe beside concurrent bookings.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments import service as appointments_service
from api.appointments.models import Appointment, AppointmentStatus
from api.scheduling import holds
from api.scheduling.errors import NotFound
from api.scheduling.models import Offer, OfferStatus, Slot, SlotStatus


def _appointment(session: Session, appointment_id: int) -> Appointment:
    appointment = session.get(Appointment, appointment_id, populate_existing=True)
    if appointment is None:
        raise NotFound(f"no appointment {appointment_id}")
    return appointment


def withdraw_offers(*, session: Session, appointment_id: int, reason: str, actor: str,
                    now: datetime) -> int:
    """Withdraw the appointment's open offers; it goes back to POSTPONED if it was OFFERED."""
    closed = holds.release(session=session, offers=holds.held_offers(
        session=session, appointment_id=appointment_id), status=OfferStatus.WITHDRAWN, now=now)
    holds.reopen(session=session, appointment_ids={appointment_id}, reason=reason, actor=actor)
    return len(closed)


def take_slot_for_pas(*, session: Session, slot_id: int, to_status: SlotStatus, reason: str,
                      actor: str, now: datetime) -> int:
    """The PAS booked or blocked a slot: withdraw any offer holding it, then mark it so."""
    offers = list(session.scalars(select(Offer).where(Offer.slot_id == slot_id,
                                                      Offer.status == OfferStatus.HELD)))
    closed = holds.release(session=session, offers=offers, status=OfferStatus.WITHDRAWN, now=now)
    holds.reopen(session=session, appointment_ids={o.appointment_id for o in closed},
                 reason=reason, actor=actor)
    for from_status in (SlotStatus.FREE, SlotStatus.BLOCKED, SlotStatus.BOOKED):
        if from_status is to_status or holds.move_slot(
                session=session, slot_id=slot_id, from_status=from_status, to_status=to_status):
            break
    return len(closed)


def free_slot_for_pas(*, session: Session, slot_id: int) -> None:
    """The PAS freed a slot (a cancellation there, a clinic reinstated): it may be offered."""
    for from_status in (SlotStatus.BLOCKED, SlotStatus.BOOKED):
        if holds.move_slot(session=session, slot_id=slot_id, from_status=from_status,
                           to_status=SlotStatus.FREE):
            return


def book_for_pas(*, session: Session, appointment_id: int, slot_id: int, reason: str,
                 actor: str, now: datetime) -> int:
    """The PAS booked (or moved) an appointment into `slot_id`: its offers are withdrawn,
    a slot it held before is freed, and it is REBOOKED (or stays booked, history noted)."""
    appointment = _appointment(session, appointment_id)
    closed = holds.release(session=session, offers=holds.held_offers(
        session=session, appointment_id=appointment_id), status=OfferStatus.WITHDRAWN, now=now)
    previous = appointment.slot_id
    if previous is not None and previous != slot_id:
        free_slot_for_pas(session=session, slot_id=previous)
    slot = session.get(Slot, slot_id)
    appointment.slot_id = slot_id
    appointment.site_id = slot.site_id
    if not appointment.requires_named_clinician:
        appointment.clinician_id = slot.clinician_id
    if appointment.status in (AppointmentStatus.BOOKED, AppointmentStatus.REBOOKED):
        appointments_service.note(session=session, appointment=appointment,
                                  reason=f"moved: {reason}", actor=actor,
                                  details={"from_slot_id": previous})
    else:
        to_status = (AppointmentStatus.BOOKED
                     if appointment.status is AppointmentStatus.PENDING_CLINICAL_REVIEW
                     else AppointmentStatus.REBOOKED)
        appointments_service.change_status(session=session, appointment=appointment,
                                           to_status=to_status, reason=reason, actor=actor)
    session.flush()
    return len(closed)


def postpone_for_pas(*, session: Session, appointment_id: int, reason: str, actor: str,
                     disruption_id: int | None) -> None:
    """The PAS took a booked appointment's date away: POSTPONED, its slot blocked (a
    cancelled clinic is not offered to anyone else; the PAS frees it if it is free)."""
    appointment = _appointment(session, appointment_id)
    slot_id = appointment.slot_id
    appointments_service.change_status(session=session, appointment=appointment,
                                       to_status=AppointmentStatus.POSTPONED, reason=reason,
                                       actor=actor)
    appointment.slot_id = None
    appointment.disruption_id = disruption_id or appointment.disruption_id
    if slot_id is not None:
        holds.move_slot(session=session, slot_id=slot_id, from_status=SlotStatus.BOOKED,
                        to_status=SlotStatus.BLOCKED)
    session.flush()


def cancel_for_pas(*, session: Session, appointment_id: int, reason: str, actor: str,
                   now: datetime) -> int:
    """The PAS cancelled an appointment: offers withdrawn, its slot freed, CANCELLED."""
    appointment = _appointment(session, appointment_id)
    closed = holds.release(session=session, offers=holds.held_offers(
        session=session, appointment_id=appointment_id), status=OfferStatus.WITHDRAWN, now=now)
    slot_id = appointment.slot_id
    appointments_service.change_status(session=session, appointment=appointment,
                                       to_status=AppointmentStatus.CANCELLED, reason=reason,
                                       actor=actor)
    if slot_id is not None:
        appointment.slot_id = None
        free_slot_for_pas(session=session, slot_id=slot_id)
    session.flush()
    return len(closed)
