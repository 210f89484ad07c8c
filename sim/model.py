"""The Mesa model: one organisation, its customers and a rollout strategy.

``SocialBusinessModel`` owns the state (numpy arrays, :mod:`sim.state`), the networks and one
seeded ``numpy.random.Generator`` for the initial draws. The weeks themselves run in
:func:`sim.week.simulate`: every mechanism, the schedule, the sums and the recorded outputs in
one function, compiled for ``engine="numba"`` and plain Python with the readable agent loops
of :mod:`sim.reference` for ``engine="python"``. ``step()`` advances one week through it; ``run()``
advances the whole horizon in one call. Weekly random numbers are counter-based
(:mod:`sim.rng`, keyed by the seed). Nothing here depends on which strategy is being run: a
strategy is only a :class:`~sim.scenario.Scenario`.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from . import engine as compiled
from . import kernels, reference
from . import rng as counter_rng
from . import week as weekly
from .agents import Customer, Employee, Leader
from .errors import ScenarioError
from .kernels import CHAMPION, CONTRIBUTOR
from .networks import Market, Organisation, build_market, build_organisation, organisation_from_chart
from .orgchart import read_org_chart, read_ties
from .outputs import RunResult, SeriesRecorder
from .scenario import Scenario, load_scenario, make_scenario
from .schedule import EVENT_NAMES, schedule_arrays
from .state import department_effort, initial_customers, initial_employees, writers

ENGINES = {"numba": kernels, "python": reference}

#: Random streams of every employee and every customer each week (sim/rng.py numbers them).
EMPLOYEE_STREAMS = ("adopt", "read", "lapse", "react", "post", "mistake", "tie", "tie_target", "leave")
CUSTOMER_STREAMS = ("aware", "join", "problem", "answer", "idea", "peer_answer")

#: Outputs also exposed through Mesa's DataCollector (for mesa.batch_run users).
DATACOLLECTOR_COLUMNS = ("active_share", "active_share_of_all", "contributors_4w", "viewers_4w", "readers",
                         "lapsed", "gini", "top1_share", "productivity_gain", "members", "advocates",
                         "detractors", "mean_trust", "net_value")

WeekConfig = weekly.WeekConfig
HIERARCHY_CODES = {"top_down": weekly.TOP_DOWN, "bottom_up": weekly.BOTTOM_UP, "middle_out": weekly.MIDDLE_OUT}


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
        engine: ``"numba"`` (compiled) or ``"python"`` (the readable reference engine).
        **levers: scenario values that override ``config`` (so ``mesa.batch_run`` can sweep
            them); validated like a scenario file.

    Attributes:
        config: the validated scenario. levers: the scenario's values as a dict.
        org, market: the networks. state, customer_state: the agents' arrays. totals: the
        organisation totals (sim.week's ``T_*`` indices). week: weeks simulated so far.
        recorder: the weekly outputs.
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
        self._views_built = False

        c = config
        if c.organisation:  # an imported org chart (and its real ties, if given): sim.orgchart
            chart = read_org_chart(c.organisation)
            self.org: Organisation = organisation_from_chart(
                self.rng, chart, read_ties(c.real_ties(), chart) if c.real_ties() else None, team_ties=c.team_ties,
                team_rewiring=c.team_rewiring, cross_silo_ties=c.cross_silo_ties,
                informal_leader_share=c.informal_leader_share)
        else:
            self.org = build_organisation(
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
        self._simulate(0)  # row 0: the state before the first week
        # Mesa's DataCollector (what mesa.batch_run reads): views on the recorder's columns.
        self.datacollector = mesa.DataCollector(model_reporters={
            name: _series_reporter(name) for name in DATACOLLECTOR_COLUMNS})
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ set-up
    def _init_state(self) -> None:
        c, org, n, m = self.config, self.org, self.org.n, self.market.n
        # The weekly draws are counter-based: a hash of this key, the week, the stream and the agent.
        self.key = np.uint64(counter_rng.seed_key(self.seed) if self.seed is not None
                             else int(self.rng.integers(0, 2**63)))
        #: each employee's multiplier of the personal bars: the workforce's effort times their department's
        self.effort = department_effort(self.key, c, org.department, org.n_departments)
        self.is_formal_leader = org.is_manager | org.is_executive
        self.state, self.early_cutoff = initial_employees(self.rng, c, n, self.effort,
                                                          writers(self.key, c, self.is_formal_leader))
        self.customer_state = initial_customers(self.rng, c, m, self.market.indptr, self.market.indices)
        has_boss = org.manager >= 0
        is_middle = org.is_manager & ~org.is_executive
        boss_is_middle = np.zeros(n, dtype=bool)
        boss_is_middle[has_boss] = is_middle[org.manager[has_boss]]
        src = np.repeat(np.arange(n), np.diff(org.indptr))
        self.base_cross_ties = np.bincount(
            src[org.department[src] != org.department[org.indices]], minlength=n).astype(np.int32)
        self.dept_size = np.diff(org.dept_start).astype(np.float64)
        self.net = weekly.Net(
            indptr=org.indptr, indices=org.indices, department=org.department, manager=org.manager,
            is_executive=org.is_executive, is_formal_leader=self.is_formal_leader, is_middle_manager=is_middle,
            boss_is_middle=boss_is_middle, has_boss=has_boss,
            n_reports=np.bincount(org.manager[has_boss], minlength=n)[:n].astype(np.float64),
            n_middle_reports=np.bincount(org.manager[has_boss & is_middle], minlength=n)[:n].astype(np.float64),
            customer_facing=org.customer_facing,
            influence_weight=1.0 + c.informal_leader_weight * org.is_informal_leader * c.use_role_models,
            dept_size=self.dept_size, effort=self.effort, base_cross_ties=self.base_cross_ties,
            m_indptr=self.market.indptr, m_indices=self.market.indices,
            m_degree=np.diff(self.market.indptr).astype(np.int32),
            contact_indptr=self.market.contact_indptr, contact_indices=self.market.contact_indices)
        self.schedule = schedule_arrays(c, org)
        self.week_config = WeekConfig(
            **{name: getattr(c, name) for name in WeekConfig._fields if name not in weekly.CONFIG_EXTRA},
            hierarchy=HIERARCHY_CODES[c.hierarchy_influence], early_scope=c.access_scope == "early_adopters",
            early_cutoff=float(self.early_cutoff), rollout_all=not c.use_rollout or not c.use_barriers,
            n_customers=m, n_departments=org.n_departments,
            par_staff=n >= compiled.PARALLEL_FROM_AGENTS, par_customers=m >= compiled.PARALLEL_FROM_AGENTS)
        self.lv = np.array([c.posting_friction, c.open_by_default, c.leader_commitment])
        self.totals = np.zeros(weekly.N_TOTALS)
        self.knowledge_dept = np.zeros(org.n_departments)
        #: cumulative contributions of users who left (``totals[T_DEPARTED]`` of them are filled)
        self.departed = np.zeros(16, dtype=np.int64)
        self.event_log = np.zeros((len(c.waves) + len(c.shocks) + 1, 4))
        most_posts = int((c.posting_budget + 1) * c.weeks) + 2  # contributions never exceed this
        self.scratch = weekly.Scratch(
            u=np.empty((9, n)), new_stage=np.empty(n, dtype=np.int8), new_real=np.empty(n),
            new_real_2=np.empty(n), visible=np.zeros(n, dtype=bool), active_now=np.zeros(n, dtype=bool),
            kd=np.zeros(org.n_departments), d_a=np.zeros(org.n_departments), d_b=np.zeros(org.n_departments),
            seen=np.zeros(n), seen_2=np.zeros(n), posted=np.zeros(n, dtype=np.int32),
            seats=np.zeros(n, dtype=np.int32), cross=np.zeros(n, dtype=np.int32),
            changed=np.zeros(m, dtype=np.int8),
            hist=np.zeros(min(most_posts, 50_000_000), dtype=np.int64))
        self._week_functions = weekly.functions(self.engine_name)

    def _simulate(self, weeks: int) -> None:
        """Advance ``weeks`` weeks (0: only record the current row) in one call of sim.week."""
        if weeks == 0:
            self._record_only()
            return
        self.recorder.ensure(self.week + weeks + 1)
        self.departed = self._week_functions["simulate"](
            self.net, self.state, self.customer_state, self.schedule, self.week_config, self.lv, self.totals,
            self.knowledge_dept, self.departed, self.event_log, self.key, self.week, weeks,
            self.recorder.series, self.recorder.dept_stage, self.recorder.dept_posted, self.scratch)
        self.week += weeks
        self.recorder.rows = self.week + 1

    def _record_only(self) -> None:
        self._week_functions["record"](self.net, self.state, self.customer_state, self.week_config, self.totals, self.knowledge_dept,
               self.departed, self.week, self.recorder.series, self.recorder.dept_stage,
               self.recorder.dept_posted, self.scratch)
        self.recorder.rows = self.week + 1

    @property
    def events(self) -> list[dict[str, Any]]:
        """The waves and shocks that happened: week, event and its size (seats or severity)."""
        out = []
        for week, code, value, extra in self.event_log[: int(self.totals[weekly.T_EVENTS])]:
            if code == weekly.EVENT_WAVE:
                out.append({"week": int(week), "event": "wave", "employees": int(value),
                            "spread": "scattered" if extra else "clustered"})
            else:
                out.append({"week": int(week), "event": EVENT_NAMES[int(code)], "severity": float(value)})
        return out

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

    def visibly_active(self) -> np.ndarray:
        """Who colleagues see contributing now: posted within the last ``visibility_window`` weeks."""
        st = self.state
        return st.has_access & (st.last_post > self.week - self.config.visibility_window)

    # ------------------------------------------------------------------ running
    def step(self) -> None:
        """Simulate one week (one call of :func:`sim.week.simulate` with one week)."""
        self._simulate(1)
        self.datacollector.collect(self)
        if self.week >= self.config.weeks:
            self.running = False

    def run(self, weeks: int | None = None, progress: Any = None) -> RunResult:
        """Run to the horizon (or ``weeks`` more weeks) and return the result.

        Without ``progress`` the weeks are one compiled call; with it, about twenty calls, each
        followed by ``progress(done, total)``. Mesa's step counter and the DataCollector are
        brought up to date afterwards, as if ``step()`` had been called each week.

        Args:
            weeks: how many weeks to simulate (default: up to the scenario's horizon).
            progress: optional callable ``progress(done, total)``.
        """
        total = self.config.weeks - self.week if weeks is None else weeks
        chunk = total if progress is None else max(1, total // 20)
        done = 0
        first = self.week
        while done < total:
            todo = min(chunk, total - done)
            self._simulate(todo)
            done += todo
            if progress is not None:
                progress(done, total)
        for week in range(first + 1, first + total + 1):  # what step() would have collected
            self.steps += 1
            self.time += 1
            for name in DATACOLLECTOR_COLUMNS:
                self.datacollector.model_vars[name].append(float(self.recorder.columns[name][week]))
        if self.week >= self.config.weeks:
            self.running = False
        return self.result()

    def result(self) -> RunResult:
        """The outputs so far, with seed, scenario hash and package version."""
        return self.recorder.result(self)
