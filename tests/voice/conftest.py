"""The call journeys' trust: a patient on a known mobile with a postponed appointment and free
slots, committed to the live database (the worker and the actions run in other sessions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from api.appointments.models import AppointmentStatus
from api.db import utcnow
from tests.conversations.helpers import echo_worker
from tests.factories import make_appointment, make_patient, make_site, make_slot, make_specialty
from tests.voice.assistant import ActionsAssistant
from tests.voice.calling import Phone, WorkerThread

MOBILE = "+447700900001"
DOB = date(1958, 7, 3)


@dataclass
class CallTrust:
    patient_id: int
    appointment_id: int
    slot_ids: list[int]


@pytest.fixture
def call_trust(live_session_factory) -> CallTrust:
    with live_session_factory() as session:
        site = make_site(session)
        site.name = "Royal Testshire Infirmary"
        specialty = make_specialty(session)
        patient = make_patient(session, given_name="Sarah", mobile=MOBILE, date_of_birth=DOB)
        appointment = make_appointment(session, patient=patient, specialty=specialty,
                                       status=AppointmentStatus.POSTPONED)
        start = utcnow().replace(hour=10, minute=0, second=0, microsecond=0)
        slots = [make_slot(session, site=site, specialty=specialty,
                           start_at=start + timedelta(days=day)) for day in (8, 9, 10)]
        session.commit()
        return CallTrust(patient.id, appointment.id, [s.id for s in slots])


@pytest.fixture
def phone(live_client) -> Phone:
    return Phone(live_client, caller=MOBILE)


@pytest.fixture
def assistant() -> ActionsAssistant:
    return ActionsAssistant()


@pytest.fixture
def worker(live_settings, live_session_factory, assistant):
    with WorkerThread(echo_worker(live_settings, live_session_factory, assistant)) as running:
        yield running
