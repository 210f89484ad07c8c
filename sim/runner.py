"""The public run functions: one run, or replicates of one scenario.

The CLI, the dashboard and the experiment runner all call these, so none of them holds model
logic. Replicate seeds are derived from one root seed with numpy's ``SeedSequence``, so a set
of replicates is reproducible from a single number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from .model import SocialBusinessModel
from .outputs import RunResult
from .scenario import Scenario


def run(scenario: Scenario | str | Path | None = None, *, seed: int | None = None,
        weeks: int | None = None, engine: str = "numba",
        progress: Callable[[int, int], None] | None = None, **levers: Any) -> RunResult:
    """Run one scenario once.

    Args:
        scenario: a Scenario, a scenario file, a preset name, or None for the defaults.
        seed: the run's seed (drawn at random and recorded if None).
        weeks: override the horizon.
        engine: "numba" or "python".
        progress: optional ``progress(done, total)`` callback.
        **levers: lever overrides, validated.
    """
    if weeks is not None:
        levers["weeks"] = weeks
    model = SocialBusinessModel(scenario, rng=seed, engine=engine, **levers)
    return model.run(progress=progress)


def replicate_seeds(root_seed: int, replicates: int) -> list[int]:
    """``replicates`` independent seeds derived from ``root_seed`` (stable across versions)."""
    state = np.random.SeedSequence(root_seed).generate_state(replicates, dtype=np.uint64)
    return [int(s >> np.uint64(1)) for s in state]  # 63-bit, positive


def run_replicates(scenario: Scenario | str | Path | None, replicates: int, *, seed: int = 0,
                   weeks: int | None = None, engine: str = "numba",
                   progress: Callable[[int, int], None] | None = None, **levers: Any) -> list[RunResult]:
    """Run ``replicates`` seeds of one scenario (seeds from :func:`replicate_seeds`)."""
    results = []
    seeds = replicate_seeds(seed, replicates)
    for k, s in enumerate(seeds):
        results.append(run(scenario, seed=s, weeks=weeks, engine=engine, **levers))
        if progress is not None:
            progress(k + 1, len(seeds))
    return results
