"""Staff API shapes for the rescheduling engine."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.appointments.models import AppointmentStatus, Pathway, Priority
from api.scheduling.disruptions import DEFAULT_KEEP_PATHWAYS, DEFAULT_KEEP_PRIORITIES
from api.scheduling.models import AppointmentType, OfferStatus, SessionKind

SENT_OFFER_HOLD_MINUTES = 24 * 60  # offers sent by staff or letters; the assistant holds 30 min


class DisruptionIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    staff_group: str = Field(min_length=1, max_length=80, examples=["resident doctors"])
    reason: str = "industrial action"
    specialty_codes: list[str] = Field(default_factory=list,
                                       description="Affected specialties; empty means all")
    site_codes: list[str] = Field(default_factory=list,
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
    keep_appointment_ids: list[int] = Field(default_factory=list)
    postpone_appointment_ids: list[int] = Field(default_factory=list)
    block_free_slots: bool = True


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
    weekdays: list[int] | None = Field(None, description="Allowed days, Monday 0 .. Sunday 6")
    exclude_weekdays: list[int] = Field(default_factory=list)
    time_of_day: str | None = Field(None, pattern="^(morning|afternoon|evening)$")
    earliest_date: date | None = None
    latest_date: date | None = None
    site_ids: list[int] | None = None
    step_free_access: bool = False


class FindOffersIn(BaseModel):
    preferences: PreferencesIn | None = None
    limit: int = Field(3, ge=1, le=10)
    hold_minutes: int = Field(SENT_OFFER_HOLD_MINUTES, ge=1, le=7 * 24 * 60,
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
    patient_id: int


class ReviewIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


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
    site_code: str
    specialty_code: str
    clinician_code: str | None = None
    location: str = Field(min_length=1, max_length=80, examples=["Outpatients B"])
    kind: SessionKind = SessionKind.CLINIC
    appointment_type: AppointmentType = AppointmentType.OUTPATIENT
    starts_at: AwareDatetime
    slot_minutes: int | None = Field(20, ge=5, le=720)
    slots: int | None = Field(None, ge=1, le=100)
    case_minutes: list[int] | None = Field(
        None, description="A theatre list's case lengths, instead of slot_minutes x slots")


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
    hold_hours: int = Field(24, ge=1, le=7 * 24)
    min_notice_hours: int = Field(48, ge=0, le=14 * 24)


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
