"""Handover: a person, complaints, worries; the summary staff get; when to expect contact."""

from __future__ import annotations

from sqlalchemy import select

from actions.handover import ActionHandOver, ActionHealthWorry
from api.handover.models import Handover, HandoverReason, Urgency
from api.messaging.models import Direction, Message, MessageCategory, MessageStatus
from tests.actions.conftest import make_tracker, run, slot_events, texts, user_event


def _wrote(session, conversation, *bodies):
    """The patient's messages as the webhook stores them (the summary quotes the records)."""
    for body in bodies:
        session.add(Message(conversation_id=conversation.id, direction=Direction.INBOUND,
                            channel=conversation.channel, from_address=conversation.address,
                            to_address="+440000", body=body, status=MessageStatus.PROCESSED,
                            category=MessageCategory.PATIENT))
    session.flush()


def test_asking_for_a_person_opens_a_handover_with_a_useful_summary(session, verified,
                                                                   postponed, patient):
    _wrote(session, verified, "none of those", "can i speak to someone")
    offers = [{"number": 1, "label": "Tue 16 Jan, 2:30pm, Royal Testshire Infirmary",
               "site_id": 1}]
    messages, events = run(ActionHandOver(), make_tracker(
        verified, text="can i speak to someone", intent="ask_human",
        slots={"offers": offers, "preferences": {"time_of_day": "morning"}},
        events=[user_event("none of those", "request_other_dates")]))

    [handover] = session.scalars(select(Handover)).all()
    assert handover.reason is HandoverReason.ASKED_FOR_PERSON
    assert handover.conversation_id == verified.id  # the assistant pauses for it
    assert handover.patient_id == patient.id
    summary = handover.summary
    assert "Identity verified" in summary
    assert (f"Appointment {postponed.id}: General surgery {postponed.type.value}, "
            "priority Routine, postponed." in summary)
    assert "Offered: 1. Tue 16 Jan" in summary
    assert "Preferences: mornings" in summary
    assert ("Patient wrote: \u201cnone of those\u201d / \u201ccan i speak to someone\u201d"
            in summary)
    assert summary.startswith("Assistant handover: the patient asked to speak to someone.")
    assert "They'll be in touch by" in texts(messages)
    assert slot_events(events) == {"question": None}


def test_an_unverified_handover_says_so(session, conversation):
    run(ActionHandOver(), make_tracker(conversation, text="ring me", intent="ask_human"))

    handover = session.scalars(select(Handover)).one()
    assert "Identity NOT verified" in handover.summary
    assert handover.patient_id is None


def test_a_complaint(session, conversation):
    messages, _ = run(ActionHandOver(), make_tracker(
        conversation, text="this is a disgrace", intent="complain"))

    assert session.scalars(select(Handover)).one().reason is HandoverReason.COMPLAINT
    assert "PALS" in texts(messages)


def test_a_worry_gets_no_advice_and_an_offer_to_pass_it_on(session, conversation):
    messages, events = run(ActionHealthWorry(), make_tracker(
        conversation, text="my pain is worse", intent="health_worry"))

    said = texts(messages)
    assert "can't give medical advice" in said
    assert "GP" in said and "111" in said and "999" in said
    assert slot_events(events) == {"question": "pass_to_team"}


def test_yes_to_passing_a_worry_on_is_a_high_priority_clinical_handover(session, conversation):
    tracker = make_tracker(conversation, text="yes please", intent="affirm", events=[
        user_event("can i still take my tablets", "health_worry"),
        {"event": "action", "name": "action_health_worry"},
        {"event": "action", "name": "action_listen"},
    ])

    messages, _ = run(ActionHandOver(), tracker)

    handover = session.scalars(select(Handover)).one()
    assert handover.reason is HandoverReason.CLINICAL_REVIEW
    assert handover.urgency is Urgency.HIGH
    assert "a health worry" in handover.summary
    assert "111" in texts(messages)
