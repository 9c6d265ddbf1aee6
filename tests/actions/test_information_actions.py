"""Practical questions from the trust's configurable information; interpreter requests."""

from __future__ import annotations

from actions.information import ActionAnswerPractical, ActionRecordInterpreter
from api.appointments.models import AppointmentStatus
from tests.actions.conftest import make_tracker, run, slot_events, texts
from tests.factories import make_appointment


def test_parking_at_a_named_hospital_comes_from_its_site_row(session, conversation, trust):
    messages, _ = run(ActionAnswerPractical(), make_tracker(
        conversation, text="is there parking at millbrook", intent="ask_parking"))

    assert texts(messages) == "Parking at Millbrook Community Hospital: Small free car park."


def test_unverified_and_no_hospital_named_gets_general_text(session, conversation, trust):
    messages, _ = run(ActionAnswerPractical(), make_tracker(
        conversation, text="how do i get there", intent="ask_transport"))

    said = texts(messages)
    assert "Millbrook Community Hospital, Royal Testshire Infirmary" in said
    assert "Tell me which one" in said


def test_where_is_my_appointment_once_verified(session, verified, patient, trust):
    make_appointment(session, patient=patient, specialty=trust.specialty,
                     status=AppointmentStatus.REBOOKED, slot_id=trust.slots[0].id)

    messages, _ = run(ActionAnswerPractical(), make_tracker(
        verified, text="where is it", intent="ask_location"))

    said = texts(messages)
    assert said.startswith("Your General surgery appointment on ")
    assert "Royal Testshire Infirmary, Outpatients B, Royal Testshire Infirmary, Infirmary Road" \
        in said


def test_accessibility_says_when_there_are_steps(session, conversation, trust):
    messages, _ = run(ActionAnswerPractical(), make_tracker(
        conversation, text="is millbrook wheelchair accessible", intent="ask_accessibility"))

    assert "has steps at the main entrance" in texts(messages)


def test_what_to_bring(session, conversation):
    messages, _ = run(ActionAnswerPractical(), make_tracker(
        conversation, text="what do i need to bring", intent="ask_what_to_bring"))

    assert "list of the medicines" in texts(messages)


def test_interpreter_is_recorded_on_the_appointments(session, verified, postponed):
    messages, events = run(ActionRecordInterpreter(), make_tracker(
        verified, text="i need a polish interpreter", intent="request_interpreter",
        entities=[{"entity": "language", "value": "polish", "start": 9, "end": 15}]))

    session.refresh(postponed)
    assert postponed.interpreter_language == "Polish"
    assert "Polish interpreter" in texts(messages)
    assert slot_events(events) == {"question": None}
    # Staff can see who asked for it and when.
    from sqlalchemy import select

    from api.audit.models import AuditEvent

    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "interpreter_requested")).one()
    assert (event.actor, event.object_id, event.details["language"]) == (
        "assistant", str(postponed.id), "Polish")


def test_interpreter_without_a_language_asks_which(session, verified, postponed):
    messages, _ = run(ActionRecordInterpreter(), make_tracker(
        verified, text="i need an interpreter", intent="request_interpreter"))

    assert "Which language" in texts(messages)
    session.refresh(postponed)
    assert postponed.interpreter_language is None
