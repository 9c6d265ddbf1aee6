"""Scan log files for the kinds of personal data the suite uses (synthetic, but shaped real)."""

from __future__ import annotations

import re
from pathlib import Path

PATTERNS = {
    "mobile": re.compile(r"(?:\+44|\b0)\s?7700\s?900\s?\d{3}"),
    "nhs number": re.compile(r"\b999\s?\d{3}\s?\d{4}\b"),
    "date of birth": re.compile(r"\b(?:19[2-9]\d|200\d)-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/(?:19|20)?\d{2}\b"),
    "message body": re.compile(r"chest pi?a?i?n|cant breathe|hello once|burst \d+|echo: ", re.I),
}


def find_personal_data(paths: list[Path]) -> list[str]:
    """Lines that look like they carry a phone number, NHS number, date of birth or body."""
    hits = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            for kind, pattern in PATTERNS.items():
                if pattern.search(line):
                    hits.append(f"{path.name}: {kind}: {line}")
                    break
    return hits
