"""Reproducibility: same scenario and seed give bitwise identical results, whatever the number
of numba threads, in separate processes; and every result carries its provenance."""

from __future__ import annotations

import json
import os
import subprocess
import sys


import sim
from sim import SocialBusinessModel

from .conftest import small

SCRIPT = """
import hashlib, json, sys
import numba
import pandas as pd
from sim import SocialBusinessModel
from sim.scenario import Scenario
scenario = Scenario(**json.loads(sys.argv[1]))
model = SocialBusinessModel(scenario, rng=int(sys.argv[2]))
result = model.run()
digest = hashlib.sha256()
# hash_pandas_object hashes values (to_numpy() of mixed dtypes would hash object pointers)
digest.update(pd.util.hash_pandas_object(result.series).to_numpy().tobytes())
digest.update(pd.util.hash_pandas_object(result.departments).to_numpy().tobytes())
digest.update(pd.util.hash_pandas_object(result.participation).to_numpy().tobytes())
digest.update(model.state.reputation.tobytes())
digest.update(model.customer_state.trust.tobytes())
print(numba.get_num_threads(), digest.hexdigest())
"""


def _digest_in_subprocess(scenario, seed, threads):
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(scenario.to_dict()), str(seed)],
                         env=env, capture_output=True, text=True, check=True)
    used, digest = out.stdout.split()
    return int(used), digest


def test_bitwise_identical_across_thread_counts_and_processes():
    scenario = small(employees=600, customers=4000, weeks=30)
    used1, one_thread = _digest_in_subprocess(scenario, 5, 1)
    used2, two_threads = _digest_in_subprocess(scenario, 5, 2)
    _, again = _digest_in_subprocess(scenario, 5, 2)
    assert (used1, used2) == (1, 2)
    assert one_thread == two_threads == again
    _, other_seed = _digest_in_subprocess(scenario, 6, 2)
    assert other_seed != one_thread


def test_same_seed_same_series_in_process():
    a = SocialBusinessModel(small(weeks=15), rng=9).run()
    b = SocialBusinessModel(small(weeks=15), rng=9).run()
    assert a.series.equals(b.series)
    assert a.departments.equals(b.departments)


def test_results_carry_seed_hash_and_version():
    scenario = small(weeks=5)
    result = sim.run(scenario, seed=123)
    table = result.table("series")
    assert (table["seed"] == 123).all()
    assert (table["scenario_hash"] == scenario.scenario_hash()).all()
    assert (table["version"] == sim.__version__).all()
    assert result.provenance["scenario"] == "small-test"


def test_unseeded_run_records_the_seed_it_used():
    result = sim.run(small(weeks=3))
    assert isinstance(result.seed, int)
    again = sim.run(small(weeks=3), seed=result.seed)
    assert again.series.equals(result.series)


def test_scenario_hash_tracks_values_not_names():
    a = small()
    assert a.scenario_hash() == a.with_levers(name="renamed").scenario_hash()
    assert a.with_levers(department_effort_spread=0.3).scenario_hash() != a.scenario_hash()
    assert a.scenario_hash() != a.with_levers(posting_friction=0.21).scenario_hash()
    assert len(a.scenario_hash()) == 16 and int(a.scenario_hash(), 16) >= 0


def test_serial_and_parallel_kernels_give_identical_results():
    """sim/engine.py runs small loops serially and large ones on numba's threads: same numbers."""
    import pandas as pd

    from sim import engine

    results = []
    for parallel in (False, True):
        with engine.forced(parallel):
            model = SocialBusinessModel(small(), rng=9)
            assert model.week_config.par_staff == model.week_config.par_customers == parallel
            results.append(model.run().series)
    pd.testing.assert_frame_equal(results[0], results[1])
