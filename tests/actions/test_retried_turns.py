"""Retried turns: an action run again for the same inbound message acts once and says the
same words; one for a message the worker has already answered does nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from actions.booking import ActionBookOffer
from actions.cancellation import ActionCancelAppointment
from api.appointments.models import AppointmentStatus
from api.conversations.models import TurnOutcome
from api.handover.models import Handover
from api.messaging.models import Channel, Direction, Message, MessageStatus
from api.scheduling.models import Offer, OfferStatus
from tests.actions.conftest import make_tracker, run, texts
from tests.actions.test_identity_actions import form_tracker, validate
from tests.actions.test_offer_actions import offer
from tests.factories import make_appointment

PICK_ONE = [{"entity": "offer_number", "value": "1"}]


def inbound(session, conversation, body: str,
            status: MessageStatus = MessageStatus.RECEIVED) -> Message:
    message = Message(direction=Direction.INBOUND, channel=Channel.SMS, status=status,
                      from_address=conversation.address, to_address="+447700900000",
                      body=body, conversation_id=conversation.id)
    session.add(message)
    session.flush()
    return message


def book(verified, offers, message_id):
    return run(ActionBookOffer(), make_tracker(
        verified, text="1", intent="choose_offer", entities=PICK_ONE,
        slots={"offers": offers}, message_id=message_id))


def accepted(session) -> int:
    return session.scalar(select(func.count()).select_from(Offer).where(
        Offer.status == OfferStatus.ACCEPTED))


def test_a_retried_booking_turn_books_once_and_confirms_in_the_same_words(session, verified,
                                                                           postponed):
    _, first = offer(session, verified)
    message = inbound(session, verified, "1")

    said, events = book(verified, first["offers"], message.id)
    said_again, events_again = book(verified, first["offers"], message.id)

    assert texts(said).startswith("You're booked")
    assert said_again == said and events_again == events
    assert accepted(session) == 1
    [outcome] = session.scalars(select(TurnOutcome)).all()
    assert (outcome.message_id, outcome.action) == (message.id, "action_book_offer")


def test_a_new_message_is_a_new_turn(session, verified, postponed):
    _, first = offer(session, verified)
    book(verified, first["offers"], inbound(session, verified, "1").id)

    said, _ = book(verified, first["offers"], inbound(session, verified, "1 again").id)

    assert "You're booked" not in texts(said)  # the offer was taken by the first turn
    assert accepted(session) == 1


def test_an_action_for_a_message_already_answered_changes_and_says_nothing(session, verified,
                                                                           postponed):
    _, first = offer(session, verified)
    answered = inbound(session, verified, "1", status=MessageStatus.PROCESSED)

    said, _ = book(verified, first["offers"], answered.id)

    assert said == [] and accepted(session) == 0
    assert session.scalar(select(func.count()).select_from(TurnOutcome)) == 0


def test_a_read_only_action_records_nothing(session, verified, postponed):
    _, first = offer(session, verified)
    message = inbound(session, verified, "hmm")

    run(ActionBookOffer(), make_tracker(verified, text="hmm", intent="choose_offer",
                                        slots={"offers": first["offers"]},
                                        message_id=message.id))

    assert session.scalar(select(func.count()).select_from(TurnOutcome)) == 0


def test_a_retried_cancellation_sends_one_appointment_to_review(session, verified, patient,
                                                               trust):
    booked = make_appointment(session, patient=patient, specialty=trust.specialty,
                              status=AppointmentStatus.BOOKED, slot_id=trust.slots[0].id)
    message = inbound(session, verified, "yes")
    tracker = make_tracker(verified, text="yes", intent="affirm", message_id=message.id,
                           slots={"appointment_id": booked.id, "cancel_reason": "cannot_attend"})

    said, _ = run(ActionCancelAppointment(), tracker)
    said_again, _ = run(ActionCancelAppointment(), tracker)

    assert "review" in texts(said) and said_again == said
    assert session.scalar(select(func.count()).select_from(Handover)) == 1


def test_a_retried_wrong_date_of_birth_counts_once(session, conversation):
    message = inbound(session, conversation, "4/7/1958")

    def tracker():  # Rasa sends the tracker afresh with every call
        made = form_tracker(conversation, text="4/7/1958", requested="identity_dob")
        made.latest_message["metadata"]["message_id"] = message.id
        return made

    first = validate(tracker())
    again = validate(tracker())

    assert first == again and first["identity_feedback"] == "wrong_dob"
    session.refresh(conversation)
    assert conversation.failed_identity_attempts == 1
