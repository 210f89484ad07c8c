"""Section 2 (sizes) and section 3 (edges): the numba engine from 10k to 10M agents, side by side
with the bare threshold step over the same edges and with the plain-Python engine.

**sizes**: each size (``10k``, ``100k``, ``1m``; ``10m`` on request: ``--sizes
10k,100k,1m,10m``) runs in its own worker process, so the peak resident memory
(``getrusage(RUSAGE_SELF).ru_maxrss``) belongs to that size alone. The worker warms every
kernel, times model construction, then 104 numba weeks: agent-steps/s = agents * weeks /
seconds, edges/s = edge entries (organisation + customer graph + contacts) * weeks / seconds.
Then the bare threshold step (:mod:`sim.bench.floor`) over the same edges, 104 times:
``x_floor`` = numba seconds / floor seconds. Then a model of the same size and seed with the
``python`` engine (the same week run as plain Python) for its first ``python_steps`` weeks
(104 at 10k, 3 at 100k, 1 from 1M; fewer with ``quick``): ``ratio_same_weeks`` compares the
same weeks (the numba run is split after those weeks) and ``same_results`` checks that those
weeks' rows are identical (the engines are bitwise identical). Unless ``quick``, the numba run
is repeated with one thread.

Sizes ``"10k"``, ``"100k"``, ``"1m"`` mean 1,000 / 10,000 / 100,000 employees and 9x as many
customers in 10 / 20 / 40 departments; ``"1m"`` uses ``customer_degree = 10``; any ``"<n>k"``
or ``"<n>m"`` means that many agents, 10% of them employees (``"10m"``: 1M employees, 9M
customers, degree 10, ~108M edges).

**edges**: linearity in edges. At 100k agents the customer degree (4, 16, 32, 64) and the team
ties (10, 40) vary; a least-squares line of seconds per week against edges gives the cost per
million edges and the fixed cost, with R^2.
"""

from __future__ import annotations

import gc
import os
import re
import time
from typing import Any

import numpy as np
import pandas as pd

from .measure import (SEED, WEEKS, edges_of, load_average, maxrss_mib, numba_threads, numeric_rows, rss_mib,
                      run_weeks, scenario_of, signatures, warm)
from .workers import run_worker

DEFAULT_SIZES = ("10k", "100k", "1m")
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


def _same_rows(ours: pd.DataFrame, theirs: pd.DataFrame) -> tuple[bool, float]:
    """Whether two engines' rows are identical (NaN equal to NaN), and the largest difference."""
    if list(ours.columns) != list(theirs.columns) or ours.shape != theirs.shape:
        return False, float("nan")
    a, b = ours.to_numpy(float), theirs.to_numpy(float)
    both = np.isfinite(a) & np.isfinite(b)
    diff = float(np.abs(a[both] - b[both]).max()) if both.any() else 0.0
    return bool(np.array_equal(a, b, equal_nan=True)), diff


def worker_size(spec: str, weeks: int, python_steps: int | None, single_thread: bool,
                quick: bool) -> dict[str, Any]:
    """One size in this process (the worker of :func:`measure_size`)."""
    import numba

    from ..model import SocialBusinessModel
    from . import floor

    out: dict[str, Any] = {"load_start": load_average(), "baseline_rss_mib": maxrss_mib()}
    size = parse_size(spec)
    agents = size["employees"] + size["customers"]
    steps = default_python_steps(agents, quick) if python_steps is None else int(python_steps)
    steps = max(0, min(steps, weeks))
    out.update(size, agents=agents, weeks=weeks, python_steps=steps, seed=SEED)
    out["warmup_s"] = warm()
    floor.warm()
    out["threads"], out["threading_layer"] = numba_threads()
    out["warm_rss_mib"] = rss_mib()
    compiled = signatures()
    scenario = scenario_of(size, weeks)

    t = time.perf_counter()
    model = SocialBusinessModel(scenario, seed=SEED, engine="numba")
    out["build_s"] = time.perf_counter() - t
    out["built_rss_mib"] = rss_mib()
    out["build_peak_rss_mib"] = maxrss_mib()
    out.update(edges_of(model))
    first_rows = None
    out["numba_first_s"] = out["numba_run_s"] = 0.0
    if steps > 0:
        out["numba_first_s"], first, total, out["result_s"] = run_weeks(model, steps)
        out["numba_run_s"] += total
        first_rows = numeric_rows(first, steps + 1)
        del first
    rest = 0.0
    if weeks > steps:
        rest, _, total, out["result_s"] = run_weeks(model, weeks - steps)
        out["numba_run_s"] += total
    out["numba_s"] = out["numba_first_s"] + rest  # the weeks alone, without building their results
    out["numba_rate"] = agents * weeks / out["numba_s"]
    out["agent_steps_per_s"] = out["numba_rate"]
    out["edges_per_s"] = out["edges"] * weeks / out["numba_s"]
    out["numba_week_s"] = out["numba_s"] / weeks
    out["peak_rss_numba_mib"] = maxrss_mib()
    out["recompiled"] = signatures() != compiled
    out.update(floor.floor_of_model(model, weeks, repeats=1 if agents > 1_000_000 else 3))
    out["x_floor"] = out["numba_s"] / out["floor_s"]
    out["x_floor_parallel"] = out["numba_s"] / out["floor_parallel_s"]
    del model
    gc.collect()

    if single_thread:
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            model = SocialBusinessModel(scenario, seed=SEED, engine="numba")
            out["numba_1thread_s"] = run_weeks(model, weeks)[0]
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
        out["python_s"], result, _, out["python_result_s"] = run_weeks(model, steps)
        out["python_rate"] = agents * steps / out["python_s"]
        out["ratio_run"] = out["numba_rate"] / out["python_rate"]
        out["ratio_same_weeks"] = out["python_s"] / out["numba_first_s"]
        out["same_results"], out["max_abs_difference"] = _same_rows(first_rows, numeric_rows(result, steps + 1))
        del model, result
        gc.collect()
    else:
        for key in ("python_build_s", "python_s", "python_rate", "ratio_run", "ratio_same_weeks",
                    "max_abs_difference"):
            out[key] = float("nan")
        out["same_results"] = None
    out["peak_rss_mib"] = maxrss_mib()
    out["load_end"] = load_average()
    return out


def measure_size(spec: str, *, weeks: int = WEEKS, python_steps: int | None = None,
                 single_thread: bool = True, quick: bool = False) -> dict[str, Any]:
    """Section 2 for one size, in its own process (see the module docstring)."""
    return run_worker(["size", spec, weeks, "-" if python_steps is None else python_steps,
                       int(single_thread), int(quick)])


def worker_edges(weeks: int) -> dict[str, Any]:
    """Section 3 in this process: ``weeks`` numba weeks for each of :data:`EDGE_CONFIGS`."""
    from ..model import SocialBusinessModel

    warm()
    rows = []
    agents = EDGE_POPULATION["employees"] + EDGE_POPULATION["customers"]
    for degree, team_ties in EDGE_CONFIGS:
        size = {"size": "100k", **EDGE_POPULATION, "customer_degree": degree}
        model = SocialBusinessModel(scenario_of(size, weeks, team_ties=team_ties), seed=SEED)
        edges = edges_of(model)
        seconds = run_weeks(model, weeks)[0]
        rows.append({"customer_degree": degree, "team_ties": team_ties, "agents": agents, "weeks": weeks,
                     **edges, "seconds": seconds, "s_per_week": seconds / weeks,
                     "s_per_week_per_medge": seconds / weeks / (edges["edges"] / 1e6)})
        del model
        gc.collect()
    threads, layer = numba_threads()
    return {"rows": rows, "threads": threads, "threading_layer": layer, "load": load_average()}


def line_fit(frame: pd.DataFrame) -> dict[str, float]:
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
        fits.append({"wait_policy": name, **line_fit(frame), "threads": result["threads"],
                     "threading_layer": result["threading_layer"], "load": result["load"]})
    return pd.concat(frames, ignore_index=True), fits
