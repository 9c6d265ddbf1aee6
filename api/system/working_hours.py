"""The bookings team's working hours: one calendar for the whole product.

Working time is Monday to Friday between `settings.working_hours_start` and
`settings.working_hours_end` (wall-clock time in Europe/London, `settings.patient_timezone`),
except England's bank holidays. The bank holidays come from the maintained `holidays` package
(`holidays.UK(subdiv="ENG")`, computed offline for any year, substitute days included), so no
list is kept by hand here. Handover due times and the out-of-hours on-call alert both ask this
module; nothing else decides whether the team is at work.

Instants go in and come out as aware UTC datetimes; the wall-clock arithmetic is done on local
dates and `localtime.at_local`, so the days the clocks change need no special case.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays

from api.config import Settings
from api.system import localtime

WORKING_DAYS = range(0, 5)  # Monday to Friday
# No run of closed days is this long (Christmas and a weekend is five): a bound, not a rule.
LONGEST_CLOSURE_DAYS = 14


@lru_cache(maxsize=1)
def _bank_holidays() -> holidays.HolidayBase:
    # Years are filled in on first look-up of a date in them (expand=True).
    return holidays.UK(subdiv="ENG")


def bank_holiday(day: date) -> str | None:
    """The name of England's bank holiday on `day`, else None."""
    return _bank_holidays().get(day)


def is_working_day(day: date) -> bool:
    """A weekday that is not an English bank holiday."""
    return day.weekday() in WORKING_DAYS and bank_holiday(day) is None


def hours(settings: Settings) -> tuple[time, time]:
    """When the team starts and stops work on a working day (local wall-clock times)."""
    return (time.fromisoformat(settings.working_hours_start),
            time.fromisoformat(settings.working_hours_end))


def is_working_time(moment: datetime, settings: Settings) -> bool:
    """True while the bookings team is at work."""
    local = localtime.to_local(moment, settings)
    opens, closes = hours(settings)
    return is_working_day(local.date()) and opens <= local.time() < closes


def next_opening(moment: datetime, settings: Settings) -> datetime:
    """`moment` (in UTC) if the team is at work then, else when it next starts (UTC)."""
    local = localtime.to_local(moment, settings)
    opens, closes = hours(settings)
    day = local.date()
    if is_working_day(day) and local.time() < closes:
        return moment.astimezone(UTC) if local.time() >= opens else \
            localtime.at_local(day, opens, settings)
    for _ in range(LONGEST_CLOSURE_DAYS * 2):
        day += timedelta(days=1)
        if is_working_day(day):
            return localtime.at_local(day, opens, settings)
    raise RuntimeError("no working day found: check the working-hours settings")


def add_working_time(moment: datetime, duration: timedelta, settings: Settings) -> datetime:
    """The instant `duration` of working time after `moment`: the clock runs only while the
    team is at work, so what does not fit before closing carries over to the next opening."""
    _, closes = hours(settings)
    start, remaining = next_opening(moment, settings), duration
    while True:
        closing = localtime.at_local(localtime.to_local(start, settings).date(), closes, settings)
        if start + remaining <= closing:
            return start + remaining
        remaining -= closing - start
        start = next_opening(closing, settings)
