"""Offers: holding, expiry, declining, booking and clinical review."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.appointments.models import AppointmentStatus
from api.scheduling import service as scheduling_service
from api.scheduling.matching import Preferences
from api.scheduling.models import OfferStatus, SlotStatus
from tests.scheduling.conftest import NOW


def test_find_offers_holds_slots_on_different_days(world, db_session):
    appointment = world.postponed()
    same_day = [world.slot(3, 9), world.slot(3, 10), world.slot(3, 11)]
    later = [world.slot(4, 9), world.slot(5, 9)]
    offers = scheduling_service.find_offers(session=db_session, appointment_id=appointment.id,
                                            now=NOW)
    assert [o.slot_id for o in offers] == [same_day[0].id, later[0].id, later[1].id]
    assert all(o.status is OfferStatus.HELD for o in offers)
    assert all(o.expires_at == NOW + timedelta(minutes=30) for o in offers)
    db_session.refresh(same_day[0])
    assert same_day[0].status is SlotStatus.HELD
    assert appointment.status is AppointmentStatus.OFFERED


def test_new_offers_release_the_previous_ones(world, db_session):
    appointment = world.postponed()
    first_slot = world.slot(3)
    first = scheduling_service.find_offers(session=db_session, appointment_id=appointment.id,
                                           now=NOW, limit=1)
    second = scheduling_service.find_offers(session=db_session, appointment_id=appointment.id,
                                            now=NOW, limit=1,
                                            preferences=Preferences(earliest_date=None))
    assert first[0].slot_id == second[0].slot_id == first_slot.id
    db_session.refresh(first[0])
    assert first[0].status is OfferStatus.WITHDRAWN
    assert second[0].status is OfferStatus.HELD


def test_book_offer_rebooks_and_releases_other_offers(world, db_session):
    appointment = world.postponed()
    slots = [world.slot(d) for d in (3, 4, 5)]
    offers = scheduling_service.find_offers(session=db_session, appointment_id=appointment.id,
                                            now=NOW)
    booked = scheduling_service.book_offer(session=db_session, offer_id=offers[1].id,
                                           patient_id=appointment.patient_id, now=NOW)
    assert booked.status is AppointmentStatus.REBOOKED
    assert booked.slot_id == slots[1].id
    for slot, status in zip(slots, (SlotStatus.FREE, SlotStatus.BOOKED, SlotStatus.FREE),
                            strict=True):
        db_session.refresh(slot)
        assert slot.status is status
    for offer, status in zip(offers, (OfferStatus.WITHDRAWN, OfferStatus.ACCEPTED,
                                      OfferStatus.WITHDRAWN), strict=True):
        db_session.refresh(offer)
        assert offer.status is status
    assert [e.to_status for e in booked.history][-2:] == [AppointmentStatus.OFFERED,
                                                          AppointmentStatus.REBOOKED]


def test_book_someone_elses_offer_is_refused(world, db_session):
    appointment = world.postponed()
    world.slot(3)
    offer = scheduling_service.find_offers(session=db_session, appointment_id=appointment.id,
                                           now=NOW)[0]
    stranger = world.patient()
    with pytest.raises(scheduling_service.NotYourOffer):
        scheduling_service.book_offer(session=db_session, offer_id=offer.id,
                                      patient_id=stranger.id, now=NOW)


def test_expired_offer_cannot_be_booked_and_is_released(world, db_session):
    appointment = world.postponed()
    slot = world.slot(3)
    offer = scheduling_service.find_offers(session=db_session, appointment_id=appointment.id,
                                           now=NOW)[0]
    with pytest.raises(scheduling_service.OfferExpired):
        scheduling_service.book_offer(session=db_session, offer_id=offer.id,
                                      patient_id=appointment.patient_id,
                                      now=NOW + timedelta(minutes=31))
    db_session.refresh(slot)
    db_session.refresh(appointment)
    assert slot.status is SlotStatus.FREE
    assert appointment.status is AppointmentStatus.POSTPONED


def test_release_expired_holds(world, db_session):
    a = world.postponed()
    b = world.postponed()
    for d in (3, 4, 5, 6):
        world.slot(d)
    scheduling_service.find_offers(session=db_session, appointment_id=a.id, now=NOW, limit=2)
    scheduling_service.find_offers(session=db_session, appointment_id=b.id, now=NOW, limit=2,
                                   hold_minutes=24 * 60)
    assert scheduling_service.release_expired_holds(session=db_session,
                                                    now=NOW + timedelta(minutes=29)) == 0
    assert scheduling_service.release_expired_holds(session=db_session,
                                                    now=NOW + timedelta(minutes=30)) == 2
    db_session.refresh(a)
    db_session.refresh(b)
    assert a.status is AppointmentStatus.POSTPONED
    assert b.status is AppointmentStatus.OFFERED


def test_decline_offers(world, db_session):
    appointment = world.postponed()
    world.slot(3)
    world.slot(4)
    scheduling_service.find_offers(session=db_session, appointment_id=appointment.id, now=NOW)
    assert scheduling_service.decline_offers(session=db_session, appointment_id=appointment.id,
                                             actor="assistant", now=NOW) == 2
    assert appointment.status is AppointmentStatus.POSTPONED
    assert appointment.history[-1].reason == "patient declined the offered dates"


def test_clinical_review_releases_the_booked_slot(world, db_session):
    appointment = world.postponed()
    slot = world.slot(3)
    offer = scheduling_service.find_offers(session=db_session, appointment_id=appointment.id,
                                           now=NOW)[0]
    scheduling_service.book_offer(session=db_session, offer_id=offer.id,
                                  patient_id=appointment.patient_id, now=NOW)
    result = scheduling_service.send_to_clinical_review(
        session=db_session, appointment_id=appointment.id, reason="patient: no longer needed",
        actor="assistant", now=NOW)
    assert result.status is AppointmentStatus.PENDING_CLINICAL_REVIEW
    assert result.slot_id is None
    assert result.history[-1].slot_id == slot.id
    db_session.refresh(slot)
    assert slot.status is SlotStatus.FREE


def test_awaiting_date_orders_by_priority(world, db_session):
    patient = world.patient()
    routine = world.postponed(patient)
    urgent = world.postponed(patient, priority="urgent")
    assert [a.id for a in scheduling_service.awaiting_date(
        session=db_session, patient_id=patient.id, now=NOW)] == [urgent.id, routine.id]


def test_explain_position(world, db_session):
    first = world.postponed(priority="urgent")
    second = world.postponed(times_postponed=2)
    text = scheduling_service.explain_position(session=db_session, appointment_id=second.id,
                                               now=NOW)
    assert text.startswith("Routine, breaches the 18-week referral-to-treatment target on "
                           "Mon 6 Apr 2026 (in 5 weeks), waited 13 weeks since referral, "
                           "postponed 3 times: 2nd of 2 waiting for ")
    assert "1st of 2" in scheduling_service.explain_position(
        session=db_session, appointment_id=first.id, now=NOW)
