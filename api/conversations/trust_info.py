"""Practical information the assistant gives: where, parking, transport, access, what to bring.

Everything is configurable per trust. Site facts (address, parking, transport, step-free
access) come from the `site` rows staff maintain; the trust-wide texts come from settings
with the TRUST_INFO_ prefix (e.g. TRUST_INFO_WHAT_TO_BRING), so a deployment changes them
without a code change. Texts are plain English, short, GSM-7 only (straight apostrophes).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict
from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.reference.models import AppointmentType, Site

SITE_MATCH_THRESHOLD = 85
# Words every site name shares; matching on them would pick a hospital at random.
_COMMON_WORDS = {"hospital", "hospitals", "the", "centre", "center", "community", "general",
                 "royal", "treatment", "infirmary", "clinic", "nhs", "trust", "of", "and"}


class TrustInfo(BaseSettings):
    """Trust-wide texts; each can be overridden by an environment variable TRUST_INFO_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="TRUST_INFO_", env_file=".env",
                                      env_file_encoding="utf-8", extra="ignore")

    what_to_bring: str = (
        "Please bring a list of the medicines you take, your glasses or hearing aids if you "
        "use them, and this message or your letter.")
    theatre_note: str = (
        "We'll send you instructions about eating and drinking before your operation.")
    interpreter: str = (
        "Interpreters are free, including British Sign Language. We'll book one for you.")
    accessibility: str = (
        "You're welcome to bring a carer or friend. Tell us if you need help getting around "
        "the hospital and we'll arrange it.")
    transport: str = (
        "If a medical condition means you can't travel by car or public transport, you may be "
        "able to get free patient transport: ask the bookings team.")
    parking: str = "Blue Badge holders can park free at all our hospitals."
    website: str = ""


@lru_cache
def get_trust_info() -> TrustInfo:
    return TrustInfo()


def sites(*, session: Session) -> list[Site]:
    """Every site, by name."""
    return list(session.scalars(select(Site).order_by(Site.name)))


def _distinctive_words(name: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]+", name.lower()) if w not in _COMMON_WORDS]


def match_site(*, session: Session, text: str) -> Site | None:
    """The site a patient names ("millbrook", "the eastgate one", "RNI"), if exactly one."""
    words = re.findall(r"[a-z]+", (text or "").lower())
    found = []
    for site in sites(session=session):
        code_tail = site.code.lower().split("-")[-1]
        distinctive = _distinctive_words(site.name)
        if code_tail in words or any(
                fuzz.ratio(word, name_word) >= SITE_MATCH_THRESHOLD
                for word in words if len(word) >= 4 for name_word in distinctive):
            found.append(site)
    return found[0] if len(found) == 1 else None


def site_line(site: Site) -> str:
    """"Royal Northshire Infirmary, Infirmary Road, Northshire NX1 4RN"."""
    parts = [site.name, site.address.strip(), site.postcode.strip()]
    line = ", ".join(p for p in parts[:2] if p)
    return f"{line} {parts[2]}".strip() if parts[2] else line


def site_topic(site: Site, topic: str) -> str:
    """One site's answer to a practical question (location/parking/transport/accessibility)."""
    info = get_trust_info()
    if topic == "parking":
        text = site.parking.strip() or info.parking
        return f"Parking at {site.name}: {text}"
    if topic == "transport":
        text = site.transport.strip()
        return (f"Getting to {site.name}: {text} {info.transport}" if text
                else f"{site.name} is at {site_line(site)}. {info.transport}")
    if topic == "accessibility":
        access = ("has step-free access" if site.step_free_access
                  else "has steps at the main entrance; please ask us about the accessible way in")
        return f"{site.name} {access}. {info.accessibility}"
    return f"{site_line(site)}."


def general_topic(topic: str, *, site_names: list[str]) -> str:
    """The answer when we do not know which hospital the patient means."""
    info = get_trust_info()
    names = ", ".join(site_names)
    ask = f"Our hospitals are {names}. Tell me which one and I'll send the details."
    if topic == "parking":
        return f"{info.parking} {ask}"
    if topic == "transport":
        return f"{info.transport} {ask}"
    if topic == "accessibility":
        return f"{info.accessibility} {ask}"
    return ask


def what_to_bring(*, appointment_type: AppointmentType | None = None) -> str:
    """What to bring to an appointment (and, for an operation, what happens before it)."""
    info = get_trust_info()
    if appointment_type is AppointmentType.THEATRE:
        return f"{info.what_to_bring} {info.theatre_note}"
    return info.what_to_bring


def interpreter_text() -> str:
    return get_trust_info().interpreter
