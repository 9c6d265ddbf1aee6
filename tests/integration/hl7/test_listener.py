"""The MLLP listener: ACK codes, duplicates, out-of-order updates, malformed messages."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from api.appointments.models import Appointment, AppointmentEvent, AppointmentStatus
from api.demo import service as demo_service
from api.integration import inbound
from api.integration.hl7 import fields, mllp
from api.integration.models import (
    Adapter,
    InboundStatus,
    IntegrationException,
    PasInbound,
)
from api.integration.records import PasAppointmentStatus
from api.patients.models import Patient
from api.scheduling.models import Slot
from tests.integration.conftest import DEMO_TODAY
from tests.integration.hl7 import messages as m
from tests.integration.hl7.conftest import listening, send


@pytest.fixture
def target(target_session):
    demo_service.seed_reference(session=target_session, today=DEMO_TODAY)
    target_session.commit()
    return target_session


def _inbound(session, control_id: str) -> PasInbound:
    session.rollback()
    return session.scalar(select(PasInbound).where(PasInbound.message_id == control_id))


def test_an_accepted_message_is_acknowledged_aa_with_the_headers_swapped(
        target, target_url, hl7_settings):
    adt = m.adt(m.patient(), settings=hl7_settings, control_id="C1")
    with listening(target_url, hl7_settings) as port:
        raw = asyncio.run(mllp.exchange_once(host="127.0.0.1", port=port, message=adt,
                                             timeout=10))

    msh = fields.first(fields.message(raw), "MSH")
    msa = fields.first(fields.message(raw), "MSA")
    assert (msh.get(3), msh.get(4), msh.get(5), msh.get(6)) == ("REBOOK", "REBOOK", "PAS",
                                                                "TRUST")
    assert msh.get(9, 1) == "ACK" and (msa.get(1), msa.get(2)) == ("AA", "C1")
    assert fields.first(fields.message(raw), "ERR") is None
    assert _inbound(target, "C1").status is InboundStatus.APPLIED


def test_malformed_messages_are_answered_ae_or_ar_with_a_reason_and_parked_raw(
        target, target_url, hl7_settings):
    patient = m.patient()
    no_filler_id = m.without(m.siu(m.appointment(target), patient, settings=hl7_settings,
                                   control_id="NOID"), "SCH", 2)
    unknown_code = m.siu(m.appointment(target, 2, specialty_code="NOPE"), patient,
                         settings=hl7_settings, control_id="BADCODE")
    oru = m.with_header(m.adt(patient, settings=hl7_settings, control_id="ORU1"),
                        message_type="ORU^R01")
    a02 = m.adt(patient, settings=hl7_settings, control_id="A02")
    a02 = m.with_header(a02, event="A02")
    garbage = "this is not HL7 at all"

    with listening(target_url, hl7_settings) as port:
        answers = send(port, no_filler_id, unknown_code, oru, a02, garbage)

    codes = [(a[0], a[1]) for a in answers]
    assert codes == [("AE", "NOID"), ("AE", "BADCODE"), ("AR", "ORU1"), ("AR", "A02"),
                     ("AR", "")]
    assert "SCH-2" in answers[0][2] and "101" in answers[0][3]
    assert "NOPE" in answers[1][2] and "204" in answers[1][3]
    assert "ORU^R01" in answers[2][2] and "200" in answers[2][3]
    assert "201" in answers[3][3]
    assert "not an HL7" in answers[4][2]
    target.rollback()
    parked = target.scalars(select(PasInbound).order_by(PasInbound.id)).all()
    assert [row.status for row in parked] == [InboundStatus.PARKED] * 5
    raws = {e.inbound_id: e.raw for e in target.scalars(select(IntegrationException))}
    assert [raws[row.id].rstrip("\r") for row in parked] == [fields.normalise(t) for t in (
        no_filler_id, unknown_code, oru, a02)] + [garbage]


def test_a_resent_message_is_applied_once_and_answered_the_same(target, target_url,
                                                                hl7_settings):
    patient = m.patient()
    booked = m.siu(m.appointment(target), patient, settings=hl7_settings, control_id="S1")
    bad = m.siu(m.appointment(target, 2, specialty_code="NOPE"), patient,
                settings=hl7_settings, control_id="S2")

    with listening(target_url, hl7_settings) as port:
        first = send(port, booked, bad)
        again = send(port, booked, bad)

    assert [a[:3] for a in again] == [a[:3] for a in first]
    assert [a[0] for a in first] == ["AA", "AE"]
    target.rollback()
    assert target.scalar(select(func.count(Appointment.id))) == 1
    assert target.scalar(select(func.count(AppointmentEvent.id))) == 1
    assert target.scalar(select(func.count(IntegrationException.id))) == 1


def test_a_message_stored_but_never_applied_is_applied_when_it_is_resent(
        target, target_url, hl7_settings):
    adt = m.adt(m.patient(), settings=hl7_settings, control_id="KILLED")
    inbound.receive(session=target, adapter=Adapter.HL7, message_id="KILLED", raw=adt)
    target.commit()

    with listening(target_url, hl7_settings) as port:
        assert send(port, adt)[0][0] == "AA"

    assert _inbound(target, "KILLED").status is InboundStatus.APPLIED


def test_an_update_older_than_the_one_applied_is_acknowledged_and_ignored(
        target, target_url, hl7_settings):
    patient = m.patient()
    booked = m.appointment(target)
    moved = m.later(booked, 10, start_at=booked.start_at.replace(hour=14))
    stale = m.later(booked, 5, start_at=booked.start_at.replace(hour=11))

    with listening(target_url, hl7_settings) as port:
        answers = send(port, m.siu(booked, patient, settings=hl7_settings, control_id="B"),
                       m.siu(moved, patient, settings=hl7_settings, event="S13",
                             control_id="R"),
                       m.siu(stale, patient, settings=hl7_settings, event="S14",
                             control_id="OLD"))

    assert [a[0] for a in answers] == ["AA", "AA", "AA"]
    assert _inbound(target, "OLD").status is InboundStatus.IGNORED
    assert "older" in _inbound(target, "OLD").outcome
    appointment = target.scalar(select(Appointment))
    assert target.get(Slot, appointment.slot_id).start_at == moved.start_at


@pytest.mark.parametrize("event,filler_status,expected", [
    ("S15", "Cancelled", AppointmentStatus.CANCELLED),
    ("S17", "Deleted", AppointmentStatus.CANCELLED),
    ("S26", "Noshow", AppointmentStatus.PENDING_CLINICAL_REVIEW),
    ("S14", "Waitlist", AppointmentStatus.POSTPONED),
    ("S14", "Complete", AppointmentStatus.ATTENDED),
])
def test_each_siu_event_moves_the_appointment(target, target_url, hl7_settings, event,
                                              filler_status, expected):
    patient = m.patient()
    booked = m.appointment(target)
    change = m.later(booked, 10, status=PasAppointmentStatus.WAITLIST)
    text = m.siu(change, patient, settings=hl7_settings, event=event, control_id="CHANGE")
    text = text.replace("|Waitlist\r", f"|{filler_status}\r")

    with listening(target_url, hl7_settings) as port:
        answers = send(port, m.siu(booked, patient, settings=hl7_settings, control_id="B"),
                       text)

    assert [a[0] for a in answers] == ["AA", "AA"], answers
    target.rollback()
    assert target.scalar(select(Appointment.status)) is expected


def test_a_merge_moves_the_merged_records_appointments(target, target_url, hl7_settings):
    survivor, merged = m.patient(1), m.patient(2)
    merge = m.adt(m.later(survivor, 30), settings=hl7_settings, control_id="MERGE")
    merge = m.with_header(merge, event="A40") + "\rMRG|P2^^^PAS^PI"

    with listening(target_url, hl7_settings) as port:
        answers = send(port, m.adt(survivor, settings=hl7_settings),
                       m.adt(merged, settings=hl7_settings),
                       m.siu(m.appointment(target, patient_n=2), merged,
                             settings=hl7_settings), merge)

    assert [a[0] for a in answers] == ["AA"] * 4
    target.rollback()
    appointment = target.scalar(select(Appointment))
    assert target.get(Patient, appointment.patient_id).nhs_number == survivor.nhs_number
