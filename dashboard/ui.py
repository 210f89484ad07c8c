"""Small page helpers shared by the views: charts, numbers, projector type."""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from sim import report

PLOTLY_CONFIG = {"displaylogo": False}


def plot(fig: Any, key: str | None = None, own_fonts: bool = False) -> None:
    """Draw a figure; ``own_fonts`` keeps the figure's font sizes instead of Streamlit's theme."""
    st.plotly_chart(fig, config=PLOTLY_CONFIG, key=key, theme=None if own_fonts else "streamlit")


def pct(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.0%}"


def num(x: float) -> str:
    return report.format_number(x)


BIG_CSS = """
<style>
[data-testid="stMain"] .stMarkdown p, [data-testid="stMain"] .stMarkdown li { font-size: 1.45rem; line-height: 1.5; }
[data-testid="stMain"] h1 { font-size: 3.2rem; } [data-testid="stMain"] h2 { font-size: 2.4rem; }
[data-testid="stMain"] h3 { font-size: 2rem; }
[data-testid="stMain"] [data-testid="stMetricValue"] { font-size: 3.4rem; }
[data-testid="stMain"] [data-testid="stMetricLabel"] p { font-size: 1.3rem; }
[data-testid="stMain"] blockquote p { font-size: 1.6rem; font-style: italic; }
[data-testid="stMain"] .stButton button p { font-size: 1.3rem; white-space: nowrap; }
</style>
"""


def projector_css() -> None:
    """Large type for a room (font sizes only)."""
    st.markdown(BIG_CSS, unsafe_allow_html=True)
