"""Section 9 (cascade): :func:`sim.classic.threshold_cascade` against other ways to compute the
same Watts cascade, with identical final states checked.

On 100k nodes (random graph, mean degree 8, thresholds uniform in [0.1, 0.25), 0.1% seeds: a
global cascade of ~26 steps): the public function as it is (whatever kernel it runs), a
scipy-sparse loop (one matrix-vector product per step), NDlib's ``ThresholdModel`` (if
``ndlib`` is installed: it is in the test extras; else the report says so in one line) and the
bare kernel of :mod:`sim.bench.floor`, all for the same number of steps. Targets (issue 8):
>= 3x the scipy loop and >= 500x NDlib, with identical final states (``identical_*``).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from .measure import SEED, load_average, numba_threads
from .workers import run_worker

#: Cascade comparison: nodes, mean degree, threshold range, seed share, maximum steps.
CASCADE = {"nodes": 100_000, "degree": 8, "threshold_low": 0.1, "threshold_high": 0.25, "seed_share": 0.001,
           "max_steps": 200}
NDLIB_MISSING = "ndlib is not installed (pip install ndlib six; both are in the test extras)"


def ndlib_version() -> str | None:
    """NDlib's version if its ThresholdModel can be imported (it needs ``six`` too), else None."""
    try:
        import ndlib
        import ndlib.models.epidemics  # noqa: F401 - imports six, which ndlib does not declare
    except ImportError:
        return None
    return str(getattr(ndlib, "__version__", "installed"))


def cascade_graph(nodes: int, degree: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Section 9's input: a random graph (CSR) with ``nodes`` nodes and mean degree about ``degree``,
    thresholds uniform in [``threshold_low``, ``threshold_high``) and a seed set."""
    from ..networks import csr_from_edges

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


def worker_cascade(nodes: int, degree: int, with_ndlib: bool, repeats: int) -> dict[str, Any]:
    """Section 9 in this process: threshold_cascade vs a scipy-sparse loop, NDlib and the bare kernel."""
    import scipy.sparse as sp

    from ..classic import MIN_THRESHOLD, threshold_cascade
    from . import floor

    out: dict[str, Any] = {**CASCADE, "nodes": nodes, "degree": degree, "load_start": load_average()}
    indptr, indices, thresholds, seeds = cascade_graph(nodes, degree)
    max_steps = CASCADE["max_steps"]
    out["nnz"] = int(indices.size)
    tiny = cascade_graph(50, 4)
    threshold_cascade(*tiny, 3)  # compile or load
    floor.warm()
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
    for key, fn in (("bare_parallel_s", floor.threshold_steps),
                    ("bare_serial_s", floor.threshold_steps_serial)):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            bare[key] = fn(indptr, indices, raised, seeds, steps)
            times.append(time.perf_counter() - t)
        out[key] = statistics.median(times)
    out["identical_bare"] = all(bool(np.array_equal(b, final)) for b in bare.values())
    out["bare_s"] = min(out["bare_parallel_s"], out["bare_serial_s"])
    out["x_bare"] = out["cascade_s"] / out["bare_s"]  # threshold_cascade over the bare kernel

    out["ndlib"] = ndlib_version() if with_ndlib else None
    if not out["ndlib"]:
        out["ndlib_missing"] = NDLIB_MISSING if with_ndlib else "NDlib not run (with_ndlib off)"
    if out["ndlib"]:
        nd_final, out["ndlib_setup_s"], out["ndlib_s"] = ndlib_cascade(indptr, indices, thresholds, seeds, steps)
        out["identical_ndlib"] = bool(np.array_equal(nd_final, final))
        out["x_ndlib"] = out["ndlib_s"] / out["cascade_s"]
    else:
        out["ndlib_s"] = out["ndlib_setup_s"] = out["x_ndlib"] = float("nan")
        out["identical_ndlib"] = None
    out["threads"], out["threading_layer"] = numba_threads()
    out["load_end"] = load_average()
    return out


def measure_cascade(nodes: int = CASCADE["nodes"], degree: int = CASCADE["degree"], with_ndlib: bool = True,
                    repeats: int = 3) -> dict[str, Any]:
    """Section 9, in its own process."""
    return run_worker(["cascade", nodes, degree, int(with_ndlib), repeats])
