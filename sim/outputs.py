"""What users see: weekly series, department breakdowns, the participation distribution, a verdict.

The recorder preallocates one array per output for the whole horizon (no DataFrame grown
row by row) and fills one row per week. Every table a run produces carries the seed, the
scenario hash and the package version, so any number can be traced back to how it was made.

Measures follow the published figures they are compared with (docs/MODEL.md, section 9):

- **Eligible** staff are those given access. ``active_share`` is the share of eligible staff who
  contributed (posted) in the last 4 weeks: Jive's "contributors" and the Dachis Group's
  "active" (2012: in 57% of firms only 10-20% of eligible staff were). ``viewers_4w`` and
  ``participants_4w`` are Jive's other two activity levels (looked; reacted or posted).
- **Participation inequality** as van Mierlo (2014) measured it: users (everyone who ever used
  the platform) ranked by what they wrote; the shares of content by the top 1%, the next 9% and
  the remaining 90% (Nielsen's 90-9-1).
- **Only reading** as SWOOP reports it: users who never posted.

The verdict judges the staff who were given access: a run *succeeds* when, over the last
``final_window`` weeks, the active share of eligible staff is at least ``success_active_share``
and the community has not collapsed; it *peaks then collapses* when that share fell below
``collapse_ratio`` times its peak (and the peak reached ``min_peak_for_collapse``); otherwise it
*fizzles*. Value and cost are reported beside the verdict, not folded into it.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from .kernels import CHAMPION, CONTRIBUTOR, LAPSED, NON_USER, READER, STAGE_NAMES

if TYPE_CHECKING:  # pragma: no cover
    from .model import SocialBusinessModel

try:
    __version__ = metadata.version("socialsim")
except metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.2.0+source"

DEPT_STAGE_COLUMNS = ("no_access", "non_users", "readers", "contributors", "champions", "lapsed")
#: Weeks of Jive's activity reports: "contributed in the last 4 weeks" (a measurement definition).
ACTIVITY_WINDOW = 4
VERDICTS = ("success", "fizzle", "peak_then_collapse")

#: Weekly outputs: column name -> one-line meaning (docs/MODEL.md lists the same).
SERIES_COLUMNS: dict[str, str] = {
    "week": "week number (0 = before the first week)",
    "eligible": "employees with platform access",
    "no_access": "employees without platform access",
    "non_users": "employees with access who do not use the platform",
    "readers": "employees who read but are not contributing (lurkers)",
    "contributors": "employees in the contributing stage (not champions)",
    "champions": "contributors whose reputation passed champion_reputation",
    "lapsed": "employees who used to contribute and stopped",
    "active_contributors": "contributors + champions (the contributing stage)",
    "active_share": "eligible employees who posted in the last 4 weeks / eligible (0 before access)",
    "active_share_of_all": "employees who posted in the last 4 weeks / all employees",
    "viewers_4w": "eligible employees who read or posted in the last 4 weeks (Jive viewers)",
    "participants_4w": "eligible employees who reacted or posted in the last 4 weeks (Jive participants)",
    "contributors_4w": "eligible employees who posted in the last 4 weeks (Jive contributors)",
    "ever_used": "eligible employees who ever read or posted",
    "ever_active": "eligible employees who ever posted",
    "posts": "posts this week",
    "reactions": "employees who reacted (liked, commented) this week",
    "posts_per_contributor": "posts this week / employees in the contributing stage",
    "gini": "Gini of cumulative contributions among users (everyone who ever used the platform, leavers included)",
    "top1_share": "share of all content written by the top 1% of users, leavers included (van Mierlo 2014)",
    "next9_share": "share written by the next 9% of users",
    "rest90_share": "share written by the remaining 90% of users",
    "never_posted_share": "share of users who never posted",
    "cross_silo_ties": "ties between departments (initial + grown)",
    "weak_ties_grown": "cross-silo ties grown from open activity, still in place",
    "knowledge_stock": "reusable items (open + locked), after decay",
    "knowledge_reuse": "mean reuse intensity among employees (0-1)",
    "productivity_gain": "mean productivity gain per employee (share of an employee-week)",
    "mean_alignment": "mean alignment with the purpose",
    "mean_safety": "mean psychological safety",
    "mean_habit": "mean posting habit (0-1)",
    "mistakes": "public mistakes this week",
    "leavers": "employees who left this week (replaced by newcomers)",
    "crisis_pressure": "pressure of a public crisis (decays weekly)",
    "customers_aware": "customers aware of the community",
    "members": "customers in the community",
    "advocates": "customers who recommend the company",
    "detractors": "customers who broadcast disapproval",
    "mean_trust": "customers' mean trust",
    "open_problems": "customer problems waiting for an answer",
    "answered": "customer problems solved this week",
    "public_answers": "customer problems answered in public by the community this week",
    "unanswered_share": "members' open questions waiting beyond patience (visible failure)",
    "response_time": "mean weeks a problem solved this week waited (NaN if none)",
    "ideas": "customer ideas so far",
    "ideas_captured": "ideas captured by listening so far",
    "innovations": "innovations from co-created ideas so far",
    "signals_captured": "customer signals captured by listening so far",
    "cost": "cost this week",
    "value": "value this week",
    "cumulative_cost": "cost so far",
    "cumulative_value": "value so far",
    "net_value": "cumulative value - cumulative cost",
}


def gini(values: np.ndarray, presorted: bool = False) -> float:
    """Gini coefficient of non-negative values (0: equal; 1: one holds all). 0 if all zero."""
    x = np.asarray(values, dtype=np.float64)
    x = x if presorted else np.sort(x)
    n = x.size
    total = x.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1, dtype=np.float64)
    return float(2.0 * np.dot(ranks, x) / (n * total) - (n + 1.0) / n)


def top_shares(values: np.ndarray, presorted: bool = False) -> tuple[float, float, float]:
    """Shares of the total held by the top 1%, the next 9% and the remaining 90% (van Mierlo 2014).

    Groups are whole people: the top ``ceil(1%)`` (at least one), then up to ``ceil(10%)``.
    All three are 0 when nobody holds anything.
    """
    x = np.asarray(values, dtype=np.float64)
    x = (x if presorted else np.sort(x))[::-1]
    total = x.sum()
    if x.size == 0 or total <= 0:
        return 0.0, 0.0, 0.0
    top1 = max(1, math.ceil(0.01 * x.size))
    top10 = max(top1, math.ceil(0.10 * x.size))
    first, second = float(x[:top1].sum() / total), float(x[top1:top10].sum() / total)
    return first, second, float(x[top10:].sum() / total)


class SeriesRecorder:
    """Preallocated weekly outputs of one model run (the compiled week writes them, sim/week.py).

    ``series`` holds one row per week and one column per :data:`SERIES_COLUMNS` entry;
    ``columns`` gives each column by name (views on ``series``); ``dept_stage`` counts employees
    by department and stage, ``dept_posted`` those who posted in the last 4 weeks.
    """

    def __init__(self, model: "SocialBusinessModel"):
        rows = model.config.weeks + 1
        d = model.org.n_departments
        self.series = np.full((rows, len(SERIES_COLUMNS)), np.nan)
        # (week, department, access-stage): no_access, then the five stages of those with access
        self.dept_stage = np.zeros((rows, d, len(DEPT_STAGE_COLUMNS)), dtype=np.int64)
        self.dept_posted = np.zeros((rows, d), dtype=np.int64)
        self.rows = 0
        self._views()

    def _views(self) -> None:
        self.columns = {name: self.series[:, j] for j, name in enumerate(SERIES_COLUMNS)}

    def ensure(self, rows: int) -> None:
        """Room for ``rows`` rows (stepping past the horizon grows the arrays; rare)."""
        have = self.series.shape[0]
        if rows <= have:
            return
        more = max(rows, 2 * have) - have
        self.series = np.concatenate([self.series, np.full((more, self.series.shape[1]), np.nan)])
        self.dept_stage = np.concatenate([self.dept_stage, np.zeros((more, *self.dept_stage.shape[1:]),
                                                                    dtype=np.int64)])
        self.dept_posted = np.concatenate([self.dept_posted, np.zeros((more, self.dept_posted.shape[1]),
                                                                      dtype=np.int64)])
        self._views()

    def result(self, model: "SocialBusinessModel") -> "RunResult":
        """Package the recorded weeks as a :class:`RunResult`."""
        n = self.rows
        # Built from one dict of finished columns each: adding columns one by one to a DataFrame
        # cost more than the simulation itself for a small organisation (calibration runs many).
        values = self.series[:n]
        series = pd.DataFrame({name: (values[:, j].copy() if name in FLOAT_COLUMNS
                                      else values[:, j].astype(np.int64))
                               for j, name in enumerate(SERIES_COLUMNS)})
        org, st, c = model.org, model.state, model.config
        d = org.n_departments
        facing = np.add.reduceat(org.customer_facing, org.dept_start[:-1]) > 0
        employees = np.tile(np.diff(org.dept_start), n)
        stages = self.dept_stage[:n].reshape(n * d, -1)
        names = np.asarray(org.department_names or [f"department {k}" for k in range(d)], dtype=object)
        columns = {"week": np.repeat(np.arange(n), d), "department": np.tile(np.arange(d), n),
                   "department_name": np.tile(names, n), "customer_facing": np.tile(facing, n),
                   "employees": employees}
        for j, name in enumerate(DEPT_STAGE_COLUMNS):
            columns[name] = stages[:, j]
        columns["active_contributors"] = columns["contributors"] + columns["champions"]
        columns["contributors_4w"] = posted = self.dept_posted[:n].reshape(n * d)
        with_access = employees - columns["no_access"]
        # The same measure as the series: eligible staff who posted in the last 4 weeks.
        with np.errstate(divide="ignore", invalid="ignore"):
            columns["active_share"] = np.where(with_access > 0, posted / np.maximum(with_access, 1), 0.0)
        departments = pd.DataFrame(columns)
        roles = np.where(org.is_executive, "executive", np.where(
            org.is_manager, "manager", np.where(org.is_informal_leader, "informal_leader", "employee")))
        participation = pd.DataFrame({
            "employee": np.arange(org.n),
            "employee_id": (org.employee_id if org.employee_id is not None
                            else np.arange(org.n).astype(str).astype(object)),
            "department": org.department, "department_name": names[org.department], "role": roles,
            "customer_facing": org.customer_facing, "has_access": st.has_access,
            "stage": np.asarray(STAGE_NAMES)[st.stage], "contributions": st.contributions,
            "reputation": st.reputation, "habit": st.habit, "threshold": st.threshold,
            "propensity": st.propensity, "writer": st.writer, "alignment": st.alignment, "safety": st.safety,
            "productivity_gain": st.productivity,
            "weeks_since_post": np.where(st.last_post >= 1, model.week - st.last_post, -1)})
        meta = {"seed": model.seed, "scenario": c.name,
                "scenario_hash": c.scenario_hash(), "version": __version__,
                "engine": model.engine_name}
        verdict = judge(series, c.success_active_share, c.collapse_ratio, c.final_window, c.min_peak_for_collapse)
        summary = summarise(series, verdict, customers=model.market.n, final_window=c.final_window)
        return RunResult(series=series, departments=departments, participation=participation,
                         verdict=verdict, summary=summary, events=list(model.events), **meta)


FLOAT_COLUMNS = {
    "active_share", "active_share_of_all", "posts_per_contributor", "gini", "top1_share", "next9_share",
    "rest90_share", "never_posted_share", "knowledge_stock", "knowledge_reuse", "productivity_gain",
    "mean_alignment", "mean_safety", "mean_habit", "crisis_pressure", "mean_trust", "unanswered_share",
    "response_time", "ideas_captured", "innovations", "signals_captured", "cost", "value",
    "cumulative_cost", "cumulative_value", "net_value"}


def judge(series: pd.DataFrame, success_active_share: float, collapse_ratio: float,
          final_window: int = 4, min_peak_for_collapse: float = 0.05) -> str:
    """The run's verdict: 'success', 'fizzle' or 'peak_then_collapse' (see module docstring)."""
    share = series["active_share"].to_numpy()
    final = float(share[-final_window:].mean())
    peak = float(share.max())
    if peak >= min_peak_for_collapse and final < collapse_ratio * peak:
        return "peak_then_collapse"
    if final >= success_active_share:
        return "success"
    return "fizzle"


#: Final outcomes of a run: name -> meaning (the compare table's rows).
SUMMARY_COLUMNS: dict[str, str] = {
    "active_share": "eligible staff who posted in the last 4 weeks, at the horizon (mean of the final window)",
    "active_share_of_all": "all staff who posted in the last 4 weeks, at the horizon",
    "peak_active_share": "highest active share of eligible staff",
    "peak_week": "week of that peak",
    "eligible_share": "staff given access at the horizon",
    "viewers_share": "eligible staff who read or posted in the last 4 weeks (Jive viewers)",
    "participants_share": "eligible staff who reacted or posted in the last 4 weeks (Jive participants)",
    "ever_used_share": "eligible staff who ever used the platform",
    "never_used_share": "eligible staff who never used the platform",
    "ever_active_share": "eligible staff who ever posted",
    "only_read_share": "eligible staff who used the platform but never posted (SWOOP: only read)",
    "readers_share": "eligible staff in the reading stage at the horizon",
    "gini": "participation Gini among users at the horizon",
    "top1_share": "content written by the top 1% of users (van Mierlo 2014)",
    "next9_share": "content written by the next 9% of users",
    "rest90_share": "content written by the remaining 90% of users",
    "never_posted_share": "users who never posted",
    "posts_per_contributor": "posts a week per contributor over the final window",
    "cross_silo_ties": "ties between departments at the horizon",
    "productivity_gain": "mean productivity gain at the horizon",
    "mean_safety": "employees' mean psychological safety at the horizon",
    "members_share": "customers in the community at the horizon",
    "advocates_share": "customers who are advocates",
    "detractors_share": "customers who are detractors",
    "mean_trust": "customers' mean trust",
    "response_time": "mean weeks to solve a customer problem (last 13 weeks)",
    "innovations": "innovations from co-created ideas",
    "cumulative_cost": "total cost",
    "cumulative_value": "total value",
    "net_value": "total value - total cost",
    "success": "1 if the verdict is success",
}


def summarise(series: pd.DataFrame, verdict: str, customers: int, final_window: int = 4) -> dict[str, Any]:
    """Final outcomes of one run (see :data:`SUMMARY_COLUMNS`)."""
    last = series.iloc[-1]
    share = series["active_share"]
    employees = float(last["eligible"] + last["no_access"])
    eligible = float(last["eligible"])
    per_eligible = (lambda x: float(x) / eligible) if eligible else (lambda x: 0.0)
    customers = max(1, customers)
    tail = series.iloc[-final_window:]
    return {
        "active_share": float(share.iloc[-final_window:].mean()),
        "active_share_of_all": float(series["active_share_of_all"].iloc[-final_window:].mean()),
        "peak_active_share": float(share.max()),
        "peak_week": int(series["week"].iloc[int(share.to_numpy().argmax())]),
        "eligible_share": eligible / employees if employees else 0.0,
        "viewers_share": per_eligible(last["viewers_4w"]),
        "participants_share": per_eligible(last["participants_4w"]),
        "ever_used_share": per_eligible(last["ever_used"]),
        "never_used_share": 1.0 - per_eligible(last["ever_used"]) if eligible else 0.0,
        "ever_active_share": per_eligible(last["ever_active"]),
        "only_read_share": per_eligible(last["ever_used"] - last["ever_active"]),
        "readers_share": per_eligible(last["readers"]),
        "gini": float(last["gini"]),
        "top1_share": float(last["top1_share"]),
        "next9_share": float(last["next9_share"]),
        "rest90_share": float(last["rest90_share"]),
        "never_posted_share": float(last["never_posted_share"]),
        "posts_per_contributor": float(tail["posts"].sum() / max(1, tail["active_contributors"].sum())),
        "cross_silo_ties": int(last["cross_silo_ties"]),
        "productivity_gain": float(last["productivity_gain"]),
        "mean_safety": float(last["mean_safety"]),
        "members_share": float(last["members"]) / customers,
        "advocates_share": float(last["advocates"]) / customers,
        "detractors_share": float(last["detractors"]) / customers,
        "mean_trust": float(last["mean_trust"]),
        "response_time": float(series["response_time"].iloc[-13:].mean()),
        "innovations": float(last["innovations"]),
        "cumulative_cost": float(last["cumulative_cost"]),
        "cumulative_value": float(last["cumulative_value"]),
        "net_value": float(last["net_value"]),
        "success": int(verdict == "success"),
        "verdict": verdict,
    }


@dataclass
class RunResult:
    """Everything one run produced.

    Attributes:
        series: one row per week (:data:`SERIES_COLUMNS`), plus seed/scenario/hash/version.
        departments: one row per week and department: users, contributors, active share.
        participation: one row per employee at the horizon (the participation distribution).
        verdict: 'success', 'fizzle' or 'peak_then_collapse'.
        summary: final outcomes (:data:`SUMMARY_COLUMNS`).
        seed, scenario, scenario_hash, version, engine: provenance.
        events: the waves and shocks that happened.
        posterior: for a calibrated run, the posterior's id and the particle drawn (else None).
    """

    series: pd.DataFrame
    departments: pd.DataFrame
    participation: pd.DataFrame
    verdict: str
    summary: dict[str, Any]
    seed: int | None
    scenario: str
    scenario_hash: str
    version: str
    engine: str
    events: list[dict[str, Any]] = field(default_factory=list)
    posterior: dict[str, Any] | None = None

    @property
    def provenance(self) -> dict[str, Any]:
        """Seed, scenario name and hash, package version, engine; for a calibrated run also the
        posterior's id and the particle whose behavioural parameters it used."""
        out = {"seed": self.seed, "scenario": self.scenario, "scenario_hash": self.scenario_hash,
               "version": self.version, "engine": self.engine}
        if self.posterior is not None:
            out.update(posterior=self.posterior["id"], particle=self.posterior["particle"])
        return out

    def table(self, name: str = "series") -> pd.DataFrame:
        """One of the tables with the provenance columns added to every row."""
        frame = getattr(self, name).copy()
        for key, value in self.provenance.items():
            frame[key] = value
        return frame

    def write(self, path: str | Path, table: str = "series") -> Path:
        """Write a table to CSV or Parquet (by extension), atomically: never a half file."""
        return write_table(self.table(table), path)


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` to ``path`` (.csv or .parquet) through a temporary file and a rename."""
    from .errors import UserInputError

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise UserInputError(f"unknown extension {path.suffix!r}; allowed: .csv or .parquet",
                             source=str(path), key="--out")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UserInputError("folder does not exist; allowed: a path in an existing, writable folder",
                             source=str(path), key="--out")
    if not os.access(folder, os.W_OK):
        raise UserInputError("folder is not writable; allowed: a path in a writable folder",
                             source=str(path), key="--out")
    return atomic_write(path, table_writer(frame, path))


def _fsync_file(path: str | Path) -> None:
    """Flush a written file's data to the disk (so a rename never exposes an empty file after a crash)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder: str | Path) -> None:
    """Flush a folder's entries (a rename into it) to the disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _stage(path: Path, write: Callable[[str], Any]) -> str:
    """Write a temporary file beside ``path`` with ``write(tmp)``, fsync it, return its name."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        _fsync_file(tmp)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def atomic_write(path: str | Path, write: Callable[[str], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    The file is fsynced before the rename and the folder after it, so a crash or an error
    (a full disk included) leaves either the old file or the new one, never a half-written one.
    """
    path = Path(path)
    tmp = _stage(path, write)
    try:
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_folder(path.parent if str(path.parent) else ".")
    return path


def write_files_atomic(files: dict[str | Path, Callable[[str], Any]]) -> list[Path]:
    """Write a set of files that belong together (a report: table, series, page) all or nothing.

    Every file is staged (written and fsynced to a temporary file beside its target) before any
    is renamed into place; if one fails (a full disk), the staged files are removed and every
    earlier file is left as it was. Only the renames, which need no space, remain after that.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, write in files.items():
            staged.append((_stage(Path(path), write), Path(path)))
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
    for folder in {p.parent for _, p in staged}:
        fsync_folder(folder if str(folder) else ".")
    return [p for _, p in staged]


def table_writer(frame: pd.DataFrame, path: str | Path) -> Callable[[str], Any]:
    """``write(tmp)`` for :func:`atomic_write`: ``frame`` as CSV or Parquet by ``path``'s extension."""
    if Path(path).suffix.lower() == ".csv":
        return lambda tmp: frame.to_csv(tmp, index=False)
    return lambda tmp: frame.to_parquet(tmp, index=False)
