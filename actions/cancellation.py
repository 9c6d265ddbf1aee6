""""I can't come" / "I don't need it any more": confirm, release the slot, clinical review.

Nobody leaves a waiting list without a clinical decision: the appointment goes to
PENDING_CLINICAL_REVIEW (the scheduling service releases its slot or holds) and a handover
puts it in front of the clinical team. That handover is about the appointment, not this
conversation, so the assistant stays available to the patient.
"""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions import records, wording
from actions.common import (
    SLOT_APPOINTMENT,
    SLOT_CANCEL_REASON,
    SLOT_OFFERS,
    Events,
    GatedAction,
    Turn,
    answer_later,
    question,
)
from actions.handover import context_for, hand_over, opening_for
from api.flows import clinical_review
from api.handover import service as handover_service
from api.handover.models import HandoverReason, Urgency
from api.scheduling import service as scheduling_service
from api.texts import text

ACTION_CONFIRM_CANCELLATION = "action_confirm_cancellation"
ACTION_CANCEL_APPOINTMENT = "action_cancel_appointment"
REASONS = {
    "cannot_attend": "the patient says they cannot attend",
    "no_longer_needed": "the patient says they no longer need it",
}


def _describe(appointment) -> str:
    label = wording.appointment_label(appointment)
    if appointment.slot is not None:
        return f"{label} on {wording.when(appointment.slot.start_at)}"
    return label


class ActionConfirmCancellation(GatedAction):
    """Names the appointment and asks for a YES before anything changes."""

    def name(self) -> str:
        return ACTION_CONFIRM_CANCELLATION

    def answer(self, turn: Turn) -> Events:
        changeable = records.upcoming(session=turn.session, patient_id=turn.patient.id,
                                      now=turn.now(), statuses=records.CHANGEABLE)
        focus = records.appointment_of(session=turn.session, patient_id=turn.patient.id,
                                       appointment_id=turn.tracker.get_slot(SLOT_APPOINTMENT))
        if focus is None or focus not in changeable:
            focus = changeable[0] if len(changeable) == 1 else None
        if not changeable:
            turn.dispatcher.utter_message(text=text("cancel_nothing",
                                                    phone=turn.settings.bookings_phone))
            return [question(None)]
        reason = turn.intent if turn.intent in REASONS else "cannot_attend"
        if focus is None:
            # Several appointments and nothing says which: check the patient meant it, then a
            # person sorts out which one (after YES).
            turn.dispatcher.utter_message(text=text(f"confirm_{reason}_several",
                                                    count=len(changeable)))
            return [question("confirm_cancel"), SlotSet(SLOT_APPOINTMENT, None),
                    SlotSet(SLOT_CANCEL_REASON, reason)]
        turn.dispatcher.utter_message(text=text(f"confirm_{reason}", what=_describe(focus)))
        return [question("confirm_cancel"), SlotSet(SLOT_APPOINTMENT, focus.id),
                SlotSet(SLOT_CANCEL_REASON, reason)]


class ActionCancelAppointment(GatedAction):
    """After YES: release the slot, send the appointment to clinical review, tell the patient."""

    def name(self) -> str:
        return ACTION_CANCEL_APPOINTMENT

    def answer(self, turn: Turn) -> Events:
        appointment = records.appointment_of(
            session=turn.session, patient_id=turn.patient.id,
            appointment_id=turn.tracker.get_slot(SLOT_APPOINTMENT))
        reason_key = turn.tracker.get_slot(SLOT_CANCEL_REASON) or "cannot_attend"
        if appointment is None:
            if records.upcoming(session=turn.session, patient_id=turn.patient.id,
                                now=turn.now(), statuses=records.CHANGEABLE):
                return hand_over(turn, reason=HandoverReason.CLINICAL_REVIEW,
                                 urgency=Urgency.NORMAL, response="handover_person",
                                 topic=f"confirmed: {REASONS[reason_key]} (several "
                                       "appointments; unclear which)")
            turn.dispatcher.utter_message(text=text("cancel_nothing",
                                                    phone=turn.settings.bookings_phone))
            return [question(None)]
        what = _describe(appointment)
        try:
            clinical_review.release_for_review(
                session=turn.session, settings=turn.settings, appointment_id=appointment.id,
                reason=REASONS.get(reason_key, REASONS["cannot_attend"]), actor="assistant")
        except scheduling_service.SchedulingError:
            return hand_over(turn, reason=HandoverReason.CLINICAL_REVIEW, urgency=Urgency.NORMAL,
                             topic=f"wants to stop their {what}; it could not be changed here",
                             response="handover_person")
        handover = handover_service.open_handover(
            session=turn.session, settings=turn.settings, reason=HandoverReason.CLINICAL_REVIEW,
            urgency=Urgency.NORMAL, created_by="assistant", patient_id=turn.patient.id,
            appointment_id=appointment.id,
            summary=opening_for(topic=f"clinical review: {REASONS[reason_key]} ({what})"),
            context=context_for(turn, off_conversation=True))
        turn.dispatcher.utter_message(text=text(
            "sent_to_review", what=what,
            when=answer_later(settings=turn.settings, due_at=handover.due_at)))
        return [question(None), SlotSet(SLOT_CANCEL_REASON, None), SlotSet(SLOT_OFFERS, None)]
