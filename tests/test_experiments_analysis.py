"""Tests for the analysis of experiment results (sim.experiments.analysis, prim, analysis_report).

The results folders are synthetic: the on-disk contract (manifest.json, design.parquet,
parts/, series/) is written directly with pandas from known functions, so these tests do not
depend on the experiment runner.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import UserInputError
from sim.experiments import analysis
from sim.experiments.analysis import (analyze, discover, morris_indices, sobol_indices, sobol_second_order,
                                      summary_by_point)
from sim.experiments.prim import prim
from sim.experiments.store import load_manifest, load_results
from sim.outputs import SUMMARY_COLUMNS
from sim.report import wilson_interval
from tests.conftest import one_line_error

runner = CliRunner()


# ------------------------------------------------------------------ synthetic results folders
def write_folder(path: Path, *, design: pd.DataFrame, factors: dict, kind: str, problem: dict | None,
                 replicates: int, outcome, success=None, series: bool = False, failed: set[int] = frozenset(),
                 spec: dict | None = None, seed: int = 0) -> Path:
    """Write a results folder for ``design`` where active_share = outcome(point row, rng) per run.

    ``success(row, value)`` decides the verdict (default: active_share >= 0.3); run ids in
    ``failed`` are failed runs with NaN outcomes.
    """
    rng = np.random.default_rng(seed)
    # Filler values for the other summary columns come from their own stream, so the outcomes
    # drawn from ``rng`` do not change when the model gains a summary column.
    filler = np.random.default_rng(seed + 10_000)
    path.mkdir(parents=True)
    (path / "parts").mkdir()
    names = list(factors)
    runs, rows, series_rows = [], [], []
    run_id = 0
    for point in design.itertuples(index=False):
        point = point._asdict()
        for r in range(replicates):
            value = float(outcome(point, rng))
            ok = run_id not in failed
            row = {"run_id": run_id, "point_id": point["point_id"], "replicate": r, "seed": 1000 + run_id,
                   "scenario": point.get("scenario", "base"), "scenario_hash": f"h{point['point_id']}",
                   "version": "0.1.0", "status": "ok" if ok else "failed", "error": "" if ok else "boom",
                   **{n: point[n] for n in names}}
            summary = {k: float(filler.random()) for k in SUMMARY_COLUMNS}
            summary["active_share"] = value
            summary["net_value"] = 1000 * value - 200
            good = (success(point, value) if success else value >= 0.3)
            summary["success"] = int(good)
            verdict = "success" if good else ("fizzle" if value < 0.5 or run_id % 2 else "peak_then_collapse")
            if not ok:
                summary = {k: math.nan for k in summary}
                verdict = None
            rows.append({**row, **summary, "verdict": verdict})
            runs.append({"run_id": run_id, "point_id": point["point_id"], "replicate": r, "seed": 1000 + run_id,
                         "scenario_hash": row["scenario_hash"], "batch": 0})
            if series and ok:
                for week in range(11):
                    series_rows.append({"run_id": run_id, "point_id": point["point_id"], "replicate": r,
                                        "seed": 1000 + run_id, "week": week,
                                        "active_share": value * week / 10, "members": 10.0 * week * value,
                                        "net_value": (week - 5) * value})
            run_id += 1
    frame = pd.DataFrame(rows)
    half = len(frame) // 2
    frame.iloc[:half].to_parquet(path / "parts" / "part-00000.parquet", index=False)
    frame.iloc[half:].to_parquet(path / "parts" / "part-00001.parquet", index=False)
    design.to_parquet(path / "design.parquet", index=False)
    if series:
        (path / "series").mkdir()
        pd.DataFrame(series_rows).to_parquet(path / "series" / "part-00000.parquet", index=False)
    manifest = {"experiment": path.name, "spec": spec or {"name": path.name}, "spec_hash": "abc123",
                "design": kind, "factors": factors, "problem": problem, "root_seed": 7,
                "replicates": replicates, "weeks": 10, "outputs": "series" if series else "final",
                "version": "0.1.0", "n_points": len(design), "n_runs": run_id, "batch_size": 100,
                "runs": runs, "created": "2024-01-01T00:00:00"}
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


def factorial(path: Path, **kwargs) -> Path:
    """3 x 3 full factorial (a, b) with 4 replicates, active_share = 0.1 + 0.2 a + 0.05 b + noise."""
    a, b = np.meshgrid([0.0, 0.5, 1.0], [1, 2, 3], indexing="ij")
    design = pd.DataFrame({"point_id": np.arange(9), "a": a.ravel(), "b": b.ravel().astype(int)})
    factors = {"a": {"kind": "values", "values": [0.0, 0.5, 1.0], "integer": False},
               "b": {"kind": "values", "values": [1, 2, 3], "integer": True}}
    return write_folder(path, design=design, factors=factors, kind="full_factorial", problem=None,
                        replicates=4, outcome=lambda p, rng: 0.1 + 0.2 * p["a"] + 0.05 * p["b"]
                        + rng.normal(0, 0.02), **kwargs)


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def sobol_folder(path: Path, n: int = 1024, categories: tuple[str, ...] = (), series: bool = False) -> Path:
    from SALib.sample import sobol

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}
    X = sobol.sample(problem, n, calc_second_order=True, seed=1)
    base = pd.DataFrame(X, columns=problem["names"])
    frames = [base.assign(scenario=c) for c in categories] if categories else [base]
    design = pd.concat(frames, ignore_index=True)
    design.insert(0, "point_id", np.arange(len(design)))
    factors = {k: {"kind": "range", "low": -math.pi, "high": math.pi, "integer": False} for k in problem["names"]}
    if categories:
        factors["scenario"] = {"kind": "values", "values": list(categories), "integer": False}

    def outcome(p, rng):  # category "swapped" exchanges the roles of x1 and x2
        x = np.array([[p["x2"], p["x1"], p["x3"]] if p.get("scenario") == "swapped" else [p["x1"], p["x2"], p["x3"]]])
        return ishigami(x)[0]

    return write_folder(path, design=design, factors=factors, kind="sobol", problem=problem, replicates=1,
                        outcome=outcome, series=series)


def morris_folder(path: Path) -> Path:
    from SALib.sample import morris

    problem = {"num_vars": 4, "names": ["w", "x", "y", "z"], "bounds": [[0, 1], [0, 2], [0, 1], [0, 1]]}
    X = morris.sample(problem, 30, num_levels=4, seed=2)
    design = pd.DataFrame(X, columns=problem["names"])
    design.insert(0, "point_id", np.arange(len(design)))
    factors = {k: {"kind": "range", "low": lo, "high": hi, "integer": False}
               for k, (lo, hi) in zip(problem["names"], problem["bounds"])}
    # known linear function: per normalised range, w moves y by 1.0, x by 0.6 (0.3 x 2), y by 0.1, z by 0
    return write_folder(path, design=design, factors=factors, kind="morris", problem=problem, replicates=2,
                        outcome=lambda p, rng: 1.0 * p["w"] + 0.3 * p["x"] + 0.1 * p["y"] + rng.normal(0, 0.001),
                        spec={"design": {"kind": "morris", "levels": 4, "samples": 30}})


def lhs_folder(path: Path, n: int = 1500, planted: bool = True, series: bool = False) -> Path:
    from SALib.sample import latin

    problem = {"num_vars": 3, "names": ["p", "q", "r"], "bounds": [[0, 1]] * 3}
    design = pd.DataFrame(latin.sample(problem, n, seed=3), columns=problem["names"])
    design.insert(0, "point_id", np.arange(n))
    factors = {k: {"kind": "range", "low": 0, "high": 1, "integer": False} for k in problem["names"]}

    def inside(p):
        return 0.2 <= p["p"] <= 0.6 and p["q"] >= 0.5

    def outcome(p, rng):
        chance = (0.9 if inside(p) else 0.05) if planted else 0.3
        return 0.4 if rng.random() < chance else 0.1

    return write_folder(path, design=design, factors=factors, kind="latin_hypercube", problem=problem,
                        replicates=1, outcome=outcome, seed=4, series=series)


# ------------------------------------------------------------------ summary
def test_summary_by_point_matches_hand_computation(tmp_path):
    folder = factorial(tmp_path / "ff", failed={5})
    results = load_results(folder)
    table = summary_by_point(results, outcomes=["active_share"], factors=["a", "b"])
    assert len(table) == 9 and list(table["point_id"]) == list(range(9))
    for point in (0, 1, 4):  # point 1 holds the failed run 5
        ok = results[(results["point_id"] == point) & (results["status"] == "ok")]
        x = ok["active_share"].to_numpy()
        n = x.size
        half = stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n)
        row = table.set_index("point_id").loc[point]
        assert row["n_ok"] == n and row["n_failed"] == 4 - n
        assert row["active_share_mean"] == pytest.approx(x.mean())
        assert row["active_share_median"] == pytest.approx(np.median(x))
        assert row["active_share_ci_low"] == pytest.approx(x.mean() - half)
        assert row["active_share_ci_high"] == pytest.approx(x.mean() + half)
        k = int((ok["verdict"] == "success").sum())
        assert row["success_rate"] == pytest.approx(k / n)
        assert (row["success_low"], row["success_high"]) == pytest.approx(wilson_interval(k, n))
        assert row["n_success"] + row["n_fizzle"] + row["n_peak_then_collapse"] == n
    assert table.set_index("point_id").loc[1, "n_failed"] == 1
    # a 90% level narrows the interval; the default outcomes are every summary outcome but success
    narrow = summary_by_point(results, level=0.9, factors=["a", "b"])
    assert (narrow["active_share_ci_high"] < table["active_share_ci_high"]).all()
    assert "gini_mean" in narrow and "success_mean" not in narrow


def test_summary_rejects_unknown_outcome(tmp_path):
    results = load_results(factorial(tmp_path / "ff"))
    with pytest.raises(UserInputError, match="unknown outcome 'nope'"):
        summary_by_point(results, outcomes=["nope"])


# ------------------------------------------------------------------ sensitivity
def test_morris_ranks_linear_factors(tmp_path):
    folder = morris_folder(tmp_path / "mo")
    results, manifest = load_results(folder), load_manifest(folder)
    table = morris_indices(results, manifest, "active_share").set_index("factor")
    assert list(table["mu_star"].sort_values(ascending=False).index) == ["w", "x", "y", "z"]
    # unscaled elementary effects are per unit of normalised range
    assert table.loc["w", "mu_star"] == pytest.approx(1.0, abs=0.02)
    assert table.loc["x", "mu_star"] == pytest.approx(0.6, abs=0.02)
    assert table.loc["z", "mu_star"] < 0.01
    assert (table["units"] == 30).all()


def test_morris_drops_trajectories_with_missing_points(tmp_path):
    folder = morris_folder(tmp_path / "mo")
    results = load_results(folder)
    results.loc[results["point_id"] == 0, "status"] = "failed"  # every replicate of point 0 failed
    table = morris_indices(results, load_manifest(folder), "active_share")
    assert (table["units"] == 29).all()


def test_sobol_ishigami_first_order(tmp_path):
    folder = sobol_folder(tmp_path / "so")
    results, manifest = load_results(folder), load_manifest(folder)
    table = sobol_indices(results, manifest, "active_share").set_index("factor")
    assert table["S1"].to_numpy() == pytest.approx([0.314, 0.442, 0.0], abs=0.05)
    assert table["ST"].to_numpy() == pytest.approx([0.558, 0.442, 0.244], abs=0.06)
    s2 = sobol_second_order(results, manifest, "active_share").set_index(["factor", "other"])
    assert s2.loc[("x1", "x3"), "S2"] == pytest.approx(0.244, abs=0.1)


def test_sobol_per_crossed_category(tmp_path):
    folder = sobol_folder(tmp_path / "so", n=512, categories=("plain", "swapped"))
    results, manifest = load_results(folder), load_manifest(folder)
    table = sobol_indices(results, manifest, "active_share")
    s1 = table.pivot(index="category", columns="factor", values="S1")
    assert list(s1.index) == ["scenario=plain", "scenario=swapped"]
    assert s1.loc["scenario=plain", "x2"] == pytest.approx(0.442, abs=0.07)
    assert s1.loc["scenario=swapped", "x1"] == pytest.approx(0.442, abs=0.07)  # roles exchanged


def test_sensitivity_needs_a_matching_design(tmp_path):
    folder = factorial(tmp_path / "ff")
    results, manifest = load_results(folder), load_manifest(folder)
    with pytest.raises(UserInputError, match="design = 'morris'.*'full_factorial'"):
        morris_indices(results, manifest, "active_share")
    with pytest.raises(UserInputError, match="design = 'sobol'"):
        sobol_indices(results, load_manifest(morris_folder(tmp_path / "mo")), "active_share")
    assert analysis.sensitivity(results, manifest, ["active_share"]) is None


# ------------------------------------------------------------------ PRIM
def planted(n: int, seed: int):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(0, 1, (n, 4)), columns=["a", "b", "c", "d"])
    inside = X["a"].between(0.2, 0.6) & (X["b"] >= 0.5)
    y = np.where(inside, rng.random(n) < 0.9, rng.random(n) < 0.05)
    return X, y


def test_prim_recovers_planted_box():
    X, y = planted(2000, 1)
    found = prim(X, y)
    box = found.boxes.set_index("factor")
    assert box.loc["a", "low"] == pytest.approx(0.2, abs=0.05)
    assert box.loc["a", "high"] == pytest.approx(0.6, abs=0.05)
    assert box.loc["b", "low"] == pytest.approx(0.5, abs=0.05)
    assert box.loc["b", "high"] > 0.95  # b's upper end is not restricted
    assert set(box.index) == {"a", "b"}  # restrictions of c and d are pruned (quasi-p-value)
    assert (box["qp_value"] < 0.05).all()
    assert box["density"].iloc[0] > 0.85 and box["coverage"].iloc[0] > 0.7
    traj = found.trajectory
    assert traj["chosen"].sum() == 1 and (np.diff(traj["support"]) <= 0).all()
    assert traj["support"].min() >= 0.05 - 1e-9
    # a density threshold picks the highest-coverage step that reaches it
    loose = prim(X, y, threshold=0.6)
    assert loose.boxes["coverage"].iloc[0] >= box["coverage"].iloc[0]
    assert loose.boxes["test_density"].iloc[0] >= 0.6


def test_prim_does_not_hallucinate_on_noise():
    found_any = 0
    for seed in range(10):
        rng = np.random.default_rng(50 + seed)
        X = pd.DataFrame(rng.uniform(0, 1, (600, 4)), columns=list("abcd"))
        y = rng.random(600) < 0.3
        found = prim(X, y, seed=seed)
        found_any += len(found.boxes) > 0
        # held-out density along the whole trajectory stays near the base rate
        traj = found.trajectory
        assert abs(traj["test_density"].iloc[len(traj) // 2] - found.base_rate) < 0.15
    assert found_any <= 1


def test_prim_categorical_one_hot_and_paste():
    rng = np.random.default_rng(3)
    n = 1500
    X = pd.DataFrame({"s": rng.choice(["A", "B", "C"], n), "v": rng.uniform(0, 1, n), "flag": rng.random(n) < 0.5})
    y = ((X["s"] == "B") & (X["v"] > 0.5)).to_numpy() & (rng.random(n) < 0.95)
    found = prim(X, y, paste=True)
    ranges = set(found.boxes["range"])
    assert any(r in ("s is B",) for r in ranges) or {"s is not A", "s is not C"} <= ranges
    assert found.boxes["density"].iloc[0] > 0.8


def test_prim_covering_finds_two_boxes():
    rng = np.random.default_rng(5)
    n = 3000
    X = pd.DataFrame(rng.uniform(0, 1, (n, 2)), columns=["a", "b"])
    y = ((X["a"] < 0.25) & (X["b"] < 0.25)) | ((X["a"] > 0.7) & (X["b"] > 0.7))
    found = prim(X, y.to_numpy(), max_boxes=3)
    assert found.boxes["box"].nunique() >= 2


def test_prim_input_errors():
    X, y = planted(100, 0)
    with pytest.raises(UserInputError, match="peel_alpha"):
        prim(X, y, peel_alpha=0.7)
    with pytest.raises(UserInputError, match="rows"):
        prim(X, y[:50])


def test_discover_with_outcome_threshold(tmp_path):
    results = load_results(lhs_folder(tmp_path / "lhs"))
    found = discover(results, ["p", "q", "r"], success="active_share>=0.3")
    assert set(found.boxes["factor"]) >= {"p", "q"}
    with pytest.raises(UserInputError, match="OUTCOME OP NUMBER"):
        discover(results, ["p"], success="active_share ~ 3")


# ------------------------------------------------------------------ analyze and the report
def assert_self_contained(page: str) -> None:
    assert "<script src" not in page and "cdn.plot.ly" not in page
    assert page.count("plotly.js v") <= 2  # the bundle's banner: inlined once
    assert page.count("Plotly.newPlot") >= 1


def test_analyze_factorial_with_series(tmp_path):
    folder = factorial(tmp_path / "ff", series=True, failed={3})
    tables = analyze(folder)
    out = folder / "analysis"
    assert {p.name for p in out.iterdir()} >= {"summary_by_point.csv", "prim_boxes.csv", "prim_trajectory.csv",
                                              "main_effects.csv", "report.html"}
    assert not (out / "sensitivity.csv").exists() and "sensitivity" not in tables
    assert pd.read_csv(out / "summary_by_point.csv").shape[0] == 9
    effects = tables["main_effects"]
    top = effects[effects["outcome"] == "active_share"].iloc[0]
    assert top["factor"] == "a"  # 0.2 across a vs 0.1 across b
    page = (out / "report.html").read_text()
    assert_self_contained(page)
    for needle in ("Provenance", "abc123", "Heatmaps", "Scenario discovery", "Over time", "per design point",
                   "runs failed"):
        assert needle in page


def test_analyze_sobol_crossed_writes_sensitivity(tmp_path):
    folder = sobol_folder(tmp_path / "so", n=64, categories=("plain", "swapped"), series=True)
    report = tmp_path / "report.html"
    tables = analyze(folder, report, outcomes=["active_share"])
    sens = pd.read_csv(folder / "analysis" / "sensitivity.csv")
    assert set(sens["category"]) == {"scenario=plain", "scenario=swapped"} and set(sens["method"]) == {"sobol"}
    assert len(tables["sensitivity"]) == 6
    page = report.read_text()
    assert_self_contained(page)
    assert "sobol sensitivity (scenario=swapped)" in page
    assert "median across runs per scenario" in page  # trajectories per crossed category
    assert not (folder / "analysis" / "report.html").exists()


def test_analyze_morris_and_lhs(tmp_path):
    tables = analyze(morris_folder(tmp_path / "mo"))
    assert set(tables["sensitivity"]["method"]) == {"morris"}
    assert_self_contained((tmp_path / "mo" / "analysis" / "report.html").read_text())
    tables = analyze(lhs_folder(tmp_path / "lhs", series=True), outcomes=["active_share", "success"])
    box = tables["prim_boxes"].set_index("factor")
    assert set(box.index) == {"p", "q"}
    assert box.loc["p", "low"] == pytest.approx(0.2, abs=0.06) and box.loc["p", "high"] == pytest.approx(0.6, abs=0.06)
    assert box.loc["q", "low"] == pytest.approx(0.5, abs=0.06)
    assert (box["success"] == 'verdict == "success"').all()
    page = (tmp_path / "lhs" / "analysis" / "report.html").read_text()
    assert_self_contained(page)
    assert "per verdict" in page  # 1500 points: trajectories grouped by verdict


# ------------------------------------------------------------------ command line

def test_cli_analyze(tmp_path):
    folder = factorial(tmp_path / "ff", series=True)
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(out), "--outcome", "active_share",
                                 "--outcome", "gini"])
    assert result.exit_code == 0, result.output
    assert "summary_by_point.csv" in result.stdout and "PRIM" in result.stdout
    assert_self_contained(out.read_text())
    result = runner.invoke(app, ["analyze", str(folder), "--success", "active_share>=0.35"])
    assert result.exit_code == 0, result.output
    assert (folder / "analysis" / "report.html").is_file()


def test_cli_analyze_bad_folders(tmp_path):
    one_line_error(runner.invoke(app, ["analyze", str(tmp_path / "missing")]), "does not exist")
    (tmp_path / "empty").mkdir()
    one_line_error(runner.invoke(app, ["analyze", str(tmp_path / "empty")]), "no manifest.json")
    folder = factorial(tmp_path / "ff")
    for part in (folder / "parts").iterdir():
        part.unlink()
    one_line_error(runner.invoke(app, ["analyze", str(folder)]), "no runs")
    pd.DataFrame(columns=["run_id", "point_id"]).to_parquet(folder / "parts" / "part-00000.parquet")
    one_line_error(runner.invoke(app, ["analyze", str(folder)]), "no runs")
    dead = factorial(tmp_path / "dead", failed=set(range(36)))
    one_line_error(runner.invoke(app, ["analyze", str(dead)]), "all 36 runs failed")
    good = factorial(tmp_path / "ff2")
    one_line_error(runner.invoke(app, ["analyze", str(good), "--out", str(tmp_path / "nowhere" / "r.html")]),
                   "does not exist")
    one_line_error(runner.invoke(app, ["analyze", str(good), "--outcome", "nope"]), "unknown outcome")
    one_line_error(runner.invoke(app, ["analyze", str(good), "--out", str(tmp_path / "r.txt")]), ".html")
    one_line_error(runner.invoke(app, ["analyze", str(good), "--success", "bad"]), "OUTCOME OP NUMBER")
    (good / "manifest.json").write_text("{not json")
    one_line_error(runner.invoke(app, ["analyze", str(good)]), "not valid JSON")


def test_one_call_entry_points(tmp_path):
    import sim.experiments as experiments

    folder = factorial(tmp_path / "ff", failed={2})
    results = experiments.load_results(folder)  # the documented one-call loader (sim.experiments.store)
    assert len(results) == 36 and (results["status"] == "failed").sum() == 1
    assert {"a", "b", "verdict", *SUMMARY_COLUMNS} <= set(results.columns)
    assert experiments.analyze is analyze and experiments.summary_by_point is summary_by_point
    assert {"analyze", "summary_by_point", "load_results"} <= set(experiments.__all__)


def test_factor_that_is_also_an_output_uses_its_own_column():
    """cross_silo_ties is a lever and an outcome: the runner stores the factor as
    factor_cross_silo_ties (manifest 'factor_columns'); analysis must read that column."""
    from sim.experiments.analysis import categorical_factors, factor_columns

    results = pd.DataFrame({"point_id": [0, 1], "factor_cross_silo_ties": [0.1, 3.0],
                            "cross_silo_ties": [101, 1042], "scenario": ["a", "b"]})
    manifest = {"factors": {"cross_silo_ties": {}, "scenario": {}},
                "factor_columns": {"cross_silo_ties": "factor_cross_silo_ties", "scenario": "scenario"},
                "problem": {"num_vars": 1, "names": ["cross_silo_ties"], "bounds": [[0.1, 3.0]]}}
    assert factor_columns(results, manifest) == ["factor_cross_silo_ties", "scenario"]
    assert categorical_factors(results, manifest) == ["scenario"]
