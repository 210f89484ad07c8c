"""Batch experiments: sweeps, replicates, sensitivity designs, on a laptop or a Dask cluster.

* :mod:`~sim.experiments.spec`: experiment files (TOML), validated with one-line errors.
* :mod:`~sim.experiments.design`: design points (full factorial, LHS, Sobol', Morris,
  explicit) and run seeds.
* :mod:`~sim.experiments.runner`: :func:`run_sweep` (local or Dask, resumable) and
  :func:`run_batch` (what workers run).
* :mod:`~sim.experiments.store`: the on-disk format and its loaders.
* :mod:`~sim.experiments.bench`: runs per second locally and through Dask.

Only :func:`sim.run` is used to run the model.
"""

from .design import Design, generate_design, point_seeds, run_seed
from .runner import (
    Plan,
    SweepAborted,
    SweepReport,
    plan_experiment,
    run_batch,
    run_sweep,
)
from .spec import (
    Experiment,
    ExperimentError,
    ExperimentSpec,
    load_experiment,
    make_experiment,
)
from .store import load_design, load_manifest, load_results, load_series

__all__ = ["Design", "Experiment", "ExperimentError", "ExperimentSpec", "Plan", "SweepAborted", "SweepReport",
           "generate_design", "load_design", "load_experiment", "load_manifest", "load_results", "load_series",
           "make_experiment", "plan_experiment", "point_seeds", "run_batch", "run_seed", "run_sweep"]

# Analysis of a results folder (sim.experiments.analysis, prim, analysis_report): loaded on first
# use, since it imports scipy and plotly, which sweeps and their workers do not need.
_ANALYSIS = ("analyze", "discover", "morris_indices", "sobol_indices", "summary_by_point")


def __getattr__(name: str):
    if name in _ANALYSIS:
        from . import analysis

        return getattr(analysis, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ += list(_ANALYSIS)
