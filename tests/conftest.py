"""Shared fixtures: small scenarios that exercise every mechanism quickly."""

from __future__ import annotations

import pytest

from sim.scenario import Scenario


def small(**levers) -> Scenario:
    """A small organisation with every mechanism on (turnover too), a three-wave rollout (one scattered)
    and one of each shock."""
    base = dict(
        name="small-test", employees=240, departments=4, customers=1500, weeks=40,
        purpose_strength=0.7, leader_commitment=0.7, leader_participation=0.5,
        posting_friction=0.2, external_launch_week=5, contacts_per_facing_employee=10,
        waves=[{"week": 0, "departments": [0, 1]}, {"week": 3, "departments": [2], "spread": "scattered"},
               {"week": 6, "departments": "all"}],
        shocks=[{"week": 12, "kind": "crisis", "severity": 0.6},
                {"week": 15, "kind": "viral_mistake", "severity": 0.5},
                {"week": 20, "kind": "leader_leaves", "severity": 0.4},
                {"week": 30, "kind": "compliance_clampdown", "severity": 0.5}],
        mistake_rate=0.05, weak_tie_rate=0.3, turnover_rate=0.01,
    )
    base.update(levers)
    # Schedule entries at or after the horizon are refused (they could never act): a shorter
    # test horizon keeps only the entries within it.
    for name in ("waves", "shocks"):
        base[name] = [item for item in base[name] if item["week"] < base["weeks"]]
    return Scenario(**base)


@pytest.fixture
def small_scenario() -> Scenario:
    return small()


def one_line_error(result, *needles: str) -> None:
    """A CLI result that failed as users are promised: exit 2, one line on stderr, naming ``needles``."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
