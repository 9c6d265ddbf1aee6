"""Capacity (sites, specialties, clinic sessions, slots), disruptions and offers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, UTCDateTime, str_enum, utcnow

# Reference data sits below scheduling (appointments need it too); the sessions and slots here
# refer to it.
from api.reference.models import AppointmentType, Clinician, Site, Specialty


class SessionKind(enum.StrEnum):
    CLINIC = "clinic"
    THEATRE_LIST = "theatre_list"


class SlotStatus(enum.StrEnum):
    FREE = "free"
    HELD = "held"  # held by an open offer until it expires
    BOOKED = "booked"
    BLOCKED = "blocked"  # withdrawn, e.g. by a disruption


class OfferStatus(enum.StrEnum):
    HELD = "held"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class ClinicSession(Base):
    """A clinic or theatre list: a block of time in one room that holds slots."""

    __tablename__ = "clinic_session"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[SessionKind] = mapped_column(str_enum(SessionKind))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    specialty_id: Mapped[int] = mapped_column(ForeignKey("specialty.id"))
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    location: Mapped[str] = mapped_column(String(80))  # "Outpatients B", "Theatre 3"
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    short_notice: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()
    specialty: Mapped[Specialty] = relationship()
    clinician: Mapped[Clinician | None] = relationship()
    slots: Mapped[list[Slot]] = relationship(back_populates="session")


class Slot(Base):
    __tablename__ = "slot"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="positive_duration"),
        # The matching query: free slots of one specialty and type, by start.
        Index("ix_slot_match", "specialty_id", "type", "status", "start_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("clinic_session.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    specialty_id: Mapped[int] = mapped_column(ForeignKey("specialty.id"))
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    type: Mapped[AppointmentType] = mapped_column(str_enum(AppointmentType))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[SlotStatus] = mapped_column(str_enum(SlotStatus), default=SlotStatus.FREE)
    # Bumped on every status change: a conditional UPDATE on it makes booking atomic.
    version: Mapped[int] = mapped_column(Integer, default=0)

    session: Mapped[ClinicSession | None] = relationship(back_populates="slots")
    site: Mapped[Site] = relationship()
    specialty: Mapped[Specialty] = relationship()
    clinician: Mapped[Clinician | None] = relationship()


disruption_specialty = Table(
    "disruption_specialty",
    Base.metadata,
    Column("disruption_id", ForeignKey("disruption.id", ondelete="CASCADE"), primary_key=True),
    Column("specialty_id", ForeignKey("specialty.id"), primary_key=True),
)

disruption_site = Table(
    "disruption_site",
    Base.metadata,
    Column("disruption_id", ForeignKey("disruption.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("site.id"), primary_key=True),
)


class Disruption(Base):
    """A period of industrial action and what it touches."""

    __tablename__ = "disruption"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    staff_group: Mapped[str] = mapped_column(String(80))  # "resident doctors", "consultants"
    reason: Mapped[str] = mapped_column(Text, default="industrial action")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    specialties: Mapped[list[Specialty]] = relationship(secondary=disruption_specialty)
    sites: Mapped[list[Site]] = relationship(secondary=disruption_site)


class Offer(Base):
    """A slot held for one appointment until `expires_at`."""

    __tablename__ = "offer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"), index=True)
    status: Mapped[OfferStatus] = mapped_column(str_enum(OfferStatus), default=OfferStatus.HELD)
    source: Mapped[str] = mapped_column(String(32), default="assistant")  # assistant/staff/campaign
    rank: Mapped[int] = mapped_column(Integer, default=1)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    slot: Mapped[Slot] = relationship()
