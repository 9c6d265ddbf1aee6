"""New dates: up to three held slots for the patient's most pressing appointment, and new ones
that respect every preference given so far ("mornings only", "not mondays", "after the 20th",
"somewhere closer")."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

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
from actions.understanding import merge_preferences, parse_preferences
from api.appointments.models import Appointment
from api.conversations import trust_info
from api.scheduling import matching
from api.scheduling import service as scheduling_service
from api.system import localtime
from api.texts import text

ACTION_OFFER_DATES = "action_offer_dates"
ACTION_OFFER_OTHER_DATES = "action_offer_other_dates"
OFFER_LIMIT = 3


def choose_payload(number: int) -> str:
    """What a pressed button sends back: parsed by Rasa as the intent with its entity."""
    return f'/choose_offer{{"offer_number":"{number}"}}'


def to_preferences(prefs: dict[str, Any]) -> matching.Preferences | None:
    """The scheduling service's Preferences from the JSON kept in the `preferences` slot."""
    if not prefs:
        return None
    return matching.Preferences(
        weekdays=frozenset(prefs["weekdays"]) if prefs.get("weekdays") else None,
        exclude_weekdays=frozenset(prefs.get("exclude_weekdays") or ()),
        time_of_day=prefs.get("time_of_day"),
        earliest_date=date.fromisoformat(prefs["earliest_date"])
        if prefs.get("earliest_date") else None,
        latest_date=date.fromisoformat(prefs["latest_date"]) if prefs.get("latest_date") else None,
        site_ids=frozenset(prefs["site_ids"]) if prefs.get("site_ids") else None,
    )


def target_appointment(turn: Turn) -> Appointment | None:
    """The appointment in focus if it still waits for a date, else the most pressing one."""
    focus = records.appointment_of(session=turn.session, patient_id=turn.patient.id,
                                   appointment_id=turn.tracker.get_slot(SLOT_APPOINTMENT))
    if focus is not None and records.is_awaiting(focus):
        return focus
    awaiting = scheduling_service.awaiting_date(session=turn.session, patient_id=turn.patient.id)
    return awaiting[0] if awaiting else None


def offer_dates(turn: Turn, *, preferences: dict[str, Any]) -> Events:
    """Hold up to three slots and list them; or say nothing fits and offer the team."""
    appointment = target_appointment(turn)
    if appointment is None:
        turn.dispatcher.utter_message(text=text("no_awaiting"))
        return [question(None), SlotSet(SLOT_OFFERS, None)]
    label = wording.appointment_label(appointment)
    try:
        offers = scheduling_service.find_offers(
            session=turn.session, appointment_id=appointment.id,
            preferences=to_preferences(preferences), limit=OFFER_LIMIT,
            hold_minutes=scheduling_service.ASSISTANT_HOLD_MINUTES, source="assistant")
    except scheduling_service.SchedulingError:
        offers = []
    wanted = wording.preference_words(preferences)
    if not offers:
        turn.dispatcher.utter_message(text=text("offers_none_fitting" if wanted else "offers_none",
                                                wanted=wanted, label=label))
        return [question("pass_to_team"), SlotSet(SLOT_OFFERS, None),
                SlotSet(SLOT_APPOINTMENT, appointment.id), SlotSet(SLOT_PREFERENCES, preferences)]
    entries = [records.offer_entry(number, offer) for number, offer in enumerate(offers, 1)]
    intro = text("offers_fitting" if wanted else "offers_earliest", wanted=wanted, label=label,
                 minutes=scheduling_service.ASSISTANT_HOLD_MINUTES)
    if turn.channel == "whatsapp":
        # WhatsApp quick-reply titles hold 20 characters: the full details go in the text.
        lines = "\n".join(f"{e['number']}. {e['label']}" for e in entries)
        buttons = [{"title": e["short"], "payload": choose_payload(e["number"])}
                   for e in entries]
        turn.dispatcher.utter_message(text=f"{intro}\n{lines}", buttons=buttons)
    else:
        # SMS: the gateway turns buttons into numbered lines ("Reply 1, 2 or 3").
        buttons = [{"title": e["label"], "payload": choose_payload(e["number"])}
                   for e in entries]
        turn.dispatcher.utter_message(text=intro, buttons=buttons)
    return [question(None), SlotSet(SLOT_OFFERS, entries),
            SlotSet(SLOT_APPOINTMENT, appointment.id), SlotSet(SLOT_PREFERENCES, preferences)]


class ActionOfferDates(GatedAction):
    """"Can I have a new date?": the best slots for the patient's most pressing appointment."""

    def name(self) -> str:
        return ACTION_OFFER_DATES

    def answer(self, turn: Turn) -> Events:
        return offer_dates(turn, preferences=turn.tracker.get_slot(SLOT_PREFERENCES) or {})


class ActionOfferOtherDates(GatedAction):
    """"None of those, mornings only": new offers that fit, or ask what would suit."""

    def name(self) -> str:
        return ACTION_OFFER_OTHER_DATES

    def answer(self, turn: Turn) -> Events:
        today = localtime.local_today(turn.settings)
        update = parse_preferences(turn.text, entities=turn.message.get("entities") or [],
                                   today=today)
        previous = dict(turn.tracker.get_slot(SLOT_PREFERENCES) or {})
        offers = turn.tracker.get_slot(SLOT_OFFERS) or []
        prefs = merge_preferences(previous, update)
        site = trust_info.match_site(session=turn.session, text=turn.text)
        if site is not None:
            prefs["site_ids"], prefs["site_names"] = [site.id], [site.name]
        elif update.closer:
            # We do not know where the patient lives: "closer" means not where we offered.
            offered = {o["site_id"] for o in offers} | set(prefs.get("excluded_site_ids") or [])
            others = [s for s in trust_info.sites(session=turn.session) if s.id not in offered]
            if not others:
                turn.dispatcher.utter_message(text=text("no_other_site"))
                return [question("pass_to_team")]
            prefs["excluded_site_ids"] = sorted(offered)
            prefs["site_ids"] = [s.id for s in others]
            prefs["site_names"] = [s.name for s in others]
        if update.later and offers:
            last = max(date.fromisoformat(o["date"]) for o in offers)
            prefs["earliest_date"] = (last + timedelta(days=1)).isoformat()
        prefs = {k: v for k, v in prefs.items() if v not in (None, [], "")}
        if prefs == previous and offers:
            # "Any others?" / "none of them" with nothing new to go on: the next dates after
            # the ones on the table (or, if there are none, the offer of the bookings team).
            last = max(date.fromisoformat(o["date"]) for o in offers)
            return offer_dates(turn, preferences=dict(
                prefs, earliest_date=(last + timedelta(days=1)).isoformat()))
        if prefs == previous:
            # Nothing new to go on: let the held slots go for others and ask what would suit.
            appointment = target_appointment(turn)
            if appointment is not None:
                scheduling_service.decline_offers(session=turn.session,
                                                  appointment_id=appointment.id,
                                                  actor="assistant")
            turn.dispatcher.utter_message(text=text("ask_preferences"))
            return [question(None), SlotSet(SLOT_OFFERS, None)]
        return offer_dates(turn, preferences=prefs)
