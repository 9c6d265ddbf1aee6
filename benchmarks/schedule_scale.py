"""Backlog planning at trust and national scale: greedy-with-repair against the HiGHS optimum.

    .venv/bin/python benchmarks/schedule_scale.py [--only trust|national] [--solver-limit 300]

Each scenario runs in a fresh subprocess so "peak memory" is that run's own peak RSS
(generating the instance included). Instances are synthetic and deterministic: a waiting list
with the demo trust's priority mix, breach dates spread from already-breached to months away,
5% needing a named clinician, 8% of patients with two postponed appointments, and 12 weeks
of weekday clinics and theatre lists. National scale is planned as England's seven regions
(a patient is rebooked within their region), all in one run.

Objective: see api/scheduling/planning/__init__.py (lower is better). "gap" is greedy's objective
above the solver's optimum. Targets: trust < 2 s, national < 120 s and 4 GB on 2 cores,
greedy within 2% of the solver.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.scheduling import planning  # noqa: E402

SCENARIOS = {
    "trust": {"needs": 4_000, "slots": 20_000, "regions": 1},
    # The demo trust seeded into a throw-away SQLite file at ~4,000 postponed appointments;
    # "wall s" of its rows includes loading the problem from the database.
    "trust-db": {"patients": 16_700},
    "national": {"needs": 195_000, "slots": 250_000, "regions": 7},
}
SPECIALTIES = 20
CLINICIANS = 4
# (type, minutes, share of demand)
KINDS = [("outpatient", 20, 0.45), ("outpatient", 30, 0.15), ("procedure", 30, 0.12),
         ("theatre", 60, 0.12), ("theatre", 120, 0.10), ("theatre", 240, 0.06)]
OUTPATIENT_TIERS = {3: 0.20, 2: 0.10, 5: 0.70}  # urgent, suspected cancer, routine
SURGICAL_TIERS = {0: 0.02, 1: 0.05, 3: 0.35, 4: 0.35, 6: 0.23}  # P1a, P1b, P2, P3, P4
HORIZON_DAYS = 84
NOTICE_DAYS = 2


def _pick(rng: random.Random, weights: dict[int, float]) -> int:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _deadline(rng: random.Random, tier: int) -> int:
    if tier in (0, 1):
        return rng.randint(-3, 2)
    if tier == 2:
        return rng.randint(-5, 28)
    if tier == 3:
        return rng.randint(-10, 40)
    return rng.randint(-30, 150)


def make_problem(*, needs: int, slots: int, regions: int, seed: int = 7) -> planning.Problem:
    """A deterministic synthetic waiting list and free capacity."""
    rng = random.Random(seed)
    kinds = [(r * 100 + s, t, m, share / SPECIALTIES / regions)
             for r in range(regions) for s in range(SPECIALTIES) for t, m, share in KINDS]
    shares = [k[3] for k in kinds]
    result_needs: list[planning.Need] = []
    next_patient = 0
    appointment_id = 0
    while len(result_needs) < needs:
        next_patient += 1
        count = 2 if rng.random() < 0.08 else 1
        for _ in range(count):
            if len(result_needs) >= needs:
                break
            specialty, a_type, minutes, _share = rng.choices(kinds, weights=shares)[0]
            tier = _pick(rng, SURGICAL_TIERS if a_type == "theatre" else OUTPATIENT_TIERS)
            deadline = _deadline(rng, tier)
            waited = rng.randint(5, 300)
            appointment_id += 1
            clinician = (specialty * 10 + rng.randrange(CLINICIANS)
                         if a_type != "theatre" and rng.random() < 0.05 else None)
            key = (tier, -1 if deadline < 0 else deadline // 7, -waited, -rng.randint(0, 2),
                   rng.random() > 0.04, appointment_id)
            result_needs.append(planning.Need(appointment_id, next_patient,
                                              (specialty, a_type, minutes), clinician, tier,
                                              deadline, key))
    # Capacity per kind follows demand with +-40% noise, so some kinds run short.
    weights = [share * rng.uniform(0.6, 1.4) for share in shares]
    openings: list[planning.Opening] = []
    counts = [0] * len(kinds)
    for index in rng.choices(range(len(kinds)), weights=weights, k=slots):
        counts[index] += 1
    weekdays = [d for d in range(NOTICE_DAYS, HORIZON_DAYS) if d % 7 < 5]
    slot_id = 0
    for (specialty, a_type, minutes, _share), count in zip(kinds, counts, strict=True):
        for _ in range(count):
            day = rng.choice(weekdays)
            clinician = specialty * 10 + rng.randrange(CLINICIANS)
            start = day * 1440 + 8 * 60 + 30 + rng.randrange(0, 480 // minutes) * minutes
            slot_id += 1
            openings.append(planning.Opening(slot_id, (specialty, a_type, minutes), clinician,
                                             day, start, minutes))
    return planning.Problem(result_needs, openings)


def _from_database(patients: int) -> tuple[planning.Problem, float]:
    """Seed the demo trust into a temporary SQLite file and load its backlog; (problem, s)."""
    import tempfile

    folder = tempfile.mkdtemp(prefix="rebook-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.db"
    from api.db import session_scope
    from api.demo import service as demo_service
    from api.schema import upgrade

    upgrade()
    with session_scope() as session:
        seeded = demo_service.seed(session=session, patients=patients, seed=2024)
    with session_scope() as session:
        started = time.perf_counter()
        problem = planning.load_problem(session=session, disruption_id=seeded.disruption_id)
        return problem, time.perf_counter() - started


def run_one(name: str, solver_limit: float) -> dict:
    scenario = SCENARIOS[name]
    started = time.perf_counter()
    load = 0.0
    if "patients" in scenario:
        problem, load = _from_database(scenario["patients"])
    else:
        problem = make_problem(needs=scenario["needs"], slots=scenario["slots"],
                               regions=scenario["regions"])
    built = time.perf_counter() - started
    greedy = planning.greedy(problem)
    plain = planning.greedy(problem, repair=False)
    solved = planning.solver(problem, time_limit=solver_limit, threads=2)
    for plan in (greedy, plain, solved):
        plan.seconds += load
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "scenario": name, "needs": len(problem.needs), "slots": len(problem.openings),
        "build_s": built, "peak_mb": peak_mb,
        "plans": [{"method": p.method, "seconds": p.seconds, "objective": p.objective,
                   "breaches": p.breaches, "breach_days": p.breach_days,
                   "unassigned": p.unassigned, "finished": p.finished, "note": p.note}
                  for p in (plain, greedy, solved)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SCENARIOS))
    parser.add_argument("--solver-limit", type=float, default=300.0,
                        help="seconds the solver may take per scenario")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.solver_limit)))
        return
    results = []
    for name in [args.only] if args.only else list(SCENARIOS):
        out = subprocess.run(
            [sys.executable, __file__, "--child", name, "--solver-limit", str(args.solver_limit)],
            check=True, capture_output=True, text=True,
            env=os.environ | {"OMP_NUM_THREADS": "2"})
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    header = (f"{'scenario':<9} {'postponed':>9} {'slots':>8} {'method':<19} {'wall s':>7} "
              f"{'peak MB':>8} {'objective':>13} {'gap':>7} {'breaches':>8} "
              f"{'breach d':>9} {'unplaced':>8}")
    print(header)
    print("-" * len(header))
    for result in results:
        best = next((p["objective"] for p in result["plans"]
                     if p["method"] == "solver" and p["finished"]), None)
        for plan in result["plans"]:
            gap = (f"{100 * (plan['objective'] - best) / best:6.2f}%" if best else "    n/a")
            finished = "" if plan["finished"] else f"  (did not finish: {plan['note']})"
            print(f"{result['scenario']:<9} {result['needs']:>9,} {result['slots']:>8,} "
                  f"{plan['method']:<19} {plan['seconds']:>7.2f} {result['peak_mb']:>8.0f} "
                  f"{plan['objective']:>13,} {gap:>7} {plan['breaches']:>8,} "
                  f"{plan['breach_days']:>9,} {plan['unassigned']:>8,}{finished}")
    print("\npeak MB is the whole run's peak RSS (instance, both greedy runs and the solver);"
          " wall s excludes building the synthetic instance; for trust-db it includes loading"
          " the problem from the database.")


if __name__ == "__main__":
    main()
