"""The backlog planner: greedy-with-repair against the HiGHS optimum, and the database path."""

from __future__ import annotations

import itertools
import random

import pytest

from api.appointments.models import AppointmentStatus, Priority
from api.scheduling import planning
from api.scheduling.models import OfferStatus, SlotStatus
from api.scheduling.planning import Need, Opening, Problem
from tests.scheduling.conftest import NOW, at

KIND = (1, "outpatient", 20)


def need(appointment_id, *, tier=5, deadline=100, patient=None, clinician=None, kind=KIND):
    key = (tier, -1 if deadline < 0 else deadline // 7, 0, 0, True, appointment_id)
    return Need(appointment_id, patient or appointment_id, kind, clinician, tier, deadline, key)


def opening(slot_id, day, *, clinician=None, start=None, kind=KIND):
    return Opening(slot_id, kind, clinician, day, start if start is not None else day * 1440,
                   kind[2])


def brute_force(problem: Problem) -> int:
    """The optimum by trying every assignment (tiny problems only)."""
    best = None
    slots = problem.openings + [None] * len(problem.needs)
    for chosen in itertools.permutations(slots, len(problem.needs)):
        total, busy = 0, {}
        for n, o in zip(problem.needs, chosen, strict=True):
            if o is None:
                total += planning.cost(n.tier, n.deadline, problem.unassigned_day)
                continue
            if o.kind != n.kind or (n.clinician_id and o.clinician_id != n.clinician_id):
                break
            if any(o.start < e and s < o.start + o.duration for s, e in busy.get(n.patient_id, [])):
                break
            busy.setdefault(n.patient_id, []).append((o.start, o.start + o.duration))
            total += planning.cost(n.tier, n.deadline, o.day)
        else:
            best = total if best is None else min(best, total)
    return best


def test_repair_trades_a_breach_for_a_shorter_one():
    # Same tier; the already-breached appointment comes first in the list, but giving the
    # first slot to the one that can still be on time means one breach instead of two.
    problem = Problem([need(1, deadline=-1), need(2, deadline=3)],
                      [opening(10, 1), opening(11, 5)])
    plain = planning.greedy(problem, repair=False)
    repaired = planning.greedy(problem)
    solved = planning.solver(problem)
    assert plain.assignment == {1: 10, 2: 11} and plain.breaches == 2
    assert repaired.assignment == {1: 11, 2: 10} and repaired.breaches == 1
    assert solved.objective == repaired.objective == brute_force(problem)


def test_higher_priority_earlier():
    problem = Problem([need(1, tier=5), need(2, tier=3), need(3, tier=0)],
                      [opening(10, 2), opening(11, 3), opening(12, 4)])
    for plan in (planning.greedy(problem), planning.solver(problem)):
        assert plan.assignment == {3: 10, 2: 11, 1: 12}


def assert_valid(problem: Problem, plan: planning.Plan) -> None:
    """Every hard constraint: kind, named clinician, one appointment per slot, no overlaps."""
    openings = {o.slot_id: o for o in problem.openings}
    assert len(set(plan.assignment.values())) == len(plan.assignment)
    busy: dict[int, list[Opening]] = {}
    for n in problem.needs:
        if n.appointment_id not in plan.assignment:
            continue
        o = openings[plan.assignment[n.appointment_id]]
        assert o.kind == n.kind
        assert n.clinician_id is None or o.clinician_id == n.clinician_id
        for other in busy.get(n.patient_id, []):
            assert not (o.start < other.start + other.duration
                        and other.start < o.start + o.duration)
        busy.setdefault(n.patient_id, []).append(o)


def test_constraints_named_clinician_and_kind():
    other_kind = (2, "theatre", 90)
    problem = Problem(
        [need(1, clinician=7, tier=6), need(2, tier=0), need(3, patient=2, kind=other_kind)],
        [opening(10, 2, clinician=8), opening(11, 3, clinician=7),
         opening(12, 3, kind=other_kind), opening(13, 4, clinician=8)])
    for plan in (planning.greedy(problem), planning.solver(problem)):
        # The P1a would be earliest, but the P4 needs this clinician and there is room.
        assert plan.assignment == {1: 11, 2: 10, 3: 12}
        assert_valid(problem, plan)


def test_patients_are_never_given_overlapping_slots():
    a, b = (1, "outpatient", 20), (2, "outpatient", 20)
    problem = Problem([need(1, patient=9, kind=a, tier=0), need(2, patient=9, kind=b, tier=0)],
                      [opening(10, 3, start=600, kind=a), opening(11, 3, start=605, kind=b),
                       opening(12, 4, start=2000, kind=b)])
    for plan in (planning.greedy(problem), planning.solver(problem)):
        assert plan.assignment == {1: 10, 2: 12}


def _random_problem(rng: random.Random, needs: int, slots: int) -> Problem:
    kinds = [(1, "outpatient", 20), (1, "theatre", 90)]
    return Problem(
        [need(i, tier=rng.choice([0, 2, 3, 5, 6]), deadline=rng.randint(-5, 12),
              patient=rng.randint(1, needs - 1), kind=rng.choice(kinds),
              clinician=rng.choice([None, None, None, 1])) for i in range(1, needs + 1)],
        [opening(100 + i, rng.randint(2, 14), clinician=rng.choice([1, 2]),
                 start=rng.randint(0, 20) * 1440 + rng.choice([0, 30, 60]),
                 kind=rng.choice(kinds)) for i in range(slots)])


@pytest.mark.parametrize("seed", range(6))
def test_solver_is_optimal_on_tiny_instances(seed):
    problem = _random_problem(random.Random(seed), needs=5, slots=5)
    optimum = brute_force(problem)
    solved, greedy = planning.solver(problem), planning.greedy(problem)
    assert solved.objective == optimum
    assert greedy.objective >= optimum
    assert_valid(problem, solved)
    assert_valid(problem, greedy)


def test_greedy_is_close_to_the_solver_on_a_small_instance():
    rng = random.Random(42)
    problem = _random_problem(rng, needs=400, slots=500)
    greedy, solved = planning.greedy(problem), planning.solver(problem)
    assert solved.finished
    assert_valid(problem, greedy)
    assert_valid(problem, solved)
    assert solved.objective <= greedy.objective <= solved.objective * 1.02


def test_plan_from_the_database_and_send_it_as_offers(world, db_session):
    from api.scheduling import service as scheduling_service

    disruption = scheduling_service.declare_disruption(
        session=db_session, name="Strike", starts_at=at(-3), ends_at=at(-1),
        staff_group="consultants")
    urgent = world.postponed(priority=Priority.URGENT)
    routine = world.postponed()
    unrelated = world.postponed()  # postponed, but not by this disruption
    for appointment in (urgent, routine):
        appointment.disruption_id = disruption.id
    early, late = world.slot(3), world.slot(6)
    world.slot(1)  # too soon for the 48-hour notice
    db_session.flush()
    problem = planning.load_problem(session=db_session, disruption_id=disruption.id, now=NOW)
    assert len(problem.needs) == 2 and len(problem.openings) == 2
    plan = planning.greedy(problem)
    assert plan.assignment == {urgent.id: early.id, routine.id: late.id}
    assert planning.solver(problem).assignment == plan.assignment
    assert planning.apply_plan(session=db_session, plan=plan, actor="staff:1", now=NOW) == 2
    assert urgent.status is routine.status is AppointmentStatus.OFFERED
    assert unrelated.status is AppointmentStatus.POSTPONED
    db_session.refresh(early)
    assert early.status is SlotStatus.HELD
    offer = scheduling_service.awaiting_date(session=db_session, patient_id=urgent.patient_id)
    assert offer[0].id == urgent.id
    from api.scheduling import holds

    held = holds.held_offers(session=db_session, appointment_id=urgent.id)
    assert [(o.slot_id, o.source, o.status) for o in held] == [(early.id, "plan",
                                                                OfferStatus.HELD)]
