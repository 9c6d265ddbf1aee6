"""The greedy planner: waiting-list order, earliest fitting slot, then a repair pass of swaps."""

from __future__ import annotations

import bisect
import time as clock
from collections import defaultdict

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

REPAIR_CANDIDATES = 16
REPAIR_PASSES = 4


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


def greedy(problem: Problem, *, repair: bool = True) -> Plan:
    """Waiting-list order, earliest fitting slot, then swaps that lower the objective."""
    started = clock.perf_counter()
    grouped: dict[tuple, list[Opening]] = defaultdict(list)
    for opening in problem.openings:
        grouped[opening.kind].append(opening)
    kinds = {kind: _Kind(openings) for kind, openings in grouped.items()}
    needs = sorted(problem.needs, key=lambda n: n.key)
    per_patient = shared_patients(problem)
    placed = _first_fit(needs, kinds, per_patient, problem.busy)
    if repair:
        _Repair(needs, kinds, placed, per_patient, problem.busy, problem.unassigned_day).run()
    assignment = {}
    for n_index, need in enumerate(needs):
        if placed[n_index] >= 0:
            assignment[need.appointment_id] = kinds[need.kind].openings[placed[n_index]].slot_id
    return evaluate(problem, assignment, method="greedy" if repair else "greedy (no repair)",
                    seconds=clock.perf_counter() - started)


def _candidates(need: Need, kind: _Kind, named_pointer: dict[tuple, int]):
    """The opening indexes `need` may take, earliest first, skipping the taken prefix."""
    if need.clinician_id is None:
        while kind.pointer < len(kind.taken) and kind.taken[kind.pointer] >= 0:
            kind.pointer += 1
        return range(kind.pointer, len(kind.taken))
    own = kind.by_clinician.get(need.clinician_id, [])
    key = (need.kind, need.clinician_id)
    p = named_pointer[key]
    while p < len(own) and kind.taken[own[p]] >= 0:
        p += 1
    named_pointer[key] = p
    return own[p:]


def _first_fit(needs: list[Need], kinds: dict[tuple, _Kind], per_patient: dict[int, int],
               fixed_busy: dict[int, list[tuple[int, int]]]) -> list[int]:
    """Each need, in order, on the earliest free fitting opening; its index in the kind, or -1."""
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for patient_id, intervals in fixed_busy.items():
        busy[patient_id].extend(intervals)
    placed: list[int] = [-1] * len(needs)  # opening index within the need's kind
    named_pointer: dict[tuple, int] = defaultdict(int)
    for n_index, need in enumerate(needs):
        kind = kinds.get(need.kind)
        if kind is None:
            continue
        shared = per_patient[need.patient_id] > 1
        for index in _candidates(need, kind, named_pointer):
            if kind.taken[index] >= 0:
                continue
            opening = kind.openings[index]
            if shared and overlaps(opening, busy[need.patient_id]):
                continue
            kind.taken[index] = n_index
            placed[n_index] = index
            if shared:
                busy[need.patient_id].append((opening.start, opening.start + opening.duration))
            break
    return placed


class _Repair:
    """Swap breaching or unplaced appointments onto earlier slots while the objective drops."""

    def __init__(self, needs: list[Need], kinds: dict[tuple, _Kind], placed: list[int],
                 per_patient: dict[int, int], fixed_busy: dict[int, list[tuple[int, int]]],
                 unassigned_day: int) -> None:
        self.needs, self.kinds, self.placed = needs, kinds, placed
        self.per_patient, self.fixed_busy = per_patient, fixed_busy
        self.unassigned_day = unassigned_day
        self.siblings: dict[int, list[int]] = defaultdict(list)
        for n_index, need in enumerate(needs):
            if per_patient[need.patient_id] > 1:
                self.siblings[need.patient_id].append(n_index)

    def run(self) -> None:
        # Later passes revisit only the kinds the previous pass changed (a swap in one kind can
        # open a swap in another only through a shared patient, which also marks that kind).
        dirty: set[tuple] | None = None
        for _ in range(REPAIR_PASSES):
            changed: set[tuple] = set()
            for j, need_j in enumerate(self.needs):
                if dirty is not None and need_j.kind not in dirty:
                    continue
                kind = self.kinds.get(need_j.kind)
                if kind is None:
                    continue
                if self.day_of(j) <= need_j.deadline:
                    continue
                best = self.best_swap(j, kind)
                if best >= 0:
                    self.swap(j, kind, best, changed)
            if not changed:
                return
            dirty = changed

    def day_of(self, n_index: int) -> int:
        index = self.placed[n_index]
        if index < 0:
            return self.unassigned_day
        return self.kinds[self.needs[n_index].kind].days[index]

    def fits(self, n_index: int, opening: Opening) -> bool:
        need = self.needs[n_index]
        if need.clinician_id is not None and need.clinician_id != opening.clinician_id:
            return False
        if self.per_patient[need.patient_id] <= 1:
            return True
        busy = list(self.fixed_busy.get(need.patient_id, ()))
        for other in self.siblings[need.patient_id]:
            if other != n_index and self.placed[other] >= 0:
                o = self.kinds[self.needs[other].kind].openings[self.placed[other]]
                busy.append((o.start, o.start + o.duration))
        return not overlaps(opening, busy)

    def best_swap(self, j: int, kind: _Kind) -> int:
        """The opening index whose occupant gains most by trading with `j`, or -1."""
        need_j = self.needs[j]
        d_j = self.day_of(j)
        # Look just before the breach date (or just before the current slot when the
        # breach date has passed): the cheapest place to gain an on-time slot.
        limit = min(d_j - 1, need_j.deadline) if need_j.deadline >= 0 else d_j - 1
        end = bisect.bisect_right(kind.days, limit)
        best_gain, best = 0, -1
        current_j = cost(need_j.tier, need_j.deadline, d_j)
        j_opening = kind.openings[self.placed[j]] if self.placed[j] >= 0 else None
        checked = 0
        for index in range(end - 1, -1, -1):
            i = kind.taken[index]
            if i < 0 or i == j:
                continue
            checked += 1
            if checked > REPAIR_CANDIDATES:
                break
            need_i = self.needs[i]
            d_i = kind.days[index]
            gain = (cost(need_i.tier, need_i.deadline, d_i) + current_j
                    - cost(need_i.tier, need_i.deadline, d_j)
                    - cost(need_j.tier, need_j.deadline, d_i))
            if gain <= best_gain:
                continue
            if need_i.patient_id == need_j.patient_id:
                continue
            if not self.fits(j, kind.openings[index]):
                continue
            if j_opening is not None and not self.fits(i, j_opening):
                continue
            best_gain, best = gain, index
        return best

    def swap(self, j: int, kind: _Kind, best: int, changed: set[tuple]) -> None:
        """`j` takes opening `best`; its occupant takes `j`'s opening (or none)."""
        placed, needs = self.placed, self.needs
        i = kind.taken[best]
        kind.taken[best] = j
        if placed[j] >= 0:
            kind.taken[placed[j]] = i
        placed[i], placed[j] = placed[j], best
        changed.add(needs[j].kind)
        for n_index in (i, j):
            for other in self.siblings.get(needs[n_index].patient_id, ()):
                changed.add(needs[other].kind)
