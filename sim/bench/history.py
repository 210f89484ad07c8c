"""Section 5 (baseline) and section 11 (engine): this code against older code from git history.

Both export ``sim/`` and ``scenarios/`` of a fixed commit with ``git archive``
(:func:`export_baseline`) into a temporary folder and time the same script with each version,
alternating fresh processes (``python -P`` with ``PYTHONPATH`` set to one version), so both see
the same load. The exported code is only ever used through ``sim.run`` and
``sim.scenario``: whatever its engine did inside.

**baseline**: a week of this code against model v1 (:data:`BASELINE_REF`, v0.1.0):
provide-and-pray and purpose-led stepwise on the small and default organisations, median
seconds per week; target: no more than 1.3x v1's week.

**engine**: a whole ``sim.run`` of the small and default organisations (default scenario) with
this code and with the engine before issue 8 (:data:`ENGINE_REF`, main before the compiled
week: "today's engine" of issue 8's targets); ``speedup`` = before / now.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from .measure import PACKAGE_PARENT
from .targets import TARGET_WEEK_RATIO
from .workers import WorkerError

#: The engine before issue 8 (main when the compiled week was started): "today's engine" of its targets.
ENGINE_REF = "6362d917248b436f07f83fd51757b99a1ad64007"
#: The code a week's speed is compared with (section 5): the last commit of model v1 (tag v0.1.0;
#: the commit itself, so a clone without tags still has it).
BASELINE_REF = "28607b266288046bffc68a23becb00d2d28b230f"
#: The start of both timing scripts: ``median_run(scenario)``, the median seconds of RUNS runs
#: after a first one that compiles or loads the kernels and warms the caches. Only the public
#: API (``sim.run``, ``load_scenario``, ``Scenario``), which every compared revision has.
_TIMER = """
import json, statistics, sys, time
import sim
from sim.scenario import Scenario, load_scenario
out = {"sim": sim.__file__}
def median_run(scenario):
    sim.run(scenario, seed=0)
    times = []
    for seed in range(RUNS):
        t = time.perf_counter()
        sim.run(scenario, seed=seed + 1)
        times.append(time.perf_counter() - t)
    return statistics.median(times)
"""
#: Section 5: seconds per week of two presets on two populations.
_TIME_WEEKS = _TIMER + """
for preset in ("provide_and_pray", "purpose_led_stepwise"):
    for population in ("small", "default"):
        scenario = load_scenario(preset).with_population(population)
        out[f"{preset}/{population}"] = median_run(scenario) / scenario.weeks
print(json.dumps(out))
"""
#: Section 11: a whole sim.run of the default scenario on two populations (seconds).
_TIME_RUNS = _TIMER + """
for population in ("small", "default"):
    out[population] = median_run(Scenario().with_population(population))
print(json.dumps(out))
"""


def export_baseline(ref: str, folder: Path) -> Path:
    """Write ``sim/`` and ``scenarios/`` of git revision ``ref`` into ``folder`` (for sections 5 and 11).

    Raises:
        WorkerError: not a git checkout, or no such revision.
    """
    repo = Path(PACKAGE_PARENT)
    archive = subprocess.run(["git", "-C", str(repo), "archive", ref, "sim", "scenarios"], capture_output=True,
                             check=False)
    if archive.returncode != 0:
        raise WorkerError(f"cannot export {ref} from {repo}: {archive.stderr.decode().strip() or 'not a git checkout'}")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def _time_against(ref: str, script: str, rounds: int) -> dict[str, dict[str, list[float]]]:
    """Run ``script`` with this code and with ``ref``'s, alternating fresh processes, ``rounds`` times.

    Returns ``{"current": {key: [values]}, "baseline": {...}}`` from the JSON each process prints.
    """
    here = PACKAGE_PARENT
    with tempfile.TemporaryDirectory(prefix="socialsim-baseline-") as tmp:
        base = str(export_baseline(ref, Path(tmp)))
        samples: dict[str, dict[str, list[float]]] = {"current": {}, "baseline": {}}
        for _ in range(rounds):
            for label, path in (("baseline", base), ("current", here)):
                env = {**os.environ, "PYTHONPATH": path}
                # -P: the working directory (which holds the baseline's sim/) is not put on sys.path.
                proc = subprocess.run([sys.executable, "-P", "-c", script], cwd=tmp, capture_output=True, text=True,
                                      env=env, check=False)
                if proc.returncode != 0:
                    raise WorkerError(f"timing against {ref[:7]} ({label}): "
                                      f"{' | '.join(proc.stderr.strip().splitlines()[-3:])}")
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                if not result.pop("sim").startswith(path):
                    raise WorkerError(f"timing against {ref[:7]} ({label}) imported sim from the wrong place")
                for key, value in result.items():
                    samples[label].setdefault(key, []).append(value)
    return samples


def measure_against_baseline(ref: str = BASELINE_REF, rounds: int = 3, runs: int = 3) -> pd.DataFrame:
    """Section 5: time a week of this code and of ``ref`` (model v1), side by side.

    Each round runs one fresh process per code version, alternating, so both see the same load;
    each process times ``runs`` whole runs (after compiling) of provide-and-pray and purpose-led
    stepwise on the small and default organisations. Per scenario: the median over rounds of
    each version's seconds per week, and their ratio (this code / baseline).
    """
    samples = _time_against(ref, _TIME_WEEKS.replace("RUNS", str(runs)), rounds)
    rows = []
    for key in samples["current"]:
        now, then = statistics.median(samples["current"][key]), statistics.median(samples["baseline"][key])
        preset, population = key.split("/")
        rows.append({"scenario": preset, "population": population, "week_ms": now * 1000,
                     "baseline_week_ms": then * 1000, "ratio": now / then, "baseline": ref,
                     "met": now / then <= TARGET_WEEK_RATIO})
    return pd.DataFrame(rows)


def measure_against_engine(ref: str = ENGINE_REF, rounds: int = 2, runs: int = 3) -> pd.DataFrame:
    """Section 11: a whole ``sim.run`` with this code and with the engine before issue 8, side by side.

    Small and default organisations (default scenario), ``runs`` runs per process after a
    warm-up run, alternating fresh processes for ``rounds`` rounds; the median over rounds of
    each version's median. ``speedup`` = before / now.
    """
    samples = _time_against(ref, _TIME_RUNS.replace("RUNS", str(runs)), rounds)
    rows = []
    for population in samples["current"]:
        now = statistics.median(samples["current"][population])
        then = statistics.median(samples["baseline"][population])
        rows.append({"population": population, "run_ms": now * 1000, "before_run_ms": then * 1000,
                     "speedup": then / now, "before": ref})
    return pd.DataFrame(rows)
