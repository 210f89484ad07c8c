"""The published figures as data: loading ``targets.toml``, the survey statistics they map to, and
the distance that weighs them (pattern-oriented modelling: Grimm et al. 2005, Science 310).

Every target names a *survey statistic*: a number computed over a simulated survey of
organisations (:func:`sim.calibration.population.survey_population`), as the published figure was
computed over the firms a survey asked. The figures and their sources are in
``experiments/calibration/targets.toml``; the statistics are :data:`STATISTICS`.

The distance (:func:`distance`) is the root of the summed squared z-scores of the fitted targets,
each deviation divided by the uncertainty the figure itself carries:

- ``binomial`` (k of n firms, e.g. Dachis 2012: 32 of 56): the sampling error of a survey of n
  firms, sqrt(p (1 - p) / n), and that of the simulated survey of m organisations,
  sqrt(p (1 - p) / m), added in quadrature;
- ``band`` (a figure known to a band, e.g. Gartner's "about 10%" as 5-15%): zero inside the band,
  outside it the distance to the band in units of the band's half-width (plus, for a share of
  organisations, the simulated survey's sampling error).

So no pattern dominates by its units, and a figure from 56 firms is held less tightly than it
would be from 1,000.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import UserInputError

#: Default targets file (the published record).
TARGETS_FILE = Path(__file__).resolve().parents[2] / "experiments" / "calibration" / "targets.toml"

#: Survey statistic -> (what it is, kind). ``share_of_organisations`` statistics are proportions of
#: the surveyed organisations (their sampling error depends on how many were surveyed); ``mean``
#: statistics are averages of a share over organisations; ``parameters`` are functions of the
#: behavioural parameters alone; ``posterior`` statistics exist only for a whole posterior.
STATISTICS: dict[str, tuple[str, str]] = {
    "provide_and_pray_success": ("share of the provide-and-pray organisations whose verdict is success",
                                 "share_of_organisations"),
    "share_active_10_to_20": ("share of organisations with 10-20% of eligible staff active (last 4 weeks)",
                              "share_of_organisations"),
    "failure_share": ("share of organisations whose verdict is not success", "share_of_organisations"),
    "only_read_share": ("mean over organisations of the share of eligible staff who used the platform "
                        "but never posted", "mean"),
    "ever_used_share": ("mean over organisations of the share of eligible staff who ever used the "
                        "platform", "mean"),
    "top1_share": ("median over organisations of the share of content written by the top 1% of users",
                   "mean"),
    "ever_posted_share": ("mean over organisations of the share of users who ever posted", "mean"),
    "first_year_used_share": ("mean over organisations of the share of all employees who had used the "
                              "platform by the end of its first year", "mean"),
    "productivity_potential": ("a contributor's productivity gain at full adoption: creative_gain + "
                               "connective_gain + compounding_gain", "parameters"),
    "not_top_down_probability": ("posterior probability that influence is bottom-up or middle-out",
                                 "posterior"),
}

#: Statistics computed over part of the survey: the key of the statistics that counts that part.
COUNTED_OVER = {"provide_and_pray_success": "provide_and_pray_organisations"}

MEASURES = ("binomial", "band")
ROLES = ("fit", "holdout")
_REQUIRED = ("figure", "source", "year", "sample", "output", "measure", "role")


@dataclass(frozen=True)
class Target:
    """One published figure and how it is measured."""

    name: str
    figure: str
    source: str
    year: int
    sample: str
    output: str
    measure: str
    role: str
    low: float = math.nan
    high: float = math.nan
    k: int = 0
    n: int = 0

    @property
    def centre(self) -> float:
        """The figure as one number (k/n, or the middle of the band)."""
        return self.k / self.n if self.measure == "binomial" else 0.5 * (self.low + self.high)

    @property
    def interval(self) -> tuple[float, float]:
        """The figure's range: the band, or a 90% interval of the binomial proportion."""
        if self.measure == "band":
            return self.low, self.high
        p = self.centre
        half = 1.645 * math.sqrt(p * (1 - p) / self.n)
        return max(0.0, p - half), min(1.0, p + half)

    def z(self, value: float, organisations: int) -> float:
        """The deviation of a simulated statistic from the figure, in units of its uncertainty.

        ``organisations``: how many organisations the simulated statistic was computed over
        (its own sampling error counts for share-of-organisations statistics).
        """
        if not math.isfinite(value):
            return math.inf
        kind = STATISTICS[self.output][1]
        p = min(max(self.centre, 0.02), 0.98)
        simulated = p * (1 - p) / max(1, organisations) if kind == "share_of_organisations" else 0.0
        if self.measure == "binomial":
            return (value - self.centre) / math.sqrt(p * (1 - p) / self.n + simulated)
        half = 0.5 * (self.high - self.low)
        outside = max(self.low - value, value - self.high, 0.0)
        return outside / math.sqrt(half * half + simulated)

    def describe(self) -> str:
        """The figure, its source and the measurement model in one line."""
        model = (f"{self.k} of {self.n} firms" if self.measure == "binomial"
                 else f"band {self.low:g}-{self.high:g}")
        return f"{self.figure} ({self.source}; {self.sample}; {model})"


def _number(value: Any, where: str, source: str, key: str, *, integer: bool = False) -> float:
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or (isinstance(value, float) and not math.isfinite(value)):
        allowed = "an integer" if integer else "a finite number"
        raise UserInputError(f"{where}: {value!r} is not a number; allowed: {allowed}", source=source, key=key)
    return value


def parse_targets(data: Mapping[str, Any], source: str = "targets") -> tuple[Target, ...]:
    """Check a parsed targets file and return its targets (raises :class:`UserInputError`)."""
    extra = set(data) - {"targets"}
    if extra:
        raise UserInputError(f"unknown top-level key {sorted(extra)[0]!r}; allowed: [targets.NAME] tables",
                             source=source, key=sorted(extra)[0])
    tables = data.get("targets")
    if not isinstance(tables, dict) or not tables:
        raise UserInputError("no targets; allowed: one or more [targets.NAME] tables", source=source, key="targets")
    targets = []
    for name, table in tables.items():
        where = f"targets.{name}"
        if not isinstance(table, dict):
            raise UserInputError(f"{where} is not a table; allowed: [targets.NAME] with figure, source, ...",
                                 source=source, key=where)
        for key in _REQUIRED:
            if key not in table:
                raise UserInputError(f"{where}: missing {key!r}; allowed: every target names "
                                     f"{', '.join(_REQUIRED)}", source=source, key=f"{where}.{key}")
        known = {*_REQUIRED, "low", "high", "k", "n"}
        unknown = sorted(set(table) - known)
        if unknown:
            raise UserInputError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(known))}",
                                 source=source, key=f"{where}.{unknown[0]}")
        for key in ("figure", "source", "sample"):
            if not isinstance(table[key], str) or not table[key].strip():
                raise UserInputError(f"{where}.{key}: {table[key]!r} is empty or not text; allowed: the "
                                     "published wording", source=source, key=f"{where}.{key}")
        year = _number(table["year"], f"{where}.year", source, f"{where}.year", integer=True)
        if not 1990 <= year <= 2100:
            raise UserInputError(f"{where}.year: {year} is not a publication year; allowed: 1990 to 2100",
                                 source=source, key=f"{where}.year")
        output, measure, role = table["output"], table["measure"], table["role"]
        if output not in STATISTICS:
            raise UserInputError(f"{where}.output: {output!r} is not a model output; allowed: "
                                 f"{', '.join(STATISTICS)}", source=source, key=f"{where}.output")
        if measure not in MEASURES:
            raise UserInputError(f"{where}.measure: {measure!r} is not a measurement model; allowed: "
                                 f"{', '.join(MEASURES)}", source=source, key=f"{where}.measure")
        if role not in ROLES:
            raise UserInputError(f"{where}.role: {role!r}; allowed: {', '.join(ROLES)}", source=source,
                                 key=f"{where}.role")
        if STATISTICS[output][1] == "posterior" and role == "fit":
            raise UserInputError(f"{where}.role: {output} is a property of a whole posterior, not of one "
                                 "simulation; allowed: holdout", source=source, key=f"{where}.role")
        fields: dict[str, Any] = {}
        if measure == "binomial":
            for key in ("k", "n"):
                if key not in table:
                    raise UserInputError(f"{where}: a binomial target needs {key!r}; allowed: k of n firms",
                                         source=source, key=f"{where}.{key}")
            k = _number(table["k"], f"{where}.k", source, f"{where}.k", integer=True)
            n = _number(table["n"], f"{where}.n", source, f"{where}.n", integer=True)
            if not 0 <= k <= n or n < 1:
                raise UserInputError(f"{where}: {k} of {n} firms is impossible; allowed: 0 <= k <= n, n >= 1",
                                     source=source, key=f"{where}.k")
            fields.update(k=int(k), n=int(n))
        else:
            for key in ("low", "high"):
                if key not in table:
                    raise UserInputError(f"{where}: a band needs {key!r}; allowed: low and high, 0 to 1",
                                         source=source, key=f"{where}.{key}")
            low = float(_number(table["low"], f"{where}.low", source, f"{where}.low"))
            high = float(_number(table["high"], f"{where}.high", source, f"{where}.high"))
            if not 0.0 <= low < high <= 1.0:
                raise UserInputError(f"{where}: band [{low:g}, {high:g}] is impossible; allowed: "
                                     "0 <= low < high <= 1", source=source, key=f"{where}.low")
            fields.update(low=low, high=high)
        targets.append(Target(name=name, figure=table["figure"].strip(), source=table["source"].strip(),
                              year=int(year), sample=table["sample"].strip(), output=output, measure=measure,
                              role=role, **fields))
    if not any(t.role == "fit" for t in targets):
        raise UserInputError("no target has role = \"fit\"; allowed: at least one fitted target",
                             source=source, key="targets")
    return tuple(targets)


def load_targets(path: str | Path | None = None) -> tuple[Target, ...]:
    """Read and check a targets file (default: the published record, :data:`TARGETS_FILE`)."""
    path = Path(path) if path is not None else TARGETS_FILE
    source = str(path)
    if not path.exists():
        raise UserInputError("no such file; allowed: a targets TOML file", source=source)
    if not path.is_file():
        raise UserInputError("not a regular file; allowed: a targets TOML file", source=source)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UserInputError("not UTF-8 text; allowed: a targets TOML file", source=source) from None
    except tomllib.TOMLDecodeError as exc:
        raise UserInputError(f"not valid TOML ({exc}); allowed: a targets TOML file", source=source) from None
    except OSError as exc:
        raise UserInputError(f"cannot be read ({exc.strerror}); allowed: a readable targets file",
                             source=source) from None
    return parse_targets(data, source)


def fitted(targets: Iterable[Target]) -> tuple[Target, ...]:
    """The targets in the fit."""
    return tuple(t for t in targets if t.role == "fit")


def distance(statistics: Mapping[str, float], targets: Iterable[Target]) -> float:
    """Root of the summed squared z-scores of the fitted targets (module docstring)."""
    total = 0.0
    for target in fitted(targets):
        organisations = int(statistics.get(COUNTED_OVER.get(target.output, "organisations"), 1))
        z = target.z(float(statistics.get(target.output, math.nan)), organisations)
        if not math.isfinite(z):
            return math.inf
        total += z * z
    return math.sqrt(total)
