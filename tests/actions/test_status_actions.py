"""Why it was moved (no identity needed) and where each appointment stands (identity first)."""

from __future__ import annotations

from actions.appointment_status import ActionExplainPostponement, ActionShowStatus
from api.appointments.models import AppointmentStatus
from tests.actions.conftest import make_tracker, run, slot_events, texts
from tests.factories import make_appointment


def test_why_needs_no_identity_and_gives_no_detail(session, conversation, postponed):
    messages, events = run(ActionExplainPostponement(), make_tracker(
        conversation, text="why was it moved", intent="ask_why_moved"))

    said = texts(messages)
    assert "industrial action" in said
    assert "most urgent first" in said and "keep your place on the waiting list" in said
    assert "General surgery" not in said  # nothing about their appointment before identity
    assert slot_events(events) == {"question": None}


def test_why_for_a_verified_patient_offers_a_new_date(session, verified, postponed):
    messages, events = run(ActionExplainPostponement(), make_tracker(
        verified, text="what does this mean for my care", intent="ask_why_moved"))

    assert texts(messages).endswith("Would you like me to find you a new date now?")
    assert slot_events(events) == {"question": "find_dates", "appointment_id": postponed.id}


def test_status_in_plain_english(session, verified, postponed, patient, trust):
    booked = make_appointment(session, patient=patient, specialty=trust.specialty,
                              status=AppointmentStatus.BOOKED, slot_id=trust.slots[-1].id)
    session.flush()

    messages, events = run(ActionShowStatus(), make_tracker(
        verified, text="when will i be seen", intent="ask_status"))

    said = texts(messages)
    assert "Your General surgery appointment is on " in said
    assert "Millbrook Community Hospital, Outpatients B" in said
    assert "is waiting for a new date" in said
    assert slot_events(events)["question"] == "find_dates"
    assert booked.id != postponed.id


def test_status_with_nothing_upcoming(session, verified):
    messages, events = run(ActionShowStatus(), make_tracker(verified, intent="ask_status"))

    assert "can't see any upcoming appointments" in texts(messages)
    assert slot_events(events) == {"question": None}


def test_status_needs_identity(session, conversation, postponed):
    messages, events = run(ActionShowStatus(), make_tracker(conversation, intent="ask_status"))

    assert messages == []
    assert [e["name"] for e in events if e["event"] == "followup"] == ["identity_form"]


def test_a_postponed_appointment_says_when_it_was(session, verified, patient, trust):
    from api.appointments import service as appointments_service

    slot = trust.slots[0]
    appointment = make_appointment(session, patient=patient, specialty=trust.specialty,
                                   status=AppointmentStatus.BOOKED, slot_id=slot.id)
    appointments_service.change_status(session=session, appointment=appointment,
                                       to_status=AppointmentStatus.POSTPONED,
                                       reason="industrial action", actor="system")
    appointment.slot_id = None
    session.flush()

    messages, _ = run(ActionShowStatus(), make_tracker(verified, intent="ask_status"))

    from actions.wording import when
    assert f"General surgery appointment (was {when(slot.start_at)}) was moved" in \
        texts(messages)
