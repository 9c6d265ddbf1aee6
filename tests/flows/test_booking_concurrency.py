"""Book and confirm under real concurrency (committed PostgreSQL and SQLite databases): the
same booking submitted several times at once books once and confirms once, because the
confirmation is written in the booking's own transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from api.appointments.models import Appointment, AppointmentStatus
from api.config import get_settings
from api.flows import booking as booking_flow
from api.messaging.models import Direction, Message, MessageCategory
from api.scheduling import service as scheduling_service
from tests import factories
from tests.scheduling.test_concurrency import _race

SUBMISSIONS = 8


def test_the_same_staff_booking_submitted_at_once_books_and_confirms_once(
        live_session_factory):
    with live_session_factory() as session:
        site = factories.make_site(session)
        specialty = factories.make_specialty(session)
        factories.make_slot(session, site=site, specialty=specialty,
                            start_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=5))
        appointment = factories.make_postponed_appointment(session, specialty=specialty)
        [offer] = scheduling_service.find_offers(session=session, appointment_id=appointment.id,
                                                 source="staff")
        session.commit()
        offer_id, patient_id, appointment_id = offer.id, appointment.patient_id, appointment.id
    settings = get_settings()

    def submit(session):
        return booking_flow.book_and_confirm(session=session, settings=settings,
                                             offer_id=offer_id, patient_id=patient_id,
                                             actor="staff:1").appointment.id

    results = _race(live_session_factory, [submit] * SUBMISSIONS)

    assert results.count(appointment_id) == 1
    assert all(isinstance(r, scheduling_service.OfferNotOpen)
               for r in results if r != appointment_id)
    with live_session_factory() as session:
        assert session.get(Appointment, appointment_id).status is AppointmentStatus.REBOOKED
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.patient_id == patient_id, Message.direction == Direction.OUTBOUND,
            Message.category == MessageCategory.SERVICE)) == 1
