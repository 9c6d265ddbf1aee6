"""Why appointments were moved, and where each of the patient's appointments stands now."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions import records, wording
from actions.common import SLOT_APPOINTMENT, DbAction, Events, GatedAction, Turn, question
from api.texts import text

ACTION_EXPLAIN_POSTPONEMENT = "action_explain_postponement"
ACTION_SHOW_STATUS = "action_show_status"


class ActionExplainPostponement(DbAction):
    """The public explanation (no identity needed); a verified patient is offered a new date."""

    def name(self) -> str:
        return ACTION_EXPLAIN_POSTPONEMENT

    def respond(self, turn: Turn) -> Events:
        turn.dispatcher.utter_message(text=text("why_moved"))
        if turn.patient is None:
            return [question(None)]
        awaiting = [a for a in records.upcoming(session=turn.session, patient_id=turn.patient.id,
                                                now=turn.now()) if records.is_awaiting(a)]
        if not awaiting:
            return [question(None)]
        turn.dispatcher.utter_message(text=text("status_ask_find_dates"))
        return [question("find_dates"), SlotSet(SLOT_APPOINTMENT, awaiting[0].id)]


class ActionShowStatus(GatedAction):
    """Each upcoming appointment in one plain sentence; offers a new date for those waiting."""

    def name(self) -> str:
        return ACTION_SHOW_STATUS

    def answer(self, turn: Turn) -> Events:
        appointments = records.upcoming(session=turn.session, patient_id=turn.patient.id,
                                        now=turn.now())
        if not appointments:
            turn.dispatcher.utter_message(text=text("status_none",
                                                    phone=turn.settings.bookings_phone))
            return [question(None)]
        turn.dispatcher.utter_message(
            text=" ".join(wording.status_line(a) for a in appointments))
        awaiting = [a for a in appointments if records.is_awaiting(a)]
        if not awaiting:
            return [question(None)]
        turn.dispatcher.utter_message(text=text("status_ask_find_dates"))
        return [question("find_dates"), SlotSet(SLOT_APPOINTMENT, awaiting[0].id)]
