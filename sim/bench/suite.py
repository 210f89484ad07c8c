"""``socialsim bench``'s driver: every section in order, in fresh worker processes, then the report.

:func:`main` runs the sections of :data:`SECTIONS` (each measurement in its own process, see
:mod:`sim.bench.workers`), collects their figures in one dict (the object ``--json`` prints),
judges the targets (:mod:`sim.bench.targets`) and prints the tables and a summary
(:mod:`sim.bench.report`). A section that fails is recorded under ``failures`` and its targets
are NOT MET; the other sections still run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .baselines import FLOOR_POPULATIONS, FLOOR_REPEATS, MESA_SIZE, MESA_WEEKS, measure_floor, measure_mesa
from .cascade import CASCADE, measure_cascade
from .history import BASELINE_REF, ENGINE_REF, measure_against_baseline, measure_against_engine
from .measure import SEED, WEEKS, load_average
from .report import JSON_KEYS, json_data, print_tables, summary, write_folder
from .sizes import DEFAULT_SIZES, EDGE_CONFIGS, EDGE_WEEKS, EDGE_WEEKS_QUICK, measure_edges, measure_size, parse_size
from .startup import measure_compile, measure_startup
from .targets import judge_targets
from .throughput import THROUGHPUT_RUNS, measure_default, measure_throughput
from .workers import WorkerError

#: Every section, in the order they run.
SECTIONS = ("compile", "startup", "sizes", "floor", "mesa", "edges", "default", "throughput", "cascade", "engine",
            "baseline")


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
    load0 = load_average()
    bench: dict[str, Any] = {key: None for key in JSON_KEYS}
    bench.update(compile=[], sizes=[], floor=[], edges=[], throughput=[], engine=[], baseline=[], failures={})
    failures: dict[str, str] = bench["failures"]

    def attempt(section: str, label: str, fn):
        status.update(label)
        t = time.perf_counter()
        try:
            result = fn()
        except (WorkerError, subprocess.SubprocessError, OSError, ValueError, RuntimeError) as exc:
            failures[section] = f"{type(exc).__name__}: {exc}" if not isinstance(exc, WorkerError) else str(exc)
            console.log(f"[red]section {section} failed:[/] {failures[section]}")
            return None
        console.log(f"{label.rstrip(' .')}: done in {time.perf_counter() - t:.0f} s")
        return result

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

    bench["meta"] = {"cpus": os.cpu_count(), "load_start": load0, "load_end": load_average(), "seed": SEED, "quick": quick,
                     "python": sys.version.split()[0], "sections": wanted, "sizes": names,
                     "seconds": time.perf_counter() - started,
                     "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
                     "numba_threading_layer_env": os.environ.get("NUMBA_THREADING_LAYER", ""),
                     "engine_ref": ENGINE_REF, "baseline_ref": BASELINE_REF}
    targets = judge_targets(bench)
    bench["targets"] = targets.to_dict("records")
    bench["summary"] = summary(bench, targets)
    if failures:
        bench["summary"] += " Sections that failed: " + "; ".join(f"{k}: {v}" for k, v in failures.items()) + "."
    bench = json_data(bench)

    sizes_df = pd.DataFrame(bench["sizes"])
    if sizes_df.empty:
        sizes_df = pd.DataFrame(columns=["size", "agents", "error"])
    if json_output:
        sys.stdout.write(json.dumps(bench, allow_nan=False) + "\n")
        sys.stdout.flush()
    else:
        console.print(f"[bold]socialsim bench[/]: {os.cpu_count()} CPUs, load average {load0:.2f} at start, "
                      f"{load_average():.2f} at end; {time.perf_counter() - started:.0f} s in all. "
                      "Every measurement in a fresh process; numbers from a shared machine are noisy.")
        print_tables(console, bench, targets)
        console.print(bench["summary"])
    if out is not None:
        write_folder(out, bench)
        console.print(f"tables written to {out}")
    sizes_df.attrs["bench"] = bench
    sizes_df.attrs["summary"] = bench["summary"]
    return sizes_df
