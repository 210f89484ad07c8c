"""Numba kernels of the customer world: customers hear, join, ask, wait, are answered, and
trust or turn against the company (mechanisms 7 and 9; seeds 000, 002, 003).

Silos and the customer community follow the HBR/Darmano article (003): a community that
answers in public builds trust and advocates, questions left waiting erode it, and what one's
contacts feel spreads by word of mouth; public mistakes move trust with candour or
defensiveness (002). The plain-Python twins are in :mod:`sim.reference`; the week that calls
them is :mod:`sim.week` (``customer_week``).
"""

from __future__ import annotations

from typing import NamedTuple

from numba import njit, prange

from .kernels import ADVOCATE, DETRACTOR, NEUTRAL
from .rng import ANSWER, AWARE, IDEA, JOIN, PEER_ANSWER, PROBLEM, uniform


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
