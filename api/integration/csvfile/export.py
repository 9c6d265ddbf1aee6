"""The database's trust as the two CSV files a PAS would give Rebook: the waiting-list extract
and the capacity file (the demo trust's round trip through this adapter)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from api.config import Settings
from api.integration import export
from api.integration.csvfile import capacity, waiting_list
from api.integration.models import Adapter
from api.integration.records import SessionRecord

WAITING_LIST_FILE = "waiting_list.csv"
CAPACITY_FILE = "capacity.csv"


@dataclass(frozen=True)
class Exported:
    waiting_list: Path
    capacity: Path
    appointments: int
    slots: int


def write_trust(*, session: Session, settings: Settings, out_dir: Path) -> Exported:
    """Write waiting_list.csv and capacity.csv for the database's trust into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    slots = write_capacity(session=session, settings=settings, path=out_dir / CAPACITY_FILE)
    appointments = write_waiting_list(session=session, settings=settings,
                                      path=out_dir / WAITING_LIST_FILE)
    return Exported(out_dir / WAITING_LIST_FILE, out_dir / CAPACITY_FILE, appointments, slots)


def write_capacity(*, session: Session, settings: Settings, path: Path) -> int:
    """Every slot with its session's columns; the number of rows."""
    sessions: dict[str, SessionRecord] = {}
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=capacity.COLUMNS)
        writer.writeheader()
        for record in export.capacity(session=session, adapter=Adapter.CSV):
            if isinstance(record, SessionRecord):
                sessions[record.change.pas_id] = record
                continue
            writer.writerow(capacity.row_for(sessions.get(record.session_pas_id), record,
                                             settings))
            count += 1
    return count


def write_waiting_list(*, session: Session, settings: Settings, path: Path) -> int:
    """Every appointment with its patient's columns; the number of rows."""
    patients = {p.change.pas_id: p
                for p in export.patients(session=session, adapter=Adapter.CSV)}
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=waiting_list.COLUMNS)
        writer.writeheader()
        for record in export.appointments(session=session, adapter=Adapter.CSV):
            writer.writerow(waiting_list.row_for(patients[record.patient_pas_id], record,
                                                 settings))
            count += 1
    return count
