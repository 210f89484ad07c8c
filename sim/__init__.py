"""socialsim: an agent-based simulation of how organisations adopt social business.

Public API:
    run(scenario, seed=...) -> RunResult            one run (CLI, dashboard and experiments use it)
    run_replicates(scenario, replicates, seed)      several seeds of one scenario
    SocialBusinessModel                             the Mesa model
    Scenario, load_scenario, preset_names           scenarios and their validation
    sim.classic                                     Bass and threshold-cascade reductions

The names load on first use (PEP 562): ``import sim`` costs almost nothing, so ``socialsim
--help`` answers without numba, pandas, Mesa or pydantic; ``from sim import run`` and
``sim.run`` load the model as before. Submodules (``sim.classic``, ``sim.scenario``, ...) load
on first attribute access too.
"""

import importlib
import os
from typing import TYPE_CHECKING, Any

# numba's OpenMP threads spin between parallel kernel calls by default; on a shared 2-core
# machine that cost ~10 ms per call (socialsim bench measured it). Sleeping threads cost nothing.
# Must be set before numba loads OpenMP; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .errors import ScenarioError, UserInputError  # noqa: E402  (standard library only)

#: Public name -> the submodule that defines it (imported on first use).
_LAZY = {
    "SocialBusinessModel": "model",
    "RunResult": "outputs",
    "replicate_seeds": "runner", "run": "runner", "run_replicates": "runner",
    "Scenario": "scenario", "load_scenario": "scenario", "make_scenario": "scenario", "preset_names": "scenario",
}

__all__ = [
    "RunResult", "Scenario", "ScenarioError", "SocialBusinessModel", "UserInputError",
    "__version__", "load_scenario", "make_scenario", "preset_names", "replicate_seeds", "run",
    "run_replicates",
]

if TYPE_CHECKING:  # for type checkers and IDEs: the names as if imported eagerly
    from .model import SocialBusinessModel
    from .outputs import RunResult, __version__
    from .runner import replicate_seeds, run, run_replicates
    from .scenario import Scenario, load_scenario, make_scenario, preset_names


def __getattr__(name: str) -> Any:
    """Load a public name, ``__version__`` or a submodule on first access, then keep it here."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif name == "__version__":  # the installed version, without loading sim.outputs (pandas)
        from .startup import version

        value = version()
    elif name.isidentifier() and not name.startswith("__"):
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":  # a submodule that fails to import: show why
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
