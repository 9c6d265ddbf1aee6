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
import time
from pathlib import Path

import pytest

from tests.system.replica_cluster import Cluster, Replica, running_cluster
from tests.system.replica_traffic import (
    Event,
    run_events,
    send_traffic,
    verify,
    wait_drained,
)

pytestmark = [pytest.mark.replicas, pytest.mark.rasa]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
WORKER_CONCURRENCY = 4
MESSAGES = 300
FAILOVER_LOG_LINE = "Rasa server did not take the turn; trying the next"


def restart(replica: Replica, *, wait: bool = True) -> None:
    replica.start()
    if wait:
        replica.wait_ready()


def killed(replica: Replica, *, wait: bool = True):
    def action() -> None:
        replica.kill()
        restart(replica, wait=wait)
    return action


def terminated(replica: Replica, *, wait: bool = True):
    def action() -> None:
        replica.terminate()
        restart(replica, wait=wait)
    return action


def chaos(cluster: Cluster) -> list[list[Event]]:
    """Per kind of process, one lane: one replica killed and started again, then each
    terminated and started again in turn (a rolling update); the kinds side by side, as
    separate Deployments would be.

    Rasa's lane starts first and waits for the killed server to be back (it loads its model
    for about a minute) before terminating the other, as a rolling update would."""
    r = cluster.replica
    lanes = [[(5, "kill rasa0 and start it again", killed(r("rasa", 0), wait=False)),
              (6, "rasa0 ready again", r("rasa", 0).wait_ready),
              (6, "rolling restart: rasa1", terminated(r("rasa", 1), wait=False)),
              (6, "messages go on for 10 s with rasa0 alone", lambda: time.sleep(10))]]
    for start, kind in ((10, "api"), (14, "worker"), (18, "dispatcher"), (22, "actions")):
        lanes.append([(start, f"kill {kind}0 and start it again", killed(r(kind, 0))),
                      (40, f"rolling restart: {kind}0", terminated(r(kind, 0))),
                      (40, f"rolling restart: {kind}1", terminated(r(kind, 1)))])
    return lanes


def failovers_logged(cluster: Cluster) -> int:
    return sum(Path(replica.process.log_path).read_text(errors="replace").count(FAILOVER_LOG_LINE)
               for replica in cluster.replicas["worker"])


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
