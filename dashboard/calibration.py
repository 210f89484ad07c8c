"""Calibrated behaviour: the switch shared by Explore, Compare and Workshop, and what pages say.

With the switch on, every replicate draws its behavioural parameters from the default posterior
(:func:`dashboard.compute.default_posterior`) with its own seed, so the bands combine parameter
and stochastic uncertainty. It is on by default whenever a posterior is available; off gives the
developers' defaults; with no usable posterior it is off, disabled, and a caption says why.

The visitor's choice is one for the whole dashboard (session key :data:`CHOICE`): switched off on
one page, it is off on the others too. A link records it as ``calibrated=false`` (on, the default,
adds nothing, so existing links are unchanged).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import compute
from sim import report
from sim.calibration.posterior import Posterior

S = st.session_state
#: Session key of the choice. Not a widget's key: Streamlit forgets a widget's state while
#: another page is shown, and each page draws its own toggle, so they all read and write this.
CHOICE = "calibrated"
#: Query parameter (``calibrated=false`` when the visitor switched calibration off).
PARAM = "calibrated"
LABEL = "Calibrated behaviour (posterior)"
HELP = ("On: each replicate draws how people respond (the behavioural parameters) from the calibrated "
        "posterior with its own seed, so the bands combine parameter and stochastic uncertainty. "
        "Off: the developers' default behavioural parameters.")


def _from_address() -> bool:
    """The choice a link asks for: off only for ``calibrated=false``; anything else not understood
    keeps the default (on) and is reported under the switch."""
    text = st.query_params.get(PARAM)
    if text is None or text == "true":
        return True
    if text == "false":
        return False
    S["calibrated_url_error"] = f"address (URL): calibrated: {text[:40]!r} is not allowed; allowed: true or false"
    return True


def _remember(key: str) -> None:
    S[CHOICE] = bool(S[key])


def toggle(key: str) -> Posterior | None:
    """Draw the switch (widget ``key``, one per page) in the current container; the posterior the
    runs draw from, or None for uncalibrated runs."""
    posterior, why_not = compute.default_posterior()
    if posterior is None:
        S[key] = False
        st.toggle(LABEL, key=key, disabled=True, help=HELP)
        st.caption(why_not)
        return None
    if CHOICE not in S:
        S[CHOICE] = _from_address()
    S[key] = S[CHOICE]  # before the widget is drawn: the page shows the dashboard-wide choice
    st.toggle(LABEL, key=key, on_change=_remember, args=(key,), help=HELP)
    if S.get("calibrated_url_error"):
        st.error(S.pop("calibrated_url_error"), icon=":material/link_off:")
    if not S[CHOICE]:
        st.caption("Off: the developers' default behavioural parameters (uncalibrated).")
        return None
    st.caption(f"On: each replicate draws from {posterior.describe()}.")
    return posterior


def posterior_id(posterior: Posterior | None) -> str | None:
    """What :func:`compute.run_set` and :func:`compute.explore_run` take as ``posterior``."""
    return None if posterior is None else posterior.id


def query(posterior: Posterior | None) -> dict[str, str]:
    """The query parameter recording the choice: ``calibrated=false`` only when a posterior is
    available and the visitor switched it off."""
    return {PARAM: "false"} if posterior is None and not S.get(CHOICE, True) else {}


def fitted_levers(posterior: Posterior) -> list[str]:
    """The levers a calibrated run takes from the posterior instead of the scenario."""
    return [*posterior.behavioural, *(["hierarchy_influence"] if "hierarchy_influence" in posterior.particles else [])]


def results_text(results: list[Any] | dict[str, list[Any]]) -> str:
    """One line for a page: which posterior the shown runs drew from and how many draws, or that
    they are uncalibrated. ``results``: one strategy's runs, or label -> runs."""
    if not isinstance(results, dict):
        text = f"Behavioural parameters: {report.posterior_text(results)}"
        if not _calibrated(results):
            return text + "."
        # One replicate is one draw: there is no band yet to carry the parameter uncertainty.
        return text + ("; the band combines parameter and stochastic uncertainty." if len(results) > 1 else
                       "; more replicates draw more particles and show the parameter uncertainty as a band.")
    texts = {label: report.posterior_text(runs) for label, runs in results.items()}
    if len(set(texts.values())) == 1:  # common random numbers: the same seeds draw the same particles
        text = next(iter(texts.values()))
        if not any(_calibrated(runs) for runs in results.values()):
            return f"Behavioural parameters: {text}."
        return (f"Behavioural parameters: {text} per strategy, the same draws for every strategy (common random "
                "numbers); the bands combine parameter and stochastic uncertainty.")
    return "Behavioural parameters: " + "; ".join(f"{label}: {text}" for label, text in texts.items()) + "."


def _calibrated(runs: list[Any]) -> bool:
    return any(getattr(r, "posterior", None) is not None for r in runs)
