"""The patient table. A phone number is not an identity: several patients may share one."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from api.db import Base, UTCDateTime, utcnow
from api.patients.identifiers import normalise_mobile, normalise_nhs_number


class CommunicationNeed(enum.StrEnum):
    """Accessible Information Standard needs that change how we make contact."""

    EASY_READ = "easy_read"
    LARGE_PRINT = "large_print"
    BSL = "bsl"
    INTERPRETER = "interpreter"
    CARER_CONTACT = "carer_contact"
    NO_TEXT_MESSAGES = "no_text_messages"


# Needs for which a text message is not an accessible first contact: staff call instead.
NEEDS_RULING_OUT_TEXT = frozenset(
    {CommunicationNeed.BSL, CommunicationNeed.CARER_CONTACT, CommunicationNeed.NO_TEXT_MESSAGES}
)


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nhs_number: Mapped[str] = mapped_column(String(10), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    postcode: Mapped[str] = mapped_column(String(8))
    mobile: Mapped[str | None] = mapped_column(String(16), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    whatsapp_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    preferred_language: Mapped[str] = mapped_column(String(8), default="en")
    communication_needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    communication_notes: Mapped[str | None] = mapped_column(Text)
    vulnerable: Mapped[bool] = mapped_column(Boolean, default=False)
    # From the PAS: a recorded death stops every message at once; a restricted (sensitive)
    # record is never texted automatically: campaigns put it on the staff call list.
    deceased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @validates("nhs_number")
    def _check_nhs_number(self, _key: str, value: str) -> str:
        return normalise_nhs_number(value)

    @validates("mobile")
    def _check_mobile(self, _key: str, value: str | None) -> str | None:
        return normalise_mobile(value) if value else None

    @validates("communication_needs")
    def _check_needs(self, _key: str, value: list[str]) -> list[str]:
        return sorted({CommunicationNeed(need).value for need in value or []})

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def text_is_accessible(self) -> bool:
        """True when the patient may be sent texts without a person deciding first."""
        if self.deceased_at is not None or self.restricted:
            return False
        return not NEEDS_RULING_OUT_TEXT.intersection(self.communication_needs or [])
