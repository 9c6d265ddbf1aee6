"""Booking the offer the patient picks, by number, button or words ("the tuesday one")."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions import records, wording
from actions.common import (
    SLOT_APPOINTMENT,
    SLOT_OFFERS,
    SLOT_PREFERENCES,
    Events,
    GatedAction,
    Turn,
    question,
)
from actions.offers import offer_dates
from actions.understanding import resolve_choice
from api.flows import booking as booking_flow
from api.scheduling import service as scheduling_service
from api.texts import text

ACTION_BOOK_OFFER = "action_book_offer"
ENTITY_NAMES = ("offer_number", "weekday", "time_of_day", "date")


class ActionBookOffer(GatedAction):
    """Books the chosen slot and confirms date, time, place and what to bring."""

    def name(self) -> str:
        return ACTION_BOOK_OFFER

    def answer(self, turn: Turn) -> Events:
        # Dates given by another channel (a call's options texted on) are not in the dialogue:
        # the held offers in the database, in the order that text listed them.
        offers = turn.tracker.get_slot(SLOT_OFFERS) or [
            records.offer_entry(number, offer) for number, offer in enumerate(
                scheduling_service.held_for_patient(session=turn.session,
                                                    patient_id=turn.patient.id), 1)]
        if not offers:
            turn.dispatcher.utter_message(text=text("no_offers_held"))
            return [question(None)]
        picked = resolve_choice(offers, text=turn.text,
                                entities={name: turn.entities(name) for name in ENTITY_NAMES})
        if len(picked) != 1:
            return self._ask_which(turn, offers, picked)
        offer = offers[picked[0]]
        preferences = turn.tracker.get_slot(SLOT_PREFERENCES) or {}
        try:
            # The confirmation is this turn's reply: the worker writes it to the outbox. On a
            # call it is also texted, so the caller has the date, time and place in writing.
            booking = booking_flow.book_and_confirm(
                session=turn.session, settings=turn.settings, offer_id=offer["offer_id"],
                patient_id=turn.patient.id, actor="assistant",
                said_in_conversation=turn.channel != "voice")
        except scheduling_service.AlreadyBooked:
            turn.dispatcher.utter_message(text=text("already_busy"))
            return [question(None)]
        except scheduling_service.SchedulingError:
            # Expired, taken or closed meanwhile: fresh offers with the same preferences.
            turn.dispatcher.utter_message(text=text("offer_expired"))
            return offer_dates(turn, preferences=preferences)
        appointment = booking.appointment
        turn.dispatcher.utter_message(text=booking.confirmation)
        events: Events = [SlotSet(SLOT_OFFERS, None), SlotSet(SLOT_PREFERENCES, None)]
        still_waiting = scheduling_service.awaiting_date(session=turn.session,
                                                         patient_id=turn.patient.id)
        if still_waiting:
            turn.dispatcher.utter_message(text=text(
                "another_waiting", label=wording.appointment_label(still_waiting[0])))
            return events + [question("find_dates"), SlotSet(SLOT_APPOINTMENT,
                                                             still_waiting[0].id)]
        return events + [question(None), SlotSet(SLOT_APPOINTMENT, appointment.id)]

    @staticmethod
    def _ask_which(turn: Turn, offers: list[dict], picked: list[int]) -> Events:
        if len(picked) > 1:
            numbers = [str(offers[i]["number"]) for i in picked]
            choices = ", ".join(numbers[:-1]) + f" or {numbers[-1]}"
            turn.dispatcher.utter_message(text=text("which_of", choices=choices))
        else:
            turn.dispatcher.utter_message(text=text("which_offer"))
        return [question(None)]
