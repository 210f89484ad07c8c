"""The model is a proper Mesa model: agents are views, AgentSet/DataCollector/batch_run work."""

from __future__ import annotations

import mesa
import numpy as np

from sim import SocialBusinessModel
from sim.agents import Customer, Employee, Leader

from .conftest import small


def test_agents_are_thin_views_on_the_arrays():
    model = SocialBusinessModel(small(weeks=10), rng=4)
    model.run()
    employees = model.employees
    customers = model.customers
    assert len(employees) == model.org.n
    assert len(customers) == model.market.n
    assert len(model.agents) == model.org.n + model.market.n
    e = next(iter(employees))
    assert e.stage == ("non_user", "reader", "contributor", "champion", "lapsed")[model.state.stage[e.row]]
    model.state.reputation[e.row] = 12.5  # a view reads the array, nothing is copied
    assert e.reputation == 12.5
    leaders = model.agents_by_type[Leader]
    assert all(a.role in ("executive", "manager", "informal_leader") for a in leaders)
    assert sum(1 for a in leaders if a.role == "executive") == model.org.n_departments


def test_agentset_select_and_groupby():
    model = SocialBusinessModel(small(weeks=15, use_shocks=False), rng=2)
    model.run()
    active = model.employees.select(lambda a: a.is_active)
    assert len(active) == int(np.isin(model.state.stage, (2, 3)).sum())
    by_dept = model.employees.groupby("department")
    sizes = {dept: len(group) for dept, group in by_dept}
    assert sizes == {d: int(n) for d, n in enumerate(np.diff(model.org.dept_start))}
    assert all(isinstance(c, Customer) for c in model.customers.select(lambda c: c.member))


def test_datacollector_works_unchanged():
    model = SocialBusinessModel(small(weeks=5, customers=200), rng=1)
    collector = mesa.DataCollector(
        model_reporters={"active": lambda m: int(np.isin(m.state.stage, (2, 3)).sum())},
        agent_reporters={"stage": lambda a: getattr(a, "stage", None)})
    for _ in range(5):
        model.step()
        collector.collect(model)
    frame = collector.get_model_vars_dataframe()
    assert frame["active"].tolist() == model.result().series["active_contributors"].iloc[1:].tolist()
    assert len(collector.get_agent_vars_dataframe()) == 5 * (model.org.n + model.market.n)


def test_batch_run_sweeps_levers():
    rows = mesa.batch_run(
        SocialBusinessModel,
        parameters={"employees": 120, "departments": 3, "customers": 300, "weeks": 6,
                    "purpose_strength": [0.0, 0.9]},
        max_steps=10, number_processes=1, display_progress=False, rng=[1, 2])
    assert len(rows) == 4
    assert {r["purpose_strength"] for r in rows} == {0.0, 0.9}
    assert all(r["Step"] == 6 for r in rows)  # the model stops itself at its horizon
    assert all(0.0 <= r["active_share"] <= 1.0 for r in rows)  # from the model's DataCollector


def test_agents_are_built_lazily():
    model = SocialBusinessModel(small(weeks=3), rng=1)
    model.run()
    assert not model._views_built
    assert isinstance(next(iter(model.employees)), Employee)
    assert model._views_built
