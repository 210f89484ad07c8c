"""Summary statistics and self-contained HTML reports of runs.

The CLI (``socialsim compare``), the report and later the dashboard share the same helpers, so a
number in the terminal is the number in the report:

* :func:`outcome_table` - median and empirical 95% interval (2.5% and 97.5% percentiles across
  replicates) of every final outcome in :data:`~sim.outputs.SUMMARY_COLUMNS`, per scenario;
* :func:`success_table` - share of replicates whose verdict is success, with a 95% Wilson
  interval (:func:`wilson_interval`), and the count of each verdict;
* :func:`compare_report` / :func:`run_report` - an HTML file with everything inline (plotly.js
  is embedded once, no CDN), so a report opens offline and can be mailed as one file.
"""

from __future__ import annotations

import html
import json
import math
import warnings
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from .outputs import SUMMARY_COLUMNS, VERDICTS, RunResult, atomic_write

Results = dict[str, list[RunResult]]

Z95 = 1.959963984540054  # two-sided 95% normal quantile
LOW_Q, HIGH_Q = 0.025, 0.975
COLORS = qualitative.Plotly + qualitative.D3


def strategy_color(label: str) -> str:
    """The colour of a strategy, by its name: the same in every chart, report and page, whichever
    strategies are shown beside it (a preset by its place among all presets, anything else by a
    stable hash of its name)."""
    from .scenario import preset_names

    presets = preset_names()
    base = str(label).split(" (")[0].split(" #")[0]
    if base in presets:
        return COLORS[presets.index(base) % len(COLORS)]
    import hashlib

    digest = int(hashlib.sha256(str(label).encode()).hexdigest()[:8], 16)
    return COLORS[len(presets) + digest % max(1, len(COLORS) - len(presets))]

#: Outcomes summarised across replicates (``success`` is reported as a rate instead).
OUTCOMES: tuple[str, ...] = tuple(name for name in SUMMARY_COLUMNS if name != "success")

#: Weekly series charted with a median line and a 95% band: (title, [(column, label, dash)]).
CHARTS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("Participation: eligible staff who posted in the last 4 weeks", (("active_share", "", "solid"),)),
    ("Readers (employees who read but do not post)", (("readers", "", "solid"),)),
    ("Productivity gain per employee (share of an employee-week)", (("productivity_gain", "", "solid"),)),
    ("Customers in the community", (("members", "", "solid"),)),
    ("Advocates (solid) and detractors (dashed)",
     (("advocates", "advocates", "solid"), ("detractors", "detractors", "dash"))),
    ("Customers' mean trust", (("mean_trust", "", "solid"),)),
    ("Net value (cumulative value - cumulative cost)", (("net_value", "", "solid"),)),
)

#: Employee stages, stacked in the stage chart (bottom to top).
STAGES: tuple[str, ...] = ("champions", "contributors", "readers", "lapsed", "non_users", "no_access")

PROVENANCE = ("scenario", "replicate", "seed", "scenario_hash", "version", "engine")


# ------------------------------------------------------------------ statistics
def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes out of ``n`` trials (95% by default).

    Returns ``(nan, nan)`` when ``n`` is 0.
    """
    if n <= 0:
        return math.nan, math.nan
    if not 0 <= k <= n:
        raise ValueError(f"k={k} must be between 0 and n={n}")
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if k == 0 else max(0.0, centre - half)  # exact ends (no rounding residue)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def median_interval(values: Iterable[float]) -> tuple[float, float, float]:
    """Median, 2.5% and 97.5% empirical percentiles, ignoring NaN (all NaN if none is left)."""
    x = np.asarray(list(values), dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    low, med, high = np.quantile(x, [LOW_Q, 0.5, HIGH_Q])
    return float(med), float(low), float(high)


def outcome_table(results: Results) -> pd.DataFrame:
    """Median and 95% interval of every outcome per scenario (one row per outcome x scenario).

    Columns: outcome, meaning, scenario, median, low, high, runs.
    """
    rows = []
    for outcome in OUTCOMES:
        for label, runs in results.items():
            med, low, high = median_interval(r.summary.get(outcome, math.nan) for r in runs)
            rows.append({"outcome": outcome, "meaning": SUMMARY_COLUMNS[outcome], "scenario": label,
                         "median": med, "low": low, "high": high, "runs": len(runs)})
    return pd.DataFrame(rows, columns=["outcome", "meaning", "scenario", "median", "low", "high", "runs"])


def success_table(results: Results) -> pd.DataFrame:
    """Per scenario: runs, the count of each verdict, and the success rate with a 95% Wilson interval."""
    rows = []
    for label, runs in results.items():
        verdicts = [r.verdict for r in runs]
        k, n = verdicts.count("success"), len(verdicts)
        low, high = wilson_interval(k, n)
        rows.append({"scenario": label, "runs": n, **{v: verdicts.count(v) for v in VERDICTS},
                     "success_rate": k / n if n else math.nan, "rate_low": low, "rate_high": high})
    return pd.DataFrame(rows)


def format_number(x: float) -> str:
    """A short, scale-aware rendering of one number ('n/a' for NaN)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def format_interval(median: float, low: float, high: float) -> str:
    """``median [low, high]``."""
    if not math.isfinite(median):
        return "n/a"
    return f"{format_number(median)} [{format_number(low)}, {format_number(high)}]"


def display_table(results: Results) -> pd.DataFrame:
    """The comparison as strings: one row per outcome plus success rate and verdicts, one column per scenario."""
    stats = outcome_table(results)
    stats["cell"] = [format_interval(m, lo, hi) for m, lo, hi in zip(stats["median"], stats["low"], stats["high"])]
    table = stats.pivot(index="outcome", columns="scenario", values="cell").reindex(index=list(OUTCOMES))
    table = table[list(results)]
    success = success_table(results).set_index("scenario")
    table.loc["success rate"] = [
        f"{s.success_rate:.0%} [{s.rate_low:.0%}, {s.rate_high:.0%}]" if s.runs else "n/a"
        for s in success.itertuples()]
    table.loc["verdicts"] = [", ".join(f"{v} {int(success.loc[label, v])}" for v in VERDICTS) for label in results]
    table.index.name = "outcome"
    table.columns.name = None
    return table


# ------------------------------------------------------------------ tables of runs
def summary_frame(results: Results) -> pd.DataFrame:
    """One row per scenario x replicate: provenance, verdict and every summary value."""
    rows = []
    for label, runs in results.items():
        for i, r in enumerate(runs):
            rows.append({**r.provenance, "scenario": label, "replicate": i, "verdict": r.verdict,
                         **{k: v for k, v in r.summary.items() if k != "verdict"}})
    frame = pd.DataFrame(rows)
    first = [c for c in PROVENANCE + ("verdict",) if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]]


def series_frame(results: Results) -> pd.DataFrame:
    """All weekly series of all runs, with scenario, replicate and seed columns (long form)."""
    frames = []
    for label, runs in results.items():
        for i, r in enumerate(runs):
            frame = r.table("series")
            frame["scenario"] = label
            frame["replicate"] = i
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------ charts
def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def band_traces(weekly: pd.DataFrame, name: str, color: str, dash: str = "solid",
                group: str | None = None) -> list[go.Scatter]:
    """Median line and 2.5-97.5% band of one quantity (rows: weeks, columns: replicates).

    The band is two traces (lower bound, then upper bound filled down to it with
    ``fill='tonexty'``); it is left out when there is a single replicate.
    """
    weeks = weekly.index.to_numpy()
    values = weekly.to_numpy(dtype=np.float64)
    with warnings.catch_warnings():  # weeks where a quantity is undefined in every run
        warnings.simplefilter("ignore", RuntimeWarning)
        low, median, high = np.nanquantile(values, [LOW_Q, 0.5, HIGH_Q], axis=1)
    group = group or name
    traces = []
    if values.shape[1] > 1:
        traces += [
            go.Scatter(x=weeks, y=low, mode="lines", line={"width": 0}, legendgroup=group,
                       showlegend=False, hoverinfo="skip", name=f"{name} 2.5%"),
            go.Scatter(x=weeks, y=high, mode="lines", line={"width": 0}, fill="tonexty",
                       fillcolor=_rgba(color, 0.2), legendgroup=group, showlegend=False,
                       hoverinfo="skip", name=f"{name} 97.5%"),
        ]
    traces.append(go.Scatter(x=weeks, y=median, mode="lines", name=name, legendgroup=group,
                             line={"color": color, "dash": dash, "width": 2}))
    return traces


def _figure(title: str, traces: list[go.Scatter], yaxis: str = "") -> go.Figure:
    fig = go.Figure(traces)
    fig.update_layout(title=title, xaxis_title="week", yaxis_title=yaxis, template="plotly_white",
                      height=380, margin={"l": 60, "r": 20, "t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def band_figures(series: pd.DataFrame) -> list[go.Figure]:
    """One figure per chart in :data:`CHARTS`: a median line and band per scenario."""
    labels = list(dict.fromkeys(series["scenario"]))
    figures = []
    for title, columns in CHARTS:
        traces: list[go.Scatter] = []
        for label in labels:
            rows = series[series["scenario"] == label]
            for column, suffix, dash in columns:
                weekly = rows.pivot(index="week", columns="replicate", values=column)
                name = f"{label} {suffix}".strip()
                traces += band_traces(weekly, name, strategy_color(label), dash)
        figures.append(_figure(title, traces))
    return figures


def stage_figure(result: RunResult, title: str) -> go.Figure:
    """Stacked area of employees by stage over the weeks of one run."""
    series = result.series
    traces = [go.Scatter(x=series["week"], y=series[stage], name=stage, mode="lines", stackgroup="stages",
                         line={"width": 0.5, "color": COLORS[i % len(COLORS)]})
              for i, stage in enumerate(STAGES)]
    return _figure(title, traces, yaxis="employees")


# ------------------------------------------------------------------ HTML
CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } .note { color: #555; font-size: 0.9rem; }
"""


def _table_html(frame: pd.DataFrame, index: bool = False) -> str:
    return frame.to_html(index=index, escape=True, border=0, na_rep="n/a")


def _figures_html(figures: list[go.Figure], with_plotlyjs: bool = True) -> str:
    """The figures as divs; plotly.js is inlined once, before the first one (unless ``with_plotlyjs``
    is False: a page that already inlined it)."""
    parts = [fig.to_html(full_html=False, include_plotlyjs=(with_plotlyjs and i == 0),
                         config={"displaylogo": False})
             for i, fig in enumerate(figures)]
    # The bundle's only CDN address is the default topojsonURL (maps only, never used here);
    # point it at a relative folder so the file holds no network address at all.
    return "\n".join(parts).replace('"https://cdn.plot.ly/un/"', '"topojson/"')


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n" + "\n".join(body) + "\n</body>\n</html>\n")


def _section(title: str, *content: str) -> str:
    return f"<h2>{html.escape(title)}</h2>\n" + "\n".join(content)


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _provenance_frame(results: Results, root_seed: int | None) -> pd.DataFrame:
    rows = []
    for label, runs in results.items():
        rows.append({"scenario": label,
                     "scenario hash": ", ".join(sorted({r.scenario_hash for r in runs})),
                     "replicates": len(runs), "version": ", ".join(sorted({r.version for r in runs})),
                     "engine": ", ".join(sorted({r.engine for r in runs})),
                     "root seed": "n/a" if root_seed is None else root_seed,
                     "behavioural parameters": posterior_text(runs)})
    return pd.DataFrame(rows)


def posterior_text(runs: list[Any]) -> str:
    """Which posterior a set of runs drew from and how many draws, or that they are uncalibrated."""
    drawn = [r.posterior for r in runs if getattr(r, "posterior", None) is not None]
    if not drawn:
        return "developers' defaults (uncalibrated)"
    ids = sorted({d["id"] for d in drawn})
    distinct = len({(d["id"], d["particle"]) for d in drawn})
    draws = f"{len(drawn)} draw{'s' if len(drawn) != 1 else ''}"
    return f"posterior {', '.join(ids)}: {draws} ({distinct} distinct particle{'s' if distinct != 1 else ''})"


def levers_frame(scenarios: dict[str, Any]) -> pd.DataFrame:
    """Every lever value of each scenario (one row per key, one column per scenario)."""
    rows: dict[str, dict[str, str]] = {}
    for label, scenario in scenarios.items():
        for key, value in scenario.to_dict().items():
            rows.setdefault(key, {})[label] = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("lever").reset_index()


def compare_report_html(results: Results, *, root_seed: int | None = None,
                        scenarios: dict[str, Any] | None = None) -> str:
    """The comparison report as one self-contained HTML document.

    Args:
        results: label -> every replicate's result (all of them are summarised and charted).
        root_seed: the seed the user gave (replicate seeds derive from it; each is in the table).
        scenarios: label -> Scenario, to list every lever value in the report.
    """
    if not results or not all(results.values()):
        raise ValueError("compare_report needs at least one run per scenario")
    outcomes = display_table(results).reset_index()
    outcomes.insert(1, "meaning", [SUMMARY_COLUMNS.get(o, "") for o in outcomes["outcome"]])
    success = success_table(results)
    for col in ("success_rate", "rate_low", "rate_high"):
        success[col] = success[col].map(lambda x: "n/a" if not math.isfinite(x) else f"{x:.1%}")
    figures = band_figures(series_frame(results))
    figures += [stage_figure(runs[0], f"Employees by stage: {label}, replicate 0 (seed {runs[0].seed})")
                for label, runs in results.items()]
    replicates = max(len(runs) for runs in results.values())
    seeds = pd.DataFrame([{"replicate": k + 1, "seed": r.seed} for k, r in enumerate(next(iter(results.values())))])
    body = [
        _section("Provenance", _table_html(_provenance_frame(results, root_seed)), _note(
            "Every scenario ran with the same replicate seeds (common random numbers), so differences "
            "between scenarios are not differences in luck. Replicate seeds derive from the root seed:"),
                 _table_html(seeds)),
        _section("Outcomes at the horizon", _table_html(outcomes), _note(
            f"median [2.5%, 97.5%] across {replicates} replicates (empirical 95% interval); "
            "success rate with a 95% Wilson interval.")),
        _section("Success rate", _table_html(success)),
        *([_section("Lever values", _table_html(levers_frame(scenarios)))] if scenarios else []),
        _section("Over time", _note("Lines: median across replicates; bands: 2.5% to 97.5%."),
                 _figures_html(figures)),
    ]
    return _page(f"socialsim comparison: {', '.join(results)}", body)


def run_report_html(result: RunResult) -> str:
    """A single run's report (provenance, outcomes, weekly charts) as one HTML document."""
    provenance = pd.DataFrame([{**result.provenance, "verdict": result.verdict}])
    outcomes = pd.DataFrame([{"outcome": k, "value": format_number(float(result.summary[k])),
                              "meaning": SUMMARY_COLUMNS[k]} for k in OUTCOMES if k in result.summary])
    series = result.table("series").assign(replicate=0)
    figures = band_figures(series) + [stage_figure(result, "Employees by stage")]
    body = [_section("Provenance", _table_html(provenance)),
            _section("Outcomes at the horizon", _table_html(outcomes)),
            _section("Over time", _figures_html(figures))]
    return _page(f"socialsim run: {result.scenario} (seed {result.seed})", body)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`sim.outputs.atomic_write`)."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def compare_report(results: Results, path: str | Path, *, root_seed: int | None = None) -> Path:
    """Write the self-contained comparison report (see :func:`compare_report_html`) atomically."""
    return write_text_atomic(path, compare_report_html(results, root_seed=root_seed))


def run_report(result: RunResult, path: str | Path) -> Path:
    """Write a single run's self-contained report atomically."""
    return write_text_atomic(path, run_report_html(result))
