"""Tests for the ``socialsim`` command line (sim.cli) and the report helpers (sim.report)."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim import report
from sim.cli import app
from sim.scenario import preset_names

TINY = 'name = "{name}"\nemployees = 300\ndepartments = 4\ncustomers = 1000\nweeks = 20\npurpose_strength = {p}\n'

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(name="tiny", p=0.5))
    return path


@pytest.fixture
def other(tmp_path: Path) -> Path:
    path = tmp_path / "other.toml"
    path.write_text(TINY.format(name="other", p=0.9) + "leader_participation = 0.8\n")
    return path


def assert_user_error(result, *needles: str) -> None:
    """Exit 2, one ``error:`` line on stderr that mentions every needle, no traceback."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def leftovers(folder: Path) -> list[str]:
    """Temporary files left behind by an interrupted write."""
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# ------------------------------------------------------------------ run
def test_run_prints_summary(scenario: Path):
    result = invoke("run", scenario, "--seed", 3)
    assert result.exit_code == 0, result.output
    for word in ("verdict:", "seed: 3", "hash:", "active_share", "net_value"):
        assert word in result.stdout


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_run_writes_table_with_provenance(scenario: Path, tmp_path: Path, suffix: str):
    out = tmp_path / f"series{suffix}"
    result = invoke("run", scenario, "--seed", 7, "--out", out)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert len(frame) == 21  # week 0 to 20
    for column in ("seed", "scenario_hash", "version", "week", "active_share"):
        assert column in frame.columns
    assert (frame["seed"] == 7).all()
    assert frame["scenario_hash"].nunique() == 1
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("table,column", [("departments", "department"), ("participation", "employee")])
def test_run_other_tables(scenario: Path, tmp_path: Path, table: str, column: str):
    out = tmp_path / f"{table}.csv"
    result = invoke("run", scenario, "--out", out, "--table", table)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert column in frame.columns and "seed" in frame.columns


def test_run_same_seed_gives_identical_files(scenario: Path, tmp_path: Path):
    paths = []
    for k in range(2):
        for suffix in (".csv", ".parquet"):
            out = tmp_path / f"run{k}{suffix}"
            assert invoke("run", scenario, "--seed", 11, "--out", out).exit_code == 0
            paths.append(out)
    assert paths[0].read_bytes() == paths[2].read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(paths[1]), pd.read_parquet(paths[3]))


def test_run_overrides(scenario: Path, tmp_path: Path):
    out = tmp_path / "o.csv"
    result = invoke("run", scenario, "--steps", 12, "--set", "purpose_strength=0.9",
                    "--set", "use_culture=false", "--engine", "python", "--out", out)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert len(frame) == 13
    assert (frame["engine"] == "python").all()
    base = tmp_path / "b.csv"
    assert invoke("run", scenario, "--weeks", 12, "--out", base).exit_code == 0
    assert pd.read_csv(base)["scenario_hash"][0] != frame["scenario_hash"][0]


def test_run_population_option(scenario: Path):
    result = invoke("run", scenario, "--population", "small", "--weeks", 3)
    assert result.exit_code == 0, result.output


# ------------------------------------------------------------------ compare
def test_compare_writes_report(scenario: Path, other: Path, tmp_path: Path):
    out_dir = tmp_path / "cmp"
    result = invoke("compare", scenario, other, "--replicates", 3, "--seed", 5, "--out-dir", out_dir,
                    env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for word in ("success rate", "verdicts", "active_share", "net_value", "tiny", "other", "["):
        assert word in result.stdout

    summary = pd.read_csv(out_dir / "summary.csv")
    assert len(summary) == 6
    for column in ("seed", "scenario", "scenario_hash", "version", "verdict", "active_share", "net_value"):
        assert column in summary.columns
    seeds = summary.groupby("scenario")["seed"].apply(list)
    assert seeds["tiny"] == seeds["other"]  # common random numbers
    assert len(set(seeds["tiny"])) == 3

    series = pd.read_parquet(out_dir / "series.parquet")
    assert {"scenario", "seed", "week", "active_share"} <= set(series.columns)
    assert len(series) == 6 * 21

    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert "plotly" in page.lower()
    assert "cdn.plot.ly" not in page
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert page.count("plotly.js v") == 1  # inlined once
    assert "tonexty" in page
    assert leftovers(out_dir) == []


def test_compare_failure_leaves_folder_untouched(scenario: Path, tmp_path: Path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("report failed")

    monkeypatch.setattr(report, "compare_report_html", broken)
    out_dir = tmp_path / "cmp"
    result = invoke("compare", scenario, "--replicates", 2, "--weeks", 5, "--out-dir", out_dir)
    assert result.exit_code == 1
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_compare_bad_out_dir(scenario: Path, tmp_path: Path):
    result = invoke("compare", scenario, "--replicates", 2, "--out-dir", tmp_path / "missing" / "cmp")
    assert_user_error(result, "missing", "--out-dir")
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert_user_error(invoke("compare", scenario, "--out-dir", afile), "afile", "--out-dir")


# ------------------------------------------------------------------ presets, validate, levers, others
def test_presets_lists():
    result = invoke("presets", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in preset_names():
        assert name in result.stdout


def test_validate(scenario: Path, other: Path, tmp_path: Path):
    result = invoke("validate", scenario, other)
    assert result.exit_code == 0, result.output
    assert re.search(r"^OK tiny \([0-9a-f]{16}\)$", result.stdout, re.MULTILINE)
    assert re.search(r"^OK other \([0-9a-f]{16}\)$", result.stdout, re.MULTILINE)

    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.format(name="bad", p=0.5) + "posting_friction = 2\n")
    result = invoke("validate", scenario, bad, other)
    assert_user_error(result, "bad.toml", "posting_friction")
    assert "OK tiny" in result.stdout and "OK other" not in result.stdout


def test_levers():
    result = invoke("levers", env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "posting_friction" in result.stdout
    markdown = invoke("levers", "--markdown")
    assert markdown.exit_code == 0
    lines = markdown.stdout.strip().splitlines()
    assert lines[0].startswith("| key | default | range | mechanism | source |")
    row = next(line for line in lines if line.startswith("| posting_friction |"))
    assert "0.0 to 1.0" in row and "0.3" in row


def test_bench_forwards_options(monkeypatch):
    calls = []
    fake = types.ModuleType("sim.bench")
    fake.main = lambda **kwargs: calls.append(kwargs)
    fake.parse_size = lambda name: {}
    monkeypatch.setitem(sys.modules, "sim.bench", fake)
    result = invoke("bench", "--sizes", "10k, 100k", "--quick", "--python-steps", 3, "--sections", "sizes,baseline")
    assert result.exit_code == 0, result.output
    assert calls == [{"sizes": ["10k", "100k"], "quick": True, "python_steps": 3, "sections": ["sizes", "baseline"]}]
    refused = invoke("bench", "--sections", "sizes,everything")
    assert refused.exit_code == 2 and "'everything' is not a section" in refused.output


# ------------------------------------------------------------------ bad input
BAD_FILES = {
    "malformed": ("employees = \n", ["malformed.toml", "TOML"]),
    "unknown_key": ("employes = 300\n", ["unknown_key.toml", "employes"]),
    "wrong_type": ('name = "x"\nemployees = "many"\n', ["wrong_type.toml", "employees"]),
    "out_of_range": ("posting_friction = 2\n", ["out_of_range.toml", "posting_friction"]),
    "impossible": ("employees = 10\ndepartments = 50\n", ["impossible.toml", "departments"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_scenario_files(tmp_path: Path, case: str, command: str):
    text, needles = BAD_FILES[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    out = tmp_path / "out.csv"
    args = [command, path] + (["--out", out] if command == "run" else [])
    assert_user_error(invoke(*args), *needles)
    assert not out.exists() and leftovers(tmp_path) == []


def test_unknown_preset_lists_allowed():
    result = invoke("run", "no_such_preset")
    assert_user_error(result, "no_such_preset", "allowed presets")
    for name in preset_names():
        assert name in result.stderr


@pytest.mark.parametrize("setting,needles", [
    ("posting_friction=2", ["tiny.toml", "--set", "posting_friction"]),
    ("posting_friction=high", ["tiny.toml", "posting_friction"]),
    ("no_such_lever=1", ["tiny.toml", "no_such_lever", "unknown key"]),
    ("no_equals_sign", ["--set", "KEY=VALUE"]),
    ("=1", ["--set"]),
    ("employees=3", ["tiny.toml", "departments"]),
])
def test_bad_set(scenario: Path, tmp_path: Path, setting: str, needles: list[str]):
    out = tmp_path / "out.parquet"
    assert_user_error(invoke("run", scenario, "--set", setting, "--out", out), *needles)
    assert not out.exists() and leftovers(tmp_path) == []


def test_bad_output_paths(scenario: Path, tmp_path: Path):
    assert_user_error(invoke("run", scenario, "--out", tmp_path / "nope" / "x.csv"), "nope", "--out")
    assert_user_error(invoke("run", scenario, "--out", tmp_path / "x.txt"), "x.txt", "--out", ".csv")
    assert_user_error(invoke("run", scenario, "--out", tmp_path), "--out")
    assert not (tmp_path / "nope").exists() and not (tmp_path / "x.txt").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root ignores folder permissions")
def test_read_only_output_folder(scenario: Path, tmp_path: Path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert_user_error(invoke("run", scenario, "--out", locked / "x.csv"), "locked", "not writable")
        assert_user_error(invoke("compare", scenario, "--out-dir", locked / "cmp"), "locked", "not writable")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_unwritable_folder_reported_up_front(scenario: Path, tmp_path: Path, monkeypatch):
    """The same check as above, simulated with os.access so it also runs as root."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    def access(path, mode, **kwargs):
        return False if Path(path) == locked and mode & os.W_OK else real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
    assert_user_error(invoke("run", scenario, "--out", locked / "x.csv"), "locked", "not writable")
    assert_user_error(invoke("compare", scenario, "--out-dir", locked), "locked", "not writable")
    assert list(locked.iterdir()) == []


def test_no_partial_file_when_writing_fails(scenario: Path, tmp_path: Path, monkeypatch):
    def half_write(self, path, *args, **kwargs):
        Path(path).write_text("week,active_share\n0,")
        raise RuntimeError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_write)
    out = tmp_path / "x.csv"
    result = invoke("run", scenario, "--out", out)
    assert result.exit_code == 1
    assert "error: unexpected RuntimeError: disk full (rerun with --debug for details)" in result.stderr
    assert not out.exists() and leftovers(tmp_path) == []


def test_usage_errors_exit_2(scenario: Path):
    assert invoke("run").exit_code == 2
    assert invoke("run", scenario, "--population", "huge").exit_code == 2
    assert invoke("run", scenario, "--weeks", 0).exit_code == 2
    assert invoke("compare", scenario, "--replicates", 0).exit_code == 2
    assert invoke("no-such-command").exit_code == 2


def test_unexpected_error_is_one_line(scenario: Path, monkeypatch):
    import sim.runner

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(sim.runner, "run", boom)
    result = invoke("run", scenario)
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: unexpected RuntimeError: boom (rerun with --debug for details)"


def test_debug_shows_traceback(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("posting_friction = 2\n")
    result = invoke("--debug", "run", bad)
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")


def _console_script() -> str | None:
    local = Path(sys.executable).with_name("socialsim")
    return str(local) if local.exists() else shutil.which("socialsim")


@pytest.mark.skipif(_console_script() is None, reason="socialsim console script not installed")
def test_console_script_exit_code_and_no_traceback(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('employees = "many"\n')
    proc = subprocess.run([_console_script(), "run", str(bad)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "bad.toml" in proc.stderr and "employees" in proc.stderr


# ------------------------------------------------------------------ report helpers
def test_wilson_interval():
    low, high = report.wilson_interval(0, 3)
    assert low == 0.0 and high == pytest.approx(0.5615, abs=1e-4)
    low, high = report.wilson_interval(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert report.wilson_interval(10, 10)[1] == 1.0
    assert all(math.isnan(x) for x in report.wilson_interval(0, 0))


def test_outcome_table_and_run_report(scenario: Path, tmp_path: Path):
    from sim import run

    results = {"tiny": [run(scenario, seed=s, weeks=8) for s in (1, 2, 3)]}
    table = report.outcome_table(results)
    assert set(table.columns) >= {"outcome", "scenario", "median", "low", "high"}
    row = table[table["outcome"] == "active_share"].iloc[0]
    values = sorted(r.summary["active_share"] for r in results["tiny"])
    assert row["median"] == pytest.approx(values[1])
    assert values[0] <= row["low"] <= row["median"] <= row["high"] <= values[2]
    shown = report.display_table(results)
    assert {"success rate", "verdicts", "active_share"} <= set(shown.index)

    path = report.run_report(results["tiny"][0], tmp_path / "run.html")
    page = path.read_text(encoding="utf-8")
    assert "cdn.plot.ly" not in page and "plotly.js v" in page
    assert leftovers(tmp_path) == []
