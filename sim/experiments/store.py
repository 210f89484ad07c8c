"""The on-disk format of a sweep, and small loaders for it (what analysis code imports).

An output folder ``OUT`` holds:

``OUT/manifest.json``
    The experiment: name, the validated spec, ``spec_hash``, design kind, factors, the SALib
    problem (sampled designs) or null, root seed, replicates, weeks, outputs, code version,
    ``n_points``, ``n_runs``, ``batch_size`` and every run (``run_id``, ``point_id``,
    ``replicate``, ``seed``, ``scenario_hash``, ``batch``). Written atomically before anything
    runs; a sweep into a folder whose manifest has the same ``spec_hash`` resumes.
``OUT/design.parquet``
    One row per design point: ``point_id`` and one column per factor (the value used).
``OUT/parts/part-NNNNN.parquet``
    One file per batch of runs (batch = run_id // batch_size), written atomically: ``run_id,
    point_id, replicate, seed, scenario, scenario_hash, version, status, error``, the factor
    columns, then every key of ``RunResult.summary`` (null/NaN for failed runs).
``OUT/series/part-NNNNN.parquet`` (outputs = "series")
    ``run_id, point_id, replicate, seed, week`` and the chosen weekly columns; written before
    the batch's part file, so a part file's existence means its batch is complete.

``OUT/.sweep.lock``
    Held (``flock``) by the running sweep, and naming it; a lock left by a dead sweep is stale.

Runs are numbered point-major: ``run_id = point_id * replicates + replicate``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import UserInputError

MANIFEST = "manifest.json"
DESIGN = "design.parquet"
PARTS = "parts"
SERIES = "series"
#: The folder's lock (an advisory flock naming its owner; sim.experiments.runner.sweep_lock).
LOCK_FILE = ".sweep.lock"
_PART_RE = re.compile(r"^part-(\d{5,})\.parquet$")


def part_name(batch: int) -> str:
    """File name of a batch's part: ``part-00042.parquet``."""
    return f"part-{batch:05d}.parquet"


def part_batches(folder: str | Path) -> dict[int, Path]:
    """Batch number -> part file, for the finished part files in ``folder`` (temp files ignored)."""
    folder = Path(folder)
    found: dict[int, Path] = {}
    if folder.is_dir():
        for path in folder.iterdir():
            match = _PART_RE.match(path.name)
            if match:
                found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def _check_folder(out_dir: str | Path) -> Path:
    out = Path(out_dir)
    if not (out / MANIFEST).is_file():
        raise UserInputError(f"is not a sweep output folder (no {MANIFEST}); allowed: a folder written by "
                             "`socialsim sweep`", source=str(out))
    return out


def load_manifest(out_dir: str | Path) -> dict[str, Any]:
    """The sweep's ``manifest.json`` as a dict."""
    out = _check_folder(out_dir)
    return json.loads((out / MANIFEST).read_text(encoding="utf-8"))


def load_design(out_dir: str | Path) -> pd.DataFrame:
    """``design.parquet``: one row per design point."""
    out = _check_folder(out_dir)
    return pd.read_parquet(out / DESIGN)


class DamagedPart(UserInputError):
    """A part file that cannot be read (random bytes, truncated, empty)."""


def read_part(path: Path, columns: list[str] | None = None):
    """One part file as an Arrow table; :class:`DamagedPart` (one line) if it cannot be read."""
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=columns)
    except Exception as exc:  # noqa: BLE001 - ArrowInvalid, OSError, ...: all mean "damaged"
        detail = " ".join(str(exc).split())[:200]
        raise DamagedPart(f"is damaged ({type(exc).__name__}: {detail}); allowed: rerun the same "
                          "`socialsim sweep` command, which sets damaged parts aside and runs them again",
                          source=str(path)) from None


def _concat(paths: Iterable[Path], columns: list[str] | None) -> pd.DataFrame | None:
    import pyarrow as pa

    tables = [read_part(p, columns=columns) for p in paths]
    if not tables:
        return None
    table = pa.concat_tables(tables, promote_options="permissive")
    return table.to_pandas()


def load_results(out_dir: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Every finished run (all part files), sorted by ``run_id``.

    Failed runs are included (``status == "failed"``, ``error`` says why, outcomes NaN).
    Integer outcomes (``peak_week``, ``cross_silo_ties``, ``success``) are int64, or float64
    with NaN when some run failed. ``columns`` reads only those columns (``run_id`` is added).
    """
    out = _check_folder(out_dir)
    if columns is not None and "run_id" not in columns:
        columns = ["run_id", *columns]
    frame = _concat(part_batches(out / PARTS).values(), columns)
    if frame is None:
        return pd.DataFrame(columns=columns or ["run_id", "point_id", "replicate", "seed", "scenario",
                                                 "scenario_hash", "version", "status", "error"])
    return frame.sort_values("run_id", kind="stable").reset_index(drop=True)


def load_series(out_dir: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Weekly rows of every finished run (outputs = "series"), sorted by ``run_id`` and ``week``.

    Only batches whose part file exists are read (a series part without its part file belongs
    to a batch that was interrupted and will be rerun).
    """
    out = _check_folder(out_dir)
    if columns is not None:
        columns = list(dict.fromkeys(["run_id", "week", *columns]))
    done = part_batches(out / PARTS)
    paths = [p for b, p in part_batches(out / SERIES).items() if b in done]
    frame = _concat(paths, columns)
    if frame is None:
        return pd.DataFrame(columns=columns or ["run_id", "point_id", "replicate", "seed", "week"])
    return frame.sort_values(["run_id", "week"], kind="stable").reset_index(drop=True)


__all__ = ["DamagedPart", "read_part", "DESIGN", "MANIFEST", "PARTS", "SERIES", "load_design", "load_manifest", "load_results",
           "load_series", "part_batches", "part_name"]
