"""What the advisor may move, and what moving it costs.

The strategy levers (:class:`sim.parameters.StrategyLevers`) plus one rollout-schedule choice are
the advisor's search space; behavioural parameters and organisation keys never are (a plan is a
strategy: what a company can decide, not how its people respond or who they are).

**The cost model** (stated in the README, "The strategy advisor"). A plan's cost is the one-off
effort of moving the levers from the user's current scenario, in employee-weeks (the model's
money unit, ``employee_week_value``), for the organisation's size:

    cost = sum over moved levers of  unit_cost x |change| x employees / 100

where ``unit_cost`` is the effort per 100 employees of moving the lever by its whole range in the
costly direction (:data:`COSTS`, each with its reason); moving a lever the cheap way (for example
raising posting friction, or dropping a purpose) costs nothing. Leaders' walking the talk is
priced by the scenario's own economics instead: their time over the horizon
(``leader_time_cost`` x formal leaders x weeks x the change in ``leader_participation``). The
numbers are the developers' order-of-magnitude judgements (sources: 001 on compliance review, 004
on leaders' time and stepwise programmes, 002 on culture change); they rank plans, and a user with
better figures can pass their own (:func:`plan_cost` takes a ``costs`` mapping).

Sources (../shared/seeds): 001 Dent, compliance firewall vs purpose; 002 acting human; 003
listening and co-creation; 004 leaders and stepwise rollout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..parameters import StrategyLevers

#: Rollout schedule choices: keep the scenario's waves, give everyone access in week 0, or open
#: the departments in four waves, 8 weeks apart (the stepwise rollout of 004).
ROLLOUTS = ("as_is", "big_bang", "stepwise")


@dataclass(frozen=True)
class Cost:
    """Effort (employee-weeks per 100 employees) of moving a lever by its whole range the costly way."""

    unit: float
    costly: str  # "up" or "down": the direction that costs
    why: str


COSTS: dict[str, Cost] = {
    "posting_friction": Cost(1.5, "down", "redesigning compliance review and approval steps (legal, IT, managers' time; 001)"),
    "open_by_default": Cost(0.5, "up", "reorganising groups and permissions so work is shared by default"),
    "purpose_strength": Cost(2.0, "up", "articulating a compelling, specific purpose: workshops and communication (001)"),
    "leader_commitment": Cost(1.0, "up", "leaders' time to understand and pass on the purpose (004)"),
    "blame_culture": Cost(3.0, "down", "culture change away from blame is slow and costly (002)"),
    "mistake_candour": Cost(1.0, "up", "training and modelling candour about mistakes (002)"),
    "listening": Cost(2.0, "up", "staff who monitor and route customer signals (003)"),
    "idea_adoption": Cost(2.0, "up", "turning captured ideas into innovations (003)"),
    "marketing_reach": Cost(20.0, "up", "broadcast marketing of the community; the whole range is a weekly chance of "
                                        "1 that every customer hears of it"),
    "early_adopter_share": Cost(0.2, "up", "recruiting and supporting volunteers"),
    "access_scope": Cost(0.0, "up", "a choice of who gets access, no effort of its own"),
    "external_launch_week": Cost(0.0, "up", "a date, no effort of its own"),
    "rollout": Cost(0.5, "up", "programme management of a stepwise rollout (004); big bang and as-is cost nothing"),
}
#: Priced by the scenario's economics (leader time over the horizon), not by :data:`COSTS`.
LEADER_TIME = "leader_participation"

#: Every lever the advisor can move, in display order.
ADVISABLE: tuple[str, ...] = (
    "purpose_strength", "leader_commitment", LEADER_TIME, "posting_friction", "open_by_default",
    "blame_culture", "mistake_candour", "listening", "idea_adoption", "marketing_reach", "access_scope",
    "early_adopter_share", "external_launch_week", "rollout",
)


def lever_domain(name: str, weeks: int) -> tuple[str, Any]:
    """(kind, domain) of a lever: ("float", (low, high)), ("int", (low, high)) or ("choice", options)."""
    if name == "rollout":
        return "choice", ROLLOUTS
    if name == "access_scope":
        return "choice", ("everyone", "early_adopters")
    if name == "external_launch_week":
        return "int", (0, int(weeks))  # beyond the horizon is the same as the horizon: never
    field = StrategyLevers.model_fields[name]
    low = next(m.ge for m in field.metadata if hasattr(m, "ge"))
    high = next(m.le for m in field.metadata if hasattr(m, "le"))
    return "float", (float(low), float(high))


def check_levers(levers: Sequence[str], source: str = "--levers") -> tuple[str, ...]:
    """The levers a user allows, checked; raises :class:`~sim.errors.UserInputError` on a bad one."""
    from ..errors import UserInputError

    chosen = tuple(dict.fromkeys(str(name).strip() for name in levers if str(name).strip()))
    if not chosen:
        raise UserInputError(f"no lever allowed; allowed: a comma-separated list of {', '.join(ADVISABLE)}",
                             source=source)
    for name in chosen:
        if name not in ADVISABLE:
            raise UserInputError(f"{name!r} is not a lever the advisor can move; allowed: {', '.join(ADVISABLE)}",
                                 source=source, key=name)
    return chosen


#: The stepwise rollout: a quarter of the departments more every 8 weeks (as the purpose-led
#: stepwise preset; shares, so it fits any organisation; customer-facing departments come first).
STEPWISE_WAVES = ({"week": 0, "share": 0.25}, {"week": 8, "share": 0.5}, {"week": 16, "share": 0.75},
                  {"week": 24, "share": 1.0})


def apply_plan(base: Any, values: Mapping[str, Any]) -> Any:
    """The base scenario with a plan's lever values (``rollout`` becomes waves)."""
    changes = {k: v for k, v in values.items() if k != "rollout"}
    rollout = values.get("rollout", "as_is")
    if rollout == "big_bang":
        changes["waves"] = [{"week": 0, "departments": "all"}]
    elif rollout == "stepwise":
        changes["waves"] = [dict(w) for w in STEPWISE_WAVES]
    return base.with_levers(**changes)


def current_values(base: Any, levers: Sequence[str]) -> dict[str, Any]:
    """The user's scenario's values of the levers (``rollout``: as it is)."""
    return {name: ("as_is" if name == "rollout" else getattr(base, name)) for name in levers}


def formal_leaders(base: Any) -> float:
    """Formal leaders (managers and executives) of an organisation: counted in an imported chart,
    else about one per ``span_of_control`` employees of a generated one."""
    if base.organisation:
        from ..orgchart import read_org_chart

        chart = read_org_chart(base.organisation)
        return float((chart.is_manager | chart.is_executive).sum())
    return max(1.0, base.employees / max(1, base.span_of_control))


def plan_cost(base: Any, values: Mapping[str, Any], costs: Mapping[str, Cost] = COSTS) -> float:
    """The plan's one-off cost in employee-weeks (see the module docstring)."""
    total = 0.0
    scale = base.employees / 100.0
    for name, value in values.items():
        if name == "rollout":
            total += costs["rollout"].unit * scale * (value == "stepwise")
            continue
        current = getattr(base, name)
        if name == "access_scope":
            continue
        if name == LEADER_TIME:
            total += max(0.0, float(value) - float(current)) * base.leader_time_cost * formal_leaders(base) * base.weeks
            continue
        kind, domain = lever_domain(name, base.weeks)
        width = (domain[1] - domain[0]) or 1.0
        change = (float(value) - float(current)) / width
        cost = costs[name]
        moved = max(0.0, change) if cost.costly == "up" else max(0.0, -change)
        total += cost.unit * moved * scale
    return float(total)
