"""Counter-based random numbers: a draw is a pure function of (seed, week, stream, agent).

Every weekly random number of the model is ``uniform(week_key(key, week), stream, agent)``: a
hash, not the next output of a generator with state. So any thread can compute agent ``i``'s
draw of week ``t`` in any order, the plain-Python engine computes the very same numbers, and a
scenario's streams stay the same whatever other agents or strategies do (common random numbers
across strategies for free). This is the idea of Salmon et al. (2011), "Parallel random numbers:
as easy as 1, 2, 3" (the Random123 family), with SplitMix64's finaliser as the mixing function
(Steele, Lea & Flood 2014; the output function of Java's ``SplittableRandom``).

The scheme, on unsigned 64-bit integers (all arithmetic modulo 2**64)::

    mix(z)            = z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB; z ^ (z >> 31)
    key               = first word of numpy.random.SeedSequence(seed).generate_state(1, uint64)
    week_key(key, t)  = mix(key ^ mix(t + 0x9E3779B97F4A7C15))
    uniform(k, s, i)  = (mix(k ^ mix((s << 40) | i)) >> 11) / 2**53        in [0, 1)

``mix`` is a bijection of 64-bit words, so distinct (stream, agent) counters give distinct
inputs for each week key (streams below 2**24, agents below 2**40). ``normal`` turns two
uniforms into a standard normal (Box-Muller). The numba functions and the numpy twins
(``uniforms``) give bit-identical results (tests/test_rng.py).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S40, _S11 = (np.uint64(k) for k in (30, 27, 31, 40, 11))
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

# Streams: one number per stream, agent and week. Employees' and customers' weekly decisions,
# then the schedule's and newcomers' draws.
ADOPT, READ, LAPSE, REACT, POST, MISTAKE, TIE, TIE_TARGET, LEAVE = range(9)
AWARE, JOIN, PROBLEM, ANSWER, IDEA, PEER_ANSWER = range(10, 16)
CRISIS_HIT, SCATTER = 20, 21
NEWCOMER_THRESHOLD_1, NEWCOMER_THRESHOLD_2, NEWCOMER_RECEPTIVENESS = 22, 23, 24
NEWCOMER_PROPENSITY_1, NEWCOMER_PROPENSITY_2 = 25, 26
# Once per run, keyed by the run's key itself (not a week's): each department's multiplier of effort.
DEPARTMENT_EFFORT_1, DEPARTMENT_EFFORT_2 = 27, 28
# Once per run, keyed by the run's key: who would ever write; and, weekly, a newcomer's.
WRITER, NEWCOMER_WRITER = 29, 30


def seed_key(seed: int) -> int:
    """The 64-bit key of a model seed (a Python int; pass it to the kernels as ``np.uint64``)."""
    return int(np.random.SeedSequence(int(seed)).generate_state(1, dtype=np.uint64)[0])


@njit(cache=True, inline="always")
def mix(z):
    """SplitMix64's finaliser: a bijection of 64-bit words that scrambles every bit."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def week_key(key, week):
    """The key of one week of one model (``key`` np.uint64, ``week`` an integer >= 0)."""
    return mix(key ^ mix(np.uint64(week) + _GOLDEN))


@njit(cache=True, inline="always")
def uniform(wkey, stream, agent):
    """The uniform in [0, 1) of ``agent`` in ``stream`` for the week keyed ``wkey``."""
    h = mix(wkey ^ mix((np.uint64(stream) << _S40) | np.uint64(agent)))
    return float(h >> _S11) * _TO_UNIT


@njit(cache=True, inline="always")
def normal(wkey, stream_1, stream_2, agent):
    """A standard normal from two uniforms (Box-Muller); ``1 - u`` keeps the logarithm finite."""
    u1 = 1.0 - uniform(wkey, stream_1, agent)
    u2 = uniform(wkey, stream_2, agent)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True, parallel=True)
def fill_uniforms(wkey, stream, out):
    """``out[i] = uniform(wkey, stream, i)`` for every agent ``i`` (float64 (n,), written)."""
    for i in prange(out.shape[0]):
        out[i] = uniform(wkey, stream, i)


# --------------------------------------------------------------------------------- numpy twins
def _mix_np(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def week_key_np(key: int, week: int) -> np.uint64:
    """:func:`week_key` in numpy (the same number)."""
    with np.errstate(over="ignore"):
        k = np.array([key], dtype=np.uint64)
        w = np.array([week], dtype=np.uint64) + _GOLDEN
        return (_mix_np(k ^ _mix_np(w)))[0]


def uniforms(wkey: np.uint64, stream: int, n: int) -> np.ndarray:
    """``uniform(wkey, stream, i)`` for ``i`` in ``range(n)`` with numpy: the same numbers."""
    with np.errstate(over="ignore"):
        counters = (np.uint64(stream) << _S40) | np.arange(n, dtype=np.uint64)
        h = _mix_np(np.uint64(wkey) ^ _mix_np(counters))
        return (h >> _S11).astype(np.float64) * _TO_UNIT


def fill_uniforms_np(wkey, stream, out: np.ndarray) -> None:
    """:func:`fill_uniforms` in numpy."""
    out[:] = uniforms(wkey, stream, out.shape[0])


_MASK = (1 << 64) - 1


def _mix_int(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def uniform_py(wkey, stream: int, agent: int) -> float:
    """:func:`uniform` with Python integers: the same number."""
    h = _mix_int(int(wkey) ^ _mix_int(((int(stream) << 40) | int(agent)) & _MASK))
    return (h >> 11) * _TO_UNIT


def normal_py(wkey, stream_1: int, stream_2: int, agent: int) -> float:
    """:func:`normal` with Python integers: the same number."""
    u1 = 1.0 - uniform_py(wkey, stream_1, agent)
    u2 = uniform_py(wkey, stream_2, agent)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
