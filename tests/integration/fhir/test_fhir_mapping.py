"""The FHIR mapping's details: priorities, contact preferences, deceased, restricted, statuses,
and what cannot be read is parked, not dropped."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from api.appointments.models import Priority
from api.config import Settings
from api.integration.fhir import mapping
from api.integration.fhir import vocabulary as v
from api.integration.fhir.resources import MappingError
from api.integration.fhir.sync import SyncResult, run_forever, take_page
from api.integration.models import Adapter, InboundStatus, IntegrationException, PasInbound
from api.integration.records import AppointmentRecord, Change, PasAppointmentStatus
from tests.integration.fhir.conftest import fhir_settings


def _appointment(**fields) -> AppointmentRecord:
    values = dict(change=Change(Adapter.FHIR, "A1"), patient_pas_id="P1",
                  status=PasAppointmentStatus.WAITLIST, specialty_code="CARD",
                  referral_date=date(2026, 1, 5), breach_date=date(2026, 5, 11))
    return AppointmentRecord(**(values | fields))


@pytest.mark.parametrize("priority", list(Priority))
def test_every_priority_round_trips_by_the_number_alone(priority):
    resource = mapping.appointment_resource(_appointment(priority=priority))
    assert mapping.appointment_record(resource).priority is priority
    resource["extension"] = [e for e in resource["extension"] if e["url"] != v.EXT_PRIORITY]
    assert mapping.appointment_record(resource).priority is priority


def test_contact_preferences_deceased_and_restricted_are_read():
    patient = {"resourceType": "Patient", "id": "P9",
               "meta": {"versionId": "3", "lastUpdated": "2026-11-30T09:00:00.5+00:00",
                        "security": [{"system": v.CONFIDENTIALITY, "code": "V"}]},
               "identifier": [{"system": v.NHS_NUMBER, "value": "9990000018"}],
               "name": [{"use": "usual", "given": ["Al"]},
                        {"use": "official", "given": ["Alan", "John"], "family": "Test"}],
               "telecom": [{"system": "phone", "use": "home", "value": "01632 960000"},
                           {"system": "sms", "use": "mobile", "value": "07700 900123"}],
               "communication": [{"language": {"coding": [{"system": v.LANGUAGE,
                                                           "code": "en"}]}},
                                 {"language": {"coding": [{"system": v.LANGUAGE,
                                                           "code": "PL"}]},
                                  "preferred": True}],
               "extension": [{"url": v.EXT_COMMUNICATION_NEED, "valueCode": "no_text_messages"},
                             {"url": v.INTERPRETER_REQUIRED, "valueBoolean": True}],
               "deceasedDateTime": "2026-11-29"}
    record = mapping.patient_record(patient)
    assert (record.given_name, record.family_name) == ("Alan John", "Test")
    assert record.mobile == "07700 900123" and record.preferred_language == "pl"
    assert record.communication_needs == ("interpreter",) and record.sms_allowed is False
    assert record.deceased and record.restricted
    assert record.change.version == "3" and record.change.event_at.microsecond == 500000


def test_statuses_without_a_rebook_word_read_as_the_nearest_and_unknown_ones_refuse():
    resource = mapping.appointment_resource(_appointment())
    assert mapping.appointment_record({**resource, "status": "proposed"}).status \
        is PasAppointmentStatus.WAITLIST
    with pytest.raises(MappingError, match="unknown appointment status"):
        mapping.appointment_record({**resource, "status": "postponed"})


def test_an_invalid_resource_is_stored_and_parked_with_its_reason(target_session):
    bad = {"resourceType": "Appointment", "id": "A7", "status": "booked",
           "meta": {"versionId": "1", "lastUpdated": "2026-11-30T09:00:00+00:00"}}
    result = SyncResult("Appointment")
    take_page(session=target_session, settings=Settings(pas_mode="fhir"), resources=[bad],
              schedules=None, result=result)
    row = target_session.scalar(select(PasInbound))
    assert result.parked == 1
    assert row.status is InboundStatus.PARKED and row.message_id == "Appointment/A7/_history/1"
    exception = target_session.scalar(select(IntegrationException))
    assert exception.reason == "invalid_resource" and "participant" in exception.detail
    assert '"id":"A7"' in exception.raw


def test_run_forever_polls_until_stopped(fhir_server, target_session):
    fhir_server.state.store(mapping.appointment_resource(_appointment()) | {"id": "A1"})
    settings = fhir_settings(fhir_server, fhir_poll_seconds=0.05)
    target_session.commit()
    stop = threading.Event()
    factory = sessionmaker(bind=target_session.get_bind())

    def patient_searches() -> int:
        return sum(1 for r in fhir_server.state.requests if r.startswith("GET /Patient"))

    def stop_after_two_passes() -> None:
        deadline = time.monotonic() + 20
        while patient_searches() < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        stop.set()

    threading.Thread(target=stop_after_two_passes, daemon=True).start()
    run_forever(session_factory=factory, settings=settings, stop=stop)
    target_session.expire_all()
    parked = target_session.scalar(select(PasInbound).where(
        PasInbound.message_id == "Appointment/A1/_history/1"))
    assert parked.status is InboundStatus.PARKED  # its patient is unknown: staff decide
    assert patient_searches() >= 2
