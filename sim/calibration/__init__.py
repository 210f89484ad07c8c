"""Calibration to the published record: pattern-oriented modelling (Grimm et al. 2005) with
ABC-SMC (pyABC) and model selection between the hierarchy hypotheses.

Public API:
    load_targets(path=None)            the published figures and their measurement models
    survey_population(n, seed)         the organisations the 2012-2013 surveys stand for
    calibrate(targets, ...)            ABC-SMC; writes calibration.db and posterior.csv/.json
    load_posterior(path=None)          the posterior as a DataFrame (weight sums to 1)

The names load on first use, so loading a posterior never imports pyABC.
"""

import importlib
from typing import Any

_LAZY = {
    "load_targets": "targets", "Target": "targets", "STATISTICS": "targets",
    "survey_population": "population",
    "calibrate": "fit", "FITTED": "fit", "simulate_survey": "fit",
    "load_posterior": "posterior", "Posterior": "posterior",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value
