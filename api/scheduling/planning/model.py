"""The planning model: what a plan places (needs), where (openings), and how a plan is scored."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

TIER_WEIGHT = {0: 64, 1: 32, 2: 16, 3: 8, 4: 4, 5: 2, 6: 1}
BREACH_FIXED_DAYS = 14
UNASSIGNED_EXTRA_DAYS = 28


@dataclass(slots=True)
class Need:
    """A postponed appointment to place."""

    appointment_id: int
    patient_id: int
    kind: tuple  # (specialty_id, type, duration_minutes)
    clinician_id: int | None  # set only when this clinician is required
    tier: int
    deadline: int  # breach date, in days from today
    key: tuple  # waiting-list order


@dataclass(slots=True)
class Opening:
    """A free slot."""

    slot_id: int
    kind: tuple
    clinician_id: int | None
    day: int  # days from today (patient's calendar)
    start: int  # minutes since an arbitrary epoch, for overlap checks
    duration: int


@dataclass
class Problem:
    needs: list[Need]
    openings: list[Opening]
    # Times (start, end; Opening.start minutes) the patients are already booked elsewhere.
    busy: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    unassigned_day: int = 0

    def __post_init__(self) -> None:
        last = max((o.day for o in self.openings), default=0)
        self.unassigned_day = last + 1 + UNASSIGNED_EXTRA_DAYS


@dataclass
class Plan:
    method: str
    assignment: dict[int, int]  # appointment id -> slot id
    objective: int
    breaches: int
    breach_days: int
    unassigned: int
    seconds: float
    finished: bool = True
    note: str = ""
    by_tier: dict[int, tuple[int, float]] = field(default_factory=dict)  # tier -> (n, mean day)


def cost(tier: int, deadline: int, day: int) -> int:
    """The objective's term for one appointment seen on `day`."""
    late = day - deadline
    return TIER_WEIGHT[tier] * (day + (BREACH_FIXED_DAYS + late if late > 0 else 0))


def evaluate(problem: Problem, assignment: dict[int, int], *, method: str, seconds: float,
             finished: bool = True, note: str = "") -> Plan:
    """Score an assignment with the objective and count its breaches."""
    day_of = {o.slot_id: o.day for o in problem.openings}
    objective = breaches = breach_days = unassigned = 0
    tiers: dict[int, list[int]] = defaultdict(list)
    for need in problem.needs:
        slot_id = assignment.get(need.appointment_id)
        if slot_id is None:
            unassigned += 1
            day = problem.unassigned_day
        else:
            day = day_of[slot_id]
            tiers[need.tier].append(day)
        objective += cost(need.tier, need.deadline, day)
        if day > need.deadline:
            breaches += 1
            breach_days += day - need.deadline if slot_id is not None else 0
    by_tier = {t: (len(days), sum(days) / len(days)) for t, days in sorted(tiers.items())}
    return Plan(method, assignment, objective, breaches, breach_days, unassigned, seconds,
                finished, note, by_tier)


def shared_patients(problem: Problem) -> dict[int, int]:
    """Appointments per patient, counting existing bookings: above 1, overlaps are checked."""
    counts: dict[int, int] = defaultdict(int)
    for need in problem.needs:
        counts[need.patient_id] += 1
    for patient_id, intervals in problem.busy.items():
        counts[patient_id] += len(intervals)
    return counts


def overlaps(opening: Opening, busy: list[tuple[int, int]]) -> bool:
    """Whether `opening` overlaps any of the (start, end) intervals in `busy`."""
    end = opening.start + opening.duration
    return any(opening.start < b_end and b_start < end for b_start, b_end in busy)
