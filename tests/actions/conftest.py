"""Fixtures for action tests: a rolled-back database shared with the actions, a small trust
(two sites, a specialty, free slots), patients and their conversations, and trackers."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from api.appointments.models import AppointmentStatus
from api.conversations.models import Conversation
from api.db import utcnow
from api.messaging.models import Channel
from api.reference.models import Site
from api.scheduling.models import ClinicSession, SessionKind, SlotStatus
from tests.factories import make_appointment, make_patient, make_slot, make_specialty

LONDON = ZoneInfo("Europe/London")


@contextmanager
def _savepoint(session):
    """Like the action server's committing session: kept on success, rolled back on error."""
    with session.begin_nested():
        yield session


@pytest.fixture
def session(db_session, monkeypatch):
    """The test's rolled-back session, handed to every action instead of a new one."""
    import actions.common

    monkeypatch.setattr(actions.common, "open_session", lambda: _savepoint(db_session))
    return db_session


def local_start(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def next_weekday(weekday: int, *, weeks_ahead: int = 1) -> date:
    today = utcnow().astimezone(LONDON).date()
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks_ahead)


@dataclass
class Trust:
    """A small trust: two sites, one specialty, free slots on three weekdays (am and pm)."""

    sites: list
    specialty: Any
    slots: list


@pytest.fixture
def trust(session) -> Trust:
    near = Site(code="TST-RTI", name="Royal Testshire Infirmary", address="Infirmary Road",
                postcode="TS1 1AA", parking="Multi-storey car park, pay on exit.",
                transport="Bus 12 stops outside.", step_free_access=True)
    far = Site(code="TST-MCH", name="Millbrook Community Hospital", address="Mill Street",
               postcode="TS9 9ZZ", parking="Small free car park.",
               transport="Bus 8 from the station.", step_free_access=False)
    session.add_all([near, far])
    session.flush()
    specialty = make_specialty(session, name="General surgery")
    slots = []
    for weekday, site in ((0, near), (1, near), (3, far)):
        day = next_weekday(weekday)
        clinic = ClinicSession(kind=SessionKind.CLINIC, site_id=site.id,
                               specialty_id=specialty.id, location="Outpatients B",
                               starts_at=local_start(day, 9), ends_at=local_start(day, 17))
        session.add(clinic)
        session.flush()
        for hour, minute in ((9, 0), (14, 30)):
            slots.append(make_slot(session, site=site, specialty=specialty,
                                   session_id=clinic.id,
                                   start_at=local_start(day, hour, minute)))
    return Trust(sites=[near, far], specialty=specialty, slots=slots)


@pytest.fixture
def patient(session, trust):
    return make_patient(session, given_name="Sarah", family_name="Jones",
                        date_of_birth=date(1958, 7, 3), mobile="+447700900111")


@pytest.fixture
def postponed(session, trust, patient):
    return make_appointment(session, patient=patient, specialty=trust.specialty,
                            status=AppointmentStatus.POSTPONED)


def conversation_for(session, mobile: str, *, verified_patient=None,
                     channel: Channel = Channel.SMS) -> Conversation:
    conversation = Conversation(channel=channel, address=mobile, failed_identity_attempts=0)
    if verified_patient is not None:
        conversation.verified_patient_id = verified_patient.id
        conversation.verified_until = utcnow() + timedelta(minutes=30)
    session.add(conversation)
    session.flush()
    return conversation


@pytest.fixture
def conversation(session, patient):
    """A conversation from the patient's number, not yet verified."""
    return conversation_for(session, patient.mobile)


@pytest.fixture
def verified(session, patient):
    """A conversation verified as the patient."""
    return conversation_for(session, patient.mobile, verified_patient=patient)


def user_event(text: str, intent: str, entities: list | None = None) -> dict[str, Any]:
    return {"event": "user", "text": text,
            "parse_data": {"text": text, "intent": {"name": intent, "confidence": 1.0},
                           "entities": entities or []},
            "metadata": {"channel": "sms"}}


def make_tracker(conversation: Conversation | None, *, text: str = "", intent: str = "",
                 entities: list | None = None, slots: dict | None = None,
                 events: list | None = None, channel: str = "sms",
                 message_id: int | None = None) -> Tracker:
    metadata = {"channel": channel} | ({"message_id": message_id} if message_id else {})
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0},
              "entities": entities or [], "metadata": metadata}
    history = list(events or []) + [user_event(text, intent, entities)]
    return Tracker(conversation.public_id if conversation else "unknown-sender", slots or {},
                   latest, history, False, None, {}, "action_listen")


def run(action, tracker: Tracker) -> tuple[list[dict], list[dict]]:
    """Run an action as the action server would: (messages, events)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def slot_events(events: list[dict]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def free_slots(session) -> int:
    from sqlalchemy import func, select

    from api.scheduling.models import Slot

    return session.scalar(select(func.count()).select_from(Slot)
                          .where(Slot.status == SlotStatus.FREE))
