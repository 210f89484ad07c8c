"""Write a generated 2,000-person org chart in the form an HR export takes.

Not a real firm: a plausible mid-sized company to show (and test) an import at a realistic size,
with what generated organisations lack: departments of very different sizes with names, uneven
spans of control (3 to 12 reports, drawn per manager), a deeper chain in the big departments,
and rows in no particular order (an export sorted by surname, not by the chain). Sales, Customer
Service and Marketing face customers. There is no ties file: the model generates ties inside
these real departments.

    python examples/make_org_chart.py [--seed 2026] [--out scenarios/orgs/generated_2000.csv]

The same seed writes the same file.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
#: (department, head count, faces customers)
DEPARTMENTS = [
    ("Executive office", 8, False), ("Sales", 320, True), ("Customer Service", 380, True), ("Marketing", 120, True),
    ("Engineering", 420, False), ("Product", 90, False), ("Operations", 260, False), ("Finance", 110, False),
    ("Human Resources", 70, False), ("Legal", 40, False), ("IT", 140, False), ("Research", 42, False),
]
SPAN = (3, 12)


def org_chart(seed: int) -> list[dict[str, str]]:
    """The rows: CEO, the executive office and department heads under the CEO, then each department's tree."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, str]] = []

    def add(department: str, manager: str, facing: bool, role: str) -> str:
        eid = f"E{len(rows) + 1:05d}"
        rows.append({"employee_id": eid, "department": department, "manager_id": manager,
                     "customer_facing": "true" if facing else "false", "role": role})
        return eid

    ceo = add("Executive office", "", False, "CEO")
    for name, size, facing in DEPARTMENTS:
        if name == "Executive office":
            for _ in range(size - 1):
                add(name, ceo, facing, "Executive assistant" if rng.random() < 0.5 else "Chief of staff")
            continue
        head = add(name, ceo, facing, f"Head of {name}")
        # Fill the department breadth first: each manager gets a span drawn from SPAN; the last
        # level's people are individual contributors.
        left, managers = size - 1, [head]
        while left > 0:
            next_level = []
            for boss in managers:
                span = min(int(rng.integers(SPAN[0], SPAN[1] + 1)), left)
                for _ in range(span):
                    next_level.append(add(name, boss, facing, "Staff"))
                left -= span
                if left == 0:
                    break
            managers = next_level
    reports = {row["manager_id"] for row in rows}
    for row in rows:
        if row["role"] == "Staff" and row["employee_id"] in reports:
            row["role"] = "Manager"
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=ROOT / "scenarios" / "orgs" / "generated_2000.csv")
    args = parser.parse_args()
    rows = org_chart(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} employees in {len(DEPARTMENTS)} departments -> {args.out}")


if __name__ == "__main__":
    main()
