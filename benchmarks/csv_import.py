"""The CSV adapter at trust scale: a capacity file and a waiting-list extract imported into a
fresh database, timed, with the process's peak memory.

    .venv/bin/python benchmarks/csv_import.py [--appointments 100000] [--slots 250000]
        [--database-url URL]

The files are synthetic and deterministic (the demo trust's codes; one patient per
appointment; 24 slots per clinic session). Without --database-url a throw-away SQLite file is
used; a PostgreSQL URL must name an empty database. Target (issue 16): 100,000 appointments and
250,000 slots in under 5 minutes on 2 cores, under 1 GB.
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session  # noqa: E402

from api.config import Settings  # noqa: E402
from api.db import make_engine  # noqa: E402
from api.demo import service as demo_service  # noqa: E402
from api.integration.csvfile import capacity, waiting_list  # noqa: E402
from api.patients.identifiers import nhs_check_digit  # noqa: E402
from api.schema import upgrade  # noqa: E402

TODAY = date(2026, 11, 30)
SPECIALTIES = ("CARD", "DERM", "GAST", "RESP", "RHEU")
SITES = ("NTH-RNI", "NTH-NGH", "NTH-MCH")


def nhs_number(n: int) -> str:
    while True:
        first_nine = f"9{n % 100_000_000:08d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            return f"{first_nine}{check}"
        n += 1


def write_capacity(path: Path, slots: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=capacity.COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for i in range(slots):
            session, k = divmod(i, 24)
            day = (TODAY + timedelta(days=7 + session // 60)).isoformat()
            minutes = 8 * 60 + 20 * k
            writer.writerow({
                "SESSION_ID": f"C{session}", "SESSION_START": f"{day} 08:00",
                "SESSION_END": f"{day} 16:00", "LOCATION": f"Room {session % 60}",
                "SLOT_ID": f"S{i}", "SITE_CODE": SITES[session % 3],
                "SPECIALTY_CODE": SPECIALTIES[session % 5],
                "SLOT_START": f"{day} {minutes // 60:02d}:{minutes % 60:02d}",
                "DURATION_MINUTES": "20"})


def write_waiting_list(path: Path, appointments: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=waiting_list.COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for i in range(appointments):
            writer.writerow({
                "LOCAL_PATIENT_IDENTIFIER": f"H{i}", "NHS_NUMBER": nhs_number(i * 11),
                "PATIENT_GIVEN_NAME": "Alex", "PATIENT_FAMILY_NAME": f"Bench{i}",
                "PERSON_BIRTH_DATE": "1960-01-01", "MOBILE": f"07700900{i % 1000:03d}",
                "APPOINTMENT_ID": f"A{i}", "STATUS": "postponed",
                "SPECIALTY_CODE": SPECIALTIES[i % 5], "PRIORITY_TYPE_CODE": "12"[i % 2],
                "REFERRAL_REQUEST_RECEIVED_DATE": "2026-08-03", "DUE_DATE": "2026-12-07"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--slots", type=int, default=250_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="rebook-csv-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    upgrade(database_url=url)
    session = Session(make_engine(url), expire_on_commit=False)
    demo_service.seed_reference(session=session, today=TODAY)
    session.commit()
    write_capacity(folder / "capacity.csv", args.slots)
    write_waiting_list(folder / "waiting_list.csv", args.appointments)
    settings = Settings(pas_mode="csv")
    total = 0.0
    for name, module, file in (("capacity", capacity, "capacity.csv"),
                               ("waiting list", waiting_list, "waiting_list.csv")):
        started = time.perf_counter()
        summary = module.import_file(session=session, settings=settings, path=folder / file)
        took = time.perf_counter() - started
        total += took
        print(f"{name}: {summary.read:,} rows, {summary.applied:,} applied, "
              f"{summary.rejected} rejected, {summary.parked} parked in {took:.1f} s "
              f"({summary.read / took:,.0f} rows/s)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"total {total:.1f} s (target 300 s), peak memory {peak:.0f} MB (target 1024 MB)")


if __name__ == "__main__":
    main()
