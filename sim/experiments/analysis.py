"""Analysis of an experiment's results folder: summaries, sensitivity, scenario discovery.

Load a results folder written by ``socialsim sweep`` into pandas with one call,
:func:`sim.experiments.load_results` (one row per run: provenance, factor values, ``status``,
every outcome of :data:`sim.outputs.SUMMARY_COLUMNS` and ``verdict``). This module turns it into:

* :func:`summary_by_point` - per design point: runs ok/failed, mean, median and a t interval of
  the mean of every outcome, the success rate with a Wilson interval, and the verdict counts;
* :func:`morris_indices` / :func:`sobol_indices` (and :func:`sobol_second_order`) - Morris
  elementary effects and Sobol indices with SALib, for designs sampled for them;
* :func:`main_effects` - how far the mean outcome moves across the levels of each factor
  (averaged over the other factors), used to choose the two factors of the heatmap;
* :func:`discover` - PRIM scenario discovery (:mod:`sim.experiments.prim`) of lever ranges where
  success is likely;
* :func:`analyze` - all of the above for a folder: CSV tables in ``OUT/analysis/`` and a
  self-contained HTML report (:mod:`sim.experiments.analysis_report`).

Decisions:

* **Replicates are averaged before sensitivity analysis.** Morris and Sobol need one output per
  row of the sample matrix, so each design point's outcome is the mean over its completed
  replicates: the indices describe the *expected* outcome. Replicate noise that survives the
  averaging shows up as extra Morris ``sigma`` and Sobol interaction (ST - S1).
* **Missing points.** A point whose replicates all failed has no mean; the whole Morris
  trajectory or Sobol (Saltelli) block holding it is dropped (each is an independent unit of
  the estimator), and the number of units used is reported.
* **Crossed categories.** A categorical factor (e.g. ``scenario``) crossed with a Morris or
  Sobol design is not in the SALib problem; the indices are computed per category, on that
  category's rows in ``point_id`` order.
* **Failed runs** count in ``n_failed`` and are left out of every statistic and of PRIM.
"""

from __future__ import annotations

import json
import math
import operator
import re
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import UserInputError
from ..outputs import SUMMARY_COLUMNS, VERDICTS, write_table
from ..report import OUTCOMES, wilson_interval, write_text_atomic
from .prim import PrimResult, prim
from .store import DESIGN, MANIFEST, SERIES, load_design, load_manifest, load_results, load_series

#: Run columns that are neither factors nor outcomes.
RUN_COLUMNS = ("run_id", "point_id", "replicate", "seed", "scenario", "scenario_hash", "version", "status",
               "error", "verdict")
#: Outcomes charted and analysed for sensitivity unless others are asked for.
DEFAULT_OUTCOMES = ("active_share", "net_value")
#: A factor with more distinct values than this is cut into HEATMAP_BINS equal-width bins.
MAX_LEVELS = 12
HEATMAP_BINS = 8

SENSITIVITY_COLUMNS = ["outcome", "category", "method", "factor", "mu", "mu_star", "sigma", "mu_star_conf",
                       "S1", "S1_conf", "ST", "ST_conf", "units"]


# ------------------------------------------------------------------ loading (sim.experiments.store)
def _folder(out_dir: str | Path) -> Path:
    path = Path(out_dir)
    if not path.exists():
        raise UserInputError("results folder does not exist; allowed: a folder written by `socialsim sweep`",
                             source=str(path))
    if not path.is_dir():
        raise UserInputError("is not a folder; allowed: a results folder written by `socialsim sweep`",
                             source=str(path))
    return path


def read_manifest(out_dir: str | Path) -> dict[str, Any]:
    """:func:`sim.experiments.store.load_manifest`, with a missing folder, bad JSON or a manifest
    without factors reported as one-line :class:`UserInputError`."""
    folder = _folder(out_dir)
    try:
        manifest = load_manifest(folder)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserInputError(f"not valid JSON ({_one_line(exc)})", source=str(folder / MANIFEST)) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("factors"), dict):
        raise UserInputError("has no 'factors' table; allowed: a manifest written by `socialsim sweep`",
                             source=str(folder / MANIFEST))
    return manifest


def read_design(out_dir: str | Path) -> pd.DataFrame | None:
    """``design.parquet`` (:func:`sim.experiments.store.load_design`) sorted by ``point_id``; None if absent."""
    folder = _folder(out_dir)
    if not (folder / DESIGN).is_file():
        return None
    return load_design(folder).sort_values("point_id", kind="stable").reset_index(drop=True)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


# ------------------------------------------------------------------ factors and outcomes
def factor_column_map(manifest: dict[str, Any]) -> dict[str, str]:
    """Factor name -> column in the results. A factor that is also an output (``cross_silo_ties``)
    is stored as ``factor_<name>`` (the manifest's ``factor_columns``)."""
    mapping = manifest.get("factor_columns") or {}
    return {name: mapping.get(name, name) for name in manifest["factors"]}


def factor_columns(results: pd.DataFrame, manifest: dict[str, Any] | None = None) -> list[str]:
    """The factor columns: the manifest's factors, or else every column that is not a run column or
    outcome (plus ``scenario`` when it differs between runs)."""
    if manifest is not None:
        return [column for column in factor_column_map(manifest).values() if column in results.columns]
    reserved = set(RUN_COLUMNS) | set(SUMMARY_COLUMNS)
    scenario = ["scenario"] if "scenario" in results and results["scenario"].nunique() > 1 else []
    return scenario + [c for c in results.columns if c not in reserved]


def categorical_factors(results: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    """Factors outside the SALib problem (crossed categories), or non-numeric factors if there is no problem."""
    factors = factor_columns(results, manifest)
    problem = manifest.get("problem")
    if problem:
        mapping = factor_column_map(manifest)
        sampled = {mapping.get(name, name) for name in problem["names"]}
        return [f for f in factors if f not in sampled]
    return [f for f in factors if not pd.api.types.is_numeric_dtype(results[f])]


def _ok(results: pd.DataFrame) -> pd.DataFrame:
    return results[results["status"] == "ok"] if "status" in results.columns else results


def _with_success(results: pd.DataFrame) -> pd.DataFrame:
    if "success" not in results.columns and "verdict" in results.columns:
        results = results.assign(success=(results["verdict"] == "success").astype(float))
    return results


def check_outcomes(results: pd.DataFrame, outcomes: list[str] | tuple[str, ...]) -> list[str]:
    """``outcomes`` if each is a numeric column of ``results`` ('success' is 1 for a success), else an error."""
    results = _with_success(results)
    allowed = [c for c in SUMMARY_COLUMNS if c in results.columns and pd.api.types.is_numeric_dtype(results[c])]
    for name in outcomes:
        if name not in allowed:
            raise UserInputError(f"unknown outcome {name!r}; allowed: {', '.join(allowed)}", key="--outcome")
    return list(outcomes)


# ------------------------------------------------------------------ summary per design point
def summary_by_point(results: pd.DataFrame, outcomes: list[str] | None = None, level: float = 0.95,
                     factors: list[str] | None = None) -> pd.DataFrame:
    """One row per design point: factor values, runs ok/failed, outcome statistics, success rate.

    For each outcome ``o``: ``o_mean``, ``o_median`` and ``o_ci_low``/``o_ci_high``, the
    ``level`` t interval of the mean (mean +- t(n-1) s / sqrt(n), NaN with fewer than 2 values;
    NaN outcome values are skipped). ``success_rate`` is the share of ok runs whose verdict is
    success, with a Wilson interval (``success_low``, ``success_high``); ``n_<verdict>`` counts
    each verdict. Failed runs only count in ``n_failed``.

    Args:
        results: runs as returned by :func:`sim.experiments.load_results`.
        outcomes: outcome columns (default: every summary outcome present except ``success``).
        level: confidence level of both intervals.
        factors: factor columns (default: :func:`factor_columns` without a manifest).
    """
    if not 0 < level < 1:
        raise UserInputError(f"level={level} must be between 0 and 1", key="level")
    factors = factor_columns(results) if factors is None else list(factors)
    outcomes = [o for o in OUTCOMES if o in results.columns] if outcomes is None else \
        check_outcomes(results, outcomes)
    results = _with_success(results)
    points = results.groupby("point_id", sort=True)
    table = points[factors].first() if factors else pd.DataFrame(index=points.size().index)
    ok = _ok(results)
    ok_points = ok.groupby("point_id")
    table["n_ok"] = ok_points.size().reindex(table.index, fill_value=0)
    table["n_failed"] = points.size() - table["n_ok"]
    q = (1 + level) / 2
    columns: dict[str, pd.Series] = {}  # built apart and joined once: many outcomes, one frame
    for name in outcomes:
        values = ok_points[name]
        count = values.count().reindex(table.index, fill_value=0)
        mean = values.mean().reindex(table.index)
        std = values.std(ddof=1).reindex(table.index)
        with np.errstate(invalid="ignore", divide="ignore"):
            half = stats.t.ppf(q, count - 1) * std / np.sqrt(count)
        half[count < 2] = np.nan
        columns[f"{name}_mean"] = mean
        columns[f"{name}_median"] = values.median().reindex(table.index)
        columns[f"{name}_ci_low"] = mean - half
        columns[f"{name}_ci_high"] = mean + half
    table = pd.concat([table, pd.DataFrame(columns, index=table.index)], axis=1)
    z = float(stats.norm.ppf(q))
    verdicts = ok.groupby(["point_id", "verdict"]).size().unstack(fill_value=0) if len(ok) else pd.DataFrame()
    verdicts = verdicts.reindex(index=table.index, fill_value=0)
    k = verdicts["success"] if "success" in verdicts else pd.Series(0, index=table.index)
    n = table["n_ok"]
    table["success_rate"] = np.where(n > 0, k / n.where(n > 0, 1), np.nan)
    bounds = [wilson_interval(int(ki), int(ni), z) for ki, ni in zip(k, n)]
    table["success_low"] = [b[0] for b in bounds]
    table["success_high"] = [b[1] for b in bounds]
    for verdict in VERDICTS:
        table[f"n_{verdict}"] = (verdicts[verdict] if verdict in verdicts else 0)
        table[f"n_{verdict}"] = table[f"n_{verdict}"].astype(int)
    return table.reset_index()


# ------------------------------------------------------------------ sensitivity
def _point_frame(results: pd.DataFrame, design: pd.DataFrame | None, names: list[str]) -> pd.DataFrame:
    if design is not None:
        return design.sort_values("point_id", kind="stable").reset_index(drop=True)
    return results.groupby("point_id", sort=True)[names].first().reset_index()


def _groups(points: pd.DataFrame, categories: list[str]) -> Iterator[tuple[str, pd.DataFrame]]:
    """(label, rows in point_id order) per category combination; one group 'all' without categories."""
    if not categories:
        yield "all", points
        return
    for key, rows in points.groupby(categories, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        yield ", ".join(f"{c}={v}" for c, v in zip(categories, key)), rows.sort_values("point_id", kind="stable")


def _design_option(manifest: dict[str, Any], *keys: str) -> Any:
    """A design option from the manifest's spec (``spec.design.<key>``, else ``spec.<key>``); None if unset."""
    spec = manifest.get("spec") or {}
    for table in (spec.get("design") if isinstance(spec.get("design"), dict) else {}, spec):
        for key in keys:
            if table.get(key) is not None:
                return table[key]
    return None


def _prepare(results: pd.DataFrame, manifest: dict[str, Any], outcome: str, method: str,
             design: pd.DataFrame | None) -> tuple[dict[str, Any], list[tuple[str, np.ndarray, np.ndarray]]]:
    """The SALib problem and, per category, the sample matrix X and the replicate-mean outputs Y."""
    if manifest.get("design") != method or not manifest.get("problem"):
        raise UserInputError(f"{method} indices need an experiment sampled with design = '{method}'; "
                             f"this one used {manifest.get('design')!r}", key="design")
    check_outcomes(results, [outcome])
    results = _with_success(results)
    raw = manifest["problem"]
    names = list(raw["names"])
    problem = {"num_vars": len(names), "names": names, "bounds": [list(map(float, b)) for b in raw["bounds"]]}
    mapping = factor_column_map(manifest)
    columns = [mapping.get(name, name) for name in names]  # where each sampled factor is stored
    categories = categorical_factors(results, manifest)
    if design is not None:
        design = design.rename(columns=mapping)
    points = _point_frame(results, design, columns + categories)
    missing = [c for c in columns + categories if c not in points.columns]
    if missing:
        raise UserInputError(f"design has no column(s) {', '.join(missing)} named in the manifest", key="design")
    means = _ok(results).groupby("point_id")[outcome].mean()
    groups = []
    for label, rows in _groups(points, categories):
        X = rows[columns].to_numpy(dtype=np.float64)
        Y = means.reindex(rows["point_id"]).to_numpy(dtype=np.float64)
        groups.append((label, X, Y))
    return problem, groups


def _drop_units(X: np.ndarray, Y: np.ndarray, size: int, what: str, label: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Drop every unit (trajectory, block) of ``size`` rows that holds a missing output."""
    if len(Y) == 0 or len(Y) % size:
        raise UserInputError(f"{label}: {len(Y)} design rows is not a whole number of {what}s of {size} rows; "
                             "allowed: the unmodified sample matrix", key="design")
    good = np.isfinite(Y.reshape(-1, size)).all(axis=1)
    if not good.any():
        raise UserInputError(f"{label}: every {what} has a point without completed runs; nothing to analyse")
    keep = np.repeat(good, size)
    return X[keep], Y[keep], int(good.sum())


def morris_indices(results: pd.DataFrame, manifest: dict[str, Any], outcome: str, *,
                   design: pd.DataFrame | None = None, num_levels: int | None = None,
                   conf_level: float = 0.95, num_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Morris screening of ``outcome`` (SALib.analyze.morris), per category if one is crossed.

    Each point's outcome is the mean over its completed replicates; trajectories with a point
    without completed runs are dropped. Elementary effects are per unit of the factor's
    normalised range (SALib's unscaled effects), so ``mu_star`` ranks factors.

    Args:
        results: runs (:func:`sim.experiments.load_results`).
        manifest: the experiment manifest (``design`` must be ``"morris"``).
        outcome: outcome column (``"success"``: success probability).
        design: ``design.parquet`` (default: factor values of the runs).
        num_levels: grid levels of the sample (default: ``num_levels`` in the spec, else 4).

    Returns:
        One row per category and factor: outcome, category, method, factor, mu, mu_star, sigma,
        mu_star_conf, units (trajectories used).
    """
    from SALib.analyze import morris

    problem, groups = _prepare(results, manifest, outcome, "morris", design)
    levels = int(num_levels or _design_option(manifest, "levels", "num_levels") or 4)
    rows = []
    for label, X, Y in groups:
        X, Y, units = _drop_units(X, Y, problem["num_vars"] + 1, "trajectory", label)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            si = morris.analyze(problem, X, Y, num_resamples=num_resamples, conf_level=conf_level,
                                num_levels=levels, seed=seed)
        for i, name in enumerate(problem["names"]):
            rows.append({"outcome": outcome, "category": label, "method": "morris", "factor": name,
                         "mu": float(si["mu"][i]), "mu_star": float(si["mu_star"][i]),
                         "sigma": float(si["sigma"][i]), "mu_star_conf": float(si["mu_star_conf"][i]),
                         "units": units})
    return pd.DataFrame(rows)


def _second_order(X: np.ndarray, d: int) -> bool | None:
    """Whether a Saltelli matrix has second-order rows, read from its structure (None: neither fits)."""

    def fits(size: int, second: bool) -> bool:
        if len(X) == 0 or len(X) % size:
            return False
        blocks = X.reshape(-1, size, d)
        for i in range(d):
            other = np.arange(d) != i
            if not np.allclose(blocks[:, 1 + i, other], blocks[:, 0, other], equal_nan=True):
                return False
            if second and not np.allclose(blocks[:, d + 1 + i, other], blocks[:, -1, other], equal_nan=True):
                return False
        return True

    if fits(2 * d + 2, True):
        return True
    if fits(d + 2, False):
        return False
    return None


def _sobol_runs(results: pd.DataFrame, manifest: dict[str, Any], outcome: str, design: pd.DataFrame | None,
                conf_level: float, num_resamples: int, seed: int):
    from SALib.analyze import sobol

    problem, groups = _prepare(results, manifest, outcome, "sobol", design)
    d = problem["num_vars"]
    spec_flag = _design_option(manifest, "second_order", "calc_second_order")
    for label, X, Y in groups:
        second = bool(spec_flag) if spec_flag is not None else _second_order(X, d)
        if second is None:
            raise UserInputError(f"{label}: the design rows are not a Saltelli sample matrix of "
                                 f"{d} factors; allowed: the unmodified sobol sample", key="design")
        X, Y, units = _drop_units(X, Y, 2 * d + 2 if second else d + 2, "Saltelli block", label)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            si = sobol.analyze(problem, Y, calc_second_order=second, num_resamples=num_resamples,
                               conf_level=conf_level, seed=seed)
        yield label, problem, si, second, units


def sobol_indices(results: pd.DataFrame, manifest: dict[str, Any], outcome: str, *,
                  design: pd.DataFrame | None = None, conf_level: float = 0.95, num_resamples: int = 100,
                  seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices of ``outcome`` (SALib.analyze.sobol), per category.

    Each point's outcome is the mean over its completed replicates; Saltelli blocks holding a
    point without completed runs are dropped. Whether the sample has second-order rows is
    read from the spec (``calc_second_order``) or from the structure of the sample matrix.

    Returns:
        One row per category and factor: outcome, category, method, factor, S1, S1_conf, ST,
        ST_conf, units (Saltelli blocks, i.e. base samples N, used).
    """
    rows = []
    for label, problem, si, _, units in _sobol_runs(results, manifest, outcome, design, conf_level,
                                                    num_resamples, seed):
        for i, name in enumerate(problem["names"]):
            rows.append({"outcome": outcome, "category": label, "method": "sobol", "factor": name,
                         **{k: float(si[k][i]) for k in ("S1", "S1_conf", "ST", "ST_conf")}, "units": units})
    return pd.DataFrame(rows)


def sobol_second_order(results: pd.DataFrame, manifest: dict[str, Any], outcome: str, *,
                       design: pd.DataFrame | None = None, conf_level: float = 0.95, num_resamples: int = 100,
                       seed: int = 0) -> pd.DataFrame:
    """Second-order Sobol indices (one row per category and factor pair); empty if the sample has none."""
    rows = []
    for label, problem, si, second, _ in _sobol_runs(results, manifest, outcome, design, conf_level,
                                                     num_resamples, seed):
        if not second:
            continue
        names = problem["names"]
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                rows.append({"outcome": outcome, "category": label, "factor": names[i], "other": names[j],
                             "S2": float(si["S2"][i, j]), "S2_conf": float(si["S2_conf"][i, j])})
    return pd.DataFrame(rows, columns=["outcome", "category", "factor", "other", "S2", "S2_conf"])


def sensitivity(results: pd.DataFrame, manifest: dict[str, Any], outcomes: list[str], *,
                design: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Morris or Sobol indices of each outcome, whichever the design allows (None for other designs)."""
    method = manifest.get("design")
    if method not in ("morris", "sobol") or not manifest.get("problem"):
        return None
    func = morris_indices if method == "morris" else sobol_indices
    frames = [func(results, manifest, outcome, design=design) for outcome in outcomes]
    return pd.concat(frames, ignore_index=True).reindex(columns=SENSITIVITY_COLUMNS)


# ------------------------------------------------------------------ effects and grids
def levels(column: pd.Series, bins: int = HEATMAP_BINS) -> pd.Series:
    """A factor's values as levels: kept if there are at most MAX_LEVELS, else equal-width bin midpoints."""
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column) \
            or column.nunique() <= MAX_LEVELS:
        return column
    cut = pd.cut(column.astype(float), bins=bins)
    return cut.map(lambda interval: float(interval.mid)).astype(float)


def main_effects(results: pd.DataFrame, factors: list[str], outcome: str) -> pd.DataFrame:
    """Per factor: range (max - min) of the mean outcome across its levels, averaged over the rest.

    Levels are the factor's values, or equal-width bins when there are more than MAX_LEVELS.
    Sorted by effect, largest first; the heatmap shows the top two.
    """
    ok = _with_success(_ok(results))
    rows = []
    for name in factors:
        means = ok.groupby(levels(ok[name]), observed=True)[outcome].mean()
        effect = float(means.max() - means.min()) if means.notna().any() else math.nan
        rows.append({"outcome": outcome, "factor": name, "effect": effect, "levels": int(means.size)})
    frame = pd.DataFrame(rows, columns=["outcome", "factor", "effect", "levels"])
    return frame.sort_values("effect", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


def grid(results: pd.DataFrame, x: str, y: str, outcome: str) -> pd.DataFrame:
    """Mean of ``outcome`` over completed runs on the (x level, y level) grid: rows y, columns x."""
    ok = _with_success(_ok(results))
    frame = pd.DataFrame({"x": levels(ok[x]), "y": levels(ok[y]), "v": ok[outcome]})
    return frame.pivot_table(index="y", columns="x", values="v", aggfunc="mean", observed=True).sort_index() \
        .sort_index(axis=1)


# ------------------------------------------------------------------ scenario discovery
_OPS: dict[str, Callable[[Any, Any], Any]] = {">=": operator.ge, "<=": operator.le, ">": operator.gt,
                                              "<": operator.lt}


def parse_success(text: str | None) -> tuple[str, str, float] | None:
    """``"active_share>=0.2"`` -> ``("active_share", ">=", 0.2)``; None -> None (verdict == success)."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*", text)
    if not match:
        raise UserInputError(f"{text!r} is not OUTCOME OP NUMBER; allowed: e.g. active_share>=0.2 "
                             "(OP one of >=, >, <=, <)", key="--success")
    try:
        value = float(match.group(3))
    except ValueError:
        raise UserInputError(f"{match.group(3)!r} is not a number", key="--success") from None
    return match.group(1), match.group(2), value


def success_mask(results: pd.DataFrame, success: str | None = None) -> tuple[np.ndarray, str]:
    """Which runs count as a success for PRIM, and the definition in words."""
    rule = parse_success(success)
    if rule is None:
        return (results["verdict"] == "success").to_numpy(), 'verdict == "success"'
    name, op, value = rule
    check_outcomes(results, [name])
    column = _with_success(results)[name]
    return _OPS[op](column, value).fillna(False).to_numpy(dtype=bool), f"{name} {op} {value:g}"


def discover(results: pd.DataFrame, factors: list[str], success: str | None = None, **kwargs: Any) -> PrimResult:
    """PRIM (:func:`sim.experiments.prim.prim`) over the completed runs' factor values.

    Args:
        results: runs (:func:`sim.experiments.load_results`); failed runs are left out.
        factors: factor columns (categorical ones are one-hot encoded).
        success: None for ``verdict == "success"``, or a threshold such as ``"active_share>=0.2"``.
        **kwargs: passed to :func:`~sim.experiments.prim.prim` (peel_alpha, paste, min_support, ...).
    """
    ok = _ok(results).reset_index(drop=True)
    y, _ = success_mask(ok, success)
    return prim(ok[factors], y, **kwargs)


# ------------------------------------------------------------------ everything for a folder
def analyze(out_dir: str | Path, report_path: str | Path | None = None, *, outcomes: list[str] | None = None,
            success: str | None = None, level: float = 0.95) -> dict[str, pd.DataFrame]:
    """Analyse a results folder: CSV tables in ``OUT/analysis/`` and a self-contained HTML report.

    Writes ``summary_by_point.csv``, ``main_effects.csv``, ``prim_boxes.csv``,
    ``prim_trajectory.csv`` and, for Morris and Sobol designs, ``sensitivity.csv``; the report
    goes to ``report_path`` (default ``OUT/analysis/report.html``). Everything is computed
    before anything is written, and every file is written atomically.

    Args:
        out_dir: folder written by ``socialsim sweep``.
        report_path: where the HTML report goes.
        outcomes: outcomes for sensitivity, effects, heatmaps and the report's summary table
            (default: :data:`DEFAULT_OUTCOMES`); the summary CSV always has every outcome.
        success: what PRIM counts as success: None for ``verdict == "success"``, or e.g.
            ``"active_share>=0.2"``.
        level: confidence level of the summary's intervals.

    Returns:
        The tables by name: summary_by_point, main_effects, prim_boxes, prim_trajectory and,
        when the design allows it, sensitivity.
    """
    from .analysis_report import analysis_report_html

    folder = _folder(out_dir)
    manifest = read_manifest(folder)
    results = load_results(folder)
    if results.empty:
        raise UserInputError("no runs in parts/ (no part-*.parquet rows); run `socialsim sweep` first",
                             source=str(folder))
    series = load_series(folder) if (folder / SERIES).is_dir() else None
    series = None if series is None or series.empty else series
    design = read_design(folder)
    ok = _ok(results)
    if ok.empty:
        raise UserInputError(f"all {len(results)} runs failed; nothing to analyse (see the error column of "
                             "parts/)", source=str(folder))
    outcomes = check_outcomes(results, list(outcomes or [o for o in DEFAULT_OUTCOMES if o in results.columns]))
    _, definition = success_mask(ok, success)  # a bad --success fails before the long work
    factors = factor_columns(results, manifest)
    if not factors:
        raise UserInputError("the manifest names no factor found in the runs", source=str(folder / "manifest.json"))

    tables: dict[str, pd.DataFrame] = {"summary_by_point": summary_by_point(results, level=level, factors=factors)}
    sens = sensitivity(results, manifest, outcomes, design=design)
    if sens is not None:
        tables["sensitivity"] = sens
    tables["main_effects"] = pd.concat([main_effects(results, factors, o)
                                        for o in dict.fromkeys([*outcomes, "success"])],
                                       ignore_index=True)
    found = discover(results, factors, success)
    boxes = found.boxes.copy()
    boxes.insert(0, "success", definition)
    tables["prim_boxes"] = boxes
    tables["prim_trajectory"] = found.trajectory

    target = folder / "analysis"
    report = Path(report_path) if report_path is not None else target / "report.html"
    if report != target / "report.html" and not (report.parent if str(report.parent) else Path(".")).is_dir():
        raise UserInputError(f"folder {str(report.parent)!r} does not exist; allowed: a path in an existing "
                             "folder", source=str(report), key="--out")
    page = analysis_report_html(manifest, results, series, tables, outcomes=outcomes, factors=factors,
                                prim_result=found, success=definition, level=level)
    target.mkdir(exist_ok=True)
    for name, table in tables.items():
        write_table(table, target / f"{name}.csv")
    write_text_atomic(report, page)
    return tables


__all__ = ["DEFAULT_OUTCOMES", "analyze", "categorical_factors", "discover", "factor_columns", "grid",
           "main_effects", "morris_indices", "parse_success", "read_design", "read_manifest", "sensitivity",
           "sobol_indices", "sobol_second_order", "success_mask", "summary_by_point"]
