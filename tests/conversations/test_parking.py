"""One bad row never holds up a queue: it is parked with its reason, staff can list it, and
every other message flows on."""

from sqlalchemy import select
from sqlalchemy.exc import DataError, OperationalError

from api.audit.models import AuditEvent
from api.conversations import service as conversations_service
from api.flows import delivery_failure
from api.handover.models import Handover, HandoverReason
from api.messaging.models import (
    Channel,
    Direction,
    Message,
    MessageCategory,
    MessageStatus,
)
from api.staff import service as staff_service
from api.staff.models import Role
from api.worker import Worker
from tests.fakes.fake_rasa import EchoAssistant
from tests.twilio_helpers import inbound_form, new_sid, post_signed

OTHERS = ["+447700900871", "+447700900872", "+447700900873"]


def _stored_before_validation(factory, from_address: str, body: str = "hello") -> int:
    """An inbound row as an older webhook (or any other path) could have stored it."""
    with factory() as session:
        message = Message(direction=Direction.INBOUND, channel=Channel.SMS,
                          from_address=from_address, to_address="+447700900000", body=body,
                          provider_sid=new_sid(), status=MessageStatus.RECEIVED,
                          category=MessageCategory.PATIENT, attempts=0)
        session.add(message)
        session.commit()
        return message.id


def _answered(factory) -> set[str]:
    with factory() as session:
        return set(session.scalars(select(Message.to_address).where(
            Message.direction == Direction.OUTBOUND)))


def _staff_key(factory) -> str:
    with factory() as session:
        user = staff_service.create_user(session=session, username="parked.clerk",
                                         display_name="Clerk", password="a-long-password-1",
                                         role=Role.CLERK)
        key = staff_service.create_api_key(session=session, user=user)
        session.commit()
        return key


def test_a_64_character_sender_is_parked_and_the_other_numbers_are_answered(
        live_client, live_settings, live_session_factory):
    bad_id = _stored_before_validation(live_session_factory, "+" + "4" * 63)
    for number in OTHERS:
        post_signed(live_client, inbound_form(from_=number, body="hello"))
    worker = Worker(settings=live_settings, session_factory=live_session_factory,
                    rasa=EchoAssistant())
    worker.drain()
    assert _answered(live_session_factory) == set(OTHERS)
    with live_session_factory() as session:
        bad = session.get(Message, bad_id)
        assert bad.status is MessageStatus.PARKED
        assert bad.parked_reason == "sender address longer than 40 characters"
    # Later passes neither fail nor pick it up again.
    post_signed(live_client, inbound_form(from_=OTHERS[0], body="and again"))
    worker.drain()
    with live_session_factory() as session:
        assert session.scalars(select(Message.status).where(
            Message.direction == Direction.INBOUND, Message.status == MessageStatus.RECEIVED)
        ).all() == []
    # Staff see it, with its reason; the look is audited.
    key = _staff_key(live_session_factory)
    response = live_client.get("/api/v1/messages/parked",
                               headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    [listed] = response.json()
    assert (listed["id"], listed["direction"], listed["parked_reason"]) == (
        bad_id, "inbound", "sender address longer than 40 characters")
    with live_session_factory() as session:
        [event] = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "view_parked_messages")).all()
        assert event.details["message_ids"] == [bad_id]
    metrics = live_client.get("/metrics").text
    assert "rebook_inbound_parked 1.0" in metrics


def test_parked_messages_are_for_staff_only(live_client, live_settings):
    assert live_client.get("/api/v1/messages/parked").status_code == 401


def test_a_row_the_database_refuses_is_parked_and_its_batch_goes_on(
        live_client, live_settings, live_session_factory, monkeypatch):
    refused = OTHERS[1]
    real = conversations_service.get_or_create

    def refusing(*, session, channel, address):
        if address == refused:
            raise DataError("INSERT", {}, Exception("value too long"))
        return real(session=session, channel=channel, address=address)

    monkeypatch.setattr(conversations_service, "get_or_create", refusing)
    for number in OTHERS:
        post_signed(live_client, inbound_form(from_=number, body="hello"))
    Worker(settings=live_settings, session_factory=live_session_factory,
           rasa=EchoAssistant()).drain()
    assert _answered(live_session_factory) == {OTHERS[0], OTHERS[2]}
    with live_session_factory() as session:
        parked = session.scalars(select(Message).where(
            Message.status == MessageStatus.PARKED)).one()
    assert parked.from_address == refused
    assert parked.parked_reason == "could not be attached to a conversation (DataError)"


def test_a_row_that_meets_lock_trouble_waits_for_the_next_pass_instead_of_being_parked(
        live_client, live_settings, live_session_factory, monkeypatch):
    # Two workers assigning at once could deadlock on a shared conversation: that is no
    # reason to take the message from the assistant.
    unlucky = OTHERS[1]
    real = conversations_service.get_or_create
    failures = []

    def deadlocking_once(*, session, channel, address):
        if address == unlucky and len(failures) < 2:  # the batch, then the row on its own
            failures.append(address)
            raise OperationalError("UPDATE conversation", {}, Exception("deadlock detected"))
        return real(session=session, channel=channel, address=address)

    monkeypatch.setattr(conversations_service, "get_or_create", deadlocking_once)
    for number in OTHERS:
        post_signed(live_client, inbound_form(from_=number, body="hello"))
    with live_session_factory() as session:
        assert conversations_service.assign_inbound(session=session) == 0
        session.commit()
    Worker(settings=live_settings, session_factory=live_session_factory,
           rasa=EchoAssistant()).drain()
    assert failures == [unlucky, unlucky]
    assert _answered(live_session_factory) == set(OTHERS)
    with live_session_factory() as session:
        assert not session.scalars(select(Message).where(
            Message.status == MessageStatus.PARKED)).all()


def test_a_message_that_fails_every_turn_is_parked_and_the_next_one_is_answered(
        live_client, live_settings, live_session_factory):
    class BrokenOnce(EchoAssistant):
        def send(self, *, sender_id, text, metadata=None):
            if text == "kaboom":
                raise RuntimeError("bug")
            return super().send(sender_id=sender_id, text=text, metadata=metadata)

    number = OTHERS[0]
    post_signed(live_client, inbound_form(from_=number, body="kaboom"))
    post_signed(live_client, inbound_form(from_=number, body="after"))
    worker = Worker(settings=live_settings, session_factory=live_session_factory,
                    rasa=BrokenOnce())
    for _ in range(4):
        worker.drain()
    with live_session_factory() as session:
        broken = session.scalars(select(Message).where(Message.body == "kaboom")).one()
        after = session.scalars(select(Message).where(Message.body == "after")).one()
        [handover] = session.scalars(select(Handover)).all()
    assert broken.status is MessageStatus.PARKED
    assert broken.parked_reason.startswith("failed 3 times in the worker")
    assert handover.reason is HandoverReason.NOT_UNDERSTOOD and "kaboom" in handover.summary
    # Staff have the case now, so the next message is acknowledged, not left waiting.
    assert after.status is MessageStatus.PROCESSED
    with live_session_factory() as session:
        assert session.scalars(select(Message.category).where(
            Message.direction == Direction.OUTBOUND)).all() == [MessageCategory.HOLDING]


def test_a_failed_delivery_that_cannot_be_followed_up_does_not_hold_back_the_others(
        live_settings, live_session_factory, monkeypatch):
    from api.messaging import outbox

    with live_session_factory() as session:
        for number in OTHERS:
            message = outbox.queue_message(
                session=session, settings=live_settings, channel=Channel.SMS,
                to_address=number, text="Your appointment has changed",
                category=MessageCategory.NOTIFICATION)
            message.status, message.error_code = MessageStatus.UNDELIVERED, 30003
        session.commit()
    worker = Worker(settings=live_settings, session_factory=live_session_factory,
                    rasa=EchoAssistant())
    real = delivery_failure.add_to_call_list

    def breaking(*, session, settings, failed):
        if failed.to_address == OTHERS[0]:
            raise RuntimeError("a bug in the follow-up")
        real(session=session, settings=settings, failed=failed)

    monkeypatch.setattr(delivery_failure, "add_to_call_list", breaking)
    assert worker.handle_failed_deliveries() == 2
    with live_session_factory() as session:
        handled = {m.to_address: m.failure_handled_at is not None
                   for m in session.scalars(select(Message))}
        assert len(session.scalars(select(Handover)).all()) == 2
    assert handled == {OTHERS[0]: False, OTHERS[1]: True, OTHERS[2]: True}
    monkeypatch.setattr(delivery_failure, "add_to_call_list", real)
    assert worker.handle_failed_deliveries() == 1  # tried again on the next sweep
