"""Fast start (issue 8, item 5): help and option errors without the model stack, lazy public
names, and the one-line message when numba compiles the kernels from an empty cache.

No test here is timed: ``python -m sim.startup`` measures start-up against ``import numpy``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim.startup as startup
from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent

#: Top-level packages of the model stack that help and option errors must not load.
HEAVY = ("numba", "numpy", "pandas", "pyarrow", "mesa", "dask", "distributed", "plotly", "streamlit", "scipy",
         "SALib", "networkx", "llvmlite")
#: The only parts of sim a help page or an option error may load.
LIGHT_SIM = {"sim", "sim.cli", "sim.errors", "sim.startup"}

#: Runs the command line's entry point in a fresh interpreter, then writes which modules it loaded.
PROBE = textwrap.dedent("""
    import json, sys
    out, sys.argv = sys.argv[1], ["socialsim", *sys.argv[2:]]
    code = 0
    try:
        from sim.cli import app
        app()
    except SystemExit as exc:
        code = exc.code
    finally:
        with open(out, "w") as f:
            json.dump({"code": code, "modules": sorted(sys.modules)}, f)
""")


def _probe(args: list[str], tmp_path: Path) -> tuple[dict, subprocess.CompletedProcess]:
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", PROBE, str(out), *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env)
    return json.loads(out.read_text()), proc


@pytest.mark.parametrize("args, code", [
    (["--help"], 0),
    (["--version"], 0),
    (["run", "--help"], 0),
    (["compare", "--help"], 0),
    (["sweep", "--help"], 0),
    (["compile", "--help"], 0),
    (["run", "--seed", "x", "provide_and_pray"], 2),
    (["run", "provide_and_pray", "--population", "huge"], 2),
    (["compare", "--replicates", "0", "provide_and_pray"], 2),
    (["no-such-command"], 2),
])
def test_help_and_option_errors_do_not_load_the_model(args, code, tmp_path):
    seen, proc = _probe(args, tmp_path)
    assert seen["code"] == code, proc.stderr
    loaded = set(seen["modules"])
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY), sorted(loaded & set(HEAVY))
    assert {m for m in loaded if m == "sim" or m.startswith("sim.")} <= LIGHT_SIM
    # typer >= 0.2x coerces parameters with pydantic: typer's own cost, not the scenario validation.
    assert "pydantic" not in loaded or "typer._adapters" in loaded
    if args == ["--help"]:
        assert "pydantic" not in loaded
    if code == 2:
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
        assert "Traceback" not in proc.stderr


def test_version_is_the_installed_one():
    from sim.outputs import __version__

    assert startup.version() == __version__


def test_light_constants_match_the_scenario_module():
    from sim import scenario

    assert startup.POPULATIONS == scenario.POPULATIONS
    assert startup.MAX_SEED == scenario.MAX_SEED


def test_population_help_lists_every_population():
    result = CliRunner().invoke(app, ["run", "--help"], terminal_width=400)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for name, size in startup.POPULATIONS.items():
        assert f"{name} ({size['employees']:,} employees)" in text


# ------------------------------------------------------------------ lazy public names
def test_public_names_load_on_first_use():
    check = textwrap.dedent("""
        import sys
        import sim
        assert "sim.model" not in sys.modules and "numba" not in sys.modules, sorted(sys.modules)
        assert sim.__version__ and "pandas" not in sys.modules
        run = sim.run
        from sim import Scenario, SocialBusinessModel, UserInputError, run_replicates
        import sim.model, sim.runner, sim.outputs, sim.scenario
        assert run is sim.runner.run and SocialBusinessModel is sim.model.SocialBusinessModel
        assert Scenario is sim.scenario.Scenario and sim.__version__ == sim.outputs.__version__
        assert sim.classic.threshold_cascade  # submodules load on attribute access, as before
        assert set(sim.__all__) <= set(dir(sim))
        namespace = {}
        exec("from sim import *", namespace)
        assert set(sim.__all__) <= set(namespace)
        assert not hasattr(sim, "no_such_name")
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


# ------------------------------------------------------------------ the kernel cache
KERNEL = "from numba import njit\n\n\n@njit(cache=True)\ndef plus_one(x):\n    return x + 1\n"


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A one-kernel package, standing in for sim/ (compiling it takes a second, not 15)."""
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "kern.py").write_text(KERNEL)
    (folder / "plain.py").write_text("def plus_two(x):\n    return x + 2\n")
    return folder


def _compile(package: Path, env: dict[str, str]) -> None:
    code = f"import sys; sys.path.insert(0, {str(package)!r}); import kern; assert kern.plus_one(1) == 2"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300, env=env)


def _env(**changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update({k: v for k, v in changes.items() if v is not None})
    return env


def test_kernel_modules_are_found_by_their_decorators(package):
    assert startup.kernel_modules(package) == [package / "kern.py"]
    assert startup.PACKAGE_DIR / "kernels.py" in startup.kernel_modules()


@pytest.mark.parametrize("where", ["NUMBA_CACHE_DIR", "__pycache__"])
def test_cache_state_cold_until_compiled_then_warm(package, tmp_path, monkeypatch, where):
    for name in [k for k in os.environ if k.startswith("NUMBA_")]:
        monkeypatch.delenv(name)
    cache = str(tmp_path / "numba-cache") if where == "NUMBA_CACHE_DIR" else None
    if cache:
        monkeypatch.setenv("NUMBA_CACHE_DIR", cache)
    assert startup.kernel_cache_state(package) == "cold"
    _compile(package, _env(NUMBA_CACHE_DIR=cache))
    assert startup.kernel_cache_state(package) == "warm"
    folder = startup.cache_folder(package / "kern.py")
    assert folder is not None and any(folder.glob("kern.plus_one-*.nbi"))
    assert (folder.parent == Path(cache)) if cache else (folder == package / "__pycache__")

    # Edited kernel source: numba recompiles, and the check says so.
    (package / "kern.py").write_text(KERNEL + "# edited\n")
    assert startup.kernel_cache_state(package) == "cold"
    _compile(package, _env(NUMBA_CACHE_DIR=cache))
    assert startup.kernel_cache_state(package) == "warm"

    # Another numba version ignores these index files.
    monkeypatch.setattr(startup, "_numba_version", lambda: "0.0.0")
    assert startup.kernel_cache_state(package) == "cold"


def test_cache_state_says_warm_when_unsure(package, tmp_path, monkeypatch):
    for name in [k for k in os.environ if k.startswith("NUMBA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    folder = startup.cache_folder(package / "kern.py")
    folder.mkdir(parents=True)
    tag = f"py{sys.version_info[0]}{sys.version_info[1]}{getattr(sys, 'abiflags', '')}"
    (folder / f"kern.plus_one-5.{tag}.nbi").write_bytes(b"not an index numba wrote")
    assert startup.kernel_cache_state(package) == "warm"  # unreadable: no message rather than a wrong one
    (folder / f"kern.plus_one-5.{tag}.nbi").unlink()
    assert startup.kernel_cache_state(package) == "cold"
    monkeypatch.setenv("NUMBA_DISABLE_JIT", "1")
    assert startup.kernel_cache_state(package) == "warm"  # nothing compiles at all
    monkeypatch.delenv("NUMBA_DISABLE_JIT")
    monkeypatch.setenv("NUMBA_CACHE_LOCATOR_CLASSES", "UserWideCacheLocator")
    assert startup.kernel_cache_state(package) == "warm"  # a cache we do not look for


# ------------------------------------------------------------------ the message in the CLI
@pytest.fixture
def compiles(monkeypatch) -> list[str]:
    """Replace the compile step by a record of its calls."""
    import sim.runner

    calls: list[str] = []
    monkeypatch.setattr(sim.runner, "warm_kernels", lambda: calls.append("warm"))
    return calls


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text('name = "tiny"\nemployees = 60\ndepartments = 2\ncustomers = 100\nweeks = 3\n')
    return path


@pytest.mark.parametrize("state, engine, expected", [
    ("cold", "numba", True), ("warm", "numba", False), ("cold", "python", False)])
def test_run_says_it_compiles_only_from_a_cold_cache(tiny, compiles, monkeypatch, state, engine, expected):
    import sim.cli

    monkeypatch.setattr(sim.cli, "kernel_cache_state", lambda: state)
    result = CliRunner().invoke(app, ["run", str(tiny), "--engine", engine])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ([startup.COMPILE_MESSAGE] if expected else [])
    assert compiles == (["warm"] if expected else [])
    assert "verdict:" in result.stdout


def test_compare_says_it_once(tiny, compiles, monkeypatch):
    import sim.cli

    monkeypatch.setattr(sim.cli, "kernel_cache_state", lambda: "cold")
    result = CliRunner().invoke(app, ["compare", str(tiny), str(tiny), "--replicates", "2", "--out-dir",
                                      str(tiny.parent / "report")])
    assert result.exit_code == 0, result.output
    assert result.stderr.count(startup.COMPILE_MESSAGE) == 1 and compiles == ["warm"]


def test_compile_command_reports_the_time(compiles, monkeypatch):
    import sim.cli

    states = iter(["cold", "warm"])
    monkeypatch.setattr(sim.cli, "kernel_cache_state", lambda: next(states))
    result = CliRunner().invoke(app, ["compile"])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == startup.COMPILE_MESSAGE
    assert result.stdout.startswith("kernels compiled in ") and compiles == ["warm"]

    monkeypatch.setattr(sim.cli, "kernel_cache_state", lambda: "warm")
    result = CliRunner().invoke(app, ["compile"])
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.startswith("kernels ready")


def test_compile_warns_when_numba_keeps_nothing(compiles, monkeypatch):
    import sim.cli

    monkeypatch.setattr(sim.cli, "kernel_cache_state", lambda: "cold")
    result = CliRunner().invoke(app, ["compile"])
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1].startswith("warning: numba did not keep the compiled kernels")


def test_ci_install_compiles_the_kernels():
    assert '"$venv/bin/socialsim" compile' in (ROOT / ".ci" / "install").read_text()


@pytest.mark.slow
def test_fresh_cache_end_to_end(tmp_path, tiny):
    """A real fresh cache: `socialsim compile` says it compiles, a later run says nothing."""
    env = _env(NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    cli = startup.socialsim_command()
    first = subprocess.run([*cli, "compile"], capture_output=True, text=True, env=env, timeout=900)
    assert first.returncode == 0, first.stderr
    assert first.stderr.strip() == startup.COMPILE_MESSAGE and "kernels compiled in" in first.stdout
    again = subprocess.run([*cli, "run", str(tiny)], capture_output=True, text=True, env=env, timeout=900)
    assert again.returncode == 0 and again.stderr == "", again.stderr
