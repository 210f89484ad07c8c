"""The search: Optuna's multi-objective sampler over the levers a user allows, every candidate
scored over replicates with common random numbers, the Pareto plans re-estimated on fresh seeds.

- **Objectives**: maximise P(success) (the share of replicates whose verdict is success) and
  minimise the plan's cost (:func:`sim.advisor.levers.plan_cost`); with a budget, plans above it
  are infeasible (NSGA-II's constraint handling) and never recommended.
- **Scoring**: every candidate runs the same replicate seeds (common random numbers) and, when
  calibrated, each seed draws the same particle of the posterior in every candidate, so two
  plans differ by their levers, not their luck. Runs go to the same executors as sweeps: a local
  Dask cluster, ``--scheduler ADDRESS`` or serial (``workers = 0``).
- **Honest probabilities**: the best of many noisy estimates is biased upwards (the winner's
  curse), so the probabilities the advisor reports come from fresh seeds that the search never
  saw (``confirm`` replicates per plan), with 95% Wilson intervals. The curse strikes twice:
  the best plan and the smallest change that flips the verdict are themselves picked by those
  confirmation estimates, so what the advisor states for these two comes from a third set of
  seeds (``confirm`` runs again) that neither the search nor the ranking saw.
- **Resumable**: trials live in Optuna's journal storage (a file that is safe with several
  processes, unlike SQLite); rerunning the same command continues. Candidates are asked in fixed
  batches from a sampler seeded per batch, and a batch cut short by a kill is re-evaluated with
  the parameters it was given, so a resumed search ends as an uninterrupted one does.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import UserInputError
from ..report import wilson_interval
from .levers import ADVISABLE, apply_plan, check_levers, current_values, lever_domain, plan_cost

#: Candidates asked from the sampler at a time (fixed, so the search does not depend on workers).
BATCH = 4
#: Pareto plans reported at most (the cheapest first).
MAX_PLANS = 12
#: Stream that derives the confirmation seeds from the user's seed (apart from the search's).
CONFIRM_STREAM = 0xADF1CE
#: Stream of the verification seeds: the best plan and the flip, chosen on the confirmation
#: estimates, are stated from these (neither the search nor the ranking saw them).
VERIFY_STREAM = 0x5EC0DD


@dataclass
class Advice:
    """What :func:`advise` found: the plans (one row each, confirmation estimates), the user's current
    plan, the best plan found and the smallest change that flips the verdict (both stated from
    verification seeds, with ``p_success_confirm`` the estimate they were chosen by) and where it wrote."""

    plans: pd.DataFrame
    current: dict[str, Any]
    flip: dict[str, Any] | None
    out_dir: Path
    meta: dict[str, Any] = field(default_factory=dict)
    best: dict[str, Any] | None = None


# ------------------------------------------------------------------ scoring
def _seed_scenarios(scenario: Any, seeds: Sequence[int], posterior: Any) -> list[Any]:
    if posterior is None:
        return [scenario] * len(seeds)
    out = []
    for seed in seeds:
        _, values = posterior.draw(int(seed))
        out.append(scenario.with_levers(**values))
    return out


def _tasks(point: int, scenario: Any, seeds: Sequence[int], posterior: Any, label: str) -> list[dict[str, Any]]:
    return [{"run_id": point * 100_000 + k, "point_id": point, "replicate": k, "seed": int(seed),
             "scenario": sc, "label": label, "scenario_hash": sc.scenario_hash(), "factors": {}}
            for k, (seed, sc) in enumerate(zip(seeds, _seed_scenarios(scenario, seeds, posterior)))]


def score_plans(executor: Any, plans: Sequence[tuple[int, Any]], seeds: Sequence[int], posterior: Any,
                label: str = "plan") -> dict[int, dict[str, float]]:
    """Run every (key, scenario) over ``seeds``; key -> successes, runs, P(success), median active share."""
    jobs = iter([(key, _tasks(key, scenario, seeds, posterior, label)) for key, scenario in plans])
    out: dict[int, dict[str, float]] = {}
    for key, _, (frame, _) in executor.run(jobs, "final", ()):
        ok = frame[frame["status"] == "ok"]
        if len(ok) < len(frame):
            first = frame.loc[frame["status"] != "ok", "error"].iloc[0]
            raise UserInputError(f"a run of a candidate plan failed ({first}); allowed: a scenario that runs",
                                 source="advise")
        successes = int(ok["success"].astype(bool).sum())
        out[key] = {"successes": successes, "runs": len(ok), "p_success": successes / len(ok),
                    "active_share": float(np.median(ok["active_share"].astype(float)))}
    return out


# ------------------------------------------------------------------ the study
def _fingerprint(settings: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _suggest(trial: Any, levers: Sequence[str], weeks: int) -> dict[str, Any]:
    values = {}
    for name in levers:
        kind, domain = lever_domain(name, weeks)
        if kind == "choice":
            values[name] = trial.suggest_categorical(name, list(domain))
        elif kind == "int":
            values[name] = trial.suggest_int(name, *domain)
        else:
            values[name] = trial.suggest_float(name, *domain)
    return values


def _pareto(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Non-dominated rows (higher p_success, lower cost), duplicates of the same plan dropped."""
    front = []
    for r in rows:
        dominated = any((o["p_search"] >= r["p_search"] and o["cost"] <= r["cost"])
                        and (o["p_search"] > r["p_search"] or o["cost"] < r["cost"]) for o in rows)
        if not dominated:
            front.append(r)
    unique: dict[str, dict[str, Any]] = {}
    for r in sorted(front, key=lambda r: (r["cost"], -r["p_search"], r["trial"])):
        unique.setdefault(json.dumps(r["values"], sort_keys=True, default=str), r)
    return list(unique.values())


def advise(scenario: Any, *, out_dir: str | Path, levers: Sequence[str] | None = None, budget: float | None = None,
           target: float = 0.5, trials: int = 32, replicates: int = 8, confirm: int = 100,
           calibrated: bool | str | Path = False, seed: int = 0, scheduler: str | None = None,
           workers: int | None = None, source: str = "scenario",
           progress: Callable[[str], None] | None = None) -> Advice:
    """Search the allowed levers for plans that maximise P(success) and minimise cost.

    Writes ``out_dir/plans.csv``, ``plans/<plan>.toml``, ``report.html``, ``advice.json`` and
    Optuna's journal (``study.journal``, which makes a rerun of the same request resume).
    Raises :class:`~sim.errors.UserInputError` for an impossible request (no lever, a negative
    budget, a target outside (0, 1), a folder holding another request).
    """
    import optuna

    from ..experiments.cluster import DaskExecutor, SerialExecutor
    from ..experiments.runner import sweep_lock
    from ..runner import check_seed

    say = progress or (lambda message: None)
    chosen = check_levers(ADVISABLE if levers is None else levers)
    _check_number(budget, "--budget", low=0.0, allow_none=True, what="a cost >= 0 in employee-weeks")
    _check_number(target, "--target", low=0.0, high=1.0, open_ends=True, what="a probability between 0 and 1")
    for name, value, low in (("--trials", trials, 1), ("--replicates", replicates, 1), ("--confirm", confirm, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise UserInputError(f"{value!r}; allowed: an integer >= {low}", source=name)
    check_seed(seed)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserInputError("not a folder; allowed: a folder for the advisor's plans (created if missing)",
                             source=str(out), key="--out-dir")
    posterior = None
    if calibrated is not False:
        from ..calibration.posterior import load

        posterior = load(None if calibrated is True else calibrated)

    base = scenario
    settings = {"scenario_hash": base.scenario_hash(), "levers": list(chosen), "budget": budget, "target": target,
                "replicates": int(replicates), "confirm": int(confirm), "seed": int(seed),
                "posterior": None if posterior is None else posterior.id, "batch": BATCH}
    fingerprint = _fingerprint(settings)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with sweep_lock(out, "advise"):
        _check_settings(out, settings, fingerprint)
        search_seeds, confirm_seeds, verify_seeds = stage_seeds(int(seed), int(replicates), int(confirm))
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        # The folder lock (sweep_lock) is held: no other advisor can be writing this journal, so
        # a journal lock left by a killed search is stale (Optuna would wait for it, then warn).
        for stale in out.glob("study.journal.lock*"):
            stale.unlink(missing_ok=True) if not stale.is_dir() else shutil.rmtree(stale, ignore_errors=True)
        _drop_torn_record(out / "study.journal")
        storage = optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(out / "study.journal")))
        current = current_values(base, chosen)

        def sampler(batch: int) -> Any:
            # with a budget, each trial carries its constraint (cost - budget, feasible <= 0): see _search
            return optuna.samplers.NSGAIISampler(seed=int(seed) + batch, population_size=max(BATCH, 8))

        if any(summary.study_name == "advise" for summary in storage.get_all_studies()):
            # loaded, not created again: create_study(load_if_exists=True) logs a creation on every rerun
            study = optuna.load_study(study_name="advise", storage=storage, sampler=sampler(0))
        else:
            study = optuna.create_study(study_name="advise", storage=storage, sampler=sampler(0),
                                        directions=["maximize", "minimize"])
        if not study.trials:
            study.enqueue_trial(current)  # trial 0 is the user's current plan
        executor = SerialExecutor() if workers == 0 else DaskExecutor(scheduler=scheduler, workers=workers)
        with executor:
            _search(study, sampler, executor, base, chosen, budget, int(trials), search_seeds, posterior, say)
            rows = _completed(study, chosen)
            feasible = [r for r in rows if budget is None or r["cost"] <= budget + 1e-9]
            front = _pareto(feasible)[:MAX_PLANS]
            current_row = next(r for r in rows if r["trial"] == 0)
            say(f"advise: re-estimating {len(front)} plan(s) and the current one on {confirm} fresh seeds")
            candidates = [(0, apply_plan(base, current_row["values"]))]
            candidates += [(r["trial"], apply_plan(base, r["values"])) for r in front if r["trial"] != 0]
            confirmed = score_plans(executor, candidates, confirm_seeds, posterior, label="confirm")
            advice = _tabulate(base, chosen, front, current_row, confirmed, target, budget)
            picked = {p["trial"]: {k: p[k] for k in chosen} for p in (advice.best, advice.flip) if p is not None}
            if picked:
                say(f"advise: stating the best plan and the flip from {confirm} seeds neither the search nor the "
                    "ranking used")
                verified = score_plans(executor, [(t, apply_plan(base, v)) for t, v in picked.items()],
                                       verify_seeds, posterior, label="verify")
                _restate(advice, verified, target)
        advice.out_dir = out
        advice.meta = {**settings, "fingerprint": fingerprint, "source": source, "trials": len(rows),
                       "seconds_this_session": round(time.perf_counter() - started, 1),
                       "scenario": base.name, "organisation": _organisation_text(base)}
        from .report import write_outputs

        write_outputs(advice, base, chosen, posterior)
    return advice


def stage_seeds(seed: int, replicates: int, confirm: int) -> tuple[list[int], list[int], list[int]]:
    """The seeds of the three stages: the search's, the confirmation's and the verification's.

    Each stage's seeds come from its own stream of the user's seed (63-bit seeds from separate
    ``SeedSequence`` entropy), so runs of different stages share a seed only with a vanishing
    probability: the stated numbers are fresh for what they state.
    """
    from ..runner import replicate_seeds

    def stream(number: int, n: int) -> list[int]:
        root = np.random.SeedSequence([seed, number]).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)
        return replicate_seeds(int(root), n)

    return replicate_seeds(seed, replicates), stream(CONFIRM_STREAM, confirm), stream(VERIFY_STREAM, confirm)


def _check_number(value: Any, source: str, *, low: float, high: float | None = None, allow_none: bool = False,
                  open_ends: bool = False, what: str) -> None:
    if value is None and allow_none:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if open_ends else value >= low) and (high is None or (value < high if open_ends
                                                                             else value <= high))
    if not ok:
        raise UserInputError(f"{value!r}; allowed: {what}", source=source)


def _organisation_text(base: Any) -> str:
    """Which organisation the advice is for (a generated firm, an example, or an HR export's file name)."""
    if not base.organisation:
        return f"generated: {base.employees} employees in {base.departments} departments"
    name = Path(base.organisation).name
    real = base.real_ties()
    ties = f", ties {Path(real).name}" if real else ""
    return f"{name}: {base.employees} employees in {base.departments} departments{ties}"


def _drop_torn_record(journal: Path) -> None:
    """Cut a journal back to its last whole record.

    A kill or a full disk in the middle of Optuna's append leaves a line without its newline;
    Optuna skips it while it is last, but the next append would bury it and make the journal
    unreadable. Safe only under the folder lock (no other writer).
    """
    if not journal.is_file():
        return
    data = journal.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(journal, "r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)
            handle.flush()
            os.fsync(handle.fileno())


def _check_settings(out: Path, settings: Mapping[str, Any], fingerprint: str) -> None:
    from ..experiments.runner import stored_fingerprint

    path = out / "settings.json"
    if path.is_file():
        if stored_fingerprint(path) != fingerprint:
            raise UserInputError("this folder holds an advisor search with other settings (scenario, levers, "
                                 "budget, target, replicates, seed or posterior); allowed: the same request to "
                                 "resume it, or another --out-dir", source=str(out), key="--out-dir")
        return
    if (out / "study.journal").exists():
        raise UserInputError("this folder holds an advisor study without its settings.json; allowed: an empty "
                             "folder or one written by the same request", source=str(out), key="--out-dir")
    from ..report import write_text_atomic

    write_text_atomic(path, json.dumps({**settings, "fingerprint": fingerprint}, indent=1, sort_keys=True) + "\n")


def _search(study: Any, sampler: Callable[[int], Any], executor: Any, base: Any, levers: Sequence[str],
            budget: float | None, trials: int, seeds: Sequence[int], posterior: Any, say: Callable[[str], None]) -> None:
    import optuna

    State = optuna.trial.TrialState
    while True:
        trials_now = study.get_trials(deepcopy=False)
        done = [t for t in trials_now if t.state == State.COMPLETE]
        # a batch cut short by a kill: its trials have their parameters; evaluate them as they are
        pending = [t for t in trials_now if t.state == State.RUNNING]
        if not pending:
            if len(done) >= trials:
                return
            study.sampler = sampler(len(trials_now) // BATCH)
            asked = []
            for _ in range(min(BATCH, trials - len(done))):
                trial = study.ask()
                _suggest(trial, levers, base.weeks)
                asked.append(trial.number)
            pending = [t for t in study.get_trials(deepcopy=False) if t.number in asked]
        plans = []
        for t in pending:
            if set(t.params) != set(levers):  # killed while asking: no parameters to evaluate
                study.tell(t.number, state=State.FAIL)
                continue
            plans.append((t.number, apply_plan(base, dict(t.params))))
        scores = score_plans(executor, plans, seeds, posterior)
        for number, _ in plans:
            trial = next(t for t in pending if t.number == number)
            cost = plan_cost(base, dict(trial.params))
            live = optuna.trial.Trial(study, trial._trial_id)  # the constraint must be set before tell
            if budget is not None:
                live.set_constraint("budget", cost - budget)
            live.set_user_attr("active_share", scores[number]["active_share"])
            study.tell(number, (scores[number]["p_success"], cost))
        done = [t for t in study.get_trials(deepcopy=False, states=(State.COMPLETE,))]
        best = max(done, key=lambda t: (t.values[0], -t.values[1]))
        say(f"advise: {len(done)}/{trials} candidate plans scored; best P(success) so far {best.values[0]:.0%} "
            f"(search estimate) at cost {best.values[1]:.1f}")


def _completed(study: Any, levers: Sequence[str]) -> list[dict[str, Any]]:
    import optuna

    rows = []
    for t in study.trials:
        if t.state != optuna.trial.TrialState.COMPLETE:
            continue
        rows.append({"trial": t.number, "values": {name: t.params[name] for name in levers},
                     "p_search": float(t.values[0]), "cost": float(t.values[1]),
                     "active_search": float(t.user_attrs.get("active_share", math.nan))})
    return rows


def _tabulate(base: Any, levers: Sequence[str], front: list[dict[str, Any]], current_row: dict[str, Any],
              confirmed: Mapping[int, Mapping[str, float]], target: float, budget: float | None) -> Advice:
    def row(name: str, r: dict[str, Any]) -> dict[str, Any]:
        c = confirmed[r["trial"]]
        low, high = wilson_interval(int(c["successes"]), int(c["runs"]))
        changed = [k for k in levers if r["values"][k] != current_row["values"][k]]
        return {"plan": name, "p_success": c["p_success"], "p_success_low": low, "p_success_high": high,
                "cost": r["cost"], "p_success_search": r["p_search"], "median_active_share": c["active_share"],
                "runs": int(c["runs"]), "trial": r["trial"], "changes": len(changed),
                "changed_levers": ";".join(changed), **r["values"]}

    plans = [row(f"plan-{k + 1:02d}", r) for k, r in enumerate(r for r in front if r["trial"] != 0)]
    if any(r["trial"] == 0 for r in front):  # the current plan is itself on the front
        plans.insert(0, row("current", current_row))
    current = row("current", current_row)
    frame = pd.DataFrame(plans) if plans else pd.DataFrame(columns=list(current))
    verdict = current["p_success"] >= target
    others = [p for p in plans if p["plan"] != "current"]
    flips = [p for p in others if (p["p_success"] >= target) != verdict]
    flip = min(flips, key=lambda p: (p["changes"], p["cost"])) if flips else None
    best = max(others, key=lambda p: (p["p_success"], -p["cost"])) if others else None
    if best is not None and best["p_success"] <= current["p_success"]:
        best = None  # no plan beats the current one on the confirmation seeds: nothing to recommend
    # copies: when the best plan is also the flip, each is restated on its own (see _restate)
    return Advice(plans=frame, current=current, flip=None if flip is None else dict(flip), out_dir=Path("."),
                  best=None if best is None else dict(best))


def _restate(advice: Advice, verified: Mapping[int, Mapping[str, float]], target: float) -> None:
    """State the best plan and the flip from the verification runs; keep what they were chosen by.

    ``advice.best`` and ``advice.flip`` are separate dicts (:func:`_tabulate` copies them), so a plan
    that is both is restated twice from its own confirmation value, never from the other's update.
    """
    verdict = advice.current["p_success"] >= target
    for picked in (advice.best, advice.flip):
        if picked is None:
            continue
        c = verified[picked["trial"]]
        low, high = wilson_interval(int(c["successes"]), int(c["runs"]))
        picked.update(p_success_confirm=picked["p_success"], p_success=c["p_success"], p_success_low=low,
                      p_success_high=high, runs=int(c["runs"]), median_active_share=c["active_share"])
    if advice.flip is not None:
        advice.flip["flips_on_fresh_seeds"] = (advice.flip["p_success"] >= target) != verdict
