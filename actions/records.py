"""Read a patient's appointments and offers the way the dialogue needs them. No rasa_sdk here.

Reads only: every change goes through the app's services.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import wording
from api.appointments.models import AWAITING_DATE, Appointment, AppointmentStatus
from api.scheduling.models import Offer, Slot

# Appointments a patient still has ahead of them (awaiting a date, booked, or under review).
UPCOMING = (AppointmentStatus.BOOKED, AppointmentStatus.REBOOKED, AppointmentStatus.POSTPONED,
            AppointmentStatus.OFFERED, AppointmentStatus.PENDING_CLINICAL_REVIEW)
# Appointments a patient can still say they cannot come to.
CHANGEABLE = (AppointmentStatus.BOOKED, AppointmentStatus.REBOOKED, AppointmentStatus.POSTPONED,
              AppointmentStatus.OFFERED)


def _start(appointment: Appointment) -> datetime | None:
    return appointment.slot.start_at if appointment.slot is not None else None


def upcoming(*, session: Session, patient_id: int, now: datetime,
             statuses: tuple[AppointmentStatus, ...] = UPCOMING) -> list[Appointment]:
    """The patient's appointments still ahead, dated ones first by date, then the rest."""
    rows = session.scalars(
        select(Appointment).where(Appointment.patient_id == patient_id,
                                  Appointment.status.in_(statuses))
        .order_by(Appointment.id))
    found = [a for a in rows if _start(a) is None or _start(a) >= now]
    return sorted(found, key=lambda a: (_start(a) is None, _start(a) or now, a.id))


def appointment_of(*, session: Session, patient_id: int, appointment_id: Any
                   ) -> Appointment | None:
    """The appointment with this id if it is this patient's (slot values are untrusted)."""
    try:
        appointment = session.get(Appointment, int(appointment_id))
    except (TypeError, ValueError):
        return None
    return appointment if appointment is not None and appointment.patient_id == patient_id \
        else None


def is_awaiting(appointment: Appointment) -> bool:
    return appointment.status in AWAITING_DATE


def offer_entry(number: int, offer: Offer) -> dict[str, Any]:
    """One offer as the dialogue keeps it in the `offers` slot (what "the tuesday one" needs)."""
    slot: Slot = offer.slot
    start = wording.local(slot.start_at)
    part = "morning" if start.hour < 12 else "afternoon" if start.hour < 17 else "evening"
    return {
        "number": number, "offer_id": offer.id, "appointment_id": offer.appointment_id,
        "label": wording.slot_line(slot), "short": wording.when(slot.start_at),
        "date": start.date().isoformat(), "weekday": start.weekday(), "day": start.day,
        "hour": start.hour, "minute": start.minute, "part": part,
        "site_id": slot.site_id, "site_name": slot.site.name,
    }
