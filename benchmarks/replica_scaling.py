"""Assistant-turn throughput with 1 and 2 replicas of worker + Rasa + action server.

    .venv/bin/python benchmarks/replica_scaling.py [--messages 1000] [--numbers 250]

For each replica count, a fresh cluster (tests/system/replica_cluster.py: PostgreSQL, Redis
for Rasa's tracker and lock stores, the trained model, a fake Twilio that records every send;
1 api and 1 dispatcher) takes `--messages` signed messages from `--numbers` numbers as fast as
the api acknowledges them (each number's in order), and the clock runs until the last reply
has been sent. Turns/s is messages over that time; latency is from each POST to its reply's
send. The CPU seconds each kind of process used are read from /proc, so the table also says
what one turn costs, and from that what N cores would carry.
Needs PostgreSQL (BENCH_POSTGRES_URL) and Redis (BENCH_REDIS_URL).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.messaging.models import Direction, Message  # noqa: E402
from benchmarks.webhook_load import percentile  # noqa: E402
from tests.system.replica_cluster import KINDS, Cluster, running_cluster  # noqa: E402
from tests.system.replica_traffic import send_traffic, verify, wait_drained  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(cluster: Cluster) -> dict[str, float]:
    """CPU seconds (user + system) each kind of process has used so far."""
    used = dict.fromkeys(KINDS, 0.0)
    for kind in KINDS:
        for replica in cluster.replicas[kind]:
            fields = Path(f"/proc/{replica.process.popen.pid}/stat").read_text()
            utime, stime = fields.rsplit(")", 1)[1].split()[11:13]
            used[kind] += (int(utime) + int(stime)) / TICKS
    return used


def run(replicas: int, *, messages: int, numbers: int, admin_url: str, redis_url: str,
        log_dir: Path) -> dict:
    counts = {"api": 1, "dispatcher": 1, "worker": replicas, "rasa": replicas,
              "actions": replicas}
    with running_cluster(log_dir=log_dir / f"replicas-{replicas}", admin_url=admin_url,
                         redis_url=redis_url, counts=counts, patients=max(400, 2 * numbers),
                         worker_concurrency=8) as cluster:
        time.sleep(5)  # let start-up work (model warm-up, first connections) settle
        before = cpu_seconds(cluster)
        started = time.time()
        sent = send_traffic(cluster.api_urls, cluster.numbers[:numbers], messages=messages)
        wait_drained(cluster.engine, sent, timeout_s=1800)
        after = cpu_seconds(cluster)
        verdict = verify(cluster.engine, cluster.twilio.state.accepted, sent)
        with cluster.engine.connect() as conn:
            last_sent = conn.scalar(select(func.max(Message.sent_at))
                                    .where(Message.direction == Direction.OUTBOUND))
    last_sent = last_sent if last_sent.tzinfo else last_sent.replace(tzinfo=UTC)
    seconds = last_sent.timestamp() - started
    return {"replicas": replicas, "messages": len(sent), "seconds": seconds,
            "latencies": verdict.latencies, "problems": verdict.problems,
            "holding": verdict.holding_answers,
            "cpu": {k: after[k] - before[k] for k in KINDS}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--numbers", type=int, default=250)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    admin_url = os.environ.get("BENCH_POSTGRES_URL",
                               "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    log_dir = Path(tempfile.mkdtemp(prefix="rebook-scaling-"))
    results = [run(n, messages=args.messages, numbers=args.numbers, admin_url=admin_url,
                   redis_url=redis_url, log_dir=log_dir) for n in args.replicas]
    print_table(results, cores=os.cpu_count() or 1)


def print_table(results: list[dict], *, cores: int) -> None:
    console = Console()
    table = Table(title=f"Assistant turns through N x (worker + Rasa + action server), "
                        f"1 api, 1 dispatcher, on {cores} cores")
    for column in ("replicas", "messages", "seconds", "turns/s", "p50 latency", "p95 latency",
                   "CPU s per turn (worker/Rasa/actions/api+disp.)", "holding", "problems"):
        table.add_column(column, justify="right")
    for r in results:
        ms = [v * 1000 for v in r["latencies"]]
        cpu = r["cpu"]
        per_turn = "/".join(f"{cpu[k] / r['messages'] * 1000:.0f}"
                            for k in ("worker", "rasa", "actions"))
        per_turn += f"/{(cpu['api'] + cpu['dispatcher']) / r['messages'] * 1000:.0f} ms"
        table.add_row(str(r["replicas"]), str(r["messages"]), f"{r['seconds']:.1f}",
                      f"{r['messages'] / r['seconds']:.1f}", f"{percentile(ms, 50):.0f} ms",
                      f"{percentile(ms, 95):.0f} ms", per_turn, str(r["holding"]),
                      str(len(r["problems"])))
    console.print(table)
    base = results[0]["messages"] / results[0]["seconds"]
    for r in results[1:]:
        console.print(f"{r['replicas']} replicas / 1: "
                      f"{r['messages'] / r['seconds'] / base:.2f}x the turns/s")
    last = results[-1]
    cpu_per_turn = sum(last["cpu"].values()) / last["messages"]
    console.print(
        f"One turn costs {cpu_per_turn * 1000:.0f} ms of CPU over every process; {cores} cores "
        f"carry at most {cores / cpu_per_turn:.0f} turns/s, so replicas add throughput only "
        f"while there are cores to run them: N cores predict about {1 / cpu_per_turn:.0f} "
        f"turns/s per core (one Rasa server is one event loop: about one core at most).")


if __name__ == "__main__":
    main()
