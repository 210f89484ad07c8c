"""Experiments: browse a results folder written by ``socialsim sweep`` (filters, heatmaps, sensitivity)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import charts, ui
from sim.errors import UserInputError
from sim.experiments import analysis
from sim.experiments.store import load_results, load_series
from sim.outputs import SUMMARY_COLUMNS

S = st.session_state
ROOT = Path(__file__).resolve().parent.parent.parent
#: Where results folders are looked for (a folder holding manifest.json, up to two levels down).
SEARCH = (ROOT / "experiments" / "results", ROOT / "experiments", ROOT / "results",
          Path.cwd() / "experiments" / "results", Path.cwd() / "results")  # cwd: an installed wheel
#: Longest path accepted in the text box (the OS refuses far shorter names anyway).
MAX_PATH_CHARS = 1000
MAX_LISTED = 50
MAX_LINES = 30


def found_folders() -> list[str]:
    """Results folders under the usual places, newest first."""
    seen: dict[str, float] = {}
    for base in SEARCH:
        if not base.is_dir():
            continue
        for manifest in list(base.glob("*/manifest.json")) + list(base.glob("*/*/manifest.json")):
            seen[str(manifest.parent)] = manifest.stat().st_mtime
    return sorted(seen, key=seen.get, reverse=True)[:MAX_LISTED]


def _signature(folder: Path) -> str:
    """Changes when runs are added (so a running sweep can be reloaded)."""
    parts = folder / "parts"
    names = sorted(p.name for p in parts.glob("part-*.parquet")) if parts.is_dir() else []
    return f"{len(names)}:{names[-1] if names else ''}:{(folder / 'manifest.json').stat().st_mtime}"


@st.cache_data(max_entries=8, show_spinner="Loading the results ...")
def load(folder: str, signature: str) -> tuple[dict, pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    manifest = analysis.read_manifest(folder)
    results = load_results(folder)
    design = analysis.read_design(folder)
    series = load_series(folder) if (Path(folder) / "series").is_dir() else None
    return manifest, results, design, (None if series is None or series.empty else series)


def _filters(results: pd.DataFrame, factors: list[str], tag: str) -> pd.DataFrame:
    keep = pd.Series(True, index=results.index)
    st.sidebar.subheader("Filters")
    for name in factors:
        column = results[name]
        values = sorted(column.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
        if len(values) <= 1:
            continue
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        if numeric and len(values) > analysis.MAX_LEVELS:
            low, high = float(min(values)), float(max(values))
            chosen = st.sidebar.slider(name, low, high, (low, high), key=f"exp_f_{tag}_{name}")
            keep &= column.between(*chosen)
        else:
            chosen = st.sidebar.multiselect(name, values, default=values, key=f"exp_f_{tag}_{name}")
            keep &= column.isin(chosen)
    return results[keep]


def page() -> None:
    st.title("Experiments")
    st.caption("Open a results folder written by `socialsim sweep` (manifest.json, design.parquet, parts/).")
    folders = found_folders()
    with st.sidebar:
        st.subheader("Results folder")
        if folders:
            st.selectbox("Found", [""] + folders, key="exp_found",
                         format_func=lambda p: "(type a path below)" if not p else str(Path(p).relative_to(ROOT))
                         if Path(p).is_relative_to(ROOT) else p)
        typed = st.text_input("Path", key="exp_path", placeholder="experiments/results/my_sweep")
    path = (typed or "").strip() or S.get("exp_found") or ""
    if not path:
        st.info("Choose or type a results folder (for example the `out` of an experiment file after "
                "`socialsim sweep`).", icon=":material/folder_open:")
        return
    if len(path) > MAX_PATH_CHARS or "\0" in path:
        st.error(f"Path: {len(path):,} characters is not a folder path; allowed: a path of at most "
                 f"{MAX_PATH_CHARS:,} characters (without NUL).", icon=":material/error:")
        return
    try:
        folder = Path(path).expanduser()
        if not folder.is_absolute():
            folder = (ROOT / folder) if (ROOT / folder).exists() else folder.resolve()
        if not (folder / "manifest.json").is_file():
            raise UserInputError("is not a results folder (no manifest.json); allowed: a folder written by "
                                 "`socialsim sweep`", source=str(folder))
        manifest, results, design, series = load(str(folder), _signature(folder))
    except (UserInputError, OSError, ValueError, RuntimeError) as exc:  # RuntimeError: expanduser of ~nobody
        st.error(" ".join(str(exc).split())[:300], icon=":material/error:")
        return
    browse(manifest, results, design, series, tag=hashlib.sha1(str(folder).encode()).hexdigest()[:8])


def provenance(manifest: dict, results: pd.DataFrame) -> None:
    status = results["status"].value_counts() if "status" in results else pd.Series(dtype=int)
    st.subheader(f"Experiment: {manifest.get('experiment', '?')}")
    cols = st.columns(3)
    cols[0].metric("Design", str(manifest.get("design", "?")))
    cols[1].metric("Runs done", f"{len(results):,} of {manifest.get('n_runs', '?'):,}"
                   if isinstance(manifest.get("n_runs"), int) else f"{len(results):,}")
    cols[2].metric("Failed runs", f"{int(status.get('failed', 0)):,}")
    info = {k: manifest.get(k) for k in ("n_points", "replicates", "root_seed", "common_random_numbers", "weeks",
                                         "version", "spec_hash", "created", "spec_file") if k in manifest}
    with st.expander("Provenance (manifest.json)"):
        st.json(info)


def browse(manifest: dict, results: pd.DataFrame, design: pd.DataFrame | None, series: pd.DataFrame | None,
           tag: str = "") -> None:
    provenance(manifest, results)
    factors = analysis.factor_columns(results, manifest)
    outcomes = [c for c in SUMMARY_COLUMNS if c in results.columns and pd.api.types.is_numeric_dtype(results[c])]
    if results.empty or not factors or not outcomes:
        st.warning("No finished runs with factors and outcomes yet.", icon=":material/hourglass_empty:")
        return
    filtered = _filters(results, factors, tag)
    ok = filtered[filtered["status"] == "ok"] if "status" in filtered else filtered
    st.caption(f"{len(ok):,} completed runs after the filters (of {len(results):,}).")
    if ok.empty:
        st.warning("No completed run matches the filters.", icon=":material/filter_alt_off:")
        return
    outcome = st.selectbox("Outcome", outcomes, key=f"exp_outcome_{tag}", index=outcomes.index("active_share")
                           if "active_share" in outcomes else 0, format_func=lambda o: f"{o}: {SUMMARY_COLUMNS[o]}")

    effects = analysis.main_effects(filtered, factors, outcome)
    ranked = [f for f in effects["factor"] if f in factors] or factors
    st.subheader("Heatmap")
    if len(factors) >= 2:
        cols = st.columns(2)
        x = cols[0].selectbox("Across (x)", factors, index=factors.index(ranked[0]), key=f"exp_x_{tag}")
        others = [f for f in factors if f != x]
        y_default = next((f for f in ranked if f != x), others[0])
        y = cols[1].selectbox("Down (y)", others, index=others.index(y_default), key=f"exp_y_{tag}_{x}")
        ui.plot(charts.heatmap(analysis.grid(filtered, x, y, outcome), x, y, outcome), key=f"exp_heatmap_{tag}")
    else:
        st.caption("One factor: see the effect chart below.")

    st.subheader("Sensitivity")
    sens = None
    if manifest.get("design") in ("morris", "sobol") and manifest.get("problem"):
        try:
            sens = analysis.sensitivity(results, manifest, [outcome], design=design)
        except (UserInputError, ValueError, ImportError) as exc:
            st.warning(f"Sensitivity indices could not be computed: {' '.join(str(exc).split())[:300]}")
    if sens is not None and not sens.empty:
        sens = sens[sens["category"] == sens["category"].iloc[0]]
        if manifest["design"] == "morris":
            ui.plot(charts.effect_bars(sens, "mu_star", f"Morris screening of {outcome} (mu*, with 95% interval)",
                                       error="mu_star_conf"))
        else:
            ui.plot(charts.effect_bars(sens, "ST", f"Sobol total-order index of {outcome}", error="ST_conf"))
        st.caption("Indices use every run of the design (filters do not apply); each point's outcome is its mean "
                   "over replicates.")
    ui.plot(charts.effect_bars(effects, "effect", f"Main effects on {outcome}: how far the mean moves across each "
                                                  "factor's levels", xaxis=f"range of mean {outcome}"))

    if series is not None and "point_id" in series:
        columns = [c for c in series.columns if c not in ("run_id", "point_id", "replicate", "seed", "week")]
        points = sorted(ok["point_id"].unique())
        if columns and len(points) <= MAX_LINES:
            st.subheader("Over time")
            column = st.selectbox("Weekly series", columns, key=f"exp_series_{tag}")
            labels = ok.groupby("point_id")[factors].first()
            names = {int(p): ", ".join(f"{f}={v:g}" if isinstance(v, float) else f"{f}={v}" for f, v in row.items())
                     for p, row in labels.iterrows()}
            ui.plot(charts.point_lines(series[series["point_id"].isin(points)], column, names,
                                       f"Mean {column} per design point"))

    st.subheader("Summary by design point")
    table = analysis.summary_by_point(filtered, outcomes=[outcome], factors=factors)
    st.dataframe(table, hide_index=True)
    st.download_button("Summary (.csv)", table.to_csv(index=False), file_name="summary_by_point.csv",
                       mime="text/csv", on_click="ignore", key="exp_dl")
    with st.expander("Where is success likely? (PRIM scenario discovery)"):
        try:
            found = analysis.discover(ok, factors)
            st.dataframe(found.boxes, hide_index=True)
        except Exception as exc:  # noqa: BLE001 - an optional section must not break the page
            st.caption(f"Not available for these runs: {' '.join(str(exc).split())[:300]}")


page()
