"""Benchmark of the two engines: JIT cost, speed and memory by size, linearity in edges, default run.

Method
------
Every measurement runs in a fresh worker process (``python -c`` calling :func:`worker`, which
prints one JSON line), all in the same invocation of :func:`main`, so the ratios between them
are taken on the same machine under the same load. The parent only orchestrates and prints.

1. **JIT compile time (one-off).** A worker with ``NUMBA_CACHE_DIR`` pointing at a new, empty
   temporary folder builds a tiny model and steps it once: this compiles every kernel. A second
   worker with the same, now filled, folder does the same: this is the cost of loading the
   cached machine code, what every later process pays. Import time of ``sim`` is timed too.
2. **Per population size**, each size in its own worker so that the peak resident memory
   (``getrusage(RUSAGE_SELF).ru_maxrss``) belongs to that size alone. The worker records the RSS
   of the idle interpreter that has imported ``sim`` (the baseline), warms the kernels on a tiny
   model, times model construction (networks and state) on its own, then times ``weeks`` (104)
   numba weeks: agent-steps/s = (employees + customers) * weeks / seconds. It then builds a
   model of the same size and seed with the ``python`` engine and times its first
   ``python_steps`` weeks. Two ratios are reported: *whole run* (numba over all 104 weeks vs the
   python engine's early weeks; early weeks are cheaper, fewer people are active) and *same
   weeks* (the first ``python_steps`` numba weeks, taken from the per-week timings of the same
   numba run, vs the same python weeks) - the second is the honest one. The first weeks of both
   engines are compared row by row (``same_results``): same draws, same outputs. Sizes
   ``"10k"``, ``"100k"``, ``"1m"`` mean 1,000 / 10,000 / 100,000 employees and 9x as many
   customers in 10 / 20 / 40 departments; ``"1m"`` uses ``customer_degree = 10`` (about 10M
   directed edges); any ``"<n>k"`` or ``"<n>m"`` means that many agents, 10% of them employees.
   Unless ``quick``, the numba run is repeated with one thread (``numba.set_num_threads(1)``)
   to show what the parallel kernels buy (or cost) on this machine.
3. **Linearity in edges.** At 100k agents (10,000 employees, 90,000 customers), the customer
   degree (4, 16, 32, 64) and the team ties (10, 40) vary; 20 numba weeks are timed for each. A
   least-squares line of seconds per week against edges gives the cost per million edges
   (slope) and the fixed per-agent cost (intercept), with R^2. Unless ``quick``, repeated with
   ``OMP_WAIT_POLICY=PASSIVE`` (see 4): spinning OpenMP threads add a fixed cost per kernel call
   that can hide the per-edge cost entirely.
4. **Default scenario.** ``sim.run()`` with the defaults (3,000 employees, 30,000 customers,
   104 weeks) after compilation: median of 5 runs, and 10 replicates with
   :func:`sim.runner.run_replicates` (what the dashboard does). Unless ``quick``, also with one
   thread, and in a process with ``OMP_WAIT_POLICY=PASSIVE`` (when numba uses GNU OpenMP and the
   variable is not set): OpenMP worker threads otherwise spin after every parallel kernel call,
   which on a small, shared machine can cost more than the kernel itself.

Targets printed next to the results: numba >= 100x the python engine (same weeks); a default
run well under 1 s; 1M agents for 104 weeks (construction included) in < 60 s and < 4 GB peak.
The machine's load average is recorded with every worker: on a shared machine timings are
noisy, and so are these.
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

TARGET_RATIO = 100.0
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
    """Compiled signatures over all kernels (grows if a timed run had to compile)."""
    from numba.core.registry import CPUDispatcher

    from . import kernels

    return sum(len(f.signatures) for f in vars(kernels).values() if isinstance(f, CPUDispatcher))


def _warm() -> float:
    """Compile or load both variants (serial, parallel) of every kernel; seconds."""
    from .runner import warm_kernels

    t = time.perf_counter()
    warm_kernels()
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


def _timed_weeks(model, weeks: int) -> list[float]:
    times = []
    for _ in range(weeks):
        t = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - t)
    return times


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

    from .model import SocialBusinessModel

    out: dict[str, Any] = {"load_start": _load(), "baseline_rss_mib": _maxrss_mib()}
    size = parse_size(spec)
    agents = size["employees"] + size["customers"]
    steps = default_python_steps(agents, quick) if python_steps is None else int(python_steps)
    steps = max(0, min(steps, weeks))
    out.update(size, agents=agents, weeks=weeks, python_steps=steps, seed=SEED)
    out["warmup_s"] = _warm()
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
    per_week = _timed_weeks(model, weeks)
    out["numba_s"] = sum(per_week)
    out["numba_week_max_s"] = max(per_week)
    out["numba_first_s"] = sum(per_week[:steps])
    out["numba_rate"] = agents * weeks / out["numba_s"]
    first_rows = {k: v[: steps + 1].copy() for k, v in model.recorder.columns.items()}
    out["peak_rss_numba_mib"] = _maxrss_mib()
    out["recompiled"] = _signatures() != signatures
    del model
    gc.collect()

    if single_thread:
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            model = SocialBusinessModel(scenario, seed=SEED, engine="numba")
            out["numba_1thread_s"] = sum(_timed_weeks(model, weeks))
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
        out["python_s"] = sum(_timed_weeks(model, steps))
        out["python_rate"] = agents * steps / out["python_s"]
        out["ratio_run"] = out["numba_rate"] / out["python_rate"]
        out["ratio_same_weeks"] = out["python_s"] / out["numba_first_s"]
        out["same_results"] = all(
            np.allclose(first_rows[k], model.recorder.columns[k][: steps + 1], rtol=1e-9, atol=1e-9,
                        equal_nan=True) for k in first_rows)
        del model
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
        per_week = _timed_weeks(model, weeks)
        seconds = sum(per_week)
        rows.append({"customer_degree": degree, "team_ties": team_ties, "agents": agents, "weeks": weeks,
                     **edges, "seconds": seconds, "s_per_week": seconds / weeks,
                     "median_week_s": statistics.median(per_week),
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


def worker(argv: Sequence[str], t_start: float | None = None) -> dict[str, Any]:
    """Run one measurement in this process and print it as one JSON line; returns it too.

    ``argv``: ``compile`` | ``size SPEC WEEKS PYTHON_STEPS|- SINGLE(0/1) QUICK(0/1)`` |
    ``edges WEEKS`` | ``default RUNS REPLICATES SINGLE(0/1)``.
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
    else:
        raise ValueError(f"unknown worker {kind!r}; allowed: compile, size, edges, default")
    print(RESULT_MARK + json.dumps(result, default=_json_default), flush=True)
    return result


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


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


def export_baseline(ref: str, folder: Path) -> Path:
    """Write ``sim/`` and ``scenarios/`` of git revision ``ref`` into ``folder`` (for section 5).

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


def measure_against_baseline(ref: str = BASELINE_REF, rounds: int = 3, runs: int = 3) -> pd.DataFrame:
    """Section 5: time a week of this code and of ``ref`` (model v1), side by side.

    Each round runs one fresh process per code version, alternating, so both see the same load;
    each process times ``runs`` whole runs (after compiling) of provide-and-pray and purpose-led
    stepwise on the small and default organisations. Per scenario: the median over rounds of
    each version's seconds per week, and their ratio (this code / baseline).
    """
    here = str(Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory(prefix="socialsim-baseline-") as tmp:
        base = str(export_baseline(ref, Path(tmp)))
        samples: dict[str, dict[str, list[float]]] = {"current": {}, "baseline": {}}
        for _ in range(rounds):
            for label, path in (("baseline", base), ("current", here)):
                env = {**os.environ, "PYTHONPATH": path}
                # -P: the working directory (which holds the baseline's sim/) is not put on sys.path.
                proc = subprocess.run([sys.executable, "-P", "-c", _TIME_WEEKS.replace("RUNS", str(runs))],
                                      cwd=tmp, capture_output=True, text=True, env=env, check=False)
                if proc.returncode != 0:
                    raise WorkerError(f"baseline timing ({label}): {' | '.join(proc.stderr.strip().splitlines()[-3:])}")
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                if not result.pop("sim").startswith(path):
                    raise WorkerError(f"baseline timing ({label}) imported sim from the wrong place")
                for key, value in result.items():
                    samples[label].setdefault(key, []).append(value)
    rows = []
    for key in samples["current"]:
        now, then = statistics.median(samples["current"][key]), statistics.median(samples["baseline"][key])
        preset, population = key.split("/")
        rows.append({"scenario": preset, "population": population, "week_ms": now * 1000,
                     "baseline_week_ms": then * 1000, "ratio": now / then, "baseline": ref,
                     "met": now / then <= TARGET_WEEK_RATIO})
    return pd.DataFrame(rows)


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
    second time with ``OMP_WAIT_POLICY=PASSIVE``: GNU OpenMP's threads otherwise spin in the
    barrier after every parallel kernel, which on a busy 2-core machine costs milliseconds per
    call. Its result is under the key ``"passive"`` (None when not run).
    """
    result = run_worker(["default", runs, replicates, int(single_thread)])
    result["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY", "")
    result["passive"] = None
    if passive_variant and "OMP_WAIT_POLICY" not in os.environ and result["threading_layer"] == "omp":
        result["passive"] = run_worker(["default", runs, replicates, 0],
                                       env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    return result


def _weeks_text(steps: float) -> str:
    return "week 1" if int(steps) == 1 else f"weeks 1-{int(steps)}"


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT MET")


def judge_targets(sizes: pd.DataFrame, default: dict[str, Any] | None) -> pd.DataFrame:
    """One row per target: what was measured and whether it is met (never hidden)."""
    rows = []
    for _, r in sizes.iterrows():
        if r.get("error"):
            rows.append({"target": f"numba >= {TARGET_RATIO:.0f}x python, {r['size']}", "measured": r["error"],
                         "status": "NOT MET"})
            continue
        ratio = r["ratio_same_weeks"]
        ok = None if not np.isfinite(ratio) else bool(ratio >= TARGET_RATIO)
        rows.append({"target": f"numba >= {TARGET_RATIO:.0f}x python (same weeks), {r['size']}",
                     "measured": f"{_fmt(ratio)}x over {_weeks_text(r['python_steps'])} "
                                 f"(whole-run ratio {_fmt(r['ratio_run'])}x)", "status": _met(ok)})
    if default is not None:
        s = default["run_median_s"]
        status = _met(s < TARGET_DEFAULT_S)
        if s < TARGET_DEFAULT_S and s > TARGET_DEFAULT_S / 2:
            status = "met, but not well under"
        rows.append({"target": f"default run well under {TARGET_DEFAULT_S:.0f} s",
                     "measured": f"{s:.3f} s median of {default['runs']}", "status": status})
    big = sizes[sizes["agents"] >= 1_000_000] if "agents" in sizes else sizes.iloc[:0]
    if big.empty:
        rows.append({"target": "1M agents, 104 weeks < 60 s and < 4 GB", "measured": "not run",
                     "status": "n/a"})
    for _, r in big.iterrows():
        if r.get("error"):
            rows.append({"target": f"{r['size']}: 104 weeks < {TARGET_1M_S:.0f} s and < 4 GB",
                         "measured": r["error"], "status": "NOT MET"})
            continue
        scale = WEEKS / r["weeks"]
        note = "" if r["weeks"] == WEEKS else f" (extrapolated from {int(r['weeks'])} weeks)"
        rows.append({"target": f"{r['size']}: build + 104 weeks < {TARGET_1M_S:.0f} s",
                     "measured": f"{r['build_s'] + r['numba_s'] * scale:.1f} s (build {r['build_s']:.1f} s + "
                                 f"run {r['numba_s'] * scale:.1f} s){note}",
                     "status": _met(r["build_s"] + r["numba_s"] * scale < TARGET_1M_S)})
        rows.append({"target": f"{r['size']}: peak memory < 4 GB",
                     "measured": f"{r['peak_rss_numba_mib']:,.0f} MiB peak (numba model; "
                                 f"{r['peak_rss_mib']:,.0f} MiB with the python-engine model after it)",
                     "status": _met(r["peak_rss_numba_mib"] < TARGET_1M_MIB)})
    return pd.DataFrame(rows)


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
                         justify="left" if key in ("size", "phase", "target", "measured", "status",
                                                   "threading_layer", "what", "wait_policy") else "right")
    for row in rows:
        cells = []
        for key, _ in columns:
            text = _fmt(row.get(key), digits.get(key, 0 if key.endswith("_mib") else None))
            if key == "status":
                text = f"[green]{text}[/]" if text.startswith("met") and text == "met" else (
                    f"[yellow]{text}[/]" if text.startswith("met") else f"[red]{text}[/]" if text == "NOT MET" else text)
            cells.append(text)
        table.add_row(*cells)
    return table


SIZE_SPEED_COLUMNS = (
    ("size", "size"), ("employees", "employees"), ("customers", "customers"), ("edges", "edges"),
    ("threads", "threads"), ("build_s", "build s"), ("numba_s", "numba s"),
    ("numba_week_max_s", "slowest week s"), ("numba_rate", "agent-steps/s"),
    ("numba_1thread_s", "1 thread s"))
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
    ("wait_policy", "OMP wait policy"), ("customer_degree", "customer degree"), ("team_ties", "team ties"), ("org_nnz", "org nnz"),
    ("customer_nnz", "customer nnz"), ("contacts_nnz", "contacts nnz"), ("edges", "edges"),
    ("s_per_week", "s / week (mean)"), ("median_week_s", "median week s"),
    ("s_per_week_per_medge", "s / week / M edges"))
COMPILE_COLUMNS = (
    ("phase", "phase"), ("import_s", "import sim s"), ("build_step_s", "tiny build + step s"),
    ("process_wall_s", "process wall s"), ("cache_index_files", "cached kernels"), ("threads", "threads"),
    ("threading_layer", "layer"), ("load", "load avg"))


def _summary(compile_df: pd.DataFrame | None, sizes: pd.DataFrame, fit: list[dict[str, Any]] | None,
             default: dict[str, Any] | None, targets: pd.DataFrame) -> str:
    parts = []
    if compile_df is not None and len(compile_df) == 2:
        parts.append(f"Compiling every kernel once costs {compile_df['build_step_s'].iloc[0]:.1f} s; later processes "
                     f"load the cache in {compile_df['build_step_s'].iloc[1]:.2f} s (plus "
                     f"{compile_df['import_s'].iloc[1]:.1f} s to import sim).")
    ok = sizes[sizes["error"] == ""] if "error" in sizes else sizes
    for _, r in ok.iterrows():
        text = (f"At {r['size']} ({int(r['agents']):,} agents, {int(r['edges']):,} edges) numba runs "
                f"{int(r['weeks'])} weeks in {r['numba_s']:.2f} s ({r['numba_rate']:,.0f} agent-steps/s, "
                f"build {r['build_s']:.2f} s, peak {r['peak_rss_numba_mib']:,.0f} MiB)")
        if np.isfinite(r["ratio_same_weeks"]):
            text += (f"; over the same {_weeks_text(r['python_steps'])} it is {_fmt(r['ratio_same_weeks'])}x the "
                     f"python engine ({_fmt(r['ratio_run'])}x whole run vs early python weeks)")
        if np.isfinite(r.get("numba_1thread_s", float("nan"))):
            text += f"; with one thread it takes {r['numba_1thread_s']:.2f} s"
        parts.append(text + ".")
    if "error" in sizes:
        for _, r in sizes[sizes["error"].astype(bool)].iterrows():
            parts.append(f"Size {r['size']} failed: {r['error']}.")
    for f in fit or ():
        parts.append(f"At 100k agents ({f['threads']} threads, OpenMP wait policy {f['wait_policy']}) a week costs "
                     f"{f['intercept_s_per_week'] * 1000:.1f} ms plus {f['slope_s_per_week_per_medge'] * 1000:.1f} ms "
                     f"per million edges (R^2 = {f['r2']:.3f}).")
    if default is not None:
        text = (f"A default run takes {default['run_median_s']:.3f} s (median of {default['runs']}), "
                f"{default['replicates']} replicates {default['replicates_s']:.2f} s")
        extra = []
        if np.isfinite(default.get("run_median_1thread_s", float("nan"))):
            extra.append(f"{default['run_median_1thread_s']:.3f} s with one thread")
        if default.get("passive"):
            extra.append(f"{default['passive']['run_median_s']:.3f} s with OMP_WAIT_POLICY=PASSIVE")
        parts.append(text + (f" ({', '.join(extra)})." if extra else "."))
    bad = targets[targets["status"] == "NOT MET"]["target"].tolist()
    judged = targets["status"].str.startswith("met").sum() + len(bad)
    parts.append("Targets not met: " + "; ".join(bad) + "." if bad else
                 "All measured targets are met." if judged else "No target was measured.")
    return " ".join(parts)


# ---------------------------------------------------------------------------------- main
def main(sizes: Sequence[str] | None = DEFAULT_SIZES, quick: bool = False, python_steps: int | None = None,
         out: str | Path | None = None, *, console: Any = None, sections: Sequence[str] | None = None
         ) -> pd.DataFrame:
    """Run the benchmark, print one rich table per section and a summary; return the size table.

    Args:
        sizes: population sizes (see :func:`parse_size`). With ``quick`` and the default list,
            sizes above 100k agents are skipped; name them explicitly to run them.
        quick: fewer python weeks, no one-thread rerun, 5-week linearity runs, median of 3.
        python_steps: weeks of the python engine per size (default: 104 at 10k, 3 at 100k, 1 at 1M).
        out: optional folder; each table is written there as CSV, everything as bench.json.
        console: a ``rich.console.Console`` (default: a new one on stdout).
        sections: subset of ("compile", "sizes", "edges", "default", "baseline"); default all.

    Returns:
        One row per size (the per-size measurements, numeric); ``.attrs["bench"]`` holds every
        section as plain records and ``.attrs["summary"]`` the summary paragraph.
    """
    from rich.console import Console

    if console is None:
        console = Console()
        if not console.is_terminal:  # a file or a pipe: do not squeeze the tables into 80 columns
            console = Console(width=160)
    names = [str(s).strip().lower() for s in (DEFAULT_SIZES if sizes is None else sizes) if str(s).strip()]
    for name in names:
        parse_size(name)  # fail early on a bad spec
    if quick and (sizes is None or list(names) == list(DEFAULT_SIZES)):
        names = [n for n in names if parse_size(n)["employees"] + parse_size(n)["customers"] <= 100_000]
    wanted = set(sections or ("compile", "sizes", "edges", "default", "baseline"))
    single_thread = not quick
    started = time.perf_counter()

    compile_df = fit = default = None
    edges_df = pd.DataFrame()
    size_rows: list[dict[str, Any]] = []
    failures: dict[str, str] = {}  # section -> why its worker failed (printed, never dropped)
    load0 = _load()
    with console.status("benchmark starting ...") as status:
        if "compile" in wanted:
            status.update("JIT: compiling every kernel into an empty cache, then loading it (2 processes) ...")
            try:
                compile_df = measure_compile()
            except WorkerError as exc:
                failures["compile"] = str(exc)
        if "sizes" in wanted:
            for k, name in enumerate(names, 1):
                size = parse_size(name)
                status.update(f"size {name} ({k}/{len(names)}): {size['employees']:,} employees + "
                              f"{size['customers']:,} customers, {WEEKS} numba weeks, python engine, "
                              f"{'' if quick else 'one-thread rerun, '}in its own process ...")
                try:
                    row = measure_size(name, python_steps=python_steps, single_thread=single_thread, quick=quick)
                    row["model_mib"] = row["peak_rss_numba_mib"] - row["warm_rss_mib"]
                    row["error"] = ""
                except WorkerError as exc:
                    row = {**size, "agents": size["employees"] + size["customers"], "error": str(exc)}
                size_rows.append(row)
                console.log(f"size {name} done" + (f": FAILED {row['error']}" if row["error"] else
                                                   f": numba {row['numba_s']:.2f} s, peak "
                                                   f"{row['peak_rss_numba_mib']:,.0f} MiB"))
        if "edges" in wanted:
            status.update(f"linearity: 100k agents, {len(EDGE_CONFIGS)} edge counts, "
                          f"{EDGE_WEEKS_QUICK if quick else EDGE_WEEKS} weeks each ...")
            try:
                edges_df, fit = measure_edges(EDGE_WEEKS_QUICK if quick else EDGE_WEEKS, passive_variant=not quick)
            except WorkerError as exc:
                failures["edges"] = str(exc)
        if "default" in wanted:
            status.update("default scenario: median of runs, then 10 replicates ...")
            try:
                default = measure_default(runs=3 if quick else 5, replicates=10, single_thread=single_thread,
                                          passive_variant=not quick)
            except WorkerError as exc:
                failures["default"] = str(exc)
        baseline_df = None
        if "baseline" in wanted:
            status.update(f"a week of this code vs v0.1.0 (model v1, {BASELINE_REF[:7]}), alternating fresh processes ...")
            try:
                baseline_df = measure_against_baseline(rounds=2 if quick else 3, runs=2 if quick else 3)
            except WorkerError as exc:
                failures["baseline"] = str(exc)

    sizes_df = pd.DataFrame(size_rows)
    if sizes_df.empty:
        sizes_df = pd.DataFrame(columns=["size", "agents", "error"])
    targets = judge_targets(sizes_df, default)
    if baseline_df is not None:
        worst = baseline_df.loc[baseline_df["ratio"].idxmax()]
        targets = pd.concat([targets, pd.DataFrame([{
            "target": f"a week <= {TARGET_WEEK_RATIO:.1f}x v0.1.0's (model v1)",
            "measured": f"worst {worst['ratio']:.2f}x ({worst['scenario']}, {worst['population']})",
            "status": "met" if bool(baseline_df["met"].all()) else "NOT MET"}])], ignore_index=True)
    if "default" in failures:
        targets = pd.concat([targets, pd.DataFrame([{"target": f"default run well under {TARGET_DEFAULT_S:.0f} s",
                                                     "measured": failures["default"], "status": "NOT MET"}])],
                            ignore_index=True)
    summary = _summary(compile_df, sizes_df, fit, default, targets)
    if failures:
        summary += " Sections that failed: " + "; ".join(f"{k}: {v}" for k, v in failures.items()) + "."

    console.print(f"[bold]socialsim bench[/]: {os.cpu_count()} CPUs, load average {load0:.2f} at start, "
                  f"{_load():.2f} at end; {time.perf_counter() - started:.0f} s in all. "
                  "Every measurement in a fresh process; numbers from a shared machine are noisy.")
    if compile_df is not None:
        console.print(_table("1. JIT compile time (one-off) vs cache load", COMPILE_COLUMNS,
                             compile_df.to_dict("records")))
    if not sizes_df.empty and "numba_s" in sizes_df:
        console.print(_table(f"2a. Numba engine by size (build = networks + state; then {WEEKS} weeks)",
                             SIZE_SPEED_COLUMNS, sizes_df.to_dict("records")))
        console.print(_table("2b. Numba vs python engine (same seed and size; python: its first weeks)",
                             SIZE_RATIO_COLUMNS, sizes_df.to_dict("records")))
        console.print(_table("2c. Memory by size (each size in its own process; MiB = 2^20 bytes)",
                             SIZE_MEMORY_COLUMNS, sizes_df.to_dict("records"), {"load_start": 2, "load_end": 2}))
    for _, r in sizes_df.iterrows():
        if r.get("error"):
            console.print(f"[red]size {r['size']} failed:[/] {r['error']}")
        elif r.get("recompiled"):
            console.print(f"[yellow]size {r['size']}: a kernel compiled during the timed run (warm-up missed a "
                          "signature); its time includes compilation.[/]")
    if fit is not None:
        console.print(_table(f"3. Linearity in edges (100k agents, {int(edges_df['weeks'].iloc[0])} numba weeks)",
                             EDGE_COLUMNS, edges_df.to_dict("records"),
                             {"customer_degree": 0, "s_per_week": 4, "median_week_s": 4, "s_per_week_per_medge": 4}))
        for f in fit:
            console.print(f"least squares, wait policy {f['wait_policy']}: s/week = {f['intercept_s_per_week']:.4f} + "
                          f"{f['slope_s_per_week_per_medge']:.4f} * (M edges); R^2 = {f['r2']:.3f}")
    if default is not None:
        rows = [{"what": f"one default run, median of {default['runs']}", "seconds": default["run_median_s"],
                 "agent_steps": default["agents"] * default["weeks"] / default["run_median_s"]},
                {"what": f"{default['replicates']} replicates (run_replicates)", "seconds": default["replicates_s"],
                 "agent_steps": default["agents"] * default["weeks"] * default["replicates"] / default["replicates_s"]}]
        if np.isfinite(default.get("run_median_1thread_s", float("nan"))):
            rows.append({"what": f"one default run, 1 thread, median of {default['runs']}",
                         "seconds": default["run_median_1thread_s"],
                         "agent_steps": default["agents"] * default["weeks"] / default["run_median_1thread_s"]})
        passive = default.get("passive")
        if passive:
            rows.append({"what": f"one default run, OMP_WAIT_POLICY=PASSIVE, median of {passive['runs']}",
                         "seconds": passive["run_median_s"],
                         "agent_steps": passive["agents"] * passive["weeks"] / passive["run_median_s"]})
            rows.append({"what": f"{passive['replicates']} replicates, OMP_WAIT_POLICY=PASSIVE",
                         "seconds": passive["replicates_s"],
                         "agent_steps": passive["agents"] * passive["weeks"] * passive["replicates"]
                         / passive["replicates_s"]})
        console.print(_table(f"4. Default scenario ({default['agents']:,} agents, {default['weeks']} weeks, "
                             f"{default['threads']} threads, {default['threading_layer']}; after compilation)",
                             (("what", "what"), ("seconds", "seconds"), ("agent_steps", "agent-steps/s")), rows,
                             {"seconds": 3}))
    if baseline_df is not None:
        console.print(_table(f"5. A week of this code vs v0.1.0 (model v1, {BASELINE_REF[:7]}), same machine and load",
                             (("scenario", "scenario"), ("population", "population"), ("week_ms", "ms/week"),
                              ("baseline_week_ms", "v0.1.0 ms/week"), ("ratio", "ratio")),
                             baseline_df.to_dict("records"), {"week_ms": 2, "baseline_week_ms": 2, "ratio": 2}))
    console.print(_table("Targets", (("target", "target"), ("measured", "measured"), ("status", "status")),
                         targets.to_dict("records")))
    for section, why in failures.items():
        console.print(f"[red]section {section} failed:[/] {why}")
    console.print(summary)

    bench = {"compile": [] if compile_df is None else compile_df.to_dict("records"),
             "sizes": sizes_df.to_dict("records"), "edges": edges_df.to_dict("records"),
             "baseline": [] if baseline_df is None else baseline_df.to_dict("records"),
             "edges_fit": fit, "default": default, "targets": targets.to_dict("records"), "failures": failures,
             "meta": {"cpus": os.cpu_count(), "load_start": load0, "load_end": _load(), "seed": SEED,
                      "quick": quick, "python": sys.version.split()[0],
                      "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
                      "numba_threading_layer_env": os.environ.get("NUMBA_THREADING_LAYER", "")}}
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in (("compile", compile_df), ("sizes", sizes_df), ("edges", edges_df),
                            ("targets", targets)):
            if frame is not None and not frame.empty:
                frame.to_csv(folder / f"{name}.csv", index=False)
        (folder / "bench.json").write_text(json.dumps({**bench, "summary": summary}, indent=2,
                                                      default=_json_default))
        console.print(f"tables written to {folder}")
    sizes_df.attrs["bench"] = json.loads(json.dumps(bench, default=_json_default))
    sizes_df.attrs["summary"] = summary
    return sizes_df


if __name__ == "__main__":  # python -m sim.bench --worker KIND ARGS...  (or: python -m sim.bench [sizes...])
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
    else:
        main(sizes=sys.argv[1:] or DEFAULT_SIZES)
