"""Passing the conversation to people: on request, complaints, worries, not understood.

A handover opened for the conversation pauses the assistant (the app stops calling it until
staff resolve it), so every handover reply says when to expect contact. Staff get a summary:
what the patient asked, whether identity was verified, their appointments and priorities, and
what was offered.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import records, wording
from actions.common import (
    SLOT_OFFERS,
    SLOT_PREFERENCES,
    DbAction,
    Events,
    Turn,
    answer_later,
    question,
)
from api.handover import service as handover_service
from api.handover.models import HandoverReason, Urgency
from api.texts import text

ACTION_HAND_OVER = "action_hand_over"
ACTION_HEALTH_WORRY = "action_health_worry"
RECENT_MESSAGES = 4
# The bot action that asked "shall I pass it on?", and what the handover is then about.
ASKED_BY = {
    "action_health_worry": (HandoverReason.CLINICAL_REVIEW, Urgency.HIGH, "a health worry",
                            "handover_worry"),
    "action_offer_dates": (HandoverReason.ASKED_FOR_PERSON, Urgency.NORMAL,
                           "no offered date suits", "handover_no_offers"),
    "action_offer_other_dates": (HandoverReason.ASKED_FOR_PERSON, Urgency.NORMAL,
                                 "no offered date suits", "handover_no_offers"),
    "action_book_offer": (HandoverReason.ASKED_FOR_PERSON, Urgency.NORMAL,
                          "no offered date suits", "handover_no_offers"),
}


def recent_texts(turn: Turn, limit: int = RECENT_MESSAGES) -> list[str]:
    """The patient's last few messages, oldest first."""
    texts = [e.get("text") or "" for e in turn.tracker.events if e.get("event") == "user"]
    return [t for t in texts if t][-limit:]


def summary_for(turn: Turn, *, topic: str) -> str:
    """What staff need to pick the conversation up without asking again."""
    lines = [f"Assistant handover: {topic}."]
    if turn.patient is None:
        lines.append("Identity NOT verified: confirm who you are speaking to before discussing "
                     "any appointment.")
    else:
        lines.append(f"Identity verified by date of birth (patient #{turn.patient.id}).")
        appointments = records.upcoming(session=turn.session, patient_id=turn.patient.id,
                                        now=turn.now())
        for appointment in appointments:
            when = (f", {wording.slot_line(appointment.slot)}" if appointment.slot else "")
            lines.append(f"- #{appointment.id} {wording.appointment_label(appointment)}: "
                         f"{appointment.status.value}, priority {appointment.priority.value}"
                         f"{when}")
        if not appointments:
            lines.append("No upcoming appointments.")
    offers = turn.tracker.get_slot(SLOT_OFFERS) or []
    if offers:
        lines.append("Offered: " + "; ".join(f"{o['number']}. {o['label']}" for o in offers))
    preferences = wording.preference_words(turn.tracker.get_slot(SLOT_PREFERENCES) or {})
    if preferences:
        lines.append(f"Preferences: {preferences}")
    texts = recent_texts(turn)
    if texts:
        lines.append("Patient wrote: " + " | ".join(f'"{t}"' for t in texts))
    return "\n".join(lines)


def hand_over(turn: Turn, *, reason: HandoverReason, urgency: Urgency, topic: str,
              response: str) -> Events:
    """Open (or add to) the conversation's handover and tell the patient when to expect contact."""
    handover = handover_service.open_handover(
        session=turn.session, settings=turn.settings, reason=reason, urgency=urgency,
        created_by="assistant", summary=summary_for(turn, topic=topic),
        conversation_id=turn.conversation.id if turn.conversation is not None else None,
        patient_id=turn.patient.id if turn.patient is not None else None)
    turn.dispatcher.utter_message(text=text(
        response, phone=turn.settings.bookings_phone,
        when=answer_later(settings=turn.settings, due_at=handover.due_at)))
    return [question(None)]


def _last_bot_action(turn: Turn) -> str | None:
    skip = {"action_listen", "action_hand_over", "action_fallback", None}
    for event in reversed(turn.tracker.events):
        if event.get("event") == "action" and event.get("name") not in skip:
            return event.get("name")
    return None


class ActionHandOver(DbAction):
    """Asked for a person, complained, or said yes to "shall I pass it on?"."""

    def name(self) -> str:
        return ACTION_HAND_OVER

    def respond(self, turn: Turn) -> Events:
        if turn.intent == "complain":
            return hand_over(turn, reason=HandoverReason.COMPLAINT, urgency=Urgency.NORMAL,
                             topic="complaint", response="handover_complaint")
        if turn.intent == "affirm":
            asked_by = ASKED_BY.get(_last_bot_action(turn) or "")
            if asked_by is not None:
                reason, urgency, topic, response = asked_by
                return hand_over(turn, reason=reason, urgency=urgency, topic=topic,
                                 response=response)
        return hand_over(turn, reason=HandoverReason.ASKED_FOR_PERSON, urgency=Urgency.NORMAL,
                         topic="the patient asked to speak to someone",
                         response="handover_person")


class ActionHealthWorry(Action):
    """No medical advice here: GP / NHS 111 (999 in an emergency), and offer to pass it on."""

    def name(self) -> str:
        return ACTION_HEALTH_WORRY

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> Events:
        dispatcher.utter_message(text=text("health_worry"))
        return [question("pass_to_team")]

