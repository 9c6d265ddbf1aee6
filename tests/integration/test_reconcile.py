"""The PAS's changes applied to Rebook: the rules every adapter shares (api/integration/
reconcile.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api.appointments.models import Appointment, AppointmentStatus
from api.campaigns.content import choose_route
from api.campaigns.models import CallReason, RecipientRoute
from api.config import Settings
from api.integration import inbound
from api.integration.models import Adapter, ExceptionStatus, InboundStatus, IntegrationException
from api.integration.reconcile import Parked, Reconciler
from api.integration.records import (
    AppointmentRecord,
    Change,
    MergeRecord,
    PasAppointmentStatus,
    PasSlotStatus,
    PatientRecord,
    SlotRecord,
)
from api.messaging import outbox
from api.messaging.models import Channel, Message, MessageCategory, MessageStatus
from api.patients.models import Patient
from api.reference.models import AppointmentType
from api.scheduling import service as scheduling_service
from api.scheduling.models import OfferStatus, Slot, SlotStatus
from tests.factories import make_site, make_specialty, valid_nhs_number

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SETTINGS = Settings(pas_mode="hl7,fhir")


@pytest.fixture
def trust(db_session):
    """A site and specialty with free slots next week, and a reconciler for HL7 (appointments,
    patients) and FHIR (capacity)."""
    site, specialty = make_site(db_session), make_specialty(db_session)
    return site, specialty, Reconciler(session=db_session, settings=SETTINGS)


def _patient(pas_id="PAS1", nhs=None, *, at=T0, adapter=Adapter.HL7, **fields) -> PatientRecord:
    values = dict(nhs_number=nhs or valid_nhs_number(4242), given_name="Sam",
                  family_name="Synthetic", date_of_birth=date(1970, 1, 2),
                  mobile="07700900123") | fields
    return PatientRecord(change=Change(adapter, pas_id, event_at=at), **values)


def _appointment(specialty, status=PasAppointmentStatus.WAITLIST, *, pas_id="APT1",
                 at=T0, **fields) -> AppointmentRecord:
    values = dict(patient_pas_id="PAS1", status=status, specialty_code=specialty.code,
                  referral_date=date(2026, 6, 1), breach_date=date(2026, 10, 5)) | fields
    return AppointmentRecord(change=Change(Adapter.HL7, pas_id, event_at=at), **values)


def _slot(site, specialty, pas_id, start, status=PasSlotStatus.FREE, version="1") -> SlotRecord:
    return SlotRecord(change=Change(Adapter.FHIR, pas_id, version=version), site_code=site.code,
                      specialty_code=specialty.code, type=AppointmentType.OUTPATIENT,
                      start_at=start, duration_minutes=20, status=status)


def _free_slots(reconciler, site, specialty, n=3) -> list[str]:
    start = datetime.now(UTC).replace(microsecond=0, second=0) + timedelta(days=7)
    ids = [f"SL{i}" for i in range(n)]
    for i, pas_id in enumerate(ids):
        reconciler.apply(_slot(site, specialty, pas_id, start + timedelta(days=i)))
    return ids


def _postponed_with_offers(db_session, trust):
    site, specialty, reconciler = trust
    _free_slots(reconciler, site, specialty)
    reconciler.apply(_patient())
    outcome = reconciler.apply(_appointment(specialty))
    offers = scheduling_service.find_offers(session=db_session,
                                            appointment_id=outcome.appointment_id)
    assert len(offers) == 3
    return outcome.appointment_id, offers


def test_a_new_patient_and_appointment_are_created_and_linked(db_session, trust):
    site, specialty, reconciler = trust
    patient = reconciler.apply(_patient(postcode="bl1 1aa", sms_allowed=False))
    outcome = reconciler.apply(_appointment(specialty))
    stored = db_session.get(Patient, patient.patient_id)
    assert stored.postcode == "BL1 1AA" and "no_text_messages" in stored.communication_needs
    assert stored.mobile == "+447700900123"
    appointment = scheduling_service.awaiting_date(session=db_session,
                                                   patient_id=patient.patient_id)[0]
    assert appointment.id == outcome.appointment_id
    assert appointment.status is AppointmentStatus.POSTPONED


def test_records_from_an_adapter_that_is_not_the_source_are_ignored(db_session, trust, caplog):
    _, _, reconciler = trust
    caplog.set_level("INFO", logger="api.integration.reconcile")
    outcome = reconciler.apply(_patient(adapter=Adapter.FHIR))  # HL7 is trusted for patients
    assert outcome.status is InboundStatus.IGNORED
    assert "hl7 is" in outcome.detail
    logged = [r for r in caplog.records if "source of truth" in r.getMessage()]
    assert [(r.adapter, r.kind, r.trusted) for r in logged] == [("fhir", "patient", "hl7")]
    assert db_session.scalar(select(Patient.id)) is None


def test_an_update_older_than_the_one_applied_is_ignored(db_session, trust):
    _, _, reconciler = trust
    reconciler.apply(_patient(at=T0 + timedelta(minutes=5), family_name="Newer"))
    late = reconciler.apply(_patient(at=T0, family_name="Older"))
    assert late.status is InboundStatus.IGNORED
    assert db_session.scalar(select(Patient.family_name)) == "Newer"


def test_a_cancellation_withdraws_the_offers_and_frees_their_slots(db_session, trust):
    _, specialty, reconciler = trust
    appointment_id, offers = _postponed_with_offers(db_session, trust)
    outcome = reconciler.apply(_appointment(specialty, PasAppointmentStatus.CANCELLED,
                                            at=T0 + timedelta(hours=1), reason="patient moved"))
    assert outcome.withdrawn_offers == 3
    for offer in offers:
        db_session.refresh(offer)
        assert offer.status is OfferStatus.WITHDRAWN
        assert db_session.get(Slot, offer.slot_id).status is SlotStatus.FREE
    appointment = db_session.get(Appointment, appointment_id)
    assert appointment.status is AppointmentStatus.CANCELLED
    assert appointment.history[-1].reason == "PAS: patient moved"


def test_a_slot_booked_in_the_pas_stops_being_offered_at_once(db_session, trust):
    site, specialty, reconciler = trust
    appointment_id, offers = _postponed_with_offers(db_session, trust)
    taken = offers[0]
    slot = db_session.get(Slot, taken.slot_id)
    outcome = reconciler.apply(_slot(site, specialty, "SL0", slot.start_at,
                                     PasSlotStatus.BUSY, version="2"))
    assert outcome.withdrawn_offers == 1
    db_session.refresh(taken)
    assert taken.status is OfferStatus.WITHDRAWN
    assert db_session.get(Slot, slot.id).status is SlotStatus.BOOKED
    others = [o for o in offers if o.id != taken.id]
    for offer in others:
        db_session.refresh(offer)
        assert offer.status is OfferStatus.HELD  # the patient keeps the rest


def test_a_booking_made_in_the_pas_withdraws_the_offers_and_rebooks(db_session, trust):
    site, specialty, reconciler = trust
    appointment_id, offers = _postponed_with_offers(db_session, trust)
    chosen = db_session.get(Slot, offers[1].slot_id)
    outcome = reconciler.apply(_appointment(
        specialty, PasAppointmentStatus.BOOKED, at=T0 + timedelta(hours=1),
        start_at=chosen.start_at, site_code=site.code, slot_pas_id="SL1"))
    assert outcome.withdrawn_offers == 3 and outcome.appointment_id == appointment_id
    db_session.expire_all()
    assert {o.status for o in offers} == {OfferStatus.WITHDRAWN}
    assert db_session.get(Slot, chosen.id).status is SlotStatus.BOOKED
    appointment = db_session.get(Appointment, appointment_id)
    assert (appointment.status, appointment.slot_id) == (AppointmentStatus.REBOOKED, chosen.id)


def test_a_death_recorded_in_the_pas_stops_every_message(db_session, trust):
    _, _, reconciler = trust
    appointment_id, offers = _postponed_with_offers(db_session, trust)
    patient = db_session.scalar(select(Patient))
    queued = outbox.queue_message(session=db_session, settings=SETTINGS, channel=Channel.SMS,
                                  to_address=patient.mobile, text="A reminder",
                                  category=MessageCategory.REMINDER, patient_id=patient.id)
    outcome = reconciler.apply(_patient(at=T0 + timedelta(hours=1), deceased=True))
    assert outcome.withdrawn_offers == 3
    db_session.refresh(queued)
    db_session.refresh(patient)
    assert queued.status is MessageStatus.CANCELLED
    assert patient.deceased_at is not None and not patient.text_is_accessible


def test_a_restricted_record_goes_to_the_staff_call_list(db_session, trust):
    _, _, reconciler = trust
    outcome = reconciler.apply(_patient(restricted=True))
    patient = db_session.get(Patient, outcome.patient_id)
    assert choose_route(patient=patient, whatsapp_template=False) == (
        RecipientRoute.CALL_LIST, None, CallReason.RESTRICTED_RECORD)


def test_a_record_that_does_not_match_the_local_patient_is_parked(db_session, trust):
    _, _, reconciler = trust
    reconciler.apply(_patient())
    with pytest.raises(Parked) as other_record:
        reconciler.apply(_patient(pas_id="PAS2"))  # same NHS number, another PAS record
    assert other_record.value.reason == "wrong_patient_risk"
    with pytest.raises(Parked) as changed_number:
        reconciler.apply(_patient(nhs=valid_nhs_number(777), at=T0 + timedelta(hours=1)))
    assert changed_number.value.reason == "wrong_patient_risk"


def test_an_unknown_code_parks_the_message_with_its_raw_text(db_session, trust):
    _, specialty, _ = trust
    row, duplicate = inbound.receive(session=db_session, adapter=Adapter.HL7,
                                     message_id="MSG-1", raw="MSH|^~\\&|PAS|...")
    assert not duplicate
    bad = _appointment(specialty, specialty_code="NOPE")
    inbound.apply(session=db_session, settings=SETTINGS, inbound=row,
                  records=[_patient(), bad])
    assert row.status is InboundStatus.PARKED
    exception = db_session.scalar(select(IntegrationException))
    assert (exception.reason, exception.status) == ("unknown_code", ExceptionStatus.OPEN)
    assert exception.raw.startswith("MSH|") and "NOPE" in exception.detail
    assert db_session.scalar(select(Patient.id)) is None  # all or nothing per message
    again, duplicate = inbound.receive(session=db_session, adapter=Adapter.HL7,
                                       message_id="MSG-1", raw="MSH|...")
    assert duplicate and again.id == row.id


def test_a_no_show_goes_back_to_a_clinician_and_frees_the_slot(db_session, trust):
    site, specialty, reconciler = trust
    _free_slots(reconciler, site, specialty, n=1)
    slot = db_session.scalar(select(Slot))
    reconciler.apply(_patient())
    reconciler.apply(_appointment(specialty, PasAppointmentStatus.BOOKED, slot_pas_id="SL0",
                                  start_at=slot.start_at, site_code=site.code))
    outcome = reconciler.apply(_appointment(specialty, PasAppointmentStatus.NOSHOW,
                                            at=T0 + timedelta(days=8)))
    assert "clinical review" in outcome.detail
    db_session.expire_all()
    assert db_session.get(Slot, slot.id).status is SlotStatus.FREE


def test_a_merge_moves_appointments_to_the_surviving_record(db_session, trust):
    _, specialty, reconciler = trust
    reconciler.apply(_patient())
    reconciler.apply(_appointment(specialty))
    survivor = reconciler.apply(_patient(pas_id="PAS9", nhs=valid_nhs_number(9091)))
    merged = reconciler.apply(MergeRecord(change=Change(Adapter.HL7, "PAS9",
                                                        event_at=T0 + timedelta(hours=2)),
                                          merged_pas_id="PAS1"))
    assert merged.patient_id == survivor.patient_id and "1 appointment" in merged.detail
    old = db_session.scalar(select(Patient).where(Patient.id != survivor.patient_id))
    assert old.restricted  # never messaged again
    later = reconciler.apply(_appointment(specialty, PasAppointmentStatus.CANCELLED,
                                          patient_pas_id="PAS9", at=T0 + timedelta(hours=3)))
    assert later.patient_id == survivor.patient_id


@pytest.mark.parametrize("notify", [False, True])
def test_the_patient_hears_of_a_cancellation_only_if_the_trust_chose_so(db_session, notify):
    site, specialty = make_site(db_session), make_specialty(db_session)
    settings = Settings(pas_mode="hl7,fhir", pas_notify_cancellations=notify)
    reconciler = Reconciler(session=db_session, settings=settings)
    _free_slots(reconciler, site, specialty, n=1)
    slot = db_session.scalar(select(Slot))
    reconciler.apply(_patient())
    reconciler.apply(_appointment(specialty, PasAppointmentStatus.BOOKED, slot_pas_id="SL0",
                                  start_at=slot.start_at, site_code=site.code))
    outcome = reconciler.apply(_appointment(specialty, PasAppointmentStatus.CANCELLED,
                                            at=T0 + timedelta(hours=1)))
    texts = list(db_session.scalars(select(Message.body).where(
        Message.category == MessageCategory.SERVICE)))
    assert ("patient told" in outcome.detail) is notify
    assert len(texts) == int(notify)
    if notify:
        assert "cancelled by the hospital" in texts[0] and " on " in texts[0]


def test_in_a_batch_a_parked_patient_books_nothing_onto_the_patient_rebook_holds(
        db_session, trust):
    _, specialty, _ = trust
    rows = [inbound.Message(message_id="row-1", raw="1", records=(
                _patient(), _appointment(specialty))),
            inbound.Message(message_id="row-2", raw="2", records=(
                _patient(pas_id="OTHER"), _appointment(specialty, pas_id="WL99",
                                                       patient_pas_id="OTHER",
                                                       nhs_number=valid_nhs_number(4242))))]
    result = inbound.receive_and_apply_batch(session=db_session, settings=SETTINGS,
                                             adapter=Adapter.HL7, messages=rows)
    assert (result.applied, result.parked) == (1, 1)
    assert db_session.scalar(select(func.count()).select_from(Appointment)) == 1
    exception = db_session.scalar(select(IntegrationException))
    assert exception.reason == "wrong_patient_risk"
