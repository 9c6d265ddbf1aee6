"""One working-hours calendar: weekdays, the configured hours, England's bank holidays, in
London time, across weekends, bank holidays and the clock changes; handover due times use it."""

from datetime import UTC, date, datetime, timedelta

import pytest

from api.config import get_settings
from api.handover import service as handover_service
from api.handover.models import Urgency
from api.system import working_hours


@pytest.fixture
def settings():
    return get_settings().model_copy(update={"working_hours_start": "08:00",
                                             "working_hours_end": "18:00"})


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_bank_holidays_are_englands():
    assert working_hours.bank_holiday(date(2026, 12, 28)) == "Boxing Day (observed)"
    assert working_hours.bank_holiday(date(2026, 8, 31)) == "Late Summer Bank Holiday"
    assert working_hours.bank_holiday(date(2027, 3, 17)) is None  # St Patrick's: N. Ireland only
    assert working_hours.bank_holiday(date(2026, 8, 3)) is None  # Scotland's summer holiday
    assert not working_hours.is_working_day(date(2026, 4, 3))  # Good Friday
    assert not working_hours.is_working_day(date(2026, 11, 28))  # a Saturday
    assert working_hours.is_working_day(date(2026, 11, 30))


@pytest.mark.parametrize(("moment", "working"), [
    (utc(2026, 11, 30, 10, 0), True),  # Monday 10:00 GMT
    (utc(2026, 11, 30, 7, 59), False),  # Monday 07:59 GMT
    (utc(2026, 11, 30, 18, 0), False),  # closing time is not working time
    (utc(2026, 12, 1, 2, 0), False),  # Tuesday 02:00
    (utc(2026, 11, 29, 10, 0), False),  # Sunday
    (utc(2026, 12, 25, 10, 0), False),  # Christmas Day
    (utc(2026, 7, 13, 7, 30), True),  # 08:30 BST on a Monday is 07:30 UTC
    (utc(2026, 7, 13, 17, 30), False),  # 18:30 BST
])
def test_is_working_time_in_london_time(settings, moment, working):
    assert working_hours.is_working_time(moment, settings) is working


def test_the_next_opening_skips_a_weekend_and_a_bank_holiday(settings):
    # Thursday before Easter, 19:00 BST: Friday and Monday are bank holidays.
    assert working_hours.next_opening(utc(2026, 4, 2, 18, 0), settings) == utc(2026, 4, 7, 7, 0)
    # Saturday night: Monday 08:00 GMT.
    assert working_hours.next_opening(utc(2026, 11, 28, 23, 0), settings) == \
        utc(2026, 11, 30, 8, 0)
    inside = utc(2026, 11, 30, 9, 15)
    assert working_hours.next_opening(inside, settings) == inside


def test_working_time_carries_over_a_bank_holiday_weekend(settings):
    # Thursday 2 April 2026, 16:00 BST: 2 h that day, then Tuesday 7 April from 08:00 BST.
    due = working_hours.add_working_time(utc(2026, 4, 2, 15, 0), timedelta(hours=4), settings)
    assert due == utc(2026, 4, 7, 9, 0)  # 10:00 BST


def test_working_time_carries_over_a_weekend(settings):
    # Friday 27 November 2026, 17:30 GMT: 30 min that day, 3 h 30 min on Monday.
    due = working_hours.add_working_time(utc(2026, 11, 27, 17, 30), timedelta(hours=4), settings)
    assert due == utc(2026, 11, 30, 11, 30)


def test_working_time_across_the_autumn_clock_change(settings):
    # Friday 23 October 2026, 17:00 BST (16:00 UTC); clocks go back on Sunday the 25th.
    # One hour that evening, three on Monday from 08:00 GMT (08:00 UTC).
    due = working_hours.add_working_time(utc(2026, 10, 23, 16, 0), timedelta(hours=4), settings)
    assert due == utc(2026, 10, 26, 11, 0)


def test_working_time_across_the_spring_clock_change(settings):
    # Friday 24 March 2028, 17:00 GMT; clocks go forward on Sunday the 26th. One hour that
    # evening, one on Monday from 08:00 BST, which is 07:00 UTC.
    due = working_hours.add_working_time(utc(2028, 3, 24, 17, 0), timedelta(hours=2), settings)
    assert due == utc(2028, 3, 27, 8, 0)
    # In 2027 the clocks go forward on Easter Sunday: Good Friday and Easter Monday are closed
    # too, so Thursday 17:00 GMT + 2 h ends on Tuesday at 09:00 BST.
    due = working_hours.add_working_time(utc(2027, 3, 25, 17, 0), timedelta(hours=2), settings)
    assert due == utc(2027, 3, 30, 8, 0)


def test_handover_due_times_follow_the_calendar(settings):
    good_friday_night = utc(2026, 4, 3, 1, 0)
    assert handover_service.due_at(urgency=Urgency.URGENT, settings=settings,
                                   now=good_friday_night) == \
        good_friday_night + handover_service.URGENT_WITHIN  # day or night, holiday or not
    assert handover_service.due_at(urgency=Urgency.HIGH, settings=settings,
                                   now=good_friday_night) == utc(2026, 4, 7, 8, 0)
    assert handover_service.due_at(urgency=Urgency.NORMAL, settings=settings,
                                   now=utc(2026, 11, 30, 10, 0)) == utc(2026, 11, 30, 14, 0)
