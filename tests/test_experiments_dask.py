"""Sweeps on a real Dask cluster: a scheduler and two workers started as separate processes on loopback.

Nothing here is skipped: if the cluster cannot start, the fixture fails with the processes' logs.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiments import load_manifest, load_results, load_series, run_sweep
from sim.experiments.bench import LoopbackCluster, loopback_cluster

SPEC = '''
name = "on_dask"
base = "purpose_led_big_bang"
replicates = 2
root_seed = 31
outputs = "series"
batch_size = 2
[set]
employees = 100
departments = 2
customers = 300
weeks = 12
[design]
kind = "sobol"
samples = 2
[factors.listening]
range = [0.0, 1.0]
[factors.blame_culture]
range = [0.0, 0.8]
'''  # Sobol' N = 2, D = 2: 2 * (2*2 + 2) = 12 points, 24 runs, 12 batches


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("dask-cluster")
    try:
        with loopback_cluster(2, folder=folder, timeout=180) as running:
            assert running.scheduler.poll() is None and all(w.poll() is None for w in running.workers)
            yield running
    except RuntimeError as exc:  # a cluster that cannot start is a failure, never a skip
        pytest.fail(f"could not start a Dask scheduler and 2 workers on loopback: {exc}")


def write(folder: Path, text: str) -> Path:
    path = folder / "exp.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_dask_cluster_gives_the_same_results_as_local(cluster: LoopbackCluster, tmp_path: Path) -> None:
    path = write(tmp_path, SPEC)
    result = CliRunner().invoke(app, ["sweep", str(path), "--scheduler", cluster.address,
                                      "--out", str(tmp_path / "dask")])
    assert result.exit_code == 0, result.output
    assert "24 runs, 24 ok, 0 failed" in result.stdout and f"dask scheduler {cluster.address}" in result.stdout

    local = run_sweep(path, out=tmp_path / "local", workers=2)
    assert local.executor == "local Dask cluster" and local.ok == 24
    pd.testing.assert_frame_equal(load_results(tmp_path / "dask"), load_results(tmp_path / "local"))
    pd.testing.assert_frame_equal(load_series(tmp_path / "dask"), load_series(tmp_path / "local"))
    manifest = load_manifest(tmp_path / "dask")
    assert manifest["problem"]["names"] == ["listening", "blame_culture"] and manifest["n_points"] == 12
    assert manifest["spec_hash"] == load_manifest(tmp_path / "local")["spec_hash"]


def test_runs_happen_on_the_cluster_workers(cluster: LoopbackCluster, tmp_path: Path) -> None:
    path = write(tmp_path, SPEC.replace("replicates = 2", "replicates = 1"))
    pids = set(cluster.worker_pids().values())
    report = run_sweep(path, scheduler=cluster.address)
    assert report.executor == f"dask scheduler {cluster.address}" and report.workers == 2 and report.ok == 12
    assert {w["pid"] for w in report.worker_info} == pids and os.getpid() not in pids
    assert all(w["numba_threads"] == 1 for w in report.worker_info)


def test_worker_killed_mid_sweep_results_complete_and_identical(cluster: LoopbackCluster, tmp_path: Path) -> None:
    heavier = SPEC.replace("employees = 100", "employees = 300").replace("customers = 300", "customers = 1500") \
        .replace("weeks = 12", "weeks = 30").replace("samples = 2", "samples = 4")  # 48 runs in 24 batches
    path = write(tmp_path, heavier)
    out = tmp_path / "dask"
    victim = min(cluster.worker_pids().values())
    box: dict[str, object] = {}

    def sweep() -> None:
        try:
            box["report"] = run_sweep(path, out=out, scheduler=cluster.address)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            box["error"] = exc

    thread = threading.Thread(target=sweep, daemon=True)
    thread.start()
    deadline = time.monotonic() + 180
    while not list((out / "parts").glob("part-*.parquet")):
        if not thread.is_alive():
            pytest.fail(f"the sweep ended before a worker could be killed: {box}")
        if time.monotonic() > deadline:
            pytest.fail("no part file appeared within 180 s")
        time.sleep(0.005)
    os.kill(victim, signal.SIGKILL)  # the worker process; its nanny restarts it
    at_kill = len(list((out / "parts").glob("part-*.parquet")))
    thread.join(timeout=300)
    assert not thread.is_alive(), "the sweep did not finish after a worker was killed"
    assert "error" not in box, box.get("error")
    report = box["report"]
    assert report.ok == 48 and report.failed == 0, report
    done = len(list((out / "parts").glob("part-*.parquet")))
    assert done == 24 and at_kill < 24, f"killed after {at_kill} of 24 batches: not mid-sweep"
    reference = run_sweep(path, out=tmp_path / "serial", workers=0)
    pd.testing.assert_frame_equal(load_results(out), load_results(tmp_path / "serial"))
    pd.testing.assert_frame_equal(load_series(out), load_series(tmp_path / "serial"))
    assert reference.ok == 48
    # the cluster heals: two workers again (the nanny restarted the killed one)
    from distributed import Client

    with Client(cluster.address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=120)
        assert victim not in client.run(os.getpid).values()
