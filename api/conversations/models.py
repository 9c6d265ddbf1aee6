"""The conversation record: who is on the line, what they proved, who is handling it."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, str_enum, utcnow
from api.messaging.models import ADDRESS_CHARS, Channel


class ConversationState(enum.StrEnum):
    # Whether staff have it is not a state here: an open handover pauses the assistant
    # (handover.service.open_for_conversation), so the two can never disagree.
    ACTIVE = "active"
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
    address: Mapped[str] = mapped_column(String(ADDRESS_CHARS))  # E.164, "whatsapp:+44..." or email
    state: Mapped[ConversationState] = mapped_column(
        str_enum(ConversationState), default=ConversationState.ACTIVE
    )
    # The patient this conversation has verified as; None until identity is proven.
    verified_patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    verified_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_identity_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Opens the WhatsApp 24-hour customer-service window.
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A worker's lease: one worker, in any process, handles this conversation at a time.
    # It expires on its own, so a worker killed mid-turn never strands the conversation.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the retention purge emptied it (api.privacy): its messages' text and addresses,
    # its handovers' summaries and its Rasa tracker are gone; its own address too, so the
    # same number writing again starts a new conversation.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def verified_as(self, now: datetime | None = None) -> int | None:
        """The patient this conversation is verified as while the check is in force, else
        None: the one answer to "is this conversation verified?"."""
        if (self.verified_patient_id is None or self.verified_until is None
                or self.verified_until <= (now or utcnow())):
            return None
        return self.verified_patient_id


class TurnOutcome(Base):
    """What one assistant action changed and said while answering one inbound message.

    Written in the action's own transaction, together with its change (a booking, a hold, a
    cancellation request, a handover, an identity check), and deleted in the worker's
    transaction that writes the turn's replies. While it exists, the change is committed but
    its words may not be: a retried turn writes these words instead of running the action
    again (docs/architecture.md, "Retry-safe turns").
    """

    __tablename__ = "turn_outcome"
    __table_args__ = (UniqueConstraint("message_id", "action", name="uq_turn_outcome_action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"),
                                            index=True)
    action: Mapped[str] = mapped_column(String(64))
    # Rasa dispatcher messages ({"text": ..., "buttons": [...]}) and what the run returned
    # (an action's events; a form step's slot values), replayed if it runs again.
    replies: Mapped[list] = mapped_column(JSON, default=list)
    result: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
