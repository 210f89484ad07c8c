"""The strategy advisor (issue 10, item 4-5): cost model, refusals, the search end to end, honest
probabilities on fresh seeds, reproducibility and resumption (Optuna journal storage)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.advisor import COSTS, advise, plan_cost
from sim.advisor.levers import ADVISABLE, LEADER_TIME, apply_plan, formal_leaders
from sim.advisor.report import NO_BETTER_PLAN
from sim.advisor.search import stage_seeds
from sim.cli import app
from tests.conftest import one_line_error
from sim.report import wilson_interval
from sim.scenario import load_scenario

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
#: A small organisation and horizon so a search costs seconds.
SMALL = dict(employees=150, departments=3, customers=300, weeks=40)
LEVERS = ("purpose_strength", "leader_participation", "posting_friction", "rollout")
REQUEST = dict(levers=LEVERS, trials=8, replicates=3, confirm=24, seed=5, workers=0, target=0.5)


def base():
    return load_scenario("provide_and_pray").with_levers(**SMALL)


# ------------------------------------------------------------------ the cost model
def test_moving_a_lever_the_cheap_way_costs_nothing_and_the_costly_way_scales_with_size():
    b = base()
    assert plan_cost(b, {"purpose_strength": 0.0, "posting_friction": 0.9, "rollout": "as_is"}) == 0.0
    up = plan_cost(b, {"purpose_strength": 0.5})
    assert up == pytest.approx(COSTS["purpose_strength"].unit * 0.5 * b.employees / 100)
    bigger = b.with_levers(employees=300)
    assert plan_cost(bigger, {"purpose_strength": 0.5}) == pytest.approx(2 * up)
    assert plan_cost(b, {"posting_friction": 0.0}) == pytest.approx(COSTS["posting_friction"].unit * 0.6 * 1.5)
    # leaders' time is priced by the scenario's own economics
    leaders = plan_cost(b, {LEADER_TIME: 0.5})
    assert leaders == pytest.approx(0.5 * b.leader_time_cost * formal_leaders(b) * b.weeks)
    assert plan_cost(b.with_levers(leader_time_cost=0.0), {LEADER_TIME: 0.5}) == 0.0
    assert set(COSTS) | {LEADER_TIME} == set(ADVISABLE)


def test_a_plan_is_the_scenario_with_its_levers_and_rollout():
    b = base()
    stepwise = apply_plan(b, {"purpose_strength": 0.7, "rollout": "stepwise"})
    assert stepwise.purpose_strength == 0.7 and [w.share for w in stepwise.waves] == [0.25, 0.5, 0.75, 1.0]
    assert apply_plan(b, {"rollout": "as_is"}).to_dict() == b.to_dict()
    assert [w.departments for w in apply_plan(b, {"rollout": "big_bang"}).waves] == ["all"]


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize("args, needles", [
    (["--levers", ","], ("--levers", "no lever allowed")),
    (["--levers", "purpose_strength,happiness"], ("--levers", "'happiness' is not a lever")),
    (["--levers", "threshold_mean"], ("'threshold_mean' is not a lever",)),
    (["--budget", "-1"], ("--budget", "a cost >= 0")),
    (["--target", "1.5"], ("--target", "between 0 and 1")),
    (["--trials", "0"], ("--trials", "an integer >= 1")),
])
def test_impossible_requests_are_refused_with_one_line(tmp_path, args, needles):
    out = tmp_path / "advice"
    result = runner.invoke(app, ["advise", "provide_and_pray", "--out-dir", str(out), "--workers", "0", *args])
    one_line_error(result, *needles)
    assert not out.exists()  # nothing written


def test_a_folder_with_another_request_is_refused(tmp_path):
    out = tmp_path / "advice"
    advise(base(), out_dir=out, **{**REQUEST, "trials": 2, "confirm": 4})
    result = runner.invoke(app, ["advise", "provide_and_pray", "--out-dir", str(out), "--workers", "0",
                                 "--levers", "purpose_strength", "--weeks", "40", "--set", "employees=150"])
    one_line_error(result, str(out), "other settings")


# ------------------------------------------------------------------ the search
@pytest.fixture(scope="module")
def advice(tmp_path_factory):
    out = tmp_path_factory.mktemp("advise") / "out"
    return advise(base(), out_dir=out, **REQUEST), out


def test_advise_writes_pareto_plans_with_fresh_seed_intervals(advice):
    result, out = advice
    plans = pd.read_csv(out / "plans.csv")
    assert list(plans.columns[:5]) == ["plan", "p_success", "p_success_low", "p_success_high", "cost"]
    assert set(LEVERS) <= set(plans.columns) and len(plans) >= 1
    for p in plans.itertuples():
        assert p.p_success_low <= p.p_success <= p.p_success_high and p.runs == REQUEST["confirm"]
        k = round(p.p_success * p.runs)
        assert (p.p_success_low, p.p_success_high) == pytest.approx(wilson_interval(k, p.runs))
        scenario = load_scenario(out / "plans" / f"{p.plan}.toml")  # each plan is a scenario file
        assert scenario.purpose_strength == pytest.approx(p.purpose_strength)
        assert scenario.employees == SMALL["employees"]
        assert plan_cost(base(), {k: getattr(p, k) for k in LEVERS}) == pytest.approx(p.cost)
    # the front, by the search's own estimates: no plan is cheaper and at least as good as another
    for a in plans.itertuples():
        for b in plans.itertuples():
            assert not (b.cost < a.cost and b.p_success_search >= a.p_success_search)
    page = (out / "report.html").read_text()
    assert "Pareto front" in page and ("Smallest change" in page or "No plan found" in page)
    assert "<script src" not in page and "cdn.plot.ly" not in page and "plotly.js v" in page  # self-contained
    assert result.current["plan"] == "current" and result.current["cost"] == 0.0


def test_a_best_plan_is_named_only_when_it_beats_the_current_one(advice):
    """The advisor recommends a best plan only if one beats the current plan on the confirmation
    seeds; otherwise it says so (the small request here finds none: every plan, the current one
    included, at the same P(success) on its fresh seeds). Whether a named best plan's interval
    covers its P(success) is the AUCS test's job (below)."""
    result, out = advice
    plans = pd.read_csv(out / "plans.csv")
    others = plans[plans["plan"] != "current"]
    better = others[others["p_success"] > result.current["p_success"]]
    assert (result.best is None) == better.empty
    page = (out / "report.html").read_text()
    if result.best is None:
        assert NO_BETTER_PLAN in page and json.loads((out / "advice.json").read_text())["best"] is None
    else:
        assert result.best["plan"] == better.sort_values(["p_success", "cost"], ascending=[False, True])["plan"].iloc[0]
        assert f"Best plan found: {result.best['plan']}" in page


def test_the_best_plan_and_the_flip_are_stated_from_seeds_no_earlier_stage_saw(tmp_path, monkeypatch):
    """The best plan and the flip are picked by their confirmation estimates, so what the advisor
    states for them is recounted on a third set of seeds: exactly those seeds, for exactly those
    two plans, and the stated numbers are those seeds' runs (AUCS, calibrated: plans that succeed
    sometimes, and a target between the current plan and the best, so there is a flip)."""
    import sim.advisor.search as search

    calls = []
    original = search.score_plans

    def spy(executor, plans, seeds, posterior, label="plan"):
        calls.append((label, [key for key, _ in plans], list(seeds)))
        return original(executor, plans, seeds, posterior, label=label)

    monkeypatch.setattr(search, "score_plans", spy)
    current = load_scenario("provide_and_pray", organisation="aucs", customers=600)
    out = tmp_path / "aucs"
    result = advise(current, out_dir=out, levers=("purpose_strength", "leader_participation", "posting_friction",
                                                  "open_by_default", "rollout"),
                    trials=32, replicates=8, confirm=60, calibrated=True, seed=2026, workers=0, target=0.1)
    search_seeds, confirm, verify = stage_seeds(2026, 8, 60)
    assert not (set(search_seeds) & set(confirm)) and not (set(search_seeds) | set(confirm)) & set(verify)
    best, flip = result.best, result.flip
    assert best is not None and flip is not None, (best, flip)
    verifying = [c for c in calls if c[0] == "verify"]
    assert len(verifying) == 1 and verifying[0][2] == verify
    assert sorted(verifying[0][1]) == sorted({best["trial"], flip["trial"]})
    assert [c[2] for c in calls if c[0] == "confirm"] == [confirm]
    plans = pd.read_csv(out / "plans.csv").set_index("plan")
    ranked = plans.drop(index="current", errors="ignore").sort_values(["p_success", "cost"], ascending=[False, True])
    assert best["plan"] == ranked.index[0] and best["p_success_confirm"] == ranked["p_success"].iloc[0]
    scenario = load_scenario(out / "plans" / f"{best['plan']}.toml")
    successes = sum(bool(sim.run(scenario, seed=s, calibrated=True).summary["success"]) for s in verify)
    assert 0 < successes < len(verify)  # a plan that sometimes succeeds: the count says something
    assert best["runs"] == len(verify) and best["p_success"] == successes / len(verify)
    assert (best["p_success_low"], best["p_success_high"]) == pytest.approx(wilson_interval(successes, len(verify)))
    assert flip["p_success_confirm"] == plans.loc[flip["plan"], "p_success"] and flip["runs"] == len(verify)
    reached = result.current["p_success"] >= 0.1
    assert flip["flips_on_fresh_seeds"] == ((flip["p_success"] >= 0.1) != reached)
    assert "flips_on_fresh_seeds" not in best or best is flip
    stored = json.loads((out / "advice.json").read_text())
    assert stored["best"]["p_success"] == best["p_success"] and stored["flip"]["p_success"] == flip["p_success"]
    assert f"Best plan found: {best['plan']}, P(success)" in (out / "report.html").read_text()


def test_the_same_request_gives_the_same_plans_and_more_trials_resume(advice, tmp_path):
    _, out = advice
    first = tmp_path / "half"
    advise(base(), out_dir=first, **{**REQUEST, "trials": 4})
    again = advise(base(), out_dir=first, **REQUEST)  # resumes to 8 trials
    assert again.meta["trials"] == REQUEST["trials"]
    pd.testing.assert_frame_equal(pd.read_csv(first / "plans.csv"), pd.read_csv(out / "plans.csv"))


def test_a_budget_keeps_every_plan_within_it(tmp_path):
    result = advise(base(), out_dir=tmp_path / "b", **{**REQUEST, "budget": 2.0, "confirm": 8})
    assert (result.plans["cost"] <= 2.0 + 1e-9).all()


def test_a_search_killed_mid_run_resumes_to_the_same_plans(advice, tmp_path):
    """SIGKILL while candidates are being scored, then the same command: the journal keeps the scored
    trials, the batch cut short is re-evaluated with its parameters, and the plans equal an uninterrupted search's."""
    _, out = advice
    killed = tmp_path / "killed"
    code = ("import sim; from sim.advisor import advise; from sim.scenario import load_scenario\n"
            f"b = load_scenario('provide_and_pray').with_levers(**{SMALL!r})\n"
            f"advise(b, out_dir={str(killed)!r}, **{REQUEST!r})\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", code], env=env)
    journal = killed / "study.journal"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        lines = journal.read_text().splitlines() if journal.is_file() else []
        told = sum('"op_code":6' in line and '"state":1' in line for line in lines)
        asked = sum('"op_code":4' in line for line in lines)
        if told >= 4 and asked >= 8:  # the first batch scored, the second asked: kill while it is scored
            break
        time.sleep(0.2)
    assert process.poll() is None, "the search finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / "plans.csv").exists()
    advise(base(), out_dir=killed, **REQUEST)
    pd.testing.assert_frame_equal(pd.read_csv(killed / "plans.csv"), pd.read_csv(out / "plans.csv"))


def test_a_journal_record_torn_by_a_kill_is_dropped_and_the_search_resumes(advice, tmp_path):
    """A kill or a full disk mid-append leaves a line without its newline; the rerun cuts it and
    finishes with the uninterrupted search's plans (Optuna alone would bury it under the next append)."""
    _, out = advice
    torn = tmp_path / "torn"
    torn.mkdir()
    lines = (out / "study.journal").read_bytes().splitlines(keepends=True)
    kept = lines[: len(lines) // 2]
    (torn / "study.journal").write_bytes(b"".join(kept) + lines[len(kept)][: len(lines[len(kept)]) // 2])
    (torn / "settings.json").write_bytes((out / "settings.json").read_bytes())  # as a killed search leaves it
    advise(base(), out_dir=torn, **REQUEST)
    assert (torn / "study.journal").read_bytes().startswith(b"".join(kept))
    pd.testing.assert_frame_equal(pd.read_csv(torn / "plans.csv"), pd.read_csv(out / "plans.csv"))


def test_the_advise_command_prints_the_plans_and_the_verdict(tmp_path):
    out = tmp_path / "cli"
    result = runner.invoke(app, ["advise", "provide_and_pray", "--out-dir", str(out), "--workers", "0",
                                 "--levers", "purpose_strength,posting_friction", "--trials", "4", "--replicates", "2",
                                 "--confirm", "6", "--weeks", "30", "--set", "employees=150", "--set", "departments=3",
                                 "--set", "customers=300"])
    assert result.exit_code == 0, result.output
    assert "your scenario: P(success)" in result.stdout and "candidate plans scored" in result.stderr
    assert (out / "plans.csv").is_file() and (out / "report.html").is_file()


def test_advise_on_the_real_department_under_the_posterior_is_honest_on_fresh_seeds(tmp_path):
    """The acceptance check of issue 10 at test size: the AUCS department (61 real people, real
    ties), calibrated; over independent requests, the interval stated for the top plan covers
    that plan's P(success), measured on 1,000 seeds no stage of the advisor used."""
    # The acceptance run's search (experiments/advisor_acceptance.py: its levers with the rollout, its
    # horizon, trials and replicates) with 60 confirmation seeds, at ten seeds. Smaller searches (8
    # or 16 trials, four levers, 60 weeks) found no plan better than provide-and-pray itself under
    # the third and fourth posteriors, and the check then said nothing.
    # Why ten requests and 1,000 fresh runs: one request against 100 fresh runs compares two noisy
    # estimates, and an honest 95% interval from 60 runs misses a 100-run rate about one time in
    # eight; a single request, however honest, fails one time in twenty. Honest 60-run Wilson
    # intervals miss a 1,000-run rate about 6% of the time, so 3 or more misses in 10 requests has
    # probability about 0.02 (fewer requests checked, less). Some requests find no plan but the
    # current one. This is a check of the stated intervals as a whole; that the stated numbers
    # come from the verification seeds is the spy test's (above): on this department the fronts
    # hold one to three plans, and the confirmation intervals pass this check as well.
    current = load_scenario("provide_and_pray", organisation="aucs", customers=600)
    checked, covered, informative = 0, 0, 0
    for k in range(10):
        out = tmp_path / f"aucs-{k}"
        result = advise(current, out_dir=out, levers=("purpose_strength", "leader_participation", "posting_friction",
                                                      "open_by_default", "rollout"),
                        trials=32, replicates=8, confirm=60, calibrated=True, seed=2026 + k, workers=0)
        assert result.meta["posterior"] is not None
        top = result.best  # picked by its confirmation estimate, stated from verification seeds
        if top is None:  # the search found nothing but the current plan: nothing stated to check
            continue
        assert top["plan"] != "current" and top["runs"] == 60
        plan = load_scenario(out / "plans" / f"{top['plan']}.toml")
        assert plan.organisation == "aucs" and plan.real_ties() == "aucs" and plan.employees == 61
        runs = [sim.run(plan, seed=s, calibrated=True).summary["success"]
                for s in sim.replicate_seeds(424_242 + k, 1000)]
        rate = sum(bool(r) for r in runs) / len(runs)
        checked += 1
        covered += top["p_success_low"] <= rate <= top["p_success_high"]
        # a plan that does something (current provide-and-pray: about 1%), so covering it says something
        informative += rate >= 0.05 and top["p_success_low"] > 0
    assert informative >= 6, (informative, checked)  # most requests find a plan that does something
    assert checked - covered <= 2, (covered, checked)
    assert "organisation aucs: 61 employees in 9 departments, ties aucs" in (out / "report.html").read_text()
