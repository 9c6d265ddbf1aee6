"""Reference data: the trust's sites, specialties, clinicians and kinds of appointment.

The bottom domain: appointments, scheduling and everything above refer to it; it refers to
nothing of ours but the database base class.
"""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base


class AppointmentType(enum.StrEnum):
    OUTPATIENT = "outpatient"
    PROCEDURE = "procedure"
    THEATRE = "theatre"


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(Text, default="")
    postcode: Mapped[str] = mapped_column(String(8), default="")
    step_free_access: Mapped[bool] = mapped_column(Boolean, default=True)
    parking: Mapped[str] = mapped_column(Text, default="")
    transport: Mapped[str] = mapped_column(Text, default="")


class Specialty(Base):
    __tablename__ = "specialty"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    surgical: Mapped[bool] = mapped_column(Boolean, default=False)


class Clinician(Base):
    __tablename__ = "clinician"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    specialty_id: Mapped[int] = mapped_column(ForeignKey("specialty.id"))
