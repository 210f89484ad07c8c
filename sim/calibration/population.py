"""The population behind the surveys: the organisations that Gartner (2013), the Dachis Group
(2012), SWOOP (2022) and van Mierlo (2014) measured, as scenarios.

The published figures describe populations of firms, not one firm, so the calibration simulates a
survey: ``n`` organisations drawn from this population, each run once, and the survey statistics
(:mod:`sim.calibration.targets`) computed over them as the surveys computed theirs. Every
assumption below is in docs/MODEL.md, section 9 ("The survey population"), with its reasoning; in
short:

- **Strategies** are the shipped presets, unchanged (lever bundles; calibration never edits them).
  The mix (:data:`STRATEGY_MIX`) is mostly provide-and-pray: Gartner (January 2013) attributes
  80% of failures to "a lack of leadership and too much emphasis on technology"; Dachis (2012)
  found that only 16% of firms had opened access to the whole organisation, so 15% here do
  (two-track and purpose-led stepwise), and the provide-and-pray firms gave access to part of the
  organisation (:data:`PARTIAL_ACCESS`) as the other 84% did.
- **Organisations** differ in how much of an effort taking part is for their workforce
  (log-normal around 1, or with heavier tails, ``firm_effort_tail``; with a spread,
  ``firm_effort_spread``, that the calibration fits: how
  different the surveyed firms were is not known, and a fixed +-30% range left every
  provide-and-pray firm on the same side of the take-off point, docs/MODEL.md 9) and in
  psychological safety, over the range of the pattern-oriented first pass.
- **Sizes** are scaled down (300 to 1,000 employees; the surveyed firms were larger): the
  statistics are shares, and a survey of 32 organisations of the real sizes would cost a hundred
  times more per calibration step.
- **Horizons**: the surveys of 2012-2013 asked about efforts launched from 2009 onwards, so the
  organisations are observed one to three years after launch.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Mapping

import numpy as np

from ..scenario import Scenario, load_scenario

#: Strategy preset -> share of the surveyed organisations (docstring; docs/MODEL.md 9).
STRATEGY_MIX: dict[str, float] = {
    "provide_and_pray": 0.60,
    "early_adopters_only": 0.15,
    "marketing_only": 0.10,
    "two_track": 0.10,
    "purpose_led_stepwise": 0.05,
}
#: Share of departments the provide-and-pray organisations gave access to (uniform on the range):
#: Dachis 2012, only 16% of firms had opened access to the whole organisation.
PARTIAL_ACCESS = (0.25, 0.75)
#: Employees per organisation (log-uniform), employees per department, customers per employee.
EMPLOYEES = (300, 1000)
EMPLOYEES_PER_DEPARTMENT = 100
CUSTOMERS_PER_EMPLOYEE = 2
#: Weeks from launch to the survey (uniform integers, inclusive).
HORIZON_WEEKS = (52, 156)
#: Workforce effort: log-normal with median 1 and this standard deviation of its log (the default
#: is about the spread of the uniform 0.7-1.3 range used before it was fitted), clipped to the
#: organisation key's documented range.
DEFAULT_EFFORT_SPREAD = 0.17
WORKFORCE_EFFORT_RANGE = (0.3, 3.0)
#: How heavy the tails of that spread are: the log of workforce effort is ``firm_effort_spread``
#: times a Student t with ``1 / firm_effort_tail`` degrees of freedom, scaled to the normal's
#: quartiles (0, the default: a normal, the log-normal above). Heavier tails put a few firms far
#: from the rest while the middle half stays as wide (docs/MODEL.md section 9, "What Gartner's
#: tenth asks for").
DEFAULT_EFFORT_TAIL = 0.0
#: The survey population's parameters at their defaults (what a posterior that does not fit one uses).
POPULATION_DEFAULTS = {"firm_effort_spread": DEFAULT_EFFORT_SPREAD, "firm_effort_tail": DEFAULT_EFFORT_TAIL}
#: Psychological safety at the start (uniform), the range of the pattern-oriented first pass.
INITIAL_SAFETY = (0.5, 0.9)

#: Parameters of the survey population itself (not of any one organisation) that calibration fits
#: beside the behavioural ones: name -> (prior low, prior high, what it is). A posterior carries
#: them as columns; a calibrated run of one organisation ignores them (it is one firm, whose
#: workforce effort the user sets).
POPULATION_PARAMETERS: dict[str, tuple[float, float, str]] = {
    "firm_effort_spread": (0.0, 0.6, "standard deviation of the log of workforce effort across the surveyed "
                                     "organisations (how different the firms are)"),
    "firm_effort_tail": (0.0, 1.0, "heaviness of the tails of the firms' workforce effort: 1 / degrees of freedom "
                                   "of a Student t for its log, with the normal's quartiles (0: normal; 1: Cauchy, "
                                   "clipped to the key's range)"),
}


def _population_value(name: str, value: float) -> float:
    low, high, _ = POPULATION_PARAMETERS[name]
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"{name}: {value!r}; allowed: {low} to {high}")
    return number


#: The upper quartile of a standard normal (the t draws are scaled to share it).
_NORMAL_QUARTILE = 0.6744897501960817


def _t_scale(tail: float) -> float:
    """What a Student t with ``1 / tail`` degrees of freedom is multiplied by to share the normal's
    quartiles (computed once per survey, not per firm)."""
    if tail <= 1e-6:
        return 1.0
    from scipy.special import stdtrit

    return _NORMAL_QUARTILE / float(stdtrit(1.0 / tail, 0.75))


def _log_effort(spread: float, normal: float, tail: float, scale: float, seed: int, k: int) -> float:
    """The log of a firm's workforce effort: ``spread`` times a standard normal draw, or, with
    ``tail`` > 0, times a Student t with ``1 / tail`` degrees of freedom scaled so its quartiles
    are the normal's: the middle half of the firms stays as wide, only the tails grow.

    The t's chi-square comes from its own generator per organisation, so the survey's main
    stream (and every scenario drawn from it) is the same whatever the tail; at 0 (and below a
    millionth, where the t is a normal) the value is the log-normal one bit for bit. A t draw
    can be huge; the value is capped where ``exp`` stays finite (the caller clips the effort to
    the key's range anyway).
    """
    if tail <= 1e-6:
        return spread * normal
    freedom = 1.0 / tail
    chi2 = float(np.random.default_rng([int(seed), int(k), 0x7A11]).chisquare(freedom))
    value = spread * scale * (normal / math.sqrt(max(chi2, 1e-300) / freedom))
    return math.copysign(min(abs(value), 700.0), value)


@lru_cache(maxsize=None)
def _preset(name: str) -> Scenario:
    return load_scenario(name)


def survey_population(n: int, seed: int, firm_effort_spread: float = DEFAULT_EFFORT_SPREAD,
                      strategy_mix: Mapping[str, float] | None = None,
                      firm_effort_tail: float = DEFAULT_EFFORT_TAIL) -> list[Scenario]:
    """``n`` scenarios standing for the organisations the 2012-2013 surveys measured.

    Each is a shipped strategy preset (its ``name`` says which) with the organisation's size,
    horizon, workforce effort and safety, and, for provide-and-pray, the part of the organisation
    given access. ``firm_effort_spread`` is how much the firms' workforce effort differs and
    ``firm_effort_tail`` how heavy the tails of that spread are (see :data:`POPULATION_PARAMETERS`;
    at 0, the default, the same scenarios as before it existed). ``strategy_mix`` (preset -> share; default
    :data:`STRATEGY_MIX`) is for checking how much an answer rests on the assumed mix. The same
    arguments give the same scenarios.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: {n!r} organisations; allowed: an integer >= 1")
    spread = _population_value("firm_effort_spread", firm_effort_spread)
    tail = _population_value("firm_effort_tail", firm_effort_tail)
    scale = _t_scale(tail)
    rng = np.random.default_rng([int(seed), 0x5A27E7])
    mix = dict(STRATEGY_MIX if strategy_mix is None else strategy_mix)
    if not mix or any(not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0) for v in mix.values()) \
            or sum(mix.values()) <= 0:
        raise ValueError(f"strategy_mix: {strategy_mix!r}; allowed: preset -> non-negative share, not all 0")
    names = list(mix)
    weights = np.array([float(mix[k]) for k in names])
    scenarios = []
    for k in range(int(n)):
        name = names[int(rng.choice(len(names), p=weights / weights.sum()))]
        employees = int(round(math.exp(rng.uniform(math.log(EMPLOYEES[0]), math.log(EMPLOYEES[1])))))
        weeks = int(rng.integers(HORIZON_WEEKS[0], HORIZON_WEEKS[1] + 1))
        changes = {
            "description": f"survey organisation {k}: {name}",
            "employees": employees,
            "departments": int(min(10, max(3, round(employees / EMPLOYEES_PER_DEPARTMENT)))),
            "customers": CUSTOMERS_PER_EMPLOYEE * employees,
            "weeks": weeks,
            "workforce_effort": float(np.clip(math.exp(_log_effort(spread, rng.standard_normal(), tail, scale, seed, k)),
                                              *WORKFORCE_EFFORT_RANGE)),
            "initial_safety": float(rng.uniform(*INITIAL_SAFETY)),
        }
        share = float(rng.uniform(*PARTIAL_ACCESS))  # drawn for every organisation: the stream stays aligned
        if name == "provide_and_pray":
            changes["waves"] = [{"week": 0, "share": share}]
        scenarios.append(_preset(name).with_levers(**changes))
    return scenarios
