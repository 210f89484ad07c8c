"""Calibration (issue 9): targets as data, the survey population, ABC-SMC on a real Dask cluster
(reproducible across worker counts, resumable after a kill), posteriors and calibrated answers."""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import sim
from sim.behaviour import BehaviourParameters
from sim.calibration import checks
from sim.calibration.fit import FITTED, calibrate, load_priors
from sim.calibration.population import STRATEGY_MIX, survey_population
from sim.calibration.posterior import load, load_posterior
from sim.calibration.targets import STATISTICS, TARGETS_FILE, distance, load_targets
from sim.cli import app
from tests.conftest import one_line_error
from sim.errors import UserInputError
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
#: A CI-sized calibration: a few parameters, tiny surveys, few particles.
CI_FITTED = ("threshold_mean", "contribution_rate", "propensity_spread")


# ------------------------------------------------------------------ targets
def test_the_published_record_maps_every_brief_figure_and_holds_two_out():
    targets = load_targets()
    names = {t.name for t in targets}
    for figure in ("gartner_provide_and_pray", "dachis_active_band", "swoop_only_read", "swoop_access",
                   "vanmierlo_top1", "bughin_used", "mckinsey_productivity", "wang_bottom_up"):
        assert figure in names
    held_out = [t for t in targets if t.role == "holdout"]
    assert len(held_out) >= 2
    for t in targets:
        assert t.source and t.sample and 1990 <= t.year <= 2100
        assert t.output in STATISTICS
    dachis = next(t for t in targets if t.name == "dachis_active_band")
    assert (dachis.k, dachis.n) == (32, 56)  # 57% of 56 firms


def test_distance_weighs_each_figure_by_its_own_uncertainty():
    targets = load_targets()
    dachis = next(t for t in targets if t.name == "dachis_active_band")
    swoop = next(t for t in targets if t.name == "swoop_only_read")
    assert dachis.z(dachis.centre, 32) == 0.0
    # a survey of 56 firms: 10 points off is under 2 standard errors; a narrow band is held tighter
    assert abs(dachis.z(dachis.centre + 0.1, 32)) < 1.5
    assert swoop.z(0.575, 32) == 0.0 and swoop.z(0.45, 32) > 3
    perfect = {t.output: t.centre for t in targets} | {"organisations": 32, "provide_and_pray_organisations": 20}
    assert distance(perfect, targets) == 0.0
    worse = dict(perfect, only_read_share=0.3)
    assert distance(worse, targets) > distance(dict(perfect, only_read_share=0.5), targets) > 0
    assert math.isinf(distance(dict(perfect, top1_share=float("nan")), targets))


GOOD = """[targets.a]
figure = "f"
source = "s"
year = 2012
sample = "56 firms"
output = "share_active_10_to_20"
measure = "binomial"
k = 32
n = 56
role = "fit"
"""


@pytest.mark.parametrize("change, needles", [
    (("output = \"share_active_10_to_20\"", "output = \"happiness\""), ("targets.a.output", "happiness", "allowed")),
    (("k = 32", "k = 60"), ("targets.a", "60 of 56 firms is impossible")),
    (("source = \"s\"\n", ""), ("targets.a", "missing 'source'")),
    (("measure = \"binomial\"\nk = 32\nn = 56", "measure = \"band\"\nlow = 0.6\nhigh = 0.2"),
     ("targets.a", "band [0.6, 0.2] is impossible")),
    (("role = \"fit\"", "role = \"maybe\""), ("targets.a.role", "fit, holdout")),
    (("year = 2012", "year = \"2012\""), ("targets.a.year", "not a number")),
    (("[targets.a]", "[targets.a"), ("not valid TOML",)),
])
def test_bad_targets_files_get_one_line_and_exit_2(tmp_path, change, needles):
    path = tmp_path / "targets.toml"
    path.write_text(GOOD.replace(*change))
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(tmp_path / "out")])
    one_line_error(result, str(path), *needles)
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_folder_or_a_missing_file_is_not_a_targets_file(tmp_path):
    one_line_error(runner.invoke(app, ["calibrate", str(tmp_path)]), "not a regular file")
    one_line_error(runner.invoke(app, ["calibrate", str(tmp_path / "none.toml")]), "no such file")
    only_holdout = tmp_path / "t.toml"
    only_holdout.write_text(GOOD.replace('role = "fit"', 'role = "holdout"'))
    with pytest.raises(UserInputError, match="no target has role"):
        load_targets(only_holdout)


# ------------------------------------------------------------------ the survey population
def test_survey_population_is_reproducible_and_keeps_the_presets_lever_bundles():
    first = survey_population(60, seed=3)
    assert [s.to_dict() for s in first] == [s.to_dict() for s in survey_population(60, seed=3)]
    assert [s.to_dict() for s in first] != [s.to_dict() for s in survey_population(60, seed=4)]
    organisation = {"description", "employees", "departments", "customers", "weeks", "workforce_effort",
                    "initial_safety", "waves"}
    for scenario in first:
        assert scenario.name in STRATEGY_MIX
        preset = load_scenario(scenario.name).to_dict()
        mine = scenario.to_dict()
        changed = {k for k in preset if preset[k] != mine[k]}
        assert changed <= organisation, changed  # strategies are the presets' levers, unchanged
        assert 52 <= scenario.weeks <= 156 and 300 <= scenario.employees <= 1000
    names = pd.Series([s.name for s in survey_population(400, seed=1)])
    assert abs((names == "provide_and_pray").mean() - STRATEGY_MIX["provide_and_pray"]) < 0.08


def test_the_fitted_spread_of_workforce_effort_sets_how_different_the_surveyed_firms_are():
    """firm_effort_spread is the survey population's own parameter: 0 makes every firm typical;
    a wider spread, more firms far from typical (clipped to the key's documented range); out of
    its prior range it is refused."""
    from sim.calibration.population import POPULATION_PARAMETERS, WORKFORCE_EFFORT_RANGE

    def efforts(spread):
        return np.array([s.workforce_effort for s in survey_population(300, seed=2, firm_effort_spread=spread)])

    assert np.allclose(efforts(0.0), 1.0)
    narrow, wide = efforts(0.1), efforts(0.6)
    assert np.std(np.log(wide)) > 3 * np.std(np.log(narrow))
    assert WORKFORCE_EFFORT_RANGE[0] <= wide.min() and wide.max() <= WORKFORCE_EFFORT_RANGE[1]
    # the spread moves no other draw: names, sizes and horizons stay those of the same seed
    keys = lambda pop: [(s.name, s.employees, s.weeks, s.initial_safety) for s in pop]  # noqa: E731
    assert keys(survey_population(50, 2, 0.1)) == keys(survey_population(50, 2, 0.6))
    low, high, _ = POPULATION_PARAMETERS["firm_effort_spread"]
    for bad in (low - 0.1, high + 0.1, math.nan):
        with pytest.raises(ValueError, match="firm_effort_spread"):
            survey_population(3, 1, bad)
    assert load_priors(("firm_effort_spread",)) == {"firm_effort_spread": (low, high, False)}


def test_heavier_tails_put_a_few_firms_far_from_the_rest_and_move_nothing_else():
    """firm_effort_tail makes the log of workforce effort a Student t (1 / tail degrees of
    freedom, scaled to the normal's quartiles): at 0 the survey is the log-normal one bit for bit
    (against efforts stored before the tail existed); heavier tails put more firms at the ends of
    the key's range while the middle half stays as wide; other draws and every other key stay
    those of the same seed; out of its range it is refused."""
    from sim.calibration.population import POPULATION_PARAMETERS, WORKFORCE_EFFORT_RANGE

    def survey(tail, n=2000):
        return survey_population(n, seed=7, firm_effort_spread=0.3, firm_effort_tail=tail)

    base = survey(0.0)
    assert [s.to_dict() for s in base] == [s.to_dict() for s in survey_population(2000, seed=7, firm_effort_spread=0.3)]
    # the efforts the survey population drew before the tail existed (commit 74a4126), as a hash
    before = [s.workforce_effort for s in survey_population(60, seed=7, firm_effort_spread=0.3)]
    assert hashlib.sha256(json.dumps(before).encode()).hexdigest()[:16] == "c4b0bf82cf8a1048"
    logs = {tail: np.log([s.workforce_effort for s in survey(tail)]) for tail in (0.0, 0.5, 1.0)}
    at_ends = {tail: np.mean(np.isclose(np.exp(v), WORKFORCE_EFFORT_RANGE[0])
                             | np.isclose(np.exp(v), WORKFORCE_EFFORT_RANGE[1])) for tail, v in logs.items()}
    assert at_ends[0.0] < 0.01 and at_ends[0.0] < at_ends[0.5] < at_ends[1.0]
    middle = {tail: np.subtract(*np.percentile(v, [75, 25])) for tail, v in logs.items()}
    # the t draws share the normal's quartiles: the tails move, not the middle half
    assert middle[0.5] == pytest.approx(middle[0.0], rel=0.1) and middle[1.0] == pytest.approx(middle[0.0], rel=0.1)
    heavy = survey(1.0)
    others = lambda pop: [{k: v for k, v in s.to_dict().items() if k != "workforce_effort"} for s in pop]  # noqa: E731
    assert others(heavy) == others(base)
    low, high, _ = POPULATION_PARAMETERS["firm_effort_tail"]
    for bad in (low - 0.1, high + 0.1, math.nan):
        with pytest.raises(ValueError, match="firm_effort_tail"):
            survey_population(3, 1, firm_effort_tail=bad)


@settings(max_examples=60, deadline=None)
@given(spread=st.floats(0.0, 0.6), tail=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1))
def test_every_survey_population_parameter_over_its_range_gives_valid_organisations(spread, tail, seed):
    """Property: over the documented ranges of the survey population's own parameters, every
    organisation's workforce effort is finite and inside the key's documented range."""
    from sim.calibration.population import WORKFORCE_EFFORT_RANGE

    efforts = [s.workforce_effort for s in survey_population(12, seed, firm_effort_spread=spread,
                                                             firm_effort_tail=tail)]
    assert all(math.isfinite(e) and WORKFORCE_EFFORT_RANGE[0] <= e <= WORKFORCE_EFFORT_RANGE[1] for e in efforts)


def test_a_posterior_carries_the_population_spread_but_a_run_does_not_draw_it(posterior_file):
    frame = pd.read_csv(posterior_file)
    frame["firm_effort_spread"] = np.linspace(0.1, 0.5, len(frame))
    frame.to_csv(posterior_file, index=False)
    posterior = load(posterior_file)
    assert "firm_effort_spread" in posterior.parameters and "firm_effort_spread" not in posterior.behavioural
    index, values = posterior.draw(3)
    assert "firm_effort_spread" not in values and set(values) == {*CI_FITTED, "hierarchy_influence"}
    assert posterior.population_values(index) == {"firm_effort_spread": float(frame["firm_effort_spread"][index])}
    small = dict(employees=200, departments=2, customers=300, weeks=6)
    run = sim.run("provide_and_pray", seed=3, calibrated=posterior_file, **small)
    assert run.posterior["id"] == posterior.id and math.isfinite(run.summary["active_share"])
    frame.assign(firm_effort_spread=5.0).to_csv(posterior_file, index=False)
    with pytest.raises(UserInputError, match="'firm_effort_spread' has values outside"):
        load(posterior_file)


# ------------------------------------------------------------------ ABC-SMC
def _ci_calibration(out: Path, *, workers: int, generations: int = 2, seed: int = 11):
    """A CI-sized calibration against synthetic targets made with the defaults as the truth."""
    truth = {name: BehaviourParameters.model_fields[name].default for name in CI_FITTED}
    return checks.parameter_recovery(truth, "middle_out", load_targets(), out=out, population_size=8,
                                     generations=generations, organisations=3, seed=seed, workers=workers)


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "two-workers"
    presets = {p.name: p.read_bytes() for p in (ROOT / "scenarios").glob("*.toml")}
    started = time.perf_counter()
    table, posterior, synthetic = _ci_calibration(out, workers=2)
    seconds = time.perf_counter() - started
    assert {p.name: p.read_bytes() for p in (ROOT / "scenarios").glob("*.toml")} == presets  # never touched
    return out, table, posterior, synthetic, seconds


def test_ci_sized_calibration_writes_a_posterior_and_recovery_table(ci_run):
    out, table, posterior, synthetic, seconds = ci_run
    assert seconds < 120
    frame = load_posterior(out / "posterior.csv")
    assert list(frame.columns) == [*CI_FITTED, "hierarchy_influence", "weight"]
    assert len(frame) == 8 and math.isclose(frame["weight"].sum(), 1.0) and (frame["weight"] >= 0).all()
    assert set(frame["hierarchy_influence"]) == {"middle_out"}
    meta = json.loads((out / "posterior.json").read_text())
    assert meta["generations"] == 2 and meta["epsilon"][0] == math.inf and math.isfinite(meta["epsilon"][1])
    assert meta["id"] == posterior.id and meta["fitted"] == list(CI_FITTED)
    priors = load_priors(CI_FITTED)
    for name in CI_FITTED:
        low, high, _ = priors[name]
        assert frame[name].between(low, high).all()
    assert set(table["parameter"]) == set(CI_FITTED) and table["covered"].dtype == bool
    assert all(t.figure.startswith("synthetic") for t in synthetic)


def test_calibration_is_the_same_on_one_worker_as_on_two(ci_run, tmp_path):
    out = ci_run[0]
    _ci_calibration(tmp_path / "one-worker", workers=1)
    assert (tmp_path / "one-worker" / "posterior.csv").read_bytes() == (out / "posterior.csv").read_bytes()


def test_a_calibration_resumed_after_a_kill_equals_one_never_interrupted(ci_run, tmp_path):
    """Kill -9 a calibration once its first generation is stored; the rerun continues to the same posterior."""
    script = tmp_path / "run.py"
    script.write_text(
        "import sys, time\n"
        "from sim.calibration import checks\n"
        "from sim.calibration.targets import load_targets\n"
        "from sim.behaviour import BehaviourParameters\n"
        "import sim.calibration.fit as fit\n"
        "if __name__ == '__main__':\n"
        "    if sys.argv[2] == 'slow':  # slow every batch so the kill lands inside the second generation\n"
        "        evaluate = fit._evaluate\n"
        "        def slow_evaluate(*args):\n"
        "            time.sleep(0.5)\n"
        "            return evaluate(*args)\n"
        "        fit._evaluate = slow_evaluate\n"
        f"    truth = {{n: BehaviourParameters.model_fields[n].default for n in {CI_FITTED!r}}}\n"
        "    checks.parameter_recovery(truth, 'middle_out', load_targets(), out=sys.argv[1], population_size=8,\n"
        "                              generations=2, organisations=3, seed=11, workers=1)\n")
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), str(out), "slow"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        import pyabc

        while time.time() < deadline:
            db = out / "calibration.db"
            if db.exists():
                try:
                    if pyabc.History(f"sqlite:///{db}").max_t >= 0:
                        break
                except Exception:  # noqa: BLE001 - the database is being created
                    pass
            time.sleep(0.5)
        else:
            pytest.fail("the first generation was never stored")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (out / "posterior.csv").exists()  # killed before the end
    subprocess.run([sys.executable, str(script), str(out), "fast"], env=env, check=True, timeout=300,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert (out / "posterior.csv").read_bytes() == (ci_run[0] / "posterior.csv").read_bytes()


def test_a_folder_with_another_calibration_is_refused(ci_run):
    with pytest.raises(UserInputError, match="other settings"):
        calibrate(targets=ci_run[3], population_size=9, generations=2, organisations=3, seed=11, out=ci_run[0],
                  hypotheses=("middle_out",), fitted=CI_FITTED)


# ------------------------------------------------------------------ posteriors
@pytest.fixture
def posterior_file(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for k in range(6):
        row = {n: BehaviourParameters.model_fields[n].default * (0.9 + 0.2 * rng.random()) for n in CI_FITTED}
        row["hierarchy_influence"] = ["top_down", "bottom_up", "middle_out"][k % 3]
        row["weight"] = 1 / 6
        rows.append(row)
    path = tmp_path / "posterior.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("edit, needle", [
    (lambda f: f.rename(columns={"threshold_mean": "happiness"}), "'happiness' is not a behavioural parameter"),
    (lambda f: f.assign(weight=f["weight"] * 2), "summing to 1"),
    (lambda f: f.assign(threshold_mean=-1.0), "outside the parameter's range"),
    (lambda f: f.assign(hierarchy_influence="sideways"), "'sideways' is not a hypothesis"),
    (lambda f: f.drop(columns="weight"), "no 'weight' column"),
])
def test_a_posterior_that_does_not_match_the_model_is_refused(posterior_file, edit, needle):
    edit(pd.read_csv(posterior_file)).to_csv(posterior_file, index=False)
    with pytest.raises(UserInputError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        load(posterior_file)
    result = runner.invoke(app, ["run", "provide_and_pray", "--weeks", "3", "--calibrated", "--posterior",
                                 str(posterior_file)])
    one_line_error(result, str(posterior_file), needle)


def test_calibrated_runs_draw_reproducibly_from_the_posterior(posterior_file):
    small = dict(employees=200, departments=2, customers=300, weeks=12)
    a = sim.run("provide_and_pray", seed=4, calibrated=posterior_file, **small)
    b = sim.run("provide_and_pray", seed=4, calibrated=posterior_file, **small)
    assert a.summary == b.summary and a.posterior == b.posterior
    posterior = load(posterior_file)
    assert a.posterior["id"] == posterior.id and a.provenance["posterior"] == posterior.id
    row = posterior.particles.iloc[a.posterior["particle"]]
    # the drawn behavioural values are what the run used: the same run uncalibrated with them set by hand
    by_hand = sim.run("provide_and_pray", seed=4, **small, hierarchy_influence=row["hierarchy_influence"],
                      **{n: float(row[n]) for n in CI_FITTED})
    assert by_hand.summary == a.summary
    plain = sim.run("provide_and_pray", seed=4, **small)
    assert plain.posterior is None and "posterior" not in plain.provenance
    runs = sim.run_replicates("provide_and_pray", 12, seed=1, calibrated=posterior_file, **small)
    assert len({r.posterior["particle"] for r in runs}) > 2  # parameter uncertainty enters the replicates
    # a lever given explicitly wins over the draw
    fixed = sim.run("provide_and_pray", seed=4, calibrated=posterior_file, threshold_mean=1.25, **small)
    assert fixed.posterior == a.posterior and fixed.summary != a.summary


def test_compare_says_which_posterior_and_how_many_draws(posterior_file, tmp_path):
    result = runner.invoke(app, ["compare", "provide_and_pray", "two_track", "--replicates", "3", "--weeks", "6",
                                 "--set", "employees=150", "--set", "departments=2", "--set", "customers=200",
                                 "--calibrated", "--posterior", str(posterior_file), "--out-dir", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    posterior = load(posterior_file)
    assert f"calibrated: posterior {posterior.id}" in result.stdout and "3 draws" in result.stdout
    page = (tmp_path / "r" / "report.html").read_text()
    assert f"posterior {posterior.id}: 3 draws" in page


def test_a_calibrated_sweep_draws_each_run_from_the_posterior(posterior_file, tmp_path):
    from sim.experiments.runner import plan_experiment, run_sweep
    from sim.experiments.spec import load_experiment

    text = ('name = "cal"\nbase = "provide_and_pray"\nreplicates = 4\nroot_seed = 3\n'
            "[set]\nemployees = 150\ndepartments = 2\ncustomers = 200\nweeks = 6\n"
            "[factors.posting_friction]\nvalues = [0.2, 0.6]\n")
    path = tmp_path / "cal.toml"
    path.write_text(text)
    plain = plan_experiment(load_experiment(path))
    calibrated = plan_experiment(load_experiment(path), posterior_file)
    assert "particle" not in plain.runs and calibrated.runs["particle"].between(0, 5).all()
    assert plain.spec_hash != calibrated.spec_hash
    # the same seed draws the same particle at every design point (common random numbers)
    assert calibrated.runs.groupby("seed")["particle"].nunique().max() == 1
    path.write_text(text.replace("root_seed = 3\n", f"root_seed = 3\ncalibrated = \"{posterior_file.name}\"\n"))
    in_file = plan_experiment(load_experiment(path))
    assert in_file.spec_hash != plain.spec_hash and list(in_file.runs["particle"]) == list(calibrated.runs["particle"])
    report = run_sweep(path, out=tmp_path / "out", workers=0)
    assert report.ok == 8
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["posterior"]["id"] == load(posterior_file).id
    rows = pd.read_parquet(tmp_path / "out" / "parts")
    expected = dict(zip(in_file.runs["run_id"], in_file.runs["scenario_hash"]))
    assert all(expected[r] == h for r, h in zip(rows["run_id"], rows["scenario_hash"]))


def test_a_hypothesis_with_few_particles_still_gets_finite_weights():
    """Fewer particles than parameters: pyABC's kernel is singular (density 0 off its subspace, an
    infinite importance weight); the regularised kernel gives every proposal a positive density."""
    from sim.calibration.fit import RegularisedTransition, transition_floor

    priors = load_priors(FITTED)
    rng = np.random.default_rng(1)
    # pyABC's parameters: a log-uniform one is fitted as log10_NAME
    ranges = {(f"log10_{n}" if log else n): ((np.log10(lo), np.log10(hi)) if log else (lo, hi))
              for n, (lo, hi, log) in priors.items()}
    X = pd.DataFrame({n: rng.uniform(lo, hi, size=5) for n, (lo, hi) in ranges.items()})
    w = np.full(5, 0.2)
    kernel = RegularisedTransition(transition_floor(priors))
    kernel.fit(X, w)
    np.random.seed(3)
    proposals = [kernel.rvs_single() for _ in range(20)]
    densities = [kernel.pdf(p) for p in proposals]
    assert all(d > 0 and math.isfinite(d) for d in densities)
    import pyabc

    singular = pyabc.MultivariateNormalTransition()
    singular.fit(X, w)
    off_subspace = X.iloc[0] + 0.01 * np.array([hi - lo for lo, hi in ranges.values()])
    assert singular.pdf(off_subspace) == 0.0 and kernel.pdf(off_subspace) > 0


def test_the_calibrate_command_runs_and_reports(tmp_path):
    """`socialsim calibrate` end to end on a tiny setting: progress on stderr, the posterior named on stdout."""
    out = tmp_path / "cal"
    result = runner.invoke(app, ["calibrate", str(TARGETS_FILE), "--population-size", "4", "--generations", "1",
                                 "--organisations", "2", "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "calibrate: generation 0 of 1" in result.stderr
    assert "generations: 1," in result.stdout and "hierarchy hypotheses (posterior probability)" in result.stdout
    assert "effective sample of the last generation: 4.0 of 4 particles" in result.stdout  # generation 0: even weights
    frame = load_posterior(out / "posterior.csv")
    assert list(frame.columns) == [*FITTED, "hierarchy_influence", "weight"] and len(frame) == 4
    low, high, log = load_priors(FITTED)["spontaneous_adoption"]
    assert log and frame["spontaneous_adoption"].between(low, high).all()  # fitted as log10, stored as itself
    one_line_error(runner.invoke(app, ["calibrate", str(TARGETS_FILE), "--scheduler", "nowhere"]),
                   "--scheduler", "not a scheduler address")


def test_a_simulated_survey_computes_every_statistic_a_target_can_name():
    from sim.calibration.fit import simulate_survey

    values = {n: BehaviourParameters.model_fields[n].default for n in CI_FITTED}
    stats = simulate_survey(values, "top_down", 3, seed=5)
    assert stats == simulate_survey(values, "top_down", 3, seed=5)
    survey = {name for name, (_, kind) in STATISTICS.items() if kind != "posterior"}
    assert survey <= set(stats)
    assert stats["organisations"] == 3
    for name in survey:
        assert math.isfinite(stats[name]) or (name == "provide_and_pray_success"
                                              and stats["provide_and_pray_organisations"] == 0)
        assert not 0.0 > stats[name] and not stats[name] > 1.0  # a share (NaN only as allowed above)


def test_a_posterior_on_few_effective_particles_is_flagged():
    """Under a tenth of the particles in effective sample size, the CLI warns and the summary says so."""
    from sim.calibration.fit import few_particles

    assert few_particles(29.4, 150) is None and few_particles(15.0, 150) is None
    warning = few_particles(2.1, 150)
    assert warning and "2.1 of 150" in warning and "--population-size" in warning
    assert few_particles(float("nan"), 150)  # no effective sample is not a healthy one


@pytest.mark.parametrize("vary, needle", [
    ("firm_effort_spread=0.9", "0.0 to 0.6"),          # the survey population's own parameter, out of its prior
    ("firm_effort_spread=wide", "0.0 to 0.6"),
    ("firm_effort_tail=2", "0.0 to 1.0"),               # the tails of that spread, out of their range
    ("posting_budget=0", "posting_budget"),             # a behavioural parameter below its documented range
    ("nonsense=1", "firm_effort_spread"),               # the refusal lists what can be varied
])
def test_the_structure_diagnosis_refuses_bad_values_in_one_line(vary, needle):
    """experiments/calibration_structure.py: a value it cannot vary gets one line and exit 2,
    before any simulation runs."""
    done = subprocess.run([sys.executable, str(ROOT / "experiments" / "calibration_structure.py"), "--vary", vary],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and vary in lines[0] and needle in lines[0], done.stderr
    assert done.stdout == ""
