"""Two-stage fallback: offer the two likeliest meanings, then hand over.

A message the NLU is not sure about gets "Did you mean: A) ... B) ...?" built from its two
likeliest intents (letters, so the choice cannot be mistaken for an offer number while offers
are open); "A" or "B" replays the message as that intent, so the usual rules answer it. With
no sensible meanings to offer, the patient is asked to rephrase. A second message in a row
that we cannot understand goes to the bookings team (and the assistant pauses).

RulePolicy's core fallback (no policy confident) runs this action too, so it decides the
stage itself from the bot's previous action.
"""

from __future__ import annotations

import re

from rasa_sdk.events import ActionExecuted, SlotSet, UserUtteranceReverted, UserUttered

from actions.common import DbAction, Events, Turn
from actions.handover import hand_over
from api.handover.models import HandoverReason, Urgency
from api.texts import text

ACTION_FALLBACK = "action_fallback"
REPHRASE_ASKED = {"utter_default", ACTION_FALLBACK}
SLOT_SUGGESTIONS = "suggestions"
# Meanings worth offering back: a request the assistant can act on. (Yes/no, names, dates of
# birth and offer numbers only mean something as answers to a question.)
SUGGESTABLE = frozenset({
    "ask_why_moved", "ask_status", "request_offers", "request_other_dates", "cannot_attend",
    "no_longer_needed", "health_worry", "complain", "ask_human", "request_interpreter",
    "ask_location", "ask_parking", "ask_transport", "ask_accessibility", "ask_what_to_bring",
    "what_is_this", "greet", "goodbye", "thank",
})
LETTER = re.compile(r"\b([ab])\b", re.IGNORECASE)


def previous_bot_action(turn: Turn) -> str | None:
    """The last action the bot ran before the patient's latest message."""
    seen_user = False
    for event in reversed(turn.tracker.events):
        if event.get("event") == "user":
            if seen_user:
                continue
            seen_user = True
            continue
        if seen_user and event.get("event") == "action" and event.get("name") not in (
                "action_listen", None):
            return event.get("name")
    return None


def likeliest_meanings(message: dict) -> list[str]:
    """The two likeliest intents of a message that we could offer back as choices."""
    ranking = message.get("intent_ranking") or []
    return [r["name"] for r in ranking if r.get("name") in SUGGESTABLE][:2]


class ActionFallback(DbAction):
    def name(self) -> str:
        return ACTION_FALLBACK

    def respond(self, turn: Turn) -> Events:
        if turn.intent == "choose_suggestion":
            return self._replay_choice(turn)
        if previous_bot_action(turn) in REPHRASE_ASKED:
            return hand_over(turn, reason=HandoverReason.NOT_UNDERSTOOD, urgency=Urgency.NORMAL,
                             topic="the assistant did not understand two messages in a row",
                             response="not_understood_handover")
        meanings = likeliest_meanings(turn.message)
        if len(meanings) < 2:
            # The question the bot asked (if any) still stands: no slot is changed.
            turn.dispatcher.utter_message(response="utter_default")
            return [SlotSet(SLOT_SUGGESTIONS, None)]
        turn.dispatcher.utter_message(text=text(
            "did_you_mean", first=text(f"meaning_{meanings[0]}"),
            second=text(f"meaning_{meanings[1]}")))
        entities = turn.message.get("entities") or []
        return [SlotSet(SLOT_SUGGESTIONS, [
            {"intent": intent, "text": turn.text, "entities": entities} for intent in meanings])]

    def _replay_choice(self, turn: Turn) -> Events:
        """ "A" or "B": the earlier message again, as the meaning the patient picked."""
        suggestions = turn.tracker.get_slot(SLOT_SUGGESTIONS) or []
        letter = LETTER.search(turn.text)
        if not suggestions or letter is None:
            turn.dispatcher.utter_message(response="utter_default")
            return [SlotSet(SLOT_SUGGESTIONS, None)]
        chosen = suggestions[0 if letter.group(1).lower() == "a" else -1]
        parse_data = {"text": chosen["text"], "entities": chosen.get("entities") or [],
                      "intent": {"name": chosen["intent"], "confidence": 1.0},
                      "intent_ranking": [{"name": chosen["intent"], "confidence": 1.0}],
                      "metadata": turn.message.get("metadata") or {}}
        # Undo the "A"/"B" turn and let the rules answer the message as what it meant.
        return [UserUtteranceReverted(), ActionExecuted("action_listen"),
                UserUttered(chosen["text"], parse_data=parse_data),
                SlotSet(SLOT_SUGGESTIONS, None)]
