"""The dispatcher: the real twilio client against a fake Twilio REST server on loopback."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from api.db import utcnow
from api.messaging import history, outbox
from api.messaging.dispatcher import Dispatcher
from api.messaging.models import Channel, Message, MessageCategory, MessageStatus
from api.messaging.senders import SandboxSender, TwilioSender
from tests.factories import make_patient
from tests.fakes.fake_twilio import FakeTwilio, FakeTwilioState
from tests.twilio_helpers import inbound_form, post_signed


@pytest.fixture
def twilio_settings(live_settings, monkeypatch):
    settings = live_settings.model_copy(update={
        "messaging_mode": "twilio", "twilio_account_sid": "ACtest0000000000000000000000000000",
        "send_rate_per_second": 200.0,
    })
    return settings


def _queue(factory, settings, n, *, to_prefix="+4477009001", channel=Channel.SMS,
           category=MessageCategory.REPLY):
    with factory() as session:
        for i in range(n):
            outbox.queue_message(
                session=session, settings=settings, channel=channel,
                to_address=f"{to_prefix}{i:02d}", text=f"message {i}", category=category)
        session.commit()


def _drain(dispatcher, rounds=200):
    for _ in range(rounds):
        with dispatcher.session_factory() as session:
            session.execute(update(Message).where(Message.status == MessageStatus.QUEUED)
                            .values(next_attempt_at=utcnow()))  # skip backoff waits
            session.commit()
        if not dispatcher.run_once():
            return
    raise AssertionError("outbox did not drain")


def _statuses(factory):
    with factory() as session:
        return Counter(session.scalars(select(Message.status)))


def test_transient_errors_are_retried_and_nothing_is_sent_twice(twilio_settings,
                                                                live_session_factory):
    state = FakeTwilioState(transient_error_rate=0.2)
    with FakeTwilio(state) as fake:
        settings = twilio_settings.model_copy(update={"twilio_api_base_url": fake.base_url})
        _queue(live_session_factory, settings, 60)
        dispatcher = Dispatcher(settings=settings, session_factory=live_session_factory,
                                sender=TwilioSender(settings))
        _drain(dispatcher)
    assert state.transient_answers > 0
    assert _statuses(live_session_factory) == {MessageStatus.SENT: 60}
    sent_to = Counter(m["to"] for m in state.accepted)
    assert len(sent_to) == 60 and set(sent_to.values()) == {1}
    with live_session_factory() as session:
        sids = session.scalars(select(Message.provider_sid)).all()
    assert sorted(sids) == sorted(m["sid"] for m in state.accepted)
    assert all(m["status_callback"].endswith("/twilio/status") for m in state.accepted)


def test_permanent_errors_are_not_retried(twilio_settings, live_session_factory):
    landline = "+447700900100"
    state = FakeTwilioState(permanent_errors={landline: 30006})
    with FakeTwilio(state) as fake:
        settings = twilio_settings.model_copy(update={"twilio_api_base_url": fake.base_url})
        _queue(live_session_factory, settings, 3)
        dispatcher = Dispatcher(settings=settings, session_factory=live_session_factory,
                                sender=TwilioSender(settings))
        _drain(dispatcher)
    assert state.permanent_answers == 1
    with live_session_factory() as session:
        failed = session.scalars(select(Message).where(Message.to_address == landline)).one()
    assert (failed.status, failed.error_code, failed.attempts) == (MessageStatus.FAILED, 30006, 1)


def test_always_failing_message_is_parked(twilio_settings, live_session_factory):
    state = FakeTwilioState(transient_error_rate=1.0)
    with FakeTwilio(state) as fake:
        settings = twilio_settings.model_copy(update={"twilio_api_base_url": fake.base_url,
                                                      "send_max_attempts": 3})
        _queue(live_session_factory, settings, 1)
        _drain(Dispatcher(settings=settings, session_factory=live_session_factory,
                          sender=TwilioSender(settings)))
    assert _statuses(live_session_factory) == {MessageStatus.PARKED: 1}
    assert state.accepted == []


def test_several_dispatchers_never_send_twice(twilio_settings, live_session_factory):
    state = FakeTwilioState(transient_error_rate=0.1, latency_seconds=0.005)
    with FakeTwilio(state) as fake:
        settings = twilio_settings.model_copy(update={"twilio_api_base_url": fake.base_url})
        _queue(live_session_factory, settings, 90)
        dispatchers = [Dispatcher(settings=settings, session_factory=live_session_factory,
                                  sender=TwilioSender(settings), name=f"d{i}", batch_size=10)
                       for i in range(3)]
        threads = [threading.Thread(target=_drain, args=(d,)) for d in dispatchers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        _drain(dispatchers[0])
    assert _statuses(live_session_factory) == {MessageStatus.SENT: 90}
    assert len(state.accepted) == 90
    assert len({m["to"] for m in state.accepted}) == 90


def test_killed_dispatchers_send_is_recovered_without_a_duplicate(twilio_settings,
                                                                  live_session_factory):
    with FakeTwilio() as fake:
        settings = twilio_settings.model_copy(update={"twilio_api_base_url": fake.base_url})
        _queue(live_session_factory, settings, 2)
        sender = TwilioSender(settings)
        with live_session_factory() as session:
            first, second = session.scalars(select(Message).order_by(Message.id)).all()
            # The dead dispatcher sent the first but died before recording it; the second
            # it had claimed and counted but never sent.
            sender.send(first)
            for message in (first, second):
                message.status = MessageStatus.SENDING
                message.attempts = 1
                message.claimed_by = "dead"
                message.claimed_until = utcnow() - timedelta(seconds=1)
            session.commit()
        _drain(Dispatcher(settings=settings, session_factory=live_session_factory,
                          sender=sender))
        assert Counter(m["to"] for m in fake.state.accepted) == {
            first.to_address: 1, second.to_address: 1}
    assert _statuses(live_session_factory) == {MessageStatus.SENT: 2}


def test_opted_out_numbers_get_no_notifications_but_do_get_the_confirmation(
        live_settings, live_session_factory):
    number = "+447700900200"
    with live_session_factory() as session:
        make_patient(session, mobile=number, opted_out=True)
        session.commit()
    _queue(live_session_factory, live_settings, 1, to_prefix="+4477009002",
           category=MessageCategory.NOTIFICATION)
    with live_session_factory() as session:
        outbox.queue_message(session=session, settings=live_settings,
                             channel=Channel.SMS, to_address=number,
                             text="You will get no more messages",
                             category=MessageCategory.SERVICE)
        session.commit()
    _drain(Dispatcher(settings=live_settings, session_factory=live_session_factory,
                      sender=SandboxSender()))
    with live_session_factory() as session:
        by_category = {m.category: m for m in session.scalars(select(Message))}
    assert by_category[MessageCategory.NOTIFICATION].status is MessageStatus.FAILED
    assert by_category[MessageCategory.NOTIFICATION].error_code == 21610
    assert by_category[MessageCategory.SERVICE].status is MessageStatus.DELIVERED


def test_whatsapp_outside_the_window_is_not_sent_free_form(live_settings, live_session_factory):
    _queue(live_session_factory, live_settings, 1, to_prefix="whatsapp:+4477009003",
           channel=Channel.WHATSAPP)
    _drain(Dispatcher(settings=live_settings, session_factory=live_session_factory,
                      sender=SandboxSender()))
    with live_session_factory() as session:
        message = session.scalars(select(Message)).one()
    assert (message.status, message.error_code) == (MessageStatus.FAILED, 63016)


def test_whatsapp_inside_the_window_keeps_its_buttons(live_client, live_settings,
                                                      live_session_factory):
    address = "whatsapp:+447700900301"
    post_signed(live_client, inbound_form(from_=address, body="hi", to="whatsapp:+447700900001"))
    with live_session_factory() as session:
        outbox.queue_message(
            session=session, settings=live_settings, channel=Channel.WHATSAPP,
            to_address=address, text="Which suits you?",
            buttons=[{"title": "Tue 2pm", "payload": "1"}, {"title": "Wed 9am", "payload": "2"}])
        session.commit()
    _drain(Dispatcher(settings=live_settings, session_factory=live_session_factory,
                      sender=SandboxSender()))
    with live_session_factory() as session:
        sent = history.sent_to(session=session, to_address=address)
    assert sent[0].status is MessageStatus.DELIVERED
    assert [b["title"] for b in sent[0].buttons] == ["Tue 2pm", "Wed 9am"]


def test_daily_cap_parks_a_runaway_loop(live_settings, live_session_factory, monkeypatch):
    settings = live_settings.model_copy(update={"daily_cap_per_number": 3})
    with live_session_factory() as session:
        for i in range(5):
            outbox.queue_message(session=session, settings=settings,
                                 channel=Channel.SMS, to_address="+447700900400",
                                 text=f"loop {i}")
        session.commit()
    dispatcher = Dispatcher(settings=settings, session_factory=live_session_factory,
                            sender=SandboxSender(), concurrency=1, batch_size=1)
    _drain(dispatcher)
    assert _statuses(live_session_factory) == {MessageStatus.DELIVERED: 3,
                                               MessageStatus.PARKED: 2}


def test_the_cap_counts_every_category_and_refuses_all_but_the_safety_net_and_staff(
        live_settings, live_session_factory):
    settings = live_settings.model_copy(update={"daily_cap_per_number": 2})
    number = "+447700900410"
    categories = [MessageCategory.SERVICE, MessageCategory.HOLDING, MessageCategory.SERVICE,
                  MessageCategory.SAFETY_NET, MessageCategory.STAFF_REPLY,
                  MessageCategory.NOTIFICATION]
    with live_session_factory() as session:
        for i, category in enumerate(categories):
            address = f"whatsapp:{number}" if i == 1 else number  # one number, two channels
            channel = Channel.WHATSAPP if i == 1 else Channel.SMS
            outbox.queue_message(
                session=session, settings=settings, channel=channel, to_address=address,
                text=f"message {i}", category=category,
                content_sid="HXtemplate" if i == 1 else None)
        session.commit()
    _drain(Dispatcher(settings=settings, session_factory=live_session_factory,
                      sender=SandboxSender(), concurrency=1, batch_size=1))
    with live_session_factory() as session:
        outcome = [(m.category, m.status, m.parked_reason)
                   for m in session.scalars(select(Message).order_by(Message.id))]
    capped = "daily cap per number reached"
    assert outcome == [
        (MessageCategory.SERVICE, MessageStatus.DELIVERED, None),
        (MessageCategory.HOLDING, MessageStatus.DELIVERED, None),
        (MessageCategory.SERVICE, MessageStatus.PARKED, capped),
        (MessageCategory.SAFETY_NET, MessageStatus.DELIVERED, None),
        (MessageCategory.STAFF_REPLY, MessageStatus.DELIVERED, None),
        (MessageCategory.NOTIFICATION, MessageStatus.PARKED, capped),
    ]


def test_a_message_the_sender_chokes_on_is_parked_and_the_rest_are_sent(
        live_settings, live_session_factory):
    class Choking(SandboxSender):
        def send(self, message):
            if message.to_address.endswith("01"):
                raise ValueError("a bug in the sender")
            return super().send(message)

    _queue(live_session_factory, live_settings, 3, to_prefix="+4477009006")
    dispatcher = Dispatcher(settings=live_settings, session_factory=live_session_factory,
                            sender=Choking())
    _drain(dispatcher)
    with live_session_factory() as session:
        outcome = {m.to_address: (m.status, m.parked_reason)
                   for m in session.scalars(select(Message))}
    assert outcome == {
        "+447700900600": (MessageStatus.DELIVERED, None),
        "+447700900601": (MessageStatus.PARKED, "the dispatcher failed on it (ValueError)"),
        "+447700900602": (MessageStatus.DELIVERED, None),
    }
    assert dispatcher.run_once() == 0  # parked: not claimed again lease after lease


def test_sandbox_messages_contract(live_client, live_settings, live_session_factory):
    _queue(live_session_factory, live_settings, 2, to_prefix="+4477009005")
    _queue(live_session_factory, live_settings, 1, to_prefix="+4477009005")
    _drain(Dispatcher(settings=live_settings, session_factory=live_session_factory,
                      sender=SandboxSender()))
    response = live_client.get("/sandbox/messages", params={"to": "+447700900500"})
    assert response.status_code == 200
    rows = response.json()
    assert [r["body"] for r in rows] == ["message 0", "message 0"]
    assert set(rows[0]) == {"to", "from", "channel", "body", "status", "created_at"}
    assert rows[0]["from"] == live_settings.twilio_sms_from
    assert rows[0]["status"] == "delivered" and rows[0]["channel"] == "sms"
