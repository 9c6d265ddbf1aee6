"""Every message in and out. Outbound rows with status `queued` are the outbox."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, str_enum, utcnow

# A patient's address as conversations and opt-outs store it: E.164 ("+447700900123", at most
# 16 characters) or "whatsapp:+..." (25), with room to spare. The webhook refuses longer ones.
ADDRESS_CHARS = 40
PARKED_REASON_CHARS = 200
UNASSIGNED_INBOUND = "conversation_id IS NULL AND direction = 'inbound'"


class Channel(enum.StrEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    # A phone call: its replies are spoken by the voice webhooks, never sent by the dispatcher.
    VOICE = "voice"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageStatus(enum.StrEnum):
    # inbound
    RECEIVED = "received"
    PROCESSED = "processed"
    # outbound, following Twilio's lifecycle
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    PARKED = "parked"  # could not be handled (see parked_reason); waits for staff
    HELD = "held"  # not to be sent until released (a paused campaign)
    CANCELLED = "cancelled"  # withdrawn before sending (a cancelled campaign)


class MessageCategory(enum.StrEnum):
    """Why a message exists: drives opt-out rules, reporting and the sandbox."""

    PATIENT = "patient"  # inbound text from a patient
    REPLY = "reply"  # the assistant's answer
    STAFF_REPLY = "staff_reply"
    NOTIFICATION = "notification"  # campaign or reminder: never sent to an opted-out number
    CHASER = "chaser"  # a campaign's one reminder to patients who have not replied
    REMINDER = "reminder"  # before a rebooked appointment
    SAFETY_NET = "safety_net"
    HOLDING = "holding"  # the assistant is unavailable; staff will reply
    SERVICE = "service"  # HELP, START, media and rate-limit notices, booking confirmations
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"  # the answer to STOP
    # To staff, not a patient: the out-of-hours on-call alert (no patient data in it). Sent
    # day or night, never counted by or refused for the daily cap.
    STAFF_ALERT = "staff_alert"


class Message(Base):
    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_outbox", "direction", "status", "next_attempt_at"),
        Index("ix_message_conversation", "conversation_id", "id"),
        # The per-number daily cap counts a number's recent messages on every reply.
        Index("ix_message_recipient", "to_address", "created_at"),
        # Inbound messages not yet attached to a conversation (the worker's assignment pass),
        # carrier keywords included, which the webhook has processed already: a handful of
        # rows, however large the table.
        Index("ix_message_unassigned_inbound", "id",
              sqlite_where=text(UNASSIGNED_INBOUND), postgresql_where=text(UNASSIGNED_INBOUND)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    from_address: Mapped[str] = mapped_column(String(254))
    to_address: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text, default="")
    # Twilio's MessageSid (SM.../MM...); unique so a retried webhook is stored once.
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[MessageStatus] = mapped_column(str_enum(MessageStatus))
    category: Mapped[MessageCategory] = mapped_column(
        str_enum(MessageCategory), default=MessageCategory.REPLY
    )
    error_code: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # WhatsApp templates outside the 24-hour window.
    content_sid: Mapped[str | None] = mapped_column(String(64))
    content_variables: Mapped[dict | None] = mapped_column(JSON)
    # Makes "send this once" safe to retry, e.g. "campaign:7:patient:42".
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    # The inbound message this one answers (a carrier keyword's confirmation is queued before
    # the keyword has a conversation; attaching the keyword attaches its answer too).
    reply_to_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Email only.
    subject: Mapped[str | None] = mapped_column(String(200))
    media: Mapped[list | None] = mapped_column(JSON)
    # Quick replies as [{"title", "payload"}]: WhatsApp buttons, numbered lines on SMS.
    buttons: Mapped[list | None] = mapped_column(JSON)
    # Which dispatcher holds this outbound message, until when (see dispatcher.claim).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set once the conversation layer has acted on a failed delivery (fallback or call list).
    failure_handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why a message is parked (status `parked`): what staff read before acting on it.
    parked_reason: Mapped[str | None] = mapped_column(String(PARKED_REASON_CHARS))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OptOut(Base):
    """A number that said STOP, whether or not any patient record carries it.

    The carrier blocks messages to it anyway (21610); keeping it here means nothing is even
    queued for it, including for numbers that are not (or no longer) on a patient's record.
    """

    __tablename__ = "opt_out"

    # E.164, no "whatsapp:"
    number: Mapped[str] = mapped_column(String(ADDRESS_CHARS), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
