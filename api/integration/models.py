"""The integration domain's tables: what came in from the PAS, what goes back, and what
staff must look at.

- `PasInbound`: every message or resource the PAS sent, stored raw before it is answered or
  applied (an HL7 message is persisted, then ACKed), unique per adapter and message id, so a
  resend changes nothing twice.
- `PasLink`: which local row a PAS identifier stands for, with the newest event time and
  version applied to it, so an older update arriving late is recognised and ignored.
- `PasRequest`: the outbox back to the PAS (a booking, a change, a cancellation), sent by the
  write-back dispatcher with a lease, retried until the PAS answers.
- `SyncCursor`: where an incremental pull (FHIR `_lastUpdated`) got to.
- `IntegrationException`: a conflict or a message that could not be applied, with the raw
  message, for staff (admins) to resolve.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, str_enum, utcnow


class Adapter(enum.StrEnum):
    FHIR = "fhir"
    HL7 = "hl7"
    CSV = "csv"


class DataKind(enum.StrEnum):
    """What a record is about; one adapter is the source of truth for each."""

    PATIENT = "patient"
    APPOINTMENT = "appointment"
    SLOT = "slot"
    SESSION = "session"


class InboundStatus(enum.StrEnum):
    RECEIVED = "received"  # stored, not yet applied
    APPLIED = "applied"
    IGNORED = "ignored"  # a duplicate, older than what we hold, or not this adapter's data
    PARKED = "parked"  # could not be applied: an exception for staff holds the reason


class RequestKind(enum.StrEnum):
    BOOK = "book"
    MODIFY = "modify"
    CANCEL = "cancel"


class RequestStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the dispatcher (or its next retry)
    SENDING = "sending"  # claimed under a lease
    ACCEPTED = "accepted"  # the PAS took it
    REFUSED = "refused"  # the PAS said no (slot taken, unknown patient...): staff told
    PENDING_UPLOAD = "pending_upload"  # CSV mode: waits in the bookings export
    UPLOADED = "uploaded"  # CSV mode: exported for upload


OPEN_REQUEST = (RequestStatus.PENDING, RequestStatus.SENDING)


class ExceptionStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class PasInbound(Base):
    __tablename__ = "pas_inbound"
    __table_args__ = (
        UniqueConstraint("adapter", "message_id", name="uq_pas_inbound_message"),
        Index("ix_pas_inbound_pending", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    adapter: Mapped[Adapter] = mapped_column(str_enum(Adapter))
    # HL7: MSH-10 (message control id); FHIR: type/id/_history/version; CSV: file digest:line.
    message_id: Mapped[str] = mapped_column(String(200))
    message_type: Mapped[str] = mapped_column(String(40), default="")  # SIU^S15, Appointment
    event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    raw: Mapped[str] = mapped_column(Text)
    status: Mapped[InboundStatus] = mapped_column(str_enum(InboundStatus),
                                                  default=InboundStatus.RECEIVED)
    outcome: Mapped[str] = mapped_column(Text, default="")
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasLink(Base):
    __tablename__ = "pas_link"
    __table_args__ = (UniqueConstraint("kind", "pas_id", name="uq_pas_link_kind_pas_id"),
                      Index("ix_pas_link_local", "kind", "local_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[DataKind] = mapped_column(str_enum(DataKind))
    pas_id: Mapped[str] = mapped_column(String(120))
    local_id: Mapped[int] = mapped_column(Integer)
    adapter: Mapped[Adapter] = mapped_column(str_enum(Adapter))
    # The newest change applied: an update with an earlier event time or a lower version is
    # one that overtook another in transit, and is ignored.
    event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PasRequest(Base):
    __tablename__ = "pas_request"
    __table_args__ = (Index("ix_pas_request_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    adapter: Mapped[Adapter] = mapped_column(str_enum(Adapter))
    kind: Mapped[RequestKind] = mapped_column(str_enum(RequestKind))
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus),
                                                  default=RequestStatus.PENDING)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slot.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id"))
    # Where the booking was made, so the confirmation goes back to the same conversation.
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"))
    # One request per change: a retried turn or double click finds the row already there.
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The PAS's identifier for the booking once it accepted it, and its last answer in words.
    pas_reference: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncCursor(Base):
    __tablename__ = "sync_cursor"
    __table_args__ = (UniqueConstraint("adapter", "resource", name="uq_sync_cursor"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    adapter: Mapped[Adapter] = mapped_column(str_enum(Adapter))
    resource: Mapped[str] = mapped_column(String(40))  # Patient, Appointment, Slot...
    # The PAS's own `meta.lastUpdated` of the newest resource taken (its clock, not ours).
    last_updated: Mapped[str] = mapped_column(String(40), default="")
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IntegrationException(Base):
    __tablename__ = "integration_exception"
    __table_args__ = (Index("ix_integration_exception_open", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    adapter: Mapped[Adapter] = mapped_column(str_enum(Adapter))
    # A short code (unknown_patient, slot_taken, wrong_patient_risk, ...) and the words.
    reason: Mapped[str] = mapped_column(String(40), index=True)
    detail: Mapped[str] = mapped_column(Text)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("pas_inbound.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("pas_request.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    raw: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ExceptionStatus] = mapped_column(str_enum(ExceptionStatus),
                                                    default=ExceptionStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(Text, default="")
