"""Greeting: the first thing a patient hears back, naming the trust from the app's settings.

"Hi, about my appointment": a greeting that mentions the appointment already says what the
patient wants, so the identity check starts at once (it is the first step of everything about
an appointment) instead of asking "How can I help?" and making them say it again.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from api import texts
from api.config import get_settings

ACTION_GREET = "action_greet"
IDENTITY_FORM = "identity_form"
ABOUT_AN_APPOINTMENT = re.compile(
    r"\b(appointments?|appts?|appt|apt|op|operation|procedure|surgery|scan|clinic|"
    r"consultation|follow[ -]?up|check[ -]?up|referral|booking|rebook\w*|postpone\w*|"
    r"cancell?ed|moved|resched\w*)\b", re.IGNORECASE)


class ActionGreet(Action):
    def name(self) -> str:
        return ACTION_GREET

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        text = (tracker.latest_message or {}).get("text") or ""
        about_appointment = (not tracker.get_slot("verified")
                             and ABOUT_AN_APPOINTMENT.search(text) is not None)
        # No patient name or appointment detail: identity is not verified yet.
        dispatcher.utter_message(text=texts.text(
            "greeting_then_identity" if about_appointment else "greeting",
            trust_name=get_settings().trust_name))
        return [FollowupAction(IDENTITY_FORM)] if about_appointment else []
