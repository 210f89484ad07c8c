"""The compiled week (sim/week.py): a run is one call, step() is the same code with one week,
and the sums it computes equal the plain numpy definitions."""

from __future__ import annotations

import numpy as np
import pytest

from sim import SocialBusinessModel
from sim import week as weekly
from sim.outputs import SERIES_COLUMNS, gini, top_shares

from .conftest import small


def test_the_recorded_row_has_one_entry_per_series_column():
    assert weekly.N_COLUMNS == len(SERIES_COLUMNS)
    model = SocialBusinessModel(small(weeks=3), rng=0)
    assert model.recorder.series.shape[1] == len(SERIES_COLUMNS)


def test_whole_run_in_one_call_equals_week_by_week_steps():
    scenario = small(weeks=30)
    whole = SocialBusinessModel(scenario, rng=4)
    whole.run()
    stepped = SocialBusinessModel(scenario, rng=4)
    while stepped.running:
        stepped.step()
    assert stepped.week == whole.week == 30
    assert whole.result().series.equals(stepped.result().series)
    assert whole.result().departments.equals(stepped.result().departments)
    assert whole.datacollector.get_model_vars_dataframe().equals(stepped.datacollector.get_model_vars_dataframe())
    assert whole.events == stepped.events
    # Progress reporting splits the run into chunks; the result must not change.
    chunked = SocialBusinessModel(scenario, rng=4)
    calls = []
    chunked.run(progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (30, 30) and len(calls) > 1
    assert chunked.result().series.equals(whole.result().series)


@pytest.mark.parametrize("engine", ["numba", "python"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_inequality_by_counting_sort_equals_the_sorted_definitions(engine, seed):
    rng = np.random.default_rng(seed)
    current = rng.geometric(0.2, size=int(rng.integers(1, 400))) - 1  # many zeros, a long tail
    departed = np.zeros(64, dtype=np.int64)
    n_departed = int(rng.integers(0, 40))
    departed[:n_departed] = rng.geometric(0.1, size=n_departed)
    scratch = _scratch()
    got = weekly.functions(engine)["inequality"](current.astype(np.int64), departed, n_departed, scratch)
    values = np.concatenate([current, departed[:n_departed]]).astype(np.float64)
    first, second, rest = top_shares(values)
    expected = (gini(values), first, second, rest, float(np.mean(values == 0)))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("engine", ["numba", "python"])
def test_inequality_of_nobody_and_of_zeros_is_zero(engine):
    fn = weekly.functions(engine)["inequality"]
    empty = np.zeros(0, dtype=np.int64)
    assert fn(empty, np.zeros(4, dtype=np.int64), 0, _scratch()) == (0.0, 0.0, 0.0, 0.0, 0.0)
    assert fn(np.zeros(5, dtype=np.int64), np.zeros(4, dtype=np.int64), 0, _scratch()) == (0.0, 0.0, 0.0, 0.0, 1.0)


def _scratch():
    model = SocialBusinessModel(small(weeks=2), rng=0)
    return model.scratch


def test_the_cache_key_changes_with_any_dependency(tmp_path):
    """numba re-validates a cached function only against its own file: the fingerprint in the
    compiled names must change when any module the week calls into changes."""
    import shutil
    from pathlib import Path

    here = Path(weekly.__file__).parent
    for name in weekly.DEPENDENCIES:
        shutil.copy(here / f"{name}.py", tmp_path / f"{name}.py")
    before = weekly.source_fingerprint(tmp_path)
    assert before == weekly.source_fingerprint()
    for name in ("kernels", "rng"):
        path = tmp_path / f"{name}.py"
        path.write_text(path.read_text() + "\n# changed\n")
        after = weekly.source_fingerprint(tmp_path)
        assert after != before
        before = after


@pytest.mark.parametrize("engine", ["numba", "python"])
def test_contact_counts_kept_up_to_date_equal_a_fresh_count(engine):
    """Customers read their contacts' state from counts moved only by those who changed; after a
    run (people joined, turned advocate or detractor, gave up) they equal a count from scratch."""
    from sim.state import count_friends

    model = SocialBusinessModel(small(weeks=40, customers=3000), rng=2, engine=engine)
    model.run()
    cs, market = model.customer_state, model.market
    assert cs.member.sum() > 50 and (cs.sentiment == 1).sum() > 0 and (cs.sentiment == -1).sum() > 0
    fresh = count_friends(market.indptr, market.indices, cs.member, cs.sentiment)
    for kept, counted in zip((cs.friend_members, cs.friend_advocates, cs.friend_detractors), fresh):
        np.testing.assert_array_equal(kept, counted)


def test_the_customer_graph_is_undirected():
    """update_friend_counts relies on it: j is among i's contacts as often as i among j's."""
    model = SocialBusinessModel(small(weeks=1, customers=5000), rng=7)
    indptr, indices = model.market.indptr, model.market.indices
    rows = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    forward = np.sort(rows.astype(np.int64) * (indptr.size) + indices)
    backward = np.sort(indices.astype(np.int64) * (indptr.size) + rows)
    np.testing.assert_array_equal(forward, backward)


_CACHE_STEP = """
import sys
import sim.week as weekly
weekly.source_fingerprint = lambda folder=None: sys.argv[1]  # a fresh name for the compiled week
from sim import SocialBusinessModel
from sim.scenario import Scenario
model = SocialBusinessModel(Scenario(employees=60, departments=2, customers=300, weeks=3), rng=1)
model.run()
from sim import engine
with engine.forced(True):  # the parallel kernels too
    SocialBusinessModel(Scenario(employees=60, departments=2, customers=300, weeks=3), rng=1).run()
print("ran", int(model.result().series["posts"].sum() >= 0))
"""


def test_a_week_compiled_against_cached_kernels_loads_from_the_cache(tmp_path):
    """The sequence of numba issue #8578: kernels compiled and cached by one process; the week
    compiled by a second process that loaded them from the cache; a third process loads that
    week from the cache. Without sim.week.start_threads the third one crashed."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    for stamp in ("first", "second", "second"):
        done = subprocess.run([sys.executable, "-c", _CACHE_STEP, stamp], env=env, capture_output=True, text=True,
                              timeout=900)
        assert done.returncode == 0, f"{stamp}: exit {done.returncode}: {done.stderr[-2000:]}"
        assert done.stdout.strip().endswith("ran 1")
