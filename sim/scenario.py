"""Scenarios: the one validation layer for every lever, population and schedule.

A scenario is a flat set of named levers (plus two lists: rollout ``waves`` and ``shocks``).
Every model keyword has a default here, one name in the TOML file, the code and the docs
(docs/MODEL.md), a documented range and the article it comes from. A strategy preset in
``scenarios/`` is nothing but a file of these values: no strategy has a code path of its own.

Sources (../shared/seeds): 000 Hinchcliffe & Kim, the three tenets; 001 Dent, "provide and
pray" vs a compelling purpose; 002 "A Means to an End", acting human; 003 HBR/Darmano, silos,
listening and co-creation; 004 "The journey ... starts from within", leaders and stepwise
rollout.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .behaviour import BehaviourParameters
from .errors import ScenarioError, UserInputError
from .parameters import (EconomicsKeys, IdentityKeys, OrganisationKeys, StrategyLevers, SwitchKeys,
                         VerdictKeys)

def _preset_folder() -> Path:
    """Where the preset files live: ``scenarios/`` beside ``sim/`` in a source tree (and an
    editable install), else the ``sim/presets`` folder that a wheel installs (see pyproject.toml)."""
    source_tree = Path(__file__).resolve().parent.parent / "scenarios"
    if source_tree.is_dir():
        return source_tree
    return Path(str(resources.files("sim") / "presets"))


SCENARIO_DIR = _preset_folder()

#: Largest scenario or experiment file read (a real one is a few kB; this stops /dev/zero).
MAX_FILE_BYTES = 1_000_000
#: Largest seed: seeds are stored in int64 table columns.
MAX_SEED = 2**63 - 1

#: Population sizes a user can pick by name (``--population``); the levers stay the same.
POPULATIONS: dict[str, dict[str, int]] = {
    "small": {"employees": 600, "departments": 6, "customers": 6_000},
    "default": {"employees": 3_000, "departments": 12, "customers": 30_000},
    "large": {"employees": 100_000, "departments": 40, "customers": 900_000},
}

SHOCK_KINDS = ("crisis", "viral_mistake", "leader_leaves", "compliance_clampdown")


class Wave(BaseModel):
    """One rollout wave: at ``week``, give platform access to some departments (004).

    Either ``departments`` ("all", "customer_facing", "internal" or a list of department
    numbers or names, such as ``["Sales", "Support"]`` of an imported organisation) or ``share``: the first ``ceil(share * departments)`` departments in order, so a
    stepwise schedule written with shares works for any population size. ``spread`` says whether
    the seats go to whole teams (``clustered``, the departments named) or to the same number of
    people scattered at random across the organisation (``scattered``): Centola's claim that
    concentrated effort succeeds where a thin spread fails can then be tested, and can fail.
    """

    model_config = ConfigDict(extra="forbid", strict=True)
    week: int = Field(0, ge=0, description="week the wave starts")
    departments: Literal["all", "customer_facing", "internal"] | list[Annotated[int, Field(ge=0)] | str] = Field(
        "all", description='"all", "customer_facing", "internal" or a list of department numbers or names')
    share: float | None = Field(None, gt=0.0, le=1.0,
                                description="instead of departments: the first share of departments")
    spread: Literal["clustered", "scattered"] = Field(
        "clustered", description='"clustered": whole teams (the departments named); "scattered": the same '
                                 "number of seats given to people picked at random across the organisation")

    @model_validator(mode="after")
    def _one_way_to_choose(self) -> "Wave":
        # A wave with both would silently ignore one of them.
        # departments = "all" (the default) beside a share is what to_dict() writes, so only a real
        # choice of departments conflicts.
        if self.share is not None and self.departments != "all":
            raise ValueError("share: a wave gives either share or departments; allowed: one of them")
        if isinstance(self.departments, list) and not self.departments:
            raise ValueError("departments: [] gives no one access; allowed: at least one department number, "
                             '"all", "customer_facing" or "internal"')
        return self


class Shock(BaseModel):
    """A scheduled event (mechanism 11)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    week: int = Field(ge=0, description="week the shock happens")
    kind: Literal["crisis", "viral_mistake", "leader_leaves", "compliance_clampdown"] = Field(
        description="crisis (003), viral_mistake (002, 003), leader_leaves (004), compliance_clampdown (001)")
    severity: float = Field(0.5, ge=0.0, le=1.0, description="0 (harmless) to 1 (worst)")


class Scenario(VerdictKeys, EconomicsKeys, SwitchKeys, BehaviourParameters, StrategyLevers,
               OrganisationKeys, IdentityKeys):
    """All levers of one run. Construct with keywords or :func:`load_scenario`.

    Unknown keys and out-of-range values are errors, and so are values of the wrong type: the
    model is strict, so ``"0.6"`` is not a number and ``true`` is not a number (an integer is
    accepted where a float is expected). Each field's ``description`` is the one-line
    explanation shown in docs and the dashboard; ``json_schema_extra`` holds the mechanism
    number and the source article.
    """

    # strict=True covers every field, including those added later to the lever list.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)

    # Waves and shocks are the schedule half of a strategy; every other key comes from the
    # group classes in sim/parameters.py and sim/behaviour.py.
    waves: tuple[Wave, ...] = Field((Wave(),), description="rollout waves: week, departments, spread",
                                    json_schema_extra={"group": "strategy", "mechanism": "10 rollout",
                                                       "source": "004", "why": ""})
    shocks: tuple[Shock, ...] = Field((), description="scheduled shocks: week, kind, severity",
                                      json_schema_extra={"group": "strategy", "mechanism": "11 shocks",
                                                         "source": "001, 003, 004", "why": ""})

    @field_validator("waves", "shocks", mode="before")
    @classmethod
    def _lists_to_tuples(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="before")
    @classmethod
    def _size_from_the_organisation(cls, data: Any) -> Any:
        # An imported organisation decides its head count and departments: a preset's or a
        # population's employees = 3000 beside it would describe another firm.
        if not isinstance(data, dict) or not isinstance(data.get("organisation", ""), str):
            return data
        organisation, ties = data.get("organisation", ""), data.get("ties", "")
        if not organisation:
            if isinstance(ties, str) and ties:
                raise ValueError("ties: real ties need the organisation they belong to; allowed: an organisation "
                                 "file beside them, or no ties")
            return data
        from .orgchart import read_org_chart

        chart = read_org_chart(organisation)
        return {**data, "employees": chart.n, "departments": chart.n_departments}

    @model_validator(mode="after")
    def _check_population(self) -> "Scenario":
        if self.departments > self.employees:
            raise ValueError(
                f"departments: {self.departments} departments for {self.employees} employees is impossible; "
                "allowed: at most one department per employee")
        if self.use_rollout and not self.waves:
            raise ValueError("waves: an empty rollout schedule gives no one access; allowed: at least one wave "
                             "(or use_rollout = false)")
        for i, wave in enumerate(self.waves):
            if isinstance(wave.departments, list):
                bad = [d for d in wave.departments if isinstance(d, int) and d >= self.departments]
                if bad:
                    raise ValueError(f"waves[{i}].departments: department {bad[0]} does not exist; "
                                     f"allowed: 0 to {self.departments - 1}")
                names = self.department_names()
                unknown = [d for d in wave.departments if isinstance(d, str) and d not in names]
                if unknown:
                    shown = ", ".join(repr(n) for n in names[:8]) + (" ..." if len(names) > 8 else "")
                    raise ValueError(f"waves[{i}].departments: no department is called {unknown[0]!r}; "
                                     f"allowed: department numbers or names ({shown})")
        # A schedule entry at or after the horizon can never act (weeks run 0 .. weeks - 1).
        for name, items in (("waves", self.waves if self.use_rollout else ()),
                            ("shocks", self.shocks if self.use_shocks else ())):
            for i, item in enumerate(items):
                if item.week >= self.weeks:
                    raise ValueError(f"{name}[{i}].week: week {item.week} is not within the {self.weeks}-week "
                                     f"horizon, so it never happens; allowed: 0 to {self.weeks - 1} "
                                     "(or a longer horizon: weeks)")
        if self.detractor_trust > self.advocate_trust:
            raise ValueError("detractor_trust: must not exceed advocate_trust")
        return self

    # --- derived -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (what a TOML file holds)."""
        return self.model_dump(mode="json")

    def real_ties(self) -> str:
        """The ties the model reads: ``ties``, else a shipped example's own (``aucs``), else '' (generated).

        ``ties = "none"`` generates ties inside the organisation's departments even for an example
        that ships its own.
        """
        from .orgchart import real_ties

        return real_ties(self.organisation, self.ties)

    def department_names(self) -> tuple[str, ...]:
        """The departments' names: an imported organisation's, else "department 0", "department 1" ..."""
        if self.organisation:
            from .orgchart import read_org_chart

            return read_org_chart(self.organisation).department_names
        return tuple(f"department {d}" for d in range(self.departments))

    def scenario_hash(self) -> str:
        """A short, stable hash of every value (name and description excluded).

        An imported organisation counts by its files' contents, not their paths: the same HR export
        anywhere gives the same hash, and an edited one another.
        """
        data = _without_negative_zero(self.to_dict())
        data.pop("name", None)
        data.pop("description", None)
        if data.get("organisation"):
            from .orgchart import organisation_digest

            data["organisation"] = organisation_digest(data["organisation"], self.real_ties())
            data["ties"] = ""
        blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_levers(self, **changes: Any) -> "Scenario":
        """A copy with some values changed, validated (raises :class:`ScenarioError`).

        Another ``organisation`` without ``ties`` drops the old organisation's ties (they name its people).
        """
        if "organisation" in changes and "ties" not in changes and changes["organisation"] != self.organisation:
            changes = {**changes, "ties": ""}
        return make_scenario({**self.to_dict(), **changes}, source="keyword argument")

    def with_population(self, size: str) -> "Scenario":
        """A copy with a named population size (see :data:`POPULATIONS`)."""
        if size not in POPULATIONS:
            raise ScenarioError(f"unknown population {size!r}; allowed: {', '.join(POPULATIONS)}",
                                source="command line", key="population")
        return self.with_levers(**POPULATIONS[size])


LEVER_NAMES: tuple[str, ...] = tuple(Scenario.model_fields)


def _without_negative_zero(value: Any) -> Any:
    """``-0.0`` as ``0.0`` everywhere in plain data: the two are the same lever value."""
    if isinstance(value, float):
        return value + 0.0  # -0.0 + 0.0 == 0.0 (positive zero)
    if isinstance(value, dict):
        return {k: _without_negative_zero(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_negative_zero(v) for v in value]
    return value


def lever_info() -> list[dict[str, Any]]:
    """One row per scenario key: name, group, default, range, mechanism, source, meaning, why."""
    rows = []
    for name, field in Scenario.model_fields.items():
        extra = field.json_schema_extra or {}
        ge = le = None
        for meta in field.metadata:
            ge = getattr(meta, "ge", ge)
            le = getattr(meta, "le", le)
        rows.append({"name": name, "group": extra.get("group", ""), "default": field.default, "ge": ge,
                     "le": le, "mechanism": extra.get("mechanism", ""), "source": extra.get("source", ""),
                     "doc": field.description or "", "why": extra.get("why", "")})
    return rows


def keys_in_group(group: str) -> tuple[str, ...]:
    """Names of the scenario keys of one group (``behaviour``, ``strategy``, ``organisation`` ...)."""
    return tuple(row["name"] for row in lever_info() if row["group"] == group)


def _is_tag(part: Any) -> bool:
    """A pydantic-internal location part (a union branch such as ``literal['all']``), not a key."""
    return isinstance(part, str) and ("[" in part or part.startswith("function-") or part in _TYPE_TAGS)


_TYPE_TAGS = {"bool", "int", "float", "str"}


def format_loc(loc: tuple[Any, ...]) -> tuple[str, bool]:
    """``("waves", 0, "departments", "literal[...]")`` -> ``("waves[0].departments", True)``.

    Everything from the first union tag on is dropped (the second value says whether one was):
    a user reads ``waves[0].departments``, never pydantic's branch names.
    """
    text = ""
    for part in loc:
        if _is_tag(part):
            return text, True
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text, False


def _field_description(loc: tuple[Any, ...]) -> str:
    """The description of the field at ``loc`` (Scenario, Wave or Shock), or ''."""
    model: Any = Scenario
    field = None
    for part in loc:
        if _is_tag(part):
            break
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return ""
        model = {"waves": Wave, "shocks": Shock}.get(part, None)
    return (field.description or "") if field is not None else ""


def _describe_error(err: dict[str, Any]) -> tuple[str, str]:
    """Turn one pydantic error into (key, 'what is wrong; allowed: ...')."""
    loc, in_union = format_loc(tuple(err["loc"]))
    kind = err["type"]
    ctx = err.get("ctx", {})
    given = err.get("input")
    if in_union:
        return loc, f"{given!r} is not allowed; allowed: {_field_description(tuple(err['loc']))}"
    if kind == "extra_forbidden":
        close = [n for n in LEVER_NAMES if n[:4] == str(err["loc"][-1])[:4]]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        return loc, f"unknown key{hint}; allowed keys are listed by `socialsim levers` and docs/MODEL.md"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        field = Scenario.model_fields.get(str(err["loc"][0]))
        lo = hi = None
        if field is not None and len(err["loc"]) == 1:
            for meta in field.metadata:
                lo = getattr(meta, "ge", lo)
                hi = getattr(meta, "le", hi)
        if lo is not None or hi is not None:
            return loc, f"{given!r} is out of range; allowed: {lo} to {hi}"
        return loc, f"{given!r} is out of range; {err['msg'].lower()}"
    if kind == "value_error":
        msg = str(ctx.get("error", err["msg"]))
        if ": " in msg:
            key, _, rest = msg.partition(": ")
            if " " not in key:  # the validator named the key (relative to where it ran)
                return (f"{loc}.{key}" if loc else key), rest
        return loc, msg
    if kind == "literal_error":
        return loc, f"{given!r} is not allowed; allowed: {ctx.get('expected', '')}"
    if kind == "missing":
        return loc, "is required"
    problem = type_problem(kind, given, _range_of(err["loc"]), f"a list of tables ([[{loc}]])")
    if problem:
        return loc, problem
    return loc, f"{given!r}: {err['msg'].lower()}"


def type_problem(kind: str, given: Any, number_range: str = "", list_hint: str = "[...]") -> str | None:
    """The one-line message for a value of the wrong type (pydantic error ``kind``), or None.

    Shared by scenario and experiment files; ``number_range`` is appended to numeric messages,
    ``list_hint`` says what list is expected.
    """
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"{given!r} is not an integer; allowed: an integer" + number_range
    if kind in ("float_type", "float_parsing"):
        return f"{given!r} is not a number; allowed: a number" + number_range
    if kind in ("bool_type", "bool_parsing"):
        return f"{given!r} is not true or false; allowed: true, false"
    if kind == "string_type":
        return f"{given!r} is not text; allowed: a quoted string"
    if kind in ("list_type", "tuple_type"):
        return f"{given!r} is not a list; allowed: {list_hint}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{given!r} is not a table; allowed: a TOML table"
    return None


def _range_of(loc: tuple[Any, ...]) -> str:
    """`` from LOW to HIGH`` for a top-level lever with a range, else ''."""
    field = Scenario.model_fields.get(str(loc[0])) if len(loc) == 1 else None
    if field is None:
        return ""
    lo = hi = None
    for meta in field.metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    return f" from {lo} to {hi}" if lo is not None or hi is not None else ""


def first_problem(exc: ValidationError, describe) -> tuple[str, str]:
    """(key, one-line message) for the first of a pydantic error's problems, counting the rest.

    ``describe`` turns one pydantic error dict into (key, message); scenario and experiment
    files each have their own.
    """
    errors = exc.errors()
    key, message = describe(errors[0])
    more = len({format_loc(tuple(e["loc"]))[0] for e in errors}) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return key, message


def make_scenario(data: dict[str, Any], *, source: str = "scenario") -> Scenario:
    """Validate a mapping into a :class:`Scenario`; one clear :class:`ScenarioError` otherwise.

    Types are strict (see :class:`Scenario`); numpy scalars count as the Python number they hold.
    """
    if not isinstance(data, dict):
        raise ScenarioError(f"{type(data).__name__} is not a table of levers; allowed: key = value pairs",
                            source=source)
    data = {key: value.item() if hasattr(value, "item") and type(value).__module__ == "numpy" else value
            for key, value in data.items()}
    for key, value in data.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ScenarioError(f"{value!r} is not a finite number", source=source, key=key)
    _read_organisation(data, relative_to=None)
    try:
        return Scenario(**data)
    except ValidationError as exc:
        key, message = first_problem(exc, _describe_error)
        raise ScenarioError(message, source=source, key=key or None) from None
    except TypeError as exc:  # e.g. a key that is not a string
        raise ScenarioError(str(exc), source=source) from None


def _read_organisation(data: dict[str, Any], *, relative_to: Path | None) -> None:
    """Resolve ``organisation``/``ties`` paths (in place) and read them now, so a bad HR export is
    reported as itself (its file, row and problem) rather than as a scenario value."""
    from .orgchart import read_org_chart, read_ties, real_ties, resolve_organisation

    for key in ("organisation", "ties"):
        if isinstance(data.get(key), str):
            data[key] = resolve_organisation(data[key], relative_to=relative_to)
    organisation = data.get("organisation")
    if isinstance(organisation, str) and organisation:
        chart = read_org_chart(organisation)
        ties = data.get("ties")
        ties = real_ties(organisation, ties if isinstance(ties, str) else "")
        if ties:
            read_ties(ties, chart)


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A file path, or the name of a preset in ``scenarios/`` (with or without ``.toml``)."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and (path.exists() or path.is_symlink()):
        return path  # read_toml refuses what is not a regular file
    if path.exists() and path.is_dir():
        raise ScenarioError("is a folder; allowed: a .toml scenario file or a preset name", source=str(path))
    candidate = SCENARIO_DIR / f"{path.stem if path.suffix == '.toml' else path.name}.toml"
    if path.parent == Path(".") and candidate.exists():
        return candidate
    if path.exists():
        raise ScenarioError("is not a .toml file; allowed: a .toml scenario file or a preset name", source=str(path))
    raise ScenarioError(f"no such file or preset; allowed presets: {', '.join(preset_names())}",
                        source=str(name_or_path))


def read_toml(path: Path, error: type[UserInputError] = ScenarioError) -> dict[str, Any]:
    """The mapping in a TOML file, or one ``error`` naming the file.

    Refused before reading: anything but a regular file (a FIFO would block forever, a device
    such as /dev/zero never ends) and files over :data:`MAX_FILE_BYTES`. A UTF-8 byte-order mark
    is accepted. Nesting too deep for the parser is an error, not a RecursionError.
    """
    source = str(path)
    try:
        info = os.stat(path)  # follows symlinks: a link to /dev/zero is a device
    except OSError as exc:
        raise error(f"cannot be read ({exc.strerror or exc.__class__.__name__}); allowed: a UTF-8 TOML file",
                    source=source) from None
    if not stat.S_ISREG(info.st_mode):
        raise error("is not a regular file (a pipe, device or socket); allowed: a UTF-8 TOML file",
                    source=source)
    if info.st_size > MAX_FILE_BYTES:
        raise error(f"is {info.st_size:,} bytes; allowed: a TOML file of at most {MAX_FILE_BYTES:,} bytes",
                    source=source)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # the file may grow after stat
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot be read ({exc.__class__.__name__}); allowed: a UTF-8 TOML file",
                    source=source) from None
    if len(raw) > MAX_FILE_BYTES:
        raise error(f"is over {MAX_FILE_BYTES:,} bytes; allowed: a smaller TOML file", source=source)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"is not valid TOML ({exc})", source=source) from None
    except RecursionError:
        raise error("is nested too deeply to read; allowed: a flat TOML file of levers and tables",
                    source=source) from None


def load_scenario(name_or_path: str | Path, **overrides: Any) -> Scenario:
    """Load and validate a scenario file or a named preset, with optional lever overrides."""
    path = resolve_scenario_path(name_or_path)
    data = read_toml(path)
    # A scenario's organisation file is found beside it, wherever it is run from.
    for key in ("organisation", "ties"):
        if isinstance(data.get(key), str):
            from .orgchart import resolve_organisation

            data[key] = resolve_organisation(data[key], relative_to=path.parent)
    data.update(overrides)
    return make_scenario(data, source=str(path))


def preset_names() -> list[str]:
    """Names of the presets shipped in ``scenarios/``."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def preset_summary(name: str) -> str:
    """The first comment line of a preset file (its one-line description)."""
    for line in (SCENARIO_DIR / f"{name}.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""


def to_toml(scenario: Scenario) -> str:
    """The scenario as a TOML document (every key written, so a file is self-contained).

    Unset optional fields of waves and shocks (a wave's ``share``) are left out: TOML has no null.
    """
    import tomli_w

    data = scenario.to_dict()
    for name in ("waves", "shocks"):
        data[name] = [{k: v for k, v in item.items() if v is not None} for item in data[name]]
    return tomli_w.dumps(data)
