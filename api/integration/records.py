"""The one inbound model: what any adapter (FHIR, HL7 v2, CSV) turns the PAS's data into.

Each adapter maps its own format to these records and nothing else; `reconcile` applies them
to Rebook. So the rules (which adapter is trusted for what, older updates ignored, a
cancellation withdrawing offers, a deceased patient never messaged) are written once.
Codes are the trust's own (site, specialty, clinician codes as in the reference data).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from api.appointments.models import Pathway, Priority
from api.integration.models import Adapter
from api.reference.models import AppointmentType
from api.scheduling.models import SessionKind


class PasAppointmentStatus(enum.StrEnum):
    """An appointment's state as the PAS sees it (FHIR Appointment.status's words)."""

    BOOKED = "booked"  # has a date (FHIR booked; SIU S12/S13/S14)
    WAITLIST = "waitlist"  # postponed: back on the list, waiting for a new date
    CANCELLED = "cancelled"  # cancelled for good (SIU S15)
    FULFILLED = "fulfilled"  # attended
    NOSHOW = "noshow"  # did not attend (SIU S26): back to a clinician to decide
    DELETED = "entered-in-error"  # never was (SIU S17)


class PasSlotStatus(enum.StrEnum):
    FREE = "free"
    BUSY = "busy"
    BLOCKED = "busy-unavailable"


@dataclass(frozen=True)
class Change:
    """Where a record came from and when it was true, for ordering and for the audit."""

    adapter: Adapter
    pas_id: str
    event_at: datetime | None = None  # when it happened in the PAS (MSH-7/EVN-2, lastUpdated)
    version: str | None = None  # FHIR meta.versionId; None where the format has none


@dataclass(frozen=True)
class PatientRecord:
    change: Change
    nhs_number: str | None
    given_name: str
    family_name: str
    date_of_birth: date | None
    postcode: str = ""
    mobile: str | None = None
    email: str | None = None
    preferred_language: str = "en"
    communication_needs: tuple[str, ...] = ()
    # False when the patient asked not to be contacted by text (FHIR
    # Patient.communication / contact preferences; PD1-12 protection indicator).
    sms_allowed: bool = True
    deceased: bool = False
    # A sensitive record (e.g. PID-? / a security label): staff only, never automatic messages.
    restricted: bool = False


@dataclass(frozen=True)
class MergeRecord:
    """ADT^A40: the PAS merged `merged_pas_id` into `change.pas_id`."""

    change: Change
    merged_pas_id: str


@dataclass(frozen=True)
class AppointmentRecord:
    change: Change
    patient_pas_id: str
    status: PasAppointmentStatus
    specialty_code: str
    nhs_number: str | None = None
    type: AppointmentType = AppointmentType.OUTPATIENT
    priority: Priority = Priority.ROUTINE
    pathway: Pathway = Pathway.RTT
    referral_date: date | None = None
    breach_date: date | None = None
    duration_minutes: int = 20
    start_at: datetime | None = None
    site_code: str | None = None
    clinician_code: str | None = None
    slot_pas_id: str | None = None
    # When a postponed appointment was due before the PAS took its date away: links it to
    # the disruption (strike) declared in Rebook for that day.
    original_start_at: datetime | None = None
    requires_named_clinician: bool = False
    reason: str = ""  # the PAS's words for a cancellation or change, kept in the history


@dataclass(frozen=True)
class SessionRecord:
    """A clinic or theatre list (FHIR Schedule; the capacity CSV's session columns)."""

    change: Change
    kind: SessionKind
    site_code: str
    specialty_code: str
    location: str
    starts_at: datetime
    ends_at: datetime
    clinician_code: str | None = None
    short_notice: bool = False


@dataclass(frozen=True)
class SlotRecord:
    change: Change
    site_code: str
    specialty_code: str
    type: AppointmentType
    start_at: datetime
    duration_minutes: int
    status: PasSlotStatus = PasSlotStatus.FREE
    session_pas_id: str | None = None
    clinician_code: str | None = None


Record = PatientRecord | MergeRecord | AppointmentRecord | SessionRecord | SlotRecord
