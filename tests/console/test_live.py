"""Live queue updates: an event when the queue changes; Redis wakes every stream at once."""

import asyncio
import time
from contextlib import nullcontext

from api.config import Settings
from api.console import service as console_service
from api.handover import queue as handover_queue
from tests.conftest import live_redis_url


def _collect(settings, fingerprints, *, poll_seconds, events_wanted, on_started=None,
             deadline_seconds=10.0):
    values = iter(fingerprints) if not callable(fingerprints) else None
    last = [None]

    def fake_fingerprint(*, session):
        if values is None:
            return fingerprints()
        last[0] = next(values, last[0])
        return last[0]

    async def run():
        got = []
        started = time.monotonic()

        async def disconnected():
            return time.monotonic() - started > deadline_seconds

        stream = console_service.queue_events(
            settings=settings, session_factory=lambda: nullcontext(None),
            is_disconnected=disconnected, poll_seconds=poll_seconds)
        async for chunk in stream:
            if chunk.startswith("retry") and on_started:
                on_started()
            if chunk.startswith("event: queue"):
                got.append((chunk, time.monotonic() - started))
                if len(got) >= events_wanted:
                    await stream.aclose()
                    break
        return got

    original = handover_queue.queue_fingerprint
    handover_queue.queue_fingerprint = fake_fingerprint
    try:
        return asyncio.run(run())
    finally:
        handover_queue.queue_fingerprint = original


def test_an_event_is_sent_when_the_queue_changes():
    settings = Settings(redis_url=None)
    got = _collect(settings, ["a", "a", "b", "b", "c"], poll_seconds=0.01, events_wanted=2)
    assert [chunk for chunk, _ in got] == ["event: queue\ndata: b\n\n", "event: queue\ndata: c\n\n"]


def test_redis_wakes_the_stream_before_the_next_poll():
    settings = Settings(redis_url=live_redis_url())

    changed = []

    def publish_soon():
        import threading

        def change_and_publish():
            changed.append(True)  # another process changed the queue...
            handover_queue.publish_queue_change(settings=settings)  # ...and said so

        threading.Timer(1.0, change_and_publish).start()

    # Polls every 8 s; the change is seen as soon as the publish wakes the stream.
    got = _collect(settings, lambda: "b" if changed else "a", poll_seconds=8.0,
                   events_wanted=1, on_started=publish_soon)
    assert got and got[0][1] < 4.0
