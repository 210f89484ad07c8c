"""The advisor's outputs: ``plans.csv``, one scenario file per plan, ``advice.json`` and a
self-contained ``report.html`` (the Pareto front, what each plan changes from the user's
scenario, and the smallest change that flips the verdict). Every file is written atomically."""

from __future__ import annotations

import html
import json
import os
import shutil
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import plotly.graph_objects as go

from ..report import _figures_html, _note, _page, _section, _table_html
from .levers import COSTS, LEADER_TIME, apply_plan

#: Columns of plans.csv before the lever values.
PLAN_COLUMNS = ("plan", "p_success", "p_success_low", "p_success_high", "cost", "p_success_search",
                "median_active_share", "runs", "changes", "changed_levers")


def changes_frame(advice: Any, levers: Sequence[str]) -> pd.DataFrame:
    """One row per plan and moved lever: its value now and in the plan."""
    rows = []
    for plan in advice.plans.to_dict("records"):
        for name in levers:
            if plan[name] != advice.current[name]:
                rows.append({"plan": plan["plan"], "lever": name, "now": advice.current[name], "plan value": plan[name]})
    return pd.DataFrame(rows, columns=["plan", "lever", "now", "plan value"])


def front_figure(advice: Any) -> go.Figure:
    plans = advice.plans
    fig = go.Figure()
    if len(plans):
        fig.add_trace(go.Scatter(
            x=plans["cost"], y=plans["p_success"], mode="markers+lines+text", text=plans["plan"],
            textposition="top center", name="Pareto plans (fresh seeds)",
            error_y=dict(type="data", symmetric=False, array=plans["p_success_high"] - plans["p_success"],
                         arrayminus=plans["p_success"] - plans["p_success_low"])))
    c = advice.current
    fig.add_trace(go.Scatter(x=[c["cost"]], y=[c["p_success"]], mode="markers", marker=dict(size=12, symbol="x"),
                             name="your current scenario",
                             error_y=dict(type="data", symmetric=False, array=[c["p_success_high"] - c["p_success"]],
                                          arrayminus=[c["p_success"] - c["p_success_low"]])))
    fig.add_hline(y=advice.meta.get("target", 0.5), line_dash="dot", annotation_text="target")
    if advice.meta.get("budget") is not None:
        fig.add_vline(x=advice.meta["budget"], line_dash="dash", annotation_text="budget")
    fig.update_layout(title="Pareto front: P(success) against cost (95% intervals from fresh seeds)",
                      xaxis_title="cost (employee-weeks)", yaxis_title="P(success)", yaxis_range=[-0.05, 1.05])
    return fig


#: Said when the flip, picked on the confirmation seeds, does not flip the verdict on the verification seeds.
NO_LONGER_FLIPS = "On those seeds it no longer flips the verdict: the flip may be luck of the confirmation seeds."
#: Said when no plan beats the current one on the confirmation seeds.
NO_BETTER_PLAN = "No plan found beats your current one on the fresh seeds."


def stated(picked: dict[str, Any], named: bool = True) -> str:
    """A chosen plan's P(success) as the advisor states it: from the verification seeds, with the
    confirmation estimate it was chosen by (which the winner's curse biases upwards)."""
    name = f"{picked['plan']}, " if named else ""
    text = (f"{name}P(success) {picked['p_success']:.0%} [{picked['p_success_low']:.0%}, "
            f"{picked['p_success_high']:.0%}] on {picked['runs']} seeds")
    if "p_success_confirm" not in picked:  # written before the advisor stated its picks from a third set
        return text
    return text + (f" neither the search nor the ranking used (chosen at {picked['p_success_confirm']:.0%} on "
                   "the confirmation seeds)")


def report_html(advice: Any, levers: Sequence[str], posterior: Any) -> str:
    meta = advice.meta
    c = advice.current
    verdict = "meets" if c["p_success"] >= meta["target"] else "misses"
    lines = [_note(f"Your scenario ({meta.get('source', '')}, organisation {meta.get('organisation', '')}): P(success) {c['p_success']:.0%} "
                   f"[{c['p_success_low']:.0%}, {c['p_success_high']:.0%}] on {c['runs']} fresh seeds; it {verdict} "
                   f"the target {meta['target']:.0%}.")]
    best = advice.best
    if best is not None:
        lines.append(_note(f"Best plan found: {stated(best)} (cost {best['cost']:.1f}; changes "
                           f"{best['changed_levers'] or 'none'})."))
    else:
        lines.append(_note(NO_BETTER_PLAN))
    flip = advice.flip
    if flip is None:
        lines.append(_note("No plan found flips that verdict within the levers and budget allowed."))
    else:
        moved = changes_frame(advice, levers)
        moved = moved[moved["plan"] == flip["plan"]]
        still = "" if flip["flips_on_fresh_seeds"] else " " + NO_LONGER_FLIPS
        lines.append(_note(f"Smallest change that flips the verdict: {stated(flip)} ({flip['changes']} lever(s), cost "
                           f"{flip['cost']:.1f}).{still}"))
        lines.append(_table_html(moved.drop(columns="plan")))
    shown = advice.plans[[c for c in PLAN_COLUMNS if c in advice.plans.columns]]
    cost_rows = pd.DataFrame([{"lever": k, "effort per 100 employees (whole range)": v.unit, "costly direction": v.costly,
                               "why": v.why} for k, v in COSTS.items()]
                             + [{"lever": LEADER_TIME, "effort per 100 employees (whole range)": "leader_time_cost x "
                                 "formal leaders x weeks", "costly direction": "up", "why": "leaders' time (004)"}])
    provenance = pd.DataFrame([{"key": k, "value": json.dumps(v) if isinstance(v, (list, dict)) else str(v)}
                               for k, v in meta.items()])
    calibrated = ("behavioural parameters drawn from posterior " + posterior.id if posterior is not None
                  else "developers' default behavioural parameters (uncalibrated)")
    body = [
        _section("Verdict", *lines),
        _section("Pareto front", _figures_html([front_figure(advice)]),
                 _note("Each plan's P(success) and interval come from fresh seeds the search never saw; "
                       "p_success_search is the search's own estimate. The best plan and the flip, picked by "
                       "those fresh-seed numbers, are stated above from a third set of seeds, since the best "
                       "of several noisy estimates is biased upwards (the winner's curse). " + calibrated + ".")),
        _section("Plans", _table_html(shown)),
        _section("What each plan changes from your scenario", _table_html(changes_frame(advice, levers))),
        _section("Cost model (employee-weeks, one-off)", _table_html(cost_rows)),
        _section("Provenance", _table_html(provenance)),
    ]
    return _page(f"socialsim advise: {html.escape(str(meta.get('scenario', '')))}", body)


def write_outputs(advice: Any, base: Any, levers: Sequence[str], posterior: Any) -> None:
    """plans.csv, plans/<plan>.toml, advice.json and report.html in ``advice.out_dir``."""
    from ..scenario import to_toml

    from ..outputs import write_files_atomic

    out = advice.out_dir
    plans = advice.plans
    columns = [*PLAN_COLUMNS, *levers]
    staging = out / f".plans.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for plan in plans.to_dict("records"):
        scenario = apply_plan(base, {k: plan[k] for k in levers}).with_levers(
            name=f"{base.name}-{plan['plan']}",
            description=f"socialsim advise: {plan['plan']} for {base.name} (P(success) {plan['p_success']:.0%} on the "
                        f"confirmation seeds, "
                        f"cost {plan['cost']:.1f} employee-weeks; changes: {plan['changed_levers'] or 'none'})")
        (staging / f"{plan['plan']}.toml").write_text(to_toml(scenario), encoding="utf-8")
    summary = {**advice.meta, "current": advice.current, "best": advice.best, "flip": advice.flip,
               "plans": plans.to_dict("records")}
    table = plans.reindex(columns=columns).to_csv(index=False)
    page = report_html(advice, levers, posterior)
    # the table, the summary and the page are staged together (all or nothing), then the plan files
    write_files_atomic({
        out / "plans.csv": lambda tmp: Path(tmp).write_text(table, encoding="utf-8"),
        out / "advice.json": lambda tmp: Path(tmp).write_text(json.dumps(summary, indent=1, default=str) + "\n",
                                                              encoding="utf-8"),
        out / "report.html": lambda tmp: Path(tmp).write_text(page, encoding="utf-8"),
    })
    old = out / "plans"
    if old.exists():
        shutil.rmtree(old)
    staging.rename(old)
