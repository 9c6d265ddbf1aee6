"""The waiting-list extract: one row per appointment (booked, waiting, cancelled...) with its
patient, columns named as in NHS England's Waiting List Minimum Data Set (WLMDS).

Each row becomes a `PatientRecord` and an `AppointmentRecord` (docs/integration.md lists every
column, and whether it is required). `import_file` validates and loads a file through the
generic CSV import (`load`); `row_for` writes a row back (the demo trust's export).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments.models import Pathway, Priority
from api.config import Settings
from api.integration.csvfile import load
from api.integration.csvfile.cells import Cells, RowError, local_date_time, yes_no
from api.integration.models import Adapter, DataKind
from api.integration.records import (
    AppointmentRecord,
    Change,
    PasAppointmentStatus,
    PatientRecord,
    Record,
)
from api.patients.identifiers import InvalidIdentifier, normalise_nhs_number
from api.reference.models import AppointmentType, Clinician, Site, Specialty
from api.system import localtime

PATIENT_COLUMNS = (
    "LOCAL_PATIENT_IDENTIFIER", "NHS_NUMBER", "PATIENT_GIVEN_NAME", "PATIENT_FAMILY_NAME",
    "PERSON_BIRTH_DATE", "POSTCODE", "MOBILE", "EMAIL", "PREFERRED_LANGUAGE",
    "COMMUNICATION_NEEDS", "CONTACT_BY_SMS", "DECEASED", "RESTRICTED")
APPOINTMENT_COLUMNS = (
    "APPOINTMENT_ID", "STATUS", "SPECIALTY_CODE", "APPOINTMENT_TYPE", "PRIORITY_TYPE_CODE",
    "PATHWAY", "REFERRAL_REQUEST_RECEIVED_DATE", "RTT_PERIOD_START_DATE", "DUE_DATE",
    "DURATION_MINUTES", "APPOINTMENT_DATE", "APPOINTMENT_TIME", "SITE_CODE", "CLINICIAN_CODE",
    "SLOT_ID", "ORIGINAL_APPOINTMENT_DATE", "ORIGINAL_APPOINTMENT_TIME",
    "REQUIRES_NAMED_CLINICIAN", "CANCELLATION_REASON", "LAST_UPDATED")
COLUMNS = PATIENT_COLUMNS + APPOINTMENT_COLUMNS
REQUIRED = ("LOCAL_PATIENT_IDENTIFIER", "NHS_NUMBER", "PATIENT_GIVEN_NAME",
            "PATIENT_FAMILY_NAME", "PERSON_BIRTH_DATE", "APPOINTMENT_ID", "STATUS",
            "SPECIALTY_CODE", "DUE_DATE")
# The trust's specialty codes may come in a WLMDS-named column.
ALIASES = {"TREATMENT_FUNCTION_CODE": "SPECIALTY_CODE"}
# Never quoted in an error (the report may travel further than the file).
PERSONAL = frozenset({"NHS_NUMBER", "PATIENT_GIVEN_NAME", "PATIENT_FAMILY_NAME",
                      "PERSON_BIRTH_DATE", "POSTCODE", "MOBILE", "EMAIL"})

# WLMDS/CDS priority type codes (1 routine, 2 urgent, 3 two week wait) and the Royal College
# of Surgeons' surgical priorities, as Rebook's priorities.
PRIORITIES = {"1": Priority.ROUTINE, "routine": Priority.ROUTINE, "2": Priority.URGENT,
              "urgent": Priority.URGENT, "3": Priority.SUSPECTED_CANCER,
              "2ww": Priority.SUSPECTED_CANCER, "two week wait": Priority.SUSPECTED_CANCER,
              "suspected_cancer": Priority.SUSPECTED_CANCER, "p1a": Priority.P1A,
              "p1b": Priority.P1B, "p2": Priority.P2, "p3": Priority.P3, "p4": Priority.P4}
PRIORITY_CODES = {Priority.ROUTINE: "1", Priority.URGENT: "2", Priority.SUSPECTED_CANCER: "3"}
STATUSES = {"booked": PasAppointmentStatus.BOOKED, "waiting": PasAppointmentStatus.WAITLIST,
            "postponed": PasAppointmentStatus.WAITLIST,
            "waitlist": PasAppointmentStatus.WAITLIST,
            "cancelled": PasAppointmentStatus.CANCELLED,
            "attended": PasAppointmentStatus.FULFILLED,
            "fulfilled": PasAppointmentStatus.FULFILLED, "dna": PasAppointmentStatus.NOSHOW,
            "noshow": PasAppointmentStatus.NOSHOW,
            "entered-in-error": PasAppointmentStatus.DELETED}
STATUS_WORDS = {PasAppointmentStatus.BOOKED: "booked", PasAppointmentStatus.WAITLIST: "waiting",
                PasAppointmentStatus.CANCELLED: "cancelled",
                PasAppointmentStatus.FULFILLED: "attended", PasAppointmentStatus.NOSHOW: "dna",
                PasAppointmentStatus.DELETED: "entered-in-error"}
PATHWAYS = {"rtt": Pathway.RTT, "cancer_fds": Pathway.CANCER_FDS, "fds": Pathway.CANCER_FDS,
            "cancer_62": Pathway.CANCER_62, "62": Pathway.CANCER_62}
TYPES = {t.value: t for t in AppointmentType}
WITH_A_DATE = (PasAppointmentStatus.BOOKED, PasAppointmentStatus.FULFILLED)


class WaitingListFormat:
    """The waiting-list extract for the generic import (`load.run`)."""

    name = "waiting list"
    message_type = "csv:waiting-list"
    columns, required, aliases = COLUMNS, REQUIRED, ALIASES
    main_kind = DataKind.APPOINTMENT

    def __init__(self, *, session: Session, settings: Settings):
        self.settings = settings
        self.sites = set(session.scalars(select(Site.code)))
        self.specialties = set(session.scalars(select(Specialty.code)))
        self.clinicians = set(session.scalars(select(Clinician.code)))
        self.today = localtime.local_today(settings)

    def parse(self, line: int, values: dict[str, str]) -> tuple[list[Record], list[RowError]]:
        """A row's patient and appointment records, or the row's errors."""
        cells = Cells(line, values, settings=self.settings, personal=PERSONAL)
        patient = self._patient(cells)
        appointment = self._appointment(cells, patient)
        if cells.errors or patient is None or appointment is None:
            return [], cells.errors
        return [patient, appointment], []

    def _patient(self, c: Cells) -> PatientRecord | None:
        pas_id = c.text("LOCAL_PATIENT_IDENTIFIER", required=True, max_length=100)
        nhs_number = c.text("NHS_NUMBER", required=True)
        try:
            nhs_number = normalise_nhs_number(nhs_number) if nhs_number else ""
        except InvalidIdentifier:
            c.error("NHS_NUMBER", "not a valid NHS number (10 digits, the last a modulus 11 "
                    "check digit)")
        born = c.date("PERSON_BIRTH_DATE", required=True)
        if born and born > self.today:
            c.error("PERSON_BIRTH_DATE", "the date of birth is in the future")
        given = c.text("PATIENT_GIVEN_NAME", required=True, max_length=100)
        family = c.text("PATIENT_FAMILY_NAME", required=True, max_length=100)
        fields = dict(postcode=c.text("POSTCODE", max_length=8).upper(),
                      mobile=c.text("MOBILE", max_length=20) or None,
                      email=c.text("EMAIL", max_length=254) or None,
                      preferred_language=c.text("PREFERRED_LANGUAGE", max_length=8).lower()
                      or "en",
                      communication_needs=tuple(sorted(
                          n.strip() for n in c.text("COMMUNICATION_NEEDS").split(";")
                          if n.strip())),
                      sms_allowed=c.flag("CONTACT_BY_SMS", default=True),
                      deceased=c.flag("DECEASED"), restricted=c.flag("RESTRICTED"))
        if c.errors:
            return None
        return PatientRecord(change=Change(Adapter.CSV, pas_id),
                             nhs_number=nhs_number, given_name=given,
                             family_name=family, date_of_birth=born, **fields)

    def _appointment(self, c: Cells, patient: PatientRecord | None) -> AppointmentRecord | None:
        pas_id = c.text("APPOINTMENT_ID", required=True, max_length=100)
        status = c.choice("STATUS", STATUSES)
        dated = status in WITH_A_DATE
        referral = (c.date("REFERRAL_REQUEST_RECEIVED_DATE")
                    or c.date("RTT_PERIOD_START_DATE"))
        due = c.date("DUE_DATE", required=True)
        if referral is None and not c.values.get("REFERRAL_REQUEST_RECEIVED_DATE") and not \
                c.values.get("RTT_PERIOD_START_DATE"):
            c.error("REFERRAL_REQUEST_RECEIVED_DATE", "a value is required (or "
                    "RTT_PERIOD_START_DATE, the clock start)")
        if referral and due and due < referral:
            c.error("DUE_DATE", "the breach date is before the referral date")
        start = self._start(c, "APPOINTMENT_DATE", "APPOINTMENT_TIME", required=dated)
        fields = dict(
            specialty_code=c.code("SPECIALTY_CODE", self.specialties, "specialty",
                                  required=True),
            type=c.choice("APPOINTMENT_TYPE", TYPES, default=AppointmentType.OUTPATIENT),
            priority=c.choice("PRIORITY_TYPE_CODE", PRIORITIES, default=Priority.ROUTINE),
            pathway=c.choice("PATHWAY", PATHWAYS, default=Pathway.RTT),
            duration_minutes=c.integer("DURATION_MINUTES", default=20, low=5, high=600),
            site_code=c.code("SITE_CODE", self.sites, "site", required=dated) or None,
            clinician_code=c.code("CLINICIAN_CODE", self.clinicians, "clinician") or None,
            slot_pas_id=c.text("SLOT_ID", max_length=100) or None,
            original_start_at=self._start(c, "ORIGINAL_APPOINTMENT_DATE",
                                          "ORIGINAL_APPOINTMENT_TIME"),
            requires_named_clinician=c.flag("REQUIRES_NAMED_CLINICIAN"),
            reason=c.text("CANCELLATION_REASON", max_length=500))
        event_at = c.moment("LAST_UPDATED")
        if c.errors or patient is None:
            return None
        return AppointmentRecord(
            change=Change(Adapter.CSV, pas_id, event_at=event_at),
            patient_pas_id=patient.change.pas_id, status=status, nhs_number=patient.nhs_number,
            referral_date=referral, breach_date=due, start_at=start if dated else None,
            **fields)

    @staticmethod
    def _start(c: Cells, day_column: str, time_column: str, *, required: bool = False):
        day = c.date(day_column, required=required)
        clock = c.time(time_column, required=required or bool(day))
        return c.local(day, clock) if day and clock else None


def row_for(patient: PatientRecord, appointment: AppointmentRecord,
            settings: Settings) -> dict[str, str]:
    """One extract row from a patient's and an appointment's records."""
    day, clock = local_date_time(appointment.start_at, settings)
    due_day, due_clock = local_date_time(appointment.original_start_at, settings)
    waiting = appointment.status is PasAppointmentStatus.WAITLIST
    return {
        "LOCAL_PATIENT_IDENTIFIER": patient.change.pas_id, "NHS_NUMBER": patient.nhs_number,
        "PATIENT_GIVEN_NAME": patient.given_name, "PATIENT_FAMILY_NAME": patient.family_name,
        "PERSON_BIRTH_DATE": _iso(patient.date_of_birth), "POSTCODE": patient.postcode,
        "MOBILE": patient.mobile or "", "EMAIL": patient.email or "",
        "PREFERRED_LANGUAGE": patient.preferred_language,
        "COMMUNICATION_NEEDS": ";".join(patient.communication_needs),
        "CONTACT_BY_SMS": yes_no(patient.sms_allowed), "DECEASED": yes_no(patient.deceased),
        "RESTRICTED": yes_no(patient.restricted),
        "APPOINTMENT_ID": appointment.change.pas_id,
        "STATUS": "postponed" if waiting and due_day else STATUS_WORDS[appointment.status],
        "SPECIALTY_CODE": appointment.specialty_code,
        "APPOINTMENT_TYPE": appointment.type.value,
        "PRIORITY_TYPE_CODE": PRIORITY_CODES.get(appointment.priority,
                                                 appointment.priority.value),
        "PATHWAY": appointment.pathway.value,
        "REFERRAL_REQUEST_RECEIVED_DATE": _iso(appointment.referral_date),
        "RTT_PERIOD_START_DATE": "", "DUE_DATE": _iso(appointment.breach_date),
        "DURATION_MINUTES": str(appointment.duration_minutes), "APPOINTMENT_DATE": day,
        "APPOINTMENT_TIME": clock, "SITE_CODE": appointment.site_code or "",
        "CLINICIAN_CODE": appointment.clinician_code or "",
        "SLOT_ID": appointment.slot_pas_id or "", "ORIGINAL_APPOINTMENT_DATE": due_day,
        "ORIGINAL_APPOINTMENT_TIME": due_clock,
        "REQUIRES_NAMED_CLINICIAN": yes_no(appointment.requires_named_clinician),
        "CANCELLATION_REASON": appointment.reason,
        "LAST_UPDATED": appointment.change.event_at.isoformat(timespec="seconds")
        if appointment.change.event_at else ""}


def _iso(day) -> str:
    return day.isoformat() if day else ""


def import_file(*, session: Session, settings: Settings, path: Path, dry_run: bool = False,
                report: Path | None = None, batch: int = load.BATCH) -> load.Summary:
    """Validate a waiting-list extract, then load its good rows (or only say what would)."""
    return load.run(session=session, settings=settings, path=path, dry_run=dry_run,
                    report=report, batch=batch,
                    csv_format=WaitingListFormat(session=session, settings=settings))
