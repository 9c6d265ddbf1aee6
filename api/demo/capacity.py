"""The demo trust's capacity as plain data: weekly clinics and lists, as session and slot rows.

Part of the pure generator (`api.demo.generator`); nothing here reads or writes a database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from api.demo import data
from api.reference.models import AppointmentType
from api.scheduling.models import SessionKind, SlotStatus
from api.system import localtime

if TYPE_CHECKING:
    from api.demo.generator import Existing

WINDOW = timedelta(weeks=12)  # capacity this far before and after `today`

# Weekly sessions per specialty at the default size; they scale with `patients`, with a
# floor so a small trust still has every kind of capacity to rebook into.
OUTPATIENT_STREAMS, OUTPATIENT_STREAMS_MIN = 8, 3
PROCEDURE_STREAMS, PROCEDURE_STREAMS_MIN = 3, 1
THEATRE_STREAMS, THEATRE_STREAMS_MIN = 4, 2
CLINIC_SLOTS, CLINIC_SLOT_MINUTES = 10, 20
PROCEDURE_LIST_MINUTES = 210
THEATRE_LIST_MINUTES = 540  # 08:30-17:30
CLOSED_DAYS = {(12, 25), (12, 26), (1, 1)}  # no planned clinics on these bank holidays


@dataclass(frozen=True, slots=True)
class Stream:
    """A weekly recurring session: one clinic or list on one weekday."""

    kind: SessionKind
    type: AppointmentType
    weekday: int
    start: time
    site_code: str
    location: str
    clinician: int  # index into the specialty's clinicians
    slot_minutes: tuple[int, ...] = ()  # empty for a theatre list: cases are drawn per list


def _at(day: date, clock: time) -> datetime:
    return localtime.at_local(day, clock)


class Capacity:
    """Sessions and slots from `today - WINDOW` to `today + WINDOW`, with explicit ids."""

    def __init__(self, *, rng: random.Random, today: date, scale: float,
                 existing: Existing) -> None:
        self.rng = rng
        self.today = today
        self.scale = scale
        self.existing = existing

    def build(self) -> tuple[list[dict], list[dict]]:
        streams = {info.code: self._streams(info, index)
                   for index, info in enumerate(data.SPECIALTIES)}
        by_code = {info.code: info for info in data.SPECIALTIES}
        self.session_id = self.existing.next_ids["clinic_session"]
        self.slot_id = self.existing.next_ids["slot"]
        self.planned_at = _at(self.today - WINDOW - timedelta(weeks=6), time(9, 0))
        sessions: list[dict] = []
        slots: list[dict] = []
        day = self.today - WINDOW
        while day < self.today + WINDOW:
            if day.weekday() < 5 and (day.month, day.day) not in CLOSED_DAYS:
                for code, specialty_streams in streams.items():
                    for stream in specialty_streams:
                        if stream.weekday == day.weekday():
                            self._session(by_code[code], stream, day, sessions, slots)
            day += timedelta(days=1)
        return sessions, slots

    def _session(self, info: data.SpecialtyInfo, stream: Stream, day: date,
                 sessions: list[dict], slots: list[dict]) -> None:
        """One session of `stream` on `day`, and its slots."""
        minutes = stream.slot_minutes or self._theatre_cases(info)
        starts_at = _at(day, stream.start)
        clinician_id = self.existing.clinician_ids[info.code][stream.clinician]
        site_id = self.existing.site_ids[stream.site_code]
        specialty_id = self.existing.specialty_ids[info.code]
        sessions.append({
            "id": self.session_id, "kind": stream.kind, "site_id": site_id,
            "specialty_id": specialty_id, "clinician_id": clinician_id,
            "location": stream.location, "starts_at": starts_at,
            "ends_at": starts_at + timedelta(minutes=sum(minutes)),
            "short_notice": False, "created_at": self.planned_at,
        })
        offset = 0
        for length in minutes:
            slots.append({
                "id": self.slot_id, "session_id": self.session_id, "site_id": site_id,
                "specialty_id": specialty_id, "clinician_id": clinician_id,
                "type": stream.type,
                "start_at": starts_at + timedelta(minutes=offset),
                "duration_minutes": length, "status": SlotStatus.FREE,
                "version": 0,
            })
            self.slot_id += 1
            offset += length
        self.session_id += 1

    def _streams(self, info: data.SpecialtyInfo, index: int) -> list[Stream]:
        streams = []
        n_clinics = max(OUTPATIENT_STREAMS_MIN, round(OUTPATIENT_STREAMS * self.scale))
        for i in range(n_clinics):
            # The first five clinics are mornings across the week, the next five afternoons.
            start = time(9, 0) if (i // 5) % 2 == 0 else time(13, 30)
            streams.append(Stream(
                SessionKind.CLINIC, AppointmentType.OUTPATIENT, (index + i) % 5, start,
                info.sites[i % len(info.sites)], f"Outpatients {'ABCDEFGH'[(index + i // 10) % 8]}",
                i % len(info.clinicians), (CLINIC_SLOT_MINUTES,) * CLINIC_SLOTS))
        if info.procedure:
            per_list = PROCEDURE_LIST_MINUTES // info.procedure.minutes
            n_lists = max(PROCEDURE_STREAMS_MIN, round(PROCEDURE_STREAMS * self.scale))
            for i in range(n_lists):
                start = time(8, 30) if (i // 5) % 2 == 0 else time(13, 30)
                streams.append(Stream(
                    SessionKind.CLINIC, AppointmentType.PROCEDURE, (index + 2 + i) % 5, start,
                    info.sites[i % len(info.sites)], info.procedure.location,
                    (i + 1) % len(info.clinicians), (info.procedure.minutes,) * per_list))
        if info.theatre_sites:
            n_lists = max(THEATRE_STREAMS_MIN, round(THEATRE_STREAMS * self.scale))
            for i in range(n_lists):
                site = info.theatre_sites[i % len(info.theatre_sites)]
                streams.append(Stream(
                    SessionKind.THEATRE_LIST, AppointmentType.THEATRE, (index + 1 + i) % 5,
                    time(8, 30), site, f"Theatre {1 + (index + i // 5) % 6}",
                    i % len(info.clinicians)))
        return streams

    def _theatre_cases(self, info: data.SpecialtyInfo) -> tuple[int, ...]:
        cases, used = [], 0
        while True:
            minutes = self.rng.choice(info.case_minutes)
            if used + minutes > THEATRE_LIST_MINUTES:
                return tuple(cases) or (minutes,)
            cases.append(minutes)
            used += minutes
