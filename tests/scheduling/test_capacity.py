"""Short-notice clinics: validation, proposals by priority, approval, and the cascade."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.appointments.models import AppointmentStatus, Priority
from api.reference.models import AppointmentType, Clinician
from api.scheduling import capacity
from api.scheduling import service as scheduling_service
from api.scheduling.errors import Conflict, InvalidRequest, NotFound
from api.scheduling.models import ClinicSession, OfferStatus, SessionKind, SlotStatus
from tests.scheduling.conftest import NOW, at


@pytest.fixture
def clinician(world, db_session):
    person = Clinician(code=f"CL-{world.specialty.code}", name="Dr Short Notice",
                       specialty_id=world.specialty.id)
    db_session.add(person)
    db_session.flush()
    return person


def add(world, db_session, *, days=5, hour=9, slots=3, location="Outpatients Z", **kwargs):
    values = {"site_code": world.site.code, "specialty_code": world.specialty.code,
              "location": location, "starts_at": at(days, hour),
              "slot_minutes": [20] * slots, "now": NOW} | kwargs
    return capacity.add_clinic(session=db_session, **values)


def test_add_clinic_makes_free_slots(world, db_session, clinician):
    clinic = add(world, db_session, clinician_code=clinician.code)
    assert clinic.short_notice and clinic.ends_at == at(5, 10)
    assert [(s.start_at, s.status, s.clinician_id) for s in clinic.slots] == [
        (at(5, 9, m), SlotStatus.FREE, clinician.id) for m in (0, 20, 40)]


def test_theatre_list_with_case_lengths(world, db_session):
    clinic = add(world, db_session, kind=SessionKind.THEATRE_LIST, location="Theatre 9",
                 appointment_type=AppointmentType.THEATRE, slot_minutes=[90, 120, 60])
    assert [s.duration_minutes for s in clinic.slots] == [90, 120, 60]
    assert clinic.ends_at == at(5, 13, 30)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"starts_at": NOW - timedelta(minutes=1)}, InvalidRequest, "in the past"),
    ({"slot_minutes": []}, InvalidRequest, "at least one slot"),
    ({"slot_minutes": [20, 0]}, InvalidRequest, "positive"),
    ({"specialty_code": "NOPE"}, InvalidRequest, "unknown specialty"),
    ({"site_code": "NOPE"}, InvalidRequest, "unknown site"),
    ({"clinician_code": "NOPE"}, InvalidRequest, "unknown clinician"),
    ({"kind": SessionKind.THEATRE_LIST}, InvalidRequest, "theatre"),
    ({"location": "  "}, InvalidRequest, "room"),
])
def test_bad_clinics_are_refused(world, db_session, kwargs, error, message):
    with pytest.raises(error, match=message):
        add(world, db_session, **kwargs)
    assert db_session.scalar(select(func.count()).select_from(ClinicSession)) == 0


def test_same_room_or_clinician_at_the_same_time_is_a_conflict(world, db_session, clinician):
    add(world, db_session, clinician_code=clinician.code)
    with pytest.raises(Conflict, match="already in use"):
        add(world, db_session, hour=9, location="Outpatients Z")
    with pytest.raises(Conflict, match="already has a session"):
        add(world, db_session, location="Room 2", clinician_code=clinician.code, hour=9)
    # Back to back is fine, and so is the same room name at another site.
    add(world, db_session, hour=10, clinician_code=clinician.code)
    add(world, db_session, site_code=world.other_site.code)


def test_proposal_follows_priority_and_fit(world, db_session):
    routine = world.postponed()
    urgent = world.postponed(priority=Priority.URGENT)
    p1b = world.postponed(priority=Priority.P1B)
    world.postponed(duration_minutes=30)  # does not fit a 20-minute slot
    clinic = add(world, db_session)
    proposals = capacity.propose(session=db_session, clinic_session_id=clinic.id, now=NOW)
    assert [p.appointment_id for p in proposals] == [p1b.id, urgent.id, routine.id]
    assert [p.start_at for p in proposals] == [at(5, 9, m) for m in (0, 20, 40)]
    assert proposals[0].reasons.startswith("Very urgent (P1b)")


def test_too_soon_for_notice_proposes_nobody(world, db_session):
    world.postponed()
    clinic = add(world, db_session, days=1)
    assert capacity.propose(session=db_session, clinic_session_id=clinic.id, now=NOW) == []
    assert len(capacity.propose(session=db_session, clinic_session_id=clinic.id, now=NOW,
                                min_notice=timedelta(hours=12))) == 1


def test_approve_sends_offers_in_order_and_cascades_on_decline(world, db_session):
    first = world.postponed(priority=Priority.URGENT)
    second = world.postponed()
    third = world.postponed(times_postponed=0, referral_date=second.referral_date
                            + timedelta(days=1))
    clinic = add(world, db_session, slots=1)
    offers = capacity.approve(session=db_session, clinic_session_id=clinic.id,
                              actor="staff:7", now=NOW)
    assert [(o.appointment_id, o.source) for o in offers] == [(first.id, "capacity")]
    assert offers[0].expires_at == NOW + timedelta(hours=24)
    assert first.status is AppointmentStatus.OFFERED
    assert first.history[-1].actor == "staff:7"

    scheduling_service.decline_offers(session=db_session, appointment_id=first.id,
                                      actor="assistant", now=NOW)
    db_session.refresh(second)
    assert first.status is AppointmentStatus.POSTPONED
    assert second.status is AppointmentStatus.OFFERED  # next in line got the slot

    # Expiry cascades too, and nobody is asked twice about the same slot.
    later = NOW + timedelta(hours=25)
    assert scheduling_service.release_expired_holds(session=db_session, now=later) == 1
    db_session.refresh(second)
    db_session.refresh(third)
    assert second.status is AppointmentStatus.POSTPONED
    assert third.status is AppointmentStatus.OFFERED
    scheduling_service.decline_offers(session=db_session, appointment_id=third.id,
                                      actor="assistant", now=later)
    slot = clinic.slots[0]
    db_session.refresh(slot)
    assert slot.status is SlotStatus.FREE  # everyone has been asked: open to the assistant


def test_accepting_a_capacity_offer_books_it(world, db_session):
    waiting = world.postponed()
    clinic = add(world, db_session, slots=1)
    offer = capacity.approve(session=db_session, clinic_session_id=clinic.id, actor="staff:7",
                             now=NOW)[0]
    booked = scheduling_service.book_offer(session=db_session, offer_id=offer.id,
                                           patient_id=waiting.patient_id, now=NOW)
    assert booked.status is AppointmentStatus.REBOOKED and booked.slot_id == clinic.slots[0].id
    db_session.refresh(offer)
    assert offer.status is OfferStatus.ACCEPTED


def test_unknown_clinic(db_session):
    with pytest.raises(NotFound):
        capacity.propose(session=db_session, clinic_session_id=123456, now=NOW)
