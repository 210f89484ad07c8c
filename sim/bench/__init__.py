"""``socialsim bench``: the whole performance story in one run, every ratio measured side by side.

Every measurement runs in a fresh worker process (:mod:`sim.bench.workers`), all in the same
invocation of :func:`main`, so the ratios between them are taken on the same machine under the
same load; the parent only orchestrates and prints (``--json``: one JSON object on stdout, keys
:data:`JSON_KEYS`, named in the README's Performance section). The model is used through its
API (``SocialBusinessModel(scenario, seed=..., engine=...)``, the ``.org`` and ``.market`` CSR
arrays, ``model._simulate(weeks)`` for the weeks alone and ``model.result()``, ``sim.run``,
``sim.classic.threshold_cascade``), so the benchmark does not depend on how the engine works
inside. The sections, in the order they run, and where each lives:

====  ===========  ===============================================================  ===============
 no.  section      what it measures                                                  module
====  ===========  ===============================================================  ===============
  1   compile      JIT compile into an empty cache, then loading it                  ``startup``
 10   startup      ``socialsim --help`` vs ``python -c "import numpy"``              ``startup``
  2   sizes        10k, 100k, 1M (10M on request): time, agent-steps/s, edges/s,     ``sizes``
                   peak memory, x the bare step, x the python engine
  7   floor        small and default organisations vs the bare threshold step        ``baselines``
  6   mesa         a plain Mesa object model of the same rules at 10k agents         ``baselines``
  3   edges        seconds per week against edges at 100k agents                     ``sizes``
  4   default      the default scenario: median run, 10 replicates                   ``throughput``
  8   throughput   runs/s serial, serial sweep, 2-worker Dask LocalCluster           ``throughput``
  9   cascade      threshold_cascade vs scipy-sparse, NDlib, the bare kernel         ``cascade``
 11   engine       sim.run vs the engine before issue 8 (git history)                ``history``
  5   baseline     a week vs model v1 (v0.1.0, git history)                          ``history``
====  ===========  ===============================================================  ===============

The helpers: :mod:`~sim.bench.measure` (clocks, memory, timed weeks), :mod:`~sim.bench.floor`
(the bare step kernel), :mod:`~sim.bench.mesa_model` (the Mesa object model),
:mod:`~sim.bench.targets` (the targets table: a target whose measurement is missing is NOT
MET), :mod:`~sim.bench.report` (tables, summary, JSON) and :mod:`~sim.bench.suite` (:func:`main`).
The machine's load average is recorded with every worker: on a shared machine timings are
noisy, and so are these.

Importing this package is cheap: the names below are loaded from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public names and the module of sim.bench each comes from.
_EXPORTS = {
    "main": "suite", "SECTIONS": "suite",
    "DEFAULT_SIZES": "sizes", "NAMED_SIZES": "sizes", "parse_size": "sizes", "default_python_steps": "sizes",
    "measure_size": "sizes", "measure_edges": "sizes",
    "measure_mesa": "baselines", "measure_floor": "baselines", "MESA_SIZE": "baselines", "MESA_WEEKS": "baselines",
    "measure_default": "throughput", "measure_throughput": "throughput", "THROUGHPUT_RUNS": "throughput",
    "CASCADE": "cascade", "cascade_graph": "cascade", "scipy_cascade": "cascade", "ndlib_cascade": "cascade",
    "measure_cascade": "cascade",
    "measure_compile": "startup", "measure_startup": "startup", "help_command": "startup",
    "BASELINE_REF": "history", "ENGINE_REF": "history", "export_baseline": "history",
    "measure_against_baseline": "history", "measure_against_engine": "history",
    "judge_targets": "targets", "JSON_KEYS": "report", "plain": "measure", "scenario_of": "measure",
    "SEED": "measure", "WEEKS": "measure",
    "worker": "workers", "run_worker": "workers", "WorkerError": "workers",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
