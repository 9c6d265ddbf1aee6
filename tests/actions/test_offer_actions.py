"""Offers and booking: up to three held slots, preferences, picks by number, button and words."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from actions.booking import ActionBookOffer
from actions.offers import ActionOfferDates, ActionOfferOtherDates, choose_payload
from api.appointments.models import AppointmentStatus
from api.db import utcnow
from api.messaging.models import Direction, Message
from api.scheduling.models import Offer, OfferStatus
from tests.actions.conftest import make_tracker, run, slot_events, texts


def offer(session, verified, **slots):
    messages, events = run(ActionOfferDates(), make_tracker(
        verified, text="can i have a new date", intent="request_offers", slots=slots))
    return messages, slot_events(events)


def test_three_offers_on_different_days_with_buttons(session, verified, postponed):
    messages, slots = offer(session, verified)

    [message] = messages
    assert "earliest dates for your general surgery appointment" in message["text"].lower()
    assert "held for 30 minutes" in message["text"]
    assert len(message["buttons"]) == 3
    assert message["buttons"][1]["payload"] == choose_payload(2) == \
        '/choose_offer{"offer_number":"2"}'
    # SMS: the button titles carry the whole offer (the gateway numbers them).
    assert message["buttons"][0]["title"].endswith("Royal Testshire Infirmary, Outpatients B")
    assert len({o["date"] for o in slots["offers"]}) == 3
    assert slots["appointment_id"] == postponed.id
    session.refresh(postponed)
    assert postponed.status is AppointmentStatus.OFFERED


def test_whatsapp_gets_short_button_titles_and_the_details_in_the_text(session, verified,
                                                                     postponed):
    messages, _ = run(ActionOfferDates(), make_tracker(
        verified, text="new date pls", intent="request_offers", channel="whatsapp"))

    [message] = messages
    assert all(len(b["title"]) <= 20 for b in message["buttons"])
    assert "\n1. " in message["text"] and "Outpatients B" in message["text"]


def test_none_of_those_mornings_only_gets_morning_offers(session, verified, postponed):
    _, first = offer(session, verified)
    messages, events = run(ActionOfferOtherDates(), make_tracker(
        verified, text="none of those, mornings only", intent="request_other_dates",
        entities=[{"entity": "time_of_day", "value": "morning", "start": 15, "end": 23}],
        slots={"offers": first["offers"], "appointment_id": postponed.id}))

    slots = slot_events(events)
    assert "fit (mornings)" in texts(messages)
    assert slots["offers"] and all(o["part"] == "morning" for o in slots["offers"])
    assert slots["preferences"] == {"time_of_day": "morning"}
    # The first offers were let go: only the new ones are held.
    held = session.scalars(select(Offer).where(Offer.status == OfferStatus.HELD)).all()
    assert sorted(o.id for o in held) == sorted(o["offer_id"] for o in slots["offers"])


def test_not_mondays_adds_to_earlier_preferences(session, verified, postponed):
    _, first = offer(session, verified)
    _, events = run(ActionOfferOtherDates(), make_tracker(
        verified, text="not mondays", intent="request_other_dates",
        slots={"offers": first["offers"], "preferences": {"time_of_day": "afternoon"}}))

    slots = slot_events(events)
    assert slots["preferences"] == {"time_of_day": "afternoon", "exclude_weekdays": [0]}
    assert all(o["weekday"] != 0 and o["part"] == "afternoon" for o in slots["offers"])


def test_somewhere_closer_offers_other_hospitals(session, verified, postponed, trust):
    near, far = trust.sites
    _, first = offer(session, verified, preferences={"site_ids": [near.id]})
    assert {o["site_id"] for o in first["offers"]} == {near.id}

    messages, events = run(ActionOfferOtherDates(), make_tracker(
        verified, text="anything somewhere closer", intent="request_other_dates",
        slots={"offers": first["offers"], "preferences": {"site_ids": [near.id]}}))

    slots = slot_events(events)
    assert {o["site_id"] for o in slots["offers"]} == {far.id}
    assert "at Millbrook Community Hospital" in texts(messages)


def test_somewhere_closer_when_every_hospital_was_offered(session, verified, postponed, trust):
    _, first = offer(session, verified)
    assert {o["site_id"] for o in first["offers"]} == {s.id for s in trust.sites}

    messages, events = run(ActionOfferOtherDates(), make_tracker(
        verified, text="somewhere nearer", intent="request_other_dates",
        slots={"offers": first["offers"]}))

    assert "only hospitals with dates" in texts(messages)
    assert slot_events(events)["question"] == "pass_to_team"


def test_a_named_hospital_only(session, verified, postponed):
    _, events = run(ActionOfferOtherDates(), make_tracker(
        verified, text="can i go to millbrook instead", intent="request_other_dates"))

    slots = slot_events(events)
    assert {o["site_name"] for o in slots["offers"]} == {"Millbrook Community Hospital"}


def test_none_of_those_without_a_preference_offers_the_next_dates(session, verified,
                                                                  postponed, trust):
    from tests.factories import make_slot

    _, first = offer(session, verified)
    latest = max(slot.start_at for slot in trust.slots)
    for days in (7, 8):
        make_slot(session, site=trust.sites[0], specialty=trust.specialty,
                  start_at=latest + timedelta(days=days))
    messages, events = run(ActionOfferOtherDates(), make_tracker(
        verified, text="any others?", intent="request_other_dates",
        slots={"offers": first["offers"], "appointment_id": postponed.id}))

    later = slot_events(events)["offers"]
    assert later and min(o["date"] for o in later) > max(o["date"] for o in first["offers"])
    assert "from " in texts(messages)
    held = session.scalars(select(Offer).where(Offer.status == OfferStatus.HELD)).all()
    assert sorted(o.id for o in held) == sorted(o["offer_id"] for o in later)


def test_none_of_those_with_nothing_later_offers_the_bookings_team(session, verified,
                                                                   postponed):
    _, first = offer(session, verified)
    messages, events = run(ActionOfferOtherDates(), make_tracker(
        verified, text="none of them", intent="request_other_dates",
        slots={"offers": first["offers"], "appointment_id": postponed.id}))

    assert "bookings team" in texts(messages)
    assert slot_events(events)["question"] == "pass_to_team"


def test_none_of_those_with_nothing_on_the_table_asks_what_would_suit(session, verified,
                                                                      postponed):
    messages, events = run(ActionOfferOtherDates(), make_tracker(
        verified, text="none of them", intent="request_other_dates",
        slots={"offers": None, "appointment_id": postponed.id}))

    assert "What would suit you better?" in texts(messages)
    assert slot_events(events)["offers"] is None
    session.refresh(postponed)
    assert postponed.status is AppointmentStatus.POSTPONED


def test_nothing_fits_offers_the_bookings_team(session, verified, postponed):
    messages, events = run(ActionOfferOtherDates(), make_tracker(
        verified, text="only saturdays", intent="request_other_dates"))

    assert "couldn't find any dates that fit (Saturdays)" in texts(messages)
    assert slot_events(events)["question"] == "pass_to_team"


def test_no_appointment_waiting(session, verified):
    messages, _ = run(ActionOfferDates(), make_tracker(verified, intent="request_offers"))

    assert "None of your appointments is waiting" in texts(messages)


def test_an_unverified_conversation_is_sent_to_the_identity_check(session, conversation,
                                                                  postponed):
    messages, events = run(ActionOfferDates(), make_tracker(conversation,
                                                            intent="request_offers"))

    assert messages == []
    assert [e["name"] for e in events if e["event"] == "followup"] == ["identity_form"]
    assert slot_events(events)["verified"] is False


def book(session, verified, offers, text, entities=None):
    return run(ActionBookOffer(), make_tracker(
        verified, text=text, intent="choose_offer", entities=entities or [],
        slots={"offers": offers}))


def test_picking_by_number_books_it(session, verified, postponed):
    _, first = offer(session, verified)

    messages, events = book(session, verified, first["offers"], "2",
                            [{"entity": "offer_number", "value": "2"}])

    chosen = first["offers"][1]
    assert texts(messages).startswith(f"You're booked: {chosen['label']}.")
    assert "list of the medicines" in texts(messages)  # what to bring
    session.refresh(postponed)
    assert postponed.status is AppointmentStatus.REBOOKED
    assert postponed.slot_id == session.get(Offer, chosen["offer_id"]).slot_id
    assert slot_events(events)["offers"] is None


def test_the_assistant_confirms_a_booking_exactly_once(session, verified, postponed):
    _, first = offer(session, verified)
    pick = [{"entity": "offer_number", "value": "1"}]

    messages, _ = book(session, verified, first["offers"], "1", pick)
    # The same pick again (a retried turn): nothing is booked or confirmed twice.
    retried, _ = book(session, verified, first["offers"], "1", pick)

    assert texts(messages).count("You're booked") == 1
    assert "You're booked" not in texts(retried)
    # The reply is the confirmation (the worker writes it); the flow queued no second one.
    assert session.scalars(select(Message).where(
        Message.direction == Direction.OUTBOUND)).all() == []
    assert len(session.scalars(select(Offer).where(
        Offer.status == OfferStatus.ACCEPTED)).all()) == 1


def test_picking_in_words(session, verified, postponed):
    _, first = offer(session, verified)
    weekday = ("monday", "tuesday", "wednesday", "thursday")[first["offers"][2]["weekday"]]

    messages, _ = book(session, verified, first["offers"], f"the {weekday} one pls")

    assert first["offers"][2]["label"] in texts(messages)
    session.refresh(postponed)
    assert postponed.status is AppointmentStatus.REBOOKED


def test_an_ambiguous_pick_asks_which(session, verified, postponed):
    _, first = offer(session, verified)
    offers = [dict(o, part="afternoon") for o in first["offers"]]

    messages, _ = book(session, verified, offers, "the afternoon one")

    assert "Which would you like: 1, 2 or 3?" in texts(messages)
    session.refresh(postponed)
    assert postponed.status is AppointmentStatus.OFFERED


def test_an_expired_hold_gets_fresh_offers(session, verified, postponed):
    _, first = offer(session, verified)
    for held in session.scalars(select(Offer)):
        held.expires_at = utcnow() - timedelta(minutes=1)
    session.flush()

    messages, events = book(session, verified, first["offers"], "1",
                            [{"entity": "offer_number", "value": "1"}])

    assert "no longer held" in texts(messages)
    assert slot_events(events)["offers"]  # new ones


def test_nothing_on_hold(session, verified, postponed):
    messages, _ = book(session, verified, [], "2")

    assert "I don't have any dates on hold" in texts(messages)


def test_a_number_picks_from_the_held_offers_when_the_dialogue_holds_none(session, verified,
                                                                          postponed):
    """Dates given on another channel (a call's options texted on): "2" on SMS books the
    second held offer, in the order that text listed them."""
    _, first = offer(session, verified)

    messages, _ = book(session, verified, None, "2", [{"entity": "offer_number", "value": "2"}])

    chosen = first["offers"][1]
    assert texts(messages).startswith(f"You're booked: {chosen['label']}.")
    session.refresh(postponed)
    assert postponed.slot_id == session.get(Offer, chosen["offer_id"]).slot_id


def test_a_booking_on_a_call_is_also_confirmed_by_text(session, verified, postponed):
    _, first = offer(session, verified)

    messages, _ = run(ActionBookOffer(), make_tracker(
        verified, text="1", intent="choose_offer", channel="voice",
        entities=[{"entity": "offer_number", "value": "1"}], slots={"offers": first["offers"]}))

    assert texts(messages).startswith("You're booked")  # said on the call
    [written] = session.scalars(select(Message).where(Message.direction == Direction.OUTBOUND))
    assert written.body.startswith("You're booked") and written.to_address == verified.address
