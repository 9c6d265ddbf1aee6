"""The CSV import, whatever the file: validate every row, then load the good ones in batches.

A first pass reads the whole file and checks every row (no database writes), so a file that
turns out unusable halfway (not UTF-8 at line 90,000) changes nothing, and the error report is
complete before anything is loaded. The second pass stores each good row as one inbound
message (adapter csv, message id a digest of the row's content) and applies its records, a
batch at a time (`inbound.receive_and_apply_batch`: new rows inserted in bulk, changes through
the reconciler), committing every `batch` rows: memory stays bounded, and a
killed import, run again, skips the rows already committed (same digest) and carries on. Re-
importing a file changes nothing; a row whose content changed is a new message, an update.
A dry run does the first pass and classifies the good rows (new, update, unchanged) by reading
only.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import Settings
from api.integration import bulk, inbound
from api.integration.csvfile.cells import RowError, read_rows
from api.integration.models import Adapter, DataKind, InboundStatus, PasInbound, PasLink
from api.integration.records import Record

log = logging.getLogger(__name__)

BATCH = 1000
KEPT_ERRORS = 50  # errors kept for the console; the report file has them all


class CsvFormat(Protocol):
    """One kind of file: its columns and how a row becomes records (main record last)."""

    name: str
    message_type: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    aliases: dict[str, str]
    main_kind: DataKind

    def parse(self, line: int, values: dict[str, str]
              ) -> tuple[list[Record], list[RowError]]: ...


@dataclass
class Summary:
    """What an import did (or, in a dry run, would do), row by row."""

    dry_run: bool
    read: int = 0
    applied: int = 0
    unchanged: int = 0
    ignored: int = 0
    parked: int = 0
    rejected: int = 0
    would_create: int = 0
    would_update: int = 0
    errors: list[RowError] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)
    parked_reasons: Counter = field(default_factory=Counter)
    # Patients (sessions) applied in this run, by PAS id: the same again on their next row
    # (a patient with several appointments, a session's slots) is not applied again.
    _applied: dict[tuple, int] = field(default_factory=dict, repr=False)

    def fresh(self, records: list[Record]) -> list[Record]:
        """The row's records less a patient or session this run applied as it is."""
        kept = []
        for record in records[:-1]:
            key, content = (type(record), record.change.pas_id), hash(repr(record))
            if self._applied.get(key) != content:
                self._applied[key] = content
                kept.append(record)
        return [*kept, records[-1]]

    def reject(self, errors: list[RowError]) -> None:
        self.rejected += 1
        for error in errors:
            self.reasons[f"{error.column or 'row'}: {_general(error.reason)}"] += 1
            if len(self.errors) < KEPT_ERRORS:
                self.errors.append(error)


def _general(reason: str) -> str:
    """A reason without its quoted value, to count alike errors together."""
    return reason.split("' ", 1)[1] if reason.startswith("'") and "' " in reason else reason


def run(*, session: Session, settings: Settings, path: Path, csv_format: CsvFormat,
        dry_run: bool = False, report: Path | None = None, batch: int = BATCH) -> Summary:
    """Validate the whole file, then load (or classify, in a dry run) its good rows."""
    summary = Summary(dry_run=dry_run)
    bad_lines = _validate(path, csv_format, summary, report)
    good: list[tuple[int, dict[str, str]]] = []
    batches = 0
    for line, values in _rows(path, csv_format):
        if line in bad_lines:
            continue
        good.append((line, values))
        if len(good) >= batch:
            _batch(session, settings, csv_format, good, summary)
            good = []
            batches += 1
            bulk.refresh_statistics(session=session, batches_done=batches)
    if good:
        _batch(session, settings, csv_format, good, summary)
    log.info("CSV import done", extra={"file_kind": csv_format.name, "dry_run": dry_run,
                                       "rows": summary.read, "applied": summary.applied,
                                       "rejected": summary.rejected, "parked": summary.parked})
    return summary


def _rows(path: Path, csv_format: CsvFormat):
    return read_rows(path, columns=csv_format.columns, required=csv_format.required,
                     aliases=csv_format.aliases)


def _validate(path: Path, csv_format: CsvFormat, summary: Summary,
              report: Path | None) -> set[int]:
    """The first pass: every row checked, errors written to the report; the bad lines."""
    bad: set[int] = set()
    seen: dict[str, int] = {}  # main PAS id -> its line
    shared: dict[tuple, tuple[int, int]] = {}  # patient/session -> (its line, its content)
    rows = []
    for line, values in _rows(path, csv_format):
        summary.read += 1
        records, errors = csv_format.parse(line, values)
        if not errors:
            errors = _consistency(line, records, seen, shared)
        if errors:
            bad.add(line)
            summary.reject(errors)
            rows.extend(errors if report else ())
    if report is not None:
        _write_report(report, rows)
    return bad


def _consistency(line: int, records: list[Record], seen: dict[str, int],
                 shared: dict[tuple, tuple[int, int]]) -> list[RowError]:
    """A PAS id twice in one file, or one patient (session) described two ways."""
    main = records[-1].change.pas_id
    if main in seen:
        return [RowError(line, "", f"the same id as line {seen[main]}: one row per id")]
    seen[main] = line
    for record in records[:-1]:
        key = (type(record).__name__, record.change.pas_id)
        content = hash(repr(record))
        first = shared.setdefault(key, (line, content))
        if first[1] != content:
            noun = "patient" if key[0] == "PatientRecord" else "session"
            return [RowError(line, "", f"the {noun} {key[1]} is described differently on "
                             f"line {first[0]}")]
    return []


def _write_report(path: Path, errors: list[RowError]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["LINE", "COLUMN", "REASON"])
        writer.writerows([e.line, e.column, e.reason] for e in errors)


def message_id(csv_format: CsvFormat, values: dict[str, str]) -> str:
    """The row's content digest: the same row is the same message, in any file or order."""
    content = "\x1f".join(f"{c}={values.get(c, '')}" for c in sorted(csv_format.columns))
    return f"{csv_format.message_type}:{hashlib.sha256(content.encode()).hexdigest()[:40]}"


def _batch(session: Session, settings: Settings, csv_format: CsvFormat,
           rows: list[tuple[int, dict[str, str]]], summary: Summary) -> None:
    ids = [message_id(csv_format, values) for _, values in rows]
    stored = dict(session.execute(select(PasInbound.message_id, PasInbound.status).where(
        PasInbound.adapter == Adapter.CSV, PasInbound.message_id.in_(ids))).all())
    if summary.dry_run:
        _classify(session, csv_format, rows, ids, stored, summary)
        return
    messages = []
    for (line, values), mid in zip(rows, ids, strict=True):
        if stored.get(mid, InboundStatus.RECEIVED) is not InboundStatus.RECEIVED:
            summary.unchanged += 1
            continue
        records, _ = csv_format.parse(line, values)  # good: checked in the first pass
        messages.append(inbound.Message(message_id=mid, raw=raw_row(csv_format, values),
                                        records=tuple(summary.fresh(records)),
                                        message_type=csv_format.message_type))
    if messages:
        result = inbound.receive_and_apply_batch(session=session, settings=settings,
                                                 adapter=Adapter.CSV, messages=messages)
        summary.applied += result.applied
        summary.ignored += result.ignored
        summary.parked += result.parked
        if result.parked:
            summary.parked_reasons.update(outcome[:120] for outcome in session.scalars(
                select(PasInbound.outcome).where(
                    PasInbound.adapter == Adapter.CSV, PasInbound.status == InboundStatus.PARKED,
                    PasInbound.message_id.in_([m.message_id for m in messages]))))
    session.commit()
    session.expunge_all()


def raw_row(csv_format: CsvFormat, values: dict[str, str]) -> str:
    """The row as stored (JSON by column), for staff and for a replay."""
    return json.dumps({c: values.get(c, "") for c in csv_format.columns if values.get(c)})


def _classify(session: Session, csv_format: CsvFormat, rows, ids: list[str],
              stored: dict, summary: Summary) -> None:
    """A dry run: what each good row would do, from what the database holds."""
    pas_ids = [csv_format.parse(line, values)[0][-1].change.pas_id for line, values in rows]
    linked = set(session.scalars(select(PasLink.pas_id).where(
        PasLink.kind == csv_format.main_kind, PasLink.pas_id.in_(pas_ids))))
    for mid, pas_id in zip(ids, pas_ids, strict=True):
        if stored.get(mid, InboundStatus.RECEIVED) is not InboundStatus.RECEIVED:
            summary.unchanged += 1
        elif pas_id in linked:
            summary.would_update += 1
        else:
            summary.would_create += 1
