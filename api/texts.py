"""The catalogue of patient-facing texts (api/texts.yml), filled in by name.

The assistant's actions, the worker and the flows speak from it, so every word a patient reads
can be reviewed (and later translated) in one place.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import yaml

from api.config import Settings
from api.system import localtime

if TYPE_CHECKING:  # the catalogue needs no tables at run time
    from api.scheduling.models import Slot

TEXTS_FILE = Path(__file__).with_name("texts.yml")


@lru_cache
def catalogue() -> dict[str, str]:
    return yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))


def template(key: str) -> str:
    """The text called `key` with its {placeholders} unfilled (for templates filled later)."""
    return catalogue()[key]


def text(key: str, **values: object) -> str:
    """The text called `key`, with its {placeholders} filled."""
    return catalogue()[key].format(**values)


def clock(moment: datetime, *, zone: ZoneInfo) -> str:
    """"2:30pm", "9am": wall-clock time in the patient's time zone."""
    moment = moment.astimezone(zone)
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def day(moment: datetime, *, zone: ZoneInfo) -> str:
    """"Tue 16 Jan": the date in the patient's time zone."""
    moment = moment.astimezone(zone)
    return f"{moment:%a} {moment.day} {moment:%b}"


def when(moment: datetime, *, zone: ZoneInfo) -> str:
    """"Tue 16 Jan, 2:30pm"."""
    return f"{day(moment, zone=zone)}, {clock(moment, zone=zone)}"


def slot_place(slot: Slot) -> str:
    """"Royal Northshire Infirmary, Outpatients B": the slot's site and, if known, the room."""
    location = slot.session.location if slot.session is not None else ""
    return ", ".join(part for part in (slot.site.name, location) if part)


def slot_line(slot: Slot, *, zone: ZoneInfo) -> str:
    """"Tue 16 Jan, 2:30pm, Royal Northshire Infirmary, Outpatients B"."""
    return f"{when(slot.start_at, zone=zone)}, {slot_place(slot)}"


def answer_by(*, settings: Settings, due_at: datetime) -> str:
    """"They'll be in touch by 3pm today.": when staff will answer, in the patient's zone."""
    zone = localtime.patient_zone(settings)
    local = due_at.astimezone(zone)
    today = localtime.local_today(settings)
    if local.date() == today:
        day = "today"
    elif (local.date() - today).days == 1:
        day = "tomorrow"
    else:
        day = f"on {local:%A} {local.day} {local:%B}"
    return text("contact_by", time=clock(local, zone=zone), day=day)
