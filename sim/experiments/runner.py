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

This module plans a sweep (:class:`Plan`), guards its folder (:func:`sweep_lock`, the size
check) and drives it (:func:`run_sweep`); the pieces it drives live beside it:
:mod:`~sim.experiments.worker` (what runs on a worker), :mod:`~sim.experiments.cluster` (where:
this process or a Dask cluster) and :mod:`~sim.experiments.parts` (writing the part files and
checking them on resume).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ScenarioError, UserInputError
from ..outputs import __version__
from ..scenario import Scenario, make_scenario
from .cluster import DaskExecutor, SerialExecutor, SweepAborted
from .design import Design, count_points, generate_design, point_seeds, python_value
from .parts import (clean_temporary, batches_with_failures, check_labels, count_status, part_schema, prepare_output,
                    series_schema, set_aside_damaged, write_batch)
from .spec import SCENARIO_FACTOR, Experiment, ExperimentError, load_experiment, with_organisation
from .store import LOCK_FILE, MANIFEST, PARTS, part_batches
from .worker import code_fingerprint, run_batch, warm_up


#: Above these, a sweep asks for confirmation (``--yes``): an experiment of this size is rarely meant.
MAX_RUNS_UNCONFIRMED = 100_000
MAX_HOURS_UNCONFIRMED = 12.0
#: Never: the manifest alone would take gigabytes.
MAX_RUNS = 10_000_000
#: Seconds per agent-week of one run on one core (default run: 33,000 agents x 104 weeks ~ 0.5 s)
#: plus a fixed cost per run; only for the estimate shown before a sweep starts.
SECONDS_PER_AGENT_WEEK = 1.5e-7
SECONDS_PER_RUN = 0.03


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
    clean_temporary(out_dir)
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
