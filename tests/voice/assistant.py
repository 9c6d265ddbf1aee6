"""An in-process assistant for the call journeys that runs the real booking actions.

The dialogue itself (the trained model) is tested end to end in tests/e2e; these tests are
about the phone line, so the "policy" here is a few lines: a new date is the offers action,
a choose_offer payload is the booking action, anything else an echo. The actions run against
the live test database exactly as the action server would run them, keyed by message id.
"""

from __future__ import annotations

import asyncio
import json
import threading

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.booking import ActionBookOffer
from actions.offers import ActionOfferDates
from api.conversations.rasa_client import AssistantReply


class ActionsAssistant:
    def __init__(self):
        self.slots: dict[str, dict] = {}
        self.seen: list[str] = []
        self._lock = threading.Lock()

    def send(self, *, sender_id, text, metadata=None):
        with self._lock:
            self.seen.append(text)
        if text.startswith("/choose_offer"):
            entities = [{"entity": "offer_number",
                         "value": json.loads(text.removeprefix("/choose_offer"))["offer_number"]}]
            return self._run(ActionBookOffer(), sender_id, text, "choose_offer", entities,
                             metadata)
        if "new date" in text.lower() or "another date" in text.lower():
            return self._run(ActionOfferDates(), sender_id, text, "ask_new_date", [], metadata)
        return [AssistantReply(text=f"You asked: {text}. Anything else?")]

    def _run(self, action, sender_id, text, intent, entities, metadata) -> list[AssistantReply]:
        slots = self.slots.setdefault(sender_id, {"verified": True})
        latest = {"text": text, "intent": {"name": intent, "confidence": 1.0},
                  "entities": entities, "metadata": metadata or {}}
        tracker = Tracker(sender_id, dict(slots), latest, [], False, None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, tracker, {}))
        for event in events:
            if event.get("event") == "slot":
                slots[event["name"]] = event["value"]
        return [AssistantReply(text=m.get("text") or "",
                               buttons=[{"title": b["title"], "payload": b["payload"]}
                                        for b in m.get("buttons") or []])
                for m in dispatcher.messages]
