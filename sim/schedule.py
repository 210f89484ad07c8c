"""What happens to the organisation from outside the agents' rules, as arrays for the week:
rollout waves (004) and shocks (001, 003, 004).

A scenario's ``waves`` and ``shocks`` become the :class:`~sim.week.Sched` arrays here, once per
model; ``sim.week`` applies them in the weeks they happen (and turnover, every week). They
change state or the levers in force, never the rules. The random choices they involve
(scattered seats, who a crisis hits, newcomers' personal draws, who leaves) are counter-based
draws of their own streams (:mod:`sim.rng`), so the agents' weekly draws stay the same whatever
the schedule: common random numbers across strategies.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .week import COMPLIANCE_CLAMPDOWN, CRISIS, LEADER_LEAVES, VIRAL_MISTAKE, Sched

if TYPE_CHECKING:  # pragma: no cover
    from .networks import Organisation
    from .scenario import Scenario, Wave

SHOCK_CODES = {"crisis": CRISIS, "viral_mistake": VIRAL_MISTAKE, "leader_leaves": LEADER_LEAVES,
               "compliance_clampdown": COMPLIANCE_CLAMPDOWN}
EVENT_NAMES = {0: "wave", **{code: kind for kind, code in SHOCK_CODES.items()}}


def wave_departments(org: "Organisation", wave: "Wave") -> np.ndarray:
    """Boolean mask of the employees in the departments a wave names (``share`` or ``departments``)."""
    if wave.share is not None:
        first = math.ceil(round(wave.share * org.n_departments, 9))
        return org.department < first
    if wave.departments == "all":
        return np.ones(org.n, dtype=bool)
    if wave.departments == "customer_facing":
        return org.customer_facing.copy()
    if wave.departments == "internal":
        return ~org.customer_facing
    return np.isin(org.department, np.asarray(wave.departments, dtype=np.int32))


def schedule_arrays(config: "Scenario", org: "Organisation") -> Sched:
    """The scenario's waves and shocks as arrays (shocks only with ``use_shocks``)."""
    waves = config.waves
    mask = np.zeros((len(waves), org.n), dtype=bool)
    for j, wave in enumerate(waves):
        mask[j] = wave_departments(org, wave)
    shocks = config.shocks if config.use_shocks else ()
    return Sched(wave_week=np.array([w.week for w in waves], dtype=np.int64), wave_mask=mask,
                 wave_scattered=np.array([w.spread == "scattered" for w in waves], dtype=bool),
                 shock_week=np.array([s.week for s in shocks], dtype=np.int64),
                 shock_kind=np.array([SHOCK_CODES[s.kind] for s in shocks], dtype=np.int64),
                 shock_severity=np.array([s.severity for s in shocks], dtype=np.float64))
