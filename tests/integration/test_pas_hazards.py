"""The clinical hazards of the PAS connection (docs/clinical-safety.md, H16-H20), each shown
through the core: a booking confirmed only once the PAS takes it, a PAS that does not answer
told to staff, a slot taken in the PAS re-offered, a patient who does not match parked, a
deceased patient's messages stopped, a restricted record kept off automatic texts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from api.appointments.models import AppointmentStatus
from api.campaigns import content
from api.campaigns.models import CallReason, RecipientRoute
from api.config import get_settings
from api.flows import booking, pas_writeback
from api.handover.models import Handover, HandoverReason
from api.integration import inbound
from api.integration.models import (
    Adapter,
    InboundStatus,
    IntegrationException,
    PasRequest,
    RequestStatus,
)
from api.integration.records import Change, PatientRecord
from api.integration.writeback import WriteResult
from api.messaging import outbox
from api.messaging.models import Channel, Message, MessageStatus
from api.scheduling import service as scheduling_service
from api.scheduling.models import OfferStatus, Slot, SlotStatus
from tests.handover.helpers import Desk


@pytest.fixture
def fhir(db_session):
    return get_settings().model_copy(update={"pas_mode": "fhir",
                                             "pas_writeback_alert_attempts": 3})


def _booked_through_the_pas(db_session, settings):
    """A patient books one of their held dates while the PAS is connected over FHIR."""
    desk = Desk(db_session, prefix="hz")
    _, patient, appointment, *_ = desk.patient_case()
    offers = scheduling_service.find_offers(session=db_session, appointment_id=appointment.id,
                                            hold_minutes=60, source="staff")
    made = booking.book_and_confirm(session=db_session, settings=settings,
                                    offer_id=offers[0].id, patient_id=patient.id, actor="test")
    request = db_session.scalar(select(PasRequest).where(
        PasRequest.appointment_id == appointment.id))
    return made, request, patient


def _texts_to(db_session, patient) -> int:
    return db_session.scalar(select(func.count()).select_from(Message).where(
        Message.patient_id == patient.id, Message.status == MessageStatus.QUEUED))


def _exceptions(db_session, reason: str) -> list[IntegrationException]:
    return list(db_session.scalars(select(IntegrationException).where(
        IntegrationException.reason == reason)))


def test_a_booking_is_confirmed_only_once_the_pas_accepts_it(db_session, fhir):
    made, request, patient = _booked_through_the_pas(db_session, fhir)
    assert made.awaiting_pas and made.message is None
    before = _texts_to(db_session, patient)
    pas_writeback.record_answer(session=db_session, settings=fhir, request=request,
                                result=WriteResult.ok("pas-appt-1"))
    assert request.status is RequestStatus.ACCEPTED
    assert _texts_to(db_session, patient) == before + 1  # the confirmation, now


def test_a_pas_that_does_not_answer_is_retried_and_staff_told_never_the_patient(db_session,
                                                                               fhir):
    _, request, patient = _booked_through_the_pas(db_session, fhir)
    before = _texts_to(db_session, patient)
    for _ in range(4):
        pas_writeback.record_answer(session=db_session, settings=fhir, request=request,
                                    result=WriteResult.later("timed out"))
    assert request.status is RequestStatus.PENDING and request.attempts == 4
    assert len(_exceptions(db_session, "pas_not_answering")) == 1  # at the 3rd, once
    assert _texts_to(db_session, patient) == before  # no confirmation was sent


def test_a_slot_taken_in_the_pas_undoes_the_booking_and_reoffers(db_session, fhir):
    made, request, patient = _booked_through_the_pas(db_session, fhir)
    slot_id = made.appointment.slot_id
    pas_writeback.record_answer(session=db_session, settings=fhir, request=request,
                                result=WriteResult.no("412 Precondition Failed", conflict=True))
    assert request.status is RequestStatus.REFUSED
    # Undone, and fresh dates held for the patient at once (back to "offered").
    assert made.appointment.slot_id is None
    assert made.appointment.status is AppointmentStatus.OFFERED
    assert db_session.scalar(select(func.count()).select_from(Handover).where(
        Handover.patient_id == patient.id, Handover.reason == HandoverReason.PAS_REFUSED)) == 1
    assert db_session.get(Slot, slot_id).status is SlotStatus.BLOCKED  # never offered again
    taken = _exceptions(db_session, "slot_taken")
    assert len(taken) == 1 and taken[0].patient_id == patient.id


def _patient_record(nhs_number: str, born: date, *, pas_id: str = "P1",
                    deceased: bool = False, restricted: bool = False) -> PatientRecord:
    return PatientRecord(change=Change(adapter=Adapter.HL7, pas_id=pas_id),
                         nhs_number=nhs_number, given_name="Pat", family_name="Record",
                         date_of_birth=born, deceased=deceased, restricted=restricted)


def _apply(db_session, settings, record, message_id: str):
    row, _ = inbound.receive(session=db_session, adapter=Adapter.HL7, message_id=message_id,
                             raw="MSH|^~\\&|PAS")
    inbound.apply(session=db_session, settings=settings, inbound=row, records=[record])
    return row


def test_a_pas_patient_with_another_date_of_birth_is_parked_not_merged(db_session):
    settings = get_settings().model_copy(update={"pas_mode": "hl7"})
    desk = Desk(db_session, prefix="hw")
    _, patient, *_ = desk.patient_case()
    row = _apply(db_session, settings, _patient_record(patient.nhs_number, date(1990, 1, 1)),
                 "wrong-dob")
    assert row.status is InboundStatus.PARKED
    parked = _exceptions(db_session, "wrong_patient_risk")
    assert len(parked) == 1 and parked[0].patient_id == patient.id and parked[0].raw
    assert patient.date_of_birth != date(1990, 1, 1) and patient.family_name != "Record"


def test_a_death_recorded_in_the_pas_stops_messages_at_once(db_session):
    settings = get_settings().model_copy(update={"pas_mode": "hl7"})
    desk = Desk(db_session, prefix="hd")
    _, patient, appointment, *_ = desk.patient_case()
    offers = scheduling_service.find_offers(session=db_session, appointment_id=appointment.id,
                                            hold_minutes=60, source="staff")
    queued = outbox.queue_message(session=db_session, settings=settings, channel=Channel.SMS,
                                  to_address=patient.mobile, text="Your new date",
                                  patient_id=patient.id)
    _apply(db_session, settings, _patient_record(patient.nhs_number, patient.date_of_birth,
                                                 deceased=True), "deceased")
    db_session.refresh(queued)
    assert patient.deceased_at is not None and queued.status is MessageStatus.CANCELLED
    for offer in offers:
        db_session.refresh(offer)
    assert offers and all(o.status is not OfferStatus.HELD for o in offers)
    assert not patient.text_is_accessible


def test_a_restricted_record_is_never_texted_automatically(db_session):
    settings = get_settings().model_copy(update={"pas_mode": "hl7"})
    desk = Desk(db_session, prefix="hr")
    _, patient, *_ = desk.patient_case()
    _apply(db_session, settings, _patient_record(patient.nhs_number, patient.date_of_birth,
                                                 restricted=True), "restricted")
    assert patient.restricted and not patient.text_is_accessible
    assert booking.patient_route(session=db_session, patient=patient,
                                 conversation_id=None) is None
    assert content.choose_route(patient=patient, whatsapp_template=False) == (
        RecipientRoute.CALL_LIST, None, CallReason.RESTRICTED_RECORD)
