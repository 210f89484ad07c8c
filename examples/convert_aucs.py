"""Convert the AUCS multilayer network into an org chart and a ties file for socialsim.

The data: the employees of the Department of Computer Science at Aarhus University (61 people:
professors, associates, postdocs, PhD students, administrative staff) and five kinds of ties
between them (work, lunch, leisure, co-authorship, Facebook), collected in 2012. Source:
M. Magnani, B. Micenková and L. Rossi, "Combinatorial analysis of multiple networks",
arXiv:1303.4986 (2013); L. Rossi and M. Magnani, "Towards effective visual analytics on multiplex
and multilayer networks", Chaos, Solitons & Fractals 72 (2015). It ships as ``data/aucs.mpx`` in
the ``uunet`` package on PyPI (2.2.1; the package metadata gives the Apache-2.0 licence, its
description the GPL; both allow redistributing the data with attribution, which
scenarios/orgs/README.md gives).

The file gives each person's research group and role but no reporting lines, so this script
states them (the rules are the developers', written here so anyone can change them):

- a research group (G1 ... G8) is a department; a person listed in two groups (``G2/G3``) belongs
  to the first; people in no group form the "Department office";
- the head of each group is its most senior member (Professor, Associate, Assistant, Postdoc,
  PhD student, in that order; ties broken by most work ties, then id); everyone else in the group
  reports to the head;
- the most senior person outside the groups (a Professor) heads the department: the group heads
  and the department office report to them;
- customer-facing (students, visitors, partners): teaching staff (Professor, Associate,
  Assistant) and administrative staff;
- a tie joins two people who are tied on any layer; its weight is the number of layers.

Usage (``pip install uunet`` first, or pass the .mpx file):

    python examples/convert_aucs.py [--mpx PATH] [--out-dir scenarios/orgs]

The output is deterministic: rerunning it rewrites the same two files.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENIORITY = {"professor": 0, "emeritus": 1, "associate": 2, "assistant": 3, "postdoc": 4, "phd": 5}
TEACHING = {"professor", "associate", "assistant"}
OFFICE = "Department office"


def read_mpx(path: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(actors as (id, group, role), edges as (a, b, layer)) from a multinet .mpx file."""
    actors, edges, section = [], [], None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            section = line[1:].strip().upper()
            continue
        parts = [p.strip() for p in line.split(",")]
        if section == "ACTORS":
            actors.append((parts[0], parts[1], parts[2]))
        elif section == "EDGES":
            edges.append((parts[0], parts[1], parts[2]))
    return actors, edges


def rank(role: str) -> int:
    key = role.lower().split(" ")[0]
    return SENIORITY.get(key, 6 if key != "admin" else 7)


def convert(actors, edges):
    """The org chart rows and the ties rows (see the module docstring for the rules)."""
    work = Counter()
    for a, b, layer in edges:
        if layer == "work":
            work[a] += 1
            work[b] += 1
    group_of = {a: (OFFICE if g in ("NA", "") else "Group " + g.split("/")[0].lstrip("G")) for a, g, _ in actors}
    role_of = {a: ("" if r == "NA" else r) for a, _, r in actors}

    def seniority(person: str) -> tuple[int, int, int]:
        return (rank(role_of[person]), -work[person], int(person.lstrip("U")))

    members = defaultdict(list)
    for a, _, _ in actors:
        members[group_of[a]].append(a)
    top = min(members[OFFICE], key=seniority)
    manager = {top: ""}
    for group, people in members.items():
        if group == OFFICE:
            for person in people:
                if person != top:
                    manager[person] = top
            continue
        head = min(people, key=seniority)
        manager[head] = top
        for person in people:
            if person != head:
                manager[person] = head
    chart = []
    for a, _, _ in sorted(actors, key=lambda row: int(row[0].lstrip("U"))):
        role = role_of[a]
        facing = role.lower().split(" ")[0] in TEACHING or role.lower() == "admin"
        chart.append({"employee_id": a, "department": group_of[a], "manager_id": manager[a],
                      "customer_facing": "true" if facing else "false", "role": role})
    layers = defaultdict(set)  # the file lists some ties in both directions: count layers, not lines
    for a, b, layer in edges:
        if a != b:
            layers[tuple(sorted((a, b), key=lambda x: int(x.lstrip("U"))))].add(layer)
    ties = [{"source": a, "target": b, "weight": len(w)} for (a, b), w in sorted(
        layers.items(), key=lambda item: (int(item[0][0].lstrip("U")), int(item[0][1].lstrip("U"))))]
    return chart, ties


def write(path: Path, rows: list[dict], columns: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mpx", type=Path, help="aucs.mpx (default: the one in the installed uunet package)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "scenarios" / "orgs")
    args = parser.parse_args()
    if args.mpx is None:
        from importlib import resources

        args.mpx = Path(str(resources.files("uunet") / "data" / "aucs.mpx"))
    actors, edges = read_mpx(args.mpx)
    chart, ties = convert(actors, edges)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write(args.out_dir / "aucs.csv", chart, ["employee_id", "department", "manager_id", "customer_facing", "role"])
    write(args.out_dir / "aucs_ties.csv", ties, ["source", "target", "weight"])
    print(f"{len(chart)} employees in {len({r['department'] for r in chart})} departments, {len(ties)} ties "
          f"-> {args.out_dir}")


if __name__ == "__main__":
    main()
