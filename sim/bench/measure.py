"""How every figure of ``socialsim bench`` is taken: clocks, memory, load, warm kernels, timed weeks.

These helpers run inside the worker processes (:mod:`sim.bench.workers`); nothing here imports
the model at module level, so importing :mod:`sim.bench` stays cheap.

A timed "run of k weeks" is ``model._simulate(k)`` on a model already built: one call of the
compiled week (:mod:`sim.week`), which is what ``SocialBusinessModel.run()`` does without a
progress callback, without building the ``RunResult`` (pandas tables, once a run). That cost is
timed apart (``result_s``: one ``model.result()``), so "time per week" in every ratio is the
weeks alone, and figures with the result included are reported next to it.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SEED = 20240601
WEEKS = 104
MIB = 1024.0 * 1024.0
#: The folder holding the ``sim`` package (put on ``PYTHONPATH`` of every worker process).
PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


def maxrss_mib() -> float:
    """Peak resident set size of this process so far (``getrusage``), MiB."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024.0  # bytes on macOS, KiB on Linux


def rss_mib() -> float:
    """Current resident set size (Linux /proc; NaN elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def load_average() -> float:
    """The machine's 1-minute load average (NaN where unknown)."""
    try:
        return float(os.getloadavg()[0])
    except OSError:
        return float("nan")


def _dispatchers() -> list[Any]:
    """Every numba dispatcher a run can call: in any loaded ``sim`` module (kernels, their serial
    twins in namespaces, the compiled week of :mod:`sim.week`), whatever file holds them."""
    import types

    from numba.core.registry import CPUDispatcher

    spaces: list[dict[str, Any]] = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "sim" or name.startswith("sim.")) or name.startswith("sim.bench"):
            continue
        space = vars(module)
        spaces.append(space)
        spaces.extend(vars(v) for v in space.values() if isinstance(v, types.SimpleNamespace))
        built = space.get("_BUILT")  # sim.week: the compiled week's namespace per engine
        if isinstance(built, dict):
            spaces.extend(v for v in built.values() if isinstance(v, dict))
    found: dict[int, Any] = {}
    for space in spaces:
        for value in list(space.values()):
            if isinstance(value, CPUDispatcher):
                found[id(value)] = value
    return list(found.values())


def signatures() -> int:
    """Compiled signatures over every dispatcher (grows if a timed run had to compile); -1 if unknown."""
    try:
        return sum(len(f.signatures) for f in _dispatchers())
    except Exception:  # noqa: BLE001 - the engine's layout is not the benchmark's business
        return -1


def warm() -> float:
    """Compile or load every kernel and the compiled week (every variant); seconds."""
    t = time.perf_counter()
    try:
        from ..runner import warm_kernels
    except ImportError:
        warm_kernels = None
    if warm_kernels is not None:
        warm_kernels()
    else:  # fall back on a tiny run through the public API
        from ..runner import run
        from ..scenario import Scenario

        run(Scenario(employees=40, departments=2, customers=120, weeks=3), seed=0)
    return time.perf_counter() - t


def numba_threads() -> tuple[int, str]:
    """numba's thread count and threading layer ("?" before any parallel kernel ran)."""
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        layer = "?"
    return int(numba.get_num_threads()), layer


def scenario_of(size: dict[str, Any], weeks: int, **extra: Any):
    """The default scenario with a size's population (:func:`sim.bench.sizes.parse_size`) and ``weeks``."""
    from ..scenario import Scenario

    return Scenario().with_levers(name=f"bench-{size['size']}", employees=size["employees"],
                                  departments=size["departments"], customers=size["customers"],
                                  customer_degree=size["customer_degree"], weeks=weeks, **extra)


def edges_of(model) -> dict[str, int]:
    """Edge entries of a model: organisation, customer graph, staff contacts, and their sum."""
    org, mk = model.org, model.market
    out = {"org_nnz": int(org.indices.size), "customer_nnz": int(mk.indices.size),
           "contacts_nnz": int(mk.contact_indices.size)}
    out["edges"] = out["org_nnz"] + out["customer_nnz"] + out["contacts_nnz"]
    return out


def run_weeks(model, weeks: int) -> tuple[float, Any, float, float]:
    """Time ``weeks`` weeks of ``model``: ``(weeks_s, result, total_s, result_s)``.

    ``weeks_s`` is one ``model._simulate(weeks)`` call (the compiled week, no result built);
    ``result_s`` one ``model.result()`` after it (the ``RunResult``: pandas tables) and
    ``total_s`` their sum, what ``model.run(weeks=weeks)`` costs. A model without
    ``_simulate`` (an older engine) is timed through ``model.run`` less a second ``result()``.
    """
    simulate = getattr(model, "_simulate", None)
    if simulate is None:
        t = time.perf_counter()
        result = model.run(weeks=weeks)
        total = time.perf_counter() - t
        t = time.perf_counter()
        model.result()
        building = time.perf_counter() - t
        return max(total - building, 1e-9), result, total, building
    t = time.perf_counter()
    simulate(weeks)
    seconds = time.perf_counter() - t
    t = time.perf_counter()
    result = model.result()
    building = time.perf_counter() - t
    return max(seconds, 1e-9), result, seconds + building, building


def numeric_rows(result, rows: int) -> pd.DataFrame:
    """The first ``rows`` rows of a result's numeric series."""
    series = result.series.select_dtypes("number")
    return series.iloc[:rows].reset_index(drop=True)


def json_default(value: Any) -> Any:
    """``json.dumps``'s ``default``: numpy scalars and arrays as Python values."""
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
