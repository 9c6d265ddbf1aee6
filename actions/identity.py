"""Identity first: the identity form's validation, its questions, and what happens after it.

The checks themselves (dates of birth, names on shared numbers, the lockout) are
api/conversations/identity.py, working on the conversation record; these actions only ask,
pass the answers on and say what came of them.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import (
    SLOT_VERIFIED,
    DbAction,
    Events,
    Turn,
    answer_later,
    in_session,
)
from api.config import get_settings
from api.conversations import identity
from api.conversations.models import Conversation
from api.handover import service as handover_service
from api.system import localtime
from api.texts import text

ACTION_VALIDATE_IDENTITY_FORM = "validate_identity_form"
ACTION_ASK_IDENTITY_PERSON = "action_ask_identity_person"
ACTION_ASK_IDENTITY_DOB = "action_ask_identity_dob"
ACTION_IDENTITY_DONE = "action_identity_done"

PERSON = "identity_person"
DOB = "identity_dob"
CANDIDATES = "identity_candidates"
FEEDBACK = "identity_feedback"
OUTCOME = "identity_outcome"
UNREADABLE = "identity_unreadable"
CHECKED = "checked"  # what an answer slot holds once validated: the tracker keeps no DOB
MAX_UNREADABLE = 3

IDENTITY_SLOTS = (PERSON, DOB, CANDIDATES, FEEDBACK, OUTCOME, UNREADABLE)


def _attempts_left(conversation: Conversation | None) -> int:
    used = conversation.failed_identity_attempts if conversation is not None else 0
    return max(identity.MAX_FAILED_ATTEMPTS - used, 0)


class ValidateIdentityForm(FormValidationAction):
    """Checks each answer against the conversation record and decides what to ask next."""

    def name(self) -> str:
        return ACTION_VALIDATE_IDENTITY_FORM

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> list[str]:
        if tracker.get_slot(OUTCOME):
            return []

        def work(session: Session, conversation: Conversation | None) -> list[str]:
            if conversation is None or identity.verified_patient(
                    session=session, conversation=conversation) is not None:
                return []
            if identity.is_locked(session=session, conversation=conversation):
                return []
            chosen = tracker.get_slot(CANDIDATES) or []
            several = (len(chosen) > 1 if chosen else identity.needs_person_choice(
                session=session, conversation=conversation))
            if several and tracker.get_slot(PERSON) != CHECKED or (
                    tracker.get_slot(FEEDBACK) == "ambiguous"):
                return [PERSON, DOB]
            return [DOB]

        return await in_session(tracker, work)

    async def validate_identity_person(self, value: Any, dispatcher: CollectingDispatcher,
                                       tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text = str(value or "")
        if value == CHECKED:
            return {}

        def work(session: Session, conversation: Conversation | None) -> dict[str, Any]:
            if conversation is None:
                return {PERSON: None, OUTCOME: "unavailable"}
            settings = get_settings()
            if identity.parse_dob(text, today=localtime.local_today(settings)) is not None:
                # A date of birth where we asked for a name: no penalty (the date is checked
                # as the date of birth in the same turn when the patient sent one).
                return {PERSON: None}
            outcome = identity.choose_person(session=session, settings=settings,
                                             conversation=conversation, text=text)
            if outcome.status == "chosen":
                return {PERSON: CHECKED, CANDIDATES: list(outcome.candidate_ids), FEEDBACK: None}
            if outcome.status == "locked":
                return {PERSON: CHECKED, OUTCOME: "locked"}
            return {PERSON: None, FEEDBACK: "wrong_person"}

        return await in_session(tracker, work, key="validate_identity_form:person",
                                dispatcher=dispatcher)

    async def validate_identity_dob(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text = str(value or "")
        if value == CHECKED or tracker.get_slot(OUTCOME):
            return {}

        def work(session: Session, conversation: Conversation | None) -> dict[str, Any]:
            if conversation is None:
                return {DOB: None, OUTCOME: "unavailable"}
            settings = get_settings()
            outcome = identity.check_dob(session=session, settings=settings,
                                         conversation=conversation, text=text,
                                         candidate_ids=tracker.get_slot(CANDIDATES) or None)
            if outcome.status == "verified":
                return {DOB: CHECKED, OUTCOME: "verified", FEEDBACK: None}
            if outcome.status == "locked":
                return {DOB: CHECKED, OUTCOME: "locked"}
            if outcome.status == "ambiguous":
                return {DOB: None, PERSON: None, CANDIDATES: list(outcome.candidate_ids),
                        FEEDBACK: "ambiguous"}
            if outcome.status == "unreadable":
                unreadable = int(tracker.get_slot(UNREADABLE) or 0) + 1
                if unreadable >= MAX_UNREADABLE:
                    identity.lock(session=session, settings=settings, conversation=conversation,
                                  reason="failed identity checks or replies that were not a "
                                         "date of birth")
                    return {DOB: CHECKED, OUTCOME: "locked", UNREADABLE: unreadable}
                return {DOB: None, FEEDBACK: "unreadable", UNREADABLE: unreadable}
            return {DOB: None, FEEDBACK: "wrong_dob"}

        return await in_session(tracker, work, key="validate_identity_form:dob",
                                dispatcher=dispatcher)


class ActionAskIdentityPerson(DbAction):
    """Asks which person on a shared number is texting (first name or initials)."""

    def name(self) -> str:
        return ACTION_ASK_IDENTITY_PERSON

    def respond(self, turn: Turn) -> Events:
        feedback = turn.tracker.get_slot(FEEDBACK)
        if feedback == "wrong_person":
            turn.dispatcher.utter_message(text=text(
                "identity_person_wrong", attempts_left=_attempts_left(turn.conversation)))
        elif feedback == "ambiguous":
            turn.dispatcher.utter_message(text=text("identity_ambiguous"))
        else:
            turn.dispatcher.utter_message(text=text("identity_ask_person"))
        return [SlotSet(FEEDBACK, None)]


class ActionAskIdentityDob(DbAction):
    """Asks for the date of birth (again, saying why, when the last answer did not fit)."""

    def name(self) -> str:
        return ACTION_ASK_IDENTITY_DOB

    def respond(self, turn: Turn) -> Events:
        feedback = turn.tracker.get_slot(FEEDBACK)
        if feedback == "wrong_dob":
            turn.dispatcher.utter_message(text=text(
                "identity_dob_wrong", attempts_left=_attempts_left(turn.conversation)))
        elif feedback == "unreadable":
            turn.dispatcher.utter_message(text=text("identity_dob_unreadable"))
        elif turn.tracker.get_slot(PERSON) == CHECKED:
            turn.dispatcher.utter_message(text=text("identity_ask_dob_for_person"))
        else:
            turn.dispatcher.utter_message(text=text("identity_ask_dob"))
        return [SlotSet(FEEDBACK, None)]


def pending_message(tracker: Tracker) -> dict[str, Any] | None:
    """The patient's message that started the identity check (answered once it passes)."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "active_loop" and event.get("name") == "identity_form":
            for earlier in reversed(events[:index]):
                if earlier.get("event") == "user":
                    parse = earlier.get("parse_data") or {}
                    return {"text": earlier.get("text") or "", "intent": parse.get("intent"),
                            "entities": parse.get("entities") or [],
                            "metadata": earlier.get("metadata") or {}}
            return None
    return None


def _pending_handlers() -> dict[str, type]:
    # Imported here: the topic modules build on common.py, not on this one.
    from actions.appointment_status import ActionShowStatus
    from actions.booking import ActionBookOffer
    from actions.cancellation import ActionConfirmCancellation
    from actions.information import ActionRecordInterpreter
    from actions.offers import ActionOfferDates, ActionOfferOtherDates

    return {
        "ask_status": ActionShowStatus,
        "request_offers": ActionOfferDates,
        "choose_offer": ActionBookOffer,
        "request_other_dates": ActionOfferOtherDates,
        "cannot_attend": ActionConfirmCancellation,
        "no_longer_needed": ActionConfirmCancellation,
        "request_interpreter": ActionRecordInterpreter,
    }


class ActionIdentityDone(DbAction):
    """After the check: answer what the patient asked, or explain the lockout."""

    def name(self) -> str:
        return ACTION_IDENTITY_DONE

    def respond(self, turn: Turn) -> Events:
        reset = [SlotSet(slot, None) for slot in IDENTITY_SLOTS]
        if turn.patient is not None:
            pending = pending_message(turn.tracker)
            intent = ((pending or {}).get("intent") or {}).get("name")
            handler = _pending_handlers().get(intent or "")
            events: Events = [*reset, SlotSet(SLOT_VERIFIED, True)]
            if handler is None:
                turn.dispatcher.utter_message(text=text("identity_verified"))
                return events
            turn.dispatcher.utter_message(text=text("identity_confirmed"))
            turn.message = pending
            return events + handler().answer(turn)
        handover = (handover_service.open_for_conversation(
            session=turn.session, conversation_id=turn.conversation.id)
            if turn.conversation is not None else None)
        when = (answer_later(settings=turn.settings, due_at=handover.due_at)
                if handover is not None else "")
        turn.dispatcher.utter_message(text=text("identity_locked", when=when,
                                                phone=turn.settings.bookings_phone))
        return [*reset, SlotSet(SLOT_VERIFIED, False)]
