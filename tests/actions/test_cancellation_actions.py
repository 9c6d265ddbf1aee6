"""Can't come / no longer needed: confirm, release the slot, clinical review."""

from __future__ import annotations

from sqlalchemy import select

from actions.cancellation import ActionCancelAppointment, ActionConfirmCancellation
from api.appointments.models import AppointmentStatus
from api.handover.models import Handover, HandoverReason
from api.scheduling.models import SlotStatus
from tests.actions.conftest import make_tracker, run, slot_events, texts
from tests.factories import make_appointment


def test_confirmation_names_the_appointment_and_asks_yes(session, verified, postponed):
    messages, events = run(ActionConfirmCancellation(), make_tracker(
        verified, text="i dont need it anymore", intent="no_longer_needed"))

    said = texts(messages)
    assert "you don't need your General surgery appointment any more?" in said
    assert "tell me what you'd like instead" in said
    assert "Reply YES" in said and "CANCEL" not in said.upper().replace("CANCELLED", "")
    assert slot_events(events) == {"question": "confirm_cancel", "appointment_id": postponed.id,
                                   "cancel_reason": "no_longer_needed"}
    session.refresh(postponed)
    assert postponed.status is AppointmentStatus.POSTPONED  # nothing changed yet


def test_yes_releases_the_slot_and_sends_it_to_clinical_review(session, verified, patient,
                                                              trust):
    slot = trust.slots[0]
    slot.status = SlotStatus.BOOKED
    booked = make_appointment(session, patient=patient, specialty=trust.specialty,
                              status=AppointmentStatus.BOOKED, slot_id=slot.id)

    messages, events = run(ActionCancelAppointment(), make_tracker(
        verified, text="yes", intent="affirm",
        slots={"appointment_id": booked.id, "cancel_reason": "cannot_attend"}))

    session.refresh(booked)
    session.refresh(slot)
    assert booked.status is AppointmentStatus.PENDING_CLINICAL_REVIEW
    assert slot.status is SlotStatus.FREE
    [handover] = session.scalars(select(Handover)).all()
    assert handover.reason is HandoverReason.CLINICAL_REVIEW
    assert handover.appointment_id == booked.id
    assert handover.conversation_id is None  # the assistant stays available to the patient
    assert "cannot attend" in handover.summary
    assert "stay on the waiting list" in texts(messages)
    assert slot_events(events)["question"] is None


def test_several_appointments_and_none_in_focus_checks_first_then_goes_to_a_person(
        session, verified, postponed, patient, trust):
    make_appointment(session, patient=patient, specialty=trust.specialty,
                     status=AppointmentStatus.POSTPONED)

    messages, events = run(ActionConfirmCancellation(), make_tracker(
        verified, text="take me off the list, im feeling better", intent="no_longer_needed"))

    assert "Just to check" in texts(messages) and "Reply YES" in texts(messages)
    assert session.scalars(select(Handover)).all() == []  # nothing until the patient confirms
    assert slot_events(events)["question"] == "confirm_cancel"

    messages, _ = run(ActionCancelAppointment(), make_tracker(
        verified, text="yes", intent="affirm",
        slots={"appointment_id": None, "cancel_reason": "no_longer_needed"}))

    assert "bookings team" in texts(messages)
    [handover] = session.scalars(select(Handover)).all()
    assert handover.reason is HandoverReason.CLINICAL_REVIEW
    assert "no longer need" in handover.summary
    session.refresh(postponed)
    assert postponed.status is AppointmentStatus.POSTPONED  # a person decides which


def test_nothing_to_cancel(session, verified):
    messages, _ = run(ActionConfirmCancellation(), make_tracker(verified, intent="cannot_attend"))

    assert "can't see an upcoming appointment" in texts(messages)
