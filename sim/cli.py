"""The ``socialsim`` command line: run, compare, presets, validate, levers, bench, compile, analyze,
sweep, dashboard.

Every user mistake (a scenario file, a lever value, a preset name, an output path, a ``--set``)
ends as one line ``error: <message>`` on stderr and exit status 2; an unexpected failure is one
line and exit status 1. ``socialsim --debug ...`` prints the full traceback as well. Outputs are
checked before anything long runs and are written atomically (never a half-written file).
"""

from __future__ import annotations

import errno
import functools
import os
import sys
import tomllib
import traceback
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Literal, Optional, get_args, get_origin

import typer

# Only light modules at import time: `socialsim --help` and option errors answer without numba,
# numpy, pandas, Mesa, Dask or the scenario validation (issue 8; tests/test_startup.py). Each
# command imports what it needs. (typer itself loads pydantic to coerce a command's options.)
from .errors import UserInputError, printable
from .startup import COMPILE_MESSAGE, MAX_SEED, POPULATIONS, kernel_cache_state, version

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from .outputs import RunResult
    from .scenario import Scenario


def _click_class(name: str) -> type:
    """Click's exception class ``name`` as typer raises it (typer >= 0.2x vendors its own click)."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)


_CLICK_ERROR, _USAGE_ERROR = _click_class("ClickException"), _click_class("UsageError")


class OneLineErrors(typer.core.TyperGroup):
    """The command group with click's own errors (bad option values, unknown options, missing
    arguments) as one ``error: ...`` line and exit status 2, like every other user error.

    Click and typer otherwise print a usage block or a boxed panel of five or six lines.
    """

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _CLICK_ERROR as exc:
            message = exc.format_message().replace("Value error, ", "")
            ctx = getattr(exc, "ctx", None)
            if isinstance(exc, _USAGE_ERROR) and ctx is not None and "--help" not in message:
                message += f" (see `{ctx.command_path} --help`)"
            typer.echo(f"error: {printable(_one_line(message))}", err=True)
            code = 2 if isinstance(exc, _USAGE_ERROR) else exc.exit_code
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            code = 1
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="socialsim",
    cls=OneLineErrors,
    help="Agent-based simulation of how organisations adopt social business.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)

Population = Enum("Population", {name: name for name in POPULATIONS}, type=str)


class Engine(str, Enum):
    numba = "numba"
    python = "python"


class TableName(str, Enum):
    series = "series"
    departments = "departments"
    participation = "participation"


#: Outcomes printed after a single run.
KEY_OUTCOMES = ("active_share", "peak_active_share", "gini", "top1_share", "productivity_gain",
                "members_share", "advocates_share", "detractors_share", "mean_trust", "response_time",
                "net_value")

_state = {"debug": False}

SetOption = Annotated[list[str], typer.Option(
    "--set", metavar="KEY=VALUE",
    help="Override one scenario value (repeatable); VALUE is read as TOML, e.g. --set posting_friction=0.1 "
         "--set use_culture=false.")]
WeeksOption = Annotated[Optional[int], typer.Option(
    "--weeks", "--steps", min=1, help="Simulated horizon in weeks (overrides the scenario).")]
PopulationOption = Annotated[Optional[Population], typer.Option(
    "--population", help="Named population size: " + ", ".join(
        f"{k} ({v['employees']:,} employees)" for k, v in POPULATIONS.items()) + ".")]
EngineOption = Annotated[Engine, typer.Option("--engine", help="numba (fast kernels) or python (reference).")]
CalibratedOption = Annotated[bool, typer.Option(
    "--calibrated", help="Draw each run's behavioural parameters from the calibrated posterior (with the run's "
                         "seed), so results carry parameter uncertainty; default: the developers' defaults.")]
PosteriorOption = Annotated[Optional[Path], typer.Option(
    "--posterior", metavar="FILE", help="With --calibrated: this posterior.csv instead of the shipped one.")]
OrganisationOption = Annotated[Optional[str], typer.Option(
    "--organisation", metavar="PATH",
    help="Your organisation: an HR export (CSV: employee_id, department, manager_id, customer_facing; optional role, "
         "informal_leader) or a shipped example (aucs, generated_2000). Its head count and departments replace "
         "the scenario's.")]
TiesOption = Annotated[Optional[str], typer.Option(
    "--ties", metavar="PATH", help="Real communication ties of that organisation (CSV: source, target, optional "
                                   "weight); default: generated inside its departments.")]
SchedulerOption = Annotated[Optional[str], typer.Option(
    "--scheduler", metavar="ADDRESS",
    help="Run on a running Dask cluster, e.g. tcp://10.0.0.5:8786 (default: a local cluster).")]
WorkersOption = Annotated[Optional[int], typer.Option(
    "--workers", min=0, help="Local worker processes (default: all cores); 0 runs serially in this process.")]


def calibration_choice(calibrated: bool, posterior: Path | None, sets: list[str] | None = None) -> bool | Path:
    """What ``sim.run(calibrated=...)`` takes, from --calibrated / --posterior (checked now).

    Warns when a ``--set`` names a fitted parameter: under --calibrated the posterior's draw
    replaces it (scenarios hold strategies; the posterior holds how people respond).
    """
    if posterior is not None and not calibrated:
        raise UserInputError("--posterior needs --calibrated; allowed: --calibrated --posterior FILE",
                             source="--posterior")
    if not calibrated:
        return False
    from .calibration.posterior import load

    loaded = load(posterior)  # a missing or mismatched posterior is refused before anything runs
    drawn = set(loaded.behavioural) | ({"hierarchy_influence"} if "hierarchy_influence" in loaded.particles else set())
    for item in sets or []:
        key = item.split("=", 1)[0].strip()
        if key in drawn:
            typer.echo(f"warning: --set {key} is replaced by each run's draw from the posterior under --calibrated",
                       err=True)
    return True if posterior is None else posterior


# ------------------------------------------------------------------ errors
def _one_line(text: str) -> str:
    return " ".join(str(text).split("\n")).strip()


def _fail(message: str, code: int) -> None:
    if _state["debug"]:
        traceback.print_exc(file=sys.stderr)
    typer.echo(f"error: {printable(_one_line(message))}", err=True)
    raise typer.Exit(code)


#: errno values that mean the disk (or the user's quota) is full.
DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn exceptions into one ``error:`` line and an exit status (2: user input, 1: unexpected)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise
        except UserInputError as exc:
            _fail(str(exc), 2)
        except BrokenPipeError:  # e.g. `socialsim levers | head`: stop quietly
            _silence_stdout()
            raise typer.Exit(1) from None
        except tomllib.TOMLDecodeError as exc:
            _fail(f"invalid TOML: {exc}", 2)
        except OSError as exc:
            if exc.errno in DISK_FULL:  # the writers stage into temporary files: nothing half-written
                where = f"{exc.filename}: " if exc.filename else ""
                _fail(f"disk full: {where}no space left to write the output; nothing was replaced "
                      "(earlier files are as they were); allowed: free some space or choose another folder", 2)
            if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
                where = exc.filename or ""
                _fail(f"{where}: cannot write ({exc.strerror or exc})" if where else str(exc), 2)
            _fail(f"unexpected {type(exc).__name__}: {exc} (rerun with --debug for details)", 1)
        except Exception as exc:  # noqa: BLE001 - the one place unexpected errors are reported
            _fail(f"unexpected {type(exc).__name__}: {exc} (rerun with --debug for details)", 1)

    return wrapper


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's final flush does not fail on a closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests)
        pass


def command(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``app.command`` with the error handling of :func:`_guarded`."""
    return lambda func: app.command(*args, **kwargs)(_guarded(func))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"socialsim {version()}")
        raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Agent-based simulation of how organisations adopt social business."""
    _state["debug"] = debug


# ------------------------------------------------------------------ inputs
def parse_value(raw: str) -> Any:
    """A ``--set`` value: TOML if it parses (numbers, booleans, lists, inline tables), else the text."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """``["key=value", ...]`` -> ``{key: value}`` (values through :func:`parse_value`)."""
    changes: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UserInputError(f"{item!r} is not KEY=VALUE; allowed: e.g. --set posting_friction=0.1",
                                 source="--set")
        changes[key.strip()] = parse_value(raw.strip())
    return changes


def build_scenario(spec: str, *, population: str | None = None, weeks: int | None = None,
                   sets: list[str] | None = None, organisation: str | None = None,
                   ties: str | None = None) -> Scenario:
    """Load a file or preset, then apply ``--population``, ``--set``, ``--weeks`` and ``--organisation``
    / ``--ties`` (later wins; an organisation file decides the head count, so it comes last)."""
    from .orgchart import DECIDED_BY_FILE
    from .scenario import load_scenario, make_scenario

    changes = parse_sets(sets)  # syntax first: no file is read for a malformed --set
    scenario = load_scenario(spec)
    # relative paths are the working folder's: make_scenario resolves them
    imported = {key: value for key, value in (("organisation", organisation), ("ties", ties)) if value}
    if organisation and not ties:
        imported["ties"] = ""  # the scenario's old ties name another organisation's people
    # The organisation first: a --set wave may name its departments.
    steps = [(f"{spec} (--organisation)" if organisation else f"{spec} (--ties)", imported),
             (f"{spec} (--population {population})", POPULATIONS[population] if population else {}),
             (f"{spec} (--set)", changes), (f"{spec} (--weeks)", {"weeks": weeks} if weeks is not None else {})]
    fixed = sorted(set(changes) & set(DECIDED_BY_FILE))
    if fixed and (organisation or changes.get("organisation") or scenario.organisation):
        raise UserInputError(f"{fixed[0]} is decided by the organisation file; allowed: change the file, or run a "
                             "generated firm (no organisation)", source="--set", key=fixed[0])
    for source, values in steps:
        if values:
            scenario = make_scenario({**scenario.to_dict(), **values}, source=source)
    return scenario


def check_output_file(path: Path) -> Path:
    """Fail now, not after the run, if ``path`` cannot be written (extension, folder, permission)."""
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise UserInputError(f"unknown extension {path.suffix or '(none)'!r}; allowed: .csv or .parquet",
                             source=str(path), key="--out")
    if path.is_dir():
        raise UserInputError("is a folder; allowed: a .csv or .parquet file path", source=str(path), key="--out")
    _check_writable_folder(path.parent, path, "--out")
    return path


def check_output_dir(path: Path) -> Path:
    """Fail now if the report folder cannot be created or written."""
    if path.exists():
        if not path.is_dir():
            raise UserInputError("exists and is not a folder; allowed: a folder", source=str(path),
                                 key="--out-dir")
        _check_writable_folder(path, path, "--out-dir")
    else:
        _check_writable_folder(path.parent, path, "--out-dir")
    return path


def _check_writable_folder(folder: Path, path: Path, key: str) -> None:
    folder = folder if str(folder) else Path(".")
    if not folder.is_dir():
        raise UserInputError(f"folder {str(folder)!r} does not exist; allowed: a path in an existing folder",
                             source=str(path), key=key)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserInputError(f"folder {str(folder)!r} is not writable; allowed: a path in a writable folder",
                             source=str(path), key=key)


# ------------------------------------------------------------------ display
def _stdout() -> Console:
    """Plain console for stdout: no markup, so names and paths with brackets print as they are."""
    from rich.console import Console

    return Console(markup=False, highlight=False)


def _progress() -> Progress:
    """A progress bar on stderr (stdout stays clean for tables); off when stderr is not a terminal."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty())


def _fmt(value: Any) -> str:
    from .report import format_number

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(float(value))
    return str(value)


def _print_run(result: RunResult) -> None:
    from rich.table import Table

    from .outputs import SUMMARY_COLUMNS

    console = _stdout()
    console.print(f"verdict: {result.verdict}", style="bold")
    console.print(f"scenario: {printable(result.scenario)}  hash: {result.scenario_hash}  seed: {result.seed}  "
                  f"engine: {result.engine}  version: {result.version}")
    if result.posterior is not None:
        console.print(f"calibrated: posterior {result.posterior['id']}, particle {result.posterior['particle']} "
                      f"({printable(result.posterior['file'])})")
    table = Table("outcome", "value", "meaning")
    for key in KEY_OUTCOMES:
        value = _fmt(result.summary[key])
        if key == "peak_active_share":
            value += f" (week {result.summary['peak_week']})"
        table.add_row(key, value, SUMMARY_COLUMNS[key])
    console.print(table)


# ------------------------------------------------------------------ compiled kernels
def compile_simulation() -> None:
    """Compile, or load from numba's cache, everything a numba run calls: the compiled week
    (:func:`sim.week.functions`) and every kernel it calls, serial and parallel variant.

    :func:`sim.runner.warm_kernels` runs one tiny model (``SocialBusinessModel(...).run()``)
    with every loop forced serial, then one forced parallel (:func:`sim.engine.forced`, which
    ``PARALLEL_FROM_AGENTS`` otherwise decides by population size), so each compiled function
    and each kernel variant gets its cache entry.
    """
    from . import week
    from .runner import warm_kernels

    week.functions("numba")
    warm_kernels()


def ensure_kernels(engine: str = "numba") -> bool:
    """Before the first simulation of a command: if numba's cache does not hold the compiled
    simulation (a fresh install, a new numba, an edited source of the week or its kernels),
    print :data:`sim.startup.COMPILE_MESSAGE` on stderr and compile it now
    (:func:`compile_simulation`), so no later run stops to compile.

    Says nothing and does nothing when the cache is warm, or when the check cannot tell (see
    :func:`sim.startup.kernel_cache_state`). Returns True if it compiled.
    """
    if engine != "numba" or kernel_cache_state() != "cold":
        return False
    typer.echo(COMPILE_MESSAGE, err=True)
    compile_simulation()
    return True


def _kernel_cache_path() -> str | None:
    """Where numba keeps the compiled week and kernels (read from a loaded function; None if unknown)."""
    from . import kernels, week

    for value in [*week.functions("numba").values(), *vars(kernels).values()]:
        path = getattr(getattr(value, "_cache", None), "_cache_path", None)
        if isinstance(path, str):
            return path
    return None


# ------------------------------------------------------------------ commands
@command("run")
def run_command(
    scenario: Annotated[str, typer.Argument(help="Scenario file (.toml) or preset name (see `socialsim presets`).")],
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED,
                                      help="Random seed; the same seed gives the same result.")] = 42,
    weeks: WeeksOption = None,
    population: PopulationOption = None,
    engine: EngineOption = Engine.numba,
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="Write a table here (.csv or .parquet); without it only a summary is printed.")] = None,
    table: Annotated[TableName, typer.Option(
        "--table", help="Which table --out writes: weekly series, departments per week, or participants.")]
    = TableName.series,
    set_: SetOption = None,
    organisation: OrganisationOption = None,
    ties: TiesOption = None,
    calibrated: CalibratedOption = False,
    posterior: PosteriorOption = None,
) -> None:
    """Run one scenario once and print its verdict and key outcomes."""
    from .runner import run

    if out is not None:
        check_output_file(out)
    config = build_scenario(scenario, population=population and population.value, weeks=weeks, sets=set_,
                            organisation=organisation, ties=ties)
    calibration = calibration_choice(calibrated, posterior, set_)
    ensure_kernels(engine.value)
    with _progress() as progress:
        task = progress.add_task(f"{config.name} (seed {seed})", total=config.weeks)
        result = run(config, seed=seed, engine=engine.value, calibrated=calibration,
                     progress=lambda done, total: progress.update(task, completed=done, total=total))
    _print_run(result)
    if out is not None:
        result.write(out, table.value)
        frame_rows = len(getattr(result, table.value))
        _stdout().print(f"wrote {out} ({table.value}, {frame_rows} rows)")


def _labels(configs: list[Scenario]) -> list[str]:
    """Scenario names, made unique (``name``, ``name #2``, ...)."""
    labels: list[str] = []
    for config in configs:
        label, k = config.name, 2
        while label in labels:
            label, k = f"{config.name} #{k}", k + 1
        labels.append(label)
    return labels


@command("compare")
def compare_command(
    scenarios: Annotated[list[str], typer.Argument(help="Scenario files or preset names.")],
    replicates: Annotated[int, typer.Option(min=1, help="Runs per scenario.")] = 20,
    seed: Annotated[int, typer.Option(
        min=0, max=MAX_SEED, help="Root seed. Replicate k uses the same seed in every scenario (common random numbers), "
                    "so scenarios differ by their levers, not by luck.")] = 0,
    weeks: WeeksOption = None,
    population: PopulationOption = None,
    engine: EngineOption = Engine.numba,
    out_dir: Annotated[Path, typer.Option(
        "--out-dir", help="Folder for summary.csv, series.parquet and report.html.")] = Path("compare-report"),
    set_: SetOption = None,
    organisation: OrganisationOption = None,
    ties: TiesOption = None,
    calibrated: CalibratedOption = False,
    posterior: PosteriorOption = None,
) -> None:
    """Run replicates of several scenarios with common random numbers and compare their outcomes.

    Prints the median and empirical 95% interval (2.5% and 97.5% percentiles across replicates)
    of every outcome, the success rate with a 95% Wilson interval, and the verdict counts; writes
    summary.csv, series.parquet and a self-contained report.html into --out-dir.
    """
    from . import report
    from .outputs import table_writer, write_files_atomic
    from .runner import replicate_seeds, run

    check_output_dir(out_dir)
    configs = [build_scenario(s, population=population and population.value, weeks=weeks, sets=set_,
                              organisation=organisation, ties=ties) for s in scenarios]
    labels = _labels(configs)
    calibration = calibration_choice(calibrated, posterior, set_)
    seeds = replicate_seeds(seed, replicates)
    ensure_kernels(engine.value)
    results: dict[str, list[RunResult]] = {label: [] for label in labels}
    with _progress() as progress:
        task = progress.add_task("runs", total=len(configs) * len(seeds))
        for i, (label, config) in enumerate(zip(labels, configs)):
            for j, s in enumerate(seeds):
                start = i * len(seeds) + j
                progress.update(task, description=f"{label} #{j + 1}", completed=start)
                results[label].append(run(config, seed=s, engine=engine.value, calibrated=calibration,
                                          progress=lambda d, t, start=start:
                                          progress.update(task, completed=start + d / t)))
        progress.update(task, completed=len(configs) * len(seeds))

    _print_comparison(results, replicates, seed)
    # Build everything in memory first, so a failure leaves the folder as it was.
    summary, series = report.summary_frame(results), report.series_frame(results)
    page = report.compare_report_html(results, root_seed=seed, scenarios=dict(zip(labels, configs)))
    out_dir.mkdir(exist_ok=True)
    # All three are staged before any replaces its earlier version: a failure (a full disk)
    # leaves the earlier report complete, never a folder that mixes two runs.
    written = write_files_atomic({
        out_dir / "summary.csv": table_writer(summary, out_dir / "summary.csv"),
        out_dir / "series.parquet": table_writer(series, out_dir / "series.parquet"),
        out_dir / "report.html": lambda tmp: Path(tmp).write_text(page, encoding="utf-8"),
    })
    _stdout().print("wrote " + ", ".join(printable(str(p)) for p in written))


def _print_comparison(results: dict[str, list[RunResult]], replicates: int, seed: int) -> None:
    from rich.table import Table

    from .report import display_table

    shown = display_table(results)
    console = _stdout()
    names = [printable(str(c)) for c in shown.columns]
    # Full scenario names as headers when they fit the terminal; else letters and a legend, so
    # no name is ever cut ("purpose_led_…").
    cell = max([len(str(v)) for v in shown.to_numpy().ravel()] + [1])
    fits = len("outcome") + 20 + sum(max(len(n), cell) + 3 for n in names) <= console.width
    headers = names if fits else [chr(ord("A") + i) if i < 26 else f"S{i + 1}" for i in range(len(names))]
    table = Table(title=f"{replicates} replicates per scenario, root seed {seed}")
    table.add_column("outcome", no_wrap=True, min_width=max(len(str(o)) for o in shown.index))
    for header in headers:
        table.add_column(header, overflow="fold")  # wrap a long cell, never cut it
    for outcome, row in shown.iterrows():
        table.add_row(str(outcome), *row.tolist())
    console.print(table)
    if not fits:
        for header, name in zip(headers, names):
            console.print(f"{header} = {name}", soft_wrap=True)
    drawn = [r.posterior for runs in results.values() for r in runs if r.posterior is not None]
    if drawn:
        console.print(f"calibrated: posterior {drawn[0]['id']} ({printable(drawn[0]['file'])}); one draw of the "
                      f"behavioural parameters per replicate ({replicates} draws, the same in every scenario), so "
                      "the intervals combine parameter and stochastic uncertainty.", soft_wrap=False)
    else:
        console.print("uncalibrated: the developers' default behavioural parameters (--calibrated draws them "
                      "from the posterior).", soft_wrap=False)
    console.print("x [a, b] = median [2.5th, 97.5th percentile] across replicates (not a confidence interval); "
                  "shares are fractions (0.25 = 25%); success rate with a 95% Wilson interval; the same seeds "
                  "in every scenario (common random numbers).", soft_wrap=False)


@command("presets")
def presets_command() -> None:
    """List the preset scenarios shipped in scenarios/."""
    from rich.table import Table

    from .scenario import preset_names, preset_summary

    names = preset_names()
    console = _stdout()
    if not names:
        console.print("No presets found in scenarios/.")
        return
    table = Table("preset", "description")
    for name in names:
        table.add_row(name, printable(preset_summary(name)))
    console.print(table)


@command("validate")
def validate_command(
    scenarios: Annotated[list[str], typer.Argument(help="Scenario files or preset names to check.")],
) -> None:
    """Validate scenario files; stops with status 2 at the first invalid one."""
    from .scenario import load_scenario

    for spec in scenarios:
        config = load_scenario(spec)
        typer.echo(f"OK {printable(config.name)} ({config.scenario_hash()})")


def _value_text(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    return str(value)


def _range_text(name: str, ge: Any, le: Any) -> str:
    from .scenario import Scenario

    annotation = Scenario.model_fields[name].annotation
    if ge is not None or le is not None:
        return f"{'' if ge is None else ge} to {'' if le is None else le}"
    if annotation is bool:
        return "true, false"
    if get_origin(annotation) is Literal:
        return ", ".join(f'"{a}"' for a in get_args(annotation))
    if name in ("waves", "shocks"):
        return "list of tables (see docs/MODEL.md)"
    return ""


def lever_rows() -> list[dict[str, str]]:
    """Every scenario key as display strings: key, default, range, mechanism, source, meaning."""
    from .scenario import Scenario, lever_info

    defaults = Scenario().to_dict()
    return [{"key": row["name"], "default": _value_text(defaults[row["name"]]),
             "range": _range_text(row["name"], row["ge"], row["le"]), "mechanism": str(row["mechanism"]),
             "source": str(row["source"]), "meaning": row["doc"]} for row in lever_info()]


@command("levers")
def levers_command(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table (for docs).")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="One wide table (at least 200 columns) instead of "
                                                      "one block per key.")] = False,
) -> None:
    """Every scenario key with its default, allowed range, mechanism and source article."""
    from rich.console import Console
    from rich.table import Table

    rows = lever_rows()
    columns = list(rows[0])
    if markdown:
        cell = lambda text: str(text).replace("|", "\\|")  # noqa: E731
        typer.echo("| " + " | ".join(columns) + " |")
        typer.echo("|" + "---|" * len(columns))
        for row in rows:
            typer.echo("| " + " | ".join(cell(row[c]) for c in columns) + " |")
        return
    if wide:
        table = Table(*columns)
        for row in rows:
            table.add_row(*(row[c] for c in columns))
        Console(markup=False, highlight=False, width=max(200, _stdout().width)).print(table)
        return
    # One block per key: fits any terminal width and never cuts a name or a value.
    console = _stdout()
    for row in rows:
        console.print(f"{row['key']} = {row['default']}", style="bold", soft_wrap=True)
        console.print(f"    range: {row['range'] or '-'};  mechanism: {row['mechanism']};  source: "
                      f"{row['source']}", soft_wrap=True)
        console.print(f"    {row['meaning']}", soft_wrap=True)


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
        bench = importlib.import_module(f"{__package__}.bench")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.bench":
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

    cold = kernel_cache_state() == "cold"
    if cold:
        typer.echo(COMPILE_MESSAGE, err=True)
    start = time.perf_counter()
    compile_simulation()
    seconds = time.perf_counter() - start
    where = _kernel_cache_path()
    what = "compiled" if cold else "ready (loaded from numba's cache, compiled where needed)"
    _stdout().print(f"simulation {what} in {seconds:.1f} s" + (f"; cache: {where}" if where else ""),
                    soft_wrap=True)
    if kernel_cache_state() == "cold":
        typer.echo("warning: numba did not keep the compiled simulation, so every run compiles it again; "
                   "set NUMBA_CACHE_DIR to a writable folder", err=True)


@command("analyze")
def analyze_command(
    results_dir: Annotated[Path, typer.Argument(help="Results folder written by `socialsim sweep`.")],
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="Self-contained HTML report (default: RESULTS_DIR/analysis/report.html).")] = None,
    outcome: Annotated[Optional[list[str]], typer.Option(
        "--outcome", help="Outcome for sensitivity, heatmaps and the report (repeatable; default: "
                          "active_share and net_value).")] = None,
    success: Annotated[Optional[str], typer.Option(
        "--success", metavar="OUTCOME>=VALUE", help="What PRIM counts as success, e.g. active_share>=0.2 "
                                                    "(default: verdict is success).")] = None,
) -> None:
    """Analyse a sweep: summary per design point with CIs, Morris/Sobol sensitivity, PRIM boxes.

    Writes summary_by_point.csv, main_effects.csv, prim_boxes.csv, prim_trajectory.csv (and
    sensitivity.csv for Morris and Sobol designs) into RESULTS_DIR/analysis/, and a self-contained
    HTML report.
    """
    from .experiments.analysis import DEFAULT_OUTCOMES, analyze
    from .experiments.analysis_report import print_tables

    if out is not None:
        if out.suffix.lower() not in (".html", ".htm") or out.is_dir():
            raise UserInputError("allowed: an .html file path", source=str(out), key="--out")
        _check_writable_folder(out.parent, out, "--out")
    tables = analyze(results_dir, out, outcomes=outcome or None, success=success)
    console = _stdout()
    print_tables(tables, console, list(outcome or [o for o in DEFAULT_OUTCOMES
                                                   if f"{o}_mean" in tables["summary_by_point"]]))
    folder = results_dir / "analysis"
    done, total = _completeness(results_dir)
    console.print(f"runs: {done:,} of {total:,} finished ({done / max(total, 1):.0%}); x [a, b] = mean "
                  f"[95% confidence interval of the mean] over replicates; shares are fractions (0.25 = 25%)",
                  soft_wrap=True)
    if done < total:
        typer.echo(f"warning: the sweep is incomplete: {done:,} of {total:,} runs ({done / total:.0%}) are "
                   "finished, so these results cover only part of the design; rerun `socialsim sweep` with "
                   "the same experiment to finish it", err=True)
    console.print("wrote " + ", ".join([str(folder / f"{name}.csv") for name in tables]
                                       + [str(out or folder / "report.html")]))


def _completeness(results_dir: Path) -> tuple[int, int]:
    """(finished runs, runs in the design) of a sweep folder."""
    from .experiments.store import load_manifest, load_results

    total = int(load_manifest(results_dir).get("n_runs") or 0)
    return len(load_results(results_dir, columns=["status"])), total


# ------------------------------------------------------------------ sweep (sim/experiments)
@command("sweep")
def sweep_command(
    experiment: Annotated[Path, typer.Argument(
        help="Experiment file (.toml): base scenario, factors, design, replicates, outputs "
             "(format: sim/experiments/spec.py).")],
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="Output folder (default: the experiment's `out`, relative to its file).")] = None,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Rerun the batches that hold failed runs.")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit with status 1 if any run failed (default: 0 and a warning).")] = False,
    yes: Annotated[bool, typer.Option(
        "--yes", help="Run even an experiment above 100,000 runs or 12 estimated hours (refused without it).")]
    = False,
    organisation: OrganisationOption = None,
    ties: TiesOption = None,
    calibrated: CalibratedOption = False,
    posterior: PosteriorOption = None,
) -> None:
    """Run an experiment (a sweep, replicates, a sensitivity design) and stream results to Parquet.

    Rerunning the same command resumes: finished batches are kept, the rest run. Failed runs are
    recorded (status, error, parameters) and reported; the exit status is 0 unless --strict.
    """
    from .experiments.cluster import SweepAborted
    from .experiments.runner import run_sweep

    with _progress() as progress:
        state: dict[str, Any] = {}

        def on_start(plan: Any, to_run: int, done: int) -> None:
            if to_run and scheduler is None:  # compile once here: local workers then load, not each compile
                ensure_kernels()
            state["name"] = plan.experiment.spec.name
            state["task"] = progress.add_task(f"{state['name']} (starting workers)", total=plan.n_runs,
                                              completed=done)

        def on_progress(done: int, total: int) -> None:
            if state.pop("starting", True):  # workers ready: time and ETA count from here
                progress.reset(state["task"], total=total, completed=done, description=state["name"])
            else:
                progress.update(state["task"], completed=done, total=total)
            state["starting"] = False

        try:
            report = run_sweep(experiment, out=out, scheduler=scheduler, workers=workers,
                               retry_failed=retry_failed, progress=on_progress, on_start=on_start, confirmed=yes,
                               calibrated=calibration_choice(calibrated, posterior) or None,
                               organisation=organisation, ties=ties)
        except SweepAborted as exc:
            _fail(str(exc), 1)
        except KeyboardInterrupt:
            _fail("interrupted; the finished batches are kept: rerun the same command to resume", 130)
    console = _stdout()
    if report.stale_lock:
        typer.echo(f"warning: took over the lock of a sweep that is no longer running (pid "
                   f"{report.stale_lock.get('pid')}, started {report.stale_lock.get('started')})", err=True)
    for batch, why in report.damaged:
        typer.echo(printable(f"warning: part {batch} was damaged ({why}); set aside in {report.out}/damaged "
                             "and run again"), err=True)
    if report.ran:
        how = (f"{report.ran} run now in {report.run_seconds:.1f} s ({report.runs_per_second:.2f} runs/s, "
               f"{report.executor}, {report.workers} worker{'s' if report.workers != 1 else ''}; "
               f"start-up {report.setup_seconds:.1f} s)")
    else:
        how = "nothing left to run"
    already = f"{report.skipped} already done, " if report.skipped else ""
    console.print(f"sweep {report.name}: {report.n_runs} runs, {report.ok} ok, {report.failed} failed "
                  f"({already}{how})", soft_wrap=True)
    console.print(f"results: {report.out} (manifest.json, design.parquet, parts/)", soft_wrap=True)
    if report.code_changed:
        typer.echo("warning: the model code changed since this sweep started (see code_fingerprint in "
                   "manifest.json); earlier parts were made with the old code", err=True)
    if report.failed:
        typer.echo(f"warning: {report.failed} run{'s' if report.failed != 1 else ''} failed; status, error and "
                   f"parameters are in {report.out}/parts (status = \"failed\"); rerun with --retry-failed to run "
                   "them again", err=True)
        if strict:
            raise typer.Exit(1)


@command("calibrate")
def calibrate_command(
    targets: Annotated[Path, typer.Argument(
        help="Targets file (.toml): the published figures, their sources and measurement models "
             "(e.g. experiments/calibration/targets.toml).")],
    population_size: Annotated[int, typer.Option(
        "--population-size", min=2, help="Particles per ABC-SMC generation.")] = 150,
    generations: Annotated[int, typer.Option(
        "--generations", min=1, help="Generations in all (generation 0 is the prior); a rerun resumes to this.")] = 8,
    organisations: Annotated[int, typer.Option(
        "--organisations", min=1, help="Organisations in each simulated survey.")] = 32,
    seed: Annotated[int, typer.Option("--seed", min=0, help="The calibration's seed.")] = 2013,
    scheduler: SchedulerOption = None,
    workers: Annotated[Optional[int], typer.Option(
        "--workers", min=1, help="Local worker processes (default: all cores).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder: calibration.db, posterior.csv, posterior.json.")]
    = Path("calibration"),
) -> None:
    """Fit the behavioural parameters to published figures with ABC-SMC (pyABC), comparing the three
    hierarchy hypotheses; write the posterior.

    Rerunning the same command resumes after the last finished generation (pyABC's database).
    Strategy presets are never fitted: only the behavioural parameters of sim/behaviour.py.
    """
    from .calibration.fit import calibrate

    if scheduler is None:
        ensure_kernels()  # compile once here: local workers then load, not each compile

    def on_progress(message: str) -> None:
        typer.echo(f"calibrate: {message}", err=True)

    try:
        report = calibrate(targets, population_size=population_size, generations=generations,
                           organisations=organisations, seed=seed, out=out, scheduler=scheduler, workers=workers,
                           progress=on_progress)
    except KeyboardInterrupt:
        _fail("interrupted; the finished generations are kept: rerun the same command to resume", 130)
    probabilities = ", ".join(f"{k} {v:.2f}" for k, v in report.model_probabilities.items())
    typer.echo(f"{'resumed; ' if report.resumed else ''}generations: {report.generations}, simulated surveys in all: "
               f"{report.evaluations}, final epsilon {report.epsilon:.3g}, {report.seconds:.0f} s this session")
    typer.echo(f"hierarchy hypotheses (posterior probability): {probabilities}")
    typer.echo(f"effective sample of the last generation: {report.effective_sample_size:.1f} of "
               f"{report.population_size} particles")
    if report.warning:
        typer.echo(f"warning: {report.warning}", err=True)
    typer.echo(f"posterior: {report.posterior} (and {report.posterior.with_suffix('.json').name})")


@command("advise")
def advise_command(
    scenario: Annotated[str, typer.Argument(help="Your current scenario: a file or a preset name.")],
    out_dir: Annotated[Path, typer.Option(
        "--out-dir", help="Folder for plans.csv, plans/<plan>.toml, report.html and the study (resumable).")],
    levers: Annotated[Optional[str], typer.Option(
        "--levers", help="Comma-separated levers the advisor may move (default: all; see README, 'The strategy "
                         "advisor').")] = None,
    budget: Annotated[Optional[float], typer.Option(
        "--budget", help="Most a plan may cost, in employee-weeks (the README's cost model).")] = None,
    target: Annotated[float, typer.Option(
        "--target", help="P(success) at which the rollout counts as taking off.")] = 0.5,
    trials: Annotated[int, typer.Option("--trials", help="Candidate plans to score (the current one included).")] = 32,
    replicates: Annotated[int, typer.Option(
        "--replicates", help="Runs per candidate (common random numbers across candidates).")] = 8,
    confirm: Annotated[int, typer.Option(
        "--confirm", help="Fresh-seed runs per Pareto plan for the probabilities reported (and as many again, on "
                          "other seeds, for the best plan and the flip).")] = 100,
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED, help="The search's seed.")] = 0,
    weeks: WeeksOption = None,
    population: PopulationOption = None,
    set_: SetOption = None,
    organisation: OrganisationOption = None,
    ties: TiesOption = None,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    calibrated: CalibratedOption = False,
    posterior: PosteriorOption = None,
) -> None:
    """Search the levers you can move for plans that make the rollout take off at least cost.

    Optuna's NSGA-II over the allowed levers and rollout schedule; each candidate runs the same
    replicate seeds; the Pareto plans are re-estimated on fresh seeds. Rerunning the same command
    resumes the search.
    """
    from .advisor import advise
    from .advisor.report import stated

    base = build_scenario(scenario, population=population and population.value, weeks=weeks, sets=set_,
                          organisation=organisation, ties=ties)
    calibration = calibration_choice(calibrated, posterior, set_)
    chosen = None if levers is None else levers.split(",")
    if scheduler is None and workers != 0:
        ensure_kernels()

    def on_progress(message: str) -> None:
        typer.echo(message, err=True)

    try:
        advice = advise(base, out_dir=out_dir, levers=chosen, budget=budget, target=target, trials=trials,
                        replicates=replicates, confirm=confirm, calibrated=calibration, seed=seed,
                        scheduler=scheduler, workers=workers, source=scenario, progress=on_progress)
    except KeyboardInterrupt:
        _fail("interrupted; the scored plans are kept: rerun the same command to resume", 130)
    c = advice.current
    typer.echo(f"your scenario: P(success) {c['p_success']:.0%} [{c['p_success_low']:.0%}, {c['p_success_high']:.0%}]"
               f" ({c['runs']} fresh seeds)")
    for plan in advice.plans.to_dict("records"):
        typer.echo(f"{plan['plan']}: P(success) {plan['p_success']:.0%} [{plan['p_success_low']:.0%}, "
                   f"{plan['p_success_high']:.0%}], cost {plan['cost']:.1f}; changes {plan['changed_levers'] or 'none'}")
    if advice.best is not None:
        typer.echo(f"best plan found: {stated(advice.best)}")
    if advice.flip is not None:
        typer.echo(f"smallest change that flips the verdict: {stated(advice.flip)}; changes "
                   f"{advice.flip['changed_levers']}")
    else:
        typer.echo("no plan found flips the verdict within the levers and budget allowed")
    typer.echo(f"wrote {printable(str(out_dir / 'plans.csv'))}, {printable(str(out_dir / 'report.html'))}")


def _dashboard_app() -> Path:
    """The dashboard's ``app.py``: beside ``sim/`` in a source tree, else the installed ``dashboard``
    package (a wheel installs it next to ``sim``)."""
    source_tree = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
    if source_tree.is_file():
        return source_tree
    import importlib.util

    spec = importlib.util.find_spec("dashboard")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / "app.py").is_file():
            return Path(folder) / "app.py"
    return source_tree


DASHBOARD_APP = _dashboard_app()


def dashboard_argv(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line of the dashboard."""
    return [sys.executable, "-m", "streamlit", "run", str(DASHBOARD_APP), "--server.address", host,
            "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "viewer", "--server.fileWatcherType", "none"]


def _open_browser_when_ready(url: str, timeout: float = 120.0) -> None:
    """Open ``url`` in the default browser once the server answers its health check (in a thread)."""
    import threading
    import time
    import urllib.request
    import webbrowser

    def wait_and_open() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    webbrowser.open(url)
                    return
            except OSError:
                time.sleep(0.5)

    threading.Thread(target=wait_and_open, daemon=True).start()


@command("dashboard")
def dashboard_command(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8501,
    host: Annotated[str, typer.Option(
        help="Address to listen on (default: this machine only; 0.0.0.0 shares it on your network).")]
    = "127.0.0.1",
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open the dashboard in a browser.")] = True,
) -> None:
    """Start the interactive dashboard (Streamlit): explore, compare, workshop, experiments.

    Runs `streamlit run dashboard/app.py` on HOST:PORT until you press Ctrl+C.
    """
    import importlib.util
    import subprocess

    if importlib.util.find_spec("streamlit") is None:
        _fail("the dashboard needs Streamlit: pip install streamlit (or reinstall socialsim)", 1)
    if not DASHBOARD_APP.is_file():
        _fail(f"{DASHBOARD_APP}: the dashboard is not in this install (it ships with the source tree)", 1)
    url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0', '::') else host}:{port}"
    typer.echo(f"socialsim dashboard on {url} (Ctrl+C stops it)", err=True)
    if kernel_cache_state() == "cold":  # the server compiles at its first page; say why it waits
        typer.echo(COMPILE_MESSAGE, err=True)
    if browser:
        _open_browser_when_ready(url)
    try:
        code = subprocess.call(dashboard_argv(host, port))
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


if __name__ == "__main__":  # pragma: no cover
    app()
