"""The backlog plan: every postponed appointment of a disruption assigned to a free slot.

Objective (minimised; lower is better), summed over appointments, for one seen on day `d`
(days from today) with breach date `D` and clinical tier weight `W`:

    W * (d + [d > D] * (BREACH_FIXED_DAYS + (d - D)))

so a higher clinical priority weighs more per day of waiting, each breach costs as much as
BREACH_FIXED_DAYS more days of waiting, and every day past the breach date counts twice.
An appointment left without a slot is costed as if seen UNASSIGNED_EXTRA_DAYS after the last
slot of the plan. Tier weights double per tier, so clinical priority dominates.

Two methods:

* `greedy`: appointments in waiting-list order (`priority.sort_key`) each take the earliest
  free slot that fits, then a repair pass swaps a breaching (or unplaced) appointment with a
  less pressing one on an earlier slot whenever that lowers the objective. O(n log n); it is
  the method at national scale.
* `solver`: the exact optimum from HiGHS. Appointments of one kind (specialty, type,
  duration) compete only for slots of that kind, and within a kind the cost depends only on
  (named clinician, tier, breach day) and the slot's day, so each kind is a small
  transportation problem over (group, day) pairs; its constraint matrix is a network matrix,
  so the LP optimum is integral and is the optimum of the full assignment. Groups are then
  unpacked to individual slots, most pressing patient on the earliest slot of the day.

Both respect: same specialty, type and duration; the named clinician where required; only
free slots at least the minimum notice away; no two overlapping slots for one patient.
"""

from __future__ import annotations

import bisect
import os
import sys
import time as clock
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.appointments import service as appointments_service
from api.appointments.models import Appointment, AppointmentStatus, Priority
from api.db import utcnow
from api.patients.models import Patient
from api.scheduling import holds, matching, priority
from api.scheduling.errors import NotFound
from api.scheduling.models import Disruption, Slot, SlotStatus
from api.system import localtime

TIER_WEIGHT = {0: 64, 1: 32, 2: 16, 3: 8, 4: 4, 5: 2, 6: 1}
BREACH_FIXED_DAYS = 14
UNASSIGNED_EXTRA_DAYS = 28
REPAIR_CANDIDATES = 16
REPAIR_PASSES = 4
PLAN_SOURCE = "plan"


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


# --- greedy with repair -----------------------------------------------------------------


class _Kind:
    """The openings of one kind, earliest first, and who occupies each."""

    __slots__ = ("openings", "days", "taken", "pointer", "by_clinician")

    def __init__(self, openings: list[Opening]) -> None:
        self.openings = sorted(openings, key=lambda o: (o.day, o.start, o.slot_id))
        self.days = [o.day for o in self.openings]
        self.taken = [-1] * len(self.openings)  # index of the need, or -1
        self.pointer = 0
        self.by_clinician: dict[int | None, list[int]] = defaultdict(list)
        for index, opening in enumerate(self.openings):
            self.by_clinician[opening.clinician_id].append(index)


def _shared_patients(problem: Problem) -> dict[int, int]:
    """Appointments per patient, counting existing bookings: above 1, overlaps are checked."""
    counts: dict[int, int] = defaultdict(int)
    for need in problem.needs:
        counts[need.patient_id] += 1
    for patient_id, intervals in problem.busy.items():
        counts[patient_id] += len(intervals)
    return counts


def _overlaps(opening: Opening, busy: list[tuple[int, int]]) -> bool:
    end = opening.start + opening.duration
    return any(opening.start < b_end and b_start < end for b_start, b_end in busy)


def greedy(problem: Problem, *, repair: bool = True) -> Plan:
    """Waiting-list order, earliest fitting slot, then swaps that lower the objective."""
    started = clock.perf_counter()
    kinds: dict[tuple, _Kind] = {}
    grouped: dict[tuple, list[Opening]] = defaultdict(list)
    for opening in problem.openings:
        grouped[opening.kind].append(opening)
    for kind, openings in grouped.items():
        kinds[kind] = _Kind(openings)
    needs = sorted(problem.needs, key=lambda n: n.key)
    per_patient = _shared_patients(problem)
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for patient_id, intervals in problem.busy.items():
        busy[patient_id].extend(intervals)
    placed: list[int] = [-1] * len(needs)  # opening index within the need's kind
    named_pointer: dict[tuple, int] = defaultdict(int)

    for n_index, need in enumerate(needs):
        kind = kinds.get(need.kind)
        if kind is None:
            continue
        shared = per_patient[need.patient_id] > 1
        if need.clinician_id is None:
            while kind.pointer < len(kind.taken) and kind.taken[kind.pointer] >= 0:
                kind.pointer += 1
            candidates = range(kind.pointer, len(kind.taken))
        else:
            own = kind.by_clinician.get(need.clinician_id, [])
            key = (need.kind, need.clinician_id)
            p = named_pointer[key]
            while p < len(own) and kind.taken[own[p]] >= 0:
                p += 1
            named_pointer[key] = p
            candidates = own[p:]
        for index in candidates:
            if kind.taken[index] >= 0:
                continue
            opening = kind.openings[index]
            if shared and _overlaps(opening, busy[need.patient_id]):
                continue
            kind.taken[index] = n_index
            placed[n_index] = index
            if shared:
                busy[need.patient_id].append((opening.start, opening.start + opening.duration))
            break

    if repair:
        _repair(needs, kinds, placed, per_patient, problem.busy, problem.unassigned_day)
    assignment = {}
    for n_index, need in enumerate(needs):
        if placed[n_index] >= 0:
            assignment[need.appointment_id] = kinds[need.kind].openings[placed[n_index]].slot_id
    return evaluate(problem, assignment, method="greedy" if repair else "greedy (no repair)",
                    seconds=clock.perf_counter() - started)


def _repair(needs: list[Need], kinds: dict[tuple, _Kind], placed: list[int],
            per_patient: dict[int, int], fixed_busy: dict[int, list[tuple[int, int]]],
            unassigned_day: int) -> None:
    """Swap breaching or unplaced appointments onto earlier slots while the objective drops."""
    siblings: dict[int, list[int]] = defaultdict(list)
    for n_index, need in enumerate(needs):
        if per_patient[need.patient_id] > 1:
            siblings[need.patient_id].append(n_index)

    def day_of(n_index: int) -> int:
        index = placed[n_index]
        return unassigned_day if index < 0 else kinds[needs[n_index].kind].days[index]

    def fits(n_index: int, opening: Opening) -> bool:
        need = needs[n_index]
        if need.clinician_id is not None and need.clinician_id != opening.clinician_id:
            return False
        if per_patient[need.patient_id] <= 1:
            return True
        busy = list(fixed_busy.get(need.patient_id, ()))
        for other in siblings[need.patient_id]:
            if other != n_index and placed[other] >= 0:
                o = kinds[needs[other].kind].openings[placed[other]]
                busy.append((o.start, o.start + o.duration))
        return not _overlaps(opening, busy)

    # Later passes revisit only the kinds the previous pass changed (a swap in one kind can
    # open a swap in another only through a shared patient, which also marks that kind).
    dirty: set[tuple] | None = None
    for _ in range(REPAIR_PASSES):
        changed: set[tuple] = set()
        for j, need_j in enumerate(needs):
            if dirty is not None and need_j.kind not in dirty:
                continue
            kind = kinds.get(need_j.kind)
            if kind is None:
                continue
            d_j = day_of(j)
            if d_j <= need_j.deadline:
                continue
            # Look just before the breach date (or just before the current slot when the
            # breach date has passed): the cheapest place to gain an on-time slot.
            limit = min(d_j - 1, need_j.deadline) if need_j.deadline >= 0 else d_j - 1
            end = bisect.bisect_right(kind.days, limit)
            best_gain, best = 0, -1
            current_j = cost(need_j.tier, need_j.deadline, d_j)
            j_opening = kind.openings[placed[j]] if placed[j] >= 0 else None
            checked = 0
            for index in range(end - 1, -1, -1):
                i = kind.taken[index]
                if i < 0 or i == j:
                    continue
                checked += 1
                if checked > REPAIR_CANDIDATES:
                    break
                need_i = needs[i]
                d_i = kind.days[index]
                gain = (cost(need_i.tier, need_i.deadline, d_i) + current_j
                        - cost(need_i.tier, need_i.deadline, d_j)
                        - cost(need_j.tier, need_j.deadline, d_i))
                if gain <= best_gain:
                    continue
                if need_i.patient_id == need_j.patient_id:
                    continue
                if not fits(j, kind.openings[index]):
                    continue
                if j_opening is not None and not fits(i, j_opening):
                    continue
                best_gain, best = gain, index
            if best >= 0:
                i = kind.taken[best]
                kind.taken[best] = j
                if placed[j] >= 0:
                    kind.taken[placed[j]] = i
                placed[i], placed[j] = placed[j], best
                changed.add(need_j.kind)
                for n_index in (i, j):
                    for other in siblings.get(needs[n_index].patient_id, ()):
                        changed.add(needs[other].kind)
        if not changed:
            return
        dirty = changed


# --- exact optimum with HiGHS ---------------------------------------------------------------


_banner_shown = False


def _highs():
    """A silent HiGHS instance."""
    import highspy

    global _banner_shown
    if _banner_shown:
        h = highspy.Highs()
    else:
        # HiGHS prints a licence banner to file descriptor 1 when the first instance is made,
        # which would corrupt `rebook schedule plan --json`: send it to stderr instead.
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(2, 1)
        try:
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True
    h.setOptionValue("output_flag", False)
    return h


def solver(problem: Problem, *, time_limit: float = 120.0, threads: int = 2) -> Plan:
    """The optimal plan from HiGHS, kind by kind; finished=False if the time ran out."""
    import highspy
    import numpy as np

    started = clock.perf_counter()
    deadline_at = started + time_limit
    needs_by_kind: dict[tuple, list[Need]] = defaultdict(list)
    for need in problem.needs:
        needs_by_kind[need.kind].append(need)
    openings_by_kind: dict[tuple, list[Opening]] = defaultdict(list)
    for opening in problem.openings:
        openings_by_kind[opening.kind].append(opening)
    per_patient = _shared_patients(problem)
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for patient_id, intervals in problem.busy.items():
        busy[patient_id].extend(intervals)
    assignment: dict[int, int] = {}
    U = problem.unassigned_day

    for kind, needs in needs_by_kind.items():
        openings = openings_by_kind.get(kind)
        if not openings:
            continue
        remaining = deadline_at - clock.perf_counter()
        if remaining <= 0:
            return evaluate(problem, assignment, method="solver", finished=False,
                            seconds=clock.perf_counter() - started, note="time limit")
        named_demand = {n.clinician_id for n in needs if n.clinician_id is not None}
        days = sorted({o.day for o in openings})
        day_index = {d: k for k, d in enumerate(days)}
        free_cap = [0] * len(days)
        named_cap: dict[int, list[int]] = {c: [0] * len(days) for c in named_demand}
        for o in openings:
            if o.clinician_id in named_cap:
                named_cap[o.clinician_id][day_index[o.day]] += 1
            else:
                free_cap[day_index[o.day]] += 1
        groups: dict[tuple, list[Need]] = defaultdict(list)
        for need in needs:
            groups[(need.clinician_id, need.tier, min(max(need.deadline, -1), U))].append(need)
        group_keys = list(groups)

        # Rows: one per group (supply), one pool row per day, one per (named clinician, day).
        n_groups = len(group_keys)
        pool_row = n_groups
        named_clinicians = sorted(named_cap)
        named_row = {c: n_groups + len(days) + k * len(days)
                     for k, c in enumerate(named_clinicians)}
        n_rows = n_groups + len(days) * (1 + len(named_clinicians))
        col_cost, col_rows, col_vals, col_meaning = [], [], [], []
        for g, (clinician, tier, deadline) in enumerate(group_keys):
            for k, day in enumerate(days):
                if clinician is None:
                    row = pool_row + k
                    if free_cap[k] == 0 and not named_clinicians:
                        continue
                else:
                    if named_cap[clinician][k] == 0:
                        continue
                    row = named_row[clinician] + k
                col_cost.append(cost(tier, deadline, day))
                col_rows.append((g, row))
                col_vals.append((1.0, 1.0))
                col_meaning.append(("x", g, k))
            col_cost.append(cost(tier, deadline, U))
            col_rows.append((g,))
            col_vals.append((1.0,))
            col_meaning.append(("u", g, -1))
        for c in named_clinicians:
            for k in range(len(days)):
                if named_cap[c][k]:
                    col_cost.append(0)
                    col_rows.append((pool_row + k, named_row[c] + k))
                    col_vals.append((-1.0, 1.0))
                    col_meaning.append(("y", c, k))

        starts = np.zeros(len(col_cost) + 1, dtype=np.int32)
        starts[1:] = np.cumsum([len(r) for r in col_rows])
        index = np.fromiter((r for rows in col_rows for r in rows), dtype=np.int32,
                            count=int(starts[-1]))
        value = np.fromiter((v for vals in col_vals for v in vals), dtype=np.float64,
                            count=int(starts[-1]))
        row_lower = np.full(n_rows, -highspy.kHighsInf)
        row_upper = np.zeros(n_rows)
        for g, key in enumerate(group_keys):
            row_lower[g] = row_upper[g] = len(groups[key])
        row_upper[pool_row:pool_row + len(days)] = free_cap
        for c in named_clinicians:
            row_upper[named_row[c]:named_row[c] + len(days)] = named_cap[c]

        lp = highspy.HighsLp()
        lp.num_col_ = len(col_cost)
        lp.num_row_ = n_rows
        lp.col_cost_ = np.asarray(col_cost, dtype=np.float64)
        lp.col_lower_ = np.zeros(len(col_cost))
        lp.col_upper_ = np.full(len(col_cost), highspy.kHighsInf)
        lp.row_lower_ = row_lower
        lp.row_upper_ = row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = starts
        lp.a_matrix_.index_ = index
        lp.a_matrix_.value_ = value
        h = _highs()
        h.setOptionValue("threads", threads)
        h.setOptionValue("time_limit", max(remaining, 0.1))
        h.passModel(lp)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return evaluate(problem, assignment, method="solver", finished=False,
                            seconds=clock.perf_counter() - started,
                            note=f"HiGHS: {h.modelStatusToString(h.getModelStatus())}")
        flows = h.getSolution().col_value

        # Unpack: each group's members (most pressing first) take its days (earliest first);
        # then, day by day, named patients take their clinician's slots and the rest the
        # remaining slots, most pressing patient on the earliest slot.
        day_members: list[list[Need]] = [[] for _ in days]
        group_days: dict[int, list[int]] = defaultdict(list)
        for (what, g, k), flow in zip(col_meaning, flows, strict=True):
            if what == "x":
                group_days[g].extend([k] * int(round(flow)))
        for g, key in enumerate(group_keys):
            members = sorted(groups[key], key=lambda n: n.key)
            for member, k in zip(members, sorted(group_days[g]), strict=False):
                day_members[k].append(member)
        by_day: list[list[Opening]] = [[] for _ in days]
        for o in openings:
            by_day[day_index[o.day]].append(o)
        # Patients with other appointments choose first within their day, so a clash with
        # one of those rarely leaves them without a slot; any that still clash take the
        # cheapest free slot of the kind left over.
        leftovers: list[Need] = []
        used: set[int] = set()
        for k, members in enumerate(day_members):
            pool = sorted(by_day[k], key=lambda o: (o.start, o.slot_id))
            members.sort(key=lambda n: (n.clinician_id is None,
                                        per_patient[n.patient_id] <= 1, n.key))
            for member in members:
                if not _place(member, pool, used, busy, per_patient, assignment):
                    leftovers.append(member)
        if leftovers:
            spare = sorted((o for o in openings if o.slot_id not in used),
                           key=lambda o: (o.day, o.start, o.slot_id))
            for member in sorted(leftovers, key=lambda n: n.key):
                _place(member, spare, used, busy, per_patient, assignment)
    return evaluate(problem, assignment, method="solver", seconds=clock.perf_counter() - started)


def _place(member: Need, pool: list[Opening], used: set[int],
           busy: dict[int, list[tuple[int, int]]], per_patient: dict[int, int],
           assignment: dict[int, int]) -> bool:
    """Give `member` the first unused, fitting, non-clashing opening of `pool`."""
    shared = per_patient[member.patient_id] > 1
    for o in pool:
        if o.slot_id in used:
            continue
        if member.clinician_id is not None and o.clinician_id != member.clinician_id:
            continue
        if shared and _overlaps(o, busy[member.patient_id]):
            continue
        used.add(o.slot_id)
        assignment[member.appointment_id] = o.slot_id
        if shared:
            busy[member.patient_id].append((o.start, o.start + o.duration))
        return True
    return False


# --- from and to the database ----------------------------------------------------------------


def load_problem(*, session: Session, disruption_id: int, now: datetime | None = None,
                 min_notice: timedelta = matching.MIN_NOTICE) -> Problem:
    """The disruption's postponed appointments and every free slot that could take them."""
    now = now or utcnow()
    if session.get(Disruption, disruption_id) is None:
        raise NotFound(f"no disruption {disruption_id}")
    zone = localtime.patient_zone()
    today = now.astimezone(zone).date()
    rows = session.execute(
        select(Appointment.id, Appointment.patient_id, Appointment.specialty_id,
               Appointment.type, Appointment.duration_minutes,
               Appointment.requires_named_clinician, Appointment.clinician_id,
               Appointment.priority, Appointment.pathway, Appointment.referral_date,
               Appointment.breach_date, Appointment.times_postponed, Patient.vulnerable)
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(Appointment.disruption_id == disruption_id,
               Appointment.status == AppointmentStatus.POSTPONED))
    needs = []
    kinds = set()
    for (a_id, p_id, specialty_id, a_type, minutes, named, clinician_id, prio, pathway,
         referral, breach, times, vulnerable) in rows:
        facts = priority.Facts(a_id, prio, pathway, referral, breach, times, bool(vulnerable))
        kind = (specialty_id, a_type, minutes)
        kinds.add(kind)
        needs.append(Need(a_id, p_id, kind, clinician_id if named else None,
                          priority.TIER[Priority(prio)], (breach - today).days,
                          priority.sort_key(facts, today)))
    openings = []
    specialties = sorted({k[0] for k in kinds})
    if specialties:
        for slot_id, specialty_id, s_type, minutes, clinician_id, start_at in session.execute(
                select(Slot.id, Slot.specialty_id, Slot.type, Slot.duration_minutes,
                       Slot.clinician_id, Slot.start_at)
                .where(Slot.status == SlotStatus.FREE, Slot.start_at >= now + min_notice,
                       Slot.specialty_id.in_(specialties))):
            kind = (specialty_id, s_type, minutes)
            if kind in kinds:
                openings.append(Opening(
                    slot_id, kind, clinician_id, (start_at.astimezone(zone).date() - today).days,
                    int((start_at - now).total_seconds() // 60), minutes))
    # Patients already booked elsewhere: a plan must not overlap those appointments either.
    waiting = select(Appointment.patient_id).where(
        Appointment.disruption_id == disruption_id,
        Appointment.status == AppointmentStatus.POSTPONED)
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for patient_id, start_at, minutes in session.execute(
            select(Appointment.patient_id, Slot.start_at, Slot.duration_minutes)
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(Appointment.patient_id.in_(waiting), Slot.start_at >= now,
                   Appointment.status.in_(matching.ACTIVE_STATUSES))):
        start = int((start_at - now).total_seconds() // 60)
        busy[patient_id].append((start, start + minutes))
    return Problem(needs, openings, dict(busy))


def apply_plan(*, session: Session, plan: Plan, actor: str, hold_hours: int = 24,
               now: datetime | None = None) -> int:
    """Send the plan as offers: each slot held for its appointment for `hold_hours`."""
    now = now or utcnow()
    made = 0
    with session.begin_nested():
        for appointment_id, slot_id in sorted(plan.assignment.items()):
            appointment = session.get(Appointment, appointment_id)
            slot = session.get(Slot, slot_id)
            if appointment is None or appointment.status is not AppointmentStatus.POSTPONED:
                continue
            if matching.overlaps(slot.start_at, slot.duration_minutes, matching.busy_intervals(
                    session=session, patient_id=appointment.patient_id,
                    except_appointment_id=appointment.id)):
                continue
            offer = holds.hold(session=session, appointment=appointment, slot=slot,
                               expires_at=now + timedelta(hours=hold_hours), source=PLAN_SOURCE,
                               rank=1, now=now)
            if offer is None:
                continue
            appointments_service.change_status(
                session=session, appointment=appointment, to_status=AppointmentStatus.OFFERED,
                reason="offered a date from the backlog plan", actor=actor,
                details={"slot_id": slot_id, "plan": plan.method})
            made += 1
        session.flush()
    return made
