"""A case passed from the assistant (or the gateway, or staff) to people."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, str_enum, utcnow


class HandoverReason(enum.StrEnum):
    RED_FLAG = "red_flag"
    SAFEGUARDING = "safeguarding"  # the safeguarding lead's queue
    ASKED_FOR_PERSON = "asked_for_person"
    NOT_UNDERSTOOD = "not_understood"
    IDENTITY_LOCKOUT = "identity_lockout"
    COMPLAINT = "complaint"
    CLINICAL_REVIEW = "clinical_review"
    DELIVERY_FAILURE = "delivery_failure"
    COMMUNICATION_NEEDS = "communication_needs"
    ASSISTANT_UNAVAILABLE = "assistant_unavailable"
    DAILY_CAP = "daily_cap"  # the number had its day's share of automatic messages


class Urgency(enum.StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"


class HandoverStatus(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    WAITING_FOR_PATIENT = "waiting_for_patient"
    RESOLVED = "resolved"


class Handover(Base):
    __tablename__ = "handover"
    __table_args__ = (Index("ix_handover_queue", "status", "urgency", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    reason: Mapped[HandoverReason] = mapped_column(str_enum(HandoverReason))
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency), default=Urgency.NORMAL)
    status: Mapped[HandoverStatus] = mapped_column(
        str_enum(HandoverStatus), default=HandoverStatus.OPEN
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
    # The patient message that opened the case (or made it a safety case): the queue quotes it.
    trigger_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    created_by: Mapped[str] = mapped_column(String(32))  # assistant/safety_screen/gateway/staff
    resolution: Mapped[str | None] = mapped_column(String(32))  # handed_back / closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OnCallAlert(Base):
    """The on-call contact told of an urgent handover waiting out of hours: repeated until a
    member of staff acknowledges it in the console (or claims or resolves the case)."""

    __tablename__ = "on_call_alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handover.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sends: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # "console" (the Acknowledge button), "claimed" or "resolved" (the case was taken up),
    # "not_urgent" (staff lowered its urgency)
    acknowledged_how: Mapped[str | None] = mapped_column(String(16))
