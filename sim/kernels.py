"""Numba kernels: every per-step interaction over the networks.

Each kernel is pure: arrays and scalars in, preallocated outputs written, nothing from Mesa or
pandas, and no generator with state. Random numbers are counter-based (:mod:`sim.rng`): a
draw is a hash of (seed, week, stream, agent), arriving either as an array filled for the week
or computed inside the kernel where a rule needs it, so a kernel's result does not depend on
how many threads run it. Updates are synchronous: a kernel reads the state of week t and
writes the state of week t + 1 into ``out_*`` arrays (or, where an agent reads only its own
entries, in place), so ``prange`` loops never read what another iteration writes. Sums over
agents are left to the caller (the compiled week, :mod:`sim.week`, in agent order) because a
parallel float reduction would depend on the thread count.

Argument order everywhere: graph (``indptr, indices``), state arrays, parameters, random
draws, outputs. The plain-Python twin of every kernel, written as readable agent logic, is in
:mod:`sim.reference`; tests assert both give the same trajectories for the same draws.

Mechanisms and their sources (../shared/seeds): participation barriers and the network effect
(000, Hinchcliffe & Kim), purpose and "provide and pray" (001, Dent), fear, blame and acting
human (002), silos and customers (003, HBR/Darmano), leaders as role models (004). The
participation decision is a random-utility (logistic) choice between the value a person gets
and the costs of effort, friction and fear, so no single cost switches the other levers off;
with ``decision_noise = 0`` it is the deterministic threshold rule of Granovetter (1978) and
Watts (2002). Posting is bounded by a time budget and its recognition by the attention of
readers, which is conserved, so the virtuous participation cycle (000) makes contributions
heavy-tailed without running away.

One kernel here is not part of the week: :func:`watts_cascade` runs the synchronous threshold
cascade of D. J. Watts, "A simple model of global cascades on random networks", PNAS 99(9),
5766-5771 (2002), for :mod:`sim.classic`. It decides with the participation rule itself
(:func:`decide_contributing`, which :func:`participation` calls too) and, with the graph
helpers :func:`ties_are_mutual` and :func:`observer_lists`, has no twin in :mod:`sim.reference`:
tests/test_classic.py checks it against the full participation kernel and a scipy-sparse loop.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .rng import AWARE, ANSWER, IDEA, JOIN, PEER_ANSWER, PROBLEM, uniform

# Participation stages (int8 codes). Active means "contributes": contributor or champion.
NON_USER, READER, CONTRIBUTOR, CHAMPION, LAPSED = 0, 1, 2, 3, 4
STAGE_NAMES = ("non_user", "reader", "contributor", "champion", "lapsed")

# Customer sentiment codes.
DETRACTOR, NEUTRAL, ADVOCATE = -1, 0, 1


class ParticipationParams(NamedTuple):
    """Parameters of the employee participation rule for one week, already switched.

    A mechanism that is switched off arrives with its weight set to zero. ``leader_pull`` is
    ``leader_participation * leader_role_pull``; ``friction_cost`` is
    ``friction_weight * posting_friction`` (the factor by which friction multiplies effort); ``post_speed`` is
    ``1 - friction_slowdown * posting_friction``; ``rally`` and ``facing_failure`` are this
    week's crisis rally and visible-failure cost (see :mod:`sim.model`).
    """

    peer_weight: float
    role_model_weight: float
    purpose_weight: float
    network_value_weight: float
    value_saturation: float
    value_people_share: float
    launch_novelty: float
    novelty_half_life: float
    recognition_weight: float
    recognition_saturation: float
    leader_pull: float
    rally: float
    facing_failure: float
    friction_cost: float
    fear_weight: float
    habit_weight: float
    decision_noise: float
    spontaneous_adoption: float
    imitation: float
    reading_uptake: float
    reading_lapse: float
    reading_effort: float
    lapse_rate: float
    lapse_margin: float
    relapse_penalty: float
    reaction_ease: float
    contribution_rate: float
    posting_budget: float
    reputation_feedback: float
    post_speed: float
    mistake_rate: float


class SafetyParams(NamedTuple):
    """Parameters of the psychological-safety update for one week (mechanism 6, 002)."""

    blame_culture: float
    mistake_candour: float
    fear_contagion: float
    blame_impact: float
    candour_repair: float
    crisis_loss: float  # crisis_fear * crisis pressure * blame_culture, this week
    safety_recovery: float
    initial_safety: float


class CustomerParams(NamedTuple):
    """Parameters of the customer rules (mechanisms 6, 7 and 9) for one week."""

    community_open: bool
    marketing_reach: float
    word_of_mouth: float
    join_rate: float
    problem_rate: float
    support_answer_rate: float
    community_answer_chance: float
    listening: float
    patience: int
    give_up_factor: int
    detractor_influence: float
    advocate_pull: float
    contact_pull: float
    advocate_trust: float
    detractor_trust: float
    answer_trust_gain: float
    public_answer_bonus: float
    waiting_trust_loss: float
    idea_rate: float
    peer_answer_rate: float
    trust_shift: float
    trust_reversion: float


@njit(cache=True, inline="always")
def is_active(stage):
    """True for the stages that contribute (contributor, champion)."""
    return stage == CONTRIBUTOR or stage == CHAMPION


@njit(cache=True)
def choice(margin, noise):
    """Chance of choosing to act when the net motivation is ``margin`` (logistic choice).

    ``1 / (1 + exp(-margin / noise))``, computed without overflow; with ``noise = 0`` it is the
    threshold rule: 1 if ``margin >= 0``, else 0.
    """
    if noise <= 0.0:
        return 1.0 if margin >= 0.0 else 0.0
    z = margin / noise
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@njit(cache=True)
def saturating(x, scale):
    """``1 - exp(-x / scale)``: 0 at 0, 63% at ``scale``, approaching 1."""
    return 1.0 - math.exp(-x / scale)


@njit(cache=True, parallel=True)
def purpose_cascade(manager, is_executive, clarity, receptiveness,
                    purpose_strength, leader_commitment, cascade_rate, transmission_floor,
                    out_clarity, out_alignment):
    """Purpose clarity built by the management team and passed down the hierarchy (001, 004).

    Executives move towards ``leader_commitment``; everyone else towards their manager's
    clarity of last week, passed on at ``floor + (1 - floor) * leader_commitment`` (an
    uncommitted manager passes on only ``transmission_floor`` of what they heard). Alignment
    is clarity times how compelling the purpose is times one's receptiveness.

    Args:
        manager: int32 (N,), manager index, -1 for the CEO.
        is_executive: bool (N,).
        clarity, receptiveness: float64 (N,).
        purpose_strength, leader_commitment, cascade_rate, transmission_floor: floats in [0, 1].
        out_clarity, out_alignment: float64 (N,), written.
    """
    transmission = transmission_floor + (1.0 - transmission_floor) * leader_commitment
    for i in prange(manager.shape[0]):
        if is_executive[i] or manager[i] < 0:
            target = leader_commitment
        else:
            target = transmission * clarity[manager[i]]
        c = clarity[i] + cascade_rate * (target - clarity[i])
        out_clarity[i] = c
        out_alignment[i] = purpose_strength * c * receptiveness[i]


@njit(cache=True, inline="always")
def exposure_share(active_weight, weight_sum):
    """Exposure: the active share of one's contacts' weight, 0 for someone with no contacts."""
    return active_weight / weight_sum if weight_sum > 0.0 else 0.0


@njit(cache=True, parallel=True)
def neighbour_exposure(indptr, indices, weak_ties, weak_count, visible, influence_weight,
                       out_exposure, out_active_neighbours):
    """Weighted share of each person's contacts who are visibly active (complex contagion).

    Contacts are the organisation graph plus the weak ties grown so far; ``visible[j]`` says
    whether ``j`` was seen contributing recently (posted within the visibility window). A
    contact's weight is ``influence_weight[j]`` (1, plus extra for informal leaders). Isolated
    people have exposure 0, so they never cross a positive threshold through peers.

    Args:
        indptr: int64 (N+1,), indices: int32 (nnz,): the organisation graph (CSR).
        weak_ties: int32 (N, K), weak_count: int32 (N,): grown ties, first ``weak_count[i]``
            entries of row i are valid.
        visible: bool (N,).
        influence_weight: float64 (N,).
        out_exposure: float64 (N,), out_active_neighbours: int32 (N,), written.
    """
    for i in prange(indptr.shape[0] - 1):
        weight_sum = 0.0
        active_weight = 0.0
        active = 0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            w = influence_weight[j]
            weight_sum += w
            if visible[j]:
                active_weight += w
                active += 1
        for k in range(weak_count[i]):
            j = weak_ties[i, k]
            w = influence_weight[j]
            weight_sum += w
            if visible[j]:
                active_weight += w
                active += 1
        out_exposure[i] = exposure_share(active_weight, weight_sum)
        out_active_neighbours[i] = active


@njit(cache=True, inline="always")
def platform_value(active_neighbours, knowledge_density, p):
    """Value of the platform to a person, in [0, 1]: active contacts and reusable knowledge (000)."""
    people = saturating(active_neighbours, p.value_saturation)
    knowledge = saturating(knowledge_density, p.value_saturation)
    return p.value_people_share * people + (1.0 - p.value_people_share) * knowledge


@njit(cache=True, inline="always")
def pulls(i, is_formal_leader, department, leader_signal, alignment, reputation, exposure, active_neighbours,
          knowledge_density, novelty, p):
    """What draws employee ``i`` to the platform: the value side of their motivation."""
    value = p.peer_weight * exposure[i]
    value += p.role_model_weight * leader_signal[i]
    value += p.purpose_weight * alignment[i]
    value += p.network_value_weight * platform_value(active_neighbours[i], knowledge_density[department[i]], p)
    value += p.launch_novelty * novelty
    rep = reputation[i]
    value += p.recognition_weight * rep / (rep + p.recognition_saturation)
    value += p.rally
    if is_formal_leader[i]:
        value += p.leader_pull
    return value


@njit(cache=True, inline="always")
def effort_of(i, threshold, habit, p):
    """Personal effort of contributing, lowered by habit (learning the tool)."""
    return threshold[i] * (1.0 - p.habit_weight * habit[i])


@njit(cache=True, inline="always")
def contributing_cost(i, effort, customer_facing, safety, p):
    """Cost of contributing: effort scaled by friction, plus fear and visible failure."""
    # Friction is time spent on approvals: it scales one's own effort, so the eager still post.
    cost = effort * (1.0 + p.friction_cost)
    cost += p.fear_weight * (1.0 - safety[i])
    if customer_facing[i]:
        cost += p.facing_failure
    return cost


@njit(cache=True, inline="always")
def decide_contributing(stage, motivation, exposure, u_adopt, u_lapse, p):
    """Whether someone starts, keeps or stops contributing: their stage after this week's decision.

    ``motivation`` is the net motivation ``m`` (:func:`pulls` minus :func:`contributing_cost`),
    ``exposure`` the share of contacts seen active. Someone who is not contributing starts
    (becomes a contributor) when ``u_adopt < 1 - (1 - b) * (1 - choice(m - relapse))``, with
    ``b = min(1, spontaneous_adoption + imitation * exposure)`` the Bass hazard and ``relapse``
    the ``relapse_penalty`` of a lapsed contributor; a contributor lapses when
    ``u_lapse < lapse_rate * choice(-m - lapse_margin)``. Otherwise the stage stays as it is.

    With ``decision_noise = 0`` and no Bass hazard, starting is the threshold rule of
    Granovetter (1978) and Watts (2002): exactly when ``m >= 0``, whatever ``u_adopt``. This is
    the one rule of both :func:`participation` and :func:`watts_cascade`.
    """
    if is_active(stage):
        if u_lapse < p.lapse_rate * choice(-motivation - p.lapse_margin, p.decision_noise):
            return LAPSED
        return stage
    relapse = p.relapse_penalty if stage == LAPSED else 0.0
    bass = min(1.0, p.spontaneous_adoption + p.imitation * exposure)
    start = 1.0 - (1.0 - bass) * (1.0 - choice(motivation - relapse, p.decision_noise))
    if u_adopt < start:
        return CONTRIBUTOR
    return stage


@njit(cache=True)
def observer_lists(indptr, indices, out_indptr, out_indices):
    """Who sees whom: the transposed graph, row ``j`` listing everyone whose row lists ``j``.

    Row ``i`` of ``(indptr, indices)`` lists the contacts whose states ``i`` sees; row ``j`` of
    the output lists the people who see ``j``, in increasing order (twice if ``j`` appears twice
    in their row). For a symmetric graph it is the graph itself. A counting sort, serial.

    Args:
        indptr: int64 (N+1,), indices: int32 (nnz,): the graph (CSR).
        out_indptr: int64 (N+1,), out_indices: int32 (nnz,), written.
    """
    n = indptr.shape[0] - 1
    for j in range(n + 1):
        out_indptr[j] = 0
    for k in range(indices.shape[0]):
        out_indptr[indices[k] + 1] += 1
    for j in range(n):
        out_indptr[j + 1] += out_indptr[j]
    # out_indptr[j] is where row j starts; used as row j's cursor it ends where row j + 1 starts.
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            out_indices[out_indptr[j]] = i
            out_indptr[j] += 1
    for j in range(n, 0, -1):
        out_indptr[j] = out_indptr[j - 1]
    out_indptr[0] = 0


@njit(cache=True, inline="always")
def _cascade_starts(i, active_contacts, indptr, threshold, p):
    """Whether inactive node ``i`` with ``active_contacts`` active contacts starts (Watts' rule)."""
    share = exposure_share(float(active_contacts), float(indptr[i + 1] - indptr[i]))
    motivation = p.peer_weight * share - threshold[i]
    return is_active(decide_contributing(NON_USER, motivation, share, 0.5, 0.5, p))


@njit(cache=True)
def ties_are_mutual(indptr, indices):
    """True when the graph is symmetric: ``j`` is in row ``i`` as often as ``i`` is in row ``j``.

    One pass in row order: row ``i``'s contacts ``j > i`` are matched, in order, against the
    start of row ``j`` (its contacts below ``j``), which must then be used up. Exact for any CSR;
    with rows not sorted in increasing order a symmetric graph may be reported as not symmetric.
    """
    n = indptr.shape[0] - 1
    if indices.shape[0] < 1 << 31:  # int32 cursors when they fit: half the memory to hop through
        return _mutual(indptr, indices, np.empty(n, dtype=np.int32))
    return _mutual(indptr, indices, np.empty(n, dtype=np.int64))


@njit(cache=True, inline="always")
def _mutual(indptr, indices, cursor):
    """:func:`ties_are_mutual` with ``cursor[j]``, the first entry of row ``j`` not yet matched."""
    n = indptr.shape[0] - 1
    for j in range(n):
        cursor[j] = indptr[j]
    for i in range(n):
        for k in range(cursor[i], indptr[i + 1]):
            j = indices[k]
            if j < i:
                return False  # nobody before i listed i where this entry would have matched it
            if j > i:
                c = cursor[j]
                if c >= indptr[j + 1] or indices[c] != i:
                    return False
                cursor[j] = c + 1
    return True


@njit(cache=True, parallel=True)
def watts_cascade(indptr, observers_indptr, observers_indices, threshold, initially_active, p, max_steps,
                  out_active, out_active_per_step):
    """Synchronous threshold cascade (Watts 2002) to its end, decided by the participation rule.

    D. J. Watts, "A simple model of global cascades on random networks", PNAS 99(9), 5766-5771
    (2002). In each step every inactive node whose active share of contacts (row ``i`` of the
    CSR) is at least its threshold becomes active, all at once; active nodes stay active. The
    decision is :func:`decide_contributing`, the rule of :func:`participation`, with the net
    motivation ``peer_weight * exposure - threshold`` that :func:`pulls` and
    :func:`contributing_cost` give with only peer influence on; exposure is
    :func:`exposure_share` of the active contacts over the row, as :func:`neighbour_exposure`
    computes it with unit weights and no weak ties. ``p`` must make that rule deterministic and
    activation permanent (``decision_noise``, ``spontaneous_adoption``, ``imitation`` and
    ``lapse_rate`` 0; :mod:`sim.classic` passes peer influence alone), so the uniforms are 0.5.

    The result is that of the synchronous rule step by step, but a step costs only the ties of
    the nodes that started in the previous one: each node keeps the number of its active
    contacts, and a node that starts adds one to everyone who sees it (``observers``: the
    transposed graph, :func:`observer_lists`, or the graph itself when its ties are mutual,
    :func:`ties_are_mutual`). A node whose count did not change decides as it did before, so
    only those who see a new starter decide again (in the first step, everyone inactive does).
    When more than a 32nd of the nodes are to decide, they decide in one pass over the nodes in
    their order (a ``prange`` loop), else in the order they were queued. The work arrays are
    allocated once per call, not per step.

    Args:
        indptr: int64 (N+1,): the graph's row pointers (CSR; row ``i`` the contacts ``i`` sees),
            for each node's number of contacts.
        observers_indptr: int64 (N+1,), observers_indices: int32 (nnz,): who sees whom, row
            ``j`` listing everyone whose row lists ``j``; nnz < 2**30.
        threshold: float64 (N,). initially_active: bool (N,), the seeds.
        p: :class:`ParticipationParams`. max_steps: int >= 0.
        out_active: bool (N,), written: the active set when the cascade stopped.
        out_active_per_step: int64 (K,), ``K >= min(max_steps, N - seeds) + 1``: entry 0 the
            number of seeds, entry ``t`` the number active after step ``t``, written up to the
            returned number of steps.

    Returns:
        The number of steps that activated someone: the cascade stops at the first step that
        activates nobody (not counted) or after ``max_steps`` steps.
    """
    n = threshold.shape[0]
    if p.decision_noise != 0.0 or p.spontaneous_adoption != 0.0 or p.imitation != 0.0 or p.lapse_rate != 0.0:
        raise ValueError("watts_cascade needs a deterministic rule with permanent activation: "
                         "decision_noise, spontaneous_adoption, imitation and lapse_rate must be 0")
    if observers_indices.shape[0] >= 1 << 30:
        raise ValueError("watts_cascade counts active contacts in int32: the graph must have < 2**30 ties")
    # state[i] >= 0: inactive, twice the number of active contacts, plus 1 while queued to decide;
    # state[i] < 0 (and odd): active. Adding 2 per new active contact keeps both readings.
    active_mark = -(1 << 31) + 1
    state = np.empty(n, dtype=np.int32)
    frontier = np.empty(n, dtype=np.int32)  # who started in the last step
    queue = np.empty(n, dtype=np.int32)  # who sees one of them (or, in a full pass, who starts)
    for i in prange(n):
        state[i] = active_mark if initially_active[i] else 0
    started = 0
    for i in range(n):
        if initially_active[i]:
            frontier[started] = i
            started += 1
    if out_active_per_step.shape[0] < min(max_steps, n - started) + 1:
        raise ValueError("watts_cascade: out_active_per_step is shorter than min(max_steps, N - seeds) + 1")
    out_active_per_step[0] = started
    total = started
    steps = 0
    while steps < max_steps:
        # Everyone who sees someone who started has one more active contact: queue them once.
        queued = 0
        for a in range(started):
            j = frontier[a]
            for k in range(observers_indptr[j], observers_indptr[j + 1]):
                i = observers_indices[k]
                s = state[i]
                state[i] = (s + 2) | 1
                queue[queued] = i
                queued += 1 - (s & 1)  # not if already queued, or active (odd)
        started = 0
        if steps == 0 or queued > n // 32:
            # In node order: the first step everyone inactive decides, later only the queued.
            everyone = steps == 0
            for i in prange(n):
                s = state[i]
                starts = False
                if s >= 0 and (everyone or s & 1):
                    s &= ~1
                    starts = _cascade_starts(i, s >> 1, indptr, threshold, p)
                    state[i] = s
                queue[i] = starts
            for i in range(n):
                if queue[i]:
                    state[i] = active_mark
                    frontier[started] = i
                    started += 1
        else:
            for b in range(queued):
                i = queue[b]
                s = state[i] & ~1
                if _cascade_starts(i, s >> 1, indptr, threshold, p):
                    state[i] = active_mark
                    frontier[started] = i
                    started += 1
                else:
                    state[i] = s
        if started == 0:
            break
        steps += 1
        total += started
        out_active_per_step[steps] = total
    for i in prange(n):
        out_active[i] = state[i] < 0
    return steps


@njit(cache=True, parallel=True)
def participation(stage, has_access, weeks_with_access, threshold, propensity, is_formal_leader,
                  customer_facing, department, leader_signal, alignment, safety, reputation, habit,
                  exposure, active_neighbours, knowledge_density, p,
                  u_adopt, u_read, u_lapse, u_react, u_post, u_mistake,
                  out_stage, out_posts, out_reacted, out_mistake):
    """One week of employee participation decisions (mechanisms 1-6, 12).

    For an employee with access, the net motivation ``m = v - c`` weighs the pulls ``v``
    (:func:`pulls`: visible peers, the hierarchy signal, purpose, platform value, novelty, one's
    own recognition, a crisis rally, a leader's role) against the costs ``c``
    (:func:`contributing_cost`): personal effort ``e`` (:func:`effort_of`, lowered by habit)
    multiplied by ``1 + friction_cost`` (approval steps make every post take longer, so friction
    weighs most on those for whom posting is already an effort), fear and visible failure with
    customers. Then:

    - whether someone starts, keeps or stops contributing is :func:`decide_contributing`: one
      who is not contributing starts with chance ``1 - (1 - b) * (1 - choice(m - relapse))``,
      where ``b = spontaneous_adoption + imitation * exposure`` is the Bass hazard and
      ``relapse`` is ``relapse_penalty`` for a lapsed contributor; a contributor lapses with
      chance ``lapse_rate * choice(-m - lapse_margin)``;
    - a non-user starts reading with chance ``reading_uptake * r`` and a reader stops with
      ``reading_lapse * (1 - r)``, ``r = choice(v - reading_effort * e)``: reading draws on the
      same pulls and costs a share of one's effort, so those for whom it is an effort never look;
    - a reader or contributor reacts (likes, comments) with chance
      ``choice(m + reaction_ease) * content``, ``content`` the knowledge visible to them;
    - a contributor posts ``floor(rate + u)`` items with
      ``rate = min(posting_budget, contribution_rate * propensity * visibility) * post_speed``,
      ``visibility = (1 + reputation / recognition_saturation) ** reputation_feedback``;
      each post goes wrong in public with ``mistake_rate``.

    ``novelty = 0.5 ** (weeks_with_access / novelty_half_life)``. Stages of contributors are
    labelled contributor here; :func:`recognition` relabels champions.

    Args:
        stage: int8 (N,), has_access: bool (N,), weeks_with_access: int32 (N,),
        threshold, propensity: float64 (N,), is_formal_leader, customer_facing: bool (N,),
        department: int32 (N,), leader_signal, alignment, safety, reputation, habit,
        exposure: float64 (N,), active_neighbours: int32 (N,).
        knowledge_density: float64 (D,), reusable knowledge per head visible in department d.
        p: :class:`ParticipationParams`.
        u_adopt, u_read, u_lapse, u_react, u_post, u_mistake: float64 (N,) uniforms in [0, 1).
        out_stage: int8 (N,), out_posts: int64 (N,), out_reacted, out_mistake: bool (N,), written.
    """
    for i in prange(stage.shape[0]):
        s = stage[i]
        new = s
        posts = 0
        reacted = False
        mistake = False
        if has_access[i]:
            novelty = 0.5 ** (weeks_with_access[i] / p.novelty_half_life)
            kd = knowledge_density[department[i]]
            value = pulls(i, is_formal_leader, department, leader_signal, alignment, reputation, exposure,
                          active_neighbours, knowledge_density, novelty, p)
            effort = effort_of(i, threshold, habit, p)
            m = value - contributing_cost(i, effort, customer_facing, safety, p)
            new = decide_contributing(s, m, exposure[i], u_adopt[i], u_lapse[i], p)
            if new == s and (s == NON_USER or s == READER):
                # Reading draws on the same pulls but costs only a share of one's effort.
                reading = choice(value - p.reading_effort * effort, p.decision_noise)
                if s == NON_USER and u_read[i] < p.reading_uptake * reading:
                    new = READER
                elif s == READER and u_read[i] < p.reading_lapse * (1.0 - reading):
                    new = NON_USER
            if new == READER or is_active(new):
                content = saturating(kd, p.value_saturation)
                reacted = u_react[i] < choice(m + p.reaction_ease, p.decision_noise) * content
            if is_active(new):
                visibility = (1.0 + reputation[i] / p.recognition_saturation) ** p.reputation_feedback
                rate = min(p.posting_budget, p.contribution_rate * propensity[i] * visibility) * p.post_speed
                posts = int(math.floor(rate + u_post[i]))
                if posts > 0 and p.mistake_rate > 0.0:
                    mistake = u_mistake[i] < 1.0 - (1.0 - p.mistake_rate) ** posts
        out_stage[i] = new
        out_posts[i] = posts
        out_reacted[i] = reacted
        out_mistake[i] = mistake


@njit(cache=True, parallel=True)
def recognition(stage, posts, reputation, habit, department, praise, attention_open, attention_dept,
                reputation_feedback, recognition_saturation, reputation_decay, habit_gain, habit_decay,
                champion_reputation, out_stage, out_reputation, out_habit):
    """Readers' attention shared among this week's posts; reputation, habit and champions (000).

    Each post of ``i`` gets attention in proportion to its visibility
    ``(1 + reputation_i / recognition_saturation) ** f`` (the already recognised are read first): ``attention_open`` and ``attention_dept[d]`` are
    the attention per unit of visible posting in the open space and in department ``d`` (the
    caller divides the attention of this week's viewers by the sum of ``posts * visibility``,
    so the attention handed out equals the attention there was: it is conserved, and reputation
    cannot run away). Customer ``praise`` for public answers adds to it. Reputation is the
    attention received, in views a week, smoothed: it moves a share ``reputation_decay`` of the
    way to this week's attention. The habit grows in a week one posts and fades otherwise. Contributors
    whose reputation reaches ``champion_reputation`` are champions.

    Args:
        stage: int8 (N,) after this week's decisions. posts: int64 (N,). reputation, habit:
            float64 (N,) at the start of the week. department: int32 (N,). praise: float64 (N,).
        attention_open: float. attention_dept: float64 (D,).
        out_stage: int8 (N,), out_reputation, out_habit: float64 (N,), written.
    """
    for i in prange(stage.shape[0]):
        received = praise[i]
        h = habit[i]
        if posts[i] > 0:
            visibility = (1.0 + reputation[i] / recognition_saturation) ** reputation_feedback
            received += posts[i] * visibility * (attention_open + attention_dept[department[i]])
            h += habit_gain * (1.0 - h)
        else:
            h -= habit_decay * h
        rep = reputation[i] + reputation_decay * (received - reputation[i])
        s = stage[i]
        if is_active(s):
            s = CHAMPION if rep >= champion_reputation else CONTRIBUTOR
        out_stage[i] = s
        out_reputation[i] = rep
        out_habit[i] = h


@njit(cache=True, parallel=True)
def safety_update(indptr, indices, weak_ties, weak_count, mistake, safety, p, out_safety):
    """Blame erodes psychological safety; candour rebuilds it (002). Also a crisis's fear.

    A person observes their own public mistake (weight 1) and the share of contacts who erred
    (weight ``fear_contagion``): ``e = own + fear_contagion * seen``. A share ``blame_culture``
    of mistakes is blamed, destroying ``min(1, blame_impact * blame_culture * e)`` of safety;
    the rest are admitted with ``mistake_candour``, moving safety a share
    ``candour_repair * (1 - blame_culture) * mistake_candour * min(1, e)`` of the way to full safety.
    A crisis destroys ``crisis_loss`` more. Safety then drifts back towards ``initial_safety``
    at ``safety_recovery``.

    Args:
        indptr, indices: organisation graph (CSR); weak_ties, weak_count: grown ties.
        mistake: bool (N,), this week's public mistakes. safety: float64 (N,).
        p: :class:`SafetyParams`. out_safety: float64 (N,), written.
    """
    for i in prange(safety.shape[0]):
        contacts = 0
        erred = 0
        for k in range(indptr[i], indptr[i + 1]):
            contacts += 1
            if mistake[indices[k]]:
                erred += 1
        for k in range(weak_count[i]):
            contacts += 1
            if mistake[weak_ties[i, k]]:
                erred += 1
        seen = erred / contacts if contacts > 0 else 0.0
        events = (1.0 if mistake[i] else 0.0) + p.fear_contagion * seen
        s = safety[i]
        s -= min(1.0, p.blame_impact * p.blame_culture * events) * s
        s += p.candour_repair * (1.0 - p.blame_culture) * p.mistake_candour * min(1.0, events) * (1.0 - s)
        s -= min(1.0, p.crisis_loss) * s
        s += p.safety_recovery * (p.initial_safety - s)
        out_safety[i] = min(1.0, max(0.0, s))


@njit(cache=True)
def has_tie(indptr, indices, weak_ties, weak_count, i, j):
    """True if i and j are tied in the organisation graph or by a grown weak tie."""
    lo = indptr[i]
    hi = indptr[i + 1]
    while lo < hi:  # rows are sorted: binary search
        mid = (lo + hi) // 2
        if indices[mid] < j:
            lo = mid + 1
        else:
            hi = mid
    if lo < indptr[i + 1] and indices[lo] == j:
        return True
    for k in range(weak_count[i]):
        if weak_ties[i, k] == j:
            return True
    return False


@njit(cache=True)
def grow_weak_ties(indptr, indices, department, posts, contributors, tie_chance,
                   u_tie, u_target, weak_ties, weak_count):
    """Open, visible activity creates ties across departments ("connective", 002).

    Each employee who posted this week, with probability ``tie_chance``, finds someone picked
    uniformly from ``contributors`` (the model passes this week's posters); if that person is in
    another department, not yet tied and both have room, a tie forms in both directions. Serial
    on purpose: ties are appended in employee order, so the result does not depend on threads.
    Mutates ``weak_ties`` and ``weak_count`` in place.

    Args:
        indptr, indices: organisation graph (CSR). department: int32 (N,).
        posts: int64 (N,). contributors: int32 (C,), sorted ids of this week's contributors.
        tie_chance: float. u_tie, u_target: float64 (N,) uniforms.
        weak_ties: int32 (N, K), weak_count: int32 (N,), updated.

    Returns:
        The number of new ties.
    """
    capacity = weak_ties.shape[1]
    n_contrib = contributors.shape[0]
    formed = 0
    if capacity == 0 or n_contrib == 0:
        return 0
    for i in range(posts.shape[0]):
        if posts[i] <= 0 or u_tie[i] >= tie_chance:
            continue
        j = contributors[min(int(u_target[i] * n_contrib), n_contrib - 1)]
        if department[j] == department[i]:
            continue
        if weak_count[i] >= capacity or weak_count[j] >= capacity:
            continue
        if has_tie(indptr, indices, weak_ties, weak_count, i, j):
            continue
        weak_ties[i, weak_count[i]] = j
        weak_count[i] += 1
        weak_ties[j, weak_count[j]] = i
        weak_count[j] += 1
        formed += 1
    return formed


@njit(cache=True)
def drop_weak_ties(leavers, weak_ties, weak_count):
    """Remove every grown tie of the people who left (the ties were theirs, not their seat's).

    Serial, in the order of ``leavers``; each partner's list keeps its order (entries after the
    removed one shift left). Mutates ``weak_ties`` and ``weak_count`` in place.

    Args:
        leavers: int32 (L,), sorted ids. weak_ties: int32 (N, K). weak_count: int32 (N,).

    Returns:
        The number of ties removed.
    """
    removed = 0
    for a in range(leavers.shape[0]):
        i = leavers[a]
        for k in range(weak_count[i]):
            j = weak_ties[i, k]
            n = weak_count[j]
            pos = -1
            for q in range(n):
                if weak_ties[j, q] == i:
                    pos = q
                    break
            if pos >= 0:
                for q in range(pos, n - 1):
                    weak_ties[j, q] = weak_ties[j, q + 1]
                weak_ties[j, n - 1] = -1
                weak_count[j] = n - 1
            weak_ties[i, k] = -1
            removed += 1
        weak_count[i] = 0
    return removed


@njit(cache=True, parallel=True)
def productivity(department, cross_ties, stage, has_access, knowledge_density,
                 creative_gain, connective_gain, compounding_gain, value_saturation, connective_ties,
                 out_gain, out_reuse):
    """Productivity gain of each employee this week, as a share of an employee-week (002).

    Creative: contributors. Connective: users with ties into other departments (finding who
    knows what), saturating at ``connective_ties``. Compounding: users reusing the knowledge
    stock they can see.

    Args:
        department: int32 (N,). cross_ties: int32 (N,), ties into other departments.
        stage: int8 (N,). has_access: bool (N,). knowledge_density: float64 (D,).
        out_gain: float64 (N,), out_reuse: float64 (N,) (reuse intensity in [0, 1]), written.
    """
    for i in prange(stage.shape[0]):
        s = stage[i]
        gain = 0.0
        reuse = 0.0
        if has_access[i] and (s == READER or is_active(s)):
            reuse = saturating(knowledge_density[department[i]], value_saturation)
            gain = compounding_gain * reuse
            gain += connective_gain * saturating(cross_ties[i], connective_ties)
            if is_active(s):
                gain += creative_gain
        out_gain[i] = gain
        out_reuse[i] = reuse


@njit(cache=True, parallel=True)
def customer_step(contact_indptr, contact_indices, employee_active, aware, member, trust, baseline_trust,
                  sentiment, problem_age, friends, friend_members, friend_advocates, friend_detractors, p,
                  wkey, answered_age, public_answer, idea, peer_answer, changed):
    """One week of every customer (mechanisms 7 and 9; 000, 002, 003), in place.

    Awareness comes from broadcast marketing, from members among one's contacts (word of
    mouth) and from an active employee in contact (``contact_pull``). Aware customers join with
    a chance that grows with trust and with how well the community answers (a dead community
    attracts no one); a member who gives up on an unanswered problem leaves. Problems arrive at
    ``problem_rate``; members' problems are asked in public and answered by the community
    (``community_answer_chance``, already lowered by silos) or by classic support; others by
    support, or by the community when the company listens. A community answer is public: it
    is recorded in ``public_answer`` (the model credits the staff who gave it). Solved
    problems build trust (``answer_trust_gain``, ``public_answer_bonus`` times more when
    answered in public); problems waiting beyond ``patience`` erode it
    (``waiting_trust_loss``), and a customer gives up after ``give_up_factor`` patience
    periods. Detractors among one's contacts pull trust down, advocates up at
    ``advocate_pull``; public mistakes move the trust of aware customers by ``trust_shift``.
    Trust drifts back towards its baseline at ``trust_reversion``.

    What a customer's contacts are (members, advocates, detractors) is read from the counts
    ``friend_*``, which hold last week's state (the update is synchronous): the kernel writes
    only its own customer's entries, and :func:`update_friend_counts` then moves the counts of
    the contacts of those who changed. The random numbers are the counter-based streams
    ``AWARE`` .. ``PEER_ANSWER`` of :mod:`sim.rng`, computed only where a rule needs one (a
    draw is the same whether or not it is computed).

    Args:
        contact_indptr, contact_indices: customer -> employees in contact (CSR).
        employee_active: bool (N,).
        aware, member: bool (M,). trust, baseline_trust: float64 (M,). sentiment: int8 (M,).
        problem_age: int32 (M,), -1 when no problem is open. All updated in place.
        friends: int32 (M,), number of customer contacts. friend_members, friend_advocates,
            friend_detractors: int32 (M,), how many of them are members, advocates, detractors.
        p: :class:`CustomerParams`. wkey: the week's key (``sim.rng.week_key``).
        answered_age: int32 (M,), written: weeks the problem solved this week waited, -1 if
            none; public_answer, idea, peer_answer: bool (M,), written.
        changed: int8 (M,), written: 0 if membership and sentiment did not change, else
            ``1 + 3 * old_member + old_sentiment + 1``.
    """
    for c in prange(aware.shape[0]):
        degree = friends[c]
        a = aware[c]
        m = member[c]
        old_member = m
        old_sentiment = sentiment[c]
        t = trust[c] + p.trust_reversion * (baseline_trust[c] - trust[c])
        if p.community_open and not (a and m):
            contact = 0.0
            for k in range(contact_indptr[c], contact_indptr[c + 1]):
                if employee_active[contact_indices[k]]:
                    contact = p.contact_pull
                    break
            if not a:
                member_share = friend_members[c] / degree if degree > 0 else 0.0
                a = uniform(wkey, AWARE, c) < p.marketing_reach + p.word_of_mouth * member_share + contact
            else:
                m = uniform(wkey, JOIN, c) < p.join_rate * t * (p.community_answer_chance + contact)

        age = problem_age[c]
        answered = -1
        public = False
        if age < 0:
            if uniform(wkey, PROBLEM, c) < p.problem_rate:
                age = 0
        else:
            age += 1
            if m:
                community = p.community_answer_chance
            else:
                community = p.listening * p.community_answer_chance
            solve = 1.0 - (1.0 - p.support_answer_rate) * (1.0 - community)
            u_answer = uniform(wkey, ANSWER, c)
            if u_answer < solve:
                # u < community: the community answered (in public); else classic support did.
                public = u_answer < community
                gain = p.answer_trust_gain * (p.public_answer_bonus if public else 1.0)
                t += min(1.0, gain) * (1.0 - t)
                answered = age
                age = -1
            elif age > p.patience:
                t -= p.waiting_trust_loss * t
                if age > p.give_up_factor * p.patience:
                    age = -1
                    m = False  # gave up on the community too
        if degree > 0:
            t += p.detractor_influence * (p.advocate_pull * friend_advocates[c] - friend_detractors[c]) / degree
        if a:
            t += p.trust_shift
        t = min(1.0, max(0.0, t))
        if t >= p.advocate_trust and a:
            sent = ADVOCATE
        elif t <= p.detractor_trust:
            sent = DETRACTOR
        else:
            sent = NEUTRAL
        aware[c] = a
        member[c] = m
        trust[c] = t
        sentiment[c] = sent
        problem_age[c] = age
        answered_age[c] = answered
        public_answer[c] = public
        idea[c] = m and uniform(wkey, IDEA, c) < p.idea_rate * t
        peer_answer[c] = m and t >= p.advocate_trust and uniform(wkey, PEER_ANSWER, c) < p.peer_answer_rate
        changed[c] = 0 if (m == old_member and sent == old_sentiment) else 1 + 3 * old_member + old_sentiment + 1


@njit(cache=True)
def update_friend_counts(indptr, indices, member, sentiment, changed, friend_members, friend_advocates,
                         friend_detractors):
    """Move the contact counts of the contacts of every customer who changed (serial).

    The customer graph is undirected (``indices`` of ``c`` hold ``j`` exactly as often as those
    of ``j`` hold ``c``), so a change of ``c`` is one step in the count of each contact. Only the
    few who changed this week are visited: the week costs O(changes x degree), not O(ties).
    """
    for c in range(changed.shape[0]):
        code = changed[c]
        if code == 0:
            continue
        old_member = (code - 1) // 3
        old_sentiment = (code - 1) % 3 - 1
        d_member = int(member[c]) - old_member
        d_advocate = int(sentiment[c] == ADVOCATE) - int(old_sentiment == ADVOCATE)
        d_detractor = int(sentiment[c] == DETRACTOR) - int(old_sentiment == DETRACTOR)
        for k in range(indptr[c], indptr[c + 1]):
            j = indices[k]
            friend_members[j] += d_member
            friend_advocates[j] += d_advocate
            friend_detractors[j] += d_detractor
