"""``socialsim analyze``, ``sweep``, ``calibrate`` and ``advise``: batch experiments, calibration
and the strategy advisor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import UserInputError, printable
from ..startup import MAX_SEED
from .common import (
    CalibratedOption,
    OrganisationOption,
    PopulationOption,
    PosteriorOption,
    SchedulerOption,
    SetOption,
    TiesOption,
    WeeksOption,
    WorkersOption,
    _check_writable_folder,
    _fail,
    _progress,
    _stdout,
    build_scenario,
    calibration_choice,
    command,
    ensure_kernels,
)

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
    from ..experiments.analysis import DEFAULT_OUTCOMES, analyze
    from ..experiments.analysis_report import print_tables

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
    from ..experiments.store import load_manifest, load_results

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
    from ..experiments.cluster import SweepAborted
    from ..experiments.runner import run_sweep

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
    from ..calibration.fit import calibrate

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
    from ..advisor import advise
    from ..advisor.report import NO_BETTER_PLAN, NO_LONGER_FLIPS, stated

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
    else:
        typer.echo(f"{NO_BETTER_PLAN}")
    if advice.flip is not None:
        typer.echo(f"smallest change that flips the verdict: {stated(advice.flip)}; changes "
                   f"{advice.flip['changed_levers']}")
        if not advice.flip["flips_on_fresh_seeds"]:
            typer.echo(f"  {NO_LONGER_FLIPS}")
    else:
        typer.echo("no plan found flips the verdict within the levers and budget allowed")
    typer.echo(f"wrote {printable(str(out_dir / 'plans.csv'))}, {printable(str(out_dir / 'report.html'))}")
