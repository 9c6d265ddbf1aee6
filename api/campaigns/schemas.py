"""Campaign API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.campaigns import content
from api.campaigns.models import CallReason, CampaignStatus
from api.fields import Id, Number, Text

Key = Annotated[Text, Field(max_length=64)]


class CampaignCreate(BaseModel):
    name: Text = Field(min_length=1, max_length=content.NAME_MAX_LENGTH)
    disruption_id: Id
    sms_template: Text = Field(min_length=1, max_length=content.SMS_TEMPLATE_MAX_LENGTH)
    filters: dict[Key, list[Annotated[Text, Field(max_length=120)]]] = Field(default_factory=dict)
    email_subject: Text = Field("", max_length=content.EMAIL_SUBJECT_MAX_LENGTH)
    email_template: Text = Field("", max_length=content.EMAIL_TEMPLATE_MAX_LENGTH)
    whatsapp_content_sid: Text | None = Field(None, max_length=64)
    whatsapp_variables: dict[Key, Annotated[Text, Field(max_length=640)]] = Field(
        default_factory=dict)
    chaser_after_hours: Number = Field(48, ge=1, le=14 * 24)


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    disruption_id: int
    status: CampaignStatus
    filters: dict
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class CampaignProgress(BaseModel):
    campaign_id: int
    status: str
    recipients: int
    queued: int
    sent: int
    delivered: int
    failed: int
    cancelled: int
    replied: int
    rebooked: int
    call_list: int


class SmsPreview(BaseModel):
    body: str
    segments: int = Field(description="SMS parts Twilio will bill for the body")


class WhatsAppPreview(BaseModel):
    content_sid: str | None
    variables: dict[str, str]


class EmailPreview(BaseModel):
    subject: str
    body: str


class MessagesPreview(BaseModel):
    sms: SmsPreview
    whatsapp: WhatsAppPreview
    email: EmailPreview


class CampaignPreview(BaseModel):
    """What a send would do, before anything is sent."""

    campaign_id: int
    appointments: int
    patients: int
    by_route: dict[str, int] = Field(description="Patients per route (sms, whatsapp, email, "
                                                 "call_list)")
    call_list_reasons: dict[str, int]
    messages: MessagesPreview


class CallListEntry(BaseModel):
    """A patient to phone instead of text, and why."""

    patient_id: int
    reason: CallReason | None
