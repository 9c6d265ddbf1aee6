"""Appointments and their status history."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, UTCDateTime, str_enum, utcnow
from api.reference.models import AppointmentType


class Priority(enum.StrEnum):
    """Surgical priority (Royal College of Surgeons) and outpatient pathways."""

    P1A = "P1a"  # within 24 hours
    P1B = "P1b"  # within 72 hours
    P2 = "P2"  # within 4 weeks
    P3 = "P3"  # within 3 months
    P4 = "P4"  # over 3 months
    URGENT = "urgent"
    SUSPECTED_CANCER = "suspected_cancer"
    ROUTINE = "routine"


SURGICAL_PRIORITIES = (Priority.P1A, Priority.P1B, Priority.P2, Priority.P3, Priority.P4)
OUTPATIENT_PRIORITIES = (Priority.URGENT, Priority.SUSPECTED_CANCER, Priority.ROUTINE)


class Pathway(enum.StrEnum):
    RTT = "rtt"  # referral to treatment, 18 weeks
    CANCER_FDS = "cancer_fds"  # 28-day faster diagnosis
    CANCER_62 = "cancer_62"  # 62-day referral to treatment


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    POSTPONED = "postponed"
    OFFERED = "offered"
    REBOOKED = "rebooked"
    PENDING_CLINICAL_REVIEW = "pending_clinical_review"  # patient says they cannot come / no need
    CANCELLED = "cancelled"  # only after a clinical decision
    ATTENDED = "attended"


# Statuses whose appointment is still waiting for a date.
AWAITING_DATE = (AppointmentStatus.POSTPONED, AppointmentStatus.OFFERED)


class Appointment(Base):
    __tablename__ = "appointment"
    __table_args__ = (Index("ix_appointment_status_priority", "status", "priority"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slot.id"), index=True)
    specialty_id: Mapped[int] = mapped_column(ForeignKey("specialty.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    requires_named_clinician: Mapped[bool] = mapped_column(Boolean, default=False)
    type: Mapped[AppointmentType] = mapped_column(str_enum(AppointmentType))
    duration_minutes: Mapped[int] = mapped_column(Integer, default=20)
    priority: Mapped[Priority] = mapped_column(str_enum(Priority))
    pathway: Mapped[Pathway] = mapped_column(str_enum(Pathway), default=Pathway.RTT)
    referral_date: Mapped[date] = mapped_column(Date)
    breach_date: Mapped[date] = mapped_column(Date)
    times_postponed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[AppointmentStatus] = mapped_column(
        str_enum(AppointmentStatus), default=AppointmentStatus.BOOKED
    )
    disruption_id: Mapped[int | None] = mapped_column(ForeignKey("disruption.id"), index=True)
    interpreter_language: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patient = relationship("Patient")
    slot = relationship("Slot")
    specialty = relationship("Specialty")
    history: Mapped[list[AppointmentEvent]] = relationship(
        back_populates="appointment", order_by="AppointmentEvent.id", cascade="all, delete-orphan"
    )


class AppointmentEvent(Base):
    """One status change of an appointment: nothing about an appointment is ever overwritten."""

    __tablename__ = "appointment_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[AppointmentStatus | None] = mapped_column(str_enum(AppointmentStatus))
    to_status: Mapped[AppointmentStatus] = mapped_column(str_enum(AppointmentStatus))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64), default="system")  # system/assistant/staff:<id>
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slot.id"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    appointment: Mapped[Appointment] = relationship(back_populates="history")
