"""Explore: one strategy, every lever, a run with charts, and ways to share it."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard import calibration, charts, compute, controls, organisation, scenarios, ui
from sim import report
from sim.calibration.posterior import Posterior
from sim.errors import UserInputError
from sim.outputs import SUMMARY_COLUMNS
from sim.scenario import POPULATIONS, make_scenario, preset_names, preset_summary

S = st.session_state
UPLOADED = "(uploaded file)"
#: Agent-weeks below which a first visit runs at once (the default organisation is ~3.5M).
AUTO_RUN_AGENT_WEEKS = 40_000_000


# ------------------------------------------------------------------ state
def _load(preset: str | None, values: dict, label: str | None = None) -> None:
    """Make ``values`` (a full scenario dict) the current scenario and put it in the widgets."""
    S["ex_preset"] = preset
    S["ex_values"] = values
    S["ex_choice"] = preset or UPLOADED
    S["ex_pop"] = controls.population_of(values)
    S["ex_label"] = label or preset or values.get("name", "custom")
    S["ex_url_error"] = None  # a new choice replaces what a bad link asked for
    controls.set_widgets(values)


#: Widget keys (besides the levers) restored when the page is shown again.
KEPT = ("ex_choice", "ex_pop", "ex_seed", "ex_reps")
#: A first visit without a link starts from this preset.
START_PRESET = "provide_and_pray"


def _init() -> None:
    if "ex_values" in S:  # Streamlit drops widget state while another page is shown: restore it
        controls.set_widgets(S["ex_values"], only_missing=True)
        for k, v in S.get("ex_kept", {}).items():
            S.setdefault(k, v)
        return
    params = st.query_params.to_dict()
    # Not another page's parameters (and not only the calibration switch, which every page shares).
    if set(params) - {calibration.PARAM} and not {"strategies", "step"} & set(params):
        asked = scenarios.from_query(params, fallback_preset=START_PRESET)
        preset, scenario = asked.preset, asked.scenario
    else:
        asked = scenarios.FromQuery(START_PRESET, scenarios.base_scenario(START_PRESET))
        preset = START_PRESET
        scenario = asked.scenario.with_population(scenarios.default_population())
    _load(preset, scenario.to_dict())
    S["ex_url_error"] = asked.error
    S["ex_seed"] = asked.seed if asked.seed is not None else 42
    S["ex_reps"] = asked.replicates or 1
    S["ex_first_visit"] = True


def _on_preset() -> None:
    choice = S["ex_choice"]
    if choice == UPLOADED:
        return
    population = {k: S.get(controls.KEY.format(k)) for k in POPULATIONS["small"]}
    scenario = scenarios.base_scenario(choice)
    values = scenario.to_dict()
    values.update({k: v for k, v in population.items() if v is not None})  # keep the chosen size
    chosen = S["ex_values"].get("organisation", "")
    if chosen:  # and the chosen organisation: a strategy is levers, the organisation stays
        try:
            values = organisation.apply(values, chosen, S["ex_values"].get("ties", ""))
        except UserInputError as exc:  # the file went away since it was chosen
            S["ex_org_error"] = str(exc)
    _load(choice, values)


def _on_upload() -> None:
    upload = S.get("ex_upload")
    S["ex_upload_error"] = None
    if upload is None:
        return
    try:
        scenario = scenarios.parse_upload(upload.name, upload.getvalue())
    except UserInputError as exc:
        S["ex_upload_error"] = str(exc)
        return
    _load(None, scenario.to_dict(), label=f"{scenario.name} (from {upload.name})")


def _on_organisation() -> None:
    """A shipped example or a generated firm chosen: the scenario runs on it (its size follows)."""
    choice = S["ex_org"]
    if choice == organisation.UPLOADED:
        return
    _set_organisation("" if choice == organisation.GENERATED else choice, "")


def _on_org_upload() -> None:
    upload, ties = S.get("ex_org_upload"), S.get("ex_ties_upload")
    S["ex_org_error"] = None
    if upload is None:
        return
    try:
        path, ties_path = organisation.keep_upload(upload, ties)
    except UserInputError as exc:
        S["ex_org_error"] = str(exc)
        return
    if _set_organisation(path, ties_path):
        S["ex_org"] = organisation.UPLOADED


def _set_organisation(chosen: str, ties: str) -> bool:
    try:
        values = organisation.apply(_current(), chosen, ties)
    except UserInputError as exc:
        S["ex_org_error"] = str(exc)
        return False
    S["ex_org_error"] = None
    S["ex_values"] = values
    for name in ("employees", "departments"):  # the file decides them; the widgets show it
        S[controls.KEY.format(name)] = values[name]
    return True


def _on_population() -> None:
    size = S["ex_pop"]
    if size in POPULATIONS:
        # An imported organisation keeps its own head count and departments: only the market changes.
        fixed = ("employees", "departments") if S["ex_values"].get("organisation") else ()
        for k, v in POPULATIONS[size].items():
            if k not in fixed:
                S[controls.KEY.format(k)] = v


def _current() -> dict:
    values = dict(S["ex_values"])
    values.update(controls.read_widgets())
    return values


# ------------------------------------------------------------------ sidebar
def sidebar() -> Posterior | None:
    """Draw the sidebar; the posterior the runs draw from (None: uncalibrated)."""
    with st.sidebar:
        # First in the sidebar, so it is on screen without scrolling on a laptop (1280x720).
        S["ex_clicked"] = st.button("Run", type="primary", key="ex_run", width="stretch")
        st.subheader("Strategy")
        options = preset_names() + ([UPLOADED] if S.get("ex_preset") is None else [])
        st.selectbox("Preset close to your organisation", options, key="ex_choice", on_change=_on_preset,
                     help="A preset is only a file of lever values and a rollout schedule (scenarios/).")
        if S.get("ex_preset"):
            st.caption(preset_summary(S["ex_preset"]))
        st.file_uploader("... or upload a scenario file (.toml)", type=["toml"], key="ex_upload",
                         on_change=_on_upload, max_upload_size=1,
                         help=f"At most {scenarios.MAX_UPLOAD_BYTES // 1000} kB; the same format as scenarios/*.toml.")
        if S.get("ex_upload_error"):
            st.error(S["ex_upload_error"], icon=":material/error:")

        st.subheader("Organisation and run")
        current = S["ex_values"].get("organisation", "")
        choices = organisation.options() + ([organisation.UPLOADED] if current and "/" in current else [])
        S["ex_org"] = (organisation.UPLOADED if current and "/" in current
                       else current or organisation.GENERATED)
        st.selectbox("Organisation", choices, key="ex_org", on_change=_on_organisation,
                     format_func=organisation.label,
                     help="A generated firm of the size below, a shipped example, or your own HR export.")
        with st.expander("Upload your organisation (HR export)"):
            st.file_uploader("Org chart (.csv): employee_id, department, manager_id, customer_facing; optional "
                             "role, informal_leader", type=["csv"], key="ex_org_upload", on_change=_on_org_upload,
                             max_upload_size=organisation.MAX_UPLOAD_MB)
            st.file_uploader("Optional ties (.csv): source, target, optional weight", type=["csv"],
                             key="ex_ties_upload", on_change=_on_org_upload, max_upload_size=organisation.MAX_UPLOAD_MB)
        if S.get("ex_org_error"):
            st.error(S["ex_org_error"], icon=":material/error:")
        try:  # what will run (the file decides the head count, whatever the widgets hold)
            st.caption(organisation.describe(make_scenario(_current(), source="organisation").to_dict()))
        except UserInputError:
            st.caption(organisation.describe(S["ex_values"]))
        if S.get("ex_pop") != "custom":
            S["ex_pop"] = controls.population_of(_current())
        st.selectbox("Population", list(POPULATIONS) + ["custom"], key="ex_pop", on_change=_on_population,
                     format_func=lambda p: p if p == "custom" else f"{p} ({POPULATIONS[p]['employees']:,} employees)")
        imported = bool(S["ex_values"].get("organisation"))
        for name in controls.POPULATION:  # an imported organisation's head count is its file's
            controls.lever_widget(name, disabled=imported and name in ("employees", "departments"))
        st.number_input("Seed", min_value=0, max_value=scenarios.MAX_SEED, step=1, key="ex_seed",
                        help="The same scenario and seed always give the same run.")
        st.slider("Replicates", 1, scenarios.MAX_REPLICATES, key="ex_reps",
                  help="More replicates (different seeds) show the uncertainty as a band; the detailed charts "
                       "show replicate 1.")
        return calibration.toggle("ex_calibrated")


# ------------------------------------------------------------------ results
def metrics(results: list) -> None:
    first = results[0]
    shares = pd.Series([r.summary["active_share"] for r in results])
    verdicts = pd.Series([r.verdict for r in results]).value_counts()
    cols = st.columns(5)
    many = len(results) > 1
    cols[0].metric("Verdict" + (" (most common)" if many else ""), verdicts.index[0].replace("_", " "),
                   help="success: at least the success share of eligible staff posted in the last 4 weeks at the "
                        "horizon, without a collapse from the peak (value is reported beside it); peak then "
                        "collapse: that share fell below half its peak; otherwise fizzle")
    # With several replicates every number is the median over them, and says so.
    median = (lambda key: pd.Series([r.summary[key] for r in results]).median()) if many else \
        (lambda key: first.summary[key])
    tag = " (median)" if many else ""
    cols[1].metric("Posted in the last 4 weeks" + tag, ui.pct(shares.median()),
                   help=SUMMARY_COLUMNS["active_share"])
    cols[2].metric("Peak contributing" + tag, ui.pct(median("peak_active_share")),
                   help=f"week {first.summary['peak_week']} in replicate 1" if many else
                   f"week {first.summary['peak_week']}")
    cols[3].metric("Participation Gini" + tag, f"{median('gini'):.2f}", help=SUMMARY_COLUMNS["gini"])
    cols[4].metric("Net value" + tag, ui.num(median("net_value")), help=SUMMARY_COLUMNS["net_value"])
    if many:
        st.caption(f"{len(results)} replicates: " + ", ".join(f"{v.replace('_', ' ')} {n}"
                                                                 for v, n in verdicts.items()))


def show_results(results: list, network: dict, scenario, seed: int, reps: int) -> None:
    first = results[0]
    # The heading names what the charts show (the run that was made), not the current selection.
    st.subheader(f"{scenario.name}: seed {seed}" + (f", {reps} replicates" if reps > 1 else ""))
    st.caption(calibration.results_text(results))
    metrics(results)
    tabs = st.tabs(["Participation", "Departments", "Inequality", "Network", "Customers", "Value"])
    with tabs[0]:
        if len(results) > 1:
            ui.plot(charts.share_bands({scenario.name: results}, title="Eligible staff who posted in the last 4 weeks "
                                                                       "(median and 95% band over replicates)"))
        ui.plot(charts.stage_area(first, "Participation stages over time (replicate 1)"))
    with tabs[1]:
        ui.plot(charts.department_heatmap(first))
    with tabs[2]:
        left, right = st.columns(2)
        with left:
            ui.plot(charts.lorenz(first))
        with right:
            ui.plot(charts.nielsen_bars(first))
        st.caption("Nielsen's participation inequality (90-9-1): in online communities about 90% only read, "
                   "9% contribute a little and 1% make most of the contributions.")
    with tabs[3]:
        ui.plot(charts.network_figure(network))
        st.caption("Departments sit on a circle; lines are the organisation's ties between the employees drawn. "
                   "Press play or move the slider to see the weeks.")
    with tabs[4]:
        left, right = st.columns(2)
        with left:
            ui.plot(charts.customer_funnel(first, scenario.customers if scenario.use_customers else 0))
        with right:
            ui.plot(charts.trust(first))
    with tabs[5]:
        ui.plot(charts.value_cost(first))

    st.subheader("Share")
    st.caption("This page's address holds the preset, every lever you changed, the seed, the replicates and "
               "whether behaviour is calibrated: send the link and it reproduces this view (a calibrated view "
               "with the same posterior).")
    cols = st.columns(4)
    cols[0].download_button("Scenario file (.toml)", scenarios.toml_text(scenario), file_name=f"{scenario.name}.toml",
                            mime="application/toml", on_click="ignore", key="ex_dl_toml")
    series = pd.concat([r.table("series").assign(replicate=i) for i, r in enumerate(results)], ignore_index=True)
    cols[1].download_button("Weekly results (.csv)", series.to_csv(index=False), file_name=f"{scenario.name}-series.csv",
                            mime="text/csv", on_click="ignore", key="ex_dl_csv")
    cols[2].download_button("Employees at the horizon (.csv)", first.table("participation").to_csv(index=False),
                            file_name=f"{scenario.name}-participation.csv", mime="text/csv", on_click="ignore",
                            key="ex_dl_part")
    cols[3].download_button("Report (.html)",  # built when clicked: every replicate, the levers, the seed entered
                            lambda: report.compare_report_html({scenario.name: results}, root_seed=seed,
                                                               scenarios={scenario.name: scenario}),
                            file_name=f"{scenario.name}-report.html", mime="text/html", on_click="ignore",
                            key="ex_dl_html")


# ------------------------------------------------------------------ page
def page() -> None:
    _init()
    posterior = sidebar()
    st.title("Explore a strategy")
    if S.get("ex_url_error"):
        st.error(f"The link asked for something the model does not allow, so the preset is shown instead. "
                 f"{S['ex_url_error']}", icon=":material/link_off:")
    preset = S.get("ex_preset")
    st.caption(f"Base: **{preset or 'uploaded file'}**. Move a lever to see its meaning and the article it comes "
               "from; press **Run** to see what the model does with it.")

    with st.expander("Levers: every assumption, with its meaning and the article it comes from", expanded=False):
        if posterior is not None:  # the draw wins over these levers (as in sim.run): say which are unused
            st.info("Calibrated behaviour is on: every replicate takes "
                    + ", ".join(f"`{name}`" for name in calibration.fitted_levers(posterior))
                    + " from the posterior, so their values here are not used. Switch calibration off in the "
                      "sidebar to set them yourself.", icon=":material/tune:")
        controls.lever_tabs()
        values = S["ex_values"]
        schedule = st.columns(2)
        schedule[0].markdown("**Rollout waves** (from the preset or file; edit them in the scenario file)")
        schedule[0].dataframe(pd.DataFrame(values["waves"]), hide_index=True)
        schedule[1].markdown("**Shocks**")
        if values["shocks"]:
            schedule[1].dataframe(pd.DataFrame(values["shocks"]), hide_index=True)
        else:
            schedule[1].caption("none")

    seed, reps = int(S["ex_seed"]), int(S["ex_reps"])
    S["ex_values"] = values = _current()
    S["ex_kept"] = {k: S[k] for k in KEPT if k in S}
    try:
        scenario = make_scenario(values, source="levers")
        scenarios.check_population(scenario, reps)
    except UserInputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    params = {**scenarios.to_query(preset, scenario, seed=seed, replicates=reps), **calibration.query(posterior)}
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)

    key = compute.scenario_key(scenario)
    wanted = (key, seed, reps, calibration.posterior_id(posterior))
    agent_weeks = (scenario.employees + scenario.customers) * scenario.weeks * reps
    first_visit = S.pop("ex_first_visit", False)
    try:
        if S.get("ex_clicked") or (first_visit and agent_weeks <= AUTO_RUN_AGENT_WEEKS):
            compute.explore_run(*wanted, _label=f"Running {scenario.name}")
            S["ex_shown"] = wanted
        shown = S.get("ex_shown")
        if shown is None:
            st.info("Press **Run** to simulate this strategy.", icon=":material/play_arrow:")
            return
        if shown != wanted:
            st.info("The levers or the calibration switch changed since the charts below were drawn: press **Run** "
                    "to update them.", icon=":material/refresh:")
        shown_scenario = compute.scenario_from_key(shown[0])
        results, network = compute.explore_run(*shown)
    except UserInputError as exc:  # the posterior was replaced while the page was open
        st.error(str(exc), icon=":material/error:")
        return
    show_results(results, network, shown_scenario, shown[1], shown[2])


page()
