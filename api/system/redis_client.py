"""The one place Redis clients are made (REDIS_URL: redis://, rediss:// for TLS, with or without
a password, e.g. rediss://:secret@host:6380/0).

A client holds a connection pool, so one client per (URL, purpose) is kept for the life of the
process and shared by its threads; redis-py resets a pool inherited through fork. Each purpose
names its own socket timeout: a health check or a best-effort publish must give up quickly, a
worker blocking on its wake-up list must wait longer than its block. The rate limiter of staff
sign-in (api/staff/auth.py) stays on the `limits` library's own storage, built from the same URL.
"""

from __future__ import annotations

import threading

import redis
import redis.asyncio as aioredis

Redis = redis.Redis
RedisError = redis.RedisError  # callers catch this without importing redis themselves

CONNECT_TIMEOUT_SECONDS = 1.0
SOCKET_TIMEOUT_SECONDS = 5.0

_clients: dict[tuple[str, float, bool], redis.Redis] = {}
_lock = threading.Lock()


def _options(timeout: float, decode_responses: bool) -> dict:
    return {"socket_timeout": timeout,
            "socket_connect_timeout": min(CONNECT_TIMEOUT_SECONDS, timeout),
            "decode_responses": decode_responses,
            "health_check_interval": 30}


def client(url: str, *, timeout: float = SOCKET_TIMEOUT_SECONDS,
           decode_responses: bool = False) -> redis.Redis:
    """The process's shared client for this URL and socket timeout (bytes unless asked)."""
    key = (url, float(timeout), decode_responses)
    with _lock:
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = redis.Redis.from_url(url, **_options(timeout,
                                                                         decode_responses))
        return found


def async_client(url: str, *, timeout: float | None = None,
                 decode_responses: bool = False) -> aioredis.Redis:
    """A new asyncio client (its pool belongs to the running event loop, so it is not shared);
    the caller closes it. `timeout` None: reads may block (pub/sub waits for messages)."""
    return aioredis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        decode_responses=decode_responses)


def close_all() -> None:
    """Close and forget every shared client (tests; a process shutting down)."""
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
    for each in clients:
        try:
            each.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass
