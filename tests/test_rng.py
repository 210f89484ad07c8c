"""The counter-based random numbers (sim/rng.py): one number per (seed, week, stream, agent),
the same in numba, numpy and plain Python, and well spread."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from sim import engine, rng


@njit
def _compiled(wkey, stream, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.uniform(wkey, stream, i)
    return out


@njit
def _compiled_normal(wkey, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.normal(wkey, 1, 2, i)
    return out


@pytest.mark.parametrize("seed,week,stream", [(0, 0, 0), (1, 7, 3), (2**31 - 1, 103, rng.PEER_ANSWER),
                                              (12345, 10**6, rng.NEWCOMER_PROPENSITY_2)])
def test_numba_numpy_and_python_give_the_same_bits(seed, week, stream):
    key = np.uint64(rng.seed_key(seed))
    wkey_np = rng.week_key_np(key, week)
    assert rng.week_key(key, week) == wkey_np
    n = 257
    compiled = _compiled(wkey_np, stream, n)
    vectorised = rng.uniforms(wkey_np, stream, n)
    python = np.array([rng.uniform_py(wkey_np, stream, i) for i in range(n)])
    assert compiled.tobytes() == vectorised.tobytes() == python.tobytes()
    filled, filled_serial, filled_np = np.empty(n), np.empty(n), np.empty(n)
    rng.fill_uniforms(wkey_np, stream, filled)
    engine.serial_fill_uniforms(wkey_np, stream, filled_serial)
    rng.fill_uniforms_np(wkey_np, stream, filled_np)
    assert filled.tobytes() == filled_serial.tobytes() == filled_np.tobytes() == compiled.tobytes()
    normals = _compiled_normal(wkey_np, n)
    assert normals.tobytes() == np.array([rng.normal_py(wkey_np, 1, 2, i) for i in range(n)]).tobytes()


def test_a_draw_depends_on_every_part_of_its_counter():
    key = np.uint64(rng.seed_key(3))
    base = rng.uniforms(rng.week_key_np(key, 5), 2, 1000)
    other_seed = rng.uniforms(rng.week_key_np(np.uint64(rng.seed_key(4)), 5), 2, 1000)
    other_week = rng.uniforms(rng.week_key_np(key, 6), 2, 1000)
    other_stream = rng.uniforms(rng.week_key_np(key, 5), 3, 1000)
    for other in (other_seed, other_week, other_stream):
        assert np.mean(base == other) < 0.01
        assert abs(np.corrcoef(base, other)[0, 1]) < 0.1
    assert len(np.unique(base)) == base.size  # no repeats among agents


def test_uniforms_are_uniform_and_in_range():
    u = rng.uniforms(rng.week_key_np(np.uint64(rng.seed_key(0)), 0), 0, 200_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    counts = np.bincount((u * 20).astype(int), minlength=20)
    expected = u.size / 20
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 45.3  # 99.99th percentile of chi-square with 19 degrees of freedom
    # successive agents are not correlated (a weak generator would show here)
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01
    z = _compiled_normal(rng.week_key_np(np.uint64(rng.seed_key(0)), 0), 100_000)
    assert np.isfinite(z).all()
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1.0) < 0.02


def test_seed_key_is_the_seed_sequence_word():
    assert rng.seed_key(0) == int(np.random.SeedSequence(0).generate_state(1, dtype=np.uint64)[0])
    assert rng.seed_key(0) != rng.seed_key(1)
