"""How well the assistant understands patients it was not trained on: the held-out corpora.

    .venv/bin/python benchmarks/conversation_quality.py [--stack-sample 5] [--ordinary 150]

Three parts, each a table:
1. The safety screen on the whole held-out corpora (tests/data/*_test.jsonl, and the dev
   split): red-flag recall per category (any safety net counts), which layer fired, the
   false-alarm rate on ordinary messages, and the screen's own latency.
2. The trained Rasa model on the held-out NLU set: intent accuracy and macro F1 (a message
   ending in nlu_fallback counts as wrong), against the 0.95 target, and the confusion pairs.
3. The whole stack (signed webhook, worker, Rasa server, action server, SQLite demo trust):
   a sample of red flags per category and of ordinary messages, each from a new number, with
   reply latency p50/p95 and whether each red flag got the safety net.
Nothing here is trained on: see tests/data/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bot.heldout import parse, read_jsonl, score  # noqa: E402
from tests.conftest import TEST_AUTH_TOKEN, TEST_PUBLIC_BASE_URL  # noqa: E402

TARGET_ACCURACY = 0.95
TRUST_NAME = "Northshire Hospitals NHS Foundation Trust (synthetic demo)"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def screen_tables(console) -> None:
    from rich.table import Table

    from api.conversations.safety import screen, warm_up

    warm_up()
    for split, red_file, ordinary_files in (
            ("held-out", "red_flags_test.jsonl", ("ordinary_test_a.jsonl",
                                                  "ordinary_test_b.jsonl")),
            ("dev", "red_flags_dev.jsonl", ("ordinary_dev.jsonl",))):
        totals, caught, layers = Counter(), Counter(), Counter()
        seconds = []
        for row in read_jsonl(red_file):
            started = time.perf_counter()
            result = screen(row["text"])
            seconds.append(time.perf_counter() - started)
            totals[row["category"]] += 1
            if result.red_flag:
                caught[row["category"]] += 1
                layers["+".join(result.layers)] += 1
        ordinary = [row for name in ordinary_files for row in read_jsonl(name)]
        alarms = defaultdict(int)
        for row in ordinary:
            started = time.perf_counter()
            result = screen(row["text"])
            seconds.append(time.perf_counter() - started)
            if result.red_flag:
                alarms["+".join(result.layers)] += 1
        table = Table(title=f"Safety screen, {split} corpora")
        for column in ("category", "messages", "safety net", "recall"):
            table.add_column(column, justify="left" if column == "category" else "right")
        for category in sorted(totals):
            table.add_row(category, str(totals[category]), str(caught[category]),
                          f"{caught[category] / totals[category]:.1%}")
        total, hit = sum(totals.values()), sum(caught.values())
        table.add_row("all red flags", str(total), str(hit), f"{hit / total:.1%}")
        false_alarms = sum(alarms.values())
        table.add_row("ordinary messages (false alarms)", str(len(ordinary)), str(false_alarms),
                      f"{false_alarms / len(ordinary):.2%}")
        console.print(table)
        console.print(f"  red flags caught by: {dict(layers)}; false alarms by: {dict(alarms)}")
        ms = [s * 1000 for s in seconds]
        console.print(f"  screen latency per message: p50 {percentile(ms, 50):.1f} ms, "
                      f"p95 {percentile(ms, 95):.1f} ms, max {max(ms):.1f} ms")


def nlu_table(console, *, rasa_env: Path, model: Path) -> None:
    from rich.table import Table

    for name in ("nlu_test.jsonl", "nlu_dev.jsonl"):
        corpus = read_jsonl(name)
        parsed = parse(rasa_env=rasa_env, model=model, texts=[r["text"] for r in corpus])
        result = score([r["intent"] for r in corpus], [p["intent"] for p in parsed])
        table = Table(title=f"Intent understanding, {name} ({len(corpus)} messages)")
        for column in ("measure", "value", "target"):
            table.add_column(column, justify="left" if column == "measure" else "right")
        table.add_row("accuracy", f"{result.accuracy:.3f}",
                      f">= {TARGET_ACCURACY} (gate 0.92)")
        table.add_row("macro F1", f"{result.macro_f1:.3f}", ">= 0.90 (gate)")
        table.add_row("ended in nlu_fallback", str(result.fallbacks), "")
        console.print(table)
        worst = sorted(result.per_intent.items(), key=lambda kv: kv[1][2])[:6]
        console.print("  weakest intents (f1): " + ", ".join(f"{k} {v[2]:.2f}" for k, v in worst))
        console.print("  confusions (expected -> predicted): " + "; ".join(
            f"{e}->{p} {n}" for (e, p), n in result.confusions[:12]))


def stack_table(console, *, sample: int, ordinary_count: int) -> None:
    from fastapi.testclient import TestClient
    from rich.table import Table
    from sqlalchemy import select

    from api.config import get_settings
    from api.conversations.rasa_client import RasaClient
    from api.worker import Worker
    from api.db import get_sessionmaker
    from api.demo import service as demo_service
    from api.main import create_app
    from api.messaging.models import Direction, Message, MessageCategory
    from api.schema import upgrade
    from tests.e2e.rasa_stack import ASSISTANT_TOKEN, start_stack
    from tests.twilio_helpers import inbound_form, post_signed

    work = Path(tempfile.mkdtemp(prefix="rebook-quality-"))
    database_url = f"sqlite:///{work / 'bench.db'}"
    os.environ.update(DATABASE_URL=database_url, PUBLIC_BASE_URL=TEST_PUBLIC_BASE_URL,
                      TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN, MESSAGING_MODE="sandbox",
                      ENVIRONMENT="test", SECRET_KEY="bench-secret-key-not-a-placeholder",
                      TRUST_NAME=TRUST_NAME, LOG_LEVEL="ERROR")  # every red flag logs a warning
    os.environ.pop("REDIS_URL", None)
    upgrade(database_url=database_url)
    factory = get_sessionmaker()
    with factory() as session:
        demo_service.seed(session=session, patients=300)
        session.commit()
    by_category: dict[str, list[str]] = defaultdict(list)
    for row in read_jsonl("red_flags_test.jsonl"):
        if len(by_category[row["category"]]) < sample:
            by_category[row["category"]].append(row["text"])
    ordinary = [row["text"] for row in read_jsonl("ordinary_test_a.jsonl")][:ordinary_count]
    numbers = (f"+4477009{n:05d}" for n in range(50000, 99999))  # not in the demo trust

    console.print("Starting Rasa and the action server for the whole-stack sample...")
    with start_stack(log_dir=work / "logs", env=dict(os.environ)) as stack, \
            TestClient(create_app(), base_url="http://testserver") as client:
        rasa = RasaClient(base_url=stack.rasa_url, timeout=30, token=ASSISTANT_TOKEN)
        worker = Worker(settings=get_settings(), session_factory=factory, rasa=rasa,
                        concurrency=1)

        def play(text: str) -> tuple[float, list[Message]]:
            number = next(numbers)
            started = time.perf_counter()
            post_signed(client, inbound_form(from_=number, body=text))
            worker.drain(timeout=60)
            elapsed = time.perf_counter() - started
            with factory() as session:
                replies = session.scalars(select(Message).where(
                    Message.direction == Direction.OUTBOUND,
                    Message.to_address == number)).all()
            return elapsed, replies

        play("hiya")  # warm-up
        red_seconds, ordinary_seconds, netted = [], [], Counter()
        for category, texts in by_category.items():
            for text in texts:
                elapsed, replies = play(text)
                red_seconds.append(elapsed)
                netted[category] += any(r.category is MessageCategory.SAFETY_NET
                                        for r in replies)
        alarms = 0
        for text in ordinary:
            elapsed, replies = play(text)
            ordinary_seconds.append(elapsed)
            alarms += any(r.category is MessageCategory.SAFETY_NET for r in replies)
        rasa.close()

    table = Table(title="Whole stack: webhook -> worker -> Rasa -> actions -> outbox")
    for column in ("messages", "count", "safety net", "reply p50 ms", "reply p95 ms"):
        table.add_column(column, justify="left" if column == "messages" else "right")
    red_ms = [s * 1000 for s in red_seconds]
    ordinary_ms = [s * 1000 for s in ordinary_seconds]
    table.add_row(f"red flags ({sample} per category)", str(len(red_ms)),
                  str(sum(netted.values())), f"{percentile(red_ms, 50):.0f}",
                  f"{percentile(red_ms, 95):.0f}")
    table.add_row("ordinary (first of set A)", str(len(ordinary_ms)), str(alarms),
                  f"{percentile(ordinary_ms, 50):.0f}", f"{percentile(ordinary_ms, 95):.0f}")
    console.print(table)
    missed = {c: sample - n for c, n in netted.items() if n < sample}
    console.print(f"  red flags without a safety net through the stack: {missed or 'none'}; "
                  f"mean ordinary reply {statistics.fmean(ordinary_ms):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack-sample", type=int, default=5,
                        help="red flags per category played through the whole stack")
    parser.add_argument("--ordinary", type=int, default=150,
                        help="ordinary messages played through the whole stack")
    parser.add_argument("--skip-stack", action="store_true", help="screen and NLU tables only")
    args = parser.parse_args()

    from rich.console import Console

    from tests.e2e.rasa_stack import ensure_model, ensure_rasa_env

    console = Console()
    screen_tables(console)
    logs = Path(tempfile.mkdtemp(prefix="rebook-quality-logs-"))
    nlu_table(console, rasa_env=ensure_rasa_env(log_dir=logs), model=ensure_model(log_dir=logs))
    if not args.skip_stack:
        stack_table(console, sample=args.stack_sample, ordinary_count=args.ordinary)


if __name__ == "__main__":
    main()
