"""Design points and run seeds.

Design points
-------------
:func:`generate_design` turns an :class:`~sim.experiments.spec.Experiment` into a table with
one row per design point: ``point_id`` and one column per factor (the value used: integer
levers rounded, halves up; categorical factors as text or booleans).

* ``full_factorial``: the Cartesian product of every factor's values (stepped ranges become
  ``numpy.linspace(low, high, steps)``), first factor slowest, last fastest.
* ``latin_hypercube``, ``sobol``, ``morris``: SALib samples the ``range`` factors
  (``SALib.sample.latin.sample``, ``SALib.sample.sobol.sample`` with scrambling, Saltelli's
  scheme, ``SALib.sample.morris.sample``) with the design seed; the SALib *problem*
  (``num_vars``, ``names``, ``bounds``) is recorded in the manifest.
* ``explicit``: the listed points, in order.

Factors given by ``values`` in a sampled or explicit design are *crossed* with the points:
for every combination of their values (product, first factor slowest) all points follow in
SALib's (or the file's) row order, so ``point_id = combination * points_per_combination + row``
and, within one combination, sorting by ``point_id`` gives back SALib's sample matrix.

Seeds
-----
The seed of run (point p, replicate r):

* ``common_random_numbers = true`` (the default): ``sim.replicate_seeds(root_seed, R)[r]`` at
  every point, so points differ by their levers, not by luck (paired comparisons).
* ``common_random_numbers = false``: ``SeedSequence(root_seed, spawn_key=(p,))``'s first R
  64-bit words shifted right by one (63-bit, positive, like ``replicate_seeds``): independent
  streams per point, the same construction as ``SeedSequence(root_seed).spawn()``'s p-th child.

Both depend only on (root_seed, R, p, r), so a design is reproducible from one number.
"""

from __future__ import annotations

import copy
import itertools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..runner import replicate_seeds
from .spec import SAMPLED_KINDS, Experiment, Factor, round_integer

PANDAS_DTYPES = {"float": "float64", "int": "int64", "bool": "bool", "str": "object"}


@dataclass
class Design:
    """Design points of an experiment.

    Attributes:
        kind: the design kind.
        points: ``point_id`` + one column per factor, one row per point.
        problem: the SALib problem of a sampled design (``num_vars``, ``names``, ``bounds``), else None.
        crossed: the ``values`` factors crossed with the points (all factors for a full factorial).
        points_per_combination: rows per combination of the crossed factors.
        seed: the sampling seed (None when nothing is sampled).
    """

    kind: str
    points: pd.DataFrame
    problem: dict[str, Any] | None
    crossed: list[str]
    points_per_combination: int
    seed: int | None

    @property
    def n_points(self) -> int:
        return len(self.points)


def salib_problem(factors: list[Factor]) -> dict[str, Any]:
    """The SALib problem of the ``range`` factors (spec order)."""
    ranged = [f for f in factors if f.kind == "range"]
    return {"num_vars": len(ranged), "names": [f.name for f in ranged],
            "bounds": [[float(f.low), float(f.high)] for f in ranged]}  # type: ignore[arg-type]


def sample_matrix(kind: str, problem: dict[str, Any], samples: int, *, seed: int, levels: int = 4,
                  second_order: bool = True) -> np.ndarray:
    """SALib's sample matrix for a sampled design (rows = points, columns = problem names)."""
    problem = copy.deepcopy(problem)  # SALib adds keys to the problem it is given
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's advice is enforced by the spec (powers of 2)
        if kind == "latin_hypercube":
            from SALib.sample import latin

            return latin.sample(problem, samples, seed=seed)
        if kind == "sobol":
            from SALib.sample import sobol

            return sobol.sample(problem, samples, calc_second_order=second_order, seed=seed)
        if kind == "morris":
            from SALib.sample import morris

            return morris.sample(problem, samples, num_levels=levels, seed=seed)
    raise ValueError(f"{kind!r} is not a sampled design; allowed: {', '.join(SAMPLED_KINDS)}")


def count_points(experiment: Experiment) -> int:
    """How many design points :func:`generate_design` will make, computed without making them
    (so an enormous design is refused before it fills the memory)."""
    spec = experiment.spec
    kind = spec.design.kind
    factors = experiment.factors
    if kind == "full_factorial":
        crossed, base = factors, 1
    elif kind == "explicit":
        crossed = [f for f in factors if f.origin != "points"]
        base = len(spec.design.points or [])
    else:
        crossed = [f for f in factors if f.kind == "values"]
        d = sum(1 for f in factors if f.kind == "range")
        n = int(spec.design.samples or 0)
        if kind == "latin_hypercube":
            base = n
        elif kind == "sobol":
            second = True if spec.design.second_order is None else spec.design.second_order
            base = n * (2 * d + 2 if second else d + 2)
        else:  # morris
            base = n * (d + 1)
    total = base
    for f in crossed:
        total *= len(f.values or [])
    return total


def generate_design(experiment: Experiment) -> Design:
    """The design points of ``experiment`` (see the module docstring for the order)."""
    spec = experiment.spec
    kind = spec.design.kind
    factors = experiment.factors
    problem = None
    seed = None
    if kind == "full_factorial":
        crossed = [f.name for f in factors]
        base_rows: list[dict[str, Any]] = [{}]
    elif kind == "explicit":
        keys = [f.name for f in factors if f.origin == "points"]
        crossed = [f.name for f in factors if f.origin != "points"]
        base_rows = [{k: point[k] for k in keys} for point in spec.design.points or []]
        # explicit values were checked by the spec; integer levers are integers already
    else:
        crossed = [f.name for f in factors if f.kind == "values"]
        problem = salib_problem(factors)
        seed = spec.design.seed if spec.design.seed is not None else spec.root_seed
        matrix = sample_matrix(kind, problem, int(spec.design.samples or 0), seed=seed,
                               levels=spec.design.levels or 4,
                               second_order=True if spec.design.second_order is None else spec.design.second_order)
        integer = {f.name: f.integer for f in factors}
        base_rows = []
        for row in matrix:
            base_rows.append({name: (round_integer(x) if integer[name] else float(x))
                              for name, x in zip(problem["names"], row)})
    values = [experiment.factor(name).values or [] for name in crossed]
    rows = []
    for combo in itertools.product(*values):
        fixed = dict(zip(crossed, combo))
        for base in base_rows:
            rows.append({**base, **fixed})
    columns = {"point_id": np.arange(len(rows), dtype=np.int64)}
    for f in factors:
        columns[f.name] = pd.Series([r[f.name] for r in rows], dtype=PANDAS_DTYPES[f.dtype])
    frame = pd.DataFrame(columns)
    return Design(kind=kind, points=frame, problem=problem, crossed=crossed,
                  points_per_combination=len(base_rows), seed=seed)


def point_seeds(root_seed: int, replicates: int, point_id: int, common_random_numbers: bool = True) -> list[int]:
    """The ``replicates`` seeds of one design point (see the module docstring)."""
    if common_random_numbers:
        return replicate_seeds(root_seed, replicates)
    state = np.random.SeedSequence(root_seed, spawn_key=(int(point_id),)).generate_state(replicates, dtype=np.uint64)
    return [int(s >> np.uint64(1)) for s in state]


def run_seed(root_seed: int, replicates: int, point_id: int, replicate: int,
             common_random_numbers: bool = True) -> int:
    """The seed of run (point_id, replicate)."""
    return point_seeds(root_seed, replicates, point_id, common_random_numbers)[replicate]


def python_value(value: Any) -> Any:
    """A numpy scalar as the plain Python value (for Scenario validation and JSON)."""
    return value.item() if isinstance(value, np.generic) else value


__all__ = [
    "Design",
    "generate_design",
    "point_seeds",
    "python_value",
    "run_seed",
    "salib_problem",
    "sample_matrix",
]
