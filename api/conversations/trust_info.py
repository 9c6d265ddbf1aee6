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

from api import texts
from api.reference.models import AppointmentType, Site

SITE_MATCH_THRESHOLD = 85
# Words every site name shares; matching on them would pick a hospital at random.
_COMMON_WORDS = {"hospital", "hospitals", "the", "centre", "center", "community", "general",
                 "royal", "treatment", "infirmary", "clinic", "nhs", "trust", "of", "and"}


class TrustInfo(BaseSettings):
    """Trust-wide texts; each can be overridden by an environment variable TRUST_INFO_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="TRUST_INFO_", env_file=".env",
                                      env_file_encoding="utf-8", extra="ignore")

    what_to_bring: str = texts.text("trust_info_what_to_bring")
    theatre_note: str = texts.text("trust_info_theatre_note")
    interpreter: str = texts.text("trust_info_interpreter")
    accessibility: str = texts.text("trust_info_accessibility")
    transport: str = texts.text("trust_info_transport")
    parking: str = texts.text("trust_info_parking")
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
        return texts.text("site_parking", site=site.name, parking=text)
    if topic == "transport":
        text = site.transport.strip()
        return (texts.text("site_getting_there", site=site.name, transport=text,
                           help=info.transport) if text
                else texts.text("site_address_and_transport", site=site.name,
                                address=site_line(site), help=info.transport))
    if topic == "accessibility":
        key = "site_step_free" if site.step_free_access else "site_steps"
        return texts.text(key, site=site.name, help=info.accessibility)
    return texts.text("site_address", address=site_line(site))


def general_topic(topic: str, *, site_names: list[str]) -> str:
    """The answer when we do not know which hospital the patient means."""
    info = get_trust_info()
    names = ", ".join(site_names)
    ask = texts.text("which_hospital", names=names)
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
