"""The ``socialsim`` command line: run, compare, presets, validate, levers, bench, compile, analyze,
sweep, calibrate, advise, dashboard.

Every user mistake (a scenario file, a lever value, a preset name, an output path, a ``--set``)
ends as one line ``error: <message>`` on stderr and exit status 2; an unexpected failure is one
line and exit status 1. ``socialsim --debug ...`` prints the full traceback as well. Outputs are
checked before anything long runs and are written atomically (never a half-written file).

The group and what the commands share are in :mod:`sim.cli.common`; the commands, by what they are
for: :mod:`~sim.cli.scenarios` (run, compare, presets, validate, levers), :mod:`~sim.cli.tools`
(bench, compile), :mod:`~sim.cli.experiments` (analyze, sweep, calibrate, advise) and
:mod:`~sim.cli.dashboard`. Importing the modules registers their commands, in that order (the
order ``socialsim --help`` lists them).
"""

from __future__ import annotations

from . import scenarios, tools, experiments, dashboard  # noqa: F401  (registers the commands, in this order)
from .common import app, build_scenario, compile_simulation, ensure_kernels, parse_sets, parse_value
from .dashboard import dashboard_argv

__all__ = ["app", "build_scenario", "compile_simulation", "dashboard_argv", "ensure_kernels", "parse_sets",
           "parse_value"]
