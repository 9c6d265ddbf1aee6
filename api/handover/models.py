"""A case passed from the assistant (or the gateway, or staff) to people."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
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
    # A red flag a clerk judged not to be one: out of the red-flag state, on the clinicians'
    # daily review list (RedFlagReview) until one confirms or reopens it.
    RED_FLAG_LOWERED = "red_flag_lowered"
    # The hospital's PAS refused a booking made in Rebook (the slot was taken there).
    PAS_REFUSED = "pas_refused"


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
    # How staff checked who the patient is when they linked the case to one (casework.identify:
    # a key of casework.IDENTITY_CHECKS), and whether the check was made with the person on
    # the case's conversation's number (only then is the conversation verified too).
    identity_check: Mapped[str | None] = mapped_column(String(32))
    identity_on_conversation_number: Mapped[bool | None] = mapped_column(Boolean)
    identity_checked_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    identity_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"  # a clinician agrees: not a red flag
    REOPENED = "reopened"  # a clinician disagrees: back to an urgent red flag


class RedFlagReview(Base):
    """A red flag a clerk lowered ("not a red flag", with why), for a clinician to review."""

    __tablename__ = "red_flag_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handover.id"), index=True)
    lowered_by: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    lowered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    previous_urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency))
    status: Mapped[ReviewStatus] = mapped_column(str_enum(ReviewStatus),
                                                 default=ReviewStatus.PENDING, index=True)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)


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
