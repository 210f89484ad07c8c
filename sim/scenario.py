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

from .errors import ScenarioError, UserInputError

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


def lever(default: Any, *, ge: float | None = None, le: float | None = None,
          mechanism: str, source: str, doc: str, **kw: Any) -> Any:
    """A scenario field with its range, mechanism, source article and one-line explanation."""
    return Field(default, ge=ge, le=le, description=doc,
                 json_schema_extra={"mechanism": mechanism, "source": source}, **kw)


class Wave(BaseModel):
    """One rollout wave: at ``week``, give platform access to some departments (004).

    Either ``departments`` ("all", "customer_facing", "internal" or a list of department
    numbers) or ``share``: the first ``ceil(share * departments)`` departments in order, so a
    stepwise schedule written with shares works for any population size.
    """

    model_config = ConfigDict(extra="forbid", strict=True)
    week: int = Field(0, ge=0, description="week the wave starts")
    departments: Literal["all", "customer_facing", "internal"] | list[Annotated[int, Field(ge=0)]] = Field(
        "all", description='"all", "customer_facing", "internal" or a list of department numbers')
    share: float | None = Field(None, gt=0.0, le=1.0,
                                description="instead of departments: the first share of departments")

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


class Scenario(BaseModel):
    """All levers of one run. Construct with keywords or :func:`load_scenario`.

    Unknown keys and out-of-range values are errors, and so are values of the wrong type: the
    model is strict, so ``"0.6"`` is not a number and ``true`` is not a number (an integer is
    accepted where a float is expected). Each field's ``description`` is the one-line
    explanation shown in docs and the dashboard; ``json_schema_extra`` holds the mechanism
    number and the source article.
    """

    # strict=True covers every field, including those added later to the lever list.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)

    # --- identity -------------------------------------------------------------------------
    name: str = Field("custom", description="short name of the scenario")
    description: str = Field("", description="one-paragraph description")

    # --- population and structure (networks) -------------------------------------------------
    employees: int = lever(3000, ge=2, le=5_000_000, mechanism="population", source="004",
                           doc="number of employees (leaders included)")
    departments: int = lever(12, ge=1, le=10_000, mechanism="population", source="003",
                             doc="number of departments (silos)")
    customers: int = lever(30000, ge=0, le=20_000_000, mechanism="population", source="003",
                           doc="number of customers in the market around the company")
    weeks: int = lever(104, ge=1, le=2080, mechanism="population", source="004",
                       doc="simulated horizon in weeks")
    customer_facing_departments: float = lever(
        0.25, ge=0.0, le=1.0, mechanism="population", source="004",
        doc="share of departments that face customers (marketing, sales, service); they come first")
    span_of_control: int = lever(8, ge=1, le=200, mechanism="population", source="004",
                                 doc="direct reports per manager in the reporting hierarchy")
    team_ties: int = lever(10, ge=0, le=200, mechanism="population", source="003",
                           doc="ties per employee inside their department (small-world ring lattice)")
    team_rewiring: float = lever(0.1, ge=0.0, le=1.0, mechanism="population", source="003",
                                 doc="share of team ties rewired to random colleagues in the same department")
    cross_silo_ties: float = lever(1.0, ge=0.0, le=100.0, mechanism="population", source="003",
                                   doc="mean ties per employee into other departments at the start (low = strong silos)")
    informal_leader_share: float = lever(0.02, ge=0.0, le=0.5, mechanism="leaders", source="004",
                                         doc="share of non-managers who are informal leaders (most connected)")
    customer_degree: float = lever(6.0, ge=0.0, le=200.0, mechanism="customers", source="003",
                                   doc="mean word-of-mouth ties per customer (heavy-tailed)")
    customer_degree_exponent: float = lever(2.5, ge=2.05, le=6.0, mechanism="customers", source="003",
                                            doc="power-law exponent of the customer degree distribution")
    contacts_per_facing_employee: int = lever(
        20, ge=0, le=100_000, mechanism="customers", source="003",
        doc="customers each customer-facing employee is in contact with")

    # --- 1. anyone can participate (000 tenet 1; 001 firewall) -------------------------------
    use_barriers: bool = lever(True, mechanism="1 anyone can participate", source="000, 001",
                               doc="model access and posting friction (off: everyone has access from week 0, whatever the waves, and no friction)")
    posting_friction: float = lever(0.3, ge=0.0, le=1.0, mechanism="1 anyone can participate", source="001",
                                    doc="compliance review and approval steps before posting (0 none, 1 firewall)")
    access_scope: Literal["everyone", "early_adopters"] = lever(
        "everyone", mechanism="10 rollout", source="004",
        doc="who in a wave's departments gets access: everyone, or only self-selected early adopters")
    early_adopter_share: float = lever(0.15, ge=0.0, le=1.0, mechanism="10 rollout", source="004",
                                       doc="share of employees who volunteer as early adopters (lowest thresholds)")

    # --- 2. shared value by default and the network effect (000 tenet 2) --------------------
    use_network_effect: bool = lever(True, mechanism="2 network effect", source="000",
                                     doc="the platform's value grows with active colleagues and reusable knowledge")
    open_by_default: float = lever(0.8, ge=0.0, le=1.0, mechanism="2 network effect", source="000",
                                   doc="share of contributions visible to everyone (rest locked in the department)")
    network_value_weight: float = lever(0.3, ge=0.0, le=3.0, mechanism="2 network effect", source="000",
                                        doc="how much the platform's value pulls people into contributing")
    value_saturation: float = lever(5.0, ge=0.1, le=1000.0, mechanism="2 network effect", source="000",
                                    doc="active contacts (or knowledge items per head) at which value is 63% of its maximum")
    knowledge_decay: float = lever(0.02, ge=0.0, le=1.0, mechanism="2 network effect", source="000",
                                   doc="weekly share of the knowledge stock that goes stale")
    contribution_rate: float = lever(1.0, ge=0.0, le=100.0, mechanism="2 network effect", source="000",
                                     doc="posts per week of a contributor with no reputation")
    reputation_feedback: float = lever(0.5, ge=0.0, le=0.95, mechanism="2 network effect", source="000",
                                       doc="virtuous participation cycle: posting grows as (1 + reputation) to this power")
    reputation_decay: float = lever(0.02, ge=0.0, le=1.0, mechanism="2 network effect", source="000",
                                    doc="weekly share of reputation that fades")
    champion_reputation: float = lever(20.0, ge=0.0, le=1e9, mechanism="2 network effect", source="000",
                                       doc="reputation at which a contributor counts as a champion")
    weak_tie_rate: float = lever(0.05, ge=0.0, le=1.0, mechanism="2 network effect", source="002",
                                 doc="weekly chance an open contributor finds and ties to someone in another department")
    max_weak_ties: int = lever(8, ge=0, le=64, mechanism="2 network effect", source="002",
                               doc="most new cross-silo ties one employee can grow")

    # --- 3. purpose (001; 004 "start with intent") -------------------------------------------
    use_purpose: bool = lever(True, mechanism="3 purpose", source="001, 004",
                              doc="a purpose motivates people and is passed down the hierarchy")
    purpose_strength: float = lever(0.0, ge=0.0, le=1.0, mechanism="3 purpose", source="001",
                                    doc="how compelling and specific the articulated purpose is (0: none)")
    purpose_weight: float = lever(0.5, ge=0.0, le=3.0, mechanism="3 purpose", source="001",
                                  doc="how much alignment with the purpose motivates contributing")
    purpose_cascade_rate: float = lever(0.2, ge=0.0, le=1.0, mechanism="3 purpose", source="004",
                                        doc="weekly speed at which clarity passes from a manager to their reports")
    leader_commitment: float = lever(0.5, ge=0.0, le=1.0, mechanism="3 purpose", source="004",
                                     doc="leaders' commitment to the purpose: the clarity they build and pass on")

    # --- 4. leaders as role models (004; 001 "led from the boardroom") -----------------------
    use_role_models: bool = lever(True, mechanism="4 leaders as role models", source="004",
                                  doc="visible leader activity is a social signal to reports and followers")
    leader_participation: float = lever(0.2, ge=0.0, le=1.0, mechanism="4 leaders as role models", source="004",
                                        doc="walk the talk: how far leaders lower their own bar to participate visibly")
    role_model_weight: float = lever(0.3, ge=0.0, le=3.0, mechanism="4 leaders as role models", source="004",
                                     doc="pull of an active manager or executive team on an employee")
    boardroom_weight: float = lever(0.3, ge=0.0, le=1.0, mechanism="4 leaders as role models", source="001",
                                    doc="share of the leader signal that comes from the executive team (rest: own manager)")
    informal_leader_weight: float = lever(2.0, ge=0.0, le=50.0, mechanism="4 leaders as role models", source="004",
                                          doc="extra weight of an informal leader's example among their contacts")

    # --- 5. peer influence as complex contagion -------------------------------------------
    use_peer_influence: bool = lever(True, mechanism="5 peer influence", source="brief (Centola)",
                                     doc="people join when enough of their own contacts are active")
    peer_weight: float = lever(0.5, ge=0.0, le=3.0, mechanism="5 peer influence", source="brief (Centola)",
                               doc="weight of the active share of one's contacts in the decision to contribute")
    threshold_mean: float = lever(0.8, ge=0.0, le=3.0, mechanism="5 peer influence", source="brief (Centola)",
                                  doc="mean personal bar to start contributing (in units of drive)")
    threshold_sd: float = lever(0.35, ge=0.0, le=2.0, mechanism="5 peer influence", source="brief (Centola)",
                                doc="spread of the bars: innovators, majorities and laggards")
    spontaneous_adoption: float = lever(0.002, ge=0.0, le=1.0, mechanism="5 peer influence", source="Bass p",
                                        doc="weekly chance someone starts contributing on their own (Bass p)")
    launch_novelty: float = lever(0.03, ge=0.0, le=1.0, mechanism="5 peer influence", source="001",
                                  doc="extra weekly chance of trying to post right after getting access (the launch buzz)")
    novelty_half_life: float = lever(8.0, ge=0.1, le=1000.0, mechanism="5 peer influence", source="001",
                                     doc="weeks for the launch buzz to halve")
    imitation: float = lever(0.0, ge=0.0, le=1.0, mechanism="5 peer influence", source="Bass q",
                             doc="weekly chance per unit of active-contact share of imitating (Bass q)")
    reading_uptake: float = lever(0.1, ge=0.0, le=1.0, mechanism="5 peer influence", source="brief (SWOOP)",
                                  doc="weekly chance someone with access starts reading")
    lapse_rate: float = lever(0.1, ge=0.0, le=1.0, mechanism="5 peer influence", source="001",
                              doc="weekly chance a contributor whose motivation fell below their bar stops")
    lapse_margin: float = lever(0.1, ge=0.0, le=1.0, mechanism="5 peer influence", source="001",
                                doc="how far below their threshold motivation must fall before someone lapses")
    relapse_penalty: float = lever(0.1, ge=0.0, le=1.0, mechanism="5 peer influence", source="001",
                                   doc="extra bar a lapsed user must clear to come back")

    # --- 6. culture: fear and blame vs acting human (002) -------------------------------------
    use_culture: bool = lever(True, mechanism="6 culture", source="002",
                              doc="public mistakes, blame and fear; candour keeps safety and trust")
    blame_culture: float = lever(0.3, ge=0.0, le=1.0, mechanism="6 culture", source="002",
                                 doc="how much the organisation blames people for public mistakes")
    mistake_rate: float = lever(0.01, ge=0.0, le=1.0, mechanism="6 culture", source="002",
                                doc="chance that one contribution goes wrong in public")
    fear_weight: float = lever(0.4, ge=0.0, le=3.0, mechanism="6 culture", source="002",
                               doc="how much lost psychological safety holds people back")
    fear_contagion: float = lever(0.5, ge=0.0, le=1.0, mechanism="6 culture", source="002",
                                  doc="how much seeing a colleague blamed dents one's own safety")
    safety_recovery: float = lever(0.05, ge=0.0, le=1.0, mechanism="6 culture", source="002",
                                   doc="weekly recovery of safety towards its baseline where blame is low")
    initial_safety: float = lever(0.7, ge=0.0, le=1.0, mechanism="6 culture", source="002",
                                  doc="psychological safety at the start")
    mistake_candour: float = lever(0.5, ge=0.0, le=1.0, mechanism="6 culture", source="002",
                                   doc="acting human: how quickly and openly mistakes are admitted (safety recovers, customers trust)")

    # --- 7. customers (000, 002, 003) ----------------------------------------------------------
    use_customers: bool = lever(True, mechanism="7 customers", source="000, 002, 003",
                                doc="customers become aware, join, ask, trust, advocate or detract")
    external_launch_week: int = lever(0, ge=0, le=100_000, mechanism="10 rollout", source="004",
                                      doc="week the external customer community opens (beyond the horizon: never)")
    marketing_reach: float = lever(0.01, ge=0.0, le=1.0, mechanism="7 customers", source="004",
                                   doc="weekly chance a customer hears of the community from broadcast marketing")
    word_of_mouth: float = lever(0.3, ge=0.0, le=1.0, mechanism="7 customers", source="003",
                                 doc="weekly awareness pull of the share of one's contacts who are members")
    join_rate: float = lever(0.1, ge=0.0, le=1.0, mechanism="7 customers", source="001",
                             doc="weekly chance an aware, trusting customer joins the community")
    problem_rate: float = lever(0.05, ge=0.0, le=1.0, mechanism="7 customers", source="002",
                                doc="weekly chance a customer runs into a problem")
    support_answer_rate: float = lever(0.5, ge=0.0, le=1.0, mechanism="7 customers", source="003",
                                       doc="weekly chance classic support solves a problem")
    answers_per_contributor: float = lever(2.0, ge=0.0, le=1000.0, mechanism="7 customers", source="003",
                                           doc="customer questions one active customer-facing employee answers per week")
    silo_penalty: float = lever(0.5, ge=0.0, le=1.0, mechanism="7 customers", source="003",
                                doc="how much answers suffer when customer-facing staff lack ties into the organisation")
    customer_patience: int = lever(4, ge=1, le=520, mechanism="7 customers", source="003",
                                   doc="weeks a customer waits for an answer before losing trust")
    trust_reversion: float = lever(0.05, ge=0.0, le=1.0, mechanism="7 customers", source="002",
                                   doc="weekly pull of trust back to its baseline (the rest of the relationship)")
    initial_trust: float = lever(0.5, ge=0.0, le=1.0, mechanism="7 customers", source="002",
                                 doc="customers' trust in the company at the start")
    advocate_trust: float = lever(0.75, ge=0.0, le=1.0, mechanism="7 customers", source="003",
                                  doc="trust above which a customer recommends the company")
    detractor_trust: float = lever(0.3, ge=0.0, le=1.0, mechanism="7 customers", source="003",
                                   doc="trust below which a customer broadcasts disapproval")
    detractor_influence: float = lever(0.05, ge=0.0, le=1.0, mechanism="7 customers", source="003",
                                       doc="weekly trust lost per unit share of detractors among one's contacts")
    peer_answer_rate: float = lever(0.02, ge=0.0, le=1.0, mechanism="9 listening", source="001, 003",
                                    doc="weekly chance a trusting member answers a fellow customer's question")

    # --- 8. productivity (002) -------------------------------------------------------------------
    use_productivity: bool = lever(True, mechanism="8 productivity", source="002",
                                   doc="creative, connective and compounding gains for participants")
    creative_gain: float = lever(0.06, ge=0.0, le=1.0, mechanism="8 productivity", source="002",
                                 doc="productivity gain from contributing (share of an employee-week)")
    connective_gain: float = lever(0.08, ge=0.0, le=1.0, mechanism="8 productivity", source="002",
                                   doc="gain from weak ties: finding who knows what")
    compounding_gain: float = lever(0.08, ge=0.0, le=1.0, mechanism="8 productivity", source="002",
                                    doc="gain from reusing earlier work in the knowledge stock")

    # --- 9. social business intelligence and co-creation (003) --------------------------------
    use_listening: bool = lever(True, mechanism="9 listening", source="003",
                                doc="customer signals and ideas are captured and become innovations")
    listening: float = lever(0.2, ge=0.0, le=1.0, mechanism="9 listening", source="003",
                             doc="share of customer signals and ideas the company captures")
    idea_rate: float = lever(0.02, ge=0.0, le=1.0, mechanism="9 listening", source="001, 003",
                             doc="weekly chance a trusting member proposes an idea")
    idea_adoption: float = lever(0.1, ge=0.0, le=1.0, mechanism="9 listening", source="003",
                                 doc="share of captured ideas that become innovations")

    # --- 10. rollout (004) -----------------------------------------------------------------------
    use_rollout: bool = lever(True, mechanism="10 rollout", source="004",
                              doc="follow the wave schedule (off: everyone has access from week 0)")
    waves: tuple[Wave, ...] = Field((Wave(),), description="rollout waves: week and departments",
                                    json_schema_extra={"mechanism": "10 rollout", "source": "004"})

    # --- 11. shocks ------------------------------------------------------------------------------
    use_shocks: bool = lever(True, mechanism="11 shocks", source="003",
                             doc="apply the scheduled shocks")
    shocks: tuple[Shock, ...] = Field((), description="scheduled shocks: week, kind, severity",
                                      json_schema_extra={"mechanism": "11 shocks", "source": "001, 003, 004"})

    # --- economics and verdict -------------------------------------------------------------------
    employee_week_value: float = lever(1.0, ge=0.0, le=1e6, mechanism="value", source="002",
                                       doc="value of one employee-week of work (the money unit)")
    seat_cost: float = lever(0.02, ge=0.0, le=1e6, mechanism="value", source="001",
                             doc="weekly cost of one employee's platform access")
    programme_cost: float = lever(0.0, ge=0.0, le=1e9, mechanism="value", source="004",
                                  doc="weekly fixed cost of running the programme")
    leader_time_cost: float = lever(0.05, ge=0.0, le=1e6, mechanism="value", source="004",
                                    doc="weekly cost of the time of each formal leader who is actively contributing")
    advocate_value: float = lever(0.02, ge=0.0, le=1e6, mechanism="value", source="003",
                                  doc="weekly value of an advocate (negative for a detractor)")
    innovation_value: float = lever(5.0, ge=0.0, le=1e9, mechanism="value", source="003",
                                    doc="value of one innovation from a co-created idea")
    success_active_share: float = lever(0.2, ge=0.0, le=1.0, mechanism="verdict", source="brief (Dachis)",
                                        doc="share of employees actively contributing at the horizon for success")
    collapse_ratio: float = lever(0.5, ge=0.0, le=1.0, mechanism="verdict", source="brief",
                                  doc="final over peak contributors below which a community has collapsed")

    @field_validator("waves", "shocks", mode="before")
    @classmethod
    def _lists_to_tuples(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

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
                bad = [d for d in wave.departments if d >= self.departments]
                if bad:
                    raise ValueError(f"waves[{i}].departments: department {bad[0]} does not exist; "
                                     f"allowed: 0 to {self.departments - 1}")
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

    def scenario_hash(self) -> str:
        """A short, stable hash of every value (name and description excluded)."""
        data = _without_negative_zero(self.to_dict())
        data.pop("name", None)
        data.pop("description", None)
        blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_levers(self, **changes: Any) -> "Scenario":
        """A copy with some values changed, validated (raises :class:`ScenarioError`)."""
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
    """One row per scenario key: name, default, range, mechanism, source, explanation."""
    rows = []
    for name, field in Scenario.model_fields.items():
        extra = field.json_schema_extra or {}
        ge = le = None
        for meta in field.metadata:
            ge = getattr(meta, "ge", ge)
            le = getattr(meta, "le", le)
        rows.append({"name": name, "default": field.default, "ge": ge, "le": le,
                     "mechanism": extra.get("mechanism", ""), "source": extra.get("source", ""),
                     "doc": field.description or ""})
    return rows


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
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return loc, f"{given!r} is not an integer; allowed: an integer" + _range_of(err["loc"])
    if kind in ("float_type", "float_parsing"):
        return loc, f"{given!r} is not a number; allowed: a number" + _range_of(err["loc"])
    if kind in ("bool_type", "bool_parsing"):
        return loc, f"{given!r} is not true or false; allowed: true, false"
    if kind == "string_type":
        return loc, f"{given!r} is not text; allowed: a quoted string"
    if kind in ("list_type", "tuple_type"):
        return loc, f"{given!r} is not a list; allowed: a list of tables ([[{loc}]])"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return loc, f"{given!r} is not a table; allowed: a TOML table"
    return loc, f"{given!r}: {err['msg'].lower()}"


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
    try:
        return Scenario(**data)
    except ValidationError as exc:
        key, message = first_problem(exc, _describe_error)
        raise ScenarioError(message, source=source, key=key or None) from None
    except TypeError as exc:  # e.g. a key that is not a string
        raise ScenarioError(str(exc), source=source) from None


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
