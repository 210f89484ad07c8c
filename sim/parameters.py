"""Scenario keys, grouped: the organisation, the mechanism switches, the strategy levers, economics
and the verdict. Behavioural parameters (how people respond) are in :mod:`sim.behaviour`.

Every key has a default, one name in TOML files, the code and the docs (docs/MODEL.md), a
documented range and the article it comes from. The groups matter: a **strategy** is only a
bundle of strategy levers and a schedule (the presets in ``scenarios/``); the **organisation**
keys describe the firm and its market (what differs between the organisations a survey measured);
**behavioural parameters** are what calibration fits; **switches** turn a whole mechanism off.

Sources (../shared/seeds): 000 Hinchcliffe & Kim, the three tenets; 001 Dent, "provide and pray"
vs a compelling purpose; 002 "A Means to an End", acting human; 003 HBR/Darmano, silos, listening
and co-creation; 004 "The journey ... starts from within", leaders and stepwise rollout.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: The groups a scenario key belongs to, in display order.
GROUPS = ("identity", "organisation", "strategy", "behaviour", "switch", "economics", "verdict")


def lever(default: Any, *, ge: float | None = None, le: float | None = None, group: str,
          mechanism: str, source: str, doc: str, why: str = "", **kw: Any) -> Any:
    """A scenario field with its group, range, mechanism, source article and explanation.

    ``why`` says why the default is what it is (required for behavioural parameters).
    """
    if group not in GROUPS:  # pragma: no cover - a developer error, caught at import
        raise ValueError(f"unknown group {group!r}")
    return Field(default, ge=ge, le=le, description=doc,
                 json_schema_extra={"group": group, "mechanism": mechanism, "source": source, "why": why},
                 **kw)


class _Keys(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class IdentityKeys(_Keys):
    """Name and description (not part of the scenario hash)."""

    name: str = Field("custom", description="short name of the scenario",
                      json_schema_extra={"group": "identity", "mechanism": "", "source": "", "why": ""})
    description: str = Field("", description="one-paragraph description",
                             json_schema_extra={"group": "identity", "mechanism": "", "source": "", "why": ""})


def _org(default: Any, **kw: Any) -> Any:
    return lever(default, group="organisation", **kw)


class OrganisationKeys(_Keys):
    """The organisation, its market and the horizon: what differs between firms."""

    organisation: str = _org("", mechanism="population", source="issue 10",
                             doc='your organisation: an HR export (CSV with employee_id, department, manager_id, '
                                 'customer_facing), relative to the scenario file, or a shipped example '
                                 '("aucs", "generated_2000"); empty: a generated firm of employees and departments')
    ties: str = _org("", mechanism="population", source="issue 10",
                     doc="real communication ties between its employees (CSV with source, target, optional weight); "
                         "empty: generated inside the real departments (a shipped example brings its own)")
    employees: int = _org(3000, ge=2, le=5_000_000, mechanism="population", source="004",
                          doc="number of employees (leaders included; with an organisation file, its head count)")
    departments: int = _org(12, ge=1, le=10_000, mechanism="population", source="003",
                            doc="number of departments (silos; with an organisation file, its departments)")
    customers: int = _org(30000, ge=0, le=20_000_000, mechanism="population", source="003",
                          doc="number of customers in the market around the company")
    weeks: int = _org(104, ge=1, le=2080, mechanism="population", source="004",
                      doc="simulated horizon in weeks")
    customer_facing_departments: float = _org(
        0.25, ge=0.0, le=1.0, mechanism="population", source="004",
        doc="share of departments that face customers (marketing, sales, service); they come first")
    span_of_control: int = _org(8, ge=1, le=200, mechanism="population", source="004",
                                doc="direct reports per manager in the reporting hierarchy")
    team_ties: int = _org(10, ge=0, le=200, mechanism="population", source="003",
                          doc="ties per employee inside their department (small-world ring lattice)")
    team_rewiring: float = _org(0.1, ge=0.0, le=1.0, mechanism="population", source="003",
                                doc="share of team ties rewired to random colleagues in the same department")
    cross_silo_ties: float = _org(1.0, ge=0.0, le=100.0, mechanism="population", source="003",
                                  doc="mean ties per employee into other departments at the start (low = strong silos)")
    informal_leader_share: float = _org(0.02, ge=0.0, le=0.5, mechanism="4 leaders as role models", source="004",
                                        doc="share of non-managers who are informal leaders (most connected)")
    customer_degree: float = _org(6.0, ge=0.0, le=200.0, mechanism="7 customers", source="003",
                                  doc="mean word-of-mouth ties per customer (heavy-tailed)")
    customer_degree_exponent: float = _org(2.5, ge=2.05, le=6.0, mechanism="7 customers", source="003",
                                           doc="power-law exponent of the customer degree distribution")
    contacts_per_facing_employee: int = _org(
        20, ge=0, le=100_000, mechanism="7 customers", source="003",
        doc="customers each customer-facing employee is in contact with")
    workforce_effort: float = _org(
        1.0, ge=0.3, le=3.0, mechanism="0 participation rule", source="brief (Gartner)",
        doc="how much of an effort taking part is for this workforce, relative to a typical one (multiplies every "
            "personal bar: deskless or frontline staff above 1, staff who live in digital tools below 1)")
    initial_safety: float = _org(0.7, ge=0.0, le=1.0, mechanism="6 culture", source="002",
                                 doc="psychological safety at the start (and the level it drifts back to)")
    initial_trust: float = _org(0.5, ge=0.0, le=1.0, mechanism="7 customers", source="002",
                                doc="customers' mean trust in the company at the start")
    problem_rate: float = _org(0.05, ge=0.0, le=1.0, mechanism="7 customers", source="002",
                               doc="weekly chance a customer runs into a problem")
    support_answer_rate: float = _org(0.5, ge=0.0, le=1.0, mechanism="7 customers", source="003",
                                      doc="weekly chance classic support solves a problem")
    turnover_rate: float = _org(0.0025, ge=0.0, le=0.2, mechanism="12 dynamics", source="brief",
                                doc="weekly chance an employee leaves and is replaced by a newcomer "
                                    "(0.0025 is about 12% a year)")


def _switch(doc: str, mechanism: str, source: str) -> Any:
    return lever(True, group="switch", mechanism=mechanism, source=source, doc=doc)


class SwitchKeys(_Keys):
    """One switch per mechanism: ``false`` turns the whole mechanism off."""

    use_barriers: bool = _switch("model access and posting friction (off: everyone has access from week 0, "
                                 "whatever the waves, and no friction)", "1 anyone can participate", "000, 001")
    use_network_effect: bool = _switch("the platform's value grows with active colleagues and reusable "
                                       "knowledge; reputation feeds posting; weak ties grow",
                                       "2 network effect", "000")
    use_purpose: bool = _switch("a purpose motivates people and is passed down the hierarchy", "3 purpose",
                                "001, 004")
    use_role_models: bool = _switch("what leaders are seen to do is a signal along the hierarchy",
                                    "4 leaders as role models", "004")
    use_peer_influence: bool = _switch("people join when enough of their own contacts are visibly active",
                                       "5 peer influence", "brief (Centola)")
    use_culture: bool = _switch("public mistakes, blame and candour move psychological safety and trust",
                                "6 culture", "002")
    use_customers: bool = _switch("customers become aware, join, ask, trust, advocate or detract",
                                  "7 customers", "000, 002, 003")
    use_customer_feedback: bool = _switch("what happens with customers feeds back on staff: praise for public "
                                          "answers, demoralising unanswered questions, crises",
                                          "7 customers", "003, 004")
    use_productivity: bool = _switch("creative, connective and compounding gains for participants",
                                     "8 productivity", "002")
    use_listening: bool = _switch("customer signals and ideas are captured and become innovations",
                                  "9 listening", "003")
    use_rollout: bool = _switch("follow the wave schedule (off: everyone has access from week 0)",
                                "10 rollout", "004")
    use_shocks: bool = _switch("apply the scheduled shocks", "11 shocks", "003")
    use_turnover: bool = _switch("employees leave and newcomers arrive with no habit", "12 dynamics", "brief")


def _strategy(default: Any, **kw: Any) -> Any:
    return lever(default, group="strategy", **kw)


class StrategyLevers(_Keys):
    """What a rollout strategy chooses (the presets are bundles of these plus waves and shocks)."""

    posting_friction: float = _strategy(0.3, ge=0.0, le=1.0, mechanism="1 anyone can participate", source="001",
                                        doc="compliance review and approval steps before posting (0 none, 1 firewall)")
    access_scope: Literal["everyone", "early_adopters"] = _strategy(
        "everyone", mechanism="10 rollout", source="004",
        doc="who in a wave's departments gets access: everyone, or only self-selected early adopters")
    early_adopter_share: float = _strategy(0.15, ge=0.0, le=1.0, mechanism="10 rollout", source="004",
                                           doc="share of employees who volunteer as early adopters (lowest thresholds)")
    open_by_default: float = _strategy(0.8, ge=0.0, le=1.0, mechanism="2 network effect", source="000",
                                       doc="share of contributions visible to everyone (rest locked in the department)")
    purpose_strength: float = _strategy(0.0, ge=0.0, le=1.0, mechanism="3 purpose", source="001",
                                        doc="how compelling and specific the articulated purpose is (0: none)")
    leader_commitment: float = _strategy(0.5, ge=0.0, le=1.0, mechanism="3 purpose", source="004",
                                         doc="leaders' commitment to the purpose: the clarity they build and pass on")
    leader_participation: float = _strategy(
        0.2, ge=0.0, le=1.0, mechanism="4 leaders as role models", source="004",
        doc="walk the talk: how strongly formal leaders are asked and helped to take part visibly "
            "(adds to their own motivation; they still weigh its costs)")
    blame_culture: float = _strategy(0.3, ge=0.0, le=1.0, mechanism="6 culture", source="002",
                                     doc="share of public mistakes that are blamed (fear and blame)")
    mistake_candour: float = _strategy(0.5, ge=0.0, le=1.0, mechanism="6 culture", source="002",
                                       doc="acting human: how openly mistakes that are not blamed are admitted "
                                           "(rebuilds safety, earns customers' trust)")
    listening: float = _strategy(0.2, ge=0.0, le=1.0, mechanism="9 listening", source="003",
                                 doc="share of customer signals and ideas the company captures")
    idea_adoption: float = _strategy(0.1, ge=0.0, le=1.0, mechanism="9 listening", source="003",
                                     doc="share of captured ideas that become innovations")
    marketing_reach: float = _strategy(0.01, ge=0.0, le=1.0, mechanism="7 customers", source="004",
                                       doc="weekly chance a customer hears of the community from broadcast marketing")
    external_launch_week: int = _strategy(0, ge=0, le=100_000, mechanism="10 rollout", source="004",
                                          doc="week the external customer community opens (beyond the horizon: never)")


def _econ(default: Any, **kw: Any) -> Any:
    return lever(default, group="economics", **kw)


class EconomicsKeys(_Keys):
    """Money: costs and values (reported beside the verdict, not folded into it)."""

    employee_week_value: float = _econ(1.0, ge=0.0, le=1e6, mechanism="value", source="002",
                                       doc="value of one employee-week of work (the money unit)")
    seat_cost: float = _econ(0.02, ge=0.0, le=1e6, mechanism="value", source="001",
                             doc="weekly cost of one employee's platform access")
    programme_cost: float = _econ(0.0, ge=0.0, le=1e9, mechanism="value", source="004",
                                  doc="weekly fixed cost of running the programme")
    leader_time_cost: float = _econ(0.05, ge=0.0, le=1e6, mechanism="value", source="004",
                                    doc="weekly cost of the time of each formal leader who is visibly active (posted within the visibility window)")
    advocate_value: float = _econ(0.02, ge=0.0, le=1e6, mechanism="value", source="003",
                                  doc="weekly value of an advocate (negative for a detractor)")
    innovation_value: float = _econ(5.0, ge=0.0, le=1e9, mechanism="value", source="003",
                                    doc="value of one innovation from a co-created idea")


def _verdict(default: Any, **kw: Any) -> Any:
    return lever(default, group="verdict", **kw)


class VerdictKeys(_Keys):
    """How a run is judged (on the staff who were given access)."""

    success_active_share: float = _verdict(
        0.2, ge=0.0, le=1.0, mechanism="verdict", source="brief (Dachis)",
        doc="share of eligible employees (those with access) contributing at the horizon for success")
    collapse_ratio: float = _verdict(0.5, ge=0.0, le=1.0, mechanism="verdict", source="brief",
                                     doc="final over peak active share below which a community has collapsed")
    final_window: int = _verdict(4, ge=1, le=104, mechanism="verdict", source="brief",
                                 doc="weeks averaged for 'at the horizon' (weekly noise)")
    champion_reputation: float = _verdict(
        100.0, ge=0.0, le=1e9, mechanism="2 network effect", source="000",
        doc="reputation (attention received, views a week, smoothed) at which a contributor counts as a "
            "champion (a label only)")
    min_peak_for_collapse: float = _verdict(0.05, ge=0.0, le=1.0, mechanism="verdict", source="brief",
                                            doc="smallest peak active share that can count as a collapse")
