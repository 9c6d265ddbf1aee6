"""Webhook load through the full stack with the real trained model.

    .venv/bin/python benchmarks/webhook_load.py [--messages 2000] [--concurrency 50]

Starts PostgreSQL-backed api, worker and dispatcher processes, the Rasa server and the
action server (real trained model; the queue-driven processes under `nice`, as `rebook run`
starts them), then:
  1. burst: N signed inbound messages at concurrency C over keep-alive connections opened
     beforehand; acknowledgement latency measured at the client, reply latency from each
     POST to the moment the worker writes its reply row to the outbox;
  2. paced: one turn at a time, so reply latency shows the pipeline's own overhead, each
     followed by the same text sent straight to Rasa's REST channel (raw Rasa latency on
     the same model, in the same run, on the same busy machine).
Prints a table. Needs PostgreSQL (BENCH_POSTGRES_URL) and Redis (BENCH_REDIS_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlparse

import uvloop
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.config import Settings  # noqa: E402
from api.db import make_engine  # noqa: E402
from api.messaging.models import Direction, Message  # noqa: E402
from tests.databases import create_database, drop_database  # noqa: E402,F401 (shared)
from tests.e2e.rasa_stack import ASSISTANT_TOKEN, start_stack  # noqa: E402
from tests.processes import free_port, running, wait_http  # noqa: E402
from tests.twilio_helpers import inbound_form, signature_for  # noqa: E402

TOKEN = "bench-twilio-auth-token-0123456789"
MESSAGES = ["hiya", "thanks", "ok ta", "bye", "cheers x", "hello", "thx", "good morning"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def raw_request(host: str, port: int, base: str, form: dict) -> bytes:
    """The bytes of Twilio's signed POST, built before the clock starts."""
    body = urlencode(form).encode()
    signature = signature_for(form, base_url=base, token=TOKEN)
    head = (f"POST /twilio/messages HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return status


async def burst(base: str, forms: list[dict], concurrency: int) -> dict[str, tuple[float, float]]:
    """POST every form over `concurrency` keep-alive connections; sid -> (start, ack seconds).

    A hand-rolled HTTP/1.1 client on uvloop: the load generator shares the machine's two
    cores with the system under test, so it must cost as little CPU as possible per request.
    """
    url = urlparse(base)
    requests = [(f["MessageSid"], raw_request(url.hostname, url.port, base, f)) for f in forms]
    results: dict[str, tuple[float, float]] = {}
    queue: asyncio.Queue = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)

    # Every connection is open before the first request goes, so accepting connections is
    # not counted as acknowledgement time.
    connections = await asyncio.gather(*(asyncio.open_connection(url.hostname, url.port)
                                         for _ in range(concurrency)))

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            while not queue.empty():
                sid, payload = queue.get_nowait()
                started_wall, started = time.time(), time.perf_counter()
                writer.write(payload)
                status = await _read_response(reader)
                if status != 200:
                    raise RuntimeError(f"webhook answered {status}")
                results[sid] = (started_wall, time.perf_counter() - started)
        finally:
            writer.close()

    await asyncio.gather(*(connection(reader, writer) for reader, writer in connections))
    return results


def reply_latencies(engine, posted: dict[str, tuple[float, float]], timeout: float) -> list[float]:
    """Seconds from each POST to the reply the worker queued for it."""
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            inbound = conn.execute(select(Message.id, Message.provider_sid, Message.conversation_id)
                                   .where(Message.direction == Direction.INBOUND)
                                   .order_by(Message.id)).all()
            replies = conn.execute(select(Message.conversation_id, Message.created_at)
                                   .where(Message.direction == Direction.OUTBOUND)
                                   .order_by(Message.id)).all()
        if len(replies) >= len(posted) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    by_conversation: dict[int, list[datetime]] = {}
    for conversation_id, created_at in replies:
        by_conversation.setdefault(conversation_id, []).append(created_at)
    latencies, seen = [], {}
    for _, sid, conversation_id in inbound:
        k = seen.get(conversation_id, 0)
        seen[conversation_id] = k + 1
        answers = by_conversation.get(conversation_id, [])
        if sid in posted and k < len(answers):
            answered = answers[k].replace(tzinfo=UTC).timestamp() if answers[k].tzinfo is None \
                else answers[k].timestamp()
            latencies.append(answered - posted[sid][0])
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--numbers", type=int, default=200, help="distinct patient numbers")
    parser.add_argument("--paced-turns", type=int, default=60)
    parser.add_argument("--log-level", default="INFO",
                        help="the processes' LOG_LEVEL (INFO, as in production, logs each message)")
    args = parser.parse_args()
    admin_url = os.environ.get("BENCH_POSTGRES_URL",
                               "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    console = Console()
    database_url = create_database(admin_url)
    engine = make_engine(database_url)
    log_dir = Path(tempfile.mkdtemp(prefix="rebook-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        # Queue-driven processes at the CPU priority `rebook run` gives them.
        niceness = Settings.model_fields["background_nice"].default
        with start_stack(log_dir=log_dir, niceness=niceness) as stack:
            env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url,
                       PUBLIC_BASE_URL=base, TWILIO_AUTH_TOKEN=TOKEN, MESSAGING_MODE="sandbox",
                       RASA_URL=stack.rasa_url, ACTION_SERVER_URL=stack.action_server_url,
                       ASSISTANT_TOKEN=ASSISTANT_TOKEN,
                       ENVIRONMENT="test", SECRET_KEY="bench-secret", LOG_LEVEL=args.log_level,
                       INBOUND_RATE_PER_MINUTE="1000")
            with running(["serve", "--port", str(port)], env, log_dir / "api.log"), \
                    running(["worker", "--concurrency", "8"], env, log_dir / "worker.log",
                            niceness), \
                    running(["dispatcher"], env, log_dir / "dispatcher.log", niceness):
                wait_http(f"{base}/healthz")
                numbers = [f"+4477009{n:05d}" for n in range(args.numbers)]
                forms = [inbound_form(from_=numbers[i % len(numbers)],
                                      body=MESSAGES[i % len(MESSAGES)], to="+447700900000")
                         for i in range(args.messages)]
                started = time.perf_counter()
                posted = uvloop.run(burst(base, forms, args.concurrency))
                burst_seconds = time.perf_counter() - started
                acks = [ack * 1000 for _, ack in posted.values()]
                burst_replies = reply_latencies(engine, posted, timeout=900)
                drained_seconds = time.perf_counter() - started

                # Paced: one turn in flight, fresh numbers, so nothing queues; each turn is
                # followed by the same text straight to Rasa, so both see the same machine.
                paced_posted, raw = {}, []
                for i in range(args.paced_turns):
                    text_ = MESSAGES[i % len(MESSAGES)]
                    form = inbound_form(from_=f"+4477009{90000 + i:05d}", body=text_)
                    paced_posted.update(uvloop.run(burst(base, [form], 1)))
                    reply_latencies(engine, {**posted, **paced_posted}, timeout=30)
                    t0 = time.perf_counter()
                    stack.send(sender=uuid.uuid4().hex, text=text_)
                    raw.append(time.perf_counter() - t0)
                all_latencies = reply_latencies(engine, {**posted, **paced_posted}, timeout=30)
                paced = all_latencies[-len(paced_posted):]
    finally:
        engine.dispose()
        drop_database(admin_url, database_url)

    table = Table(title=f"Webhook load: {args.messages} messages, concurrency {args.concurrency}, "
                        f"{args.numbers} numbers (PostgreSQL, Redis, trained model, "
                        f"LOG_LEVEL {args.log_level})")
    for column in ("measure", "p50", "p95", "p99", "n"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    ms = lambda v: f"{v:.1f} ms"  # noqa: E731
    table.add_row("ack latency (burst)", ms(percentile(acks, 50)), ms(percentile(acks, 95)),
                  ms(percentile(acks, 99)), str(len(acks)))
    burst_ms = [v * 1000 for v in burst_replies]
    table.add_row("reply latency (burst, queued behind Rasa)", ms(percentile(burst_ms, 50)),
                  ms(percentile(burst_ms, 95)), ms(percentile(burst_ms, 99)), str(len(burst_ms)))
    paced_ms = [v * 1000 for v in paced]
    table.add_row("reply latency (paced, full pipeline)", ms(percentile(paced_ms, 50)),
                  ms(percentile(paced_ms, 95)), ms(percentile(paced_ms, 99)), str(len(paced_ms)))
    raw_ms = [v * 1000 for v in raw]
    table.add_row("raw Rasa REST turn (same model)", ms(percentile(raw_ms, 50)),
                  ms(percentile(raw_ms, 95)), ms(percentile(raw_ms, 99)), str(len(raw_ms)))
    console.print(table)
    console.print(f"burst posted in {burst_seconds:.1f} s ({args.messages / burst_seconds:.0f} "
                  f"msg/s acknowledged); all {len(burst_replies)} replies queued after "
                  f"{drained_seconds:.1f} s ({len(burst_replies) / drained_seconds:.1f} turns/s)")
    ratio = statistics.median(paced) / statistics.median(raw)
    console.print(f"paced reply p50 / raw Rasa p50 = {ratio:.2f} (target <= 1.5); "
                  f"ack p99 {percentile(acks, 99):.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
