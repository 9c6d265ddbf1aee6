"""The synthetic demo trust as plain data: capacity, appointments, patients and their history.

Pure: no database. Everything random comes from one `random.Random(seed)`, called in a fixed
order, and every date and time is derived from `today`, so the same seed, `today` and
`Existing` give the same rows. `Existing` carries what the rows must fit around (the ids of the
reference data, the next free id of each bulk-inserted table, NHS numbers already on file);
`api.demo.writer` reads it from the database and persists what `generate` returns.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from api.appointments.models import AppointmentStatus, Pathway, Priority
from api.demo import data
from api.demo.capacity import Capacity
from api.demo.people import People, Person, urgency
from api.reference.models import AppointmentType
from api.scheduling.models import SlotStatus
from api.system import localtime

APPOINTMENTS_PER_PATIENT = 1.6  # ~4,000 appointments at the default 2,500 patients
POSTPONED_PER_PATIENT = 0.24  # ~600 postponed: one trust's share of one strike
PAST_SHARE = 0.45  # of all appointments: attended in the last 12 weeks
NAMED_CLINICIAN_SHARE = 0.05

STRIKE_DAYS = 5
RTT_DAYS = 18 * 7
CANCER_FDS_DAYS = 28
CANCER_62_DAYS = 62

SURGICAL_WEIGHTS = {Priority.P1A: 3, Priority.P1B: 7, Priority.P2: 35, Priority.P3: 35,
                    Priority.P4: 20}
OUTPATIENT_WEIGHTS = {Priority.URGENT: 20, Priority.SUSPECTED_CANCER: 15, Priority.ROUTINE: 65}
OUTPATIENT_WEIGHTS_NO_CANCER = {Priority.URGENT: 25, Priority.ROUTINE: 75}
# Days from referral to the appointment, by priority (RTT pathway).
REFERRAL_LEAD_DAYS = {
    Priority.P1A: (0, 1), Priority.P1B: (1, 3), Priority.P2: (7, 28), Priority.P3: (28, 90),
    Priority.P4: (90, 240), Priority.URGENT: (14, 42), Priority.ROUTINE: (42, 180),
}


@dataclass(frozen=True)
class Existing:
    """What the generated rows fit around, read from the database by the writer."""

    site_ids: dict[str, int]  # by site code
    specialty_ids: dict[str, int]  # by specialty code
    clinician_ids: dict[str, list[int]]  # by specialty code, in data.SPECIALTIES order
    next_ids: dict[str, int]  # "clinic_session", "slot", "patient", "appointment"
    taken_nhs_numbers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Trust:
    """Every bulk-inserted row of the demo trust, and the strike it is about to suffer."""

    sessions: list[dict]
    slots: list[dict]
    patients: list[dict]
    appointments: list[dict]
    events: list[dict]
    free_future_slots: int
    strike_start: datetime
    strike_end: datetime
    as_of: datetime  # "now" for the history: bookings happened before it, the strike at it


@dataclass(slots=True)
class Booking:
    slot: dict
    spec: data.SpecialtyInfo
    status: AppointmentStatus
    in_strike: bool
    priority: Priority = Priority.ROUTINE
    person: Person | None = None


def at(day: date, clock: time) -> datetime:
    """A Europe/London wall-clock time as an aware UTC datetime."""
    return localtime.at_local(day, clock)


def strike_window(*, today: date) -> tuple[datetime, datetime]:
    """The demo strike: five days from 07:00 on the first Monday at least 4 days after today."""
    first = today + timedelta(days=4)
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    return at(monday, time(7, 0)), at(monday + timedelta(days=STRIKE_DAYS), time(7, 0))


def generate(*, patients: int, seed: int, today: date, existing: Existing) -> Trust:
    """The demo trust's rows for `patients` patients, deterministic from the arguments."""
    return _Generator(patients=patients, seed=seed, today=today, existing=existing).run()


def priority_weights(info: data.SpecialtyInfo,
                     slot_type: AppointmentType) -> dict[Priority, int]:
    """The priorities a booking can carry, with how common each is."""
    if slot_type is AppointmentType.THEATRE or (
            slot_type is AppointmentType.PROCEDURE and info.surgical):
        return SURGICAL_WEIGHTS
    return OUTPATIENT_WEIGHTS if info.cancer else OUTPATIENT_WEIGHTS_NO_CANCER


class _Generator:
    """One generation run, in the order the random numbers are drawn."""

    def __init__(self, *, patients: int, seed: int, today: date, existing: Existing) -> None:
        self.n_patients = patients
        self.today = today
        self.existing = existing
        self.rng = random.Random(seed)
        self.day_start = at(today, time(0, 0))
        self.as_of = at(today, time(8, 0))
        self.strike_start, self.strike_end = strike_window(today=today)
        self.specialty_of = {existing.specialty_ids[info.code]: info
                             for info in data.SPECIALTIES}

    def run(self) -> Trust:
        sessions, slots = Capacity(rng=self.rng, today=self.today, scale=self.n_patients / 2500,
                                   existing=self.existing).build()
        bookings = self._bookings(slots)
        maker = People(rng=self.rng, n_patients=self.n_patients, today=self.today,
                       as_of=self.as_of, taken_nhs_numbers=self.existing.taken_nhs_numbers)
        people = maker.people()
        self._assign(bookings, people)
        maker.contacts(people)
        maker.flags(people)
        ids = self._patient_ids(people)
        appointments, events, first_referral = self._appointment_rows(bookings, ids)
        free_future = sum(
            1 for slot in slots
            if slot["status"] is SlotStatus.FREE and slot["start_at"] >= self.day_start
            and not self._cancelled(slot)
        )
        return Trust(sessions=sessions, slots=slots,
                     patients=self._patient_rows(people, ids, first_referral),
                     appointments=appointments, events=events, free_future_slots=free_future,
                     strike_start=self.strike_start, strike_end=self.strike_end,
                     as_of=self.as_of)

    def _cancelled(self, slot: dict) -> bool:
        """True for a slot in a clinic the strike cancels (every site, affected specialties)."""
        return (self.strike_start <= slot["start_at"] < self.strike_end
                and self.specialty_of[slot["specialty_id"]].affected)

    # appointments

    def _bookings(self, slots: list[dict]) -> list[Booking]:
        past, strike, future = [], [], []
        for slot in slots:
            if slot["start_at"] < self.day_start:
                past.append(slot)
            elif self._cancelled(slot):
                strike.append(slot)
            else:
                future.append(slot)
        n_total = max(self.n_patients, round(APPOINTMENTS_PER_PATIENT * self.n_patients))
        n_strike = min(round(POSTPONED_PER_PATIENT * self.n_patients), int(0.9 * len(strike)))
        n_past = min(round(PAST_SHARE * n_total), len(past))
        # Never book more than half the open future: rebooking needs somewhere to go.
        n_future = min(n_total - n_strike - n_past, len(future) // 2)

        chosen: list[tuple[dict, AppointmentStatus, bool]] = []
        chosen += [(s, AppointmentStatus.ATTENDED, False) for s in self.rng.sample(past, n_past)]
        chosen += [(s, AppointmentStatus.BOOKED, True) for s in self.rng.sample(strike, n_strike)]
        # Future bookings thin out with distance, as a real waiting list's do
        # (weighted sampling without replacement: Efraimidis-Spirakis keys).
        keys = [self.rng.random() ** (1 + (s["start_at"] - self.day_start).days / 14)
                for s in future]
        picked = heapq.nlargest(n_future, range(len(future)), key=keys.__getitem__)
        chosen += [(future[i], AppointmentStatus.BOOKED, False) for i in picked]
        chosen.sort(key=lambda item: item[0]["id"])

        bookings = []
        for slot, status, in_strike in chosen:
            info = self.specialty_of[slot["specialty_id"]]
            weights = priority_weights(info, slot["type"])
            priority = self.rng.choices(list(weights), weights=list(weights.values()))[0]
            slot["status"] = SlotStatus.BOOKED
            bookings.append(Booking(slot=slot, spec=info, status=status, in_strike=in_strike,
                                    priority=priority))
        self._cover_priorities([b for b in bookings if b.in_strike])
        return bookings

    def _cover_priorities(self, postponed: list[Booking]) -> None:
        # The demo must show every priority among the postponed, including the P1a/P1b and
        # suspected-cancer patients that later rules may protect: a small strike sample can
        # miss them, so relabel a booking from the most common priority where one is missing.
        counts = Counter(b.priority for b in postponed)
        for priority in Priority:
            if counts[priority]:
                continue
            candidates = [b for b in postponed if counts[b.priority] > 1
                          and priority in priority_weights(b.spec, b.slot["type"])]
            if not candidates:
                continue
            booking = self.rng.choice(candidates)
            counts[booking.priority] -= 1
            booking.priority = priority
            counts[priority] += 1

    def _assign(self, bookings: list[Booking], people: list[Person]) -> None:
        order = list(range(len(bookings)))
        self.rng.shuffle(order)
        for k, booking_index in enumerate(order):
            person = people[k] if k < len(people) else self.rng.choice(people)
            bookings[booking_index].person = person
            person.appointments.append(bookings[booking_index])

    # rows

    def _patient_ids(self, people: list[Person]) -> dict[int, int]:
        # Patients with a postponed appointment get the lowest ids: lists "by id" (such as the
        # sandbox's demo phones) then start with the patients the demo is about.
        patient_id = self.existing.next_ids["patient"]
        ids = {}
        for person in sorted(people, key=lambda p: (urgency(p), p.nhs_number)):
            ids[person.index] = patient_id
            patient_id += 1
        return ids

    def _appointment_rows(self, bookings: list[Booking], ids: dict[int, int],
                          ) -> tuple[list[dict], list[dict], dict[int, date]]:
        """Appointment rows, their events (as appointments_service.create would write them, then
        attendance for past care) and each person's first referral date."""
        appointment_id = self.existing.next_ids["appointment"]
        appointment_rows, booked_events, attended_events = [], [], []
        first_referral: dict[int, date] = {}
        for booking in bookings:
            slot, person = booking.slot, booking.person
            pathway, referral, breach = self._pathway_and_dates(booking)
            booked_at = self._booked_at(booking, referral)
            updated_at = booked_at
            booked_events.append(_event(appointment_id, None, AppointmentStatus.BOOKED,
                                        "booked", slot["id"], booked_at))
            if booking.status is AppointmentStatus.ATTENDED:
                updated_at = slot["start_at"] + timedelta(minutes=slot["duration_minutes"])
                attended_events.append(_event(appointment_id, AppointmentStatus.BOOKED,
                                              AppointmentStatus.ATTENDED, "attended",
                                              slot["id"], updated_at))
            named = (slot["type"] is AppointmentType.OUTPATIENT
                     and self.rng.random() < NAMED_CLINICIAN_SHARE)
            appointment_rows.append({
                "id": appointment_id, "patient_id": ids[person.index], "slot_id": slot["id"],
                "specialty_id": slot["specialty_id"], "site_id": slot["site_id"],
                "clinician_id": slot["clinician_id"], "requires_named_clinician": named,
                "type": slot["type"], "duration_minutes": slot["duration_minutes"],
                "priority": booking.priority, "pathway": pathway, "referral_date": referral,
                "breach_date": breach, "times_postponed": 0, "status": booking.status,
                "disruption_id": None, "interpreter_language": person.interpreter,
                "notes": None, "created_at": booked_at, "updated_at": updated_at,
            })
            first_referral[person.index] = min(referral,
                                               first_referral.get(person.index, referral))
            appointment_id += 1
        # Booking events before attendance events, so history ordered by id is chronological.
        return appointment_rows, booked_events + attended_events, first_referral

    def _patient_rows(self, people: list[Person], ids: dict[int, int],
                      first_referral: dict[int, date]) -> list[dict]:
        patient_rows = []
        for person in people:
            created_at = at(first_referral.get(person.index, self.today), time(9, 0))
            created_at = min(created_at, self.as_of)
            patient_rows.append({
                "id": ids[person.index], "nhs_number": person.nhs_number,
                "given_name": person.given_name, "family_name": person.family_name,
                "date_of_birth": person.date_of_birth, "postcode": person.postcode,
                "mobile": person.mobile, "email": person.email,
                "whatsapp_opt_in": person.whatsapp_opt_in,
                "preferred_language": person.language,
                "communication_needs": person.needs, "communication_notes": person.notes,
                "vulnerable": person.vulnerable, "opted_out": person.opted_out_at is not None,
                "opted_out_at": person.opted_out_at, "created_at": created_at,
                "updated_at": max(created_at, person.opted_out_at or created_at),
            })
        patient_rows.sort(key=lambda row: row["id"])
        return patient_rows

    def _pathway_and_dates(self, booking: Booking) -> tuple[Pathway, date, date]:
        rng = self.rng
        day = localtime.to_local(booking.slot["start_at"]).date()
        if booking.priority is Priority.SUSPECTED_CANCER:
            pathway, limit = Pathway.CANCER_FDS, CANCER_FDS_DAYS
            lead = rng.randint(5, 14) if booking.slot["type"] is AppointmentType.OUTPATIENT \
                else rng.randint(10, 24)
        elif (booking.priority is Priority.P2 and booking.spec.cancer
              and booking.slot["type"] is AppointmentType.THEATRE and rng.random() < 0.3):
            pathway, limit, lead = Pathway.CANCER_62, CANCER_62_DAYS, rng.randint(35, 58)
        else:
            pathway, limit = Pathway.RTT, RTT_DAYS
            lead = rng.randint(*REFERRAL_LEAD_DAYS[booking.priority])
        referral = day - timedelta(days=lead)
        if referral >= self.today:
            # A future appointment was referred, and booked, before today.
            referral = self.today - timedelta(days=rng.randint(1, 7))
        return pathway, referral, referral + timedelta(days=limit)

    def _booked_at(self, booking: Booking, referral: date) -> datetime:
        day = localtime.to_local(booking.slot["start_at"]).date()
        latest = max(referral, min(day, self.today - timedelta(days=1)))
        spread = min(14, (latest - referral).days)
        booked_day = referral + timedelta(days=self.rng.randint(0, spread))
        # Booked on the day itself only for the most urgent: before the 08:30 list starts.
        minutes = self.rng.randint(0, 47) * 10 if booked_day < day else 0
        return at(booked_day, time(8, 0)) + timedelta(minutes=minutes)


def _event(appointment_id: int, from_status: AppointmentStatus | None,
           to_status: AppointmentStatus, reason: str, slot_id: int,
           occurred_at: datetime) -> dict:
    return {
        "appointment_id": appointment_id, "from_status": from_status, "to_status": to_status,
        "reason": reason, "actor": "system", "slot_id": slot_id, "details": {},
        "occurred_at": occurred_at,
    }
