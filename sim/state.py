"""Agent state as struct of arrays: employees, customers and organisation totals.

The Mesa agents of :mod:`sim.agents` are views on these rows. Everything a person carries
(their bar, their propensity to write, their habit, reputation, safety, when they last looked,
reacted or posted) lives here, so the kernels of :mod:`sim.kernels` can sweep it. The initial
personal draws come from the model's seeded numpy generator; newcomers who replace leavers
(turnover, mechanism 12) get fresh counter-based draws in the compiled week
(``sim.week.replace_seats``) and no habit, reputation or ties: an organisation has to win each
of them over again.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .kernels import NON_USER
from .rng import DEPARTMENT_EFFORT_1, DEPARTMENT_EFFORT_2, WRITER, normal_py, uniforms
from .scenario import Scenario

#: ``last_view``, ``last_react`` and ``last_post`` of someone who never did it (far in the past,
#: so "within the last k weeks" is false for any k).
NEVER = -(10**6)


class EmployeeState(NamedTuple):
    """Struct of arrays: one row per employee seat (department-major order).

    A named tuple, so the compiled week (sim/week.py) can take it whole; its arrays change in
    place, the tuple never does.
    """

    stage: np.ndarray  # int8
    has_access: np.ndarray  # bool
    weeks_with_access: np.ndarray  # int32
    threshold: np.ndarray  # float64, personal effort of contributing
    propensity: np.ndarray  # float64, personal posting propensity (lognormal, mean 1)
    writer: np.ndarray  # bool, would ever write (a share writer_share of staff; formal leaders always)
    receptiveness: np.ndarray  # float64, how much of the purpose one takes in
    early_adopter: np.ndarray  # bool, volunteers (lowest thresholds)
    clarity: np.ndarray  # float64, perceived purpose clarity
    alignment: np.ndarray  # float64
    safety: np.ndarray  # float64
    reputation: np.ndarray  # float64, smoothed attention received (views a week)
    habit: np.ndarray  # float64 in [0, 1]
    contributions: np.ndarray  # int64, cumulative posts
    posts: np.ndarray  # int64, this week's posts
    reacted: np.ndarray  # bool, reacted (liked, commented) this week
    mistake: np.ndarray  # bool, this week's public mistakes
    praise: np.ndarray  # float64, customer praise earned this week (credited next week)
    productivity: np.ndarray  # float64, this week's gain
    reuse: np.ndarray  # float64, this week's knowledge reuse intensity
    exposure: np.ndarray  # float64
    active_neighbours: np.ndarray  # int32
    leader_signal: np.ndarray  # float64, what one sees along the hierarchy
    last_view: np.ndarray  # int32, row of the last week one read (NEVER if never)
    last_react: np.ndarray  # int32
    last_post: np.ndarray  # int32
    weak_ties: np.ndarray  # int32 (N, K)
    weak_count: np.ndarray  # int32


class CustomerState(NamedTuple):
    """Struct of arrays: one row per customer (a named tuple, like :class:`EmployeeState`)."""

    aware: np.ndarray  # bool
    member: np.ndarray  # bool
    trust: np.ndarray  # float64
    baseline_trust: np.ndarray  # float64, what trust drifts back to
    sentiment: np.ndarray  # int8: -1 detractor, 0 neutral, 1 advocate
    problem_age: np.ndarray  # int32, -1 = no open problem
    ideas: np.ndarray  # int32, cumulative
    answers: np.ndarray  # int32, cumulative answers given to fellow customers
    answered_age: np.ndarray  # int32, this week
    public_answer: np.ndarray  # bool, this week: answered by the community, in public
    idea: np.ndarray  # bool, this week
    peer_answer: np.ndarray  # bool, this week
    # Among one's customer contacts, at the start of the week (kept up to date incrementally):
    friend_members: np.ndarray  # int32
    friend_advocates: np.ndarray  # int32
    friend_detractors: np.ndarray  # int32


def department_effort(key: np.uint64, config: Scenario, department: np.ndarray, n_departments: int) -> np.ndarray:
    """Each employee's multiplier of the personal bars: ``workforce_effort`` times their department's.

    A department's multiplier is log-normal with median 1 and ``department_effort_spread`` as the
    standard deviation of its log (0: every department is the workforce; the multiplier is then
    exactly 1). It is a counter-based draw from the run's key and the department's number, so it
    leaves every other random number of the run as it was, and it is the same in both engines.
    """
    c = config
    if c.department_effort_spread == 0:
        return np.full(department.shape[0], float(c.workforce_effort))
    z = np.array([normal_py(key, DEPARTMENT_EFFORT_1, DEPARTMENT_EFFORT_2, d) for d in range(n_departments)])
    return c.workforce_effort * np.exp(c.department_effort_spread * z)[department]


def writers(key: np.uint64, config: Scenario, is_formal_leader: np.ndarray) -> np.ndarray:
    """Who would ever write: each person with chance ``writer_share``, and every formal leader.

    The rest are lurkers by disposition (van Mierlo 2014; Nonnecke & Preece 2000): they may read
    and react but never start contributing, whatever the pulls. Formal leaders always can, so that
    whether they post stays the strategy's lever (``leader_participation``), not a draw. A
    counter-based draw from the run's key, so it leaves every other random number of the run as
    it was (``writer_share = 1`` gives the model before this change, bit for bit) and is the same
    in both engines.
    """
    u = uniforms(np.uint64(key), WRITER, is_formal_leader.shape[0])
    return np.asarray(is_formal_leader, dtype=bool) | (u < config.writer_share)


def draw_people(rng: np.random.Generator, config: Scenario, n: int,
                effort: np.ndarray | float | None = None) -> tuple[np.ndarray, ...]:
    """Personal draws for ``n`` people: (threshold, receptiveness, propensity), in that order.

    ``effort`` multiplies the bars (per person, :func:`department_effort`; default the
    organisation's ``workforce_effort``).
    """
    c = config
    # Personal bars of a typical workforce, scaled by how much of an effort it is here.
    effort = c.workforce_effort if effort is None else effort
    threshold = effort * np.clip(rng.normal(c.threshold_mean, c.threshold_sd, n), 0.0, c.threshold_cap)
    receptiveness = rng.uniform(c.receptiveness_min, 1.0, n)
    sigma = c.propensity_spread
    propensity = rng.lognormal(-0.5 * sigma * sigma, sigma, n)  # mean 1
    return threshold, receptiveness, propensity


def initial_employees(rng: np.random.Generator, config: Scenario, n: int,
                      effort: np.ndarray | None = None, writer: np.ndarray | None = None) -> tuple[EmployeeState, float]:
    """Everyone a non-user without access; returns the state and the early-adopter cut-off
    (``effort``: each person's multiplier of the bars, :func:`department_effort`; ``writer``: who
    would ever write, :func:`writers`, default everyone)."""
    c = config
    threshold, receptiveness, propensity = draw_people(rng, c, n, effort)
    n_early = int(round(c.early_adopter_share * n))
    early = np.zeros(n, dtype=bool)
    order = np.argsort(threshold, kind="stable")
    early[order[:n_early]] = True
    cutoff = float(threshold[order[n_early - 1]]) if n_early > 0 else -np.inf
    width = c.max_weak_ties if c.use_network_effect else 0
    state = EmployeeState(
        stage=np.full(n, NON_USER, dtype=np.int8), has_access=np.zeros(n, dtype=bool),
        weeks_with_access=np.zeros(n, dtype=np.int32), threshold=threshold, propensity=propensity,
        writer=np.ones(n, dtype=bool) if writer is None else np.asarray(writer, dtype=bool).copy(),
        receptiveness=receptiveness, early_adopter=early, clarity=np.zeros(n), alignment=np.zeros(n),
        safety=np.full(n, c.initial_safety), reputation=np.zeros(n), habit=np.zeros(n),
        contributions=np.zeros(n, dtype=np.int64), posts=np.zeros(n, dtype=np.int64),
        reacted=np.zeros(n, dtype=bool), mistake=np.zeros(n, dtype=bool), praise=np.zeros(n),
        productivity=np.zeros(n), reuse=np.zeros(n), exposure=np.zeros(n),
        active_neighbours=np.zeros(n, dtype=np.int32), leader_signal=np.zeros(n),
        last_view=np.full(n, NEVER, dtype=np.int32), last_react=np.full(n, NEVER, dtype=np.int32),
        last_post=np.full(n, NEVER, dtype=np.int32),
        weak_ties=np.full((n, width), -1, dtype=np.int32), weak_count=np.zeros(n, dtype=np.int32))
    return state, cutoff


def count_friends(indptr: np.ndarray, indices: np.ndarray, member: np.ndarray,
                  sentiment: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How many of each customer's contacts are members, advocates and detractors (int32 each)."""
    m = indptr.shape[0] - 1
    rows = np.repeat(np.arange(m), np.diff(indptr))
    counts = [np.bincount(rows, weights=flags[indices], minlength=m).astype(np.int32)
              for flags in (member, sentiment == 1, sentiment == -1)]
    return counts[0], counts[1], counts[2]


def initial_customers(rng: np.random.Generator, config: Scenario, m: int, indptr: np.ndarray,
                      indices: np.ndarray) -> CustomerState:
    """Customers not aware, not members, no open problem; trust around ``initial_trust``.

    ``indptr, indices`` are the customer graph (CSR), for the counts of contacts' states.
    """
    c = config
    trust = np.clip(rng.normal(c.initial_trust, c.trust_spread, m), 0.0, 1.0)
    member = np.zeros(m, dtype=bool)
    sentiment = np.where(trust <= c.detractor_trust, -1, 0).astype(np.int8)
    members, advocates, detractors = count_friends(indptr, indices, member, sentiment)
    return CustomerState(
        aware=np.zeros(m, dtype=bool), member=member,
        trust=trust, baseline_trust=trust.copy(),
        sentiment=sentiment,
        problem_age=np.full(m, -1, dtype=np.int32), ideas=np.zeros(m, dtype=np.int32),
        answers=np.zeros(m, dtype=np.int32), answered_age=np.full(m, -1, dtype=np.int32),
        public_answer=np.zeros(m, dtype=bool), idea=np.zeros(m, dtype=bool), peer_answer=np.zeros(m, dtype=bool),
        friend_members=members, friend_advocates=advocates, friend_detractors=detractors)
