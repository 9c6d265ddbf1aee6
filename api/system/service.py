"""Readiness checks: can this process reach everything it needs?"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine

from api.config import Settings
from api.system import redis_client

CHECK_TIMEOUT_SECONDS = 2.0


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str
    latency_ms: float


def _timed(name: str, probe) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = probe()
        ok = True
    except Exception as exc:  # a readiness probe reports failures, it never raises
        detail, ok = f"{type(exc).__name__}: {exc}"[:200], False
    return CheckResult(name, ok, detail, round((time.perf_counter() - started) * 1000, 1))


def check_database(*, engine: Engine) -> CheckResult:
    """SELECT 1 on the configured database."""

    def probe() -> str:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return engine.dialect.name

    return _timed("database", probe)


def check_redis(*, settings: Settings) -> CheckResult | None:
    """PING Redis when REDIS_URL is set; None when Redis is not configured."""
    if not settings.redis_url:
        return None

    def probe() -> str:
        redis_client.client(settings.redis_url, timeout=CHECK_TIMEOUT_SECONDS).ping()
        return "pong"

    return _timed("redis", probe)


def check_rasa(*, settings: Settings) -> CheckResult:
    """Every Rasa server in RASA_URL is up and has a model loaded (its REST channel's /ready,
    bot/channels.py: Rasa runs without its HTTP API). Ready while at least one is: the worker
    moves turns on from a server that is down (api/conversations/rasa_client.py)."""

    def ready(url: str) -> str:
        try:
            response = httpx.get(f"{url}/webhooks/rest/ready", timeout=CHECK_TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:
            return f"{url}: {type(exc).__name__}"
        if response.status_code == 503:
            return f"{url}: no model loaded"
        return "" if response.is_success else f"{url}: HTTP {response.status_code}"

    def probe() -> str:
        urls = settings.rasa_urls
        failures = [f for f in map(ready, urls) if f]
        if len(failures) == len(urls):
            raise RuntimeError("; ".join(failures))
        loaded = f"model loaded on {len(urls) - len(failures)} of {len(urls)}"
        return "; ".join([loaded, *failures]) if len(urls) > 1 else "model loaded"

    return _timed("rasa", probe)


def check_action_server(*, settings: Settings) -> CheckResult:
    """The action server answers its health endpoint."""

    def probe() -> str:
        response = httpx.get(f"{settings.action_server_url}/health", timeout=CHECK_TIMEOUT_SECONDS)
        response.raise_for_status()
        return "ok"

    return _timed("action_server", probe)


def database_readiness(*, engine: Engine) -> list[CheckResult]:
    """Only the database: what decides whether this api process may take traffic.

    The webhook persists each message and acknowledges it; everything after (Rasa, the action
    server) happens in the worker. A Rasa outage must therefore never mark the api unready
    (it would take the webhook down with it), and neither must Redis (wake-ups are a
    shortcut; the worker polls without them).
    """
    return [check_database(engine=engine)]


def readiness(*, settings: Settings, engine: Engine) -> list[CheckResult]:
    """Every dependency check, in a fixed order."""
    checks = [
        check_database(engine=engine),
        check_redis(settings=settings),
        check_rasa(settings=settings),
        check_action_server(settings=settings),
    ]
    return [c for c in checks if c is not None]
