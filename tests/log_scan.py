"""Scan log files for the kinds of personal data the suite uses (synthetic, but shaped real)."""

from __future__ import annotations

import re
from pathlib import Path

# A separator inside a number: a space, or a space as a query string encodes it.
_SEP = r"(?:\s|%20|\+)?"

PATTERNS = {
    # Ofcom's drama range, however written: +44 7700 900123, 07700900123, bare 447700900123,
    # URL-encoded %2B447700900123 (whatsapp%3A%2B...), encoded twice %252B..., 0044...
    "mobile": re.compile(
        rf"(?i)(?<!\d)(?:(?:\+|%2B|%252B|00)?44|0){_SEP}7700{_SEP}900{_SEP}\d{{3}}(?!\d)"),
    "nhs number": re.compile(rf"(?<!\d)999{_SEP}\d{{3}}{_SEP}\d{{4}}(?!\d)"),
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
