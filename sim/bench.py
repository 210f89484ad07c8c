"""``socialsim bench``: the whole performance story in one run, every ratio measured side by side.

Method
------
Every measurement runs in a fresh worker process (``python -c`` calling :func:`worker`, which
prints one JSON line), all in the same invocation of :func:`main`, so the ratios between them
are taken on the same machine under the same load. The parent only orchestrates and prints
(``--json``: one JSON object on stdout, see :data:`JSON_KEYS` and the README's Performance
section). The model is used only through its public API (``SocialBusinessModel(scenario,
seed=..., engine=...)``, ``.run(weeks=...)``, ``.result()``, ``.org`` and ``.market`` CSR arrays,
``sim.run``, ``sim.classic.threshold_cascade``), so the benchmark does not depend on how the
engine works inside. A timed "run of k weeks" is ``model.run(weeks=k)`` on a model already
built (not the construction of its networks), less the cost of building the ``RunResult`` it
returns (pandas tables, once a run), which is timed apart (``result_s``): the weeks alone, what
"time per week" means in every ratio. Figures with the result included are reported too.

1. **compile**: JIT compile time (one-off). A worker with ``NUMBA_CACHE_DIR`` pointing at a
   new, empty temporary folder warms every kernel; a second worker with the same, now filled,
   folder does the same (the cost of loading the cached machine code). Import time of ``sim``.
2. **sizes**: each size (``10k``, ``100k``, ``1m``; ``10m`` on request: ``--sizes
   10k,100k,1m,10m``) in its own worker, so the peak resident memory
   (``getrusage(RUSAGE_SELF).ru_maxrss``) belongs to that size alone. The worker warms the
   kernels, times model construction, then 104 numba weeks: agent-steps/s = agents * weeks /
   seconds, edges/s = edge entries (organisation + customer graph + contacts) * weeks /
   seconds. Then the bare threshold step (section 7's floor) over the same edges, 104 times:
   ``x_floor`` = numba seconds / floor seconds. Then a model of the same size and seed with the
   ``python`` engine for its first ``python_steps`` weeks (104 at 10k, 3 at 100k, 1 from 1M):
   ``ratio_same_weeks`` compares the same weeks (the numba run is split after those weeks), and
   ``same_results`` checks those weeks row by row. Sizes ``"10k"``, ``"100k"``, ``"1m"`` mean
   1,000 / 10,000 / 100,000 employees and 9x as many customers in 10 / 20 / 40 departments;
   ``"1m"`` uses ``customer_degree = 10``; any ``"<n>k"`` or ``"<n>m"`` means that many agents,
   10% of them employees (``"10m"``: 1M employees, 9M customers, degree 10, ~108M edges).
   Unless ``quick``, the numba run is repeated with one thread.
3. **edges**: linearity in edges. At 100k agents the customer degree (4, 16, 32, 64) and the
   team ties (10, 40) vary; a least-squares line of seconds per week against edges gives the
   cost per million edges and the fixed cost, with R^2.
4. **default**: ``sim.run()`` with the defaults (3,000 employees, 30,000 customers, 104 weeks)
   after compilation: median of 5 runs, and 10 replicates (what the dashboard does).
5. **baseline**: a week of this code against model v1 (v0.1.0, exported from git history),
   alternating fresh processes.
6. **mesa**: the same rules as a plain Mesa object model (:mod:`sim.bench_mesa`: agents as
   ``mesa.Agent`` objects, networkx neighbours, ``AgentSet.shuffle_do``, a DataCollector) at
   10k agents, built from the same organisation. It runs a few weeks (5; 2 with ``quick``),
   timed per week; the numba model runs 104 weeks in the same process. ``ratio`` = Mesa
   seconds per week / numba seconds per week over its whole run (a Mesa week costs about the
   same every week: every agent runs every phase); ``ratio_same_weeks`` compares the same first
   weeks. Their last week's shares are recorded side by side (``shares``).
7. **floor**: the floor this machine allows (:mod:`sim.bench_floor`): a bare numba
   synchronous threshold step (count active neighbours over a CSR row, compare with a
   threshold, write the next state) over exactly the model's edges, 104 times, as a parallel
   (``parallel=True``) and a serial kernel; the floor is the faster of the two. For the small
   (600 + 6,000) and default (3,000 + 30,000) organisations: median of several 104-week runs of
   the full model after construction (``model_run_s``) and of whole ``sim.run`` calls
   (``sim_run_s``, construction included, as issue 8 counted it), each divided by the floor.
8. **throughput**: runs per second for the small and default organisations (replicates of the
   default scenario through :func:`sim.experiments.run_sweep`, in batches): serial
   ``sim.run`` (one thread, no sweep machinery: ``t1`` per run), the serial sweep
   (``workers = 0``) and a 2-worker Dask ``LocalCluster``; speed-up over serial, efficiency =
   speed-up / workers, and overhead per run = ``(wall - t1 * runs / workers) / runs``
   (cluster start and warm-up are reported apart). The fastest of the rounds counts.
9. **cascade**: :func:`sim.classic.threshold_cascade` on 100k nodes (random graph, mean degree
   8, thresholds uniform in [0.1, 0.25), 0.1% seeds: a global cascade of ~26 steps) against a
   scipy-sparse loop (one matrix-vector product per step), NDlib's ``ThresholdModel`` (if
   ``ndlib`` is installed: it is in the test extras) and the bare kernel of section 7, all
   for the same number of steps; identical final states are checked (``identical_*``).
10. **startup**: ``socialsim --help`` against ``python -c "import numpy"``, median of fresh
    processes, alternating.
11. **engine**: ``sim.run`` of the small and default organisations with this code and with
    the engine before issue 8 (:data:`ENGINE_REF`, exported from git history), alternating
    fresh processes: ``speedup`` = before / now.

Targets (:data:`TARGETS`) are judged in one table, every target of issue 8 and the earlier
ones kept; a target whose measurement is missing (section not run, failed, size not
requested) is NOT MET, never left out. The machine's load average is recorded with every
worker: on a shared machine timings are noisy, and so are these.
"""

from __future__ import annotations

import gc
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_SIZES = ("10k", "100k", "1m")
SEED = 20240601
WEEKS = 104
RESULT_MARK = "BENCH-RESULT "
#: Every section, in the order they run.
SECTIONS = ("compile", "startup", "sizes", "floor", "mesa", "edges", "default", "throughput", "cascade", "engine",
            "baseline")

#: Named sizes: employees, departments, customers, customer_degree.
NAMED_SIZES: dict[str, tuple[int, int, int, float]] = {
    "10k": (1_000, 10, 9_000, 6.0),
    "100k": (10_000, 20, 90_000, 6.0),
    "1m": (100_000, 40, 900_000, 10.0),
}

#: Linearity section: fixed population, varying (customer_degree, team_ties).
EDGE_POPULATION = {"employees": 10_000, "departments": 20, "customers": 90_000}
# Wide enough (0.5 to 6 M edges) that the per-edge cost shows above the fixed per-agent cost.
EDGE_CONFIGS = ((4.0, 10), (16.0, 10), (32.0, 10), (64.0, 10), (16.0, 40))
EDGE_WEEKS, EDGE_WEEKS_QUICK = 20, 5

#: Mesa object model: size and weeks timed (quick, full).
MESA_SIZE = "10k"
MESA_WEEKS = (2, 5)
#: Floor section: organisations and repeats (quick, full).
FLOOR_POPULATIONS = ("small", "default")
FLOOR_REPEATS = (3, 5)
#: Throughput: population -> (runs, batch size), quick and full.
THROUGHPUT_RUNS = {"small": ((12, 3), (24, 3)), "default": ((6, 2), (12, 3))}
#: Cascade comparison: nodes, mean degree, threshold range, seed share, maximum steps.
CASCADE = {"nodes": 100_000, "degree": 8, "threshold_low": 0.1, "threshold_high": 0.25, "seed_share": 0.001,
           "max_steps": 200}
#: The engine before issue 8 (main when the compiled run was started): "today's engine" of its targets.
ENGINE_REF = "6362d917248b436f07f83fd51757b99a1ad64007"

# Targets of issue 8.
TARGET_FLOOR_SMALL = 4.0
TARGET_ENGINE_SPEEDUP = 5.0
TARGET_MESA = 1000.0
TARGET_RATIO = 300.0  # numba vs the python engine, at every size
TARGET_FLOOR_1M = 3.0
TARGET_10M_S = 600.0
TARGET_10M_MIB = 12 * 1024.0
TARGET_SCIPY = 3.0
TARGET_NDLIB = 500.0
TARGET_HELP = 3.0
TARGET_OVERHEAD_MS = 5.0
# Targets of earlier issues, still judged.
TARGET_DEFAULT_S = 1.0
TARGET_1M_S = 60.0
TARGET_1M_MIB = 4096.0
MIB = 1024.0 * 1024.0


# ---------------------------------------------------------------------------------- sizes
def parse_size(spec: str) -> dict[str, Any]:
    """A size spec as scenario values: ``"10k"``, ``"100k"``, ``"1m"`` or any ``"<n>k"``/``"<n>m"``.

    A generic spec is a total number of agents, 10% of them employees; departments are 10 up
    to 10k agents, 20 up to 100k, 40 above; customer degree 10 from 1M agents, else the default 6.

    Raises:
        ValueError: the spec is not of that form or gives fewer than 2 employees.
    """
    key = str(spec).strip().lower()
    if key in NAMED_SIZES:
        employees, departments, customers, degree = NAMED_SIZES[key]
    else:
        match = re.fullmatch(r"(\d+(?:\.\d+)?)([km])", key)
        if not match:
            raise ValueError(f"size {spec!r}: allowed: 10k, 100k, 1m or any <n>k / <n>m (total agents)")
        total = round(float(match.group(1)) * (1_000 if match.group(2) == "k" else 1_000_000))
        employees = round(0.1 * total)
        if employees < 2:
            raise ValueError(f"size {spec!r}: {employees} employees; allowed: at least 20 agents")
        customers = total - employees
        departments = 10 if total <= 10_000 else 20 if total <= 100_000 else 40
        departments = max(1, min(departments, employees // 10))
        degree = 10.0 if total >= 1_000_000 else 6.0
    return {"size": key, "employees": employees, "departments": departments, "customers": customers,
            "customer_degree": degree}


def default_python_steps(agents: int, quick: bool) -> int:
    """Weeks of the python engine timed by default: all 104 at 10k, 3 at 100k, 1 at 1M."""
    if agents <= 10_000:
        return 10 if quick else WEEKS
    if agents <= 100_000:
        return 1 if quick else 3
    return 1


# ---------------------------------------------------------------------------------- worker side
def _maxrss_mib() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024.0  # bytes on macOS, KiB on Linux


def _rss_mib() -> float:
    """Current resident set size (Linux /proc; NaN elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def _load() -> float:
    try:
        return float(os.getloadavg()[0])
    except OSError:
        return float("nan")


def _signatures() -> int:
    """Compiled signatures over all kernels (grows if a timed run had to compile); -1 if unknown."""
    try:
        from numba.core.registry import CPUDispatcher

        from . import kernels

        return sum(len(f.signatures) for f in vars(kernels).values() if isinstance(f, CPUDispatcher))
    except Exception:  # noqa: BLE001 - the engine's layout is not the benchmark's business
        return -1


def _warm() -> float:
    """Compile or load every kernel (every variant the engine has); seconds."""
    t = time.perf_counter()
    try:
        from .runner import warm_kernels
    except ImportError:
        warm_kernels = None
    if warm_kernels is not None:
        warm_kernels()
    else:  # fall back on a tiny run through the public API
        from .runner import run
        from .scenario import Scenario

        run(Scenario(employees=40, departments=2, customers=120, weeks=3), seed=0)
    return time.perf_counter() - t


def _threading() -> tuple[int, str]:
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        layer = "?"
    return int(numba.get_num_threads()), layer


def _scenario(size: dict[str, Any], weeks: int, **extra: Any):
    from .scenario import Scenario

    return Scenario().with_levers(name=f"bench-{size['size']}", employees=size["employees"],
                                  departments=size["departments"], customers=size["customers"],
                                  customer_degree=size["customer_degree"], weeks=weeks, **extra)


def _edges(model) -> dict[str, int]:
    org, mk = model.org, model.market
    out = {"org_nnz": int(org.indices.size), "customer_nnz": int(mk.indices.size),
           "contacts_nnz": int(mk.contact_indices.size)}
    out["edges"] = out["org_nnz"] + out["customer_nnz"] + out["contacts_nnz"]
    return out


def _run_weeks(model, weeks: int) -> tuple[float, Any, float, float]:
    """Time ``model.run(weeks=weeks)``: ``(weeks_s, result, total_s, result_s)``.

    ``total_s`` is the whole call: the weeks and the ``RunResult`` it returns (pandas tables
    built once a run). ``result_s`` is the cost of building that result, timed apart (median of
    3 more ``model.result()`` calls), and ``weeks_s = total_s - result_s`` the weeks alone: what
    "time per week" means here.
    """
    t = time.perf_counter()
    result = model.run(weeks=weeks)
    total = time.perf_counter() - t
    times = []
    for _ in range(3):
        t = time.perf_counter()
        model.result()
        times.append(time.perf_counter() - t)
    building = statistics.median(times)
    return max(total - building, 1e-9), result, total, building


def _numeric_rows(result, rows: int) -> pd.DataFrame:
    series = result.series.select_dtypes("number")
    return series.iloc[:rows].reset_index(drop=True)


def _floor_of(model, weeks: int, repeats: int) -> dict[str, Any]:
    """The bare threshold step over ``model``'s edges, ``weeks`` times (see :mod:`sim.bench_floor`)."""
    from . import bench_floor

    indptr, indices = bench_floor.model_csr(model)
    timed = bench_floor.time_floor(indptr, indices, weeks, repeats=repeats)
    return {"floor_parallel_s": timed["parallel_s"], "floor_serial_s": timed["serial_s"], "floor_s": timed["floor_s"],
            "floor_repeats": timed["repeats"], "floor_nnz": int(indices.size)}


def _worker_compile(t_start: float) -> dict[str, Any]:
    imported = time.perf_counter()
    compile_s = _warm()
    cache = os.environ.get("NUMBA_CACHE_DIR", "")
    files = sum(1 for p in Path(cache).rglob("*.nbi")) if cache else -1
    threads, layer = _threading()
    return {"import_s": imported - t_start, "build_step_s": compile_s, "cache_index_files": files,
            "threads": threads, "threading_layer": layer, "load": _load()}


def _worker_size(spec: str, weeks: int, python_steps: int | None, single_thread: bool,
                 quick: bool) -> dict[str, Any]:
    import numba

    from . import bench_floor
    from .model import SocialBusinessModel

    out: dict[str, Any] = {"load_start": _load(), "baseline_rss_mib": _maxrss_mib()}
    size = parse_size(spec)
    agents = size["employees"] + size["customers"]
    steps = default_python_steps(agents, quick) if python_steps is None else int(python_steps)
    steps = max(0, min(steps, weeks))
    out.update(size, agents=agents, weeks=weeks, python_steps=steps, seed=SEED)
    out["warmup_s"] = _warm()
    bench_floor.warm()
    out["threads"], out["threading_layer"] = _threading()
    out["warm_rss_mib"] = _rss_mib()
    signatures = _signatures()
    scenario = _scenario(size, weeks)

    t = time.perf_counter()
    model = SocialBusinessModel(scenario, seed=SEED, engine="numba")
    out["build_s"] = time.perf_counter() - t
    out["built_rss_mib"] = _rss_mib()
    out["build_peak_rss_mib"] = _maxrss_mib()
    out.update(_edges(model))
    first_rows = None
    out["numba_first_s"] = out["numba_run_s"] = 0.0
    if steps > 0:
        out["numba_first_s"], first, total, out["result_s"] = _run_weeks(model, steps)
        out["numba_run_s"] += total
        first_rows = _numeric_rows(first, steps + 1)
        del first
    rest = 0.0
    if weeks > steps:
        rest, _, total, out["result_s"] = _run_weeks(model, weeks - steps)
        out["numba_run_s"] += total
    out["numba_s"] = out["numba_first_s"] + rest  # the weeks alone (model.run calls less building their results)
    out["numba_rate"] = agents * weeks / out["numba_s"]
    out["agent_steps_per_s"] = out["numba_rate"]
    out["edges_per_s"] = out["edges"] * weeks / out["numba_s"]
    out["numba_week_s"] = out["numba_s"] / weeks
    out["peak_rss_numba_mib"] = _maxrss_mib()
    out["recompiled"] = _signatures() != signatures
    out.update(_floor_of(model, weeks, repeats=1 if agents > 1_000_000 else 3))
    out["x_floor"] = out["numba_s"] / out["floor_s"]
    out["x_floor_parallel"] = out["numba_s"] / out["floor_parallel_s"]
    del model
    gc.collect()

    if single_thread:
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            model = SocialBusinessModel(scenario, seed=SEED, engine="numba")
            out["numba_1thread_s"] = _run_weeks(model, weeks)[0]
        finally:
            numba.set_num_threads(threads)
        del model
        gc.collect()
    else:
        out["numba_1thread_s"] = float("nan")

    if steps > 0:
        t = time.perf_counter()
        model = SocialBusinessModel(scenario, seed=SEED, engine="python")
        out["python_build_s"] = time.perf_counter() - t
        out["python_s"], result, _, out["python_result_s"] = _run_weeks(model, steps)
        out["python_rate"] = agents * steps / out["python_s"]
        out["ratio_run"] = out["numba_rate"] / out["python_rate"]
        out["ratio_same_weeks"] = out["python_s"] / out["numba_first_s"]
        theirs = _numeric_rows(result, steps + 1)
        out["same_results"] = bool(
            list(theirs.columns) == list(first_rows.columns)
            and np.allclose(first_rows.to_numpy(float), theirs.to_numpy(float), rtol=1e-9, atol=1e-9, equal_nan=True))
        del model, result
        gc.collect()
    else:
        for key in ("python_build_s", "python_s", "python_rate", "ratio_run", "ratio_same_weeks"):
            out[key] = float("nan")
        out["same_results"] = None
    out["peak_rss_mib"] = _maxrss_mib()
    out["load_end"] = _load()
    return out


def _worker_edges(weeks: int) -> dict[str, Any]:
    from .model import SocialBusinessModel

    _warm()
    rows = []
    agents = EDGE_POPULATION["employees"] + EDGE_POPULATION["customers"]
    for degree, team_ties in EDGE_CONFIGS:
        size = {"size": "100k", **EDGE_POPULATION, "customer_degree": degree}
        model = SocialBusinessModel(_scenario(size, weeks, team_ties=team_ties), seed=SEED)
        edges = _edges(model)
        seconds = _run_weeks(model, weeks)[0]
        rows.append({"customer_degree": degree, "team_ties": team_ties, "agents": agents, "weeks": weeks,
                     **edges, "seconds": seconds, "s_per_week": seconds / weeks,
                     "s_per_week_per_medge": seconds / weeks / (edges["edges"] / 1e6)})
        del model
        gc.collect()
    threads, layer = _threading()
    return {"rows": rows, "threads": threads, "threading_layer": layer, "load": _load()}


def _worker_default(runs: int, replicates: int, single_thread: bool) -> dict[str, Any]:
    import numba

    from .runner import run, run_replicates
    from .scenario import Scenario

    _warm()
    run(seed=0)  # first run of this size: page faults, caches
    out: dict[str, Any] = {"runs": runs, "replicates": replicates, "load_start": _load()}
    c = Scenario()
    out["agents"] = c.employees + c.customers
    out["weeks"] = c.weeks

    def median_run() -> tuple[float, list[float]]:
        times = []
        for k in range(runs):
            t = time.perf_counter()
            run(seed=k + 1)
            times.append(time.perf_counter() - t)
        return statistics.median(times), times

    out["run_median_s"], out["run_times_s"] = median_run()
    t = time.perf_counter()
    run_replicates(None, replicates, seed=0)
    out["replicates_s"] = time.perf_counter() - t
    out["threads"], out["threading_layer"] = _threading()
    if single_thread:
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            out["run_median_1thread_s"], _ = median_run()
        finally:
            numba.set_num_threads(threads)
    else:
        out["run_median_1thread_s"] = float("nan")
    out["load_end"] = _load()
    return out


def _worker_mesa(spec: str, mesa_weeks: int) -> dict[str, Any]:
    """Section 6: the Mesa object model and the numba model at one size, in this process."""
    from .bench_mesa import MesaObjectModel, compare_shares
    from .model import SocialBusinessModel

    out: dict[str, Any] = {"load_start": _load()}
    size = parse_size(spec)
    agents = size["employees"] + size["customers"]
    out.update(size, agents=agents, weeks=WEEKS, mesa_weeks=mesa_weeks, seed=SEED)
    _warm()
    scenario = _scenario(size, WEEKS)
    model = SocialBusinessModel(scenario, seed=SEED, engine="numba")
    out.update(_edges(model))
    rss = _rss_mib()
    t = time.perf_counter()
    mesa_model = MesaObjectModel(scenario, seed=SEED, network_model=model)  # same organisation and market
    out["mesa_build_s"] = time.perf_counter() - t
    out["mesa_model_mib"] = _rss_mib() - rss
    per_week = []
    for _ in range(mesa_weeks):
        t = time.perf_counter()
        mesa_model.step()
        per_week.append(time.perf_counter() - t)
    out["mesa_s"] = sum(per_week)
    out["mesa_week_times_s"] = per_week
    out["mesa_week_s"] = out["mesa_s"] / mesa_weeks
    out["numba_first_s"], first, _, out["result_s"] = _run_weeks(model, mesa_weeks)
    out["shares"] = compare_shares(mesa_model, first.series)
    rest = _run_weeks(model, WEEKS - mesa_weeks)[0]
    out["numba_s"] = out["numba_first_s"] + rest
    out["numba_week_s"] = out["numba_s"] / WEEKS
    out["mesa_rate"] = agents / out["mesa_week_s"]
    out["numba_rate"] = agents / out["numba_week_s"]
    out["ratio"] = out["mesa_week_s"] / out["numba_week_s"]
    out["ratio_same_weeks"] = out["mesa_s"] / out["numba_first_s"]
    out["threads"], out["threading_layer"] = _threading()
    out["load_end"] = _load()
    return out


def _worker_floor(population: str, repeats: int) -> dict[str, Any]:
    """Section 7: the full model vs the bare threshold step, one organisation."""
    from . import bench_floor
    from .model import SocialBusinessModel
    from .runner import run
    from .scenario import Scenario

    out: dict[str, Any] = {"population": population, "repeats": repeats, "load_start": _load()}
    _warm()
    bench_floor.warm()
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
        weeks, _, total, building = _run_weeks(model, scenario.weeks)
        weeks_s.append(weeks)
        totals.append(total)
        results.append(building)
        t = time.perf_counter()
        run(scenario, seed=SEED + r)
        runs_s.append(time.perf_counter() - t)
    out["build_s"] = statistics.median(builds)
    out["model_run_s"] = statistics.median(weeks_s)  # the 104 weeks alone
    out["model_run_total_s"] = statistics.median(totals)  # model.run(): the weeks and their RunResult
    out["result_s"] = statistics.median(results)
    out["sim_run_s"] = statistics.median(runs_s)  # sim.run(): construction, weeks, result
    out["model_run_times_s"] = weeks_s
    out.update(_edges(model))
    out.update(_floor_of(model, scenario.weeks, repeats=max(3, repeats)))
    out["model_week_ms"] = 1000 * out["model_run_s"] / scenario.weeks
    out["floor_week_ms"] = 1000 * out["floor_s"] / scenario.weeks
    out["x_floor"] = out["model_run_s"] / out["floor_s"]
    out["x_floor_parallel"] = out["model_run_s"] / out["floor_parallel_s"]
    out["x_floor_with_result"] = out["model_run_total_s"] / out["floor_s"]
    out["x_floor_sim_run"] = out["sim_run_s"] / out["floor_s"]
    out["threads"], out["threading_layer"] = _threading()
    out["load_end"] = _load()
    return out


def _worker_throughput(population: str, runs: int, batch_size: int, rounds: int) -> dict[str, Any]:
    """Section 8: runs/s serial and on a 2-worker LocalCluster (the sweep machinery)."""
    from .experiments import load_experiment, plan_experiment, run_sweep
    from .experiments.bench import bench_experiment, serial_baseline

    out: dict[str, Any] = {"population": population, "runs": runs, "batch_size": batch_size, "rounds": rounds,
                           "load_start": _load()}
    walls: dict[str, list[tuple[float, float, int]]] = {}
    labels = (("serial sim.run, 1 thread", None), ("serial sweep (workers=0)", 0), ("LocalCluster, 2 workers", 2))
    with tempfile.TemporaryDirectory(prefix="socialsim-bench-sweep-") as tmp:
        root = Path(tmp)
        experiment = load_experiment(bench_experiment(root, runs=runs, batch_size=batch_size,
                                                      population=population, weeks=None))
        plan = plan_experiment(experiment)
        for k in range(rounds):
            for label, workers in labels:
                if workers is None:
                    walls.setdefault(label, []).append((serial_baseline(plan), 0.0, 1))
                    continue
                report = run_sweep(experiment, out=root / f"out-{workers}-{k}", workers=workers)
                if report.failed:
                    raise RuntimeError(f"{label}: {report.failed} runs failed")
                walls.setdefault(label, []).append((report.run_seconds, report.setup_seconds,
                                                    max(1, report.workers)))
    t1 = min(w for w, _, _ in walls[labels[0][0]]) / runs
    modes = []
    for label, _ in labels:
        wall, setup, workers = min(walls[label])
        speedup = t1 * runs / wall
        modes.append({"mode": label, "workers": workers, "runs": runs, "wall_s": wall,
                      "rounds_s": [w for w, _, _ in walls[label]], "startup_s": setup,
                      "runs_per_s": runs / wall, "speedup": speedup, "efficiency": speedup / workers,
                      "overhead_ms_per_run": 1000 * (wall - t1 * runs / workers) / runs})
    out["t1_s"] = t1
    out["modes"] = modes
    out["serial_runs_per_s"] = modes[0]["runs_per_s"]
    out["sweep_serial_runs_per_s"] = modes[1]["runs_per_s"]
    out["cluster_runs_per_s"] = modes[2]["runs_per_s"]
    out["cluster_overhead_ms_per_run"] = modes[2]["overhead_ms_per_run"]
    out["cluster_efficiency"] = modes[2]["efficiency"]
    out["sweep_serial_overhead_ms_per_run"] = modes[1]["overhead_ms_per_run"]
    out["load_end"] = _load()
    return out


def cascade_graph(nodes: int, degree: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Section 9's input: a random graph (CSR) with ``nodes`` nodes and mean degree about ``degree``,
    thresholds uniform in [``threshold_low``, ``threshold_high``) and a seed set."""
    from .networks import csr_from_edges

    rng = np.random.default_rng(seed)
    ties = nodes * degree // 2
    src, dst = rng.integers(0, nodes, ties), rng.integers(0, nodes, ties)
    indptr, indices = csr_from_edges(nodes, src, dst)
    thresholds = rng.uniform(CASCADE["threshold_low"], CASCADE["threshold_high"], nodes)
    seeds = rng.random(nodes) < CASCADE["seed_share"]
    if not seeds.any():
        seeds[0] = True
    return indptr, indices, thresholds, seeds


def scipy_cascade(matrix, degree: np.ndarray, threshold: np.ndarray, seeds: np.ndarray,
                  max_steps: int) -> tuple[np.ndarray, int]:
    """The Watts cascade as a scipy-sparse loop: one matrix-vector product per step.

    ``threshold`` already raised to ``MIN_THRESHOLD``; stops at the first step that activates
    nobody. Returns the final state and the number of steps computed.
    """
    active = seeds.copy()
    count = int(active.sum())
    share = np.zeros(active.size)
    has = degree > 0
    steps = 0
    for _ in range(max_steps):
        steps += 1
        counts = matrix @ active.astype(np.float64)
        np.divide(counts, degree, out=share, where=has)
        active = active | (share >= threshold)
        new = int(active.sum())
        if new == count:
            break
        count = new
    return active, steps


def ndlib_cascade(indptr: np.ndarray, indices: np.ndarray, thresholds: np.ndarray, seeds: np.ndarray,
                  steps: int) -> tuple[np.ndarray, float, float]:
    """NDlib's ``ThresholdModel`` on the same graph for ``steps`` steps.

    Returns the final state, the set-up seconds (graph and node configuration) and the seconds
    of the ``steps`` iterations. Raises ImportError when ndlib is not installed.
    """
    import networkx as nx
    import ndlib.models.epidemics as epidemics
    import ndlib.models.ModelConfig as model_config

    t = time.perf_counter()
    n = indptr.size - 1
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    src = np.repeat(np.arange(n), np.diff(indptr))
    graph.add_edges_from(zip(src.tolist(), indices.tolist()))
    model = epidemics.ThresholdModel(graph, seed=SEED)
    config = model_config.Configuration()
    config.add_model_initial_configuration("Infected", np.flatnonzero(seeds).tolist())
    for node, value in enumerate(thresholds.tolist()):
        config.add_node_configuration("threshold", node, value)
    model.set_initial_status(config)
    setup = time.perf_counter() - t
    t = time.perf_counter()
    model.iteration_bunch(steps + 1, node_status=False)  # iteration 0 is the initial state
    seconds = time.perf_counter() - t
    final = np.zeros(n, dtype=bool)
    for node, status in model.status.items():
        final[node] = status == 1
    return final, setup, seconds


def _worker_cascade(nodes: int, degree: int, with_ndlib: bool, repeats: int) -> dict[str, Any]:
    """Section 9: threshold_cascade vs a scipy-sparse loop, NDlib and the bare kernel."""
    import scipy.sparse as sp

    from . import bench_floor
    from .classic import MIN_THRESHOLD, threshold_cascade

    out: dict[str, Any] = {**CASCADE, "nodes": nodes, "degree": degree, "load_start": _load()}
    indptr, indices, thresholds, seeds = cascade_graph(nodes, degree)
    max_steps = CASCADE["max_steps"]
    out["nnz"] = int(indices.size)
    tiny = cascade_graph(50, 4)
    threshold_cascade(*tiny, 3)  # compile or load
    bench_floor.warm()
    times, final, counts = [], None, None
    for _ in range(repeats):
        t = time.perf_counter()
        final, counts = threshold_cascade(indptr, indices, thresholds, seeds, max_steps)
        times.append(time.perf_counter() - t)
    out["cascade_s"] = statistics.median(times)
    changing = len(counts) - 1
    steps = min(max_steps, changing + 1)  # the last step changed nothing (unless max_steps ended it)
    out["changing_steps"], out["steps"] = changing, steps
    out["final_active_share"] = float(final.mean())

    t = time.perf_counter()
    matrix = sp.csr_matrix((np.ones(indices.size), indices, indptr), shape=(nodes, nodes))
    degrees = np.diff(indptr).astype(np.float64)
    raised = np.maximum(thresholds, MIN_THRESHOLD)
    out["scipy_setup_s"] = time.perf_counter() - t
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        scipy_final, scipy_steps = scipy_cascade(matrix, degrees, raised, seeds, max_steps)
        times.append(time.perf_counter() - t)
    out["scipy_s"] = statistics.median(times)
    out["scipy_steps"] = scipy_steps
    out["identical_scipy"] = bool(np.array_equal(scipy_final, final)) and scipy_steps == steps
    out["x_scipy"] = out["scipy_s"] / out["cascade_s"]

    bare = {}
    for key, fn in (("bare_parallel_s", bench_floor.threshold_steps),
                    ("bare_serial_s", bench_floor.threshold_steps_serial)):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            bare[key] = fn(indptr, indices, raised, seeds, steps)
            times.append(time.perf_counter() - t)
        out[key] = statistics.median(times)
    out["identical_bare"] = all(bool(np.array_equal(b, final)) for b in bare.values())
    out["bare_s"] = min(out["bare_parallel_s"], out["bare_serial_s"])
    out["x_bare"] = out["cascade_s"] / out["bare_s"]  # threshold_cascade over the bare kernel

    out["ndlib"] = None
    if with_ndlib:
        try:
            import ndlib

            out["ndlib"] = getattr(ndlib, "__version__", "installed")
        except ImportError:
            out["ndlib_missing"] = "ndlib is not installed (pip install ndlib six; it is in the test extras)"
    if out["ndlib"]:
        nd_final, out["ndlib_setup_s"], out["ndlib_s"] = ndlib_cascade(indptr, indices, thresholds, seeds, steps)
        out["identical_ndlib"] = bool(np.array_equal(nd_final, final))
        out["x_ndlib"] = out["ndlib_s"] / out["cascade_s"]
    else:
        out["ndlib_s"] = out["ndlib_setup_s"] = out["x_ndlib"] = float("nan")
        out["identical_ndlib"] = None
    out["threads"], out["threading_layer"] = _threading()
    out["load_end"] = _load()
    return out


def worker(argv: Sequence[str], t_start: float | None = None) -> dict[str, Any]:
    """Run one measurement in this process and print it as one JSON line; returns it too.

    ``argv``: ``compile`` | ``size SPEC WEEKS PYTHON_STEPS|- SINGLE(0/1) QUICK(0/1)`` |
    ``edges WEEKS`` | ``default RUNS REPLICATES SINGLE(0/1)`` | ``mesa SPEC WEEKS`` |
    ``floor POPULATION REPEATS`` | ``throughput POPULATION RUNS BATCH ROUNDS`` |
    ``cascade NODES DEGREE NDLIB(0/1) REPEATS``.
    """
    t_start = time.perf_counter() if t_start is None else t_start
    kind, *args = argv
    if kind == "compile":
        result = _worker_compile(t_start)
    elif kind == "size":
        spec, weeks, steps, single, quick = args
        result = _worker_size(spec, int(weeks), None if steps == "-" else int(steps), single == "1",
                              quick == "1")
    elif kind == "edges":
        result = _worker_edges(int(args[0]))
    elif kind == "default":
        result = _worker_default(int(args[0]), int(args[1]), args[2] == "1")
    elif kind == "mesa":
        result = _worker_mesa(args[0], int(args[1]))
    elif kind == "floor":
        result = _worker_floor(args[0], int(args[1]))
    elif kind == "throughput":
        result = _worker_throughput(args[0], int(args[1]), int(args[2]), int(args[3]))
    elif kind == "cascade":
        result = _worker_cascade(int(args[0]), int(args[1]), args[2] == "1", int(args[3]))
    else:
        raise ValueError(f"unknown worker {kind!r}; allowed: compile, size, edges, default, mesa, floor, "
                         "throughput, cascade")
    print(RESULT_MARK + json.dumps(result, default=_json_default), flush=True)
    return result


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def plain(value: Any) -> Any:
    """``value`` as strict JSON data: numpy scalars as Python numbers, NaN and infinities as None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.DataFrame):
        return plain(value.to_dict("records"))
    return value


# ---------------------------------------------------------------------------------- parent side
class WorkerError(RuntimeError):
    """A worker process failed (non-zero exit, killed, or no result line)."""


def run_worker(args: Sequence[str], env: dict[str, str] | None = None,
               timeout: float | None = None) -> dict[str, Any]:
    """Run ``worker(args)`` in a fresh interpreter; returns its JSON result with ``wall_s`` added.

    Raises:
        WorkerError: the process failed; the message has its exit status and last stderr lines.
    """
    package_parent = str(Path(__file__).resolve().parent.parent)
    full_env = dict(os.environ if env is None else env)
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, full_env.get("PYTHONPATH", "")) if p)
    code = ("import time; _t = time.perf_counter(); from sim.bench import worker; "
            f"worker({list(map(str, args))!r}, _t)")
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env,
                          timeout=timeout, check=False)
    wall = time.perf_counter() - t
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_MARK)]
    if proc.returncode != 0 or not lines:
        how = (f"killed by signal {-proc.returncode}" + (" (out of memory?)" if proc.returncode == -9 else "")
               if proc.returncode < 0 else f"exit status {proc.returncode}")
        tail = " | ".join(proc.stderr.strip().splitlines()[-5:])
        raise WorkerError(f"worker {' '.join(map(str, args))}: {how}; {tail}")
    result = json.loads(lines[-1][len(RESULT_MARK):])
    result["wall_s"] = wall
    return result


#: The code a week's speed is compared with (section 5): the last commit of model v1 (tag v0.1.0;
#: the commit itself, so a clone without tags still has it).
BASELINE_REF = "28607b266288046bffc68a23becb00d2d28b230f"
#: Target of model v2: a week no more than 30% slower than v1's.
TARGET_WEEK_RATIO = 1.3
_TIME_WEEKS = """
import json, statistics, sys, time
import sim
from sim.scenario import load_scenario
out = {"sim": sim.__file__}
for preset in ("provide_and_pray", "purpose_led_stepwise"):
    for population in ("small", "default"):
        scenario = load_scenario(preset).with_population(population)
        sim.run(scenario, seed=0)  # compile or load the kernels, warm the caches
        times = []
        for seed in range(RUNS):
            t = time.perf_counter()
            sim.run(scenario, seed=seed + 1)
            times.append(time.perf_counter() - t)
        out[f"{preset}/{population}"] = statistics.median(times) / scenario.weeks
print(json.dumps(out))
"""
#: Section 11: a whole sim.run of the default scenario on two populations (seconds, median).
_TIME_RUNS = """
import json, statistics, sys, time
import sim
from sim.scenario import Scenario
out = {"sim": sim.__file__}
for population in ("small", "default"):
    scenario = Scenario().with_population(population)
    sim.run(scenario, seed=0)  # compile or load the kernels, warm the caches
    times = []
    for seed in range(RUNS):
        t = time.perf_counter()
        sim.run(scenario, seed=seed + 1)
        times.append(time.perf_counter() - t)
    out[population] = statistics.median(times)
print(json.dumps(out))
"""


def export_baseline(ref: str, folder: Path) -> Path:
    """Write ``sim/`` and ``scenarios/`` of git revision ``ref`` into ``folder`` (for sections 5 and 11).

    Raises:
        WorkerError: not a git checkout, or no such revision.
    """
    repo = Path(__file__).resolve().parent.parent
    archive = subprocess.run(["git", "-C", str(repo), "archive", ref, "sim", "scenarios"], capture_output=True,
                             check=False)
    if archive.returncode != 0:
        raise WorkerError(f"cannot export {ref} from {repo}: {archive.stderr.decode().strip() or 'not a git checkout'}")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def _time_against(ref: str, script: str, rounds: int) -> dict[str, dict[str, list[float]]]:
    """Run ``script`` with this code and with ``ref``'s, alternating fresh processes, ``rounds`` times.

    Returns ``{"current": {key: [values]}, "baseline": {...}}`` from the JSON each process prints.
    """
    here = str(Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory(prefix="socialsim-baseline-") as tmp:
        base = str(export_baseline(ref, Path(tmp)))
        samples: dict[str, dict[str, list[float]]] = {"current": {}, "baseline": {}}
        for _ in range(rounds):
            for label, path in (("baseline", base), ("current", here)):
                env = {**os.environ, "PYTHONPATH": path}
                # -P: the working directory (which holds the baseline's sim/) is not put on sys.path.
                proc = subprocess.run([sys.executable, "-P", "-c", script], cwd=tmp, capture_output=True, text=True,
                                      env=env, check=False)
                if proc.returncode != 0:
                    raise WorkerError(f"timing against {ref[:7]} ({label}): "
                                      f"{' | '.join(proc.stderr.strip().splitlines()[-3:])}")
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                if not result.pop("sim").startswith(path):
                    raise WorkerError(f"timing against {ref[:7]} ({label}) imported sim from the wrong place")
                for key, value in result.items():
                    samples[label].setdefault(key, []).append(value)
    return samples


def measure_against_baseline(ref: str = BASELINE_REF, rounds: int = 3, runs: int = 3) -> pd.DataFrame:
    """Section 5: time a week of this code and of ``ref`` (model v1), side by side.

    Each round runs one fresh process per code version, alternating, so both see the same load;
    each process times ``runs`` whole runs (after compiling) of provide-and-pray and purpose-led
    stepwise on the small and default organisations. Per scenario: the median over rounds of
    each version's seconds per week, and their ratio (this code / baseline).
    """
    samples = _time_against(ref, _TIME_WEEKS.replace("RUNS", str(runs)), rounds)
    rows = []
    for key in samples["current"]:
        now, then = statistics.median(samples["current"][key]), statistics.median(samples["baseline"][key])
        preset, population = key.split("/")
        rows.append({"scenario": preset, "population": population, "week_ms": now * 1000,
                     "baseline_week_ms": then * 1000, "ratio": now / then, "baseline": ref,
                     "met": now / then <= TARGET_WEEK_RATIO})
    return pd.DataFrame(rows)


def measure_against_engine(ref: str = ENGINE_REF, rounds: int = 2, runs: int = 3) -> pd.DataFrame:
    """Section 11: a whole ``sim.run`` with this code and with the engine before issue 8, side by side.

    Small and default organisations (default scenario), ``runs`` runs per process after a
    warm-up run, alternating fresh processes for ``rounds`` rounds; the median over rounds of
    each version's median. ``speedup`` = before / now.
    """
    samples = _time_against(ref, _TIME_RUNS.replace("RUNS", str(runs)), rounds)
    rows = []
    for population in samples["current"]:
        now = statistics.median(samples["current"][population])
        then = statistics.median(samples["baseline"][population])
        rows.append({"population": population, "run_ms": now * 1000, "before_run_ms": then * 1000,
                     "speedup": then / now, "before": ref})
    return pd.DataFrame(rows)


def _median_process_s(cmd: Sequence[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise WorkerError(f"{' '.join(cmd)}: exit status {proc.returncode}; "
                          f"{' | '.join(proc.stderr.strip().splitlines()[-3:])}")
    return seconds


def help_command() -> list[str]:
    """The command a user types for ``socialsim --help`` in this environment."""
    script = Path(sys.executable).with_name("socialsim")
    if script.is_file():
        return [str(script), "--help"]
    return [sys.executable, "-c", "import sys; from sim.cli import app; sys.argv[0] = 'socialsim'; app()", "--help"]


def measure_startup(repeats: int = 5) -> dict[str, Any]:
    """Section 10: ``socialsim --help`` vs ``python -c "import numpy"``, fresh processes, alternating."""
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    cli, numpy_cmd = help_command(), [sys.executable, "-c", "import numpy"]
    _median_process_s(cli, env)  # file caches
    _median_process_s(numpy_cmd, env)
    helps, numpys = [], []
    for _ in range(repeats):
        helps.append(_median_process_s(cli, env))
        numpys.append(_median_process_s(numpy_cmd, env))
    out = {"help_s": statistics.median(helps), "import_numpy_s": statistics.median(numpys), "repeats": repeats,
           "help_command": " ".join(Path(cli[0]).name if k == 0 else a for k, a in enumerate(cli)),
           "help_times_s": helps, "import_numpy_times_s": numpys, "load": _load()}
    out["ratio"] = out["help_s"] / out["import_numpy_s"]
    return out


def measure_compile() -> pd.DataFrame:
    """Section 1: cold compile (empty cache) vs cache load, each in a fresh process."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="socialsim-numba-cache-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("compile (empty cache)", "cache load (filled cache)"):
            r = run_worker(["compile"], env=env)
            rows.append({"phase": label, "import_s": r["import_s"], "build_step_s": r["build_step_s"],
                         "process_wall_s": r["wall_s"], "cache_index_files": r["cache_index_files"],
                         "threads": r["threads"], "threading_layer": r["threading_layer"], "load": r["load"]})
    return pd.DataFrame(rows)


def measure_size(spec: str, *, weeks: int = WEEKS, python_steps: int | None = None,
                 single_thread: bool = True, quick: bool = False) -> dict[str, Any]:
    """Section 2 for one size, in its own process (see the module docstring)."""
    return run_worker(["size", spec, weeks, "-" if python_steps is None else python_steps,
                       int(single_thread), int(quick)])


def measure_mesa(spec: str = MESA_SIZE, weeks: int = MESA_WEEKS[1]) -> dict[str, Any]:
    """Section 6, in its own process."""
    return run_worker(["mesa", spec, weeks])


def measure_floor(population: str, repeats: int = FLOOR_REPEATS[1]) -> dict[str, Any]:
    """Section 7 for one organisation, in its own process."""
    return run_worker(["floor", population, repeats])


def measure_throughput(population: str, runs: int, batch_size: int, rounds: int = 1) -> dict[str, Any]:
    """Section 8 for one organisation, in its own process."""
    return run_worker(["throughput", population, runs, batch_size, rounds])


def measure_cascade(nodes: int = CASCADE["nodes"], degree: int = CASCADE["degree"], with_ndlib: bool = True,
                    repeats: int = 3) -> dict[str, Any]:
    """Section 9, in its own process."""
    return run_worker(["cascade", nodes, degree, int(with_ndlib), repeats])


def _line_fit(frame: pd.DataFrame) -> dict[str, float]:
    """Least squares of seconds per week against millions of edges: slope, intercept, R^2."""
    x = frame["edges"].to_numpy(float) / 1e6
    y = frame["s_per_week"].to_numpy(float)
    slope, intercept = np.polyfit(x, y, 1)
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(((y - (slope * x + intercept)) ** 2).sum()) / ss_tot if ss_tot > 0 else float("nan")
    return {"slope_s_per_week_per_medge": float(slope), "intercept_s_per_week": float(intercept), "r2": r2}


def measure_edges(weeks: int = EDGE_WEEKS, passive_variant: bool = True
                  ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Section 3: seconds per week against edges at 100k agents, and the least-squares line.

    With ``passive_variant`` (numba on GNU OpenMP, ``OMP_WAIT_POLICY`` unset) the worker runs a
    second time with ``OMP_WAIT_POLICY=PASSIVE``. Returns all rows (column ``wait_policy``) and one
    fit per run.
    """
    frames, fits = [], []
    policy = os.environ.get("OMP_WAIT_POLICY", "") or "default"
    r = run_worker(["edges", weeks])
    runs = [(policy, r)]
    if passive_variant and "OMP_WAIT_POLICY" not in os.environ and r["threading_layer"] == "omp":
        runs.append(("PASSIVE", run_worker(["edges", weeks], env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})))
    for name, result in runs:
        frame = pd.DataFrame(result["rows"])
        frame.insert(0, "wait_policy", name)
        frames.append(frame)
        fits.append({"wait_policy": name, **_line_fit(frame), "threads": result["threads"],
                     "threading_layer": result["threading_layer"], "load": result["load"]})
    return pd.concat(frames, ignore_index=True), fits


def measure_default(runs: int = 5, replicates: int = 10, single_thread: bool = True,
                    passive_variant: bool = True) -> dict[str, Any]:
    """Section 4: the default scenario after compilation.

    With ``passive_variant`` (and ``OMP_WAIT_POLICY`` not already set), the same worker runs a
    second time with ``OMP_WAIT_POLICY=PASSIVE``. Its result is under the key ``"passive"``
    (None when not run).
    """
    result = run_worker(["default", runs, replicates, int(single_thread)])
    result["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY", "")
    result["passive"] = None
    if passive_variant and "OMP_WAIT_POLICY" not in os.environ and result["threading_layer"] == "omp":
        result["passive"] = run_worker(["default", runs, replicates, 0],
                                       env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    return result


# ---------------------------------------------------------------------------------- targets
def _weeks_text(steps: float) -> str:
    return "week 1" if int(steps) == 1 else f"weeks 1-{int(steps)}"


def _met(ok: bool | None) -> str:
    return "NOT MET" if ok is None else ("met" if ok else "NOT MET")


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and math.isfinite(float(value))


def _row(target: str, issue: str, measured: str, value: Any = None, limit: Any = None,
         ok: bool | None = None) -> dict[str, Any]:
    """One target: ``ok`` None means nothing was measured, which is NOT MET."""
    return {"target": target, "issue": issue, "measured": measured,
            "value": float(value) if _finite(value) else None, "limit": limit, "status": _met(ok)}


def _records(section: Any) -> list[dict[str, Any]]:
    if section is None:
        return []
    if isinstance(section, pd.DataFrame):
        return section.to_dict("records")
    if isinstance(section, dict):
        return [section]
    return list(section)


def _missing(bench: dict[str, Any], section: str, hint: str = "") -> str:
    failures = bench.get("failures") or {}
    if section in failures:
        return f"not measured: {failures[section]}"
    ran = (bench.get("meta") or {}).get("sections")
    if ran is not None and section not in ran:
        return f"not measured (section {section} not run)" + (f"; {hint}" if hint else "")
    return "not measured" + (f" ({hint})" if hint else "")


def _size_row(bench: dict[str, Any], size: str) -> tuple[dict[str, Any] | None, str]:
    """The record of ``size`` in the sizes section, or None and why it is missing."""
    for r in _records(bench.get("sizes")):
        if str(r.get("size")) == size:
            if r.get("error"):
                return None, f"not measured: {r['error']}"
            return r, ""
    ran = (bench.get("meta") or {}).get("sections")
    if ran is not None and "sizes" not in ran:
        return None, _missing(bench, "sizes")
    if size == "10m":
        return None, "not measured (opt-in: --sizes 10k,100k,1m,10m)"
    quick = (bench.get("meta") or {}).get("quick")
    return None, f"not measured (size {size} not run" + ("; --quick skips sizes above 100k unless named" if quick
                                                          else "") + ")"


def judge_targets(bench: dict[str, Any]) -> pd.DataFrame:
    """One row per target (every target of issue 8, and the earlier ones still judged).

    ``bench``: the benchmark's sections as :func:`main` collects them (``sizes``, ``floor``,
    ``mesa``, ``throughput``, ``cascade``, ``startup``, ``engine``, ``baseline``, ``default``,
    ``failures``, ``meta``). A target whose measurement is missing is NOT MET, with the reason.
    Columns: target, issue, measured, value, limit, status ("met" / "NOT MET" / "met, but not
    well under").
    """
    rows: list[dict[str, Any]] = []
    i8 = "8"

    floors = {r.get("population"): r for r in _records(bench.get("floor"))}
    r = floors.get("small")
    name = f"small organisation, 104 weeks <= {TARGET_FLOOR_SMALL:.0f}x the bare threshold step"
    if r is None:
        rows.append(_row(name, i8, _missing(bench, "floor")))
    else:
        rows.append(_row(name, i8, f"{r['x_floor']:.1f}x ({r['model_week_ms']:.3f} vs {r['floor_week_ms']:.4f} "
                                    "ms/week; "
                                    f"with the RunResult {r['x_floor_with_result']:.1f}x, whole sim.run "
                                    f"{r['x_floor_sim_run']:.1f}x)", r["x_floor"], TARGET_FLOOR_SMALL,
                         r["x_floor"] <= TARGET_FLOOR_SMALL))

    engine = {r.get("population"): r for r in _records(bench.get("engine"))}
    r = engine.get("default")
    name = f"default organisation >= {TARGET_ENGINE_SPEEDUP:.0f}x faster than the engine before issue 8"
    if r is None:
        rows.append(_row(name, i8, _missing(bench, "engine")))
    else:
        rows.append(_row(name, i8, f"{r['speedup']:.2f}x ({r['run_ms']:.0f} vs {r['before_run_ms']:.0f} ms a run)",
                         r["speedup"], TARGET_ENGINE_SPEEDUP, r["speedup"] >= TARGET_ENGINE_SPEEDUP))

    mesa = bench.get("mesa")
    name = f">= {TARGET_MESA:.0f}x the plain Mesa object model at 10k agents"
    if not mesa:
        rows.append(_row(name, i8, _missing(bench, "mesa")))
    else:
        rows.append(_row(name, i8, f"{mesa['ratio']:,.0f}x ({mesa['mesa_week_s'] * 1000:.1f} vs "
                                    f"{mesa['numba_week_s'] * 1000:.3f} ms/week; same first {mesa['mesa_weeks']} "
                                    f"weeks {mesa['ratio_same_weeks']:,.0f}x)", mesa["ratio"], TARGET_MESA,
                         mesa["ratio"] >= TARGET_MESA))

    sizes = _records(bench.get("sizes"))
    if not sizes:
        rows.append(_row(f">= {TARGET_RATIO:.0f}x the python engine at every size", i8, _missing(bench, "sizes")))
    for r in sizes:
        name = f">= {TARGET_RATIO:.0f}x the python engine (same weeks), {r['size']}"
        if r.get("error"):
            rows.append(_row(name, i8, f"not measured: {r['error']}"))
        elif not _finite(r.get("ratio_same_weeks")):
            rows.append(_row(name, i8, "not measured (no python weeks)"))
        else:
            same = "" if r.get("same_results") else "; results DIFFER"
            rows.append(_row(name, i8, f"{r['ratio_same_weeks']:,.0f}x over {_weeks_text(r['python_steps'])} "
                                        f"(whole run {r['ratio_run']:,.0f}x){same}", r["ratio_same_weeks"],
                             TARGET_RATIO,
                             r["ratio_same_weeks"] >= TARGET_RATIO and bool(r.get("same_results"))))

    r, why = _size_row(bench, "1m")
    name = f"1M agents x 104 weeks: full week <= {TARGET_FLOOR_1M:.0f}x the bare step"
    if r is None:
        rows.append(_row(name, i8, why))
    else:
        rows.append(_row(name, i8, f"{r['x_floor']:.1f}x ({r['numba_s']:.1f} s vs {r['floor_s']:.2f} s for "
                                    f"{int(r['weeks'])} weeks)", r["x_floor"], TARGET_FLOOR_1M,
                         r["x_floor"] <= TARGET_FLOOR_1M))

    r, why = _size_row(bench, "10m")
    for name, limit in ((f"10M agents x 104 weeks in < {TARGET_10M_S / 60:.0f} minutes (build included)", TARGET_10M_S),
                        (f"10M agents x 104 weeks in < {TARGET_10M_MIB / 1024:.0f} GB", TARGET_10M_MIB)):
        if r is None:
            rows.append(_row(name, i8, why))
        elif limit == TARGET_10M_S:
            scale = WEEKS / r["weeks"]
            total = r["build_s"] + r["numba_s"] * scale
            note = "" if r["weeks"] == WEEKS else f", extrapolated from {int(r['weeks'])} weeks"
            rows.append(_row(name, i8, f"{total:.0f} s (build {r['build_s']:.0f} s + run {r['numba_s'] * scale:.0f} s"
                                        f"{note})", total, limit, total < limit))
        else:
            peak = max(r["peak_rss_numba_mib"], r["build_peak_rss_mib"])
            rows.append(_row(name, i8, f"{peak:,.0f} MiB peak (numba model)", peak, limit, peak < limit))

    cascade = bench.get("cascade")
    for name, key, same, limit in (
            (f"threshold_cascade >= {TARGET_SCIPY:.0f}x a scipy-sparse loop, identical final state", "x_scipy",
             "identical_scipy", TARGET_SCIPY),
            (f"threshold_cascade >= {TARGET_NDLIB:.0f}x NDlib's ThresholdModel, identical final state", "x_ndlib",
             "identical_ndlib", TARGET_NDLIB)):
        if not cascade:
            rows.append(_row(name, i8, _missing(bench, "cascade")))
        elif not _finite(cascade.get(key)):
            rows.append(_row(name, i8, f"not measured ({cascade.get('ndlib_missing', 'no figure')})"))
        else:
            identical = bool(cascade.get(same))
            rows.append(_row(name, i8, f"{cascade[key]:,.1f}x on {cascade['nodes']:,} nodes, {cascade['steps']} steps"
                                        + ("" if identical else "; final states DIFFER"), cascade[key], limit,
                             cascade[key] >= limit and identical))

    startup = bench.get("startup")
    name = f"socialsim --help <= {TARGET_HELP:.0f}x python -c 'import numpy'"
    if not startup:
        rows.append(_row(name, i8, _missing(bench, "startup")))
    else:
        rows.append(_row(name, i8, f"{startup['ratio']:.1f}x ({startup['help_s']:.2f} vs "
                                    f"{startup['import_numpy_s']:.2f} s)", startup["ratio"], TARGET_HELP,
                         startup["ratio"] <= TARGET_HELP))

    throughput = {r.get("population"): r for r in _records(bench.get("throughput"))}
    for population in ("small", "default"):
        r = throughput.get(population)
        name = f"sweeps: per-run overhead on a 2-worker local Dask cluster < {TARGET_OVERHEAD_MS:.0f} ms, {population}"
        if r is None:
            rows.append(_row(name, i8, _missing(bench, "throughput")))
        else:
            ms = r["cluster_overhead_ms_per_run"]
            rows.append(_row(name, i8, f"{ms:.1f} ms/run (efficiency {r['cluster_efficiency']:.0%}, "
                                        f"{r['cluster_runs_per_s']:.1f} runs/s, batches of {r['batch_size']})",
                             ms, TARGET_OVERHEAD_MS, ms < TARGET_OVERHEAD_MS))

    # Earlier issues' targets, still judged.
    default = bench.get("default")
    name = f"default run well under {TARGET_DEFAULT_S:.0f} s"
    if not default:
        rows.append(_row(name, "earlier", _missing(bench, "default")))
    else:
        s = default["run_median_s"]
        row = _row(name, "earlier", f"{s:.3f} s median of {default['runs']}", s, TARGET_DEFAULT_S, s < TARGET_DEFAULT_S)
        if TARGET_DEFAULT_S / 2 < s < TARGET_DEFAULT_S:
            row["status"] = "met, but not well under"
        rows.append(row)
    r, why = _size_row(bench, "1m")
    for name, kind in ((f"1M agents: build + 104 weeks < {TARGET_1M_S:.0f} s", "time"),
                       (f"1M agents: peak memory < {TARGET_1M_MIB / 1024:.0f} GB", "memory")):
        if r is None:
            rows.append(_row(name, "earlier", why))
        elif kind == "time":
            total = r["build_s"] + r["numba_s"] * WEEKS / r["weeks"]
            rows.append(_row(name, "earlier", f"{total:.1f} s (build {r['build_s']:.1f} s)", total, TARGET_1M_S,
                             total < TARGET_1M_S))
        else:
            rows.append(_row(name, "earlier", f"{r['peak_rss_numba_mib']:,.0f} MiB peak", r["peak_rss_numba_mib"],
                             TARGET_1M_MIB, r["peak_rss_numba_mib"] < TARGET_1M_MIB))
    baseline = _records(bench.get("baseline"))
    name = f"a week <= {TARGET_WEEK_RATIO:.1f}x v0.1.0's (model v1)"
    if not baseline:
        rows.append(_row(name, "earlier", _missing(bench, "baseline")))
    else:
        worst = max(baseline, key=lambda b: b["ratio"])
        rows.append(_row(name, "earlier", f"worst {worst['ratio']:.2f}x ({worst['scenario']}, {worst['population']})",
                         worst["ratio"], TARGET_WEEK_RATIO, all(bool(b["met"]) for b in baseline)))
    return pd.DataFrame(rows, columns=["target", "issue", "measured", "value", "limit", "status"])


# ---------------------------------------------------------------------------------- printing
def _fmt(value: Any, digits: int | None = None) -> str:
    """A cell: thousands separators, fewer decimals for bigger numbers (or ``digits`` if given)."""
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "NO"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return "-"
        if digits is None:
            size = abs(value)
            digits = 0 if size >= 1000 else 1 if size >= 100 else 2 if size >= 1 else 3
        return f"{value:,.{digits}f}"
    return str(value)


def _table(title: str, columns: Sequence[tuple[str, str]], rows: Iterable[dict[str, Any]],
           digits: dict[str, int] | None = None):
    from rich.table import Table

    digits = digits or {}
    table = Table(title=title, title_justify="left")
    for key, label in columns:
        table.add_column(label, overflow="fold",
                         justify="left" if key in ("size", "phase", "target", "measured", "status", "issue", "mode",
                                                   "threading_layer", "what", "wait_policy", "population") else "right")
    for row in rows:
        cells = []
        for key, _ in columns:
            text = _fmt(row.get(key), digits.get(key, 0 if key.endswith("_mib") else None))
            if key == "status":
                text = f"[green]{text}[/]" if text == "met" else (
                    f"[yellow]{text}[/]" if text.startswith("met")
                    else f"[red]{text}[/]" if text == "NOT MET" else text)
            cells.append(text)
        table.add_row(*cells)
    return table


SIZE_SPEED_COLUMNS = (
    ("size", "size"), ("employees", "employees"), ("customers", "customers"), ("edges", "edges"),
    ("threads", "threads"), ("build_s", "build s"), ("numba_s", "numba s"), ("numba_rate", "agent-steps/s"),
    ("edges_per_s", "edges/s"), ("numba_run_s", "with RunResults s"), ("result_s", "one RunResult s"),
    ("numba_1thread_s", "1 thread s"))
SIZE_FLOOR_COLUMNS = (
    ("size", "size"), ("edges", "edges"), ("numba_s", "numba s"), ("floor_parallel_s", "bare step, parallel s"),
    ("floor_serial_s", "bare step, serial s"), ("x_floor", "x the floor"), ("x_floor_parallel", "x parallel step"))
SIZE_RATIO_COLUMNS = (
    ("size", "size"), ("python_steps", "python weeks"), ("python_s", "python s"),
    ("python_rate", "python agent-steps/s"), ("numba_first_s", "numba same weeks s"),
    ("ratio_same_weeks", "ratio same weeks"), ("ratio_run", "ratio whole run"),
    ("same_results", "same results"))
SIZE_MEMORY_COLUMNS = (
    ("size", "size"), ("baseline_rss_mib", "idle+import sim MiB"), ("warm_rss_mib", "after warm-up MiB"),
    ("built_rss_mib", "model built MiB"), ("build_peak_rss_mib", "peak during build MiB"),
    ("peak_rss_numba_mib", "peak numba run MiB"), ("model_mib", "model footprint MiB"),
    ("peak_rss_mib", "peak incl. python model MiB"), ("load_start", "load start"), ("load_end", "load end"))
EDGE_COLUMNS = (
    ("wait_policy", "OMP wait policy"), ("customer_degree", "customer degree"), ("team_ties", "team ties"),
    ("org_nnz", "org nnz"), ("customer_nnz", "customer nnz"), ("contacts_nnz", "contacts nnz"), ("edges", "edges"),
    ("s_per_week", "s / week"), ("s_per_week_per_medge", "s / week / M edges"))
COMPILE_COLUMNS = (
    ("phase", "phase"), ("import_s", "import sim s"), ("build_step_s", "warm every kernel s"),
    ("process_wall_s", "process wall s"), ("cache_index_files", "cached kernels"), ("threads", "threads"),
    ("threading_layer", "layer"), ("load", "load avg"))
FLOOR_COLUMNS = (
    ("population", "organisation"), ("agents", "agents"), ("edges", "edges"), ("model_week_ms", "model ms/week"),
    ("floor_week_ms", "bare step ms/week"), ("floor_parallel_s", "bare parallel s"),
    ("floor_serial_s", "bare serial s"), ("x_floor", "x the floor"), ("result_s", "RunResult s"),
    ("x_floor_with_result", "model.run x the floor"), ("sim_run_s", "sim.run s"),
    ("x_floor_sim_run", "sim.run x the floor"))
THROUGHPUT_COLUMNS = (
    ("population", "organisation"), ("mode", "mode"), ("workers", "workers"), ("runs", "runs"), ("wall_s", "wall s"),
    ("runs_per_s", "runs/s"), ("speedup", "speed-up"), ("efficiency", "efficiency"),
    ("overhead_ms_per_run", "overhead ms/run"), ("startup_s", "start-up s"))
TARGET_COLUMNS = (("target", "target"), ("issue", "issue"), ("measured", "measured"), ("status", "status"))

#: Top-level keys of ``socialsim bench --json`` (named in the README's Performance section).
JSON_KEYS = ("meta", "compile", "startup", "sizes", "floor", "mesa", "edges", "edges_fit", "default", "throughput",
             "cascade", "engine", "baseline", "targets", "failures", "summary")


def _summary(bench: dict[str, Any], targets: pd.DataFrame) -> str:
    parts = []
    compile_rows = _records(bench.get("compile"))
    if len(compile_rows) == 2:
        parts.append(f"Compiling every kernel once costs {compile_rows[0]['build_step_s']:.1f} s; later processes "
                     f"load the cache in {compile_rows[1]['build_step_s']:.2f} s (plus "
                     f"{compile_rows[1]['import_s']:.1f} s to import sim).")
    for r in _records(bench.get("sizes")):
        if r.get("error"):
            parts.append(f"Size {r['size']} failed: {r['error']}.")
            continue
        text = (f"At {r['size']} ({int(r['agents']):,} agents, {int(r['edges']):,} edges) numba runs "
                f"{int(r['weeks'])} weeks in {r['numba_s']:.2f} s ({r['numba_rate']:,.0f} agent-steps/s, "
                f"{r['edges_per_s']:,.0f} edges/s, {r['x_floor']:.1f}x the bare step, build {r['build_s']:.2f} s, "
                f"peak {r['peak_rss_numba_mib']:,.0f} MiB)")
        if _finite(r.get("ratio_same_weeks")):
            text += (f"; over the same {_weeks_text(r['python_steps'])} it is {_fmt(r['ratio_same_weeks'])}x the "
                     "python engine")
        parts.append(text + ".")
    for r in _records(bench.get("floor")):
        parts.append(f"The {r['population']} organisation runs 104 weeks in {r['model_run_s'] * 1000:.1f} ms, "
                     f"{r['x_floor']:.1f}x the bare threshold step over its {int(r['edges']):,} edges "
                     f"({r['floor_s'] * 1000:.2f} ms); a whole sim.run is {r['x_floor_sim_run']:.1f}x.")
    mesa = bench.get("mesa")
    if mesa:
        parts.append(f"A plain Mesa object model of the same rules takes {mesa['mesa_week_s'] * 1000:.0f} ms a week at "
                     f"{mesa['agents']:,} agents: {mesa['ratio']:,.0f}x the numba model.")
    default = bench.get("default")
    if default:
        parts.append(f"A default run takes {default['run_median_s']:.3f} s (median of {default['runs']}).")
    for r in _records(bench.get("throughput")):
        parts.append(f"{r['population'].capitalize()} organisation: {r['serial_runs_per_s']:.1f} runs/s serial, "
                     f"{r['cluster_runs_per_s']:.1f} on 2 Dask workers (efficiency {r['cluster_efficiency']:.0%}, "
                     f"{r['cluster_overhead_ms_per_run']:.1f} ms overhead a run).")
    cascade = bench.get("cascade")
    if cascade:
        text = (f"threshold_cascade on {cascade['nodes']:,} nodes: {cascade['cascade_s'] * 1000:.1f} ms, "
                f"{cascade['x_scipy']:.1f}x a scipy-sparse loop")
        if _finite(cascade.get("x_ndlib")):
            text += f", {cascade['x_ndlib']:,.0f}x NDlib"
        parts.append(text + f", {cascade['x_bare']:.1f}x the bare kernel's time.")
    for r in _records(bench.get("engine")):
        if r["population"] == "default":
            parts.append(f"A default sim.run is {r['speedup']:.2f}x faster than with the engine before issue 8.")
    startup = bench.get("startup")
    if startup:
        parts.append(f"socialsim --help takes {startup['help_s']:.2f} s, {startup['ratio']:.1f}x import numpy.")
    bad = targets[targets["status"] == "NOT MET"]["target"].tolist()
    parts.append(f"Targets not met ({len(bad)} of {len(targets)}): " + "; ".join(bad) + "." if bad
                 else "All targets are met.")
    return " ".join(parts)


def _print_tables(console: Any, bench: dict[str, Any], targets: pd.DataFrame) -> None:
    compile_rows = _records(bench.get("compile"))
    if compile_rows:
        console.print(_table("1. JIT compile time (one-off) vs cache load", COMPILE_COLUMNS, compile_rows))
    startup = bench.get("startup")
    if startup:
        console.print(_table("10. Start-up (fresh processes, median)",
                             (("what", "command"), ("seconds", "seconds")),
                             [{"what": startup["help_command"], "seconds": startup["help_s"]},
                              {"what": "python -c 'import numpy'", "seconds": startup["import_numpy_s"]},
                              {"what": "ratio", "seconds": startup["ratio"]}], {"seconds": 3}))
    sizes = [r for r in _records(bench.get("sizes")) if not r.get("error")]
    if sizes:
        console.print(_table(f"2a. Numba engine by size (build = networks + state; then {WEEKS} weeks)",
                             SIZE_SPEED_COLUMNS, sizes))
        console.print(_table("2b. Against the bare threshold step over the same edges, 104 steps (the floor)",
                             SIZE_FLOOR_COLUMNS, sizes))
        console.print(_table("2c. Numba vs python engine (same seed and size; python: its first weeks)",
                             SIZE_RATIO_COLUMNS, sizes))
        console.print(_table("2d. Memory by size (each size in its own process; MiB = 2^20 bytes)",
                             SIZE_MEMORY_COLUMNS, sizes, {"load_start": 2, "load_end": 2}))
    for r in _records(bench.get("sizes")):
        if r.get("error"):
            console.print(f"[red]size {r['size']} failed:[/] {r['error']}")
        elif r.get("recompiled"):
            console.print(f"[yellow]size {r['size']}: a kernel compiled during the timed run (warm-up missed a "
                          "signature); its time includes compilation.[/]")
    floors = _records(bench.get("floor"))
    if floors:
        console.print(_table("7. Full model vs the bare threshold step (104 weeks after construction; floor = faster "
                             "of parallel and serial)", FLOOR_COLUMNS, floors,
                             {"model_week_ms": 3, "floor_week_ms": 4, "floor_parallel_s": 4, "floor_serial_s": 4,
                              "sim_run_s": 3, "result_s": 3}))
    mesa = bench.get("mesa")
    if mesa:
        rows = [{"what": f"Mesa object model, {mesa['mesa_weeks']} weeks", "ms_week": mesa["mesa_week_s"] * 1000,
                 "rate": mesa["mesa_rate"], "build": mesa["mesa_build_s"]},
                {"what": f"numba model, {mesa['weeks']} weeks", "ms_week": mesa["numba_week_s"] * 1000,
                 "rate": mesa["numba_rate"], "build": None},
                {"what": "ratio (same first weeks)", "ms_week": mesa["ratio"], "rate": mesa["ratio_same_weeks"],
                 "build": None}]
        console.print(_table(f"6. Plain Mesa object model vs numba, {mesa['agents']:,} agents "
                             f"({mesa['edges']:,} edges)",
                             (("what", "what"), ("ms_week", "ms / week (ratio)"), ("rate", "agent-steps/s"),
                              ("build", "build s")), rows, {"ms_week": 3}))
        shares = [{"what": k, "mesa": v["mesa"], "numba": v["numba"]} for k, v in mesa["shares"].items()]
        console.print(_table(f"6b. Same rules, different random streams: week {mesa['mesa_weeks']}",
                             (("what", "share"), ("mesa", "Mesa objects"), ("numba", "numba")), shares,
                             {"mesa": 4, "numba": 4}))
    edges = _records(bench.get("edges"))
    if edges:
        console.print(_table(f"3. Linearity in edges (100k agents, {int(edges[0]['weeks'])} numba weeks)", EDGE_COLUMNS,
                             edges, {"customer_degree": 0, "s_per_week": 4, "s_per_week_per_medge": 4}))
        for f in bench.get("edges_fit") or ():
            console.print(f"least squares, wait policy {f['wait_policy']}: s/week = {f['intercept_s_per_week']:.4f} + "
                          f"{f['slope_s_per_week_per_medge']:.4f} * (M edges); R^2 = {f['r2']:.3f}")
    default = bench.get("default")
    if default:
        rows = [{"what": f"one default run, median of {default['runs']}", "seconds": default["run_median_s"],
                 "agent_steps": default["agents"] * default["weeks"] / default["run_median_s"]},
                {"what": f"{default['replicates']} replicates (run_replicates)", "seconds": default["replicates_s"],
                 "agent_steps": default["agents"] * default["weeks"] * default["replicates"] / default["replicates_s"]}]
        if _finite(default.get("run_median_1thread_s")):
            rows.append({"what": f"one default run, 1 thread, median of {default['runs']}",
                         "seconds": default["run_median_1thread_s"],
                         "agent_steps": default["agents"] * default["weeks"] / default["run_median_1thread_s"]})
        passive = default.get("passive")
        if passive:
            rows.append({"what": f"one default run, OMP_WAIT_POLICY=PASSIVE, median of {passive['runs']}",
                         "seconds": passive["run_median_s"],
                         "agent_steps": passive["agents"] * passive["weeks"] / passive["run_median_s"]})
        console.print(_table(f"4. Default scenario ({default['agents']:,} agents, {default['weeks']} weeks, "
                             f"{default['threads']} threads, {default['threading_layer']}; after compilation)",
                             (("what", "what"), ("seconds", "seconds"), ("agent_steps", "agent-steps/s")), rows,
                             {"seconds": 3}))
    throughput = _records(bench.get("throughput"))
    if throughput:
        rows = [{"population": r["population"], **m} for r in throughput for m in r["modes"]]
        console.print(_table("8. Runs per second (replicates of the default scenario; fastest round; overhead = "
                             "(wall - t1 * runs / workers) / runs)", THROUGHPUT_COLUMNS, rows,
                             {"wall_s": 2, "runs_per_s": 2, "speedup": 2, "efficiency": 2, "overhead_ms_per_run": 1,
                              "startup_s": 1}))
    cascade = bench.get("cascade")
    if cascade:
        rows = [{"what": "sim.classic.threshold_cascade", "seconds": cascade["cascade_s"], "ratio": 1.0,
                 "identical": True},
                {"what": "scipy-sparse loop (mat-vec per step)", "seconds": cascade["scipy_s"],
                 "ratio": cascade["x_scipy"], "identical": cascade["identical_scipy"]},
                {"what": "NDlib ThresholdModel" + ("" if cascade.get("ndlib") else " (not installed)"),
                 "seconds": cascade["ndlib_s"], "ratio": cascade["x_ndlib"], "identical": cascade["identical_ndlib"]},
                {"what": "bare kernel (sim.bench_floor)", "seconds": cascade["bare_s"],
                 "ratio": cascade["bare_s"] / cascade["cascade_s"], "identical": cascade["identical_bare"]}]
        console.print(_table(f"9. Threshold cascade, {cascade['nodes']:,} nodes, {cascade['nnz']:,} edge entries, "
                             f"{cascade['steps']} steps (final active share {cascade['final_active_share']:.3f})",
                             (("what", "what"), ("seconds", "seconds"), ("ratio", "x threshold_cascade's time"),
                              ("identical", "same final state")), rows, {"seconds": 4, "ratio": 2}))
    engine = _records(bench.get("engine"))
    if engine:
        console.print(_table(f"11. A whole sim.run: this code vs the engine before issue 8 ({ENGINE_REF[:7]})",
                             (("population", "organisation"), ("run_ms", "ms a run"), ("before_run_ms", "before, ms"),
                              ("speedup", "speed-up")), engine, {"run_ms": 1, "before_run_ms": 1, "speedup": 2}))
    baseline = _records(bench.get("baseline"))
    if baseline:
        console.print(_table(f"5. A week of this code vs v0.1.0 (model v1, {BASELINE_REF[:7]}), same machine and load",
                             (("scenario", "scenario"), ("population", "population"), ("week_ms", "ms/week"),
                              ("baseline_week_ms", "v0.1.0 ms/week"), ("ratio", "ratio")), baseline,
                             {"week_ms": 2, "baseline_week_ms": 2, "ratio": 2}))
    console.print(_table("Targets (a missing measurement is NOT MET)", TARGET_COLUMNS, targets.to_dict("records")))
    for section, why in (bench.get("failures") or {}).items():
        console.print(f"[red]section {section} failed:[/] {why}")


# ---------------------------------------------------------------------------------- main
def main(sizes: Sequence[str] | None = DEFAULT_SIZES, quick: bool = False, python_steps: int | None = None,
         out: str | Path | None = None, *, console: Any = None, sections: Sequence[str] | None = None,
         json_output: bool = False) -> pd.DataFrame:
    """Run the benchmark, print one rich table per section, the targets and a summary; return the size table.

    Args:
        sizes: population sizes (see :func:`parse_size`). With ``quick`` and the default list,
            sizes above 100k agents are skipped; name them explicitly to run them (``10m`` too).
        quick: fewer python weeks, Mesa weeks, repeats and runs; no one-thread reruns.
        python_steps: weeks of the python engine per size (default: 104 at 10k, 3 at 100k, 1 at 1M).
        out: optional folder; tables written there as CSV, everything as bench.json.
        console: a ``rich.console.Console`` (default: a new one on stdout; on stderr with ``json_output``).
        sections: subset of :data:`SECTIONS`; default all.
        json_output: print one JSON object (keys :data:`JSON_KEYS`) on stdout instead of the tables.

    Returns:
        One row per size (numeric); ``.attrs["bench"]`` holds every section as plain records
        (the JSON object) and ``.attrs["summary"]`` the summary paragraph.
    """
    from rich.console import Console

    if console is None:
        console = Console(stderr=json_output)
        if not console.is_terminal:  # a file or a pipe: do not squeeze the tables into 80 columns
            console = Console(width=160, stderr=json_output)
    names = [str(s).strip().lower() for s in (DEFAULT_SIZES if sizes is None else sizes) if str(s).strip()]
    for name in names:
        parse_size(name)  # fail early on a bad spec
    if quick and (sizes is None or list(names) == list(DEFAULT_SIZES)):
        names = [n for n in names if parse_size(n)["employees"] + parse_size(n)["customers"] <= 100_000]
    wanted = [s for s in SECTIONS if s in set(sections or SECTIONS)]
    unknown = sorted(set(sections or ()) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown section(s) {', '.join(unknown)}; allowed: {', '.join(SECTIONS)}")
    single_thread = not quick
    q = 0 if quick else 1
    started = time.perf_counter()
    load0 = _load()
    bench: dict[str, Any] = {key: None for key in JSON_KEYS}
    bench.update(compile=[], sizes=[], floor=[], edges=[], throughput=[], engine=[], baseline=[], failures={})
    failures: dict[str, str] = bench["failures"]

    def attempt(section: str, label: str, fn):
        status.update(label)
        try:
            return fn()
        except (WorkerError, subprocess.SubprocessError, OSError, ValueError, RuntimeError) as exc:
            failures[section] = f"{type(exc).__name__}: {exc}" if not isinstance(exc, WorkerError) else str(exc)
            console.log(f"[red]section {section} failed:[/] {failures[section]}")
            return None

    with console.status("benchmark starting ...") as status:
        if "compile" in wanted:
            frame = attempt("compile", "JIT: compiling every kernel into an empty cache, then loading it ...",
                            measure_compile)
            bench["compile"] = [] if frame is None else frame.to_dict("records")
        if "startup" in wanted:
            bench["startup"] = attempt("startup", "start-up: socialsim --help vs import numpy ...",
                                       lambda: measure_startup(3 if quick else 5))
        if "sizes" in wanted:
            for k, name in enumerate(names, 1):
                size = parse_size(name)
                status.update(f"size {name} ({k}/{len(names)}): {size['employees']:,} employees + "
                              f"{size['customers']:,} customers, {WEEKS} numba weeks, the bare step, python engine, "
                              f"{'' if quick else 'one-thread rerun, '}in its own process ...")
                try:
                    row = measure_size(name, python_steps=python_steps, single_thread=single_thread, quick=quick)
                    row["model_mib"] = row["peak_rss_numba_mib"] - row["warm_rss_mib"]
                    row["error"] = ""
                except WorkerError as exc:
                    row = {**size, "agents": size["employees"] + size["customers"], "error": str(exc)}
                bench["sizes"].append(row)
                console.log(f"size {name} done" + (f": FAILED {row['error']}" if row["error"] else
                                                   f": numba {row['numba_s']:.2f} s, {row['x_floor']:.1f}x the floor, "
                                                   f"peak {row['peak_rss_numba_mib']:,.0f} MiB"))
        if "floor" in wanted:
            for population in FLOOR_POPULATIONS:
                r = attempt("floor", f"floor: {population} organisation vs the bare threshold step ...",
                            lambda p=population: measure_floor(p, FLOOR_REPEATS[q]))
                if r is not None:
                    bench["floor"].append(r)
        if "mesa" in wanted:
            bench["mesa"] = attempt("mesa", f"Mesa object model at {MESA_SIZE}: {MESA_WEEKS[q]} weeks, and the numba "
                                            "model ...", lambda: measure_mesa(MESA_SIZE, MESA_WEEKS[q]))
        if "edges" in wanted:
            result = attempt("edges", f"linearity: 100k agents, {len(EDGE_CONFIGS)} edge counts ...",
                             lambda: measure_edges(EDGE_WEEKS_QUICK if quick else EDGE_WEEKS,
                                                   passive_variant=not quick))
            if result is not None:
                frame, bench["edges_fit"] = result
                bench["edges"] = frame.to_dict("records")
        if "default" in wanted:
            bench["default"] = attempt("default", "default scenario: median of runs, then 10 replicates ...",
                                       lambda: measure_default(runs=3 if quick else 5, replicates=10,
                                                               single_thread=single_thread, passive_variant=not quick))
        if "throughput" in wanted:
            for population in ("small", "default"):
                runs, batch = THROUGHPUT_RUNS[population][q]
                r = attempt("throughput", f"runs/s, {population} organisation: serial, sweep, 2-worker LocalCluster "
                                          f"({runs} runs, batches of {batch}) ...",
                            lambda p=population, n=runs, b=batch: measure_throughput(p, n, b, rounds=1 if quick else 2))
                if r is not None:
                    bench["throughput"].append(r)
        if "cascade" in wanted:
            bench["cascade"] = attempt("cascade", f"threshold_cascade vs scipy, NDlib and the bare kernel on "
                                                  f"{CASCADE['nodes']:,} nodes ...", lambda: measure_cascade())
        if "engine" in wanted:
            frame = attempt("engine", f"sim.run: this code vs the engine before issue 8 ({ENGINE_REF[:7]}) ...",
                            lambda: measure_against_engine(rounds=1 if quick else 2, runs=3))
            bench["engine"] = [] if frame is None else frame.to_dict("records")
        if "baseline" in wanted:
            frame = attempt("baseline", f"a week of this code vs v0.1.0 (model v1, {BASELINE_REF[:7]}) ...",
                            lambda: measure_against_baseline(rounds=2 if quick else 3, runs=2 if quick else 3))
            bench["baseline"] = [] if frame is None else frame.to_dict("records")

    bench["meta"] = {"cpus": os.cpu_count(), "load_start": load0, "load_end": _load(), "seed": SEED, "quick": quick,
                     "python": sys.version.split()[0], "sections": wanted, "sizes": names,
                     "seconds": time.perf_counter() - started,
                     "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
                     "numba_threading_layer_env": os.environ.get("NUMBA_THREADING_LAYER", ""),
                     "engine_ref": ENGINE_REF, "baseline_ref": BASELINE_REF}
    targets = judge_targets(bench)
    bench["targets"] = targets.to_dict("records")
    bench["summary"] = _summary(bench, targets)
    if failures:
        bench["summary"] += " Sections that failed: " + "; ".join(f"{k}: {v}" for k, v in failures.items()) + "."
    bench = plain(json.loads(json.dumps(bench, default=_json_default)))

    sizes_df = pd.DataFrame(bench["sizes"])
    if sizes_df.empty:
        sizes_df = pd.DataFrame(columns=["size", "agents", "error"])
    if json_output:
        sys.stdout.write(json.dumps(bench, allow_nan=False) + "\n")
        sys.stdout.flush()
    else:
        console.print(f"[bold]socialsim bench[/]: {os.cpu_count()} CPUs, load average {load0:.2f} at start, "
                      f"{_load():.2f} at end; {time.perf_counter() - started:.0f} s in all. "
                      "Every measurement in a fresh process; numbers from a shared machine are noisy.")
        _print_tables(console, bench, targets)
        console.print(bench["summary"])
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("compile", "sizes", "floor", "edges", "engine", "baseline", "targets"):
            if bench.get(name):
                pd.DataFrame(bench[name]).to_csv(folder / f"{name}.csv", index=False)
        (folder / "bench.json").write_text(json.dumps(bench, indent=2, allow_nan=False))
        console.print(f"tables written to {folder}")
    sizes_df.attrs["bench"] = bench
    sizes_df.attrs["summary"] = bench["summary"]
    return sizes_df


if __name__ == "__main__":  # python -m sim.bench --worker KIND ARGS...  (or: python -m sim.bench [sizes...])
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
    else:
        main(sizes=sys.argv[1:] or DEFAULT_SIZES)
