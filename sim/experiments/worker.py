"""The worker side of a sweep: what runs on each Dask worker (or in this process for ``workers = 0``).

:func:`run_batch` runs a batch of planned runs with :func:`sim.run` and returns one row per run
(a run that raises is recorded with its error, never raised); :func:`warm_up` loads the compiled
kernels once per worker process and reports which code it runs (:func:`code_fingerprint`), so a
cluster where one worker has other code is refused. :func:`single_numba_thread` and
:func:`tune_malloc` keep a run on a worker as cheap as a run here (:mod:`sim.experiments.runner`
says why).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..outputs import SUMMARY_COLUMNS, __version__

#: A run's row holds every summary output and the verdict.
SUMMARY_KEYS: tuple[str, ...] = (*SUMMARY_COLUMNS, "verdict")
SERIES_ID_COLUMNS = ("run_id", "point_id", "replicate", "seed", "week")


def code_fingerprint() -> str:
    """A short hash of the model's source files (``sim/*.py``): which code produced the results.

    ``__version__`` does not change with every edit; this does. Recorded in the manifest and
    checked on every worker.
    """
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


# ------------------------------------------------------------------ the worker side
def one_line(text: str, limit: int = 2000) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


@contextlib.contextmanager
def single_numba_thread() -> Iterator[None]:
    """Run numba's parallel kernels with one thread here (runs are parallel, not kernels)."""
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


_MALLOC_TUNED = False


def tune_malloc() -> bool:
    """Undo Dask's ``MALLOC_TRIM_THRESHOLD_`` in this process (glibc only; once; True if done).

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also freezes glibc's
    mmap threshold at 128 KiB: every temporary array of a run (30,000 customers x 8 bytes is
    240 KiB) is then mmapped and page-faulted afresh, about 47,000 page faults and +40% CPU per
    default run. This sets fixed thresholds close to glibc's own steady state (arrays up to 32 MiB
    come from the heap and are reused; up to 64 MiB of free heap is kept), on every worker,
    whoever started it.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return True
    try:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("c")
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
        if mallopt is None:
            return False
        m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
        _MALLOC_TUNED = bool(mallopt(m_mmap_threshold, 32 * 1024 * 1024)) and bool(
            mallopt(m_trim_threshold, 64 * 1024 * 1024))
    except (OSError, AttributeError, TypeError):  # not glibc
        return False
    return _MALLOC_TUNED


def run_batch(tasks: Sequence[dict[str, Any]], outputs: str = "final",
              series_columns: Sequence[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Run every task with :func:`sim.run`; never raises for one bad run.

    Each task: ``run_id, point_id, replicate, seed, scenario`` (a Scenario), ``label`` (the
    ``scenario`` column), ``scenario_hash``, ``factors`` (part column -> value).

    Returns:
        (rows, series): one row per task (see :mod:`sim.experiments.store`), and for
        outputs = "series" the weekly rows of the runs that succeeded (else None).
    """
    import sim

    tune_malloc()
    rows: list[dict[str, Any]] = []
    weekly: list[pd.DataFrame] = []
    with single_numba_thread():
        for task in tasks:
            row: dict[str, Any] = {"run_id": task["run_id"], "point_id": task["point_id"],
                                   "replicate": task["replicate"], "seed": task["seed"], "scenario": task["label"],
                                   "scenario_hash": task["scenario_hash"], "version": sim.__version__,
                                   "status": "ok", "error": "", **task["factors"]}
            try:
                result = sim.run(task["scenario"], seed=task["seed"])
            except Exception as exc:  # noqa: BLE001 - a failed run is recorded, not raised
                row.update(status="failed", error=f"{type(exc).__name__}: {one_line(exc)}")
                row.update({key: None for key in SUMMARY_KEYS})
            else:
                row.update(scenario_hash=result.scenario_hash, version=result.version)
                row.update({key: result.summary.get(key) for key in SUMMARY_KEYS})
                if outputs == "series":
                    frame = result.series[["week", *series_columns]].copy()
                    for k, name in enumerate(("run_id", "point_id", "replicate", "seed")):
                        frame.insert(k, name, task[name])
                    weekly.append(frame)
            rows.append(row)
    frame = pd.DataFrame(rows)
    series = None
    if outputs == "series":
        series = (pd.concat(weekly, ignore_index=True) if weekly
                  else pd.DataFrame(columns=[*SERIES_ID_COLUMNS, *series_columns]))
    return frame, series


def failed_batch(tasks: Sequence[dict[str, Any]], error: str, outputs: str,
                 series_columns: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The rows of a batch that could not run at all (e.g. its worker died repeatedly)."""
    rows = [{"run_id": t["run_id"], "point_id": t["point_id"], "replicate": t["replicate"], "seed": t["seed"],
             "scenario": t["label"], "scenario_hash": t["scenario_hash"], "version": __version__,
             "status": "failed", "error": error, **t["factors"], **{key: None for key in SUMMARY_KEYS}}
            for t in tasks]
    series = pd.DataFrame(columns=[*SERIES_ID_COLUMNS, *series_columns]) if outputs == "series" else None
    return pd.DataFrame(rows), series


def warm_up() -> dict[str, Any]:
    """Load the compiled kernels in this worker (one tiny run) and say who we are."""
    import socket

    import numba

    import sim

    start = time.perf_counter()
    malloc_tuned = tune_malloc()
    with single_numba_thread():
        sim.runner.warm_kernels()
    return {"version": sim.__version__, "malloc_tuned": malloc_tuned, "code_fingerprint": code_fingerprint(), "pid": os.getpid(),
            "host": socket.gethostname(),
            "numba_threads": int(numba.config.NUMBA_NUM_THREADS), "seconds": time.perf_counter() - start}
