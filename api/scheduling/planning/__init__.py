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

Modules: `model` (needs, openings, plans and the objective), `greedy`, `solver` (HiGHS) and
`store` (the problem read from the database, a plan sent as offers).
"""

from api.scheduling.planning.greedy import REPAIR_CANDIDATES, REPAIR_PASSES, greedy
from api.scheduling.planning.model import (
    BREACH_FIXED_DAYS,
    TIER_WEIGHT,
    UNASSIGNED_EXTRA_DAYS,
    Need,
    Opening,
    Plan,
    Problem,
    cost,
    evaluate,
)
from api.scheduling.planning.solver import solver
from api.scheduling.planning.store import PLAN_SOURCE, apply_plan, load_problem

__all__ = [
    "BREACH_FIXED_DAYS", "PLAN_SOURCE", "REPAIR_CANDIDATES", "REPAIR_PASSES", "TIER_WEIGHT",
    "UNASSIGNED_EXTRA_DAYS", "Need", "Opening", "Plan", "Problem", "apply_plan", "cost",
    "evaluate", "greedy", "load_problem", "solver",
]
