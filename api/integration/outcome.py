"""What applying a PAS record did (`Outcome`), or why it could not be (`Parked`), and the
mappings and checks every rule module shares."""

from __future__ import annotations

from dataclasses import dataclass

from api.appointments.models import AppointmentStatus
from api.integration.models import DataKind, InboundStatus
from api.integration.records import (
    AppointmentRecord,
    MergeRecord,
    PasAppointmentStatus,
    PasSlotStatus,
    PatientRecord,
    SessionRecord,
    SlotRecord,
)
from api.patients.identifiers import normalise_mobile, normalise_nhs_number
from api.scheduling.models import SlotStatus

ACTOR = "pas"

KIND_OF = {PatientRecord: DataKind.PATIENT, MergeRecord: DataKind.PATIENT,
           AppointmentRecord: DataKind.APPOINTMENT, SlotRecord: DataKind.SLOT,
           SessionRecord: DataKind.SESSION}

# A PAS status and the Rebook status it means for an appointment seen for the first time.
NEW_STATUS = {
    PasAppointmentStatus.BOOKED: AppointmentStatus.BOOKED,
    PasAppointmentStatus.WAITLIST: AppointmentStatus.POSTPONED,
    PasAppointmentStatus.CANCELLED: AppointmentStatus.CANCELLED,
    PasAppointmentStatus.FULFILLED: AppointmentStatus.ATTENDED,
    PasAppointmentStatus.NOSHOW: AppointmentStatus.PENDING_CLINICAL_REVIEW,
    PasAppointmentStatus.DELETED: AppointmentStatus.CANCELLED,
}
SLOT_STATUS = {PasSlotStatus.FREE: SlotStatus.FREE, PasSlotStatus.BUSY: SlotStatus.BOOKED,
               PasSlotStatus.BLOCKED: SlotStatus.BLOCKED}


class Parked(Exception):
    """A record that cannot be applied safely: staff decide (an integration exception)."""

    def __init__(self, reason: str, detail: str, *, patient_id: int | None = None,
                 appointment_id: int | None = None):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.patient_id = patient_id
        self.appointment_id = appointment_id


@dataclass(frozen=True)
class Outcome:
    """What applying one record did, in words for the inbound row and the audit."""

    status: InboundStatus
    detail: str
    # The local row the record's PAS id now stands for (linked for the next update).
    local_id: int | None = None
    patient_id: int | None = None
    appointment_id: int | None = None
    # Offers withdrawn because the PAS took their slot or cancelled their appointment.
    withdrawn_offers: int = 0


def valid_nhs_number(value: str | None) -> str | None:
    """The NHS number normalised, or None when it is missing or fails its check digit."""
    if not value:
        return None
    try:
        return normalise_nhs_number(value)
    except ValueError:
        return None


def valid_mobile(value: str | None) -> str | None:
    """The mobile number in E.164, or None when it is missing or not a UK mobile."""
    if not value:
        return None
    try:
        return normalise_mobile(value)
    except ValueError:
        return None
