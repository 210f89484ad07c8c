"""Lever widgets: one control per scenario key, with its one-line meaning and source article.

Widgets are keyed ``lv_<lever>`` and read their value from ``st.session_state`` (never from a
``value=`` argument), so a preset change or a shared link can set them all before they render.
"""

from __future__ import annotations

import typing
from typing import Any

import streamlit as st

from sim.scenario import POPULATIONS, Scenario, lever_info

#: Short names of the seed articles (shared/seeds).
SOURCES = {
    "000": "Hinchcliffe & Kim, three tenets (seeds/000)",
    "001": "Dent, provide and pray vs purpose (seeds/001)",
    "002": "A Means to an End: acting human (seeds/002)",
    "003": "HBR/Darmano: silos, listening, co-creation (seeds/003)",
    "004": "Starts from within: leaders, stepwise (seeds/004)",
}
#: The strategy levers (what a preset sets): shown first.
STRATEGY = tuple(row["name"] for row in lever_info() if row["group"] == "strategy" and row["name"] not in ("waves", "shocks"))
#: Set in the sidebar's population section.
POPULATION = ("employees", "departments", "customers", "weeks")
#: Not a widget: identity text, the schedules (shown as tables; change them with a file) and the
#: organisation's files (chosen or uploaded in the sidebar's organisation section).
NOT_WIDGETS = ("name", "description", "waves", "shocks", "organisation", "ties")
KEY = "lv_{}"

_INFO = {row["name"]: row for row in lever_info()}


def source_text(source: str) -> str:
    """'001, 003' -> the articles' short names."""
    parts = [SOURCES.get(p.strip(), p.strip()) for p in str(source).split(",") if p.strip()]
    return "; ".join(parts)


def label(name: str) -> str:
    return name.replace("_", " ")


def caption(name: str) -> str:
    row = _INFO[name]
    return f"{row['doc']}. *Source: {source_text(row['source'])}*  `{name}`"


def widget_levers() -> list[str]:
    """Every scenario key that has a widget."""
    return [n for n in Scenario.model_fields if n not in NOT_WIDGETS]


def groups() -> list[tuple[str, list[str]]]:
    """(tab title, levers) in display order: the strategy levers, the organisation, then how people
    respond (behavioural parameters, one tab per mechanism), switches, value and verdict."""
    out: list[tuple[str, list[str]]] = [("strategy", list(STRATEGY))]
    seen = set(STRATEGY) | set(POPULATION) | set(NOT_WIDGETS)
    rest = [(name, row) for name, row in _INFO.items() if name not in seen]
    out.append(("organisation", [name for name, row in rest if row["group"] == "organisation"]))
    by_mechanism: dict[str, list[str]] = {}
    for name, row in rest:
        if row["group"] == "behaviour":
            by_mechanism.setdefault(str(row["mechanism"]) or "other", []).append(name)
    for mechanism in sorted(by_mechanism, key=lambda m: int(m.split()[0]) if m.split()[0].isdigit() else 99):
        out.append((f"how people respond: {mechanism}", by_mechanism[mechanism]))
    titles = {"switch": "switches", "economics": "value & cost", "verdict": "verdict"}
    for group, title in titles.items():
        out.append((title, [name for name, row in rest if row["group"] == group]))
    return [(title, names) for title, names in out if names]


def _decimals(x: float) -> int:
    for d in range(2, 7):
        if abs(round(x, d) - x) < 1e-12:
            return d
    return 6


def set_widgets(values: dict[str, Any], only_missing: bool = False) -> None:
    """Put scenario values into the lever widgets' session state."""
    for name in widget_levers():
        key = KEY.format(name)
        if only_missing and key in st.session_state:
            continue
        value = values[name]
        if Scenario.model_fields[name].annotation is float:
            value = float(value)
        st.session_state[key] = value


def read_widgets() -> dict[str, Any]:
    """The lever values currently in the widgets."""
    return {name: st.session_state[KEY.format(name)] for name in widget_levers()
            if KEY.format(name) in st.session_state}


def lever_widget(name: str, container: Any = st, disabled: bool = False) -> Any:
    """Draw one lever's control and its explanation; returns the value (``disabled``: shown, not changeable)."""
    row = _INFO[name]
    annotation = Scenario.model_fields[name].annotation
    key, text, ge, le = KEY.format(name), label(name), row["ge"], row["le"]
    box = container.container()
    if annotation is bool:
        value = box.toggle(text, key=key, disabled=disabled)
    elif typing.get_origin(annotation) is typing.Literal:
        value = box.selectbox(text, list(typing.get_args(annotation)), key=key, disabled=disabled)
    elif annotation is int:
        lo, hi = int(ge if ge is not None else 0), int(le if le is not None else 10**9)
        if hi - lo <= 100:
            value = box.slider(text, min_value=lo, max_value=hi, step=1, key=key, disabled=disabled)
        else:
            value = box.number_input(text, min_value=lo, max_value=hi, step=1, key=key, disabled=disabled)
    else:
        lo, hi = float(ge if ge is not None else 0.0), float(le if le is not None else 1e9)
        d = _decimals(float(row["default"]))
        if hi - lo <= 3.0 and d <= 2:
            value = box.slider(text, min_value=lo, max_value=hi, step=0.01 if hi - lo <= 1.0 else 0.05, key=key,
                               disabled=disabled)
        else:
            whole = float(row["default"]).is_integer() and hi - lo >= 100
            value = box.number_input(text, min_value=lo, max_value=hi, step=1.0 if whole else 10.0 ** -d,
                                     format=f"%.{d}f", key=key, disabled=disabled)
    box.caption(caption(name))
    return value


def lever_tabs() -> None:
    """Every lever with a widget (except the population section's), in tabs of three columns."""
    tab_groups = groups()
    tabs = st.tabs([title for title, _ in tab_groups])
    for tab, (_, names) in zip(tabs, tab_groups):
        with tab:
            cols = st.columns(3)
            for i, name in enumerate(names):
                lever_widget(name, cols[i % 3])


def population_of(values: dict[str, Any]) -> str:
    """The named population size whose numbers the values hold, or 'custom'."""
    for name, sizes in POPULATIONS.items():
        if all(values.get(k) == v for k, v in sizes.items()):
            return name
    return "custom"
