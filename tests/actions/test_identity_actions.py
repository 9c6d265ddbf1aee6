"""Identity form: validation against the conversation record, its questions, what comes after."""

from __future__ import annotations

import asyncio
from datetime import date

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.identity import (
    ActionAskIdentityDob,
    ActionAskIdentityPerson,
    ActionIdentityDone,
    ValidateIdentityForm,
    pending_message,
)
from api.handover.models import Handover, HandoverReason
from tests.actions.conftest import (
    conversation_for,
    make_tracker,
    run,
    slot_events,
    texts,
    user_event,
)
from tests.factories import make_patient

DOMAIN = {"forms": {"identity_form": {"required_slots": ["identity_person", "identity_dob"]}}}


def validate(tracker):
    """Run the form validation as Rasa's form does: the slot just filled, then the next one."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateIdentityForm().run(dispatcher, tracker, DOMAIN))
    return slot_events(events)


def form_tracker(conversation, *, text, requested, slots=None):
    filled = {requested: text}
    events = [{"event": "active_loop", "name": "identity_form"},
              {"event": "slot", "name": requested, "value": text}]
    tracker = make_tracker(conversation, text=text, intent="inform_dob",
                           slots={"requested_slot": requested, **filled, **(slots or {})})
    tracker.events.extend(events)
    return tracker


def test_a_right_date_of_birth_in_any_format_verifies(session, conversation, patient):
    slots = validate(form_tracker(conversation, text="3rd of july 58", requested="identity_dob"))

    assert slots["identity_dob"] == "checked"  # the tracker keeps no date of birth
    assert slots["identity_outcome"] == "verified"
    assert slots["requested_slot"] is None  # the form is done
    session.refresh(conversation)
    assert conversation.verified_patient_id == patient.id


def test_a_wrong_date_of_birth_asks_again_and_counts(session, conversation):
    slots = validate(form_tracker(conversation, text="4/7/1958", requested="identity_dob"))

    assert slots["identity_dob"] is None
    assert slots["identity_feedback"] == "wrong_dob"
    assert slots["requested_slot"] == "identity_dob"
    session.refresh(conversation)
    assert conversation.failed_identity_attempts == 1


def test_an_impossible_date_is_unreadable_and_not_counted(session, conversation):
    slots = validate(form_tracker(conversation, text="31/02/1958", requested="identity_dob"))

    assert slots["identity_feedback"] == "unreadable"
    session.refresh(conversation)
    assert conversation.failed_identity_attempts == 0


def test_the_third_wrong_date_locks_and_hands_over(session, conversation):
    conversation.failed_identity_attempts = 2
    session.flush()

    slots = validate(form_tracker(conversation, text="1/1/1960", requested="identity_dob"))

    assert slots["identity_outcome"] == "locked"
    assert slots["requested_slot"] is None
    [handover] = session.scalars(select(Handover)).all()
    assert handover.reason is HandoverReason.IDENTITY_LOCKOUT
    assert handover.conversation_id == conversation.id


def test_a_shared_number_asks_which_person_first(session, conversation, patient):
    make_patient(session, given_name="Tom", family_name="Jones", mobile=patient.mobile,
                 date_of_birth=date(2009, 9, 9))
    tracker = make_tracker(conversation, text="when is my appt", intent="ask_status")

    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateIdentityForm().run(dispatcher, tracker, DOMAIN))

    assert slot_events(events).get("requested_slot", "identity_person") == "identity_person"
    required = asyncio.run(ValidateIdentityForm().required_slots(
        ["identity_person", "identity_dob"], dispatcher, tracker, DOMAIN))
    assert required == ["identity_person", "identity_dob"]


def test_a_first_name_picks_the_person_then_their_date_of_birth_verifies(session, conversation,
                                                                         patient):
    tom = make_patient(session, given_name="Tom", family_name="Jones", mobile=patient.mobile,
                       date_of_birth=date(2009, 9, 9))

    picked = validate(form_tracker(conversation, text="its for tom", requested="identity_person"))
    assert picked["identity_person"] == "checked"
    assert picked["identity_candidates"] == [tom.id]

    slots = validate(form_tracker(conversation, text="9/9/09", requested="identity_dob",
                                  slots={"identity_person": "checked",
                                         "identity_candidates": [tom.id]}))
    assert slots["identity_outcome"] == "verified"
    session.refresh(conversation)
    assert conversation.verified_patient_id == tom.id


def test_initials_pick_the_person(session, conversation, patient):
    make_patient(session, given_name="Tom", family_name="Jones", mobile=patient.mobile)

    picked = validate(form_tracker(conversation, text="S.J.", requested="identity_person"))

    assert picked["identity_candidates"] == [patient.id]


def test_an_unknown_name_counts_as_a_failure(session, conversation, patient):
    make_patient(session, given_name="Tom", family_name="Jones", mobile=patient.mobile)

    picked = validate(form_tracker(conversation, text="gertrude", requested="identity_person"))

    assert picked["identity_person"] is None
    assert picked["identity_feedback"] == "wrong_person"
    session.refresh(conversation)
    assert conversation.failed_identity_attempts == 1


def test_the_dob_question_says_why_it_is_asked_again(session, conversation):
    conversation.failed_identity_attempts = 1
    session.flush()
    first, _ = run(ActionAskIdentityDob(), make_tracker(conversation))
    again, events = run(ActionAskIdentityDob(), make_tracker(
        conversation, slots={"identity_feedback": "wrong_dob"}))

    assert "date of birth" in texts(first) and "14/03/1962" in texts(first)
    assert "doesn't match" in texts(again) and "(2 left)" in texts(again)
    assert slot_events(events) == {"identity_feedback": None}


def test_the_person_question_reveals_nobody(session, conversation, patient):
    messages, _ = run(ActionAskIdentityPerson(), make_tracker(conversation))

    assert "first name or initials" in texts(messages)
    assert patient.given_name not in texts(messages)
    assert patient.family_name not in texts(messages)


def test_after_verification_the_question_that_started_it_is_answered(session, postponed,
                                                                    patient):
    conversation = conversation_for(session, patient.mobile, verified_patient=patient)
    tracker = make_tracker(conversation, text="03/07/1958", intent="inform_dob", events=[
        user_event("when will i be seen", "ask_status"),
        {"event": "active_loop", "name": "identity_form"},
    ])

    messages, events = run(ActionIdentityDone(), tracker)

    assert texts(messages).startswith("Thank you, that's confirmed.")
    assert "General surgery appointment" in texts(messages)  # the status answer
    assert slot_events(events)["verified"] is True
    assert slot_events(events)["question"] == "find_dates"


def test_after_a_lockout_the_patient_is_told_when_to_expect_contact(session, conversation):
    conversation.failed_identity_attempts = 2
    session.flush()
    validate(form_tracker(conversation, text="1/1/1960", requested="identity_dob"))

    messages, events = run(ActionIdentityDone(), make_tracker(conversation))

    assert "couldn't confirm your details" in texts(messages)
    assert "They'll be in touch by" in texts(messages)
    assert slot_events(events)["verified"] is False


def test_pending_message_is_the_one_before_the_form_started(conversation):
    tracker = make_tracker(conversation, text="3/7/58", intent="inform_dob", events=[
        user_event("hiya", "greet"),
        user_event("the tuesday one", "choose_offer"),
        {"event": "active_loop", "name": "identity_form"},
    ])

    assert pending_message(tracker)["text"] == "the tuesday one"
