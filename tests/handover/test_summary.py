"""The one handover summary: red flag first, bounded, times in the patient's time zone; the
queue quotes the message a case was opened on, read from the message, not scraped."""

from datetime import UTC, datetime, timedelta

import pytest

from api.appointments.models import AppointmentStatus
from api.console import service as console_service
from api.conversations.service import facts_of
from api.handover import queue as handover_queue
from api.handover import service as handover_service
from api.handover import summary as handover_summary
from api.handover.models import HandoverReason, HandoverStatus, Urgency
from api.messaging.models import Channel
from api.scheduling.models import Offer, OfferStatus
from tests import factories
from tests.handover.helpers import Desk, inbound

# 13:30 UTC on a summer Tuesday is 2:30pm in London (BST).
SUMMER_AFTERNOON = datetime(2027, 7, 13, 13, 30, tzinfo=UTC)


@pytest.fixture
def desk(db_session):
    return Desk(db_session)


def _red_flag(desk, conversation, text):
    """What the worker does on a red flag: the flagged message, then the urgent opening."""
    inbound(desk.session, conversation, text)
    return handover_service.open_handover(
        session=desk.session, settings=desk.settings, reason=HandoverReason.RED_FLAG,
        urgency=Urgency.URGENT, created_by="safety_screen", conversation=facts_of(conversation),
        summary=f"Red flag (chest pain). The patient wrote: \u201c{text}\u201d")


def test_a_red_flag_on_an_open_case_goes_first_and_stays_first(desk, db_session):
    handover, _, _, conversation = desk.patient_case(text="can i talk to someone " + "x" * 3000)
    for i in range(5):
        handover_service.open_handover(
            session=db_session, settings=desk.settings, reason=HandoverReason.ASKED_FOR_PERSON,
            urgency=Urgency.NORMAL, created_by="assistant", conversation=facts_of(conversation),
            summary=f"update {i}")
    _red_flag(desk, conversation, "crushing chest pain")
    for i in range(5, 10):
        handover_service.open_handover(
            session=db_session, settings=desk.settings, reason=HandoverReason.ASKED_FOR_PERSON,
            urgency=Urgency.NORMAL, created_by="assistant", conversation=facts_of(conversation),
            summary=f"update {i}")

    assert handover.reason is HandoverReason.RED_FLAG
    assert handover.summary.startswith(
        "Red flag (chest pain). The patient wrote: \u201ccrushing chest pain\u201d\n")
    assert len(handover.summary) <= handover_summary.MAX_SUMMARY_CHARS


def test_a_new_red_flag_case_opens_with_the_red_flag(desk, db_session):
    _, _, _, conversation = desk.patient_case()
    handover_service.open_for_conversation(session=db_session,
                                           conversation_id=conversation.id).status = \
        HandoverStatus.RESOLVED
    handover = _red_flag(desk, conversation, "I can't breathe")
    first, _, details = handover.summary.partition("\n\n")
    assert first.startswith("Red flag (chest pain).")
    assert details.startswith("Reason: red flag.")


def test_the_summary_is_bounded_whatever_is_said(desk, db_session):
    handover, _, _, conversation = desk.patient_case(text="y" * 5000)
    assert len(handover.summary) <= handover_summary.MAX_OPENING_CHARS
    for i in range(40):
        handover_service.open_handover(
            session=db_session, settings=desk.settings, reason=HandoverReason.ASKED_FOR_PERSON,
            urgency=Urgency.NORMAL, created_by="assistant", conversation=facts_of(conversation),
            summary=f"update {i:02d} " + "z" * 500)
    summary = handover.summary
    assert len(summary) <= handover_summary.MAX_SUMMARY_CHARS
    assert "(37 earlier updates not shown; every message is in the transcript.)" in summary
    assert all(f"update {i}" in summary for i in (37, 38, 39))
    assert "update 36" not in summary
    assert summary.count("\n- update") == handover_summary.LATEST_UPDATES_SHOWN


def test_offer_times_are_in_the_patients_time_zone(desk, db_session):
    handover, _, appointment, conversation = desk.patient_case()
    slot = factories.make_slot(db_session, site=desk.site, specialty=desk.specialty,
                               start_at=SUMMER_AFTERNOON)
    db_session.add(Offer(appointment_id=appointment.id, slot_id=slot.id, source="staff",
                         status=OfferStatus.HELD, expires_at=SUMMER_AFTERNOON))
    db_session.flush()
    summary = handover_summary.build(session=db_session, settings=desk.settings,
                                     reason=handover.reason, opening="",
                                     conversation=facts_of(conversation))
    assert "Offered Tue 13 Jul, 2:30pm by staff (held)." in summary
    assert "13:30" not in summary and "UTC" not in summary


def test_a_booked_appointment_ahead_is_listed_with_its_local_time(desk, db_session):
    handover, patient, *_ = desk.patient_case()
    slot = factories.make_slot(db_session, site=desk.site, specialty=desk.specialty,
                               start_at=SUMMER_AFTERNOON)
    booked = factories.make_appointment(db_session, patient=patient, specialty=desk.specialty,
                                        status=AppointmentStatus.BOOKED,
                                        slot_id=slot.id)
    summary = handover_summary.build(session=db_session, settings=desk.settings,
                                     reason=handover.reason, opening="", patient_id=patient.id,
                                     now=SUMMER_AFTERNOON - timedelta(days=1))
    assert f"Appointment {booked.id}: Dermatology" in summary
    assert "booked, Tue 13 Jul, 2:30pm." in summary


def test_the_assistants_context_follows_the_records(desk, db_session):
    _, patient, _, conversation = desk.patient_case()
    handover_service.open_for_conversation(
        session=db_session, conversation_id=conversation.id).status = \
        HandoverStatus.RESOLVED
    handover = handover_service.open_handover(
        session=db_session, settings=desk.settings, reason=HandoverReason.COMPLAINT,
        urgency=Urgency.NORMAL, created_by="assistant", conversation=facts_of(conversation),
        patient_id=patient.id, summary="Assistant handover: complaint.",
        context=["Offered: 1. Tue 13 Jul, 2:30pm", "Preferences: mornings"])
    lines = handover.summary.splitlines()
    assert lines[0] == "Assistant handover: complaint."
    assert lines[-2:] == ["Offered: 1. Tue 13 Jul, 2:30pm", "Preferences: mornings"]
    assert handover.summary.count("Patient wrote:") == 1


def test_the_queue_quotes_the_message_the_case_was_opened_on(desk, db_session):
    handover, _, _, conversation = desk.patient_case(text="Is my op still on?")
    # Later words in the summary that look like a quote are not what the queue shows.
    handover.summary = "Staff wrote: something else entirely"
    inbound(db_session, conversation, "thanks")
    rows = console_service.queue_rows(session=db_session, settings=desk.settings)
    [row] = [r for r in rows if r["handover"].id == handover.id]
    assert row["first_line"] == "Is my op still on?"


def test_a_red_flag_becomes_the_queue_quote(desk, db_session):
    handover, _, _, conversation = desk.patient_case(text="can I rebook")
    _red_flag(desk, conversation, "crushing   chest\npain")
    handover_service.open_handover(
        session=db_session, settings=desk.settings, reason=HandoverReason.ASKED_FOR_PERSON,
        urgency=Urgency.NORMAL, created_by="assistant", conversation=facts_of(conversation),
        summary="Assistant handover: the patient asked to speak to someone.")
    quotes = handover_queue.quotes(session=db_session, handovers=[handover])
    assert quotes == {handover.id: "crushing chest pain"}  # one line, the flagged message


def test_a_case_with_no_patient_message_has_no_quote(desk, db_session):
    _, patient, *_ = desk.patient_case()
    handover = handover_service.open_handover(
        session=db_session, settings=desk.settings, reason=HandoverReason.DELIVERY_FAILURE,
        urgency=Urgency.NORMAL, created_by="gateway", patient_id=patient.id,
        summary="A text could not be delivered. The patient wrote: nothing")
    assert handover.trigger_message_id is None
    assert handover_queue.quotes(session=db_session, handovers=[handover]) == {}


def test_the_summary_uses_the_conversation_facts_it_is_given(desk, db_session):
    """The builder reads nothing of the conversation: channel and identity are the facts the
    opener passed (here unlike the conversation row), the patient's words those of its id."""
    _, patient, _, conversation = desk.patient_case(text="can I move my appointment")
    given = handover_summary.ConversationFacts(
        id=conversation.id, channel=Channel.WHATSAPP, address="whatsapp:+447700900999",
        verified_patient_id=None, verified=False, failed_identity_attempts=2)
    summary = handover_summary.build(session=db_session, settings=desk.settings,
                                     reason=HandoverReason.IDENTITY_LOCKOUT, opening="Locked.",
                                     conversation=given)
    assert conversation.channel is Channel.SMS and conversation.verified_patient_id
    assert "Channel: whatsapp. Identity NOT verified: check date of birth first." in summary
    assert "Failed identity checks: 2." in summary
    assert "Patient wrote: \u201ccan I move my appointment\u201d" in summary
    assert "Dermatology" not in summary  # no verified patient in the facts, none named


def test_a_case_opened_with_facts_is_on_that_conversation(desk, db_session):
    _, patient, _, conversation = desk.patient_case()
    handover_service.open_for_conversation(
        session=db_session, conversation_id=conversation.id).status = HandoverStatus.RESOLVED
    facts = facts_of(conversation)
    assert (facts.id, facts.channel, facts.address, facts.verified_patient_id) == (
        conversation.id, conversation.channel, conversation.address, patient.id)
    handover = handover_service.open_handover(
        session=db_session, settings=desk.settings, reason=HandoverReason.COMPLAINT,
        urgency=Urgency.NORMAL, created_by="assistant", summary="Assistant handover.",
        conversation=facts)
    assert handover.conversation_id == conversation.id
    assert "Channel: sms. Identity verified." in handover.summary
    assert "Dermatology" in handover.summary  # the verified patient's appointments
