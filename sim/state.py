"""Agent state as struct of arrays: employees, customers and organisation totals.

The Mesa agents of :mod:`sim.agents` are views on these rows. Everything a person carries
(their bar, their propensity to write, their habit, reputation, safety, when they last looked,
reacted or posted) lives here, so the kernels of :mod:`sim.kernels` can sweep it. Newcomers who
replace leavers (turnover, mechanism 12) get fresh personal draws and no habit, reputation or
ties: an organisation has to win each of them over again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .kernels import NON_USER
from .scenario import Scenario

#: ``last_view``, ``last_react`` and ``last_post`` of someone who never did it (far in the past,
#: so "within the last k weeks" is false for any k).
NEVER = -(10**6)


@dataclass
class EmployeeState:
    """Struct of arrays: one row per employee seat (department-major order)."""

    stage: np.ndarray  # int8
    has_access: np.ndarray  # bool
    weeks_with_access: np.ndarray  # int32
    threshold: np.ndarray  # float64, personal effort of contributing
    propensity: np.ndarray  # float64, personal posting propensity (lognormal, mean 1)
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


@dataclass
class CustomerState:
    """Struct of arrays: one row per customer."""

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


@dataclass
class Totals:
    """Running organisation-level quantities (knowledge, ideas, money, pressures)."""

    knowledge_open: float = 0.0
    knowledge_dept: np.ndarray = field(default_factory=lambda: np.zeros(0))
    peer_answers: int = 0
    ideas: int = 0
    ideas_captured: float = 0.0
    innovations: float = 0.0
    signals_captured: float = 0.0
    cumulative_cost: float = 0.0
    cumulative_value: float = 0.0
    weak_ties_formed: int = 0
    leavers: int = 0  # this week
    crisis_pressure: float = 0.0  # set by a crisis, decays weekly
    unanswered_share: float = 0.0  # public questions left waiting beyond patience (last week)
    public_answers: int = 0  # this week
    open_member_problems: int = 0  # members' questions waiting (end of last week)
    #: customers by sentiment (detractor, neutral, advocate), end of the last customer week
    sentiment_counts: np.ndarray = field(default_factory=lambda: np.zeros(3, dtype=np.int64))


def draw_people(rng: np.random.Generator, config: Scenario, n: int) -> tuple[np.ndarray, ...]:
    """Personal draws for ``n`` people: (threshold, receptiveness, propensity), in that order."""
    c = config
    # Personal bars of a typical workforce, scaled by how much of an effort it is in this one.
    threshold = c.workforce_effort * np.clip(rng.normal(c.threshold_mean, c.threshold_sd, n), 0.0, c.threshold_cap)
    receptiveness = rng.uniform(c.receptiveness_min, 1.0, n)
    sigma = c.propensity_spread
    propensity = rng.lognormal(-0.5 * sigma * sigma, sigma, n)  # mean 1
    return threshold, receptiveness, propensity


def initial_employees(rng: np.random.Generator, config: Scenario, n: int) -> tuple[EmployeeState, float]:
    """Everyone a non-user without access; returns the state and the early-adopter cut-off."""
    c = config
    threshold, receptiveness, propensity = draw_people(rng, c, n)
    n_early = int(round(c.early_adopter_share * n))
    early = np.zeros(n, dtype=bool)
    order = np.argsort(threshold, kind="stable")
    early[order[:n_early]] = True
    cutoff = float(threshold[order[n_early - 1]]) if n_early > 0 else -np.inf
    width = c.max_weak_ties if c.use_network_effect else 0
    state = EmployeeState(
        stage=np.full(n, NON_USER, dtype=np.int8), has_access=np.zeros(n, dtype=bool),
        weeks_with_access=np.zeros(n, dtype=np.int32), threshold=threshold, propensity=propensity,
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


def replace_with_newcomers(state: EmployeeState, seats: np.ndarray, rng: np.random.Generator,
                           config: Scenario, early_cutoff: float, departed: list[np.ndarray]) -> None:
    """Newcomers take the given seats: fresh personal draws, no habit, reputation or history.

    The seat keeps its place in the organisation (department, manager, team ties) and its
    platform access; the person's own weak ties left with their predecessor (the caller drops
    them first). Their novelty clock starts again: onboarding is a small launch of its own.
    What the leaver wrote is kept in ``departed`` when they had used the platform, so measures
    of participation inequality still count them (van Mierlo counted every member).
    """
    if seats.size == 0:
        return
    st = state
    users = seats[st.last_view[seats] >= 1]
    if users.size:
        departed.append(st.contributions[users].copy())
    threshold, receptiveness, propensity = draw_people(rng, config, seats.size)
    st.threshold[seats] = threshold
    st.receptiveness[seats] = receptiveness
    st.propensity[seats] = propensity
    st.early_adopter[seats] = threshold <= early_cutoff
    st.stage[seats] = NON_USER
    st.weeks_with_access[seats] = 0
    st.clarity[seats] = 0.0
    st.alignment[seats] = 0.0
    st.safety[seats] = config.initial_safety
    st.reputation[seats] = 0.0
    st.habit[seats] = 0.0
    st.contributions[seats] = 0
    st.praise[seats] = 0.0
    st.last_view[seats] = NEVER
    st.last_react[seats] = NEVER
    st.last_post[seats] = NEVER


def initial_customers(rng: np.random.Generator, config: Scenario, m: int) -> CustomerState:
    """Customers not aware, not members, no open problem; trust around ``initial_trust``."""
    c = config
    trust = np.clip(rng.normal(c.initial_trust, c.trust_spread, m), 0.0, 1.0)
    return CustomerState(
        aware=np.zeros(m, dtype=bool), member=np.zeros(m, dtype=bool),
        trust=trust, baseline_trust=trust.copy(),
        sentiment=np.where(trust <= c.detractor_trust, -1, 0).astype(np.int8),
        problem_age=np.full(m, -1, dtype=np.int32), ideas=np.zeros(m, dtype=np.int32),
        answers=np.zeros(m, dtype=np.int32), answered_age=np.full(m, -1, dtype=np.int32),
        public_answer=np.zeros(m, dtype=bool), idea=np.zeros(m, dtype=bool), peer_answer=np.zeros(m, dtype=bool))
