"""The patient's time zone in one place: wall-clock dates and times right across DST changes."""

from datetime import UTC, date, datetime, time

from api.config import Settings
from api.system import localtime

LONDON = Settings(patient_timezone="Europe/London")


def test_the_zone_comes_from_settings():
    assert localtime.patient_zone(LONDON).key == "Europe/London"
    assert localtime.patient_zone(Settings(patient_timezone="Europe/Dublin")).key \
        == "Europe/Dublin"
    assert localtime.patient_zone().key == "Europe/London"  # the default settings


def test_to_local_in_winter_and_summer():
    assert localtime.to_local(datetime(2026, 1, 15, 12, 0, tzinfo=UTC), LONDON).hour == 12
    assert localtime.to_local(datetime(2026, 7, 15, 12, 0, tzinfo=UTC), LONDON).hour == 13


def test_local_today_turns_at_local_midnight():
    # 23:30 UTC on 14 July is 00:30 BST on 15 July; in January it is still the 14th.
    assert localtime.local_today(LONDON, now=datetime(2026, 7, 14, 23, 30, tzinfo=UTC)) \
        == date(2026, 7, 15)
    assert localtime.local_today(LONDON, now=datetime(2026, 1, 14, 23, 30, tzinfo=UTC)) \
        == date(2026, 1, 14)


def test_midnight_and_wall_clock_on_the_days_the_clocks_change():
    # Clocks go forward at 01:00 UTC on 29 March 2026 and back at 01:00 UTC on 25 October.
    assert localtime.local_midnight(date(2026, 3, 29), LONDON) == datetime(2026, 3, 29, 0, 0,
                                                                         tzinfo=UTC)
    assert localtime.local_midnight(date(2026, 3, 30), LONDON) == datetime(2026, 3, 29, 23, 0,
                                                                         tzinfo=UTC)
    assert localtime.at_local(date(2026, 3, 29), time(9, 0), LONDON) == datetime(
        2026, 3, 29, 8, 0, tzinfo=UTC)
    assert localtime.at_local(date(2026, 10, 25), time(9, 0), LONDON) == datetime(
        2026, 10, 25, 9, 0, tzinfo=UTC)


def test_assume_local_keeps_an_offset_and_reads_a_naive_time_as_local():
    aware = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    assert localtime.assume_local(aware, LONDON) is aware
    naive = localtime.assume_local(datetime(2026, 7, 1, 9, 0), LONDON)
    assert naive.astimezone(UTC) == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
