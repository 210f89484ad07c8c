"""``socialsim bench`` and ``compile``: the benchmarks and numba's cache of the compiled simulation."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from ..errors import UserInputError
from .. import startup
from ..startup import COMPILE_MESSAGE
from .common import _kernel_cache_path, _stdout, command, compile_simulation

@command("bench")
def bench_command(
    sizes: Annotated[str, typer.Option(
        help="Comma-separated population sizes, e.g. 10k,100k,1m (add 10m: 10M agents).")] = "10k,100k,1m",
    quick: Annotated[bool, typer.Option("--quick", help="Fewer weeks and repetitions.")] = False,
    python_steps: Annotated[Optional[int], typer.Option(
        "--python-steps", min=0, help="Weeks to time with the python engine (default: the benchmark's own).")]
    = None,
    sections: Annotated[str, typer.Option(
        "--sections", help="Comma-separated sections to run (default all): compile, startup, sizes, floor, mesa, "
                           "edges, default, throughput, cascade, engine, baseline (see sim/bench/).")] = "all",
    json_output: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object with every figure and the targets (keys: README, Performance).")]
    = False,
) -> None:
    """Time the engines at several population sizes (see sim/bench/)."""
    import importlib

    try:
        bench = importlib.import_module("sim.bench")
    except ModuleNotFoundError as exc:
        if exc.name != "sim.bench":
            raise
        typer.echo("error: the benchmark package sim/bench/ is not available in this install", err=True)
        raise typer.Exit(1) from None
    names = [s.strip() for s in sizes.split(",") if s.strip()]
    if not names:
        raise UserInputError(f"{sizes!r} lists no sizes; allowed: e.g. 10k,100k,1m", source="--sizes")
    for name in names:  # all checked before anything is timed
        try:
            bench.parse_size(name)
        except (ValueError, OverflowError):
            raise UserInputError(f"{name!r} is not a population size; allowed: a number of agents with k or m, "
                                 "e.g. 10k,100k,1m", source="--sizes") from None
    known = tuple(getattr(bench, "SECTIONS", ("compile", "sizes", "edges", "default", "baseline")))
    chosen = list(known) if sections.strip() == "all" else [part.strip() for part in sections.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in known]
    if unknown or not chosen:
        raise UserInputError(f"{(unknown or [sections])[0]!r} is not a section; allowed: {', '.join(known)}",
                             source="--sections")
    kwargs: dict[str, Any] = {"sizes": names, "quick": quick, "sections": chosen}
    if python_steps is not None:
        kwargs["python_steps"] = python_steps
    if json_output:
        kwargs["json_output"] = True
    bench.main(**kwargs)


@command("compile")
def compile_command() -> None:
    """Compile the simulation now (or load it from numba's cache) and report the time.

    Compiles the whole week (sim/week.py) and every kernel it calls, serial and parallel, by
    running one tiny model of each variant. A fresh install compiles once (about a minute on
    two cores); later runs, workers and the dashboard load it from the cache (about 3 s).
    `.ci/install` runs this after installing.
    """
    import time

    cold = startup.kernel_cache_state() == "cold"
    if cold:
        typer.echo(COMPILE_MESSAGE, err=True)
    start = time.perf_counter()
    compile_simulation()
    seconds = time.perf_counter() - start
    where = _kernel_cache_path()
    what = "compiled" if cold else "ready (loaded from numba's cache, compiled where needed)"
    _stdout().print(f"simulation {what} in {seconds:.1f} s" + (f"; cache: {where}" if where else ""),
                    soft_wrap=True)
    if startup.kernel_cache_state() == "cold":
        typer.echo("warning: numba did not keep the compiled simulation, so every run compiles it again; "
                   "set NUMBA_CACHE_DIR to a writable folder", err=True)
