"""What ``socialsim bench`` prints: one rich table per section, the targets table, a summary
paragraph, and the ``--json`` object (:data:`JSON_KEYS`, named in the README's Performance section).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .history import BASELINE_REF, ENGINE_REF
from .measure import WEEKS, json_default, plain
from .targets import finite, records, weeks_text


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
                         justify="left" if key in ("size", "phase", "target", "measured", "status", "issue", "mode",
                                                   "threading_layer", "what", "wait_policy", "population") else "right")
    for row in rows:
        cells = []
        for key, _ in columns:
            text = _fmt(row.get(key), digits.get(key, 0 if key.endswith("_mib") else None))
            if key == "status":
                text = f"[green]{text}[/]" if text == "met" else (
                    f"[yellow]{text}[/]" if text.startswith("met")
                    else f"[red]{text}[/]" if text == "NOT MET" else text)
            cells.append(text)
        table.add_row(*cells)
    return table


SIZE_SPEED_COLUMNS = (
    ("size", "size"), ("employees", "employees"), ("customers", "customers"), ("edges", "edges"),
    ("threads", "threads"), ("build_s", "build s"), ("numba_s", "numba s"), ("numba_rate", "agent-steps/s"),
    ("edges_per_s", "edges/s"), ("numba_run_s", "with RunResults s"), ("result_s", "one RunResult s"),
    ("numba_1thread_s", "1 thread s"))


SIZE_FLOOR_COLUMNS = (
    ("size", "size"), ("edges", "edges"), ("numba_s", "numba s"), ("floor_parallel_s", "bare step, parallel s"),
    ("floor_serial_s", "bare step, serial s"), ("x_floor", "x the floor"), ("x_floor_parallel", "x parallel step"))


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
    ("wait_policy", "OMP wait policy"), ("customer_degree", "customer degree"), ("team_ties", "team ties"),
    ("org_nnz", "org nnz"), ("customer_nnz", "customer nnz"), ("contacts_nnz", "contacts nnz"), ("edges", "edges"),
    ("s_per_week", "s / week"), ("s_per_week_per_medge", "s / week / M edges"))


COMPILE_COLUMNS = (
    ("phase", "phase"), ("import_s", "import sim s"), ("build_step_s", "warm every kernel s"),
    ("process_wall_s", "process wall s"), ("cache_index_files", "cached kernels"), ("threads", "threads"),
    ("threading_layer", "layer"), ("load", "load avg"))


FLOOR_COLUMNS = (
    ("population", "organisation"), ("agents", "agents"), ("edges", "edges"), ("model_week_ms", "model ms/week"),
    ("floor_week_ms", "bare step ms/week"), ("floor_parallel_s", "bare parallel s"),
    ("floor_serial_s", "bare serial s"), ("x_floor", "x the floor"), ("result_s", "RunResult s"),
    ("x_floor_with_result", "model.run x the floor"), ("sim_run_s", "sim.run s"),
    ("x_floor_sim_run", "sim.run x the floor"))


THROUGHPUT_COLUMNS = (
    ("population", "organisation"), ("mode", "mode"), ("workers", "workers"), ("runs", "runs"), ("wall_s", "wall s"),
    ("runs_per_s", "runs/s"), ("speedup", "speed-up"), ("efficiency", "efficiency"),
    ("overhead_ms_per_run", "overhead ms/run"), ("startup_s", "start-up s"))


TARGET_COLUMNS = (("target", "target"), ("issue", "issue"), ("measured", "measured"), ("status", "status"))


#: Top-level keys of ``socialsim bench --json`` (named in the README's Performance section).
JSON_KEYS = ("meta", "compile", "startup", "sizes", "floor", "mesa", "edges", "edges_fit", "default", "throughput",
             "cascade", "engine", "baseline", "targets", "failures", "summary")


def summary(bench: dict[str, Any], targets: pd.DataFrame) -> str:
    """One paragraph: the headline figure of every section run, and the targets not met."""
    parts = []
    compile_rows = records(bench.get("compile"))
    if len(compile_rows) == 2:
        parts.append(f"Compiling every kernel once costs {compile_rows[0]['build_step_s']:.1f} s; later processes "
                     f"load the cache in {compile_rows[1]['build_step_s']:.2f} s (plus "
                     f"{compile_rows[1]['import_s']:.1f} s to import sim).")
    for r in records(bench.get("sizes")):
        if r.get("error"):
            parts.append(f"Size {r['size']} failed: {r['error']}.")
            continue
        text = (f"At {r['size']} ({int(r['agents']):,} agents, {int(r['edges']):,} edges) numba runs "
                f"{int(r['weeks'])} weeks in {r['numba_s']:.2f} s ({r['numba_rate']:,.0f} agent-steps/s, "
                f"{r['edges_per_s']:,.0f} edges/s, {r['x_floor']:.1f}x the bare step, build {r['build_s']:.2f} s, "
                f"peak {r['peak_rss_numba_mib']:,.0f} MiB)")
        if finite(r.get("ratio_same_weeks")):
            text += (f"; over the same {weeks_text(r['python_steps'])} it is {_fmt(r['ratio_same_weeks'])}x the "
                     "python engine")
        parts.append(text + ".")
    for r in records(bench.get("floor")):
        parts.append(f"The {r['population']} organisation runs 104 weeks in {r['model_run_s'] * 1000:.1f} ms, "
                     f"{r['x_floor']:.1f}x the bare threshold step over its {int(r['edges']):,} edges "
                     f"({r['floor_s'] * 1000:.2f} ms); a whole sim.run is {r['x_floor_sim_run']:.1f}x.")
    mesa = bench.get("mesa")
    if mesa:
        parts.append(f"A plain Mesa object model of the same rules takes {mesa['mesa_week_s'] * 1000:.0f} ms a week at "
                     f"{mesa['agents']:,} agents: {mesa['ratio']:,.0f}x the numba model.")
    default = bench.get("default")
    if default:
        parts.append(f"A default run takes {default['run_median_s']:.3f} s (median of {default['runs']}).")
    for r in records(bench.get("throughput")):
        parts.append(f"{r['population'].capitalize()} organisation: {r['serial_runs_per_s']:.1f} runs/s serial, "
                     f"{r['cluster_runs_per_s']:.1f} on 2 Dask workers (efficiency {r['cluster_efficiency']:.0%}, "
                     f"{r['cluster_overhead_ms_per_run']:.1f} ms a run over perfect scaling, "
                     f"{r['dask_overhead_ms_per_run']:.1f} ms over two plain processes, "
                     f"efficiency {r['two_processes_efficiency']:.0%}).")
    cascade = bench.get("cascade")
    if cascade:
        text = (f"threshold_cascade on {cascade['nodes']:,} nodes: {cascade['cascade_s'] * 1000:.1f} ms, "
                f"{cascade['x_scipy']:.1f}x a scipy-sparse loop")
        if finite(cascade.get("x_ndlib")):
            text += f", {cascade['x_ndlib']:,.0f}x NDlib"
        parts.append(text + f", {cascade['x_bare']:.1f}x the bare kernel's time.")
    for r in records(bench.get("engine")):
        if r["population"] == "default":
            parts.append(f"A default sim.run is {r['speedup']:.2f}x faster than with the engine before issue 8.")
    startup = bench.get("startup")
    if startup:
        parts.append(f"socialsim --help takes {startup['help_s']:.2f} s, {startup['ratio']:.1f}x import numpy.")
    bad = targets[targets["status"] == "NOT MET"]["target"].tolist()
    parts.append(f"Targets not met ({len(bad)} of {len(targets)}): " + "; ".join(bad) + "." if bad
                 else "All targets are met.")
    return " ".join(parts)


def print_tables(console: Any, bench: dict[str, Any], targets: pd.DataFrame) -> None:
    """One table per section run (in the order of their numbers' story), then the targets."""
    compile_rows = records(bench.get("compile"))
    if compile_rows:
        console.print(_table("1. JIT compile time (one-off) vs cache load", COMPILE_COLUMNS, compile_rows))
    startup = bench.get("startup")
    if startup:
        console.print(_table("10. Start-up (fresh processes, median)",
                             (("what", "command"), ("seconds", "seconds")),
                             [{"what": startup["help_command"], "seconds": startup["help_s"]},
                              {"what": "python -c 'import numpy'", "seconds": startup["import_numpy_s"]},
                              {"what": "ratio", "seconds": startup["ratio"]}], {"seconds": 3}))
    sizes = [r for r in records(bench.get("sizes")) if not r.get("error")]
    if sizes:
        console.print(_table(f"2a. Numba engine by size (build = networks + state; then {WEEKS} weeks)",
                             SIZE_SPEED_COLUMNS, sizes))
        console.print(_table("2b. Against the bare threshold step over the same edges, 104 steps (the floor)",
                             SIZE_FLOOR_COLUMNS, sizes))
        console.print(_table("2c. Numba vs python engine (same seed and size; python: its first weeks)",
                             SIZE_RATIO_COLUMNS, sizes))
        console.print(_table("2d. Memory by size (each size in its own process; MiB = 2^20 bytes)",
                             SIZE_MEMORY_COLUMNS, sizes, {"load_start": 2, "load_end": 2}))
    for r in records(bench.get("sizes")):
        if r.get("error"):
            console.print(f"[red]size {r['size']} failed:[/] {r['error']}")
        elif r.get("recompiled"):
            console.print(f"[yellow]size {r['size']}: a kernel compiled during the timed run (warm-up missed a "
                          "signature); its time includes compilation.[/]")
    floors = records(bench.get("floor"))
    if floors:
        console.print(_table("7. Full model vs the bare threshold step (104 weeks after construction; floor = faster "
                             "of parallel and serial)", FLOOR_COLUMNS, floors,
                             {"model_week_ms": 3, "floor_week_ms": 4, "floor_parallel_s": 4, "floor_serial_s": 4,
                              "sim_run_s": 3, "result_s": 3}))
    mesa = bench.get("mesa")
    if mesa:
        rows = [{"what": f"Mesa object model, {mesa['mesa_weeks']} weeks", "ms_week": mesa["mesa_week_s"] * 1000,
                 "rate": mesa["mesa_rate"], "build": mesa["mesa_build_s"]},
                {"what": f"numba model, {mesa['weeks']} weeks", "ms_week": mesa["numba_week_s"] * 1000,
                 "rate": mesa["numba_rate"], "build": None},
                {"what": "ratio (same first weeks)", "ms_week": mesa["ratio"], "rate": mesa["ratio_same_weeks"],
                 "build": None}]
        console.print(_table(f"6. Plain Mesa object model vs numba, {mesa['agents']:,} agents "
                             f"({mesa['edges']:,} edges)",
                             (("what", "what"), ("ms_week", "ms / week (ratio)"), ("rate", "agent-steps/s"),
                              ("build", "build s")), rows, {"ms_week": 3}))
        shares = [{"what": k, "mesa": v["mesa"], "numba": v["numba"]} for k, v in mesa["shares"].items()]
        console.print(_table(f"6b. Same rules, different random streams: week {mesa['mesa_weeks']}",
                             (("what", "share"), ("mesa", "Mesa objects"), ("numba", "numba")), shares,
                             {"mesa": 4, "numba": 4}))
    edges = records(bench.get("edges"))
    if edges:
        console.print(_table(f"3. Linearity in edges (100k agents, {int(edges[0]['weeks'])} numba weeks)", EDGE_COLUMNS,
                             edges, {"customer_degree": 0, "s_per_week": 4, "s_per_week_per_medge": 4}))
        for f in bench.get("edges_fit") or ():
            console.print(f"least squares, wait policy {f['wait_policy']}: s/week = {f['intercept_s_per_week']:.4f} + "
                          f"{f['slope_s_per_week_per_medge']:.4f} * (M edges); R^2 = {f['r2']:.3f}")
    default = bench.get("default")
    if default:
        rows = [{"what": f"one default run, median of {default['runs']}", "seconds": default["run_median_s"],
                 "agent_steps": default["agents"] * default["weeks"] / default["run_median_s"]},
                {"what": f"{default['replicates']} replicates (run_replicates)", "seconds": default["replicates_s"],
                 "agent_steps": default["agents"] * default["weeks"] * default["replicates"] / default["replicates_s"]}]
        if finite(default.get("run_median_1thread_s")):
            rows.append({"what": f"one default run, 1 thread, median of {default['runs']}",
                         "seconds": default["run_median_1thread_s"],
                         "agent_steps": default["agents"] * default["weeks"] / default["run_median_1thread_s"]})
        passive = default.get("passive")
        if passive:
            rows.append({"what": f"one default run, OMP_WAIT_POLICY=PASSIVE, median of {passive['runs']}",
                         "seconds": passive["run_median_s"],
                         "agent_steps": passive["agents"] * passive["weeks"] / passive["run_median_s"]})
        console.print(_table(f"4. Default scenario ({default['agents']:,} agents, {default['weeks']} weeks, "
                             f"{default['threads']} threads, {default['threading_layer']}; after compilation)",
                             (("what", "what"), ("seconds", "seconds"), ("agent_steps", "agent-steps/s")), rows,
                             {"seconds": 3}))
    throughput = records(bench.get("throughput"))
    if throughput:
        rows = [{"population": r["population"], **m} for r in throughput for m in r["modes"]]
        console.print(_table("8. Runs per second (replicates of the default scenario; fastest round; overhead = "
                             "(wall - t1 * runs / workers) / runs)", THROUGHPUT_COLUMNS, rows,
                             {"wall_s": 2, "runs_per_s": 2, "speedup": 2, "efficiency": 2, "overhead_ms_per_run": 1,
                              "startup_s": 1}))
    cascade = bench.get("cascade")
    if cascade:
        rows = [{"what": "sim.classic.threshold_cascade", "seconds": cascade["cascade_s"], "ratio": 1.0,
                 "identical": True},
                {"what": "scipy-sparse loop (mat-vec per step)", "seconds": cascade["scipy_s"],
                 "ratio": cascade["x_scipy"], "identical": cascade["identical_scipy"]},
                {"what": "NDlib ThresholdModel" + ("" if cascade.get("ndlib") else " (not installed)"),
                 "seconds": cascade["ndlib_s"], "ratio": cascade["x_ndlib"], "identical": cascade["identical_ndlib"]},
                {"what": "bare kernel (sim.bench.floor)", "seconds": cascade["bare_s"],
                 "ratio": cascade["bare_s"] / cascade["cascade_s"], "identical": cascade["identical_bare"]}]
        console.print(_table(f"9. Threshold cascade, {cascade['nodes']:,} nodes, {cascade['nnz']:,} edge entries, "
                             f"{cascade['steps']} steps (final active share {cascade['final_active_share']:.3f})",
                             (("what", "what"), ("seconds", "seconds"), ("ratio", "x threshold_cascade's time"),
                              ("identical", "same final state")), rows, {"seconds": 4, "ratio": 2}))
        if not cascade.get("ndlib"):
            console.print(f"[yellow]NDlib:[/] {cascade.get('ndlib_missing', 'not run')}")
    engine = records(bench.get("engine"))
    if engine:
        console.print(_table(f"11. A whole sim.run: this code vs the engine before issue 8 ({ENGINE_REF[:7]})",
                             (("population", "organisation"), ("run_ms", "ms a run"), ("before_run_ms", "before, ms"),
                              ("speedup", "speed-up")), engine, {"run_ms": 1, "before_run_ms": 1, "speedup": 2}))
    baseline = records(bench.get("baseline"))
    if baseline:
        console.print(_table(f"5. A week of this code vs v0.1.0 (model v1, {BASELINE_REF[:7]}), same machine and load",
                             (("scenario", "scenario"), ("population", "population"), ("week_ms", "ms/week"),
                              ("baseline_week_ms", "v0.1.0 ms/week"), ("ratio", "ratio")), baseline,
                             {"week_ms": 2, "baseline_week_ms": 2, "ratio": 2}))
    console.print(_table("Targets (a missing measurement is NOT MET)", TARGET_COLUMNS, targets.to_dict("records")))
    for section, why in (bench.get("failures") or {}).items():
        console.print(f"[red]section {section} failed:[/] {why}")


def json_data(bench: dict[str, Any]) -> dict[str, Any]:
    """``bench`` as strict JSON data (numpy values as Python ones, NaN and infinities as null)."""
    return plain(json.loads(json.dumps(bench, default=json_default)))


def write_folder(folder: Any, bench: dict[str, Any]) -> None:
    """The tables as CSV files and everything as ``bench.json`` in ``folder`` (created if needed)."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("compile", "sizes", "floor", "edges", "engine", "baseline", "targets"):
        if bench.get(name):
            pd.DataFrame(bench[name]).to_csv(folder / f"{name}.csv", index=False)
    (folder / "bench.json").write_text(json.dumps(bench, indent=2, allow_nan=False))
