"""Declaring a disruption, previewing it, and postponing by rules; bad requests change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.appointments.models import AppointmentEvent, AppointmentStatus, Pathway, Priority
from api.scheduling import service as scheduling_service
from api.scheduling.errors import InvalidRequest
from api.scheduling.models import Disruption, OfferStatus, SlotStatus
from tests import factories
from tests.scheduling.conftest import NOW, at


def booked(world, days: int, hour: int = 10, **overrides):
    slot = world.slot(days, hour, status=SlotStatus.BOOKED)
    values = {"site_id": slot.site_id} | overrides
    appointment = factories.make_appointment(world.session, patient=world.patient(),
                                             specialty=world.specialty, slot_id=slot.id,
                                             **values)
    return appointment, slot


@pytest.fixture
def strike(world, db_session):
    return scheduling_service.declare_disruption(
        session=db_session, name="Strike", starts_at=at(7, 7), ends_at=at(12, 7),
        staff_group="resident doctors", specialty_codes=[world.specialty.code],
        site_codes=[world.site.code], now=NOW)


def test_ends_before_it_starts(world, db_session):
    with pytest.raises(InvalidRequest, match="ends before it starts"):
        scheduling_service.declare_disruption(session=db_session, name="x", starts_at=at(7),
                                              ends_at=at(7), staff_group="consultants")


def test_unknown_specialty_or_site(world, db_session):
    with pytest.raises(InvalidRequest, match="unknown specialty code"):
        scheduling_service.declare_disruption(
            session=db_session, name="x", starts_at=at(7), ends_at=at(8),
            staff_group="consultants", specialty_codes=[world.specialty.code, "NOPE"])
    with pytest.raises(InvalidRequest, match="unknown site code"):
        scheduling_service.declare_disruption(
            session=db_session, name="x", starts_at=at(7), ends_at=at(8),
            staff_group="consultants", site_codes=["NOPE"])
    assert db_session.scalar(select(func.count()).select_from(Disruption)) == 0


def test_preview_applies_default_rules_and_changes_nothing(world, db_session, strike):
    routine, _ = booked(world, 8)
    p1b, _ = booked(world, 8, 11, priority=Priority.P1B)
    cancer, _ = booked(world, 9, priority=Priority.SUSPECTED_CANCER, pathway=Pathway.CANCER_FDS)
    p2_cancer, _ = booked(world, 9, 11, priority=Priority.P2, pathway=Pathway.CANCER_62)
    booked(world, 13)  # after the strike
    booked(world, 8, 12, site_id=None)  # booked at another site: see below
    decisions = scheduling_service.preview_disruption(session=db_session,
                                                      disruption_id=strike.id)
    by_id = {d.appointment_id: d for d in decisions}
    assert by_id[routine.id].postpone and by_id[routine.id].why == "postponed: priority routine"
    assert not by_id[p1b.id].postpone
    assert not by_id[cancer.id].postpone
    assert not by_id[p2_cancer.id].postpone
    assert len(decisions) == 5  # the slot decides the site, not the appointment's own column
    assert routine.status is AppointmentStatus.BOOKED


def test_postpone_with_reasons_history_and_blocked_slots(world, db_session, strike):
    routine, routine_slot = booked(world, 8)
    urgent, urgent_slot = booked(world, 8, 11, priority=Priority.P1A)
    free = world.slot(9)
    other_site = world.slot(9, 11, site=world.other_site)
    result = scheduling_service.postpone_disruption(session=db_session, disruption_id=strike.id,
                                                    actor="staff:1", now=NOW)
    assert (result.postponed, result.kept, result.slots_blocked) == (1, 1, 2)
    assert routine.status is AppointmentStatus.POSTPONED
    assert routine.slot_id is None and routine.disruption_id == strike.id
    assert routine.times_postponed == 1
    event = routine.history[-1]
    assert (event.reason, event.actor, event.slot_id) == ("industrial action: Strike", "staff:1",
                                                          routine_slot.id)
    assert event.details == {"disruption_id": strike.id, "rule": "postponed: priority routine"}
    assert urgent.status is AppointmentStatus.BOOKED
    for slot, status in ((routine_slot, SlotStatus.BLOCKED), (urgent_slot, SlotStatus.BOOKED),
                         (free, SlotStatus.BLOCKED), (other_site, SlotStatus.FREE)):
        db_session.refresh(slot)
        assert slot.status is status


def test_staff_adjust_the_rules(world, db_session, strike):
    p1a, _ = booked(world, 8, priority=Priority.P1A)
    routine, _ = booked(world, 8, 11)
    p2, _ = booked(world, 8, 12, priority=Priority.P2)
    rules = scheduling_service.PostponementRules(
        keep_priorities={Priority.P2}, keep_pathways=set(),
        postpone_appointment_ids={p1a.id}, keep_appointment_ids={routine.id})
    result = scheduling_service.postpone_disruption(session=db_session, disruption_id=strike.id,
                                                    actor="staff:1", rules=rules, now=NOW)
    assert (result.postponed, result.kept) == (1, 2)
    assert p1a.status is AppointmentStatus.POSTPONED
    assert p1a.history[-1].details["rule"] == "postponed by staff decision"
    assert routine.status is AppointmentStatus.BOOKED
    assert p2.status is AppointmentStatus.BOOKED


def test_a_bad_request_changes_nothing(world, db_session, strike):
    routine, slot = booked(world, 8)
    events = db_session.scalar(select(func.count()).select_from(AppointmentEvent))
    rules = scheduling_service.PostponementRules(keep_appointment_ids={999_999})
    with pytest.raises(InvalidRequest, match="not affected"):
        scheduling_service.postpone_disruption(session=db_session, disruption_id=strike.id,
                                               actor="staff:1", rules=rules, now=NOW)
    db_session.refresh(routine)
    db_session.refresh(slot)
    assert routine.status is AppointmentStatus.BOOKED and routine.slot_id == slot.id
    assert slot.status is SlotStatus.BOOKED
    assert db_session.scalar(select(func.count()).select_from(AppointmentEvent)) == events
    with pytest.raises(InvalidRequest, match="both kept and postponed"):
        scheduling_service.PostponementRules(keep_appointment_ids={1},
                                             postpone_appointment_ids={1})


def test_open_offers_on_strike_days_are_withdrawn(world, db_session, strike):
    waiting = world.postponed()
    world.slot(8)  # inside the strike: offered before it was declared
    offer = scheduling_service.find_offers(session=db_session, appointment_id=waiting.id,
                                           now=NOW)[0]
    result = scheduling_service.postpone_disruption(session=db_session, disruption_id=strike.id,
                                                    actor="staff:1", now=NOW)
    assert result.offers_withdrawn == 1
    db_session.refresh(offer)
    db_session.refresh(waiting)
    assert offer.status is OfferStatus.WITHDRAWN
    assert waiting.status is AppointmentStatus.POSTPONED
    assert waiting.history[-1].reason == "offered slot withdrawn: Strike"


def test_empty_lists_mean_every_specialty_and_site(world, db_session):
    disruption = scheduling_service.declare_disruption(
        session=db_session, name="All out", starts_at=at(7), ends_at=at(7) + timedelta(days=2),
        staff_group="consultants")
    booked(world, 7, 12)
    elsewhere = world.slot(8, site=world.other_site, status=SlotStatus.BOOKED)
    factories.make_appointment(db_session, patient=world.patient(), specialty=world.specialty,
                               slot_id=elsewhere.id)
    assert len(scheduling_service.preview_disruption(session=db_session,
                                                     disruption_id=disruption.id)) == 2
