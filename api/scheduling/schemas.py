"""Staff API shapes for the rescheduling engine."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from api.appointments.models import AppointmentStatus, Pathway, Priority
from api.fields import Day, Id, Number, Text, Timestamp
from api.reference.models import AppointmentType
from api.scheduling.disruptions import DEFAULT_KEEP_PATHWAYS, DEFAULT_KEEP_PRIORITIES
from api.scheduling.models import OfferStatus, SessionKind

# Offers sent by staff or letters; the assistant's hold is service.ASSISTANT_HOLD_MINUTES.
SENT_OFFER_HOLD_MINUTES = 24 * 60
Code = Annotated[Text, Field(min_length=1, max_length=16)]  # a site, specialty or clinician
Weekday = Annotated[Number, Field(ge=0, le=6)]
MAX_NOTICE_HOURS = 14 * 24
LocalDate = date  # for a field named `date`, whose name hides the type in its class


class DisruptionIn(BaseModel):
    name: Text = Field(min_length=1, max_length=120)
    starts_at: Timestamp
    ends_at: Timestamp
    staff_group: Text = Field(min_length=1, max_length=80, examples=["resident doctors"])
    reason: Text = Field("industrial action", max_length=500)
    specialty_codes: list[Code] = Field(default_factory=list, max_length=200,
                                        description="Affected specialties; empty means all")
    site_codes: list[Code] = Field(default_factory=list, max_length=200,
                                   description="Affected sites; empty means all")


class DisruptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    staff_group: str
    reason: str
    specialty_codes: list[str]
    site_codes: list[str]


class RulesIn(BaseModel):
    """Which affected appointments go ahead. The defaults keep P1a, P1b and cancer care."""

    keep_priorities: list[Priority] = Field(default_factory=lambda: sorted(DEFAULT_KEEP_PRIORITIES))
    keep_pathways: list[Pathway] = Field(default_factory=lambda: sorted(DEFAULT_KEEP_PATHWAYS))
    keep_appointment_ids: list[Id] = Field(default_factory=list)
    postpone_appointment_ids: list[Id] = Field(default_factory=list)
    block_free_slots: StrictBool = True


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    appointment_id: int
    patient_id: int
    start_at: datetime
    specialty_id: int
    priority: Priority
    postpone: bool
    why: str


class PreviewOut(BaseModel):
    affected: int
    postpone: int
    keep: int
    decisions: list[DecisionOut]


class PostponeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    disruption_id: int
    postponed: int
    kept: int
    slots_blocked: int
    offers_withdrawn: int


class PreferencesIn(BaseModel):
    weekdays: list[Weekday] | None = Field(None, description="Allowed days, Monday 0 .. Sunday 6")
    exclude_weekdays: list[Weekday] = Field(default_factory=list)
    time_of_day: str | None = Field(None, pattern="^(morning|afternoon|evening)$")
    earliest_date: Day | None = None
    latest_date: Day | None = None
    site_ids: list[Id] | None = None
    step_free_access: StrictBool = False


class FindOffersIn(BaseModel):
    preferences: PreferencesIn | None = None
    limit: Number = Field(3, ge=1, le=10)
    hold_minutes: Number = Field(SENT_OFFER_HOLD_MINUTES, ge=1, le=7 * 24 * 60,
                              description="Sent offers are held 24 hours by default")


class OfferOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    appointment_id: int
    slot_id: int
    status: OfferStatus
    source: str
    rank: int
    expires_at: datetime
    start_at: datetime | None = None
    site_id: int | None = None


class BookIn(BaseModel):
    patient_id: Id


class ReleasedOut(BaseModel):
    released: int


class ReviewIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=500)


class AppointmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    status: AppointmentStatus
    priority: Priority
    slot_id: int | None
    times_postponed: int


class PositionOut(BaseModel):
    appointment_id: int
    explanation: str


class QueueEntry(BaseModel):
    position: int
    appointment_id: int
    priority: Priority
    breach_date: date
    reasons: str


class ClinicIn(BaseModel):
    site_code: Code
    specialty_code: Code
    clinician_code: Code | None = None
    location: Text = Field(min_length=1, max_length=80, examples=["Outpatients B"])
    kind: SessionKind = SessionKind.CLINIC
    appointment_type: AppointmentType = AppointmentType.OUTPATIENT
    starts_at: Timestamp
    slot_minutes: Number | None = Field(20, ge=5, le=720)
    slots: Number | None = Field(None, ge=1, le=100)
    case_minutes: list[Annotated[Number, Field(ge=5, le=720)]] | None = Field(
        None, max_length=100,
        description="A theatre list's case lengths, instead of slot_minutes x slots")


class ClinicOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: SessionKind
    site_id: int
    specialty_id: int
    clinician_id: int | None
    location: str
    starts_at: datetime
    ends_at: datetime
    short_notice: bool
    slots: int


class ProposalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slot_id: int
    start_at: datetime
    appointment_id: int
    patient_id: int
    reasons: str


class ApproveIn(BaseModel):
    hold_hours: Number = Field(24, ge=1, le=7 * 24)
    min_notice_hours: Number = Field(48, ge=0, le=MAX_NOTICE_HOURS)


class PlanOut(BaseModel):
    method: str
    objective: int
    breaches: int
    breach_days: int
    unassigned: int
    seconds: float
    finished: bool
    note: str
    assignments: int
    offers_sent: int = 0


# --- lists -------------------------------------------------------------------------------------


class PageInfo(BaseModel):
    """Where a page sits in the whole list."""

    total: int = Field(description="How many match the filters, over every page")
    limit: int
    offset: int


class DisruptionListed(BaseModel):
    """A disruption and what it did to appointments (dates and times: ISO 8601, UTC)."""

    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    staff_group: str
    specialty_codes: list[str] = Field(description="Affected specialties; empty means all")
    site_codes: list[str] = Field(description="Affected sites; empty means all")
    postponed: int = Field(description="Appointments it postponed")
    awaiting_date: int = Field(description="Of those, still postponed or offered a date")
    rebooked: int = Field(description="Of those, rebooked")


class DisruptionPage(PageInfo):
    items: list[DisruptionListed]


class ClinicListed(BaseModel):
    """A clinic session or theatre list and its free slots."""

    id: int
    kind: SessionKind
    date: LocalDate = Field(description="The day it runs, in the trust's time zone (ISO 8601)")
    starts_at: datetime
    ends_at: datetime
    site_code: str
    site_name: str
    specialty_code: str
    specialty_name: str
    location: str
    short_notice: bool = Field(description="Added at short notice (backlog capacity)")
    slots: int
    free_slots: int


class ClinicPage(PageInfo):
    items: list[ClinicListed]
