"""Finding a patient for staff: by NHS number, by family name and date of birth, or by phone.

Staff look a patient up when a case arrived without one (opened while the assistant was
unavailable, or from a number nobody is registered on). Every way in is exact on something
that identifies (a valid NHS number, a full date of birth, a normalised phone number), so a
search never lists half the register. Who searched, and why, is audited by the caller (the
patients domain sits below audit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import errors
from api.patients.identifiers import InvalidIdentifier, normalise_mobile, normalise_nhs_number
from api.patients.models import Patient

MAX_RESULTS = 20
_DATE = re.compile(r"^\s*(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


class SearchRefused(errors.Invalid):
    """A search that cannot be run as asked (422): the reason says what to change."""


@dataclass(frozen=True)
class Criteria:
    """What staff typed; blank fields are ignored."""

    nhs_number: str = ""
    family_name: str = ""
    date_of_birth: str = ""
    phone: str = ""

    @property
    def given(self) -> bool:
        return any((self.nhs_number.strip(), self.family_name.strip(),
                    self.date_of_birth.strip(), self.phone.strip()))

    def kinds(self) -> list[str]:
        """Which fields were used (for the audit trail, never their values)."""
        return [name for name in ("nhs_number", "family_name", "date_of_birth", "phone")
                if getattr(self, name).strip()]


def parse_date_of_birth(raw: str, *, today: date | None = None) -> date:
    """A date of birth as staff type it: "31/01/1980", "31-1-1980", "1980-01-31".

    An impossible date ("31/02/1980") or one in the future is refused with a clear reason."""
    text = raw.strip()
    british, iso = _DATE.match(text), _ISO_DATE.match(text)
    if british:
        day, month, year = (int(part) for part in british.groups())
    elif iso:
        year, month, day = (int(part) for part in iso.groups())
    else:
        raise SearchRefused("enter the date of birth as day/month/year, e.g. 31/01/1980")
    try:
        born = date(year, month, day)
    except ValueError as exc:
        raise SearchRefused(f"{text} is not a real date: check the day and the month") from exc
    if born > (today or date.today()):
        raise SearchRefused("the date of birth is in the future")
    return born


def find_patients(*, session: Session, criteria: Criteria,
                  limit: int = MAX_RESULTS) -> list[Patient]:
    """Patients matching every field given. Needs an NHS number, or a family name with a date
    of birth, or a phone number (SearchRefused otherwise, or when a field is not valid)."""
    nhs, family = criteria.nhs_number.strip(), criteria.family_name.strip()
    dob, phone = criteria.date_of_birth.strip(), criteria.phone.strip()
    if not (nhs or phone or (family and dob)):
        raise SearchRefused("search by NHS number, by family name and date of birth, "
                            "or by phone number")
    query = select(Patient)
    try:
        if nhs:
            query = query.where(Patient.nhs_number == normalise_nhs_number(nhs))
        if phone:
            query = query.where(Patient.mobile == normalise_mobile(phone))
    except InvalidIdentifier as exc:
        raise SearchRefused(str(exc)) from exc
    if dob:
        query = query.where(Patient.date_of_birth == parse_date_of_birth(dob))
    if family:
        query = query.where(func.lower(Patient.family_name) == family.lower())
    return list(session.scalars(
        query.order_by(Patient.family_name, Patient.given_name, Patient.id).limit(limit)))
