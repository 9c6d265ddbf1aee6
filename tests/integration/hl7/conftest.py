"""An MLLP listener on loopback writing into `target_session`'s database, in this process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.orm import Session, sessionmaker

import api.models  # noqa: F401 - every table known before the listener's first flush
from api.config import Settings
from api.db import make_engine
from api.integration.hl7 import ack, mllp
from api.integration.hl7.listener import Listener


@contextmanager
def listening(url: str, settings: Settings) -> Iterator[int]:
    """Run a listener for the database at `url` on a free loopback port; yields the port."""
    engine = make_engine(url)
    listener = Listener(settings=settings,
                        sessions=sessionmaker(bind=engine, expire_on_commit=False))
    ready, holder = threading.Event(), {}

    async def main() -> None:
        holder["loop"], holder["stop"] = asyncio.get_running_loop(), asyncio.Event()

        def started(port: int) -> None:
            holder["port"] = port
            ready.set()

        try:
            await listener.serve(host="127.0.0.1", port=0, stop=holder["stop"],
                                 started=started)
        except BaseException as exc:
            holder["error"] = exc
            ready.set()
            raise

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10), "the listener did not start"
    assert "error" not in holder, f"the listener failed: {holder.get('error')!r}"
    try:
        yield holder["port"]
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(10)
        engine.dispose()


def send_all(port: int, messages: list[str], *, timeout: float = 10,
             attempts: int = 30) -> list[str]:
    """Send messages in order to a loopback listener (resending what is unanswered)."""
    return asyncio.run(mllp.send_all(host="127.0.0.1", port=port, messages=messages,
                                     timeout=timeout, attempts=attempts))


def send(port: int, *messages: str) -> list[tuple[str, str, str, str]]:
    """Send messages in order; each answer read as (MSA-1, MSA-2, reason, error codes)."""
    return [ack.read(a) for a in send_all(port, list(messages))]


@pytest.fixture
def hl7_settings() -> Settings:
    return Settings(pas_mode="hl7")


@pytest.fixture
def target_url(target_session: Session) -> str:
    return str(target_session.get_bind().url)
