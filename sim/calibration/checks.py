"""Checks that a calibration can be trusted (Carrella 2021 on identification; Gelman et al. on
posterior predictive checks; Grimm et al. 2005 on patterns held out of the fit).

- :func:`predictive_draws` and :func:`predictive_check`: every target, fitted and held out,
  against the distribution of surveys simulated with parameters drawn from the posterior (and,
  for comparison, with the developers' defaults).
- :func:`identification`: which parameters the data pins down (posterior 90% interval narrower
  than half the prior range) and which it leaves loose.
- :func:`parameter_recovery`: a calibration against synthetic targets made with known
  parameters; does the posterior's 90% interval cover the truth?
- :func:`report_html`: all of it, with marginals, pair plots and model probabilities, as one
  self-contained page (``experiments/results/calibration/report.html``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..behaviour import BehaviourParameters
from .population import POPULATION_DEFAULTS, POPULATION_PARAMETERS
from .fit import FITTED, ORGANISATIONS, calibrate, few_particles, load_priors, particle_seed, simulate_survey
from .posterior import Posterior
from .targets import STATISTICS, Target

#: A parameter counts as pinned down when its posterior 90% interval is under this share of its prior range.
PINNED = 0.5


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of weighted values (the weights need not sum to 1)."""
    order = np.argsort(values)
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cum = np.cumsum(w) / w.sum()
    return float(v[min(len(v) - 1, int(np.searchsorted(cum, q)))])


def _survey_task(values: Mapping[str, Any], hierarchy: str, organisations: int, seed: int,
                 strategy_mix: Mapping[str, float] | None = None) -> dict[str, float]:
    from ..experiments.worker import single_numba_thread, tune_malloc

    tune_malloc()
    with single_numba_thread():
        return simulate_survey(values, hierarchy, organisations, seed, strategy_mix=strategy_mix)


def predictive_draws(posterior: Posterior | None, draws: int, *, organisations: int = ORGANISATIONS, seed: int = 0,
                     client: Any = None, strategy_mix: Mapping[str, float] | None = None) -> pd.DataFrame:
    """``draws`` simulated surveys, each with one particle drawn from the posterior by weight (or, with
    ``posterior=None``, all with the developers' defaults). One row per survey: particle, hypothesis, statistics.
    ``strategy_mix`` replaces the survey population's assumed mix (to see how much a check rests on it)."""
    jobs = []
    for k in range(draws):
        survey_seed = particle_seed(seed, 10_000, k)
        if posterior is None:
            values = {name: BehaviourParameters.model_fields[name].default for name in FITTED
                      if name not in POPULATION_PARAMETERS}
            index, hierarchy = -1, BehaviourParameters.model_fields["hierarchy_influence"].default
        else:
            index, drawn = posterior.draw(survey_seed)
            hierarchy = drawn.pop("hierarchy_influence", "top_down")
            values = {**drawn, **posterior.population_values(index)}
        jobs.append((index, values, hierarchy, survey_seed))
    if client is None:
        stats = [_survey_task(v, h, organisations, s, strategy_mix) for _, v, h, s in jobs]
    else:
        futures = [client.submit(_survey_task, v, h, organisations, s, strategy_mix, pure=False)
                   for _, v, h, s in jobs]
        stats = client.gather(futures)
    rows = [{"particle": i, "hierarchy_influence": h, "seed": s, **st} for (i, _, h, s), st in zip(jobs, stats)]
    return pd.DataFrame(rows)


def predictive_check(frame: pd.DataFrame, targets: Sequence[Target], posterior: Posterior | None = None,
                     seed: int = 0) -> pd.DataFrame:
    """Every target against the simulated surveys in ``frame``: one row per target.

    ``met``: for a binomial target, the observed k lies inside the central 90% of the predictive
    k of a survey of n firms (k ~ Binomial(n, p) with p from each simulated survey); for a band, the
    central 90% of the predictive statistic overlaps the band. A posterior-level target (the
    hierarchy hypotheses) compares the posterior's probability with its band.
    """
    rng = np.random.default_rng([seed, 0xC4EC])
    rows = []
    for t in targets:
        kind = STATISTICS[t.output][1]
        row = {"target": t.name, "role": t.role, "figure": t.figure, "source": t.source, "sample": t.sample,
               "output": t.output,
               "published": f"{t.k} of {t.n}" if t.measure == "binomial" else f"{t.low:g} to {t.high:g}"}
        if kind == "posterior":
            if posterior is None:
                continue
            weights = posterior.particles["weight"]
            value = float(weights[posterior.particles["hierarchy_influence"] != "top_down"].sum())
            row.update(median=value, low=value, high=value, share_in_band=float(t.low <= value <= t.high),
                       met=bool(t.low <= value <= t.high))
            rows.append(row)
            continue
        values = frame[t.output].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if len(values) == 0:
            row.update(median=math.nan, low=math.nan, high=math.nan, share_in_band=math.nan, met=False)
        elif t.measure == "binomial":
            k = rng.binomial(t.n, np.clip(values, 0, 1))
            low, high = np.quantile(k, [0.05, 0.95])
            row.update(median=float(np.median(values)), low=float(low) / t.n, high=float(high) / t.n,
                       share_in_band=float(np.mean(np.abs(k - t.k) <= 1.645 * math.sqrt(
                           t.n * t.centre * (1 - t.centre)))), met=bool(low <= t.k <= high))
        else:
            low, high = np.quantile(values, [0.05, 0.95])
            row.update(median=float(np.median(values)), low=float(low), high=float(high),
                       share_in_band=float(np.mean((values >= t.low) & (values <= t.high))),
                       met=bool(high >= t.low and low <= t.high))
        rows.append(row)
    return pd.DataFrame(rows)


def identification(posterior: Posterior, priors: Mapping[str, tuple[float, float, bool]] | None = None) -> pd.DataFrame:
    """Per fitted parameter: prior range, posterior median and 90% interval, and whether it is pinned down."""
    priors = priors or load_priors(posterior.parameters)
    p = posterior.particles
    w = p["weight"].to_numpy()
    rows = []
    for name in posterior.parameters:
        low, high, log = priors[name]
        v = p[name].to_numpy()
        q05, q50, q95 = (weighted_quantile(v, w, q) for q in (0.05, 0.5, 0.95))
        if log:
            ratio = (math.log(q95) - math.log(q05)) / (math.log(high) - math.log(low))
        else:
            ratio = (q95 - q05) / (high - low)
        rows.append({"parameter": name, "prior_low": low, "prior_high": high, "log_prior": log, "median": q50,
                     "q05": q05, "q95": q95, "width_vs_prior": ratio,
                     "default": (POPULATION_DEFAULTS[name] if name in POPULATION_DEFAULTS
                                 else BehaviourParameters.model_fields[name].default),
                     "identified": "pinned down" if ratio < PINNED else "loose"})
    return pd.DataFrame(rows)


def synthetic_targets(statistics: Mapping[str, float], targets: Sequence[Target]) -> tuple[Target, ...]:
    """The fitted targets recentred on simulated statistics, with the same measurement models
    (a binomial keeps its n; a band keeps its width, shifted to stay inside [0, 1])."""
    out = []
    for t in targets:
        if t.role != "fit":
            continue
        value = float(statistics[t.output])
        if t.measure == "binomial":
            out.append(dataclasses.replace(t, k=int(round(min(max(value, 0.0), 1.0) * t.n)),
                                           figure=f"synthetic: {t.figure}"))
        else:
            half = 0.5 * (t.high - t.low)
            centre = min(max(value, half), 1.0 - half)
            out.append(dataclasses.replace(t, low=centre - half, high=centre + half, figure=f"synthetic: {t.figure}"))
    return tuple(out)


def parameter_recovery(truth: Mapping[str, float], hierarchy: str, targets: Sequence[Target], *, out: Path,
                       population_size: int, generations: int, organisations: int = ORGANISATIONS,
                       seed: int = 7, workers: int | None = None, scheduler: str | None = None,
                       progress: Any = None) -> tuple[pd.DataFrame, Posterior, tuple[Target, ...]]:
    """Calibrate against synthetic targets made with ``truth``; per parameter, does the 90% interval cover it?

    The synthetic figures come from one simulated survey with the true parameters (as the real
    figures come from one survey of real firms), put into the measurement models of ``targets``.
    Only the true hierarchy hypothesis is fitted (model selection is checked on the real data).
    """
    from .posterior import load

    statistics = simulate_survey(dict(truth), hierarchy, organisations, particle_seed(seed, -3, 0))
    synthetic = synthetic_targets(statistics, targets)
    calibrate(targets=synthetic, population_size=population_size, generations=generations,
              organisations=organisations, seed=seed, out=out, workers=workers, scheduler=scheduler,
              hypotheses=(hierarchy,), fitted=tuple(truth), progress=progress)
    posterior = load(Path(out) / "posterior.csv")
    table = identification(posterior)
    table["truth"] = [float(truth[name]) for name in table["parameter"]]
    table["covered"] = (table["q05"] <= table["truth"]) & (table["truth"] <= table["q95"])
    return table, posterior, synthetic


# ------------------------------------------------------------------ the report
def _marginal_figures(posterior: Posterior, table: pd.DataFrame) -> list:
    import plotly.graph_objects as go

    figures = []
    p = posterior.particles
    for row in table.itertuples(index=False):
        fig = go.Figure(go.Histogram(x=p[row.parameter], y=p["weight"], histfunc="sum", nbinsx=20,
                                     marker_color="#3b6ea8", name="posterior"))
        fig.add_vline(x=row.default, line_dash="dot", annotation_text="default")
        fig.update_xaxes(range=[row.prior_low, row.prior_high], title=f"{row.parameter} (x axis = prior range)")
        fig.update_layout(title=f"{row.parameter}: {row.identified} (90% interval {row.width_vs_prior:.0%} of prior)",
                          height=260, margin=dict(l=40, r=10, t=40, b=40), showlegend=False)
        figures.append(fig)
    return figures


def _pair_figure(posterior: Posterior, table: pd.DataFrame, most: int = 6):
    import plotly.graph_objects as go

    names = list(table.sort_values("width_vs_prior")["parameter"][:most])
    p = posterior.particles
    size = 4 + 40 * p["weight"] / p["weight"].max()
    fig = go.Figure(go.Splom(dimensions=[{"label": n, "values": p[n]} for n in names],
                             marker=dict(size=size.clip(3, 14), color=p["hierarchy_influence"].map(
                                 {"top_down": "#c0392b", "bottom_up": "#27ae60", "middle_out": "#2980b9"}),
                                 opacity=0.6), diagonal_visible=False, showupperhalf=False))
    fig.update_layout(title=f"Pairs of the {len(names)} best-identified parameters (colour: hierarchy hypothesis; "
                            "size: weight)", height=760)
    return fig


def _check_figure(check: pd.DataFrame, frames: Mapping[str, pd.DataFrame], targets: Sequence[Target]):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    shown = [t for t in targets if STATISTICS[t.output][1] not in ("posterior",)]
    fig = make_subplots(rows=len(shown), cols=1, subplot_titles=[f"{t.name} ({t.role})" for t in shown],
                        vertical_spacing=0.35 / max(1, len(shown)))
    colours = {"calibrated": "#3b6ea8", "defaults": "#aaaaaa"}
    for r, t in enumerate(shown, start=1):
        low, high = t.interval
        fig.add_vrect(x0=low, x1=high, fillcolor="#f5b041", opacity=0.35, line_width=0, row=r, col=1)
        for name, frame in frames.items():
            fig.add_trace(go.Box(x=frame[t.output], name=name, marker_color=colours.get(name, "#555"),
                                 showlegend=r == 1, boxpoints=False, orientation="h"), row=r, col=1)
    fig.update_layout(height=150 * len(shown), title="Posterior predictive check: simulated surveys against each "
                      "published figure (orange band: the figure's range)", margin=dict(l=90, r=10, t=60, b=30))
    return fig


def report_html(posterior: Posterior, targets: Sequence[Target], check: pd.DataFrame, table: pd.DataFrame,
                frames: Mapping[str, pd.DataFrame], recovery: pd.DataFrame | None = None,
                recovery_meta: Mapping[str, Any] | None = None, default_check: pd.DataFrame | None = None) -> str:
    """The calibration report as one self-contained HTML page."""
    import plotly.graph_objects as go

    from ..report import _figures_html, _note, _page, _section, _table_html

    meta = posterior.meta
    probabilities = meta.get("model_probabilities", {})
    facts = pd.DataFrame([
        ("posterior", f"{posterior.id} ({posterior.path.name}, {len(posterior.particles)} particles)"),
        ("seed", meta.get("seed")), ("generations", meta.get("generations")),
        ("particles per generation", meta.get("population_size")),
        ("organisations per simulated survey", meta.get("organisations")),
        ("simulated surveys in all", meta.get("evaluations")),
        ("epsilon per generation", ", ".join(f"{e:.3g}" for e in meta.get("epsilon", []))),
        ("fitted parameters", ", ".join(meta.get("fitted", []))),
    ], columns=["", "value"])
    shown = check.copy()
    for col in ("median", "low", "high", "share_in_band"):
        shown[col] = shown[col].map(lambda x: "n/a" if not math.isfinite(x) else f"{x:.3g}")
    shown = shown[["target", "role", "figure", "source", "sample", "published", "median", "low", "high",
                   "share_in_band", "met"]]
    model_fig = go.Figure(go.Bar(x=list(probabilities), y=list(probabilities.values()), marker_color=[
        "#c0392b", "#27ae60", "#2980b9"][:len(probabilities)]))
    model_fig.update_layout(title="Posterior probability of each hierarchy hypothesis (prior: 1/3 each)",
                            yaxis=dict(range=[0, 1]), height=320)
    ident = table.copy()
    for col in ("prior_low", "prior_high", "median", "q05", "q95", "default"):
        ident[col] = ident[col].map(lambda x: f"{x:.3g}")
    ident["width_vs_prior"] = ident["width_vs_prior"].map(lambda x: f"{x:.0%}")
    body = [
        _section("The calibration", _table_html(facts), _note(
            "ABC-SMC (pyABC) with model selection between the three hierarchy hypotheses; each simulated "
            "survey runs organisations drawn from the survey population (docs/MODEL.md section 9). "
            "Only behavioural parameters are fitted; strategy presets are never changed.")),
        _section("Posterior predictive check", _note(
            "Each target against surveys simulated with parameters drawn from the posterior. median, low, high: "
            "the simulated statistic's median and central 90% (for a binomial target, of k/n in a survey of n "
            "firms). met: the published figure lies inside the central 90% (binomial), or the band overlaps it. "
            "share_in_band: simulated surveys inside the band. Held-out targets were never fitted."),
            _table_html(shown),
            *([_note("The same check with the developers' default parameters (uncalibrated):"),
               _table_html(default_check[["target", "role", "published", "median", "low", "high", "met"]].round(3))]
              if default_check is not None else []),
            _figures_html([_check_figure(check, frames, targets)])),
        _section("Hierarchy hypotheses", _figures_html([model_fig], with_plotlyjs=False)),
        _section("What the data pins down", _note(
            f"pinned down: the posterior's 90% interval is under {PINNED:.0%} of the prior range; loose: the "
            "data leaves it open (about half of published ABMs cannot be fully identified: Carrella 2021)."),
            _table_html(ident), _figures_html(_marginal_figures(posterior, table), with_plotlyjs=False),
            _figures_html([_pair_figure(posterior, table)], with_plotlyjs=False)),
    ]
    if recovery is not None:
        rec = recovery[["parameter", "truth", "median", "q05", "q95", "width_vs_prior", "covered", "identified"]].copy()
        for col in ("truth", "median", "q05", "q95"):
            rec[col] = rec[col].map(lambda x: f"{x:.3g}")
        rec["width_vs_prior"] = rec["width_vs_prior"].map(lambda x: f"{x:.0%}")
        info = recovery_meta or {}
        body.append(_section("Parameter recovery", _note(
            f"A calibration against synthetic targets made with known parameters ({info.get('description', '')}). "
            f"Covered: the truth lies inside the posterior's 90% interval: {int(recovery['covered'].sum())} of "
            f"{len(recovery)} parameters. Not identified (loose): "
            f"{', '.join(recovery.loc[recovery['identified'] == 'loose', 'parameter']) or 'none'}."),
            _table_html(rec)))
    return _page("socialsim calibration report", body)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically."""
    from ..outputs import atomic_write

    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(data, indent=1, default=str), encoding="utf-8"))


def markdown_summary(posterior: Posterior, check: pd.DataFrame, table: pd.DataFrame,
                     default_check: pd.DataFrame | None = None, recovery: pd.DataFrame | None = None) -> str:
    """The calibration's results as the markdown docs/MODEL.md section 9 shows (tests compare them)."""
    meta = posterior.meta
    probabilities = ", ".join(f"`{h}` {p:.2f}" for h, p in meta.get("model_probabilities", {}).items())
    lines = [f"Posterior `{posterior.id}` ({meta.get('generations')} generations of {meta.get('population_size')} "
             f"particles, {meta.get('evaluations')} simulated surveys of {meta.get('organisations')} organisations; "
             f"epsilon {' → '.join(f'{e:.3g}' for e in meta.get('epsilon', [])[1:])}). Hierarchy hypotheses, "
             f"posterior probability (prior 1/3 each): {probabilities}."]
    effective = meta.get("effective_sample_size") or []
    if effective:
        warning = few_particles(float(effective[-1]), int(meta.get("population_size") or 0))
        lines[0] += (f" Effective sample of the last generation: {float(effective[-1]):.1f} of "
                     f"{meta.get('population_size')} particles" + (f"; **warning**: {warning}." if warning else "."))
    lines.append("")
    defaults = {} if default_check is None else {r["target"]: r for r in default_check.to_dict("records")}
    lines += ["| target | role | published | defaults: median [5%, 95%] | calibrated: median [5%, 95%] | "
              "calibrated surveys in band | verdict |", "|---|---|---|---|---|---|---|"]
    for row in check.to_dict("records"):
        d = defaults.get(row["target"])
        before = "n/a" if d is None else f"{d['median']:.3g} [{d['low']:.3g}, {d['high']:.3g}]"
        after = f"{row['median']:.3g} [{row['low']:.3g}, {row['high']:.3g}]"
        lines.append(f"| `{row['target']}` | {row['role']} | {row['published']} | {before} | {after} | "
                     f"{row['share_in_band']:.0%} | {'met' if row['met'] else 'not met'} |")
    pinned = ", ".join(f"`{p}`" for p in table.loc[table["identified"] == "pinned down", "parameter"]) or "none"
    loose = ", ".join(f"`{p}`" for p in table.loc[table["identified"] == "loose", "parameter"]) or "none"
    lines += ["", f"Pinned down (90% interval under {PINNED:.0%} of the prior range): {pinned}. Loose: {loose}."]
    if recovery is not None:
        missed = ", ".join(f"`{p}`" for p in recovery.loc[~recovery["covered"].astype(bool), "parameter"]) or "none"
        lines.append(f"Parameter recovery: the 90% interval covers the truth for {int(recovery['covered'].sum())} of "
                     f"{len(recovery)} parameters (missed: {missed}).")
    return "\n".join(lines)
