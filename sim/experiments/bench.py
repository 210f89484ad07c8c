"""Benchmark of the sweep runner: runs per second locally and through Dask, and the overhead per run.

Run it with ``python -m sim.experiments.bench`` (``--runs``, ``--batch-size``, ``--population``,
``--weeks``). Not a test: timings depend on the machine and on its load, which is printed.

Method. One experiment: the default scenario (3,000 employees, 30,000 customers, 104 weeks)
``runs`` times (replicates of one point, seeds from one root seed), in batches of
``batch_size`` runs. Then, in this order:

a. **serial baseline**: the same runs with :func:`sim.run` in this process, one numba thread
   (as on a worker), no sweep machinery: ``t1`` = seconds per run;
b. **serial sweep** (``workers = 0``): the sweep machinery (planning, batches, Parquet parts)
   without Dask;
c. **LocalCluster, 1 worker** and d. **2 workers**: ``run_sweep(workers=N)``;
e. **Dask cluster**: a scheduler and 2 workers started as separate processes on loopback
   (``dask scheduler`` / ``dask worker``, as on a real cluster), through ``scheduler=ADDRESS``.

For each: wall time of the runs (first batch submitted to last part written; cluster start and
the per-worker warm-up are reported separately as start-up), runs/s, speed-up over the serial
baseline, scaling efficiency = speed-up / workers, and overhead per run =
``(wall - t1 * runs / workers) / runs``. Every mode runs ``--repeat`` times in rounds and the
fastest round counts (other processes on a shared machine only add time; every round is
printed). The results of every mode and round are checked identical.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

SCHEDULER_MODULE = "distributed.cli.dask_scheduler"
WORKER_MODULE = "distributed.cli.dask_worker"


# ------------------------------------------------------------------ a real cluster on loopback
@dataclass
class LoopbackCluster:
    """A Dask scheduler and workers running as separate processes on 127.0.0.1."""

    address: str
    folder: Path
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def worker_pids(self) -> dict[str, int]:
        """Worker address -> pid of the worker process (the nanny's child)."""
        from distributed import Client

        with Client(self.address, timeout="30s") as client:
            return client.run(os.getpid)


def _stop(procs: list[subprocess.Popen], timeout: float = 15.0) -> None:
    """Terminate processes started in their own sessions; kill each group if it does not stop."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
    deadline = time.monotonic() + timeout
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # and any child left behind (the worker under a nanny)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)


@contextlib.contextmanager
def loopback_cluster(n_workers: int = 2, *, folder: str | Path | None = None,
                     timeout: float = 120.0) -> Iterator[LoopbackCluster]:
    """Start ``dask scheduler`` and ``n_workers`` ``dask worker`` processes (1 thread each) on loopback.

    Every process runs in its own session, with ``NUMBA_NUM_THREADS=1``; all are stopped (and
    killed if need be) on exit. Raises RuntimeError, with the process's log, if one fails.
    """
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="socialsim-dask-"))
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "NUMBA_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        procs: list[subprocess.Popen] = []

        def start(args: list[str], name: str) -> subprocess.Popen:
            log = stack.enter_context(open(folder / f"{name}.log", "wb"))
            proc = subprocess.Popen([sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT, env=env,
                                    cwd=folder, start_new_session=True)
            procs.append(proc)
            return proc

        try:
            scheduler_file = folder / "scheduler.json"
            scheduler_file.unlink(missing_ok=True)  # a stale file would point at an old address
            scheduler = start([SCHEDULER_MODULE, "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
                              "scheduler")
            deadline = time.monotonic() + timeout
            address = None
            while address is None:
                if scheduler.poll() is not None:
                    raise RuntimeError(f"dask scheduler exited with {scheduler.returncode}: "
                                       f"{(folder / 'scheduler.log').read_text(errors='replace')[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dask scheduler did not write {scheduler_file} within {timeout:.0f} s")
                with contextlib.suppress(OSError, ValueError):
                    address = json.loads(scheduler_file.read_text())["address"]
                time.sleep(0.1)
            cluster = LoopbackCluster(address=address, folder=folder, scheduler=scheduler)
            for i in range(n_workers):
                cluster.workers.append(start([WORKER_MODULE, address, "--nthreads", "1", "--nworkers", "1",
                                              "--no-dashboard", "--host", "127.0.0.1", "--name", f"worker-{i}",
                                              "--death-timeout", "60"], f"worker-{i}"))
            from distributed import Client

            with Client(address, timeout="30s") as client:
                remaining = max(1.0, deadline - time.monotonic())
                try:
                    client.wait_for_workers(n_workers, timeout=remaining)
                except TimeoutError:
                    logs = " | ".join(f"worker-{i}: {cluster.log(f'worker-{i}')[-500:]}" for i in range(n_workers))
                    raise RuntimeError(f"{n_workers} dask workers did not connect within {timeout:.0f} s: "
                                       f"{logs}") from None
            yield cluster
        finally:
            _stop(procs[1:])  # the workers first (they say goodbye to the scheduler), then the scheduler
            _stop(procs[:1])


# ------------------------------------------------------------------ the benchmark
def bench_experiment(folder: Path, *, runs: int, batch_size: int, population: str, weeks: int | None) -> Path:
    """Write the benchmark's experiment file (``runs`` replicates of the default scenario)."""
    lines = ['name = "sweep_bench"', f"replicates = {runs}", "root_seed = 20240601", f"batch_size = {batch_size}",
             f'population = "{population}"']
    if weeks is not None:
        lines.append(f"weeks = {weeks}")
    path = folder / "bench.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def serial_baseline(plan: Any) -> float:
    """Seconds for every run of ``plan`` with :func:`sim.run` here, one numba thread (no sweep machinery)."""
    import sim
    from sim.experiments.worker import single_numba_thread, warm_up

    warm_up()
    start = time.perf_counter()
    with single_numba_thread():
        for batch in range(plan.n_batches):
            for task in plan.tasks(batch):
                sim.run(task["scenario"], seed=task["seed"])
    return time.perf_counter() - start


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def main(runs: int = 24, batch_size: int = 2, population: str = "default", weeks: int | None = None,
         keep: str | None = None, repeat: int = 2) -> pd.DataFrame:
    """Run the benchmark and print its table (returned as a DataFrame).

    Every mode runs ``repeat`` times, in rounds (a, b, c, d, e, then again), and the table keeps
    each mode's fastest round: on a shared machine other processes only ever add time.
    """
    from sim.experiments import (
        load_experiment,
        load_results,
        plan_experiment,
        run_sweep,
    )

    timings: dict[str, list[tuple[float, float, int]]] = {}  # mode -> [(wall, start-up, workers)]
    results: dict[str, pd.DataFrame] = {}
    with contextlib.ExitStack() as stack:
        root = Path(keep) if keep else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sweep-bench-")))
        root.mkdir(parents=True, exist_ok=True)
        spec_path = bench_experiment(root, runs=runs, batch_size=batch_size, population=population, weeks=weeks)
        experiment = load_experiment(spec_path)
        plan = plan_experiment(experiment)
        base = next(iter(experiment.bases.values()))
        print(f"sweep benchmark: {runs} runs of the {population} scenario ({base.employees:,} employees, "
              f"{base.customers:,} customers, {base.weeks} weeks), batches of {batch_size}, {repeat} rounds; "
              f"{os.cpu_count()} CPUs, load average before: {load_average()}", flush=True)
        t0 = time.perf_counter()
        cluster = stack.enter_context(loopback_cluster(2, folder=root / "dask"))
        cluster_start = time.perf_counter() - t0
        modes: list[tuple[str, dict[str, Any] | None]] = [
            ("a. serial sim.run (baseline)", None),
            ("b. serial sweep (workers=0)", {"workers": 0}),
            ("c. LocalCluster, 1 worker", {"workers": 1}),
            ("d. LocalCluster, 2 workers", {"workers": 2}),
            ("e. Dask cluster (scheduler + 2 workers)", {"scheduler": cluster.address}),
        ]
        for round_ in range(repeat):
            for label, kwargs in modes:
                if kwargs is None:
                    timings.setdefault(label, []).append((serial_baseline(plan), 0.0, 1))
                else:
                    out = root / f"{label.split('.')[0]}-{round_}"
                    report = run_sweep(experiment, out=out, **kwargs)
                    if report.failed:
                        raise SystemExit(f"{label}: {report.failed} runs failed (see {out})")
                    startup = report.setup_seconds + (cluster_start if "scheduler" in kwargs else 0.0)
                    timings.setdefault(label, []).append((report.run_seconds, startup, max(1, report.workers)))
                    results[f"{label} #{round_}"] = load_results(out).drop(columns=["version"])
                wall, startup, _ = timings[label][-1]
                print(f"  round {round_ + 1}, {label}: {wall:.1f} s (+ {startup:.1f} s start-up); "
                      f"load average {load_average()}", flush=True)

    rows = []
    for label, _ in modes:
        walls = [t[0] for t in timings[label]]
        rows.append({"mode": label, "workers": timings[label][0][2], "wall_s": min(walls),
                     "rounds": ", ".join(f"{w:.1f}" for w in walls),
                     "startup_s": min(t[1] for t in timings[label])})
    table = pd.DataFrame(rows)
    t_serial = float(table["wall_s"].iloc[0])
    t1 = t_serial / runs
    table["runs"] = runs
    table["runs_per_s"] = runs / table["wall_s"]
    table["speedup"] = t_serial / table["wall_s"]
    table["efficiency"] = table["speedup"] / table["workers"]
    table["overhead_ms_per_run"] = 1000 * (table["wall_s"] - t1 * runs / table["workers"]) / runs
    first = next(iter(results.values()))
    identical = all(frame.equals(first) for frame in results.values())
    print()
    print(format_table(table))
    print(f"\nwall s = fastest of {repeat} rounds (all rounds listed); serial time per run t1 = {t1:.3f} s; "
          "speed-up = serial baseline wall / wall; efficiency = speed-up / workers; overhead per run = "
          "(wall - t1 * runs / workers) / runs; start-up (cluster start + per-worker warm-up) is not in wall s."
          f"\nidentical results in every mode and round: {'yes' if identical else 'NO'}; "
          f"load average after: {load_average()}")
    if not identical:
        raise SystemExit("results differ between modes")
    return table


def format_table(table: pd.DataFrame) -> str:
    """The benchmark table as fixed-width text (also valid Markdown)."""
    head = ["mode", "workers", "runs", "wall s", "runs/s", "speed-up", "efficiency", "overhead ms/run",
            "start-up s", "wall s, all rounds"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.itertuples(index=False):
        lines.append(f"| {r.mode} | {r.workers} | {r.runs} | {r.wall_s:.1f} | {r.runs_per_s:.2f} | "
                     f"{r.speedup:.2f}x | {r.efficiency:.0%} | {r.overhead_ms_per_run:.0f} | {r.startup_s:.1f} | "
                     f"{r.rounds} |")
    return "\n".join(lines)


def _parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sim.experiments.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=24, help="runs per mode (default 24)")
    parser.add_argument("--batch-size", type=int, default=2, help="runs per batch (default 2)")
    parser.add_argument("--population", default="default", choices=("small", "default", "large"))
    parser.add_argument("--weeks", type=int, default=None, help="horizon (default: the scenario's 104)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds; the fastest is kept (default 2)")
    parser.add_argument("--keep", default=None, help="keep the outputs in this folder")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = _parse()
    main(runs=args.runs, batch_size=args.batch_size, population=args.population, weeks=args.weeks, keep=args.keep,
         repeat=args.repeat)
