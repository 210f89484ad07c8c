"""Advisor: which plans would make the rollout take off, and at what cost (:mod:`sim.advisor`, issue 10).

The visitor picks a starting strategy (a preset at a population size) and an organisation (a
generated one, a shipped example or an uploaded HR export), ticks the levers they can move, and
sets a budget, a target P(success) and the search's size. :func:`sim.advisor.advise` searches
those levers (Optuna NSGA-II, common random numbers, drawn from the calibrated posterior when the
switch is on) and re-estimates the Pareto plans on fresh seeds; the page shows its front, its
plans, the verdict and the smallest change that flips it, offers its report and plan files, and
opens any plan in Explore.

The advisor writes into a folder per request (:func:`request_folder`) inside a temporary folder
of the visitor's session: the same request again shows the finished answer at once, and a search
cut short (the visitor pressed Stop or left) resumes where it stopped (Optuna's journal).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import calibration, compute, controls, scenarios, ui
from dashboard import organisation as orgs
from sim.advisor import ADVISABLE, Advice, advise
from sim.advisor.levers import ROLLOUTS
from sim.advisor.report import NO_LONGER_FLIPS, PLAN_COLUMNS, changes_frame, front_figure, stated
from sim.advisor.search import MAX_PLANS
from sim.errors import UserInputError
from sim.experiments.cluster import SweepAborted
from sim.scenario import POPULATIONS, Scenario, load_scenario, preset_names, preset_summary


S = st.session_state
START_PRESET = "provide_and_pray"
#: Levers ticked on a first visit (the README's example: purpose, leaders, friction, rollout).
DEFAULT_LEVERS = ["purpose_strength", "leader_participation", "posting_friction", "rollout"]
GENERATED = "generated"
UPLOAD = "upload a CSV"
CUSTOM = "custom"
#: Settings restored when the page is shown again (Streamlit drops a widget's state while another page is shown).
KEPT = ("ad_preset", "ad_org", "ad_pop", "ad_employees", "ad_departments", "ad_customers", "ad_weeks", "ad_levers",
        "ad_budget", "ad_target", "ad_trials", "ad_replicates", "ad_confirm", "ad_seed", "ad_plan")
#: First-visit settings of the search (the command line's trials, fewer runs): about 15 s on the
#: small population in one process, about a minute on the default one.
DEFAULTS = {"ad_budget": None, "ad_target": 0.5, "ad_trials": 32, "ad_replicates": 6, "ad_confirm": 32, "ad_seed": 0}
PROGRESS = re.compile(r"(\d+)/(\d+) candidate plans scored")


# ------------------------------------------------------------------ state
def _init() -> None:
    if "ad_kept" in S:
        for k, v in S["ad_kept"].items():
            S.setdefault(k, v)
        return
    S["ad_preset"] = START_PRESET
    S["ad_org"] = GENERATED
    # A search makes hundreds of runs: it starts on the small population whatever the other pages start on.
    S["ad_pop"] = "small"
    _custom_from(S["ad_pop"])
    S["ad_levers"] = list(DEFAULT_LEVERS)
    S.update(DEFAULTS)


def _custom_from(population: str) -> None:
    """Fill the custom size inputs from a named population and the preset's horizon."""
    sizes = POPULATIONS.get(population, POPULATIONS["small"])
    S["ad_employees"], S["ad_departments"], S["ad_customers"] = (sizes["employees"], sizes["departments"],
                                                                 sizes["customers"])
    S["ad_weeks"] = scenarios.base_scenario(S.get("ad_preset") or START_PRESET).weeks


def _on_population() -> None:
    if S["ad_pop"] != CUSTOM:
        _custom_from(S["ad_pop"])


def _root() -> Path:
    """This session's temporary folder of advisor requests (uploads go to dashboard.organisation's)."""
    root = S.get("ad_root")
    if not root or not Path(root).is_dir():
        root = S["ad_root"] = tempfile.mkdtemp(prefix="socialsim-advisor-")
    return Path(root)


def organisations() -> list[str]:
    """The organisation choices (generated, the shipped examples, an upload)."""
    return [*orgs.options(), UPLOAD]


def _org_label(choice: str) -> str:
    return choice if choice == UPLOAD else orgs.label(choice)


def _on_org_upload() -> None:
    """Keep an uploaded HR export (and its optional ties) in the session's folder and check them;
    a message names the visitor's file, not the server's copy."""
    upload, ties = S.get("ad_org_upload"), S.get("ad_ties_upload")
    S["ad_org_path"], S["ad_ties_path"], S["ad_org_error"] = None, "", None
    if upload is None:
        return
    try:
        path, ties_path = orgs.keep_upload(upload, ties)
    except UserInputError as exc:
        S["ad_org_error"] = str(exc)
        return
    S["ad_org_path"], S["ad_ties_path"], S["ad_org_name"] = path, ties_path, upload.name


# ------------------------------------------------------------------ sidebar
def _lever_label(name: str) -> str:
    return controls.label(name) + (" (schedule: " + ", ".join(r.replace("_", " ") for r in ROLLOUTS) + ")"
                                   if name == "rollout" else "")


def sidebar() -> tuple[bool, Any]:
    """Draw the sidebar; (Run pressed, the posterior the runs draw from or None)."""
    with st.sidebar:
        # First in the sidebar, so it is on screen without scrolling on a laptop (1280x720).
        clicked = st.button("Run advisor", type="primary", key="ad_run", width="stretch")
        st.subheader("Starting strategy")
        st.selectbox("Preset close to what you do now", preset_names(), key="ad_preset",
                     help="Your current scenario: the advisor moves the levers you tick from these values.")
        st.caption(preset_summary(S["ad_preset"]))
        choices = organisations()
        if S.get("ad_org") not in choices:
            S["ad_org"] = GENERATED
        st.selectbox("Organisation", choices, key="ad_org", format_func=_org_label,
                     help="generated: a typical firm of the population's size; an example or your HR export "
                          "(CSV with employee_id, department, manager_id, customer_facing) sets the head "
                          "count, departments and reporting chain.")
        if S["ad_org"] == UPLOAD:
            st.file_uploader("HR export (.csv)", type=["csv"], key="ad_org_upload", on_change=_on_org_upload,
                             max_upload_size=orgs.MAX_UPLOAD_MB,
                             help="Columns employee_id, department, manager_id (empty for the top), "
                                  "customer_facing (true/false); optional role, informal_leader.")
            st.file_uploader("Optional ties (.csv): source, target, optional weight", type=["csv"],
                             key="ad_ties_upload", on_change=_on_org_upload, max_upload_size=orgs.MAX_UPLOAD_MB,
                             help="Who writes to whom; without it, ties are generated inside the real departments.")
            if S.get("ad_org_error"):
                st.error(S["ad_org_error"], icon=":material/error:")
            elif S.get("ad_org_path"):
                st.caption(f"Using {S.get('ad_org_name', 'the uploaded file')}.")
        st.selectbox("Population", [*POPULATIONS, CUSTOM], key="ad_pop", on_change=_on_population,
                     format_func=lambda p: p if p == CUSTOM else f"{p} ({POPULATIONS[p]['employees']:,} employees)",
                     help="small answers fastest; custom sets the size and the horizon yourself")
        if S["ad_pop"] == CUSTOM:
            for key, label, low, high in (("ad_employees", "employees", 2, 5_000_000),
                                          ("ad_departments", "departments", 1, 10_000),
                                          ("ad_customers", "customers", 0, 20_000_000),
                                          ("ad_weeks", "weeks (horizon)", 1, 2080)):
                st.number_input(label, min_value=low, max_value=high, step=1, key=key)

        st.subheader("What you can move")
        st.multiselect("Levers the advisor may move", list(ADVISABLE), key="ad_levers", format_func=_lever_label,
                       help="Every other key keeps its value in your scenario. rollout: keep the schedule, give "
                            "everyone access in week 0, or open the departments in four waves 8 weeks apart.")
        st.number_input("Budget (employee-weeks; empty: no limit)", min_value=0.0, step=1.0, key="ad_budget",
                        help="Most a plan may cost: the one-off effort of moving the levers (README, 'The strategy "
                             "advisor', has the cost model). Plans above it are never recommended.")
        st.slider("Target P(success)", 0.05, 0.95, step=0.05, key="ad_target",
                  help="The rollout counts as taking off when at least this share of runs are a success.")
        st.subheader("Search")
        st.number_input("Candidate plans (trials)", min_value=1, max_value=500, step=1, key="ad_trials",
                        help="Plans the search scores, your current one included.")
        st.number_input("Runs per candidate (replicates)", min_value=1, max_value=scenarios.MAX_REPLICATES, step=1,
                        key="ad_replicates", help="Every candidate runs the same seeds (common random numbers).")
        st.number_input("Fresh-seed runs per plan (confirm)", min_value=1, max_value=500, step=1, key="ad_confirm",
                        help="The probabilities shown are re-estimated on these seeds, which the search never saw "
                             "(so the best of many noisy estimates is not reported as typical); the best plan and "
                             "the flip, picked by these, are stated from as many seeds again.")
        st.number_input("Seed", min_value=0, max_value=scenarios.MAX_SEED, step=1, key="ad_seed",
                        help="The same request and seed always give the same plans.")
        posterior = calibration.toggle("ad_calibrated")
        st.caption(f"Here, the advisor's runs go {where_runs()}. The same request again shows its answer at once.")
    S["ad_kept"] = {k: S[k] for k in KEPT if k in S}
    return clicked, posterior


def workers() -> int:
    """Worker processes for the advisor's runs: 0 (this process) or a local Dask cluster of that many."""
    return compute.workers_setting()


def where_runs() -> str:
    n = workers()
    return ("one after another in the server process" if n == 0 else
            f"to a local Dask cluster of {n} worker process{'es' if n != 1 else ''}, started for the search")


# ------------------------------------------------------------------ the request
def organisation_value() -> tuple[str, str] | None:
    """The ``organisation`` and ``ties`` the scenario gets ('' generated; '' ties: an example's own
    or generated ones), or None while an upload is missing."""
    choice = S.get("ad_org", GENERATED)
    if choice == GENERATED:
        return "", ""
    if choice == UPLOAD:
        return (S["ad_org_path"], S.get("ad_ties_path", "")) if S.get("ad_org_path") else None
    return choice, ""


def base_scenario(organisation: str, ties: str = "") -> Scenario:
    """The visitor's current scenario: the preset at the chosen size, in the chosen organisation."""
    if S["ad_pop"] == CUSTOM:
        changes: dict[str, Any] = {"employees": int(S["ad_employees"]), "departments": int(S["ad_departments"]),
                                   "customers": int(S["ad_customers"]), "weeks": int(S["ad_weeks"])}
    else:
        changes = dict(POPULATIONS[S["ad_pop"]])
    changes.update(organisation=organisation, ties=ties)  # '' for an example: its own ties
    return scenarios.base_scenario(S["ad_preset"]).with_levers(**changes)


def most_runs(trials: int, replicates: int, confirm: int) -> int:
    """Runs a request makes at most: the search, every plan of the front and the current one again,
    then the best plan and the flip on their own seeds."""
    return trials * replicates + confirm * (min(trials, MAX_PLANS) + 1) + 2 * confirm


def request(base: Scenario, posterior: Any) -> dict[str, Any]:
    """The advisor's settings from the widgets, checked (raises :class:`UserInputError`, one line)."""
    ticked = set(S.get("ad_levers") or ())
    if not ticked:
        raise UserInputError(f"none ticked; allowed: at least one of {', '.join(ADVISABLE)}",
                             source="levers the advisor may move")
    budget = S.get("ad_budget")
    req = {"scenario": compute.scenario_key(base), "preset": S["ad_preset"],
           # in the advisor's own order: the same levers ticked in another order are the same request
           "levers": [name for name in ADVISABLE if name in ticked],
           "budget": None if budget is None else float(budget), "target": round(float(S["ad_target"]), 4),
           "trials": int(S["ad_trials"]), "replicates": int(S["ad_replicates"]), "confirm": int(S["ad_confirm"]),
           "seed": int(S["ad_seed"]), "posterior": calibration.posterior_id(posterior)}
    scenarios.check_population(base)
    runs = most_runs(req["trials"], req["replicates"], req["confirm"])
    agents = base.employees + (base.customers if base.use_customers else 0)
    if agents * base.weeks * runs > scenarios.MAX_AGENT_WEEKS:
        raise UserInputError(
            f"up to {runs:,} runs of {agents:,} agents over {base.weeks} weeks is too long for the dashboard; allowed: "
            f"agents x weeks x runs up to {scenarios.MAX_AGENT_WEEKS:,}. Use fewer candidate plans, runs per "
            "candidate or fresh-seed runs, a smaller population, or the command line (socialsim advise ...)",
            key="search")
    return req


def request_key(req: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(req, sort_keys=True).encode()).hexdigest()[:16]


def request_folder(req: dict[str, Any]) -> Path:
    """The advisor's folder for this request in the session's temporary folder."""
    return _root() / f"advice-{request_key(req)}"


def finished(out: Path) -> bool:
    return (out / "advice.json").is_file() and (out / "plans.csv").is_file()


def run(base: Scenario, req: dict[str, Any], out: Path) -> None:
    """Run the advisor for ``req`` into ``out``, with its progress on the page (nothing if already finished)."""
    if finished(out):
        return
    calibrated = compute._calibrated(req["posterior"])  # the posterior's file, refused if it changed
    total = req["trials"]
    with st.status(f"Searching {len(req['levers'])} lever(s) over {total} candidate plans ...", expanded=True) as box:
        bar = st.progress(0.0, text="advise: starting")

        def progress(message: str) -> None:
            found = PROGRESS.search(message)
            fraction = 0.85 * int(found.group(1)) / max(1, int(found.group(2))) if found else 0.9
            bar.progress(min(1.0, fraction), text=message)
            box.update(label=message)

        try:
            advice = advise(base, out_dir=out, levers=req["levers"], budget=req["budget"], target=req["target"],
                            trials=req["trials"], replicates=req["replicates"], confirm=req["confirm"],
                            calibrated=calibrated, seed=req["seed"], workers=workers(),
                            source=f"{req['preset']} in the dashboard", progress=progress)
        except BaseException:
            box.update(label="The advisor stopped; the candidates scored so far are kept for the same request.",
                       state="error", expanded=False)
            raise
        bar.progress(1.0, text="done")
        box.update(label=f"Done: {len(advice.plans)} plan(s) on the front, re-estimated on {req['confirm']} fresh "
                         f"seeds each ({advice.meta['seconds_this_session']:.0f} s).", state="complete",
                   expanded=False)


# ------------------------------------------------------------------ the answer
def load_advice(out: Path) -> Advice:
    """The advisor's answer as it wrote it (``advice.json``: plans, current plan, best plan, flip, settings)."""
    summary = json.loads((out / "advice.json").read_text(encoding="utf-8"))
    meta = {k: v for k, v in summary.items() if k not in ("current", "best", "flip", "plans")}
    columns = [*PLAN_COLUMNS, *meta["levers"]]
    plans = pd.DataFrame(summary["plans"]) if summary["plans"] else pd.DataFrame(columns=columns)
    return Advice(plans=plans, current=summary["current"], flip=summary["flip"], out_dir=out, meta=meta,
                  best=summary.get("best"))


def plans_table(advice: Advice) -> pd.DataFrame:
    """The plans as the page shows them: numbers, then the lever values."""
    levers = advice.meta["levers"]
    keep = ["plan", "p_success", "p_success_low", "p_success_high", "cost", "p_success_search", "changes",
            "changed_levers", *levers]
    return advice.plans.reindex(columns=keep)


PERCENT = {name: st.column_config.NumberColumn(label, format="percent")
           for name, label in (("p_success", "P(success)"), ("p_success_low", "low (95%)"),
                               ("p_success_high", "high (95%)"), ("p_success_search", "search's estimate"))}


def verdict(advice: Advice) -> None:
    c, target = advice.current, advice.meta["target"]
    meets = c["p_success"] >= target
    cols = st.columns(3)
    cols[0].metric("Your scenario: P(success)", ui.pct(c["p_success"]),
                   help=f"95% Wilson interval {ui.pct(c['p_success_low'])} to {ui.pct(c['p_success_high'])}, on "
                        f"{c['runs']} fresh seeds")
    cols[1].metric(f"Target {ui.pct(target)}", "reached" if meets else "missed")
    cols[2].metric("Plans on the front", len(advice.plans))
    st.caption(f"Your scenario: P(success) {ui.pct(c['p_success'])} [{ui.pct(c['p_success_low'])}, "
               f"{ui.pct(c['p_success_high'])}] on {c['runs']} fresh seeds; it "
               f"{'reaches' if meets else 'misses'} the target {ui.pct(target)}.")
    if advice.best is not None:
        st.caption(f"Best plan found: {stated(advice.best)}.")
    flip = advice.flip
    if flip is None:
        st.info("No plan found flips that verdict within the levers"
                + (" and the budget" if advice.meta.get("budget") is not None else "") + " allowed.",
                icon=":material/block:")
        return
    text = (f"Smallest change that flips the verdict: **{flip['plan']}** ({flip['changes']} lever(s) moved, cost "
            f"{flip['cost']:.1f} employee-weeks): {stated(flip, named=False)}.")
    if not flip.get("flips_on_fresh_seeds", True):
        text += " " + NO_LONGER_FLIPS
    (st.success if not meets else st.warning)(text, icon=":material/swap_vert:")
    moved = changes(advice)
    st.dataframe(moved[moved["plan"] == flip["plan"]].drop(columns="plan"), hide_index=True, key="ad_flip_table")


def changes(advice: Advice) -> pd.DataFrame:
    """What each plan changes (:func:`sim.advisor.report.changes_frame`), values as text: a lever's
    value is a number or a choice (rollout, access scope), and one column holds both."""
    frame = changes_frame(advice, advice.meta["levers"])
    for column in ("now", "plan value"):
        frame[column] = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in frame[column]]
    return frame


def show(shown: dict[str, Any]) -> None:
    out = Path(shown["out"])
    advice = load_advice(out)
    meta = advice.meta
    st.subheader(f"{meta['scenario']}: {meta['trials']} candidate plans, {meta['replicates']} runs each, seed "
                 f"{meta['seed']}")
    st.caption("Behavioural parameters: " + (f"drawn from posterior {meta['posterior']} for every seed (the same "
                                             "draw for every plan)" if meta.get("posterior") else
                                             "the developers' defaults (uncalibrated)")
               + ". Probabilities come from fresh seeds the search never saw; costs are the README's cost model "
                 "(employee-weeks, one-off). These are the model's outcomes, not a forecast.")
    verdict(advice)
    fig = front_figure(advice)
    fig.update_layout(template="plotly_white", height=460, margin={"l": 60, "r": 20, "t": 60, "b": 40},
                      legend={"orientation": "h", "y": -0.18})
    ui.plot(fig, key="ad_front")
    st.subheader("Plans")
    st.caption("One row per plan on the Pareto front (the cheapest first): P(success) with its 95% Wilson interval "
               "on fresh seeds, the cost, and the lever values.")
    table = plans_table(advice)
    st.dataframe(table, hide_index=True, column_config=PERCENT, key="ad_plans")
    changed = changes(advice)
    if not changed.empty:
        with st.expander("What each plan changes from your scenario"):
            st.dataframe(changed, hide_index=True, key="ad_changes")

    st.subheader("Use a plan")
    names = list(table["plan"])
    cols = st.columns(4)
    cols[0].download_button("Report (.html)", (out / "report.html").read_bytes(), file_name="advisor-report.html",
                            mime="text/html", on_click="ignore", key="ad_dl_html")
    cols[1].download_button("Every plan (.zip of .toml)", plans_zip(out, names), file_name="advisor-plans.zip",
                            mime="application/zip", on_click="ignore", key="ad_dl_zip", disabled=not names)
    if not names:
        return
    if S.get("ad_plan") not in names:
        S["ad_plan"] = names[0]
    plan = st.selectbox("Plan", names, key="ad_plan",
                        format_func=lambda p: _plan_label(table.set_index("plan").loc[p]))
    path = out / "plans" / f"{plan}.toml"
    left, right = st.columns(2)
    left.download_button(f"{plan} as a scenario file (.toml)", path.read_text(encoding="utf-8"),
                         file_name=f"{meta['scenario']}-{plan}.toml", mime="application/toml", on_click="ignore",
                         key="ad_dl_toml")
    if right.button(f"Open {plan} in Explore", key="ad_open", type="primary"):
        open_in_explore(load_scenario(path), shown["preset"], plan)


def _plan_label(row: pd.Series) -> str:
    return (f"{row.name}: P(success) {ui.pct(row['p_success'])}, cost {row['cost']:.1f}"
            + (f"; changes {row['changed_levers'].replace(';', ', ')}" if isinstance(row["changed_levers"], str)
               and row["changed_levers"] else ""))


def plans_zip(out: Path, names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.write(out / "plans" / f"{name}.toml", f"{name}.toml")
    return buffer.getvalue()


def open_in_explore(scenario: Scenario, preset: str | None, plan: str) -> None:
    """Make the plan Explore's scenario, as Explore's own preset choice would, and go there.

    Explore keeps its scenario in ``ex_values`` (and its widgets in ``lv_<lever>``, restored from
    ``ex_values`` when missing); a first visit's ``ex_first_visit`` makes it run the plan at once
    when that is cheap, and Explore then writes the plan into the address.
    """
    values = scenario.to_dict()
    S["ex_preset"] = preset
    S["ex_values"] = values
    S["ex_choice"] = preset
    S["ex_pop"] = controls.population_of(values)
    S["ex_label"] = f"{preset} {plan}"
    S["ex_url_error"] = None
    S["ex_first_visit"] = True
    controls.set_widgets(values)
    kept = dict(S.get("ex_kept", {}))
    kept.update(ex_choice=preset, ex_pop=S["ex_pop"])
    kept.setdefault("ex_seed", S.get("ex_seed", 42))
    kept.setdefault("ex_reps", S.get("ex_reps", 1))
    S["ex_kept"] = kept
    st.switch_page("views/explore.py")


# ------------------------------------------------------------------ page
def page() -> None:
    _init()
    clicked, posterior = sidebar()
    st.title("Strategy advisor")
    st.caption("Will your rollout take off, and what would make it? Tick the levers you can move: the advisor searches "
               "them for plans that raise the chance of success at least cost (Optuna's NSGA-II; every candidate runs "
               "the same seeds), then re-estimates each plan on fresh seeds.")
    st.query_params.from_dict(calibration.query(posterior))  # not Explore's scenario: this page has its own
    chosen = organisation_value()
    if chosen is None:
        st.info("Upload your HR export (a CSV) in the sidebar, or choose another organisation.",
                icon=":material/upload_file:")
        return
    try:
        organisation, ties = chosen
        base = base_scenario(organisation, ties)
        req = request(base, posterior)
    except UserInputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    firm = (orgs.describe(base.to_dict()) if organisation else
            f"{base.employees:,} employees in {base.departments:,} departments")
    st.caption(f"Your scenario: **{S['ad_preset']}** on {firm}; {base.customers:,} customers, {base.weeks} weeks. "
               f"At most {most_runs(req['trials'], req['replicates'], req['confirm']):,} runs.")
    out = request_folder(req)
    key = request_key(req)
    try:
        if clicked:
            run(base, req, out)
            S["ad_shown"] = {"key": key, "out": str(out), "preset": req["preset"]}
        shown = S.get("ad_shown")
        if shown is None or not finished(Path(shown["out"])):
            S.pop("ad_shown", None)
            st.info("Press **Run advisor** to search the levers you ticked.", icon=":material/play_arrow:")
            return
        if shown["key"] != key:
            st.info("The settings changed since the answer below: press **Run advisor** to update it.",
                    icon=":material/refresh:")
        show(shown)
    except (UserInputError, SweepAborted) as exc:  # a refused request, a busy folder, a replaced posterior, lost workers
        st.error(str(exc), icon=":material/error:")
    except OSError as exc:  # the session's temporary folder is full or was removed
        st.error(f"the advisor's folder cannot be used ({exc.strerror or exc}); allowed: press Run advisor again",
                 icon=":material/error:")


page()
