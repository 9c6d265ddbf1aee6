"""A notification campaign for a disruption and one row per patient it reaches."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, str_enum, utcnow
from api.staff.models import Role

# Campaigns message thousands of patients: clerks (the bookings team) and admins only, in the
# API and the console alike.
CAMPAIGN_ROLES = (Role.CLERK, Role.ADMIN)


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class RecipientRoute(enum.StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"
    CALL_LIST = "call_list"  # staff phone the patient instead


class CallReason(enum.StrEnum):
    NO_CONTACT_ROUTE = "no_contact_route"
    OPTED_OUT = "opted_out"
    COMMUNICATION_NEEDS = "communication_needs"
    NO_REPLY = "no_reply"
    UNDELIVERABLE = "undeliverable"
    RESTRICTED_RECORD = "restricted_record"  # flagged sensitive in the PAS: staff only


class CallOutcome(enum.StrEnum):
    """What came of staff phoning a call-list patient."""

    REBOOKED = "rebooked"
    LEFT_MESSAGE = "left_message"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    DECLINED = "declined"  # no longer wants the appointment


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    disruption_id: Mapped[int] = mapped_column(ForeignKey("disruption.id"))
    status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus),
                                                   default=CampaignStatus.DRAFT)
    # Which postponed appointments: {"specialties": [...codes], "priorities": [...],
    # "sites": [...codes], "statuses": [...]}; empty means all.
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    sms_template: Mapped[str] = mapped_column(Text)
    email_subject: Mapped[str] = mapped_column(String(200), default="")
    email_template: Mapped[str] = mapped_column(Text, default="")
    whatsapp_content_sid: Mapped[str | None] = mapped_column(String(64))
    whatsapp_variables: Mapped[dict] = mapped_column(JSON, default=dict)
    chaser_after_hours: Mapped[int] = mapped_column(Integer, default=48)
    call_after_chaser_hours: Mapped[int] = mapped_column(Integer, default=48)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CampaignRecipient(Base):
    """One patient in one campaign: the unique pair is what makes sending idempotent."""

    __tablename__ = "campaign_recipient"
    __table_args__ = (
        UniqueConstraint("campaign_id", "patient_id", name="campaign_patient"),
        Index("ix_campaign_recipient_campaign_route", "campaign_id", "route"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    route: Mapped[RecipientRoute] = mapped_column(str_enum(RecipientRoute))
    address: Mapped[str | None] = mapped_column(String(254))
    call_reason: Mapped[CallReason | None] = mapped_column(str_enum(CallReason))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    chaser_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    chased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The latest call to a call-list patient (every call is also in the audit log).
    call_outcome: Mapped[CallOutcome | None] = mapped_column(str_enum(CallOutcome))
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    called_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
