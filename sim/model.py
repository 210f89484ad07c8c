"""The Mesa model: orchestration of one organisation, its customers and a rollout strategy.

``SocialBusinessModel`` owns the state (numpy arrays), the networks and one seeded
``numpy.random.Generator``. Each ``step()`` is one week: apply the rollout schedule and
shocks (004, 003), draw this week's uniforms, call the kernels of :mod:`sim.kernels` (or their
plain-Python twins in :mod:`sim.reference`) in a fixed order, do the sums, and record the
week's outputs. Nothing here depends on which strategy is being run: a strategy is only a
:class:`~sim.scenario.Scenario`.

Order of a week: schedule -> purpose cascade (001, 004) -> exposure to active contacts
(Centola) -> participation decisions and posts (000, 001, 004) -> fear and blame (002) ->
knowledge stock -> weak ties grow (002) -> productivity (002) -> customers (000, 002, 003) ->
listening and co-creation (003) -> cost and value -> record.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from . import kernels, reference
from .agents import Customer, Employee, Leader
from .errors import ScenarioError
from .kernels import (CHAMPION, CONTRIBUTOR, CustomerParams, LAPSED, NON_USER,
                      ParticipationParams)
from .networks import Market, Organisation, build_market, build_organisation
from .outputs import RunResult, SeriesRecorder
from .scenario import Scenario, load_scenario, make_scenario

ENGINES = {"numba": kernels, "python": reference}

#: Random streams drawn per employee and per customer each week, in this order.
EMPLOYEE_STREAMS = ("adopt", "read", "lapse", "post", "mistake", "tie", "tie_target")
CUSTOMER_STREAMS = ("aware", "join", "problem", "answer", "idea", "peer_answer")

MISTAKE_TRUST_STEP = 0.001  # trust moved per log-unit of visible mistakes, by candour (002)
VIRAL_TRUST_STEP = 0.1  # trust moved by a viral mistake of severity 1, by candour (002, 003)
TRUST_SPREAD = 0.1  # standard deviation of customers' initial trust
THRESHOLD_CAP = 3.0  # thresholds are clipped to [0, THRESHOLD_CAP]


#: Outputs also exposed through Mesa's DataCollector (for mesa.batch_run users).
DATACOLLECTOR_COLUMNS = ("active_share", "active_contributors", "readers", "lapsed", "gini",
                         "productivity_gain", "members", "advocates", "detractors", "mean_trust",
                         "net_value")


def _series_reporter(name: str):
    def report(model: "SocialBusinessModel") -> float:
        return float(model.recorder.columns[name][model.week])
    return report


@dataclass
class EmployeeState:
    """Struct of arrays: one row per employee (department-major order)."""

    stage: np.ndarray  # int8
    has_access: np.ndarray  # bool
    weeks_with_access: np.ndarray  # int32
    threshold: np.ndarray  # float64
    receptiveness: np.ndarray  # float64, how much of the purpose one takes in
    early_adopter: np.ndarray  # bool, volunteers (lowest thresholds)
    clarity: np.ndarray  # float64, perceived purpose clarity
    alignment: np.ndarray  # float64
    safety: np.ndarray  # float64
    reputation: np.ndarray  # float64
    contributions: np.ndarray  # int64, cumulative posts
    posts: np.ndarray  # int32, this week's posts
    mistake: np.ndarray  # bool, this week's public mistakes
    productivity: np.ndarray  # float64, this week's gain
    reuse: np.ndarray  # float64, this week's knowledge reuse intensity
    exposure: np.ndarray  # float64
    active_neighbours: np.ndarray  # int32
    weak_ties: np.ndarray  # int32 (N, K)
    weak_count: np.ndarray  # int32


@dataclass
class CustomerState:
    """Struct of arrays: one row per customer."""

    aware: np.ndarray  # bool
    member: np.ndarray  # bool
    trust: np.ndarray  # float64
    baseline_trust: np.ndarray  # float64, what trust drifts back to
    sentiment: np.ndarray  # int8: -1 detractor, 0 neutral, 1 advocate
    problem_age: np.ndarray  # int32, -1 = no open problem
    ideas: np.ndarray  # int32, cumulative
    answers: np.ndarray  # int32, cumulative answers given to fellow customers
    answered_age: np.ndarray  # int32, this week
    idea: np.ndarray  # bool, this week
    peer_answer: np.ndarray  # bool, this week


@dataclass
class Totals:
    """Running organisation-level quantities (knowledge, ideas, money)."""

    knowledge_open: float = 0.0
    knowledge_dept: np.ndarray = field(default_factory=lambda: np.zeros(0))
    peer_answers: int = 0
    ideas: int = 0
    ideas_captured: float = 0.0
    innovations: float = 0.0
    signals_captured: float = 0.0
    cumulative_cost: float = 0.0
    cumulative_value: float = 0.0
    weak_ties_formed: int = 0


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
        org, market: the networks. state, customer_state: the agents' arrays.
        week: weeks simulated so far. recorder: the weekly outputs.
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
        rng = self.rng
        threshold = np.clip(rng.normal(c.threshold_mean, c.threshold_sd, n), 0.0, THRESHOLD_CAP)
        receptiveness = rng.uniform(0.5, 1.0, n)
        n_early = int(round(c.early_adopter_share * n))
        early = np.zeros(n, dtype=bool)
        early[np.argsort(threshold, kind="stable")[:n_early]] = True
        self.state = EmployeeState(
            stage=np.full(n, NON_USER, dtype=np.int8), has_access=np.zeros(n, dtype=bool),
            weeks_with_access=np.zeros(n, dtype=np.int32), threshold=threshold, receptiveness=receptiveness, early_adopter=early,
            clarity=np.zeros(n), alignment=np.zeros(n), safety=np.full(n, c.initial_safety),
            reputation=np.zeros(n), contributions=np.zeros(n, dtype=np.int64),
            posts=np.zeros(n, dtype=np.int32), mistake=np.zeros(n, dtype=bool),
            productivity=np.zeros(n), reuse=np.zeros(n), exposure=np.zeros(n),
            active_neighbours=np.zeros(n, dtype=np.int32),
            weak_ties=np.full((n, c.max_weak_ties if c.use_network_effect else 0), -1, dtype=np.int32),
            weak_count=np.zeros(n, dtype=np.int32))
        self.is_formal_leader = org.is_manager | org.is_executive
        self.influence_weight = 1.0 + c.informal_leader_weight * org.is_informal_leader * c.use_role_models
        self.dept_size = np.diff(org.dept_start).astype(np.float64)
        # Ties into other departments at the start: the silo structure the run begins with.
        src = np.repeat(np.arange(n), np.diff(org.indptr))
        self.base_cross_ties = np.bincount(
            src[org.department[src] != org.department[org.indices]], minlength=n).astype(np.int32)
        m = self.market.n
        trust = np.clip(rng.normal(c.initial_trust, TRUST_SPREAD, m), 0.0, 1.0)
        self.customer_state = CustomerState(
            aware=np.zeros(m, dtype=bool), member=np.zeros(m, dtype=bool),
            trust=trust, baseline_trust=trust.copy(),
            sentiment=np.zeros(m, dtype=np.int8), problem_age=np.full(m, -1, dtype=np.int32),
            ideas=np.zeros(m, dtype=np.int32), answers=np.zeros(m, dtype=np.int32), answered_age=np.full(m, -1, dtype=np.int32),
            idea=np.zeros(m, dtype=bool), peer_answer=np.zeros(m, dtype=bool))
        self.totals = Totals(knowledge_dept=np.zeros(org.n_departments))
        self.customer_state.sentiment[:] = np.where(
            self.customer_state.trust <= c.detractor_trust, -1, 0).astype(np.int8)

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

    # ------------------------------------------------------------------ levers in force
    def _participation_params(self) -> ParticipationParams:
        lv, c = self.levers, self.config
        return ParticipationParams(
            peer_weight=lv["peer_weight"] if c.use_peer_influence else 0.0,
            role_model_weight=lv["role_model_weight"] if c.use_role_models else 0.0,
            boardroom_weight=lv["boardroom_weight"],
            leader_participation=lv["leader_participation"] if c.use_role_models else 0.0,
            purpose_weight=lv["purpose_weight"] if c.use_purpose else 0.0,
            network_value_weight=lv["network_value_weight"] if c.use_network_effect else 0.0,
            value_saturation=lv["value_saturation"],
            posting_friction=lv["posting_friction"] if c.use_barriers else 0.0,
            fear_weight=lv["fear_weight"] if c.use_culture else 0.0,
            spontaneous_adoption=lv["spontaneous_adoption"],
            launch_novelty=lv["launch_novelty"],
            novelty_half_life=lv["novelty_half_life"],
            imitation=lv["imitation"] if c.use_peer_influence else 0.0,
            reading_uptake=lv["reading_uptake"],
            lapse_rate=lv["lapse_rate"],
            lapse_margin=lv["lapse_margin"],
            relapse_penalty=lv["relapse_penalty"],
            contribution_rate=lv["contribution_rate"],
            reputation_feedback=lv["reputation_feedback"] if c.use_network_effect else 0.0,
            reputation_decay=lv["reputation_decay"],
            champion_reputation=lv["champion_reputation"],
            mistake_rate=lv["mistake_rate"] if c.use_culture else 0.0,
        )

    def _open_share(self) -> float:
        return float(self.levers["open_by_default"])

    # ------------------------------------------------------------------ schedule
    def _apply_schedule(self, week: int) -> None:
        c, st = self.config, self.state
        if not c.use_rollout or not c.use_barriers:
            if week == 0:
                st.has_access[:] = True
        else:
            for wave in c.waves:
                if wave.week != week:
                    continue
                who = self._wave_members(wave.departments, wave.share)
                if c.access_scope == "early_adopters":
                    who &= st.early_adopter
                st.has_access |= who
                self.events.append({"week": week, "event": "wave", "employees": int(who.sum())})
        if c.use_shocks:
            for shock in c.shocks:
                if shock.week == week:
                    self._apply_shock(shock.kind, shock.severity, week)

    def _wave_members(self, departments: Any, share: float | None) -> np.ndarray:
        org = self.org
        if share is not None:
            first = math.ceil(round(share * org.n_departments, 9))
            return org.department < first
        if departments == "all":
            return np.ones(org.n, dtype=bool)
        if departments == "customer_facing":
            return org.customer_facing.copy()
        if departments == "internal":
            return ~org.customer_facing
        return np.isin(org.department, np.asarray(departments, dtype=np.int32))

    def _apply_shock(self, kind: str, severity: float, week: int) -> None:
        """Scheduled events (mechanism 11): they change state or levers, never the rules."""
        lv, st, cs = self.levers, self.state, self.customer_state
        if kind == "crisis":  # activist attack on the company page (003)
            hit = cs.aware & (self.rng.random(self.market.n) < 0.5 * severity)
            cs.problem_age[hit & (cs.problem_age < 0)] = 0
            cs.trust[cs.aware] = np.maximum(0.0, cs.trust[cs.aware] - 0.1 * severity)
        elif kind == "viral_mistake":  # an employee's mistake goes viral (003, 002)
            self._viral_severity = severity
            if self.config.use_culture:
                fear = lv["blame_culture"] * severity * lv["fear_contagion"]
                st.safety *= 1.0 - fear
        elif kind == "leader_leaves":  # a committed executive sponsor leaves (004)
            execs = np.flatnonzero(self.org.is_executive)
            active = execs[np.isin(st.stage[execs], (CONTRIBUTOR, CHAMPION))]
            leaving = int(active[0] if active.size else execs[0])
            st.stage[leaving] = LAPSED
            st.has_access[leaving] = False
            lv["leader_commitment"] = lv["leader_commitment"] * (1.0 - severity)
        elif kind == "compliance_clampdown":  # legal tightens the firewall (001)
            lv["posting_friction"] = max(lv["posting_friction"], severity)
            lv["open_by_default"] = lv["open_by_default"] * (1.0 - severity)
        self.events.append({"week": week, "event": kind, "severity": severity})

    # ------------------------------------------------------------------ one week
    def step(self) -> None:
        """Simulate one week."""
        c, lv, org, st, E = self.config, self.levers, self.org, self.state, self.engine
        n = org.n
        self._viral_severity = 0.0
        self._apply_schedule(self.week)
        u = self.rng.random((len(EMPLOYEE_STREAMS), n))

        # Purpose: clarity passes down the hierarchy (001, 004).
        if c.use_purpose:
            new_clarity = np.empty(n)
            E.purpose_cascade(org.manager, org.is_executive, st.clarity, st.receptiveness,
                              lv["purpose_strength"], lv["leader_commitment"],
                              lv["purpose_cascade_rate"], new_clarity, st.alignment)
            st.clarity = new_clarity

        # Who around me is active (complex contagion).
        E.neighbour_exposure(org.indptr, org.indices, st.weak_ties, st.weak_count, st.stage,
                             self.influence_weight, st.exposure, st.active_neighbours)
        active_before = is_active_stage(st.stage)
        execs = org.is_executive
        exec_share = float(active_before[execs].mean()) if execs.any() else 0.0
        knowledge_density = self._knowledge_density()
        audience = self._audience()

        # Participation decisions and posts (mechanisms 1-5).
        new_stage = np.empty(n, dtype=np.int8)
        new_reputation = np.empty(n)
        params = self._participation_params()
        if active_before.any():
            attention = float(((1.0 + st.reputation[active_before]) ** params.reputation_feedback).mean())
        else:
            attention = 1.0
        E.participation(st.stage, st.has_access, st.weeks_with_access, st.threshold,
                        self.is_formal_leader, org.manager, org.department, st.alignment, st.safety,
                        st.reputation, st.exposure, st.active_neighbours, knowledge_density, audience,
                        exec_share, attention, params, u[0], u[1], u[2], u[3], u[4],
                        new_stage, st.posts, st.mistake, new_reputation)
        st.weeks_with_access += st.has_access
        st.stage = new_stage
        st.reputation = new_reputation
        st.contributions += st.posts

        # Culture: blame spreads fear (002).
        if c.use_culture:
            new_safety = np.empty(n)
            E.fear_spread(org.indptr, org.indices, st.weak_ties, st.weak_count, st.mistake, st.safety,
                          lv["blame_culture"], lv["fear_contagion"], lv["safety_recovery"],
                          c.initial_safety, lv["mistake_candour"], new_safety)
            st.safety = new_safety

        # Knowledge stock: open posts to everyone, the rest locked in the department (000).
        open_share = self._open_share()
        dept_posts = np.bincount(org.department, weights=st.posts, minlength=org.n_departments)
        keep = 1.0 - lv["knowledge_decay"]
        self.totals.knowledge_open = self.totals.knowledge_open * keep + open_share * float(dept_posts.sum())
        self.totals.knowledge_dept = self.totals.knowledge_dept * keep + (1.0 - open_share) * dept_posts

        # Weak ties grow from open activity (002).
        if c.use_network_effect and st.weak_ties.shape[1] > 0:
            posted = np.flatnonzero(st.posts > 0).astype(np.int32)
            self.totals.weak_ties_formed += int(E.grow_weak_ties(
                org.indptr, org.indices, org.department, st.posts, posted,
                lv["weak_tie_rate"] * open_share, u[5], u[6], st.weak_ties, st.weak_count))

        # Productivity (002).
        knowledge_density = self._knowledge_density()
        if c.use_productivity:
            E.productivity(org.department, self.base_cross_ties + st.weak_count, st.stage, st.has_access,
                           knowledge_density, lv["creative_gain"], lv["connective_gain"],
                           lv["compounding_gain"], lv["value_saturation"], st.productivity, st.reuse)

        active_now = is_active_stage(st.stage)
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
        self.week += 1
        self.recorder.record(self)
        self.datacollector.collect(self)
        if self.week >= c.weeks:
            self.running = False

    def _knowledge_density(self) -> np.ndarray:
        """Reusable items per head visible from each department."""
        return self.totals.knowledge_open / self.org.n + self.totals.knowledge_dept / self.dept_size

    def _audience(self) -> np.ndarray:
        """Share of colleagues who read a post from each department."""
        st, org = self.state, self.org
        users = st.has_access & (st.stage != NON_USER) & (st.stage != LAPSED)
        dept_users = np.bincount(org.department, weights=users, minlength=org.n_departments) / self.dept_size
        open_share = self._open_share()
        return open_share * float(users.mean()) + (1.0 - open_share) * dept_users

    def _customer_week(self, active: np.ndarray) -> int:
        c, lv, st, cs, mk = self.config, self.levers, self.state, self.customer_state, self.market
        org = self.org
        u = self.rng.random((len(CUSTOMER_STREAMS), mk.n))
        community_open = self.week >= c.external_launch_week
        facing_active = active & org.customer_facing
        n_facing_active = int(facing_active.sum())
        if n_facing_active:
            connected = float(((self.base_cross_ties + st.weak_count)[facing_active] > 0).mean())
        else:
            connected = 0.0
        one_company = 1.0 - lv["silo_penalty"] * (1.0 - connected)
        open_member_problems = int((cs.member & (cs.problem_age >= 0)).sum())
        capacity = n_facing_active * lv["answers_per_contributor"] + self.totals.peer_answers
        chance = min(1.0, capacity / max(1, open_member_problems)) * one_company if community_open else 0.0
        # Customers see customer-facing staff's mistakes (and a viral one); candour earns trust,
        # defensiveness loses it (002).
        visible = float((st.mistake & org.customer_facing).sum())
        trust_shift = 0.0
        if c.use_culture:
            candour = 2.0 * lv["mistake_candour"] - 1.0
            trust_shift = candour * (MISTAKE_TRUST_STEP * math.log1p(visible)
                                     + VIRAL_TRUST_STEP * self._viral_severity)
        params = CustomerParams(
            community_open=bool(community_open), marketing_reach=lv["marketing_reach"],
            word_of_mouth=lv["word_of_mouth"], join_rate=lv["join_rate"],
            problem_rate=lv["problem_rate"], support_answer_rate=lv["support_answer_rate"],
            community_answer_chance=chance,
            listening=lv["listening"] if c.use_listening else 0.0,
            patience=int(lv["customer_patience"]), detractor_influence=lv["detractor_influence"],
            advocate_trust=lv["advocate_trust"], detractor_trust=lv["detractor_trust"],
            idea_rate=lv["idea_rate"], peer_answer_rate=lv["peer_answer_rate"],
            trust_shift=trust_shift, trust_reversion=lv["trust_reversion"])
        out = CustomerState(
            aware=np.empty_like(cs.aware), member=np.empty_like(cs.member),
            trust=np.empty_like(cs.trust), baseline_trust=cs.baseline_trust, sentiment=np.empty_like(cs.sentiment),
            problem_age=np.empty_like(cs.problem_age), ideas=cs.ideas, answers=cs.answers,
            answered_age=cs.answered_age, idea=cs.idea, peer_answer=cs.peer_answer)
        self.engine.customer_step(
            mk.indptr, mk.indices, mk.contact_indptr, mk.contact_indices, active,
            cs.aware, cs.member, cs.trust, cs.baseline_trust, cs.sentiment, cs.problem_age, params,
            u[0], u[1], u[2], u[3], u[4], u[5],
            out.aware, out.member, out.trust, out.sentiment, out.problem_age,
            out.answered_age, out.idea, out.peer_answer)
        new_problems = int((out.problem_age == 0).sum())  # existing problems are at least a week old
        out.ideas += out.idea
        out.answers += out.peer_answer
        self.customer_state = out
        self.totals.peer_answers = int(out.peer_answer.sum())
        ideas = int(out.idea.sum())
        self.totals.ideas += ideas
        if c.use_listening:
            self.totals.signals_captured += lv["listening"] * (new_problems + ideas)
        self._community_answer_chance = chance
        return ideas

    def _economics(self, active: np.ndarray, new_innovations: float) -> None:
        lv, st, cs = self.levers, self.state, self.customer_state
        leaders_active = int((active & self.is_formal_leader).sum())
        cost = (lv["seat_cost"] * int(st.has_access.sum()) + lv["programme_cost"]
                + lv["leader_time_cost"] * leaders_active)
        advocates = int((cs.sentiment == 1).sum())
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
