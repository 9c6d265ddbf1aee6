"""Small CSV files for the tests, written row by row from the demo trust's codes."""

from __future__ import annotations

import csv
from pathlib import Path

from api.integration.csvfile import capacity, waiting_list
from tests.factories import valid_nhs_number


def patient_row(n: int, **cells: str) -> dict[str, str]:
    """A waiting-list row for patient n: a postponed outpatient appointment (demo codes)."""
    return {"LOCAL_PATIENT_IDENTIFIER": f"H{n:06d}", "NHS_NUMBER": valid_nhs_number(n * 37),
            "PATIENT_GIVEN_NAME": "Alex", "PATIENT_FAMILY_NAME": f"Tester{n}",
            "PERSON_BIRTH_DATE": "03/07/1958", "POSTCODE": "NX1 4RN",
            "MOBILE": f"07700 900{n % 1000:03d}", "APPOINTMENT_ID": f"WL{n}",
            "STATUS": "postponed", "SPECIALTY_CODE": "DERM", "PRIORITY_TYPE_CODE": "1",
            "REFERRAL_REQUEST_RECEIVED_DATE": "2026-08-03", "DUE_DATE": "07/12/2026",
            "DURATION_MINUTES": "20"} | cells


def slot_row(n: int, **cells: str) -> dict[str, str]:
    """A capacity row: slot n in session C1 (demo codes), 20 minutes apart from 09:00."""
    minutes = 9 * 60 + 20 * n
    return {"SESSION_ID": "C1", "SESSION_KIND": "clinic", "LOCATION": "Outpatients A",
            "SESSION_START": "2026-12-14 09:00", "SESSION_END": "2026-12-14 17:00",
            "SLOT_ID": f"SL{n}", "SITE_CODE": "NTH-RNI", "SPECIALTY_CODE": "DERM",
            "SLOT_START": f"14/12/2026 {minutes // 60:02d}:{minutes % 60:02d}",
            "DURATION_MINUTES": "20", "SLOT_STATUS": "free"} | cells


def write(path: Path, rows: list[dict[str, str]], columns=None, *,
          encoding: str = "utf-8") -> Path:
    columns = columns or (waiting_list.COLUMNS if "APPOINTMENT_ID" in rows[0]
                          else capacity.COLUMNS)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path
