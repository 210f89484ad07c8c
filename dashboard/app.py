"""socialsim dashboard: the entry point (``socialsim dashboard`` or ``streamlit run dashboard/app.py``).

Pages (``views/``): Explore one strategy, Compare strategies over replicates, run a Workshop,
ask the strategy Advisor which plans would make a rollout take off, browse Experiments written by
``socialsim sweep``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# One numba thread per process: replicates run in parallel processes instead (see compute.py).
# Only before numba is first imported: numba re-reads the variable at every compile and refuses a
# value that differs from its running thread pool (a host that imported numba already, such as
# a test harness running this script in its own process, keeps its setting). Results do not
# depend on it.
if "numba" not in sys.modules:
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
    st.Page("views/advisor.py", title="Advisor"),
    st.Page("views/experiments.py", title="Experiments"),
]

page = st.navigation(PAGES)
compute.warm_up()
with st.sidebar:
    st.caption(f"socialsim {sim.__version__}: an agent-based model of how organisations adopt social business. "
               "Outputs are the model's, not a forecast.")
page.run()
