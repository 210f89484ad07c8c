"""Fresh worker processes: every measurement of ``socialsim bench`` runs in one.

The parent (:func:`sim.bench.suite.main`) calls :func:`run_worker`, which starts ``python -c``
calling :func:`worker` in a new interpreter; the worker runs one measurement of one section
and prints it as one JSON line marked :data:`RESULT_MARK`. So the peak resident memory of a
worker belongs to that measurement alone, no measurement inherits another's caches or
threads, and all of them run in the same invocation, on the same machine under the same load.
``python -m sim.bench --worker KIND ARGS...`` runs one by hand.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from .measure import PACKAGE_PARENT, json_default

RESULT_MARK = "BENCH-RESULT "


def _flag(text: str) -> bool:
    return text == "1"


def _steps(text: str) -> int | None:
    return None if text == "-" else int(text)


#: Worker kinds: module of sim.bench, function, and how to read each argument.
WORKERS: dict[str, tuple[str, str, tuple[Callable[[str], Any], ...]]] = {
    "compile": ("startup", "worker_compile", ()),
    "size": ("sizes", "worker_size", (str, int, _steps, _flag, _flag)),
    "edges": ("sizes", "worker_edges", (int,)),
    "default": ("throughput", "worker_default", (int, int, _flag)),
    "mesa": ("baselines", "worker_mesa", (str, int)),
    "floor": ("baselines", "worker_floor", (str, int)),
    "throughput": ("throughput", "worker_throughput", (str, int, int, int)),
    "cascade": ("cascade", "worker_cascade", (int, int, _flag, int)),
}


class WorkerError(RuntimeError):
    """A worker process failed (non-zero exit, killed, or no result line)."""


def worker(argv: Sequence[str], t_start: float | None = None) -> dict[str, Any]:
    """Run one measurement in this process and print it as one JSON line; returns it too.

    ``argv``: ``compile`` | ``size SPEC WEEKS PYTHON_STEPS|- SINGLE(0/1) QUICK(0/1)`` |
    ``edges WEEKS`` | ``default RUNS REPLICATES SINGLE(0/1)`` | ``mesa SPEC WEEKS`` |
    ``floor POPULATION REPEATS`` | ``throughput POPULATION RUNS BATCH ROUNDS`` |
    ``cascade NODES DEGREE NDLIB(0/1) REPEATS``. ``t_start``: when the interpreter started
    (the compile worker reports the import time from it).

    Raises:
        ValueError: unknown kind or wrong number of arguments.
    """
    t_start = time.perf_counter() if t_start is None else t_start
    kind, *args = argv
    if kind not in WORKERS:
        raise ValueError(f"unknown worker {kind!r}; allowed: {', '.join(WORKERS)}")
    module, name, readers = WORKERS[kind]
    if len(args) != len(readers):
        raise ValueError(f"worker {kind}: {len(args)} arguments; allowed: {len(readers)}")
    fn = getattr(importlib.import_module(f"{__package__}.{module}"), name)
    values = [read(text) for read, text in zip(readers, args)]
    result = fn(t_start) if kind == "compile" else fn(*values)
    print(RESULT_MARK + json.dumps(result, default=json_default), flush=True)
    return result


def run_worker(args: Sequence[Any], env: dict[str, str] | None = None,
               timeout: float | None = None) -> dict[str, Any]:
    """Run ``worker(args)`` in a fresh interpreter; returns its JSON result with ``wall_s`` added.

    Raises:
        WorkerError: the process failed; the message has its exit status and last stderr lines.
    """
    full_env = dict(os.environ if env is None else env)
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_PARENT, full_env.get("PYTHONPATH", "")) if p)
    code = ("import time; _t = time.perf_counter(); from sim.bench.workers import worker; "
            f"worker({list(map(str, args))!r}, _t)")
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env,
                          timeout=timeout, check=False)
    wall = time.perf_counter() - t
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_MARK)]
    if proc.returncode != 0 or not lines:
        how = (f"killed by signal {-proc.returncode}" + (" (out of memory?)" if proc.returncode == -9 else "")
               if proc.returncode < 0 else f"exit status {proc.returncode}")
        tail = " | ".join(proc.stderr.strip().splitlines()[-5:])
        raise WorkerError(f"worker {' '.join(map(str, args))}: {how}; {tail}")
    result = json.loads(lines[-1][len(RESULT_MARK):])
    result["wall_s"] = wall
    return result
