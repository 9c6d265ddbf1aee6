"""Passing the conversation to people: on request, complaints, worries, not understood.

A handover opened for the conversation pauses the assistant (the app stops calling it until
staff resolve it), so every handover reply says when to expect contact. Staff get the one
handover summary (api.handover.summary): what the patient asked, whether identity was
verified, their appointments and priorities, and what the assistant offered.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import wording
from actions.common import (
    SLOT_OFFERS,
    SLOT_PREFERENCES,
    DbAction,
    Events,
    Turn,
    answer_later,
    question,
)
from api.conversations import service as conversations_service
from api.handover import service as handover_service
from api.handover import summary as handover_summary
from api.handover.models import HandoverReason, Urgency
from api.texts import text

ACTION_HAND_OVER = "action_hand_over"
ACTION_HEALTH_WORRY = "action_health_worry"
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


def opening_for(*, topic: str) -> str:
    """The summary's opening line for a handover the assistant makes."""
    return f"Assistant handover: {topic}."


def context_for(turn: Turn, *, off_conversation: bool = False) -> list[str]:
    """What only the conversation's state knows: what was offered, the patient's preferences,
    and for a case not opened on the conversation (`off_conversation`: the builder cannot read
    it then) how identity was proven and the patient's latest words. The summary builder
    (api.handover.summary) adds the rest from the records."""
    lines = []
    if off_conversation and turn.patient is not None:
        lines.append(f"Identity verified by date of birth (patient #{turn.patient.id}).")
    offers = turn.tracker.get_slot(SLOT_OFFERS) or []
    if offers:
        lines.append("Offered: " + "; ".join(f"{o['number']}. {o['label']}" for o in offers))
    preferences = wording.preference_words(turn.tracker.get_slot(SLOT_PREFERENCES) or {})
    if preferences:
        lines.append(f"Preferences: {preferences}")
    said = [e.get("text") for e in turn.tracker.events if e.get("event") == "user"]
    said = [t for t in said if t][-handover_summary.PATIENT_MESSAGES_SHOWN:]
    if off_conversation and said:
        lines.append(handover_summary.words_line(said))
    return lines


def hand_over(turn: Turn, *, reason: HandoverReason, urgency: Urgency, topic: str,
              response: str) -> Events:
    """Open (or add to) the conversation's handover and tell the patient when to expect contact."""
    handover = handover_service.open_handover(
        session=turn.session, settings=turn.settings, reason=reason, urgency=urgency,
        created_by="assistant", summary=opening_for(topic=topic), context=context_for(turn),
        conversation=(conversations_service.facts_of(turn.conversation)
                      if turn.conversation is not None else None),
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

