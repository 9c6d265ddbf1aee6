"""SIGTERM (the stop event): the worker finishes its turn and gives the conversation's lease
back at once; the dispatcher finishes the sends under way and gives back the rows it claimed
but never started. Another replica carries on without waiting for a lease to run out."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select, update

from api.conversations.models import Conversation
from api.db import utcnow
from api.messaging import outbox
from api.messaging.dispatcher import Dispatcher
from api.messaging.models import Channel, Direction, Message, MessageStatus
from api.messaging.senders import SandboxSender, SendResult
from api.worker import Worker
from tests.conversations.helpers import echo_worker, outbound_to
from tests.fakes.fake_rasa import EchoAssistant
from tests.twilio_helpers import inbound_form, post_signed

PATIENT = "+447700900470"


class StopOnFirstTurn(EchoAssistant):
    """Answers like the echo assistant; the first question also signals the stop."""

    def __init__(self, stop: threading.Event):
        super().__init__(delay=0.3)  # the stop arrives while the turn is under way
        self.stop = stop

    def send(self, **kwargs):
        self.stop.set()
        return super().send(**kwargs)


def test_a_stopping_worker_finishes_its_turn_and_gives_the_lease_back_at_once(
        live_client, live_settings, live_session_factory):
    for i in range(3):
        post_signed(live_client, inbound_form(from_=PATIENT, body=f"message {i}"))
    stop = threading.Event()
    worker = Worker(settings=live_settings, session_factory=live_session_factory,
                    rasa=StopOnFirstTurn(stop), name="stopping")
    runner = threading.Thread(target=worker.run_forever, args=(stop,))
    runner.start()
    runner.join(60)
    assert not runner.is_alive()
    assert [m.body for m in outbound_to(live_session_factory, PATIENT)] == ["echo: message 0"]
    with live_session_factory() as session:
        statuses = session.scalars(select(Message.status).where(
            Message.direction == Direction.INBOUND).order_by(Message.id)).all()
        lease = session.execute(select(Conversation.lease_owner,
                                       Conversation.lease_expires_at)).one()
    assert statuses == [MessageStatus.PROCESSED, MessageStatus.RECEIVED, MessageStatus.RECEIVED]
    assert tuple(lease) == (None, None)
    # Another replica answers the rest now, not WORKER_LEASE_SECONDS (30 s) later.
    started = time.monotonic()
    echo_worker(live_settings, live_session_factory).drain(timeout=20)
    assert time.monotonic() - started < live_settings.worker_lease_seconds
    assert [m.body for m in outbound_to(live_session_factory, PATIENT)] == [
        f"echo: message {i}" for i in range(3)]


class SlowSender(SandboxSender):
    """Sends slowly; the first send signals the stop."""

    def __init__(self, stop: threading.Event):
        self.stop = stop
        self.sent: list[int] = []

    def send(self, message: Message) -> SendResult:
        self.stop.set()
        time.sleep(0.3)
        self.sent.append(message.id)
        return super().send(message)


def test_a_stopping_dispatcher_finishes_its_sends_and_gives_back_the_rest(live_settings,
                                                                         live_session_factory):
    with live_session_factory() as session:
        for i in range(12):
            outbox.queue_message(session=session, settings=live_settings, channel=Channel.SMS,
                                 to_address=f"+4477009004{i:02d}", text=f"message {i}")
        session.flush()
        # The last row was left mid-send by a dispatcher that died: claim run out, one attempt.
        left = session.scalars(select(Message).order_by(Message.id.desc())).first()
        left.status, left.attempts = MessageStatus.SENDING, 1
        left.claimed_by, left.claimed_until = "dead", utcnow() - timedelta(seconds=5)
        session.commit()
    stop = threading.Event()
    sender = SlowSender(stop)
    dispatcher = Dispatcher(settings=live_settings, session_factory=live_session_factory,
                            sender=sender, name="stopping", concurrency=2)
    runner = threading.Thread(target=dispatcher.run_forever, args=(stop,))
    runner.start()
    runner.join(30)
    assert not runner.is_alive()
    assert 1 <= len(sender.sent) <= 2  # only the sends already under way
    with live_session_factory() as session:
        rows = session.scalars(select(Message).order_by(Message.id)).all()
    sent = [m for m in rows if m.id in sender.sent]
    assert all(m.status is MessageStatus.DELIVERED for m in sent)
    given_back = [m for m in rows if m.id not in sender.sent and m.id != left.id]
    assert len(given_back) == 12 - 1 - len(sender.sent)
    assert all((m.status, m.claimed_by, m.claimed_until) == (MessageStatus.QUEUED, None, None)
               for m in given_back)
    still_left = next(m for m in rows if m.id == left.id)
    # Still 'sending' (the next dispatcher asks Twilio before sending it), claimable now.
    assert still_left.status is MessageStatus.SENDING and still_left.claimed_until < utcnow()
    # Another dispatcher sends everything at once, the mid-send row included.
    with live_session_factory() as session:
        session.execute(update(Message).values(next_attempt_at=utcnow()))
        session.commit()
    other = Dispatcher(settings=live_settings, session_factory=live_session_factory,
                       sender=SandboxSender(), name="other")
    while other.run_once():
        pass
    with live_session_factory() as session:
        statuses = set(session.scalars(select(Message.status)))
    assert statuses == {MessageStatus.DELIVERED}
