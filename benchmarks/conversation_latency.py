"""Per-turn latency of scripted patient conversations through the full assistant stack.

    .venv/bin/python benchmarks/conversation_latency.py [--patients 10] [--postgres URL]

Each turn is a signed Twilio webhook to the app, the worker (safety screen, lease, outbox), the
Rasa server with the trained model over REST, and the action server on the same database; a
turn ends when its replies are in the outbox. Turns run one at a time, so the numbers are the
pipeline's own latency, not queueing. The synthetic demo trust (300 patients) is seeded in a
fresh SQLite file (or the PostgreSQL server given). Prints p50/p95 per script and overall,
next to the Rasa REST call alone (which includes the action server). Target: p95 < 400 ms on
2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch import scratch_database  # noqa: E402
from tests.conftest import TEST_AUTH_TOKEN, TEST_PUBLIC_BASE_URL  # noqa: E402

TRUST_NAME = "Northshire Hospitals NHS Foundation Trust (synthetic demo)"
# name -> turns; "{dob}" is the patient's date of birth as they would type it.
SCRIPTS: dict[str, list[str]] = {
    "rebook": ["hi, when will i be seen now?", "{dob}", "why was it moved", "new date pls",
               "none of those, mornings only", "the first one please", "thanks", "no thats all"],
    "practical": ["where do i park", "how do i get there by bus", "what should i bring",
                  "is there wheelchair access", "ok ta bye"],
    "chit-chat": ["hiya", "?", "ok", "thanks x", "no ta"],
    "cannot come": ["i cant make my appointment", "{dob}", "yes", "thank you", "bye"],
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class TimedRasa:
    """The real RasaClient, timing each REST call."""

    def __init__(self, client):
        self.client = client
        self.seconds: list[float] = []

    def send(self, **kwargs):
        started = time.perf_counter()
        try:
            return self.client.send(**kwargs)
        finally:
            self.seconds.append(time.perf_counter() - started)


def show(console, factory, name: str, mobile: str) -> None:
    """One conversation as the patient saw it (patient lines marked >)."""
    from sqlalchemy import or_, select

    from api.messaging.models import Direction, Message

    with factory() as session:
        messages = session.scalars(select(Message).where(
            or_(Message.from_address == mobile, Message.to_address == mobile))
            .order_by(Message.id)).all()
    console.rule(name)
    for message in messages:
        who = ">" if message.direction is Direction.INBOUND else " "
        console.print(f"{who} {message.body}", markup=False, highlight=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10, help="conversations per script")
    parser.add_argument("--show", action="store_true",
                        help="print the first conversation of each script (a sanity check)")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL"),
                        help="PostgreSQL admin URL (default: a SQLite file)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="rebook-latency-"))
    with scratch_database(work=work, postgres_admin_url=args.postgres,
                          prefix="rebook_latency") as database_url:
        os.environ.update(DATABASE_URL=database_url, PUBLIC_BASE_URL=TEST_PUBLIC_BASE_URL,
                          TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN, MESSAGING_MODE="sandbox",
                          ENVIRONMENT="test", SECRET_KEY="bench-secret-key-not-a-placeholder",
                          TRUST_NAME=TRUST_NAME, LOG_LEVEL="WARNING")
        os.environ.pop("REDIS_URL", None)
        run(args, work, database_url)


def run(args, work: Path, database_url: str) -> None:
    from fastapi.testclient import TestClient
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import func, select

    from api.appointments.models import Appointment, AppointmentStatus
    from api.config import get_settings
    from api.conversations.rasa_client import RasaClient
    from api.db import get_sessionmaker
    from api.demo import service as demo_service
    from api.main import create_app
    from api.patients.models import Patient
    from api.schema import upgrade
    from api.worker import Worker
    from tests.e2e.rasa_stack import ASSISTANT_TOKEN, start_stack
    from tests.twilio_helpers import inbound_form, post_signed

    console = Console()
    upgrade(database_url=database_url)
    factory = get_sessionmaker()
    with factory() as session:
        demo_service.seed(session=session, patients=300)
        session.commit()
        counts = dict(session.execute(select(Patient.mobile, func.count())
                                      .where(Patient.mobile.is_not(None))
                                      .group_by(Patient.mobile)).all())
        postponed = session.scalars(
            select(Patient).join(Appointment, Appointment.patient_id == Patient.id)
            .where(Appointment.status == AppointmentStatus.POSTPONED,
                   Patient.opted_out.is_(False)).order_by(Patient.id)).unique().all()
        people = [(p.mobile, p.date_of_birth) for p in postponed if counts.get(p.mobile) == 1]
    needed = args.patients * len(SCRIPTS)
    if len(people) < needed:
        sys.exit(f"only {len(people)} single-number patients with a postponed appointment")

    console.print(f"Starting Rasa and the action server (database {database_url.split(':')[0]})...")
    with start_stack(log_dir=work / "logs", env=dict(os.environ)) as stack, \
            TestClient(create_app(), base_url="http://testserver") as client:
        rasa = TimedRasa(RasaClient(base_url=stack.rasa_url, timeout=30, token=ASSISTANT_TOKEN))
        worker = Worker(settings=get_settings(), session_factory=factory, rasa=rasa,
                        concurrency=1)
        for mobile, _dob in people[:3]:  # warm-up: first TF calls and connection pools
            post_signed(client, inbound_form(from_=mobile, body="hiya"))
            worker.drain(timeout=60)
        turn_seconds: dict[str, list[float]] = {name: [] for name in SCRIPTS}
        rasa.seconds.clear()
        queue = iter(people[3:])
        for name, script in SCRIPTS.items():
            for number in range(args.patients):
                mobile, dob = next(queue)
                for line in script:
                    body = line.format(dob=dob.strftime("%d/%m/%Y"))
                    started = time.perf_counter()
                    post_signed(client, inbound_form(from_=mobile, body=body))
                    worker.drain(timeout=60)
                    turn_seconds[name].append(time.perf_counter() - started)
                if args.show and number == 0:
                    show(console, factory, name, mobile)
        rasa.client.close()

    table = Table(title=f"Per-turn latency, full stack ({os.cpu_count()} CPUs, "
                        f"{database_url.split(':')[0]})")
    for column in ("script", "turns", "p50 ms", "p95 ms", "max ms", "mean ms"):
        table.add_column(column, justify="right" if column != "script" else "left")

    def row(label: str, values: list[float]) -> None:
        ms = [v * 1000 for v in values]
        table.add_row(label, str(len(ms)), f"{percentile(ms, 50):.0f}",
                      f"{percentile(ms, 95):.0f}", f"{max(ms):.0f}",
                      f"{statistics.fmean(ms):.0f}")

    for name, values in turn_seconds.items():
        row(name, values)
    everything = [v for values in turn_seconds.values() for v in values]
    row("all turns", everything)
    row("Rasa REST call only", rasa.seconds)
    console.print(table)
    p95 = percentile([v * 1000 for v in everything], 95)
    verdict = "meets" if p95 < 400 else "misses"
    console.print(f"Overall p95 {p95:.0f} ms: {verdict} the 400 ms target.")


if __name__ == "__main__":
    main()
