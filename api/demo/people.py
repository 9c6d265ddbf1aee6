"""The demo trust's patients as plain data: names, NHS numbers, households, contacts and flags.

Part of the pure generator (`api.demo.generator`): everything random comes from the
generator's `random.Random`, called in a fixed order; nothing here reads or writes a database.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from api.appointments.models import AppointmentStatus
from api.demo import data
from api.patients.identifiers import nhs_check_digit
from api.patients.models import CommunicationNeed

if TYPE_CHECKING:
    from api.demo.generator import Booking

HOUSEHOLD_SHARE = 0.05  # patients deliberately sharing a mobile with their household
NO_MOBILE_SHARE = 0.03  # landline only, by choice
EMAIL_SHARE = 0.65
WHATSAPP_SHARE = 0.10
NEEDS_SHARE = 0.03
VULNERABLE_SHARE = 0.04
OPTED_OUT_SHARE = 0.01


@dataclass(slots=True)
class Person:
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
    appointments: list[Booking] = field(default_factory=list)


def urgency(person: Person) -> int:
    """0: has a postponed appointment, 1: has a future one, 2: past care only."""
    if any(b.in_strike for b in person.appointments):
        return 0
    if any(b.status is AppointmentStatus.BOOKED for b in person.appointments):
        return 1
    return 2


class People:
    """Makes the patients, then (once they have appointments) their contacts and flags."""

    def __init__(self, *, rng: random.Random, n_patients: int, today: date, as_of: datetime,
                 taken_nhs_numbers: frozenset[str]) -> None:
        self.rng = rng
        self.n_patients = n_patients
        self.today = today
        self.as_of = as_of
        self.taken_nhs_numbers = taken_nhs_numbers

    def people(self) -> list[Person]:
        numbers = self._nhs_numbers()
        people: list[Person] = []
        household_target = round(HOUSEHOLD_SHARE * self.n_patients) if self.n_patients > 1 else 0
        household = 0
        while len(people) < household_target:
            size = min(3 if self.rng.random() < 0.2 else 2, self.n_patients - len(people))
            if size < 2:
                break
            self._household(people, numbers, size, household)
            household += 1
        while len(people) < self.n_patients:
            age = self.rng.choices((self.rng.randint(0, 17), self.rng.randint(18, 39),
                                    self.rng.randint(40, 64), self.rng.randint(65, 95)),
                                   weights=(8, 20, 35, 37))[0]
            people.append(self._person(len(people), numbers[len(people)], age))
        return people

    def _household(self, people: list[Person], numbers: list[str], size: int,
                   household: int) -> None:
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

    def _person(self, index: int, nhs_number: str, age: int, *, family_name: str | None = None,
                postcode: str | None = None) -> Person:
        female = self.rng.random() < 0.5
        given = self.rng.choice(data.GIVEN_NAMES_FEMALE if female else data.GIVEN_NAMES_MALE)
        family = family_name or self.rng.choice(data.FAMILY_NAMES)
        dob = self.today - timedelta(days=age * 365 + self.rng.randint(0, 364))
        email = None
        if age >= 16 and self.rng.random() < EMAIL_SHARE:
            local = re.sub(r"[^a-z0-9.]", "", f"{given}.{family}".lower())
            domain = self.rng.choice(data.EMAIL_DOMAINS)
            email = f"{local}{self.rng.randint(1, 99)}@{domain}"
        return Person(index=index, nhs_number=nhs_number, given_name=given, family_name=family,
                      date_of_birth=dob, postcode=postcode or self._postcode(), email=email)

    def _postcode(self) -> str:
        letters = data.POSTCODE_UNIT_LETTERS
        return (f"{data.POSTCODE_AREA}{self.rng.randint(1, data.POSTCODE_DISTRICTS)} "
                f"{self.rng.randint(0, 9)}{self.rng.choice(letters)}{self.rng.choice(letters)}")

    def _nhs_numbers(self) -> list[str]:
        # Test-range numbers already on file (made by hand or by tests) are skipped.
        taken = self.taken_nhs_numbers
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

    def contacts(self, people: list[Person]) -> None:
        # Ofcom's drama range holds only 1,000 mobiles. Households (~5% of patients) share
        # one number on purpose: a phone is not an identity. The rest get a number of their
        # own, patients with a postponed appointment first (they are the ones the demo
        # messages), then those with a future appointment; when the range runs out the rest
        # keep email only, or no electronic contact at all (letters and staff calls), rather
        # than sharing numbers between strangers, which would make every conversation an
        # ambiguous-phone case. A few patients are landline-only by choice.
        pool = [f"{data.DRAMA_MOBILE_PREFIX}{i:03d}" for i in range(data.DRAMA_MOBILE_COUNT)]
        self.rng.shuffle(pool)
        households: dict[int, list[Person]] = {}
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
        singles.sort(key=urgency)
        for person in singles:
            if not pool:
                break
            if self.rng.random() < NO_MOBILE_SHARE:
                continue
            person.mobile = pool.pop()

    def flags(self, people: list[Person]) -> None:
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
        self._needs(people)

    def _needs(self, people: list[Person]) -> None:
        # Every kind of need appears (cycling through them), however small the trust.
        rng = self.rng
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
