"""The replica test at 2,000 messages: two of every process, kills and a rolling restart.

    .venv/bin/python benchmarks/replica_kill.py [--messages 2000] [--numbers 200] [--rate 10]

The cluster of tests/system/test_replicas.py (2 api, 2 workers, 2 dispatchers, 2 Rasa servers
sharing Redis's tracker and lock stores, 2 action servers behind one address, PostgreSQL, a fake
Twilio that records every send): messages from `--numbers` numbers at `--rate` a second (and
on at that pace until the last restart is over), while one replica of each kind is killed
(SIGKILL) and started again, then each is restarted in turn (SIGTERM). Prints what happened
when, and what became of every message: answered by the assistant, by the holding reply (a
turn a dying Rasa or action server had taken), joined a case staff have, duplicates, losses.
Needs PostgreSQL (BENCH_POSTGRES_URL) and Redis (BENCH_REDIS_URL).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.webhook_load import percentile  # noqa: E402
from tests.system.replica_cluster import chaos, failovers_logged, running_cluster  # noqa: E402
from tests.system.replica_traffic import (  # noqa: E402
    run_events,
    send_traffic,
    verify,
    wait_drained,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--numbers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="messages a second")
    parser.add_argument("--kills-at", type=float, default=20.0,
                        help="seconds into the traffic when the kills begin")
    parser.add_argument("--rolling-at", type=float, default=80.0,
                        help="seconds into the traffic when the rolling restart begins")
    args = parser.parse_args()
    admin_url = os.environ.get("BENCH_POSTGRES_URL",
                               "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    log_dir = Path(tempfile.mkdtemp(prefix="rebook-replicas-"))
    counts = {"api": 2, "worker": 2, "dispatcher": 2, "rasa": 2, "actions": 2}
    console = Console()
    with running_cluster(log_dir=log_dir, admin_url=admin_url, redis_url=redis_url,
                         counts=counts, patients=max(400, args.numbers * 2)) as cluster:
        numbers = cluster.numbers[:args.numbers]
        if len(numbers) < args.numbers:
            sys.exit(f"the seeded trust has only {len(numbers)} numbers that may be answered")
        threads, events = run_events(chaos(cluster, kills_at=args.kills_at,
                                           rolling_at=args.rolling_at))
        sent = send_traffic(cluster.api_urls, numbers, messages=args.messages,
                            rate_per_s=args.rate,
                            keep_going=lambda: any(t.is_alive() for t in threads))
        drained_s = wait_drained(cluster.engine, sent, timeout_s=300)
        verdict = verify(cluster.engine, cluster.twilio.state.accepted, sent)
        failovers = failovers_logged(cluster)
        startup_s = cluster.startup_s

    timeline = Table(title=f"Kills and rolling restart (cluster up in {startup_s:.0f} s; "
                           f"logs in {log_dir})")
    timeline.add_column("at, what, (took)")
    for line in sorted(events, key=lambda e: float(e.split("s", 1)[0])):
        timeline.add_row(line)
    console.print(timeline)
    table = Table(title=f"{verdict.messages} messages from {len(numbers)} numbers at "
                        f"{args.rate:g}/s through 2 of every process")
    for column in ("measure", "value"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    retried = sum(1 for s in sent if s.attempts > 1)
    latencies = [v * 1000 for v in verdict.latencies]
    for measure, value in (
        ("messages stored and processed", f"{verdict.messages}"),
        ("posts that went to the other api", f"{retried}"),
        ("answered by the assistant", f"{verdict.assistant_answers}"),
        ("answered by the holding reply", f"{verdict.holding_answers}"),
        ("joined a case staff have (no reply)", f"{verdict.joined_case}"),
        ("turns moved on to the other Rasa server", f"{failovers}"),
        ("sends (fake Twilio)", f"{verdict.sends}"),
        ("problems (duplicates, losses, order)", f"{len(verdict.problems)}"),
        ("reply sent, p50 / p95 / max",
         f"{percentile(latencies, 50):.0f} / {percentile(latencies, 95):.0f} / "
         f"{max(latencies, default=0):.0f} ms"),
        ("drained after the last message", f"{drained_s:.1f} s"),
    ):
        table.add_row(measure, value)
    console.print(table)
    for problem in verdict.problems[:20]:
        console.print(f"problem: {problem}")


if __name__ == "__main__":
    main()
