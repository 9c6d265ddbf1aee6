"""The retention purge on both databases: what goes, what stays, the dry run, the schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from sqlalchemy import select, update

from api.audit.models import AuditEvent
from api.config import get_settings
from api.conversations.models import Conversation
from api.db import utcnow
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency
from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.privacy import service as privacy_service
from tests.factories import make_patient

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def settings():
    return get_settings().model_copy(update={"retention_days": 365, "redis_url": None})


@pytest.fixture
def redis_settings(settings):
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis not reachable on 127.0.0.1:6379")
    yield settings.model_copy(update={"redis_url": REDIS_URL}), client
    client.close()


def conversation(session, *, days_ago: float, handover: HandoverStatus | None = None,
                 text: str = "my date of birth is 3/7/1958") -> Conversation:
    """A verified conversation whose last message is `days_ago` old, maybe with a handover."""
    patient = make_patient(session)
    at = utcnow() - timedelta(days=days_ago)
    talk = Conversation(channel=Channel.SMS, address=patient.mobile,
                        verified_patient_id=patient.id, last_inbound_at=at)
    session.add(talk)
    session.flush()
    session.add_all([
        Message(conversation_id=talk.id, patient_id=patient.id, direction=Direction.INBOUND,
                channel=Channel.SMS, from_address=patient.mobile, to_address="+447700900000",
                body=text, status=MessageStatus.PROCESSED, category=MessageCategory.PATIENT,
                created_at=at),
        Message(conversation_id=talk.id, patient_id=patient.id, direction=Direction.OUTBOUND,
                channel=Channel.SMS, from_address="+447700900000", to_address=patient.mobile,
                body="Thanks, that's confirmed.", status=MessageStatus.DELIVERED,
                category=MessageCategory.REPLY, created_at=at, media=["https://x/y.jpg"]),
    ])
    if handover is not None:
        session.add(Handover(conversation_id=talk.id, patient_id=patient.id,
                             reason=HandoverReason.ASKED_FOR_PERSON, urgency=Urgency.NORMAL,
                             status=handover, due_at=at, created_by="assistant",
                             summary=f"The patient wrote: {text}",
                             resolved_at=at if handover is HandoverStatus.RESOLVED else None))
    session.flush()
    session.execute(update(Conversation).where(Conversation.id == talk.id)
                    .values(updated_at=at, created_at=at))
    session.expire(talk)
    return talk


def _messages(session, talk) -> list[Message]:
    session.expire_all()
    return list(session.scalars(select(Message).where(Message.conversation_id == talk.id)))


def _summary(session, talk) -> str:
    return session.scalar(select(Handover.summary).where(Handover.conversation_id == talk.id))


def test_an_old_conversation_is_emptied_and_recent_or_open_ones_are_kept(db_session, settings):
    old = conversation(db_session, days_ago=400, handover=HandoverStatus.RESOLVED)
    recent = conversation(db_session, days_ago=30)
    still_open = conversation(db_session, days_ago=400, handover=HandoverStatus.WAITING_FOR_PATIENT)
    old_address = old.address

    result = privacy_service.purge(session=db_session, settings=settings, actor="cli:test")

    assert result["conversations"] == 1 and result["messages"] == 2
    assert result["handover_summaries"] == 1 and result["trackers"] == 0
    for message in _messages(db_session, old):
        assert message.body == "" and message.media is None
        assert message.from_address == message.to_address == privacy_service.PURGED_ADDRESS
        assert message.status in (MessageStatus.PROCESSED, MessageStatus.DELIVERED)  # counts stay
    assert _summary(db_session, old) == ""
    purged = db_session.get(Conversation, old.id)
    assert purged.purged_at is not None and purged.address != old_address
    for kept in (recent, still_open):
        assert {m.body for m in _messages(db_session, kept)} == {
            "my date of birth is 3/7/1958", "Thanks, that's confirmed."}
        assert db_session.get(Conversation, kept.id).purged_at is None
    assert _summary(db_session, still_open).startswith("The patient wrote")
    [event] = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == privacy_service.PURGE_ACTION)).all()
    assert event.actor == "cli:test"
    assert event.details["conversations"] == 1 and event.details["messages"] == 2
    assert event.details["retention_days"] == 365 and event.details["dry_run"] is False

    again = privacy_service.purge(session=db_session, settings=settings)
    assert again["conversations"] == 0  # purged once only


def test_a_message_inside_the_period_keeps_an_old_conversation(db_session, settings):
    talk = conversation(db_session, days_ago=400)
    db_session.add(Message(conversation_id=talk.id, direction=Direction.INBOUND,
                           channel=Channel.SMS, from_address=talk.address, to_address="x",
                           body="hello again", status=MessageStatus.PROCESSED,
                           category=MessageCategory.PATIENT, created_at=utcnow()))
    db_session.flush()

    assert privacy_service.purge(session=db_session, settings=settings)["conversations"] == 0


def test_the_same_number_writing_after_the_purge_starts_a_new_conversation(db_session,
                                                                           settings):
    from api.conversations import service as conversations_service

    old = conversation(db_session, days_ago=400)
    number = old.address
    privacy_service.purge(session=db_session, settings=settings)

    fresh = conversations_service.get_or_create(session=db_session, channel=Channel.SMS,
                                                address=number)

    assert fresh.id != old.id and fresh.purged_at is None and fresh.verified_patient_id is None


def test_a_dry_run_counts_and_changes_nothing(db_session, redis_settings):
    settings, client = redis_settings
    old = conversation(db_session, days_ago=400, handover=HandoverStatus.RESOLVED)
    key = privacy_service.RASA_TRACKER_KEY_PREFIX + old.public_id
    client.set(key, "{}", ex=60)
    try:
        result = privacy_service.purge(session=db_session, settings=settings, dry_run=True)

        assert result["dry_run"] is True
        assert (result["conversations"], result["messages"], result["handover_summaries"],
                result["trackers"]) == (1, 2, 1, 1)
        assert {m.body for m in _messages(db_session, old)} == {
            "my date of birth is 3/7/1958", "Thanks, that's confirmed."}
        assert _summary(db_session, old).startswith("The patient wrote")
        assert db_session.get(Conversation, old.id).purged_at is None
        assert client.exists(key) == 1
        assert db_session.scalars(select(AuditEvent).where(
            AuditEvent.action == privacy_service.PURGE_ACTION)).all() == []
    finally:
        client.delete(key)


def test_the_purge_deletes_the_rasa_tracker_in_redis(db_session, redis_settings):
    settings, client = redis_settings
    old = conversation(db_session, days_ago=400)
    recent = conversation(db_session, days_ago=1)
    keys = [privacy_service.RASA_TRACKER_KEY_PREFIX + c.public_id for c in (old, recent)]
    for key in keys:
        client.set(key, "{}", ex=60)
    try:
        result = privacy_service.purge(session=db_session, settings=settings)

        assert result["trackers"] == 1
        assert [client.exists(key) for key in keys] == [0, 1]
    finally:
        client.delete(*keys)


def test_the_scheduler_purges_once_per_interval(db_session, settings):
    conversation(db_session, days_ago=400)
    now = utcnow()

    assert privacy_service.purge_if_due(session=db_session, settings=settings, now=now) == 1
    conversation(db_session, days_ago=400)
    assert privacy_service.purge_if_due(session=db_session, settings=settings,
                                        now=now + timedelta(hours=1)) == 0
    assert privacy_service.purge_if_due(session=db_session, settings=settings,
                                        now=now + timedelta(hours=25)) == 1


def test_zero_retention_days_purges_nothing(db_session, settings):
    conversation(db_session, days_ago=4000)
    keep_all = settings.model_copy(update={"retention_days": 0})

    assert privacy_service.purge_if_due(session=db_session, settings=keep_all) == 0
    with pytest.raises(ValueError, match="RETENTION_DAYS"):
        privacy_service.purge(session=db_session, settings=keep_all)


def test_the_scheduler_pass_runs_the_purge(live_settings, live_session_factory):
    from api import jobs

    with live_session_factory() as session:
        old = conversation(session, days_ago=400)
        session.commit()
        old_id = old.id

    done = jobs.run_due_jobs(session_factory=live_session_factory, settings=live_settings)
    again = jobs.run_due_jobs(session_factory=live_session_factory, settings=live_settings)

    assert done["retention_purge"] == 1 and again["retention_purge"] == 0
    with live_session_factory() as session:
        assert session.get(Conversation, old_id).purged_at is not None
