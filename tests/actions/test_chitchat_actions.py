"""Greeting, thanks, "who is this?", "no", and the two-stage fallback."""

from __future__ import annotations

import re

from sqlalchemy import select

from actions.chitchat import ActionAnswerNo, ActionExplainService, ActionThank
from actions.fallback import ActionFallback
from actions.greeting import ActionGreet
from api.config import get_settings
from api.handover.models import Handover, HandoverReason
from tests.actions.conftest import make_tracker, run, slot_events, texts, user_event


def test_greeting_names_the_trust_and_nobody_else(conversation):
    messages, events = run(ActionGreet(), make_tracker(conversation, text="hiya"))

    assert get_settings().trust_name in texts(messages)
    assert events == []


def test_a_greeting_about_the_appointment_starts_the_identity_check(conversation):
    messages, events = run(ActionGreet(), make_tracker(
        conversation, text="hiya, got ur text about the appointment", slots={"verified": False}))

    assert get_settings().trust_name in texts(messages)
    assert "How can I help" not in texts(messages)
    assert events == [{"event": "followup", "name": "identity_form", "timestamp": None}]


def test_thanks_remembers_that_anything_else_was_asked(conversation):
    messages, events = run(ActionThank(), make_tracker(conversation, text="ta"))

    assert messages == []  # the rule has just said utter_you_are_welcome
    assert slot_events(events) == {"question": "anything_else"}


def test_who_is_this(conversation):
    messages, events = run(ActionExplainService(), make_tracker(conversation, text="?"))

    assert get_settings().trust_name in texts(messages)
    assert "industrial action" in texts(messages)
    assert slot_events(events) == {"question": None}


def test_no_means_what_was_asked(conversation):
    cases = {
        "find_dates": "whenever you're ready for a new date",
        "confirm_cancel": "I haven't changed anything",
        "pass_to_team": "NHS 111",
    }
    for question, expected in cases.items():
        messages, events = run(ActionAnswerNo(), make_tracker(
            conversation, text="no", intent="deny", slots={"question": question}))
        assert expected in texts(messages)
        assert slot_events(events)["question"] is None
    messages, _ = run(ActionAnswerNo(), make_tracker(
        conversation, text="nah", slots={"question": "anything_else"}))
    assert messages[0]["response"] == "utter_goodbye"
    messages, _ = run(ActionAnswerNo(), make_tracker(conversation, text="no"))
    assert messages[0]["response"] == "utter_ok"


def test_fallback_asks_to_rephrase_first(session, conversation):
    messages, events = run(ActionFallback(), make_tracker(conversation, text="zzz"))

    assert messages[0]["response"] == "utter_default"
    assert slot_events(events) == {"suggestions": None}
    assert not session.scalars(select(Handover)).all()


def _unsure(conversation, text, ranking, **kwargs):
    tracker = make_tracker(conversation, text=text, intent="nlu_fallback", **kwargs)
    tracker.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.4},
        *({"name": name, "confidence": conf} for name, conf in ranking)]
    return tracker


def test_fallback_offers_the_two_likeliest_meanings_as_letters(session, conversation):
    tracker = _unsure(conversation, "can it be sooner its getting worse",
                      [("affirm", 0.3), ("request_offers", 0.28), ("health_worry", 0.25),
                       ("complain", 0.1)])

    messages, events = run(ActionFallback(), tracker)

    said = texts(messages)
    assert "A) choose a new date" in said and "B) a worry about your health" in said
    assert "Reply A or B" in said and not re.search(r"\b[123]\b", said)
    assert [s["intent"] for s in slot_events(events)["suggestions"]] == [
        "request_offers", "health_worry"]
    assert not session.scalars(select(Handover)).all()


def test_b_replays_the_message_as_the_second_meaning(session, conversation):
    suggestions = [{"intent": "request_offers", "text": "can it be sooner", "entities": []},
                   {"intent": "health_worry", "text": "can it be sooner", "entities": []}]
    tracker = make_tracker(conversation, text="B", intent="choose_suggestion",
                           slots={"suggestions": suggestions})

    messages, events = run(ActionFallback(), tracker)

    assert messages == []
    kinds = [e["event"] for e in events]
    assert kinds[:3] == ["rewind", "action", "user"]
    assert events[2]["parse_data"]["intent"]["name"] == "health_worry"
    assert events[2]["text"] == "can it be sooner"
    assert slot_events(events) == {"suggestions": None}


def test_fallback_hands_over_the_second_time_in_a_row(session, conversation):
    tracker = make_tracker(conversation, text="qqq", intent="nlu_fallback", events=[
        user_event("zzz", "nlu_fallback"),
        {"event": "action", "name": "utter_default"},
        {"event": "action", "name": "action_listen"},
    ])

    messages, _ = run(ActionFallback(), tracker)

    handover = session.scalars(select(Handover)).one()
    assert handover.reason is HandoverReason.NOT_UNDERSTOOD
    assert handover.conversation_id == conversation.id
    assert "passed your message to our bookings team" in texts(messages)
