"""The command group and what its commands share: one-line errors (:class:`OneLineErrors`,
``_fail``, ``_guarded``), the ``command`` decorator, the shared options, reading scenarios and
``--set`` values, checking output paths before anything long runs, display helpers and the
compiled kernels' cache (:func:`ensure_kernels`)."""

from __future__ import annotations

import errno
import functools
import os
import sys
import tomllib
import traceback
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Optional

import typer

# Only light modules at import time: `socialsim --help` and option errors answer without numba,
# numpy, pandas, Mesa, Dask or the scenario validation (issue 8; tests/test_startup.py). Each
# command imports what it needs. (typer itself loads pydantic to coerce a command's options.)
from ..errors import UserInputError, printable
from .. import startup
from ..startup import COMPILE_MESSAGE, POPULATIONS, version

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from ..scenario import Scenario


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
    from ..calibration.posterior import load

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
    from ..orgchart import DECIDED_BY_FILE
    from ..scenario import load_scenario, make_scenario

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
    from ..report import format_number

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(float(value))
    return str(value)


# ------------------------------------------------------------------ compiled kernels
def compile_simulation() -> None:
    """Compile, or load from numba's cache, everything a numba run calls: the compiled week
    (:func:`sim.week.functions`) and every kernel it calls, serial and parallel variant.

    :func:`sim.runner.warm_kernels` runs one tiny model (``SocialBusinessModel(...).run()``)
    with every loop forced serial, then one forced parallel (:func:`sim.engine.forced`, which
    ``PARALLEL_FROM_AGENTS`` otherwise decides by population size), so each compiled function
    and each kernel variant gets its cache entry.
    """
    from .. import week
    from ..runner import warm_kernels

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
    if engine != "numba" or startup.kernel_cache_state() != "cold":
        return False
    typer.echo(COMPILE_MESSAGE, err=True)
    compile_simulation()
    return True


def _kernel_cache_path() -> str | None:
    """Where numba keeps the compiled week and kernels (read from a loaded function; None if unknown)."""
    from .. import kernels, week

    for value in [*week.functions("numba").values(), *vars(kernels).values()]:
        path = getattr(getattr(value, "_cache", None), "_cache_path", None)
        if isinstance(path, str):
            return path
    return None


