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
#: The command line itself (sim.cli and its modules) and the two light modules it imports.
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
    assert {m for m in loaded if m == "sim" or (m.startswith("sim.") and not m.startswith("sim.cli."))} <= LIGHT_SIM
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
    """A one-kernel package, standing in for sim/ (compiling it takes a second, not a minute)."""
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


# ------------------------------------------------------------------ the compiled week
#: A stand-in for sim/week.py, built the same way: a copy of each function of ORCHESTRATION
#: compiled under ``<name>__numba_<fingerprint of DEPENDENCIES>``, calling a kernel of kern.py.
WEEK = textwrap.dedent("""
    import hashlib
    import types
    from pathlib import Path

    from numba import njit

    import helper
    import kern

    DEPENDENCIES = ("week", "kern", "helper")
    ORCHESTRATION = ("simulate", "record", "never_called")


    def record(x):
        return plus_one(x) + OFFSET


    def simulate(x):
        return record(x) * 2


    def never_called(x):
        return x


    def source_fingerprint():
        digest = hashlib.sha256()
        for name in DEPENDENCIES:
            digest.update((Path(__file__).parent / f"{name}.py").read_bytes())
        return digest.hexdigest()[:10]


    def build():
        namespace = {"__name__": __name__, "plus_one": kern.plus_one, "OFFSET": helper.OFFSET}
        stamp = source_fingerprint()
        for name in ORCHESTRATION:
            original = globals()[name]
            copy = types.FunctionType(original.__code__, namespace, name)
            copy.__qualname__ = f"{name}__numba_{stamp}"
            namespace[name] = njit(cache=True)(copy)
        return namespace
""")


@pytest.fixture
def week_package(package: Path) -> Path:
    (package / "week.py").write_text(WEEK)
    (package / "helper.py").write_text("OFFSET = 10\n")
    return package


def _compile_week(package: Path, env: dict[str, str]) -> str:
    """Run the stand-in week as sim.model does (record, then simulate); return its fingerprint."""
    code = (f"import sys; sys.path.insert(0, {str(package)!r}); import week; ns = week.build(); "
            "assert ns['record'](1) == 12 and ns['simulate'](1) == 24; print(week.source_fingerprint())")
    return subprocess.run([sys.executable, "-c", code], check=True, timeout=300, env=env, capture_output=True,
                          text=True).stdout.strip()


def test_week_plan_names_what_sim_week_compiles():
    from sim import week

    plan = startup.week_plan()
    assert plan is not None and plan.source == startup.PACKAGE_DIR / "week.py"
    assert plan.fingerprint == week.source_fingerprint()
    assert set(startup.WEEK_ENTRY_POINTS) <= set(week.ORCHESTRATION)
    compiled = week.functions("numba")
    assert plan.qualnames == tuple(compiled[name].py_func.__qualname__ for name in startup.WEEK_ENTRY_POINTS)
    assert all(compiled[name]._cache.__class__.__name__ == "FunctionCache" for name in startup.WEEK_ENTRY_POINTS)


def test_week_plan_is_none_without_a_week_module(package):
    assert startup.week_plan(package) is None
    (package / "week.py").write_text("DEPENDENCIES = ('week',)\n")  # no ORCHESTRATION: not the week we know
    assert startup.week_plan(package) is None


def test_cache_state_follows_the_compiled_week(week_package, monkeypatch):
    for name in [k for k in os.environ if k.startswith("NUMBA_")]:
        monkeypatch.delenv(name)
    folder = week_package / "__pycache__"
    assert startup.kernel_cache_state(week_package) == "cold"
    fingerprint = _compile_week(week_package, _env())
    assert fingerprint == startup.week_plan(week_package).fingerprint
    assert startup.kernel_cache_state(week_package) == "warm"
    assert any(folder.glob(f"week.simulate__numba_{fingerprint}-*.nbi"))
    assert not any(folder.glob("week.never_called__*"))  # only what runs is cached, and only that is checked

    # An edit of a file the week depends on (not week.py itself): the entries under the old
    # fingerprint are still current for numba's stamp of week.py, but nothing will load them.
    (week_package / "helper.py").write_text("OFFSET = 10  # edited\n")
    assert startup.kernel_cache_state(week_package) == "cold"
    fingerprint = _compile_week(week_package, _env())
    assert startup.kernel_cache_state(week_package) == "warm"

    # The kernels are cached but the week's entry is gone: numba will compile the week.
    assert any(folder.glob("kern.plus_one-*.nbi"))
    for data in folder.glob(f"week.record__numba_{fingerprint}-*.nbc"):
        data.unlink()
    assert startup.kernel_cache_state(week_package) == "cold"
    _compile_week(week_package, _env())
    assert startup.kernel_cache_state(week_package) == "warm"
    for index in folder.glob(f"week.simulate__numba_{fingerprint}-*.nbi"):
        index.unlink()
    assert startup.kernel_cache_state(week_package) == "cold"


def test_compile_covers_the_week_and_both_kernel_variants(monkeypatch):
    """`socialsim compile` builds the compiled week and runs a tiny model with every loop
    serial, then every loop parallel, so each variant of each kernel gets its cache entry."""
    import sim.cli
    import sim.engine
    import sim.runner
    import sim.week

    runs: list[tuple[int, int]] = []

    def fake_run(scenario, **kwargs):
        runs.append((sim.engine.PARALLEL_FROM_AGENTS, scenario.employees + scenario.customers))

    monkeypatch.setattr(sim.runner, "run", fake_run)
    monkeypatch.setattr(sim.week, "_BUILT", {})
    sim.cli.compile_simulation()
    assert "numba" in sim.week._BUILT
    assert len(runs) == 2
    (serial_from, agents), (parallel_from, _) = runs
    assert serial_from > agents and parallel_from == 0


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
    import sim.startup

    monkeypatch.setattr(sim.startup, "kernel_cache_state", lambda: state)
    result = CliRunner().invoke(app, ["run", str(tiny), "--engine", engine])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ([startup.COMPILE_MESSAGE] if expected else [])
    assert compiles == (["warm"] if expected else [])
    assert "verdict:" in result.stdout


def test_compare_says_it_once(tiny, compiles, monkeypatch):
    import sim.startup

    monkeypatch.setattr(sim.startup, "kernel_cache_state", lambda: "cold")
    result = CliRunner().invoke(app, ["compare", str(tiny), str(tiny), "--replicates", "2", "--out-dir",
                                      str(tiny.parent / "report")])
    assert result.exit_code == 0, result.output
    assert result.stderr.count(startup.COMPILE_MESSAGE) == 1 and compiles == ["warm"]


def test_compile_command_reports_the_time(compiles, monkeypatch):
    import sim.startup

    states = iter(["cold", "warm"])
    monkeypatch.setattr(sim.startup, "kernel_cache_state", lambda: next(states))
    result = CliRunner().invoke(app, ["compile"])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == startup.COMPILE_MESSAGE
    assert result.stdout.startswith("simulation compiled in ") and compiles == ["warm"]

    monkeypatch.setattr(sim.startup, "kernel_cache_state", lambda: "warm")
    result = CliRunner().invoke(app, ["compile"])
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.startswith("simulation ready")


def test_compile_warns_when_numba_keeps_nothing(compiles, monkeypatch):
    import sim.startup

    monkeypatch.setattr(sim.startup, "kernel_cache_state", lambda: "cold")
    result = CliRunner().invoke(app, ["compile"])
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1].startswith("warning: numba did not keep the compiled simulation")


def test_ci_install_compiles_the_kernels():
    assert '"$venv/bin/socialsim" compile' in (ROOT / ".ci" / "install").read_text()


@pytest.mark.slow
def test_fresh_cache_end_to_end(tmp_path, tiny, monkeypatch):
    """A real fresh cache: `socialsim compile` says it compiles and leaves a cache entry for the
    week and for both variants of every kernel; a later run says nothing."""
    from sim import engine

    cache = tmp_path / "cache"
    env = _env(NUMBA_CACHE_DIR=str(cache))
    cli = startup.socialsim_command()
    first = subprocess.run([*cli, "compile"], capture_output=True, text=True, env=env, timeout=1800)
    assert first.returncode == 0, first.stderr
    assert first.stderr.strip() == startup.COMPILE_MESSAGE and "simulation compiled in" in first.stdout
    for name in [k for k in os.environ if k.startswith("NUMBA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    assert startup.kernel_cache_state() == "warm"
    files = {p.name for p in cache.rglob("*.nbi")}
    expected = [f"week.{q}-" for q in startup.week_plan().qualnames]
    expected += [f"kernels.{k}{variant}-" for k in engine.PARALLEL_KERNELS for variant in ("", "_serial")]
    expected += [f"kernels.{k}-" for k in ("grow_weak_ties", "drop_weak_ties")]
    expected += ["rng.fill_uniforms-", "rng.fill_uniforms_serial-"]
    assert [e for e in expected if not any(f.startswith(e) for f in files)] == [], sorted(files)
    again = subprocess.run([*cli, "run", str(tiny)], capture_output=True, text=True, env=env, timeout=1800)
    assert again.returncode == 0 and again.stderr == "", again.stderr
