"""Section 6 (mesa) and section 7 (floor): the model against what a Mesa user would write, and
against the least a week over the same edges can cost.

**mesa**: the same rules as a plain Mesa object model (:mod:`sim.bench.mesa_model`: agents as
``mesa.Agent`` objects, networkx neighbours, ``AgentSet.shuffle_do``, a DataCollector) at 10k
agents, built from the same organisation and market. It runs a few weeks (5; 2 with
``quick``), timed per week; the numba model runs 104 weeks in the same process. ``ratio`` =
Mesa seconds per week / numba seconds per week over its whole run (a Mesa week costs about the
same every week: every agent runs every phase); ``ratio_same_weeks`` compares the same first
weeks. Their last week's shares are recorded side by side (``shares``).

**floor**: the bare synchronous threshold step of :mod:`sim.bench.floor` (count active
neighbours over a CSR row, compare with a threshold, write the next state) over exactly the
model's edges, 104 times, as a parallel and a serial kernel; the floor is the faster of the
two. For the small (600 + 6,000) and default (3,000 + 30,000) organisations: median of several
104-week runs of the full model after construction (``model_run_s``, the weeks alone), of
``model.run()`` (weeks and ``RunResult``) and of whole ``sim.run`` calls (``sim_run_s``,
construction included, as issue 8 counted it), each divided by the floor.

The third baseline, the plain-Python engine, runs inside each size's worker
(:mod:`sim.bench.sizes`), so that its ratio is taken on the same model and the same weeks.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from .measure import (SEED, WEEKS, edges_of, load_average, numba_threads, rss_mib, run_weeks, scenario_of,
                      warm)
from .sizes import parse_size
from .workers import run_worker

#: Mesa object model: size and weeks timed (quick, full).
MESA_SIZE = "10k"
MESA_WEEKS = (2, 5)
#: Floor section: organisations and repeats (quick, full).
FLOOR_POPULATIONS = ("small", "default")
FLOOR_REPEATS = (3, 5)


def worker_mesa(spec: str, mesa_weeks: int) -> dict[str, Any]:
    """Section 6 in this process: the Mesa object model and the numba model at one size."""
    from ..model import SocialBusinessModel
    from .mesa_model import MesaObjectModel, compare_shares

    out: dict[str, Any] = {"load_start": load_average()}
    size = parse_size(spec)
    agents = size["employees"] + size["customers"]
    out.update(size, agents=agents, weeks=WEEKS, mesa_weeks=mesa_weeks, seed=SEED)
    warm()
    scenario = scenario_of(size, WEEKS)
    model = SocialBusinessModel(scenario, seed=SEED, engine="numba")
    out.update(edges_of(model))
    rss = rss_mib()
    t = time.perf_counter()
    mesa_model = MesaObjectModel(scenario, seed=SEED, network_model=model)  # same organisation and market
    out["mesa_build_s"] = time.perf_counter() - t
    out["mesa_model_mib"] = rss_mib() - rss
    per_week = []
    for _ in range(mesa_weeks):
        t = time.perf_counter()
        mesa_model.step()
        per_week.append(time.perf_counter() - t)
    out["mesa_s"] = sum(per_week)
    out["mesa_week_times_s"] = per_week
    out["mesa_week_s"] = out["mesa_s"] / mesa_weeks
    out["numba_first_s"], first, _, out["result_s"] = run_weeks(model, mesa_weeks)
    out["shares"] = compare_shares(mesa_model, first.series)
    rest = run_weeks(model, WEEKS - mesa_weeks)[0]
    out["numba_s"] = out["numba_first_s"] + rest
    out["numba_week_s"] = out["numba_s"] / WEEKS
    out["mesa_rate"] = agents / out["mesa_week_s"]
    out["numba_rate"] = agents / out["numba_week_s"]
    out["ratio"] = out["mesa_week_s"] / out["numba_week_s"]
    out["ratio_same_weeks"] = out["mesa_s"] / out["numba_first_s"]
    out["threads"], out["threading_layer"] = numba_threads()
    out["load_end"] = load_average()
    return out


def measure_mesa(spec: str = MESA_SIZE, weeks: int = MESA_WEEKS[1]) -> dict[str, Any]:
    """Section 6, in its own process."""
    return run_worker(["mesa", spec, weeks])


def worker_floor(population: str, repeats: int) -> dict[str, Any]:
    """Section 7 in this process: the full model vs the bare threshold step, one organisation."""
    from ..model import SocialBusinessModel
    from ..runner import run
    from ..scenario import Scenario
    from . import floor

    out: dict[str, Any] = {"population": population, "repeats": repeats, "load_start": load_average()}
    warm()
    floor.warm()
    scenario = Scenario().with_population(population)
    out["employees"], out["customers"], out["weeks"] = scenario.employees, scenario.customers, scenario.weeks
    out["agents"] = scenario.employees + scenario.customers
    run(scenario, seed=SEED)  # first run of this size: page faults, caches
    builds, weeks_s, totals, results, runs_s = [], [], [], [], []
    model = None
    for r in range(repeats):
        t = time.perf_counter()
        model = SocialBusinessModel(scenario, seed=SEED + r)
        builds.append(time.perf_counter() - t)
        weeks, _, total, building = run_weeks(model, scenario.weeks)
        weeks_s.append(weeks)
        totals.append(total)
        results.append(building)
        t = time.perf_counter()
        run(scenario, seed=SEED + r)
        runs_s.append(time.perf_counter() - t)
    out["build_s"] = statistics.median(builds)
    out["model_run_s"] = statistics.median(weeks_s)  # the 104 weeks alone
    out["model_run_total_s"] = statistics.median(totals)  # the weeks and their RunResult
    out["result_s"] = statistics.median(results)
    out["sim_run_s"] = statistics.median(runs_s)  # sim.run(): construction, weeks, result
    out["model_run_times_s"] = weeks_s
    out.update(edges_of(model))
    out.update(floor.floor_of_model(model, scenario.weeks, repeats=max(3, repeats)))
    out["model_week_ms"] = 1000 * out["model_run_s"] / scenario.weeks
    out["floor_week_ms"] = 1000 * out["floor_s"] / scenario.weeks
    out["x_floor"] = out["model_run_s"] / out["floor_s"]
    out["x_floor_parallel"] = out["model_run_s"] / out["floor_parallel_s"]
    out["x_floor_with_result"] = out["model_run_total_s"] / out["floor_s"]
    out["x_floor_sim_run"] = out["sim_run_s"] / out["floor_s"]
    out["threads"], out["threading_layer"] = numba_threads()
    out["load_end"] = load_average()
    return out


def measure_floor(population: str, repeats: int = FLOOR_REPEATS[1]) -> dict[str, Any]:
    """Section 7 for one organisation, in its own process."""
    return run_worker(["floor", population, repeats])
