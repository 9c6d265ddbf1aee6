"""Which free slots an appointment may move to, and a patient's preferences.

A slot matches when it has the appointment's specialty, type and duration; its clinician when
the appointment needs a named one; a site with step-free access when the patient needs it; the
patient's days, times of day, sites and date range (Europe/London wall clock); starts at least
the minimum notice from now; and does not overlap anything else the patient is booked or held
for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from api.appointments.models import Appointment, AppointmentStatus
from api.reference.models import Site
from api.scheduling.errors import InvalidRequest
from api.scheduling.models import Offer, OfferStatus, Slot, SlotStatus
from api.system import localtime

MIN_NOTICE = timedelta(hours=48)
# Local start times: morning before 12:00, afternoon before 17:00, evening after.
TIMES_OF_DAY: dict[str, tuple[time, time]] = {
    "morning": (time(0, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time.max),
}
ACTIVE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.REBOOKED)


@dataclass
class Preferences:
    """What a patient asked for; every field is optional and empty means "any"."""

    weekdays: frozenset[int] | None = None  # allowed days, Monday 0 .. Sunday 6
    exclude_weekdays: frozenset[int] = field(default_factory=frozenset)
    time_of_day: str | None = None  # "morning", "afternoon" or "evening"
    earliest_date: date | None = None
    latest_date: date | None = None
    site_ids: frozenset[int] | None = None
    step_free_access: bool = False  # the patient needs a site with step-free access

    def __post_init__(self) -> None:
        if self.weekdays is not None:
            self.weekdays = frozenset(self.weekdays)
        self.exclude_weekdays = frozenset(self.exclude_weekdays or ())
        if self.site_ids is not None:
            self.site_ids = frozenset(self.site_ids)
        for day in (self.weekdays or frozenset()) | self.exclude_weekdays:
            if not 0 <= day <= 6:
                raise InvalidRequest(f"weekday must be 0 (Monday) to 6 (Sunday), not {day}")
        if self.time_of_day is not None and self.time_of_day not in TIMES_OF_DAY:
            raise InvalidRequest(f"time_of_day must be one of {', '.join(TIMES_OF_DAY)}")
        if self.earliest_date and self.latest_date and self.latest_date < self.earliest_date:
            raise InvalidRequest("latest_date is before earliest_date")

    def allows_local(self, local_start: datetime) -> bool:
        """True when a slot starting at this local wall-clock time suits the patient."""
        day = local_start.weekday()
        if self.weekdays is not None and day not in self.weekdays:
            return False
        if day in self.exclude_weekdays:
            return False
        if self.time_of_day is not None:
            low, high = TIMES_OF_DAY[self.time_of_day]
            if not low <= local_start.time() < high:
                return False
        if self.earliest_date and local_start.date() < self.earliest_date:
            return False
        return not (self.latest_date and local_start.date() > self.latest_date)


def overlaps(start: datetime, minutes: int, busy: Iterable[tuple[datetime, datetime]]) -> bool:
    end = start + timedelta(minutes=minutes)
    return any(start < b_end and b_start < end for b_start, b_end in busy)


def busy_intervals(*, session: Session, patient_id: int,
                   except_appointment_id: int | None = None) -> list[tuple[datetime, datetime]]:
    """When the patient is already booked, or has a slot held for another appointment."""
    booked = select(Slot.start_at, Slot.duration_minutes).join(
        Appointment, Appointment.slot_id == Slot.id
    ).where(Appointment.patient_id == patient_id, Appointment.status.in_(ACTIVE_STATUSES))
    held = select(Slot.start_at, Slot.duration_minutes).join(
        Offer, Offer.slot_id == Slot.id
    ).join(Appointment, Appointment.id == Offer.appointment_id).where(
        Appointment.patient_id == patient_id, Offer.status == OfferStatus.HELD
    )
    if except_appointment_id is not None:
        booked = booked.where(Appointment.id != except_appointment_id)
        held = held.where(Appointment.id != except_appointment_id)
    rows = list(session.execute(booked)) + list(session.execute(held))
    return [(start, start + timedelta(minutes=minutes)) for start, minutes in rows]


def slot_filter(appointment: Appointment) -> list:
    """SQL conditions for a slot of the same kind as the appointment (any status)."""
    conditions = [
        Slot.specialty_id == appointment.specialty_id,
        Slot.type == appointment.type,
        Slot.duration_minutes == appointment.duration_minutes,
    ]
    if appointment.requires_named_clinician and appointment.clinician_id is not None:
        conditions.append(Slot.clinician_id == appointment.clinician_id)
    return conditions


def matching_slots(*, session: Session, appointment: Appointment,
                   preferences: Preferences | None = None, now: datetime,
                   min_notice: timedelta = MIN_NOTICE, batch: int = 200) -> Iterator[Slot]:
    """Free slots that suit the appointment and the patient, earliest first."""
    prefs = preferences or Preferences()
    zone = localtime.patient_zone()
    query = select(Slot).where(
        *slot_filter(appointment),
        Slot.status == SlotStatus.FREE,
        Slot.start_at >= now + min_notice,
    )
    if prefs.earliest_date:
        query = query.where(Slot.start_at >= localtime.local_midnight(prefs.earliest_date))
    if prefs.latest_date:
        query = query.where(Slot.start_at < localtime.local_midnight(prefs.latest_date + timedelta(days=1)))
    if prefs.site_ids is not None:
        query = query.where(Slot.site_id.in_(sorted(prefs.site_ids)))
    if prefs.step_free_access:
        query = query.where(Slot.site_id.in_(select(Site.id).where(Site.step_free_access)))
    busy = busy_intervals(session=session, patient_id=appointment.patient_id,
                          except_appointment_id=appointment.id)
    # Keyset pagination: the slot table is large and most rows fail the wall-clock filters.
    after: tuple[datetime, int] | None = None
    while True:
        page = query
        if after is not None:
            page = page.where(or_(Slot.start_at > after[0],
                                  and_(Slot.start_at == after[0], Slot.id > after[1])))
        slots = list(session.scalars(page.order_by(Slot.start_at, Slot.id).limit(batch)))
        for slot in slots:
            if prefs.allows_local(slot.start_at.astimezone(zone)) and not overlaps(
                    slot.start_at, slot.duration_minutes, busy):
                yield slot
        if len(slots) < batch:
            return
        after = (slots[-1].start_at, slots[-1].id)


def spread(slots: list[Slot], n: int) -> list[Slot]:
    """Up to `n` slots, earliest first but on different days where possible.

    Three slots twenty minutes apart in one clinic are one choice, not three.
    """
    zone = localtime.patient_zone()
    seen_days: set[date] = set()
    first, rest = [], []
    for slot in slots:
        day = slot.start_at.astimezone(zone).date()
        (rest if day in seen_days else first).append(slot)
        seen_days.add(day)
    return (first + rest)[:n] if len(first) < n else first[:n]
