"""The plain-Python reference engine: the same rules as :mod:`sim.kernels`, written as agent logic.

This is what a teacher can put on a slide: one loop over people, one decision each, no numba.
Every function has the signature of its kernel twin and, fed the same random draws, writes the
same outputs (tests/test_engines.py asserts identical stages and counts, floats equal to
rounding). It is also the baseline that ``socialsim bench`` measures the kernels against.

Sources of each rule are given in :mod:`sim.kernels` and docs/MODEL.md.
"""

from __future__ import annotations

import math

from .kernels import (
    ADVOCATE, ADVOCATE_PULL, ANSWER_TRUST_GAIN, CHAMPION, CONNECTIVE_TIES, CONTACT_PULL, CONTRIBUTOR,
    DETRACTOR, GIVE_UP_FACTOR, LAPSED, NEUTRAL, NON_USER, PUBLIC_ANSWER_BONUS, READER,
    WAITING_TRUST_LOSS,
)


def _active(stage) -> bool:
    return stage == CONTRIBUTOR or stage == CHAMPION


def _contacts(indptr, indices, weak_ties, weak_count, person):
    """Everyone a person is tied to: organisation graph first, then grown weak ties."""
    found = [int(j) for j in indices[indptr[person]:indptr[person + 1]]]
    found += [int(j) for j in weak_ties[person, :weak_count[person]]]
    return found


def purpose_cascade(manager, is_executive, clarity, receptiveness,
                    purpose_strength, leader_commitment, cascade_rate,
                    out_clarity, out_alignment):
    """Each person hears the purpose from their manager (executives from the boardroom)."""
    passed_on = 0.5 + 0.5 * leader_commitment
    for person in range(len(manager)):
        boss = manager[person]
        if is_executive[person] or boss < 0:
            heard = leader_commitment
        else:
            heard = passed_on * clarity[boss]
        my_clarity = clarity[person] + cascade_rate * (heard - clarity[person])
        out_clarity[person] = my_clarity
        out_alignment[person] = purpose_strength * my_clarity * receptiveness[person]


def neighbour_exposure(indptr, indices, weak_ties, weak_count, stage, influence_weight,
                       out_exposure, out_active_neighbours):
    """Each person looks at their contacts and sees who is active."""
    for person in range(len(indptr) - 1):
        seen_weight = 0.0
        active_weight = 0.0
        active_contacts = 0
        for other in _contacts(indptr, indices, weak_ties, weak_count, person):
            seen_weight += influence_weight[other]
            if _active(stage[other]):
                active_weight += influence_weight[other]
                active_contacts += 1
        out_exposure[person] = active_weight / seen_weight if seen_weight > 0.0 else 0.0
        out_active_neighbours[person] = active_contacts


def motivation(person, stage, manager, department, alignment, safety, exposure,
               active_neighbours, knowledge_density, exec_active_share, p):
    """Why a person would post: peers, their leaders, the purpose, the platform's value,
    minus friction and fear."""
    from_peers = p.peer_weight * exposure[person]
    boss = manager[person]
    boss_posts = 1.0 if (boss >= 0 and _active(stage[boss])) else 0.0
    boss_share = (1.0 - p.boardroom_weight) if boss >= 0 else 0.0
    from_leaders = p.role_model_weight * (boss_share * boss_posts + p.boardroom_weight * exec_active_share)
    from_purpose = p.purpose_weight * alignment[person]
    value = 0.5 * (1.0 - math.exp(-active_neighbours[person] / p.value_saturation))
    value += 0.5 * (1.0 - math.exp(-knowledge_density[department[person]] / p.value_saturation))
    from_value = p.network_value_weight * value
    drive = from_peers
    drive += from_leaders
    drive += from_purpose
    drive += from_value
    drive -= p.posting_friction
    drive -= p.fear_weight * (1.0 - safety[person])
    return drive


def participation(stage, has_access, weeks_with_access, threshold, is_formal_leader, manager,
                  department, alignment, safety, reputation, exposure, active_neighbours,
                  knowledge_density, audience, exec_active_share, attention_norm, p,
                  u_adopt, u_read, u_lapse, u_post, u_mistake,
                  out_stage, out_posts, out_mistake, out_reputation):
    """Each employee decides whether to read, start, keep or stop contributing, and posts."""
    for person in range(len(stage)):
        now = stage[person]
        nxt = now
        if has_access[person]:
            drive = motivation(person, stage, manager, department, alignment, safety, exposure,
                               active_neighbours, knowledge_density, exec_active_share, p)
            bar = threshold[person]
            if is_formal_leader[person]:
                bar *= 1.0 - p.leader_participation  # walking the talk
            if now == LAPSED:
                bar += p.relapse_penalty  # burnt once, harder to win back
            if _active(now):
                if drive < bar - p.lapse_margin and u_lapse[person] < p.lapse_rate:
                    nxt = LAPSED
            else:
                buzz = p.launch_novelty * 0.5 ** (weeks_with_access[person] / p.novelty_half_life)
                tries = u_adopt[person] < p.spontaneous_adoption + buzz + p.imitation * exposure[person]
                if drive >= bar or tries:
                    nxt = CONTRIBUTOR
            if nxt == now == NON_USER and u_read[person] < p.reading_uptake:
                nxt = READER  # curiosity: starts reading
        reputation_now = reputation[person] * (1.0 - p.reputation_decay)
        posts = 0
        if _active(nxt):
            recognition = (1.0 + reputation[person]) ** p.reputation_feedback
            rate = p.contribution_rate * recognition * (1.0 - 0.5 * p.posting_friction)
            posts = int(math.floor(rate + u_post[person]))
            # readers' attention goes preferentially to the already recognised
            reputation_now += posts * audience[department[person]] * recognition / attention_norm
            nxt = CHAMPION if reputation_now >= p.champion_reputation else CONTRIBUTOR
        erred = False
        if posts > 0 and p.mistake_rate > 0.0:
            erred = u_mistake[person] < 1.0 - (1.0 - p.mistake_rate) ** posts
        out_stage[person] = nxt
        out_posts[person] = posts
        out_mistake[person] = erred
        out_reputation[person] = reputation_now


def fear_spread(indptr, indices, weak_ties, weak_count, mistake, safety,
                blame_culture, fear_contagion, safety_recovery, initial_safety, mistake_candour,
                out_safety):
    """Each person's safety suffers from their own blamed mistake and from seeing colleagues blamed."""
    for person in range(len(safety)):
        contacts = _contacts(indptr, indices, weak_ties, weak_count, person)
        erred = sum(1 for other in contacts if mistake[other])
        seen = erred / len(contacts) if contacts else 0.0
        own = 1.0 if mistake[person] else 0.0
        loss = min(1.0, blame_culture * (own + fear_contagion * seen))
        feel = safety[person] * (1.0 - loss)
        if feel < initial_safety:
            # admitting mistakes quickly lets safety come back even where blame is common
            feel += safety_recovery * (1.0 - blame_culture * (1.0 - mistake_candour)) * (initial_safety - feel)
        out_safety[person] = feel


def has_tie(indptr, indices, weak_ties, weak_count, i, j):
    """True if i and j already know each other."""
    return j in _contacts(indptr, indices, weak_ties, weak_count, i)


def grow_weak_ties(indptr, indices, department, posts, contributors, tie_chance,
                   u_tie, u_target, weak_ties, weak_count):
    """People who post in the open get found by contributors in other departments."""
    capacity = weak_ties.shape[1]
    if capacity == 0 or len(contributors) == 0:
        return 0
    formed = 0
    for person in range(len(posts)):
        if posts[person] <= 0 or u_tie[person] >= tie_chance:
            continue
        other = int(contributors[min(int(u_target[person] * len(contributors)), len(contributors) - 1)])
        if department[other] == department[person]:
            continue
        if weak_count[person] >= capacity or weak_count[other] >= capacity:
            continue
        if has_tie(indptr, indices, weak_ties, weak_count, person, other):
            continue
        weak_ties[person, weak_count[person]] = other
        weak_count[person] += 1
        weak_ties[other, weak_count[other]] = person
        weak_count[other] += 1
        formed += 1
    return formed


def productivity(department, cross_ties, stage, has_access, knowledge_density,
                 creative_gain, connective_gain, compounding_gain, value_saturation,
                 out_gain, out_reuse):
    """Each user gains from reusing knowledge and from cross-silo ties; contributors also create."""
    for person in range(len(stage)):
        gain = 0.0
        reuse = 0.0
        using = stage[person] == READER or _active(stage[person])
        if has_access[person] and using:
            reuse = 1.0 - math.exp(-knowledge_density[department[person]] / value_saturation)
            gain = compounding_gain * reuse
            gain += connective_gain * (1.0 - math.exp(-cross_ties[person] / CONNECTIVE_TIES))
            if _active(stage[person]):
                gain += creative_gain
        out_gain[person] = gain
        out_reuse[person] = reuse


def customer_step(indptr, indices, contact_indptr, contact_indices, employee_active,
                  aware, member, trust, baseline_trust, sentiment, problem_age, p,
                  u_aware, u_join, u_problem, u_answer, u_idea, u_peer,
                  out_aware, out_member, out_trust, out_sentiment, out_problem_age,
                  out_answered_age, out_idea, out_peer_answer):
    """Each customer hears, joins, asks, waits or is answered, and trusts or turns against us."""
    for customer in range(len(aware)):
        friends = [int(j) for j in indices[indptr[customer]:indptr[customer + 1]]]
        members = sum(1 for f in friends if member[f])
        advocates = sum(1 for f in friends if sentiment[f] == ADVOCATE)
        detractors = sum(1 for f in friends if sentiment[f] == DETRACTOR)
        staff = contact_indices[contact_indptr[customer]:contact_indptr[customer + 1]]
        contact = CONTACT_PULL if any(employee_active[e] for e in staff) else 0.0

        knows = bool(aware[customer])
        joined = bool(member[customer])
        my_trust = trust[customer] + p.trust_reversion * (baseline_trust[customer] - trust[customer])
        if p.community_open:
            if not knows:
                member_share = members / len(friends) if friends else 0.0
                knows = bool(u_aware[customer] < p.marketing_reach + p.word_of_mouth * member_share + contact)
            elif not joined:
                joined = bool(u_join[customer] < p.join_rate * my_trust * (p.community_answer_chance + contact))

        waiting = int(problem_age[customer])
        answered_after = -1
        if waiting < 0:
            if u_problem[customer] < p.problem_rate:
                waiting = 0
        else:
            waiting += 1
            community = p.community_answer_chance if joined else p.listening * p.community_answer_chance
            solve = 1.0 - (1.0 - p.support_answer_rate) * (1.0 - community)
            if u_answer[customer] < solve:
                gain = ANSWER_TRUST_GAIN * (PUBLIC_ANSWER_BONUS if community > 0.0 and joined else 1.0)
                my_trust += min(1.0, gain) * (1.0 - my_trust)
                answered_after = waiting
                waiting = -1
            elif waiting > p.patience:
                my_trust -= WAITING_TRUST_LOSS * my_trust
                if waiting > GIVE_UP_FACTOR * p.patience:
                    waiting = -1
                    joined = False  # gave up on the community too
        if friends:
            my_trust += p.detractor_influence * (ADVOCATE_PULL * advocates - detractors) / len(friends)
        if knows:
            my_trust += p.trust_shift
        my_trust = min(1.0, max(0.0, my_trust))
        if my_trust >= p.advocate_trust and knows:
            feeling = ADVOCATE
        elif my_trust <= p.detractor_trust:
            feeling = DETRACTOR
        else:
            feeling = NEUTRAL
        out_aware[customer] = knows
        out_member[customer] = joined
        out_trust[customer] = my_trust
        out_sentiment[customer] = feeling
        out_problem_age[customer] = waiting
        out_answered_age[customer] = answered_after
        out_idea[customer] = joined and u_idea[customer] < p.idea_rate * my_trust
        out_peer_answer[customer] = joined and my_trust >= p.advocate_trust and u_peer[customer] < p.peer_answer_rate
