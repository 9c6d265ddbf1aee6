"""The exact plan from HiGHS: one transportation problem per kind, built, solved and unpacked."""

from __future__ import annotations

import os
import sys
import time as clock
from collections import defaultdict
from dataclasses import dataclass, field

from api.scheduling.planning.model import (
    Need,
    Opening,
    Plan,
    Problem,
    cost,
    evaluate,
    overlaps,
    shared_patients,
)

_banner_shown = False


def _highs():
    """A silent HiGHS instance."""
    import highspy

    global _banner_shown
    if _banner_shown:
        h = highspy.Highs()
    else:
        # HiGHS prints a licence banner to file descriptor 1 when the first instance is made,
        # before any option (output_flag) can be set: it would corrupt `rebook schedule plan
        # --json` and means nothing to a bookings manager, so it goes nowhere.
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        try:
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _banner_shown = True
    h.setOptionValue("output_flag", False)
    return h


@dataclass
class _Model:
    """One kind's transportation problem: (group, day) flows, as HiGHS columns and rows."""

    days: list[int]
    day_index: dict[int, int]
    free_cap: list[int]
    named_cap: dict[int, list[int]]
    groups: dict[tuple, list[Need]]
    group_keys: list[tuple] = field(default_factory=list)
    # Rows: one per group (supply), one pool row per day, one per (named clinician, day).
    pool_row: int = 0
    named_row: dict[int, int] = field(default_factory=dict)
    n_rows: int = 0
    col_cost: list[int] = field(default_factory=list)
    col_rows: list[tuple] = field(default_factory=list)
    col_vals: list[tuple] = field(default_factory=list)
    col_meaning: list[tuple] = field(default_factory=list)


def solver(problem: Problem, *, time_limit: float = 120.0, threads: int = 2) -> Plan:
    """The optimal plan from HiGHS, kind by kind; finished=False if the time ran out."""
    import highspy  # noqa: F401  (fails here, before any work, when HiGHS is not installed)

    started = clock.perf_counter()
    deadline_at = started + time_limit
    needs_by_kind: dict[tuple, list[Need]] = defaultdict(list)
    for need in problem.needs:
        needs_by_kind[need.kind].append(need)
    openings_by_kind: dict[tuple, list[Opening]] = defaultdict(list)
    for opening in problem.openings:
        openings_by_kind[opening.kind].append(opening)
    per_patient = shared_patients(problem)
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for patient_id, intervals in problem.busy.items():
        busy[patient_id].extend(intervals)
    assignment: dict[int, int] = {}

    for kind, needs in needs_by_kind.items():
        openings = openings_by_kind.get(kind)
        if not openings:
            continue
        remaining = deadline_at - clock.perf_counter()
        if remaining <= 0:
            return evaluate(problem, assignment, method="solver", finished=False,
                            seconds=clock.perf_counter() - started, note="time limit")
        model = _build(needs, openings, problem.unassigned_day)
        flows = _solve(model, remaining=remaining, threads=threads)
        if isinstance(flows, str):
            return evaluate(problem, assignment, method="solver", finished=False,
                            seconds=clock.perf_counter() - started, note=f"HiGHS: {flows}")
        _unpack(model, flows, openings, busy, per_patient, assignment)
    return evaluate(problem, assignment, method="solver", seconds=clock.perf_counter() - started)


# --- build -------------------------------------------------------------------------------------


def _build(needs: list[Need], openings: list[Opening], unassigned_day: int) -> _Model:
    """Group the kind's needs by (named clinician, tier, breach day) and its slots by day."""
    U = unassigned_day
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
    model = _Model(days, day_index, free_cap, named_cap, groups, list(groups))
    n_groups = len(model.group_keys)
    model.pool_row = n_groups
    named_clinicians = sorted(named_cap)
    model.named_row = {c: n_groups + len(days) + k * len(days)
                       for k, c in enumerate(named_clinicians)}
    model.n_rows = n_groups + len(days) * (1 + len(named_clinicians))
    _columns(model, U)
    return model


def _columns(model: _Model, unassigned_day: int) -> None:
    """x: a group seen on a day; u: a group left unplaced; y: a named clinician's spare slot."""
    named_clinicians = sorted(model.named_cap)
    days = model.days

    def add(price: int, rows: tuple, vals: tuple, meaning: tuple) -> None:
        model.col_cost.append(price)
        model.col_rows.append(rows)
        model.col_vals.append(vals)
        model.col_meaning.append(meaning)

    for g, (clinician, tier, deadline) in enumerate(model.group_keys):
        for k, day in enumerate(days):
            if clinician is None:
                row = model.pool_row + k
                if model.free_cap[k] == 0 and not named_clinicians:
                    continue
            else:
                if model.named_cap[clinician][k] == 0:
                    continue
                row = model.named_row[clinician] + k
            add(cost(tier, deadline, day), (g, row), (1.0, 1.0), ("x", g, k))
        add(cost(tier, deadline, unassigned_day), (g,), (1.0,), ("u", g, -1))
    for c in named_clinicians:
        for k in range(len(days)):
            if model.named_cap[c][k]:
                add(0, (model.pool_row + k, model.named_row[c] + k), (-1.0, 1.0), ("y", c, k))


# --- solve -------------------------------------------------------------------------------------


def _lp(model: _Model):
    """The model as a column-wise HighsLp."""
    import highspy
    import numpy as np

    n_cols = len(model.col_cost)
    starts = np.zeros(n_cols + 1, dtype=np.int32)
    starts[1:] = np.cumsum([len(r) for r in model.col_rows])
    index = np.fromiter((r for rows in model.col_rows for r in rows), dtype=np.int32,
                        count=int(starts[-1]))
    value = np.fromiter((v for vals in model.col_vals for v in vals), dtype=np.float64,
                        count=int(starts[-1]))
    n_days = len(model.days)
    row_lower = np.full(model.n_rows, -highspy.kHighsInf)
    row_upper = np.zeros(model.n_rows)
    for g, key in enumerate(model.group_keys):
        row_lower[g] = row_upper[g] = len(model.groups[key])
    row_upper[model.pool_row:model.pool_row + n_days] = model.free_cap
    for c in sorted(model.named_cap):
        row_upper[model.named_row[c]:model.named_row[c] + n_days] = model.named_cap[c]

    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = model.n_rows
    lp.col_cost_ = np.asarray(model.col_cost, dtype=np.float64)
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.full(n_cols, highspy.kHighsInf)
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    return lp


def _solve(model: _Model, *, remaining: float, threads: int):
    """The optimal column values, or HiGHS's model status as text when it found no optimum."""
    import highspy

    h = _highs()
    h.setOptionValue("threads", threads)
    h.setOptionValue("time_limit", max(remaining, 0.1))
    h.passModel(_lp(model))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return h.modelStatusToString(h.getModelStatus())
    return h.getSolution().col_value


# --- unpack ------------------------------------------------------------------------------------


def _unpack(model: _Model, flows, openings: list[Opening],
            busy: dict[int, list[tuple[int, int]]], per_patient: dict[int, int],
            assignment: dict[int, int]) -> None:
    """Each group's members (most pressing first) take its days (earliest first); then, day by
    day, named patients take their clinician's slots and the rest the remaining slots, most
    pressing patient on the earliest slot."""
    day_members: list[list[Need]] = [[] for _ in model.days]
    group_days: dict[int, list[int]] = defaultdict(list)
    for (what, g, k), flow in zip(model.col_meaning, flows, strict=True):
        if what == "x":
            group_days[g].extend([k] * int(round(flow)))
    for g, key in enumerate(model.group_keys):
        members = sorted(model.groups[key], key=lambda n: n.key)
        for member, k in zip(members, sorted(group_days[g]), strict=False):
            day_members[k].append(member)
    by_day: list[list[Opening]] = [[] for _ in model.days]
    for o in openings:
        by_day[model.day_index[o.day]].append(o)
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
        if shared and overlaps(o, busy[member.patient_id]):
            continue
        used.add(o.slot_id)
        assignment[member.appointment_id] = o.slot_id
        if shared:
            busy[member.patient_id].append((o.start, o.start + o.duration))
        return True
    return False
