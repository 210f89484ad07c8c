"""socialsim dashboard: the entry point (``socialsim dashboard`` or ``streamlit run dashboard/app.py``).

Pages (``views/``): Explore one strategy, Compare strategies over replicates, run a Workshop,
browse Experiments written by ``socialsim sweep``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# One numba thread per process: replicates run in parallel processes instead (see compute.py).
# Set before numba is first imported; results do not depend on it.
os.environ.setdefault("NUMBA_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st

import sim
from dashboard import compute

st.set_page_config(page_title="socialsim", layout="wide")

PAGES = [
    st.Page("views/explore.py", title="Explore", default=True),
    st.Page("views/compare.py", title="Compare"),
    st.Page("views/workshop.py", title="Workshop"),
    st.Page("views/experiments.py", title="Experiments"),
]

page = st.navigation(PAGES)
compute.warm_up()
with st.sidebar:
    st.caption(f"socialsim {sim.__version__}: an agent-based model of how organisations adopt social business. "
               "Outputs are the model's, not a forecast.")
page.run()
