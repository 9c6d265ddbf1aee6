"""The webhook's group commit: one transaction for what arrives together, nothing acked unstored."""

import asyncio

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from api.messaging import inbound_webhook
from api.messaging.inbound_webhook import InboundRecorder, parse_inbound
from api.messaging.models import Direction, Message
from tests.twilio_helpers import inbound_form, new_sid, post_signed

PATIENT = "+447700900654"


def _recorder(settings, factory) -> tuple[InboundRecorder, list[int]]:
    """A recorder that notes the size of every batch it commits."""
    recorder = InboundRecorder(settings=settings, session_factory=factory)
    batches: list[int] = []
    store = recorder._store

    def counting_store(batch):
        batches.append(len(batch))
        return store(batch)

    recorder._store = counting_store
    return recorder, batches


def _record_all(recorder: InboundRecorder, messages) -> list[int | None]:
    async def arrive_together():
        return await asyncio.gather(*(recorder.record(m) for m in messages))

    return asyncio.run(arrive_together())


def _stored_bodies(factory) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(Message.body).where(
            Message.direction == Direction.INBOUND).order_by(Message.id)))


def test_messages_arriving_together_share_one_commit_in_arrival_order(live_settings,
                                                                     live_session_factory):
    recorder, batches = _recorder(live_settings, live_session_factory)
    messages = [parse_inbound(inbound_form(from_=PATIENT, body=f"message {i}"))
                for i in range(20)]

    ids = _record_all(recorder, messages)

    assert None not in ids and ids == sorted(ids)
    assert sum(batches) == 20 and len(batches) < 20  # grouped, not one commit each
    assert _stored_bodies(live_session_factory) == [f"message {i}" for i in range(20)]


def test_a_sid_repeated_within_one_batch_is_stored_once(live_settings, live_session_factory):
    recorder, batches = _recorder(live_settings, live_session_factory)
    sid = new_sid()
    first = parse_inbound(inbound_form(from_=PATIENT, body="hello", sid=sid))
    retry = parse_inbound(inbound_form(from_=PATIENT, body="hello", sid=sid))
    other = parse_inbound(inbound_form(from_=PATIENT, body="another"))

    ids = _record_all(recorder, [first, retry, other])

    assert batches == [3]
    assert ids[0] is not None and ids[1] is None and ids[2] is not None
    assert _stored_bodies(live_session_factory) == ["hello", "another"]
    # ...and a later retry of the same SID, in a batch of its own, changes nothing either.
    assert _record_all(recorder, [retry]) == [None]


def test_a_quiet_system_commits_each_message_at_once(live_settings, live_session_factory):
    recorder, batches = _recorder(live_settings, live_session_factory)
    for i in range(3):
        _record_all(recorder, [parse_inbound(inbound_form(from_=PATIENT, body=f"m{i}"))])
    assert batches == [1, 1, 1]


def test_database_down_is_a_503_so_twilio_retries(live_client, live_session_factory,
                                                  monkeypatch):
    def unavailable(**_):
        raise OperationalError("INSERT", {}, ConnectionRefusedError("database is down"))

    monkeypatch.setattr(inbound_webhook.inbound_store, "record_inbound_batch", unavailable)
    response = post_signed(live_client, inbound_form(from_=PATIENT, body="hello"))
    assert response.status_code == 503
    assert response.json() == {"detail": "try again"}
    assert _stored_bodies(live_session_factory) == []


def test_an_oversized_request_is_refused_before_parsing(live_client, live_session_factory):
    form = inbound_form(from_=PATIENT, body="x" * 1500, Padding="y" * 70_000)
    response = post_signed(live_client, form)
    assert response.status_code == 413
    assert _stored_bodies(live_session_factory) == []


def test_a_body_that_is_not_utf8_is_a_clear_400(live_client, live_session_factory):
    response = live_client.post("/twilio/messages", content=b"Body=\xff\xfe&From=x",
                                headers={"Content-Type": "application/x-www-form-urlencoded",
                                         "X-Twilio-Signature": "anything"})
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]
    assert _stored_bodies(live_session_factory) == []


def test_a_nul_character_is_a_clear_400(live_client, live_session_factory):
    response = post_signed(live_client, inbound_form(from_=PATIENT, body="hel\x00lo"))
    assert response.status_code == 400
    assert "Body" in response.json()["detail"]
    assert _stored_bodies(live_session_factory) == []


def test_a_row_the_database_refuses_fails_alone_not_its_batch(live_settings,
                                                            live_session_factory, monkeypatch):
    from sqlalchemy.exc import DataError

    from api.messaging import inbound_store

    real = inbound_store.record_inbound_batch

    def refusing_poison(*, session, batch):
        if any(m.text == "poison" for m in batch):
            raise DataError("INSERT", {}, ValueError("value the database refuses"))
        return real(session=session, batch=batch)

    monkeypatch.setattr(inbound_webhook.inbound_store, "record_inbound_batch",
                        refusing_poison)
    recorder = InboundRecorder(settings=live_settings, session_factory=live_session_factory)
    messages = [parse_inbound(inbound_form(from_=PATIENT, body=body))
                for body in ("before", "poison", "after")]

    async def arrive_together():
        return await asyncio.gather(*(recorder.record(m) for m in messages),
                                    return_exceptions=True)

    before, poison, after = asyncio.run(arrive_together())
    assert isinstance(poison, DataError)
    assert isinstance(before, int) and isinstance(after, int)
    assert _stored_bodies(live_session_factory) == ["before", "after"]
