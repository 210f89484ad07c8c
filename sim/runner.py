"""The public run functions: one run, or replicates of one scenario.

The CLI, the dashboard and the experiment runner all call these, so none of them holds model
logic. Replicate seeds are derived from one root seed with numpy's ``SeedSequence``, so a set
of replicates is reproducible from a single number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from .errors import UserInputError
from .model import SocialBusinessModel
from .outputs import RunResult
from .scenario import MAX_SEED, POPULATIONS, Scenario, load_scenario


def check_seed(seed: Any, source: str = "seed") -> None:
    """Refuse a seed that is not an integer from 0 to 2**63 - 1 (what every result table stores).

    Checked before anything runs, so a bad seed never costs a whole run.
    """
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= MAX_SEED:
        raise UserInputError(f"{seed!r} is not a seed; allowed: an integer from 0 to {MAX_SEED} (2**63 - 1)",
                             source=source)


def random_seed() -> int:
    """A fresh seed from the operating system's entropy (recorded by the run that uses it)."""
    return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def calibrated_levers(calibrated: bool | str | Path, seed: int, levers: dict[str, Any]) -> tuple[dict[str, Any], dict]:
    """The behavioural parameters a calibrated run with this seed draws from the posterior.

    ``calibrated``: True for the shipped posterior, or a posterior file. Levers given explicitly
    win over the draw. Returns (levers, {"id", "particle", "file"}).
    """
    from .calibration.posterior import load

    posterior = load(None if calibrated is True else calibrated)
    index, values = posterior.draw(seed)
    return {**values, **levers}, {"id": posterior.id, "particle": index, "file": str(posterior.path)}


def run(scenario: Scenario | str | Path | None = None, *, seed: int | None = None,
        weeks: int | None = None, population: str | None = None, engine: str = "numba",
        progress: Callable[[int, int], None] | None = None, calibrated: bool | str | Path = False,
        **levers: Any) -> RunResult:
    """Run one scenario once.

    Args:
        scenario: a Scenario, a scenario file, a preset name, or None for the defaults.
        seed: the run's seed, 0 to 2**63 - 1 (drawn at random and recorded if None).
        weeks: override the horizon.
        population: a named population size, as ``--population`` on the command line:
            "small", "default" or "large" (see :data:`sim.scenario.POPULATIONS`).
        engine: "numba" or "python".
        progress: optional ``progress(done, total)`` callback.
        calibrated: False (the developers' defaults), True (behavioural parameters drawn from the
            shipped posterior with the run's seed) or the path of a posterior file. The result's
            ``posterior`` names the posterior and the particle drawn.
        **levers: lever overrides, validated (they win over ``population`` and over a
            calibrated draw).
    """
    check_seed(seed)
    drawn = None
    if calibrated is not False and calibrated is not None:
        if seed is None:
            seed = random_seed()
        levers, drawn = calibrated_levers(calibrated, seed, levers)
    if population is not None:
        if population not in POPULATIONS:
            raise UserInputError(f"{population!r} is not a population; allowed: {', '.join(POPULATIONS)}",
                                 source="population")
        if not isinstance(scenario, Scenario):
            scenario = Scenario() if scenario is None else load_scenario(scenario)
        scenario = scenario.with_population(population)
    if weeks is not None:
        levers["weeks"] = weeks
    model = SocialBusinessModel(scenario, rng=seed, engine=engine, **levers)
    result = model.run(progress=progress)
    result.posterior = drawn
    return result


def replicate_seeds(root_seed: int, replicates: int) -> list[int]:
    """``replicates`` independent seeds derived from ``root_seed`` (stable across versions)."""
    check_seed(root_seed, "root seed")
    state = np.random.SeedSequence(root_seed).generate_state(replicates, dtype=np.uint64)
    return [int(s >> np.uint64(1)) for s in state]  # 63-bit, positive


def run_replicates(scenario: Scenario | str | Path | None, replicates: int, *, seed: int = 0,
                   weeks: int | None = None, engine: str = "numba",
                   progress: Callable[[int, int], None] | None = None, calibrated: bool | str | Path = False,
                   **levers: Any) -> list[RunResult]:
    """Run ``replicates`` seeds of one scenario (seeds from :func:`replicate_seeds`).

    With ``calibrated``, each replicate draws its behavioural parameters from the posterior with its
    own seed, so the spread across replicates combines parameter and stochastic uncertainty.
    """
    results = []
    seeds = replicate_seeds(seed, replicates)
    for k, s in enumerate(seeds):
        results.append(run(scenario, seed=s, weeks=weeks, engine=engine, calibrated=calibrated, **levers))
        if progress is not None:
            progress(k + 1, len(seeds))
    return results


#: The smallest scenario that reaches every kernel (waves, a shock of each kind, customers, turnover).
TINY_SCENARIO = {"name": "warm-up", "employees": 40, "departments": 2, "customers": 120, "weeks": 3,
                 "turnover_rate": 0.05, "external_launch_week": 0,
                 "shocks": [{"week": 1, "kind": "crisis", "severity": 0.5}]}


def warm_kernels() -> None:
    """Compile (or load from numba's cache) both variants of every kernel, serial and parallel.

    Call once per process before timing or serving: a run then never stops to compile, whatever
    the size of its population (sim/engine.py picks the variant by the length of each loop).
    """
    from . import engine

    for parallel in (False, True):
        with engine.forced(parallel):
            run(Scenario(**TINY_SCENARIO), seed=0)
