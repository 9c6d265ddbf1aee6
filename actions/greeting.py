"""Greeting: the first thing a patient hears back, naming the trust from the app's settings."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from api.config import get_settings

ACTION_GREET = "action_greet"


def greeting_text(*, trust_name: str) -> str:
    """The greeting; no patient name or appointment detail (identity is not verified yet)."""
    return (
        f"Hello, you're messaging {trust_name}. I can help with appointments moved "
        "because of industrial action. How can I help?"
    )


class ActionGreet(Action):
    def name(self) -> str:
        return ACTION_GREET

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=greeting_text(trust_name=get_settings().trust_name))
        return []
