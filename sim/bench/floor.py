"""The floor this machine allows: a bare synchronous threshold step over the model's edges.

``socialsim bench`` (sections 2 and 7) divides the full model's time per week by the time of
this step (issue 8: "<= 4x the bare threshold step over the same edges" for the small
organisation, "<= 3x" at 1M agents). The step is the least a week over these edges can cost: for every node, count its
active neighbours over a CSR row, compare the share with the node's threshold, write the next
state into a second array (reads step ``t``, writes step ``t + 1``); no parameters, no random
numbers, no sums. Every node's row is read every step (an active node's too), so the work is
the same whatever the state, like the model's week, which reads every contact every week.

The edges are exactly the model's (:func:`model_csr`): the organisation graph (employee
rows), then for each customer their customer ties and their staff contacts (customer rows),
so ``nnz = org_nnz + customer_nnz + contacts_nnz``.

With ``threshold`` raised to ``sim.classic.MIN_THRESHOLD`` the step is the Watts rule of
:func:`sim.classic.threshold_cascade` (the tests check that both give the same final state),
so the same kernel also serves as the "bare kernel" row of the cascade comparison.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

MIN_THRESHOLD = 1e-12  # = sim.classic.MIN_THRESHOLD: a threshold of 0 needs one active neighbour


def _steps(indptr, indices, threshold, active, steps):
    """``steps`` synchronous threshold steps from ``active``; returns the final state (a new array)."""
    n = indptr.shape[0] - 1
    now = active.copy()
    nxt = np.empty_like(now)
    for _ in range(steps):
        for i in prange(n):
            lo = indptr[i]
            hi = indptr[i + 1]
            count = 0
            for k in range(lo, hi):
                count += now[indices[k]]
            share = count / (hi - lo) if hi > lo else 0.0
            nxt[i] = now[i] or share >= threshold[i]
        now, nxt = nxt, now
    return now


#: The parallel step (numba's threads) and the same code in the calling thread.
threshold_steps = njit(cache=True, parallel=True)(_steps)
threshold_steps_serial = njit(cache=True)(_steps)


@njit(cache=True)
def _customer_rows(n_employees, org_nnz, mk_indptr, mk_indices, contact_indptr, contact_indices,
                   indptr, indices):
    """Fill the customer rows of the merged CSR: customer ties (shifted) then staff contacts."""
    pos = org_nnz
    m = mk_indptr.shape[0] - 1
    for c in range(m):
        for k in range(mk_indptr[c], mk_indptr[c + 1]):
            indices[pos] = mk_indices[k] + n_employees
            pos += 1
        for k in range(contact_indptr[c], contact_indptr[c + 1]):
            indices[pos] = contact_indices[k]
            pos += 1
        indptr[n_employees + c + 1] = pos


def model_csr(model) -> tuple[np.ndarray, np.ndarray]:
    """One CSR over every agent of ``model`` (employees, then customers) with all its edges.

    Uses only ``model.org.indptr/indices`` and ``model.market.indptr/indices/contact_indptr/
    contact_indices``.
    """
    org, mk = model.org, model.market
    n = int(org.indptr.size - 1)
    m = int(mk.indptr.size - 1)
    org_nnz = int(org.indices.size)
    nnz = org_nnz + int(mk.indices.size) + int(mk.contact_indices.size)
    indptr = np.empty(n + m + 1, dtype=np.int64)
    indptr[: n + 1] = org.indptr
    indices = np.empty(nnz, dtype=np.int32)
    indices[:org_nnz] = org.indices
    _customer_rows(n, org_nnz, mk.indptr.astype(np.int64), mk.indices.astype(np.int32),
                   mk.contact_indptr.astype(np.int64), mk.contact_indices.astype(np.int32), indptr, indices)
    return indptr, indices


def inputs(n: int, seed: int = 0, seed_share: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Thresholds (uniform in [0.05, 0.5)) and a seed set (``seed_share`` of the nodes) for ``n`` nodes."""
    rng = np.random.default_rng(seed)
    threshold = rng.uniform(0.05, 0.5, n)
    active = rng.random(n) < seed_share
    return threshold, active


def warm() -> None:
    """Compile (or load from the cache) both variants on a tiny graph."""
    indptr = np.array([0, 1, 2], dtype=np.int64)
    indices = np.array([1, 0], dtype=np.int32)
    threshold = np.array([0.5, 0.5])
    active = np.array([True, False])
    threshold_steps(indptr, indices, threshold, active, 1)
    threshold_steps_serial(indptr, indices, threshold, active, 1)


def time_floor(indptr: np.ndarray, indices: np.ndarray, steps: int, repeats: int = 3,
               seed: int = 0) -> dict[str, float]:
    """Seconds for ``steps`` bare steps over a CSR, parallel and serial: median of ``repeats``.

    ``repeats`` is lowered to 1 when one parallel run takes over a second. Returns
    ``parallel_s``, ``serial_s``, ``floor_s`` (the faster of the two: the floor), ``repeats``
    and ``active_share`` (how far the cascade went, for the record).
    """
    import statistics
    import time

    warm()
    threshold, active = inputs(indptr.size - 1, seed)
    times: dict[str, list[float]] = {"parallel_s": [], "serial_s": []}
    final = active
    k = 0
    while k < repeats:
        for key, fn in (("parallel_s", threshold_steps), ("serial_s", threshold_steps_serial)):
            t = time.perf_counter()
            final = fn(indptr, indices, threshold, active, steps)
            times[key].append(time.perf_counter() - t)
        k += 1
        if k == 1 and times["parallel_s"][0] > 1.0:
            break
    out = {key: statistics.median(v) for key, v in times.items()}
    out["floor_s"] = min(out["parallel_s"], out["serial_s"])
    out["repeats"] = k
    out["active_share"] = float(final.mean()) if final.size else 0.0
    return out


def floor_of_model(model, weeks: int, repeats: int) -> dict[str, Any]:
    """The bare step over all of ``model``'s edges, ``weeks`` times: ``floor_*`` figures of a bench row."""
    indptr, indices = model_csr(model)
    timed = time_floor(indptr, indices, weeks, repeats=repeats)
    return {"floor_parallel_s": timed["parallel_s"], "floor_serial_s": timed["serial_s"], "floor_s": timed["floor_s"],
            "floor_repeats": timed["repeats"], "floor_nnz": int(indices.size)}
