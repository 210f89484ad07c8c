"""Numba kernels: every per-step interaction over the networks.

Each kernel is pure: arrays and scalars in, preallocated outputs written, nothing from Mesa or
pandas, and no random number generator. Random draws arrive as arrays of uniforms that the
model drew from its one seeded generator, one uniform per agent per stream, so a kernel's
result does not depend on how many threads run it. Updates are synchronous: a kernel reads
the state of week t and writes the state of week t + 1 into ``out_*`` arrays, so ``prange``
loops never read what another iteration writes. Sums over agents are left to the caller
(numpy, in a fixed order) because a parallel float reduction would depend on the thread
count.

Argument order everywhere: graph (``indptr, indices``), state arrays, parameters, random
draws, outputs. The plain-Python twin of every kernel, written as readable agent logic, is in
:mod:`sim.reference`; tests assert both give the same trajectories for the same draws.

Mechanisms and their sources (../shared/seeds): participation barriers and the network effect
(000, Hinchcliffe & Kim), purpose and "provide and pray" (001, Dent), fear, blame and acting
human (002), silos and customers (003, HBR/Darmano), leaders as role models (004).
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

# Fixed response sizes of the customer rules (documented in docs/MODEL.md, section Details).
ANSWER_TRUST_GAIN = 0.1  # share of the distance to full trust gained when a problem is solved
PUBLIC_ANSWER_BONUS = 1.5  # a public answer in the community counts this much more (003)
WAITING_TRUST_LOSS = 0.1  # share of trust lost per week a problem waits beyond patience
GIVE_UP_FACTOR = 4  # a customer abandons a problem after this many patience periods
ADVOCATE_PULL = 0.25  # an advocate pulls trust up a quarter as hard as a detractor pulls it down
CONTACT_PULL = 0.5  # chance-weight of an active contact employee in awareness and joining
CONNECTIVE_TIES = 3.0  # cross-silo ties at which the connective gain reaches 63%


class ParticipationParams(NamedTuple):
    """Levers of the employee participation rule (mechanisms 1-6), already switched.

    A mechanism that is switched off arrives here with its weight set to zero.
    """

    peer_weight: float
    role_model_weight: float
    boardroom_weight: float
    leader_participation: float
    purpose_weight: float
    network_value_weight: float
    value_saturation: float
    posting_friction: float
    fear_weight: float
    spontaneous_adoption: float
    launch_novelty: float
    novelty_half_life: float
    imitation: float
    reading_uptake: float
    lapse_rate: float
    lapse_margin: float
    relapse_penalty: float
    contribution_rate: float
    reputation_feedback: float
    reputation_decay: float
    champion_reputation: float
    mistake_rate: float


class CustomerParams(NamedTuple):
    """Levers of the customer rules (mechanisms 6, 7 and 9) for one week."""

    community_open: bool
    marketing_reach: float
    word_of_mouth: float
    join_rate: float
    problem_rate: float
    support_answer_rate: float
    community_answer_chance: float
    listening: float
    patience: int
    detractor_influence: float
    advocate_trust: float
    detractor_trust: float
    idea_rate: float
    peer_answer_rate: float
    trust_shift: float
    trust_reversion: float


@njit(cache=True, inline="always")
def is_active(stage):
    """True for the stages that contribute (contributor, champion)."""
    return stage == CONTRIBUTOR or stage == CHAMPION


@njit(cache=True, parallel=True)
def purpose_cascade(manager, is_executive, clarity, receptiveness,
                    purpose_strength, leader_commitment, cascade_rate,
                    out_clarity, out_alignment):
    """Purpose clarity built by the management team and passed down the hierarchy (001, 004).

    Executives move towards ``leader_commitment``; everyone else towards their manager's
    clarity of last week, diluted by ``0.5 + 0.5 * leader_commitment`` (an uncommitted
    manager passes on half of what they heard). Alignment is clarity times how compelling the
    purpose is times one's receptiveness.

    Args:
        manager: int32 (N,), manager index, -1 for the CEO.
        is_executive: bool (N,).
        clarity, receptiveness: float64 (N,).
        purpose_strength, leader_commitment, cascade_rate: floats in [0, 1].
        out_clarity, out_alignment: float64 (N,), written.
    """
    transmission = 0.5 + 0.5 * leader_commitment
    for i in prange(manager.shape[0]):
        if is_executive[i] or manager[i] < 0:
            target = leader_commitment
        else:
            target = transmission * clarity[manager[i]]
        c = clarity[i] + cascade_rate * (target - clarity[i])
        out_clarity[i] = c
        out_alignment[i] = purpose_strength * c * receptiveness[i]


@njit(cache=True, parallel=True)
def neighbour_exposure(indptr, indices, weak_ties, weak_count, stage, influence_weight,
                       out_exposure, out_active_neighbours):
    """Weighted share of each person's contacts who are active (complex contagion, Centola).

    Contacts are the organisation graph plus the weak ties grown so far. A contact's weight is
    ``influence_weight[j]`` (1, plus extra for informal leaders). Isolated people have
    exposure 0, so they never cross a positive threshold through peers.

    Args:
        indptr: int64 (N+1,), indices: int32 (nnz,): the organisation graph (CSR).
        weak_ties: int32 (N, K), weak_count: int32 (N,): grown ties, first ``weak_count[i]``
            entries of row i are valid.
        stage: int8 (N,).
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
            if is_active(stage[j]):
                active_weight += w
                active += 1
        for k in range(weak_count[i]):
            j = weak_ties[i, k]
            w = influence_weight[j]
            weight_sum += w
            if is_active(stage[j]):
                active_weight += w
                active += 1
        out_exposure[i] = active_weight / weight_sum if weight_sum > 0.0 else 0.0
        out_active_neighbours[i] = active


@njit(cache=True, inline="always")
def drive_of(i, stage, manager, department, alignment, safety, exposure, active_neighbours,
             knowledge_density, exec_active_share, p):
    """Motivation to contribute of employee ``i``: the sum of the mechanisms' pulls and pushes."""
    drive = p.peer_weight * exposure[i]
    m = manager[i]
    manager_active = 1.0 if (m >= 0 and is_active(stage[m])) else 0.0
    own_share = (1.0 - p.boardroom_weight) if m >= 0 else 0.0
    drive += p.role_model_weight * (own_share * manager_active + p.boardroom_weight * exec_active_share)
    drive += p.purpose_weight * alignment[i]
    value = 0.5 * (1.0 - math.exp(-active_neighbours[i] / p.value_saturation))
    value += 0.5 * (1.0 - math.exp(-knowledge_density[department[i]] / p.value_saturation))
    drive += p.network_value_weight * value
    drive -= p.posting_friction
    drive -= p.fear_weight * (1.0 - safety[i])
    return drive


@njit(cache=True, parallel=True)
def participation(stage, has_access, weeks_with_access, threshold, is_formal_leader, manager,
                  department, alignment, safety, reputation, exposure, active_neighbours,
                  knowledge_density, audience, exec_active_share, attention_norm, p,
                  u_adopt, u_read, u_lapse, u_post, u_mistake,
                  out_stage, out_posts, out_mistake, out_reputation):
    """One week of employee participation decisions (mechanisms 1-6).

    Someone with access who is not contributing starts when their drive reaches their
    personal threshold (the Watts rule when only peer influence is on), or tries it by chance
    with probability ``spontaneous_adoption + novelty + imitation * exposure`` (the Bass
    hazard; ``novelty`` is ``launch_novelty`` halving every ``novelty_half_life`` weeks after
    one gets access: the launch buzz). Formal
    leaders who walk the talk multiply their own bar by ``1 - leader_participation``; lapsed users
    face ``relapse_penalty`` more. A contributor lapses, with probability ``lapse_rate``,
    once their drive is more than ``lapse_margin`` below their bar. Contributors post
    ``contribution_rate * (1 + reputation) ** reputation_feedback`` items a week (slowed by
    friction), each of which can go wrong in public with ``mistake_rate``. Reputation fades and
    grows with posts times their audience, and readers' attention goes preferentially to the
    already recognised (weight ``(1 + reputation) ** reputation_feedback`` over its mean
    ``attention_norm``): the virtuous participation cycle (000), which makes participation
    unequal without anyone being told to.

    Args:
        stage: int8 (N,), has_access: bool (N,), weeks_with_access: int32 (N,),
        threshold: float64 (N,),
        is_formal_leader: bool (N,), manager: int32 (N,), department: int32 (N,),
        alignment, safety, reputation, exposure: float64 (N,), active_neighbours: int32 (N,).
        knowledge_density: float64 (D,), reusable knowledge per head visible in department d.
        audience: float64 (D,), share of colleagues who read a post from department d.
        exec_active_share: float, share of the executive team that is active.
        attention_norm: float, mean attention weight of last week's contributors (>0).
        p: :class:`ParticipationParams`.
        u_adopt, u_read, u_lapse, u_post, u_mistake: float64 (N,) uniforms in [0, 1).
        out_stage: int8 (N,), out_posts: int32 (N,), out_mistake: bool (N,),
        out_reputation: float64 (N,), written.
    """
    for i in prange(stage.shape[0]):
        s = stage[i]
        new = s
        if has_access[i]:
            drive = drive_of(i, stage, manager, department, alignment, safety, exposure,
                             active_neighbours, knowledge_density, exec_active_share, p)
            bar = threshold[i]
            if is_formal_leader[i]:
                bar *= 1.0 - p.leader_participation
            if s == LAPSED:
                bar += p.relapse_penalty
            if is_active(s):
                if drive < bar - p.lapse_margin and u_lapse[i] < p.lapse_rate:
                    new = LAPSED
            else:
                novelty = p.launch_novelty * 0.5 ** (weeks_with_access[i] / p.novelty_half_life)
                if drive >= bar or u_adopt[i] < p.spontaneous_adoption + novelty + p.imitation * exposure[i]:
                    new = CONTRIBUTOR
            if new == s and s == NON_USER and u_read[i] < p.reading_uptake:
                new = READER
        rep = reputation[i] * (1.0 - p.reputation_decay)
        posts = 0
        if is_active(new):
            recognition = (1.0 + reputation[i]) ** p.reputation_feedback
            rate = p.contribution_rate * recognition * (1.0 - 0.5 * p.posting_friction)
            posts = int(math.floor(rate + u_post[i]))
            rep += posts * audience[department[i]] * recognition / attention_norm
            new = CHAMPION if rep >= p.champion_reputation else CONTRIBUTOR
        mistake = False
        if posts > 0 and p.mistake_rate > 0.0:
            mistake = u_mistake[i] < 1.0 - (1.0 - p.mistake_rate) ** posts
        out_stage[i] = new
        out_posts[i] = posts
        out_mistake[i] = mistake
        out_reputation[i] = rep


@njit(cache=True, parallel=True)
def fear_spread(indptr, indices, weak_ties, weak_count, mistake, safety,
                blame_culture, fear_contagion, safety_recovery, initial_safety, mistake_candour,
                out_safety):
    """Blame dents the safety of the person who erred and of the colleagues who saw it (002).

    ``loss = blame_culture * (own mistake + fear_contagion * share of contacts who erred)``;
    safety shrinks by that share, then recovers towards ``initial_safety`` at
    ``safety_recovery * (1 - blame_culture * (1 - mistake_candour))``: where mistakes are
    admitted quickly (candour) or not punished, safety comes back.

    Args:
        indptr, indices: organisation graph (CSR); weak_ties, weak_count: grown ties.
        mistake: bool (N,), this week's public mistakes. safety: float64 (N,).
        out_safety: float64 (N,), written.
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
        own = 1.0 if mistake[i] else 0.0
        loss = min(1.0, blame_culture * (own + fear_contagion * seen))
        s = safety[i] * (1.0 - loss)
        if s < initial_safety:
            s += safety_recovery * (1.0 - blame_culture * (1.0 - mistake_candour)) * (initial_safety - s)
        out_safety[i] = s


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
    uniformly from ``contributors`` (the model passes this week's posters); if that person is in another department, not yet
    tied and both have room, a tie forms in both directions. Serial on purpose: ties are
    appended in employee order, so the result does not depend on threads. Mutates
    ``weak_ties`` and ``weak_count`` in place (they are an append-only store).

    Args:
        indptr, indices: organisation graph (CSR). department: int32 (N,).
        posts: int32 (N,). contributors: int32 (C,), sorted ids of this week's contributors.
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


@njit(cache=True, parallel=True)
def productivity(department, cross_ties, stage, has_access, knowledge_density,
                 creative_gain, connective_gain, compounding_gain, value_saturation,
                 out_gain, out_reuse):
    """Productivity gain of each employee this week, as a share of an employee-week (002).

    Creative: contributors. Connective: users with ties into other departments (finding who
    knows what). Compounding: users reusing the knowledge stock they can see.

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
            reuse = 1.0 - math.exp(-knowledge_density[department[i]] / value_saturation)
            gain = compounding_gain * reuse
            gain += connective_gain * (1.0 - math.exp(-cross_ties[i] / CONNECTIVE_TIES))
            if is_active(s):
                gain += creative_gain
        out_gain[i] = gain
        out_reuse[i] = reuse


@njit(cache=True, parallel=True)
def customer_step(indptr, indices, contact_indptr, contact_indices, employee_active,
                  aware, member, trust, baseline_trust, sentiment, problem_age, p,
                  u_aware, u_join, u_problem, u_answer, u_idea, u_peer,
                  out_aware, out_member, out_trust, out_sentiment, out_problem_age,
                  out_answered_age, out_idea, out_peer_answer):
    """One week of every customer (mechanisms 7 and 9; 000, 002, 003).

    Awareness comes from broadcast marketing, from members among one's contacts (word of
    mouth) and from an active employee in contact. Aware customers join with a chance that
    grows with trust and with how well the community answers (a dead community attracts no
    one); a member who gives up on an unanswered problem leaves. Problems arrive at ``problem_rate``; members' problems are asked in
    public and answered by the community (``community_answer_chance``, already lowered by
    silos) or by classic support; others by support, or by the community when the company
    listens. Solved problems build trust (public answers 1.5 times as much); problems waiting
    beyond ``patience`` erode it, and a customer gives up after four patience periods.
    Detractors among one's contacts pull trust down, advocates up at a quarter strength; public
    mistakes move the trust of aware customers by ``trust_shift``. Trust drifts back towards
    its baseline at ``trust_reversion`` (the rest of the relationship with the company).

    Args:
        indptr, indices: customer graph (CSR). contact_indptr, contact_indices: customer ->
            employees in contact (CSR). employee_active: bool (N,).
        aware, member: bool (M,). trust, baseline_trust: float64 (M,). sentiment: int8 (M,).
        problem_age: int32 (M,), -1 when no problem is open.
        p: :class:`CustomerParams`.
        u_aware, u_join, u_problem, u_answer, u_idea, u_peer: float64 (M,) uniforms.
        out_*: the next week's state (same dtypes), ``out_answered_age`` int32 (M,): weeks the
            problem solved this week waited, -1 if none; ``out_idea``, ``out_peer_answer``
            bool (M,).
    """
    for c in prange(aware.shape[0]):
        degree = indptr[c + 1] - indptr[c]
        members = 0
        advocates = 0
        detractors = 0
        for k in range(indptr[c], indptr[c + 1]):
            j = indices[k]
            if member[j]:
                members += 1
            if sentiment[j] == ADVOCATE:
                advocates += 1
            elif sentiment[j] == DETRACTOR:
                detractors += 1
        contact_active = False
        for k in range(contact_indptr[c], contact_indptr[c + 1]):
            if employee_active[contact_indices[k]]:
                contact_active = True
                break
        contact = CONTACT_PULL if contact_active else 0.0

        a = aware[c]
        m = member[c]
        t = trust[c] + p.trust_reversion * (baseline_trust[c] - trust[c])
        if p.community_open:
            if not a:
                member_share = members / degree if degree > 0 else 0.0
                a = u_aware[c] < p.marketing_reach + p.word_of_mouth * member_share + contact
            elif not m:
                m = u_join[c] < p.join_rate * t * (p.community_answer_chance + contact)

        age = problem_age[c]
        answered_age = -1
        if age < 0:
            if u_problem[c] < p.problem_rate:
                age = 0
        else:
            age += 1
            if m:
                community = p.community_answer_chance
            else:
                community = p.listening * p.community_answer_chance
            solve = 1.0 - (1.0 - p.support_answer_rate) * (1.0 - community)
            if u_answer[c] < solve:
                gain = ANSWER_TRUST_GAIN * (PUBLIC_ANSWER_BONUS if community > 0.0 and m else 1.0)
                t += min(1.0, gain) * (1.0 - t)
                answered_age = age
                age = -1
            elif age > p.patience:
                t -= WAITING_TRUST_LOSS * t
                if age > GIVE_UP_FACTOR * p.patience:
                    age = -1
                    m = False  # gave up on the community too
        if degree > 0:
            t += p.detractor_influence * (ADVOCATE_PULL * advocates - detractors) / degree
        if a:
            t += p.trust_shift
        t = min(1.0, max(0.0, t))
        if t >= p.advocate_trust and a:
            sent = ADVOCATE
        elif t <= p.detractor_trust:
            sent = DETRACTOR
        else:
            sent = NEUTRAL
        out_aware[c] = a
        out_member[c] = m
        out_trust[c] = t
        out_sentiment[c] = sent
        out_problem_age[c] = age
        out_answered_age[c] = answered_age
        out_idea[c] = m and u_idea[c] < p.idea_rate * t
        out_peer_answer[c] = m and t >= p.advocate_trust and u_peer[c] < p.peer_answer_rate
