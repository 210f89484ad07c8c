"""Fuzz-style: malformed scenario files, experiment files and option values through the CLI.

Every case must end as a user error: exit status 2, exactly one line on stderr starting with
``error: ``, no traceback, no output file, and no hang. Most cases run in this process through
typer's CliRunner, each under a SIGALRM deadline (a FIFO that blocked forever would fail the
test, not hang it); a sample also runs through the installed ``socialsim`` command in a real
process with a timeout.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

DEADLINE = 60  # seconds per in-process case (generous: a real case takes well under one)
TINY = 'employees = 120\ndepartments = 2\ncustomers = 200\nweeks = 8\n'

# ------------------------------------------------------------------ malformed scenario files
SCENARIOS: dict[str, str | bytes] = {
    "empty value": "employees = \n",
    "unclosed string": 'name = "abc\n',
    "unclosed table": "[waves\n",
    "binary": b"\x00\xff\xfe\x01garbage\x80",
    "latin-1": "name = \"caf\xe9\"\n".encode("latin-1"),
    "unknown key": TINY + "foo = 1\n",
    "typo key": "employess = 300\n",
    "string for float": TINY + 'posting_friction = "0.6"\n',
    "string for int": 'employees = "many"\n',
    "bool for int": TINY.replace("weeks = 8", "weeks = true"),
    "bool for float": TINY + "posting_friction = true\n",
    "float for int": TINY.replace("employees = 120", "employees = 120.5"),
    "list for float": TINY + "posting_friction = [0.1]\n",
    "table for float": TINY + "posting_friction = {a = 1}\n",
    "date for float": TINY + "posting_friction = 1979-05-27\n",
    "nan": TINY + "posting_friction = nan\n",
    "inf": TINY + "posting_friction = inf\n",
    "-inf": TINY + "threshold_mean = -inf\n",
    "out of range high": TINY + "posting_friction = 2\n",
    "out of range low": TINY + "posting_friction = -0.1\n",
    "zero weeks": TINY.replace("weeks = 8", "weeks = 0"),
    "huge weeks": TINY.replace("weeks = 8", "weeks = 99999999999999999999"),
    "negative employees": TINY.replace("employees = 120", "employees = -5"),
    "more departments than employees": "employees = 5\ndepartments = 10\n",
    "bad literal": TINY + 'access_scope = "some"\n',
    "name not text": TINY + "name = 5\n",
    "waves not a list": TINY + "waves = 3\n",
    "empty waves": TINY + "waves = []\n",
    "wave after horizon": TINY + "[[waves]]\nweek = 100\n",
    "wave negative week": TINY + "[[waves]]\nweek = -1\n",
    "wave no departments": TINY + "[[waves]]\nweek = 0\ndepartments = []\n",
    "wave missing department": TINY + "[[waves]]\nweek = 0\ndepartments = [99]\n",
    "wave bad departments text": TINY + '[[waves]]\nweek = 0\ndepartments = "nowhere"\n',
    "wave departments mixed": TINY + '[[waves]]\nweek = 0\ndepartments = [0, "x"]\n',
    "wave share and departments": TINY + "[[waves]]\nweek = 0\nshare = 0.5\ndepartments = [0]\n",
    "wave share zero": TINY + "[[waves]]\nweek = 0\nshare = 0.0\n",
    "wave unknown key": TINY + "[[waves]]\nweek = 0\nwho = 1\n",
    "wave week text": TINY + '[[waves]]\nweek = "0"\n',
    "shock after horizon": TINY + '[[shocks]]\nweek = 500\nkind = "crisis"\n',
    "shock bad kind": TINY + '[[shocks]]\nweek = 3\nkind = "alien_invasion"\n',
    "shock missing kind": TINY + "[[shocks]]\nweek = 3\n",
    "shock severity text": TINY + '[[shocks]]\nweek = 3\nkind = "crisis"\nseverity = "high"\n',
    "trust order": TINY + "detractor_trust = 0.9\nadvocate_trust = 0.2\n",
    "deep nesting": "x = " + "[" * 5000 + "]" * 5000 + "\n",
    "deep inline tables": "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n",
    "duplicate key": TINY + "employees = 130\n",
}

# ------------------------------------------------------------------ malformed experiment files
EXP = 'name = "fz"\nbase = "provide_and_pray"\npopulation = "small"\nweeks = 8\n'
EXPERIMENTS: dict[str, str] = {
    "no name": 'base = "provide_and_pray"\n',
    "bad name": 'name = "a b/c"\n',
    "unknown key": EXP + "colour = 1\n",
    "replicates text": EXP + 'replicates = "3"\n',
    "replicates bool": EXP + "replicates = true\n",
    "replicates zero": EXP + "replicates = 0\n",
    "root seed negative": EXP + "root_seed = -1\n",
    "root seed huge": EXP + "root_seed = 9223372036854775807\nreplicates = 1\n[set]\nposting_friction = \"x\"\n",
    "unknown base": 'name = "fz"\nbase = "no_such_preset"\n',
    "bad population": EXP.replace('"small"', '"huge"'),
    "set string for float": EXP + '[set]\nposting_friction = "0.6"\n',
    "set bool for int": EXP + "[set]\nemployees = true\n",
    "set unknown lever": EXP + "[set]\nfoo = 1\n",
    "factor unknown": EXP + "[factors.foo]\nvalues = [1, 2]\n",
    "factor values text for float": EXP + '[factors.posting_friction]\nvalues = ["0.1"]\n',
    "factor range reversed": EXP + '[design]\nkind = "latin_hypercube"\nsamples = 4\n'
                             "[factors.posting_friction]\nrange = [0.9, 0.1]\n",
    "factor waves": EXP + "[factors.waves]\nvalues = [1]\n",
    "sobol not power of two": EXP + '[design]\nkind = "sobol"\nsamples = 3\n[factors.posting_friction]\n'
                              "range = [0.1, 0.9]\n",
    "lhs without samples": EXP + '[design]\nkind = "latin_hypercube"\n[factors.posting_friction]\n'
                           "range = [0.1, 0.9]\n",
    "design kind unknown": EXP + '[design]\nkind = "random"\n',
    "enormous design": EXP + 'replicates = 1000000\n[design]\nkind = "latin_hypercube"\nsamples = 10000000\n'
                       "[factors.posting_friction]\nrange = [0.1, 0.9]\n",
    "design above the limit": EXP + "replicates = 200000\n",
    "horizon cuts the schedule": 'name = "fz"\nbase = "purpose_led_under_shocks"\nweeks = 10\n',
    "deep nesting": 'name = "fz"\nx = ' + "[" * 5000 + "]" * 5000 + "\n",
}

# ------------------------------------------------------------------ option values
OPTIONS: dict[str, list[str]] = {
    "seed negative": ["run", "provide_and_pray", "--seed", "-1", "--out", "o.parquet"],
    "seed text": ["run", "provide_and_pray", "--seed", "abc", "--out", "o.parquet"],
    "seed 2**64": ["run", "provide_and_pray", "--seed", "18446744073709551616", "--out", "o.parquet"],
    "seed 2**63": ["compare", "provide_and_pray", "provide_and_pray", "--seed", "9223372036854775808",
                   "--out-dir", "rep"],
    "weeks zero": ["run", "provide_and_pray", "--weeks", "0", "--out", "o.csv"],
    "weeks text": ["run", "provide_and_pray", "--weeks", "ten", "--out", "o.csv"],
    "weeks cut the schedule": ["run", "purpose_led_under_shocks", "--weeks", "10", "--out", "o.csv"],
    "population huge": ["run", "provide_and_pray", "--population", "huge", "--out", "o.csv"],
    "engine unknown": ["run", "provide_and_pray", "--engine", "rust", "--out", "o.csv"],
    "table unknown": ["run", "provide_and_pray", "--table", "nope", "--out", "o.csv"],
    "out extension": ["run", "provide_and_pray", "--out", "o.txt"],
    "out missing folder": ["run", "provide_and_pray", "--out", "missing/o.csv"],
    "set no equals": ["run", "provide_and_pray", "--set", "posting_friction", "--out", "o.csv"],
    "set string for float": ["run", "provide_and_pray", "--set", 'posting_friction="0.6"', "--out", "o.csv"],
    "set text for float": ["run", "provide_and_pray", "--set", "posting_friction=abc", "--out", "o.csv"],
    "set bool for int": ["run", "provide_and_pray", "--set", "weeks=true", "--out", "o.csv"],
    "set unknown key": ["run", "provide_and_pray", "--set", "foo=1", "--out", "o.csv"],
    "replicates zero": ["compare", "provide_and_pray", "--replicates", "0", "--out-dir", "rep"],
    "replicates text": ["compare", "provide_and_pray", "--replicates", "many", "--out-dir", "rep"],
    "unknown preset": ["run", "no_such_preset", "--out", "o.csv"],
    "unknown option": ["run", "provide_and_pray", "--colour", "red", "--out", "o.csv"],
    "missing argument": ["run"],
    "unknown command": ["frobnicate"],
    "workers negative": ["sweep", "exp.toml", "--workers", "-1"],
    "scheduler malformed": ["sweep", "exp.toml", "--scheduler", "not an address"],
    "scheduler no port": ["sweep", "exp.toml", "--scheduler", "tcp://host"],
    "bench sizes text": ["bench", "--sizes", "abc"],
    "bench sizes empty": ["bench", "--sizes", ","],
    "analyze a file": ["analyze", "exp.toml"],
    "analyze missing": ["analyze", "no_such_folder"],
    "analyze not a sweep": ["analyze", "."],
    "dashboard port": ["dashboard", "--port", "70000"],
}


def _write_input(folder: Path, content: str | bytes, name: str) -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _timeout(signum, frame):  # pragma: no cover - only when a case hangs
    raise TimeoutError(f"no answer within {DEADLINE} s")


def check_user_error(args: list[str], cwd: Path) -> None:
    before = {p.name for p in cwd.iterdir()}
    old = os.getcwd()
    previous = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(DEADLINE)
    try:
        os.chdir(cwd)
        result = CliRunner().invoke(app, args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(old)
    assert not isinstance(result.exception, TimeoutError), f"hung: {args}"
    assert result.exit_code == 2, (args, result.exit_code, result.stdout, result.stderr, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, (args, result.stderr)
    assert lines[0].startswith("error: "), lines
    assert "Traceback" not in result.output and "╭" not in result.output, result.output
    assert "\x1b" not in result.stderr
    assert {p.name for p in cwd.iterdir()} == before, "an output file was written"


@pytest.mark.parametrize("case", sorted(SCENARIOS))
@pytest.mark.parametrize("command", ["run", "validate"])
def test_malformed_scenario_file(case: str, command: str, tmp_path: Path) -> None:
    path = _write_input(tmp_path, SCENARIOS[case], "bad.toml")
    args = [command, str(path)] + (["--out", str(tmp_path / "o.parquet")] if command == "run" else [])
    check_user_error(args, tmp_path)


@pytest.mark.parametrize("case", sorted(EXPERIMENTS))
def test_malformed_experiment_file(case: str, tmp_path: Path) -> None:
    path = _write_input(tmp_path, EXPERIMENTS[case], "exp.toml")
    check_user_error(["sweep", str(path), "--workers", "0", "--out", str(tmp_path / "results")], tmp_path)


@pytest.mark.parametrize("case", sorted(OPTIONS))
def test_malformed_option(case: str, tmp_path: Path) -> None:
    _write_input(tmp_path, EXP, "exp.toml")
    check_user_error(OPTIONS[case], tmp_path)


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "too_big", "folder_named_toml"])
def test_files_that_are_not_scenario_files(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    if kind == "fifo":
        os.mkfifo(path)  # reading it would block forever
    elif kind == "dev_zero":
        path.symlink_to("/dev/zero")  # reading it never ends
    elif kind == "too_big":
        path.write_text("# " + "x" * 2_000_000 + "\n")
    else:
        path.mkdir()
    check_user_error(["run", str(path), "--out", str(tmp_path / "o.csv")], tmp_path)
    check_user_error(["validate", str(path)], tmp_path)
    exp = tmp_path / "exp.toml"
    if kind == "fifo":
        os.mkfifo(exp)
    elif kind == "dev_zero":
        exp.symlink_to("/dev/zero")
    elif kind == "too_big":
        exp.write_text("# " + "x" * 2_000_000 + "\n")
    else:
        exp.mkdir()
    check_user_error(["sweep", str(exp), "--workers", "0", "--out", str(tmp_path / "results")], tmp_path)


def test_the_fuzz_has_at_least_60_cases() -> None:
    assert len(SCENARIOS) * 2 + len(EXPERIMENTS) + len(OPTIONS) >= 60


# ------------------------------------------------------------------ through the real command
REAL = ["seed negative", "weeks zero", "population huge", "workers negative", "seed 2**64", "bench sizes text",
        "scheduler malformed", "analyze a file"]


def _command() -> list[str]:
    script = Path(sys.executable).parent / "socialsim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sim.cli"]


@pytest.mark.parametrize("case", REAL)
def test_option_errors_through_the_installed_command(case: str, tmp_path: Path) -> None:
    _write_input(tmp_path, EXP, "exp.toml")
    before = {p.name for p in tmp_path.iterdir()}
    result = subprocess.run(_command() + OPTIONS[case], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "COLUMNS": "80"})
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "╭" not in result.stderr
    assert {p.name for p in tmp_path.iterdir()} == before


def test_fifo_through_the_installed_command(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    result = subprocess.run(_command() + ["validate", str(fifo)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1


if shutil.which("true") is None:  # pragma: no cover
    pytest.skip("needs a POSIX system", allow_module_level=True)
