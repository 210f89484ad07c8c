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

The customers' kernels are in :mod:`sim.customers`; the dedicated threshold cascade of
:mod:`sim.classic`, which decides with this module's participation rule, in :mod:`sim.cascade`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from numba import njit, prange


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


@njit(cache=True, parallel=True)
def participation(stage, has_access, weeks_with_access, threshold, propensity, writer, is_formal_leader,
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

    - whether someone starts, keeps or stops contributing is :func:`decide_contributing` (for a
      ``writer``; the others, lurkers by disposition, never start): one
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
        threshold, propensity: float64 (N,), writer: bool (N,) (who would ever write; the others
        never start contributing), is_formal_leader, customer_facing: bool (N,),
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
            if writer[i]:  # a lurker by disposition never starts contributing (5.3.2)
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
