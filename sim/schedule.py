"""What happens to the organisation from outside the agents' rules, as arrays for the week:
rollout waves (004) and shocks (001, 003, 004).

A scenario's ``waves`` and ``shocks`` become the :class:`~sim.week.Sched` arrays here, once per
model (:func:`schedule_arrays`), and :func:`schedule` applies them in the weeks they happen,
with turnover every week (mechanisms 10, 11, 12). Like the rest of the week, :func:`schedule`
and the functions it calls are written in the Python numba compiles and built twice by
:func:`sim.week.build` (compiled, or plain Python for the reference engine), which gives them
its names; the imports below are for readers and tools. They change state or the levers in
force, never the rules. The random choices they involve
(scattered seats, who a crisis hits, newcomers' personal draws, who leaves) are counter-based
draws of their own streams (:mod:`sim.rng`), so the agents' weekly draws stay the same whatever
the schedule: common random numbers across strategies.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .kernels import CHAMPION, CONTRIBUTOR, NON_USER, drop_weak_ties
from .rng import (CRISIS_HIT, NEWCOMER_PROPENSITY_1, NEWCOMER_PROPENSITY_2, NEWCOMER_RECEPTIVENESS,
                  NEWCOMER_THRESHOLD_1, NEWCOMER_THRESHOLD_2, NEWCOMER_WRITER, SCATTER, normal, uniform)
from .week import (COMPLIANCE_CLAMPDOWN, CRISIS, EVENT_WAVE, L_COMMITMENT, L_FRICTION, L_OPEN, LEADER_LEAVES,
                   NEVER, T_CRISIS, T_DEPARTED, T_EVENTS, T_LEAVERS, T_OPEN_MEMBER_PROBLEMS, T_VIRAL,
                   VIRAL_MISTAKE, Sched)

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
    names = {name: d for d, name in enumerate(org.department_names)}
    numbers = [d if isinstance(d, int) else names[d] for d in wave.departments]  # names checked by Scenario
    return np.isin(org.department, np.asarray(numbers, dtype=np.int32))


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


# ================================================================== applied in the week
def schedule(net, st, cs, sch, c, lv, tot, departed, evlog, wkey, week, buf):
    """This week's waves, shocks and turnover, in that order; returns ``departed``."""
    n = st.stage.shape[0]
    if c.rollout_all:
        if week == 0:
            for i in range(n):
                st.has_access[i] = True
    else:
        for j in range(sch.wave_week.shape[0]):
            if sch.wave_week[j] == week:
                wave(st, sch, c, evlog, tot, wkey, week, j, buf)
    if c.use_shocks:
        for j in range(sch.shock_week.shape[0]):
            if sch.shock_week[j] == week:
                departed = shock(net, st, cs, c, lv, tot, departed, evlog, wkey, week, sch.shock_kind[j],
                                 sch.shock_severity[j], buf)
    leavers = 0
    if c.use_turnover and c.turnover_rate > 0.0:
        for i in range(n):
            if buf.u[8][i] < c.turnover_rate:
                buf.seats[leavers] = i
                leavers += 1
        departed = replace_seats(net, st, c, tot, departed, wkey, buf.seats[:leavers])
    tot[T_LEAVERS] = leavers
    return departed


def log_event(evlog, tot, week, code, value, extra):
    k = int(tot[T_EVENTS])
    if k < evlog.shape[0]:
        evlog[k, 0] = week
        evlog[k, 1] = code
        evlog[k, 2] = value
        evlog[k, 3] = extra
        tot[T_EVENTS] = k + 1


def wave(st, sch, c, evlog, tot, wkey, week, j, buf):
    """Give access to a wave's seats: whole teams, or as many people scattered at random (004).

    A scattered wave gives the number of new seats its departments would have received to the
    eligible people without access who draw the smallest ``SCATTER`` uniforms this week.
    """
    n = st.stage.shape[0]
    count = 0
    pool = 0
    for i in range(n):
        eligible = st.early_adopter[i] or not c.early_scope
        if eligible and not st.has_access[i]:
            buf.seats[pool] = i
            pool += 1
            if sch.wave_mask[j, i]:
                count += 1
    if sch.wave_scattered[j]:
        draws = buf.seen[:pool]
        for a in range(pool):
            draws[a] = uniform(wkey, SCATTER, buf.seats[a])
        order = np.argsort(draws, kind="mergesort")
        for a in range(count):
            st.has_access[buf.seats[order[a]]] = True
    else:
        for a in range(pool):
            i = buf.seats[a]
            if sch.wave_mask[j, i]:
                st.has_access[i] = True
    log_event(evlog, tot, week, EVENT_WAVE, count, 1.0 if sch.wave_scattered[j] else 0.0)


def shock(net, st, cs, c, lv, tot, departed, evlog, wkey, week, kind, severity, buf):
    """Scheduled events (mechanism 11): they change state or levers, never the rules."""
    if kind == CRISIS:  # an activist attack on the company page (003)
        m = cs.aware.shape[0]
        chance = c.crisis_hit_chance * severity
        for k in range(m):
            if cs.aware[k]:
                if cs.problem_age[k] < 0 and uniform(wkey, CRISIS_HIT, k) < chance:
                    cs.problem_age[k] = 0
                cs.trust[k] = max(0.0, cs.trust[k] - c.crisis_trust_loss * severity)
        waiting = 0
        for k in range(m):
            if cs.member[k] and cs.problem_age[k] >= 0:
                waiting += 1
        tot[T_OPEN_MEMBER_PROBLEMS] = waiting  # the attack's questions
        tot[T_CRISIS] = max(tot[T_CRISIS], severity)
    elif kind == VIRAL_MISTAKE:  # an employee's mistake goes viral (003, 002)
        tot[T_VIRAL] = severity
        if c.use_culture:
            loss = min(1.0, c.blame_impact * c.blame_culture * severity * c.fear_contagion)
            repair = c.candour_repair * (1.0 - c.blame_culture) * c.mistake_candour * severity
            for i in range(st.safety.shape[0]):
                s = st.safety[i] * (1.0 - loss)
                st.safety[i] = s + repair * (1.0 - s)
    elif kind == LEADER_LEAVES:  # a committed executive sponsor leaves (004)
        leaving = -1
        first = -1
        for i in range(st.stage.shape[0]):
            if net.is_executive[i]:
                if first < 0:
                    first = i
                if leaving < 0 and (st.stage[i] == CONTRIBUTOR or st.stage[i] == CHAMPION):
                    leaving = i
        if leaving < 0:
            leaving = first
        buf.seats[0] = leaving
        departed = replace_seats(net, st, c, tot, departed, wkey, buf.seats[:1])
        lv[L_COMMITMENT] = lv[L_COMMITMENT] * (1.0 - severity)
    else:  # legal tightens the firewall (001)
        lv[L_FRICTION] = max(lv[L_FRICTION], severity)
        lv[L_OPEN] = lv[L_OPEN] * (1.0 - severity)
    log_event(evlog, tot, week, kind, severity, 0.0)
    return departed


def replace_seats(net, st, c, tot, departed, wkey, seats):
    """The people in ``seats`` (sorted) leave; newcomers take their seats (fresh draws, no history).

    What a leaver who had used the platform wrote stays in ``departed`` (van Mierlo counted every
    member); their weak ties leave with them.
    """
    drop_weak_ties(seats, st.weak_ties, st.weak_count)  # called every week, so it compiles with the rest
    k = int(tot[T_DEPARTED])
    for a in range(seats.shape[0]):
        i = seats[a]
        if st.last_view[i] >= 1:
            if k >= departed.shape[0]:
                grown = np.zeros(2 * departed.shape[0] + 16, dtype=np.int64)
                grown[:k] = departed[:k]
                departed = grown
            departed[k] = st.contributions[i]
            k += 1
        z = normal(wkey, NEWCOMER_THRESHOLD_1, NEWCOMER_THRESHOLD_2, i)
        bar = min(c.threshold_cap, max(0.0, c.threshold_mean + c.threshold_sd * z))
        st.threshold[i] = net.effort[i] * bar  # the seat's department keeps its effort
        st.receptiveness[i] = c.receptiveness_min + (1.0 - c.receptiveness_min) * uniform(
            wkey, NEWCOMER_RECEPTIVENESS, i)
        sigma = c.propensity_spread
        st.propensity[i] = math.exp(-0.5 * sigma * sigma + sigma * normal(wkey, NEWCOMER_PROPENSITY_1,
                                                                           NEWCOMER_PROPENSITY_2, i))
        st.writer[i] = net.is_formal_leader[i] or uniform(wkey, NEWCOMER_WRITER, i) < c.writer_share
        st.early_adopter[i] = st.threshold[i] <= c.early_cutoff
        st.stage[i] = NON_USER
        st.weeks_with_access[i] = 0
        st.clarity[i] = 0.0
        st.alignment[i] = 0.0
        st.safety[i] = c.initial_safety
        st.reputation[i] = 0.0
        st.habit[i] = 0.0
        st.contributions[i] = 0
        st.praise[i] = 0.0
        st.last_view[i] = NEVER
        st.last_react[i] = NEVER
        st.last_post[i] = NEVER
    tot[T_DEPARTED] = k
    return departed


# ------------------------------------------------------------------ customers (000, 002, 003, 004)
