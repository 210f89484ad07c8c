"""Your organisation: the reporting chart an HR export gives, and real communication ties.

A generated organisation (:func:`sim.networks.build_organisation`) stands for a typical firm. A
strategist asking "will *our* rollout take off?" (issue 10) has something better: an HR export
of who reports to whom, in which department, and who faces customers, and sometimes metadata of
who writes to whom. This module reads those two files, checks them with one clear line per
problem (:class:`~sim.errors.UserInputError` naming the file, the row and what is allowed), and
turns them into the same :class:`~sim.networks.Organisation` the model runs on.

What the file decides and what the model still generates:

- the reporting hierarchy (``manager_id``), the departments and who is customer-facing come from
  the file; the leaders of article 004 are the file's managers; the executive team is the top of
  the chain and each department's head (the people whose manager sits in another department),
  plus anyone whose ``role`` is ``executive``;
- informal leaders come from the ``informal_leader`` column, or else, as for a generated firm,
  are the best-connected non-managers (``informal_leader_share``);
- with a ties file, the contact network is those ties plus the manager-report pairs; without one,
  ties are generated as today (a Watts-Strogatz small world per department, Watts & Strogatz
  1998, plus ``cross_silo_ties``), but inside the *real* departments, at their real sizes;
- customers stay synthetic (``customers = N``).

A tie's ``weight`` is read and checked (a number >= 0; 0 drops the tie) but the contact model is
unweighted, as for a generated firm: any tie of positive weight is a contact.

Employees are renumbered department by department (the top person's department first, then the
departments with customer-facing staff, then the rest, each group in order of first appearance in
the file; inside a department by depth in the chain, then file order), which is the layout every kernel and table expects; the file's ids stay available
as :attr:`OrgChart.employee_id` and in the participation table.

Reading is cached by (path, size, modification time), so validating a scenario, hashing it and
building its model read a file once.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import UserInputError
from .networks import _depths

__all__ = ["DECIDED_BY_FILE", "OrgChart", "Ties", "MAX_ORG_EMPLOYEES", "MAX_TIES", "EXAMPLE_FOLDER", "example_organisations",
           "real_ties", "resolve_organisation", "read_org_chart", "read_ties", "organisation_digest"]

#: Largest organisation imported: the model runs 100k-employee firms in seconds a week; a million
#: rows is a large multinational's whole HR export.
MAX_ORG_EMPLOYEES = 1_000_000
#: Largest org-chart file (a million rows of a few short columns is under 100 MB).
MAX_ORG_BYTES = 200_000_000
#: Most ties read from a ties file, and its largest size.
MAX_TIES = 20_000_000
MAX_TIES_BYTES = 1_000_000_000
#: Most departments (the scenario key ``departments`` allows as many).
MAX_DEPARTMENTS = 10_000
#: Scenario keys an imported organisation decides (or makes meaningless): refused beside one as a
#: --set value or an experiment factor.
DECIDED_BY_FILE = ("employees", "departments", "customer_facing_departments", "span_of_control")
REQUIRED = ("employee_id", "department", "manager_id", "customer_facing")
OPTIONAL = ("role", "informal_leader")
TRUE, FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def _example_folder() -> Path:
    """``scenarios/orgs`` in a source tree, else the ``sim/presets/orgs`` a wheel installs."""
    from .scenario import SCENARIO_DIR

    return SCENARIO_DIR / "orgs"


EXAMPLE_FOLDER = _example_folder()


def example_organisations() -> list[str]:
    """Names of the organisations shipped as examples (``scenarios/orgs/<name>.csv``)."""
    return sorted(p.stem for p in EXAMPLE_FOLDER.glob("*.csv") if not p.stem.endswith("_ties"))


def resolve_organisation(value: str, *, relative_to: Path | None = None) -> str:
    """The stored form of an ``organisation`` or ``ties`` value: an example's name, or an absolute path.

    A bare name without a folder or ``.csv`` (``aucs``) is a shipped example; anything else is a
    path, relative to ``relative_to`` (the scenario file's folder) or else to the working folder.
    Empty stays empty (a generated organisation).
    """
    if not value or _is_example_name(value):
        return value
    if "\x00" in value:
        raise UserInputError(f"{value!r} holds a NUL character; allowed: a file path", key="organisation")
    try:
        path = Path(value).expanduser()
    except RuntimeError:  # ~someone who has no home folder here
        raise UserInputError(f"{value!r}: no such home folder; allowed: a file path", key="organisation") from None
    if not path.is_absolute():
        path = (relative_to or Path.cwd()) / path
    return str(Path(os.path.abspath(path)))


def _is_example_name(value: str) -> bool:
    return "/" not in value and "\\" not in value and not value.lower().endswith(".csv") and value not in (".", "..")


def _path_of(value: str, key: str) -> Path:
    """The file an ``organisation``/``ties`` value names (an example's CSV, or the path itself)."""
    if _is_example_name(value):
        suffix = "_ties" if key == "ties" else ""
        path = EXAMPLE_FOLDER / f"{value}{suffix}.csv"
        if not path.is_file():
            allowed = ", ".join(example_organisations()) or "(none shipped)"
            raise UserInputError(f"{value!r} is not a shipped example organisation{' with ties' if suffix else ''}; "
                                 f"allowed: a path to a .csv file or one of {allowed}", key=key)
        return path
    return Path(value)


def example_ties(value: str) -> str:
    """A shipped example's own ties (``aucs`` -> ``aucs`` when ``aucs_ties.csv`` exists), else ''."""
    if value and _is_example_name(value) and (EXAMPLE_FOLDER / f"{value}_ties.csv").is_file():
        return value
    return ""


def real_ties(organisation: str, ties: str) -> str:
    """The ties the model reads for these scenario values: ``ties``, else a shipped example's own,
    else '' (generated). ``ties = "none"`` generates them even for an example that ships its own."""
    if not organisation or ties == "none":
        return ""
    return ties or example_ties(organisation)


# ------------------------------------------------------------------ reading a CSV safely
def _read_text(path: Path, limit: int, what: str) -> str:
    """The text of a CSV file, or one error: not a regular file, too large, empty, binary, not UTF-8."""
    source = str(path)
    try:
        info = os.stat(path)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise UserInputError(f"cannot be read ({exc.strerror or exc.__class__.__name__}); allowed: {what}",
                             source=source) from None
    if not stat.S_ISREG(info.st_mode):
        raise UserInputError(f"is not a regular file (a folder, pipe, device or socket); allowed: {what}",
                             source=source)
    if info.st_size > limit:
        raise UserInputError(f"is {info.st_size:,} bytes; allowed: {what} of at most {limit:,} bytes", source=source)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise UserInputError(f"cannot be read ({exc.strerror or exc.__class__.__name__}); allowed: {what}",
                             source=source) from None
    if len(raw) > limit:
        raise UserInputError(f"is over {limit:,} bytes; allowed: a smaller file", source=source)
    if not raw.strip():
        raise UserInputError(f"is empty; allowed: {what} with a header row", source=source)
    if b"\x00" in raw:
        raise UserInputError(f"is a binary file, not text; allowed: {what}", source=source)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserInputError(f"is not UTF-8 text (byte {exc.start:,}); allowed: {what} saved as UTF-8",
                             source=source) from None


def _rows(text: str, source: str, required: tuple[str, ...], optional: tuple[str, ...], what: str):
    """``(columns, rows)``: the header's positions of the known columns and ``(line, fields)`` per row.

    Column names are matched without case or surrounding spaces; other columns are ignored (an
    HR export carries names, e-mails ...). Every row must have the header's number of fields.
    """
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if "," not in text.split("\n", 1)[0] else None
    except csv.Error:
        dialect = None
    reader = csv.reader(io.StringIO(text, newline=""), dialect or csv.excel, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise UserInputError(f"row 1: {exc}; allowed: {what}", source=source) from None
    names = [h.strip().lower() for h in header]
    columns: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in required + optional:
            if name in columns:
                raise UserInputError(f"row 1: column {name!r} appears twice; allowed: each column once",
                                     source=source)
            columns[name] = position
    missing = [name for name in required if name not in columns]
    if missing:
        raise UserInputError(f"row 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                             f"allowed: a header with {', '.join(required)}"
                             + (f" (optional: {', '.join(optional)})" if optional else ""), source=source)
    width = len(header)

    def rows():
        line, end = 1, reader.line_num
        try:
            for fields in reader:
                # a record may span lines (a quoted newline): it is named by the line it starts on
                line, end = end + 1, reader.line_num
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue  # a blank line
                if len(fields) != width:
                    raise UserInputError(f"row {line}: {len(fields)} fields; allowed: {width}, one per column of "
                                         "the header", source=source)
                yield line, fields
        except csv.Error as exc:
            raise UserInputError(f"row {end + 1}: {exc}; allowed: {what}", source=source) from None

    return columns, rows()


def _boolean(text: str, source: str, line: int, column: str, empty: bool | None) -> bool:
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    if not value and empty is not None:
        return empty
    raise UserInputError(f"row {line}: {column} {text!r} is not a yes/no value; allowed: true, false, 1 or 0",
                         source=source)


# ------------------------------------------------------------------ the org chart
@dataclass(frozen=True)
class OrgChart:
    """An imported reporting chart, renumbered department by department (see the module docstring).

    Attributes:
        source: the file it was read from.
        digest: sha256 of the file's bytes (what a scenario hash uses, not the path).
        employee_id: the file's ids (``str``), ``(N,)``, in the model's order.
        row: the file's line of each employee, ``(N,)``.
        department_names: ``(D,)``; ``department_names[d]`` is department ``d``.
        department: int32 ``(N,)``, non-decreasing.
        dept_start: int64 ``(D + 1,)``.
        manager: int32 ``(N,)``, the manager's index, -1 for the top (index 0).
        level: int32 ``(N,)``, depth in the chain.
        customer_facing: bool ``(N,)``.
        role: the file's ``role`` text per employee ('' when absent).
        is_executive: bool ``(N,)``.
        informal_leader: bool ``(N,)`` from the file, or None (then chosen by connections).
    """

    source: str
    digest: str
    employee_id: np.ndarray
    row: np.ndarray
    department_names: tuple[str, ...]
    department: np.ndarray
    dept_start: np.ndarray
    manager: np.ndarray
    level: np.ndarray
    customer_facing: np.ndarray
    role: np.ndarray
    is_executive: np.ndarray
    informal_leader: np.ndarray | None

    @property
    def n(self) -> int:
        """Number of employees."""
        return int(self.department.size)

    @property
    def n_departments(self) -> int:
        """Number of departments."""
        return len(self.department_names)

    @property
    def is_manager(self) -> np.ndarray:
        """bool ``(N,)``: has at least one direct report."""
        return np.bincount(self.manager[self.manager >= 0], minlength=self.n)[: self.n] > 0

    def index_of(self) -> dict[str, int]:
        """The model index of each file id."""
        return {eid: i for i, eid in enumerate(self.employee_id.tolist())}


def read_org_chart(value: str) -> OrgChart:
    """Read and check an org chart (an example's name or a CSV path); cached while the file is unchanged.

    Raises :class:`~sim.errors.UserInputError` naming the file, the row and what is allowed.
    """
    path = _path_of(value, "organisation")
    info = _stat_key(path)
    return _read_org_chart(str(path), info)


def _stat_key(path: Path) -> tuple[int, ...]:
    """What says a file is unchanged: size, times and identity. ``st_ctime_ns`` cannot be set back
    (``cp -p``, ``rsync -a`` and ``unzip`` restore the modification time), so a rewrite with the
    old size and time still reads again."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return (-1,)  # _read_text reports it
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


WHAT_ORG = "a CSV with employee_id, department, manager_id, customer_facing (optional role, informal_leader)"


@functools.lru_cache(maxsize=16)
def _read_org_chart(source: str, _stamp: tuple[int, ...]) -> OrgChart:
    text = _read_text(Path(source), MAX_ORG_BYTES, WHAT_ORG)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    columns, rows = _rows(text, source, REQUIRED, OPTIONAL, WHAT_ORG)
    c_id, c_dept, c_boss, c_face = (columns[k] for k in REQUIRED)
    c_role, c_leader = columns.get("role"), columns.get("informal_leader")
    ids: list[str] = []
    lines: list[int] = []
    dept_of: list[int] = []
    boss_ids: list[str] = []
    facing: list[bool] = []
    roles: list[str] = []
    leaders: list[bool] = []
    first_line: dict[str, int] = {}
    departments: dict[str, int] = {}
    for line, fields in rows:
        eid = fields[c_id].strip()
        if not eid:
            raise UserInputError(f"row {line}: employee_id is empty; allowed: a unique id per employee", source=source)
        if eid in first_line:
            raise UserInputError(f"row {line}: employee_id {eid!r} is already on row {first_line[eid]}; allowed: "
                                 "each id once", source=source)
        if len(ids) >= MAX_ORG_EMPLOYEES:
            raise UserInputError(f"has more than {MAX_ORG_EMPLOYEES:,} employees; allowed: at most "
                                 f"{MAX_ORG_EMPLOYEES:,}", source=source)
        first_line[eid] = line
        name = fields[c_dept].strip()
        if not name:
            raise UserInputError(f"row {line}: department is empty; allowed: the name of the employee's department",
                                 source=source)
        if name not in departments:
            if len(departments) >= MAX_DEPARTMENTS:
                raise UserInputError(f"row {line}: more than {MAX_DEPARTMENTS:,} departments; allowed: at most "
                                     f"{MAX_DEPARTMENTS:,}", source=source)
            departments[name] = len(departments)
        ids.append(eid)
        lines.append(line)
        dept_of.append(departments[name])
        boss_ids.append(fields[c_boss].strip())
        facing.append(_boolean(fields[c_face], source, line, "customer_facing", None))
        roles.append(fields[c_role].strip() if c_role is not None else "")
        if c_leader is not None:
            leaders.append(_boolean(fields[c_leader], source, line, "informal_leader", False))
    n = len(ids)
    if n < 2:
        raise UserInputError(f"has {n} employee{'s' if n != 1 else ''}; allowed: at least 2", source=source)

    index = {eid: i for i, eid in enumerate(ids)}
    manager = np.empty(n, dtype=np.int64)
    top = -1
    for i, boss in enumerate(boss_ids):
        if not boss:
            if top >= 0:
                raise UserInputError(f"row {lines[i]}: {ids[i]!r} has no manager_id, and neither has {ids[top]!r} "
                                     f"on row {lines[top]}; allowed: exactly one person at the top of the chain "
                                     "(empty manager_id)", source=source)
            top = i
            manager[i] = -1
            continue
        j = index.get(boss)
        if j is None:
            raise UserInputError(f"row {lines[i]}: manager_id {boss!r} is not an employee_id of this file; allowed: "
                                 "the id of another employee, or empty for the top", source=source)
        manager[i] = j
    _check_no_cycle(manager, ids, lines, source)
    if top < 0:  # pragma: no cover - a chain without a top always has a cycle, reported above
        raise UserInputError("no one has an empty manager_id; allowed: exactly one top", source=source)

    level = _depths(manager)
    dept = np.asarray(dept_of, dtype=np.int64)
    # Department order: the top's first (the top person is index 0), then those with customer-facing
    # staff (as in a generated firm, so a rollout by `share` reaches them first), then the rest,
    # each by first appearance in the file.
    facing_dept = np.bincount(dept, weights=np.asarray(facing, dtype=np.float64), minlength=len(departments)) > 0
    ranked = sorted(range(len(departments)), key=lambda d: (d != dept[top], not facing_dept[d], d))
    order_of_dept = np.empty(len(departments), dtype=np.int64)
    order_of_dept[ranked] = np.arange(len(departments))
    new_dept = order_of_dept[dept]
    file_order = np.arange(n)
    order = np.lexsort((file_order, level, new_dept))  # last key first: department, depth, file order
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    names_in_order = [""] * len(departments)
    for name, d in departments.items():
        names_in_order[int(order_of_dept[d])] = name
    department = new_dept[order].astype(np.int32)
    new_manager = np.where(manager[order] >= 0, position[np.maximum(manager[order], 0)], -1).astype(np.int32)
    dept_start = np.zeros(len(departments) + 1, dtype=np.int64)
    np.cumsum(np.bincount(department, minlength=len(departments)), out=dept_start[1:])
    role = np.asarray(roles, dtype=object)[order]
    has_boss = new_manager >= 0
    boss_dept = np.where(has_boss, department[np.maximum(new_manager, 0)], -1)
    said_executive = np.array([r.lower() == "executive" for r in role.tolist()], dtype=bool)
    is_executive = ~has_boss | (boss_dept != department) | said_executive
    return OrgChart(
        source=source, digest=digest, employee_id=np.asarray(ids, dtype=object)[order],
        row=np.asarray(lines, dtype=np.int64)[order], department_names=tuple(names_in_order),
        department=department, dept_start=dept_start, manager=new_manager, level=level[order].astype(np.int32),
        customer_facing=np.asarray(facing, dtype=bool)[order], role=role, is_executive=is_executive,
        informal_leader=np.asarray(leaders, dtype=bool)[order] if c_leader is not None else None)


def _check_no_cycle(manager: np.ndarray, ids: list[str], lines: list[int], source: str) -> None:
    """Refuse a reporting chain that loops (A reports to B, B to A), naming the loop."""
    n = manager.size
    jump = manager.copy()
    # After k rounds ``jump`` is the 2**k-th boss (-1 once past the top): 2**k >= n steps reach the
    # top from anyone whose chain ends, so whoever is still not at -1 is on or below a loop.
    for _ in range(max(1, math.ceil(math.log2(n))) + 1):
        live = jump >= 0
        if not live.any():
            return
        jump[live] = jump[jump[live]]
    stuck = np.flatnonzero(jump >= 0)
    if stuck.size == 0:
        return
    start = int(jump[stuck[0]])  # n steps up from anyone stuck is on the loop itself
    loop = [start]
    person = int(manager[start])
    while person != start and len(loop) < n:
        loop.append(person)
        person = int(manager[person])
    first = min(loop, key=lambda i: lines[i])
    k = loop.index(first)
    loop = loop[k:] + loop[:k]
    shown = " -> ".join(repr(ids[i]) for i in loop[:6]) + (" -> ..." if len(loop) > 6 else "") + f" -> {ids[first]!r}"
    raise UserInputError(f"row {lines[first]}: the reporting chain loops ({shown}); allowed: a chain that ends at "
                         "the one person with an empty manager_id", source=source)


# ------------------------------------------------------------------ ties
@dataclass(frozen=True)
class Ties:
    """Real communication ties, in the model's numbering (self ties and zero weights dropped).

    Attributes:
        source, digest: the file and the sha256 of its bytes.
        src, dst: int64 ``(E,)`` employee indices.
        weight: float64 ``(E,)``, 1 where the file gives none.
    """

    source: str
    digest: str
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray


WHAT_TIES = "a CSV with source, target (optional weight) naming employee_ids of the organisation"


def read_ties(value: str, chart: OrgChart) -> Ties:
    """Read and check a ties file against ``chart`` (an example's name or a CSV path); cached."""
    path = _path_of(value, "ties")
    return _read_ties(str(path), _stat_key(path), chart.source, _stat_key(Path(chart.source)))


@functools.lru_cache(maxsize=8)
def _read_ties(source: str, _stamp: tuple[int, ...], chart_source: str, chart_stamp: tuple[int, ...]) -> Ties:
    chart = _read_org_chart(chart_source, chart_stamp)  # the same cache entry the caller's chart came from
    text = _read_text(Path(source), MAX_TIES_BYTES, WHAT_TIES)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    columns, rows = _rows(text, source, ("source", "target"), ("weight",), WHAT_TIES)
    c_src, c_dst, c_w = columns["source"], columns["target"], columns.get("weight")
    index = chart.index_of()
    org_name = Path(chart_source).name
    src: list[int] = []
    dst: list[int] = []
    weight: list[float] = []
    for line, fields in rows:
        ends = []
        for column, position in (("source", c_src), ("target", c_dst)):
            eid = fields[position].strip()
            j = index.get(eid)
            if j is None:
                raise UserInputError(f"row {line}: {column} {eid!r} is not an employee_id of {org_name}; allowed: "
                                     "ids of the organisation's employees", source=source)
            ends.append(j)
        w = 1.0
        if c_w is not None:
            text_w = fields[c_w].strip()
            try:
                w = float(text_w) if text_w else 1.0
            except ValueError:
                w = float("nan")
            if not math.isfinite(w) or w < 0:
                raise UserInputError(f"row {line}: weight {text_w!r} is not a number >= 0; allowed: a finite "
                                     "number >= 0 (0 drops the tie), or empty for 1", source=source)
        if len(src) >= MAX_TIES:
            raise UserInputError(f"has more than {MAX_TIES:,} ties; allowed: at most {MAX_TIES:,}", source=source)
        if ends[0] != ends[1] and w > 0:  # a tie to oneself carries nothing between people
            src.append(ends[0])
            dst.append(ends[1])
            weight.append(w)
    return Ties(source=source, digest=digest, src=np.asarray(src, dtype=np.int64),
                dst=np.asarray(dst, dtype=np.int64), weight=np.asarray(weight, dtype=np.float64))


def organisation_digest(organisation: str, ties: str = "") -> str:
    """What stands for the organisation in a scenario hash: the files' contents, never their paths."""
    chart = read_org_chart(organisation)
    parts = [chart.digest]
    if ties:
        parts.append(read_ties(ties, chart).digest)
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:16]
