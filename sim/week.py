"""The week, whole: schedule, every mechanism, the sums and the recorded outputs in one function.

:func:`simulate` runs any number of weeks of one model. It is written once, in the subset of
Python that numba compiles (loops, numpy arrays, named tuples), and built twice
(:func:`build`):

* for ``engine="numba"`` every function here is compiled and calls the numba kernels of
  :mod:`sim.kernels` (serial or parallel variant per loop length, :mod:`sim.engine`): a run of
  many weeks is one call that writes the series into preallocated arrays;
* for ``engine="python"`` the same functions run as plain Python and call the readable agent
  loops of :mod:`sim.reference`.

So the two engines share the orchestration and differ only in the agents' rules, and
``SocialBusinessModel.step()`` is this same function with one week. Sums over agents are plain
loops in agent order (never a parallel or pairwise reduction), so results are bitwise identical
whatever the number of threads, and identical between the engines. Random numbers are
counter-based (:mod:`sim.rng`): a hash of (seed, week, stream, agent).

Order of a week (docs/MODEL.md, section 3): schedule (waves, shocks, turnover) -> purpose
cascade (001, 004) -> what people see (Centola; 004; Wang et al. 2013; Chelmis & Prasanna
2013) -> participation (000, 001, 004) -> attention and reputation (000) -> safety (002) ->
knowledge -> weak ties (002) -> productivity (002) -> customers and what they do to staff
(000, 002, 003, 004) -> listening (003) -> cost and value -> record.
"""

from __future__ import annotations

import math
import types
from collections import namedtuple
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from . import rng as _rng
from .customers import CustomerParams
from .kernels import (CHAMPION, CONTRIBUTOR, LAPSED, NON_USER, READER, ParticipationParams,
                      SafetyParams)

# --- indices into the float64 ``tot`` array (organisation totals of the run) --------------------
T_KNOWLEDGE_OPEN, T_PEER_ANSWERS, T_IDEAS, T_IDEAS_CAPTURED, T_INNOVATIONS, T_SIGNALS = range(6)
T_CUM_COST, T_CUM_VALUE, T_WEAK_TIES_FORMED, T_LEAVERS, T_CRISIS, T_UNANSWERED = range(6, 12)
T_PUBLIC_ANSWERS, T_OPEN_MEMBER_PROBLEMS, T_VIRAL, T_WEEK_COST, T_WEEK_VALUE, T_DEPARTED = range(12, 18)
T_DETRACTORS, T_NEUTRAL, T_ADVOCATES, T_EVENTS = range(18, 22)
# the customers' state at the end of the week (customer_totals)
T_AWARE, T_MEMBERS, T_OPEN_PROBLEMS, T_ANSWERED, T_WAITED, T_TRUST, T_DETRACTORS_AWARE = range(22, 29)
N_TOTALS = 29
#: The largest float64: attention sums are checked against it (see recognise).
_LARGEST_FLOAT = float(np.finfo(np.float64).max)
# --- indices into ``lv`` (the levers shocks change) ----------------------------------------------
L_FRICTION, L_OPEN, L_COMMITMENT = range(3)
# --- hierarchy hypotheses and shock kinds as codes -----------------------------------------------
TOP_DOWN, BOTTOM_UP, MIDDLE_OUT = range(3)
CRISIS, VIRAL_MISTAKE, LEADER_LEAVES, COMPLIANCE_CLAMPDOWN = range(1, 5)
EVENT_WAVE = 0
N_COLUMNS = 54  # len(sim.outputs.SERIES_COLUMNS); checked in tests/test_week.py


class Net(NamedTuple):
    """The organisation and the market (fixed during a run)."""

    indptr: np.ndarray
    indices: np.ndarray
    department: np.ndarray
    manager: np.ndarray
    is_executive: np.ndarray
    is_formal_leader: np.ndarray
    is_middle_manager: np.ndarray
    boss_is_middle: np.ndarray
    has_boss: np.ndarray
    n_reports: np.ndarray
    n_middle_reports: np.ndarray
    customer_facing: np.ndarray
    influence_weight: np.ndarray
    dept_size: np.ndarray
    effort: np.ndarray  # float64 (N,): workforce effort times the department's multiplier
    base_cross_ties: np.ndarray
    m_indptr: np.ndarray
    m_indices: np.ndarray
    m_degree: np.ndarray  # int32 (M,): number of customer contacts
    contact_indptr: np.ndarray
    contact_indices: np.ndarray


class Sched(NamedTuple):
    """The rollout and shock schedule as arrays (sim.scenario's waves and shocks)."""

    wave_week: np.ndarray  # int64 (W,)
    wave_mask: np.ndarray  # bool (W, N): the employees of the wave's departments
    wave_scattered: np.ndarray  # bool (W,)
    shock_week: np.ndarray  # int64 (S,)
    shock_kind: np.ndarray  # int64 (S,)
    shock_severity: np.ndarray  # float64 (S,)


class Scratch(NamedTuple):
    """Buffers reused every week (no allocation in the loop)."""

    u: np.ndarray  # float64 (9, N): the employees' uniforms of the week
    new_stage: np.ndarray
    new_real: np.ndarray  # float64 (N,)
    new_real_2: np.ndarray  # float64 (N,)
    visible: np.ndarray  # bool (N,)
    active_now: np.ndarray  # bool (N,)
    kd: np.ndarray  # float64 (D,)
    d_a: np.ndarray  # float64 (D,)
    d_b: np.ndarray  # float64 (D,)
    seen: np.ndarray  # float64 (N,)
    seen_2: np.ndarray  # float64 (N,)
    posted: np.ndarray  # int32 (N,)
    seats: np.ndarray  # int32 (N,)
    cross: np.ndarray  # int32 (N,)
    changed: np.ndarray  # int8 (M,): whose membership or sentiment changed this week
    hist: np.ndarray  # int64: histogram of contributions (grown when needed)


#: Scenario keys the week reads (every numeric and switch key), plus derived values.
CONFIG_EXTRA = ("hierarchy", "early_scope", "early_cutoff", "rollout_all", "n_customers", "n_departments",
                "par_staff", "par_customers")


def _config_type() -> type:
    """A named tuple type with one field per scenario key the week reads and the derived ones."""
    from .scenario import Scenario

    names = [name for name, f in Scenario.model_fields.items() if f.annotation in (int, float, bool)]
    # Module-level, with a fixed name and module: numba's cache pickles argument types by name.
    return namedtuple("WeekConfig", names + list(CONFIG_EXTRA), module=__name__)


WeekConfig = _config_type()


# ================================================================== the orchestration
def simulate(net, st, cs, sch, c, lv, tot, kdept, departed, evlog, key, week0, n_weeks, series, dept_stage,
             dept_posted, buf):
    """Run ``n_weeks`` weeks from week ``week0``; returns the (possibly grown) ``departed`` array.

    Mutates the state named tuples ``st`` (employees) and ``cs`` (customers), the totals
    ``tot``, the levers in force ``lv``, the locked knowledge ``kdept``, the event log, and
    writes rows ``week0 + 1 .. week0 + n_weeks`` of ``series``, ``dept_stage`` and
    ``dept_posted``.
    """
    for week in range(week0, week0 + n_weeks):
        departed = one_week(net, st, cs, sch, c, lv, tot, kdept, departed, evlog, key, week, buf)
        record(net, st, cs, c, tot, kdept, departed, week + 1, series, dept_stage, dept_posted, buf)
    return departed


def one_week(net, st, cs, sch, c, lv, tot, kdept, departed, evlog, key, week, buf):
    n = st.stage.shape[0]
    row = week + 1
    wkey = week_key(key, week)
    tot[T_VIRAL] = 0.0
    for stream in range(9):
        if c.par_staff:
            fill_uniforms(wkey, stream, buf.u[stream])
        else:
            fill_uniforms_s(wkey, stream, buf.u[stream])
    departed = schedule(net, st, cs, sch, c, lv, tot, departed, evlog, wkey, week, buf)

    # Purpose: clarity passes down the hierarchy (001, 004).
    if c.use_purpose:
        if c.par_staff:
            purpose_cascade(net.manager, net.is_executive, st.clarity, st.receptiveness, c.purpose_strength,
                            lv[L_COMMITMENT], c.purpose_cascade_rate, c.purpose_transmission, buf.new_real,
                            st.alignment)
        else:
            purpose_cascade_s(net.manager, net.is_executive, st.clarity, st.receptiveness, c.purpose_strength,
                              lv[L_COMMITMENT], c.purpose_cascade_rate, c.purpose_transmission, buf.new_real,
                              st.alignment)
        copy_real(buf.new_real, st.clarity)

    # What people see: contacts and leaders seen contributing lately (Centola; 004).
    visibly_active(st, week, c.visibility_window, buf.visible)
    if c.par_staff:
        neighbour_exposure(net.indptr, net.indices, st.weak_ties, st.weak_count, buf.visible, net.influence_weight,
                           st.exposure, st.active_neighbours)
    else:
        neighbour_exposure_s(net.indptr, net.indices, st.weak_ties, st.weak_count, buf.visible,
                             net.influence_weight, st.exposure, st.active_neighbours)
    leader_signal(net, c, buf.visible, st.leader_signal, buf.seen, buf.seen_2)
    knowledge_density(net, tot, kdept, buf.kd)

    # Participation decisions, reactions and posts (mechanisms 1-6, 12).
    p = participation_params(c, lv, tot)
    u = buf.u
    if c.par_staff:
        participation(st.stage, st.has_access, st.weeks_with_access, st.threshold, st.propensity, st.writer,
                      net.is_formal_leader, net.customer_facing, net.department, st.leader_signal, st.alignment,
                      st.safety, st.reputation, st.habit, st.exposure, st.active_neighbours, buf.kd, p,
                      u[0], u[1], u[2], u[3], u[4], u[5], buf.new_stage, st.posts, st.reacted, st.mistake)
    else:
        participation_s(st.stage, st.has_access, st.weeks_with_access, st.threshold, st.propensity, st.writer,
                        net.is_formal_leader, net.customer_facing, net.department, st.leader_signal, st.alignment,
                        st.safety, st.reputation, st.habit, st.exposure, st.active_neighbours, buf.kd, p,
                        u[0], u[1], u[2], u[3], u[4], u[5], buf.new_stage, st.posts, st.reacted, st.mistake)
    for i in range(n):
        if st.has_access[i]:
            st.weeks_with_access[i] += 1
    recognise(net, st, c, lv, p.reputation_feedback, buf)
    for i in range(n):
        st.contributions[i] += st.posts[i]
        s = st.stage[i]
        if st.has_access[i] and (s == READER or s == CONTRIBUTOR or s == CHAMPION):
            st.last_view[i] = row
        if st.reacted[i]:
            st.last_react[i] = row
        if st.posts[i] > 0:
            st.last_post[i] = row

    # Culture: blame erodes safety, candour rebuilds it (002).
    if c.use_culture:
        crisis_loss = c.crisis_fear * tot[T_CRISIS] * c.blame_culture if c.use_shocks else 0.0
        sp = SafetyParams(c.blame_culture, c.mistake_candour, c.fear_contagion, c.blame_impact, c.candour_repair,
                          crisis_loss, c.safety_recovery, c.initial_safety)
        if c.par_staff:
            safety_update(net.indptr, net.indices, st.weak_ties, st.weak_count, st.mistake, st.safety, sp,
                          buf.new_real)
        else:
            safety_update_s(net.indptr, net.indices, st.weak_ties, st.weak_count, st.mistake, st.safety, sp,
                            buf.new_real)
        copy_real(buf.new_real, st.safety)

    # Knowledge stock: open posts to everyone, the rest locked in the department (000).
    open_share = lv[L_OPEN]
    keep = 1.0 - c.knowledge_decay
    d_posts = buf.d_a
    d_posts[:] = 0.0
    total_posts = 0.0
    for i in range(n):
        d_posts[net.department[i]] += st.posts[i]
        total_posts += st.posts[i]
    tot[T_KNOWLEDGE_OPEN] = tot[T_KNOWLEDGE_OPEN] * keep + open_share * total_posts
    for d in range(kdept.shape[0]):
        kdept[d] = kdept[d] * keep + (1.0 - open_share) * d_posts[d]

    # Weak ties grow from open activity (002).
    if c.use_network_effect and st.weak_ties.shape[1] > 0:
        k = 0
        for i in range(n):
            if st.posts[i] > 0:
                buf.posted[k] = i
                k += 1
        tot[T_WEAK_TIES_FORMED] += grow_weak_ties(net.indptr, net.indices, net.department, st.posts,
                                                  buf.posted[:k], c.weak_tie_rate * open_share, u[6], u[7],
                                                  st.weak_ties, st.weak_count)

    # Productivity (002).
    knowledge_density(net, tot, kdept, buf.kd)
    if c.use_productivity:
        for i in range(n):
            buf.cross[i] = net.base_cross_ties[i] + st.weak_count[i]
        if c.par_staff:
            productivity(net.department, buf.cross, st.stage, st.has_access, buf.kd, c.creative_gain,
                         c.connective_gain, c.compounding_gain, c.value_saturation, c.connective_ties,
                         st.productivity, st.reuse)
        else:
            productivity_s(net.department, buf.cross, st.stage, st.has_access, buf.kd, c.creative_gain,
                           c.connective_gain, c.compounding_gain, c.value_saturation, c.connective_ties,
                           st.productivity, st.reuse)

    # Customers, and the cost of leaders' time, see who is visibly active after this week's posts.
    visibly_active(st, row, c.visibility_window, buf.active_now)
    new_ideas = 0
    if c.use_customers and c.n_customers > 0:
        new_ideas = customer_week(net, st, cs, c, lv, tot, wkey, week, buf)

    # Listening and co-creation (003).
    new_innovations = 0.0
    if c.use_listening:
        captured = c.listening * new_ideas
        tot[T_IDEAS_CAPTURED] += captured
        new_innovations = c.idea_adoption * captured
        tot[T_INNOVATIONS] += new_innovations
    economics(net, st, cs, c, tot, buf.active_now, new_innovations)
    tot[T_CRISIS] *= 1.0 - c.crisis_decay
    return departed


def copy_real(source, target):
    for i in range(target.shape[0]):
        target[i] = source[i]


def visibly_active(st, week, window, out):
    """Who colleagues see contributing at the start of week ``week``: posted within the window."""
    for i in range(out.shape[0]):
        out[i] = st.has_access[i] and st.last_post[i] > week - window


def knowledge_density(net, tot, kdept, out):
    """Reusable items per head visible from each department."""
    n = net.department.shape[0]
    for d in range(out.shape[0]):
        out[d] = tot[T_KNOWLEDGE_OPEN] / n + kdept[d] / net.dept_size[d]


def leader_signal(net, c, visible, out, seen, seen_2):
    """What each person sees along the hierarchy, in [0, 1], by ``hierarchy_influence`` (004).

    top_down: one's manager (and the executive team, weight ``boardroom_weight``) seen
    contributing. bottom_up: the share of one's direct reports seen contributing (Wang, Meister &
    Gray 2013). middle_out: a middle manager seen contributing by their reports, and by the
    executive above them (Chelmis & Prasanna 2013).
    """
    n = out.shape[0]
    if c.hierarchy == TOP_DOWN:
        execs = 0
        execs_seen = 0
        for i in range(n):
            if net.is_executive[i]:
                execs += 1
                if visible[i]:
                    execs_seen += 1
        exec_share = execs_seen / execs if execs > 0 else 0.0
        bw = c.boardroom_weight
        for i in range(n):
            boss = (1.0 - bw) * (1.0 if visible[net.manager[i]] else 0.0) if net.has_boss[i] else 0.0
            out[i] = boss + bw * exec_share
    elif c.hierarchy == BOTTOM_UP:
        for i in range(n):
            seen[i] = 0.0
        for i in range(n):
            if net.has_boss[i] and visible[i]:
                seen[net.manager[i]] += 1.0
        for i in range(n):
            out[i] = seen[i] / net.n_reports[i] if net.n_reports[i] > 0 else 0.0
    else:
        for i in range(n):
            seen_2[i] = 0.0
        for i in range(n):
            if net.has_boss[i] and net.is_middle_manager[i] and visible[i]:
                seen_2[net.manager[i]] += 1.0
        for i in range(n):
            if net.is_executive[i]:
                out[i] = seen_2[i] / net.n_middle_reports[i] if net.n_middle_reports[i] > 0 else 0.0
            elif net.boss_is_middle[i]:
                out[i] = 1.0 if visible[net.manager[i]] else 0.0
            else:
                out[i] = 0.0


def participation_params(c, lv, tot):
    """The participation rule's parameters in force this week, already switched."""
    friction = lv[L_FRICTION] if c.use_barriers else 0.0
    rally = 0.0
    if c.use_culture and c.use_shocks:
        rally = c.crisis_rally * tot[T_CRISIS] * (1.0 - c.blame_culture) * c.mistake_candour
    facing_failure = 0.0
    if c.use_customers and c.use_customer_feedback:
        facing_failure = c.unanswered_weight * tot[T_UNANSWERED]
    # numba wants plain names as arguments here (no conditional expressions in a long call)
    peer = c.peer_weight if c.use_peer_influence else 0.0
    role = c.role_model_weight if c.use_role_models else 0.0
    purpose = c.purpose_weight if c.use_purpose else 0.0
    value = c.network_value_weight if c.use_network_effect else 0.0
    recognition_pull = c.recognition_weight if c.use_network_effect else 0.0
    leader_pull = c.leader_participation * c.leader_role_pull if c.use_role_models else 0.0
    fear = c.fear_weight if c.use_culture else 0.0
    imitation = c.imitation if c.use_peer_influence else 0.0
    feedback = c.reputation_feedback if c.use_network_effect else 0.0
    mistakes = c.mistake_rate if c.use_culture else 0.0
    friction_cost = c.friction_weight * friction
    post_speed = 1.0 - c.friction_slowdown * friction
    return ParticipationParams(
        peer, role, purpose, value, c.value_saturation, c.value_people_share, c.launch_novelty,
        c.novelty_half_life, recognition_pull, c.recognition_saturation, leader_pull, rally, facing_failure,
        friction_cost, fear, c.habit_weight, c.decision_noise, c.spontaneous_adoption, imitation,
        c.reading_uptake, c.reading_lapse, c.reading_effort, c.lapse_rate, c.lapse_margin, c.relapse_penalty,
        c.reaction_ease, c.contribution_rate, c.posting_budget, feedback, post_speed, mistakes)


def recognise(net, st, c, lv, feedback, buf):
    """Share this week's attention among the posts; update reputation, habit, champions (000).

    Viewers (readers and contributors with access) each give one unit of attention, plus
    ``reaction_weight`` if they reacted. Viewers in department ``d`` spread theirs over the posts
    they can see: everyone's open share ``o`` and their department's locked share ``1 - o``,
    each post weighted by its author's visibility. The attention handed out is the attention
    there was, so reputation stays bounded.
    """
    n = st.stage.shape[0]
    o = lv[L_OPEN]
    given = buf.d_a
    weighted_dept = buf.d_b
    given[:] = 0.0
    weighted_dept[:] = 0.0
    weighted = 0.0
    for i in range(n):
        s = buf.new_stage[i]
        d = net.department[i]
        if st.has_access[i] and (s == READER or s == CONTRIBUTOR or s == CHAMPION):
            given[d] += 1.0
        if st.reacted[i]:
            given[d] += c.reaction_weight
        if st.posts[i] > 0:
            w = st.posts[i] * (1.0 + st.reputation[i] / c.recognition_saturation) ** feedback
            weighted_dept[d] += w
            weighted += w
    open_attention = 0.0
    open_direct = 0.0
    for d in range(given.shape[0]):
        seen_from = o * weighted + (1.0 - o) * weighted_dept[d]
        per_unit = given[d] / seen_from if seen_from > 0.0 else 0.0
        if per_unit <= _LARGEST_FLOAT - open_attention:
            open_attention += per_unit
            given[d] = (1.0 - o) * per_unit  # reused: the locked attention per unit of department d
        else:
            # An open share so small that o * weighted is subnormal: for a department with no posts
            # of its own, given / seen_from overflows (or the sum of them does), and o * inf would
            # make reputation inf or NaN (found by the whole-box property test). Its viewers'
            # attention to the open posts is given * (o / seen_from), which cannot overflow
            # (1 / weighted in the limit). The usual order of operations is kept everywhere else,
            # so no other result changes in its last bit.
            open_direct += given[d] * (o / seen_from)
            given[d] = (1.0 - o) * per_unit if per_unit <= _LARGEST_FLOAT else 0.0  # no locked posts there
    if c.par_staff:
        recognition(buf.new_stage, st.posts, st.reputation, st.habit, net.department, st.praise,
                    o * open_attention + open_direct, given, feedback, c.recognition_saturation, c.reputation_decay,
                    c.habit_gain, c.habit_decay, c.champion_reputation, st.stage, buf.new_real, buf.new_real_2)
    else:
        recognition_s(buf.new_stage, st.posts, st.reputation, st.habit, net.department, st.praise,
                      o * open_attention + open_direct, given, feedback, c.recognition_saturation,
                      c.reputation_decay, c.habit_gain, c.habit_decay, c.champion_reputation, st.stage, buf.new_real,
                      buf.new_real_2)
    copy_real(buf.new_real, st.reputation)
    copy_real(buf.new_real_2, st.habit)
    for i in range(n):
        st.praise[i] = 0.0


# ------------------------------------------------------------------ the schedule (004, 003, 001)
def customer_week(net, st, cs, c, lv, tot, wkey, week, buf):
    """One week of customers, and what they do to staff; returns the number of new ideas."""
    n = st.stage.shape[0]
    m = cs.aware.shape[0]
    community_open = week >= c.external_launch_week
    facing_active = 0
    connected = 0
    visible_mistakes = 0
    for i in range(n):
        if net.customer_facing[i]:
            if buf.active_now[i]:
                facing_active += 1
                if net.base_cross_ties[i] + st.weak_count[i] > 0:
                    connected += 1
            if st.mistake[i]:
                visible_mistakes += 1
    share_connected = connected / facing_active if facing_active > 0 else 0.0
    one_company = 1.0 - c.silo_penalty * (1.0 - share_connected)
    staff_capacity = facing_active * c.answers_per_contributor
    capacity = staff_capacity + tot[T_PEER_ANSWERS]
    chance = 0.0
    if community_open:
        chance = min(1.0, capacity / max(1.0, tot[T_OPEN_MEMBER_PROBLEMS])) * one_company
    trust_shift = 0.0
    if c.use_culture:  # customers see staff's mistakes; candour earns trust, defensiveness loses it (002)
        trust_shift = (2.0 * c.mistake_candour - 1.0) * (c.mistake_trust_step * math.log1p(visible_mistakes)
                                                         + c.viral_trust_step * tot[T_VIRAL])
    listening = c.listening if c.use_listening else 0.0
    p = CustomerParams(community_open, c.marketing_reach, c.word_of_mouth, c.join_rate, c.problem_rate,
                       c.support_answer_rate, chance, listening,
                       c.customer_patience, c.give_up_factor, c.detractor_influence, c.advocate_pull,
                       c.contact_pull, c.advocate_trust, c.detractor_trust, c.answer_trust_gain,
                       c.public_answer_bonus, c.waiting_trust_loss, c.idea_rate, c.peer_answer_rate, trust_shift,
                       c.trust_reversion)
    if c.par_customers:
        customer_step(net.contact_indptr, net.contact_indices, buf.active_now, cs.aware, cs.member, cs.trust,
                      cs.baseline_trust, cs.sentiment, cs.problem_age, net.m_degree, cs.friend_members,
                      cs.friend_advocates, cs.friend_detractors, p, wkey, cs.answered_age, cs.public_answer,
                      cs.idea, cs.peer_answer, buf.changed)
    else:
        customer_step_s(net.contact_indptr, net.contact_indices, buf.active_now, cs.aware, cs.member, cs.trust,
                        cs.baseline_trust, cs.sentiment, cs.problem_age, net.m_degree, cs.friend_members,
                        cs.friend_advocates, cs.friend_detractors, p, wkey, cs.answered_age, cs.public_answer,
                        cs.idea, cs.peer_answer, buf.changed)
    update_friend_counts(net.m_indptr, net.m_indices, cs.member, cs.sentiment, buf.changed, cs.friend_members,
                         cs.friend_advocates, cs.friend_detractors)
    new_problems = 0
    peer_answers = 0
    public = 0
    ideas = 0
    waiting = 0
    asked = 0
    for k in range(m):
        age = cs.problem_age[k]
        if age == 0:
            new_problems += 1  # problems carried over are at least a week old
        if cs.idea[k]:
            cs.ideas[k] += 1
            ideas += 1
        if cs.peer_answer[k]:
            cs.answers[k] += 1
            peer_answers += 1
        if cs.public_answer[k]:
            public += 1
        if cs.member[k] and age >= 0:
            asked += 1
            if age > c.customer_patience:
                waiting += 1
    customer_totals(cs, tot)
    tot[T_PEER_ANSWERS] = peer_answers
    tot[T_PUBLIC_ANSWERS] = public
    tot[T_IDEAS] += ideas
    if c.use_listening:
        tot[T_SIGNALS] += c.listening * (new_problems + ideas)
    # What customers do to staff (003, 004): public answers earn the staff who gave them praise
    # (credited next week); questions left waiting in public demoralise customer-facing staff.
    if c.use_customer_feedback and facing_active > 0 and capacity > 0.0:
        each = c.customer_praise * (public * staff_capacity / capacity) / facing_active
        for i in range(n):
            if net.customer_facing[i] and buf.active_now[i]:
                st.praise[i] += each
    tot[T_OPEN_MEMBER_PROBLEMS] = asked
    tot[T_UNANSWERED] = waiting / max(1, asked) if community_open else 0.0
    return ideas


def customer_totals(cs, tot):
    """Counts and sums of the customers' state (what the recorded row and the economics read)."""
    aware = 0
    members = 0
    open_problems = 0
    answered = 0
    waited = 0
    trust = 0.0
    detractors = 0
    neutral = 0
    advocates = 0
    detractors_aware = 0
    for k in range(cs.aware.shape[0]):
        a = cs.aware[k]
        if a:
            aware += 1
        if cs.member[k]:
            members += 1
        if cs.problem_age[k] >= 0:
            open_problems += 1
        if cs.answered_age[k] >= 0:
            answered += 1
            waited += cs.answered_age[k]
        trust += cs.trust[k]
        s = cs.sentiment[k]
        if s < 0:
            detractors += 1
            if a:
                detractors_aware += 1
        elif s > 0:
            advocates += 1
        else:
            neutral += 1
    tot[T_AWARE] = aware
    tot[T_MEMBERS] = members
    tot[T_OPEN_PROBLEMS] = open_problems
    tot[T_ANSWERED] = answered
    tot[T_WAITED] = waited
    tot[T_TRUST] = trust
    tot[T_DETRACTORS] = detractors
    tot[T_NEUTRAL] = neutral
    tot[T_ADVOCATES] = advocates
    tot[T_DETRACTORS_AWARE] = detractors_aware


def economics(net, st, cs, c, tot, active, new_innovations):
    """Cost and value of the week (value beside the verdict, not in it)."""
    eligible = 0
    leaders_active = 0
    gain = 0.0
    for i in range(st.stage.shape[0]):
        if st.has_access[i]:
            eligible += 1
        if active[i] and net.is_formal_leader[i]:
            leaders_active += 1
        gain += st.productivity[i]
    detractors_aware = tot[T_DETRACTORS_AWARE]
    cost = c.seat_cost * eligible + c.programme_cost + c.leader_time_cost * leaders_active
    value = (c.employee_week_value * gain + c.advocate_value * (tot[T_ADVOCATES] - detractors_aware)
             + c.innovation_value * new_innovations)
    tot[T_WEEK_COST] = cost
    tot[T_WEEK_VALUE] = value
    tot[T_CUM_COST] += cost
    tot[T_CUM_VALUE] += value


# ------------------------------------------------------------------ outputs
def inequality(values, departed, n_departed, buf):
    """(gini, top 1%, next 9%, remaining 90%, never posted) of users' contributions (van Mierlo 2014).

    ``values`` are the contributions of current users; ``departed[:n_departed]`` those of users who
    left. Counting sort on the integer counts: one pass, then the measures from the histogram.
    """
    n = values.shape[0] + n_departed
    if n == 0:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    top = 0
    for a in range(values.shape[0]):
        top = max(top, values[a])
    for a in range(n_departed):
        top = max(top, departed[a])
    hist = buf.hist
    if hist.shape[0] <= top:  # rare: only grows
        hist = np.zeros(2 * top + 2, dtype=np.int64)
    for v in range(top + 1):
        hist[v] = 0
    for a in range(values.shape[0]):
        hist[values[a]] += 1
    for a in range(n_departed):
        hist[departed[a]] += 1
    total = 0.0
    ranked = 0.0  # sum over ranks r (1 = smallest) of r * x_r
    r = 0
    for v in range(top + 1):
        h = hist[v]
        if h > 0:
            total += v * h
            ranked += v * (h * r + h * (h + 1) / 2.0)
            r += h
    never = hist[0] / n
    if total <= 0.0:
        return 0.0, 0.0, 0.0, 0.0, never
    gini = 2.0 * ranked / (n * total) - (n + 1.0) / n
    top1 = max(1, int(math.ceil(0.01 * n)))
    top10 = max(top1, int(math.ceil(0.10 * n)))
    taken = 0
    first = 0.0
    second = 0.0
    v = top
    while v >= 0 and taken < top10:
        h = hist[v]
        while h > 0 and taken < top10:
            if taken < top1:
                first += v
            else:
                second += v
            taken += 1
            h -= 1
        v -= 1
    return gini, first / total, second / total, (total - first - second) / total, never


def record(net, st, cs, c, tot, kdept, departed, r, series, dept_stage, dept_posted, buf):
    """Row ``r`` of the outputs (columns in the order of sim.outputs.SERIES_COLUMNS)."""
    n = st.stage.shape[0]
    m = cs.aware.shape[0]
    recent = r - ACTIVITY_WINDOW
    eligible = 0
    counts = np.zeros(5, dtype=np.int64)
    active = 0
    posted_4w = 0
    viewers_4w = 0
    participants_4w = 0
    ever_used = 0
    ever_active = 0
    posts = 0
    reactions = 0
    users = 0
    safety = 0.0
    alignment = 0.0
    habit = 0.0
    reuse = 0.0
    gain = 0.0
    mistakes = 0
    weak = 0
    cross = 0
    for d in range(dept_stage.shape[1]):
        for k in range(dept_stage.shape[2]):
            dept_stage[r, d, k] = 0
        dept_posted[r, d] = 0
    for i in range(n):
        s = st.stage[i]
        d = net.department[i]
        if st.has_access[i]:
            eligible += 1
            counts[s] += 1
            dept_stage[r, d, s + 1] += 1
            if s == CONTRIBUTOR or s == CHAMPION:
                active += 1
            if st.last_post[i] > recent:
                posted_4w += 1
                dept_posted[r, d] += 1
            if st.last_view[i] > recent:
                viewers_4w += 1
            if st.last_react[i] > recent or st.last_post[i] > recent:
                participants_4w += 1
            if st.last_view[i] >= 1:
                ever_used += 1
            if st.contributions[i] > 0:
                ever_active += 1
        else:
            dept_stage[r, d, 0] += 1
        if st.last_view[i] >= 1:
            buf.posted[users] = i  # reused: the rows of the users
            users += 1
        posts += st.posts[i]
        if st.reacted[i]:
            reactions += 1
        if st.mistake[i]:
            mistakes += 1
        safety += st.safety[i]
        alignment += st.alignment[i]
        habit += st.habit[i]
        reuse += st.reuse[i]
        gain += st.productivity[i]
        weak += st.weak_count[i]
        cross += net.base_cross_ties[i]
    values = np.empty(users, dtype=np.int64)
    for a in range(users):
        values[a] = st.contributions[buf.posted[a]]
    gini, top1, next9, rest90, never = inequality(values, departed, int(tot[T_DEPARTED]), buf)
    if r == 0:
        customer_totals(cs, tot)
    answered = tot[T_ANSWERED]
    first_row = r == 0
    row = series[r]
    row[0] = r
    row[1] = eligible
    row[2] = n - eligible
    row[3] = counts[NON_USER]
    row[4] = counts[READER]
    row[5] = counts[CONTRIBUTOR]
    row[6] = counts[CHAMPION]
    row[7] = counts[LAPSED]
    row[8] = active
    row[9] = posted_4w / eligible if eligible > 0 else 0.0
    row[10] = posted_4w / n
    row[11] = viewers_4w
    row[12] = participants_4w
    row[13] = posted_4w
    row[14] = ever_used
    row[15] = ever_active
    row[16] = 0 if first_row else posts
    row[17] = 0 if first_row else reactions
    row[18] = (0 if first_row else posts) / max(1, active)
    row[19] = gini
    row[20] = top1
    row[21] = next9
    row[22] = rest90
    row[23] = never
    row[24] = (cross + weak) // 2
    row[25] = weak // 2
    row[26] = tot[T_KNOWLEDGE_OPEN] + kdept_total(kdept)
    row[27] = reuse / n
    row[28] = gain / n
    row[29] = alignment / n
    row[30] = safety / n
    row[31] = habit / n
    row[32] = 0 if first_row else mistakes
    row[33] = 0 if first_row else tot[T_LEAVERS]
    row[34] = tot[T_CRISIS]
    row[35] = tot[T_AWARE]
    row[36] = tot[T_MEMBERS]
    row[37] = tot[T_ADVOCATES]
    row[38] = tot[T_DETRACTORS]
    row[39] = tot[T_TRUST] / m if m > 0 else np.nan
    row[40] = tot[T_OPEN_PROBLEMS]
    row[41] = answered
    row[42] = 0 if first_row else tot[T_PUBLIC_ANSWERS]
    row[43] = tot[T_UNANSWERED]
    row[44] = tot[T_WAITED] / answered if answered > 0 else np.nan
    row[45] = tot[T_IDEAS]
    row[46] = tot[T_IDEAS_CAPTURED]
    row[47] = tot[T_INNOVATIONS]
    row[48] = tot[T_SIGNALS]
    row[49] = 0.0 if first_row else tot[T_WEEK_COST]
    row[50] = 0.0 if first_row else tot[T_WEEK_VALUE]
    row[51] = tot[T_CUM_COST]
    row[52] = tot[T_CUM_VALUE]
    row[53] = tot[T_CUM_VALUE] - tot[T_CUM_COST]


def kdept_total(kdept):
    total = 0.0
    for d in range(kdept.shape[0]):
        total += kdept[d]
    return total


# ================================================================== building the two variants
ACTIVITY_WINDOW = 4  # Jive's "in the last 4 weeks" (the same as sim.outputs.ACTIVITY_WINDOW)
NEVER = -(10**6)  # the same as sim.state.NEVER

ORCHESTRATION = ("simulate", "one_week", "copy_real", "visibly_active", "knowledge_density", "leader_signal",
                 "participation_params", "recognise", "schedule", "log_event", "wave", "shock", "replace_seats",
                 "customer_week", "customer_totals", "economics", "inequality", "record", "kdept_total")
KERNEL_NAMES = ("purpose_cascade", "neighbour_exposure", "participation", "recognition", "safety_update",
                "productivity", "customer_step")


def _constants() -> dict[str, Any]:
    names = {name: value for name, value in globals().items()
             if name.isupper() and isinstance(value, (int, float))}
    names.update({name: getattr(_rng, name) for name in dir(_rng) if name.isupper() and not name.startswith("_")})
    names.update(np=np, math=math, NON_USER=NON_USER, READER=READER, CONTRIBUTOR=CONTRIBUTOR,
                 CHAMPION=CHAMPION, LAPSED=LAPSED, ParticipationParams=ParticipationParams,
                 SafetyParams=SafetyParams, CustomerParams=CustomerParams)
    return names


def build(engine: str) -> dict[str, Any]:
    """The week's functions for one engine: ``"numba"`` (compiled) or ``"python"`` (plain Python).

    Returns the namespace: ``namespace["simulate"]`` runs weeks, ``namespace["record"]`` writes
    one row of outputs.
    """
    from . import engine as variants
    from . import customers, kernels, reference
    from . import schedule as events

    namespace = _constants()
    namespace["__name__"] = __name__  # numba's cache finds the functions' module by this name
    if engine == "numba":
        for name in KERNEL_NAMES:
            namespace[name] = getattr(variants.parallel, name)
            namespace[f"{name}_s"] = getattr(variants.serial, name)
        namespace.update(grow_weak_ties=kernels.grow_weak_ties, drop_weak_ties=kernels.drop_weak_ties,
                         update_friend_counts=customers.update_friend_counts,
                         week_key=_rng.week_key, uniform=_rng.uniform, normal=_rng.normal,
                         fill_uniforms=_rng.fill_uniforms, fill_uniforms_s=variants.serial_fill_uniforms)
    else:
        for name in KERNEL_NAMES:
            namespace[name] = namespace[f"{name}_s"] = getattr(reference, name)
        namespace.update(grow_weak_ties=reference.grow_weak_ties, drop_weak_ties=reference.drop_weak_ties,
                         update_friend_counts=reference.update_friend_counts,
                         week_key=_rng.week_key_np, uniform=_rng.uniform_py, normal=_rng.normal_py,
                         fill_uniforms=_rng.fill_uniforms_np, fill_uniforms_s=_rng.fill_uniforms_np)
    stamp = source_fingerprint()
    for name in ORCHESTRATION:
        original = globals()[name] if name in globals() else getattr(events, name)
        copy = types.FunctionType(original.__code__, namespace, name, original.__defaults__, original.__closure__)
        # numba names its cache files after the qualified name, and invalidates a cached function
        # only when its own file changes, not when a kernel it calls (in another file) does: the
        # fingerprint of every file the week depends on makes a stale entry impossible to load.
        copy.__qualname__ = f"{name}__{engine}_{stamp}"
        copy.__doc__ = original.__doc__
        namespace[name] = njit(cache=True)(copy) if engine == "numba" else copy
    return namespace


#: The modules whose code or types the compiled week depends on.
DEPENDENCIES = ("week", "schedule", "kernels", "customers", "rng", "engine", "state", "scenario", "parameters", "behaviour")


def source_fingerprint(folder: Any = None) -> str:
    """A short hash of the source of every module in :data:`DEPENDENCIES` (in ``folder``, default sim/)."""
    import hashlib
    from pathlib import Path

    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent if folder is None else Path(folder)
    for name in DEPENDENCIES:
        digest.update((here / f"{name}.py").read_bytes())
    return digest.hexdigest()[:10]


_BUILT: dict[str, dict[str, Any]] = {}


def functions(engine: str) -> dict[str, Any]:
    """:func:`build`'s namespace for ``engine``, built once per process."""
    if engine not in _BUILT:
        if engine == "numba":
            start_threads()
        _BUILT[engine] = build(engine)
    return _BUILT[engine]


def start_threads() -> None:
    """Start numba's thread pool before the compiled week first runs.

    The week is cached and calls parallel kernels. When it was compiled in a process that
    loaded those kernels from the cache, its own cache entry misses the hook that starts the
    thread pool on load, and a later process that loads it crashes (segmentation fault) in the
    first parallel loop (numba issue #8578; tests/test_week.py reproduces the sequence).
    Starting the pool ourselves is what that hook would do.
    """
    from numba.np.ufunc.parallel import _launch_threads

    _launch_threads()
