"""The synchronous threshold cascade of D. J. Watts, "A simple model of global cascades on
random networks", PNAS 99(9), 5766-5771 (2002), on a dedicated kernel for :mod:`sim.classic`.

It is not part of the week. It decides with the participation rule itself
(:func:`sim.kernels.decide_contributing`, which :func:`sim.kernels.participation` calls too) and,
with the graph helpers :func:`ties_are_mutual` and :func:`observer_lists`, has no twin in
:mod:`sim.reference`: tests/test_classic.py checks it against the full participation kernel and
a scipy-sparse loop.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .kernels import NON_USER, decide_contributing, exposure_share, is_active


@njit(cache=True)
def observer_lists(indptr, indices, out_indptr, out_indices):
    """Who sees whom: the transposed graph, row ``j`` listing everyone whose row lists ``j``.

    Row ``i`` of ``(indptr, indices)`` lists the contacts whose states ``i`` sees; row ``j`` of
    the output lists the people who see ``j``, in increasing order (twice if ``j`` appears twice
    in their row). For a symmetric graph it is the graph itself. A counting sort, serial.

    Args:
        indptr: int64 (N+1,), indices: int32 (nnz,): the graph (CSR).
        out_indptr: int64 (N+1,), out_indices: int32 (nnz,), written.
    """
    n = indptr.shape[0] - 1
    for j in range(n + 1):
        out_indptr[j] = 0
    for k in range(indices.shape[0]):
        out_indptr[indices[k] + 1] += 1
    for j in range(n):
        out_indptr[j + 1] += out_indptr[j]
    # out_indptr[j] is where row j starts; used as row j's cursor it ends where row j + 1 starts.
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            out_indices[out_indptr[j]] = i
            out_indptr[j] += 1
    for j in range(n, 0, -1):
        out_indptr[j] = out_indptr[j - 1]
    out_indptr[0] = 0


@njit(cache=True, inline="always")
def _cascade_starts(i, active_contacts, indptr, threshold, p):
    """Whether inactive node ``i`` with ``active_contacts`` active contacts starts (Watts' rule)."""
    share = exposure_share(float(active_contacts), float(indptr[i + 1] - indptr[i]))
    motivation = p.peer_weight * share - threshold[i]
    return is_active(decide_contributing(NON_USER, motivation, share, 0.5, 0.5, p))


@njit(cache=True)
def ties_are_mutual(indptr, indices):
    """True when the graph is symmetric: ``j`` is in row ``i`` as often as ``i`` is in row ``j``.

    One pass in row order: row ``i``'s contacts ``j > i`` are matched, in order, against the
    start of row ``j`` (its contacts below ``j``), which must then be used up. Exact for any CSR;
    with rows not sorted in increasing order a symmetric graph may be reported as not symmetric.
    """
    n = indptr.shape[0] - 1
    if indices.shape[0] < 1 << 31:  # int32 cursors when they fit: half the memory to hop through
        return _mutual(indptr, indices, np.empty(n, dtype=np.int32))
    return _mutual(indptr, indices, np.empty(n, dtype=np.int64))


@njit(cache=True, inline="always")
def _mutual(indptr, indices, cursor):
    """:func:`ties_are_mutual` with ``cursor[j]``, the first entry of row ``j`` not yet matched."""
    n = indptr.shape[0] - 1
    for j in range(n):
        cursor[j] = indptr[j]
    for i in range(n):
        for k in range(cursor[i], indptr[i + 1]):
            j = indices[k]
            if j < i:
                return False  # nobody before i listed i where this entry would have matched it
            if j > i:
                c = cursor[j]
                if c >= indptr[j + 1] or indices[c] != i:
                    return False
                cursor[j] = c + 1
    return True


@njit(cache=True, parallel=True)
def watts_cascade(indptr, observers_indptr, observers_indices, threshold, initially_active, p, max_steps,
                  out_active, out_active_per_step):
    """Synchronous threshold cascade (Watts 2002) to its end, decided by the participation rule.

    D. J. Watts, "A simple model of global cascades on random networks", PNAS 99(9), 5766-5771
    (2002). In each step every inactive node whose active share of contacts (row ``i`` of the
    CSR) is at least its threshold becomes active, all at once; active nodes stay active. The
    decision is :func:`decide_contributing`, the rule of :func:`participation`, with the net
    motivation ``peer_weight * exposure - threshold`` that :func:`pulls` and
    :func:`contributing_cost` give with only peer influence on; exposure is
    :func:`exposure_share` of the active contacts over the row, as :func:`neighbour_exposure`
    computes it with unit weights and no weak ties. ``p`` must make that rule deterministic and
    activation permanent (``decision_noise``, ``spontaneous_adoption``, ``imitation`` and
    ``lapse_rate`` 0; :mod:`sim.classic` passes peer influence alone), so the uniforms are 0.5.

    The result is that of the synchronous rule step by step, but a step costs only the ties of
    the nodes that started in the previous one: each node keeps the number of its active
    contacts, and a node that starts adds one to everyone who sees it (``observers``: the
    transposed graph, :func:`observer_lists`, or the graph itself when its ties are mutual,
    :func:`ties_are_mutual`). A node whose count did not change decides as it did before, so
    only those who see a new starter decide again (in the first step, everyone inactive does).
    When more than a 32nd of the nodes are to decide, they decide in one pass over the nodes in
    their order (a ``prange`` loop), else in the order they were queued. The work arrays are
    allocated once per call, not per step.

    Args:
        indptr: int64 (N+1,): the graph's row pointers (CSR; row ``i`` the contacts ``i`` sees),
            for each node's number of contacts.
        observers_indptr: int64 (N+1,), observers_indices: int32 (nnz,): who sees whom, row
            ``j`` listing everyone whose row lists ``j``; nnz < 2**30.
        threshold: float64 (N,). initially_active: bool (N,), the seeds.
        p: :class:`ParticipationParams`. max_steps: int >= 0.
        out_active: bool (N,), written: the active set when the cascade stopped.
        out_active_per_step: int64 (K,), ``K >= min(max_steps, N - seeds) + 1``: entry 0 the
            number of seeds, entry ``t`` the number active after step ``t``, written up to the
            returned number of steps.

    Returns:
        The number of steps that activated someone: the cascade stops at the first step that
        activates nobody (not counted) or after ``max_steps`` steps.
    """
    n = threshold.shape[0]
    if p.decision_noise != 0.0 or p.spontaneous_adoption != 0.0 or p.imitation != 0.0 or p.lapse_rate != 0.0:
        raise ValueError("watts_cascade needs a deterministic rule with permanent activation: "
                         "decision_noise, spontaneous_adoption, imitation and lapse_rate must be 0")
    if observers_indices.shape[0] >= 1 << 30:
        raise ValueError("watts_cascade counts active contacts in int32: the graph must have < 2**30 ties")
    # state[i] >= 0: inactive, twice the number of active contacts, plus 1 while queued to decide;
    # state[i] < 0 (and odd): active. Adding 2 per new active contact keeps both readings.
    active_mark = -(1 << 31) + 1
    state = np.empty(n, dtype=np.int32)
    frontier = np.empty(n, dtype=np.int32)  # who started in the last step
    queue = np.empty(n, dtype=np.int32)  # who sees one of them (or, in a full pass, who starts)
    for i in prange(n):
        state[i] = active_mark if initially_active[i] else 0
    started = 0
    for i in range(n):
        if initially_active[i]:
            frontier[started] = i
            started += 1
    if out_active_per_step.shape[0] < min(max_steps, n - started) + 1:
        raise ValueError("watts_cascade: out_active_per_step is shorter than min(max_steps, N - seeds) + 1")
    out_active_per_step[0] = started
    total = started
    steps = 0
    while steps < max_steps:
        # Everyone who sees someone who started has one more active contact: queue them once.
        queued = 0
        for a in range(started):
            j = frontier[a]
            for k in range(observers_indptr[j], observers_indptr[j + 1]):
                i = observers_indices[k]
                s = state[i]
                state[i] = (s + 2) | 1
                queue[queued] = i
                queued += 1 - (s & 1)  # not if already queued, or active (odd)
        started = 0
        if steps == 0 or queued > n // 32:
            # In node order: the first step everyone inactive decides, later only the queued.
            everyone = steps == 0
            for i in prange(n):
                s = state[i]
                starts = False
                if s >= 0 and (everyone or s & 1):
                    s &= ~1
                    starts = _cascade_starts(i, s >> 1, indptr, threshold, p)
                    state[i] = s
                queue[i] = starts
            for i in range(n):
                if queue[i]:
                    state[i] = active_mark
                    frontier[started] = i
                    started += 1
        else:
            for b in range(queued):
                i = queue[b]
                s = state[i] & ~1
                if _cascade_starts(i, s >> 1, indptr, threshold, p):
                    state[i] = active_mark
                    frontier[started] = i
                    started += 1
                else:
                    state[i] = s
        if started == 0:
            break
        steps += 1
        total += started
        out_active_per_step[steps] = total
    for i in prange(n):
        out_active[i] = state[i] < 0
    return steps
