"""A non-editable install works: build the wheel, install it into a fresh virtual environment
without the source tree, and run what the README tells a newcomer to run.

To stay fast the new environment reuses this test environment's installed dependencies (numpy,
numba, streamlit, ...) through a ``.pth`` line, which adds that folder to ``sys.path`` without
running the ``.pth`` files in it, so the editable finder that maps ``sim`` to this checkout is
not active there: ``sim`` and ``dashboard`` come from the wheel alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("setuptools", reason="building the wheel needs setuptools (pip install -e '.[test]')")

SMOKE = """
import sys
from pathlib import Path
import dashboard, sim
from streamlit.testing.v1 import AppTest

root = Path(sys.argv[1]).resolve()
for name, module in (("sim", sim), ("dashboard", dashboard)):
    where = Path(module.__file__).resolve()
    assert where.is_relative_to(Path(sys.prefix).resolve()), (name, where)
assert not any(Path(p or ".").resolve() == root for p in sys.path), sys.path
at = AppTest.from_file(str(Path(dashboard.__file__).parent / "app.py"), default_timeout=240)
at.query_params.update({"weeks": "10"})
at.run()
assert not at.exception, [e.value for e in at.exception]
assert at.title and at.title[0].value, "no page title"
print("smoke ok", sim.__file__, len(sim.preset_names()))
"""


def _copy_source(target: Path) -> Path:
    """The tracked files of the checkout (what a user clones), so the build writes nothing here."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        src = ROOT / name
        if src.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / name)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("wheel")
    source = _copy_source(work / "src")
    dist = work / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(dist), str(source)], check=True, capture_output=True, cwd=work, timeout=300)
    wheel = next(dist.glob("socialsim-*.whl"))
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                    str(wheel)], check=True, capture_output=True, timeout=300)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    shutil.rmtree(source)  # nothing of the checkout is left to fall back on
    cwd = work / "cwd"
    cwd.mkdir()
    return {"python": python, "socialsim": env_dir / "bin" / "socialsim", "cwd": cwd, "wheel": wheel}


def _run(args: list[str], installed: dict[str, Path], timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(SOCIALSIM_DASHBOARD_WORKERS="0", SOCIALSIM_DASHBOARD_POPULATION="small")
    return subprocess.run(args, cwd=installed["cwd"], env=env, capture_output=True, text=True, timeout=timeout)


def test_the_wheel_carries_presets_and_dashboard(installed):
    import zipfile

    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    presets = {p.name for p in (ROOT / "scenarios").glob("*.toml")}
    assert {f"sim/presets/{p}" for p in presets} <= names
    assert {"dashboard/app.py", "dashboard/views/explore.py", "dashboard/views/compare.py",
            "dashboard/views/workshop.py", "dashboard/views/experiments.py"} <= names


def test_presets_from_the_wheel(installed):
    result = _run([str(installed["socialsim"]), "presets"], installed)
    assert result.returncode == 0, result.stderr
    for path in (ROOT / "scenarios").glob("*.toml"):
        assert path.stem in result.stdout


def test_run_a_preset_from_the_wheel(installed):
    result = _run([str(installed["socialsim"]), "run", "provide_and_pray", "--population", "small"], installed)
    assert result.returncode == 0, result.stderr
    assert "verdict:" in result.stdout and "provide_and_pray" in result.stdout
    where = _run([str(installed["python"]), "-c", "import sim; print(sim.__file__)"], installed)
    assert Path(where.stdout.strip()).resolve().is_relative_to(installed["python"].parent.parent.resolve())


def test_dashboard_smoke_from_the_wheel(installed):
    result = _run([str(installed["python"]), "-c", SMOKE, str(ROOT)], installed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke ok" in result.stdout
