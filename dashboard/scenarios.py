"""Scenarios in the dashboard: the URL scheme, uploaded files, the population guard, TOML text.

URL scheme (``st.query_params``, every value a string)::

    ?preset=provide_and_pray&posting_friction=0.2&use_culture=false&seed=7&replicates=5

``preset`` names the base (a preset in ``scenarios/``; absent: the documented defaults); every
other scenario key is a lever whose value differs from the base. Numbers and booleans are
written as JSON (``0.2``, ``true``), text as itself, ``waves``/``shocks`` as compact JSON.
``seed`` and ``replicates`` are the run settings; ``calibrated=false`` (every page) says the
visitor switched calibrated behaviour off (:mod:`dashboard.calibration`). Everything goes through
:func:`sim.make_scenario`, so a value the CLI would refuse is refused here with the same
one-line message.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dashboard.organisation import check_served
from sim.errors import ScenarioError, UserInputError
from sim.scenario import (
    LEVER_NAMES,
    POPULATIONS,
    Scenario,
    load_scenario,
    make_scenario,
    preset_names,
    to_toml,
)

#: Uploaded scenario files larger than this are refused (a scenario file is a few kB).
MAX_UPLOAD_BYTES = 100_000
#: Query parameters that are not scenario keys.
RUN_PARAMS = ("preset", "seed", "replicates", "population", "strategies", "step", "calibrated")
#: Longest value accepted from the URL (waves and shocks are JSON lists).
MAX_PARAM_CHARS = 4_000
MAX_SEED = 2**32 - 1
MAX_REPLICATES = 50
#: Rough memory per agent (employee or customer) of one model, in bytes, with headroom.
BYTES_PER_AGENT = 600
#: Most agents (employees + customers) the dashboard runs; the command line has no such limit.
DEFAULT_MAX_AGENTS = 2_000_000
#: Most agent-weeks (agents x weeks x replicates) of one request in the dashboard.
MAX_AGENT_WEEKS = 500_000_000


def default_population() -> str:
    """The population size preselected in the pages (``SOCIALSIM_DASHBOARD_POPULATION``)."""
    name = os.environ.get("SOCIALSIM_DASHBOARD_POPULATION", "default").strip()
    return name if name in POPULATIONS else "default"


def base_scenario(preset: str | None) -> Scenario:
    """A preset's scenario, or the defaults for None."""
    if not preset:
        return Scenario()
    if preset not in preset_names():
        shown = preset if len(preset) <= 60 else f"{preset[:60]}... ({len(preset):,} characters)"
        raise ScenarioError(f"unknown preset {shown!r}; allowed: {', '.join(preset_names())}",
                            source="address (URL)", key="preset")
    return load_scenario(preset)


def _encode(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _decode(key: str, text: str) -> Any:
    if len(text) > MAX_PARAM_CHARS:
        raise ScenarioError(f"value of {len(text)} characters is too long; allowed: at most {MAX_PARAM_CHARS}",
                            source="address (URL)", key=key)
    field = Scenario.model_fields.get(key)
    if field is not None and field.annotation is str:
        return text
    if field is not None and key not in ("waves", "shocks") and text in getattr(field.annotation, "__args__", ()):
        return text  # a Literal choice such as access_scope=everyone
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text  # let the scenario's validation say what is allowed
    if isinstance(value, float) and not math.isfinite(value):
        raise ScenarioError(f"{text!r} is not a finite number", source="address (URL)", key=key)
    return value


def differences(scenario: Scenario, base: Scenario) -> dict[str, Any]:
    """Scenario keys whose value differs from ``base`` (description left out)."""
    mine, theirs = scenario.to_dict(), base.to_dict()
    return {k: v for k, v in mine.items() if k != "description" and v != theirs.get(k)}


def to_query(preset: str | None, scenario: Scenario, **run: Any) -> dict[str, str]:
    """The query parameters that reproduce ``scenario`` (and the run settings) from ``preset``."""
    params = {"preset": preset} if preset else {}
    params.update({k: _encode(v) for k, v in differences(scenario, base_scenario(preset)).items()})
    params.update({k: str(v) for k, v in run.items() if v is not None})
    return params


@dataclass
class FromQuery:
    """What the address asked for: the base preset, the scenario, run settings, and any error."""

    preset: str | None
    scenario: Scenario
    seed: int | None = None
    replicates: int | None = None
    error: str | None = None


def _int_param(params: Mapping[str, str], key: str, low: int, high: int) -> int | None:
    if key not in params:
        return None
    text = str(params[key])
    try:
        value = int(text)
    except ValueError:
        raise UserInputError(f"{text[:40]!r} is not a whole number; allowed: {low} to {high}",
                             source="address (URL)", key=key) from None
    if not low <= value <= high:
        raise UserInputError(f"{value} is out of range; allowed: {low} to {high}", source="address (URL)", key=key)
    return value


def from_query(params: Mapping[str, str], fallback_preset: str = "provide_and_pray") -> FromQuery:
    """Parse the address's parameters; on any error, the preset alone (or ``fallback_preset``) and the message."""
    preset = params.get("preset") or None
    try:
        base = base_scenario(preset)
    except UserInputError as exc:
        return FromQuery(fallback_preset, base_scenario(fallback_preset), error=str(exc))
    try:
        seed = _int_param(params, "seed", 0, MAX_SEED)
        replicates = _int_param(params, "replicates", 1, MAX_REPLICATES)
        levers = {k: _decode(k, str(v)) for k, v in params.items() if k not in RUN_PARAMS}
        unknown = [k for k in levers if k not in LEVER_NAMES]
        if unknown:
            raise ScenarioError("unknown key; allowed keys are listed by `socialsim levers` and docs/levers.md",
                                source="address (URL)", key=unknown[0][:60])
        check_served(levers, "address (URL)")
        scenario = make_scenario({**base.to_dict(), **levers}, source="address (URL)") if levers else base
        check_population(scenario)
    except UserInputError as exc:
        return FromQuery(preset, base, error=str(exc))
    return FromQuery(preset, scenario, seed=seed, replicates=replicates)


def parse_upload(name: str, data: bytes) -> Scenario:
    """Validate an uploaded scenario file (size, encoding, TOML, every value, population)."""
    source = f"uploaded file {name[:80]!r}"
    if len(data) > MAX_UPLOAD_BYTES:
        raise ScenarioError(f"is {len(data):,} bytes; allowed: a scenario file of at most {MAX_UPLOAD_BYTES:,} bytes",
                            source=source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("is not UTF-8 text; allowed: a UTF-8 TOML scenario file", source=source) from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"is not valid TOML ({' '.join(str(exc).split())})", source=source) from None
    except (RecursionError, MemoryError, ValueError):
        raise ScenarioError("cannot be read as TOML (nested too deeply or too large)", source=source) from None
    if not table:
        raise ScenarioError("holds no scenario keys; allowed: levers as in `socialsim levers`", source=source)
    check_served(table, source)
    scenario = make_scenario(table, source=source)
    check_population(scenario)
    return scenario


def max_agents() -> int:
    """Most agents one dashboard run may hold: 2M, or less on a machine with little memory."""
    limit = DEFAULT_MAX_AGENTS
    text = os.environ.get("SOCIALSIM_DASHBOARD_MAX_AGENTS", "").strip()
    if text.isdigit():
        limit = int(text)
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        limit = min(limit, int(memory * 0.25 / BYTES_PER_AGENT))
    except (ValueError, OSError, AttributeError):
        pass
    return max(1, limit)


def check_population(scenario: Scenario, replicates: int = 1) -> None:
    """Refuse a scenario too large for an interactive dashboard, with a pointer to the CLI."""
    agents = scenario.employees + (scenario.customers if scenario.use_customers else 0)
    limit = max_agents()
    if agents > limit:
        raise UserInputError(
            f"{scenario.employees:,} employees + {scenario.customers:,} customers = {agents:,} agents is too many "
            f"for the dashboard on this machine; allowed: at most {limit:,} agents. Run it from the command line "
            "instead: socialsim run SCENARIO --set employees=... (it has a progress bar and no such limit)",
            key="population")
    work = agents * scenario.weeks * replicates
    if work > MAX_AGENT_WEEKS:
        raise UserInputError(
            f"{replicates} run(s) of {agents:,} agents over {scenario.weeks} weeks is too long for the dashboard; "
            f"allowed: agents x weeks x replicates up to {MAX_AGENT_WEEKS:,}. Use fewer replicates or weeks, or "
            "the command line (socialsim compare ... --replicates N)", key="population")


def toml_text(scenario: Scenario) -> str:
    """The scenario as a TOML file (:func:`sim.scenario.to_toml`)."""
    return to_toml(scenario)


# ------------------------------------------------------------------ what differs
def _value(name: str, value: object) -> str:
    if name == "waves":
        return "; ".join(f"week {w['week']}: " + (f"first {w['share']:.0%} of departments" if w.get("share") else
                                                  str(w["departments"])) for w in value) or "none"
    if name == "shocks":
        return "; ".join(f"week {s['week']}: {s['kind']} ({s['severity']})" for s in value) or "none"
    return str(value)


def lever_table(chosen: dict[str, Scenario]) -> pd.DataFrame:
    """The levers whose values differ between the strategies, with their meaning."""
    dicts = {label: s.to_dict() for label, s in chosen.items()}
    rows = []
    for name in Scenario.model_fields:
        if name in ("name", "description"):
            continue
        values = [d[name] for d in dicts.values()]
        if any(v != values[0] for v in values[1:]):
            meaning = Scenario.model_fields[name].description or ""
            rows.append({"lever": name, "meaning": meaning,
                         **{label: _value(name, d[name]) for label, d in dicts.items()}})
    return pd.DataFrame(rows)
