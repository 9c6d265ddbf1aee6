"""Campaign API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.campaigns.models import CampaignStatus


class CampaignCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    disruption_id: int
    sms_template: str = Field(min_length=1, max_length=640)
    filters: dict[str, list[str]] = Field(default_factory=dict)
    email_subject: str = ""
    email_template: str = ""
    whatsapp_content_sid: str | None = None
    whatsapp_variables: dict[str, str] = Field(default_factory=dict)
    chaser_after_hours: int = 48


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
