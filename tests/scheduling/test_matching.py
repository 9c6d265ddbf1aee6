"""Slot matching: each constraint on its own, and bad preferences."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.appointments.models import AppointmentStatus
from api.reference.models import AppointmentType, Clinician
from api.scheduling import matching
from api.scheduling.errors import InvalidRequest
from api.scheduling.matching import Preferences
from api.scheduling.models import SlotStatus
from tests import factories
from tests.scheduling.conftest import NOW, at


def matches(session, appointment, preferences=None, **kwargs) -> list[int]:
    return [s.id for s in matching.matching_slots(session=session, appointment=appointment,
                                                  preferences=preferences, now=NOW, **kwargs)]


def test_same_specialty_type_and_duration_only(world, db_session):
    appointment = world.postponed()
    good = world.slot(3)
    world.slot(3, 11, type=AppointmentType.PROCEDURE)
    world.slot(3, 12, duration_minutes=30)
    factories.make_slot(db_session, site=world.site, specialty=factories.make_specialty(
        db_session), start_at=at(3, 13))
    assert matches(db_session, appointment) == [good.id]


def test_only_free_slots(world, db_session):
    appointment = world.postponed()
    free = world.slot(3)
    for hour, status in ((11, SlotStatus.HELD), (12, SlotStatus.BOOKED),
                         (13, SlotStatus.BLOCKED)):
        world.slot(3, hour, status=status)
    assert matches(db_session, appointment) == [free.id]


def test_named_clinician_when_required(world, db_session):
    ours = Clinician(code="C-OURS", name="Dr Ours", specialty_id=world.specialty.id)
    theirs = Clinician(code="C-THEIRS", name="Dr Theirs", specialty_id=world.specialty.id)
    db_session.add_all([ours, theirs])
    db_session.flush()
    mine = world.slot(3, clinician_id=ours.id)
    other = world.slot(4, clinician_id=theirs.id)
    named = world.postponed(requires_named_clinician=True, clinician_id=ours.id)
    anyone = world.postponed(clinician_id=ours.id)
    assert matches(db_session, named) == [mine.id]
    assert matches(db_session, anyone) == [mine.id, other.id]


def test_step_free_access(world, db_session):
    appointment = world.postponed()
    stairs = world.slot(3, site=world.other_site)
    level = world.slot(4)
    assert matches(db_session, appointment) == [stairs.id, level.id]
    assert matches(db_session, appointment, Preferences(step_free_access=True)) == [level.id]


def test_sites(world, db_session):
    appointment = world.postponed()
    world.slot(3)
    there = world.slot(4, site=world.other_site)
    assert matches(db_session, appointment,
                   Preferences(site_ids={world.other_site.id})) == [there.id]


def test_weekdays_and_excluded_days(world, db_session):
    appointment = world.postponed()
    wednesday, thursday, friday = world.slot(2), world.slot(3), world.slot(4)  # 2 Mar is a Monday
    assert matches(db_session, appointment, Preferences(weekdays={3, 4})) == [thursday.id,
                                                                               friday.id]
    assert matches(db_session, appointment, Preferences(exclude_weekdays={3})) == [
        wednesday.id, friday.id]


def test_time_of_day_in_london_time(world, db_session):
    appointment = world.postponed()
    # 6 April is after the clocks change: 11:30 UTC is 12:30 in London (afternoon).
    morning = world.slot(35, 10, 30)
    afternoon = world.slot(35, 11, 30)
    evening = world.slot(35, 16, 30)
    assert matches(db_session, appointment, Preferences(time_of_day="morning")) == [morning.id]
    assert matches(db_session, appointment, Preferences(time_of_day="afternoon")) == [
        afternoon.id]
    assert matches(db_session, appointment, Preferences(time_of_day="evening")) == [evening.id]


def test_earliest_and_latest_dates(world, db_session):
    appointment = world.postponed()
    slots = [world.slot(d) for d in (3, 4, 5, 6)]
    prefs = Preferences(earliest_date=date(2026, 3, 6), latest_date=date(2026, 3, 7))
    assert matches(db_session, appointment, prefs) == [slots[1].id, slots[2].id]


def test_minimum_notice(world, db_session):
    appointment = world.postponed()
    world.slot(1, 10)  # 25 hours away
    on_the_edge = world.slot(2, 9)  # exactly 48 hours
    assert matches(db_session, appointment) == [on_the_edge.id]
    assert len(matches(db_session, appointment, min_notice=timedelta(hours=24))) == 2


def test_no_overlap_with_the_patients_other_appointments(world, db_session):
    patient = world.patient()
    appointment = world.postponed(patient)
    elsewhere = factories.make_specialty(db_session)
    booked_slot = factories.make_slot(db_session, site=world.site, specialty=elsewhere,
                                      start_at=at(3, 10, 10), status=SlotStatus.BOOKED)
    factories.make_appointment(db_session, patient=patient, specialty=elsewhere,
                               slot_id=booked_slot.id, status=AppointmentStatus.BOOKED)
    world.slot(3, 10)  # 10:00-10:20 clashes with 10:10
    after = world.slot(3, 10, 30)
    assert matches(db_session, appointment) == [after.id]


def test_many_pages_of_unsuitable_slots_are_skipped(world, db_session):
    appointment = world.postponed()
    for i in range(25):
        world.slot(3, 9, i * 2, duration_minutes=20)
    wanted = world.slot(5)  # a Saturday-free week: 7 Mar is a Saturday
    got = matches(db_session, appointment, Preferences(weekdays={5}), batch=10)
    assert got == [wanted.id]


@pytest.mark.parametrize("kwargs", [
    {"weekdays": {7}}, {"exclude_weekdays": {-1}}, {"time_of_day": "night"},
    {"earliest_date": date(2026, 4, 2), "latest_date": date(2026, 4, 1)},
])
def test_bad_preferences(kwargs):
    with pytest.raises(InvalidRequest):
        Preferences(**kwargs)


def test_spread_prefers_different_days(world, db_session):
    slots = [world.slot(3, 9), world.slot(3, 10), world.slot(4, 9), world.slot(5, 9)]
    assert [s.id for s in matching.spread(slots, 3)] == [slots[0].id, slots[2].id, slots[3].id]
    assert [s.id for s in matching.spread(slots[:2], 3)] == [slots[0].id, slots[1].id]
