"""Which compiled variant of each kernel runs: in the calling thread for small populations, on
numba's threads for large ones.

Waking numba's OpenMP threads for a parallel loop costs about a tenth of a millisecond a call
on a small shared machine (``socialsim bench`` measures it), more than the whole loop over a
few thousand agents; above a few tens of thousands of agents the threads pay for themselves.
So every ``prange`` kernel of :mod:`sim.kernels` also exists compiled without ``parallel``
(``prange`` is then ``range``), and the compiled week (:mod:`sim.week`) picks the variant by
the length of the loop: ``WeekConfig.par_staff`` and ``par_customers``, set by the model from
:data:`PARALLEL_FROM_AGENTS`. The two variants compute identical results: each iteration writes only its own agent's
entries, so the order of iterations does not matter (tests/test_determinism.py).
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator

from numba import njit

from . import customers, kernels, rng

#: The kernels whose loop is a ``prange``.
PARALLEL_KERNELS = ("purpose_cascade", "neighbour_exposure", "participation", "recognition", "safety_update",
                    "productivity", "customer_step")
#: Loops over fewer agents than this run in the calling thread.
PARALLEL_FROM_AGENTS = 20_000


def serial_variant(kernel):
    """The kernel compiled without ``parallel``, as a function of its own (own cache entry)."""
    py = kernel.py_func
    copy = types.FunctionType(py.__code__, py.__globals__, f"{py.__name__}_serial", py.__defaults__, py.__closure__)
    copy.__qualname__ = f"{py.__qualname__}_serial"  # numba names its cache files after this
    copy.__doc__ = py.__doc__
    return njit(cache=True)(copy)


#: The counter-based uniforms of a week (sim/rng.py), filled in the calling thread.
serial_fill_uniforms = serial_variant(rng.fill_uniforms)

#: The week's kernels as compiled (:mod:`sim.kernels` and :mod:`sim.customers`), by name.
parallel = types.SimpleNamespace(**{name: getattr(module, name) for module in (kernels, customers)
                                    for name in dir(module) if not name.startswith("_")})
#: The same with every parallel kernel replaced by its serial variant.
serial = types.SimpleNamespace(**vars(parallel))
for _name in PARALLEL_KERNELS:
    setattr(serial, _name, serial_variant(getattr(parallel, _name)))


@contextlib.contextmanager
def forced(parallel: bool) -> Iterator[None]:
    """Within the block, every model runs the parallel (or every model the serial) variants."""
    global PARALLEL_FROM_AGENTS
    saved = PARALLEL_FROM_AGENTS
    PARALLEL_FROM_AGENTS = 0 if parallel else 2**62
    try:
        yield
    finally:
        PARALLEL_FROM_AGENTS = saved
