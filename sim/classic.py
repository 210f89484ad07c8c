"""Classic diffusion models, run through the model's own kernels and its participation rule.

With every other mechanism switched off, the employee participation rule of
:mod:`sim.kernels` reduces to two textbook models of diffusion. This module runs those
reductions *through the same numba code the model uses*, so the tests in
``tests/test_classic.py`` check the engine itself, not a re-implementation of it, against known
results. :func:`simulate_bass` and :func:`threshold_cascade_full_model` call the model's kernels
:func:`sim.kernels.neighbour_exposure` and :func:`sim.kernels.participation`, one call each per
step. :func:`threshold_cascade` runs the dedicated kernel :func:`sim.cascade.watts_cascade`,
which decides with the participation rule itself (:func:`sim.kernels.decide_contributing`, one
function that both kernels call, not a copy) and computes exposure with the same
:func:`sim.kernels.exposure_share`, but reads only the ties of the nodes that start; the tests
check that it equals the full-model path.

Threshold cascades (Watts 2002)
    D. J. Watts, "A simple model of global cascades on random networks", PNAS 99(9),
    5766-5771 (2002). Each node has a threshold ``phi``; an inactive node becomes active when
    the fraction of its neighbours that are active is at least ``phi``; active nodes stay
    active. Mapping onto the kernels: ``neighbour_exposure`` with unit influence weights, no
    weak ties and "visible" meaning active gives each node the active fraction of its
    neighbours (0 for isolated nodes). ``participation`` with ``peer_weight = 1`` and every
    other weight, rate, friction and cost 0 (``_SWITCHED_OFF``) has net motivation
    ``m = 1 * exposure - threshold`` exactly: no leader signal, purpose, value, novelty,
    recognition, rally or leader role, effort ``threshold * (1 - 0 * habit)``, no friction, fear
    ``0 * (1 - safety)``, nobody customer-facing. With ``decision_noise = 0`` the choice is the
    step function ``[m >= 0]`` and the Bass chance ``b`` is 0, so a node starts with chance
    ``1 - (1 - 0)(1 - [m >= 0])``: exactly when ``exposure >= threshold``, whatever its uniform.
    That is the Watts rule. ``lapse_rate = 0`` makes activation permanent, ``reading_uptake =
    reading_lapse = 0`` keeps stages at non-user or contributor, and ``contribution_rate = 0``
    means nobody posts (so reputation, habit and attention play no part). One kernel call is one
    synchronous step: exposure is read from step ``t``, stages are written for step ``t + 1``.
    :func:`sim.cascade.watts_cascade` takes the same parameters and feeds the same rule the
    same net motivation, ``1 * exposure - threshold``, for every node whose exposure changed;
    the others would decide as they did the step before.

Bass diffusion (Bass 1969)
    F. M. Bass, "A new product growth for model consumer durables", Management Science 15(5),
    215-227 (1969). Adoption hazard ``p + q F`` for a non-adopter, ``F`` the share who adopted
    already. Mapping: a fully mixed population in which everybody "sees" the population share,
    so ``exposure`` is filled with ``F`` instead of being computed from a graph;
    ``spontaneous_adoption = p``, ``imitation = q``, all else 0; thresholds are ``+inf`` so the
    net motivation is ``-inf`` and its choice term 0 (with any ``decision_noise``), and only the
    kernel's Bass chance acts: a non-adopter starts when ``u_adopt < min(1, p + q F)``.

Discrete and continuous Bass
    The agent simulation advances in whole steps (weeks in the model). Its mean field is the
    recurrence ``F_{t+1} = F_t + min(1, p + q F_t) (1 - F_t)`` (:func:`bass_discrete`), a
    forward-Euler step of the Bass equation ``dF/dt = (p + q F)(1 - F)`` whose solution is the
    closed form :func:`bass_cdf`. For large ``n`` the simulation follows the recurrence to within
    sampling noise. The closed form differs from both by a discretisation error that grows with
    ``p + q``: with ``p = 0.03, q = 0.38`` per step the recurrence and the closed form are up to
    0.07 apart around the take-off; with rates ten times smaller (``p = 0.003, q = 0.038``) at
    most 0.007.

Threshold-zero and isolated nodes
    The kernel activates when ``exposure >= threshold``; taken literally a threshold of 0 would
    activate a node that sees no active neighbour at all (``0 >= 0``), including isolated nodes.
    In Watts' model a node is triggered *by its neighbours*, so :func:`threshold_cascade`
    reads a threshold of 0 as "the smallest positive threshold": it is raised to
    :data:`MIN_THRESHOLD` (``1e-12``) before the kernel sees it. Any positive exposure is at
    least ``1 / degree > 1e-12`` (the kernel's exposure is ``active / degree`` computed in
    floating point from exact integers), so a threshold-0 node activates as soon as one
    neighbour is active, exactly as for any threshold in ``(0, 1/degree]``, and never without
    one. Isolated nodes have exposure 0 and so never activate unless they are seeds. Negative
    or NaN thresholds are rejected; ``+inf`` (or anything above 1) means "never activates".
"""

from __future__ import annotations

import math

import numpy as np

from . import cascade, engine, kernels
from .kernels import CONTRIBUTOR, NON_USER, ParticipationParams

__all__ = [
    "MIN_THRESHOLD",
    "bass_cdf",
    "bass_discrete",
    "simulate_bass",
    "threshold_cascade",
    "threshold_cascade_full_model",
    "vulnerable_cluster_condition_value",
    "watts_cascade_condition",
]

#: Thresholds below this (i.e. exactly 0) are raised to it, see the module docstring.
MIN_THRESHOLD = 1e-12

_INT32_MAX = np.iinfo(np.int32).max


# Every parameter of the participation rule with its "switched off" value. Zero for weights
# and rates; the few that divide, or that compare, get the neutral value that keeps the
# switched-off term exactly zero. Listed in full on purpose: if the kernel gains a parameter,
# _params fails loudly instead of guessing its neutral value.
_SWITCHED_OFF = {
    "peer_weight": 0.0,
    "role_model_weight": 0.0,
    "purpose_weight": 0.0,
    "network_value_weight": 0.0,
    "value_saturation": 1.0,  # divides in the (switched-off) value terms: must be > 0
    "value_people_share": 0.5,
    "launch_novelty": 0.0,
    "novelty_half_life": 1.0,  # divides in the (switched-off) novelty term: must be > 0
    "recognition_weight": 0.0,
    "recognition_saturation": 1.0,  # divides in the (switched-off) recognition term
    "leader_pull": 0.0,
    "rally": 0.0,
    "facing_failure": 0.0,
    "friction_cost": 0.0,
    "fear_weight": 0.0,
    "habit_weight": 0.0,
    "decision_noise": 0.0,  # the strict threshold rule: start exactly when net motivation >= 0
    "spontaneous_adoption": 0.0,
    "imitation": 0.0,
    "reading_uptake": 0.0,
    "reading_lapse": 0.0,
    "reading_effort": 0.0,
    "lapse_rate": 0.0,
    "lapse_margin": 0.0,
    "relapse_penalty": 0.0,
    "reaction_ease": 0.0,
    "contribution_rate": 0.0,  # nobody posts: reputation, habit and attention play no part
    "posting_budget": 1.0,
    "reputation_feedback": 0.0,
    "post_speed": 1.0,
    "mistake_rate": 0.0,
}


def _params(**on: float) -> ParticipationParams:
    """Participation parameters with every mechanism off except the ones named in ``on``."""
    fields = ParticipationParams._fields
    unknown = [f for f in fields if f not in _SWITCHED_OFF]
    if unknown:
        raise RuntimeError(f"sim.classic does not know the switched-off value of the "
                           f"participation parameter(s) {unknown}; add them to _SWITCHED_OFF")
    values = {f: float(on.get(f, _SWITCHED_OFF[f])) for f in fields}
    return ParticipationParams(**values)


class _Population:
    """The constant, switched-off per-agent arrays ``participation`` needs, plus outputs."""

    def __init__(self, n: int):
        self.has_access = np.ones(n, dtype=np.bool_)
        self.weeks_with_access = np.zeros(n, dtype=np.int32)  # only ages the (off) novelty term
        self.propensity = np.ones(n, dtype=np.float64)
        self.writer = np.ones(n, dtype=np.bool_)  # everyone can adopt
        self.no = np.zeros(n, dtype=np.bool_)  # nobody is a formal leader or faces customers
        self.department = np.zeros(n, dtype=np.int32)
        self.zeros = np.zeros(n, dtype=np.float64)  # leader signal, alignment, reputation, habit
        self.safety = np.ones(n, dtype=np.float64)
        self.knowledge_density = np.zeros(1, dtype=np.float64)
        self.half = np.full(n, 0.5, dtype=np.float64)  # uniforms the switched-off rules ignore
        self.out_stage = np.empty(n, dtype=np.int8)
        self.out_posts = np.empty(n, dtype=np.int64)
        self.out_reacted = np.empty(n, dtype=np.bool_)
        self.out_mistake = np.empty(n, dtype=np.bool_)

    def step(self, stage, threshold, exposure, active_neighbours, params, u_adopt):
        """One call of ``kernels.participation``; returns the new stage array (a copy)."""
        kernels.participation(
            stage=stage, has_access=self.has_access, weeks_with_access=self.weeks_with_access,
            threshold=threshold, propensity=self.propensity, writer=self.writer, is_formal_leader=self.no,
            customer_facing=self.no, department=self.department, leader_signal=self.zeros,
            alignment=self.zeros, safety=self.safety, reputation=self.zeros, habit=self.zeros,
            exposure=exposure, active_neighbours=active_neighbours,
            knowledge_density=self.knowledge_density, p=params,
            u_adopt=u_adopt, u_read=self.half, u_lapse=self.half, u_react=self.half, u_post=self.half,
            u_mistake=self.half, out_stage=self.out_stage, out_posts=self.out_posts,
            out_reacted=self.out_reacted, out_mistake=self.out_mistake,
        )
        return self.out_stage.copy()


def _as_int_array(name: str, a, ndim: int = 1) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr


def _validate_graph(indptr, indices) -> tuple[np.ndarray, np.ndarray, int]:
    indptr = _as_int_array("indptr", indptr)
    indices = _as_int_array("indices", indices)
    if indptr.size < 1:
        raise ValueError("indptr must have length N + 1 >= 1, got an empty array")
    n = indptr.size - 1
    if n > _INT32_MAX:
        raise ValueError(f"the graph has {n} nodes; at most {_INT32_MAX} are supported")
    if indptr[0] != 0:
        raise ValueError(f"indptr[0] must be 0, got {indptr[0]}")
    if np.any(np.diff(indptr) < 0):
        raise ValueError("indptr must be non-decreasing")
    if indptr[-1] != indices.size:
        raise ValueError(f"indptr[-1] ({indptr[-1]}) must equal len(indices) ({indices.size})")
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise ValueError(f"indices must be node ids in [0, {n}), got range "
                         f"[{indices.min()}, {indices.max()}]")
    return (np.ascontiguousarray(indptr, dtype=np.int64),
            np.ascontiguousarray(indices, dtype=np.int32), n)


def _cascade_inputs(indptr, indices, thresholds, initially_active, max_steps):
    """Checked, converted inputs of a cascade: CSR, thresholds raised to MIN_THRESHOLD, seeds, steps."""
    indptr, indices, n = _validate_graph(indptr, indices)
    thresholds = np.asarray(thresholds)
    if thresholds.shape != (n,):
        raise ValueError(f"thresholds must have shape ({n},) to match the graph, "
                         f"got {thresholds.shape}")
    if not (np.issubdtype(thresholds.dtype, np.floating)
            or np.issubdtype(thresholds.dtype, np.integer)):
        raise ValueError(f"thresholds must be real numbers, got dtype {thresholds.dtype}")
    thresholds = thresholds.astype(np.float64)
    if np.isnan(thresholds).any():
        raise ValueError("thresholds must not be NaN")
    if (thresholds < 0).any():
        raise ValueError(f"thresholds must be >= 0, got minimum {thresholds.min()}")
    seeds = np.asarray(initially_active)
    if seeds.shape != (n,):
        raise ValueError(f"initially_active must have shape ({n},) to match the graph, "
                         f"got {seeds.shape}")
    if seeds.dtype != np.bool_:
        if not np.issubdtype(seeds.dtype, np.integer) or not np.isin(seeds, (0, 1)).all():
            raise ValueError("initially_active must be boolean (or 0/1 integers), "
                             f"got dtype {seeds.dtype}")
        seeds = seeds.astype(np.bool_)
    max_steps = _check_count("max_steps", max_steps, 0)
    return indptr, indices, n, np.maximum(thresholds, MIN_THRESHOLD), np.ascontiguousarray(seeds), max_steps


#: :func:`sim.cascade.watts_cascade` compiled without ``parallel`` (as :mod:`sim.engine` does for
#: the model's kernels), and how much larger than ``sim.engine.PARALLEL_FROM_AGENTS`` a graph must
#: be for the parallel variant: the kernel reads the ties serially (only those of the nodes that
#: start), and its ``prange`` loops are passes over the nodes that read no ties, which pay for
#: waking numba's threads only on large graphs (on a shared 2-core machine the two variants were
#: equally fast at 1M nodes and the serial one steadier at 100k).
_watts_cascade_serial = engine.serial_variant(cascade.watts_cascade)
_CASCADE_PARALLEL_FACTOR = 50


def threshold_cascade(indptr, indices, thresholds, initially_active,
                      max_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Synchronous Watts (2002) threshold cascade, decided by the model's participation rule.

    In each step every inactive node whose share of active neighbours is at least its threshold
    becomes active, all at once (synchronous update); active nodes stay active. The cascade runs
    in the dedicated kernel :func:`sim.cascade.watts_cascade`, whose decision is the participation
    rule itself (:func:`sim.kernels.decide_contributing`, the function
    :func:`sim.kernels.participation` calls) with only peer influence switched on; it gives
    exactly what one call each of :func:`sim.kernels.neighbour_exposure` and
    :func:`sim.kernels.participation` per step gives (:func:`threshold_cascade_full_model`; see
    the module docstring for the mapping), at the cost of the ties of the nodes that start.
    Large graphs (from 50 times ``sim.engine.PARALLEL_FROM_AGENTS`` nodes) use the kernel's
    parallel variant, smaller ones its serial one; both give the same result.

    Row ``i`` of the CSR lists the neighbours whose states node ``i`` observes; for Watts'
    undirected graphs pass a symmetric CSR such as :func:`sim.networks.csr_from_edges` builds.
    A threshold of exactly 0 is read as the smallest positive threshold (one active neighbour
    suffices), so isolated nodes never activate unless they are seeds; see the module
    docstring.

    Args:
        indptr: integer ``(N + 1,)`` CSR row pointers (cast to int64).
        indices: integer ``(nnz,)`` neighbour ids in ``[0, N)`` (cast to int32).
        thresholds: real ``(N,)``, each ``>= 0`` (``+inf`` allowed: never activates).
            Thresholds of seeds are not used.
        initially_active: bool ``(N,)`` (or 0/1 integers), the seed set.
        max_steps: maximum number of synchronous steps, ``>= 0``.

    Returns:
        ``(final_active, active_per_step)``: ``final_active`` bool ``(N,)``, the active set when
        the cascade stopped; ``active_per_step`` int64, entry 0 the number of seeds, then the
        number active after each step that changed something. The run stops at the first step
        that activates nobody (that step is not recorded, so consecutive entries strictly
        increase and the last entry equals ``final_active.sum()``) or after ``max_steps``
        steps, so the length is at most ``max_steps + 1``.

    Raises:
        ValueError: malformed CSR, wrong shapes, negative or NaN thresholds, a non-boolean seed
            array or a negative ``max_steps``.
    """
    indptr, indices, n, threshold, seeds, max_steps = _cascade_inputs(
        indptr, indices, thresholds, initially_active, max_steps)
    observers_indptr, observers_indices = _observers(indptr, indices, n)
    final = np.empty(n, dtype=np.bool_)
    per_step = np.empty(min(max_steps, n) + 1, dtype=np.int64)
    parallel = n >= _CASCADE_PARALLEL_FACTOR * engine.PARALLEL_FROM_AGENTS
    kernel = cascade.watts_cascade if parallel else _watts_cascade_serial
    # Every step but the last activates someone, so a cascade ends within N + 1 steps anyway.
    steps = kernel(indptr, observers_indptr, observers_indices, threshold, seeds, _params(peer_weight=1.0),
                    min(max_steps, n + 1), final, per_step)
    return final, per_step[:steps + 1].copy()


def _observers(indptr, indices, n):
    """Who sees whom: the graph itself when its ties are mutual, else its transpose."""
    if cascade.ties_are_mutual(indptr, indices):
        return indptr, indices
    observers_indptr = np.empty(n + 1, dtype=np.int64)
    observers_indices = np.empty(indices.size, dtype=np.int32)
    cascade.observer_lists(indptr, indices, observers_indptr, observers_indices)
    return observers_indptr, observers_indices


def threshold_cascade_full_model(indptr, indices, thresholds, initially_active,
                                 max_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`threshold_cascade` through the full model's kernels, one call of each per step.

    Each step is one call of :func:`sim.kernels.neighbour_exposure` (unit weights, no weak ties,
    "visible" meaning active) and one of :func:`sim.kernels.participation` with every mechanism
    but peer influence switched off (the module docstring gives the mapping). Same arguments,
    results and errors as :func:`threshold_cascade`, which must equal it (tests/test_classic.py);
    slower, since every step reads every tie and decides for every node.
    """
    indptr, indices, n, threshold, seeds, max_steps = _cascade_inputs(
        indptr, indices, thresholds, initially_active, max_steps)
    stage = np.where(seeds, CONTRIBUTOR, NON_USER).astype(np.int8)
    weak_ties = np.zeros((n, 0), dtype=np.int32)
    weak_count = np.zeros(n, dtype=np.int32)
    influence = np.ones(n, dtype=np.float64)
    exposure = np.empty(n, dtype=np.float64)
    active_neighbours = np.empty(n, dtype=np.int32)
    pop = _Population(n)
    params = _params(peer_weight=1.0)

    count = int(seeds.sum())
    counts = [count]
    for _ in range(max_steps):
        kernels.neighbour_exposure(indptr=indptr, indices=indices, weak_ties=weak_ties,
                                   weak_count=weak_count, visible=stage == CONTRIBUTOR,
                                   influence_weight=influence,
                                   out_exposure=exposure, out_active_neighbours=active_neighbours)
        stage = pop.step(stage, threshold, exposure, active_neighbours, params, pop.half)
        new_count = int(np.count_nonzero(stage == CONTRIBUTOR))
        # Activation is permanent, so an unchanged count means an unchanged set: a fixed point.
        if new_count == count:
            break
        count = new_count
        counts.append(count)
    return stage == CONTRIBUTOR, np.asarray(counts, dtype=np.int64)


def _check_rate(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= v <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return v


def _check_count(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def simulate_bass(n: int, p: float, q: float, steps: int, seed) -> np.ndarray:
    """Agent-based Bass (1969) diffusion in a fully mixed population, run by the model's kernel.

    Each step every non-adopter adopts with probability ``p + q * F``, ``F`` the share of
    adopters at the start of the step (the kernel's chance term, with ``exposure = F`` for
    everyone and thresholds ``+inf``). Adoption is permanent.

    Args:
        n: population size, ``>= 1``.
        p: innovation coefficient (per step), in ``[0, 1]``.
        q: imitation coefficient (per step), in ``[0, 1]``.
        steps: number of steps, ``>= 0``.
        seed: seed for ``np.random.default_rng``; one ``rng.random(n)`` draw per step gives
            the adoption uniforms, so the same seed gives the same trajectory.

    Returns:
        int64 ``(steps + 1,)``: cumulative adopters after each step, entry 0 is 0.

    Raises:
        ValueError: ``n < 1``, ``steps < 0`` or ``p``, ``q`` outside ``[0, 1]``.
    """
    n = _check_count("n", n, 1)
    if n > _INT32_MAX:
        raise ValueError(f"n must be <= {_INT32_MAX}, got {n}")
    p = _check_rate("p", p)
    q = _check_rate("q", q)
    steps = _check_count("steps", steps, 0)
    rng = np.random.default_rng(seed)

    pop = _Population(n)
    params = _params(spontaneous_adoption=p, imitation=q)
    threshold = np.full(n, np.inf)
    stage = np.full(n, NON_USER, dtype=np.int8)
    exposure = np.empty(n, dtype=np.float64)
    active_neighbours = np.zeros(n, dtype=np.int32)  # feeds only the switched-off value term
    adopters = np.zeros(steps + 1, dtype=np.int64)
    for t in range(steps):
        exposure.fill(adopters[t] / n)
        stage = pop.step(stage, threshold, exposure, active_neighbours, params, rng.random(n))
        adopters[t + 1] = np.count_nonzero(stage == CONTRIBUTOR)
    return adopters


def bass_cdf(p: float, q: float, t):
    """Closed-form Bass adoption share ``F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})``.

    The solution of ``dF/dt = (p + q F)(1 - F)``, ``F(0) = 0``, in continuous time.

    Args:
        p: innovation coefficient, ``> 0``.
        q: imitation coefficient, ``>= 0``.
        t: time(s), scalar or array-like.

    Returns:
        float64 array shaped like ``t`` (a Python float for scalar ``t``).

    Raises:
        ValueError: ``p <= 0`` or ``q < 0`` (or NaN).
    """
    p, q = float(p), float(q)
    if not p > 0.0:
        raise ValueError(f"p must be > 0 for the closed form, got {p!r}")
    if not q >= 0.0:
        raise ValueError(f"q must be >= 0, got {q!r}")
    t = np.asarray(t, dtype=np.float64)
    e = np.exp(-(p + q) * t)
    f = (1.0 - e) / (1.0 + (q / p) * e)
    return float(f) if f.ndim == 0 else f


def bass_discrete(p: float, q: float, steps: int) -> np.ndarray:
    """Deterministic discrete-time Bass recurrence, the mean field of :func:`simulate_bass`.

    ``F_0 = 0`` and ``F_{t+1} = F_t + min(1, p + q F_t) (1 - F_t)``: the expected share after
    one step of the agent simulation given the share before it. (``min`` only matters when
    ``p + q F > 1``, where the adoption probability is capped at 1.) It is a forward-Euler step
    of the continuous Bass equation, so it departs from :func:`bass_cdf` by a discretisation
    error that is small when ``p + q`` is small.

    Args:
        p, q: coefficients per step, in ``[0, 1]``.
        steps: number of steps, ``>= 0``.

    Returns:
        float64 ``(steps + 1,)``: ``F_0 .. F_steps``.

    Raises:
        ValueError: ``p`` or ``q`` outside ``[0, 1]``, ``steps < 0``.
    """
    p = _check_rate("p", p)
    q = _check_rate("q", q)
    steps = _check_count("steps", steps, 0)
    f = np.zeros(steps + 1, dtype=np.float64)
    for t in range(steps):
        f[t + 1] = f[t] + min(1.0, p + q * f[t]) * (1.0 - f[t])
    return f


def vulnerable_cluster_condition_value(z: float, phi: float) -> float:
    """Left side minus right side of Watts' cascade condition on an Erdős–Rényi graph.

    Watts (2002, eq. 3): global cascades from a single seed are possible when the vulnerable
    nodes percolate, ``sum_k k (k - 1) rho_k p_k >= z``, with ``p_k`` the Poisson(``z``) degree
    distribution and ``rho_k = 1`` when a node of degree ``k >= 1`` is vulnerable (one active
    neighbour suffices: ``1 / k >= phi``, i.e. ``k <= floor(1 / phi)``) and 0 otherwise. The
    vulnerability test is evaluated as ``1.0 / k >= phi`` in floating point, exactly as the
    kernel compares exposure with a threshold. ``phi = 0`` makes every node vulnerable (the
    left side is then ``z ** 2``: ordinary percolation, ``z >= 1``).

    Args:
        z: mean degree, ``> 0``.
        phi: uniform threshold, ``>= 0``.

    Returns:
        ``sum_k k (k - 1) rho_k p_k - z``; non-negative inside the cascade window.

    Raises:
        ValueError: ``z <= 0`` or ``phi < 0`` (or NaN).
    """
    z, phi = float(z), float(phi)
    if not (z > 0.0 and math.isfinite(z)):
        raise ValueError(f"z (mean degree) must be finite and > 0, got {z!r}")
    if not phi >= 0.0:
        raise ValueError(f"phi (threshold) must be >= 0, got {phi!r}")
    if phi == 0.0:
        return z * z - z
    # Poisson mass beyond z + 40 sqrt(z) + 100 is far below double precision: cap the sum there.
    k_cap = int(z + 40.0 * math.sqrt(z) + 100.0)
    inv = 1.0 / phi
    k_max = min(math.floor(inv) + 1, k_cap) if math.isfinite(inv) else k_cap
    k = np.arange(2, k_max + 1, dtype=np.float64)
    k = k[1.0 / k >= phi]
    if k.size == 0:
        return -z
    log_pk = -z + k * math.log(z) - np.array([math.lgamma(x + 1.0) for x in k])
    return float(np.sum(k * (k - 1.0) * np.exp(log_pk)) - z)


def watts_cascade_condition(z: float, threshold: float) -> bool:
    """Whether Watts' (2002) condition predicts global cascades on an Erdős–Rényi graph.

    Uniform threshold ``threshold`` for every node, Poisson degrees with mean ``z``; see
    :func:`vulnerable_cluster_condition_value`. The window's edges (where the two sides are
    equal) are a set of measure zero, so ``>=`` versus ``>`` does not matter in practice.

    Args:
        z: mean degree, ``> 0``.
        threshold: the uniform threshold ``phi``, ``>= 0``.

    Returns:
        True inside the cascade window.
    """
    return vulnerable_cluster_condition_value(z, threshold) >= 0.0
