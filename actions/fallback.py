"""Two-stage fallback: ask to rephrase once; a second message in a row that we cannot
understand goes to the bookings team (and the assistant pauses for this conversation).

The rules say utter_default to the first such message and run this action for a second one
straight after; RulePolicy's core fallback (no policy confident) runs it too, so it decides
the stage itself from the bot's previous action.
"""

from __future__ import annotations

from actions.common import DbAction, Events, Turn
from actions.handover import hand_over
from api.handover.models import HandoverReason, Urgency

ACTION_FALLBACK = "action_fallback"
REPHRASE_ASKED = {"utter_default", ACTION_FALLBACK}


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


class ActionFallback(DbAction):
    def name(self) -> str:
        return ACTION_FALLBACK

    def respond(self, turn: Turn) -> Events:
        if previous_bot_action(turn) in REPHRASE_ASKED:
            return hand_over(turn, reason=HandoverReason.NOT_UNDERSTOOD, urgency=Urgency.NORMAL,
                             topic="the assistant did not understand two messages in a row",
                             response="not_understood_handover")
        # The question the bot asked (if any) still stands: no slot is changed.
        turn.dispatcher.utter_message(response="utter_default")
        return []
