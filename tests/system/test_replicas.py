"""Two of every process, on PostgreSQL and Redis, with the really trained model: 2 api, 2
workers, 2 dispatchers, 2 Rasa servers sharing Redis's tracker and lock stores, 2 action
servers (tests/system/replica_cluster.py). Signed messages from 60 numbers arrive, about
300 over 90 s and on until the last restart is over, while one replica of each kind is killed
(SIGKILL) and started again, then every replica is restarted one by one (SIGTERM). Every
message must be stored once and answered exactly once, in order per number, and every reply
sent exactly once (the fake Twilio's record). The 2,000-message version: benchmarks/replica_kill.py.

    pytest -m replicas tests/system/test_replicas.py
"""

from __future__ import annotations

import os

import pytest

from tests.system.replica_cluster import chaos, failovers_logged, running_cluster
from tests.system.replica_traffic import run_events, send_traffic, verify, wait_drained

pytestmark = [pytest.mark.replicas, pytest.mark.rasa]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
WORKER_CONCURRENCY = 4
MESSAGES = 300


@pytest.fixture
def redis_url():
    from api.system import redis_client

    try:
        redis_client.client(REDIS_URL, timeout=2).ping()
    except Exception:
        pytest.skip("Redis not reachable; set TEST_REDIS_URL")
    return REDIS_URL


def test_two_of_every_process_answer_each_message_once_through_kills_and_a_rolling_restart(
        postgres_url, redis_url, tmp_path):
    counts = {"api": 2, "worker": 2, "dispatcher": 2, "rasa": 2, "actions": 2}
    with running_cluster(log_dir=tmp_path, admin_url=postgres_url, redis_url=redis_url,
                         counts=counts, patients=120,
                         worker_concurrency=WORKER_CONCURRENCY) as cluster:
        numbers = cluster.numbers[:60]
        threads, events = run_events(chaos(cluster))
        # 300 messages over 90 s, and on at that pace until the last restart is over.
        sent = send_traffic(cluster.api_urls, numbers, messages=MESSAGES, rate_per_s=3.3,
                            keep_going=lambda: any(t.is_alive() for t in threads))
        drained_s = wait_drained(cluster.engine, sent, timeout_s=120)
        verdict = verify(cluster.engine, cluster.twilio.state.accepted, sent)
        failovers = failovers_logged(cluster)
    report = "\n".join([f"cluster up in {cluster.startup_s:.0f} s", *events,
                         f"drained {drained_s:.1f} s after the last message",
                         verdict.summary()])
    print(report)
    assert len(events) == 16, report
    assert not [e for e in events if "FAILED" in e], report
    assert verdict.problems == [], report
    assert verdict.messages >= MESSAGES and verdict.sends >= verdict.assistant_answers
    # The holding reply is only for turns a dying Rasa or action server had already taken
    # (never sent again elsewhere: api/conversations/rasa_client.py): at most the turns in
    # flight at each of those two kills, and a graceful stop finishes its own.
    assert verdict.holding_answers <= 2 * 2 * WORKER_CONCURRENCY, report
    assert verdict.assistant_answers >= 0.9 * verdict.messages, report
    assert failovers > 0, "no worker moved a turn on from the killed Rasa server"
