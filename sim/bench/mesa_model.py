"""The model's rules as a Mesa user would write them: agents as objects, networkx neighbours, ``shuffle_do``.

This is a baseline for ``socialsim bench`` (issue 8: ">= 1000x the plain Mesa object model at
10k agents"), not a second engine of the model. It re-implements, from the model's documented
rules (docs/MODEL.md, :mod:`sim.reference`), one week of model v2 the way the Mesa tutorials
teach: every employee and every customer is a ``mesa.Agent`` holding its own state as
attributes, its contacts are agent objects read from a ``networkx`` graph of the same
organisation and market (built from the CSR arrays of a :class:`sim.SocialBusinessModel` of
the same scenario and seed), random numbers come from the model's ``random.Random``
(``self.random``), a week is a sequence of ``AgentSet.shuffle_do`` calls, and the outputs go
through a ``mesa.DataCollector``. Updates are synchronous like the model's: each phase reads
what the previous phase (or last week) left and writes only the acting agent's own
attributes, or ``next_*`` attributes committed in a second phase.

Per employee and week (same order as :meth:`sim.SocialBusinessModel.step`): turnover (leave,
a newcomer takes the seat), rollout waves; purpose heard from one's manager (two phases);
looking around: the weighted share of contacts (organisation ties and grown weak ties) seen
posting lately, the number of them, and the hierarchy signal (top-down, bottom-up or
middle-out); the participation choice with its pulls (peers, leaders, purpose, platform
value, novelty, recognition, a leader's role) and costs (effort lowered by habit and raised
by friction, fear, questions left waiting), reading, reacting, posting within the time
budget and mistakes; attention shared out among the week's posts (model-level sums per
department), reputation, habit and champions; safety with blame and candour from the
mistakes seen; weak ties found by posters; productivity. Per customer: hearing (marketing,
word of mouth, an active employee in contact), joining, problems asked, waiting, answered
(by the community in public or by support), trust with reversion, friends' sentiment and
staff mistakes, sentiment, ideas and peer answers (two phases). Model level: knowledge
stock, community answer chance, praise for staff, unanswered share, listening, cost and
value.

What it leaves out: scheduled shocks (crisis, viral mistake, leader leaves, compliance
clampdown; :class:`MesaObjectModel` refuses a scenario with shocks, and the benchmark's
scenarios have none), so the crisis rally and crisis fear are zero as in the numba model
without shocks; and most of the ~40 recorded series (its DataCollector records 16). It does
not reproduce the numba run number for number: the random streams differ (one
``random.Random`` drawn in agent order, only where a rule needs a draw). It does the same
work per agent, and its shares track the numba model's (``compare_shares``).
"""

from __future__ import annotations

import math
from typing import Any

import mesa
import networkx as nx
import numpy as np

# Stage and sentiment codes of this baseline (same meaning as the model's; own constants so
# that this file depends only on the public model API).
NON_USER, READER, CONTRIBUTOR, CHAMPION, LAPSED = 0, 1, 2, 3, 4
DETRACTOR, NEUTRAL, ADVOCATE = -1, 0, 1
NEVER = -(10**6)


def choice(margin: float, noise: float) -> float:
    """Logistic choice: the chance to act when acting is worth ``margin``."""
    if noise <= 0.0:
        return 1.0 if margin >= 0.0 else 0.0
    z = margin / noise
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def saturating(x: float, scale: float) -> float:
    return 1.0 - math.exp(-x / scale)


def _active(stage: int) -> bool:
    return stage == CONTRIBUTOR or stage == CHAMPION


def csr_graph(indptr: np.ndarray, indices: np.ndarray, n: int | None = None) -> nx.Graph:
    """An undirected networkx graph with the ties of a symmetric CSR."""
    n = int(indptr.size - 1) if n is None else n
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    src = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    graph.add_edges_from(zip(src.tolist(), indices.tolist()))
    return graph


class Week:
    """This week's parameters in force (attribute access, as a Mesa user would keep them)."""

    def __init__(self, **values: Any):
        self.__dict__.update(values)


class Employee(mesa.Agent):
    """One employee (or leader): their person, their seat, their contacts."""

    def __init__(self, model: "MesaObjectModel", row: int, department: int, is_executive: bool,
                 is_manager: bool, is_informal_leader: bool, customer_facing: bool):
        super().__init__(model)
        c = model.config
        self.row = row
        self.department = department
        self.is_executive = is_executive
        self.is_middle_manager = is_manager and not is_executive
        self.is_formal_leader = is_manager or is_executive
        self.customer_facing = customer_facing
        self.influence = 1.0 + c.informal_leader_weight * is_informal_leader * c.use_role_models
        self.boss: Employee | None = None
        self.reports: list[Employee] = []
        self.contacts: list[Employee] = []  # organisation ties (from the networkx graph)
        self.contact_set: set[Employee] = set()
        self.weak_ties: list[Employee] = []  # grown across departments
        self.base_cross_ties = 0
        self.has_access = False
        self.new_person()

    # ---------------------------------------------------------------- the person
    def new_person(self) -> None:
        """Fresh personal draws and no history (at the start, and for a newcomer)."""
        c, r = self.model.config, self.random
        self.threshold = c.workforce_effort * min(max(r.gauss(c.threshold_mean, c.threshold_sd), 0.0),
                                                  c.threshold_cap)
        self.receptiveness = r.uniform(c.receptiveness_min, 1.0)
        sigma = c.propensity_spread
        self.propensity = r.lognormvariate(-0.5 * sigma * sigma, sigma)
        self.early_adopter = self.threshold <= self.model.early_cutoff
        self.stage = NON_USER
        self.weeks_with_access = 0
        self.clarity = self.next_clarity = self.alignment = 0.0
        self.safety = c.initial_safety
        self.reputation = self.habit = 0.0
        self.contributions = 0
        self.posts = 0
        self.reacted = self.mistake = False
        self.praise = self.productivity = self.reuse = 0.0
        self.exposure = self.leader_signal = 0.0
        self.active_neighbours = 0
        self.last_view = self.last_react = self.last_post = NEVER
        self.visible = False  # posted within the visibility window (what others see)

    def maybe_leave(self) -> None:
        """Turnover: with ``turnover_rate`` the person leaves; a newcomer takes the seat."""
        m = self.model
        if self.random.random() >= m.config.turnover_rate:
            return
        for other in self.weak_ties:  # their personal ties leave with them
            other.weak_ties.remove(self)
        self.weak_ties = []
        if self.last_view >= 1:
            m.departed.append(self.contributions)
        self.new_person()
        m.leavers += 1

    # ---------------------------------------------------------------- what people see
    def hear_purpose(self) -> None:
        """Clarity from one's manager's clarity of last week (executives: the boardroom)."""
        m, c = self.model, self.model.config
        if self.is_executive or self.boss is None:
            heard = m.levers["leader_commitment"]
        else:
            heard = m.week_params.passed_on * self.boss.clarity
        self.next_clarity = self.clarity + c.purpose_cascade_rate * (heard - self.clarity)

    def look_around(self) -> None:
        """Who among my contacts has been posting lately; what my leaders show."""
        m, c = self.model, self.model.config
        if c.use_purpose:
            self.clarity = self.next_clarity
            self.alignment = m.levers["purpose_strength"] * self.clarity * self.receptiveness
        seen = active_weight = 0.0
        active = 0
        for other in self.contacts:
            seen += other.influence
            if other.visible:
                active_weight += other.influence
                active += 1
        for other in self.weak_ties:
            seen += other.influence
            if other.visible:
                active_weight += other.influence
                active += 1
        self.exposure = active_weight / seen if seen > 0.0 else 0.0
        self.active_neighbours = active
        mode = c.hierarchy_influence
        if mode == "top_down":
            bw = c.boardroom_weight
            signal = bw * m.exec_share
            if self.boss is not None:
                signal += (1.0 - bw) * self.boss.visible
        elif mode == "bottom_up":
            signal = sum(r.visible for r in self.reports) / len(self.reports) if self.reports else 0.0
        else:  # middle_out
            signal = 0.0
            if self.boss is not None and self.boss.is_middle_manager:
                signal = float(self.boss.visible)
            if self.is_executive:
                middle = [r for r in self.reports if r.is_middle_manager]
                signal = sum(r.visible for r in middle) / len(middle) if middle else 0.0
        self.leader_signal = signal

    # ---------------------------------------------------------------- the choice
    def decide(self) -> None:
        """Read, react, start, keep or stop contributing; post within the time budget."""
        m = self.model
        p = m.week_params
        now = self.stage
        nxt = now
        posts = 0
        reacted = erred = False
        if self.has_access:
            novelty = 0.5 ** (self.weeks_with_access / p.novelty_half_life)
            around = m.density[self.department]
            rep = self.reputation
            people = saturating(self.active_neighbours, p.value_saturation)
            knowledge = saturating(around, p.value_saturation)
            drawn = (p.peer_weight * self.exposure + p.role_model_weight * self.leader_signal
                     + p.purpose_weight * self.alignment
                     + p.network_value_weight * (p.value_people_share * people
                                                 + (1.0 - p.value_people_share) * knowledge)
                     + p.launch_novelty * novelty + p.recognition_weight * rep / (rep + p.recognition_saturation)
                     + p.rally)
            if self.is_formal_leader:
                drawn += p.leader_pull
            effort = self.threshold * (1.0 - p.habit_weight * self.habit)
            cost = effort * (1.0 + p.friction_cost) + p.fear_weight * (1.0 - self.safety)
            if self.customer_facing:
                cost += p.facing_failure
            worth = drawn - cost
            if _active(now):
                if self.random.random() < p.lapse_rate * choice(-worth - p.lapse_margin, p.decision_noise):
                    nxt = LAPSED
            else:
                relapse = p.relapse_penalty if now == LAPSED else 0.0
                whim = min(1.0, p.spontaneous_adoption + p.imitation * self.exposure)
                start = 1.0 - (1.0 - whim) * (1.0 - choice(worth - relapse, p.decision_noise))
                if self.random.random() < start:
                    nxt = CONTRIBUTOR
            if nxt == now and (now == NON_USER or now == READER):
                reading = choice(drawn - p.reading_effort * effort, p.decision_noise)
                if now == NON_USER and self.random.random() < p.reading_uptake * reading:
                    nxt = READER
                elif now == READER and self.random.random() < p.reading_lapse * (1.0 - reading):
                    nxt = NON_USER
            if nxt == READER or _active(nxt):
                reacted = self.random.random() < (choice(worth + p.reaction_ease, p.decision_noise)
                                                  * saturating(around, p.value_saturation))
            if _active(nxt):
                seen_first = (1.0 + rep / p.recognition_saturation) ** p.reputation_feedback
                rate = min(p.posting_budget, p.contribution_rate * self.propensity * seen_first) * p.post_speed
                posts = int(math.floor(rate + self.random.random()))
                if posts > 0 and p.mistake_rate > 0.0:
                    erred = self.random.random() < 1.0 - (1.0 - p.mistake_rate) ** posts
            self.weeks_with_access += 1
        self.stage = nxt
        self.posts = posts
        self.reacted = reacted
        self.mistake = erred

    def get_recognised(self) -> None:
        """The attention my posts received; my reputation, habit and label; when I last did what."""
        m, c = self.model, self.model.config
        noticed = self.praise
        if self.posts > 0:
            seen_first = (1.0 + self.reputation / c.recognition_saturation) ** m.week_params.reputation_feedback
            noticed += self.posts * seen_first * (m.attention_open + m.attention_dept[self.department])
            self.habit += c.habit_gain * (1.0 - self.habit)
        else:
            self.habit -= c.habit_decay * self.habit
        self.reputation += c.reputation_decay * (noticed - self.reputation)
        if _active(self.stage):
            self.stage = CHAMPION if self.reputation >= c.champion_reputation else CONTRIBUTOR
        self.praise = 0.0
        self.contributions += self.posts
        row = m.week + 1
        if self.has_access and (self.stage == READER or _active(self.stage)):
            self.last_view = row
        if self.reacted:
            self.last_react = row
        if self.posts > 0:
            self.last_post = row
        self.visible = self.has_access and self.last_post > row - c.visibility_window

    def feel_safe(self) -> None:
        """Blamed mistakes seen around me frighten; admitted ones reassure; it fades."""
        m, c, lv = self.model, self.model.config, self.model.levers
        contacts = len(self.contacts) + len(self.weak_ties)
        erred = sum(1 for o in self.contacts if o.mistake) + sum(1 for o in self.weak_ties if o.mistake)
        seen = erred / contacts if contacts else 0.0
        events = (1.0 if self.mistake else 0.0) + c.fear_contagion * seen
        blame, candour = lv["blame_culture"], lv["mistake_candour"]
        feel = self.safety
        feel -= min(1.0, c.blame_impact * blame * events) * feel
        feel += c.candour_repair * (1.0 - blame) * candour * min(1.0, events) * (1.0 - feel)
        feel -= min(1.0, m.week_params.crisis_loss) * feel
        feel += c.safety_recovery * (c.initial_safety - feel)
        self.safety = min(1.0, max(0.0, feel))

    def find_tie(self, posters: list["Employee"], chance: float, capacity: int) -> None:
        """Posting in the open: maybe find a fellow poster in another department."""
        if self.random.random() >= chance:
            return
        other = posters[min(int(self.random.random() * len(posters)), len(posters) - 1)]
        if other.department == self.department:
            return
        if len(self.weak_ties) >= capacity or len(other.weak_ties) >= capacity:
            return
        if other in self.contact_set or other in self.weak_ties:
            return
        self.weak_ties.append(other)
        other.weak_ties.append(self)
        self.model.weak_ties_formed += 1

    def work(self) -> None:
        """This week's productivity gain: reuse, cross-silo ties, creating."""
        m, c = self.model, self.model.config
        gain = reuse = 0.0
        if self.has_access and (self.stage == READER or _active(self.stage)):
            reuse = saturating(m.density[self.department], c.value_saturation)
            gain = c.compounding_gain * reuse
            gain += c.connective_gain * saturating(self.base_cross_ties + len(self.weak_ties), c.connective_ties)
            if _active(self.stage):
                gain += c.creative_gain
        self.productivity = gain
        self.reuse = reuse


class Customer(mesa.Agent):
    """One customer: friends, the staff they know, awareness, membership, trust, a problem."""

    def __init__(self, model: "MesaObjectModel", row: int, trust: float):
        super().__init__(model)
        c = model.config
        self.row = row
        self.friends: list[Customer] = []
        self.staff: list[Employee] = []
        self.aware = self.member = False
        self.trust = self.baseline_trust = trust
        self.sentiment = DETRACTOR if trust <= c.detractor_trust else NEUTRAL
        self.problem_age = -1
        self.answered_age = -1
        self.public_answer = self.idea = self.peer_answer = False
        self.ideas = self.answers = 0

    def decide(self) -> None:
        """Hear, join, ask, wait or be answered; trust and sentiment (into ``next_*``)."""
        p = self.model.customer_params
        friends = self.friends
        members = advocates = detractors = 0
        for f in friends:
            if f.member:
                members += 1
            if f.sentiment == ADVOCATE:
                advocates += 1
            elif f.sentiment == DETRACTOR:
                detractors += 1
        contact = p.contact_pull if any(e.visible for e in self.staff) else 0.0
        knows, joined = self.aware, self.member
        trust = self.trust + p.trust_reversion * (self.baseline_trust - self.trust)
        if p.community_open:
            if not knows:
                share = members / len(friends) if friends else 0.0
                knows = self.random.random() < p.marketing_reach + p.word_of_mouth * share + contact
            elif not joined:
                joined = self.random.random() < p.join_rate * trust * (p.community_answer_chance + contact)
        waiting = self.problem_age
        answered_after = -1
        in_public = False
        if waiting < 0:
            if self.random.random() < p.problem_rate:
                waiting = 0
        else:
            waiting += 1
            community = p.community_answer_chance if joined else p.listening * p.community_answer_chance
            solve = 1.0 - (1.0 - p.support_answer_rate) * (1.0 - community)
            u = self.random.random()
            if u < solve:
                in_public = u < community
                gain = p.answer_trust_gain * (p.public_answer_bonus if in_public else 1.0)
                trust += min(1.0, gain) * (1.0 - trust)
                answered_after = waiting
                waiting = -1
            elif waiting > p.patience:
                trust -= p.waiting_trust_loss * trust
                if waiting > p.give_up_factor * p.patience:
                    waiting = -1
                    joined = False
        if friends:
            trust += p.detractor_influence * (p.advocate_pull * advocates - detractors) / len(friends)
        if knows:
            trust += p.trust_shift
        trust = min(1.0, max(0.0, trust))
        if trust >= p.advocate_trust and knows:
            feeling = ADVOCATE
        elif trust <= p.detractor_trust:
            feeling = DETRACTOR
        else:
            feeling = NEUTRAL
        self.next_aware, self.next_member, self.next_trust = knows, joined, trust
        self.next_sentiment, self.next_problem_age = feeling, waiting
        self.answered_age = answered_after
        self.public_answer = in_public
        self.idea = joined and self.random.random() < p.idea_rate * trust
        self.peer_answer = joined and trust >= p.advocate_trust and self.random.random() < p.peer_answer_rate

    def advance(self) -> None:
        """Commit this week's state (synchronous update: friends read last week's)."""
        self.aware, self.member, self.trust = self.next_aware, self.next_member, self.next_trust
        self.sentiment, self.problem_age = self.next_sentiment, self.next_problem_age
        self.ideas += self.idea
        self.answers += self.peer_answer


def _gini(values: list[int]) -> float:
    ranked = sorted(values)
    n = len(ranked)
    total = sum(ranked)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum((k + 1) * v for k, v in enumerate(ranked))
    return (2.0 * weighted) / (n * total) - (n + 1.0) / n


class MesaObjectModel(mesa.Model):
    """The organisation and its customers as Mesa agent objects (see the module docstring).

    Args:
        scenario: a :class:`sim.Scenario` (no shocks).
        seed: seeds the networks (same organisation and market as ``sim.SocialBusinessModel``
            with this seed) and this model's own random stream.
        network_model: optional ``sim.SocialBusinessModel`` of the same scenario and seed to
            take the networks from (built here when not given).
    """

    def __init__(self, scenario: Any, seed: int = 0, network_model: Any = None):
        if scenario.shocks:
            raise ValueError("the Mesa object baseline does not implement shocks; allowed: a scenario without shocks")
        super().__init__(rng=seed)
        if network_model is None:
            from ..model import SocialBusinessModel

            network_model = SocialBusinessModel(scenario, seed=seed)
        org, market = network_model.org, network_model.market
        self.config = c = scenario
        self.levers = scenario.to_dict()
        self.week = 0
        self.departed: list[int] = []
        self.leavers = 0
        self.weak_ties_formed = 0
        n, d = int(org.department.size), int(org.dept_start.size - 1)
        self.n_departments = d
        self.org_graph = csr_graph(org.indptr, org.indices, n)
        self.customer_graph = csr_graph(market.indptr, market.indices)
        # Customers' contacts with staff: a bipartite networkx graph (customer i is node n + i).
        self.contact_graph = nx.Graph()
        self.contact_graph.add_nodes_from(range(n + market.n))
        rows = np.repeat(np.arange(market.contact_indptr.size - 1), np.diff(market.contact_indptr))
        self.contact_graph.add_edges_from(zip((rows + n).tolist(), market.contact_indices.tolist()))

        # Early adopters: the lowest thresholds; newcomers below the cut-off are early adopters too.
        self.early_cutoff = -math.inf
        department, manager = org.department.tolist(), org.manager.tolist()
        is_exec, is_mgr = org.is_executive.tolist(), org.is_manager.tolist()
        informal, facing = org.is_informal_leader.tolist(), org.customer_facing.tolist()
        self.staff = [Employee(self, i, department[i], is_exec[i], is_mgr[i], informal[i], facing[i])
                      for i in range(n)]
        n_early = int(round(c.early_adopter_share * n))
        by_threshold = sorted(self.staff, key=lambda e: e.threshold)
        for k, e in enumerate(by_threshold):
            e.early_adopter = k < n_early
        if n_early:
            self.early_cutoff = by_threshold[n_early - 1].threshold
        for e in self.staff:
            if manager[e.row] >= 0:
                e.boss = self.staff[manager[e.row]]
                e.boss.reports.append(e)
            e.contacts = [self.staff[j] for j in self.org_graph.neighbors(e.row)]
            e.contact_set = set(e.contacts)
            e.base_cross_ties = sum(1 for o in e.contacts if o.department != e.department)
        self.executives = [e for e in self.staff if e.is_executive]
        self.formal_leaders = [e for e in self.staff if e.is_formal_leader]
        self.facing_staff = [e for e in self.staff if e.customer_facing]
        self.dept_size = [0] * d
        for e in self.staff:
            self.dept_size[e.department] += 1

        m = market.n if c.use_customers else 0
        self.clients = []
        for i in range(m):
            trust = min(1.0, max(0.0, self.random.gauss(c.initial_trust, c.trust_spread)))
            self.clients.append(Customer(self, i, trust))
        for cust in self.clients:
            cust.friends = [self.clients[j] for j in self.customer_graph.neighbors(cust.row)]
            cust.staff = [self.staff[j] for j in self.contact_graph.neighbors(n + cust.row)]
        self.employees = self.agents_by_type[Employee]
        self.customers = self.agents_by_type[Customer] if m else None

        self.knowledge_open = 0.0
        self.knowledge_dept = [0.0] * d
        self.density = [0.0] * d
        self.exec_share = 0.0
        self.attention_open = 0.0
        self.attention_dept = [0.0] * d
        self.peer_answers = self.public_answers = self.open_member_problems = 0
        self.unanswered_share = 0.0
        self.ideas = 0
        self.ideas_captured = self.innovations = self.signals_captured = 0.0
        self.cumulative_cost = self.cumulative_value = self.week_value = 0.0
        self.new_ideas = 0
        self.datacollector = mesa.DataCollector(model_reporters={
            "active_share": MesaObjectModel.active_share,
            "readers": lambda mo: sum(1 for e in mo.staff if e.has_access and e.stage == READER),
            "contributors": lambda mo: sum(1 for e in mo.staff if e.has_access and e.stage == CONTRIBUTOR),
            "champions": lambda mo: sum(1 for e in mo.staff if e.has_access and e.stage == CHAMPION),
            "lapsed": lambda mo: sum(1 for e in mo.staff if e.has_access and e.stage == LAPSED),
            "posts": lambda mo: sum(e.posts for e in mo.staff),
            "gini": lambda mo: _gini([e.contributions for e in mo.staff if e.last_view >= 1] + mo.departed),
            "mean_safety": lambda mo: sum(e.safety for e in mo.staff) / len(mo.staff),
            "productivity_gain": lambda mo: sum(e.productivity for e in mo.staff) / len(mo.staff),
            "knowledge_stock": lambda mo: mo.knowledge_open + sum(mo.knowledge_dept),
            "customers_aware": lambda mo: sum(1 for x in mo.clients if x.aware),
            "members": MesaObjectModel.members,
            "advocates": lambda mo: sum(1 for x in mo.clients if x.sentiment == ADVOCATE),
            "detractors": lambda mo: sum(1 for x in mo.clients if x.sentiment == DETRACTOR),
            "mean_trust": lambda mo: sum(x.trust for x in mo.clients) / len(mo.clients) if mo.clients else 0.0,
            "net_value": lambda mo: mo.cumulative_value - mo.cumulative_cost,
        })
        self.datacollector.collect(self)

    # ---------------------------------------------------------------- reporters
    def active_share(self) -> float:
        """Employees with access who posted in the last 4 weeks, as a share of those with access."""
        eligible = [e for e in self.staff if e.has_access]
        recent = self.week - 4
        return sum(1 for e in eligible if e.last_post > recent) / len(eligible) if eligible else 0.0

    def members(self) -> int:
        return sum(1 for x in self.clients if x.member)

    # ---------------------------------------------------------------- the week
    def _schedule(self) -> None:
        c = self.config
        if not c.use_rollout or not c.use_barriers:
            if self.week == 0:
                for e in self.staff:
                    e.has_access = True
        else:
            for wave in c.waves:
                if wave.week == self.week:
                    self._wave(wave)
        self.leavers = 0
        if c.use_turnover and c.turnover_rate > 0.0:
            self.employees.shuffle_do("maybe_leave")

    def _wave(self, wave: Any) -> None:
        c, d = self.config, self.n_departments
        if wave.share is not None:
            first = math.ceil(round(wave.share * d, 9))
            who = [e for e in self.staff if e.department < first]
        elif wave.departments == "all":
            who = list(self.staff)
        elif wave.departments == "customer_facing":
            who = [e for e in self.staff if e.customer_facing]
        elif wave.departments == "internal":
            who = [e for e in self.staff if not e.customer_facing]
        else:
            named = set(wave.departments)
            who = [e for e in self.staff if e.department in named]
        if c.access_scope == "early_adopters":
            who = [e for e in who if e.early_adopter]
        if wave.spread == "scattered":
            count = sum(1 for e in who if not e.has_access)
            pool = [e for e in self.staff if not e.has_access
                    and (c.access_scope != "early_adopters" or e.early_adopter)]
            who = self.random.sample(pool, min(count, len(pool)))
        for e in who:
            e.has_access = True

    def _params(self) -> Week:
        c, lv = self.config, self.levers
        friction = lv["posting_friction"] if c.use_barriers else 0.0
        facing_failure = 0.0
        if c.use_customers and c.use_customer_feedback:
            facing_failure = c.unanswered_weight * self.unanswered_share
        return Week(
            peer_weight=c.peer_weight if c.use_peer_influence else 0.0,
            role_model_weight=c.role_model_weight if c.use_role_models else 0.0,
            purpose_weight=c.purpose_weight if c.use_purpose else 0.0,
            network_value_weight=c.network_value_weight if c.use_network_effect else 0.0,
            value_saturation=c.value_saturation, value_people_share=c.value_people_share,
            launch_novelty=c.launch_novelty, novelty_half_life=c.novelty_half_life,
            recognition_weight=c.recognition_weight if c.use_network_effect else 0.0,
            recognition_saturation=c.recognition_saturation,
            leader_pull=lv["leader_participation"] * c.leader_role_pull if c.use_role_models else 0.0,
            rally=0.0, facing_failure=facing_failure, friction_cost=c.friction_weight * friction,
            fear_weight=c.fear_weight if c.use_culture else 0.0, habit_weight=c.habit_weight,
            decision_noise=c.decision_noise, spontaneous_adoption=c.spontaneous_adoption,
            imitation=c.imitation if c.use_peer_influence else 0.0, reading_uptake=c.reading_uptake,
            reading_lapse=c.reading_lapse, reading_effort=c.reading_effort, lapse_rate=c.lapse_rate,
            lapse_margin=c.lapse_margin, relapse_penalty=c.relapse_penalty, reaction_ease=c.reaction_ease,
            contribution_rate=c.contribution_rate, posting_budget=c.posting_budget,
            reputation_feedback=c.reputation_feedback if c.use_network_effect else 0.0,
            post_speed=1.0 - c.friction_slowdown * friction,
            mistake_rate=c.mistake_rate if c.use_culture else 0.0, crisis_loss=0.0,
            passed_on=c.purpose_transmission + (1.0 - c.purpose_transmission) * lv["leader_commitment"])

    def _density(self) -> None:
        n = len(self.staff)
        self.density = [self.knowledge_open / n + self.knowledge_dept[d] / self.dept_size[d]
                        if self.dept_size[d] else self.knowledge_open / n for d in range(self.n_departments)]

    def _share_attention(self) -> None:
        """Viewers' attention (plus reactions) shared among the week's posts, by department."""
        c, o, d = self.config, float(self.levers["open_by_default"]), self.n_departments
        feedback = self.week_params.reputation_feedback
        given = [0.0] * d
        weighted = [0.0] * d
        for e in self.staff:
            if e.has_access and (e.stage == READER or _active(e.stage)):
                given[e.department] += 1.0
            if e.reacted:
                given[e.department] += c.reaction_weight
            if e.posts > 0:
                weighted[e.department] += e.posts * (1.0 + e.reputation / c.recognition_saturation) ** feedback
        total = sum(weighted)
        per_unit = []
        for k in range(d):
            seen_from = o * total + (1.0 - o) * weighted[k]
            per_unit.append(given[k] / seen_from if seen_from > 0 else 0.0)
        self.attention_open = o * sum(per_unit)
        self.attention_dept = [(1.0 - o) * u for u in per_unit]

    def _customer_week(self) -> None:
        c, lv = self.config, self.levers
        community_open = self.week >= lv["external_launch_week"]
        facing_active = [e for e in self.facing_staff if e.visible]
        connected = (sum(1 for e in facing_active if e.base_cross_ties + len(e.weak_ties) > 0) / len(facing_active)
                     if facing_active else 0.0)
        one_company = 1.0 - c.silo_penalty * (1.0 - connected)
        staff_capacity = len(facing_active) * c.answers_per_contributor
        capacity = staff_capacity + self.peer_answers
        chance = min(1.0, capacity / max(1, self.open_member_problems)) * one_company if community_open else 0.0
        seen_mistakes = sum(1 for e in self.facing_staff if e.mistake)
        trust_shift = 0.0
        if c.use_culture:
            trust_shift = (2.0 * lv["mistake_candour"] - 1.0) * c.mistake_trust_step * math.log1p(seen_mistakes)
        self.customer_params = Week(
            community_open=community_open, marketing_reach=lv["marketing_reach"], word_of_mouth=c.word_of_mouth,
            join_rate=c.join_rate, problem_rate=c.problem_rate, support_answer_rate=c.support_answer_rate,
            community_answer_chance=chance, listening=lv["listening"] if c.use_listening else 0.0,
            patience=int(c.customer_patience), give_up_factor=int(c.give_up_factor),
            detractor_influence=c.detractor_influence, advocate_pull=c.advocate_pull, contact_pull=c.contact_pull,
            advocate_trust=c.advocate_trust, detractor_trust=c.detractor_trust,
            answer_trust_gain=c.answer_trust_gain, public_answer_bonus=c.public_answer_bonus,
            waiting_trust_loss=c.waiting_trust_loss, idea_rate=c.idea_rate, peer_answer_rate=c.peer_answer_rate,
            trust_shift=trust_shift, trust_reversion=c.trust_reversion)
        self.customers.shuffle_do("decide")
        self.customers.do("advance")
        new_problems = sum(1 for x in self.clients if x.problem_age == 0)
        self.peer_answers = sum(1 for x in self.clients if x.peer_answer)
        self.public_answers = sum(1 for x in self.clients if x.public_answer)
        self.new_ideas = sum(1 for x in self.clients if x.idea)
        self.ideas += self.new_ideas
        if c.use_listening:
            self.signals_captured += lv["listening"] * (new_problems + self.new_ideas)
        if c.use_customer_feedback and facing_active and capacity > 0:
            praise = c.customer_praise * (self.public_answers * staff_capacity / capacity) / len(facing_active)
            for e in facing_active:
                e.praise += praise
        asked = [x.problem_age for x in self.clients if x.member]
        self.open_member_problems = sum(1 for a in asked if a >= 0)
        waiting = sum(1 for a in asked if a > c.customer_patience)
        self.unanswered_share = waiting / max(1, self.open_member_problems) if community_open else 0.0

    def step(self) -> None:
        """One week."""
        c, lv = self.config, self.levers
        self._schedule()
        self.week_params = self._params()
        if c.use_purpose:
            self.employees.shuffle_do("hear_purpose")
        self.exec_share = (sum(e.visible for e in self.executives) / len(self.executives)
                           if self.executives else 0.0)
        self.employees.shuffle_do("look_around")
        self._density()
        self.employees.shuffle_do("decide")
        self._share_attention()
        self.employees.shuffle_do("get_recognised")
        if c.use_culture:
            self.employees.shuffle_do("feel_safe")
        o = float(lv["open_by_default"])
        keep = 1.0 - c.knowledge_decay
        dept_posts = [0.0] * self.n_departments
        for e in self.staff:
            dept_posts[e.department] += e.posts
        self.knowledge_open = self.knowledge_open * keep + o * sum(dept_posts)
        self.knowledge_dept = [k * keep + (1.0 - o) * p for k, p in zip(self.knowledge_dept, dept_posts)]
        if c.use_network_effect and c.max_weak_ties > 0:
            posters = [e for e in self.staff if e.posts > 0]
            if posters:
                self.random.shuffle(posters)
                for e in posters:
                    e.find_tie(posters, c.weak_tie_rate * o, c.max_weak_ties)
        self._density()
        if c.use_productivity:
            self.employees.do("work")
        self.new_ideas = 0
        if self.customers is not None:
            self._customer_week()
        new_innovations = 0.0
        if c.use_listening:
            captured = lv["listening"] * self.new_ideas
            self.ideas_captured += captured
            new_innovations = lv["idea_adoption"] * captured
            self.innovations += new_innovations
        leaders_active = sum(1 for e in self.formal_leaders if e.visible)
        cost = (lv["seat_cost"] * sum(1 for e in self.staff if e.has_access) + lv["programme_cost"]
                + lv["leader_time_cost"] * leaders_active)
        advocates = sum(1 for x in self.clients if x.sentiment == ADVOCATE)
        detractors_aware = sum(1 for x in self.clients if x.sentiment == DETRACTOR and x.aware)
        value = (lv["employee_week_value"] * sum(e.productivity for e in self.staff)
                 + lv["advocate_value"] * (advocates - detractors_aware) + lv["innovation_value"] * new_innovations)
        self.cumulative_cost += cost
        self.cumulative_value += value
        self.week += 1
        self.datacollector.collect(self)
        if self.week >= c.weeks:
            self.running = False


#: The shares compared between this baseline and the numba model (same scenario and seed).
COMPARED = ("active_share", "readers", "members", "advocates", "mean_trust", "mean_safety")


def compare_shares(mesa_model: MesaObjectModel, series: Any) -> dict[str, dict[str, float]]:
    """The last recorded week of this baseline next to the same week of a numba run's series.

    ``series``: the numba model's weekly outputs (a DataFrame with the :data:`COMPARED`
    columns, one row per week from week 0). Counts are given as shares of employees or
    customers. Returns ``{column: {"mesa": x, "numba": y}}``.
    """
    frame = mesa_model.datacollector.get_model_vars_dataframe()
    week = len(frame) - 1
    n, m = len(mesa_model.staff), max(1, len(mesa_model.clients))
    scale = {"readers": n, "members": m, "advocates": m}
    out = {}
    for name in COMPARED:
        k = scale.get(name, 1)
        out[name] = {"mesa": float(frame[name].iloc[week]) / k, "numba": float(series[name].iloc[week]) / k}
    return out
