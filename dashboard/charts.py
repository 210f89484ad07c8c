"""Plotly figures of the dashboard: functions of run results and tables, no model logic."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.outputs import RunResult
from sim.report import COLORS, band_traces, strategy_color

#: Employee stages (series column, label, colour), bottom to top in the stacked chart.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("champions", "champions", "#d95f02"),
    ("contributors", "contributors", "#1f78b4"),
    ("readers", "readers (lurkers)", "#a6cee3"),
    ("lapsed", "lapsed", "#7570b3"),
    ("non_users", "non-users with access", "#9e9e9e"),
    ("no_access", "no access yet", "#e3e3e3"),
)
#: Network node codes (see :func:`dashboard.compute.explore_run`) -> (label, colour).
NODE_STAGES: tuple[tuple[str, str], ...] = (
    ("no access yet", "#e3e3e3"), ("non-user", "#9e9e9e"), ("reader", "#a6cee3"),
    ("contributor", "#1f78b4"), ("champion", "#d95f02"), ("lapsed", "#7570b3"))

HEIGHT = 400


def _layout(fig: go.Figure, title: str, xaxis: str = "week", yaxis: str = "", height: int = HEIGHT) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=xaxis, yaxis_title=yaxis, template="plotly_white", height=height,
                      margin={"l": 60, "r": 20, "t": 60, "b": 40}, legend={"orientation": "h", "y": -0.18})
    return fig


def big(fig: go.Figure, size: int = 22) -> go.Figure:
    """Fonts for a projector: larger text everywhere, thicker lines."""
    fig.update_layout(font={"size": size}, title_font={"size": size + 6}, height=560,
                      legend={"font": {"size": size}, "orientation": "h", "y": -0.2})
    for trace in fig.data:  # the median lines, not the edges of the bands
        if getattr(trace, "mode", None) == "lines" and trace.showlegend is not False:
            trace.line.width = 5
    return fig


# ------------------------------------------------------------------ one run
def stage_area(result: RunResult, title: str = "Participation stages over time") -> go.Figure:
    """Stacked area: employees in each stage, week by week."""
    s = result.series
    fig = go.Figure([go.Scatter(x=s["week"], y=s[col], name=label, mode="lines", stackgroup="stages",
                                line={"width": 0.5, "color": color}, fillcolor=color)
                     for col, label, color in STAGES])
    return _layout(fig, title, yaxis="employees")


def share_bands(results: dict[str, list[RunResult]], column: str = "active_share",
                title: str = "Eligible staff who posted in the last 4 weeks", yaxis: str = "share of eligible staff",
                percent: bool = True) -> go.Figure:
    """Median line and 2.5-97.5% band of one weekly column, one colour per strategy."""
    traces: list[go.Scatter] = []
    for label, runs in results.items():
        weekly = pd.DataFrame({i: r.series.set_index("week")[column] for i, r in enumerate(runs)})
        traces += band_traces(weekly, label, strategy_color(label))  # by name: the same in every view
    fig = _layout(go.Figure(traces), title, yaxis=yaxis)
    if percent:
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig


def department_heatmap(result: RunResult) -> go.Figure:
    """Share of each department's eligible staff who posted in the last 4 weeks, week by week."""
    d = result.departments
    table = d.pivot(index="department", columns="week", values="active_share")
    facing = d.groupby("department")["customer_facing"].first()
    # An imported organisation's departments by their names; a generated one's by number.
    names = (d.groupby("department")["department_name"].first() if "department_name" in d
             else pd.Series({i: f"department {i}" for i in table.index}))
    labels = [f"{names.get(i, f'department {i}')}{' (customer-facing)' if facing.get(i, False) else ''}"
              for i in table.index]
    fig = go.Figure(go.Heatmap(z=table.to_numpy(), x=table.columns, y=labels, colorscale="Blues", zmin=0,
                               zmax=max(0.05, float(np.nanmax(table.to_numpy())) if table.size else 1.0),
                               colorbar={"title": "contributing", "tickformat": ".0%"},
                               hovertemplate="%{y}<br>week %{x}<br>%{z:.1%} contributing<extra></extra>"))
    fig = _layout(fig, "Contributors by department (share of each department)", yaxis="")
    fig.update_yaxes(autorange="reversed")
    return fig


def lorenz(result: RunResult) -> go.Figure:
    """Lorenz curve of cumulative contributions among employees with access, with the Gini."""
    p = result.participation
    x = np.sort(p.loc[p["has_access"], "contributions"].to_numpy(dtype=np.float64))
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect equality",
                               line={"dash": "dot", "color": "#999"}))
    if x.size and x.sum() > 0:
        people = np.concatenate([[0.0], np.arange(1, x.size + 1) / x.size])
        share = np.concatenate([[0.0], np.cumsum(x) / x.sum()])
        step = max(1, x.size // 600)  # a few hundred points draw the same curve
        idx = np.unique(np.concatenate([np.arange(0, people.size, step), [people.size - 1]]))
        fig.add_trace(go.Scatter(x=people[idx], y=share[idx], mode="lines", name="contributions",
                                 line={"color": COLORS[0], "width": 3}, fill="tonexty"))
    gini = result.summary.get("gini", math.nan)
    fig = _layout(fig, f"Participation inequality (Lorenz curve), Gini {gini:.2f}",
                  xaxis="share of users (fewest posts first)", yaxis="share of all posts")
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(tickformat=".0%")
    return fig


def nielsen_bars(result: RunResult) -> go.Figure:
    """Who makes the posts: the top 1%, the next 9% and the other 90% (Nielsen's 90-9-1)."""
    s = result.summary
    top1, next9 = float(s.get("top1_share", 0.0)), float(s.get("next9_share", 0.0))
    rest = max(0.0, 1.0 - top1 - next9)
    fig = go.Figure(go.Bar(x=["top 1% of users", "next 9%", "other 90%"], y=[top1, next9, rest],
                           marker_color=[COLORS[1], COLORS[0], "#bbb"], text=[f"{v:.0%}" for v in (top1, next9, rest)],
                           textposition="outside", name="share of posts"))
    fig = _layout(fig, f"90-9-1: share of all posts; {s.get('never_posted_share', 0):.0%} of users never posted",
                  xaxis="", yaxis="share of all posts")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.1])
    return fig


def customer_funnel(result: RunResult, customers: int) -> go.Figure:
    """Customers at the horizon: in the market, aware, members, advocates."""
    last = result.series.iloc[-1]
    stages = ["customers", "aware of the community", "community members", "advocates"]
    values = [customers, int(last["customers_aware"]), int(last["members"]), int(last["advocates"])]
    fig = go.Figure(go.Funnel(y=stages, x=values, textinfo="value+percent initial",
                              marker={"color": [COLORS[0], COLORS[2], COLORS[3], COLORS[4]]}))
    fig = _layout(fig, f"Customer funnel at week {int(last['week'])} ({int(last['detractors']):,} detractors)",
                  xaxis="", yaxis="")
    return fig


def trust(result: RunResult) -> go.Figure:
    """Customers' mean trust, advocates and detractors over time."""
    s = result.series
    fig = go.Figure([
        go.Scatter(x=s["week"], y=s["advocates"], name="advocates", mode="lines", line={"color": COLORS[2]}),
        go.Scatter(x=s["week"], y=s["detractors"], name="detractors", mode="lines", line={"color": COLORS[1]}),
        go.Scatter(x=s["week"], y=s["mean_trust"], name="mean trust (right axis)", mode="lines", yaxis="y2",
                   line={"color": "#333", "dash": "dash"}),
    ])
    fig = _layout(fig, "Customer trust, advocates and detractors", yaxis="customers")
    fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "range": [0, 1], "title": "mean trust",
                              "tickvals": [0, 0.25, 0.5, 0.75, 1], "showgrid": False})
    return fig


def value_cost(result: RunResult) -> go.Figure:
    """Cumulative value against cumulative cost, and the net value."""
    s = result.series
    fig = go.Figure([
        go.Scatter(x=s["week"], y=s["cumulative_value"], name="value so far", mode="lines",
                   line={"color": COLORS[2], "width": 3}),
        go.Scatter(x=s["week"], y=s["cumulative_cost"], name="cost so far", mode="lines",
                   line={"color": COLORS[1], "width": 3}),
        go.Scatter(x=s["week"], y=s["net_value"], name="net value", mode="lines", line={"color": "#333", "dash": "dash"}),
    ])
    return _layout(fig, "Value against cost (in employee-weeks of work)", yaxis="employee-weeks")


# ------------------------------------------------------------------ network
def layout_positions(department: np.ndarray) -> np.ndarray:
    """Deterministic 2-D positions: departments on a circle, members on a sunflower disc around its centre."""
    department = np.asarray(department)
    out = np.zeros((department.size, 2))
    groups = np.unique(department)
    ring = 1.0 if groups.size > 1 else 0.0
    sizes = {d: int((department == d).sum()) for d in groups}
    radius = 0.9 * math.sin(math.pi / max(groups.size, 2)) if groups.size > 1 else 1.0
    biggest = max(sizes.values()) if sizes else 1
    golden = math.pi * (3 - math.sqrt(5))
    for k, d in enumerate(groups):
        angle = 2 * math.pi * k / max(groups.size, 1)
        centre = ring * np.array([math.cos(angle), math.sin(angle)])
        members = np.flatnonzero(department == d)
        i = np.arange(members.size)
        r = radius * math.sqrt(members.size / biggest) * np.sqrt((i + 0.5) / max(members.size, 1))
        theta = i * golden
        out[members] = centre + np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    return out


def network_figure(network: dict[str, Any], max_frames: int = 53) -> go.Figure:
    """The sampled organisation coloured by stage, with a week slider and a play button."""
    pos = layout_positions(network["department"])
    edges = network["edges"]
    if len(edges) > 3000:  # keep the drawing light: a fixed, seeded subset of ties
        edges = edges[np.random.default_rng(0).choice(len(edges), 3000, replace=False)]
    ex = np.full(len(edges) * 3, np.nan)
    ey = np.full(len(edges) * 3, np.nan)
    if len(edges):
        ex[0::3], ex[1::3] = pos[edges[:, 0], 0], pos[edges[:, 1], 0]
        ey[0::3], ey[1::3] = pos[edges[:, 0], 1], pos[edges[:, 1], 1]
    stage = network["stage"]
    weeks = stage.shape[0] - 1
    shown = np.unique(np.linspace(0, weeks, min(max_frames, weeks + 1)).round().astype(int))
    n_codes = len(NODE_STAGES)
    # Stage codes coloured through a stepwise colour scale: numeric arrays keep the figure light.
    scale = []
    for code, (_, color) in enumerate(NODE_STAGES):
        scale += [[code / n_codes, color], [(code + 1) / n_codes, color]]
    hover = network.get("labels") or [f"employee {e}, department {d}"
                                      for e, d in zip(network["nodes"], network["department"])]

    def marker(week: int) -> dict:
        return {"size": 9, "color": stage[week].astype(np.int64), "colorscale": scale, "cmin": -0.5, "cmax": n_codes - 0.5,
                "line": {"width": 0.5, "color": "#555"}}

    def nodes(week: int) -> go.Scatter:
        return go.Scatter(x=pos[:, 0], y=pos[:, 1], mode="markers", name="employees", showlegend=False,
                          marker=marker(week), text=hover, hoverinfo="text")

    last = int(shown[-1])
    data = [go.Scatter(x=ex, y=ey, mode="lines", line={"width": 0.4, "color": "rgba(120,120,120,0.35)"},
                       hoverinfo="skip", showlegend=False, name="ties"), nodes(last)]
    data += [go.Scatter(x=[None], y=[None], mode="markers", marker={"size": 11, "color": c}, name=n)
             for n, c in NODE_STAGES]
    frames = [go.Frame(data=[go.Scatter(marker=marker(int(w)))], traces=[1], name=str(int(w))) for w in shown]
    steps = [{"label": str(int(w)), "method": "animate",
              "args": [[str(int(w))], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                       "transition": {"duration": 0}}]} for w in shown]
    fig = go.Figure(data=data, frames=frames)
    sampled = "" if len(network["nodes"]) == network["employees"] else \
        f" (a sample of {len(network['nodes'])} of {network['employees']:,}, the same share of each department)"
    fig.update_layout(
        title=f"The organisation's network by stage{sampled}", template="plotly_white", height=620,
        margin={"l": 20, "r": 20, "t": 60, "b": 20}, legend={"orientation": "h", "y": 1.02, "x": 0},
        xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"},
        sliders=[{"active": len(shown) - 1, "currentvalue": {"prefix": "week "}, "pad": {"t": 30}, "steps": steps,
                  "x": 0.14, "len": 0.86}],
        updatemenus=[{"type": "buttons", "showactive": False, "x": 0, "y": -0.02, "xanchor": "left",
                      "direction": "right", "pad": {"t": 40},
                      "buttons": [{"label": "▶ play", "method": "animate",
                                   "args": [None, {"frame": {"duration": 150, "redraw": True}, "fromcurrent": False,
                                                   "transition": {"duration": 0}}]},
                                  {"label": "❚❚ pause", "method": "animate",
                                   "args": [[None], {"mode": "immediate", "frame": {"duration": 0}}]}]}])
    return fig


# ------------------------------------------------------------------ comparisons
def success_bars(success: pd.DataFrame) -> go.Figure:
    """Success rate per strategy with its 95% Wilson interval."""
    rate = success["success_rate"].to_numpy(dtype=float)
    fig = go.Figure(go.Bar(
        x=success["scenario"], y=rate, marker_color=[strategy_color(s) for s in success["scenario"]],
        error_y={"type": "data", "symmetric": False, "array": success["rate_high"] - rate,
                 "arrayminus": rate - success["rate_low"]},
        text=[f"{r:.0%} of {n}" for r, n in zip(rate, success["runs"])], textposition="outside"))
    fig = _layout(fig, "Success rate (with 95% interval)", xaxis="", yaxis="share of replicates")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.15])
    return fig


# ------------------------------------------------------------------ experiments
def heatmap(table: pd.DataFrame, x: str, y: str, outcome: str) -> go.Figure:
    """Mean outcome on a grid of two factors (rows: y levels, columns: x levels)."""
    fig = go.Figure(go.Heatmap(z=table.to_numpy(dtype=float), x=[str(c) for c in table.columns],
                               y=[str(i) for i in table.index], colorscale="Viridis",
                               colorbar={"title": outcome},
                               hovertemplate=f"{x}=%{{x}}<br>{y}=%{{y}}<br>{outcome}=%{{z:.3g}}<extra></extra>"))
    return _layout(fig, f"Mean {outcome} by {x} and {y}", xaxis=x, yaxis=y, height=480)


def effect_bars(frame: pd.DataFrame, value: str, title: str, error: str | None = None,
                xaxis: str = "") -> go.Figure:
    """Horizontal bars of one column per factor (largest on top)."""
    frame = frame.sort_values(value, ascending=True)
    error_x = {"type": "data", "array": frame[error].to_numpy(dtype=float)} if error and error in frame else None
    fig = go.Figure(go.Bar(x=frame[value], y=frame["factor"].astype(str), orientation="h", error_x=error_x,
                           marker_color=COLORS[0]))
    return _layout(fig, title, xaxis=xaxis or value, yaxis="", height=max(300, 60 + 34 * len(frame)))


def point_lines(series: pd.DataFrame, column: str, labels: dict[int, str], title: str) -> go.Figure:
    """Mean weekly ``column`` per design point (one line each, at most a few dozen)."""
    mean = series.groupby(["point_id", "week"])[column].mean().reset_index()
    fig = go.Figure([go.Scatter(x=rows["week"], y=rows[column], mode="lines", name=labels.get(int(p), f"point {p}"),
                                line={"color": COLORS[k % len(COLORS)]})
                     for k, (p, rows) in enumerate(mean.groupby("point_id"))])
    return _layout(fig, title, yaxis=column)

