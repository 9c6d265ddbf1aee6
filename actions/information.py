"""Practical questions (where, parking, transport, accessibility, what to bring) and
interpreter requests, answered from the trust's configurable information."""

from __future__ import annotations

from actions import records, wording
from actions.common import SLOT_OFFERS, DbAction, Events, GatedAction, Turn, question
from api.appointments import service as appointments_service
from api.conversations import trust_info
from api.reference.models import Site
from api.texts import text

ACTION_ANSWER_PRACTICAL = "action_answer_practical"
ACTION_RECORD_INTERPRETER = "action_record_interpreter"
TOPICS = {
    "ask_location": "location",
    "ask_parking": "parking",
    "ask_transport": "transport",
    "ask_accessibility": "accessibility",
    "ask_what_to_bring": "what_to_bring",
}


class ActionAnswerPractical(DbAction):
    """The answer for the hospital the patient names, else for their own appointment (once
    verified), else in general with the list of hospitals (no appointment detail)."""

    def name(self) -> str:
        return ACTION_ANSWER_PRACTICAL

    def respond(self, turn: Turn) -> Events:
        topic = TOPICS.get(turn.intent, "location")
        appointments = (records.upcoming(session=turn.session, patient_id=turn.patient.id,
                                         now=turn.now()) if turn.patient is not None else [])
        if topic == "what_to_bring":
            kind = next((a.type for a in appointments), None)
            turn.dispatcher.utter_message(text=trust_info.what_to_bring(appointment_type=kind))
            return [question(None)]
        site = trust_info.match_site(session=turn.session, text=turn.text)
        booked = next((a for a in appointments if a.slot is not None), None)
        if site is None and booked is not None:
            site = booked.slot.site
            if topic == "location":
                turn.dispatcher.utter_message(text=text(
                    "your_appointment_place", label=wording.appointment_label(booked),
                    when=wording.when(booked.slot.start_at),
                    place=wording.slot_place(booked.slot), address=trust_info.site_line(site)))
                return [question(None)]
        if site is None:
            offered = {o["site_id"] for o in turn.tracker.get_slot(SLOT_OFFERS) or []}
            if len(offered) == 1:
                site = turn.session.get(Site, offered.pop())
        if site is not None:
            turn.dispatcher.utter_message(text=trust_info.site_topic(site, topic))
        else:
            names = [s.name for s in trust_info.sites(session=turn.session)]
            turn.dispatcher.utter_message(text=trust_info.general_topic(topic, site_names=names))
        return [question(None)]


class ActionRecordInterpreter(GatedAction):
    """Notes the interpreter language on the patient's upcoming appointments."""

    def name(self) -> str:
        return ACTION_RECORD_INTERPRETER

    def answer(self, turn: Turn) -> Events:
        languages = turn.entities("language")
        if not languages:
            turn.dispatcher.utter_message(text=text("ask_language"))
            return [question(None)]
        language = languages[0] if languages[0][:1].isupper() else languages[0].title()
        appointments = records.upcoming(session=turn.session, patient_id=turn.patient.id,
                                        now=turn.now(), statuses=records.CHANGEABLE)
        if not appointments:
            turn.dispatcher.utter_message(text=text(
                "interpreter_no_appointment", language=language,
                phone=turn.settings.bookings_phone))
            return [question(None)]
        appointments_service.request_interpreter(session=turn.session, appointments=appointments,
                                                 language=language, actor="assistant")
        which = ("appointment" if len(appointments) == 1
                 else f"{len(appointments)} upcoming appointments")
        turn.dispatcher.utter_message(text=text(
            "interpreter_recorded", language=language, which=which,
            about=trust_info.interpreter_text()))
        return [question(None)]
