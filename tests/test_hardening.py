"""Issue 11: faults in storage (full disk, concurrent sweeps, damaged parts), strict input, and
what a newcomer meets (README commands, table widths, units). Behaviour of the input, CLI and
storage layers only: no test here depends on what the model computes.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.errors import ScenarioError, UserInputError, printable
from sim.experiments import load_results
from sim.experiments.runner import (MAX_RUNS_UNCONFIRMED, check_size, sweep_lock)
from sim.experiments.spec import ExperimentError, load_experiment
from sim.scenario import Scenario, load_scenario, make_scenario

ROOT = Path(__file__).resolve().parent.parent
TINY = 'name = "{name}"\nemployees = 120\ndepartments = 2\ncustomers = 200\nweeks = 8\n'
EXPERIMENT = '''name = "hardening"
base = "{base}"
replicates = 2
batch_size = 2
[set]
employees = 100
departments = 2
customers = 150
weeks = 6
[factors.listening]
values = [0.1, 0.5, 0.9]
'''


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def one_error_line(result, *needles: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(name="tiny"))
    return path


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    base = tmp_path / "base.toml"
    base.write_text(TINY.format(name="alpha"))
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT.format(base="base.toml"))
    return path


def sweep(experiment: Path, out: Path, *extra: str):
    return invoke("sweep", experiment, "--workers", "0", "--out", out, *extra)


# ------------------------------------------------------------------ data and results
def test_compare_on_a_full_disk_keeps_the_earlier_report_whole(tiny, tmp_path, monkeypatch):
    out = tmp_path / "report"
    first = invoke("compare", tiny, "--replicates", "2", "--out-dir", out)
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == {"summary.csv", "series.parquet", "report.html"}
    # the second file of the set fails to write: the first must not have replaced its old version
    monkeypatch.setattr(pd.DataFrame, "to_parquet", disk_full)
    second = invoke("compare", tiny, "--replicates", "2", "--seed", "5", "--out-dir", out)
    one_error_line(second, "disk full")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_run_out_on_a_full_disk_writes_nothing(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    one_error_line(invoke("run", tiny, "--out", tmp_path / "o.csv"), "disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


def test_a_second_sweep_into_a_locked_folder_is_refused(experiment, tmp_path):
    out = tmp_path / "results"
    with sweep_lock(out, "someone_else"):
        line = one_error_line(sweep(experiment, out), "in use by another sweep", f"pid {os.getpid()}",
                              "someone_else")
    assert "--out" in line
    assert not (out / "manifest.json").exists()
    assert sweep(experiment, out).exit_code == 0  # released


def test_a_stale_lock_of_a_dead_sweep_is_taken_over(experiment, tmp_path):
    out = tmp_path / "results"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out.mkdir()
    (out / ".sweep.lock").write_text(json.dumps({"pid": dead.pid, "host": "here", "experiment": "old",
                                                 "started": "2026-01-01T00:00:00+00:00"}))
    result = sweep(experiment, out)
    assert result.exit_code == 0, result.output
    assert f"pid {dead.pid}" in result.stderr and "no longer running" in result.stderr


def test_damaged_parts_are_set_aside_and_run_again(experiment, tmp_path):
    out = tmp_path / "results"
    assert sweep(experiment, out).exit_code == 0
    clean = load_results(out)
    parts = sorted((out / "parts").glob("part-*.parquet"))
    assert len(parts) == 3
    parts[0].write_bytes(os.urandom(4000))  # random bytes
    parts[1].write_bytes(parts[1].read_bytes()[:100])  # truncated
    parts[2].write_bytes(b"")  # empty
    one_error_line(invoke("analyze", out), "is damaged", "rerun")
    again = sweep(experiment, out)
    assert again.exit_code == 0, again.output
    assert again.stderr.count("was damaged") == 3
    assert len(list((out / "damaged").iterdir())) == 3
    pd.testing.assert_frame_equal(load_results(out), clean)
    assert invoke("analyze", out).exit_code == 0


def test_a_valid_part_copied_over_another_is_detected(experiment, tmp_path):
    out = tmp_path / "results"
    assert sweep(experiment, out).exit_code == 0
    clean = load_results(out)
    shutil.copy(out / "parts" / "part-00001.parquet", out / "parts" / "part-00000.parquet")
    again = sweep(experiment, out)
    assert again.exit_code == 0 and "part 0 was damaged" in again.stderr
    runs = load_results(out)
    assert runs["run_id"].tolist() == list(range(6))
    pd.testing.assert_frame_equal(runs, clean)


def test_parts_and_manifest_are_fsynced_before_their_rename(experiment, tmp_path, monkeypatch):
    import sim.outputs as outputs

    synced: list[str] = []
    renamed: list[tuple[str, str, bool]] = []
    real_fsync, real_replace = outputs._fsync_file, os.replace
    monkeypatch.setattr(outputs, "_fsync_file", lambda path: (synced.append(str(path)), real_fsync(path)))

    def replace(src, dst):
        renamed.append((str(src), str(dst), str(src) in synced))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    assert sweep(experiment, tmp_path / "results").exit_code == 0
    targets = [Path(dst).name for _, dst, _ in renamed]
    assert "manifest.json" in targets and targets.count("part-00000.parquet") == 1
    assert all(was_synced for _, _, was_synced in renamed), renamed


def test_analyze_says_how_complete_a_sweep_is(experiment, tmp_path):
    out = tmp_path / "results"
    assert sweep(experiment, out).exit_code == 0
    full = invoke("analyze", out)
    assert "runs: 6 of 6 finished (100%)" in full.stdout and "incomplete" not in full.stderr
    for part in sorted((out / "parts").glob("part-*.parquet"))[1:]:
        part.unlink()
    partial = invoke("analyze", out)
    assert partial.exit_code == 0, partial.output
    assert "runs: 2 of 6 finished (33%)" in partial.stdout
    assert "incomplete: 2 of 6 runs" in partial.stderr


def test_renaming_the_base_scenario_before_a_resume_is_refused(experiment, tmp_path):
    out = tmp_path / "results"
    assert sweep(experiment, out).exit_code == 0
    (out / "parts" / "part-00002.parquet").unlink()  # as if interrupted
    (tmp_path / "base.toml").write_text(TINY.format(name="beta"))
    one_error_line(sweep(experiment, out), "'alpha'", "'beta'", "renamed")
    assert set(load_results(out)["scenario"]) == {"alpha"}


def test_negative_zero_hashes_like_zero():
    assert Scenario(posting_friction=-0.0).scenario_hash() == Scenario(posting_friction=0.0).scenario_hash()


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("changes, key", [
    ({"posting_friction": "0.6"}, "posting_friction"),
    ({"weeks": True}, "weeks"),
    ({"posting_friction": True}, "posting_friction"),
    ({"employees": 300.0}, "employees"),
    ({"waves": [{"week": "0"}]}, "waves[0].week"),
    ({"shocks": [{"week": 1, "kind": "crisis", "severity": "0.5"}]}, "shocks[0].severity"),
])
def test_wrong_types_are_not_coerced(changes, key):
    with pytest.raises(ScenarioError) as err:
        make_scenario(changes, source="test")
    assert err.value.key == key


def test_an_integer_is_a_fine_float():
    assert make_scenario({"posting_friction": 0, "blame_culture": 1}).posting_friction == 0.0


def test_experiment_set_values_are_strict(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text('name = "x"\n[set]\nposting_friction = "0.6"\n')
    with pytest.raises(ExperimentError) as err:
        load_experiment(path)
    assert "set.posting_friction" in str(err.value) and "not a number" in str(err.value)


@pytest.mark.parametrize("schedule, key, fragment", [
    ({"waves": [{"week": 20}]}, "waves[0].week", "never happens"),
    ({"waves": [{"week": 0, "departments": []}]}, "waves[0].departments", "gives no one access"),
    ({"shocks": [{"week": 500, "kind": "crisis"}]}, "shocks[0].week", "never happens"),
    ({"waves": [{"week": 0, "share": 0.5, "departments": [0]}]}, "waves[0].share", "either share or departments"),
])
def test_schedules_that_can_never_act_are_refused(schedule, key, fragment):
    with pytest.raises(ScenarioError) as err:
        make_scenario({"weeks": 20, **schedule}, source="test")
    assert err.value.key == key and fragment in err.value.detail


def test_a_horizon_override_that_cuts_the_schedule_says_so():
    with pytest.raises(ScenarioError) as err:
        sim.run("purpose_led_under_shocks", seed=1, weeks=10, population="small")
    assert err.value.key.startswith("shocks[") and "never happens" in err.value.detail


def test_error_keys_carry_no_pydantic_tags(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[waves]]\nweek = 0\ndepartments = "nowhere"\n')
    line = one_error_line(invoke("validate", path), "waves[0].departments: 'nowhere' is not allowed")
    assert "literal" not in line and "waves.0" not in line


def test_a_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + TINY.format(name="bom").encode())
    assert load_scenario(path).name == "bom"


def test_control_characters_in_a_name_are_escaped(tmp_path):
    path = tmp_path / "ctl.toml"
    path.write_text(TINY.format(name="\\u001b[2Jwiped\\u0007"))
    result = invoke("validate", path)
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b[2Jwiped\\x07" in result.stdout
    assert printable("a\x1bb\nc") == "a\\x1bb\\nc"


def test_enormous_designs_are_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT.format(base="provide_and_pray").replace("replicates = 2", "replicates = 200000"))
    out = tmp_path / "results"
    one_error_line(sweep(path, out), "600,000 runs", "--yes")
    assert not out.exists()
    experiment = load_experiment(path)
    runs, hours = check_size(experiment, confirmed=True)  # --yes lets it through
    assert runs == 600_000 > MAX_RUNS_UNCONFIRMED and hours > 0


def test_seeds_are_checked_before_any_run(tiny, tmp_path):
    with pytest.raises(UserInputError):
        sim.run(tiny, seed=2**64)
    with pytest.raises(UserInputError):
        sim.run(tiny, seed=-1)
    with pytest.raises(UserInputError):
        sim.replicate_seeds(2**63, 3)
    one_error_line(invoke("run", tiny, "--seed", str(2**64), "--out", tmp_path / "o.parquet"), "--seed")
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.parametrize("args, needle", [
    (["--seed", "-1"], "--seed"), (["--weeks", "0"], "--weeks"), (["--population", "huge"], "huge"),
])
def test_option_errors_are_one_line(tiny, args, needle):
    one_error_line(invoke("run", tiny, *args), needle)


# ------------------------------------------------------------------ a newcomer's first hour
def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_every_readme_command_reaches_the_installed_command():
    commands = _readme_commands()
    assert commands
    for line in commands:
        for match in re.finditer(r"(\S*)socialsim(?=\s)", line):
            assert match.group(1).endswith(".venv/bin/") or "activate" in line, line


def test_readme_reproduces_the_canonical_experiments_into_new_folders():
    sweeps = [line for line in _readme_commands() if " sweep experiments/" in line]
    assert sweeps
    for line in sweeps:
        if "--scheduler" not in line:
            assert "--out " in line and "experiments/results" not in line.split("--out ")[1].split()[0], line


def test_readme_shows_batch_run_with_config_and_run_with_population():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'parameters={"config":' in text
    assert 'population="small"' in text


def test_run_takes_a_population_like_the_cli():
    small = sim.run("provide_and_pray", seed=1, population="small", weeks=4)
    assert small.participation.shape[0] == sim.scenario.POPULATIONS["small"]["employees"]
    with pytest.raises(UserInputError):
        sim.run("provide_and_pray", seed=1, population="huge")


def test_levers_are_not_cut_at_80_columns():
    result = invoke("levers", env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert "…" not in result.stdout
    for name in sim.scenario.LEVER_NAMES:
        assert re.search(rf"^{name} = ", result.stdout, flags=re.M), name


def test_compare_headers_are_not_cut_at_80_columns(tmp_path):
    names = ["purpose_led_alpha_variant", "purpose_led_beta_variant", "purpose_led_gamma_variant"]
    paths = []
    for name in names:
        path = tmp_path / f"{name}.toml"
        path.write_text(TINY.format(name=name))
        paths.append(path)
    result = invoke("compare", *paths, "--replicates", "2", "--out-dir", tmp_path / "rep", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    for name in names:
        assert name in result.stdout
    assert "x [a, b] = median [2.5th, 97.5th percentile]" in result.stdout
    assert "fractions" in result.stdout


def test_make_tour_figure_help_prints_help(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "make_tour_figure.py"), "--help"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "usage" in result.stdout.lower()
    assert list(tmp_path.iterdir()) == []


def test_make_tour_figure_refuses_an_option_as_a_path(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "make_tour_figure.py"), "--out"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and list(tmp_path.iterdir()) == []


def test_the_browser_test_writes_screenshots_outside_the_checkout(monkeypatch):
    monkeypatch.delenv("SOCIALSIM_SCREENSHOTS", raising=False)
    import importlib

    import tests.test_dashboard_browser as browser

    browser = importlib.reload(browser)
    assert not browser.SHOTS.resolve().is_relative_to(ROOT)


def test_the_readme_batch_run_example_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "mesa.batch_run" in b)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    rows = namespace["rows"]
    assert len(rows) == 4 and {r["posting_friction"] for r in rows} == {0.1, 0.3}
    assert {r["config"] for r in rows} == {"provide_and_pray"}
