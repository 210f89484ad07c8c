"""``socialsim run``, ``compare``, ``presets``, ``validate`` and ``levers``: one scenario or a few,
and what can be set."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, get_args, get_origin

import typer

from ..errors import printable
from ..startup import MAX_SEED
from .common import (
    CalibratedOption,
    Engine,
    EngineOption,
    OrganisationOption,
    PopulationOption,
    PosteriorOption,
    SetOption,
    TableName,
    TiesOption,
    WeeksOption,
    _fmt,
    _progress,
    _stdout,
    build_scenario,
    calibration_choice,
    check_output_dir,
    check_output_file,
    command,
    ensure_kernels,
)

if TYPE_CHECKING:
    from ..outputs import RunResult
    from ..scenario import Scenario


#: Outcomes printed after a single run.
KEY_OUTCOMES = ("active_share", "peak_active_share", "gini", "top1_share", "productivity_gain",
                "members_share", "advocates_share", "detractors_share", "mean_trust", "response_time",
                "net_value")


def _print_run(result: RunResult) -> None:
    from rich.table import Table

    from ..outputs import SUMMARY_COLUMNS

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
    from ..runner import run

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
    from .. import report
    from ..outputs import table_writer, write_files_atomic
    from ..runner import replicate_seeds, run

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

    from ..report import display_table

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

    from ..scenario import preset_names, preset_summary

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
    from ..scenario import load_scenario

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
    from ..scenario import Scenario

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
    from ..scenario import Scenario, lever_info

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
