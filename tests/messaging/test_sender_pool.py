"""The SMS sender pool: a stable sender per patient, spread evenly, little movement when the
pool changes, pacing per sender shared through Redis, and the dispatcher sending from it."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from api.config import Settings
from api.messaging import outbox
from api.messaging.dispatcher import Dispatcher
from api.messaging.models import Channel, Direction, Message
from api.messaging.sender_pool import SenderPacer, choose_sender, sms_sender_for
from api.messaging.senders import TwilioSender
from tests.conftest import live_redis_url
from tests.conversations.helpers import echo_worker
from tests.fakes.fake_twilio import FakeTwilio, FakeTwilioState
from tests.twilio_helpers import inbound_form, post_signed

SENDERS = ("+447700900010", "+447700900011", "+447700900012", "+447700900013")
# Hash inputs only, never written to: 10,000 made-up numbers.
NUMBERS = [f"+4477000{i:05d}" for i in range(10_000)]


def _pool(senders=SENDERS) -> dict[str, str]:
    return {number: choose_sender(senders=senders, address=number) for number in NUMBERS}


def test_a_patient_always_gets_the_same_sender_whatever_the_order_or_channel_prefix():
    first = _pool()
    assert _pool(tuple(reversed(SENDERS))) == first
    assert choose_sender(senders=SENDERS, address="whatsapp:+447700900123") == choose_sender(
        senders=SENDERS, address="+447700900123")


def test_patients_are_spread_evenly_across_the_senders():
    counts = Counter(_pool().values())
    assert set(counts) == set(SENDERS)
    expected = len(NUMBERS) / len(SENDERS)
    # Binomial spread: one standard deviation is ~43 here; 10% is ~6 of them.
    assert all(abs(n - expected) < 0.1 * expected for n in counts.values()), counts


def test_removing_a_sender_moves_only_its_patients_and_adding_one_moves_a_fair_share():
    before = _pool()
    after = _pool(SENDERS[:3])
    moved = {n for n in NUMBERS if before[n] != after[n]}
    assert moved == {n for n in NUMBERS if before[n] == SENDERS[3]}
    grown = _pool((*SENDERS, "+447700900014"))
    moved = [n for n in NUMBERS if grown[n] != before[n]]
    assert {grown[n] for n in moved} == {"+447700900014"}
    assert abs(len(moved) - len(NUMBERS) / 5) < 0.1 * len(NUMBERS) / 5


def test_the_setting_takes_e164_numbers_and_refuses_anything_else():
    settings = Settings(twilio_sms_senders=" +447700900010, +447700900011,+447700900010 ,")
    assert settings.sms_senders == ("+447700900010", "+447700900011")
    assert Settings().sms_senders == ()
    assert sms_sender_for(settings=Settings(), address="+447700900123") == \
        Settings().twilio_sms_from
    with pytest.raises(ValidationError, match="TWILIO_SMS_SENDERS"):
        Settings(twilio_sms_senders="+447700900010,not-a-number")



def _hit_times(pacer: SenderPacer, sender: str, n: int, out: list[float]) -> None:
    for _ in range(n):
        pacer.wait(sender)
        out.append(time.monotonic())


def test_two_pacers_sharing_redis_keep_one_budget_per_sender():
    """Two dispatchers' pacers (separate clients, one Redis): together at most the rate per
    sender in any second, while another sender is not held back by the first's queue."""
    namespace = f"send-test-{uuid.uuid4().hex}"  # keys of their own, whatever else runs
    rate = 10
    pacers = [SenderPacer(rate_per_second=rate, storage_url=live_redis_url(), namespace=namespace)
              for _ in range(2)]
    busy, other = [], []
    threads = [threading.Thread(target=_hit_times, args=(p, SENDERS[0], 15, busy))
               for p in pacers]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # the busy sender's first second is used up by now
    _hit_times(pacers[1], SENDERS[1], rate, other)
    for thread in threads:
        thread.join()
    busy.sort()
    assert len(busy) == 30
    # 30 sends at 10 a second: the first ten at once, the last no sooner than 2 s later.
    assert busy[-1] - started >= 1.9
    for i, at in enumerate(busy):
        in_window = [t for t in busy[i:] if t - at < 0.98]
        assert len(in_window) <= rate, f"{len(in_window)} sends within a second"
    assert other[-1] - started < 1.0  # its own budget: no wait behind the busy one


@pytest.fixture
def pool_settings(live_settings):
    return live_settings.model_copy(update={
        "messaging_mode": "twilio", "twilio_account_sid": "ACtest0000000000000000000000000000",
        "send_rate_per_second": 200.0, "twilio_sms_senders": ",".join(SENDERS[:3]),
    })


def test_the_dispatcher_sends_each_patient_from_their_sender(pool_settings,
                                                             live_session_factory):
    patients = [f"+4477009002{i:02d}" for i in range(30)]
    senders = pool_settings.sms_senders
    with live_session_factory() as session:
        for number in patients:
            outbox.queue_message(session=session, settings=pool_settings, channel=Channel.SMS,
                                 to_address=number, text="hello")
        outbox.queue_message(session=session, settings=pool_settings, channel=Channel.WHATSAPP,
                             to_address=f"whatsapp:{patients[0]}", text="",
                             content_sid="HX0123456789abcdef0123456789abcdef")
        # Queued before the pool: goes from the patient's sender in the pool, not the old one.
        late = outbox.queue_message(session=session, settings=Settings(),
                                    channel=Channel.SMS, to_address=patients[1], text="old")
        assert late.from_address == Settings().twilio_sms_from
        session.commit()
    state = FakeTwilioState()
    with FakeTwilio(state) as fake:
        settings = pool_settings.model_copy(update={"twilio_api_base_url": fake.base_url})
        dispatcher = Dispatcher(settings=settings, session_factory=live_session_factory,
                                sender=TwilioSender(settings))
        while dispatcher.run_once():
            pass
    sent = {(m["to"], m["body"]): m["from"] for m in state.accepted}
    assert len(sent) == len(patients) + 2
    for number in patients:
        assert sent[(number, "hello")] == choose_sender(senders=senders, address=number)
    assert sent[(patients[1], "old")] == sent[(patients[1], "hello")]
    assert sent[(f"whatsapp:{patients[0]}", "")] == settings.twilio_whatsapp_from
    assert len(set(sent.values()) - {settings.twilio_whatsapp_from}) == 3  # all three used


def test_a_reply_to_any_sender_in_the_pool_is_answered_from_the_patients_sender(
        live_client, pool_settings, live_session_factory):
    patient = "+447700900250"
    theirs = choose_sender(senders=pool_settings.sms_senders, address=patient)
    post_signed(live_client, inbound_form(from_=patient, to=theirs, body="hello"))
    echo_worker(pool_settings, live_session_factory).drain()
    with live_session_factory() as session:
        reply = session.scalars(select(Message).where(
            Message.direction == Direction.OUTBOUND, Message.to_address == patient)).one()
    assert (reply.body, reply.from_address) == ("echo: hello", theirs)
