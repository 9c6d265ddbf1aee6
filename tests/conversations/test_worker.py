"""The worker: ordering, safety screen, handover pause, assistant outages, fallbacks."""

import threading
import time

import httpx
from sqlalchemy import select

from api.conversations.rasa_client import RasaClient
from api.handover.models import HandoverReason, Urgency
from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.worker import Worker
from tests.conversations.helpers import all_handovers, echo_worker, outbound_to
from tests.fakes.fake_rasa import EchoAssistant
from tests.twilio_helpers import inbound_form, post_signed

PATIENT = "+447700900321"


def _facts(session, conversation_id):
    """What a handover is told of the conversation, as the worker's callers pass it."""
    from api.conversations import service as conversations_service

    return conversations_service.facts_of(
        conversations_service.get(session=session, conversation_id=conversation_id))


def _outbound(factory, to=PATIENT):
    return outbound_to(factory, to)


_handovers = all_handovers
_worker = echo_worker


def test_a_message_gets_the_assistants_reply(live_client, live_settings, live_session_factory):
    assistant = EchoAssistant()
    post_signed(live_client, inbound_form(from_=PATIENT, body="hiya"))
    _worker(live_settings, live_session_factory, assistant).drain()
    replies = _outbound(live_session_factory)
    assert [r.body for r in replies] == ["echo: hiya"]
    assert replies[0].status is MessageStatus.QUEUED
    # Rasa saw a pseudonymous id, never the phone number.
    sender_id, _ = assistant.seen[0]
    assert PATIENT not in sender_id and len(sender_id) == 32
    with live_session_factory() as session:
        inbound = session.scalars(select(Message).where(Message.direction == Direction.INBOUND)).one()
    assert inbound.status is MessageStatus.PROCESSED


def test_ten_messages_sent_at_once_are_answered_in_order(live_client, live_settings,
                                                         live_session_factory):
    forms = [inbound_form(from_=PATIENT, body=f"message {i}") for i in range(10)]
    threads = [threading.Thread(target=post_signed, args=(live_client, f)) for f in forms]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assistant = EchoAssistant(delay=0.01)
    _worker(live_settings, live_session_factory, assistant).drain()
    with live_session_factory() as session:
        arrived = session.scalars(select(Message.body).where(
            Message.direction == Direction.INBOUND).order_by(Message.id)).all()
    assert [text for _, text in assistant.seen] == arrived
    assert [r.body for r in _outbound(live_session_factory)] == [f"echo: {b}" for b in arrived]


def test_two_workers_never_handle_one_conversation_at_once(live_client, live_settings,
                                                           live_session_factory):
    for i in range(8):
        post_signed(live_client, inbound_form(from_=PATIENT, body=f"m{i}"))
    active, overlap = [0], [False]
    lock = threading.Lock()

    class Watching(EchoAssistant):
        def send(self, **kwargs):
            with lock:
                active[0] += 1
                overlap[0] |= active[0] > 1
            try:
                return super().send(**kwargs)
            finally:
                with lock:
                    active[0] -= 1

    shared = Watching(delay=0.02)
    workers = [Worker(settings=live_settings, session_factory=live_session_factory, rasa=shared,
                      name=f"w{i}") for i in range(3)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not overlap[0]
    assert [t for _, t in shared.seen] == [f"m{i}" for i in range(8)]


def test_red_flag_gets_safety_net_and_urgent_handover(live_client, live_settings,
                                                      live_session_factory):
    assistant = EchoAssistant()
    post_signed(live_client, inbound_form(from_=PATIENT, body="i have chest pian and feel sick"))
    _worker(live_settings, live_session_factory, assistant).drain()
    [reply] = _outbound(live_session_factory)
    assert reply.category is MessageCategory.SAFETY_NET
    assert "999" in reply.body and "111" in reply.body
    [handover] = _handovers(live_session_factory)
    assert (handover.reason, handover.urgency) == (HandoverReason.RED_FLAG, Urgency.URGENT)
    assert assistant.seen == []  # never left to the model


def test_with_staff_the_assistant_is_paused_but_the_screen_still_runs(
        live_client, live_settings, live_session_factory):
    assistant = EchoAssistant()
    worker = _worker(live_settings, live_session_factory, assistant)
    post_signed(live_client, inbound_form(from_=PATIENT, body="can i speak to someone"))
    worker.drain()
    with live_session_factory() as session:
        from api.handover import service as handover_service

        conversation_id = session.scalars(select(Message.conversation_id)).first()
        handover_service.open_handover(
            session=session, settings=live_settings, reason=HandoverReason.ASKED_FOR_PERSON,
            urgency=Urgency.NORMAL, created_by="assistant", summary="wants a person",
            conversation=_facts(session, conversation_id))
        session.commit()
    post_signed(live_client, inbound_form(from_=PATIENT, body="hello? anyone"))
    post_signed(live_client, inbound_form(from_=PATIENT, body="now I cant breathe"))
    worker.drain()
    assert [t for _, t in assistant.seen] == ["can i speak to someone"]
    bodies = [m.category for m in _outbound(live_session_factory)]
    # "hello? anyone" is acknowledged (never silence); the red flag gets the safety net.
    assert bodies == [MessageCategory.REPLY, MessageCategory.HOLDING,
                      MessageCategory.SAFETY_NET]
    [handover] = _handovers(live_session_factory)
    assert handover.urgency is Urgency.URGENT and handover.reason is HandoverReason.RED_FLAG


def test_with_staff_a_patient_gets_one_acknowledgement_an_hour_not_one_per_message(
        live_client, live_settings, live_session_factory):
    from api.handover import service as handover_service
    from api.handover.models import HandoverStatus

    worker = _worker(live_settings, live_session_factory)
    post_signed(live_client, inbound_form(from_=PATIENT, body="hiya"))
    worker.drain()
    with live_session_factory() as session:
        conversation_id = session.scalars(select(Message.conversation_id)).first()
        handover = handover_service.open_handover(
            session=session, settings=live_settings, reason=HandoverReason.IDENTITY_LOCKOUT,
            urgency=Urgency.HIGH, created_by="assistant", summary="locked",
            conversation=_facts(session, conversation_id))
        handover.status = HandoverStatus.WAITING_FOR_PATIENT
        session.commit()
    for body in ("hello?", "is anyone there", "please reply"):
        post_signed(live_client, inbound_form(from_=PATIENT, body=body))
    worker.drain()
    held = [m for m in _outbound(live_session_factory) if m.category is MessageCategory.HOLDING]
    assert len(held) == 1
    assert "bookings team has your message" in held[0].body and "by" in held[0].body
    [handover] = _handovers(live_session_factory)
    assert handover.status is HandoverStatus.OPEN  # the patient replied: back in the queue


def test_after_stop_only_the_safety_net_is_sent(live_client, live_settings,
                                               live_session_factory):
    from tests.factories import make_patient

    with live_session_factory() as session:
        make_patient(session, mobile=PATIENT)
        session.commit()
    assistant = EchoAssistant()
    worker = _worker(live_settings, live_session_factory, assistant)
    post_signed(live_client, inbound_form(from_=PATIENT, body="STOP"))
    post_signed(live_client, inbound_form(from_=PATIENT, body="hello?"))
    worker.drain()
    assert assistant.seen == []
    assert [m.category for m in _outbound(live_session_factory)] == [
        MessageCategory.OPT_OUT_CONFIRMATION]
    post_signed(live_client, inbound_form(from_=PATIENT, body="i took all my tablets"))
    worker.drain()
    categories = [m.category for m in _outbound(live_session_factory)]
    assert categories == [MessageCategory.OPT_OUT_CONFIRMATION, MessageCategory.SAFETY_NET]


def test_help_gets_the_bookings_phone_number_even_after_stop(live_client, live_settings,
                                                             live_session_factory):
    assistant = EchoAssistant()
    worker = _worker(live_settings, live_session_factory, assistant)
    post_signed(live_client, inbound_form(from_=PATIENT, body="HELP"))
    worker.drain()
    post_signed(live_client, inbound_form(from_=PATIENT, body="STOP"))
    post_signed(live_client, inbound_form(from_=PATIENT, body="help"))
    worker.drain()
    assert assistant.seen == []  # a keyword, never the assistant's business
    replies = _outbound(live_session_factory)
    assert [m.category for m in replies] == [MessageCategory.SERVICE,
                                             MessageCategory.OPT_OUT_CONFIRMATION,
                                             MessageCategory.SERVICE]
    assert live_settings.bookings_phone in replies[0].body and "999" in replies[0].body
    assert replies[2].body == replies[0].body


def test_safety_net_wording_fits_the_category(live_client, live_settings, live_session_factory):
    worker = _worker(live_settings, live_session_factory)
    cases = {"+447700900401": "i dont want to be here anymore",
             "+447700900402": "he checks my phone and im scared of him",
             "+447700900403": "my dad collapsed and wont wake up"}
    for number, body in cases.items():
        post_signed(live_client, inbound_form(from_=number, body=body))
    worker.drain()
    [mental] = _outbound(live_session_factory, to="+447700900401")
    [safeguarding] = _outbound(live_session_factory, to="+447700900402")
    [physical] = _outbound(live_session_factory, to="+447700900403")
    assert "116 123" in mental.body and "option 2" in mental.body and "999" in mental.body
    assert "55" in safeguarding.body and "abuse" not in safeguarding.body.lower()
    assert physical.body.startswith("This could be an emergency. Call 999 now.")
    reasons = sorted(h.reason for h in _handovers(live_session_factory))
    assert reasons == sorted([HandoverReason.RED_FLAG, HandoverReason.SAFEGUARDING,
                              HandoverReason.RED_FLAG])
    assert all(h.urgency is Urgency.URGENT for h in _handovers(live_session_factory))


def test_assistant_down_gives_holding_reply_and_handover_within_5s(
        live_client, live_settings, live_session_factory):
    rasa = RasaClient(base_url="http://127.0.0.1:9", timeout=2.0)  # nothing listens
    started = time.monotonic()
    post_signed(live_client, inbound_form(from_=PATIENT, body="when is my appointment"))
    _worker(live_settings, live_session_factory, rasa).drain()
    elapsed = time.monotonic() - started
    [reply] = _outbound(live_session_factory)
    assert reply.category is MessageCategory.HOLDING
    assert live_settings.bookings_phone in reply.body
    [handover] = _handovers(live_session_factory)
    assert handover.reason is HandoverReason.ASSISTANT_UNAVAILABLE
    assert "when is my appointment" in handover.summary
    assert elapsed < 5


def test_slow_assistant_counts_as_down(live_client, live_settings, live_session_factory):
    class Slow(RasaClient):
        def __init__(self):
            super().__init__(base_url="http://127.0.0.1:9", timeout=0.2)

        def send(self, **kwargs):
            raise httpx.ReadTimeout("slow") from None

    from api.conversations import rasa_client

    class SlowAssistant:
        def send(self, **kwargs):
            raise rasa_client.AssistantUnavailable("ReadTimeout")

    post_signed(live_client, inbound_form(from_=PATIENT, body="hi"))
    _worker(live_settings, live_session_factory, SlowAssistant()).drain()
    assert _outbound(live_session_factory)[0].category is MessageCategory.HOLDING


def test_media_gets_a_polite_request_for_words(live_client, live_settings, live_session_factory):
    assistant = EchoAssistant()
    post_signed(live_client, inbound_form(from_=PATIENT, body="", NumMedia="1",
                                          MediaUrl0="https://api.twilio.com/media/ME1"))
    _worker(live_settings, live_session_factory, assistant).drain()
    [reply] = _outbound(live_session_factory)
    assert "as text" in reply.body
    assert assistant.seen == []


def test_flood_from_one_number_gets_one_notice(live_client, live_settings, live_session_factory,
                                               monkeypatch):
    monkeypatch.setattr(live_settings, "inbound_rate_per_minute", 3)
    assistant = EchoAssistant()
    for i in range(7):
        post_signed(live_client, inbound_form(from_=PATIENT, body=f"spam {i}"))
    _worker(live_settings, live_session_factory, assistant).drain()
    assert len(assistant.seen) == 3
    notices = [m for m in _outbound(live_session_factory) if m.category is MessageCategory.SERVICE]
    assert len(notices) == 1
    with live_session_factory() as session:
        statuses = set(session.scalars(select(Message.status).where(
            Message.direction == Direction.INBOUND)))
    assert statuses == {MessageStatus.PROCESSED}  # stored and kept, none lost


def test_poison_message_goes_to_staff_after_three_attempts(live_client, live_settings,
                                                           live_session_factory):
    class Broken:
        def send(self, **kwargs):
            raise RuntimeError("bug")

    post_signed(live_client, inbound_form(from_=PATIENT, body="hello"))
    worker = _worker(live_settings, live_session_factory, Broken())
    for _ in range(4):
        worker.drain()
    [handover] = _handovers(live_session_factory)
    assert handover.reason is HandoverReason.NOT_UNDERSTOOD


def _failed_message(factory, settings, channel, to):
    from api.messaging import outbox

    with factory() as session:
        message = outbox.queue_message(
            session=session, settings=settings, channel=channel, to_address=to,
            text="Your appointment has changed", category=MessageCategory.NOTIFICATION)
        message.status = MessageStatus.UNDELIVERED
        message.error_code = 63024
        session.commit()
        return message.id


def test_undelivered_whatsapp_falls_back_to_sms(live_settings, live_session_factory):
    _failed_message(live_session_factory, live_settings, Channel.WHATSAPP, f"whatsapp:{PATIENT}")
    worker = _worker(live_settings, live_session_factory)
    assert worker.handle_failed_deliveries() == 1
    assert worker.handle_failed_deliveries() == 0  # handled once only
    [sms] = _outbound(live_session_factory, to=PATIENT)
    assert sms.channel is Channel.SMS and sms.status is MessageStatus.QUEUED


def test_an_undelivered_safety_net_opens_an_urgent_call_back(live_settings,
                                                             live_session_factory):
    from api.messaging import outbox

    with live_session_factory() as session:
        message = outbox.queue_message(
            session=session, settings=live_settings, channel=Channel.SMS, to_address=PATIENT,
            text="Call 999 now", category=MessageCategory.SAFETY_NET)
        message.status = MessageStatus.FAILED
        message.error_code = 21610  # the carrier's opt-out refusal
        session.commit()
    _worker(live_settings, live_session_factory).handle_failed_deliveries()
    [handover] = _handovers(live_session_factory)
    assert handover.urgency is Urgency.URGENT
    assert "Phone the patient now" in handover.summary


def test_undelivered_sms_puts_the_patient_on_the_call_list(live_settings, live_session_factory):
    from tests.factories import make_patient

    with live_session_factory() as session:
        patient = make_patient(session, mobile=PATIENT)
        session.commit()
    _failed_message(live_session_factory, live_settings, Channel.SMS, PATIENT)
    _worker(live_settings, live_session_factory).handle_failed_deliveries()
    [handover] = _handovers(live_session_factory)
    assert handover.reason is HandoverReason.DELIVERY_FAILURE
    assert handover.patient_id == patient.id


def test_a_conversation_leased_to_another_worker_is_not_offered_until_the_lease_runs_out(
        live_client, live_settings, live_session_factory):
    from datetime import timedelta

    from api.conversations import service as conversations_service
    from api.conversations.models import Conversation
    from api.db import utcnow

    post_signed(live_client, inbound_form(from_=PATIENT, body="hello"))
    with live_session_factory() as session:
        conversations_service.assign_inbound(session=session)
        conversation = session.scalars(select(Conversation)).one()
        conversation.lease_owner, conversation.lease_expires_at = "other", utcnow() + timedelta(
            seconds=30)
        session.commit()
        assert conversations_service.conversations_with_work(session=session, owner="me") == []
        assert conversations_service.conversations_with_work(
            session=session, owner="other") == [(conversation.id, "+447700900321")]
        conversation.lease_expires_at = utcnow() - timedelta(seconds=1)  # "other" died
        session.commit()
        assert conversations_service.conversations_with_work(
            session=session, owner="me") == [(conversation.id, "+447700900321")]


def test_a_turn_commits_once_with_the_lease_given_up_when_nothing_is_left(
        live_client, live_settings, live_session_factory):
    from api.conversations.models import Conversation

    post_signed(live_client, inbound_form(from_=PATIENT, body="hello"))
    _worker(live_settings, live_session_factory).drain()
    with live_session_factory() as session:
        conversation = session.scalars(select(Conversation)).one()
        inbound = session.scalars(select(Message).where(
            Message.direction == Direction.INBOUND)).one()
    assert conversation.lease_owner is None and conversation.lease_expires_at is None
    assert inbound.status is MessageStatus.PROCESSED and inbound.attempts == 1


def test_bookkeeping_commits_skip_the_disk_flush_only_inside_their_own_transaction(
        live_settings, live_session_factory):
    from sqlalchemy import text

    from api.db import skip_commit_flush

    with live_session_factory() as session:
        if session.get_bind().dialect.name != "postgresql":
            skip_commit_flush(session)  # a no-op elsewhere, and no error
            return
        skip_commit_flush(session)
        assert session.execute(text("SHOW synchronous_commit")).scalar() == "off"
        session.commit()
        assert session.execute(text("SHOW synchronous_commit")).scalar() == "on"


def test_a_number_with_no_patient_record_that_said_stop_gets_no_reply(
        live_client, live_settings, live_session_factory):
    assistant = EchoAssistant()
    worker = _worker(live_settings, live_session_factory, assistant)
    stranger = "+447700900499"
    post_signed(live_client, inbound_form(from_=stranger, body="STOP"))
    post_signed(live_client, inbound_form(from_=stranger, body="hello?"))
    worker.drain()
    assert assistant.seen == []
    assert [m.category for m in _outbound(live_session_factory, to=stranger)] == [
        MessageCategory.OPT_OUT_CONFIRMATION]
    post_signed(live_client, inbound_form(from_=stranger, body="START"))
    post_signed(live_client, inbound_form(from_=stranger, body="hello again"))
    worker.drain()
    assert [t for _, t in assistant.seen] == ["hello again"]
