"""The Mesa model: orchestration of one organisation, its customers and a rollout strategy.

``SocialBusinessModel`` owns the state (numpy arrays, :mod:`sim.state`), the networks and one
seeded ``numpy.random.Generator``. Each ``step()`` is one week: draw this week's uniforms, apply
the rollout schedule, shocks and turnover (:mod:`sim.schedule`), call the kernels of
:mod:`sim.kernels` (or their plain-Python twins in :mod:`sim.reference`) in a fixed order, do the
sums, and record the week's outputs. Nothing here depends on which strategy is being run: a
strategy is only a :class:`~sim.scenario.Scenario`.

Order of a week: draws -> schedule, shocks, turnover -> purpose cascade (001, 004) -> what people
see: visibly active contacts (Centola) and leaders (004; Wang et al. 2013; Chelmis & Prasanna
2013) -> participation decisions, reactions and posts (000, 001, 004) -> attention and reputation
(000) -> safety: blame and candour (002) -> knowledge stock -> weak ties grow (002) ->
productivity (002) -> customers, and what they do to staff (000, 002, 003, 004) -> listening and
co-creation (003) -> cost and value -> record.
"""

from __future__ import annotations

import math
import secrets
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from . import engine as compiled
from . import kernels, reference
from .agents import Customer, Employee, Leader
from .errors import ScenarioError
from .kernels import (CHAMPION, CONTRIBUTOR, READER, CustomerParams, ParticipationParams, SafetyParams)
from .networks import Market, Organisation, build_market, build_organisation
from .outputs import RunResult, SeriesRecorder
from .scenario import Scenario, load_scenario, make_scenario
from .schedule import apply_schedule
from .state import Totals, initial_customers, initial_employees

ENGINES = {"numba": kernels, "python": reference}

#: Random streams drawn per employee and per customer each week, in this order.
EMPLOYEE_STREAMS = ("adopt", "read", "lapse", "react", "post", "mistake", "tie", "tie_target", "leave")
CUSTOMER_STREAMS = ("aware", "join", "problem", "answer", "idea", "peer_answer")

#: Outputs also exposed through Mesa's DataCollector (for mesa.batch_run users).
DATACOLLECTOR_COLUMNS = ("active_share", "active_share_of_all", "contributors_4w", "viewers_4w", "readers",
                         "lapsed", "gini", "top1_share", "productivity_gain", "members", "advocates",
                         "detractors", "mean_trust", "net_value")


def _series_reporter(name: str):
    def report(model: "SocialBusinessModel") -> float:
        return float(model.recorder.columns[name][model.week])
    return report


def is_active_stage(stage: np.ndarray) -> np.ndarray:
    """Boolean mask of contributors and champions."""
    return (stage == CONTRIBUTOR) | (stage == CHAMPION)


def _resolve_seed(rng: Any, seed: Any) -> tuple[Any, int | None]:
    """Mesa's rng/seed, and the integer seed a result records (drawn when none is given)."""
    if rng is not None and seed is not None:
        raise ScenarioError("give rng or seed, not both", source="keyword argument", key="rng")
    chosen = rng if rng is not None else seed
    if chosen is None:
        chosen = secrets.randbits(63)
    if isinstance(chosen, (int, np.integer)) and not isinstance(chosen, bool):
        if chosen < 0:
            raise ScenarioError(f"{chosen} is negative; allowed: an integer >= 0", source="keyword argument",
                                key="seed")
        return int(chosen), int(chosen)
    return chosen, None


class SocialBusinessModel(mesa.Model):
    """An organisation rolling out social business tools, week by week.

    Args:
        config: a :class:`~sim.scenario.Scenario`, a path to a scenario file, a preset name, or
            None for the defaults.
        rng: seed (int) or ``numpy.random.Generator``; the model's only source of randomness.
        seed: same as an integer ``rng`` (Mesa's older keyword); give one of the two.
        engine: ``"numba"`` (the kernels) or ``"python"`` (the readable reference engine).
        **levers: scenario values that override ``config`` (so ``mesa.batch_run`` can sweep
            them); validated like a scenario file.

    Attributes:
        config: the validated scenario. levers: the values in force (shocks change them).
        org, market: the networks. state, customer_state, totals: the agents' arrays and
        organisation totals. week: weeks simulated so far. recorder: the weekly outputs.
    """

    def __init__(self, config: Scenario | str | Path | None = None, *, rng: Any = None,
                 seed: Any = None, engine: str = "numba", **levers: Any):
        if config is None:
            config = make_scenario(levers, source="keyword argument") if levers else Scenario()
        elif isinstance(config, (str, Path)):
            config = load_scenario(config, **levers)
        elif levers:
            config = config.with_levers(**levers)
        if engine not in ENGINES:
            raise ScenarioError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}",
                                source="keyword argument", key="engine")
        mesa_rng, self.seed = _resolve_seed(rng, seed)
        super().__init__(rng=mesa_rng)
        self.config: Scenario = config
        self.engine_name = engine
        self.engine = ENGINES[engine]
        self.levers: dict[str, Any] = config.to_dict()
        self.week = 0
        self.events: list[dict[str, Any]] = []
        self.viral_severity = 0.0
        self._views_built = False

        c = config
        self.org: Organisation = build_organisation(
            self.rng, employees=c.employees, departments=c.departments,
            customer_facing_departments=c.customer_facing_departments,
            span_of_control=c.span_of_control, team_ties=c.team_ties,
            team_rewiring=c.team_rewiring, cross_silo_ties=c.cross_silo_ties,
            informal_leader_share=c.informal_leader_share)
        n_customers = c.customers if c.use_customers else 0
        self.market: Market = build_market(
            self.rng, customers=n_customers, customer_degree=c.customer_degree,
            customer_degree_exponent=c.customer_degree_exponent,
            facing_employees=np.flatnonzero(self.org.customer_facing).astype(np.int32),
            n_employees=self.org.n, contacts_per_facing_employee=c.contacts_per_facing_employee)
        if engine == "numba":  # the serial or the parallel variant of each kernel, by loop length
            self.engine = compiled.kernels_for(self.org.n)
            self.customer_engine = compiled.kernels_for(self.market.n)
        else:
            self.customer_engine = self.engine
        self._init_state()
        self.recorder = SeriesRecorder(self)
        self.recorder.record(self)
        # Mesa's DataCollector (what mesa.batch_run reads): views on the recorder's columns.
        self.datacollector = mesa.DataCollector(model_reporters={
            name: _series_reporter(name) for name in DATACOLLECTOR_COLUMNS})
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ set-up
    def _init_state(self) -> None:
        c, org, n = self.config, self.org, self.org.n
        self.state, self.early_cutoff = initial_employees(self.rng, c, n)
        self.customer_state = initial_customers(self.rng, c, self.market.n)
        # Schedule events and newcomers draw from generators of their own, so that the weekly
        # streams stay common across scenarios whatever their waves, shocks and turnover.
        event_seed, newcomer_seed = self.rng.integers(0, 2**63, size=2)
        self.event_rng = np.random.default_rng(int(event_seed))
        self.newcomer_rng = np.random.default_rng(int(newcomer_seed))
        self.is_formal_leader = org.is_manager | org.is_executive
        self.is_middle_manager = org.is_manager & ~org.is_executive
        self.has_boss = org.manager >= 0
        self.n_reports = np.bincount(org.manager[self.has_boss], minlength=n)[:n].astype(np.float64)
        boss_is_middle = np.zeros(n, dtype=bool)
        boss_is_middle[self.has_boss] = self.is_middle_manager[org.manager[self.has_boss]]
        self.boss_is_middle = boss_is_middle
        self.n_middle_reports = np.bincount(org.manager[self.has_boss & self.is_middle_manager],
                                            minlength=n)[:n].astype(np.float64)
        self.influence_weight = 1.0 + c.informal_leader_weight * org.is_informal_leader * c.use_role_models
        self.dept_size = np.diff(org.dept_start).astype(np.float64)
        # Ties into other departments at the start: the silo structure the run begins with.
        src = np.repeat(np.arange(n), np.diff(org.indptr))
        self.base_cross_ties = np.bincount(
            src[org.department[src] != org.department[org.indices]], minlength=n).astype(np.int32)
        self.totals = Totals(knowledge_dept=np.zeros(org.n_departments))
        #: Cumulative contributions of users who left (turnover), for the inequality measures.
        self.departed: list[np.ndarray] = []

    # ------------------------------------------------------------------ agents (views)
    def _ensure_agent_views(self) -> None:
        if self._views_built:
            return
        self._views_built = True
        leaders = self.is_formal_leader | self.org.is_informal_leader
        for row in range(self.org.n):
            (Leader if leaders[row] else Employee)(self, row)
        for row in range(self.market.n):
            Customer(self, row)

    @property
    def agents(self):  # noqa: D401 - Mesa's property, made lazy
        """All agents (employees, leaders, customers) as a Mesa ``AgentSet`` of row views."""
        self._ensure_agent_views()
        return super().agents

    @property
    def agents_by_type(self):
        """Agents grouped by class, as in Mesa."""
        self._ensure_agent_views()
        return super().agents_by_type

    @property
    def employees(self) -> mesa.AgentSet:
        """Employees and leaders."""
        return self.agents.select(lambda a: isinstance(a, Employee))

    @property
    def customers(self) -> mesa.AgentSet:
        """Customers."""
        return self.agents.select(agent_type=Customer)

    # ------------------------------------------------------------------ what people see
    def visibly_active(self) -> np.ndarray:
        """Who colleagues see contributing: posted within the last ``visibility_window`` weeks."""
        st = self.state
        return st.has_access & (st.last_post > self.week - self.config.visibility_window)

    def _leader_signal(self, visible: np.ndarray) -> np.ndarray:
        """What each person sees along the hierarchy, in [0, 1], by ``hierarchy_influence`` (004).

        top_down: one's manager (and the executive team, weight ``boardroom_weight``) seen
        contributing. bottom_up: the share of one's direct reports seen contributing (Wang,
        Meister & Gray 2013: influence runs up, not down). middle_out: a middle manager seen
        contributing by their reports, and by the executive above them (Chelmis & Prasanna 2013).
        """
        c, org, n = self.config, self.org, self.org.n
        signal = np.zeros(n)
        if c.hierarchy_influence == "top_down":
            bw = c.boardroom_weight
            execs = org.is_executive
            exec_share = float(visible[execs].mean()) if execs.any() else 0.0
            boss_visible = np.zeros(n)
            boss_visible[self.has_boss] = visible[org.manager[self.has_boss]]
            signal = np.where(self.has_boss, (1.0 - bw) * boss_visible, 0.0) + bw * exec_share
        elif c.hierarchy_influence == "bottom_up":
            seen = np.bincount(org.manager[self.has_boss & visible], minlength=n)[:n]
            np.divide(seen, self.n_reports, out=signal, where=self.n_reports > 0)
        else:  # middle_out
            boss_visible = np.zeros(n)
            boss_visible[self.has_boss] = visible[org.manager[self.has_boss]]
            signal = np.where(self.boss_is_middle, boss_visible, 0.0)
            seen = np.bincount(org.manager[self.has_boss & self.is_middle_manager & visible], minlength=n)[:n]
            up = np.zeros(n)
            np.divide(seen, self.n_middle_reports, out=up, where=self.n_middle_reports > 0)
            signal = np.where(org.is_executive, up, signal)
        return signal

    # ------------------------------------------------------------------ levers in force
    def _participation_params(self) -> ParticipationParams:
        lv, c, tot = self.levers, self.config, self.totals
        friction = lv["posting_friction"] if c.use_barriers else 0.0
        rally = 0.0
        if c.use_culture and c.use_shocks:
            rally = c.crisis_rally * tot.crisis_pressure * (1.0 - lv["blame_culture"]) * lv["mistake_candour"]
        facing_failure = 0.0
        if c.use_customers and c.use_customer_feedback:
            facing_failure = c.unanswered_weight * tot.unanswered_share
        return ParticipationParams(
            peer_weight=c.peer_weight if c.use_peer_influence else 0.0,
            role_model_weight=c.role_model_weight if c.use_role_models else 0.0,
            purpose_weight=c.purpose_weight if c.use_purpose else 0.0,
            network_value_weight=c.network_value_weight if c.use_network_effect else 0.0,
            value_saturation=c.value_saturation,
            value_people_share=c.value_people_share,
            launch_novelty=c.launch_novelty,
            novelty_half_life=c.novelty_half_life,
            recognition_weight=c.recognition_weight if c.use_network_effect else 0.0,
            recognition_saturation=c.recognition_saturation,
            leader_pull=lv["leader_participation"] * c.leader_role_pull if c.use_role_models else 0.0,
            rally=rally,
            facing_failure=facing_failure,
            friction_cost=c.friction_weight * friction,
            fear_weight=c.fear_weight if c.use_culture else 0.0,
            habit_weight=c.habit_weight,
            decision_noise=c.decision_noise,
            spontaneous_adoption=c.spontaneous_adoption,
            imitation=c.imitation if c.use_peer_influence else 0.0,
            reading_uptake=c.reading_uptake,
            reading_lapse=c.reading_lapse,
            reading_effort=c.reading_effort,
            lapse_rate=c.lapse_rate,
            lapse_margin=c.lapse_margin,
            relapse_penalty=c.relapse_penalty,
            reaction_ease=c.reaction_ease,
            contribution_rate=c.contribution_rate,
            posting_budget=c.posting_budget,
            reputation_feedback=c.reputation_feedback if c.use_network_effect else 0.0,
            post_speed=1.0 - c.friction_slowdown * friction,
            mistake_rate=c.mistake_rate if c.use_culture else 0.0,
        )

    # ------------------------------------------------------------------ one week
    def step(self) -> None:
        """Simulate one week."""
        c, lv, org, st, E = self.config, self.levers, self.org, self.state, self.engine
        n, row = org.n, self.week + 1
        self.viral_severity = 0.0
        u = self.rng.random((len(EMPLOYEE_STREAMS), n))
        apply_schedule(self, self.week, u[8])

        # Purpose: clarity passes down the hierarchy (001, 004).
        if c.use_purpose:
            new_clarity = np.empty(n)
            E.purpose_cascade(org.manager, org.is_executive, st.clarity, st.receptiveness,
                              lv["purpose_strength"], lv["leader_commitment"], c.purpose_cascade_rate,
                              c.purpose_transmission, new_clarity, st.alignment)
            st.clarity = new_clarity

        # What people see: contacts and leaders seen contributing lately (Centola; 004).
        visible = self.visibly_active()
        E.neighbour_exposure(org.indptr, org.indices, st.weak_ties, st.weak_count, visible,
                             self.influence_weight, st.exposure, st.active_neighbours)
        st.leader_signal = self._leader_signal(visible)
        knowledge_density = self._knowledge_density()

        # Participation decisions, reactions and posts (mechanisms 1-6, 12).
        params = self._participation_params()
        new_stage = np.empty(n, dtype=np.int8)
        E.participation(st.stage, st.has_access, st.weeks_with_access, st.threshold, st.propensity,
                        self.is_formal_leader, org.customer_facing, org.department, st.leader_signal,
                        st.alignment, st.safety, st.reputation, st.habit, st.exposure, st.active_neighbours,
                        knowledge_density, params, u[0], u[1], u[2], u[3], u[4], u[5],
                        new_stage, st.posts, st.reacted, st.mistake)
        st.weeks_with_access += st.has_access
        self._recognise(new_stage, params.reputation_feedback)
        st.contributions += st.posts
        viewers = st.has_access & ((st.stage == READER) | is_active_stage(st.stage))
        st.last_view[viewers] = row
        st.last_react[st.reacted] = row
        st.last_post[st.posts > 0] = row

        # Culture: blame erodes safety, candour rebuilds it (002).
        if c.use_culture:
            crisis_loss = c.crisis_fear * self.totals.crisis_pressure * lv["blame_culture"] if c.use_shocks else 0.0
            new_safety = np.empty(n)
            E.safety_update(org.indptr, org.indices, st.weak_ties, st.weak_count, st.mistake, st.safety,
                            SafetyParams(blame_culture=lv["blame_culture"], mistake_candour=lv["mistake_candour"],
                                         fear_contagion=c.fear_contagion, blame_impact=c.blame_impact,
                                         candour_repair=c.candour_repair, crisis_loss=crisis_loss,
                                         safety_recovery=c.safety_recovery, initial_safety=c.initial_safety),
                            new_safety)
            st.safety = new_safety

        # Knowledge stock: open posts to everyone, the rest locked in the department (000).
        open_share = float(lv["open_by_default"])
        dept_posts = np.bincount(org.department, weights=st.posts, minlength=org.n_departments)
        keep = 1.0 - c.knowledge_decay
        self.totals.knowledge_open = self.totals.knowledge_open * keep + open_share * float(dept_posts.sum())
        self.totals.knowledge_dept = self.totals.knowledge_dept * keep + (1.0 - open_share) * dept_posts

        # Weak ties grow from open activity (002).
        if c.use_network_effect and st.weak_ties.shape[1] > 0:
            posted = np.flatnonzero(st.posts > 0).astype(np.int32)
            self.totals.weak_ties_formed += int(E.grow_weak_ties(
                org.indptr, org.indices, org.department, st.posts, posted,
                c.weak_tie_rate * open_share, u[6], u[7], st.weak_ties, st.weak_count))

        # Productivity (002).
        knowledge_density = self._knowledge_density()
        if c.use_productivity:
            E.productivity(org.department, self.base_cross_ties + st.weak_count, st.stage, st.has_access,
                           knowledge_density, c.creative_gain, c.connective_gain, c.compounding_gain,
                           c.value_saturation, c.connective_ties, st.productivity, st.reuse)

        # Customers and the cost of leaders' time see who is visibly active after this week's posts.
        self.week += 1
        active_now = self.visibly_active()
        self.week -= 1
        new_ideas = 0
        if c.use_customers and self.market.n > 0:
            new_ideas = self._customer_week(active_now)

        # Listening and co-creation (003).
        if c.use_listening:
            captured = lv["listening"] * new_ideas
            self.totals.ideas_captured += captured
            new_innovations = lv["idea_adoption"] * captured
            self.totals.innovations += new_innovations
        else:
            new_innovations = 0.0
        self._economics(active_now, new_innovations)
        self.totals.crisis_pressure *= 1.0 - c.crisis_decay
        self.week += 1
        self.recorder.record(self)
        self.datacollector.collect(self)
        if self.week >= c.weeks:
            self.running = False

    def _recognise(self, new_stage: np.ndarray, feedback: float) -> None:
        """Share this week's attention among the posts; update reputation, habit, champions (000).

        Viewers (readers and contributors with access) each give one unit of attention, plus
        ``reaction_weight`` if they reacted. Viewers in department ``d`` spread theirs over the
        posts they can see: everyone's open share ``o`` and their department's locked share
        ``1 - o``, each post weighted by its author's visibility ``(1 + reputation / recognition_saturation) ** f``. The
        attention handed out is the attention there was, so reputation stays bounded.
        """
        c, org, st = self.config, self.org, self.state
        o = float(self.levers["open_by_default"])
        viewers = st.has_access & ((new_stage == READER) | is_active_stage(new_stage))
        attention = viewers + c.reaction_weight * st.reacted
        given = np.bincount(org.department, weights=attention, minlength=org.n_departments)
        weighted = st.posts * (1.0 + st.reputation / c.recognition_saturation) ** feedback
        dept_weighted = np.bincount(org.department, weights=weighted, minlength=org.n_departments)
        seen_from = o * float(weighted.sum()) + (1.0 - o) * dept_weighted
        per_unit = np.zeros(org.n_departments)
        np.divide(given, seen_from, out=per_unit, where=seen_from > 0)
        out_stage = np.empty_like(new_stage)
        out_rep = np.empty(org.n)
        out_habit = np.empty(org.n)
        self.engine.recognition(new_stage, st.posts, st.reputation, st.habit, org.department, st.praise,
                                o * float(per_unit.sum()), (1.0 - o) * per_unit, feedback,
                                c.recognition_saturation, c.reputation_decay, c.habit_gain, c.habit_decay, c.champion_reputation,
                                out_stage, out_rep, out_habit)
        st.stage, st.reputation, st.habit = out_stage, out_rep, out_habit
        st.praise[:] = 0.0

    def _knowledge_density(self) -> np.ndarray:
        """Reusable items per head visible from each department."""
        return self.totals.knowledge_open / self.org.n + self.totals.knowledge_dept / self.dept_size

    def _customer_week(self, active: np.ndarray) -> int:
        c, lv, st, cs, mk, tot = self.config, self.levers, self.state, self.customer_state, self.market, self.totals
        org = self.org
        u = self.rng.random((len(CUSTOMER_STREAMS), mk.n))
        community_open = self.week >= lv["external_launch_week"]
        facing_active = active & org.customer_facing
        n_facing_active = int(facing_active.sum())
        if n_facing_active:
            connected = float(((self.base_cross_ties + st.weak_count)[facing_active] > 0).mean())
        else:
            connected = 0.0
        one_company = 1.0 - c.silo_penalty * (1.0 - connected)
        open_member_problems = tot.open_member_problems  # counted at the end of last week
        staff_capacity = n_facing_active * c.answers_per_contributor
        capacity = staff_capacity + tot.peer_answers
        chance = min(1.0, capacity / max(1, open_member_problems)) * one_company if community_open else 0.0
        # Customers see customer-facing staff's mistakes (and a viral one); candour earns trust,
        # defensiveness loses it (002).
        visible = float((st.mistake & org.customer_facing).sum())
        trust_shift = 0.0
        if c.use_culture:
            candour = 2.0 * lv["mistake_candour"] - 1.0
            trust_shift = candour * (c.mistake_trust_step * math.log1p(visible)
                                     + c.viral_trust_step * self.viral_severity)
        params = CustomerParams(
            community_open=bool(community_open), marketing_reach=lv["marketing_reach"],
            word_of_mouth=c.word_of_mouth, join_rate=c.join_rate,
            problem_rate=c.problem_rate, support_answer_rate=c.support_answer_rate,
            community_answer_chance=chance,
            listening=lv["listening"] if c.use_listening else 0.0,
            patience=int(c.customer_patience), give_up_factor=int(c.give_up_factor),
            detractor_influence=c.detractor_influence, advocate_pull=c.advocate_pull,
            contact_pull=c.contact_pull, advocate_trust=c.advocate_trust, detractor_trust=c.detractor_trust,
            answer_trust_gain=c.answer_trust_gain, public_answer_bonus=c.public_answer_bonus,
            waiting_trust_loss=c.waiting_trust_loss, idea_rate=c.idea_rate,
            peer_answer_rate=c.peer_answer_rate, trust_shift=trust_shift, trust_reversion=c.trust_reversion)
        m = mk.n
        aware, member = np.empty(m, dtype=bool), np.empty(m, dtype=bool)
        trust, sentiment = np.empty(m), np.empty(m, dtype=np.int8)
        problem_age = np.empty(m, dtype=np.int32)
        self.customer_engine.customer_step(
            mk.indptr, mk.indices, mk.contact_indptr, mk.contact_indices, active,
            cs.aware, cs.member, cs.trust, cs.baseline_trust, cs.sentiment, cs.problem_age, params,
            u[0], u[1], u[2], u[3], u[4], u[5],
            aware, member, trust, sentiment, problem_age,
            cs.answered_age, cs.public_answer, cs.idea, cs.peer_answer)
        new_problems = int((problem_age == 0).sum())  # existing problems are at least a week old
        cs.aware, cs.member, cs.trust, cs.sentiment, cs.problem_age = aware, member, trust, sentiment, problem_age
        cs.ideas += cs.idea
        cs.answers += cs.peer_answer
        tot.peer_answers = int(cs.peer_answer.sum())
        tot.public_answers = int(cs.public_answer.sum())
        ideas = int(cs.idea.sum())
        tot.ideas += ideas
        if c.use_listening:
            tot.signals_captured += lv["listening"] * (new_problems + ideas)
        # What customers do to staff (003, 004): public answers earn the staff who gave them praise
        # (credited next week); questions left waiting in public demoralise customer-facing staff.
        if c.use_customer_feedback and n_facing_active and capacity > 0:
            staff_answers = tot.public_answers * staff_capacity / capacity
            st.praise[facing_active] += c.customer_praise * staff_answers / n_facing_active
        asked = cs.problem_age[cs.member]
        tot.open_member_problems = int((asked >= 0).sum())
        waiting = int((asked > c.customer_patience).sum())
        tot.unanswered_share = waiting / max(1, tot.open_member_problems) if community_open else 0.0
        tot.sentiment_counts = np.bincount(cs.sentiment.astype(np.int64) + 1, minlength=3)
        return ideas

    def _economics(self, active: np.ndarray, new_innovations: float) -> None:
        lv, st, cs = self.levers, self.state, self.customer_state
        leaders_active = int((active & self.is_formal_leader).sum())
        cost = (lv["seat_cost"] * int(st.has_access.sum()) + lv["programme_cost"]
                + lv["leader_time_cost"] * leaders_active)
        advocates = int(self.totals.sentiment_counts[2])
        detractors_aware = int(((cs.sentiment == -1) & cs.aware).sum())
        value = (lv["employee_week_value"] * float(st.productivity.sum())
                 + lv["advocate_value"] * (advocates - detractors_aware)
                 + lv["innovation_value"] * new_innovations)
        self.week_cost, self.week_value = cost, value
        self.totals.cumulative_cost += cost
        self.totals.cumulative_value += value

    # ------------------------------------------------------------------ running
    def run(self, weeks: int | None = None, progress: Any = None) -> RunResult:
        """Run to the horizon (or ``weeks`` more weeks) and return the result.

        Args:
            weeks: how many weeks to simulate (default: up to the scenario's horizon).
            progress: optional callable ``progress(done, total)`` called after every week.
        """
        total = self.config.weeks - self.week if weeks is None else weeks
        for done in range(total):
            self.step()
            if progress is not None:
                progress(done + 1, total)
        return self.result()

    def result(self) -> RunResult:
        """The outputs so far, with seed, scenario hash and package version."""
        return self.recorder.result(self)
