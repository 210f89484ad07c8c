"""Workshop: a guided storyline for a room, in large type: ask, reveal, explain."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import calibration, charts, compute, scenarios, ui
from dashboard.story import STEPS, Arm
from sim import report
from sim.errors import UserInputError
from sim.scenario import POPULATIONS, Scenario

S = st.session_state


def _init() -> None:
    if "ws_kept" in S:
        for k, v in S["ws_kept"].items():
            S.setdefault(k, v)
        return
    S["ws_step"], S["ws_error"] = 0, None
    text = st.query_params.get("step")
    if text is not None:
        try:
            step = int(text)
            if not 1 <= step <= len(STEPS):
                raise ValueError
            S["ws_step"] = step - 1
        except ValueError:
            S["ws_error"] = f"address (URL): step: {text[:40]!r} is not allowed; allowed: 1 to {len(STEPS)}"
    S["ws_pop"] = "small"
    S["ws_replicates"] = 8
    S["ws_seed"] = 0


def arm_scenario(arm: Arm, population: str) -> Scenario:
    return scenarios.base_scenario(arm.preset).with_levers(name=arm.label, **arm.changes, **POPULATIONS[population])


def _go(delta: int) -> None:
    S["ws_error"] = None
    S["ws_step"] = max(0, min(len(STEPS) - 1, S["ws_step"] + delta))


def page() -> None:
    _init()
    ui.projector_css()
    with st.sidebar:
        st.subheader("Workshop settings")
        st.selectbox("Jump to step", range(len(STEPS)), key="ws_step", format_func=lambda i: STEPS[i].title)
        st.selectbox("Population", list(POPULATIONS), key="ws_pop",
                     format_func=lambda p: f"{p}: {POPULATIONS[p]['employees']:,} employees",
                     help="small answers in seconds; the shapes are the same as in the default organisation")
        st.slider("Replicates per strategy", 2, 20, key="ws_replicates")
        st.number_input("Seed", 0, scenarios.MAX_SEED, key="ws_seed")
        posterior = calibration.toggle("ws_calibrated")
        prepare = st.button("Prepare every step now", key="ws_prepare",
                            help="Run every step before the session, so each reveal is instant.")
    S["ws_kept"] = {k: S[k] for k in ("ws_step", "ws_pop", "ws_replicates", "ws_seed") if k in S}
    if S.get("ws_error"):
        st.error(f"{S['ws_error']}. Starting at step 1.", icon=":material/link_off:")
    pop, reps, seed = S["ws_pop"], int(S["ws_replicates"]), int(S["ws_seed"])
    try:
        for step in STEPS:
            for arm in step.arms:
                scenarios.check_population(arm_scenario(arm, pop), reps)
    except UserInputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    drawn_from = calibration.posterior_id(posterior)
    try:
        if prepare:
            for step in STEPS:
                for arm in step.arms:
                    compute.run_set(compute.scenario_key(arm_scenario(arm, pop)), seed, reps, drawn_from,
                                    _label=f"Preparing {step.title}: {arm.label}")
            st.success("Every step is ready.", icon=":material/check:")
    except UserInputError as exc:  # the posterior was replaced while the page was open
        st.error(str(exc), icon=":material/error:")
        return

    i = S["ws_step"]
    step = STEPS[i]
    st.query_params.from_dict({"step": str(i + 1), **calibration.query(posterior)})
    nav = st.columns([2, 5, 2])
    nav[0].button("◀ Previous", width="stretch", key="ws_prev", on_click=_go, args=(-1,), disabled=i == 0)
    nav[2].button("Next ▶", width="stretch", key="ws_next", on_click=_go, args=(1,), disabled=i == len(STEPS) - 1)
    st.title(step.title)
    st.markdown(step.setup)
    st.subheader(f"Question to the room: {step.question}")
    st.slider("The room's guess: % of staff posting (in the last 4 weeks) after two years", 0, 100, 20, key=f"ws_guess_{i}")
    if st.button("Reveal", type="primary", key=f"ws_reveal_{i}"):
        S[f"ws_revealed_{i}"] = True
        S["ws_scroll_to_reveal"] = i  # once, right after the press
    if not S.get(f"ws_revealed_{i}"):
        st.caption("Ask the room first; then press Reveal.")
        return
    try:
        reveal(i, pop, reps, seed, drawn_from)
    except UserInputError as exc:  # the posterior was replaced while the page was open
        st.error(str(exc), icon=":material/error:")


def reveal(i: int, pop: str, reps: int, seed: int, posterior: str | None = None) -> None:
    """Show step ``i``'s answer: its strategies' runs (calibrated with the posterior id ``posterior``)."""
    step = STEPS[i]
    st.markdown(f'<div id="{REVEAL_ANCHOR}"></div>', unsafe_allow_html=True)
    chosen = {arm.label: arm_scenario(arm, pop) for arm in step.arms}
    results = {label: compute.run_set(compute.scenario_key(s), seed, reps, posterior, _label=f"Running {label}")
               for label, s in chosen.items()}
    weeks = next(iter(chosen.values())).weeks
    fig = charts.share_bands(results, step.outcome, title=f"Share of staff who posted in the last 4 weeks, week by week "
                             f"(median and 95% band of {reps} runs)")
    ui.plot(charts.big(fig), own_fonts=True)
    success = report.success_table(results).set_index("scenario")
    cols = st.columns(len(results))
    for col, (label, runs) in zip(cols, results.items()):
        final = pd.Series([r.summary["active_share"] for r in runs]).median()
        col.metric(f"{label}: contributing at week {weeks}", ui.pct(final))
        col.metric("peak (median)", ui.pct(pd.Series([r.summary["peak_active_share"] for r in runs]).median()))
        col.metric("runs judged a success", f"{int(success.loc[label, 'success'])} of {len(runs)}")
    last = list(results)[-1]
    guess = S.get(f"ws_guess_{i}", 20) / 100
    final = pd.Series([r.summary["active_share"] for r in results[last]]).median()
    st.markdown(f"**The room guessed {guess:.0%}; the model's median for *{last}* is {final:.0%}.**")
    st.subheader("Why: what the model does")
    st.markdown(step.mechanism)
    st.markdown(f"> {step.quote}\n>\n> — {step.source}")
    differs = scenarios.lever_table(chosen)
    if len(chosen) > 1 and not differs.empty:
        with st.expander("Exactly which levers differ"):
            st.dataframe(differs, hide_index=True)
    st.caption(f"{pop} organisation ({POPULATIONS[pop]['employees']:,} employees), {reps} runs per strategy with "
               f"the same seeds (root seed {seed}). These are the model's outcomes, not a forecast.")
    st.caption(calibration.results_text(results))
    if S.pop("ws_scroll_to_reveal", None) == i:
        scroll_to_reveal()


REVEAL_ANCHOR = "ws-reveal"


def scroll_to_reveal() -> None:
    """Bring the reveal on screen: on a 1280x720 projector in large type it starts below the fold,
    so pressing Reveal would otherwise change nothing visible."""
    import streamlit.components.v1 as components

    components.html("<script>const el = window.parent.document.getElementById('" + REVEAL_ANCHOR + "');"
                    "if (el) { el.scrollIntoView({block: 'start'}); }</script>", height=0)


page()
