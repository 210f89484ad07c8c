"""Mesa agents as thin views on the model's arrays.

The state of every person lives in numpy arrays owned by the model (struct of arrays), so the
kernels can sweep it. These classes give each row a face so that ``model.agents``,
``AgentSet.select``, ``groupby`` and Mesa's ``DataCollector`` work as Mesa users expect:
reading an attribute reads the row, nothing is copied. Views are created the first time
someone asks for agents (a run that never looks at agents does not pay for a million Python
objects).

Roles follow the model brief: employees with a department (silo), leaders (formal: executives
and managers along the reporting hierarchy; informal: central people who are not managers,
004) and customers (000, 002, 003).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from .kernels import CHAMPION, CONTRIBUTOR, STAGE_NAMES

if TYPE_CHECKING:  # pragma: no cover
    from .model import SocialBusinessModel


class Employee(mesa.Agent):
    """An employee: a view on row ``row`` of the model's employee arrays."""

    def __init__(self, model: "SocialBusinessModel", row: int):
        super().__init__(model)
        self.row = row

    @property
    def department(self) -> int:
        """Department (silo) number."""
        return int(self.model.org.department[self.row])

    @property
    def customer_facing(self) -> bool:
        """Works in a customer-facing department."""
        return bool(self.model.org.customer_facing[self.row])

    @property
    def stage(self) -> str:
        """Participation stage: non_user, reader, contributor, champion or lapsed."""
        return STAGE_NAMES[self.model.state.stage[self.row]]

    @property
    def is_active(self) -> bool:
        """Contributes (contributor or champion)."""
        return int(self.model.state.stage[self.row]) in (CONTRIBUTOR, CHAMPION)

    @property
    def has_access(self) -> bool:
        """Has access to the platform."""
        return bool(self.model.state.has_access[self.row])

    @property
    def alignment(self) -> float:
        """Alignment with the purpose, 0 to 1."""
        return float(self.model.state.alignment[self.row])

    @property
    def safety(self) -> float:
        """Psychological safety, 0 to 1."""
        return float(self.model.state.safety[self.row])

    @property
    def threshold(self) -> float:
        """Personal adoption threshold."""
        return float(self.model.state.threshold[self.row])

    @property
    def habit(self) -> float:
        """Posting habit, 0 (none) to 1 (fully formed): lowers the effort of contributing."""
        return float(self.model.state.habit[self.row])

    @property
    def propensity(self) -> float:
        """Personal propensity to write (lognormal, mean 1)."""
        return float(self.model.state.propensity[self.row])

    @property
    def writer(self) -> bool:
        """Would ever write (lurkers by disposition never start contributing; docs/MODEL.md 5.3.2)."""
        return bool(self.model.state.writer[self.row])

    @property
    def reputation(self) -> float:
        """Reputation: attention received (views a week, smoothed)."""
        return float(self.model.state.reputation[self.row])

    @property
    def contributions(self) -> int:
        """Cumulative contributions."""
        return int(self.model.state.contributions[self.row])

    @property
    def productivity_gain(self) -> float:
        """This week's productivity gain, as a share of an employee-week."""
        return float(self.model.state.productivity[self.row])

    @property
    def manager(self) -> int:
        """Row of this person's manager (-1 for the CEO)."""
        return int(self.model.org.manager[self.row])

    @property
    def role(self) -> str:
        """'executive', 'manager', 'informal_leader' or 'employee'."""
        org = self.model.org
        if org.is_executive[self.row]:
            return "executive"
        if org.is_manager[self.row]:
            return "manager"
        if org.is_informal_leader[self.row]:
            return "informal_leader"
        return "employee"


class Leader(Employee):
    """An employee with a formal role (executive, manager) or an informal one (004)."""

    @property
    def formal(self) -> bool:
        """Executive or manager (as opposed to an informal leader)."""
        return self.role in ("executive", "manager")

    @property
    def commitment(self) -> float:
        """The leader's commitment to the purpose (the lever in force, shocks included)."""
        return float(self.model.levers["leader_commitment"])


class Customer(mesa.Agent):
    """A customer: a view on row ``row`` of the model's customer arrays."""

    def __init__(self, model: "SocialBusinessModel", row: int):
        super().__init__(model)
        self.row = row

    @property
    def aware(self) -> bool:
        """Knows the company's community."""
        return bool(self.model.customer_state.aware[self.row])

    @property
    def member(self) -> bool:
        """Has joined the community."""
        return bool(self.model.customer_state.member[self.row])

    @property
    def trust(self) -> float:
        """Trust in the company, 0 to 1."""
        return float(self.model.customer_state.trust[self.row])

    @property
    def sentiment(self) -> str:
        """'advocate', 'neutral' or 'detractor'."""
        return ("detractor", "neutral", "advocate")[int(self.model.customer_state.sentiment[self.row]) + 1]

    @property
    def open_problem(self) -> bool:
        """Has a problem waiting for an answer."""
        return bool(self.model.customer_state.problem_age[self.row] >= 0)

    @property
    def answers(self) -> int:
        """Answers given to fellow customers so far (co-creation)."""
        return int(self.model.customer_state.answers[self.row])

    @property
    def ideas(self) -> int:
        """Ideas contributed so far (co-creation)."""
        return int(self.model.customer_state.ideas[self.row])
