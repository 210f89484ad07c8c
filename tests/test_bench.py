"""The benchmark's worker (sim/bench.py) on a tiny size: same code path, no timing thresholds."""

from __future__ import annotations

import math

import pytest

from sim import bench


def test_parse_size_named_and_generic():
    assert bench.parse_size("1m") == {"size": "1m", "employees": 100_000, "departments": 40,
                                      "customers": 900_000, "customer_degree": 10.0}
    two = bench.parse_size("2k")
    assert (two["employees"], two["customers"]) == (200, 1_800)
    assert bench.parse_size("0.5M")["employees"] == 50_000
    for bad in ("10", "k", "1g", "0k"):
        with pytest.raises(ValueError):
            bench.parse_size(bad)


def test_size_worker_returns_expected_keys():
    # A fresh interpreter runs the size worker exactly as main() does, with fewer weeks.
    r = bench.measure_size("2k", weeks=3, python_steps=2, single_thread=True)
    positive = ("agents", "weeks", "python_steps", "edges", "org_nnz", "customer_nnz", "threads",
                "build_s", "numba_s", "numba_first_s", "numba_rate", "numba_1thread_s", "python_s",
                "python_rate", "ratio_run", "ratio_same_weeks", "baseline_rss_mib", "warm_rss_mib",
                "peak_rss_numba_mib", "peak_rss_mib", "warmup_s", "wall_s")
    for key in positive:
        assert key in r, key
        assert isinstance(r[key], (int, float)) and math.isfinite(r[key]) and r[key] > 0, (key, r[key])
    assert (r["employees"], r["customers"], r["weeks"], r["python_steps"]) == (200, 1_800, 3, 2)
    assert r["edges"] == r["org_nnz"] + r["customer_nnz"] + r["contacts_nnz"]
    assert r["peak_rss_mib"] >= r["peak_rss_numba_mib"] >= r["baseline_rss_mib"]
    assert r["same_results"] is True  # both engines: same draws, same first weeks
    assert r["recompiled"] is False


def test_targets_table_reports_failures():
    import pandas as pd

    sizes = pd.DataFrame([{"size": "1m", "agents": 1_000_000, "error": "worker size 1m: killed by signal 9"}])
    targets = bench.judge_targets(sizes, None)
    assert (targets["status"] == "NOT MET").all() and len(targets) == 2


def test_baseline_code_is_exported_from_history(tmp_path):
    """Section 5 times model v1 from git history: its code must be reachable from this checkout."""
    folder = bench.export_baseline(bench.BASELINE_REF, tmp_path)
    assert (folder / "sim" / "kernels.py").is_file() and (folder / "scenarios" / "provide_and_pray.toml").is_file()
    assert "drive_of" in (folder / "sim" / "kernels.py").read_text()  # v1's rule, not this code
    with pytest.raises(bench.WorkerError):
        bench.export_baseline("no-such-revision", tmp_path / "x")
