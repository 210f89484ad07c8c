"""The posterior: one row per particle of the last ABC-SMC generation, and drawing from it.

``posterior.csv`` has one column per fitted behavioural parameter, ``hierarchy_influence`` (the
hypothesis of the particle's model) and ``weight`` (summing to 1 over all particles, so it carries
the posterior model probabilities). ``posterior.json`` beside it says how it was made: targets,
priors, seed, generations, epsilon per generation, model probabilities, evaluations, wall time
and the posterior's id (a hash of the CSV), which every calibrated result records.

A calibrated run draws one particle with the run's seed (:func:`draw`), so replicates combine
parameter and stochastic uncertainty and the same seed gives the same draw.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..behaviour import HIERARCHY_HYPOTHESES, BehaviourParameters
from ..errors import UserInputError
from .population import POPULATION_PARAMETERS

#: The posterior that ships with the project (what ``calibrated=True`` uses by default).
SHIPPED = Path(__file__).resolve().parents[2] / "experiments" / "results" / "calibration" / "posterior.csv"
#: Environment variable naming another default posterior (a user's own calibration, or a test's).
POSTERIOR_ENV = "SOCIALSIM_POSTERIOR"


def default_path() -> Path:
    """The posterior ``calibrated=True`` uses: $SOCIALSIM_POSTERIOR if set, else the shipped one."""
    return Path(os.environ[POSTERIOR_ENV]) if os.environ.get(POSTERIOR_ENV) else SHIPPED


def available() -> bool:
    """Whether a default posterior exists (the dashboard then defaults to calibrated answers)."""
    return default_path().is_file()
#: Stream of the counter-based draws that pick a particle for a seed (apart from the model's streams).
DRAW_STREAM = 0xCA11B


@dataclass(frozen=True)
class Posterior:
    """A loaded posterior: its particles, where it came from and its id."""

    particles: pd.DataFrame
    path: Path
    id: str
    meta: dict[str, Any]

    @property
    def parameters(self) -> list[str]:
        """Every fitted column: behavioural parameters and the survey population's own."""
        return [c for c in self.particles.columns if c not in ("weight", "hierarchy_influence")]

    @property
    def behavioural(self) -> list[str]:
        """The fitted behavioural parameters: what a calibrated run draws."""
        return [c for c in self.parameters if c not in POPULATION_PARAMETERS]

    def population_values(self, index: int) -> dict[str, float]:
        """The survey-population parameters of particle ``index`` (for simulated surveys)."""
        row = self.particles.iloc[index]
        return {c: float(row[c]) for c in self.parameters if c in POPULATION_PARAMETERS}

    def draw(self, seed: int) -> tuple[int, dict[str, Any]]:
        """The particle index and behavioural values for a run with this seed."""
        return draw(self, seed)

    def describe(self) -> str:
        """One line: which posterior and how many particles."""
        return f"posterior {self.id} ({self.path.name}, {len(self.particles)} particles)"


def _write_text(path: Path, text: str) -> None:
    """Write atomically: a kill or a full disk leaves the old file or the new one, never half of one."""
    from ..outputs import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def file_id(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def export_posterior(history: Any, out: Path, settings: Mapping[str, Any], *, seconds: float) -> Path:
    """Write the last generation of a pyABC history as ``posterior.csv`` and ``posterior.json``."""
    t = int(history.max_t)
    hypotheses = list(settings["hypotheses"])
    frames = []
    probabilities = history.get_model_probabilities(t)
    for m in history.alive_models(t):
        frame, weights = history.get_distribution(m=m, t=t)
        frame = frame.reset_index(drop=True)
        frame["hierarchy_influence"] = hypotheses[int(m)]
        frame["weight"] = np.asarray(weights) * float(probabilities.loc[m, "p"])
        frames.append(frame)
    particles = pd.concat(frames, ignore_index=True)
    for column in list(particles.columns):  # pyABC fits log-uniform parameters on the log10 scale
        if column.startswith("log10_"):
            particles[column[len("log10_"):]] = 10.0 ** particles.pop(column)
    particles["weight"] = particles["weight"] / particles["weight"].sum()
    columns = [*settings["fitted"], "hierarchy_influence", "weight"]
    particles = particles[columns]
    csv_path = Path(out) / "posterior.csv"
    _write_text(csv_path, particles.to_csv(index=False, float_format="%.10g"))
    populations = history.get_all_populations()
    populations = populations[populations["t"] >= 0]
    effective = []  # Kish's effective sample size of each generation (all hypotheses together)
    for g in range(t + 1):
        p_g = history.get_model_probabilities(g)
        weights = np.concatenate([np.asarray(history.get_distribution(m=m, t=g)[1]) * float(p_g.loc[m, "p"])
                                  for m in history.alive_models(g)])
        effective.append(round(float(weights.sum() ** 2 / (weights**2).sum()), 1))
    model_probabilities = {h: 0.0 for h in hypotheses}
    for m in probabilities.index:
        model_probabilities[hypotheses[int(m)]] = float(probabilities.loc[m, "p"])
    meta = {
        "id": file_id(csv_path),
        "file": csv_path.name,
        "particles": int(len(particles)),
        "generations": t + 1,
        "epsilon": [float(e) for e in populations["epsilon"]],
        "evaluations_per_generation": [int(s) for s in populations["samples"]],
        "effective_sample_size": effective,
        "evaluations": int(history.total_nr_simulations),
        "model_probabilities": model_probabilities,
        "seconds_this_session": round(seconds, 1),
        **{k: settings[k] for k in ("fingerprint", "source", "seed", "population_size", "organisations",
                                    "hypotheses", "fitted", "priors", "targets")},
    }
    _write_text(csv_path.with_suffix(".json"), json.dumps(meta, indent=1))
    return csv_path


def _refuse(message: str, path: Path, key: str | None = None) -> None:
    raise UserInputError(message, source=str(path), key=key)


def check_particles(particles: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Refuse a posterior that does not match the model's behavioural parameters."""
    fields = BehaviourParameters.model_fields
    if "weight" not in particles.columns:
        _refuse("no 'weight' column; allowed: a posterior written by socialsim calibrate", path, "weight")
    for column in particles.columns:
        if column in ("weight", "hierarchy_influence"):
            continue
        if column in POPULATION_PARAMETERS:
            low, high, _ = POPULATION_PARAMETERS[column]
        elif column not in fields:
            _refuse(f"column {column!r} is not a behavioural parameter of this model; allowed: "
                    "the parameters of sim/behaviour.py (the posterior was made for another model version)",
                    path, column)
        values = pd.to_numeric(particles[column], errors="coerce")
        if values.isna().any() or not np.isfinite(values).all():
            _refuse(f"column {column!r} holds a value that is not a finite number", path, column)
        if column not in POPULATION_PARAMETERS:
            meta = fields[column].metadata
            low = next((m.ge for m in meta if hasattr(m, "ge")), -math.inf)
            high = next((m.le for m in meta if hasattr(m, "le")), math.inf)
        if (values < low).any() or (values > high).any():
            _refuse(f"column {column!r} has values outside the parameter's range; allowed: {low} to {high}",
                    path, column)
        particles[column] = values.astype(float)
    if "hierarchy_influence" in particles.columns:
        bad = sorted(set(particles["hierarchy_influence"]) - set(HIERARCHY_HYPOTHESES))
        if bad:
            _refuse(f"hierarchy_influence {bad[0]!r} is not a hypothesis; allowed: {', '.join(HIERARCHY_HYPOTHESES)}",
                    path, "hierarchy_influence")
    weights = pd.to_numeric(particles["weight"], errors="coerce")
    if len(particles) == 0 or weights.isna().any() or (weights < 0).any() or not math.isclose(
            float(weights.sum()), 1.0, rel_tol=1e-6):
        _refuse("weights must be non-negative numbers summing to 1, one per particle", path, "weight")
    particles["weight"] = weights.astype(float)
    return particles


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> Posterior:
    p = Path(path)
    try:
        particles = pd.read_csv(p)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise UserInputError(f"not a posterior CSV ({type(exc).__name__}); allowed: a posterior.csv written by "
                             "socialsim calibrate", source=path) from None
    particles = check_particles(particles, p)
    meta_path = p.with_suffix(".json")
    meta: dict[str, Any] = {}
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
    return Posterior(particles=particles, path=p, id=file_id(p), meta=meta)


def load(path: str | Path | None = None) -> Posterior:
    """Load (and check) a posterior; None is the shipped one."""
    p = Path(path) if path is not None else default_path()
    if p.is_dir():
        p = p / "posterior.csv"
    if not p.exists():
        hint = " (none ships yet: run `socialsim calibrate`)" if path is None else ""
        raise UserInputError(f"no such posterior{hint}; allowed: a posterior.csv written by socialsim calibrate",
                             source=str(p))
    if not p.is_file():
        raise UserInputError("not a regular file; allowed: a posterior.csv", source=str(p))
    return _load(str(p.resolve()), p.stat().st_mtime_ns)


def load_posterior(path: str | Path | None = None) -> pd.DataFrame:
    """The posterior as a DataFrame: one row per particle, parameter columns, ``hierarchy_influence``
    and ``weight`` (summing to 1). None loads the posterior that ships with the project."""
    return load(path).particles.copy()


def draw(posterior: Posterior, seed: int) -> tuple[int, dict[str, Any]]:
    """Pick one particle for a run's seed, with probability its weight (reproducible from the seed);
    return its index and behavioural values (the survey population's parameters are left out)."""
    rng = np.random.default_rng([int(seed), DRAW_STREAM])
    weights = posterior.particles["weight"].to_numpy()
    index = int(rng.choice(len(weights), p=weights / weights.sum()))
    row = posterior.particles.iloc[index]
    values: dict[str, Any] = {}
    for name in posterior.behavioural:
        annotation = BehaviourParameters.model_fields[name].annotation
        values[name] = int(round(row[name])) if annotation is int else float(row[name])
    if "hierarchy_influence" in posterior.particles.columns:
        values["hierarchy_influence"] = str(row["hierarchy_influence"])
    return index, values
