"""socialsim: an agent-based simulation of how organisations adopt social business.

Public API:
    run(scenario, seed=...) -> RunResult            one run (CLI, dashboard and experiments use it)
    run_replicates(scenario, replicates, seed)      several seeds of one scenario
    SocialBusinessModel                             the Mesa model
    Scenario, load_scenario, preset_names           scenarios and their validation
    sim.classic                                     Bass and threshold-cascade reductions
"""

from .errors import ScenarioError, UserInputError
from .model import SocialBusinessModel
from .outputs import RunResult, __version__
from .runner import replicate_seeds, run, run_replicates
from .scenario import Scenario, load_scenario, make_scenario, preset_names

__all__ = [
    "RunResult", "Scenario", "ScenarioError", "SocialBusinessModel", "UserInputError",
    "__version__", "load_scenario", "make_scenario", "preset_names", "replicate_seeds", "run",
    "run_replicates",
]
