"""The synthetic demo trust: seed it once, deterministically, and describe it as JSON.

Everything random comes from one `random.Random(seed)`, and every date and time is derived
from `today`: the same seed and `today` on an empty database give byte-identical output.
Row ids are part of that output, so the bulk-inserted tables get explicit ids (next after the
current maximum) instead of sequence values, which PostgreSQL does not roll back.
"""

from __future__ import annotations

import heapq
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session, selectinload

from api.appointments import service as appointments_service
from api.appointments.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Pathway,
    Priority,
)
from api.demo import data
from api.patients.identifiers import nhs_check_digit
from api.patients.models import CommunicationNeed, Patient
from api.reference.models import AppointmentType, Clinician, Site, Specialty
from api.scheduling.models import ClinicSession, Disruption, SessionKind, Slot, SlotStatus
from api.system import localtime

MAX_PATIENTS = 20_000
WINDOW = timedelta(weeks=12)  # capacity this far before and after `today`

# Proportions at any size; the comments give the default size (2,500 patients).
APPOINTMENTS_PER_PATIENT = 1.6  # ~4,000 appointments
POSTPONED_PER_PATIENT = 0.24  # ~600 postponed: one trust's share of one strike
PAST_SHARE = 0.45  # of all appointments: attended in the last 12 weeks
HOUSEHOLD_SHARE = 0.05  # patients deliberately sharing a mobile with their household
NO_MOBILE_SHARE = 0.03  # landline only, by choice
EMAIL_SHARE = 0.65
WHATSAPP_SHARE = 0.10
NEEDS_SHARE = 0.03
VULNERABLE_SHARE = 0.04
OPTED_OUT_SHARE = 0.01
NAMED_CLINICIAN_SHARE = 0.05

# Weekly sessions per specialty at the default size; they scale with `patients`, with a
# floor so a small trust still has every kind of capacity to rebook into.
OUTPATIENT_STREAMS, OUTPATIENT_STREAMS_MIN = 8, 3
PROCEDURE_STREAMS, PROCEDURE_STREAMS_MIN = 3, 1
THEATRE_STREAMS, THEATRE_STREAMS_MIN = 4, 2
CLINIC_SLOTS, CLINIC_SLOT_MINUTES = 10, 20
PROCEDURE_LIST_MINUTES = 210
THEATRE_LIST_MINUTES = 540  # 08:30-17:30
CLOSED_DAYS = {(12, 25), (12, 26), (1, 1)}  # no planned clinics on these bank holidays

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
class SeedResult:
    """What `seed` did: `created` is False when the demo trust already existed."""

    created: bool
    seed: int
    today: date
    patients: int = 0
    appointments: int = 0
    postponed: int = 0
    sessions: int = 0
    slots: int = 0
    free_future_slots: int = 0
    disruption_id: int | None = None
    strike_starts_at: datetime | None = None

    def summary(self) -> str:
        if not self.created:
            return "The demo trust is already seeded; nothing was changed."
        strike = localtime.to_local(self.strike_starts_at) if self.strike_starts_at else None
        return (
            f"Seeded the demo trust (seed {self.seed}, today {self.today.isoformat()}): "
            f"{_count(self.patients, 'patient')}, {_count(self.appointments, 'appointment')}, "
            f"{self.postponed:,} postponed by the {data.DISRUPTION_NAME.lower()} from "
            f"{strike:%a %d %b %Y}, {self.sessions:,} sessions holding {self.slots:,} slots "
            f"({self.free_future_slots:,} free in the next 12 weeks)."
        )


# --- public verbs -----------------------------------------------------------------------


def is_seeded(*, session: Session) -> bool:
    """True when the demo trust's sites already exist."""
    found = session.scalar(select(Site.id).where(Site.code.in_(data.DEMO_SITE_CODES)).limit(1))
    return found is not None


def seed(*, session: Session, patients: int = 2500, seed: int = 2024,
         today: date | None = None) -> SeedResult:
    """Create the synthetic demo trust once (flushes; the caller commits)."""
    _check_arguments(patients=patients, seed=seed, today=today)
    today = today or localtime.local_today()
    if is_seeded(session=session):
        return SeedResult(created=False, seed=seed, today=today)
    return _Builder(session=session, patients=patients, seed=seed, today=today).run()


def describe(*, session: Session) -> dict:
    """The demo patients and their appointments, as the `rebook demo seed --json` contract."""
    demo_sites = select(Site.id).where(Site.code.in_(data.DEMO_SITE_CODES))
    demo_patients = select(Appointment.patient_id).where(Appointment.site_id.in_(demo_sites))
    appointments: dict[int, list[dict]] = {}
    rows = session.execute(
        select(Appointment.id, Appointment.patient_id, Appointment.status, Specialty.name,
               Appointment.priority, Slot.start_at)
        .join(Specialty, Appointment.specialty_id == Specialty.id)
        .outerjoin(Slot, Appointment.slot_id == Slot.id)
        .where(Appointment.patient_id.in_(demo_patients))
        .order_by(Appointment.id)
    )
    for appointment_id, patient_id, status, specialty, priority, start in rows:
        appointments.setdefault(patient_id, []).append({
            "id": appointment_id,
            "status": status.value,
            "specialty": specialty,
            "priority": priority.value,
            "start": start.astimezone(UTC).isoformat() if start else None,
        })
    people = session.execute(
        select(Patient.id, Patient.nhs_number, Patient.given_name, Patient.family_name,
               Patient.date_of_birth, Patient.postcode, Patient.mobile, Patient.email,
               Patient.whatsapp_opt_in)
        .where(Patient.id.in_(demo_patients))
        .order_by(Patient.nhs_number)
    )
    return {"patients": [
        {
            "nhs_number": nhs_number,
            "name": f"{given} {family}",
            "dob": dob.isoformat(),
            "postcode": postcode,
            "mobile": mobile,
            "email": email,
            "whatsapp": f"whatsapp:{mobile}" if whatsapp and mobile else None,
            "appointments": appointments.get(patient_id, []),
        }
        for patient_id, nhs_number, given, family, dob, postcode, mobile, email, whatsapp in people
    ]}


# --- arguments and calendar ---------------------------------------------------------------


def _check_arguments(*, patients: int, seed: int, today: date | None) -> None:
    if isinstance(patients, bool) or not isinstance(patients, int):
        raise ValueError(f"patients must be a whole number, not {patients!r}")
    if not 1 <= patients <= MAX_PATIENTS:
        raise ValueError(f"patients must be between 1 and {MAX_PATIENTS:,}, not {patients:,}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be a whole number, not {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be zero or more, not {seed}")
    if today is not None and (isinstance(today, datetime) or not isinstance(today, date)):
        raise ValueError(f"today must be a date (no time of day), not {today!r}")


def _at(day: date, clock: time) -> datetime:
    """A Europe/London wall-clock time as an aware UTC datetime."""
    return localtime.at_local(day, clock)


def strike_window(*, today: date) -> tuple[datetime, datetime]:
    """The demo strike: five days from 07:00 on the first Monday at least 4 days after today."""
    first = today + timedelta(days=4)
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    return _at(monday, time(7, 0)), _at(monday + timedelta(days=STRIKE_DAYS), time(7, 0))


# --- the builder ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Stream:
    """A weekly recurring session: one clinic or list on one weekday."""

    kind: SessionKind
    type: AppointmentType
    weekday: int
    start: time
    site_code: str
    location: str
    clinician: int  # index into the specialty's clinicians
    slot_minutes: tuple[int, ...] = ()  # empty for a theatre list: cases are drawn per list


@dataclass(slots=True)
class _Person:
    index: int
    nhs_number: str
    given_name: str
    family_name: str
    date_of_birth: date
    postcode: str
    email: str | None
    household: int | None = None
    mobile: str | None = None
    whatsapp_opt_in: bool = False
    opted_out_at: datetime | None = None
    vulnerable: bool = False
    needs: list[str] = field(default_factory=list)
    notes: str | None = None
    language: str = "en"
    interpreter: str | None = None
    appointments: list[_Booking] = field(default_factory=list)


@dataclass(slots=True)
class _Booking:
    slot: dict
    spec: data.SpecialtyInfo
    status: AppointmentStatus
    in_strike: bool
    priority: Priority = Priority.ROUTINE
    person: _Person | None = None


class _Builder:
    """One seeding run: generates every row in memory, then bulk-inserts them."""

    def __init__(self, *, session: Session, patients: int, seed: int, today: date) -> None:
        self.session = session
        self.n_patients = patients
        self.seed = seed
        self.today = today
        self.rng = random.Random(seed)
        self.scale = patients / 2500
        self.day_start = _at(today, time(0, 0))
        # "Now" for the history: bookings happened before it, the postponement at it.
        self.as_of = _at(today, time(8, 0))
        self.strike_start, self.strike_end = strike_window(today=today)

    def run(self) -> SeedResult:
        sites = self._sites()
        specialties, clinicians = self._specialties()
        sessions, slots = self._capacity(sites, specialties, clinicians)
        bookings = self._bookings(slots)
        people = self._people()
        self._assign(bookings, people)
        self._contacts(people)
        self._flags(people)
        patient_rows, appointment_rows, event_rows = self._rows(people, bookings)

        # Bulk inserts keep 2,500 patients well under 10 s. Appointments therefore bypass
        # appointments_service.create: `_rows` writes the same AppointmentEvent rows it would
        # (from None to booked, then booked to attended for past care). The postponement
        # itself goes through appointments_service.change_status, as any later one would.
        self._bulk_insert(ClinicSession, sessions)
        self._bulk_insert(Slot, slots)
        self._bulk_insert(Patient, patient_rows)
        self._bulk_insert(Appointment, appointment_rows)
        self._bulk_insert(AppointmentEvent, event_rows)
        self._advance_sequences(("clinic_session", "slot", "patient", "appointment"))

        disruption, postponed = self._strike(sites, specialties)
        free_future = sum(
            1 for slot in slots
            if slot["status"] is SlotStatus.FREE and slot["start_at"] >= self.day_start
            and not self._cancelled(slot)
        )
        return SeedResult(
            created=True, seed=self.seed, today=self.today, patients=len(patient_rows),
            appointments=len(appointment_rows), postponed=postponed, sessions=len(sessions),
            slots=len(slots), free_future_slots=free_future, disruption_id=disruption.id,
            strike_starts_at=self.strike_start,
        )

    # reference data: few rows, plain ORM

    def _sites(self) -> dict[str, Site]:
        sites = {info.code: Site(code=info.code, name=info.name, address=info.address,
                                 postcode=info.postcode, parking=info.parking,
                                 transport=info.transport,
                                 step_free_access=info.step_free_access)
                 for info in data.SITES}
        self.session.add_all(sites.values())
        self.session.flush()
        return sites

    def _specialties(self) -> tuple[dict[str, Specialty], dict[str, list[Clinician]]]:
        # Reused when a specialty or clinician code already exists (e.g. set up by hand).
        codes = [info.code for info in data.SPECIALTIES]
        specialties = {s.code: s for s in self.session.scalars(
            select(Specialty).where(Specialty.code.in_(codes)))}
        for info in data.SPECIALTIES:
            if info.code not in specialties:
                specialties[info.code] = Specialty(code=info.code, name=info.name,
                                                   surgical=info.surgical)
                self.session.add(specialties[info.code])
        self.session.flush()
        wanted = {f"{info.code}-{i + 1:02d}": (info, name)
                  for info in data.SPECIALTIES for i, name in enumerate(info.clinicians)}
        existing = {c.code: c for c in self.session.scalars(
            select(Clinician).where(Clinician.code.in_(list(wanted))))}
        clinicians: dict[str, list[Clinician]] = {info.code: [] for info in data.SPECIALTIES}
        for code, (info, name) in wanted.items():
            clinician = existing.get(code)
            if clinician is None:
                clinician = Clinician(code=code, name=name,
                                      specialty_id=specialties[info.code].id)
                self.session.add(clinician)
            clinicians[info.code].append(clinician)
        self.session.flush()
        return specialties, clinicians

    # capacity

    def _streams(self, info: data.SpecialtyInfo, index: int) -> list[_Stream]:
        streams = []
        n_clinics = max(OUTPATIENT_STREAMS_MIN, round(OUTPATIENT_STREAMS * self.scale))
        for i in range(n_clinics):
            # The first five clinics are mornings across the week, the next five afternoons.
            start = time(9, 0) if (i // 5) % 2 == 0 else time(13, 30)
            streams.append(_Stream(
                SessionKind.CLINIC, AppointmentType.OUTPATIENT, (index + i) % 5, start,
                info.sites[i % len(info.sites)], f"Outpatients {'ABCDEFGH'[(index + i // 10) % 8]}",
                i % len(info.clinicians), (CLINIC_SLOT_MINUTES,) * CLINIC_SLOTS))
        if info.procedure:
            per_list = PROCEDURE_LIST_MINUTES // info.procedure.minutes
            n_lists = max(PROCEDURE_STREAMS_MIN, round(PROCEDURE_STREAMS * self.scale))
            for i in range(n_lists):
                start = time(8, 30) if (i // 5) % 2 == 0 else time(13, 30)
                streams.append(_Stream(
                    SessionKind.CLINIC, AppointmentType.PROCEDURE, (index + 2 + i) % 5, start,
                    info.sites[i % len(info.sites)], info.procedure.location,
                    (i + 1) % len(info.clinicians), (info.procedure.minutes,) * per_list))
        if info.theatre_sites:
            n_lists = max(THEATRE_STREAMS_MIN, round(THEATRE_STREAMS * self.scale))
            for i in range(n_lists):
                site = info.theatre_sites[i % len(info.theatre_sites)]
                streams.append(_Stream(
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

    def _capacity(self, sites, specialties, clinicians) -> tuple[list[dict], list[dict]]:
        streams = {info.code: self._streams(info, index)
                   for index, info in enumerate(data.SPECIALTIES)}
        by_code = {info.code: info for info in data.SPECIALTIES}
        session_id = self._next_id(ClinicSession)
        slot_id = self._next_id(Slot)
        planned_at = _at(self.today - WINDOW - timedelta(weeks=6), time(9, 0))
        sessions: list[dict] = []
        slots: list[dict] = []
        day = self.today - WINDOW
        while day < self.today + WINDOW:
            if day.weekday() < 5 and (day.month, day.day) not in CLOSED_DAYS:
                for code, specialty_streams in streams.items():
                    info, specialty = by_code[code], specialties[code]
                    for stream in specialty_streams:
                        if stream.weekday != day.weekday():
                            continue
                        minutes = stream.slot_minutes or self._theatre_cases(info)
                        starts_at = _at(day, stream.start)
                        clinician = clinicians[code][stream.clinician]
                        site = sites[stream.site_code]
                        sessions.append({
                            "id": session_id, "kind": stream.kind, "site_id": site.id,
                            "specialty_id": specialty.id, "clinician_id": clinician.id,
                            "location": stream.location, "starts_at": starts_at,
                            "ends_at": starts_at + timedelta(minutes=sum(minutes)),
                            "short_notice": False, "created_at": planned_at,
                        })
                        offset = 0
                        for length in minutes:
                            slots.append({
                                "id": slot_id, "session_id": session_id, "site_id": site.id,
                                "specialty_id": specialty.id, "clinician_id": clinician.id,
                                "type": stream.type,
                                "start_at": starts_at + timedelta(minutes=offset),
                                "duration_minutes": length, "status": SlotStatus.FREE,
                                "version": 0,
                            })
                            slot_id += 1
                            offset += length
                        session_id += 1
            day += timedelta(days=1)
        self._specialty_of = {specialties[code].id: by_code[code] for code in by_code}
        return sessions, slots

    def _cancelled(self, slot: dict) -> bool:
        """True for a slot in a clinic the strike cancels (every site, affected specialties)."""
        return (self.strike_start <= slot["start_at"] < self.strike_end
                and self._specialty_of[slot["specialty_id"]].affected)

    # appointments

    def _bookings(self, slots: list[dict]) -> list[_Booking]:
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
            info = self._specialty_of[slot["specialty_id"]]
            weights = _priority_weights(info, slot["type"])
            priority = self.rng.choices(list(weights), weights=list(weights.values()))[0]
            slot["status"] = SlotStatus.BOOKED
            bookings.append(_Booking(slot=slot, spec=info, status=status, in_strike=in_strike,
                                     priority=priority))
        self._cover_priorities([b for b in bookings if b.in_strike])
        return bookings

    def _cover_priorities(self, postponed: list[_Booking]) -> None:
        # The demo must show every priority among the postponed, including the P1a/P1b and
        # suspected-cancer patients that later rules may protect: a small strike sample can
        # miss them, so relabel a booking from the most common priority where one is missing.
        counts = Counter(b.priority for b in postponed)
        for priority in Priority:
            if counts[priority]:
                continue
            candidates = [b for b in postponed if counts[b.priority] > 1
                          and priority in _priority_weights(b.spec, b.slot["type"])]
            if not candidates:
                continue
            booking = self.rng.choice(candidates)
            counts[booking.priority] -= 1
            booking.priority = priority
            counts[priority] += 1

    # patients

    def _people(self) -> list[_Person]:
        numbers = self._nhs_numbers()
        people: list[_Person] = []
        household_target = round(HOUSEHOLD_SHARE * self.n_patients) if self.n_patients > 1 else 0
        household = 0
        while len(people) < household_target:
            size = min(3 if self.rng.random() < 0.2 else 2, self.n_patients - len(people))
            if size < 2:
                break
            family_name = self.rng.choice(data.FAMILY_NAMES)
            postcode = self._postcode()
            if self.rng.random() < 0.6:
                # A parent whose phone is on their children's records.
                ages = [self.rng.randint(28, 50)] + [self.rng.randint(1, 16)
                                                     for _ in range(size - 1)]
            else:
                # An older couple (and a grown-up child) sharing one phone.
                ages = [self.rng.randint(66, 90), self.rng.randint(64, 90)] + [
                    self.rng.randint(35, 60) for _ in range(size - 2)]
            first_email = None
            for position, age in enumerate(ages):
                person = self._person(len(people), numbers[len(people)], age,
                                      family_name=family_name, postcode=postcode)
                if position == 0:
                    first_email = person.email
                elif age < 16:
                    person.email = first_email  # children's letters go to the parent
                person.household = household
                people.append(person)
            household += 1
        while len(people) < self.n_patients:
            age = self.rng.choices((self.rng.randint(0, 17), self.rng.randint(18, 39),
                                    self.rng.randint(40, 64), self.rng.randint(65, 95)),
                                   weights=(8, 20, 35, 37))[0]
            people.append(self._person(len(people), numbers[len(people)], age))
        return people

    def _person(self, index: int, nhs_number: str, age: int, *, family_name: str | None = None,
                postcode: str | None = None) -> _Person:
        female = self.rng.random() < 0.5
        given = self.rng.choice(data.GIVEN_NAMES_FEMALE if female else data.GIVEN_NAMES_MALE)
        family = family_name or self.rng.choice(data.FAMILY_NAMES)
        dob = self.today - timedelta(days=age * 365 + self.rng.randint(0, 364))
        email = None
        if age >= 16 and self.rng.random() < EMAIL_SHARE:
            local = re.sub(r"[^a-z0-9.]", "", f"{given}.{family}".lower())
            domain = self.rng.choice(data.EMAIL_DOMAINS)
            email = f"{local}{self.rng.randint(1, 99)}@{domain}"
        return _Person(index=index, nhs_number=nhs_number, given_name=given, family_name=family,
                       date_of_birth=dob, postcode=postcode or self._postcode(), email=email)

    def _postcode(self) -> str:
        letters = data.POSTCODE_UNIT_LETTERS
        return (f"{data.POSTCODE_AREA}{self.rng.randint(1, data.POSTCODE_DISTRICTS)} "
                f"{self.rng.randint(0, 9)}{self.rng.choice(letters)}{self.rng.choice(letters)}")

    def _nhs_numbers(self) -> list[str]:
        # Test-range numbers already on file (made by hand or by tests) are skipped.
        taken = set(self.session.scalars(
            select(Patient.nhs_number).where(Patient.nhs_number.like("999%"))))
        numbers = []
        for n in self.rng.sample(range(1_000_000), min(1_000_000, 2 * self.n_patients + 100)):
            first_nine = f"999{n:06d}"
            check = nhs_check_digit(first_nine)
            if check is None or f"{first_nine}{check}" in taken:
                continue
            numbers.append(f"{first_nine}{check}")
            if len(numbers) == self.n_patients:
                return numbers
        raise ValueError("not enough free NHS numbers left in the 999 test range")

    def _assign(self, bookings: list[_Booking], people: list[_Person]) -> None:
        order = list(range(len(bookings)))
        self.rng.shuffle(order)
        for k, booking_index in enumerate(order):
            person = people[k] if k < len(people) else self.rng.choice(people)
            bookings[booking_index].person = person
            person.appointments.append(bookings[booking_index])

    def _urgency(self, person: _Person) -> int:
        """0: has a postponed appointment, 1: has a future one, 2: past care only."""
        if any(b.in_strike for b in person.appointments):
            return 0
        if any(b.status is AppointmentStatus.BOOKED for b in person.appointments):
            return 1
        return 2

    def _contacts(self, people: list[_Person]) -> None:
        # Ofcom's drama range holds only 1,000 mobiles. Households (~5% of patients) share
        # one number on purpose: a phone is not an identity. The rest get a number of their
        # own, patients with a postponed appointment first (they are the ones the demo
        # messages), then those with a future appointment; when the range runs out the rest
        # keep email only, or no electronic contact at all (letters and staff calls), rather
        # than sharing numbers between strangers, which would make every conversation an
        # ambiguous-phone case. A few patients are landline-only by choice.
        pool = [f"{data.DRAMA_MOBILE_PREFIX}{i:03d}" for i in range(data.DRAMA_MOBILE_COUNT)]
        self.rng.shuffle(pool)
        households: dict[int, list[_Person]] = {}
        for person in people:
            if person.household is not None:
                households.setdefault(person.household, []).append(person)
        for members in households.values():
            if not pool:
                break
            mobile = pool.pop()
            for person in members:
                person.mobile = mobile
        singles = [p for p in people if p.household is None]
        self.rng.shuffle(singles)
        singles.sort(key=self._urgency)
        for person in singles:
            if not pool:
                break
            if self.rng.random() < NO_MOBILE_SHARE:
                continue
            person.mobile = pool.pop()

    def _flags(self, people: list[_Person]) -> None:
        rng = self.rng
        with_mobile = [p for p in people if p.mobile]
        for person in rng.sample(with_mobile, min(len(with_mobile),
                                                  max(1, round(OPTED_OUT_SHARE * len(people))))):
            person.opted_out_at = self.as_of - timedelta(days=rng.randint(5, 300),
                                                         minutes=rng.randint(0, 600))
        reachable = [p for p in with_mobile if p.opted_out_at is None]
        for person in rng.sample(reachable, min(len(reachable),
                                                round(WHATSAPP_SHARE * len(people)))):
            person.whatsapp_opt_in = True
        for person in rng.sample(people, round(VULNERABLE_SHARE * len(people))):
            person.vulnerable = True
        # Every kind of need appears (cycling through them), however small the trust.
        needs = list(CommunicationNeed)
        rng.shuffle(needs)
        n_needs = min(len(people), max(len(needs), round(NEEDS_SHARE * len(people))))
        for i, person in enumerate(rng.sample(people, n_needs)):
            need = needs[i % len(needs)]
            person.needs = [need.value]
            note = data.COMMUNICATION_NOTES[need]
            if need is CommunicationNeed.INTERPRETER:
                person.language, person.interpreter = rng.choice(data.INTERPRETER_LANGUAGES)
                note = note.format(language=person.interpreter)
            if need is CommunicationNeed.CARER_CONTACT:
                person.vulnerable = True
            person.notes = note

    # rows

    def _rows(self, people: list[_Person],
              bookings: list[_Booking]) -> tuple[list[dict], list[dict], list[dict]]:
        # Patients with a postponed appointment get the lowest ids: lists "by id" (such as the
        # sandbox's demo phones) then start with the patients the demo is about.
        patient_id = self._next_id(Patient)
        ids = {}
        for person in sorted(people, key=lambda p: (self._urgency(p), p.nhs_number)):
            ids[person.index] = patient_id
            patient_id += 1

        appointment_id = self._next_id(Appointment)
        appointment_rows, booked_events, attended_events = [], [], []
        first_referral: dict[int, date] = {}
        for booking in bookings:
            slot, person = booking.slot, booking.person
            pathway, referral, breach = self._pathway_and_dates(booking)
            booked_at = self._booked_at(booking, referral)
            updated_at = booked_at
            booked_events.append({
                "appointment_id": appointment_id, "from_status": None,
                "to_status": AppointmentStatus.BOOKED, "reason": "booked", "actor": "system",
                "slot_id": slot["id"], "details": {}, "occurred_at": booked_at,
            })
            if booking.status is AppointmentStatus.ATTENDED:
                updated_at = slot["start_at"] + timedelta(minutes=slot["duration_minutes"])
                attended_events.append({
                    "appointment_id": appointment_id, "from_status": AppointmentStatus.BOOKED,
                    "to_status": AppointmentStatus.ATTENDED, "reason": "attended",
                    "actor": "system", "slot_id": slot["id"], "details": {},
                    "occurred_at": updated_at,
                })
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

        patient_rows = []
        for person in people:
            created_at = _at(first_referral.get(person.index, self.today), time(9, 0))
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
        # Booking events before attendance events, so history ordered by id is chronological.
        return patient_rows, appointment_rows, booked_events + attended_events

    def _pathway_and_dates(self, booking: _Booking) -> tuple[Pathway, date, date]:
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

    def _booked_at(self, booking: _Booking, referral: date) -> datetime:
        day = localtime.to_local(booking.slot["start_at"]).date()
        latest = max(referral, min(day, self.today - timedelta(days=1)))
        spread = min(14, (latest - referral).days)
        booked_day = referral + timedelta(days=self.rng.randint(0, spread))
        # Booked on the day itself only for the most urgent: before the 08:30 list starts.
        minutes = self.rng.randint(0, 47) * 10 if booked_day < day else 0
        return _at(booked_day, time(8, 0)) + timedelta(minutes=minutes)

    # the strike

    def _strike(self, sites: dict[str, Site],
                specialties: dict[str, Specialty]) -> tuple[Disruption, int]:
        affected = [specialties[info.code] for info in data.SPECIALTIES if info.affected]
        disruption = Disruption(
            name=data.DISRUPTION_NAME, starts_at=self.strike_start, ends_at=self.strike_end,
            staff_group=data.DISRUPTION_STAFF_GROUP, reason=data.DISRUPTION_REASON,
            created_at=self.as_of, specialties=affected, sites=list(sites.values()),
        )
        self.session.add(disruption)
        self.session.flush()
        in_window = (
            Slot.start_at >= disruption.starts_at, Slot.start_at < disruption.ends_at,
            Slot.specialty_id.in_([s.id for s in affected]),
            Slot.site_id.in_([s.id for s in sites.values()]),
        )
        appointments = self.session.scalars(
            select(Appointment).join(Slot, Appointment.slot_id == Slot.id)
            .where(*in_window, Appointment.status == AppointmentStatus.BOOKED)
            .order_by(Appointment.id)
            .options(selectinload(Appointment.history))
        ).all()
        reason = f"industrial action: {disruption.name}"
        for appointment in appointments:
            event = appointments_service.change_status(
                session=self.session, appointment=appointment,
                to_status=AppointmentStatus.POSTPONED, reason=reason, actor="system",
                details={"disruption_id": disruption.id},
            )
            event.occurred_at = self.as_of
            appointment.disruption_id = disruption.id
            appointment.slot_id = None  # released: the clinic is cancelled
            appointment.updated_at = self.as_of
        self.session.flush()
        # Cancelled clinics: every slot in them is withdrawn, booked or not, so nobody is
        # offered a strike-day slot.
        self.session.execute(
            update(Slot).where(*in_window)
            .values(status=SlotStatus.BLOCKED, version=Slot.version + 1)
            .execution_options(synchronize_session=False)
        )
        return disruption, len(appointments)

    # storage

    def _next_id(self, model) -> int:
        return (self.session.scalar(select(func.max(model.id))) or 0) + 1

    def _bulk_insert(self, model, rows: list[dict], batch: int = 5000) -> None:
        for start in range(0, len(rows), batch):
            self.session.execute(insert(model), rows[start:start + batch])

    def _advance_sequences(self, tables: tuple[str, ...]) -> None:
        # Explicit ids leave PostgreSQL's sequences behind: move them past our rows so the
        # application's own inserts do not collide. SQLite needs nothing (max(rowid) + 1).
        if self.session.get_bind().dialect.name != "postgresql":
            return
        for table in tables:
            self.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            ))


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _priority_weights(info: data.SpecialtyInfo,
                      slot_type: AppointmentType) -> dict[Priority, int]:
    """The priorities a booking can carry, with how common each is."""
    if slot_type is AppointmentType.THEATRE or (
            slot_type is AppointmentType.PROCEDURE and info.surgical):
        return SURGICAL_WEIGHTS
    return OUTPATIENT_WEIGHTS if info.cancer else OUTPATIENT_WEIGHTS_NO_CANCER
