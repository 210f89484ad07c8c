"""Writing a sweep's part files, and checking them when a sweep resumes.

The format is :mod:`sim.experiments.store`'s: :func:`prepare_output` writes the manifest and the
design before anything runs, :func:`write_batch` each batch's part (series first, each atomically),
and on a resume :func:`set_aside_damaged` moves parts that do not hold what the manifest says into
``OUT/damaged/``, so they run again, and :func:`check_labels` refuses a renamed scenario.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import UserInputError
from ..outputs import FLOAT_COLUMNS, atomic_write
from .spec import SCENARIO_FACTOR, Experiment
from .store import DESIGN, LOCK_FILE, MANIFEST, PARTS, SERIES, part_batches, part_name, read_part
from .worker import SERIES_ID_COLUMNS, SUMMARY_KEYS

if TYPE_CHECKING:  # pragma: no cover
    from .runner import Plan

#: Summary outputs stored as integers (the rest are float64, ``verdict`` text).
INT_SUMMARY = ("peak_week", "cross_silo_ties", "success")


# ------------------------------------------------------------------ writing
def _arrow_type(kind: str):
    import pyarrow as pa

    return {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}[kind]


def part_schema(experiment: Experiment):
    """The Arrow schema of every part file of ``experiment`` (the same in every part)."""
    import pyarrow as pa

    fields = [pa.field(name, pa.int64()) for name in ("run_id", "point_id", "replicate", "seed")]
    fields += [pa.field(name, pa.string()) for name in ("scenario", "scenario_hash", "version", "status", "error")]
    columns = experiment.factor_columns()
    for f in experiment.factors:
        if f.name != SCENARIO_FACTOR:
            fields.append(pa.field(columns[f.name], _arrow_type(f.dtype)))
    for key in SUMMARY_KEYS:
        kind = "int" if key in INT_SUMMARY else "str" if key == "verdict" else "float"
        fields.append(pa.field(key, _arrow_type(kind)))
    return pa.schema(fields)


def series_schema(series_columns: Sequence[str]):
    """The Arrow schema of every series part file."""
    import pyarrow as pa

    fields = [pa.field(name, pa.int64()) for name in SERIES_ID_COLUMNS]
    fields += [pa.field(c, pa.float64() if c in FLOAT_COLUMNS else pa.int64()) for c in series_columns]
    return pa.schema(fields)


def _to_table(frame: pd.DataFrame, schema):
    """``frame`` as an Arrow table of exactly ``schema`` (missing values become nulls)."""
    import pyarrow as pa

    arrays = []
    for fld in schema:
        values = frame[fld.name].tolist() if fld.name in frame.columns else [None] * len(frame)
        values = [None if (isinstance(v, float) and np.isnan(v)) and not pa.types.is_floating(fld.type) else v
                  for v in values]
        arrays.append(pa.array(values, type=fld.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def write_batch(out: Path, batch: int, frame: pd.DataFrame, series: pd.DataFrame | None, schema,
                series_schema_=None) -> None:
    """Write a batch: the series part first, then the part (each atomically)."""
    import pyarrow.parquet as pq

    frame = frame.sort_values("run_id", kind="stable")
    if series is not None:
        series = series.sort_values(["run_id", "week"], kind="stable")
        table = _to_table(series, series_schema_)
        atomic_write(out / SERIES / part_name(batch), lambda tmp: pq.write_table(table, tmp))
    table = _to_table(frame, schema)
    atomic_write(out / PARTS / part_name(batch), lambda tmp: pq.write_table(table, tmp))


def clean_temporary(out: Path) -> int:
    """Delete temporary files a killed writer left behind (``.part-*.tmp``); return how many."""
    removed = 0
    for sub in (out, out / PARTS, out / SERIES):
        if sub.is_dir():
            for path in sub.iterdir():
                if path.name.startswith(".") and path.name.endswith(".tmp"):
                    path.unlink(missing_ok=True)
                    removed += 1
    return removed


def _write_json(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=1, sort_keys=False) + "\n"
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def prepare_output(plan: Plan, out: Path) -> bool:
    """Create the output folder, or check that it holds this experiment. True if resuming.

    Raises:
        UserInputError: the folder holds another experiment, or files that are not a sweep's.
    """
    manifest_path = out / MANIFEST
    if manifest_path.is_file():
        try:
            old = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UserInputError(f"has an unreadable {MANIFEST} ({type(exc).__name__}); allowed: choose another "
                                 "output folder (--out) or delete this one", source=str(out)) from None
        if old.get("spec_hash") != plan.spec_hash:
            raise UserInputError(
                f"holds the results of a different experiment ({old.get('experiment')!r}, spec hash "
                f"{old.get('spec_hash')}; this one is {plan.spec_hash}); allowed: choose another output folder "
                "(--out) or delete this one", source=str(out))
        resuming = True
    else:
        if out.exists() and not out.is_dir():
            raise UserInputError("exists and is not a folder; allowed: a new or empty folder", source=str(out))
        if out.is_dir() and any(p.name != LOCK_FILE for p in out.iterdir()):
            raise UserInputError(f"is not empty and has no {MANIFEST} (not a sweep's folder); allowed: a new or "
                                 "empty folder (--out)", source=str(out))
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserInputError(f"cannot be created ({exc.strerror or exc}); allowed: a path in a writable folder",
                                 source=str(out)) from None
        if not os.access(out, os.W_OK | os.X_OK):
            raise UserInputError("is not writable; allowed: a writable folder", source=str(out))
        _write_json(manifest_path, plan.manifest(out))
        resuming = False
    (out / PARTS).mkdir(exist_ok=True)
    if plan.experiment.spec.outputs == "series":
        (out / SERIES).mkdir(exist_ok=True)
    if not (out / DESIGN).is_file():
        design = plan.design.points
        atomic_write(out / DESIGN, lambda tmp: design.to_parquet(tmp, index=False))
    return resuming


DAMAGED = "damaged"


def part_problem(out: Path, plan: Plan, batch: int, schema, s_schema) -> str | None:
    """Why batch ``batch``'s part files do not hold what the manifest says they should, or None.

    Checked: the part (and the series part) can be read, has the experiment's columns, and holds
    exactly the batch's runs with the manifest's run ids, seeds and scenario hashes (a valid part
    copied over another is caught here).
    """
    from .store import DamagedPart

    try:
        table = read_part(out / PARTS / part_name(batch))
    except DamagedPart as exc:
        return exc.detail.split(";")[0]
    if table.schema.names != schema.names:
        return "its columns are not this experiment's"
    ids = list(plan.batch_run_ids(batch))
    got = table.column("run_id").to_pylist()
    if got != ids:
        return f"it holds runs {got[:3]}... where batch {batch} has runs {ids[:3]}..."
    expected = plan.runs.iloc[ids[0]: ids[-1] + 1]
    if table.column("seed").to_pylist() != expected["seed"].tolist():
        return "its seeds are not the manifest's"
    if table.column("scenario_hash").to_pylist() != expected["scenario_hash"].tolist():
        return "its scenario hashes are not the manifest's"
    if s_schema is not None:
        path = out / SERIES / part_name(batch)
        if not path.is_file():
            return "its series part is missing"
        try:
            series = read_part(path, columns=["run_id"])
        except DamagedPart as exc:
            return "its series part " + exc.detail.split(";")[0]
        if not set(series.column("run_id").to_pylist()) <= set(ids):
            return "its series part holds other runs"
    return None


def set_aside_damaged(out: Path, plan: Plan, batches: Sequence[int], schema, s_schema) -> list[tuple[int, str]]:
    """Move the part files of damaged batches into ``OUT/damaged/`` (so they run again); return them."""
    found = []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for batch in batches:
        why = part_problem(out, plan, batch, schema, s_schema)
        if why is None:
            continue
        (out / DAMAGED).mkdir(exist_ok=True)
        for sub in (PARTS, SERIES):
            path = out / sub / part_name(batch)
            if path.exists():
                os.replace(path, out / DAMAGED / f"{sub}-{part_name(batch)}.{stamp}")
        found.append((batch, why))
    return found


def check_labels(out: Path, plan: Plan, batches: Sequence[int]) -> None:
    """Refuse to resume when the ``scenario`` labels changed since the sweep started (a renamed
    base scenario: the scenario hash leaves the name out, so the runs would be the same but one
    result set would carry two labels).

    Raises:
        UserInputError: names the old and the new label.
    """
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    recorded = manifest.get("labels")
    if recorded is None:  # older manifests: the labels the part files hold
        recorded = list(plan.labels)
        for batch in batches:
            table = read_part(out / PARTS / part_name(batch), columns=["point_id", "scenario"])
            for point, label in zip(table.column("point_id").to_pylist(), table.column("scenario").to_pylist()):
                recorded[point] = label
    for point, (old, new) in enumerate(zip(recorded, plan.labels)):
        if old != new:
            raise UserInputError(f"its runs are labelled {old!r} but the scenario is now named {new!r} (design "
                                 f"point {point}; renamed since the sweep started); allowed: the old name back, "
                                 "or a new output folder (--out)", source=str(out))


def batches_with_failures(out: Path, batches: Sequence[int]) -> list[int]:
    """Which of ``batches`` (finished) hold at least one failed run."""
    import pyarrow.parquet as pq

    found = []
    for b in batches:
        status = pq.read_table(out / PARTS / part_name(b), columns=["status"]).column("status").to_pylist()
        if "failed" in status:
            found.append(b)
    return found


def count_status(out: Path) -> tuple[int, int]:
    """(ok, failed) runs over every part file in ``out``."""
    import pyarrow.parquet as pq

    ok = failed = 0
    for path in part_batches(out / PARTS).values():
        status = pq.read_table(path, columns=["status"]).column("status").to_pylist()
        failed += status.count("failed")
        ok += len(status) - status.count("failed")
    return ok, failed
