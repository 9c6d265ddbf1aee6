"""Who is seen first, and why: the ordering of the waiting list and its one-sentence explanation.

The order, most important first (each criterion only breaks ties of the ones before it):

1. Clinical priority tier: P1a, P1b, suspected cancer, P2 / urgent, P3, routine, P4.
   Surgical and outpatient priorities share one scale because one procedure list can hold both.
2. Breach risk: whole weeks until the pathway's breach date (18-week RTT, 28-day faster
   diagnosis, 62-day cancer treatment); everyone already in breach shares the front bucket.
   Whole weeks, not days, so that a day's difference in referral does not make the criteria
   below irrelevant.
3. Days waited since referral, longest first.
4. Times already postponed, most first: a patient cancelled for non-clinical reasons is owed a
   new date within 28 days, and each further postponement makes that promise older.
5. Recorded vulnerability first.
6. Appointment id: the earlier-registered appointment first, so the order is total and stable.

The functions here work on plain values (`Facts`), so the planner can order 195,000 rows without
loading ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from api.appointments import priorities
from api.appointments.models import Pathway, Priority

TIER: dict[Priority, int] = {
    Priority.P1A: 0,
    Priority.P1B: 1,
    Priority.SUSPECTED_CANCER: 2,
    Priority.P2: 3,
    Priority.URGENT: 3,
    Priority.P3: 4,
    Priority.ROUTINE: 5,
    Priority.P4: 6,
}
BREACHED_BUCKET = -1

TARGET_LABEL: dict[Pathway, str] = {
    Pathway.RTT: "the 18-week referral-to-treatment target",
    Pathway.CANCER_FDS: "the 28-day cancer diagnosis standard",
    Pathway.CANCER_62: "the 62-day cancer treatment target",
}


@dataclass(frozen=True, slots=True)
class Facts:
    """What the order of one appointment depends on."""

    appointment_id: int
    priority: Priority
    pathway: Pathway
    referral_date: date
    breach_date: date
    times_postponed: int = 0
    vulnerable: bool = False


def breach_bucket(*, breach_date: date, today: date) -> int:
    """Whole weeks until the breach date; BREACHED_BUCKET once it has passed."""
    days = (breach_date - today).days
    return BREACHED_BUCKET if days < 0 else days // 7


def sort_key(facts: Facts, today: date) -> tuple:
    """The key that sorts the waiting list, most pressing first."""
    return (
        TIER[Priority(facts.priority)],
        breach_bucket(breach_date=facts.breach_date, today=today),
        -(today - facts.referral_date).days,
        -facts.times_postponed,
        not facts.vulnerable,
        facts.appointment_id,
    )


def order(facts: list[Facts], today: date) -> list[Facts]:
    """`facts` sorted most pressing first."""
    return sorted(facts, key=lambda f: sort_key(f, today))


def _times(n: int) -> str:
    if n == 0:
        return "not postponed before"
    return {1: "postponed once", 2: "postponed twice"}.get(n, f"postponed {n} times")


def _weeks(days: int) -> str:
    if days < 14:
        return f"{days} day" + ("" if days == 1 else "s")
    return f"{days // 7} weeks"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 11th, 22nd..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def reasons(facts: Facts, today: date) -> str:
    """Why this appointment sits where it does, as one clause per criterion."""
    days_left = (facts.breach_date - today).days
    target = TARGET_LABEL[Pathway(facts.pathway)]
    when = f"{facts.breach_date:%a} {facts.breach_date.day} {facts.breach_date:%b %Y}"
    if days_left < 0:
        breach = f"passed {target} on {when}"
    elif days_left == 0:
        breach = f"reaches {target} today"
    else:
        breach = f"breaches {target} on {when} (in {_weeks(days_left)})"
    parts = [
        priorities.label(facts.priority),
        breach,
        f"waited {_weeks((today - facts.referral_date).days)} since referral",
        _times(facts.times_postponed),
    ]
    if facts.vulnerable:
        parts.append("recorded as vulnerable")
    return ", ".join(parts)


def explain(facts: Facts, *, today: date, position: int, total: int, queue: str) -> str:
    """One sentence: the reasons, then the position in its queue."""
    sentence = reasons(facts, today)
    return (f"{sentence[0].upper()}{sentence[1:]}: {ordinal(position)} of {total:,} "
            f"waiting for {queue}.")
