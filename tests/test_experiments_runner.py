"""The sweep runner: local runs end to end, failed-run recording, resume after kill -9, the on-disk format."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.experiments import (
    load_design,
    load_manifest,
    load_results,
    load_series,
    plan_experiment,
    run_sweep,
)
from sim.experiments.runner import Plan
from sim.experiments.worker import SUMMARY_KEYS, run_batch
from sim.experiments.spec import RUN_COLUMNS, load_experiment
from sim.outputs import SUMMARY_COLUMNS

TINY = {"employees": 80, "departments": 2, "customers": 200, "weeks": 10}
MANIFEST_KEYS = {"experiment", "spec", "spec_hash", "design", "factors", "problem", "root_seed", "replicates",
                 "weeks", "outputs", "version", "n_points", "n_runs", "batch_size", "runs", "created"}

FACTORIAL = '''
name = "local_e2e"
base = "purpose_led_big_bang"
replicates = 2
root_seed = 99
outputs = "series"
series_columns = ["active_share", "members", "net_value"]
batch_size = 3
[set]
departments = 2
customers = 200
weeks = 10
[factors.listening]
values = [0.1, 0.6]
[factors.employees]
range = [80, 120]
steps = 2
[factors.cross_silo_ties]
values = [0.5, 2.0]
'''


def write(folder: Path, text: str, name: str = "exp.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def leftovers(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_local_run_end_to_end(tmp_path: Path) -> None:
    path = write(tmp_path, FACTORIAL)
    report = run_sweep(path, workers=2)  # the default executor: a LocalCluster of 2 worker processes
    out = tmp_path / "results" / "local_e2e"
    assert report.out == out and report.executor == "local Dask cluster" and report.workers == 2
    assert (report.n_runs, report.ran, report.ok, report.failed) == (16, 16, 16, 0)
    assert all(w["numba_threads"] == 1 and w["pid"] != os.getpid() for w in report.worker_info)

    # manifest: the contract's keys, every run with its seed and scenario hash
    manifest = load_manifest(out)
    assert MANIFEST_KEYS <= set(manifest)
    assert manifest["n_points"] == 8 and manifest["n_runs"] == 16 and manifest["batch_size"] == 3
    assert manifest["design"] == "full_factorial" and manifest["problem"] is None
    assert manifest["factors"]["employees"] == {"kind": "range", "low": 80.0, "high": 120.0, "steps": 2,
                                                "values": [80, 120], "integer": True}
    assert manifest["factors"]["listening"] == {"kind": "values", "values": [0.1, 0.6], "integer": False}
    assert manifest["factor_columns"]["cross_silo_ties"] == "factor_cross_silo_ties"  # a summary key too
    assert [r["run_id"] for r in manifest["runs"]] == list(range(16))
    assert manifest["version"] == sim.__version__ and manifest["weeks"] == 10 and manifest["outputs"] == "series"

    # design.parquet: one row per point, the values used
    design = load_design(out)
    assert design.columns.tolist() == ["point_id", "listening", "employees", "cross_silo_ties"]
    assert len(design) == 8 and design["employees"].tolist() == [80, 80, 120, 120] * 2

    # parts: complete, in the contract's column order
    results = load_results(out)
    factor_cols = ["listening", "employees", "factor_cross_silo_ties"]
    assert results.columns.tolist() == [*RUN_COLUMNS, *factor_cols, *SUMMARY_COLUMNS, "verdict"]
    assert results["run_id"].tolist() == list(range(16))
    assert (results["status"] == "ok").all() and (results["error"] == "").all()
    assert len(list((out / "parts").glob("part-*.parquet"))) == 6 and not leftovers(out)
    for r in manifest["runs"]:
        row = results.iloc[r["run_id"]]
        assert (row["seed"], row["scenario_hash"], row["point_id"]) == (r["seed"], r["scenario_hash"], r["point_id"])

    # two rows equal direct sim.run calls for that point and seed, exactly
    series = load_series(out)
    assert len(series) == 16 * 11
    assert series.columns.tolist() == ["run_id", "point_id", "replicate", "seed", "week", "active_share", "members",
                                       "net_value"]
    for run_id in (5, 14):
        row = results.iloc[run_id]
        direct = sim.run("purpose_led_big_bang", seed=int(row["seed"]), departments=2, customers=200, weeks=10,
                         listening=float(row["listening"]), employees=int(row["employees"]),
                         cross_silo_ties=float(row["factor_cross_silo_ties"]))
        assert direct.scenario_hash == row["scenario_hash"] and direct.seed == row["seed"]
        for key in SUMMARY_KEYS:
            assert row[key] == direct.summary[key], key
        weekly = series[series["run_id"] == run_id].reset_index(drop=True)
        pd.testing.assert_frame_equal(weekly[["week", "active_share", "members", "net_value"]],
                                      direct.series[["week", "active_share", "members", "net_value"]])

    # the serial in-process path gives the same files
    serial = run_sweep(path, out=tmp_path / "serial", workers=0)
    assert serial.executor == "serial" and serial.ok == 16
    pd.testing.assert_frame_equal(load_results(tmp_path / "serial"), results)
    pd.testing.assert_frame_equal(load_series(tmp_path / "serial"), series)
    pd.testing.assert_frame_equal(load_design(tmp_path / "serial"), design)


def test_failed_runs_are_recorded_not_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that raises is one row with status, error and parameters; the others are fine.

    The failure is injected into ``sim.run`` in this process, so the sweep uses the serial
    in-process path (``--workers 0``): the same ``run_batch`` the workers run.
    """
    path = write(tmp_path, 'name = "flaky"\nbase = "two_track"\nreplicates = 2\nbatch_size = 1\n[set]\n'
                           + "".join(f"{k} = {v}\n" for k, v in TINY.items()) +
                           '[factors.listening]\nvalues = [0.1, 0.6]\n[factors.use_culture]\nvalues = [true, false]\n')
    real_run = sim.run
    seeds = sim.replicate_seeds(0, 2)

    def flaky(scenario, *, seed=None, **kw):
        if scenario.listening == 0.6 and not scenario.use_culture and seed == seeds[1]:
            raise RuntimeError("boom:\nthe model fell over")
        return real_run(scenario, seed=seed, **kw)

    monkeypatch.setattr(sim, "run", flaky)
    runner = CliRunner()
    result = runner.invoke(app, ["sweep", str(path), "--workers", "0"])
    assert result.exit_code == 0, result.output
    assert "8 runs, 7 ok, 1 failed" in result.stdout
    assert result.stderr.strip().startswith("warning: 1 run failed;")
    out = tmp_path / "results" / "flaky"
    results = load_results(out)
    assert len(results) == 8  # never dropped
    failed = results[results["status"] == "failed"]
    assert failed["run_id"].tolist() == [7]  # point 3 (listening 0.6, use_culture false), replicate 1
    row = failed.iloc[0]
    assert row["error"] == "RuntimeError: boom: the model fell over"
    assert (row["listening"], row["use_culture"], row["seed"], row["replicate"]) == (0.6, False, seeds[1], 1)
    assert row["scenario"] == "two_track" and len(row["scenario_hash"]) == 16
    assert math.isnan(row["active_share"]) and math.isnan(row["peak_week"]) and pd.isna(row["verdict"])
    ok = results[results["status"] == "ok"]
    assert ok["active_share"].notna().all() and (ok["error"] == "").all()

    # --strict: the same (finished) sweep exits 1 because of the recorded failure
    strict = runner.invoke(app, ["sweep", str(path), "--workers", "0", "--strict"])
    assert strict.exit_code == 1 and "nothing left to run" in strict.stdout

    # --retry-failed reruns only the batch holding the failure
    monkeypatch.setattr(sim, "run", real_run)
    before = {p.name: p.stat().st_mtime_ns for p in (out / "parts").iterdir()}
    retry = runner.invoke(app, ["sweep", str(path), "--workers", "0", "--retry-failed"])
    assert retry.exit_code == 0, retry.output
    assert "8 runs, 8 ok, 0 failed (7 already done, 1 run now" in retry.stdout
    after = {p.name: p.stat().st_mtime_ns for p in (out / "parts").iterdir()}
    assert [name for name in before if before[name] != after[name]] == ["part-00007.parquet"]
    assert (load_results(out)["status"] == "ok").all()


class WorkerKiller:
    """Stands in for a scenario; any use of it outside the test process ends that process at once."""

    def __getattr__(self, name: str):
        if os.environ.get("SOCIALSIM_TEST_PID") != str(os.getpid()):
            os._exit(3)  # a crash no try/except can catch (like a segfault or the OOM killer)
        raise AttributeError(name)


def test_runs_whose_worker_dies_are_recorded_as_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dask

    path = write(tmp_path, 'name = "crash"\nreplicates = 2\nbatch_size = 2\n[set]\n' +
                 "".join(f"{k} = {v}\n" for k, v in TINY.items()) + '[factors.listening]\nvalues = [0.1, 0.5, 0.9]\n')
    monkeypatch.setenv("SOCIALSIM_TEST_PID", str(os.getpid()))
    original = Plan.tasks

    def tasks(self: Plan, batch: int) -> list[dict]:
        out = original(self, batch)
        if batch == 1:
            out[0]["scenario"] = WorkerKiller()
        return out

    monkeypatch.setattr(Plan, "tasks", tasks)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # the first death is final
        report = run_sweep(path, workers=1)
    out = tmp_path / "results" / "crash"
    results = load_results(out)
    assert len(results) == 6 and report.ok + report.failed == 6  # every run recorded, none dropped
    failed = results[results["status"] == "failed"]
    # The batch whose run killed the worker; Dask also charges a death to any other batch that was
    # on that worker at the time (e.g. finished but not yet reported): recorded the same way.
    assert {2, 3} <= set(failed["run_id"]), results[["run_id", "status", "error"]].values.tolist()
    assert failed["error"].str.startswith("KilledWorker: ").all()
    crashed = results[results["run_id"].isin([2, 3])]
    assert crashed["listening"].tolist() == [0.5, 0.5] and crashed["seed"].tolist() == sim.replicate_seeds(0, 2)
    assert results.loc[results["status"] == "ok", "active_share"].notna().all()

    monkeypatch.setattr(Plan, "tasks", original)  # the crash is gone: --retry-failed completes the sweep
    retry = run_sweep(path, workers=0, retry_failed=True)
    assert (retry.ok, retry.failed, retry.ran) == (6, 0, len(failed))


def test_run_batch_never_raises_for_one_bad_run(tmp_path: Path) -> None:
    exp = load_experiment(write(tmp_path, 'name = "b"\nreplicates = 2\n[set]\n' +
                                "".join(f"{k} = {v}\n" for k, v in TINY.items())))
    tasks = plan_experiment(exp).tasks(0)
    tasks[0]["seed"] = -1  # sim.run refuses a negative seed: a real error from the core
    frame, series = run_batch(tasks)
    assert frame["status"].tolist() == ["failed", "ok"] and series is None
    assert frame["error"][0].startswith("UserInputError: seed: -1 is not a seed")


def test_output_folder_of_another_experiment_is_refused(tmp_path: Path) -> None:
    runner = CliRunner()
    first = write(tmp_path, 'name = "one"\nout = "shared"\n[set]\n' + "".join(f"{k} = {v}\n" for k, v in TINY.items()))
    assert runner.invoke(app, ["sweep", str(first), "--workers", "0"]).exit_code == 0
    second = write(tmp_path, first.read_text().replace("weeks = 10", "weeks = 11"), "two.toml")
    result = runner.invoke(app, ["sweep", str(second), "--workers", "0"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / 'shared'}: holds the results of a different "
                                                   "experiment"), lines
    assert "choose another output folder (--out) or delete this one" in lines[0]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["sweep", str(second), "--workers", "0", "--out", str(tmp_path / "other")])
    assert result.exit_code == 2 and "is not empty and has no manifest.json" in result.stderr
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["notes.txt"]


KILL_SPEC = '''
name = "killed"
base = "purpose_led_big_bang"
replicates = 2
root_seed = 5
outputs = "series"
batch_size = 2
[set]
employees = 300
departments = 3
customers = 1500
weeks = 30
[design]
kind = "latin_hypercube"
samples = 16
[factors.listening]
range = [0.0, 1.0]
[factors.posting_friction]
range = [0.0, 0.8]
'''


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_resume_after_kill_9_equals_uninterrupted(tmp_path: Path) -> None:
    path = write(tmp_path, KILL_SPEC)  # 16 points x 2 replicates = 32 runs in 16 batches
    out = tmp_path / "results" / "killed"
    command = [sys.executable, "-m", "sim.cli", "sweep", str(path), "--workers", "2"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            cwd=tmp_path)
    deadline = time.monotonic() + 180
    try:
        while len(list((out / "parts").glob("part-*.parquet"))) < 2:
            if proc.poll() is not None:
                pytest.fail(f"the sweep ended (status {proc.returncode}) before it could be killed: "
                            f"{proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("no part file appeared within 180 s")
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)  # the runner and its LocalCluster workers
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group_alive(proc.pid), "worker processes survived the kill"
    kept = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / "parts").glob("part-*.parquet")}
    assert 2 <= len(kept) < 16, f"killed after {len(kept)} of 16 batches: not mid-sweep"

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert f"32 runs, 32 ok, 0 failed ({2 * len(kept)} already done" in rerun.stdout
    for name, stat in kept.items():  # finished batches were not run again
        p = out / "parts" / name
        assert (p.stat().st_ino, p.stat().st_mtime_ns) == stat, name
    assert not leftovers(out)

    reference = run_sweep(path, out=tmp_path / "uninterrupted", workers=0)
    assert reference.ok == 32
    pd.testing.assert_frame_equal(load_results(out), load_results(tmp_path / "uninterrupted"))
    pd.testing.assert_frame_equal(load_series(out), load_series(tmp_path / "uninterrupted"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["spec_hash"] == load_manifest(tmp_path / "uninterrupted")["spec_hash"]
