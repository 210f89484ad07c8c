"""Every call into the simulator, behind Streamlit caches.

* :func:`warm_up` compiles (or loads from numba's disk cache) the kernels once per server.
* :func:`run_set` runs replicates of one scenario, cached by the scenario (as canonical JSON),
  the root seed and the number of replicates: a rerun, a second visitor or a shared link with
  the same scenario and seeds gets the stored results at once.
* :func:`explore_run` does the same and also records, week by week, the stage of a sample of
  employees for the network view. It steps a :class:`sim.SocialBusinessModel` itself (the
  model's public API); the first replicate's :class:`~sim.RunResult` is the model's own, so
  the charts and the network show the same run.
* Both take ``posterior``: None for the developers' default behavioural parameters, or the id of
  the default posterior (:func:`default_posterior`) to draw every replicate's behavioural
  parameters from it with the replicate's seed (``sim.run(..., calibrated=...)``). The id is part
  of the cache key, so calibrated and uncalibrated results, or results of two posteriors, are
  never mixed up.

Replicates run in a small pool of worker processes (``SOCIALSIM_DASHBOARD_WORKERS``, default:
the number of cores, at most 4; 0 runs everything in the server process). Every process runs
numba single-threaded (``NUMBA_NUM_THREADS=1`` from ``app.py`` for the workers, and
``numba.set_num_threads(1)`` in the script thread that runs a replicate itself): on a shared or
busy machine one thread per process is much faster than threads that wait for each other, and
the results do not depend on the number of threads.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing as mp
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

import sim
from sim.calibration import posterior as posteriors
from sim.errors import UserInputError
from sim.outputs import RunResult
from sim.scenario import Scenario, make_scenario

Progress = Callable[[float, str], None] | None
#: What ``sim.run(calibrated=...)`` gets: False (uncalibrated) or the posterior file's path.
Calibrated = bool | str

#: A tiny scenario whose run compiles every kernel.
#: Largest number of employees drawn in the network view.
MAX_NETWORK_NODES = 400


def scenario_key(scenario: Scenario) -> str:
    """The canonical text of a scenario: what the caches are keyed by. With an imported
    organisation the hash (of the files' contents) is part of it: an edited file is another key."""
    data = scenario.to_dict()
    if scenario.organisation:
        data = {**data, "_organisation_hash": scenario.scenario_hash()}
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def scenario_from_key(key: str) -> Scenario:
    """The scenario a :func:`scenario_key` stands for."""
    data = json.loads(key)
    data.pop("_organisation_hash", None)
    return make_scenario(data, source="dashboard")


def default_posterior() -> tuple[posteriors.Posterior | None, str | None]:
    """The default posterior (``$SOCIALSIM_POSTERIOR`` or the shipped one) and None, or None and why not.

    A posterior that exists but cannot be used (made for another model version, a damaged file)
    gives its one-line refusal as the reason, so the page can say why answers are uncalibrated.
    """
    if not posteriors.available():
        return None, ("No calibrated posterior on this server yet (`socialsim calibrate` makes one), so "
                      "answers use the developers' default behavioural parameters.")
    try:
        return posteriors.load(), None
    except UserInputError as exc:
        return None, f"The posterior cannot be used, so answers are uncalibrated: {exc}"


def _calibrated(posterior: str | None) -> Calibrated:
    """What the runs pass as ``calibrated`` for the posterior id ``posterior`` (None: uncalibrated).

    The file's path, not ``True``: worker processes then read exactly this file whatever their
    environment, and the id checked here (the cache key) is the posterior every replicate draws from.
    """
    if posterior is None:
        return False
    current, _ = default_posterior()
    if current is None or current.id != posterior:
        now = f"now {current.id}" if current is not None else "now none"
        raise UserInputError(f"the default posterior changed while the page was open ({now}; asked for "
                             f"{posterior}); allowed: run again to use the current one", source="posterior")
    return str(current.path)


def workers_setting() -> int:
    """Worker processes for replicates (``SOCIALSIM_DASHBOARD_WORKERS``; default: cores, at most 4)."""
    text = os.environ.get("SOCIALSIM_DASHBOARD_WORKERS", "").strip()
    if text:
        try:
            return max(0, min(16, int(text)))
        except ValueError:
            pass
    cores = os.cpu_count() or 1
    return min(cores, 4) if cores > 1 else 0


@st.cache_resource(show_spinner="Preparing the simulation (compiled once per server) ...")
def warm_up() -> float:
    """Compile (or load) every kernel, serial and parallel variants; seconds it took."""
    start = time.perf_counter()
    sim.runner.warm_kernels()
    return time.perf_counter() - start


@st.cache_resource(show_spinner="Starting worker processes ...")
def worker_pool(workers: int) -> cf.ProcessPoolExecutor | None:
    """A process pool shared by every visitor of this server, each worker warmed up; None if 0 workers."""
    if workers < 1:
        return None
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
    try:
        for future in [pool.submit(sim.runner.warm_kernels) for _ in range(workers)]:
            future.result(timeout=600)
    except Exception:  # noqa: BLE001 - no pool: replicates run in the server process instead
        pool.shutdown(cancel_futures=True)
        return None
    return pool


def _one_thread() -> None:
    """numba's thread count is per calling thread: keep this one (a Streamlit script thread) at 1."""
    import numba

    numba.set_num_threads(1)


def where_runs() -> str:
    """Where replicates run, in words (for the pages)."""
    pool = worker_pool(workers_setting())
    if pool is None:
        return "replicates run one after another in the server process"
    n = pool._max_workers
    return f"replicates run in {n} worker process{'es' if n != 1 else ''}"


def _run_here(scenario: Scenario, seeds: list[int], progress: Progress, done: int, total: int,
              calibrated: Calibrated = False) -> list[RunResult]:
    _one_thread()
    results = []
    for k, seed in enumerate(seeds):
        def week(d: int, t: int, k: int = k) -> None:
            if progress is not None:
                progress((done + k + d / t) / total, f"run {done + k + 1} of {total}")
        results.append(sim.run(scenario, seed=seed, progress=week, calibrated=calibrated))
    return results


def _submit(scenario: Scenario, seeds: list[int], calibrated: Calibrated = False) -> list[cf.Future] | None:
    pool = worker_pool(workers_setting()) if len(seeds) > 0 else None
    if pool is None:
        return None
    try:
        return [pool.submit(sim.run, scenario, seed=s, calibrated=calibrated) for s in seeds]
    except RuntimeError:  # shut down or broken: start afresh next time
        worker_pool.clear()
        return None


def _collect(futures: list[cf.Future] | None, scenario: Scenario, seeds: list[int], progress: Progress,
             done: int, total: int, calibrated: Calibrated = False) -> list[RunResult]:
    """The results of ``futures`` (or of running ``seeds`` here if there is no pool), in seed order."""
    if futures is None:
        return _run_here(scenario, seeds, progress, done, total, calibrated)
    results: dict[int, RunResult] = {}
    index = {f: i for i, f in enumerate(futures)}
    try:
        for future in cf.as_completed(futures):
            results[index[future]] = future.result()
            if progress is not None:
                progress((done + len(results)) / total, f"run {done + len(results)} of {total}")
    except cf.process.BrokenProcessPool:  # a worker died (e.g. out of memory): finish here
        worker_pool.clear()
        missing = [i for i in range(len(seeds)) if i not in results]
        for i, r in zip(missing, _run_here(scenario, [seeds[i] for i in missing], progress, done, total,
                                           calibrated)):
            results[i] = r
    return [results[i] for i in range(len(seeds))]


def _bar(label: str) -> tuple[Any, Progress]:
    """A progress bar made inside a cached function (so a cache hit replays it, already emptied)."""
    bar = st.progress(0.0, text=label)
    shown = [0.0]

    def update(fraction: float, detail: str) -> None:
        fraction = min(1.0, max(0.0, fraction))
        if fraction - shown[0] >= 0.025 or fraction >= 1.0:  # a cache hit replays every update: keep few
            shown[0] = fraction
            bar.progress(fraction, text=f"{label}: {detail}")

    return bar, update


@st.cache_data(max_entries=48, show_spinner=False)
def run_set(key: str, root_seed: int, replicates: int, posterior: str | None = None,
            _label: str = "Running") -> list[RunResult]:
    """``replicates`` runs of the scenario ``key`` with seeds from :func:`sim.replicate_seeds`.

    ``posterior``: None for the developers' defaults, or the default posterior's id to draw each
    replicate's behavioural parameters from it (refused if the default posterior is no longer that one).
    """
    scenario = scenario_from_key(key)
    seeds = sim.replicate_seeds(root_seed, replicates)
    calibrated = _calibrated(posterior)
    bar, progress = _bar(_label)
    if len(seeds) == 1:
        results = _run_here(scenario, seeds, progress, 0, 1, calibrated)
    else:
        results = _collect(_submit(scenario, seeds, calibrated), scenario, seeds, progress, 0, len(seeds),
                           calibrated)
    bar.empty()
    return results


def sample_employees(department: np.ndarray, limit: int, seed: int = 0) -> np.ndarray:
    """At most ``limit`` employees, sorted: everyone if few, else as many from every department.

    Employees are numbered department by department and teams are rings of neighbouring numbers,
    so each department's sample is a run of consecutive employees (from a seeded random start):
    the drawing keeps their team ties instead of scattering unconnected dots.
    """
    n = department.size
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    departments = np.unique(department)[:limit]
    per = max(1, limit // departments.size)
    chosen = []
    for d in departments:
        members = np.flatnonzero(department == d)
        take = min(per, members.size)
        start = int(rng.integers(0, members.size - take + 1))
        chosen.append(members[start:start + take])
    return np.sort(np.concatenate(chosen))


@st.cache_data(max_entries=24, show_spinner=False)
def explore_run(key: str, root_seed: int, replicates: int, posterior: str | None = None,
                max_nodes: int = MAX_NETWORK_NODES, _label: str = "Running") -> tuple[list[RunResult], dict[str, Any]]:
    """Replicates as :func:`run_set` (``posterior`` likewise), plus the weekly stages of sampled
    employees of replicate 0.

    Returns ``(results, network)``; ``network`` holds ``nodes`` (employee ids), ``department``,
    ``edges`` (pairs of positions in ``nodes``: ties between sampled employees), ``stage``
    (weeks+1 x nodes, uint8: 0 no access, 1 non-user, 2 reader, 3 contributor, 4 champion,
    5 lapsed), ``employees`` and ``departments``.
    """
    scenario = scenario_from_key(key)
    seeds = sim.replicate_seeds(root_seed, replicates)
    calibrated = _calibrated(posterior)
    bar, _progress = _bar(_label)
    futures = _submit(scenario, seeds[1:], calibrated) if len(seeds) > 1 else None
    total = len(seeds)
    _one_thread()
    # Replicate 0 is stepped here, so it draws its behavioural parameters as sim.run would for its seed.
    levers, drawn = sim.runner.calibrated_levers(calibrated, seeds[0], {}) if calibrated else ({}, None)
    model = sim.SocialBusinessModel(scenario, rng=seeds[0], **levers)
    org = model.org
    nodes = sample_employees(org.department, max_nodes)
    stages = np.zeros((scenario.weeks + 1, nodes.size), dtype=np.uint8)

    def record(week: int) -> None:
        state = model.state
        stages[week] = np.where(state.has_access[nodes], state.stage[nodes].astype(np.uint8) + 1, 0)

    record(0)
    for week in range(1, scenario.weeks + 1):
        model.step()
        record(week)
        if week % 4 == 0 or week == scenario.weeks:
            _progress(week / scenario.weeks / total, f"run 1 of {total}: week {week}")
    first = model.result()
    first.posterior = drawn
    rest = _collect(futures, scenario, seeds[1:], _progress, 1, total, calibrated) if len(seeds) > 1 else []
    position = np.full(org.n, -1, dtype=np.int64)
    position[nodes] = np.arange(nodes.size)
    src = np.repeat(np.arange(org.n), np.diff(org.indptr))
    dst = org.indices.astype(np.int64)
    keep = (position[src] >= 0) & (position[dst] >= 0) & (src < dst)
    edges = np.stack([position[src[keep]], position[dst[keep]]], axis=1)
    bar.empty()
    names = org.department_names or tuple(f"department {d}" for d in range(org.n_departments))
    people = org.employee_id[nodes].tolist() if org.employee_id is not None else [f"employee {e}" for e in nodes]
    network = {"nodes": nodes, "department": org.department[nodes].astype(np.int64), "edges": edges,
               "stage": stages, "employees": int(org.n), "departments": int(org.n_departments),
               "labels": [f"{p}, {names[d]}" for p, d in zip(people, org.department[nodes])]}
    return [first, *rest], network
