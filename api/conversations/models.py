"""The conversation record: who is on the line, what they proved, who is handling it."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, str_enum, utcnow


class Channel(enum.StrEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"
    EMAIL = "email"


class ConversationState(enum.StrEnum):
    ASSISTANT = "assistant"  # Rasa answers
    WITH_STAFF = "with_staff"  # paused for a handover; the safety screen still runs
    LOCKED = "locked"  # identity checks failed; staff must unlock
    CLOSED = "closed"


def new_public_id() -> str:
    """A pseudonymous id: what Rasa sees instead of a phone number."""
    return secrets.token_hex(16)


class Conversation(Base):
    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("channel", "address", name="channel_address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    address: Mapped[str] = mapped_column(String(40))  # E.164, "whatsapp:+44..." or email
    state: Mapped[ConversationState] = mapped_column(
        str_enum(ConversationState), default=ConversationState.ASSISTANT
    )
    # The patient this conversation has verified as; None until identity is proven.
    verified_patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    verified_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_identity_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Opens the WhatsApp 24-hour customer-service window.
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
