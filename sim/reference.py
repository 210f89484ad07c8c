"""The plain-Python reference engine: the same rules as :mod:`sim.kernels`, written as agent logic.

This is what a teacher can put on a slide: one loop over people, one decision each, no numba.
Every function has the signature of its kernel twin and, with the same counter-based random
numbers (:mod:`sim.rng`, here in Python integers), writes the same outputs bit for bit
(tests/test_engines.py). It is also a baseline that ``socialsim bench`` measures the kernels
against.

Sources of each rule are given in :mod:`sim.kernels` and docs/MODEL.md.
"""

from __future__ import annotations

import math

from .kernels import (ADVOCATE, CHAMPION, CONTRIBUTOR, DETRACTOR, LAPSED, NEUTRAL, NON_USER, READER)
from .rng import AWARE, ANSWER, IDEA, JOIN, PEER_ANSWER, PROBLEM
from .rng import uniform_py as uniform


def _active(stage) -> bool:
    return stage == CONTRIBUTOR or stage == CHAMPION


def choice(margin, noise):
    """How likely someone is to act when acting is worth ``margin`` to them (logistic choice)."""
    if noise <= 0.0:
        return 1.0 if margin >= 0.0 else 0.0  # a strict threshold rule
    z = margin / noise
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def saturating(x, scale):
    """Grows from 0 and levels off: 63% at ``scale``."""
    return 1.0 - math.exp(-x / scale)


def _contacts(indptr, indices, weak_ties, weak_count, person):
    """Everyone a person is tied to: organisation graph first, then grown weak ties."""
    found = [int(j) for j in indices[indptr[person]:indptr[person + 1]]]
    found += [int(j) for j in weak_ties[person, :weak_count[person]]]
    return found


def purpose_cascade(manager, is_executive, clarity, receptiveness,
                    purpose_strength, leader_commitment, cascade_rate, transmission_floor,
                    out_clarity, out_alignment):
    """Each person hears the purpose from their manager (executives from the boardroom)."""
    passed_on = transmission_floor + (1.0 - transmission_floor) * leader_commitment
    for person in range(len(manager)):
        boss = manager[person]
        if is_executive[person] or boss < 0:
            heard = leader_commitment
        else:
            heard = passed_on * clarity[boss]
        my_clarity = clarity[person] + cascade_rate * (heard - clarity[person])
        out_clarity[person] = my_clarity
        out_alignment[person] = purpose_strength * my_clarity * receptiveness[person]


def neighbour_exposure(indptr, indices, weak_ties, weak_count, visible, influence_weight,
                       out_exposure, out_active_neighbours):
    """Each person looks at their contacts and sees who has been contributing lately."""
    for person in range(len(indptr) - 1):
        seen_weight = 0.0
        active_weight = 0.0
        active_contacts = 0
        for other in _contacts(indptr, indices, weak_ties, weak_count, person):
            seen_weight += influence_weight[other]
            if visible[other]:
                active_weight += influence_weight[other]
                active_contacts += 1
        out_exposure[person] = active_weight / seen_weight if seen_weight > 0.0 else 0.0
        out_active_neighbours[person] = active_contacts


def platform_value(active_neighbours, knowledge_density, p):
    """What the platform is worth to someone: active contacts and things worth reading."""
    people = saturating(active_neighbours, p.value_saturation)
    knowledge = saturating(knowledge_density, p.value_saturation)
    return p.value_people_share * people + (1.0 - p.value_people_share) * knowledge


def pulls(person, is_formal_leader, department, leader_signal, alignment, reputation, exposure,
          active_neighbours, knowledge_density, novelty, p):
    """Why a person would take part: peers, leaders, purpose, the platform's value, novelty,
    their own recognition, a crisis that rallies people, a leader's role."""
    from_peers = p.peer_weight * exposure[person]
    from_leaders = p.role_model_weight * leader_signal[person]
    from_purpose = p.purpose_weight * alignment[person]
    from_value = p.network_value_weight * platform_value(
        active_neighbours[person], knowledge_density[department[person]], p)
    from_novelty = p.launch_novelty * novelty
    rep = reputation[person]
    from_recognition = p.recognition_weight * rep / (rep + p.recognition_saturation)
    value = from_peers
    value += from_leaders
    value += from_purpose
    value += from_value
    value += from_novelty
    value += from_recognition
    value += p.rally
    if is_formal_leader[person]:
        value += p.leader_pull  # asked to walk the talk
    return value


def effort_of(person, threshold, habit, p):
    """How much of an effort posting is for this person; practice makes it easier."""
    return threshold[person] * (1.0 - p.habit_weight * habit[person])


def contributing_cost(person, effort, customer_facing, safety, p):
    """What posting costs them: effort (longer behind approval steps), fear, customers left waiting."""
    cost = effort * (1.0 + p.friction_cost)  # approval steps: every post takes longer
    cost += p.fear_weight * (1.0 - safety[person])
    if customer_facing[person]:
        cost += p.facing_failure  # public questions left unanswered
    return cost


def decide_contributing(stage, motivation, exposure, u_adopt, u_lapse, p):
    """Start, keep or stop contributing, given what it is worth to them (``motivation``)."""
    if _active(stage):
        if u_lapse < p.lapse_rate * choice(-motivation - p.lapse_margin, p.decision_noise):
            return LAPSED  # no longer worth it
        return stage
    relapse = p.relapse_penalty if stage == LAPSED else 0.0  # burnt once
    on_a_whim = min(1.0, p.spontaneous_adoption + p.imitation * exposure)
    start = 1.0 - (1.0 - on_a_whim) * (1.0 - choice(motivation - relapse, p.decision_noise))
    if u_adopt < start:
        return CONTRIBUTOR
    return stage


def participation(stage, has_access, weeks_with_access, threshold, propensity, writer, is_formal_leader,
                  customer_facing, department, leader_signal, alignment, safety, reputation, habit,
                  exposure, active_neighbours, knowledge_density, p,
                  u_adopt, u_read, u_lapse, u_react, u_post, u_mistake,
                  out_stage, out_posts, out_reacted, out_mistake):
    """Each employee decides whether to read, react, start, keep or stop contributing, and posts."""
    for person in range(len(stage)):
        now = stage[person]
        nxt = now
        posts = 0
        reacted = False
        erred = False
        if has_access[person]:
            novelty = 0.5 ** (weeks_with_access[person] / p.novelty_half_life)
            around = knowledge_density[department[person]]
            drawn = pulls(person, is_formal_leader, department, leader_signal, alignment, reputation,
                          exposure, active_neighbours, knowledge_density, novelty, p)
            effort = effort_of(person, threshold, habit, p)
            worth = drawn - contributing_cost(person, effort, customer_facing, safety, p)
            if writer[person]:  # some never mean to write, whatever the pulls
                nxt = decide_contributing(now, worth, exposure[person], u_adopt[person], u_lapse[person], p)
            if nxt == now and now in (NON_USER, READER):
                reading = choice(drawn - p.reading_effort * effort, p.decision_noise)  # a share of the effort
                if now == NON_USER and u_read[person] < p.reading_uptake * reading:
                    nxt = READER  # starts reading
                elif now == READER and u_read[person] < p.reading_lapse * (1.0 - reading):
                    nxt = NON_USER  # not worth even looking: stops
            if nxt == READER or _active(nxt):
                something_to_see = saturating(around, p.value_saturation)
                reacted = u_react[person] < choice(worth + p.reaction_ease, p.decision_noise) * something_to_see
            if _active(nxt):
                seen_first = (1.0 + reputation[person] / p.recognition_saturation) ** p.reputation_feedback
                rate = min(p.posting_budget, p.contribution_rate * propensity[person] * seen_first) * p.post_speed
                posts = int(math.floor(rate + u_post[person]))
                if posts > 0 and p.mistake_rate > 0.0:
                    erred = u_mistake[person] < 1.0 - (1.0 - p.mistake_rate) ** posts
        out_stage[person] = nxt
        out_posts[person] = posts
        out_reacted[person] = reacted
        out_mistake[person] = erred


def recognition(stage, posts, reputation, habit, department, praise, attention_open, attention_dept,
                reputation_feedback, recognition_saturation, reputation_decay, habit_gain, habit_decay,
                champion_reputation, out_stage, out_reputation, out_habit):
    """Readers' attention goes to this week's posts, the well known first; posting builds a habit."""
    for person in range(len(stage)):
        noticed = praise[person]  # customers thanked them for public answers
        routine = habit[person]
        if posts[person] > 0:
            seen_first = (1.0 + reputation[person] / recognition_saturation) ** reputation_feedback
            noticed += posts[person] * seen_first * (attention_open + attention_dept[department[person]])
            routine += habit_gain * (1.0 - routine)
        else:
            routine -= habit_decay * routine
        earned = reputation[person] + reputation_decay * (noticed - reputation[person])
        label = stage[person]
        if _active(label):
            label = CHAMPION if earned >= champion_reputation else CONTRIBUTOR
        out_stage[person] = label
        out_reputation[person] = earned
        out_habit[person] = routine


def safety_update(indptr, indices, weak_ties, weak_count, mistake, safety, p, out_safety):
    """Each person learns the culture from the mistakes they see: blamed ones frighten,
    admitted ones reassure; a crisis frightens where blame rules; memories fade."""
    for person in range(len(safety)):
        contacts = _contacts(indptr, indices, weak_ties, weak_count, person)
        erred = sum(1 for other in contacts if mistake[other])
        seen = erred / len(contacts) if contacts else 0.0
        events = (1.0 if mistake[person] else 0.0) + p.fear_contagion * seen
        feel = safety[person]
        feel -= min(1.0, p.blame_impact * p.blame_culture * events) * feel
        feel += p.candour_repair * (1.0 - p.blame_culture) * p.mistake_candour * min(1.0, events) * (1.0 - feel)
        feel -= min(1.0, p.crisis_loss) * feel
        feel += p.safety_recovery * (p.initial_safety - feel)
        out_safety[person] = min(1.0, max(0.0, feel))


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


def drop_weak_ties(leavers, weak_ties, weak_count):
    """Someone who leaves takes their personal ties with them."""
    removed = 0
    for person in leavers:
        for other in [int(j) for j in weak_ties[person, :weak_count[person]]]:
            theirs = [int(j) for j in weak_ties[other, :weak_count[other]]]
            if person in theirs:
                theirs.remove(person)
                weak_ties[other, :] = -1
                weak_ties[other, :len(theirs)] = theirs
                weak_count[other] = len(theirs)
            removed += 1
        weak_ties[person, :] = -1
        weak_count[person] = 0
    return removed


def productivity(department, cross_ties, stage, has_access, knowledge_density,
                 creative_gain, connective_gain, compounding_gain, value_saturation, connective_ties,
                 out_gain, out_reuse):
    """Each user gains from reusing knowledge and from cross-silo ties; contributors also create."""
    for person in range(len(stage)):
        gain = 0.0
        reuse = 0.0
        using = stage[person] == READER or _active(stage[person])
        if has_access[person] and using:
            reuse = saturating(knowledge_density[department[person]], value_saturation)
            gain = compounding_gain * reuse
            gain += connective_gain * saturating(cross_ties[person], connective_ties)
            if _active(stage[person]):
                gain += creative_gain
        out_gain[person] = gain
        out_reuse[person] = reuse


def customer_step(contact_indptr, contact_indices, employee_active, aware, member, trust, baseline_trust,
                  sentiment, problem_age, friends, friend_members, friend_advocates, friend_detractors, p,
                  wkey, answered_age, public_answer, idea, peer_answer, changed):
    """Each customer hears, joins, asks, waits or is answered, and trusts or turns against us."""
    for customer in range(len(aware)):
        def draw(stream):
            return uniform(wkey, stream, customer)

        knows = bool(aware[customer])
        joined = bool(member[customer])
        was_member, felt = joined, int(sentiment[customer])
        my_trust = trust[customer] + p.trust_reversion * (baseline_trust[customer] - trust[customer])
        if p.community_open and not (knows and joined):
            staff = contact_indices[contact_indptr[customer]:contact_indptr[customer + 1]]
            contact = p.contact_pull if any(employee_active[e] for e in staff) else 0.0
            if not knows:
                member_share = friend_members[customer] / friends[customer] if friends[customer] else 0.0
                knows = bool(draw(AWARE) < p.marketing_reach + p.word_of_mouth * member_share + contact)
            else:
                joined = bool(draw(JOIN) < p.join_rate * my_trust * (p.community_answer_chance + contact))

        waiting = int(problem_age[customer])
        answered_after = -1
        in_public = False
        if waiting < 0:
            if draw(PROBLEM) < p.problem_rate:
                waiting = 0
        else:
            waiting += 1
            community = p.community_answer_chance if joined else p.listening * p.community_answer_chance
            solve = 1.0 - (1.0 - p.support_answer_rate) * (1.0 - community)
            u_answer = draw(ANSWER)
            if u_answer < solve:
                in_public = bool(u_answer < community)  # the community answered, for all to see
                gain = p.answer_trust_gain * (p.public_answer_bonus if in_public else 1.0)
                my_trust += min(1.0, gain) * (1.0 - my_trust)
                answered_after = waiting
                waiting = -1
            elif waiting > p.patience:
                my_trust -= p.waiting_trust_loss * my_trust
                if waiting > p.give_up_factor * p.patience:
                    waiting = -1
                    joined = False  # gave up on the community too
        if friends[customer]:
            pull = p.advocate_pull * friend_advocates[customer] - friend_detractors[customer]
            my_trust += p.detractor_influence * pull / friends[customer]
        if knows:
            my_trust += p.trust_shift
        my_trust = min(1.0, max(0.0, my_trust))
        if my_trust >= p.advocate_trust and knows:
            feeling = ADVOCATE
        elif my_trust <= p.detractor_trust:
            feeling = DETRACTOR
        else:
            feeling = NEUTRAL
        aware[customer] = knows
        member[customer] = joined
        trust[customer] = my_trust
        sentiment[customer] = feeling
        problem_age[customer] = waiting
        answered_age[customer] = answered_after
        public_answer[customer] = in_public
        idea[customer] = joined and draw(IDEA) < p.idea_rate * my_trust
        peer_answer[customer] = joined and my_trust >= p.advocate_trust and draw(PEER_ANSWER) < p.peer_answer_rate
        changed[customer] = 0 if (joined, feeling) == (was_member, felt) else 1 + 3 * was_member + felt + 1


def update_friend_counts(indptr, indices, member, sentiment, changed, friend_members, friend_advocates,
                         friend_detractors):
    """Those whose membership or sentiment changed move the counts of each of their contacts."""
    for customer in range(len(changed)):
        if changed[customer] == 0:
            continue
        was_member, felt = divmod(int(changed[customer]) - 1, 3)
        felt -= 1
        for friend in indices[indptr[customer]:indptr[customer + 1]]:
            friend_members[friend] += int(member[customer]) - was_member
            friend_advocates[friend] += int(sentiment[customer] == ADVOCATE) - int(felt == ADVOCATE)
            friend_detractors[friend] += int(sentiment[customer] == DETRACTOR) - int(felt == DETRACTOR)
