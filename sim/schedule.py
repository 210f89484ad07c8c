"""What happens to the organisation from outside the agents' rules: rollout waves (004), shocks
(001, 003, 004) and turnover (people leave, newcomers arrive).

These change state or the levers in force, never the rules. Random choices here (scattered
seats, who a crisis hits, newcomers' personal draws) come from generators of their own,
spawned from the model's seed at the start, so that the agents' weekly random streams stay
the same whatever the schedule (common random numbers across strategies). Who leaves is the
weekly ``leave`` stream of the main generator, drawn for everyone every week.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .kernels import CHAMPION, CONTRIBUTOR
from .state import replace_with_newcomers

if TYPE_CHECKING:  # pragma: no cover
    from .model import SocialBusinessModel
    from .scenario import Wave


def wave_departments(model: "SocialBusinessModel", wave: "Wave") -> np.ndarray:
    """Boolean mask of the employees in the departments a wave names (``share`` or ``departments``)."""
    org = model.org
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


def apply_wave(model: "SocialBusinessModel", wave: "Wave", week: int) -> None:
    """Give access to a wave's seats: whole teams (clustered) or as many people scattered at random.

    With ``access_scope = "early_adopters"`` only early adopters are eligible. A scattered
    wave gives the number of new seats its departments would have received to people drawn
    uniformly, without replacement, from everyone eligible who has no access yet.
    """
    st = model.state
    who = wave_departments(model, wave)
    eligible = st.early_adopter if model.config.access_scope == "early_adopters" else np.ones(model.org.n, bool)
    who &= eligible
    if wave.spread == "scattered":
        count = int((who & ~st.has_access).sum())
        pool = np.flatnonzero(eligible & ~st.has_access)
        picked = np.sort(model.event_rng.choice(pool, size=min(count, pool.size), replace=False))
        who = np.zeros(model.org.n, dtype=bool)
        who[picked] = True
    new = int((who & ~st.has_access).sum())
    st.has_access |= who
    model.events.append({"week": week, "event": "wave", "employees": new, "spread": wave.spread})


def apply_shock(model: "SocialBusinessModel", kind: str, severity: float, week: int) -> None:
    """Scheduled events (mechanism 11): they change state or levers, never the rules."""
    lv, st, cs, c = model.levers, model.state, model.customer_state, model.config
    if kind == "crisis":  # activist attack on the company page (003)
        hit = cs.aware & (model.event_rng.random(model.market.n) < c.crisis_hit_chance * severity)
        cs.problem_age[hit & (cs.problem_age < 0)] = 0
        model.totals.open_member_problems = int((cs.problem_age[cs.member] >= 0).sum())  # the attack's questions
        cs.trust[cs.aware] = np.maximum(0.0, cs.trust[cs.aware] - c.crisis_trust_loss * severity)
        model.totals.crisis_pressure = max(model.totals.crisis_pressure, severity)
    elif kind == "viral_mistake":  # an employee's mistake goes viral (003, 002)
        model.viral_severity = severity
        if c.use_culture:
            blame, candour = lv["blame_culture"], lv["mistake_candour"]
            st.safety *= 1.0 - min(1.0, c.blame_impact * blame * severity * c.fear_contagion)
            st.safety += c.candour_repair * (1.0 - blame) * candour * severity * (1.0 - st.safety)
    elif kind == "leader_leaves":  # a committed executive sponsor leaves (004)
        execs = np.flatnonzero(model.org.is_executive)
        active = execs[np.isin(st.stage[execs], (CONTRIBUTOR, CHAMPION))]
        leaving = np.array([int(active[0] if active.size else execs[0])], dtype=np.int32)
        replace_seats(model, leaving)
        lv["leader_commitment"] = lv["leader_commitment"] * (1.0 - severity)
    elif kind == "compliance_clampdown":  # legal tightens the firewall (001)
        lv["posting_friction"] = max(lv["posting_friction"], severity)
        lv["open_by_default"] = lv["open_by_default"] * (1.0 - severity)
    model.events.append({"week": week, "event": kind, "severity": severity})


def replace_seats(model: "SocialBusinessModel", seats: np.ndarray) -> None:
    """The people in ``seats`` (sorted int32) leave; newcomers take their seats."""
    # Called every week even with nobody leaving, so its kernel compiles with the others.
    model.engine.drop_weak_ties(seats, model.state.weak_ties, model.state.weak_count)
    replace_with_newcomers(model.state, seats, model.newcomer_rng, model.config, model.early_cutoff,
                           model.departed)


def apply_schedule(model: "SocialBusinessModel", week: int, u_leave: np.ndarray) -> None:
    """This week's waves, shocks and turnover, in that order."""
    c, st = model.config, model.state
    if not c.use_rollout or not c.use_barriers:
        if week == 0:
            st.has_access[:] = True
    else:
        for wave in c.waves:
            if wave.week == week:
                apply_wave(model, wave, week)
    if c.use_shocks:
        for shock in c.shocks:
            if shock.week == week:
                apply_shock(model, shock.kind, shock.severity, week)
    leavers = np.zeros(0, dtype=np.int32)
    if c.use_turnover and c.turnover_rate > 0.0:
        leavers = np.flatnonzero(u_leave < c.turnover_rate).astype(np.int32)
        replace_seats(model, leavers)
    model.totals.leavers = int(leavers.size)

