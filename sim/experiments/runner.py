"""Run an experiment: plan every run, then run batches locally or on a Dask cluster.

One code path. :func:`run_sweep` builds a ``distributed.Client``: on a ``LocalCluster`` of
``workers`` single-threaded worker processes (default: all cores), or on a running cluster
given by its scheduler address (``dask scheduler`` / ``dask worker`` started by hand are just
an address). It submits batches of runs (:func:`run_batch`, which calls :func:`sim.run` per
run) with at most two batches per worker thread in flight, and writes each batch's Parquet
part file on the client as results arrive, so memory stays flat however many runs there are.
``workers=0`` runs the same batches serially in this process (for debugging).

Workers run each simulation with one numba thread (runs in parallel, not threads within a
run; the results do not depend on it) and load the compiled kernels from numba's cache
(``cache=True``) once per worker process, during a warm-up before the timed work; no process
is started per run. ``NUMBA_NUM_THREADS=1`` is set for local workers before they start. Each
worker also undoes Dask's ``MALLOC_TRIM_THRESHOLD_`` (see :func:`tune_malloc`), which otherwise
costs about 40% more CPU per run.

Resume: the manifest is written first; a rerun with the same experiment (same ``spec_hash``)
skips every batch whose part file exists, deletes temporary files left by a killed writer and
runs the rest. Every run is deterministic (seed + scenario), so a resumed sweep's results
equal those of an uninterrupted one. A run that raises is recorded (``status = "failed"``,
``error = "<Type>: <message>"``, its parameters) and never stops the sweep; a batch whose worker
died repeatedly (``KilledWorker``) is recorded as failed runs too. ``retry_failed`` reruns the
batches that hold failed runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ScenarioError, UserInputError
from ..outputs import FLOAT_COLUMNS, SUMMARY_COLUMNS, __version__, atomic_write
from ..scenario import Scenario, make_scenario
from .design import Design, count_points, generate_design, point_seeds, python_value
from .spec import SCENARIO_FACTOR, Experiment, ExperimentError, load_experiment, with_organisation
from .store import DESIGN, MANIFEST, PARTS, SERIES, part_batches, part_name, read_part

#: Summary outputs stored as integers (the rest are float64, ``verdict`` text).
INT_SUMMARY = ("peak_week", "cross_silo_ties", "success")
SUMMARY_KEYS: tuple[str, ...] = (*SUMMARY_COLUMNS, "verdict")
SERIES_ID_COLUMNS = ("run_id", "point_id", "replicate", "seed", "week")
LOGGER_NAMES = ("distributed", "tornado", "asyncio", "bokeh")


def code_fingerprint() -> str:
    """A short hash of the model's source files (``sim/*.py``): which code produced the results.

    ``__version__`` does not change with every edit; this does. Recorded in the manifest and
    checked on every worker.
    """
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


#: Above these, a sweep asks for confirmation (``--yes``): an experiment of this size is rarely meant.
MAX_RUNS_UNCONFIRMED = 100_000
MAX_HOURS_UNCONFIRMED = 12.0
#: Never: the manifest alone would take gigabytes.
MAX_RUNS = 10_000_000
#: Seconds per agent-week of one run on one core (default run: 33,000 agents x 104 weeks ~ 0.5 s)
#: plus a fixed cost per run; only for the estimate shown before a sweep starts.
SECONDS_PER_AGENT_WEEK = 1.5e-7
SECONDS_PER_RUN = 0.03
LOCK_FILE = ".sweep.lock"


def check_scheduler_address(address: str) -> None:
    """Refuse a ``--scheduler`` that is not ``[PROTOCOL://]HOST:PORT`` before connecting anywhere."""
    import re

    match = re.fullmatch(r"(?:(tcp|tls|ws|wss|ucx|inproc)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):(\d{1,5})",
                         address.strip())
    if match is None or not 0 < int(match.group(3)) < 65536:
        raise UserInputError(f"{address!r} is not a scheduler address; allowed: tcp://HOST:PORT, e.g. "
                             "tcp://10.0.0.5:8786", source="--scheduler")


def estimate(experiment: Experiment, workers: int | None = None) -> tuple[int, float]:
    """(runs, estimated hours on ``workers`` cores) of an experiment, before its design is made."""
    runs = count_points(experiment) * experiment.spec.replicates
    per_run = max(((s.employees + s.customers) * s.weeks * SECONDS_PER_AGENT_WEEK + SECONDS_PER_RUN)
                  for s in experiment.bases.values())
    cores = max(1, int(workers or os.cpu_count() or 1))
    return runs, runs * per_run / cores / 3600.0


def check_size(experiment: Experiment, *, confirmed: bool = False, workers: int | None = None) -> tuple[int, float]:
    """Refuse an enormous experiment before anything is generated or written.

    Raises:
        ExperimentError: more than :data:`MAX_RUNS` runs, or more than
            :data:`MAX_RUNS_UNCONFIRMED` runs or :data:`MAX_HOURS_UNCONFIRMED` hours without ``confirmed``.
    """
    runs, hours = estimate(experiment, workers)
    shown = f"{runs:,} runs (about {_duration(hours)} on {max(1, int(workers or os.cpu_count() or 1))} cores)"
    if runs > MAX_RUNS:
        raise ExperimentError(f"{shown} is more than this tool runs ({MAX_RUNS:,}); allowed: fewer samples, "
                              "values or replicates", source=experiment.source, key="design")
    if not confirmed and (runs > MAX_RUNS_UNCONFIRMED or hours > MAX_HOURS_UNCONFIRMED):
        raise ExperimentError(f"{shown} is above the limit of {MAX_RUNS_UNCONFIRMED:,} runs or "
                              f"{MAX_HOURS_UNCONFIRMED:.0f} hours; allowed: fewer samples, values or replicates, "
                              "or --yes to run it anyway", source=experiment.source, key="design")
    return runs, hours


def _duration(hours: float) -> str:
    if hours < 1 / 60:
        return f"{hours * 3600:.0f} s"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:,.0f} days"


@contextlib.contextmanager
def sweep_lock(out: Path, name: str) -> Iterator[dict[str, Any] | None]:
    """Hold the output folder's lock for a sweep; yields the stale lock's owner if one was taken over.

    The lock is an advisory ``flock`` on ``OUT/.sweep.lock``, which also names its owner (pid,
    host, experiment, start). The kernel releases it when the owner dies however it dies (kill -9
    included), so a lock file left by a dead sweep is stale and taken over.

    Raises:
        UserInputError: another running sweep holds the folder (names its pid and experiment).
    """
    import fcntl
    import socket

    if out.exists() and not out.is_dir():
        raise UserInputError("exists and is not a folder; allowed: a new or empty folder", source=str(out))
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserInputError(f"cannot be created ({exc.strerror or exc}); allowed: a path in a writable folder",
                             source=str(out)) from None
    path = out / LOCK_FILE
    lock_created = not path.exists()
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise UserInputError(f"cannot be locked ({exc.strerror or exc}); allowed: a writable folder",
                             source=str(out)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _lock_owner(fd)
            who = (f"pid {owner.get('pid')} on {owner.get('host')}, experiment {owner.get('experiment')!r}, "
                   f"started {owner.get('started')}") if owner else "owner unknown"
            raise UserInputError(f"is in use by another sweep ({who}); allowed: wait for it to finish, or another "
                                 "output folder (--out)", source=str(out)) from None
        stale = _lock_owner(fd) or None
        record = {"pid": os.getpid(), "host": socket.gethostname(), "experiment": name,
                  "started": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        try:
            yield stale
        finally:
            os.ftruncate(fd, 0)  # no owner any more; the file stays (removing it would race)
    except BaseException:
        # A sweep that did not start leaves the folder as it found it.
        with contextlib.suppress(OSError):
            if lock_created and not (out / MANIFEST).exists():
                path.unlink(missing_ok=True)
                if created and not any(out.iterdir()):
                    out.rmdir()
        raise
    finally:
        os.close(fd)  # releases the flock


def stored_fingerprint(path: Path) -> str | None:
    """The ``fingerprint`` a resumable job (a calibration, an advisor search) wrote into its
    settings file, or None if the file is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return None


def _lock_owner(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class SweepAborted(RuntimeError):
    """The sweep stopped before the end (lost scheduler, no workers); finished batches are on disk."""


# ------------------------------------------------------------------ plan
@dataclass
class Plan:
    """Every run of an experiment, decided before anything runs.

    Attributes:
        experiment: the validated experiment.
        design: the design points.
        runs: one row per run: ``run_id, point_id, replicate, seed, scenario_hash, batch`` (and
            ``particle``, the posterior particle drawn, in a calibrated experiment).
        labels: per point, the ``scenario`` column value (scenario factor value or base name).
        spec_hash: hash of the spec (without ``out``/``description``), the version and every
            run's seed and scenario hash: the identity of the experiment for resuming.
        posterior: the posterior of a calibrated experiment (None: the developers' defaults).
        draws: particle -> its behavioural values (calibrated experiments).
    """

    experiment: Experiment
    design: Design
    runs: pd.DataFrame
    labels: list[str]
    spec_hash: str
    posterior: Any = None
    draws: dict[int, dict[str, Any]] = dataclasses.field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        return len(self.runs)

    @property
    def batch_size(self) -> int:
        return self.experiment.spec.batch_size

    @property
    def n_batches(self) -> int:
        return -(-self.n_runs // self.batch_size)

    def batch_run_ids(self, batch: int) -> range:
        return range(batch * self.batch_size, min(self.n_runs, (batch + 1) * self.batch_size))

    @functools.cached_property
    def _records(self) -> list[dict[str, Any]]:
        frame = self.design.points[self.experiment.factor_names]
        return [{k: python_value(v) for k, v in row.items()} for row in frame.to_dict("records")]

    @functools.cached_property
    def _arrays(self) -> dict[str, np.ndarray]:
        names = ("point_id", "replicate", "seed", "scenario_hash", *(("particle",) if "particle" in self.runs else ()))
        return {name: self.runs[name].to_numpy() for name in names}

    def point_values(self, point_id: int) -> dict[str, Any]:
        """Factor name -> value of one design point (plain Python values)."""
        return dict(self._records[point_id])

    def tasks(self, batch: int) -> list[dict[str, Any]]:
        """The runs of one batch as tasks for :func:`run_batch` (scenarios built here, lazily)."""
        columns = self.experiment.factor_columns()
        runs = self._arrays
        scenarios: dict[tuple[int, int], Scenario] = {}
        out = []
        for run_id in self.batch_run_ids(batch):
            point = int(runs["point_id"][run_id])
            values = self.point_values(point)
            particle = int(runs["particle"][run_id]) if self.posterior is not None else -1
            if (point, particle) not in scenarios:
                scenario = point_scenario(self.experiment, values)
                if particle >= 0:  # the run's draw from the posterior, made here (workers need no file)
                    scenario = scenario.with_levers(**self.draws[particle])
                scenarios[point, particle] = scenario
            out.append({"run_id": run_id, "point_id": point, "replicate": int(runs["replicate"][run_id]),
                        "seed": int(runs["seed"][run_id]), "scenario": scenarios[point, particle],
                        "label": self.labels[point],
                        "scenario_hash": str(runs["scenario_hash"][run_id]),
                        "factors": {columns[name]: value for name, value in values.items()
                                    if name != SCENARIO_FACTOR}})
        return out

    def manifest(self, out: Path) -> dict[str, Any]:
        """The manifest (see :mod:`sim.experiments.store`)."""
        exp, spec = self.experiment, self.experiment.spec
        weeks = sorted({int(s.weeks) for s in exp.bases.values()})
        if "weeks" in exp.factor_names:
            weeks = sorted(int(w) for w in self.design.points["weeks"].unique())
        return {
            "experiment": spec.name,
            "spec": {**spec.model_dump(mode="json"), "out": str(out.resolve())},
            "spec_hash": self.spec_hash,
            "spec_file": exp.source,
            "design": spec.design.kind,
            "factors": {f.name: f.manifest_entry() for f in exp.factors},
            "factor_columns": exp.factor_columns(),
            "crossed_factors": self.design.crossed,
            "points_per_combination": self.design.points_per_combination,
            "design_seed": self.design.seed,
            "problem": self.design.problem,
            "root_seed": spec.root_seed,
            "common_random_numbers": spec.common_random_numbers,
            "replicates": spec.replicates,
            "weeks": weeks[0] if len(weeks) == 1 else weeks,
            "outputs": spec.outputs,
            "series_columns": exp.series_columns if spec.outputs == "series" else [],
            "version": __version__,
            "code_fingerprint": code_fingerprint(),
            "n_points": self.design.n_points,
            "labels": list(self.labels),
            "n_runs": self.n_runs,
            "batch_size": self.batch_size,
            "n_batches": self.n_batches,
            "posterior": None if self.posterior is None else {
                "id": self.posterior.id, "file": str(self.posterior.path), "particles": len(self.posterior.particles),
                "draws": int(self.runs["particle"].nunique())},
            "runs": [{"run_id": int(r.run_id), "point_id": int(r.point_id), "replicate": int(r.replicate),
                      "seed": int(r.seed), "scenario_hash": str(r.scenario_hash), "batch": int(r.batch),
                      **({"particle": int(r.particle)} if self.posterior is not None else {})}
                     for r in self.runs.itertuples(index=False)],
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }


def point_scenario(experiment: Experiment, values: dict[str, Any]) -> Scenario:
    """The scenario of one design point: its base with the point's lever values (validated)."""
    label = values.get(SCENARIO_FACTOR) if SCENARIO_FACTOR in values else None
    base = experiment.bases[label]
    levers = {k: v for k, v in values.items() if k != SCENARIO_FACTOR}
    if not levers:
        return base
    return make_scenario({**base.to_dict(), **levers}, source=experiment.source)


def experiment_posterior(experiment: Experiment, calibrated: bool | str | Path | None = None) -> Any:
    """The posterior a calibrated experiment draws from (None: uncalibrated).

    ``calibrated`` (the CLI's ``--calibrated``) wins over the experiment file's ``calibrated``; a
    relative posterior path in the file is relative to the file.
    """
    from ..calibration.posterior import load

    choice = experiment.spec.calibrated if calibrated is None else calibrated
    if choice is False:
        return None
    if choice is True:
        return load(None)
    path = Path(choice)
    if calibrated is None and not path.is_absolute() and experiment.source:
        path = Path(experiment.source).parent / path
    return load(path)


def plan_experiment(experiment: Experiment, calibrated: bool | str | Path | None = None) -> Plan:
    """Generate the design, validate every point's scenario, derive every run's seed.

    A calibrated experiment (its ``calibrated`` key, or ``calibrated`` here) also draws every run's
    behavioural parameters from the posterior with the run's seed; the drawn values are part of
    each run's scenario hash, so the experiment's identity includes the posterior.

    Raises:
        ExperimentError: a design point that is not a valid scenario (names the point and factor).
    """
    design = generate_design(experiment)
    spec = experiment.spec
    R = spec.replicates
    n = design.n_points
    hashes: list[str] = []
    labels: list[str] = []
    records = design.points[experiment.factor_names].to_dict("records")
    for point, row in enumerate(records):
        values = {name: python_value(value) for name, value in row.items()}
        try:
            scenario = point_scenario(experiment, values)
        except ScenarioError as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
            lever = exc.key or ""
            where = f"factors.{lever}" if lever in values else (lever or "design")
            raise ExperimentError(f"design point {point} ({shown}) is not a valid scenario: {exc.detail}",
                                  source=experiment.source, key=where) from None
        hashes.append(scenario.scenario_hash())
        labels.append(str(values[SCENARIO_FACTOR]) if SCENARIO_FACTOR in values else scenario.name)
    point_ids = np.repeat(np.arange(n, dtype=np.int64), R)
    replicate = np.tile(np.arange(R, dtype=np.int64), n)
    if spec.common_random_numbers:
        seeds = np.tile(np.array(point_seeds(spec.root_seed, R, 0, True), dtype=np.int64), n)
    else:
        seeds = np.concatenate([np.array(point_seeds(spec.root_seed, R, p, False), dtype=np.int64)
                                for p in range(n)]) if n else np.zeros(0, dtype=np.int64)
    run_ids = np.arange(n * R, dtype=np.int64)
    runs = pd.DataFrame({"run_id": run_ids, "point_id": point_ids, "replicate": replicate, "seed": seeds,
                         "scenario_hash": np.repeat(np.array(hashes, dtype=object), R),
                         "batch": run_ids // spec.batch_size})
    posterior = experiment_posterior(experiment, calibrated)
    draws: dict[int, dict[str, Any]] = {}
    if posterior is not None:
        particles = np.empty(len(runs), dtype=np.int64)
        by_seed: dict[int, int] = {}
        for k, seed in enumerate(runs["seed"].tolist()):
            if seed not in by_seed:
                index, values = posterior.draw(int(seed))
                by_seed[seed] = index
                draws[index] = values
            particles[k] = by_seed[seed]
        runs["particle"] = particles
        hashed: dict[tuple[int, int], str] = {}
        for k, (point, particle) in enumerate(zip(point_ids.tolist(), particles.tolist())):
            if (point, particle) not in hashed:
                base = point_scenario(experiment, {name: python_value(v) for name, v in records[point].items()})
                hashed[point, particle] = base.with_levers(**draws[particle]).scenario_hash()
            runs.at[k, "scenario_hash"] = hashed[point, particle]
    # "calibrated" joins the identity only when set, so earlier experiments keep their hashes.
    excluded = {"out", "description"} | ({"calibrated"} if spec.calibrated is False else set())
    identity = {
        **({} if posterior is None else {"posterior": posterior.id}),
        "spec": spec.model_dump(mode="json", exclude=excluded),
        "version": __version__,
        "design": hashlib.sha256(design.points.to_csv(index=False).encode()).hexdigest(),
        "runs": hashlib.sha256(runs[["seed", "scenario_hash"]].to_csv(index=False).encode()).hexdigest(),
    }
    spec_hash = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    return Plan(experiment=experiment, design=design, runs=runs, labels=labels, spec_hash=spec_hash,
                posterior=posterior, draws=draws)


# ------------------------------------------------------------------ the worker side
def _one_line(text: str, limit: int = 2000) -> str:
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
                row.update(status="failed", error=f"{type(exc).__name__}: {_one_line(exc)}")
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


# ------------------------------------------------------------------ writing
def _arrow_type(kind: str):
    import pyarrow as pa

    return {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}[kind]


def part_schema(experiment: Experiment):
    """The Arrow schema of every part file of ``experiment`` (the same in every part)."""
    import pyarrow as pa

    fields = [pa.field(name, pa.int64()) for name in ("run_id", "point_id", "replicate", "seed")]
    fields += [pa.field(name, pa.string()) for name in ("scenario", "scenario_hash", "version", "status", "error")]
    columns = experiment.factor_columns()
    for f in experiment.factors:
        if f.name != SCENARIO_FACTOR:
            fields.append(pa.field(columns[f.name], _arrow_type(f.dtype)))
    for key in SUMMARY_KEYS:
        kind = "int" if key in INT_SUMMARY else "str" if key == "verdict" else "float"
        fields.append(pa.field(key, _arrow_type(kind)))
    return pa.schema(fields)


def series_schema(series_columns: Sequence[str]):
    """The Arrow schema of every series part file."""
    import pyarrow as pa

    fields = [pa.field(name, pa.int64()) for name in SERIES_ID_COLUMNS]
    fields += [pa.field(c, pa.float64() if c in FLOAT_COLUMNS else pa.int64()) for c in series_columns]
    return pa.schema(fields)


def _to_table(frame: pd.DataFrame, schema):
    """``frame`` as an Arrow table of exactly ``schema`` (missing values become nulls)."""
    import pyarrow as pa

    arrays = []
    for fld in schema:
        values = frame[fld.name].tolist() if fld.name in frame.columns else [None] * len(frame)
        values = [None if (isinstance(v, float) and np.isnan(v)) and not pa.types.is_floating(fld.type) else v
                  for v in values]
        arrays.append(pa.array(values, type=fld.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def write_batch(out: Path, batch: int, frame: pd.DataFrame, series: pd.DataFrame | None, schema,
                series_schema_=None) -> None:
    """Write a batch: the series part first, then the part (each atomically)."""
    import pyarrow.parquet as pq

    frame = frame.sort_values("run_id", kind="stable")
    if series is not None:
        series = series.sort_values(["run_id", "week"], kind="stable")
        table = _to_table(series, series_schema_)
        atomic_write(out / SERIES / part_name(batch), lambda tmp: pq.write_table(table, tmp))
    table = _to_table(frame, schema)
    atomic_write(out / PARTS / part_name(batch), lambda tmp: pq.write_table(table, tmp))


def _clean_temporary(out: Path) -> int:
    """Delete temporary files a killed writer left behind (``.part-*.tmp``); return how many."""
    removed = 0
    for sub in (out, out / PARTS, out / SERIES):
        if sub.is_dir():
            for path in sub.iterdir():
                if path.name.startswith(".") and path.name.endswith(".tmp"):
                    path.unlink(missing_ok=True)
                    removed += 1
    return removed


def _write_json(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=1, sort_keys=False) + "\n"
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def prepare_output(plan: Plan, out: Path) -> bool:
    """Create the output folder, or check that it holds this experiment. True if resuming.

    Raises:
        UserInputError: the folder holds another experiment, or files that are not a sweep's.
    """
    manifest_path = out / MANIFEST
    if manifest_path.is_file():
        try:
            old = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UserInputError(f"has an unreadable {MANIFEST} ({type(exc).__name__}); allowed: choose another "
                                 "output folder (--out) or delete this one", source=str(out)) from None
        if old.get("spec_hash") != plan.spec_hash:
            raise UserInputError(
                f"holds the results of a different experiment ({old.get('experiment')!r}, spec hash "
                f"{old.get('spec_hash')}; this one is {plan.spec_hash}); allowed: choose another output folder "
                "(--out) or delete this one", source=str(out))
        resuming = True
    else:
        if out.exists() and not out.is_dir():
            raise UserInputError("exists and is not a folder; allowed: a new or empty folder", source=str(out))
        if out.is_dir() and any(p.name != LOCK_FILE for p in out.iterdir()):
            raise UserInputError(f"is not empty and has no {MANIFEST} (not a sweep's folder); allowed: a new or "
                                 "empty folder (--out)", source=str(out))
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserInputError(f"cannot be created ({exc.strerror or exc}); allowed: a path in a writable folder",
                                 source=str(out)) from None
        if not os.access(out, os.W_OK | os.X_OK):
            raise UserInputError("is not writable; allowed: a writable folder", source=str(out))
        _write_json(manifest_path, plan.manifest(out))
        resuming = False
    (out / PARTS).mkdir(exist_ok=True)
    if plan.experiment.spec.outputs == "series":
        (out / SERIES).mkdir(exist_ok=True)
    if not (out / DESIGN).is_file():
        design = plan.design.points
        atomic_write(out / DESIGN, lambda tmp: design.to_parquet(tmp, index=False))
    return resuming


DAMAGED = "damaged"


def part_problem(out: Path, plan: Plan, batch: int, schema, s_schema) -> str | None:
    """Why batch ``batch``'s part files do not hold what the manifest says they should, or None.

    Checked: the part (and the series part) can be read, has the experiment's columns, and holds
    exactly the batch's runs with the manifest's run ids, seeds and scenario hashes (a valid part
    copied over another is caught here).
    """
    from .store import DamagedPart

    try:
        table = read_part(out / PARTS / part_name(batch))
    except DamagedPart as exc:
        return exc.detail.split(";")[0]
    if table.schema.names != schema.names:
        return "its columns are not this experiment's"
    ids = list(plan.batch_run_ids(batch))
    got = table.column("run_id").to_pylist()
    if got != ids:
        return f"it holds runs {got[:3]}... where batch {batch} has runs {ids[:3]}..."
    expected = plan.runs.iloc[ids[0]: ids[-1] + 1]
    if table.column("seed").to_pylist() != expected["seed"].tolist():
        return "its seeds are not the manifest's"
    if table.column("scenario_hash").to_pylist() != expected["scenario_hash"].tolist():
        return "its scenario hashes are not the manifest's"
    if s_schema is not None:
        path = out / SERIES / part_name(batch)
        if not path.is_file():
            return "its series part is missing"
        try:
            series = read_part(path, columns=["run_id"])
        except DamagedPart as exc:
            return "its series part " + exc.detail.split(";")[0]
        if not set(series.column("run_id").to_pylist()) <= set(ids):
            return "its series part holds other runs"
    return None


def set_aside_damaged(out: Path, plan: Plan, batches: Sequence[int], schema, s_schema) -> list[tuple[int, str]]:
    """Move the part files of damaged batches into ``OUT/damaged/`` (so they run again); return them."""
    found = []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for batch in batches:
        why = part_problem(out, plan, batch, schema, s_schema)
        if why is None:
            continue
        (out / DAMAGED).mkdir(exist_ok=True)
        for sub in (PARTS, SERIES):
            path = out / sub / part_name(batch)
            if path.exists():
                os.replace(path, out / DAMAGED / f"{sub}-{part_name(batch)}.{stamp}")
        found.append((batch, why))
    return found


def check_labels(out: Path, plan: Plan, batches: Sequence[int]) -> None:
    """Refuse to resume when the ``scenario`` labels changed since the sweep started (a renamed
    base scenario: the scenario hash leaves the name out, so the runs would be the same but one
    result set would carry two labels).

    Raises:
        UserInputError: names the old and the new label.
    """
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    recorded = manifest.get("labels")
    if recorded is None:  # older manifests: the labels the part files hold
        recorded = list(plan.labels)
        for batch in batches:
            table = read_part(out / PARTS / part_name(batch), columns=["point_id", "scenario"])
            for point, label in zip(table.column("point_id").to_pylist(), table.column("scenario").to_pylist()):
                recorded[point] = label
    for point, (old, new) in enumerate(zip(recorded, plan.labels)):
        if old != new:
            raise UserInputError(f"its runs are labelled {old!r} but the scenario is now named {new!r} (design "
                                 f"point {point}; renamed since the sweep started); allowed: the old name back, "
                                 "or a new output folder (--out)", source=str(out))


def batches_with_failures(out: Path, batches: Sequence[int]) -> list[int]:
    """Which of ``batches`` (finished) hold at least one failed run."""
    import pyarrow.parquet as pq

    found = []
    for b in batches:
        status = pq.read_table(out / PARTS / part_name(b), columns=["status"]).column("status").to_pylist()
        if "failed" in status:
            found.append(b)
    return found


def count_status(out: Path) -> tuple[int, int]:
    """(ok, failed) runs over every part file in ``out``."""
    import pyarrow.parquet as pq

    ok = failed = 0
    for path in part_batches(out / PARTS).values():
        status = pq.read_table(path, columns=["status"]).column("status").to_pylist()
        failed += status.count("failed")
        ok += len(status) - status.count("failed")
    return ok, failed


# ------------------------------------------------------------------ executors
class SerialExecutor:
    """Runs batches one after the other in this process (``workers = 0``)."""

    name = "serial"
    workers = 1

    def __enter__(self) -> SerialExecutor:
        start = time.perf_counter()
        warm_up()
        self.setup_seconds = time.perf_counter() - start
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, jobs: Iterator[tuple[int, list[dict[str, Any]]]], outputs: str,
            series_columns: Sequence[str]) -> Iterator[tuple[int, list[dict[str, Any]], tuple]]:
        for batch, tasks in jobs:
            yield batch, tasks, run_batch(tasks, outputs, series_columns)


class DaskExecutor:
    """Runs batches on a ``distributed.Client``: a new LocalCluster or a scheduler address."""

    def __init__(self, *, scheduler: str | None = None, workers: int | None = None, wait_seconds: float = 60.0):
        self.scheduler = scheduler
        self.n_local = workers
        self.wait_seconds = wait_seconds
        self.name = f"dask scheduler {scheduler}" if scheduler else "local Dask cluster"
        self._stack = contextlib.ExitStack()
        self.workers = 0
        self.worker_info: list[dict[str, Any]] = []

    def __enter__(self) -> DaskExecutor:
        from distributed import Client, LocalCluster

        start = time.perf_counter()
        stack = self._stack
        try:
            names = [n for n in list(logging.root.manager.loggerDict)
                     if n in LOGGER_NAMES or n.startswith(tuple(f"{p}." for p in LOGGER_NAMES))]
            for name in {*LOGGER_NAMES, *names}:
                logger = logging.getLogger(name)
                previous = logger.level
                logger.setLevel(logging.CRITICAL)  # failures surface as one line (SweepAborted, failed runs)
                stack.callback(logger.setLevel, previous)
            if self.scheduler:
                try:
                    self.client = stack.enter_context(Client(self.scheduler, timeout="15s"))
                except (OSError, TimeoutError) as exc:
                    raise UserInputError(f"cannot connect to the Dask scheduler ({_one_line(exc, 300)}); allowed: "
                                         "the address of a running `dask scheduler`, e.g. tcp://10.0.0.5:8786",
                                         source=str(self.scheduler), key="--scheduler") from None
                try:
                    self.client.wait_for_workers(1, timeout=self.wait_seconds)
                except (TimeoutError, OSError):
                    raise SweepAborted(f"the Dask scheduler {self.scheduler} has no workers after "
                                       f"{self.wait_seconds:.0f} s; start some with `dask worker {self.scheduler} "
                                       "--nthreads 1`") from None
            else:
                n = max(1, int(self.n_local or os.cpu_count() or 1))
                # The worker processes inherit NUMBA_NUM_THREADS=1 from their start, so numba reads
                # the same value at import and at every later compile (changing it after numba's
                # threads started is an error). Restored here at once: this process's numba is
                # untouched. run_batch also sets one thread per run wherever it runs.
                with _temporary_environ(NUMBA_NUM_THREADS="1"):
                    cluster = stack.enter_context(LocalCluster(
                        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                        silence_logs=logging.ERROR,
                        # no dashboard; the scheduler's small HTTP server on any free loopback port
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}))
                self.client = stack.enter_context(Client(cluster))
            self._warm_up()
        except BaseException:
            stack.close()
            raise
        self.setup_seconds = time.perf_counter() - start
        return self

    def _warm_up(self) -> None:
        """Load the kernels once in every worker (pinned tasks) and check the code version."""
        info = self.client.scheduler_info(n_workers=-1)["workers"] if _accepts_n_workers(self.client) \
            else self.client.scheduler_info()["workers"]
        futures = [self.client.submit(warm_up, key=f"warm-up-{uuid.uuid4().hex[:8]}", workers=[addr],
                                      allow_other_workers=False, pure=False) for addr in info]
        self.worker_info = self.client.gather(futures)
        self.workers = sum(int(w.get("nthreads", 1)) for w in info.values()) or len(info)
        mine = code_fingerprint()
        for addr, got in zip(info, self.worker_info):
            if got["version"] != __version__ or got["code_fingerprint"] != mine:
                raise UserInputError(f"worker {addr} runs other model code (socialsim {got['version']}, code "
                                     f"{got['code_fingerprint']}; here {__version__}, code {mine}); allowed: the same "
                                     "code on every worker (install this checkout there)",
                                     source=str(self.scheduler or "local cluster"), key="--scheduler")

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self._stack.close()

    def run(self, jobs: Iterator[tuple[int, list[dict[str, Any]]]], outputs: str,
            series_columns: Sequence[str]) -> Iterator[tuple[int, list[dict[str, Any]], tuple]]:
        from distributed import as_completed

        try:
            from distributed.scheduler import KilledWorker
        except ImportError:  # pragma: no cover - older layouts
            from distributed import KilledWorker  # type: ignore[no-redef]

        in_flight = max(2, 2 * self.workers)
        pending: dict[Any, tuple[int, list[dict[str, Any]]]] = {}
        completed = as_completed()

        def submit_next() -> bool:
            job = next(jobs, None)
            if job is None:
                return False
            batch, tasks = job
            future = self.client.submit(run_batch, tasks, outputs, list(series_columns),
                                        key=f"run_batch-{batch:05d}-{uuid.uuid4().hex[:8]}", pure=False)
            pending[future] = job
            completed.add(future)
            return True

        for _ in range(in_flight):
            if not submit_next():
                break
        for future in completed:
            batch, tasks = pending.pop(future)
            try:
                result = future.result()
            except KilledWorker as exc:
                result = failed_batch(tasks, f"KilledWorker: {_one_line(exc, 500)}", outputs, series_columns)
            except (Exception, asyncio.CancelledError, concurrent.futures.CancelledError) as exc:  # noqa: BLE001
                # lost scheduler, cancelled by someone else, ...
                for other in list(pending):
                    other.cancel()
                raise SweepAborted(f"batch {batch} did not come back ({type(exc).__name__}: {_one_line(exc, 300)}); "
                                   "the finished batches are on disk: rerun the same command to resume") from None
            del future
            yield batch, tasks, result
            submit_next()


@contextlib.contextmanager
def _temporary_environ(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of the block (for child processes started in it)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _accepts_n_workers(client: Any) -> bool:
    import inspect

    try:
        return "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False


# ------------------------------------------------------------------ the sweep
@dataclass
class SweepReport:
    """What a sweep did.

    Attributes:
        out: the output folder. name: the experiment. spec_hash: its identity.
        n_runs: runs in the experiment. ran: runs run now. skipped: runs already on disk.
        ok, failed: runs over the whole folder by status. resumed: the folder existed.
        executor: "serial", "local Dask cluster" or "dask scheduler ADDRESS". workers: threads.
        setup_seconds: cluster start and warm-up. run_seconds: first submit to last part written.
        code_changed: resumed with model code other than the manifest's ``code_fingerprint``.
        damaged: (batch, why) of part files found damaged, set aside in ``OUT/damaged/`` and run again.
        stale_lock: the owner named by a lock left by a sweep that is no longer running, if any.
    """

    out: Path
    name: str
    spec_hash: str
    n_runs: int
    ran: int
    skipped: int
    ok: int
    failed: int
    resumed: bool
    executor: str
    workers: int
    setup_seconds: float = 0.0
    run_seconds: float = 0.0
    worker_info: list[dict[str, Any]] = field(default_factory=list)
    code_changed: bool = False
    damaged: list[tuple[int, str]] = field(default_factory=list)
    stale_lock: dict[str, Any] | None = None

    @property
    def runs_per_second(self) -> float:
        return self.ran / self.run_seconds if self.run_seconds > 0 else float("nan")


def run_sweep(experiment: Experiment | str | Path, *, out: str | Path | None = None, scheduler: str | None = None,
              workers: int | None = None, retry_failed: bool = False,
              progress: Callable[[int, int], None] | None = None,
              on_start: Callable[[Plan, int, int], None] | None = None, confirmed: bool = False,
              calibrated: bool | str | Path | None = None, organisation: str | None = None,
              ties: str | None = None) -> SweepReport:
    """Run (or resume) an experiment and write its results (see :mod:`sim.experiments.store`).

    Args:
        experiment: an :class:`Experiment` or an experiment file.
        out: output folder (overrides the experiment's).
        scheduler: a Dask scheduler address; None starts a LocalCluster.
        workers: local worker processes (default: all cores); 0 runs serially in this process.
        retry_failed: rerun the batches that hold failed runs.
        progress: ``progress(done_runs, total_runs)`` once when the workers are ready (done_runs =
            runs already on disk), then after each written batch.
        on_start: ``on_start(plan, runs_to_do, runs_already_done)`` before the executor starts.
        confirmed: run an experiment above :data:`MAX_RUNS_UNCONFIRMED` runs or
            :data:`MAX_HOURS_UNCONFIRMED` estimated hours (the CLI's ``--yes``).
        calibrated: True or a posterior file: draw every run's behavioural parameters from it
            (the CLI's ``--calibrated``); None: as the experiment file says.
        organisation, ties: an imported organisation (and its ties) for every base scenario (the
            CLI's ``--organisation`` / ``--ties``; :func:`sim.experiments.spec.with_organisation`).

    Raises:
        ExperimentError / UserInputError: a bad experiment, output folder or scheduler address.
        SweepAborted: the cluster went away; what finished is on disk, rerun to resume.
    """
    imported = {key: value for key, value in (("organisation", organisation), ("ties", ties)) if value}
    if not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment, out=out, organisation=imported)
    else:
        if out is not None:
            experiment = dataclasses.replace(experiment, out=Path(out))
        experiment = with_organisation(experiment, organisation, ties)
    if workers is not None and workers < 0:
        raise UserInputError(f"{workers} is negative; allowed: 0 (serial) or more", source="--workers")
    if scheduler is not None:
        check_scheduler_address(scheduler)
    if scheduler is not None and workers is not None:
        raise UserInputError("--workers starts a local cluster; allowed: --workers or --scheduler, not both",
                             source="--workers")
    check_size(experiment, confirmed=confirmed, workers=None if scheduler else workers)
    plan = plan_experiment(experiment, calibrated)
    out_dir = experiment.out
    with sweep_lock(out_dir, experiment.spec.name) as stale:
        return _sweep(plan, out_dir, scheduler=scheduler, workers=workers, retry_failed=retry_failed,
                      progress=progress, on_start=on_start, stale_lock=stale)


def _sweep(plan: Plan, out_dir: Path, *, scheduler: str | None, workers: int | None, retry_failed: bool,
           progress: Callable[[int, int], None] | None, on_start: Callable[[Plan, int, int], None] | None,
           stale_lock: dict[str, Any] | None) -> SweepReport:
    """The body of :func:`run_sweep`, run while the output folder is locked."""
    experiment = plan.experiment
    resumed = prepare_output(plan, out_dir)
    recorded = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8")).get("code_fingerprint")
    code_changed = resumed and recorded is not None and recorded != code_fingerprint()
    _clean_temporary(out_dir)
    spec = experiment.spec
    schema = part_schema(experiment)
    s_schema = series_schema(experiment.series_columns) if spec.outputs == "series" else None
    done = set(part_batches(out_dir / PARTS))
    done &= set(range(plan.n_batches))
    damaged = set_aside_damaged(out_dir, plan, sorted(done), schema, s_schema)
    done -= {b for b, _ in damaged}
    check_labels(out_dir, plan, sorted(done))
    if retry_failed:
        done -= set(batches_with_failures(out_dir, sorted(done)))
    todo = [b for b in range(plan.n_batches) if b not in done]
    to_run = sum(len(plan.batch_run_ids(b)) for b in todo)
    skipped = plan.n_runs - to_run
    if on_start is not None:
        on_start(plan, to_run, skipped)
    series_columns = experiment.series_columns if spec.outputs == "series" else []
    executor: SerialExecutor | DaskExecutor
    if scheduler is None and workers == 0:
        executor = SerialExecutor()
    else:
        local_workers = None if scheduler else min(int(workers or os.cpu_count() or 1), max(1, len(todo)))
        executor = DaskExecutor(scheduler=scheduler, workers=local_workers)
    setup = run_seconds = 0.0
    ran = 0
    if not todo and progress is not None:
        progress(skipped, plan.n_runs)
    if todo:
        with executor:
            setup = executor.setup_seconds
            if progress is not None:  # workers ready: the runs start now
                progress(skipped, plan.n_runs)
            start = time.perf_counter()
            jobs = ((b, plan.tasks(b)) for b in todo)
            count = skipped
            for batch, tasks, (frame, series) in executor.run(jobs, spec.outputs, series_columns):
                write_batch(out_dir, batch, frame, series, schema, s_schema)
                ran += len(tasks)
                count += len(tasks)
                if progress is not None:
                    progress(count, plan.n_runs)
            run_seconds = time.perf_counter() - start
    ok, failed = count_status(out_dir)
    return SweepReport(out=out_dir, name=spec.name, spec_hash=plan.spec_hash, n_runs=plan.n_runs, ran=ran,
                       skipped=skipped, ok=ok, failed=failed, resumed=resumed, executor=executor.name,
                       workers=executor.workers, setup_seconds=setup, run_seconds=run_seconds,
                       worker_info=list(getattr(executor, "worker_info", [])), code_changed=code_changed,
                       damaged=damaged, stale_lock=stale_lock)


__all__ = ["DaskExecutor", "Plan", "SerialExecutor", "SweepAborted", "SweepReport", "count_status",
           "part_schema", "plan_experiment", "point_scenario", "prepare_output", "run_batch", "run_sweep",
           "series_schema", "warm_up", "write_batch"]
