"""Booking under real concurrency, on committed PostgreSQL and SQLite databases.

Each thread has its own session and transaction, as separate requests or processes would.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from api.appointments.models import Appointment, AppointmentStatus
from api.patients.models import Patient
from api.scheduling import service as scheduling_service
from api.scheduling.errors import SchedulingError
from api.scheduling.models import Offer, OfferStatus, Slot, SlotStatus
from tests import factories

ATTEMPTS = 200


def _world(session, patients: int):
    site = factories.make_site(session)
    specialty = factories.make_specialty(session)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
    slot = factories.make_slot(session, site=site, specialty=specialty, start_at=start)
    appointments = []
    for _ in range(patients):
        appointments.append(factories.make_postponed_appointment(session, specialty=specialty))
    session.flush()
    return site, specialty, slot, appointments


def _race(factory, jobs) -> list:
    """Run every job at the same moment, each in its own session; return results or errors."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        session = factory()
        try:
            barrier.wait()
            result = job(session)
            session.commit()
            return result
        except SchedulingError as exc:
            session.rollback()
            return exc
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def test_200_patients_booking_one_slot_get_one_booking(live_session_factory):
    # Every patient holds an offer on the same slot (as a double-offer bug or two staff
    # members at once might do): the conditional UPDATE still lets exactly one book it.
    with live_session_factory() as session:
        _, _, slot, appointments = _world(session, ATTEMPTS)
        offers = []
        for appointment in appointments:
            offer = Offer(appointment_id=appointment.id, slot_id=slot.id,
                          status=OfferStatus.HELD,
                          expires_at=datetime.now(UTC) + timedelta(hours=1))
            session.add(offer)
            offers.append((offer, appointment.patient_id))
        slot.status = SlotStatus.HELD
        session.commit()
        jobs = [lambda s, o=o.id, p=p: scheduling_service.book_offer(session=s, offer_id=o,
                                                                      patient_id=p).id
                for o, p in offers]
        slot_id = slot.id

    results = _race(live_session_factory, jobs)

    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1
    assert all(isinstance(r, scheduling_service.SlotTaken | scheduling_service.OfferNotOpen)
               for r in results if not isinstance(r, int))
    with live_session_factory() as session:
        assert session.get(Slot, slot_id).status is SlotStatus.BOOKED
        holders = session.scalars(select(Appointment).where(Appointment.slot_id == slot_id)).all()
        assert [a.id for a in holders] == winners
        assert holders[0].status is AppointmentStatus.REBOOKED
        assert session.scalar(select(func.count()).select_from(Offer).where(
            Offer.status == OfferStatus.ACCEPTED)) == 1


def test_racing_for_offers_on_one_free_slot(live_session_factory):
    # The assistant's path: find offers then book; only one patient can even hold the slot.
    with live_session_factory() as session:
        _, _, slot, appointments = _world(session, 50)
        session.commit()
        ids = [(a.id, a.patient_id) for a in appointments]
        slot_id = slot.id

    def job(session, appointment_id, patient_id):
        offers = scheduling_service.find_offers(session=session, appointment_id=appointment_id)
        if not offers:
            return None
        return scheduling_service.book_offer(session=session, offer_id=offers[0].id,
                                             patient_id=patient_id).id

    results = _race(live_session_factory, [lambda s, a=a, p=p: job(s, a, p) for a, p in ids])
    assert len([r for r in results if isinstance(r, int)]) == 1
    with live_session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.slot_id == slot_id)) == 1


def test_one_patient_never_gets_two_slots(live_session_factory):
    with live_session_factory() as session:
        site, specialty, slot, (appointment,) = _world(session, 1)
        second = factories.make_slot(session, site=site, specialty=specialty,
                                     start_at=slot.start_at + timedelta(days=1))
        offers = scheduling_service.find_offers(session=session, appointment_id=appointment.id,
                                                limit=2)
        # A second appointment of the same patient, offered a slot at the same time elsewhere.
        other_specialty = factories.make_specialty(session)
        clash = factories.make_slot(session, site=site, specialty=other_specialty,
                                    start_at=slot.start_at)
        other = factories.make_appointment(
            session, patient=session.get(Patient, appointment.patient_id),
            specialty=other_specialty, referral_date=date(2026, 1, 5),
            breach_date=date(2026, 5, 11), status=AppointmentStatus.POSTPONED)
        other_offer = Offer(appointment_id=other.id, slot_id=clash.id, status=OfferStatus.HELD,
                            expires_at=datetime.now(UTC) + timedelta(hours=1))
        session.add(other_offer)
        clash.status = SlotStatus.HELD
        session.commit()
        patient_id, first_id, clash_start = appointment.patient_id, appointment.id, clash.start_at
        offer_ids = [o.id for o in offers] + [other_offer.id]
        assert {o.slot_id for o in offers} == {slot.id, second.id}

    jobs = [lambda s, o=o: scheduling_service.book_offer(session=s, offer_id=o,
                                                         patient_id=patient_id).slot_id
            for o in offer_ids]
    for _ in range(2):  # the same offers again: still nothing more
        jobs += jobs[:3]
    results = _race(live_session_factory, jobs)

    assert sum(isinstance(r, int) for r in results) in (1, 2)
    with live_session_factory() as session:
        rows = session.execute(select(Appointment.id, Slot.start_at).join(
            Slot, Slot.id == Appointment.slot_id).where(
            Appointment.patient_id == patient_id)).all()
    assert [a for a, _ in rows].count(first_id) == 1  # one slot for the appointment
    starts = [start for _, start in rows]
    assert len(starts) == len(set(starts))  # and never two at the same time
    if len(rows) == 2:
        assert clash_start in starts and starts.count(clash_start) == 1
