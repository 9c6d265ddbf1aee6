"""Handover verbs: queue order, summary, claim/status/notes, slots, booking, resolve (staff
replies and cases opened on a conversation: tests/flows/test_staff_reply.py)."""

from datetime import timedelta

import pytest

from api.appointments.models import AppointmentStatus
from api.audit import service as audit_service
from api.conversations.models import ConversationState
from api.conversations.service import facts_of
from api.flows import booking as booking_flow
from api.flows import hand_back as hand_back_flow
from api.handover import casework
from api.handover import queue as handover_queue
from api.handover import service as handover_service
from api.handover import summary as handover_summary
from api.handover.models import HandoverReason, HandoverStatus, Urgency
from api.staff.models import Role
from tests.handover.helpers import Desk


@pytest.fixture
def desk(db_session):
    return Desk(db_session)


def test_queue_is_red_flags_first_then_urgent_then_by_due_time(desk, db_session):
    normal, *_ = desk.patient_case(urgency=Urgency.NORMAL)
    high, *_ = desk.patient_case(urgency=Urgency.HIGH)
    urgent, *_ = desk.patient_case(urgency=Urgency.URGENT, reason=HandoverReason.RED_FLAG)
    late_urgent, *_ = desk.patient_case(urgency=Urgency.URGENT)
    late_urgent.due_at = urgent.due_at - timedelta(minutes=30)  # overdue: first after red flags
    done, *_ = desk.patient_case(urgency=Urgency.URGENT)
    hand_back_flow.resolve(session=db_session, handover=done, user=desk.users[Role.CLERK],
                           hand_back=True)
    db_session.flush()

    ids = [h.id for h in handover_queue.queue(session=db_session)]
    assert ids == [urgent.id, late_urgent.id, high.id, normal.id]
    assert casework.is_overdue(handover=late_urgent)
    assert not casework.is_overdue(handover=normal)
    assert done.id in [h.id for h in handover_queue.queue(session=db_session,
                                                          include_resolved=True)]


def test_summary_says_what_was_asked_verified_appointments_and_offers(desk, db_session):
    handover, patient, appointment, conversation = desk.patient_case(text="Is my op still on?")
    casework.find_slots(session=db_session, handover=handover,
                        user=desk.users[Role.CLERK], appointment_id=appointment.id)
    summary = handover_summary.build(session=db_session, settings=desk.settings,
                                     reason=handover.reason, opening="",
                                     conversation=facts_of(conversation))
    assert "Is my op still on?" in summary
    assert "Identity verified" in summary
    assert f"Appointment {appointment.id}: Dermatology" in summary
    assert "priority Routine" in summary
    assert "Offered" in summary and "by staff (held)" in summary

    conversation.verified_patient_id = None
    unverified = handover_summary.build(session=db_session, settings=desk.settings,
                                        reason=handover.reason, opening="",
                                        conversation=facts_of(conversation))
    assert "NOT verified" in unverified


def test_claim_status_notes_are_audited(desk, db_session):
    handover, patient, *_ = desk.patient_case()
    clerk = desk.users[Role.CLERK]
    casework.claim(session=db_session, handover=handover, user=clerk)
    assert handover.status is HandoverStatus.CLAIMED and handover.assignee_id == clerk.id
    casework.set_status(session=db_session, handover=handover, user=clerk,
                        status=HandoverStatus.WAITING_FOR_PATIENT)
    casework.add_note(session=db_session, handover=handover, user=clerk,
                      text="Left a voicemail")
    with pytest.raises(casework.HandoverError):
        casework.set_status(session=db_session, handover=handover, user=clerk,
                            status=HandoverStatus.RESOLVED)
    with pytest.raises(casework.HandoverError):
        casework.add_note(session=db_session, handover=handover, user=clerk, text="  ")

    events = audit_service.list_events(session=db_session, object_type="handover",
                                       object_id=str(handover.id))
    assert [e.action for e in reversed(events)] == ["claim_handover", "set_handover_status",
                                                    "add_note"]
    assert all(e.actor == f"staff:{clerk.id}" and e.patient_id == patient.id for e in events)
    assert [n.details["text"] for n in casework.notes(
        session=db_session, handover_id=handover.id)] == ["Left a voicemail"]


def test_resolve_hands_back_or_closes(desk, db_session):
    clerk = desk.users[Role.CLERK]
    back, _, _, back_conversation = desk.patient_case()
    assert handover_service.open_for_conversation(
        session=db_session, conversation_id=back_conversation.id) is not None  # paused
    hand_back_flow.resolve(session=db_session, handover=back, user=clerk, hand_back=True,
                           note="Rebooked by phone")
    assert back.status is HandoverStatus.RESOLVED and back.resolution == "handed_back"
    assert back_conversation.state is ConversationState.ACTIVE
    assert handover_service.open_for_conversation(
        session=db_session, conversation_id=back_conversation.id) is None  # assistant resumes

    closed, _, _, closed_conversation = desk.patient_case()
    hand_back_flow.resolve(session=db_session, handover=closed, user=clerk, hand_back=False)
    assert closed.resolution == "closed"
    assert closed_conversation.state is ConversationState.CLOSED
    with pytest.raises(casework.Conflict):
        hand_back_flow.resolve(session=db_session, handover=closed, user=clerk, hand_back=True)
    with pytest.raises(casework.Conflict):
        casework.claim(session=db_session, handover=closed, user=clerk)


def test_only_clinicians_and_admins_resolve_clinical_review(desk, db_session):
    handover, *_ = desk.patient_case(reason=HandoverReason.CLINICAL_REVIEW)
    with pytest.raises(casework.Forbidden):
        hand_back_flow.resolve(session=db_session, handover=handover,
                               user=desk.users[Role.CLERK], hand_back=True)
    assert handover.status is not HandoverStatus.RESOLVED
    hand_back_flow.resolve(session=db_session, handover=handover,
                           user=desk.users[Role.CLINICIAN], hand_back=True)
    assert handover.status is HandoverStatus.RESOLVED


def test_find_slots_and_book_for_the_handovers_patient_only(desk, db_session):
    handover, patient, appointment, _ = desk.patient_case()
    other_handover, other_patient, other_appointment, _ = desk.patient_case()
    clerk = desk.users[Role.CLERK]
    with pytest.raises(casework.NotFound):
        casework.find_slots(session=db_session, handover=handover, user=clerk,
                            appointment_id=other_appointment.id)
    offers = casework.find_slots(session=db_session, handover=handover, user=clerk,
                                 appointment_id=appointment.id)
    assert 1 <= len(offers) <= 3
    other_offers = casework.find_slots(session=db_session, handover=other_handover,
                                       user=clerk, appointment_id=other_appointment.id)
    with pytest.raises(casework.NotFound):
        booking_flow.book_for_handover(session=db_session, settings=desk.settings,
                                       handover=handover, user=clerk,
                                       offer_id=other_offers[0].id)
    with pytest.raises(casework.NotFound):
        booking_flow.book_for_handover(session=db_session, settings=desk.settings,
                                       handover=handover, user=clerk, offer_id=10**9)
    booked = booking_flow.book_for_handover(session=db_session, settings=desk.settings,
                                            handover=handover, user=clerk,
                                            offer_id=offers[0].id).appointment
    assert booked.status is AppointmentStatus.REBOOKED and booked.slot_id == offers[0].slot_id
    actions = [e.action for e in audit_service.list_events(session=db_session,
                                                           patient_id=patient.id)]
    assert "book_slot" in actions and "find_slots" in actions


def test_staff_can_open_a_handover_with_an_automatic_summary(desk, db_session):
    _, patient, appointment, _ = desk.patient_case()
    handover = casework.create_by_staff(
        session=db_session, settings=desk.settings, user=desk.users[Role.CLINICIAN],
        reason=HandoverReason.COMPLAINT, urgency=Urgency.NORMAL, patient_id=patient.id,
        note="Called about parking")
    assert handover.created_by == "staff"
    assert "Dermatology" in handover.summary and "Called about parking" in handover.summary
    assert handover.summary.count("Reason:") == 1
    with pytest.raises(casework.NotFound):
        casework.create_by_staff(
            session=db_session, settings=desk.settings, user=desk.users[Role.CLERK],
            reason=HandoverReason.COMPLAINT, urgency=Urgency.NORMAL, patient_id=10**9)


def test_resolving_in_the_handover_domain_leaves_the_conversation_to_the_flow(desk, db_session):
    """The handover domain resolves the case only; hand_back_flow tells the conversation."""
    clerk = desk.users[Role.CLERK]
    handover, _, _, conversation = desk.patient_case()
    conversation.state = ConversationState.CLOSED
    casework.resolve(session=db_session, handover=handover, user=clerk, hand_back=True)
    assert handover.resolution == "handed_back"
    assert conversation.state is ConversationState.CLOSED  # untouched by the domain
