"""The strategy advisor: which plans would make a rollout take off, at what cost (issue 10).

:func:`advise` searches the strategy levers a user allows (:mod:`sim.advisor.levers`, with the
cost model) with Optuna's multi-objective NSGA-II sampler (:mod:`sim.advisor.search`), scores
every candidate over replicates with common random numbers (drawn from the calibrated posterior
when asked), re-estimates the Pareto plans on fresh seeds, and writes the plans and a report
(:mod:`sim.advisor.report`).
"""

from .levers import ADVISABLE, COSTS, plan_cost
from .search import Advice, advise

__all__ = ["ADVISABLE", "COSTS", "Advice", "advise", "plan_cost"]
