"""Wake idle workers when a message arrives, instead of making them poll hard.

With Redis, the webhook pushes a token on a list workers block on; several api and
worker processes then agree. Without Redis (the embedded set-up), workers poll the
database every WORKER_POLL_SECONDS; the wake-up is an optimisation, never required.
"""

from __future__ import annotations

import logging
import threading
import time

import redis

from api.config import Settings

log = logging.getLogger(__name__)
WAKEUP_KEY = "rebook:worker:wakeup"
_clients: dict[str, redis.Redis] = {}


_clients_lock = threading.Lock()


def _client(url: str) -> redis.Redis:
    with _clients_lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=1)
        return _clients[url]


def wake_workers(*, settings: Settings) -> None:
    """Tell one waiting worker there is work (best effort)."""
    if not settings.redis_url:
        return
    try:
        pipe = _client(settings.redis_url).pipeline()
        pipe.lpush(WAKEUP_KEY, 1)
        pipe.ltrim(WAKEUP_KEY, 0, 99)  # tokens only matter while workers are idle
        pipe.execute()
    except Exception:  # noqa: BLE001 - best effort: the message is stored, workers also poll
        log.warning("could not wake workers; they will poll", exc_info=True)


def wait_for_work(*, settings: Settings, timeout: float) -> None:
    """Block until woken or `timeout` seconds pass."""
    if settings.redis_url:
        try:
            _client(settings.redis_url).blpop([WAKEUP_KEY], timeout=max(timeout, 0.01))
            return
        except redis.RedisError:
            pass
    time.sleep(timeout)
