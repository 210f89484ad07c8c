"""Compare: two to four strategies side by side over replicates, with uncertainty."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import streamlit as st

from dashboard import calibration, charts, compute, scenarios, ui
from sim import report
from sim.errors import UserInputError
from sim.scenario import (
    POPULATIONS,
    Scenario,
    make_scenario,
    preset_names,
    preset_summary,
)

S = st.session_state
EXPLORE = "my Explore scenario"
DEFAULT = ["provide_and_pray", "purpose_led_stepwise"]
#: Weekly series charted with median and band: (column, title, y axis, as percent).
BANDS = (
    ("active_share", "Eligible staff who posted in the last 4 weeks", "share of eligible staff", True),
    ("readers", "Readers (employees who only read)", "employees", False),
    ("members", "Customers in the community", "customers", False),
    ("mean_trust", "Customers' mean trust", "trust (0-1)", False),
    ("net_value", "Net value (value so far minus cost so far)", "employee-weeks", False),
)


def _init() -> None:
    if "cmp_kept" in S:
        for k, v in S["cmp_kept"].items():
            S.setdefault(k, v)
        return
    params = st.query_params.to_dict()
    if "strategies" not in params:  # not a link to this page (e.g. Explore's parameters)
        params = {}
    S["cmp_error"] = None
    chosen = DEFAULT
    if "strategies" in params:
        asked = [s.strip() for s in params["strategies"].split(",") if s.strip()][:8]
        bad = [s for s in asked if s not in preset_names()]
        if bad or not 2 <= len(asked) <= 4:
            S["cmp_error"] = (f"address (URL): strategies: {bad[0][:60]!r} is not a preset" if bad else
                              f"address (URL): strategies: {len(asked)} given; allowed: 2 to 4 presets") + \
                             f"; allowed presets: {', '.join(preset_names())}"
        else:
            chosen = asked
    S["cmp_presets"] = chosen
    S["cmp_pop"] = scenarios.default_population()
    if "population" in params:
        if params["population"] in POPULATIONS:
            S["cmp_pop"] = params["population"]
        else:
            S["cmp_error"] = (f"address (URL): population: {params['population'][:40]!r} is not allowed; "
                              f"allowed: {', '.join(POPULATIONS)}")
    for key, low, high, default in (("replicates", 2, scenarios.MAX_REPLICATES, 10), ("seed", 0, scenarios.MAX_SEED, 0)):
        S[f"cmp_{key}"] = default
        if key in params:
            try:
                value = int(params[key])
                if not low <= value <= high:
                    raise ValueError
                S[f"cmp_{key}"] = value
            except ValueError:
                S["cmp_error"] = f"address (URL): {key}: {params[key][:40]!r} is not allowed; allowed: {low} to {high}"
    # A link runs at once only when every part of it was understood; otherwise the message, no run.
    S["cmp_auto"] = "strategies" in params and S["cmp_error"] is None


def strategies() -> dict[str, Scenario]:
    """The chosen strategies (label -> scenario at the chosen population)."""
    size = POPULATIONS[S["cmp_pop"]]
    chosen: dict[str, Scenario] = {}
    for name in S["cmp_presets"]:
        chosen[name] = scenarios.base_scenario(name).with_levers(**size)
    if S.get("cmp_with_explore") and S.get("ex_values"):
        label = S.get("ex_label", "explore")
        chosen[f"{EXPLORE} ({label})"] = make_scenario({**S["ex_values"], **size}, source="Explore levers")
    return chosen


def page() -> None:
    _init()
    st.title("Compare strategies")
    if S.get("cmp_error"):
        st.error(f"{S['cmp_error']}. Showing the defaults instead; press **Run comparison** to run them.",
                 icon=":material/link_off:")
    with st.sidebar:
        # First in the sidebar, so it is on screen without scrolling on a laptop (1280x720).
        clicked = st.button("Run comparison", type="primary", key="cmp_run", width="stretch")
        st.subheader("Strategies")
        st.multiselect("Presets to compare (2 to 4)", preset_names(), key="cmp_presets", max_selections=4)
        if S.get("ex_values"):
            st.checkbox("Add my Explore scenario", key="cmp_with_explore",
                        help="The levers currently set on the Explore page.")
        st.selectbox("Population (all strategies)", list(POPULATIONS), key="cmp_pop",
                     format_func=lambda p: f"{p}: {POPULATIONS[p]['employees']:,} employees")
        st.slider("Replicates per strategy", 2, scenarios.MAX_REPLICATES, key="cmp_replicates",
                  help="Every strategy runs with the same seeds (common random numbers), so differences "
                       "come from the levers, not from luck.")
        st.number_input("Root seed", 0, scenarios.MAX_SEED, key="cmp_seed")
        posterior = calibration.toggle("cmp_calibrated")
        st.caption(f"Results are kept per scenario and seed: asking again is instant. Here, {compute.where_runs()}.")
    S["cmp_kept"] = {k: S[k] for k in ("cmp_presets", "cmp_pop", "cmp_replicates", "cmp_seed", "cmp_with_explore")
                     if k in S}
    seed, reps = int(S["cmp_seed"]), int(S["cmp_replicates"])
    try:
        chosen = strategies()
        for scenario in chosen.values():
            scenarios.check_population(scenario, reps)
    except UserInputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    for name in S["cmp_presets"]:
        st.markdown(f"- **{name}**: {preset_summary(name)}")
    if not 2 <= len(chosen) <= 4:
        st.warning("Choose two to four strategies.", icon=":material/warning:")
        return
    st.query_params.from_dict({"strategies": ",".join(S["cmp_presets"]), "population": S["cmp_pop"],
                               "replicates": str(reps), "seed": str(seed), **calibration.query(posterior)})

    keys = {label: compute.scenario_key(s) for label, s in chosen.items()}
    wanted = (json.dumps(keys, sort_keys=True), seed, reps, calibration.posterior_id(posterior))
    try:
        if clicked or S.pop("cmp_auto", False):
            S["cmp_error"] = None
            for label, key in keys.items():
                compute.run_set(key, seed, reps, wanted[3], _label=f"Running {label} ({reps} replicates)")
            S["cmp_shown"] = wanted
        shown = S.get("cmp_shown")
        if shown is None:
            st.info("Press **Run comparison**.", icon=":material/play_arrow:")
            return
        if shown != wanted:
            st.info("The choice changed since the results below: press **Run comparison** to update them.",
                    icon=":material/refresh:")
        shown_keys, seed, reps, shown_posterior = json.loads(shown[0]), shown[1], shown[2], shown[3]
        results = {label: compute.run_set(key, seed, reps, shown_posterior) for label, key in shown_keys.items()}
    except UserInputError as exc:  # the posterior was replaced while the page was open
        st.error(str(exc), icon=":material/error:")
        return
    show(results, {label: compute.scenario_from_key(k) for label, k in shown_keys.items()},
         seed, reps)


def show(results: dict, chosen: dict[str, Scenario], seed: int, reps: int) -> None:
    success = report.success_table(results)
    st.subheader(f"{reps} replicates per strategy, root seed {seed}")
    st.caption(calibration.results_text(results))
    cols = st.columns(len(results))
    for col, row in zip(cols, success.itertuples()):
        med = pd.Series([r.summary["active_share"] for r in results[row.scenario]]).median()
        col.metric(f"{row.scenario}: success rate", ui.pct(row.success_rate),
                   help=f"95% Wilson interval {ui.pct(row.rate_low)} to {ui.pct(row.rate_high)}")
        col.caption(f"median {ui.pct(med)} contributing at the horizon; interval "
                    f"{ui.pct(row.rate_low)}-{ui.pct(row.rate_high)} for the success rate")
    left, right = st.columns([3, 2])
    with left:
        ui.plot(charts.share_bands(results, title="Eligible staff who posted in the last 4 weeks (median, 95% band)"))
    with right:
        ui.plot(charts.success_bars(success))
    st.subheader("What differs")
    differs = scenarios.lever_table(chosen)
    if differs.empty:
        st.caption("The strategies have the same levers.")
    else:
        st.dataframe(differs, hide_index=True)
    st.subheader("Outcomes at the horizon")
    st.caption("median [2.5%, 97.5%] across replicates; success rate with a 95% Wilson interval.")
    st.dataframe(report.display_table(results), width="stretch")
    st.subheader("Over time")
    grid = st.columns(2)
    for i, (column, title, yaxis, percent) in enumerate(BANDS[1:]):
        with grid[i % 2]:
            ui.plot(charts.share_bands(results, column, title=title, yaxis=yaxis, percent=percent))
    st.subheader("Share")
    cols = st.columns(3)
    cols[0].download_button("Outcomes per run (.csv)", report.summary_frame(results).to_csv(index=False),
                            file_name="summary.csv", mime="text/csv", on_click="ignore", key="cmp_dl_csv")
    cols[1].download_button("Report (.html)", lambda: report.compare_report_html(results, root_seed=seed, scenarios=chosen),
                            file_name="compare-report.html", mime="text/html", on_click="ignore",
                            key="cmp_dl_html")  # built when clicked
    cols[2].download_button("Scenario files (.zip of .toml)", scenario_zip(chosen), file_name="strategies.zip",
                            mime="application/zip", on_click="ignore", key="cmp_dl_toml")


def scenario_zip(chosen: dict[str, Scenario]) -> bytes:
    """One TOML file per strategy, zipped."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for k, (label, scenario) in enumerate(chosen.items()):
            safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)[:60]
            archive.writestr(f"{k + 1}-{safe}.toml", scenarios.toml_text(scenario))
    return buffer.getvalue()


page()
