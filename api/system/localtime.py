"""The patient's time zone (settings.patient_timezone, Europe/London) in one place.

Every instant is stored and compared in UTC (api.db.utcnow, UTCDateTime); this module turns
instants into the wall-clock time and date a patient or the bookings team reads, and back.
zoneinfo does the daylight-saving arithmetic, so "today" and "midnight" are right on the days
the clocks change. Without `settings`, the process's settings (get_settings) are read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from api.config import Settings, get_settings
from api.db import utcnow


def patient_zone(settings: Settings | None = None) -> ZoneInfo:
    """The trust's patient time zone (ZoneInfo caches one instance per name)."""
    return ZoneInfo((settings or get_settings()).patient_timezone)


def to_local(moment: datetime, settings: Settings | None = None) -> datetime:
    """An aware instant as the patient's wall-clock time."""
    return moment.astimezone(patient_zone(settings))


def local_today(settings: Settings | None = None, *, now: datetime | None = None) -> date:
    """The patient's calendar date at `now` (default: this instant)."""
    return to_local(now or utcnow(), settings).date()


def local_midnight(day: date, settings: Settings | None = None) -> datetime:
    """The UTC instant the patient's `day` begins."""
    return at_local(day, time(0, 0), settings)


def at_local(day: date, clock: time, settings: Settings | None = None) -> datetime:
    """A wall-clock time on a date in the patient's zone, as an aware UTC instant."""
    return datetime.combine(day, clock, tzinfo=patient_zone(settings)).astimezone(UTC)


def assume_local(moment: datetime, settings: Settings | None = None) -> datetime:
    """`moment` unchanged if it has an offset, else read as the patient's wall-clock time."""
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=patient_zone(settings))
