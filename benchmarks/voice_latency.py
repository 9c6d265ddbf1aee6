"""Phone line latency: from a gather callback to its TwiML, through the whole stack.

    .venv/bin/python benchmarks/voice_latency.py [--calls 20] [--redis redis://127.0.0.1:6379/0]
                                                 [--postgres URL]

Real processes, as `rebook run` runs them: the api under uvicorn (`rebook serve`), a worker
(`rebook worker`), the Rasa server with the trained model and the action server, on a fresh
SQLite file (or the PostgreSQL server given) holding the synthetic demo trust. Each call is
placed by signed Twilio voice callbacks over HTTP: ring, the date of birth spoken, read back
and confirmed, then assistant turns ("why was it moved", "can I have a new date", a choice
read back and confirmed, so a booking), one call at a time. A gather callback's time is what
the caller hears as silence: until the TwiML arrives. An assistant turn that is not ready in
VOICE_REPLY_WAIT_SECONDS answers with a holding phrase and a redirect; those are counted and
the turn's time runs until its real answer. Target: p95 under 800 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch import scratch_database  # noqa: E402
from tests.conftest import TEST_AUTH_TOKEN, TEST_PUBLIC_BASE_URL  # noqa: E402
from tests.twilio_helpers import signature_for  # noqa: E402

TRUST_NAME = "Northshire Hospitals NHS Foundation Trust (synthetic demo)"
# (what the caller says, the kind of turn) after the date of birth is confirmed.
ASSISTANT_TURNS = [("why was my appointment moved", "assistant"),
                   ("can I have a new date please", "assistant"),
                   ("the second one", "read-back"),
                   ("yes please", "assistant")]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Caller:
    """Twilio's side of one call: signed POSTs, following redirects (holding phrases)."""

    def __init__(self, http: httpx.Client, mobile: str):
        self.http = http
        self.form = {"CallSid": f"CA{secrets.token_hex(16)}", "AccountSid": "ACbench",
                     "From": mobile, "To": "+441614960000", "CallStatus": "in-progress"}
        self.action = "/twilio/voice"
        self.holding = 0

    def post(self, **fields: str) -> tuple[float, str]:
        """(seconds until the real answer, its text); redirects followed."""
        started = time.perf_counter()
        path, form = self.action, {**self.form, **fields}
        while True:
            response = self.http.post(path, data=form, headers={
                "X-Twilio-Signature": signature_for(form, path=path)})
            response.raise_for_status()
            root = ET.fromstring(response.text)
            redirect = root.find("Redirect")
            gather = root.find("Gather")
            if gather is None and redirect is not None:
                self.holding += 1
                path, form = redirect.text, self.form
                continue
            if gather is not None:
                self.action = gather.get("action")
            said = " ".join(s.text or "" for s in root.iter("Say"))
            return time.perf_counter() - started, said


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(ROOT / ".venv" / "bin" / "rebook"), *args], env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_until_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--redis", default="", help="REDIS_URL (worker wake-ups)")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL"),
                        help="PostgreSQL admin URL (default: a SQLite file)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rebook-voice-"))
    with scratch_database(work=work, postgres_admin_url=args.postgres,
                          prefix="rebook_voice") as database_url:
        os.environ.update(DATABASE_URL=database_url, PUBLIC_BASE_URL=TEST_PUBLIC_BASE_URL,
                          TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN, MESSAGING_MODE="sandbox",
                          ENVIRONMENT="test", SECRET_KEY="bench-secret-key-not-a-placeholder",
                          TRUST_NAME=TRUST_NAME, LOG_LEVEL="WARNING")
        if args.redis:
            os.environ["REDIS_URL"] = args.redis
        else:
            os.environ.pop("REDIS_URL", None)
        run(args, work, database_url)


def callers(factory) -> list[tuple[str, object]]:
    """Patients alone on their number with a postponed appointment: (mobile, date of birth)."""
    from sqlalchemy import func, select

    from api.appointments.models import Appointment, AppointmentStatus
    from api.patients.models import Patient

    with factory() as session:
        counts = dict(session.execute(select(Patient.mobile, func.count())
                                      .where(Patient.mobile.is_not(None))
                                      .group_by(Patient.mobile)).all())
        postponed = session.scalars(
            select(Patient).join(Appointment, Appointment.patient_id == Patient.id)
            .where(Appointment.status == AppointmentStatus.POSTPONED,
                   Patient.opted_out.is_(False), Patient.communication_needs == [])
            .order_by(Patient.id)).unique().all()
        return [(p.mobile, p.date_of_birth) for p in postponed if counts.get(p.mobile) == 1]


def run(args, work: Path, database_url: str) -> None:
    from rich.console import Console

    from api.db import get_sessionmaker
    from api.demo import service as demo_service
    from api.schema import upgrade
    from tests.e2e.rasa_stack import ASSISTANT_TOKEN, free_ports, start_stack

    console = Console()
    upgrade(database_url=database_url)
    factory = get_sessionmaker()
    with factory() as session:
        demo_service.seed(session=session, patients=300)
        session.commit()
    people = callers(factory)[:args.calls + 2]
    console.print("Starting Rasa, the action server, the api and a worker...")
    with start_stack(log_dir=work / "logs", env=dict(os.environ)) as stack:
        [port] = free_ports(1)
        env = dict(os.environ, RASA_URL=stack.rasa_url, ASSISTANT_TOKEN=ASSISTANT_TOKEN)
        api = start(["serve", "--port", str(port)], env, work / "api.log")
        worker = start(["worker"], env, work / "worker.log")
        try:
            wait_until_ready(f"http://127.0.0.1:{port}/healthz")
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                timings = place_calls(http, people, console)
        finally:
            for process in (api, worker):
                process.terminate()
                process.wait(timeout=30)
    report(console, timings, database_url)


def place_calls(http: httpx.Client, people, console) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"ring": [], "identity": [], "read-back": [],
                                       "assistant": []}
    holding = 0
    for index, (mobile, dob) in enumerate(people):
        caller = Caller(http, mobile)
        measured = index >= 2  # the first two calls warm TensorFlow and the pools
        seconds, _ = caller.post(CallStatus="ringing")
        spoken = f"the {dob.day} of {dob:%B} {dob.year}"
        steps = [("identity", {"SpeechResult": spoken, "Confidence": "0.9"}),
                 ("identity", {"SpeechResult": "yes", "Confidence": "0.9"})]
        steps += [(kind, {"SpeechResult": said, "Confidence": "0.9"})
                  for said, kind in ASSISTANT_TURNS]
        record = [("ring", seconds)]
        for kind, fields in steps:
            seconds, said = caller.post(**fields)
            record.append((kind, seconds))
        if "booked" not in said.lower():
            console.print(f"[yellow]call {index}: the booking was not confirmed: {said}")
        if measured:
            for kind, seconds in record:
                timings[kind].append(seconds)
            holding += caller.holding
    timings["_holding"] = [holding]
    return timings


def report(console, timings: dict[str, list[float]], database_url: str) -> None:
    from rich.table import Table

    holding = timings.pop("_holding")[0]
    table = Table(title=f"Gather callback to TwiML, whole stack ({os.cpu_count()} CPUs, "
                        f"{database_url.split(':')[0]})")
    for column in ("turn", "count", "p50 ms", "p95 ms", "max ms", "mean ms"):
        table.add_column(column, justify="left" if column == "turn" else "right")
    everything = []
    for kind, values in timings.items():
        ms = [v * 1000 for v in values]
        everything += ms
        table.add_row(kind, str(len(ms)), f"{percentile(ms, 50):.0f}",
                      f"{percentile(ms, 95):.0f}", f"{max(ms):.0f}",
                      f"{statistics.fmean(ms):.0f}")
    table.add_row("all callbacks", str(len(everything)), f"{percentile(everything, 50):.0f}",
                  f"{percentile(everything, 95):.0f}", f"{max(everything):.0f}",
                  f"{statistics.fmean(everything):.0f}")
    console.print(table)
    assistant = [v * 1000 for v in timings["assistant"]]
    p95 = percentile(everything, 95)
    console.print(f"Holding phrases: {holding}. Assistant turns p95 "
                  f"{percentile(assistant, 95):.0f} ms. All callbacks p95 {p95:.0f} ms: "
                  f"{'meets' if p95 < 800 else 'misses'} the 800 ms target.")


if __name__ == "__main__":
    main()
