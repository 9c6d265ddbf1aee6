"""A 10,000-patient campaign through the real twilio client and a fake Twilio on loopback.

    .venv/bin/python benchmarks/campaign_throughput.py [--patients 10000] [--rate 50]

The fake Twilio answers 20% of sends with 429 or 503. One dispatcher process sends at the
configured rate; it is killed (SIGKILL) once part-way and restarted. Prints the achieved
request rate against the configured one, messages lost, duplicates and time to finish.
Needs PostgreSQL (BENCH_POSTGRES_URL) and Redis (BENCH_REDIS_URL).

Synthetic data: the Ofcom drama range has only 1,000 mobile numbers, so 10 synthetic
patients share each number here (every message is still one patient's, sent once).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.appointments.models import Appointment, AppointmentStatus, Priority  # noqa: E402
from api.campaigns import service as campaigns_service  # noqa: E402
from api.config import Settings  # noqa: E402
from api.db import make_engine, utcnow  # noqa: E402
from api.messaging.models import Message, MessageStatus  # noqa: E402
from api.patients.identifiers import nhs_check_digit  # noqa: E402
from api.patients.models import Patient  # noqa: E402
from api.reference.models import AppointmentType, Site, Specialty  # noqa: E402
from api.scheduling.models import Disruption  # noqa: E402
from benchmarks.webhook_load import create_database, drop_database  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402
from tests.fakes.fake_twilio import FakeTwilio, FakeTwilioState  # noqa: E402
from tests.processes import running  # noqa: E402

ACCOUNT = "ACbench00000000000000000000000000"


def nhs_numbers(count: int):
    n = 0
    while count:
        stem = f"999{n:06d}"
        n += 1
        check = nhs_check_digit(stem)
        if check is not None:
            count -= 1
            yield f"{stem}{check}"


def build_trust(factory, patients: int) -> int:
    """Patients with one postponed appointment each; returns the disruption id."""
    with factory() as session:
        site = Site(code="BENCH", name="Bench General")
        specialty = Specialty(code="BENCH", name="Bench medicine")
        strike = Disruption(name="Bench strike", starts_at=utcnow(),
                            ends_at=utcnow() + timedelta(days=3), staff_group="resident doctors")
        session.add_all([site, specialty, strike])
        session.flush()
        now = utcnow()
        numbers = list(nhs_numbers(patients))
        session.execute(insert(Patient), [
            {"nhs_number": numbers[i], "given_name": "Bench", "family_name": f"Patient{i}",
             "date_of_birth": date(1960, 1, 1), "postcode": "NX1 1AA",
             "mobile": f"+447700900{i % 1000:03d}", "whatsapp_opt_in": False,
             "preferred_language": "en", "communication_needs": [], "vulnerable": False,
             "opted_out": False, "created_at": now, "updated_at": now}
            for i in range(patients)])
        ids = session.scalars(select(Patient.id).order_by(Patient.id)).all()
        session.execute(insert(Appointment), [
            {"patient_id": pid, "specialty_id": specialty.id, "site_id": site.id,
             "type": AppointmentType.OUTPATIENT, "duration_minutes": 20,
             "priority": Priority.ROUTINE, "referral_date": date(2026, 9, 1),
             "breach_date": date(2027, 1, 5), "status": AppointmentStatus.POSTPONED,
             "disruption_id": strike.id, "times_postponed": 1,
             "requires_named_clinician": False, "created_at": now, "updated_at": now}
            for pid in ids])
        session.commit()
        return strike.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--error-rate", type=float, default=0.2)
    parser.add_argument("--kill-at", type=float, default=0.4, help="share sent before the kill")
    args = parser.parse_args()
    admin_url = os.environ.get("BENCH_POSTGRES_URL",
                               "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    database_url = create_database(admin_url)
    engine = make_engine(database_url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    log_dir = Path(tempfile.mkdtemp(prefix="rebook-campaign-"))
    settings = Settings(environment="test", database_url=database_url,
                        send_window_start="00:00", send_window_end="23:59:59.999999")
    try:
        disruption_id = build_trust(factory, args.patients)
        with factory() as session:
            campaign = campaigns_service.create(
                session=session, name="bench", disruption_id=disruption_id,
                sms_template="{trust_name}: your hospital appointment has moved. Reply to "
                             "choose a new date or call {bookings_phone}.")
            session.commit()
            queued_started = time.perf_counter()
            queued = 0
            for step in campaigns_service.send(session=session, campaign_id=campaign.id,
                                               settings=settings):
                session.commit()  # per batch, as the CLI and the view do
                queued = step.queued
            queue_seconds = time.perf_counter() - queued_started
        state = FakeTwilioState(transient_error_rate=args.error_rate)
        with FakeTwilio(state) as fake:
            env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url,
                       MESSAGING_MODE="twilio", TWILIO_ACCOUNT_SID=ACCOUNT,
                       TWILIO_AUTH_TOKEN="bench-auth-token", TWILIO_API_BASE_URL=fake.base_url,
                       SEND_RATE_PER_SECOND=str(args.rate), DAILY_CAP_PER_NUMBER="1000",
                       SEND_WINDOW_START="00:00", SEND_WINDOW_END="23:59:59.999999",
                       ENVIRONMENT="test", SECRET_KEY="bench-secret", LOG_LEVEL="WARNING")
            started = time.perf_counter()
            with running(["dispatcher"], env, log_dir / "dispatcher1.log") as first:
                while len(state.accepted) < args.kill_at * queued:
                    time.sleep(0.2)
                first.kill()
            killed_after = time.perf_counter() - started
            with running(["dispatcher"], env, log_dir / "dispatcher2.log"):
                while True:
                    with factory() as session:
                        waiting = session.scalar(select(func.count()).select_from(Message).where(
                            Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING])))
                    if not waiting:
                        break
                    time.sleep(0.5)
            finished = time.perf_counter() - started
        with factory() as session:
            statuses = dict(session.execute(select(Message.status, func.count())
                                            .group_by(Message.status)).all())
            recorded = set(session.scalars(select(Message.provider_sid)
                                           .where(Message.provider_sid.is_not(None))))
    finally:
        engine.dispose()
        drop_database(admin_url, database_url)

    accepted_sids = [m["sid"] for m in state.accepted]
    sent_rows = statuses.get(MessageStatus.SENT, 0)
    duplicates = len(accepted_sids) - len(set(accepted_sids) & recorded)
    lost = queued - sent_rows
    request_rate = state.attempts / finished
    # Sustained pace: the middle 80% of requests, so start-up and the recovery tail after the
    # kill (a killed dispatcher's claimed batch waits for its lease to expire) are left out.
    times = sorted(state.attempt_times)
    low, high = times[len(times) // 10], times[len(times) * 9 // 10]
    sustained = (len(times) * 8 // 10) / (high - low)
    table = Table(title=f"Campaign throughput: {queued:,} messages, configured {args.rate:g}/s, "
                        f"{args.error_rate:.0%} transient errors, dispatcher killed once")
    for column in ("measure", "value"):
        table.add_column(column)
    table.add_row("queue the campaign (outbox rows)", f"{queue_seconds:.1f} s")
    table.add_row("requests to Twilio (incl. retries)", f"{state.attempts:,}")
    table.add_row("sustained request rate (middle 80%)", f"{sustained:.1f}/s "
                  f"({sustained / args.rate - 1:+.1%} vs configured)")
    table.add_row("overall request rate (incl. kill)", f"{request_rate:.1f}/s")
    table.add_row("accepted by Twilio", f"{len(accepted_sids):,}")
    table.add_row("delivered rate (accepted / time)", f"{len(accepted_sids) / finished:.1f}/s")
    table.add_row("transient errors injected", f"{state.transient_answers:,}")
    table.add_row("dispatcher killed after", f"{killed_after:.1f} s")
    table.add_row("messages lost", str(lost))
    table.add_row("duplicates", str(duplicates))
    table.add_row("time to finish", f"{finished:.1f} s")
    table.add_row("final statuses", ", ".join(f"{k.value}={v}" for k, v in statuses.items()))
    Console().print(table)


if __name__ == "__main__":
    main()
