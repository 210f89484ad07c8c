"""The self-contained HTML report of an experiment's analysis (see :func:`sim.experiments.analyze`).

Sections: provenance; summary per design point with confidence intervals; heatmaps of the mean
outcome and the success rate over two factors (with more than two factors, the two with the
largest main effect on the first outcome, averaged over the others; factors with many values
are binned); tornado charts of Morris mu* or Sobol S1/ST with their confidence bars; PRIM
boxes and the coverage/density trade-off; weekly trajectories (median and 2.5-97.5% band) per
category, per design point (at most MAX_GROUPS), or else per verdict. The page layout, the
band traces and the single inline copy of plotly.js come from :mod:`sim.report`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .. import report as base
from .analysis import categorical_factors, grid, main_effects
from .prim import PrimResult

MAX_ROWS = 60  # design points shown in the report's summary table (the CSV has all)
MAX_GROUPS = 12  # design points charted one by one before trajectories are grouped by verdict


def _layout(fig: go.Figure, title: str, height: int = 380, **kwargs: Any) -> go.Figure:
    fig.update_layout(title=title, template="plotly_white", height=height,
                      margin={"l": 60, "r": 20, "t": 50, "b": 40}, **kwargs)
    return fig


def _label(value: Any) -> str:
    return base.format_number(float(value)) if isinstance(value, (int, float, np.number)) \
        and not isinstance(value, bool) else str(value)


# ------------------------------------------------------------------ tables
def provenance_frame(manifest: dict[str, Any], results: pd.DataFrame) -> pd.DataFrame:
    """Experiment, spec hash, version(s), root seed, design and run counts, as a two-column table."""
    ok = int((results["status"] == "ok").sum()) if "status" in results else len(results)
    versions = sorted(set(map(str, results["version"].dropna()))) if "version" in results else []
    rows = [("experiment", manifest.get("experiment", "n/a")), ("spec hash", manifest.get("spec_hash", "n/a")),
            ("version", manifest.get("version", "n/a") if not versions else ", ".join(versions)),
            ("root seed", manifest.get("root_seed", "n/a")), ("design", manifest.get("design", "n/a")),
            ("factors", ", ".join(manifest.get("factors", {}))),
            ("design points", manifest.get("n_points", results["point_id"].nunique())),
            ("replicates per point", manifest.get("replicates", "n/a")), ("weeks", manifest.get("weeks", "n/a")),
            ("runs ok", ok), ("runs failed", len(results) - ok), ("created", manifest.get("created", "n/a"))]
    posterior = manifest.get("posterior")
    rows.append(("behavioural parameters", "developers' defaults (uncalibrated)" if not posterior else
                 f"calibrated: posterior {posterior['id']} ({posterior['draws']} draws of "
                 f"{posterior['particles']} particles, one per run seed)"))
    return pd.DataFrame(rows, columns=["item", "value"]).astype(str)


def _interval(mean: float, low: float, high: float) -> str:
    if not math.isfinite(mean):
        return "n/a"
    if not math.isfinite(low):
        return base.format_number(mean)
    return f"{base.format_number(mean)} [{base.format_number(low)}, {base.format_number(high)}]"


def summary_display(summary: pd.DataFrame, factors: list[str], outcomes: list[str]) -> pd.DataFrame:
    """The summary as strings: factors, runs, ``mean [CI]`` per outcome, success rate [Wilson]."""
    shown = summary[["point_id", *factors, "n_ok", "n_failed"]].copy()
    for factor in factors:
        shown[factor] = shown[factor].map(_label)
    for o in (o for o in outcomes if f"{o}_mean" in summary):  # 'success' is the success rate column
        shown[o] = [_interval(m, lo, hi) for m, lo, hi in
                    zip(summary[f"{o}_mean"], summary[f"{o}_ci_low"], summary[f"{o}_ci_high"])]
    shown["success rate"] = [f"{r:.0%} [{lo:.0%}, {hi:.0%}]" if math.isfinite(r) else "n/a"
                             for r, lo, hi in zip(summary["success_rate"], summary["success_low"],
                                                  summary["success_high"])]
    return shown


# ------------------------------------------------------------------ charts
def heatmap_factors(results: pd.DataFrame, factors: list[str], outcome: str) -> list[str]:
    """The factors of the heatmap: both if there are two, else the two with the largest main effect."""
    varying = [f for f in factors if results[f].nunique() > 1]
    if len(varying) <= 2:
        return varying
    return main_effects(results, varying, outcome)["factor"].head(2).tolist()


def heatmap_figure(results: pd.DataFrame, x: str, y: str, outcome: str, title: str) -> go.Figure:
    table = grid(results, x, y, outcome)
    fig = go.Figure(go.Heatmap(z=table.to_numpy(dtype=float), x=[_label(v) for v in table.columns],
                               y=[_label(v) for v in table.index], colorscale="Viridis",
                               colorbar={"title": outcome}, hoverongaps=False))
    return _layout(fig, title, xaxis={"title": x, "type": "category"},
                   yaxis={"title": y, "type": "category", "automargin": True})


def effect_figure(summary: pd.DataFrame, factor: str, outcome: str, level: float) -> go.Figure:
    """One-factor sweeps: mean outcome per point with its confidence interval."""
    rows = summary.sort_values(factor)
    mean = rows[f"{outcome}_mean"]
    fig = go.Figure(go.Scatter(x=[_label(v) for v in rows[factor]], y=mean, mode="markers+lines",
                               error_y={"type": "data", "symmetric": False,
                                        "array": rows[f"{outcome}_ci_high"] - mean,
                                        "arrayminus": mean - rows[f"{outcome}_ci_low"]}))
    return _layout(fig, f"{outcome}: mean and {level:.0%} CI per value of {factor}",
                   xaxis={"title": factor, "type": "category"}, yaxis={"title": outcome})


def tornado_figure(rows: pd.DataFrame, title: str) -> go.Figure:
    """Horizontal bars, largest effect on top: mu* (Morris) or S1 and ST (Sobol), with conf bars."""
    if rows["method"].iloc[0] == "morris":
        rows = rows.sort_values("mu_star")
        traces = [go.Bar(y=rows["factor"], x=rows["mu_star"], orientation="h", name="mu*",
                         error_x={"type": "data", "array": rows["mu_star_conf"]})]
        xaxis = "mu* (mean |elementary effect|, per unit of normalised range)"
    else:
        rows = rows.sort_values("ST")
        traces = [go.Bar(y=rows["factor"], x=rows[k], orientation="h", name=k,
                         error_x={"type": "data", "array": rows[f"{k}_conf"]}) for k in ("S1", "ST")]
        xaxis = "Sobol index (S1: alone; ST: with interactions)"
    fig = go.Figure(traces)
    return _layout(fig, title, height=max(260, 60 + 35 * len(rows)), barmode="group",
                   xaxis={"title": xaxis}, yaxis={"automargin": True}, legend={"orientation": "h", "y": -0.25})


def tradeoff_figure(found: PrimResult) -> go.Figure:
    """Coverage vs density of every peeling step of the first box, the chosen step marked."""
    steps = found.trajectory[found.trajectory["box"] == 0]
    chosen = steps[steps["chosen"]]
    traces = [go.Scatter(x=steps["coverage"], y=steps["density"], mode="markers+lines", name="peeling steps",
                         marker={"color": steps["support"], "colorscale": "Viridis", "showscale": True,
                                 "colorbar": {"title": "support"}},
                         text=[f"step {s}" for s in steps["step"]])]
    if len(chosen):
        traces.append(go.Scatter(x=chosen["coverage"], y=chosen["density"], mode="markers", name="chosen box",
                                 marker={"size": 16, "symbol": "star", "color": "crimson"}))
    fig = go.Figure(traces)
    fig.add_hline(y=found.base_rate, line_dash="dot", annotation_text="base rate")
    return _layout(fig, "PRIM peeling trajectory: coverage vs density",
                   xaxis={"title": "coverage (share of all successes in the box)"},
                   yaxis={"title": "density (share of the box's runs that succeed)"},
                   legend={"orientation": "h", "y": -0.25})


def _trajectory_groups(results: pd.DataFrame, manifest: dict[str, Any], factors: list[str]) -> tuple[pd.Series, str]:
    """Run id -> group label, and what the groups are."""
    runs = results.set_index("run_id")
    categories = categorical_factors(results, manifest)
    if categories:
        label = runs[categories].astype(str).agg(", ".join, axis=1)
        return label, f"per {', '.join(categories)}"
    if runs["point_id"].nunique() <= MAX_GROUPS:
        label = runs[factors].apply(lambda r: ", ".join(f"{k}={_label(v)}" for k, v in r.items()), axis=1)
        return label, "per design point"
    return runs["verdict"].astype(str), "per verdict (too many design points to chart one by one)"


def trajectory_figures(series: pd.DataFrame, results: pd.DataFrame, manifest: dict[str, Any],
                       factors: list[str]) -> tuple[list[go.Figure], str]:
    """Median line and 2.5-97.5% band (sim.report.band_traces) of each weekly chart, per group."""
    ok_runs = results[results["status"] == "ok"] if "status" in results else results
    labels, how = _trajectory_groups(ok_runs, manifest, factors)
    series = series[series["run_id"].isin(labels.index)].assign(group=lambda s: s["run_id"].map(labels))
    groups = list(dict.fromkeys(labels.sort_values(kind="stable")))
    figures = []
    for title, columns in base.CHARTS:
        columns = tuple(c for c in columns if c[0] in series.columns)
        if not columns:
            continue
        traces: list[go.Scatter] = []
        for k, group in enumerate(groups):
            rows = series[series["group"] == group]
            if rows.empty:  # runs without weekly rows (e.g. outputs = "final" batches)
                continue
            for column, suffix, dash in columns:
                weekly = rows.pivot(index="week", columns="run_id", values=column)
                traces += base.band_traces(weekly, f"{group} {suffix}".strip(),
                                           base.COLORS[k % len(base.COLORS)], dash)
        figures.append(base._figure(title, traces))
    return figures, how


# ------------------------------------------------------------------ the page
class _Figures:
    """Renders figure groups in page order; only the first group on the page carries plotly.js."""

    def __init__(self) -> None:
        self.done = False

    def __call__(self, figures: list[go.Figure]) -> str:
        text = base._figures_html(figures, with_plotlyjs=not self.done)
        self.done = self.done or bool(figures)
        return text


def _heatmap_section(results: pd.DataFrame, summary: pd.DataFrame, factors: list[str], outcomes: list[str],
                     level: float, render: _Figures) -> str | None:
    pair = heatmap_factors(results, factors, outcomes[0])
    if len(pair) == 1:
        return base._section("Effect of the factor",
                             render([effect_figure(summary, pair[0], o, level) for o in outcomes]))
    if len(pair) != 2:
        return None
    x, y = pair
    figures = [heatmap_figure(results, x, y, o, f"Mean {o} over {x} x {y}") for o in outcomes]
    figures.append(heatmap_figure(results, x, y, "success", f"Success rate over {x} x {y}"))
    varying = [f for f in factors if results[f].nunique() > 1]
    which = "the two factors" if len(varying) == 2 else \
        f"the two factors with the largest main effect on {outcomes[0]}, averaged over the other factors"
    return base._section("Heatmaps", base._note(
        f"Cells: mean over completed runs, for {which}. Factors with more than 12 values are cut into "
        "8 equal-width bins, labelled by their midpoint."), render(figures))


def _sensitivity_section(sens: pd.DataFrame, level: float, render: _Figures) -> str:
    figures = [tornado_figure(rows, f"{outcome}: {method} sensitivity"
                              + ("" if category == "all" else f" ({category})"))
               for (outcome, category, method), rows in sens.groupby(["outcome", "category", "method"], sort=False)]
    note = ("Morris screening: mu* ranks factors by the mean absolute elementary effect; sigma large "
            "relative to mu* means interactions or non-linearity." if sens["method"].iloc[0] == "morris" else
            "Sobol indices: S1 is the share of the outcome's variance due to the factor alone, ST adds "
            "its interactions.")
    return base._section("Sensitivity", base._note(
        f"{note} Error bars: {level:.0%} bootstrap confidence. Each point's outcome is the mean over its "
        "completed replicates; crossed categories are analysed separately; units: Morris trajectories or Sobol "
        "base samples (N) used."),
        base._table_html(sens.dropna(axis=1, how="all").round(4)), render(figures))


def _prim_section(boxes: pd.DataFrame, found: PrimResult, success: str, render: _Figures) -> str:
    table = (base._table_html(boxes[["box", "range", "coverage", "density", "support", "n", "test_density",
                                     "test_low"]].round(4))
             if len(boxes) else base._note("No box: no region of the factors has a success rate clearly above "
                                           "the base rate on held-out runs."))
    chart = render([tradeoff_figure(found)]) if len(found.trajectory) else ""
    return base._section("Scenario discovery (PRIM)", base._note(
        f"Success: {success}. Base rate {found.base_rate:.1%} of {found.n} completed runs. PRIM (Friedman & "
        "Fisher 1999) peels the factor space; the box is the peeling step whose held-out density has the best "
        "lower 95% Wilson bound, provided that bound beats the base rate (scenario discovery, Bryant & Lempert "
        "2010). Categorical factors are one-hot: 'is X' / 'is not X'; restrictions with a quasi-p-value above "
        "0.05 are dropped." + ("" if found.split else " Too few runs for a held-out split: the box was chosen "
                                                      "on the runs it was peeled on, so its density is optimistic.")),
        table, chart)


def analysis_report_html(manifest: dict[str, Any], results: pd.DataFrame, series: pd.DataFrame | None,
                         tables: dict[str, pd.DataFrame], *, outcomes: list[str], factors: list[str],
                         prim_result: PrimResult, success: str, level: float = 0.95) -> str:
    """The analysis report as one HTML document (plotly.js inlined once, no network address)."""
    render = _Figures()
    summary = tables["summary_by_point"]
    shown = summary_display(summary, factors, outcomes)
    more = f" Showing the first {MAX_ROWS} of {len(shown)} points; analysis/summary_by_point.csv has all." \
        if len(shown) > MAX_ROWS else ""
    body = [
        base._section("Provenance", base._table_html(provenance_frame(manifest, results)), base._note(
            "Every run's seed, scenario hash and version are in parts/; manifest.json holds the full spec.")),
        base._section("Outcomes per design point", base._table_html(shown.head(MAX_ROWS)), base._note(
            f"mean [{level:.0%} t interval of the mean] over the completed runs of each point; success rate "
            f"[{level:.0%} Wilson interval] = share of completed runs whose verdict is success.{more}")),
    ]
    heat = _heatmap_section(results, summary, factors, outcomes, level, render)
    if heat:
        body.append(heat)
    if "sensitivity" in tables:
        body.append(_sensitivity_section(tables["sensitivity"], level, render))
    body.append(_prim_section(tables["prim_boxes"], prim_result, success, render))
    if series is not None and "run_id" in series:
        figures, how = trajectory_figures(series, results, manifest, factors)
        if figures:
            body.append(base._section("Over time", base._note(
                f"Lines: median across runs {how}; bands: 2.5% to 97.5%."), render(figures)))
    return base._page(f"socialsim experiment: {manifest.get('experiment', 'results')}", body)


__all__ = ["analysis_report_html", "heatmap_factors", "print_tables", "provenance_frame", "summary_display"]


# ------------------------------------------------------------------ terminal
def print_tables(tables: dict[str, pd.DataFrame], console: Any, outcomes: list[str], top: int = 15) -> None:
    """Print the key tables with rich: best design points, sensitivity indices, PRIM boxes."""
    from rich.table import Table

    summary = tables["summary_by_point"]
    columns = list(summary.columns)
    factors = columns[1:columns.index("n_ok")]
    shown = summary_display(summary.sort_values(["success_rate", "point_id"], ascending=[False, True]),
                            factors, outcomes)
    table = Table(*shown.columns, title=f"{len(shown)} design points"
                  + (f" (top {top} by success rate)" if len(shown) > top else ""))
    for row in shown.head(top).itertuples(index=False):
        table.add_row(*map(str, row))
    console.print(table)
    if "sensitivity" in tables:
        sens = tables["sensitivity"].dropna(axis=1, how="all")
        keys = [c for c in ("mu_star", "mu_star_conf", "sigma", "S1", "S1_conf", "ST", "ST_conf") if c in sens]
        table = Table("outcome", "category", "factor", *keys, title=f"{sens['method'].iloc[0]} sensitivity")
        for row in sens.itertuples(index=False):
            table.add_row(row.outcome, row.category, row.factor,
                          *(base.format_number(float(getattr(row, k))) for k in keys))
        console.print(table)
    boxes = tables["prim_boxes"]
    if boxes.empty:
        console.print("PRIM: no box beats the base rate on held-out runs.")
    else:
        table = Table("box", "range", "coverage", "density", "support",
                      title=f"PRIM boxes (success: {boxes['success'].iloc[0]}, base rate "
                            f"{boxes['base_rate'].iloc[0]:.1%})")
        for row in boxes.itertuples(index=False):
            table.add_row(str(row.box), row.range, f"{row.coverage:.0%}", f"{row.density:.0%}", f"{row.support:.0%}")
        console.print(table)
