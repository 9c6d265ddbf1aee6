"""A phone number and its addresses: the same number is written to on SMS and on WhatsApp,
and several patients may share it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.patients.models import Patient


def bare_number(address: str) -> str:
    """"whatsapp:+447700900123" -> "+447700900123"."""
    return address.removeprefix("whatsapp:")


def addresses_of_number(address: str) -> list[str]:
    """Every address one number is written to: SMS and WhatsApp (a cap is per number)."""
    if "@" in address:
        return [address]
    return [bare_number(address), f"whatsapp:{bare_number(address)}"]


def patients_on_number(*, session: Session, address: str) -> list[Patient]:
    """Every patient whose mobile is this number (phones are shared)."""
    number = bare_number(address)
    return list(session.scalars(
        select(Patient).where(Patient.mobile == number).order_by(Patient.id)))
