"""Two schedulers: one leads and runs the periodic jobs, the other stands by and takes over
when the leader stops (at once on a clean stop, after the lease expires on a crash).
On SQLite and PostgreSQL, through the real lease table."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from api import jobs
from api.db import utcnow
from api.system import leader_lease
from api.system.models import LeaderLease

EVERY = 0.2  # seconds between passes; the lease lasts LEASE_PASSES of them (0.6 s)


@pytest.fixture
def passes(monkeypatch):
    """Which scheduler ran a pass of the jobs, and when (the jobs themselves are tested
    elsewhere; here only who runs them matters)."""
    ran: list[tuple[str, float]] = []

    def record(*, session_factory, settings):
        ran.append((threading.current_thread().name, time.monotonic()))
        return {}

    monkeypatch.setattr(jobs, "run_due_jobs", record)
    return ran


class Scheduler:
    def __init__(self, name: str, factory, settings):
        self.stop = threading.Event()
        self.thread = threading.Thread(name=name, target=jobs.run_forever, kwargs={
            "session_factory": factory, "settings": settings, "stop": self.stop,
            "every_seconds": EVERY, "name": name})

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.halt()

    def halt(self) -> None:
        self.stop.set()
        self.thread.join(10)


def _runners(ran, since: float = 0.0) -> set[str]:
    return {name for name, at in ran if at >= since}


def test_only_one_of_two_schedulers_runs_the_jobs_and_a_clean_stop_hands_over_at_once(
        live_settings, live_session_factory, passes):
    with Scheduler("a", live_session_factory, live_settings) as a, \
            Scheduler("b", live_session_factory, live_settings) as b:
        time.sleep(2.0)
        assert len(passes) >= 5
        assert len(_runners(passes)) == 1, "both schedulers ran the jobs"
        leader, other = (a, b) if _runners(passes) == {"a"} else (b, a)
        leader.halt()
        stopped = time.monotonic()
        with live_session_factory() as session:
            lease = session.get(LeaderLease, jobs.LEASE_NAME)
            assert lease.expires_at <= utcnow(), "a clean stop releases the lease"
        time.sleep(1.0)
        taken_over = [at for name, at in passes if name == other.thread.name]
        assert taken_over, "the other scheduler never took over"
        # Within a pass or two of the stop, well before the 0.6 s lease would have run out.
        assert taken_over[0] - stopped < 2 * EVERY + 0.15
        assert _runners(passes, since=stopped) == {other.thread.name}


def test_a_crashed_leaders_lease_is_taken_over_only_once_it_expires(
        live_settings, live_session_factory, passes):
    lease_seconds = jobs.LEASE_PASSES * EVERY
    with live_session_factory() as session:  # a leader that died without releasing
        assert leader_lease.hold(session=session, name=jobs.LEASE_NAME, holder="dead",
                                 seconds=lease_seconds)
        session.commit()
    crashed = time.monotonic()
    with Scheduler("b", live_session_factory, live_settings):
        time.sleep(lease_seconds + 3 * EVERY)
    assert passes, "the standby never took over"
    assert passes[0][1] - crashed >= lease_seconds - 0.05
    with live_session_factory() as session:
        holder = session.scalar(select(LeaderLease.holder))
        assert holder == "b"


def test_the_lease_is_held_by_one_holder_at_a_time(live_session_factory):
    with live_session_factory() as session:
        assert leader_lease.hold(session=session, name="job", holder="a", seconds=60)
        assert not leader_lease.hold(session=session, name="job", holder="b", seconds=60)
        assert leader_lease.hold(session=session, name="job", holder="a", seconds=60)
        assert not leader_lease.release(session=session, name="job", holder="b")
        assert leader_lease.release(session=session, name="job", holder="a")
        assert leader_lease.hold(session=session, name="job", holder="b", seconds=60)
        session.commit()


def test_racing_takeovers_elect_exactly_one(live_session_factory):
    """Eight processes' worth of threads ask for an expired lease at once: one wins."""
    with live_session_factory() as session:
        leader_lease.hold(session=session, name="race", holder="old", seconds=60)
        leader_lease.release(session=session, name="race", holder="old")
        session.commit()
    start = threading.Barrier(8)
    won: list[str] = []

    def contend(holder: str) -> None:
        start.wait()
        with live_session_factory() as session:
            if leader_lease.hold(session=session, name="race", holder=holder, seconds=60):
                won.append(holder)
            session.commit()

    threads = [threading.Thread(target=contend, args=(f"p{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(won) == 1
