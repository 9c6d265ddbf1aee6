"""Outbound cost is bounded per number: the inbound rate limit and the daily cap stand before
every automatic reply, while a red flag always reaches the safety net and the urgent handover."""

from collections import Counter

from sqlalchemy import select

from api.audit.models import AuditEvent
from api.flows import case_file as case_file_flow
from api.flows import hand_back as hand_back_flow
from api.handover import casework
from api.handover import summary as handover_summary
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency
from api.messaging.dispatcher import Dispatcher
from api.messaging.models import Direction, Message, MessageCategory, MessageStatus
from api.messaging.senders import SandboxSender
from api.staff.models import Role
from tests.conversations.helpers import all_handovers, echo_worker, outbound_to
from tests.fakes.fake_rasa import EchoAssistant
from tests.twilio_helpers import inbound_form, post_signed

PATIENT = "+447700900654"
RED_FLAG = "i have crushing chest pain and cant breathe"


def _outbound(factory, to=PATIENT):
    return outbound_to(factory, to)


_handovers = all_handovers
_worker = echo_worker


def _flood(client, number, count):
    """HELP, a picture, a red flag, in turn: `count` messages from one number."""
    kinds = []
    for i in range(count):
        kind = ("help", "media", "red_flag")[i % 3]
        kinds.append(kind)
        if kind == "help":
            form = inbound_form(from_=number, body="HELP")
        elif kind == "media":
            form = inbound_form(from_=number, body="", NumMedia="1",
                                MediaUrl0=f"https://api.twilio.com/media/ME{i}")
        else:
            form = inbound_form(from_=number, body=RED_FLAG)
        assert post_signed(client, form).status_code == 200
    return Counter(kinds)


def test_a_hundred_help_media_and_red_flag_messages_cost_at_most_the_cap(
        live_client, live_settings, live_session_factory, monkeypatch):
    monkeypatch.setattr(live_settings, "daily_cap_per_number", 8)
    monkeypatch.setattr(live_settings, "inbound_rate_per_minute", 1000)  # the cap must bite
    worker = _worker(live_settings, live_session_factory)
    kinds = _flood(live_client, PATIENT, 100)
    worker.drain()
    outbound = _outbound(live_session_factory)
    by_category = Counter(m.category for m in outbound)
    nets = by_category.pop(MessageCategory.SAFETY_NET, 0)
    assert sum(by_category.values()) <= 8
    # The red flags all came within minutes: the first got the net, the repeats were held
    # back while the urgent case is open, and each one held back is noted on the case.
    assert nets == 1
    [handover] = _handovers(live_session_factory)
    assert (handover.reason, handover.urgency) == (HandoverReason.RED_FLAG, Urgency.URGENT)
    assert handover.status is HandoverStatus.OPEN
    with live_session_factory() as session:
        notes = casework.notes(session=session, handover_id=handover.id)
    assert [n.action for n in notes] == ["safety_net_not_repeated"] * (kinds["red_flag"] - 1)
    assert "not sent again" in notes[0].details["text"]
    with live_session_factory() as session:
        pending = session.scalars(select(Message.status).where(
            Message.direction == Direction.INBOUND)).all()
    assert set(pending) == {MessageStatus.PROCESSED}  # all kept, none lost or stuck
    # What the dispatcher really sends is bounded the same way.
    dispatcher = Dispatcher(settings=live_settings, session_factory=live_session_factory,
                            sender=SandboxSender())
    while dispatcher.run_once():
        pass
    sent = [m for m in _outbound(live_session_factory) if m.status is MessageStatus.DELIVERED]
    assert len(sent) == len(outbound) <= 8 + 1


def test_with_default_limits_the_rate_limit_comes_before_help_and_media_notices(
        live_client, live_settings, live_session_factory):
    worker = _worker(live_settings, live_session_factory)
    kinds = _flood(live_client, PATIENT, 60)
    worker.drain()
    by_category = Counter(m.category for m in _outbound(live_session_factory))
    assert by_category[MessageCategory.SAFETY_NET] == 1
    # Red flags are screened before the rate limit; of the other 40, only those within
    # inbound_rate_per_minute are answered, plus one notice to slow down.
    answered = by_category[MessageCategory.SERVICE] + by_category[MessageCategory.HOLDING]
    assert answered <= live_settings.inbound_rate_per_minute + 1 < kinds["help"] + kinds["media"]
    [handover] = _handovers(live_session_factory)
    assert handover.urgency is Urgency.URGENT


def test_at_the_cap_the_assistant_is_not_asked_and_staff_hear_of_it_once(
        live_client, live_settings, live_session_factory, monkeypatch):
    monkeypatch.setattr(live_settings, "daily_cap_per_number", 3)
    monkeypatch.setattr(live_settings, "inbound_rate_per_minute", 1000)
    assistant = EchoAssistant()
    worker = _worker(live_settings, live_session_factory, assistant)
    for i in range(10):
        post_signed(live_client, inbound_form(from_=PATIENT, body=f"question {i}"))
    worker.drain()
    assert [t for _, t in assistant.seen] == ["question 0", "question 1", "question 2"]
    assert len(_outbound(live_session_factory)) == 3
    [handover] = _handovers(live_session_factory)
    assert handover.reason is HandoverReason.DAILY_CAP
    # A red flag still gets the safety net: the cap never refuses it.
    post_signed(live_client, inbound_form(from_=PATIENT, body=RED_FLAG))
    worker.drain()
    assert _outbound(live_session_factory)[-1].category is MessageCategory.SAFETY_NET
    [handover] = _handovers(live_session_factory)
    assert (handover.reason, handover.urgency) == (HandoverReason.RED_FLAG, Urgency.URGENT)


def test_the_cap_counts_a_number_on_both_channels(live_client, live_settings,
                                                 live_session_factory, monkeypatch):
    monkeypatch.setattr(live_settings, "daily_cap_per_number", 2)
    assistant = EchoAssistant()
    worker = _worker(live_settings, live_session_factory, assistant)
    post_signed(live_client, inbound_form(from_=PATIENT, body="by text"))
    post_signed(live_client, inbound_form(from_=f"whatsapp:{PATIENT}", body="by whatsapp",
                                          to=live_settings.twilio_whatsapp_from))
    post_signed(live_client, inbound_form(from_=f"whatsapp:{PATIENT}", body="again",
                                          to=live_settings.twilio_whatsapp_from))
    worker.drain()
    # One number's two conversations take turns in the worker, so the cap's check sees the
    # other channel's reply: between them they get two answers, and the assistant is asked
    # only for replies that can be sent.
    assert len(assistant.seen) == 2
    assert len(_outbound(live_session_factory)) + len(
        _outbound(live_session_factory, to=f"whatsapp:{PATIENT}")) == 2


def test_stop_start_alternated_gets_one_confirmation_past_the_cap(
        live_client, live_settings, live_session_factory, monkeypatch):
    monkeypatch.setattr(live_settings, "daily_cap_per_number", 3)
    for _ in range(10):
        post_signed(live_client, inbound_form(from_=PATIENT, body="STOP"))
        post_signed(live_client, inbound_form(from_=PATIENT, body="START"))
    # Twenty state changes, three confirmations: the first STOP's (which counts too), then
    # the cap; however the two alternate, a number never gets more than its cap plus one.
    assert [m.category for m in _outbound(live_session_factory)] == [
        MessageCategory.OPT_OUT_CONFIRMATION, MessageCategory.SERVICE,
        MessageCategory.OPT_OUT_CONFIRMATION]


def test_the_first_stop_is_confirmed_even_at_the_cap(live_client, live_settings,
                                                    live_session_factory, monkeypatch):
    monkeypatch.setattr(live_settings, "daily_cap_per_number", 1)
    dispatcher = Dispatcher(settings=live_settings, session_factory=live_session_factory,
                            sender=SandboxSender())
    post_signed(live_client, inbound_form(from_=PATIENT, body="hello"))
    _worker(live_settings, live_session_factory).drain()
    dispatcher.run_once()
    post_signed(live_client, inbound_form(from_=PATIENT, body="STOP"))
    post_signed(live_client, inbound_form(from_=PATIENT, body="STOP"))
    assert [m.category for m in _outbound(live_session_factory)] == [
        MessageCategory.REPLY, MessageCategory.OPT_OUT_CONFIRMATION]
    dispatcher.run_once()  # one sent today already, the cap is 1: the confirmation still goes
    assert {m.status for m in _outbound(live_session_factory)} == {MessageStatus.DELIVERED}


def test_a_safety_net_is_repeated_after_the_window_when_the_case_is_closed_or_the_advice_differs(
        live_client, live_settings, live_session_factory, monkeypatch):
    from api.db import utcnow
    from api.staff import service as staff_service

    worker = _worker(live_settings, live_session_factory)
    post_signed(live_client, inbound_form(from_=PATIENT, body=RED_FLAG))
    post_signed(live_client, inbound_form(from_=PATIENT, body=RED_FLAG))
    worker.drain()
    assert [m.category for m in _outbound(live_session_factory)] == [MessageCategory.SAFETY_NET]
    # Other advice (mental health) is not a repeat: it goes.
    post_signed(live_client, inbound_form(from_=PATIENT, body="i dont want to be here anymore"))
    worker.drain()
    nets = _outbound(live_session_factory)
    assert len(nets) == 2 and "116 123" in nets[1].body
    # Once the window has passed, the same net goes again.
    from datetime import timedelta

    with live_session_factory() as session:
        for message in session.scalars(select(Message).where(
                Message.direction == Direction.OUTBOUND)):
            message.created_at = utcnow() - timedelta(
                minutes=live_settings.safety_net_repeat_minutes + 1)
        session.commit()
    post_signed(live_client, inbound_form(from_=PATIENT, body=RED_FLAG))
    worker.drain()
    assert len(_outbound(live_session_factory)) == 3
    # With the case resolved, a red flag opens a new case and always gets the net.
    with live_session_factory() as session:
        # Only a clinician (or an admin) resolves a red flag.
        user = staff_service.create_user(session=session, username="cost.clinician",
                                         display_name="Clinician", password="a-long-password-1",
                                         role=Role.CLINICIAN)
        [handover] = session.scalars(select(Handover)).all()
        hand_back_flow.resolve(session=session, handover=handover, user=user, hand_back=True)
        session.commit()
    post_signed(live_client, inbound_form(from_=PATIENT, body=RED_FLAG))
    worker.drain()
    assert len(_outbound(live_session_factory)) == 4
    assert len(_handovers(live_session_factory)) == 2
    with live_session_factory() as session:
        held_back = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "safety_net_not_repeated")).all()
    assert len(held_back) == 1


def test_a_red_flag_brings_a_case_waiting_for_the_patient_back_to_the_queue(
        live_client, live_settings, live_session_factory):
    worker = _worker(live_settings, live_session_factory)
    post_signed(live_client, inbound_form(from_=PATIENT, body=RED_FLAG))
    worker.drain()
    with live_session_factory() as session:
        handover = session.scalars(select(Handover)).one()
        handover.status = HandoverStatus.WAITING_FOR_PATIENT
        session.commit()
    post_signed(live_client, inbound_form(from_=PATIENT, body=RED_FLAG))
    worker.drain()
    [handover] = _handovers(live_session_factory)
    assert handover.status is HandoverStatus.OPEN


def test_the_red_flag_summary_stays_bounded_after_sixty_messages(
        live_client, live_settings, live_session_factory):
    worker = _worker(live_settings, live_session_factory)
    lengths = []
    for i in range(60):
        body = f"message {i:02d}: crushing chest pain and cant breathe " + "x" * 40
        post_signed(live_client, inbound_form(from_=PATIENT, body=body))
        worker.drain()
        lengths.append(len(_handovers(live_session_factory)[0].summary))
    [handover] = _handovers(live_session_factory)
    summary = handover.summary
    assert len(summary) <= handover_summary.MAX_SUMMARY_CHARS
    assert lengths[-1] == lengths[20]  # it stopped growing
    assert "message 00" in summary  # the red flag that opened the case
    assert all(f"message {i}" in summary for i in (57, 58, 59))  # the latest few
    assert "message 30" not in summary
    assert "56 earlier updates not shown" in summary
    # Every message is still there for staff, in the transcript.
    with live_session_factory() as session:
        transcript = case_file_flow.case_file(
            session=session, handover=session.get(Handover, handover.id),
            user=_a_clerk(session))["transcript"]
        assert sum(m.direction is Direction.INBOUND for m in transcript) == 60
        session.rollback()


def _a_clerk(session):
    from api.staff import service as staff_service

    return staff_service.create_user(session=session, username="summary.clerk",
                                     display_name="Clerk", password="a-long-password-1",
                                     role=Role.CLERK)


def test_an_escalation_stays_in_the_summary_however_many_updates_follow():
    summary = "Asked for a person.\n\nReason: asked for person."
    summary = handover_summary.summary_with_update(
        summary=summary, update="Red flag (chest pain). The patient wrote: first", pinned=True)
    for i in range(10):
        summary = handover_summary.summary_with_update(summary=summary,
                                                       update=f"update {i}\n!")
    # The red flag comes first, before what the case was first about.
    assert summary.startswith(
        "Red flag (chest pain). The patient wrote: first\nAsked for a person.")
    assert summary.endswith("- update 7 !\n- update 8 !\n- update 9 !")
    assert "(7 earlier updates not shown; every message is in the transcript.)" in summary
    long = handover_summary.summary_with_update(summary="x" * 5000, update="y" * 5000)
    assert len(long) <= handover_summary.MAX_SUMMARY_CHARS
