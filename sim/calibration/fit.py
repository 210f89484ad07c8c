"""ABC-SMC calibration with pyABC (Toni et al. 2009; Klinger, Rickert & Hasenauer 2018, pyABC),
with model selection between the three hierarchy hypotheses of model v2 (Wang, Meister & Gray
2013; Chelmis & Prasanna 2013).

One *particle* is a value of the fitted behavioural parameters and one hierarchy hypothesis; its
*simulation* is a survey: ``organisations`` organisations drawn from
:func:`~sim.calibration.population.survey_population`, each run once, and the survey statistics
of :mod:`sim.calibration.targets` computed over them. The distance is
:func:`sim.calibration.targets.distance`.

Reproducible whatever the number of workers: :class:`SeededSampler` evaluates candidate ``i`` of
generation ``t`` with numpy's global generator seeded from ``(seed, t, i)`` (pyABC draws proposals
from it, and the survey takes its seed from it), and accepts candidates in index order, so the
same seed gives the same particles on one worker or fifty. Resumable: pyABC stores every finished
generation in its SQLite database (written by this process only, so it is safe beside parallel
workers); running the same command again continues after the last stored generation.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pyabc

from ..behaviour import HIERARCHY_HYPOTHESES
from ..errors import UserInputError
from .population import POPULATION_DEFAULTS, POPULATION_PARAMETERS, survey_population
from .targets import STATISTICS, Target, distance, load_targets

PRIORS_FILE = Path(__file__).resolve().parents[2] / "experiments" / "calibration" / "priors.toml"

#: The fitted behavioural parameters: those whose normalised Morris mu* reaches 0.6 on at least one
#: of the pattern outputs (active_share, only_read_share, top1_share, ever_used_share) at one of the
#: three screening bases (experiments/results/global_sensitivity.csv), plus purpose_weight and
#: role_model_weight, through which purpose and leaders act, so that strategy comparisons carry
#: their uncertainty; plus friction_weight and friction_slowdown, through which the compliance
#: firewall acts (below); plus posting_budget, which caps the busiest writers, and writer_share, the
#: share who would ever write (below). Every other behavioural parameter stays at its default (docs/MODEL.md 9).
#: (A first run with the 18 parameters above 0.3 ended with importance weights so uneven, an
#: effective sample of 1 to 7 particles per hypothesis after one generation, that its posterior
#: would have rested on a handful of particles: in 18 dimensions the kernel density of proposals
#: varies over orders of magnitude.)
FITTED: tuple[str, ...] = (
    "threshold_mean", "threshold_sd", "decision_noise", "contribution_rate", "propensity_spread",
    "reading_effort", "lapse_rate", "spontaneous_adoption", "reputation_feedback",
    "purpose_weight", "role_model_weight", "department_effort_spread", "firm_effort_spread",
    "friction_weight", "friction_slowdown", "posting_budget", "writer_share", "firm_effort_tail",
)
#: (``firm_effort_spread`` is a parameter of the survey population, not of people: how different
#: the surveyed firms are, :data:`sim.calibration.population.POPULATION_PARAMETERS`. The first
#: shipped posterior, with firms fixed within +-30% of a typical workforce effort, missed the
#: record at its centre: under its heaviest particle every provide-and-pray firm sat below the
#: take-off point, so none succeeded against Gartner's 10%; docs/MODEL.md 9.)
#: (``department_effort_spread``, how different the departments of one firm are, was added by the
#: third change of structure: with departments alike a firm's community took off everywhere or
#: nowhere, so the share of firms with 10-20% of staff active stayed below Dachis's 57%.)
#: (``friction_weight`` and ``friction_slowdown`` were added by the fourth change: Gartner's figure
#: is about provide-and-pray, whose defining lever is posting friction, and under the third
#: posterior friction alone set most of the gap between provide-and-pray's firms and the others'
#: (``experiments/calibration_structure.py --levers``), while these two parameters, which say how
#: much friction weighs, sat at the developers' defaults; Morris screening ranked them at 0.26-0.35
#: of the largest effect at the provide-and-pray base, below the 0.6 cut, because it measured
#: one strategy's outcome, not the gap between strategies that the survey's figures constrain.)
#: (``posting_budget`` was added by the fifth change: under the fourth posterior the top 1%'s share
#: stayed below van Mierlo's band at the median however the fitted parameters moved, and the survey
#: diagnosis (``calibration_structure.py --vary posting_budget=20,60,200``) showed why: the budget
#: capped the busiest writers, the top 1%'s share rising from 0.57 to 0.79 as it was lifted, every
#: other statistic unchanged. Morris screening varied it only up to 50, where the cap binds less.)
#: (``writer_share`` was added by the sixth change, a change of structure: a share of staff who
#: would ever write, the others lurkers by disposition (docs/MODEL.md 5.3.2). With everyone a
#: potential writer the share of staff who only read could not stay at SWOOP's 60% once more
#: provide-and-pray firms took off, because the many who rarely write had each posted at some
#: point; the diagnosis (``calibration_structure.py --vary writer_share=...``) showed the four
#: fitted figures near their bands together at writer_share 0.5 under the fourth posterior's
#: heaviest particles, with a narrower spread of propensity and lower bars.)
#: (``firm_effort_tail``, a parameter of the survey population, was added by the seventh change:
#: under the shipped posterior a wider ``firm_effort_spread`` lifted provide-and-pray's successes
#: towards Gartner's tenth but moved as many other firms out of Dachis's 10-20% band, while
#: heavier tails at the same quartiles bought Gartner's figure at half that cost to Dachis's
#: (``calibration_structure.py --vary firm_effort_tail=0,0.5,1``; docs/MODEL.md 9).)

#: Organisations in one simulated survey, and the defaults of the command.
ORGANISATIONS = 32
POPULATION_SIZE = 150
GENERATIONS = 8


def load_priors(names: Sequence[str] = FITTED, path: Path = PRIORS_FILE) -> dict[str, tuple[float, float, bool]]:
    """name -> (low, high, log) for the fitted parameters, from ``priors.toml`` (the survey
    population's own parameters from :data:`~sim.calibration.population.POPULATION_PARAMETERS`)."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    data.update({k: {"range": [low, high]} for k, (low, high, _) in POPULATION_PARAMETERS.items() if k not in data})
    missing = [n for n in names if n not in data]
    if missing:
        raise UserInputError(f"no prior range for {missing[0]!r}; allowed: a [NAME] table with range = [low, high]",
                             source=str(path), key=missing[0])
    return {n: (float(data[n]["range"][0]), float(data[n]["range"][1]), bool(data[n].get("log", False)))
            for n in names}


#: Prefix of a parameter that pyABC sees on the log10 scale (its prior is log-uniform).
LOG_PREFIX = "log10_"


def pyabc_prior(priors: Mapping[str, tuple[float, float, bool]]):
    """The pyABC prior: independent uniform on each range; a log-uniform parameter is fitted as
    ``log10_NAME``, uniform on the log10 of its range.

    On the log scale the Gaussian perturbation kernel matches the prior's geometry. Fitted in
    natural units, a log-uniform prior's density 1/x meets a kernel that thins out near the lower
    bound, and the importance weight prior/kernel of a particle there grew 200 times that of a
    typical one (one particle then held 83% of its hypothesis's weight).
    """
    return pyabc.Distribution(**{
        (f"{LOG_PREFIX}{name}" if log else name):
            pyabc.RV("uniform", math.log10(low), math.log10(high) - math.log10(low)) if log
            else pyabc.RV("uniform", low, high - low)
        for name, (low, high, log) in priors.items()})


def natural_units(pars: Mapping[str, float]) -> dict[str, float]:
    """Behavioural parameter values from pyABC's parameters (``log10_NAME`` -> ``NAME``)."""
    return {(k[len(LOG_PREFIX):] if k.startswith(LOG_PREFIX) else k):
            (10.0 ** float(v) if k.startswith(LOG_PREFIX) else float(v)) for k, v in pars.items()}


def transition_floor(priors: Mapping[str, tuple[float, float, bool]]) -> dict[str, float]:
    """The smallest kernel variance of each pyABC parameter: (5% of its prior range) squared."""
    return {(f"{LOG_PREFIX}{name}" if log else name):
            (0.05 * ((math.log10(high) - math.log10(low)) if log else (high - low))) ** 2
            for name, (low, high, log) in priors.items()}


# ------------------------------------------------------------------ the simulated survey
def survey_statistics(results: Sequence[Any], scenarios: Sequence[Any]) -> dict[str, float]:
    """The survey statistics of :data:`sim.calibration.targets.STATISTICS` over finished runs."""
    summaries = [r.summary for r in results]
    pp = [s for s, sc in zip(summaries, scenarios) if sc.name == "provide_and_pray"]
    first_year = []
    for r, sc in zip(results, scenarios):
        week = min(len(r.series) - 1, 52)
        first_year.append(float(r.series["ever_used"].iloc[week]) / sc.employees)
    top1 = [s["top1_share"] for s in summaries if s["ever_active_share"] > 0]
    sc0 = scenarios[0]
    stats = {
        "organisations": float(len(summaries)),
        "provide_and_pray_organisations": float(len(pp)),
        "provide_and_pray_success": float(np.mean([s["success"] for s in pp])) if pp else math.nan,
        "share_active_10_to_20": float(np.mean([0.10 <= s["active_share"] <= 0.20 for s in summaries])),
        "failure_share": float(np.mean([1 - s["success"] for s in summaries])),
        "only_read_share": float(np.mean([s["only_read_share"] for s in summaries])),
        "ever_used_share": float(np.mean([s["ever_used_share"] for s in summaries])),
        "top1_share": float(np.median(top1)) if top1 else 0.0,
        "ever_posted_share": float(np.mean([1.0 - s["never_posted_share"] for s in summaries])),
        "first_year_used_share": float(np.mean(first_year)),
        "productivity_potential": float(sc0.creative_gain + sc0.connective_gain + sc0.compounding_gain),
    }
    return stats


def simulate_survey(parameters: Mapping[str, float], hierarchy: str, organisations: int, seed: int,
                    engine: str = "numba", strategy_mix: Mapping[str, float] | None = None) -> dict[str, float]:
    """Run one simulated survey with the given behavioural (and survey-population) parameters;
    return its statistics (``strategy_mix``: see :func:`~sim.calibration.population.survey_population`)."""
    import sim

    behaviour = {k: float(v) for k, v in parameters.items() if k not in POPULATION_PARAMETERS}
    survey = {**POPULATION_DEFAULTS, **{k: float(v) for k, v in parameters.items() if k in POPULATION_PARAMETERS}}
    population = survey_population(organisations, seed, strategy_mix=strategy_mix, **survey)
    scenarios = [s.with_levers(**behaviour, hierarchy_influence=hierarchy) for s in population]
    seeds = sim.replicate_seeds(seed, organisations)
    results = [sim.run(s, seed=k, engine=engine) for s, k in zip(scenarios, seeds)]
    return survey_statistics(results, scenarios)


class SurveyModel(pyabc.Model):
    """A pyABC model: one hierarchy hypothesis; sampling runs a simulated survey.

    The survey's seed comes from numpy's global generator, which :class:`SeededSampler` seeds per
    candidate, so a candidate's survey is fixed by (seed, generation, index).
    """

    def __init__(self, hierarchy: str, organisations: int = ORGANISATIONS):
        super().__init__(name=hierarchy)
        self.hierarchy = hierarchy
        self.organisations = organisations

    def sample(self, pars: Mapping[str, float]) -> dict[str, float]:
        seed = int(np.random.randint(0, 2**62))
        return simulate_survey(natural_units(pars), self.hierarchy, self.organisations, seed)


class RegularisedTransition(pyabc.MultivariateNormalTransition):
    """The perturbation kernel: a Gaussian with twice the weighted covariance of the previous
    generation (Beaumont et al. 2009, Biometrika 96(4)), plus a small ridge.

    pyABC's default scales the covariance down by Silverman's rule; in a first calibration that
    kernel, fitted on a generation whose importance weights were uneven, became narrower each
    generation and the weights more uneven in turn (an effective sample of 1.3 of 63 particles
    in one hypothesis by generation 3, which then held 96% of the model probability: one
    particle, not the data, decided the model selection). Twice the covariance keeps the
    proposal wider than the population, so proposal densities, and hence weights, stay even.
    The ridge (``floor``: a small share of each prior range, squared) keeps the kernel regular
    for a hypothesis left with fewer effective particles than parameters. The weights stay exact
    importance weights for the kernel used.
    """

    def __init__(self, floor: Mapping[str, float]):
        super().__init__()
        self.floor = dict(floor)

    def fit(self, X, w):
        super().fit(X, w)
        import scipy.stats as st
        from pyabc.transition.util import smart_cov

        self.cov = 2.0 * smart_cov(self._X_arr, w) + np.diag([self.floor[c] for c in X.columns])
        self.normal = st.multivariate_normal(cov=self.cov)


class TargetDistance(pyabc.Distance):
    """The distance over the fitted targets (:func:`sim.calibration.targets.distance`)."""

    def __init__(self, targets: Sequence[Target]):
        super().__init__()
        self.targets = tuple(targets)

    def __call__(self, x, x_0, t=None, par=None):
        return distance(x, self.targets)


# ------------------------------------------------------------------ the seeded sampler
def particle_seed(seed: int, t: int, index: int) -> int:
    """The numpy seed of candidate ``index`` of generation ``t`` (t = -1 is the prior sample)."""
    digest = hashlib.sha256(f"{seed}:{t}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


_SIMULATE_CACHE: dict[str, Callable] = {}


def _evaluate(key: str, pickled: bytes, seeds: Sequence[int]) -> list:
    """Run on a worker: candidates with the given seeds (the generation's function cached by key)."""
    import cloudpickle

    from ..experiments.worker import single_numba_thread, tune_malloc

    tune_malloc()
    if key not in _SIMULATE_CACHE:
        _SIMULATE_CACHE.clear()
        _SIMULATE_CACHE[key] = cloudpickle.loads(pickled)
    simulate_one = _SIMULATE_CACHE[key]
    out = []
    with single_numba_thread(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyabc")  # see calibrate()
        for seed in seeds:
            np.random.seed(seed)
            out.append(simulate_one())
    return out


class SeededSampler(pyabc.sampler.Sampler):
    """Candidates seeded by (seed, generation, index), accepted in index order, run on Dask."""

    def __init__(self, client: Any, seed: int, workers: int, progress: Callable[[str], None] | None = None):
        super().__init__()
        self.client, self.seed, self.workers, self.progress = client, seed, max(1, workers), progress
        self.generations = 0  # for progress messages only

    def __getstate__(self):
        d = dict(self.__dict__)
        d.pop("client", None)
        return d

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False,
                                ana_vars=None):
        import cloudpickle

        sample = self._create_empty_sample()
        if self.progress is not None:
            try:
                eps = float(ana_vars.eps(t)) if ana_vars is not None and t >= 0 else math.inf
            except Exception:  # noqa: BLE001 - a progress message must never stop a calibration
                eps = math.nan
            total = f" of {self.generations}" if self.generations else ""
            self.progress(f"generation {t}{total} (epsilon {eps:.3g}{', the prior' if t == 0 else ''}): "
                          f"{n} particles to accept")
        key = f"{self.seed}-{t}-{time.monotonic_ns()}"
        pickled = cloudpickle.dumps(simulate_one)
        [remote] = self.client.scatter([pickled], broadcast=True, hash=False)
        index, evaluated, accepted, rate = 0, 0, 0, 1.0
        started = time.perf_counter()
        while accepted < n and evaluated < max_eval:
            wanted = math.ceil((n - accepted) / max(rate, 0.02))
            size = int(min(max(wanted, 2 * self.workers), 3 * n))
            chunk = max(1, math.ceil(size / (4 * self.workers)))
            seeds = [particle_seed(self.seed, t, index + j) for j in range(size)]
            futures = [self.client.submit(_evaluate, key, remote, seeds[i:i + chunk], pure=False)
                       for i in range(0, size, chunk)]
            batch = [p for part in self.client.gather(futures) for p in part]
            index += size
            seen = 0
            for particle in batch:
                if accepted >= n or evaluated >= max_eval:
                    break
                sample.append(particle)
                evaluated += 1
                seen += 1
                accepted += bool(particle.accepted)
            rate = max(accepted / max(evaluated, 1), 1e-3)
            if self.progress is not None:
                self.progress(f"generation {t}: {accepted}/{n} accepted of {evaluated} simulated surveys "
                              f"({time.perf_counter() - started:.0f} s)")
        self.nr_evaluations_ = evaluated
        if sample.n_accepted < n:
            sample.ok = False
        return sample


# ------------------------------------------------------------------ the command
@dataclass
class CalibrationReport:
    """What :func:`calibrate` did: where, how many generations, and how long."""

    out: Path
    generations: int
    resumed: bool
    evaluations: int
    seconds: float
    epsilon: float
    model_probabilities: dict[str, float]
    posterior: Path
    effective_sample_size: float
    population_size: int

    @property
    def warning(self) -> str | None:
        """A warning when the last generation rests on few effective particles (:func:`few_particles`)."""
        return few_particles(self.effective_sample_size, self.population_size)


#: Below this share of its particles in effective sample size (Kish), a generation's posterior rests
#: on a few particles: a third calibration here ended at 2.1 of 150, one particle holding 68% of
#: the weight, and its predictive check spoke for that particle, not the data (docs/MODEL.md 9).
_FEW_EFFECTIVE = 0.1


def few_particles(effective_sample_size: float, population_size: int) -> str | None:
    """The warning for a posterior whose effective sample is under a tenth of its particles, else None."""
    if population_size <= 0 or not effective_sample_size >= _FEW_EFFECTIVE * population_size:
        return (f"the last generation's effective sample is {effective_sample_size:.1f} of {population_size} "
                "particles (under 10%): the posterior rests on a few particles and its checks speak for them, "
                "not for the data; rerun with a larger --population-size")
    return None


def settings_fingerprint(settings: Mapping[str, Any]) -> str:
    blob = json.dumps(settings, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def calibrate(targets_path: str | Path | None = None, *, population_size: int = POPULATION_SIZE,
              generations: int = GENERATIONS, organisations: int = ORGANISATIONS, seed: int = 2013,
              out: str | Path = "calibration", scheduler: str | None = None, workers: int | None = None,
              hypotheses: Sequence[str] = HIERARCHY_HYPOTHESES, fitted: Sequence[str] = FITTED,
              targets: Sequence[Target] | None = None, progress: Callable[[str], None] | None = None,
              ) -> CalibrationReport:
    """Fit the behavioural parameters to the targets with ABC-SMC; write the posterior into ``out``.

    Args:
        targets_path: the targets file (default: the published record).
        population_size: particles per generation. generations: generations in all (generation 0
            is the prior; a resumed run continues to this total).
        organisations: organisations per simulated survey.
        seed: the calibration's seed (same seed, same posterior, whatever the workers).
        out: folder for ``calibration.db`` (pyABC), ``settings.json`` and the posterior files.
        scheduler: a Dask scheduler address; None starts a local cluster (``workers`` processes).
        hypotheses: the hierarchy hypotheses compared (model selection).
        fitted: the behavioural parameters fitted (the rest stay at their defaults).
        targets: already loaded targets (instead of ``targets_path``; e.g. synthetic ones).
    """
    from ..experiments.runner import check_scheduler_address, sweep_lock

    for name, value, low in (("--population-size", population_size, 2), ("--generations", generations, 1),
                             ("--organisations", organisations, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise UserInputError(f"{value!r}; allowed: an integer >= {low}", source=name)
    bad = [h for h in hypotheses if h not in HIERARCHY_HYPOTHESES]
    if bad or not hypotheses:
        raise UserInputError(f"{bad[0] if bad else 'none'} is not a hierarchy hypothesis; allowed: "
                             f"{', '.join(HIERARCHY_HYPOTHESES)}", source="hypotheses")
    if scheduler:
        check_scheduler_address(scheduler)
    if targets is None:
        targets = load_targets(targets_path)
        source = str(targets_path or "the published record")
    else:
        source = "given targets"
    priors = load_priors(fitted)
    out = Path(out)
    settings = {"targets": [t.__dict__ for t in targets], "priors": priors, "population_size": population_size,
                "organisations": organisations, "seed": seed, "hypotheses": list(hypotheses),
                "fitted": list(fitted)}
    fingerprint = settings_fingerprint(settings)
    if out.exists() and not out.is_dir():
        raise UserInputError("not a folder; allowed: a folder for the calibration", source=str(out), key="--out")
    with sweep_lock(out, "calibration"):
        return _calibrate_locked(out, targets, priors, settings, fingerprint, source, population_size,
                                 generations, organisations, seed, scheduler, workers, hypotheses, progress)


def _calibrate_locked(out, targets, priors, settings, fingerprint, source, population_size, generations,
                      organisations, seed, scheduler, workers, hypotheses, progress) -> CalibrationReport:
    from ..experiments.cluster import DaskExecutor
    from ..experiments.runner import stored_fingerprint
    from .posterior import export_posterior

    db_path = out / "calibration.db"
    settings_path = out / "settings.json"
    resumed = db_path.exists()
    if resumed and int(pyabc.History(f"sqlite:///{db_path.resolve()}").max_t) < 0:
        db_path.unlink()  # killed before generation 0 was stored: nothing to continue
        resumed = False
    if resumed:
        if stored_fingerprint(settings_path) != fingerprint:
            raise UserInputError("holds a calibration with other settings (targets, priors, population size, "
                                 "organisations, seed or hypotheses); allowed: the same settings to resume it, "
                                 "or another --out", source=str(out), key="--out")
    else:
        tmp = settings_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"fingerprint": fingerprint, "source": source, **settings}, indent=1),
                       encoding="utf-8")
        os.replace(tmp, settings_path)

    started = time.perf_counter()
    _quiet_pyabc()
    prior = pyabc_prior(priors)
    models = [SurveyModel(h, organisations) for h in hypotheses]
    observed = {t.output: t.centre for t in targets if STATISTICS[t.output][1] != "posterior"}
    with DaskExecutor(scheduler=scheduler, workers=workers) as executor:
        sampler = SeededSampler(executor.client, seed, executor.workers, progress)
        sampler.generations = generations
        np.random.seed(particle_seed(seed, -2, 0))
        abc = pyabc.ABCSMC(models, [prior] * len(models), TargetDistance(targets), population_size=population_size,
                           sampler=sampler,
                           transitions=[RegularisedTransition(transition_floor(priors)) for _ in models],
                           # generation 0 is the prior (all accepted); each later epsilon is the median
                           # distance of the generation before, which on resuming is read back from
                           # the stored generation ('from_sample'), as an unbroken run computes it
                           eps=pyabc.QuantileEpsilon(initial_epsilon="from_sample" if resumed else np.inf,
                                                     alpha=0.5))
        db = f"sqlite:///{db_path.resolve()}"
        done = 0
        if resumed:
            abc.load(db, 1)
            done = int(abc.history.max_t) + 1
        else:
            abc.new(db, observed)
        if done < generations:
            with warnings.catch_warnings():
                # pyABC's own arithmetic warnings (inf - inf at generation 0, and the like) are noise
                # to a user; a real failure still raises
                warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyabc")
                abc.run(max_nr_populations=generations - done)
        history = abc.history
    posterior = export_posterior(history, out, {"fingerprint": fingerprint, "source": source, **settings},
                                 seconds=time.perf_counter() - started)
    meta = json.loads(posterior.with_suffix(".json").read_text(encoding="utf-8"))
    return CalibrationReport(
        out=out, generations=meta["generations"], resumed=resumed, evaluations=meta["evaluations"],
        seconds=time.perf_counter() - started, epsilon=meta["epsilon"][-1],
        model_probabilities=meta["model_probabilities"], posterior=posterior,
        effective_sample_size=float(meta["effective_sample_size"][-1]), population_size=int(meta["population_size"]))


def _quiet_pyabc() -> None:
    import logging

    for name in ("ABC", "pyabc", "Sampler", "Epsilon", "Distance", "Acceptor", "History", "Population"):
        logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger(f"ABC.{name}").setLevel(logging.WARNING)
