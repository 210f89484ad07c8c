"""Experiment definition files: what to vary, how to sample it, how often, where to write.

An experiment file is TOML, validated as strictly as a scenario file: unknown keys, wrong
types, out-of-range values and impossible combinations are one :class:`ExperimentError` whose
message names the file, the key and what is allowed (``<file>: <key>: <what>; allowed: ...``).

A complete example (most keys are optional; defaults in :class:`ExperimentSpec`)::

    name = "openness_x_purpose"            # letters, digits, _ . -
    description = "Does openness pay off only with a purpose?"
    # base = "purpose_led_stepwise"        # preset or scenario file; not with a scenario factor
    population = "small"                   # small | default | large (optional)
    weeks = 52                             # horizon override (optional)
    replicates = 10                        # runs per design point
    root_seed = 2026                       # every run's seed derives from this number
    common_random_numbers = true           # replicate r has the same seed at every point
    outputs = "series"                     # "final" (summary only) or "series" (+ weekly rows)
    series_columns = ["active_share", "members", "net_value"]   # for outputs = "series"
    out = "results/openness_x_purpose"     # relative to this file's folder (CLI --out wins)
    batch_size = 8                         # runs per part file (and per task)

    [set]                                  # fixed lever values for every run
    blame_culture = 0.2

    [design]
    kind = "latin_hypercube"               # full_factorial | latin_hypercube | sobol | morris | explicit
    samples = 64                           # LHS: points; sobol: N; morris: trajectories
    seed = 1                               # design sampling seed (default: root_seed)

    [factors.open_by_default]
    range = [0.2, 1.0]
    [factors.purpose_strength]
    range = [0.0, 1.0]
    [factors.employees]                    # an integer lever: sampled values are rounded
    range = [400, 800]
    [factors.scenario]                     # categorical: crossed with the sampled points
    values = ["provide_and_pray", "purpose_led_stepwise", "variants/my_strategy.toml"]

Other designs: ``kind = "full_factorial"`` (factors with ``values``, or ``range`` + ``steps``),
``kind = "sobol"`` (``samples`` a power of 2; ``second_order = false`` for first-order and total
indices only), ``kind = "morris"`` (``samples`` trajectories, ``levels = 4``), ``kind =
"explicit"`` with ``points = [{purpose_strength = 0.2, open_by_default = 0.5}, ...]``.

Rules (checked when the file is loaded, before anything runs):

* A factor is a scenario key (``socialsim levers``) or ``scenario`` (preset names or scenario
  files: relative to the experiment file's folder first, then the presets). ``name``,
  ``description``, ``waves`` and ``shocks`` cannot be factors (vary schedules through
  ``scenario``). A factor is given by ``values = [...]`` (explicit, distinct) or
  ``range = [low, high]`` (within the lever's allowed range; numbers only). ``steps`` turns a
  range into evenly spaced values (full factorial only).
* Designs. ``full_factorial``: every combination of every factor's values (ranges need
  ``steps``); the first factor varies slowest. ``latin_hypercube`` (``samples`` points),
  ``sobol`` (Saltelli's scheme through SALib: ``samples`` = N, a power of 2, gives N*(2D+2)
  points, or N*(D+2) with ``second_order = false``) and ``morris`` (``samples`` trajectories
  of ``levels`` levels, default 4: (D+1)*samples points) sample the ``range`` factors;
  ``explicit`` takes ``points = [{lever = value, ...}, ...]`` (every point the same keys).
* **Crossing.** In sampled and explicit designs, every factor given by ``values`` (a preset
  list for ``scenario``, booleans, text levers, or numbers) is *crossed* with the points: the
  design is every combination of those values times every sampled point, e.g. an LHS over
  organisation levers x every strategy preset. Within each combination the points keep
  SALib's row order; point_id = combination_index * points_per_combination + row.
* Integer levers (``employees``, ``departments``, ``customers``, ``weeks``, ...) are rounded to
  the nearest integer (halves up) after sampling; their ``values`` must be integers.
* Order in which values apply to a run: base scenario -> population -> ``[set]`` -> ``weeks``
  -> the design point's factors. A key may not be both in ``[set]`` and a factor.
"""

from __future__ import annotations

import dataclasses

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from ..errors import ScenarioError, UserInputError
from ..outputs import SERIES_COLUMNS, SUMMARY_COLUMNS
from ..scenario import (
    POPULATIONS,
    Scenario,
    make_scenario,
    first_problem,
    preset_names,
    read_toml,
    type_problem,
    resolve_scenario_path,
)

DESIGN_KINDS = ("full_factorial", "latin_hypercube", "sobol", "morris", "explicit")
SAMPLED_KINDS = ("latin_hypercube", "sobol", "morris")
DEFAULT_SERIES_COLUMNS = ("active_share", "readers", "productivity_gain", "members", "advocates", "detractors",
                          "mean_trust", "net_value")
#: Scenario keys that cannot be factors (text or lists of tables).
NOT_FACTORS = ("name", "description", "waves", "shocks", "organisation", "ties")
SCENARIO_FACTOR = "scenario"
#: Columns of every part file before the factor and summary columns.
RUN_COLUMNS = ("run_id", "point_id", "replicate", "seed", "scenario", "scenario_hash", "version", "status", "error")
NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"


class ExperimentError(UserInputError):
    """An experiment file that cannot be loaded or validated."""


Scalar = StrictBool | StrictInt | StrictFloat | StrictStr


class FactorSpec(BaseModel):
    """One factor: explicit ``values``, or a ``range`` (with ``steps`` for a full factorial)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    values: list[Scalar] | None = Field(None, min_length=1, description="explicit values (distinct)")
    range: list[StrictInt | StrictFloat] | None = Field(None, min_length=2, max_length=2,
                                                        description="[low, high], within the lever's range")
    steps: StrictInt | None = Field(None, ge=2, le=10_000, description="evenly spaced values over the range")


class DesignSpec(BaseModel):
    """How the design points are generated."""

    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Literal["full_factorial", "latin_hypercube", "sobol", "morris", "explicit"] = "full_factorial"
    samples: StrictInt | None = Field(None, ge=1, le=10_000_000,
                                      description="LHS: points; sobol: base samples N; morris: trajectories")
    levels: StrictInt | None = Field(None, ge=2, le=1000, description="morris: grid levels (default 4)")
    seed: StrictInt | None = Field(None, ge=0, le=2**63 - 1, description="sampling seed (default root_seed)")
    second_order: StrictBool | None = Field(None, description="sobol: second-order indices (default true)")
    points: list[dict[str, Scalar]] | None = Field(None, description="explicit: the parameter sets")


class ExperimentSpec(BaseModel):
    """The experiment file, as validated (structure and types; see :func:`load_experiment`)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: StrictStr = Field(pattern=NAME_PATTERN, min_length=1, max_length=120)
    description: StrictStr = ""
    base: StrictStr | None = Field(None, min_length=1, description="preset name or scenario file")
    population: StrictStr | None = Field(None, description="small | default | large")
    weeks: StrictInt | None = Field(None, ge=1, le=2080)
    replicates: StrictInt = Field(1, ge=1, le=1_000_000)
    root_seed: StrictInt = Field(0, ge=0, le=2**63 - 1)
    common_random_numbers: StrictBool = True
    outputs: Literal["final", "series"] = "final"
    series_columns: list[StrictStr] | None = Field(None, min_length=1)
    out: StrictStr | None = Field(None, min_length=1)
    batch_size: StrictInt = Field(8, ge=1, le=100_000)
    #: true: every run draws its behavioural parameters from the shipped posterior with its seed;
    #: a path: from that posterior.csv (relative to the experiment file).
    calibrated: StrictBool | StrictStr = False
    set: dict[str, Any] = Field(default_factory=dict)
    design: DesignSpec = Field(default_factory=DesignSpec)
    factors: dict[str, FactorSpec] = Field(default_factory=dict)


_MODELS: dict[str, type[BaseModel]] = {"": ExperimentSpec, "design": DesignSpec, "factors": FactorSpec}


@dataclass
class Factor:
    """A validated factor.

    Attributes:
        name: the scenario key, or ``scenario``.
        kind: ``"range"`` (sampled, or stepped in a full factorial) or ``"values"``.
        values: the explicit values (``values`` factors, and stepped ranges after rounding).
        low, high: the range (``range`` factors).
        integer: an integer lever (values are rounded).
        dtype: ``"float"``, ``"int"``, ``"bool"`` or ``"str"``: the column type.
        steps: number of steps of a stepped range.
        origin: ``"factors"`` or ``"points"`` (an explicit design's keys).
    """

    name: str
    kind: str
    dtype: str
    integer: bool = False
    values: list[Any] | None = None
    low: float | None = None
    high: float | None = None
    steps: int | None = None
    origin: str = "factors"

    def manifest_entry(self) -> dict[str, Any]:
        """The factor as the manifest lists it."""
        entry: dict[str, Any] = {"kind": self.kind}
        if self.kind == "range":
            entry.update(low=self.low, high=self.high)
            if self.steps is not None:
                entry["steps"] = self.steps
                entry["values"] = list(self.values or [])
        else:
            entry["values"] = list(self.values or [])
        entry["integer"] = self.integer
        if self.origin != "factors":
            entry["origin"] = self.origin
        return entry


@dataclass
class Experiment:
    """A loaded, validated experiment: the spec plus everything resolved from it.

    Attributes:
        spec: the validated file contents.
        source: the file it came from (what error messages name).
        folder: the file's folder (relative paths in the file start there).
        out: the output folder (the spec's ``out``, or ``results/<name>``, or the CLI's --out).
        factors: the factors in column order (explicit design keys first, then ``[factors]``).
        bases: scenario label -> base scenario with population, ``[set]`` and ``weeks`` applied.
            The label is ``None`` when there is no ``scenario`` factor.
        series_columns: the weekly columns kept when outputs = "series".
    """

    spec: ExperimentSpec
    source: str
    folder: Path
    out: Path
    factors: list[Factor]
    bases: dict[str | None, Scenario]
    series_columns: list[str] = field(default_factory=list)

    @property
    def factor_names(self) -> list[str]:
        return [f.name for f in self.factors]

    def factor(self, name: str) -> Factor:
        return next(f for f in self.factors if f.name == name)

    def factor_columns(self) -> dict[str, str]:
        """Factor name -> its column in the part files.

        The ``scenario`` factor's value is the ``scenario`` column itself. A factor whose name is
        also a summary output (``cross_silo_ties``) is stored as ``factor_<name>`` there.
        """
        taken = set(RUN_COLUMNS) | set(SUMMARY_COLUMNS) | {"verdict"}
        columns = {}
        for f in self.factors:
            if f.name == SCENARIO_FACTOR:
                columns[f.name] = SCENARIO_FACTOR
            else:
                columns[f.name] = f"factor_{f.name}" if f.name in taken else f.name
        return columns


# ------------------------------------------------------------------ loading
def load_experiment(path: str | Path, *, out: str | Path | None = None,
                    organisation: dict[str, str] | None = None) -> Experiment:
    """Read and validate an experiment file; ``out`` (the CLI's --out) overrides the spec's.

    Raises:
        ExperimentError: one line naming the file, the key and what is allowed.
    """
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise ExperimentError("no such file; allowed: an experiment .toml file", source=source)
    if path.is_dir():
        raise ExperimentError("is a folder; allowed: an experiment .toml file", source=source)
    data = read_toml(path, ExperimentError)
    return make_experiment(data, source=source, folder=path.resolve().parent, out=out, organisation=organisation)


def with_organisation(experiment: Experiment, organisation: str | None, ties: str | None = None) -> Experiment:
    """The experiment run on an imported organisation (the CLI's ``--organisation`` / ``--ties``).

    Every base scenario gets the organisation; its head count and departments follow the file.
    """
    if not organisation and not ties:
        return experiment
    changes = {"ties": "", **{key: value for key, value in (("organisation", organisation), ("ties", ties)) if value}}
    bases = {label: base.with_levers(**changes) for label, base in experiment.bases.items()}
    return dataclasses.replace(experiment, bases=bases)


def make_experiment(data: dict[str, Any], *, source: str = "experiment", folder: str | Path = ".",
                    out: str | Path | None = None, organisation: dict[str, str] | None = None) -> Experiment:
    """Validate a mapping (what a TOML file holds) into an :class:`Experiment`.

    ``organisation``: ``{"organisation": ..., "ties": ...}`` (the CLI's ``--organisation``/``--ties``),
    applied to every base before ``[set]``, so a ``[set]`` wave may name its departments.
    """
    try:
        spec = ExperimentSpec(**data)
    except ValidationError as exc:
        key, message = first_problem(exc, _describe)
        raise ExperimentError(message, source=source, key=key or None) from None
    except TypeError as exc:  # a key that is not a string
        raise ExperimentError(str(exc), source=source) from None
    return _resolve(spec, source=source, folder=Path(folder), out=out, organisation=organisation or {})


def _fail(message: str, source: str, key: str | None = None) -> ExperimentError:
    return ExperimentError(message, source=source, key=key)


def _resolve(spec: ExperimentSpec, *, source: str, folder: Path, out: str | Path | None,
             organisation: dict[str, str]) -> Experiment:
    design = spec.design
    kind = design.kind

    # --- design keys that belong to another kind
    if kind in SAMPLED_KINDS and design.samples is None:
        raise _fail(f"is required for a {kind} design; allowed: an integer >= 1"
                    + (" (a power of 2, e.g. 64)" if kind == "sobol" else ""), source, "design.samples")
    if kind not in SAMPLED_KINDS and design.samples is not None:
        raise _fail(f"is not used by a {kind} design; allowed: only with latin_hypercube, sobol or morris",
                    source, "design.samples")
    if kind == "sobol" and design.samples is not None and design.samples & (design.samples - 1):
        raise _fail(f"{design.samples} is not a power of 2; allowed: a power of 2 such as "
                    f"{1 << max(0, design.samples.bit_length() - 1)} or {1 << design.samples.bit_length()} "
                    "(Sobol' sequences are balanced only at powers of 2)", source, "design.samples")
    if kind != "morris" and design.levels is not None:
        raise _fail(f"is not used by a {kind} design; allowed: only with morris", source, "design.levels")
    if kind != "sobol" and design.second_order is not None:
        raise _fail(f"is not used by a {kind} design; allowed: only with sobol", source, "design.second_order")
    if kind != "explicit" and design.points is not None:
        raise _fail(f"is not used by a {kind} design; allowed: only with kind = \"explicit\"",
                    source, "design.points")
    if kind == "explicit" and not design.points:
        raise _fail("an explicit design needs at least one point; allowed: points = [{lever = value, ...}, ...]",
                    source, "design.points")
    if kind in ("full_factorial", "explicit") and design.seed is not None:
        raise _fail(f"is not used by a {kind} design (nothing is sampled); allowed: only with "
                    "latin_hypercube, sobol or morris", source, "design.seed")

    # --- population, series columns
    if spec.population is not None and spec.population not in POPULATIONS:
        raise _fail(f"{spec.population!r} is not allowed; allowed: {', '.join(POPULATIONS)}", source, "population")
    series_columns = list(spec.series_columns or DEFAULT_SERIES_COLUMNS)
    if spec.series_columns is not None and spec.outputs != "series":
        raise _fail('is only used with outputs = "series"; allowed: remove it or set outputs = "series"',
                    source, "series_columns")
    allowed_series = [c for c in SERIES_COLUMNS if c != "week"]
    for i, column in enumerate(series_columns):
        if column not in allowed_series:
            raise _fail(f"{column!r} is not a weekly output; allowed: {', '.join(allowed_series)}",
                        source, f"series_columns[{i}]")
        if series_columns.index(column) != i:
            raise _fail(f"{column!r} is listed twice; allowed: distinct columns", source, f"series_columns[{i}]")

    # --- factors
    factors: list[Factor] = []
    if kind == "explicit":
        factors.extend(_point_factors(design.points or [], source))
    point_keys = {f.name for f in factors}
    for name, fspec in spec.factors.items():
        key = f"factors.{name}"
        if name in point_keys:
            raise _fail("is also a key of design.points; allowed: a key in one of them", source, key)
        factors.append(_factor(name, fspec, kind, source))
    for f in factors:
        if f.name in spec.set:
            raise _fail(f"{f.name!r} is both a factor and fixed in [set]; allowed: one of them", source,
                        f"set.{f.name}")
        if f.name == "weeks" and spec.weeks is not None:
            raise _fail("weeks is both a factor and fixed by the top-level weeks; allowed: one of them",
                        source, "weeks")
    if kind in SAMPLED_KINDS and not any(f.kind == "range" for f in factors):
        raise _fail(f"a {kind} design needs at least one factor with range = [low, high]; allowed: e.g. "
                    "[factors.purpose_strength] range = [0.0, 1.0]", source, "factors")
    has_scenario_factor = any(f.name == SCENARIO_FACTOR for f in factors)
    if has_scenario_factor and spec.base is not None:
        raise _fail("base and a scenario factor are both given; allowed: one of them (the scenario factor "
                    "lists the base scenarios)", source, "base")

    # --- base scenarios, with population, [set] and weeks applied
    bases: dict[str | None, Scenario] = {}
    if has_scenario_factor:
        scen = next(f for f in factors if f.name == SCENARIO_FACTOR)
        for i, label in enumerate(scen.values or []):
            if scen.origin == "factors":
                where = f"factors.scenario.values[{i}]"
            else:
                first = next(k for k, p in enumerate(design.points or []) if p.get(SCENARIO_FACTOR) == label)
                where = f"design.points[{first}].scenario"
            bases[label] = _base(spec, label, folder, source, where, organisation)
    else:
        bases[None] = _base(spec, spec.base, folder, source, "base", organisation)
    if any(base.organisation for base in bases.values()):
        from ..orgchart import DECIDED_BY_FILE

        for factor in factors:
            if factor.name in DECIDED_BY_FILE:
                raise _fail(f"{factor.name} is decided by the organisation file, so it cannot vary; allowed: a "
                            "generated firm (no organisation) to vary it", source, f"factors.{factor.name}")

    if out is not None:
        out_path = Path(out)
    else:
        out_path = Path(spec.out) if spec.out else Path("results") / spec.name
        if not out_path.is_absolute():
            out_path = folder / out_path
    return Experiment(spec=spec, source=source, folder=folder, out=out_path, factors=factors, bases=bases,
                      series_columns=series_columns)


def resolve_scenario_reference(value: str, folder: Path) -> Path:
    """A scenario file relative to ``folder`` first, then a preset name (or an absolute path)."""
    candidate = Path(value)
    if not candidate.is_absolute():
        local = folder / candidate
        if local.is_file():
            return local
        if local.suffix != ".toml" and local.with_suffix(".toml").is_file() and candidate.parent != Path("."):
            return local.with_suffix(".toml")
        if candidate.parent != Path("."):  # a relative path that is not in the experiment's folder
            raise ScenarioError(f"no such file in {str(folder)!r}; allowed: a scenario file relative to the "
                                f"experiment file's folder, or a preset: {', '.join(preset_names())}",
                                source=value)
    return resolve_scenario_path(candidate)


def _base(spec: ExperimentSpec, ref: str | None, folder: Path, source: str, key: str,
          organisation: dict[str, str] | None = None) -> Scenario:
    from ..scenario import load_scenario

    try:
        scenario = Scenario() if ref is None else load_scenario(resolve_scenario_reference(ref, folder))
    except ScenarioError as exc:
        raise _fail(str(exc), source, key) from None
    steps: list[tuple[str, dict[str, Any]]] = []
    if organisation:
        steps.append(("organisation", {"ties": "", **organisation}))
    if spec.population is not None:
        steps.append(("population", POPULATIONS[spec.population]))
    if spec.set:
        # --organisation (applied first) wins over the file's own organisation
        values = {k: v for k, v in spec.set.items() if not (organisation and k in ("organisation", "ties"))}
        for name in ("organisation", "ties"):  # an HR export beside the experiment file is found there
            if isinstance(values.get(name), str):
                from ..orgchart import resolve_organisation

                values[name] = resolve_organisation(values[name], relative_to=folder)
        steps.append(("set", values))
    if spec.weeks is not None:
        steps.append(("weeks", {"weeks": spec.weeks}))
    for step, values in steps:
        try:
            scenario = make_scenario({**scenario.to_dict(), **values}, source=source)
        except ScenarioError as exc:
            lever = exc.key or ""
            if step == "organisation":
                raise  # the organisation file's own one line (its file and row)
            if step == "set":
                where = f"set.{lever}" if lever in spec.set else f"set ({lever})"
            else:
                where = step if step == "weeks" else f"population ({lever})"
            base_name = f" (base {ref})" if ref is not None and key != "base" else ""
            raise _fail(exc.detail + base_name, source, where) from None
    return scenario


# ------------------------------------------------------------------ levers
def lever_kind(name: str) -> tuple[str, tuple[Any, ...] | None, float | None, float | None]:
    """(dtype, choices, low, high) of a scenario key: dtype is float, int, bool or str."""
    field_info = Scenario.model_fields[name]
    annotation = field_info.annotation
    lo = hi = None
    for meta in field_info.metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    if annotation is bool:
        return "bool", (True, False), None, None
    if get_origin(annotation) is Literal:
        return "str", get_args(annotation), None, None
    if annotation is int:
        return "int", None, lo, hi
    if annotation is float:
        return "float", None, lo, hi
    return "other", None, lo, hi


def _allowed_factor_text() -> str:
    return "a scenario key (see `socialsim levers`) or scenario"


def _check_factor_name(name: str, source: str, key: str) -> None:
    if name == SCENARIO_FACTOR:
        return
    if name in NOT_FACTORS:
        hint = (" (vary schedules through the scenario factor)" if name in ("waves", "shocks") else
                " (one organisation per experiment: [set] organisation, or --organisation)"
                if name in ("organisation", "ties") else "")
        raise _fail(f"{name!r} cannot be a factor{hint}; allowed: {_allowed_factor_text()}", source, key)
    if name not in Scenario.model_fields:
        close = [n for n in Scenario.model_fields if n[:4] == name[:4] and n not in NOT_FACTORS]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise _fail(f"unknown lever {name!r}{hint}; allowed: {_allowed_factor_text()}", source, key)


def _range_text(lo: Any, hi: Any) -> str:
    return f"{lo} to {hi}"


def check_value(name: str, value: Any, source: str, key: str) -> Any:
    """One value of a factor or explicit point, checked against the lever's type and range."""
    if name == SCENARIO_FACTOR:
        if not isinstance(value, str):
            raise _fail(f"{value!r} is not a preset name or scenario file; allowed: text", source, key)
        return value
    dtype, choices, lo, hi = lever_kind(name)
    if dtype == "bool":
        if not isinstance(value, bool):
            raise _fail(f"{value!r} is not true or false; allowed: true, false", source, key)
        return value
    if dtype == "str":
        if value not in (choices or ()) or not isinstance(value, str):
            raise _fail(f"{value!r} is not allowed; allowed: {', '.join(repr(c) for c in choices or ())}",
                        source, key)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"{value!r} is not a number; allowed: {_range_text(lo, hi)}", source, key)
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(f"{value!r} is not a finite number; allowed: {_range_text(lo, hi)}", source, key)
    if dtype == "int" and not isinstance(value, int):
        raise _fail(f"{value!r} is not an integer ({name} is an integer lever); allowed: integers "
                    f"{_range_text(lo, hi)}", source, key)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise _fail(f"{value!r} is out of range; allowed: {_range_text(lo, hi)}", source, key)
    return int(value) if dtype == "int" else float(value)


def round_integer(x: float) -> int:
    """Nearest integer, halves up (the rounding of integer levers)."""
    return math.floor(x + 0.5)


def _factor(name: str, fspec: FactorSpec, kind: str, source: str) -> Factor:
    key = f"factors.{name}"
    _check_factor_name(name, source, key)
    if name == SCENARIO_FACTOR:
        dtype, integer, lo, hi = "str", False, None, None
    else:
        dtype, _, lo, hi = lever_kind(name)
        integer = dtype == "int"
    if (fspec.values is None) == (fspec.range is None):
        raise _fail("give either values = [...] or range = [low, high]; allowed: exactly one of them", source, key)
    if fspec.values is not None:
        if fspec.steps is not None:
            raise _fail("steps only applies to a range; allowed: remove steps or use range", source, f"{key}.steps")
        values = [check_value(name, v, source, f"{key}.values[{i}]") for i, v in enumerate(fspec.values)]
        for i, v in enumerate(values):
            if any(type(v) is type(w) and v == w for w in values[:i]):
                raise _fail(f"{v!r} is listed twice; allowed: distinct values", source, f"{key}.values[{i}]")
        return Factor(name=name, kind="values", dtype=dtype, integer=integer, values=values)
    # a range
    if dtype not in ("float", "int"):
        allowed = "values = [true, false]" if dtype == "bool" else "values = [...]"
        raise _fail(f"{name} is not numeric, so it has no range; allowed: {allowed}", source, f"{key}.range")
    low, high = (float(v) for v in fspec.range or ())
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise _fail(f"[{low}, {high}] is not a range; allowed: [low, high] with low < high", source, f"{key}.range")
    if (lo is not None and low < lo) or (hi is not None and high > hi):
        raise _fail(f"[{_num(low)}, {_num(high)}] is outside the lever's range; allowed: {_range_text(lo, hi)}",
                    source, f"{key}.range")
    if kind == "full_factorial":
        if fspec.steps is None:
            raise _fail("a range needs steps in a full_factorial design; allowed: steps = 2 or more, or "
                        "values = [...]", source, f"{key}.steps")
        import numpy as np

        grid = [float(v) for v in np.linspace(low, high, fspec.steps)]
        if integer:
            grid_i = [round_integer(v) for v in grid]
            if len(set(grid_i)) != len(grid_i):
                raise _fail(f"{fspec.steps} steps over [{_num(low)}, {_num(high)}] repeat integer values; "
                            f"allowed: at most {int(high) - math.ceil(low) + 1} steps", source, f"{key}.steps")
            grid = grid_i
        return Factor(name=name, kind="range", dtype=dtype, integer=integer, values=grid, low=low, high=high,
                      steps=fspec.steps)
    if kind == "explicit":
        raise _fail("an explicit design does not sample ranges; allowed: values = [...] (crossed with the "
                    "points) or a key in design.points", source, f"{key}.range")
    if fspec.steps is not None:
        raise _fail(f"steps is only used by full_factorial designs (a {kind} design samples the range); "
                    "allowed: remove it", source, f"{key}.steps")
    return Factor(name=name, kind="range", dtype=dtype, integer=integer, low=low, high=high)


def _num(x: float) -> str:
    return repr(int(x)) if float(x).is_integer() else repr(x)


def _point_factors(points: list[dict[str, Any]], source: str) -> list[Factor]:
    """The factors of an explicit design: the keys of its points (all points the same keys)."""
    keys = list(points[0])
    if not keys:
        raise _fail("is empty; allowed: a table of lever = value", source, "design.points[0]")
    for k in keys:
        _check_factor_name(k, source, f"design.points[0].{k}")
    checked: dict[str, list[Any]] = {k: [] for k in keys}
    for i, point in enumerate(points):
        if set(point) != set(keys):
            missing = sorted(set(keys) - set(point))
            extra = sorted(set(point) - set(keys))
            what = f"lacks {', '.join(missing)}" if missing else f"has extra key {', '.join(extra)}"
            raise _fail(f"{what}; allowed: every point has the same keys as point 0 ({', '.join(keys)})",
                        source, f"design.points[{i}]")
        for k in keys:
            checked[k].append(check_value(k, point[k], source, f"design.points[{i}].{k}"))
    factors = []
    for k in keys:
        dtype = "str" if k == SCENARIO_FACTOR else lever_kind(k)[0]
        distinct: list[Any] = []
        for v in checked[k]:
            if not any(type(v) is type(w) and v == w for w in distinct):
                distinct.append(v)
        factors.append(Factor(name=k, kind="values", dtype=dtype, integer=dtype == "int", values=distinct,
                              origin="points"))
    return factors


# ------------------------------------------------------------------ pydantic errors
def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    parent = [p for p in loc[:-1] if isinstance(p, str)]
    if not parent:
        return ExperimentSpec
    if parent[0] == "design" and len(parent) == 1:
        return DesignSpec
    if parent[0] == "factors" and len(parent) == 2:
        return FactorSpec
    return None


_TYPE_TAGS = {"bool", "int", "float", "str"}


def _format_loc(loc: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """``("factors", "x", "values", 0, "str")`` -> ``"factors.x.values[0]"`` (union tags dropped)."""
    parts: list[Any] = []
    for p in loc:
        if isinstance(p, str) and p in _TYPE_TAGS and parts and isinstance(parts[-1], int):
            break
        if isinstance(p, str) and p.startswith(("union[", "list[", "function-")):
            continue
        parts.append(p)
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text, tuple(parts)


def _describe(err: dict[str, Any]) -> tuple[str, str]:
    """One pydantic error -> (key, 'what is wrong; allowed: ...')."""
    key, loc = _format_loc(tuple(err["loc"]))
    kind = err["type"]
    ctx = err.get("ctx", {}) or {}
    given = err.get("input")
    if kind == "extra_forbidden":
        model = _model_at(tuple(err["loc"]))
        allowed = ", ".join(model.model_fields) if model else "see the documentation"
        return key, f"unknown key; allowed: {allowed}"
    if kind == "missing":
        return key, "is required"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">",
                 "less_than": "<"}[kind]
        limit = next(iter(ctx.values()), "")
        return key, f"{given!r} is out of range; allowed: {bound} {limit}"
    if kind == "literal_error":
        return key, f"{given!r} is not allowed; allowed: {ctx.get('expected', '')}"
    if kind == "string_pattern_mismatch":
        return key, f"{given!r} has characters that are not allowed; allowed: letters, digits, _ . -"
    if kind in ("too_short", "too_long"):
        if loc and loc[-1] == "range":
            return key, f"{given!r} is not a range; allowed: [low, high]"
        if kind == "too_short" and isinstance(given, str):
            return key, "is empty; allowed: non-empty text"
        return key, f"{given!r} has the wrong length; {err['msg'].lower()}"
    problem = type_problem(kind, given)
    if problem:
        return key, problem
    if loc and isinstance(loc[-1], int) or kind.endswith("_type"):
        return key, f"{given!r} is not a number, text or true/false; allowed: one of those"
    return key, f"{given!r}: {err['msg'].lower()}"


__all__ = ["DEFAULT_SERIES_COLUMNS", "DESIGN_KINDS", "DesignSpec", "Experiment", "ExperimentError",
           "ExperimentSpec", "Factor", "FactorSpec", "check_value", "load_experiment", "make_experiment",
           "resolve_scenario_reference", "round_integer"]

