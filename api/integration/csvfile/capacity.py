"""The capacity file: one row per slot, with its clinic session's columns repeated on each.

Each row becomes a `SessionRecord` (when it has a SESSION_ID) and a `SlotRecord`
(docs/integration.md lists the columns). A slot outside any session leaves the session columns
empty. `import_file` validates and loads a file through the generic CSV import (`load`);
`row_for` writes a row back (the demo trust's export).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import Settings
from api.integration.csvfile import load
from api.integration.csvfile.cells import Cells, RowError, local_moment, yes_no
from api.integration.models import Adapter, DataKind
from api.integration.records import Change, PasSlotStatus, Record, SessionRecord, SlotRecord
from api.reference.models import AppointmentType, Clinician, Site, Specialty
from api.scheduling.models import SessionKind

SESSION_COLUMNS = ("SESSION_ID", "SESSION_KIND", "SESSION_CLINICIAN_CODE", "LOCATION",
                   "SESSION_START", "SESSION_END", "SHORT_NOTICE")
SLOT_COLUMNS = ("SLOT_ID", "SITE_CODE", "SPECIALTY_CODE", "CLINICIAN_CODE", "SLOT_START",
                "DURATION_MINUTES", "APPOINTMENT_TYPE", "SLOT_STATUS")
COLUMNS = SESSION_COLUMNS + SLOT_COLUMNS
REQUIRED = ("SLOT_ID", "SITE_CODE", "SPECIALTY_CODE", "SLOT_START", "DURATION_MINUTES")
ALIASES = {"TREATMENT_FUNCTION_CODE": "SPECIALTY_CODE"}
KINDS = {"clinic": SessionKind.CLINIC, "theatre_list": SessionKind.THEATRE_LIST,
         "theatre": SessionKind.THEATRE_LIST}
SLOT_STATUSES = {"free": PasSlotStatus.FREE, "booked": PasSlotStatus.BUSY,
                 "busy": PasSlotStatus.BUSY, "blocked": PasSlotStatus.BLOCKED}
STATUS_WORDS = {PasSlotStatus.FREE: "free", PasSlotStatus.BUSY: "booked",
                PasSlotStatus.BLOCKED: "blocked"}
TYPES = {t.value: t for t in AppointmentType}


class CapacityFormat:
    """The capacity file for the generic import (`load.run`)."""

    name = "capacity"
    message_type = "csv:capacity"
    columns, required, aliases = COLUMNS, REQUIRED, ALIASES
    main_kind = DataKind.SLOT

    def __init__(self, *, session: Session, settings: Settings):
        self.settings = settings
        self.sites = set(session.scalars(select(Site.code)))
        self.specialties = set(session.scalars(select(Specialty.code)))
        self.clinicians = set(session.scalars(select(Clinician.code)))

    def parse(self, line: int, values: dict[str, str]) -> tuple[list[Record], list[RowError]]:
        """A row's session (if any) and slot records, or the row's errors."""
        c = Cells(line, values, settings=self.settings)
        site = c.code("SITE_CODE", self.sites, "site", required=True)
        specialty = c.code("SPECIALTY_CODE", self.specialties, "specialty", required=True)
        slot = SlotRecord(
            change=Change(Adapter.CSV, c.text("SLOT_ID", required=True, max_length=100)),
            site_code=site, specialty_code=specialty,
            type=c.choice("APPOINTMENT_TYPE", TYPES, default=AppointmentType.OUTPATIENT),
            start_at=c.moment("SLOT_START", required=True),
            duration_minutes=c.integer("DURATION_MINUTES", default=0, low=5, high=600),
            status=c.choice("SLOT_STATUS", SLOT_STATUSES, default=PasSlotStatus.FREE),
            session_pas_id=c.text("SESSION_ID", max_length=100) or None,
            clinician_code=c.code("CLINICIAN_CODE", self.clinicians, "clinician") or None)
        if not c.values.get("DURATION_MINUTES"):
            c.error("DURATION_MINUTES", "a value is required")
        clinic = self._session(c, site, specialty) if slot.session_pas_id else None
        if clinic and slot.start_at and not clinic.starts_at <= slot.start_at < clinic.ends_at:
            c.error("SLOT_START", "the slot starts outside its session's times")
        if c.errors:
            return [], c.errors
        return [clinic, slot] if clinic else [slot], []

    def _session(self, c: Cells, site: str, specialty: str) -> SessionRecord | None:
        starts = c.moment("SESSION_START", required=True)
        ends = c.moment("SESSION_END", required=True)
        if starts and ends and ends <= starts:
            c.error("SESSION_END", "the session ends before it starts")
        record = SessionRecord(
            change=Change(Adapter.CSV, c.values["SESSION_ID"]),
            kind=c.choice("SESSION_KIND", KINDS, default=SessionKind.CLINIC),
            site_code=site, specialty_code=specialty,
            location=c.text("LOCATION", max_length=80), starts_at=starts, ends_at=ends,
            clinician_code=c.code("SESSION_CLINICIAN_CODE", self.clinicians,
                                  "clinician") or None,
            short_notice=c.flag("SHORT_NOTICE"))
        return None if c.errors else record


def row_for(clinic: SessionRecord | None, slot: SlotRecord, settings: Settings
            ) -> dict[str, str]:
    """One capacity row from a slot's record and its session's."""
    row = {"SLOT_ID": slot.change.pas_id, "SITE_CODE": slot.site_code,
           "SPECIALTY_CODE": slot.specialty_code, "CLINICIAN_CODE": slot.clinician_code or "",
           "SLOT_START": local_moment(slot.start_at, settings),
           "DURATION_MINUTES": str(slot.duration_minutes), "APPOINTMENT_TYPE": slot.type.value,
           "SLOT_STATUS": STATUS_WORDS[slot.status]}
    if clinic is not None:
        row |= {"SESSION_ID": clinic.change.pas_id, "SESSION_KIND": clinic.kind.value,
                "SESSION_CLINICIAN_CODE": clinic.clinician_code or "",
                "LOCATION": clinic.location,
                "SESSION_START": local_moment(clinic.starts_at, settings),
                "SESSION_END": local_moment(clinic.ends_at, settings),
                "SHORT_NOTICE": yes_no(clinic.short_notice)}
    return row


def import_file(*, session: Session, settings: Settings, path: Path, dry_run: bool = False,
                report: Path | None = None, batch: int = load.BATCH) -> load.Summary:
    """Validate a capacity file, then load its good rows (or only say what would)."""
    return load.run(session=session, settings=settings, path=path, dry_run=dry_run,
                    report=report, batch=batch,
                    csv_format=CapacityFormat(session=session, settings=settings))
