"""The staff console's pages at a large trust's scale, timed through the real api.

    .venv/bin/python benchmarks/console_pages.py [--patients 50000] [--appointments 5000]
        [--handovers 500] [--audit-events 100000] [--requests 20] [--sqlite]

Builds a synthetic trust with bulk inserts (patients from the 999 test range of NHS numbers,
one disruption postponing appointments across the demo specialties and priorities, unresolved
handovers with their conversations and messages, a long audit log, a few clinics), starts
`rebook serve` on it, signs in as an admin through /console/login and times each page warm
(after one untimed request): p50, p95 and max milliseconds and the response size. Exits
non-zero if any page answers other than 200. PostgreSQL (BENCH_POSTGRES_URL) by default.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert
from sqlalchemy.orm import sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.appointments.models import (  # noqa: E402
    OUTPATIENT_PRIORITIES,
    SURGICAL_PRIORITIES,
    Appointment,
    AppointmentStatus,
)
from api.audit.models import AuditEvent  # noqa: E402
from api.campaigns import service as campaigns_service  # noqa: E402
from api.conversations.models import Conversation, new_public_id  # noqa: E402
from api.db import make_engine, utcnow  # noqa: E402
from api.demo import data as demo_data  # noqa: E402
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency  # noqa: E402
from api.messaging.models import (  # noqa: E402
    Channel,
    Direction,
    Message,
    MessageCategory,
    MessageStatus,
)
from api.patients.models import Patient  # noqa: E402
from api.reference.models import AppointmentType, Site, Specialty  # noqa: E402
from api.scheduling.models import ClinicSession, Disruption, SessionKind, Slot  # noqa: E402
from api.schema import upgrade  # noqa: E402
from api.staff import service as staff_service  # noqa: E402
from api.staff.models import Role  # noqa: E402
from benchmarks.campaign_throughput import nhs_numbers  # noqa: E402
from benchmarks.webhook_load import create_database, drop_database, percentile  # noqa: E402
from tests.processes import free_port, running, wait_http  # noqa: E402

PASSWORD = "bench console password 2026"
FAMILY = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
          "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts",
          "Green", "Hall", "Khan", "Wood", "Clarke", "Jackson", "Hughes", "Edwards", "Begum"]
GIVEN = ["Olivia", "Amelia", "Isla", "Ava", "Noah", "Oliver", "George", "Arthur", "Mohammed",
         "Leo", "Freya", "Grace", "Jack", "Harry", "Aisha", "Zara", "Thomas", "Sophie"]
ACTIONS = [("view_patient", "patient"), ("view_handover", "handover"),
           ("search_patients", "patient"), ("send_message", "message"),
           ("claim_handover", "handover"), ("view_dashboard", "disruption"), ("login", "staff")]
BATCH = 10_000


@dataclass
class Trust:
    """What the pages are asked about: ids and names that exist in the synthetic trust."""

    handover_id: int = 0
    family_name: str = ""
    date_of_birth: str = ""
    nhs_number: str = ""
    sizes: dict[str, int] = field(default_factory=dict)


def _batched(session, model, rows: list[dict]) -> list[int]:
    """Insert `rows` in batches; their new ids, in the rows' order."""
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        ids += session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True),
                               rows[start:start + BATCH]).all()
    return ids


def _patients(session, count: int, rng: random.Random) -> tuple[list[int], list[dict]]:
    now = utcnow()
    rows = [{"nhs_number": number, "given_name": rng.choice(GIVEN),
             "family_name": FAMILY[i % len(FAMILY)] + ("" if i % 3 else f"-{GIVEN[i % 18]}"),
             "date_of_birth": date(1930, 1, 1) + timedelta(days=rng.randrange(27_000)),
             "postcode": f"NX{i % 9 + 1} {i % 10}AB", "mobile": f"+447700900{i % 1000:03d}",
             "whatsapp_opt_in": False, "preferred_language": "en", "communication_needs": [],
             "vulnerable": i % 40 == 0, "opted_out": False, "created_at": now, "updated_at": now}
            for i, number in enumerate(nhs_numbers(count))]
    return _batched(session, Patient, rows), rows


def _reference(session, start_days: int):
    """The demo specialties, two sites, a disruption and a few clinics with free slots."""
    sites = [Site(code="BENCH-N", name="Bench North"), Site(code="BENCH-S", name="Bench South")]
    specialties = [Specialty(code=s.code, name=s.name, surgical=s.surgical)
                   for s in demo_data.SPECIALTIES]
    strike = Disruption(name="Bench strike", starts_at=utcnow(),
                        ends_at=utcnow() + timedelta(days=3), staff_group="resident doctors")
    strike.specialties = specialties
    session.add_all([*sites, *specialties, strike])
    session.flush()
    day = utcnow().replace(hour=9, minute=0, second=0, microsecond=0)
    for n in range(60):
        starts = day + timedelta(days=start_days + n // 2)
        clinic = ClinicSession(kind=SessionKind.CLINIC, site_id=sites[n % 2].id,
                               specialty_id=specialties[n % len(specialties)].id,
                               location="Outpatients B", starts_at=starts,
                               ends_at=starts + timedelta(hours=3))
        session.add(clinic)
        session.flush()
        session.add_all(Slot(session_id=clinic.id, site_id=clinic.site_id,
                             specialty_id=clinic.specialty_id, type=AppointmentType.OUTPATIENT,
                             start_at=starts + timedelta(minutes=20 * k), duration_minutes=20)
                        for k in range(8))
    return sites, specialties, strike


def _appointments(session, patient_ids, count, sites, specialties, strike, rng) -> list[int]:
    now, today = utcnow(), utcnow().date()
    rows = []
    for i in range(count):
        specialty = specialties[i % len(specialties)]
        priorities = SURGICAL_PRIORITIES if specialty.surgical else OUTPATIENT_PRIORITIES
        referral = today - timedelta(days=rng.randrange(20, 300))
        rows.append({
            "patient_id": patient_ids[i % len(patient_ids)], "specialty_id": specialty.id,
            "site_id": sites[i % 2].id, "duration_minutes": 20,
            "type": AppointmentType.THEATRE if specialty.surgical and i % 2
            else AppointmentType.OUTPATIENT,
            "priority": priorities[i % len(priorities)], "referral_date": referral,
            # About a third are past their target date already: the dashboard's breach list.
            "breach_date": today + timedelta(days=rng.randrange(-60, 120)),
            "status": AppointmentStatus.POSTPONED, "disruption_id": strike.id,
            "times_postponed": 1, "requires_named_clinician": False,
            "created_at": now, "updated_at": now})
    return _batched(session, Appointment, rows)


def _conversations(session, count: int, patient_of) -> list[int]:
    now = utcnow()
    rows = [{"public_id": new_public_id(),
             "channel": Channel.SMS if i < 1000 else Channel.EMAIL,
             "address": f"+447700900{i:03d}" if i < 1000 else f"bench{i}@example.invalid",
             "verified_patient_id": patient_of(i),
             "verified_until": now + timedelta(minutes=30) if patient_of(i) else None,
             "failed_identity_attempts": 0, "last_inbound_at": now - timedelta(minutes=i),
             "created_at": now, "updated_at": now} for i in range(count)]
    return _batched(session, Conversation, rows)


def _message_rows(conversation_ids, patient_of) -> list[dict]:
    now = utcnow()
    rows = []
    for i, conversation_id in enumerate(conversation_ids):
        address = f"+447700900{i:03d}" if i < 1000 else f"bench{i}@example.invalid"
        channel = Channel.SMS if i < 1000 else Channel.EMAIL
        common = {"conversation_id": conversation_id, "patient_id": patient_of(i),
                  "channel": channel, "attempts": 0, "updated_at": now}
        rows.append(common | {
            "direction": Direction.INBOUND, "from_address": address, "to_address": "+447700900000",
            "body": "I have chest pain, can someone call me" if i % 10 == 0
            else "Can I speak to a person about my appointment please",
            "status": MessageStatus.PROCESSED, "category": MessageCategory.PATIENT,
            "created_at": now - timedelta(minutes=i + 1)})
        rows.append(common | {
            "direction": Direction.OUTBOUND, "from_address": "+447700900000", "to_address": address,
            "body": "Thank you. A member of the bookings team will reply to you here.",
            "status": MessageStatus.SENT, "category": MessageCategory.HOLDING,
            "created_at": now - timedelta(minutes=i)})
    return rows


def _handovers(session, count, patient_ids, appointment_ids, admin_id) -> list[int]:
    """Open cases: every tenth a red flag, every seventh unidentified, every fifth overdue."""
    spread = max(1, len(appointment_ids) // max(count, 1))

    def patient_of(i: int) -> int | None:
        return None if i % 7 == 3 else patient_ids[(i * spread) % len(patient_ids)]

    conversation_ids = _conversations(session, count, patient_of)
    message_ids = _batched(session, Message, _message_rows(conversation_ids, patient_of))
    now = utcnow()
    statuses = [HandoverStatus.OPEN, HandoverStatus.OPEN, HandoverStatus.CLAIMED,
                HandoverStatus.WAITING_FOR_PATIENT]
    reasons = [HandoverReason.ASKED_FOR_PERSON, HandoverReason.NOT_UNDERSTOOD,
               HandoverReason.COMPLAINT, HandoverReason.IDENTITY_LOCKOUT]
    rows = []
    for i, conversation_id in enumerate(conversation_ids):
        red = i % 10 == 0
        status = statuses[i % len(statuses)]
        rows.append({
            "conversation_id": conversation_id, "patient_id": patient_of(i),
            "appointment_id": appointment_ids[(i * spread) % len(appointment_ids)]
            if patient_of(i) and appointment_ids else None,
            "reason": HandoverReason.RED_FLAG if red else reasons[i % len(reasons)],
            "urgency": Urgency.URGENT if red else (Urgency.HIGH if i % 3 == 0 else Urgency.NORMAL),
            "status": status, "assignee_id": admin_id if status is HandoverStatus.CLAIMED else None,
            "due_at": now - timedelta(hours=1) if i % 5 == 0 else now + timedelta(hours=4 + i % 20),
            "summary": "The assistant passed this conversation on.", "created_by": "assistant",
            "trigger_message_id": message_ids[2 * i], "created_at": now - timedelta(minutes=i)})
    return _batched(session, Handover, rows)


def _audit_events(session, count: int, patient_ids, admin_id: int, rng) -> None:
    now = utcnow()
    for start in range(0, count, BATCH):
        rows = []
        for n in range(start, min(count, start + BATCH)):
            action, object_type = ACTIONS[n % len(ACTIONS)]
            patient_id = rng.choice(patient_ids) if object_type != "staff" else None
            rows.append({"occurred_at": now - timedelta(seconds=(count - n) * 50),
                         "actor": f"staff:{admin_id}" if n % 3 else "assistant",
                         "action": action, "object_type": object_type,
                         "object_id": str(patient_id or admin_id), "patient_id": patient_id,
                         "details": {}})
        session.execute(insert(AuditEvent), rows)


def build_trust(factory, args) -> tuple[Trust, str]:
    """The synthetic trust; returns what the pages ask about and an admin's API key."""
    rng = random.Random(15)
    with factory() as session:
        admin = staff_service.create_user(session=session, username="bench.admin",
                                          display_name="Bench Admin", password=PASSWORD,
                                          role=Role.ADMIN)
        api_key = staff_service.create_api_key(session=session, user=admin)
        patient_ids, patients = _patients(session, args.patients, rng)
        sites, specialties, strike = _reference(session, start_days=7)
        appointment_ids = _appointments(session, patient_ids, args.appointments, sites,
                                        specialties, strike, rng)
        handover_ids = _handovers(session, args.handovers, patient_ids, appointment_ids, admin.id)
        _audit_events(session, args.audit_events, patient_ids, admin.id, rng)
        campaigns_service.create(session=session, name="Bench campaign", disruption_id=strike.id,
                                 sms_template="{trust_name}: your hospital appointment has "
                                              "moved. Call {bookings_phone}.")
        session.commit()
        # A case with a patient on it (the first one is one: see _handovers).
        handover = session.get(Handover, handover_ids[0])
        patient = patients[patient_ids.index(handover.patient_id)]
    trust = Trust(handover_id=handover.id, family_name=patient["family_name"],
                  date_of_birth=patient["date_of_birth"].isoformat(),
                  nhs_number=patient["nhs_number"],
                  sizes={"patients": args.patients, "postponed appointments": args.appointments,
                         "unresolved handovers": args.handovers,
                         "messages": 2 * args.handovers, "audit events": args.audit_events,
                         "clinics (8 slots each)": 60})
    return trust, api_key


def sign_in(client: httpx.Client) -> None:
    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if form.status_code != 200 or not token:
        raise RuntimeError(f"login form answered {form.status_code}")
    answer = client.post("/console/login", data={"username": "bench.admin", "password": PASSWORD,
                                                 "csrf_token": token.group(1)})
    if answer.status_code != 303 or "session" not in "".join(client.cookies.keys()).lower():
        raise RuntimeError(f"sign-in answered {answer.status_code}")


def pages(trust: Trust) -> list[tuple[str, str]]:
    """(label, path) of every page timed."""
    return [
        ("queue", "/console/queue"),
        # A common name (the patient's may be double-barrelled): many cases match.
        ("queue, urgent + name search",
         f"/console/queue?urgent=1&q={trust.family_name.split('-')[0]}"),
        ("queue rows (live refresh)", "/console/queue/rows"),
        ("handover page", f"/console/handovers/{trust.handover_id}"),
        ("dashboard", "/console/dashboard"),
        ("dashboard, breaches page 3", "/console/dashboard?page=3"),
        ("audit log", "/console/audit"),
        ("audit log, one NHS number", f"/console/audit?nhs_number={trust.nhs_number}"),
        ("campaigns", "/console/campaigns"),
        ("API: patient search", f"/api/v1/patients?family_name={trust.family_name}"
                                f"&date_of_birth={trust.date_of_birth}"),
        ("API: clinics", "/api/v1/clinics"),
    ]


def time_pages(base: str, trust: Trust, api_key: str, requests: int) -> list[dict]:
    results = []
    with httpx.Client(base_url=base, timeout=120) as console, \
            httpx.Client(base_url=base, timeout=120,
                         headers={"Authorization": f"Bearer {api_key}"}) as api:
        sign_in(console)
        for label, path in pages(trust):
            client = api if path.startswith("/api/") else console
            client.get(path)  # warm: caches, templates, the database's buffers
            times, statuses, size = [], set(), 0
            for _ in range(requests):
                started = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                statuses.add(answer.status_code)
                size = len(answer.content)
            results.append({"label": label, "path": path, "times": times,
                            "statuses": sorted(statuses), "kb": size / 1024})
    return results


def report(results: list[dict], trust: Trust, backend: str, requests: int) -> Table:
    table = Table(title=f"Console pages ({backend}, {requests} warm requests each)")
    for column in ("page", "status", "p50", "p95", "max", "size"):
        table.add_column(column, justify="left" if column == "page" else "right")
    for r in results:
        slow = percentile(r["times"], 95) > 1000
        table.add_row(r["label"] + (" [bold red](slow)[/]" if slow else ""),
                      ",".join(map(str, r["statuses"])), f"{percentile(r['times'], 50):.0f} ms",
                      f"{percentile(r['times'], 95):.0f} ms", f"{max(r['times']):.0f} ms",
                      f"{r['kb']:.1f} KB")
    return table


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50_000)
    parser.add_argument("--appointments", type=int, default=5_000,
                        help="postponed by the one disruption")
    parser.add_argument("--handovers", type=int, default=500, help="unresolved")
    parser.add_argument("--audit-events", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    log_dir = Path(tempfile.mkdtemp(prefix="rebook-console-bench-"))
    admin_url = os.environ.get("BENCH_POSTGRES_URL",
                               "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    if args.sqlite:
        database_url = f"sqlite:///{log_dir / 'bench.db'}"
        upgrade(database_url=database_url)
    else:
        database_url = create_database(admin_url)
    engine = make_engine(database_url)
    console = Console()
    try:
        started = time.perf_counter()
        trust, api_key = build_trust(sessionmaker(bind=engine, expire_on_commit=False), args)
        built = time.perf_counter() - started
        engine.dispose()
        port = free_port()
        env = dict(os.environ, DATABASE_URL=database_url, MESSAGING_MODE="sandbox",
                   ENVIRONMENT="test", SECRET_KEY="bench-secret", LOG_LEVEL="WARNING",
                   PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
        env.pop("REDIS_URL", None)
        with running(["serve", "--port", str(port)], env, log_dir / "api.log"):
            wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
            results = time_pages(f"http://127.0.0.1:{port}", trust, api_key, args.requests)
    finally:
        engine.dispose()
        if not args.sqlite:
            drop_database(admin_url, database_url)
    console.print(report(results, trust, "SQLite" if args.sqlite else "PostgreSQL",
                         args.requests))
    console.print("data: " + ", ".join(f"{v:,} {k}" for k, v in trust.sizes.items())
                  + f" (built in {built:.1f} s)")
    failed = [r["label"] for r in results if r["statuses"] != [200]]
    if failed:
        console.print(f"[bold red]not 200:[/] {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
