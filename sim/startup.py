"""What the command line needs before the model stack: a few constants, the version, and
whether numba still has to compile the kernels.

Everything here uses the standard library only. ``socialsim --help`` and option errors answer
from this module and typer alone; numba, numpy, pandas, Mesa, Dask and pydantic load only when
a command runs (``python -X importtime -m sim.cli --help`` shows it; tests/test_startup.py
checks it).

The kernel-cache check reads numba's cache index files without importing numba. It answers
"cold" when it is sure numba will compile: the compiled week (sim/week.py) has no current
cache entry under its present source fingerprint, or no kernel module has any current index
(same numba, same Python, same source). Anything it cannot tell apart counts as "warm", so the
compile message is never printed when nothing compiles.
"""

from __future__ import annotations

import ast
import hashlib
import os
import pickletools
import re
import sys
from pathlib import Path
from typing import NamedTuple

#: Largest seed: seeds are stored in int64 table columns (same as :data:`sim.scenario.MAX_SEED`).
MAX_SEED = 2**63 - 1

#: Population sizes a user can pick by name (``--population``). A copy of
#: :data:`sim.scenario.POPULATIONS`, so ``--help`` can list them without loading pydantic and the
#: model; tests/test_startup.py checks that the two agree.
POPULATIONS: dict[str, dict[str, int]] = {
    "small": {"employees": 600, "departments": 6, "customers": 6_000},
    "default": {"employees": 3_000, "departments": 12, "customers": 30_000},
    "large": {"employees": 100_000, "departments": 40, "customers": 900_000},
}

#: The line printed (on stderr) before the simulation compiles in a fresh install. (The whole
#: compiled week and its kernels: 45 to 70 s on a busy 2-core machine, a cached load about 3 s.)
COMPILE_MESSAGE = "compiling the simulation once (a minute or so); later runs load it from numba's cache"

PACKAGE_DIR = Path(__file__).resolve().parent

#: A decorator that puts a function in numba's disk cache: ``@njit(cache=True, ...)``.
_CACHED_KERNEL = re.compile(r"^\s*@(?:numba\.)?n?jit\([^\n]*cache\s*=\s*True", re.MULTILINE)

#: The module that builds the compiled week (sim/week.py), and the week's functions a model
#: calls from Python, so each has a cache entry of its own: ``simulate`` (the weeks) and
#: ``record`` (row 0, before the first week). Their compiled names carry a fingerprint of the
#: week's sources (``simulate__numba_<fingerprint>``), so an edit of any of those files leaves
#: the old entries in place under old names: only an entry under the present name counts.
WEEK_MODULE = "week"
WEEK_ENTRY_POINTS = ("simulate", "record")


def version() -> str:
    """The installed socialsim version (as :data:`sim.outputs.__version__`), without the model."""
    from importlib import metadata

    try:
        return metadata.version("socialsim")
    except metadata.PackageNotFoundError:  # a source tree that is not installed
        return "0.2.0+source"


# ------------------------------------------------------------------ numba's kernel cache
def kernel_modules(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The source files of ``package_dir`` that define disk-cached numba kernels.

    Found by their decorators rather than listed, so a kernel module added or renamed later is
    covered without touching this file.
    """
    found = []
    for path in sorted(package_dir.glob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if _CACHED_KERNEL.search(text):
            found.append(path)
    return found


def _usable(folder: Path) -> bool:
    """Whether numba could use ``folder`` as its cache folder (it exists and is writable, or it
    can be created), which is how numba picks among its cache locations."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


def _subpath(source: Path) -> str:
    """numba's folder name for a source file inside a cache root (``<parent>_<sha1 of folder>``)."""
    folder = os.path.dirname(os.path.abspath(source))
    return "_".join([os.path.split(folder)[-1], hashlib.sha1(folder.encode()).hexdigest()])


def _user_cache_root() -> Path | None:
    """numba's user-wide cache root (appdirs' user_cache_dir for "numba") on Linux and macOS."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "numba"
    if sys.platform.startswith("linux"):
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "numba"
    return None  # Windows: not worth guessing


def cache_folder(source: Path) -> Path | None:
    """The folder numba will cache the kernels of ``source`` in, or None if unsure.

    The same order as numba's locators: ``NUMBA_CACHE_DIR`` if set, else ``__pycache__`` beside
    the source, else the user-wide cache.
    """
    user_dir = os.environ.get("NUMBA_CACHE_DIR", "")
    if user_dir:
        folder = Path(user_dir) / _subpath(source)
        if _usable(folder):
            return folder
    in_tree = source.parent / "__pycache__"
    if _usable(in_tree):
        return in_tree
    root = _user_cache_root()
    if root is not None and _usable(root / _subpath(source)):
        return root / _subpath(source)
    return None


def _numba_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("numba")
    except metadata.PackageNotFoundError:
        return None


def _first_values(data: bytes, names: tuple[str, ...], limit: int) -> tuple[list, int | None]:
    """Up to ``limit`` arguments of the opcodes ``names`` in the pickle at the start of ``data``,
    and where that pickle ends. pickletools only reads opcodes: nothing is imported or run."""
    values: list = []
    try:
        for opcode, arg, pos in pickletools.genops(data):
            if opcode.name == "STOP":
                return values, pos + 1
            if opcode.name in names and len(values) < limit:
                values.append(arg)
    except Exception:  # noqa: BLE001 - cut short by our read limit, or not a pickle
        pass
    return values, None


_STAMP_OPS = ("SHORT_BINBYTES", "BINBYTES", "BINFLOAT", "BININT", "BININT1", "BININT2", "LONG1")


def _index_is_current(index: Path, source: Path, numba_version: str) -> bool | None:
    """Whether numba would use the index file ``index`` for ``source`` (None: cannot tell).

    An index holds numba's version (one pickle), then a pickled ``(source stamp, overloads)``.
    The stamp is the SHA-256 of the source (recent numba) or its ``(mtime, size)`` (older numba).
    Both are read with pickletools, which runs nothing: unpickling the overloads would import
    numba, and this check exists to run before numba loads.
    """
    try:
        with open(index, "rb") as f:
            head = f.read(8192)
    except FileNotFoundError:
        return False
    except OSError:
        return None
    written_by, end = _first_values(head, ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"), 1)
    if end is None or len(written_by) != 1:
        return None
    if written_by[0] != numba_version:
        return False  # numba ignores an index written by another version
    stamp, _ = _first_values(head[end:], _STAMP_OPS, 2)
    try:
        if stamp and isinstance(stamp[0], bytes) and len(stamp[0]) == 32:
            return stamp[0] == hashlib.sha256(source.read_bytes()).digest()
        if len(stamp) == 2 and isinstance(stamp[0], float) and isinstance(stamp[1], int):
            st = source.stat()
            return (stamp[0], stamp[1]) == (st.st_mtime, st.st_size)
    except OSError:
        return None
    return None


class WeekPlan(NamedTuple):
    """What the compiled week will be called in numba's cache (read from sim/week.py's source)."""

    source: Path  #: sim/week.py: numba stamps the week's index files with this file's hash
    fingerprint: str  #: :func:`sim.week.source_fingerprint`
    qualnames: tuple[str, ...]  #: the compiled names of :data:`WEEK_ENTRY_POINTS`


def _literal(tree: ast.Module, name: str) -> object:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(name)


def week_plan(package_dir: Path = PACKAGE_DIR) -> WeekPlan | None:
    """The compiled week's cache names, computed as :func:`sim.week.build` does, without
    importing it (that would load numpy and numba); None if ``package_dir`` has no week module
    or it no longer reads as expected (tests/test_startup.py compares with sim.week itself).

    :func:`sim.week.source_fingerprint` is the SHA-256 of the files named in ``DEPENDENCIES``,
    first 10 hex digits; each function of ``ORCHESTRATION`` is compiled as
    ``<name>__numba_<fingerprint>``.
    """
    source = package_dir / f"{WEEK_MODULE}.py"
    try:
        tree = ast.parse(source.read_bytes())
        dependencies, orchestration = _literal(tree, "DEPENDENCIES"), _literal(tree, "ORCHESTRATION")
        if not (isinstance(dependencies, tuple) and isinstance(orchestration, tuple)
                and all(isinstance(d, str) for d in dependencies)
                and set(WEEK_ENTRY_POINTS) <= set(orchestration)):
            return None
        digest = hashlib.sha256()
        for name in dependencies:
            digest.update((package_dir / f"{name}.py").read_bytes())
    except (OSError, SyntaxError, ValueError, LookupError):
        return None
    fingerprint = digest.hexdigest()[:10]
    return WeekPlan(source, fingerprint, tuple(f"{name}__numba_{fingerprint}" for name in WEEK_ENTRY_POINTS))


def _week_state(plan: WeekPlan, numba_version: str, tag: str) -> str | None:
    """``"cold"`` if some entry point of the week has no current cache entry under its present
    name (index and data file), ``"warm"`` if all have one, None if it cannot tell."""
    folder = cache_folder(plan.source)
    if folder is None:
        return None
    for qualname in plan.qualnames:
        # numba's file names: <module>.<qualname>-<first line>.pyXY[abiflags].nbi, data .<n>.nbc
        pattern = f"{plan.source.stem}.{qualname}-*{tag}"
        try:
            indexes = list(folder.glob(pattern + ".nbi"))
        except OSError:
            return None
        current = [_index_is_current(index, plan.source, numba_version) for index in indexes]
        if None in current:
            return None
        if True not in current or not any(folder.glob(pattern + ".*.nbc")):
            return "cold"
    return "warm"


def kernel_cache_state(package_dir: Path = PACKAGE_DIR) -> str:
    """``"cold"`` if numba will compile the simulation from scratch, else ``"warm"``.

    Cold means, in the folder numba will use: the compiled week (:func:`week_plan`) has no
    current cache entry for ``simulate`` or ``record`` under the present source fingerprint (a
    fresh install, a new numba or Python, an edit of any file the week depends on), or no kernel
    module has a current index file at all. Anything unclear (JIT disabled, custom cache
    locators, a ``.numba_config.yaml`` here, an index it cannot read, an unknown platform)
    counts as warm: better no message than a wrong one.
    """
    if os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0") or os.environ.get("NUMBA_CACHE_LOCATOR_CLASSES"):
        return "warm"
    if Path(".numba_config.yaml").exists():  # numba's own config file can move the cache
        return "warm"
    numba_version = _numba_version()
    if numba_version is None:
        return "warm"
    tag = f".py{sys.version_info[0]}{sys.version_info[1]}{getattr(sys, 'abiflags', '')}"
    plan = week_plan(package_dir)
    if plan is not None:
        week = _week_state(plan, numba_version, tag)
        if week != "warm":
            return week or "warm"
    sources = kernel_modules(package_dir)
    if not sources:
        return "warm"
    tag += ".nbi"
    for source in sources:
        folder = cache_folder(source)
        if folder is None:
            return "warm"
        try:
            indexes = [p for p in folder.iterdir() if p.name.startswith(source.stem + ".") and p.name.endswith(tag)]
        except FileNotFoundError:
            indexes = []
        except OSError:
            return "warm"
        for index in indexes:
            if _index_is_current(index, source, numba_version) is not False:
                return "warm"
    return "cold"


# ------------------------------------------------------------------ measuring start-up
def socialsim_command() -> list[str]:
    """How to start the command line in a fresh process: the console script beside this Python,
    else ``python -m sim.cli``."""
    script = Path(sys.executable).with_name("socialsim")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "sim.cli"]


def measure_startup(repeats: int = 5) -> dict[str, float]:
    """Median wall time (s) of fresh processes: ``socialsim --help``, ``socialsim run --help``, an
    option error, ``python -c "import numpy"`` and a bare ``python -c pass``; plus the ratio of
    ``socialsim --help`` to ``import numpy`` (issue 8's target: at most 3).

    The commands run interleaved, after one untimed round that fills the file cache and the
    ``.pyc`` files, so a busy machine slows all of them alike. For the benchmark and
    ``python -m sim.startup``; never for a timed unit test.
    """
    import statistics
    import subprocess
    import time

    cli = socialsim_command()
    commands = {
        "help": [*cli, "--help"],
        "run_help": [*cli, "run", "--help"],
        "option_error": [*cli, "run", "--seed", "x", "provide_and_pray"],
        "import_numpy": [sys.executable, "-c", "import numpy"],
        "python": [sys.executable, "-c", "pass"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(repeats + 1):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            if round_:  # round 0 only warms the caches
                times[name].append(time.perf_counter() - start)
    medians = {f"{name}_s": statistics.median(values) for name, values in times.items()}
    medians["help_vs_import_numpy"] = medians["help_s"] / medians["import_numpy_s"]
    return medians


if __name__ == "__main__":
    figures = measure_startup()
    for key, value in figures.items():
        print(f"{key:22} {value:.3f}" + (" s" if key.endswith("_s") else "x"))
