"""Wake idle workers when a message arrives, instead of making them poll hard.

With Redis, the webhook pushes a token on a list workers block on; several api and
worker processes then agree. Without Redis (the embedded set-up), workers poll the
database every WORKER_POLL_SECONDS; the wake-up is an optimisation, never required.
"""

from __future__ import annotations

import logging
import time

from api.config import Settings
from api.system import redis_client

log = logging.getLogger(__name__)
WAKEUP_KEY = "rebook:worker:wakeup"
# Longer than any block on the wake-up list (the worker blocks for about a second).
SOCKET_TIMEOUT_SECONDS = 5.0


def _client(url: str) -> redis_client.Redis:
    return redis_client.client(url, timeout=SOCKET_TIMEOUT_SECONDS)


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
        except redis_client.RedisError:
            pass
    time.sleep(timeout)
