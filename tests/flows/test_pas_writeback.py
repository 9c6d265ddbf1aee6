"""A booking made in Rebook goes to the PAS, and the patient hears the PAS's answer: confirmed
only once it is accepted; re-offered (and staff told) when the slot was taken there; nothing
lost or doubled while the PAS is down or a dispatcher dies mid-send."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.appointments.models import Appointment, AppointmentStatus
from api.config import Settings
from api.db import utcnow
from api.flows import booking as booking_flow
from api.flows import clinical_review, pas_writeback
from api.handover.models import Handover, HandoverReason
from api.integration import writeback
from api.integration.models import (
    Adapter,
    IntegrationException,
    PasRequest,
    RequestKind,
    RequestStatus,
)
from api.integration.writeback import WriteResult
from api.messaging.models import Direction, Message, MessageCategory
from api.scheduling import service as scheduling_service
from api.scheduling.models import Offer, OfferStatus, Slot, SlotStatus
from tests import factories
from tests.handover.helpers import next_weekdays

FHIR = Settings(pas_mode="fhir", pas_writeback_alert_attempts=3)
CSV = Settings(pas_mode="csv")


def _booked(session, settings, *, said_in_conversation=True):
    """A postponed appointment with three held offers; the patient picks the first."""
    site, specialty = factories.make_site(session), factories.make_specialty(session)
    for moment in next_weekdays(4):
        factories.make_slot(session, site=site, specialty=specialty, start_at=moment)
    appointment = factories.make_postponed_appointment(session, specialty=specialty)
    offers = scheduling_service.find_offers(session=session, appointment_id=appointment.id)
    booking = booking_flow.book_and_confirm(
        session=session, settings=settings, offer_id=offers[0].id,
        patient_id=appointment.patient_id, actor="assistant",
        said_in_conversation=said_in_conversation)
    request = session.scalar(select(PasRequest))
    return booking, request, offers


def _service_messages(session, patient_id: int) -> list[Message]:
    return list(session.scalars(select(Message).where(
        Message.patient_id == patient_id, Message.direction == Direction.OUTBOUND,
        Message.category == MessageCategory.SERVICE).order_by(Message.id)))


def test_the_patient_is_told_it_is_being_booked_not_that_it_is_booked(db_session):
    booking, request, _ = _booked(db_session, FHIR)
    assert booking.awaiting_pas and booking.message is None
    assert "asked the hospital to book" in booking.confirmation
    assert "You're booked" not in booking.confirmation
    assert (request.status, request.adapter) == (RequestStatus.PENDING, Adapter.FHIR)
    assert request.idempotency_key == f"book:offer:{request.offer_id}"


def test_acceptance_queues_the_confirmation_once(db_session):
    booking, request, _ = _booked(db_session, FHIR)
    pas_writeback.record_answer(session=db_session, settings=FHIR, request=request,
                                result=WriteResult.ok("Appointment/991"))
    pas_writeback.record_answer(session=db_session, settings=FHIR, request=request,
                                result=WriteResult.ok("Appointment/991"))
    sent = _service_messages(db_session, booking.appointment.patient_id)
    assert [m.body.startswith("You're booked") for m in sent] == [True]
    assert request.status is RequestStatus.ACCEPTED
    assert writeback.describe(session=db_session,
                              request=request).appointment_pas_id == "Appointment/991"


def test_a_slot_taken_in_the_pas_undoes_the_booking_reoffers_and_tells_staff(db_session):
    booking, request, offers = _booked(db_session, FHIR)
    taken_slot = request.slot_id
    pas_writeback.record_answer(session=db_session, settings=FHIR, request=request,
                                result=WriteResult.no("412 Precondition Failed",
                                                      conflict=True))
    appointment = db_session.get(Appointment, booking.appointment.id)
    assert (appointment.status, appointment.slot_id) == (AppointmentStatus.OFFERED, None)
    assert db_session.get(Slot, taken_slot).status is SlotStatus.BLOCKED  # never offered again
    held = list(db_session.scalars(select(Offer).where(
        Offer.appointment_id == appointment.id, Offer.status == OfferStatus.HELD)))
    assert held and taken_slot not in {o.slot_id for o in held}
    told = _service_messages(db_session, appointment.patient_id)[-1]
    assert "given" in told.body and "to someone else" in told.body
    assert told.buttons is None  # SMS: the options are numbered in the text
    assert "1." in told.body or "1)" in told.body or "1 " in told.body
    case = db_session.scalar(select(Handover).where(Handover.patient_id == appointment.patient_id))
    assert case.reason is HandoverReason.PAS_REFUSED
    exception = db_session.scalar(select(IntegrationException))
    assert (exception.reason, exception.request_id) == ("slot_taken", request.id)
    assert request.status is RequestStatus.REFUSED


def test_no_answer_is_retried_with_backoff_and_staff_are_told_after_a_few(db_session):
    _, request, _ = _booked(db_session, FHIR)
    for attempt in range(1, 4):
        before = utcnow()
        pas_writeback.record_answer(session=db_session, settings=FHIR, request=request,
                                    result=WriteResult.later("connection refused"))
        assert (request.status, request.attempts) == (RequestStatus.PENDING, attempt)
        assert request.next_attempt_at >= before
    exceptions = list(db_session.scalars(select(IntegrationException)))
    assert [e.reason for e in exceptions] == ["pas_not_answering"]


def test_csv_mode_confirms_at_once_and_waits_for_the_upload(db_session):
    booking, request, _ = _booked(db_session, CSV, said_in_conversation=False)
    assert not booking.awaiting_pas
    assert booking.message is not None and booking.message.body.startswith("You're booked")
    assert request.status is RequestStatus.PENDING_UPLOAD
    assert writeback.pending_upload(session=db_session) == [request]


def test_without_a_pas_nothing_is_queued_for_it(db_session):
    booking, request, _ = _booked(db_session, Settings(pas_mode="none"))
    assert request is None and booking.confirmation.startswith("You're booked")


class FlakyPas:
    """A PAS that times out first, then accepts; remembers every idempotency key it saw."""

    def __init__(self, failures: int = 1):
        self.failures = failures
        self.seen: list[str] = []

    def send(self, change):
        self.seen.append(change.idempotency_key)
        if self.failures:
            self.failures -= 1
            return WriteResult.later("timed out")
        return WriteResult.ok(f"Appointment/{change.request_id}")


@pytest.fixture
def live_booking(live_session_factory):
    with live_session_factory() as session:
        _booked(session, FHIR)
        session.commit()
        return session.scalar(select(PasRequest.id))


def test_the_dispatcher_retries_until_the_pas_answers(live_session_factory, live_booking):
    pas = FlakyPas(failures=1)
    writers = {Adapter.FHIR: pas}
    assert pas_writeback.send_due(session_factory=live_session_factory, settings=FHIR,
                                  writers=writers) == 1
    with live_session_factory() as session:  # due again at once, for the test
        session.get(PasRequest, live_booking).next_attempt_at = utcnow()
        session.commit()
    pas_writeback.send_due(session_factory=live_session_factory, settings=FHIR, writers=writers)
    with live_session_factory() as session:
        request = session.get(PasRequest, live_booking)
        assert request.status is RequestStatus.ACCEPTED
        assert len(_service_messages(session, request.patient_id)) == 1
    assert len(set(pas.seen)) == 1 and len(pas.seen) == 2  # the same key each time


def test_a_dispatcher_killed_mid_send_loses_and_doubles_nothing(live_session_factory,
                                                                live_booking):
    with live_session_factory() as session:  # claimed, then the process died
        assert writeback.claim(session=session, owner="dead:1") == [live_booking]
        session.commit()
    pas = FlakyPas(failures=0)
    assert pas_writeback.send_due(session_factory=live_session_factory, settings=FHIR,
                                  writers={Adapter.FHIR: pas}) == 0  # its lease still runs
    with live_session_factory() as session:
        session.get(PasRequest, live_booking).lease_until = utcnow() - timedelta(seconds=1)
        session.commit()
    assert pas_writeback.send_due(session_factory=live_session_factory, settings=FHIR,
                                  writers={Adapter.FHIR: pas}) == 1
    assert pas_writeback.send_due(session_factory=live_session_factory, settings=FHIR,
                                  writers={Adapter.FHIR: pas}) == 0
    with live_session_factory() as session:
        request = session.get(PasRequest, live_booking)
        assert request.status is RequestStatus.ACCEPTED
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.patient_id == request.patient_id,
            Message.category == MessageCategory.SERVICE)) == 1


def test_a_booking_given_up_for_clinical_review_is_cancelled_in_the_pas(db_session):
    booking, request, _ = _booked(db_session, FHIR)
    pas_writeback.record_answer(session=db_session, settings=FHIR, request=request,
                                result=WriteResult.ok("Appointment/77"))
    slot_id = booking.appointment.slot_id
    clinical_review.release_for_review(session=db_session, settings=FHIR,
                                       appointment_id=booking.appointment.id,
                                       reason="cannot attend", actor="assistant")
    cancel = db_session.scalar(select(PasRequest).where(PasRequest.kind == RequestKind.CANCEL))
    assert (cancel.status, cancel.slot_id) == (RequestStatus.PENDING, slot_id)
    change = writeback.describe(session=db_session, request=cancel)
    assert (change.appointment_pas_id, change.start_at) == (
        "Appointment/77", db_session.get(Slot, slot_id).start_at)
