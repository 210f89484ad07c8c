"""Section 1 (compile) and section 10 (startup): the one-off costs a user waits for.

**compile**: JIT compile time. A worker with ``NUMBA_CACHE_DIR`` pointing at a new, empty
temporary folder warms every kernel and the compiled week (``sim.runner.warm_kernels``); a
second worker with the same, now filled, folder does the same: the cost of loading the cached
machine code. Each also reports the seconds from interpreter start to the worker's first line
(``import_s``: importing ``sim`` and the benchmark).

**startup**: ``socialsim --help`` against ``python -c "import numpy"``, median of fresh
processes, alternating (issue 8: no more than 3x).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .measure import PACKAGE_PARENT, load_average, numba_threads, warm
from .workers import WorkerError, run_worker


def _process_s(cmd: Sequence[str], env: dict[str, str]) -> float:
    """Wall seconds of one process running ``cmd``.

    Raises:
        WorkerError: it exited non-zero.
    """
    t = time.perf_counter()
    proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise WorkerError(f"{' '.join(cmd)}: exit status {proc.returncode}; "
                          f"{' | '.join(proc.stderr.strip().splitlines()[-3:])}")
    return seconds


def help_command() -> list[str]:
    """The command a user types for ``socialsim --help`` in this environment."""
    script = Path(sys.executable).with_name("socialsim")
    if script.is_file():
        return [str(script), "--help"]
    return [sys.executable, "-c", "import sys; from sim.cli import app; sys.argv[0] = 'socialsim'; app()", "--help"]


def measure_startup(repeats: int = 5) -> dict[str, Any]:
    """Section 10: ``socialsim --help`` vs ``python -c "import numpy"``, fresh processes, alternating."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_PARENT, env.get("PYTHONPATH", "")) if p)
    cli, numpy_cmd = help_command(), [sys.executable, "-c", "import numpy"]
    _process_s(cli, env)  # file caches
    _process_s(numpy_cmd, env)
    helps, numpys = [], []
    for _ in range(repeats):
        helps.append(_process_s(cli, env))
        numpys.append(_process_s(numpy_cmd, env))
    out = {"help_s": statistics.median(helps), "import_numpy_s": statistics.median(numpys), "repeats": repeats,
           "help_command": " ".join(Path(cli[0]).name if k == 0 else a for k, a in enumerate(cli)),
           "help_times_s": helps, "import_numpy_times_s": numpys, "load": load_average()}
    out["ratio"] = out["help_s"] / out["import_numpy_s"]
    return out



def worker_compile(t_start: float) -> dict[str, Any]:
    """Section 1 in this process: warm every kernel (into or from ``NUMBA_CACHE_DIR``)."""
    imported = time.perf_counter()
    compile_s = warm()
    cache = os.environ.get("NUMBA_CACHE_DIR", "")
    files = sum(1 for p in Path(cache).rglob("*.nbi")) if cache else -1
    threads, layer = numba_threads()
    return {"import_s": imported - t_start, "build_step_s": compile_s, "cache_index_files": files,
            "threads": threads, "threading_layer": layer, "load": load_average()}


def measure_compile() -> pd.DataFrame:
    """Section 1: cold compile (empty cache) vs cache load, each in a fresh process."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="socialsim-numba-cache-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("compile (empty cache)", "cache load (filled cache)"):
            r = run_worker(["compile"], env=env)
            rows.append({"phase": label, "import_s": r["import_s"], "build_step_s": r["build_step_s"],
                         "process_wall_s": r["wall_s"], "cache_index_files": r["cache_index_files"],
                         "threads": r["threads"], "threading_layer": r["threading_layer"], "load": r["load"]})
    return pd.DataFrame(rows)
