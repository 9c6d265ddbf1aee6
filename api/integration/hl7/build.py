"""The segments Rebook writes (the feed export and the SRM requests), as parse.py reads them."""

from __future__ import annotations

from datetime import date, datetime

from api.integration.hl7 import fields
from api.integration.hl7.fields import escape, segment
from api.integration.hl7.parse import LOCAL_TYPES, NHS_AUTHORITY, NHS_TYPE


def pid(*, local_id: str | None, nhs_number: str | None, family_name: str, given_name: str,
        date_of_birth: date | None = None, postcode: str = "", mobile: str | None = None,
        email: str | None = None, language: str = "", deceased: bool = False) -> str:
    """PID-3 (NHS number, local id PI), 5 name, 7 birth date, 11 postcode, 13 mobile (PRN^CP)
    and email (NET^Internet), 15 language, 30 death indicator."""
    ids = []
    if nhs_number:
        ids.append(f"{escape(nhs_number)}^^^{NHS_AUTHORITY}^{NHS_TYPE}")
    if local_id:
        ids.append(f"{escape(local_id)}^^^PAS^{LOCAL_TYPES[0]}")
    telecoms = []
    if mobile:
        telecoms.append(f"{escape(mobile)}^PRN^CP")
    if email:
        telecoms.append(f"^NET^Internet^{escape(email)}")
    return segment("PID", "1", "", "~".join(ids), "",
                   f"{escape(family_name)}^{escape(given_name)}", "", fields.dt(date_of_birth),
                   "", "", "", f"^^^^{escape(postcode)}" if postcode else "", "",
                   "~".join(telecoms), "", escape(language), *[""] * 14,
                   "Y" if deceased else "")


def resources(*, start_at: datetime | None, duration_minutes: int, specialty_code: str,
              site_code: str | None, clinician_code: str | None) -> list[str]:
    """RGS, AIS (3 service = specialty code, 4 start, 7-8 duration in minutes), AIL (3.4
    facility = site code), AIP (3 clinician code)."""
    lines = [segment("RGS", "1", "A"),
             segment("AIS", "1", "A", escape(specialty_code), fields.dtm(start_at), "", "",
                     str(duration_minutes), "min")]
    if site_code:
        lines.append(segment("AIL", "1", "A", f"^^^{escape(site_code)}"))
    if clinician_code:
        lines.append(segment("AIP", "1", "A", escape(clinician_code)))
    return lines
