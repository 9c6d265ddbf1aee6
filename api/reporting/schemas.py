"""Report shapes (JSON); dates and times are ISO 8601 strings, as the CSV exports write them."""

from __future__ import annotations

from pydantic import BaseModel, Field

ISO_DATETIME = "ISO 8601 date and time, UTC"
ISO_DATE = "ISO 8601 date"


class DisruptionListed(BaseModel):
    """A disruption with how many appointments it postponed."""

    id: int
    name: str
    starts_at: str = Field(description=ISO_DATETIME)
    postponed: int


class DisruptionDates(BaseModel):
    id: int
    name: str
    starts_at: str = Field(description=ISO_DATETIME)
    ends_at: str = Field(description=ISO_DATETIME)


class Funnel(BaseModel):
    """From postponed to rebooked: appointments, patients, and how far each got."""

    postponed: int
    patients: int
    notified: int
    delivered: int
    replied: int
    rebooked_by_assistant: int
    rebooked_by_staff: int
    waiting: int


class SpecialtyPriorityRow(BaseModel):
    specialty: str
    priority: str
    postponed: int
    rebooked: int
    waiting: int
    breaching: int


class PhoneLine(BaseModel):
    """The phone line's calls since the disruption was declared (calls are not tied to one
    disruption: every call the line answered in that time, whoever called)."""

    since: str = Field(description=ISO_DATETIME + "; when the disruption was declared")
    answered: int = Field(description="Calls the phone line answered")
    ended: int = Field(description="Answered calls that have ended (have an outcome)")
    contained: int = Field(
        description="Ended with no person needed: the assistant settled the call. The "
                    "measured bookings-team calls avoided")
    transferred: int = Field(description="Put through to the bookings team or clinical line")
    call_back: int = Field(description="A person will call the caller back (out of hours, "
                                       "no answer at the transfer, or asked for)")
    safety_net: int = Field(description="A red flag: the safety net was spoken and an urgent "
                                        "case raised")
    abandoned: int = Field(description="The caller hung up before anything was settled")
    containment_rate: float | None = Field(
        description="contained / ended (abandoned calls count against it); null when none ended")
    average_handling_seconds: float | None = Field(
        description="Mean length in seconds (Twilio's CallDuration) of the `timed` ended "
                    "calls; null when none")
    timed: int = Field(description="Ended calls whose length Twilio reported")


class DisruptionReport(BaseModel):
    """The backlog picture for one disruption."""

    disruption: DisruptionDates
    funnel: Funnel
    self_service_rate: float | None = Field(
        description="Share of rebookings the assistant made (none rebooked yet: null)")
    median_hours_to_rebook: float | None = Field(
        description="Median hours from the first message about this disruption sent to the "
                    "patient to the appointment's rebooking, over `rebooked_timed` rebooked "
                    "appointments (null when none)")
    rebooked_timed: int = Field(description="Rebooked after the patient's first message")
    rebooked_before_notified: int = Field(
        description="Rebooked before any message about this disruption was sent")
    rebooked_not_notified: int = Field(
        description="Rebooked, the patient never sent a message about this disruption")
    handover_queue: int = Field(description="Unresolved handovers in the whole queue")
    handover_queue_overdue: int = Field(description="Unresolved handovers past their due time")
    handover_queue_disruption: int = Field(
        description="Unresolved handovers about a patient this disruption postponed")
    handover_sla_breaches: int = Field(
        description="This disruption's patients' handovers that missed their due time "
                    "(resolved late, or open past it)")
    calls_avoided_estimate: int = Field(
        description="Text conversations: this disruption's patients who confirmed their "
                    "identity to the assistant and never needed a handover (an estimate; the "
                    "measured phone figure is `phone_line.contained`)")
    breaching: int
    phone_line: PhoneLine
    by_specialty_priority: list[SpecialtyPriorityRow]


class Breach(BaseModel):
    """An appointment whose new date (or, still waiting, today) is past its target date."""

    appointment_id: int
    patient_id: int
    specialty: str
    priority: str
    pathway: str
    breach_date: str = Field(description=ISO_DATE)
    new_date: str | None = Field(description=ISO_DATE + "; null while still waiting")
    status: str
    days_late: int
    days_waited: int = Field(description="From referral to the new date (or, waiting, today)")
