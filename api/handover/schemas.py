"""Staff JSON API shapes for the handover queue."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.appointments.models import AppointmentStatus, Priority
from api.fields import Id, Number, Text
from api.handover.casework import MAX_NOTE_CHARS, MAX_REPLY_CHARS
from api.handover.models import HandoverReason, HandoverStatus, Urgency


class HandoverOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int | None
    patient_id: int | None
    appointment_id: int | None
    reason: HandoverReason
    urgency: Urgency
    status: HandoverStatus
    due_at: datetime
    overdue: bool = False
    assignee_id: int | None
    summary: str
    created_by: str
    resolution: str | None
    created_at: datetime
    resolved_at: datetime | None


class HandoverIn(BaseModel):
    reason: HandoverReason
    urgency: Urgency = Urgency.NORMAL
    patient_id: Id | None = None
    conversation_id: Id | None = None
    appointment_id: Id | None = None
    note: Text = Field("", max_length=MAX_NOTE_CHARS)


class StatusIn(BaseModel):
    status: Literal["open", "claimed", "waiting_for_patient"]


class NoteIn(BaseModel):
    text: Text = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class NoteOut(BaseModel):
    id: int
    actor: str
    author_name: str = Field(description="who wrote it, as staff know them")
    action: str
    text: str
    occurred_at: datetime


class ReplyIn(BaseModel):
    text: Text | None = Field(None, max_length=MAX_REPLY_CHARS)
    template: Text | None = Field(None, max_length=64,
                                  description="A template key; needed outside WhatsApp's "
                                              "24-hour window")


class ReplyOut(BaseModel):
    message_id: int
    channel: str
    status: str


class ResolveIn(BaseModel):
    outcome: Literal["hand_back", "close"] = Field(
        description="hand_back: the assistant answers again; close: the conversation is closed")
    note: Text = Field("", max_length=MAX_NOTE_CHARS)


class FindSlotsIn(BaseModel):
    appointment_id: Id
    limit: Number = Field(3, ge=1, le=10)


class OfferOut(BaseModel):
    offer_id: int
    appointment_id: int
    slot_id: int
    start_at: datetime
    duration_minutes: int
    site_id: int
    expires_at: datetime


class BookIn(BaseModel):
    offer_id: Id


class AppointmentOut(BaseModel):
    id: int
    specialty: str
    type: str
    priority: Priority
    status: AppointmentStatus
    breach_date: date
    start_at: datetime | None = None
    explanation: str = ""


class PatientOut(BaseModel):
    id: int
    nhs_number: str
    name: str
    date_of_birth: date
    mobile: str | None
    communication_needs: list[str]
    opted_out: bool = Field(description="the patient said STOP: phone them, do not text")


class MessageOut(BaseModel):
    id: int
    direction: str
    channel: str
    body: str
    category: str
    status: str
    created_at: datetime


class CaseFileOut(BaseModel):
    handover: HandoverOut
    identity_verified: bool
    identity: Literal["unidentified", "unverified", "verified", "checked"] = Field(
        description="who the case is about as it stands now: checked means staff checked "
                    "the patient's identity themselves (see identity_check)")
    identity_check: str | None = Field(description="how staff checked it, in words")
    patient: PatientOut | None
    appointments: list[AppointmentOut]
    offers: list[OfferOut]
    transcript: list[MessageOut]
    notes: list[NoteOut]
    reply_channel: str | None
    free_text_allowed: bool
    templates: dict[str, str]


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    patient_id: int | None
    details: dict
