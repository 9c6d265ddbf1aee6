"""Campaign messages through the dispatcher: email over real SMTP, quiet hours, pauses."""

import time

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from api.db import utcnow
from api.messaging import outbox
from api.messaging.dispatcher import Dispatcher
from api.messaging.models import Channel, Message, MessageCategory, MessageStatus
from api.messaging.senders import SandboxSender, SmtpSender
from tests.processes import free_port


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's API
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _queue_email(factory, settings):
    with factory() as session:
        outbox.queue_message(
            session=session, settings=settings, channel=Channel.EMAIL,
            to_address="pat@example.com", text="Your appointment has moved.",
            category=MessageCategory.NOTIFICATION, subject="Northshire Hospitals")
        session.commit()


def test_email_goes_over_smtp(live_settings, live_session_factory, smtp_server):
    controller, inbox = smtp_server
    settings = live_settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": controller.port,
        "send_window_start": "00:00", "send_window_end": "23:59:59.999999"})
    _queue_email(live_session_factory, settings)
    Dispatcher(settings=settings, session_factory=live_session_factory,
               sender=SmtpSender(settings)).run_once()
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["pat@example.com"]
    assert b"Subject: Northshire Hospitals" in envelope.content
    assert b"Your appointment has moved." in envelope.content
    with live_session_factory() as session:
        assert session.scalars(select(Message.status)).one() is MessageStatus.SENT


def test_email_without_smtp_configured_fails_cleanly(live_settings, live_session_factory):
    settings = live_settings
    _queue_email(live_session_factory, settings)
    Dispatcher(settings=settings, session_factory=live_session_factory,
               sender=SmtpSender(settings)).run_once()
    with live_session_factory() as session:
        assert session.scalars(select(Message.status)).one() is MessageStatus.FAILED


def test_notifications_wait_for_the_send_window(live_settings, live_session_factory):
    closed = live_settings.model_copy(update={"send_window_start": "00:00",
                                              "send_window_end": "00:00"})
    with live_session_factory() as session:
        outbox.queue_message(session=session, settings=closed, channel=Channel.SMS,
                             to_address="+447700900990", text="moved",
                             category=MessageCategory.NOTIFICATION)
        outbox.queue_message(session=session, settings=closed, channel=Channel.SMS,
                             to_address="+447700900991", text="a reply",
                             category=MessageCategory.REPLY)
        session.commit()
    Dispatcher(settings=closed, session_factory=live_session_factory,
               sender=SandboxSender()).run_once()
    with live_session_factory() as session:
        rows = {m.category: m for m in session.scalars(select(Message))}
    assert rows[MessageCategory.REPLY].status is MessageStatus.DELIVERED  # replies any time
    notification = rows[MessageCategory.NOTIFICATION]
    assert notification.status is MessageStatus.QUEUED
    assert notification.next_attempt_at > utcnow()


def test_held_messages_are_not_sent(live_settings, live_session_factory):
    with live_session_factory() as session:
        message = outbox.queue_message(
            session=session, settings=live_settings, channel=Channel.SMS,
            to_address="+447700900992", text="moved", category=MessageCategory.REPLY)
        session.execute(update(Message).where(Message.id == message.id)
                        .values(status=MessageStatus.HELD))
        session.commit()
    dispatcher = Dispatcher(settings=live_settings, session_factory=live_session_factory,
                            sender=SandboxSender())
    assert dispatcher.run_once() == 0
    time.sleep(0.01)
    with live_session_factory() as session:
        assert session.scalars(select(Message.status)).one() is MessageStatus.HELD
