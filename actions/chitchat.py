"""Small talk that needs more than a canned response: thanks (which asks "anything else?"),
"who is this?" (names the trust from settings) and "no" to whatever the bot last asked."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import SLOT_CANCEL_REASON, SLOT_QUESTION, Events, question
from api.config import get_settings
from api.texts import text

ACTION_THANK = "action_thank"
ACTION_EXPLAIN_SERVICE = "action_explain_service"
ACTION_ANSWER_NO = "action_answer_no"


class ActionThank(Action):
    def name(self) -> str:
        return ACTION_THANK

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> Events:
        # The rule has just said utter_you_are_welcome ("anything else?"): remember it asked.
        return [question("anything_else")]


class ActionExplainService(Action):
    def name(self) -> str:
        return ACTION_EXPLAIN_SERVICE

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> Events:
        dispatcher.utter_message(text=text("explain_service",
                                           trust_name=get_settings().trust_name))
        return [question(None)]


class ActionAnswerNo(Action):
    """"No": the answer to the question in the `question` slot (texts no_<question>)."""

    def name(self) -> str:
        return ACTION_ANSWER_NO

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> Events:
        asked = tracker.get_slot(SLOT_QUESTION)
        if asked == "anything_else":
            dispatcher.utter_message(response="utter_goodbye")
        elif asked:
            dispatcher.utter_message(text=text(f"no_{asked}"))
        else:
            dispatcher.utter_message(response="utter_ok")
        events: Events = [question(None)]
        if asked == "confirm_cancel":
            events.append(SlotSet(SLOT_CANCEL_REASON, None))
        return events
