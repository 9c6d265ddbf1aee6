"""Applying many records at once: a trust's first load (100,000 appointments, 250,000 slots).

Most records of a full load are new: a slot, session, patient or appointment Rebook has never
linked. Those go in with one bulk INSERT per kind and batch (RETURNING their ids in order),
applying the same rules as `Reconciler` for a new row (codes must exist, a new patient needs
a valid NHS number and a date of birth that no local patient holds, a booked appointment's
slot stops being free). Everything else (an update, a patient Rebook already has, a slot
holding offers, a second record for the same PAS id in the batch) goes through the
`Reconciler` one record at a time, so the rules for changes live in one place.

Records are applied kind by kind (sessions, slots, patients, merges, appointments), each kind
in the order given: an appointment finds the patient and slot of its own batch.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import JSON, func, insert, select, text, update
from sqlalchemy.orm import Session

from api.appointments.models import Appointment, AppointmentEvent, AppointmentStatus
from api.integration.models import DataKind, InboundStatus, PasLink
from api.integration.outcome import (
    ACTOR,
    KIND_OF,
    NEW_STATUS,
    SLOT_STATUS,
    Outcome,
    Parked,
    valid_nhs_number,
)
from api.integration.reconcile import Reconciler
from api.integration.records import (
    AppointmentRecord,
    PatientRecord,
    Record,
    SessionRecord,
    SlotRecord,
)
from api.patients.models import Patient
from api.reference.models import Clinician, Site, Specialty
from api.scheduling.models import ClinicSession, Offer, OfferStatus, Slot, SlotStatus

ORDER = (DataKind.SESSION, DataKind.SLOT, DataKind.PATIENT, DataKind.APPOINTMENT)
_CHUNK = 900  # stays under SQLite's bound-parameter limit in IN (...) lists


@dataclass
class _New:
    """A record taking the bulk path: its place in the batch and the row to insert."""

    index: int
    record: Record
    row: dict


class BulkApplier:
    """Applies a batch of records; `apply` returns, per record, an Outcome or a Parked."""

    def __init__(self, *, reconciler: Reconciler):
        self.reconciler = reconciler
        self.session: Session = reconciler.session
        self.settings = reconciler.settings

    def apply(self, records: Sequence[Record],
              message_of: Sequence[int] | None = None) -> list[Outcome | Parked]:
        """Apply the records; `message_of[i]` is the message record i came in. Once a record
        of a message is parked, its later records are not applied (a CSV row whose patient
        does not match must not book the appointment onto the patient Rebook holds)."""
        message_of = message_of if message_of is not None else range(len(records))
        results: list[Outcome | Parked | None] = [None] * len(records)
        by_kind: dict[DataKind, list[int]] = defaultdict(list)
        for index, record in enumerate(records):
            ignored = self.reconciler.not_the_source(record)
            if ignored is not None:
                results[index] = ignored
            else:
                by_kind[KIND_OF[type(record)]].append(index)
        parked_messages: set[int] = set()
        for kind in ORDER:
            indexes = []
            for index in by_kind.get(kind, []):
                if message_of[index] in parked_messages:
                    results[index] = Outcome(InboundStatus.IGNORED, "not applied: an earlier "
                                             "record of its message was parked")
                else:
                    indexes.append(index)
            if indexes:
                self._apply_kind(kind, records, indexes, results)
            parked_messages.update(message_of[i] for i in indexes
                                   if isinstance(results[i], Parked))
        return results  # type: ignore[return-value]

    # --- one kind --------------------------------------------------------------------------

    def _apply_kind(self, kind: DataKind, records: Sequence[Record], indexes: list[int],
                    results: list) -> None:
        linked = self._linked(kind, [records[i].change.pas_id for i in indexes])
        fresh: list[int] = []
        slow: list[int] = []
        seen: set[str] = set()
        for index in indexes:
            pas_id = records[index].change.pas_id
            # A MergeRecord is always a change; a PAS id seen twice in a batch: the second
            # is an update of the first.
            if pas_id in linked or pas_id in seen or KIND_OF[type(records[index])] is not kind \
                    or not isinstance(records[index], (SessionRecord, SlotRecord,
                                                       PatientRecord, AppointmentRecord)):
                slow.append(index)
            else:
                fresh.append(index)
            seen.add(pas_id)
        make = {DataKind.SESSION: self._new_sessions, DataKind.SLOT: self._new_slots,
                DataKind.PATIENT: self._new_patients,
                DataKind.APPOINTMENT: self._new_appointments}[kind]
        for start in range(0, len(fresh), _CHUNK):
            chunk = fresh[start:start + _CHUNK]
            slow += make([records[i] for i in chunk], chunk, results)
        for index in sorted(slow):
            try:
                results[index] = self.reconciler.apply(records[index])
            except Parked as parked:
                results[index] = parked

    def _linked(self, kind: DataKind, pas_ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(pas_ids), _CHUNK):
            found.update(self.session.scalars(select(PasLink.pas_id).where(
                PasLink.kind == kind, PasLink.pas_id.in_(pas_ids[start:start + _CHUNK]))))
        return found

    def _code(self, model, code: str | None, noun: str, *, required: bool = True) -> int | None:
        return self.reconciler.code(model, code, noun, required=required)

    def _rows(self, records: list, indexes: list[int], results: list,
              build) -> list[_New]:
        """Each record's row, or its Parked in `results` when a rule refuses it."""
        rows = []
        for record, index in zip(records, indexes, strict=True):
            try:
                rows.append(_New(index, record, build(record)))
            except Parked as parked:
                results[index] = parked
        return rows

    def _insert(self, model, kind: DataKind, new: list[_New], results: list,
                detail: str) -> list[int]:
        """Insert the rows and their links; the local ids, in order."""
        if not new:
            return []
        ids = insert_returning_ids(self.session, model, [n.row for n in new])
        insert_values(self.session, PasLink, [
            {"kind": kind, "pas_id": n.record.change.pas_id, "local_id": local_id,
             "adapter": n.record.change.adapter, "event_at": n.record.change.event_at,
             "version": n.record.change.version, "updated_at": self.reconciler.now}
            for n, local_id in zip(new, ids, strict=True)])
        for n, local_id in zip(new, ids, strict=True):
            results[n.index] = Outcome(InboundStatus.APPLIED, detail, local_id=local_id,
                                       patient_id=local_id if kind is DataKind.PATIENT else None,
                                       appointment_id=(local_id if kind is DataKind.APPOINTMENT
                                                       else None))
        return ids

    # --- capacity ---------------------------------------------------------------------------

    def _new_sessions(self, records: list[SessionRecord], indexes: list[int],
                      results: list) -> list[int]:
        def build(r: SessionRecord) -> dict:
            return dict(kind=r.kind, site_id=self._code(Site, r.site_code, "site"),
                        specialty_id=self._code(Specialty, r.specialty_code, "specialty"),
                        clinician_id=self._code(Clinician, r.clinician_code, "clinician",
                                                required=False),
                        location=r.location[:80], starts_at=r.starts_at, ends_at=r.ends_at,
                        short_notice=r.short_notice)
        self._insert(ClinicSession, DataKind.SESSION, self._rows(records, indexes, results, build),
                     results, "clinic session created")
        return []

    def _new_slots(self, records: list[SlotRecord], indexes: list[int],
                   results: list) -> list[int]:
        sessions = self._locals(DataKind.SESSION, [r.session_pas_id for r in records
                                                   if r.session_pas_id])

        def build(r: SlotRecord) -> dict:
            session_id = sessions.get(r.session_pas_id) if r.session_pas_id else None
            if r.session_pas_id and session_id is None:
                raise Parked("unknown_session", f"slot {r.change.pas_id} is in schedule "
                             f"{r.session_pas_id}, which Rebook has not received")
            return dict(session_id=session_id, site_id=self._code(Site, r.site_code, "site"),
                        specialty_id=self._code(Specialty, r.specialty_code, "specialty"),
                        clinician_id=self._code(Clinician, r.clinician_code, "clinician",
                                                required=False),
                        type=r.type, start_at=r.start_at, duration_minutes=r.duration_minutes,
                        status=SLOT_STATUS[r.status])
        self._insert(Slot, DataKind.SLOT, self._rows(records, indexes, results, build), results,
                     "slot created")
        return []

    def _locals(self, kind: DataKind, pas_ids: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        unique = sorted(set(pas_ids))
        for start in range(0, len(unique), _CHUNK):
            found.update(self.session.execute(select(PasLink.pas_id, PasLink.local_id).where(
                PasLink.kind == kind, PasLink.pas_id.in_(unique[start:start + _CHUNK]))).all())
        return found

    # --- patients -------------------------------------------------------------------------

    def _new_patients(self, records: list[PatientRecord], indexes: list[int],
                      results: list) -> list[int]:
        numbers = {r.change.pas_id: valid_nhs_number(r.nhs_number) for r in records}
        known = set(self.session.scalars(select(Patient.nhs_number).where(
            Patient.nhs_number.in_([n for n in numbers.values() if n]))))
        slow, new, taken = [], [], set()
        for record, index in zip(records, indexes, strict=True):
            number = numbers[record.change.pas_id]
            if number is None or record.date_of_birth is None or number in known \
                    or number in taken:
                slow.append(index)  # refused or adopted with the reconciler's checks
                continue
            taken.add(number)
            new.append(_New(index, record, self.reconciler.patient_fields(record, number)))
        self._insert(Patient, DataKind.PATIENT, new, results, "patient created")
        return slow

    # --- appointments ---------------------------------------------------------------------

    def _new_appointments(self, records: list[AppointmentRecord], indexes: list[int],
                          results: list) -> list[int]:
        patients = self._locals(DataKind.PATIENT, [r.patient_pas_id for r in records])
        slots = self._locals(DataKind.SLOT, [r.slot_pas_id for r in records if r.slot_pas_id])
        busy = self._slots_not_simply_free(list(slots.values()))
        slow, new, slot_updates = [], [], []
        for record, index in zip(records, indexes, strict=True):
            status = NEW_STATUS[record.status]
            patient_id = patients.get(record.patient_pas_id)
            slot_id = slots.get(record.slot_pas_id) if record.slot_pas_id else None
            needs_slot = status in (AppointmentStatus.BOOKED, AppointmentStatus.ATTENDED)
            if patient_id is None or (needs_slot and (slot_id is None or slot_id in busy)):
                slow.append(index)  # found by NHS number, a slot by time, offers to withdraw
                continue
            try:
                row = self.reconciler.appointment_fields(record, patient_id, status)
            except Parked as parked:
                results[index] = parked
                continue
            if needs_slot:
                row["slot_id"] = slot_id
                slot_updates.append(slot_id)
                busy.add(slot_id)  # two bookings of one slot in a batch: the second is slow
            new.append(_New(index, record, row))
        for start in range(0, len(slot_updates), _CHUNK):
            self.session.execute(
                update(Slot).where(Slot.id.in_(slot_updates[start:start + _CHUNK]))
                .values(status=SlotStatus.BOOKED, version=Slot.version + 1)
                .execution_options(synchronize_session=False))
        ids = self._insert(Appointment, DataKind.APPOINTMENT, new, results, "appointment created")
        if ids:
            insert_values(self.session, AppointmentEvent, [
                {"appointment_id": local_id, "from_status": None, "to_status": n.row["status"],
                 "reason": f"from the PAS ({n.record.status.value})", "actor": ACTOR,
                 "slot_id": n.row.get("slot_id"), "details": {},
                 "occurred_at": self.reconciler.now}
                for n, local_id in zip(new, ids, strict=True)])
        return slow

    def _slots_not_simply_free(self, slot_ids: list[int]) -> set[int]:
        """Slots a new booking cannot just take: held for an offer, or another appointment's.
        (A slot the PAS sent as busy, with no appointment yet, is this booking's own.)"""
        found: set[int] = set()
        for start in range(0, len(slot_ids), _CHUNK):
            chunk = slot_ids[start:start + _CHUNK]
            found.update(self.session.scalars(select(Slot.id).where(
                Slot.id.in_(chunk), Slot.status == SlotStatus.HELD)))
            found.update(self.session.scalars(select(Offer.slot_id).where(
                Offer.slot_id.in_(chunk), Offer.status == OfferStatus.HELD)))
            found.update(self.session.scalars(select(Appointment.slot_id).where(
                Appointment.slot_id.in_(chunk))))
        return found


def insert_values(session: Session, model, rows: list[dict]) -> None:
    """Insert rows in bulk: COPY on PostgreSQL (one stream, no statement per row), one
    executemany on SQLite (its C loop). A key some rows lack is None in them (a booked
    appointment's slot, a waiting one's none); columns no row names take their defaults."""
    if not rows:
        return
    table = model.__table__
    names = list(dict.fromkeys(key for row in rows for key in row))
    for column in table.columns:  # Python-side defaults, as an INSERT would apply them
        if column.name not in names and column.default is not None and not column.primary_key:
            names.append(column.name)
    values = [[_value(table.c[name], row) for name in names] for row in rows]
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # COPY takes text: JSON serialised here, other types through their bind processors
        # (enums to their values, UTC datetimes checked).
        processors = [json.dumps if isinstance(table.c[name].type, JSON)
                      else table.c[name].type.bind_processor(connection.dialect)
                      for name in names]
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in values:
                copy.write_row([p(v) if p and v is not None else v
                                for p, v in zip(processors, row, strict=True)])
        return
    session.execute(insert(table), [dict(zip(names, row, strict=True)) for row in values])


def _value(column, row: dict):
    if column.name in row:
        return row[column.name]
    default = column.default
    if default is None:
        return None
    return default.arg({}) if default.is_callable else default.arg


def insert_returning_ids(session: Session, model, rows: list[dict]) -> list[int]:
    """Insert rows and return their new ids in the rows' order. The ids are taken first: on
    PostgreSQL from the table's sequence, on SQLite the next after the largest, which no
    other writer can take meanwhile (SQLite admits one writer, and this transaction is it)."""
    if not rows:
        return []
    session.flush()
    table = model.__table__.name
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(text(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
            "FROM generate_series(1, :n)"), {"n": len(rows)}))
    else:
        first = (session.scalar(select(func.max(model.id))) or 0) + 1
        ids = list(range(first, first + len(rows)))
    insert_values(session, model, [row | {"id": row_id} for row, row_id in zip(
        rows, ids, strict=True)])
    return ids


# The tables a load grows and looks rows up in, a batch at a time.
_GROWING = ("pas_inbound", "pas_link", "clinic_session", "slot", "patient", "appointment")


def refresh_statistics(*, session: Session, batches_done: int) -> None:
    """PostgreSQL plans a load's look-ups from table statistics taken when the tables were
    small (sequential scans) until autovacuum catches up: each batch then takes longer than
    the one before. Refreshing them each time the load doubles (1, 2, 4, 8... batches in)
    keeps the indexes in use. Commits (ANALYZE sees committed rows)."""
    if batches_done & (batches_done - 1) or session.get_bind().dialect.name != "postgresql":
        return
    session.commit()
    session.execute(text(f"ANALYZE {', '.join(_GROWING)}"))
    session.commit()
