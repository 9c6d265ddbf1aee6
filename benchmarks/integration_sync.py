"""A trust's whole PAS load through each adapter, timed, with peak memory and the lag from a
PAS cancellation to the withdrawn offer.

    .venv/bin/python benchmarks/integration_sync.py [--appointments 100000] [--slots 250000]
        [--adapters csv,fhir,hl7] [--hl7-appointments N] [--postgres] [--cancels 50]

For each adapter a fresh database (SQLite file, or with --postgres a new database on
BENCH_POSTGRES_URL) holds only the trust's reference data (`rebook demo reference`), and the
synthetic trust of `benchmarks/pas_trust.py` arrives the way that adapter brings it:
- csv: the capacity file and the waiting-list extract, imported by the CSV adapter;
- fhir: Schedules, Slots, Patients and Appointments served by the fake FHIR server on
  loopback (tests/fakes/fhir_server.py), pulled by the FHIR sync (paged, validated with R4B);
- hl7: ADT^A28 for each patient and an SIU for each appointment, sent over MLLP to the
  listener (`rebook integration hl7 listen`), one after another as a PAS sends them. HL7
  carries no capacity, so this leg loads appointments only (--hl7-appointments, default all).
Each load runs in its own process, whose peak resident memory is reported. Then the lag:
SIU^S15 cancellations sent one at a time for appointments holding offers, timed from sending
to the listener's AA, which it gives after committing the withdrawal (benchmarks/
hl7_cancel_latency.py measures the same on the demo trust).

Targets (issue 16): a full FHIR or CSV load under 5 minutes on 2 cores and under 1 GB; an
SIU cancel withdraws its offers in under 2 s p95.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from api.config import Settings  # noqa: E402
from api.db import make_engine  # noqa: E402
from api.demo import service as demo_service  # noqa: E402
from api.integration.models import Adapter, DataKind, PasLink  # noqa: E402
from api.schema import upgrade  # noqa: E402
from benchmarks.pas_trust import TODAY, Trust, synthetic_trust  # noqa: E402

console = Console(width=110)
PAGE = 500


# --- databases ------------------------------------------------------------------------------


def fresh_database(folder: Path, name: str, postgres: bool) -> str:
    """A migrated database holding the demo trust's codes and strike only."""
    if postgres:
        admin_url = os.environ.get("BENCH_POSTGRES_URL",
                                   "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        database = f"rebook_pas_{name}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        url = make_url(admin_url).set(database=database).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{folder / f'{name}.db'}"
    upgrade(database_url=url)
    engine = make_engine(url)
    with Session(engine) as session:
        demo_service.seed_reference(session=session, today=TODAY)
        session.commit()
    engine.dispose()
    return url


def counts(url: str) -> dict[str, int]:
    from api.appointments.models import Appointment
    from api.patients.models import Patient
    from api.scheduling.models import Slot

    engine = make_engine(url)
    with Session(engine) as session:
        found = {name: session.scalar(select(func.count()).select_from(model))
                 for name, model in (("patients", Patient), ("appointments", Appointment),
                                     ("slots", Slot))}
    engine.dispose()
    return found


# --- the adapters' inputs -------------------------------------------------------------------


def write_csv_files(trust: Trust, folder: Path) -> tuple[Path, Path]:
    from api.integration.csvfile import capacity, waiting_list

    settings = Settings(pas_mode="csv")
    sessions = {s.change.pas_id: s for s in trust.sessions}
    patients = {p.change.pas_id: p for p in trust.patients}
    capacity_file, waiting_file = folder / "capacity.csv", folder / "waiting_list.csv"
    with capacity_file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=capacity.COLUMNS)
        writer.writeheader()
        for slot in trust.slots:
            writer.writerow(capacity.row_for(sessions[slot.session_pas_id], slot, settings))
    with waiting_file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=waiting_list.COLUMNS)
        writer.writeheader()
        for appointment in trust.appointments:
            writer.writerow(waiting_list.row_for(patients[appointment.patient_pas_id],
                                                 appointment, settings))
    return capacity_file, waiting_file


def fhir_state(trust: Trust):
    from api.integration.fhir import mapping
    from tests.fakes.fhir_server import FakeFhirState

    state = FakeFhirState()
    for clinic in trust.sessions:
        state.store(mapping.schedule_resource(clinic))
    for slot in trust.slots:
        state.store(mapping.slot_resource(slot, slot.session_pas_id))
    for patient in trust.patients:
        state.store(mapping.patient_resource(patient))
    for appointment in trust.appointments:
        state.store(mapping.appointment_resource(appointment))
    return state


def hl7_feed(trust: Trust, appointments: int) -> list[str]:
    from api.integration.hl7 import export as hl7_export

    settings = Settings(pas_mode="hl7")
    wanted = trust.appointments[:appointments]
    patients = {p.change.pas_id: p for p in trust.patients}
    needed = dict.fromkeys(a.patient_pas_id for a in wanted)
    return ([hl7_export.adt(patients[pas_id], settings=settings) for pas_id in needed]
            + [hl7_export.siu(a, patients[a.patient_pas_id], settings=settings)
               for a in wanted])


# --- one load, in its own process -----------------------------------------------------------


def run_leg(name: str, url: str, *args: str) -> dict:
    """Run a load in a child process (this script with --leg); its figures."""
    done = subprocess.run([sys.executable, __file__, "--leg", name, "--url", url, *args],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the {name} load failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def leg(name: str, url: str, extra: list[str]) -> None:
    """In the child: one adapter's load; prints its figures as one JSON line."""
    engine = make_engine(url)
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        if name == "csv":
            from api.integration.csvfile import capacity, waiting_list

            settings = Settings(pas_mode="csv")
            for module, path in ((capacity, extra[0]), (waiting_list, extra[1])):
                summary = module.import_file(session=session, settings=settings,
                                             path=Path(path))
                if summary.rejected or summary.parked:
                    raise SystemExit(f"{path}: {summary.rejected} rejected, "
                                     f"{summary.parked} parked")
        else:
            from api.integration.fhir.client import FhirClient
            from api.integration.fhir.sync import sync_all

            settings = Settings(pas_mode="fhir", fhir_base_url=extra[0], fhir_page_size=PAGE)
            with FhirClient(settings=settings) as client:
                results = sync_all(session=session, settings=settings, client=client)
            failed = [r for r in results if r.error or r.parked]
            if failed:
                raise SystemExit(f"FHIR sync: {failed}")
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(os.getpid())}))


# --- HL7: the listener as a process, the feed sent over MLLP ---------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_listener(url: str, pas_mode: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, PAS_MODE=pas_mode, LOG_LEVEL="WARNING",
               PAS_SOURCE_APPOINTMENTS="hl7", PAS_SOURCE_PATIENTS="hl7")
    listener = subprocess.Popen([sys.executable, "-m", "api", "integration", "hl7", "listen",
                                 "--port", str(port)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return listener, port
        except OSError:
            time.sleep(0.1)
    listener.kill()
    raise SystemExit("the HL7 listener did not start")


def peak_mb(pid: int) -> float:
    """A process's peak resident memory (VmHWM: this program's own, where getrusage's maxrss
    would count the parent's pages at the fork before exec)."""
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def hl7_load(url: str, messages: list[str]) -> dict:
    from api.integration.hl7 import mllp

    listener, port = start_listener(url, "hl7")
    try:
        started = time.perf_counter()
        answers = asyncio.run(mllp.send_all(host="127.0.0.1", port=port, messages=messages,
                                            timeout=30))
        seconds = time.perf_counter() - started
        peak = peak_mb(listener.pid)
    finally:
        stop(listener)
    refused = [a for a in answers if "|AA|" not in a.replace("\r", "|")]
    if refused:
        raise SystemExit(f"{len(refused)} HL7 messages not accepted, e.g. {refused[0][:200]}")
    return {"seconds": seconds, "peak_mb": peak}


def cancel_lag(url: str, trust: Trust, cancels: int) -> list[float]:
    """Hold offers for postponed appointments, then time an SIU^S15 for each until its AA."""
    from api.appointments.models import Appointment, AppointmentStatus
    from api.integration.hl7 import export as hl7_export
    from api.integration.hl7 import mllp
    from api.integration.records import Change, PasAppointmentStatus
    from api.scheduling import service as scheduling_service

    engine = make_engine(url)
    held: list[str] = []
    with Session(engine) as session:
        links = dict(session.execute(select(PasLink.local_id, PasLink.pas_id).where(
            PasLink.kind == DataKind.APPOINTMENT)).all())
        waiting = session.scalars(select(Appointment.id).where(
            Appointment.status == AppointmentStatus.POSTPONED).order_by(Appointment.id)
            .limit(cancels * 3))
        for appointment_id in waiting:
            if len(held) < cancels and scheduling_service.find_offers(
                    session=session, appointment_id=appointment_id, limit=2):
                held.append(links[appointment_id])
        session.commit()
    engine.dispose()
    by_id = {a.change.pas_id: a for a in trust.appointments}
    patients = {p.change.pas_id: p for p in trust.patients}
    settings = Settings(pas_mode="hl7")
    listener, port = start_listener(url, "hl7,csv,fhir")
    lags = []
    try:
        for pas_id in held:
            record = by_id[pas_id]
            cancel = replace(record, status=PasAppointmentStatus.CANCELLED,
                             change=Change(Adapter.HL7, pas_id))
            message = hl7_export.siu(cancel, patients[record.patient_pas_id], settings=settings)
            started = time.perf_counter()
            answer = asyncio.run(mllp.exchange_once(host="127.0.0.1", port=port,
                                                    message=message, timeout=30))
            lags.append(time.perf_counter() - started)
            if "|AA|" not in answer.replace("\r", "|"):
                raise SystemExit(f"the cancel was not accepted: {answer[:200]}")
    finally:
        stop(listener)
    return lags


# --- the run --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--slots", type=int, default=250_000)
    parser.add_argument("--adapters", default="csv,fhir,hl7")
    parser.add_argument("--hl7-appointments", type=int, default=None)
    parser.add_argument("--cancels", type=int, default=50)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--leg", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.leg:
        leg(args.leg, args.url, args.extra)
        return 0
    folder = Path(tempfile.mkdtemp(prefix="rebook-pas-bench-"))
    adapters = [a.strip() for a in args.adapters.split(",") if a.strip()]
    rows = []
    lags: list[float] = []
    for name in adapters:
        trust = synthetic_trust(appointments=args.appointments, slots=args.slots,
                                adapter=Adapter(name))
        url = fresh_database(folder, name, args.postgres)
        console.print(f"[bold]{name}[/bold]: preparing the PAS's side ...")
        if name == "csv":
            capacity_file, waiting_file = write_csv_files(trust, folder)
            figures = run_leg("csv", url, str(capacity_file), str(waiting_file))
            records = len(trust.slots) + len(trust.appointments)
        elif name == "fhir":
            from tests.fakes.fhir_server import FakeFhirServer

            with FakeFhirServer(fhir_state(trust)) as server:
                figures = run_leg("fhir", url, server.url)
            records = (len(trust.sessions) + len(trust.slots) + len(trust.patients)
                       + len(trust.appointments))
        else:
            messages = hl7_feed(trust, args.hl7_appointments or args.appointments)
            figures = hl7_load(url, messages)
            records = len(messages)
        loaded = counts(url)
        rows.append((name, records, figures, loaded))
        if name == "csv" and "hl7" in adapters:
            lags = cancel_lag(url, trust, args.cancels)
    table = Table(title=f"PAS loads ({'PostgreSQL' if args.postgres else 'SQLite'}, "
                        f"{os.cpu_count()} cores)")
    for column in ("adapter", "records in", "seconds", "records/s", "peak MB", "patients",
                   "appointments", "slots"):
        table.add_column(column, justify="right")
    for name, records, figures, loaded in rows:
        table.add_row(name, f"{records:,}", f"{figures['seconds']:.0f}",
                      f"{records / figures['seconds']:,.0f}", f"{figures['peak_mb']:.0f}",
                      f"{loaded['patients']:,}", f"{loaded['appointments']:,}",
                      f"{loaded['slots']:,}")
    console.print(table)
    if lags:
        quantiles = statistics.quantiles(lags, n=20, method="inclusive")
        console.print(f"SIU^S15 to withdrawn offers ({len(lags)} cancels): p50 "
                      f"{statistics.median(lags) * 1000:.0f} ms, p95 {quantiles[18] * 1000:.0f}"
                      f" ms, max {max(lags) * 1000:.0f} ms (target p95 < 2,000 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
