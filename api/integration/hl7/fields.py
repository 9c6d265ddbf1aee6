"""HL7 v2 text both ways: reading a segment's fields, writing escaped values and times.

python-hl7 (`hl7.parse`) splits a message into segments and fields; these helpers read a
field's repetitions and components as plain unescaped strings, so the parser reads
`PID-3` as a list of identifiers without caring whether python-hl7 nested it. Outbound,
values are escaped with HL7's escape sequences and times written as DTM in UTC (+0000).
A time the PAS sends without an offset is read as the trust's wall-clock time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import hl7
from hl7.util import unescape

from api.system import localtime

ENCODING = "^~\\&"
_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"),
            ("\r", " "), ("\n", " "))


def normalise(raw: str) -> str:
    """A message's text with \\r between segments (files and some engines use \\n)."""
    return raw.replace("\r\n", "\r").replace("\n", "\r").strip("\r \t\x0b\x1c")


def message(raw: str) -> hl7.Message:
    """Parse one message (raises on a message python-hl7 cannot split)."""
    return hl7.parse(normalise(raw))


class Seg:
    """One parsed segment read by field number (MSH-n as the standard numbers it)."""

    def __init__(self, parsed: hl7.Message, segment):
        self._message = parsed
        self._segment = segment
        self._rep, self._comp, self._sub = parsed.separators[2:5]

    def field(self, number: int) -> str:
        """The field's raw (still escaped) text; "" when absent."""
        if number >= len(self._segment):
            return ""
        return str(self._segment[number])

    def reps(self, number: int) -> list[list[str]]:
        """Each repetition of a field as its unescaped components (first subcomponents)."""
        text = self.field(number)
        if not text:
            return []
        return [[unescape(self._message, comp.split(self._sub)[0])
                 for comp in rep.split(self._comp)] for rep in text.split(self._rep)]

    def get(self, number: int, component: int = 1, repetition: int = 1) -> str:
        """One component of one repetition, unescaped and stripped; "" when absent."""
        reps = self.reps(number)
        if len(reps) < repetition or len(reps[repetition - 1]) < component:
            return ""
        return reps[repetition - 1][component - 1].strip()


def segments(parsed: hl7.Message, name: str) -> list[Seg]:
    return [Seg(parsed, s) for s in parsed if str(s[0]) == name]


def first(parsed: hl7.Message, name: str) -> Seg | None:
    found = segments(parsed, name)
    return found[0] if found else None


def component(values: list[str], number: int) -> str:
    return values[number - 1].strip() if len(values) >= number else ""


def escape(value: object) -> str:
    """A value as HL7 text: separators and the escape character escaped, line breaks spaced."""
    text = "" if value is None else str(value)
    for plain, escaped in _ESCAPES:
        text = text.replace(plain, escaped)
    return text


def segment(name: str, *fields: object) -> str:
    """A segment's text; each field already formatted (components joined with ^)."""
    return "|".join((name, *("" if f is None else str(f) for f in fields))).rstrip("|")


def msh(*, sender: tuple[str, str], receiver: tuple[str, str], at: datetime,
        message_type: str, control_id: str, version: str = "2.5") -> str:
    """A header: MSH-3/4 sender, MSH-5/6 receiver, MSH-7 time, MSH-9, MSH-10, MSH-11 P,
    MSH-12 version, MSH-18 UTF-8."""
    return "|".join(("MSH", ENCODING, escape(sender[0]), escape(sender[1]),
                     escape(receiver[0]), escape(receiver[1]), dtm(at), "", message_type,
                     escape(control_id), "P", version, "", "", "", "", "", "UNICODE UTF-8"))


def dtm(moment: datetime | None) -> str:
    """An instant as HL7 DTM in UTC, to the 1/10,000 s the standard allows."""
    if moment is None:
        return ""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y%m%d%H%M%S")
    if utc.microsecond:
        text += f".{utc.microsecond // 100:04d}"
    return text + "+0000"


def dt(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def parse_dtm(value: str) -> datetime | None:
    """An HL7 DTM as an aware UTC instant (no offset: the trust's local time); raises
    ValueError when it is not a time."""
    if not value:
        return None
    moment = hl7.parse_datetime(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=localtime.patient_zone())
    return moment.astimezone(UTC)


def parse_dt(value: str) -> date | None:
    """An HL7 DT (or the date of a DTM); raises ValueError when it is not a date."""
    if not value:
        return None
    if len(value) < 8 or not value[:8].isdigit():
        raise ValueError(f"{value!r} is not a date")
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
