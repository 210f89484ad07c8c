"""socialsim: an agent-based simulation of how organisations adopt social business.

Public API:
    run(scenario, seed=...) -> RunResult            one run (CLI, dashboard and experiments use it)
    run_replicates(scenario, replicates, seed)      several seeds of one scenario
    SocialBusinessModel                             the Mesa model
    Scenario, load_scenario, preset_names           scenarios and their validation
    sim.classic                                     Bass and threshold-cascade reductions
"""

import os

# numba's OpenMP threads spin between parallel kernel calls by default; on a shared 2-core
# machine that cost ~10 ms per call (sim/bench.py measured it). Sleeping threads cost nothing.
# Must be set before numba loads OpenMP; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .errors import ScenarioError, UserInputError  # noqa: E402
from .model import SocialBusinessModel  # noqa: E402
from .outputs import RunResult, __version__  # noqa: E402
from .runner import replicate_seeds, run, run_replicates  # noqa: E402
from .scenario import Scenario, load_scenario, make_scenario, preset_names  # noqa: E402

__all__ = [
    "RunResult", "Scenario", "ScenarioError", "SocialBusinessModel", "UserInputError",
    "__version__", "load_scenario", "make_scenario", "preset_names", "replicate_seeds", "run",
    "run_replicates",
]
