"""The model's kernels, with everything but one mechanism off, reduce to classic diffusion models.

Watts (2002) threshold cascades and Bass (1969) diffusion, run by :mod:`sim.classic` through
:func:`sim.kernels.neighbour_exposure` and :func:`sim.kernels.participation` (Bass, and the
cascade's full-model path) or through the dedicated cascade kernel
:func:`sim.cascade.watts_cascade`, which shares the participation rule
(:func:`sim.kernels.decide_contributing`), are checked against each other, a plain-Python and a
scipy-sparse reference, hand-made cases, Watts' cascade window and the Bass curves.
"""

from __future__ import annotations

import inspect
import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from sim import cascade, classic, engine, kernels, reference
from sim.classic import (
    MIN_THRESHOLD,
    bass_cdf,
    bass_discrete,
    simulate_bass,
    threshold_cascade,
    threshold_cascade_full_model,
    vulnerable_cluster_condition_value,
    watts_cascade_condition,
)
from sim.networks import csr_from_edges

# Named seeds, so every random graph and draw below can be reproduced.
REFERENCE_SEED = 1969
WINDOW_SEED = 2002
BASS_SEEDS = (11, 12, 13, 14, 15)
KERNEL_SEED = 1978


# --- helpers --------------------------------------------------------------------------------

def reference_cascade(indptr, indices, thresholds, initially_active, max_steps):
    """Slow, readable synchronous Watts rule: the behaviour sim.classic documents.

    A node that is not active becomes active when at least one neighbour is active and the
    active share of its neighbours is at least its threshold (a threshold of 0 therefore needs
    one active neighbour; isolated nodes never activate).
    """
    n = len(indptr) - 1
    neighbours = [list(indices[indptr[i]:indptr[i + 1]]) for i in range(n)]
    active = [bool(a) for a in initially_active]
    counts = [sum(active)]
    for _ in range(max_steps):
        new = list(active)
        for i in range(n):
            if active[i] or not neighbours[i]:
                continue
            a = sum(1 for j in neighbours[i] if active[j])
            if a > 0 and a / len(neighbours[i]) >= thresholds[i]:
                new[i] = True
        if sum(new) == counts[-1]:
            break
        active = new
        counts.append(sum(active))
    return np.array(active), np.array(counts, dtype=np.int64)


def csr_of(graph: nx.Graph):
    m = nx.to_scipy_sparse_array(graph, nodelist=sorted(graph.nodes), format="csr")
    return m.indptr, m.indices


def path_csr(n):
    return csr_from_edges(n, np.arange(n - 1), np.arange(1, n))


def erdos_renyi(rng, n, z):
    """Erdős–Rényi-like graph with mean degree ~z: Poisson(z n / 2) uniform random pairs.

    Self loops and duplicate pairs (dropped by csr_from_edges) are O(z^2) out of z n / 2 ties,
    so the degree distribution is Poisson(z) up to a negligible correction.
    """
    m = rng.poisson(z * n / 2)
    return csr_from_edges(n, rng.integers(0, n, m), rng.integers(0, n, m))


def directed_csr(rng, n, m):
    """A CSR of m random directed entries: rows sorted, self loops and repeated entries kept."""
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    order = np.lexsort((dst, src))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))]).astype(np.int64)
    return indptr, dst[order].astype(np.int32)


def scipy_cascade(indptr, indices, thresholds, initially_active, max_steps):
    """Watts' synchronous rule as a scipy-sparse loop, thresholds taken literally (0 means 0).

    ``share = (A @ active) / degree`` (0 without contacts; repeated entries count twice, as in
    the CSR); ``active |= share >= threshold``; stop at the first step that changes nothing.
    """
    n = len(indptr) - 1
    adjacency = sp.csr_array((np.ones(len(indices)), indices, indptr), shape=(n, n))
    degree = np.diff(indptr).astype(np.float64)
    active = np.asarray(initially_active, dtype=bool).copy()
    counts = [int(active.sum())]
    for _ in range(max_steps):
        share = np.divide(adjacency @ active.astype(np.float64), degree, out=np.zeros(n), where=degree > 0)
        new = active | (share >= thresholds)
        if int(new.sum()) == counts[-1]:
            break
        active = new
        counts.append(int(active.sum()))
    return active, np.asarray(counts, dtype=np.int64)


def run_cascade_kernel(indptr, indices, thresholds, initially_active, max_steps, parallel):
    """cascade.watts_cascade (or its serial variant) on thresholds as given (not raised)."""
    indptr, indices, n = classic._validate_graph(indptr, indices)
    observers_indptr, observers_indices = classic._observers(indptr, indices, n)
    final = np.empty(n, dtype=bool)
    per_step = np.full(min(max_steps, n) + 1, -1, dtype=np.int64)
    kernel = cascade.watts_cascade if parallel else classic._watts_cascade_serial
    steps = kernel(indptr, observers_indptr, observers_indices, np.asarray(thresholds, dtype=np.float64),
                    np.asarray(initially_active, dtype=bool), classic._params(peer_weight=1.0), max_steps,
                    final, per_step)
    assert (per_step[steps + 1:] == -1).all()  # nothing written past the steps it reports
    return final, per_step[:steps + 1]


def kernel_graphs():
    """Graphs for the dedicated kernel: (name, indptr, indices), symmetric and not."""
    rng = np.random.default_rng([KERNEL_SEED, 0])
    graphs = [
        ("er", *csr_of(nx.gnp_random_graph(600, 0.01, seed=int(rng.integers(2**31))))),
        ("ws", *csr_of(nx.watts_strogatz_graph(500, 6, 0.1, seed=int(rng.integers(2**31))))),
        ("ba", *csr_of(nx.barabasi_albert_graph(500, 2, seed=int(rng.integers(2**31))))),
        ("sparse_isolated", *erdos_renyi(rng, 800, 0.7)),
        ("er_large", *erdos_renyi(rng, 3000, 5.0)),
        ("directed", *directed_csr(rng, 500, 2000)),
        ("directed_sparse", *directed_csr(rng, 400, 300)),
        ("path", *path_csr(60)),
        ("no_ties", np.zeros(31, dtype=np.int64), np.zeros(0, dtype=np.int32)),
        ("one_node", np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int32)),
        ("no_nodes", np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32)),
    ]
    return graphs


def threshold_mixes(rng, n):
    """Threshold arrays: continuous, exact fractions (the ">=" edge), 0, above 1 and +inf."""
    mixed = rng.uniform(0.0, 0.5, n)
    exact = rng.random(n) < 0.3
    mixed[exact] = rng.choice([1 / 4, 1 / 3, 1 / 2, 2 / 3, 1.0], exact.sum())
    mixed[rng.random(n) < 0.05] = 0.0
    mixed[rng.random(n) < 0.03] = 1.5
    mixed[rng.random(n) < 0.02] = np.inf
    return {"mixed": mixed, "uniform_0.18": np.full(n, 0.18), "zero": np.zeros(n),
            "above_one": np.full(n, 1.2), "low": rng.uniform(0.0, 0.15, n)}


def seed_sets(rng, n):
    return {"none": np.zeros(n, dtype=bool), "one": np.arange(n) == (n // 2),
            "few": rng.random(n) < 0.01, "many": rng.random(n) < 0.1}


# --- 1. against the plain-Python reference ---------------------------------------------------

@pytest.mark.parametrize("case", ["er", "ws", "ba", "er_sparse_isolated"])
def test_threshold_cascade_matches_reference(case):
    case_id = ["er", "ws", "ba", "er_sparse_isolated"].index(case)
    rng = np.random.default_rng([REFERENCE_SEED, case_id])
    graph_seed = int(rng.integers(2**31))
    graph = {
        "er": lambda: nx.gnp_random_graph(300, 0.02, seed=graph_seed),
        "ws": lambda: nx.watts_strogatz_graph(400, 6, 0.1, seed=graph_seed),
        "ba": lambda: nx.barabasi_albert_graph(300, 2, seed=graph_seed),
        "er_sparse_isolated": lambda: nx.gnp_random_graph(400, 0.004, seed=graph_seed),
    }[case]()
    indptr, indices = csr_of(graph)
    n = graph.number_of_nodes()
    for trial in range(4):
        # Mix continuous thresholds, exact fractions (to test the ">=" edge: a / k == phi), zeros
        # (one active neighbour suffices) and +inf (never).
        thresholds = rng.uniform(0.0, 0.5, n)
        exact = rng.random(n) < 0.3
        thresholds[exact] = rng.choice([1 / 4, 1 / 3, 1 / 2, 2 / 3, 1.0], exact.sum())
        thresholds[rng.random(n) < 0.05] = 0.0
        thresholds[rng.random(n) < 0.02] = np.inf
        seeds = rng.random(n) < [0.01, 0.03, 0.05, 0.1][trial]
        seeds[rng.integers(n)] = True
        got_final, got_counts = threshold_cascade(indptr, indices, thresholds, seeds, 1000)
        want_final, want_counts = reference_cascade(indptr, indices, thresholds, seeds, 1000)
        np.testing.assert_array_equal(got_final, want_final)
        np.testing.assert_array_equal(got_counts, want_counts)
        assert got_final.dtype == np.bool_ and got_counts.dtype == np.int64
        assert got_counts[-1] == got_final.sum()


def test_full_model_path_runs_through_the_model_kernels(monkeypatch):
    calls = {"exposure": 0, "participation": 0}
    exposure, participation = kernels.neighbour_exposure, kernels.participation

    def count_exposure(*args, **kwargs):
        calls["exposure"] += 1
        return exposure(*args, **kwargs)

    def count_participation(*args, **kwargs):
        calls["participation"] += 1
        return participation(*args, **kwargs)

    monkeypatch.setattr(kernels, "neighbour_exposure", count_exposure)
    monkeypatch.setattr(kernels, "participation", count_participation)
    indptr, indices = path_csr(5)
    seeds = np.array([True, False, False, False, False])
    _, counts = threshold_cascade_full_model(indptr, indices, np.full(5, 0.5), seeds, 100)
    # 4 steps that activate someone plus the step that finds the fixed point.
    assert calls == {"exposure": 5, "participation": 5}
    np.testing.assert_array_equal(counts, [1, 2, 3, 4, 5])
    simulate_bass(10, 0.1, 0.2, 3, seed=0)
    assert calls["participation"] == 8
    # The dedicated kernel calls neither.
    threshold_cascade(indptr, indices, np.full(5, 0.5), seeds, 100)
    assert calls == {"exposure": 5, "participation": 8}


# --- 1b. the dedicated kernel: the full model's rule, the full model's result -------------------

def _names(function) -> set[str]:
    return set(function.py_func.__code__.co_names)


def test_cascade_kernel_and_participation_call_one_decision_rule():
    """One function, not a copy: both kernels call decide_contributing, and the rule's
    arithmetic (its only use of the Bass and lapse parameters) is written once, in it."""
    rule = {"spontaneous_adoption", "imitation", "lapse_rate", "lapse_margin", "relapse_penalty"}
    assert rule <= _names(kernels.decide_contributing)
    assert "decide_contributing" in _names(kernels.participation)
    assert not rule & _names(kernels.participation)
    assert "_cascade_starts" in _names(cascade.watts_cascade)
    assert {"decide_contributing", "exposure_share"} <= _names(cascade._cascade_starts)
    assert not {"lapse_margin", "relapse_penalty"} & (_names(cascade.watts_cascade) | _names(cascade._cascade_starts))
    assert "exposure_share" in _names(kernels.neighbour_exposure)
    # The serial variant is the same code, compiled without parallel.
    assert classic._watts_cascade_serial.py_func.__code__ is cascade.watts_cascade.py_func.__code__
    source = inspect.getsource(kernels)
    assert source.count("p.spontaneous_adoption + p.imitation") == 1
    # The reference engine's participation calls its plain-Python twin of the rule.
    assert "decide_contributing" in reference.participation.__code__.co_names
    assert not rule & set(reference.participation.__code__.co_names)


def test_decision_rule_is_identical_in_both_engines():
    rng = np.random.default_rng([KERNEL_SEED, 1])
    margins = [-np.inf, -1.0, -1e-12, 0.0, 1e-12, 0.3, np.inf]
    for trial in range(60):
        on = dict(decision_noise=float(rng.choice([0.0, 0.05, 0.5])),
                  spontaneous_adoption=float(rng.choice([0.0, 0.01])), imitation=float(rng.choice([0.0, 0.2])),
                  lapse_rate=float(rng.choice([0.0, 0.1, 1.0])), lapse_margin=float(rng.uniform(0, 0.3)),
                  relapse_penalty=float(rng.uniform(0, 0.3)))
        p = classic._params(**on)
        for stage in (kernels.NON_USER, kernels.READER, kernels.CONTRIBUTOR, kernels.CHAMPION, kernels.LAPSED):
            for m in margins + list(rng.normal(0, 0.5, 3)):
                exposure, u_adopt, u_lapse = rng.random(3)
                args = (np.int8(stage), float(m), float(exposure), float(u_adopt), float(u_lapse), p)
                assert kernels.decide_contributing(*args) == reference.decide_contributing(*args)
    # Without noise or Bass hazard it is the threshold rule, whatever the uniform.
    p = classic._params(peer_weight=1.0)
    for u in (0.0, 0.5, 0.999999):
        assert kernels.decide_contributing(kernels.NON_USER, 0.0, 0.0, u, u, p) == kernels.CONTRIBUTOR
        assert kernels.decide_contributing(kernels.NON_USER, -1e-300, 0.0, u, u, p) == kernels.NON_USER
        assert kernels.decide_contributing(kernels.CONTRIBUTOR, -5.0, 0.0, u, u, p) == kernels.CONTRIBUTOR


@pytest.mark.parametrize("name, indptr, indices", kernel_graphs(), ids=[g[0] for g in kernel_graphs()])
def test_cascade_kernel_equals_the_full_model(name, indptr, indices):
    """threshold_cascade (the dedicated kernel) gives exactly what the full participation kernel
    gives with every other mechanism off: same final state, same count after every step."""
    n = len(indptr) - 1
    rng = np.random.default_rng([KERNEL_SEED, 2, n, len(indices)])
    cascaded = 0
    for label, thresholds in threshold_mixes(rng, n).items():
        for seeds_label, seeds in seed_sets(rng, n).items():
            for max_steps in (1000, 3):
                got = threshold_cascade(indptr, indices, thresholds, seeds, max_steps)
                want = threshold_cascade_full_model(indptr, indices, thresholds, seeds, max_steps)
                case = (name, label, seeds_label, max_steps)
                np.testing.assert_array_equal(got[0], want[0], err_msg=str(case))
                np.testing.assert_array_equal(got[1], want[1], err_msg=str(case))
                assert got[0].dtype == np.bool_ and got[1].dtype == np.int64
                cascaded += len(got[1]) > 2
    if len(indices) > n:  # graphs with enough ties: some runs must cascade over several steps
        assert cascaded > 0


@pytest.mark.parametrize("name, indptr, indices", kernel_graphs(), ids=[g[0] for g in kernel_graphs()])
def test_cascade_kernel_equals_scipy_loop_and_its_variants_agree(name, indptr, indices):
    """The kernel, serial and parallel, equals a scipy-sparse loop of Watts' rule, with the
    thresholds taken literally: a threshold of 0 (not raised) starts a node, isolated or not,
    in the first step, which the kernel's first pass over every node must catch."""
    n = len(indptr) - 1
    rng = np.random.default_rng([KERNEL_SEED, 3, n, len(indices)])
    for label, thresholds in threshold_mixes(rng, n).items():
        for seeds_label, seeds in seed_sets(rng, n).items():
            want = scipy_cascade(indptr, indices, thresholds, seeds, 1000)
            serial = run_cascade_kernel(indptr, indices, thresholds, seeds, 1000, parallel=False)
            parallel = run_cascade_kernel(indptr, indices, thresholds, seeds, 1000, parallel=True)
            for got in (serial, parallel):
                np.testing.assert_array_equal(got[0], want[0], err_msg=str((name, label, seeds_label)))
                np.testing.assert_array_equal(got[1], want[1], err_msg=str((name, label, seeds_label)))
            if label == "zero" and n:  # literally 0: everyone without a seed starts in step 1
                assert serial[0].all() and (len(serial[1]) == 2) == (not seeds.all())


def test_threshold_cascade_variants_agree():
    rng = np.random.default_rng([KERNEL_SEED, 4])
    indptr, indices = erdos_renyi(rng, 5000, 4.0)
    thresholds = rng.uniform(0.1, 0.25, 5000)
    seeds = rng.random(5000) < 0.002
    results = {}
    for parallel in (False, True):
        with engine.forced(parallel):
            results[parallel] = threshold_cascade(indptr, indices, thresholds, seeds, 1000)
    np.testing.assert_array_equal(results[False][0], results[True][0])
    np.testing.assert_array_equal(results[False][1], results[True][1])
    assert len(results[True][1]) > 5 and results[True][0].mean() > 0.5  # a real cascade


def test_who_sees_whom():
    rng = np.random.default_rng([KERNEL_SEED, 5])
    for indptr, indices in (directed_csr(rng, 300, 1500), erdos_renyi(rng, 300, 4.0), directed_csr(rng, 50, 0)):
        n = len(indptr) - 1
        observers_indptr = np.empty(n + 1, dtype=np.int64)
        observers_indices = np.empty(len(indices), dtype=np.int32)
        cascade.observer_lists(indptr, indices, observers_indptr, observers_indices)
        transposed = sp.csr_array((np.ones(len(indices)), indices, indptr), shape=(n, n)).T.tocsr()
        transposed.sort_indices()
        np.testing.assert_array_equal(observers_indptr, transposed.indptr)
        np.testing.assert_array_equal(observers_indices, transposed.indices)
        symmetric = (abs(transposed - transposed.T)).nnz == 0
        assert cascade.ties_are_mutual(indptr, indices) == symmetric
    # Symmetric graphs from csr_from_edges are mutual; one changed entry, or a repeat on one
    # side only, is not; a directed cycle has equal in- and out-degrees but is not mutual.
    indptr, indices = erdos_renyi(rng, 400, 3.0)
    assert cascade.ties_are_mutual(indptr, indices)
    changed = indices.copy()
    changed[7] = (changed[7] + 1) % 400
    assert not cascade.ties_are_mutual(indptr, changed)
    assert cascade.ties_are_mutual(np.array([0, 2, 4]), np.array([1, 1, 0, 0], dtype=np.int32))
    assert not cascade.ties_are_mutual(np.array([0, 2, 3]), np.array([1, 1, 0], dtype=np.int32))
    assert cascade.ties_are_mutual(np.array([0, 1, 2]), np.array([0, 1], dtype=np.int32))  # self loops
    cycle = np.arange(1, 6, dtype=np.int32) % 5
    assert not cascade.ties_are_mutual(np.arange(6, dtype=np.int64), cycle)


def test_cascade_kernel_refuses_a_rule_it_cannot_run():
    indptr, indices = path_csr(4)
    args = dict(thresholds=np.full(4, 0.5), initially_active=np.array([True, False, False, False]))
    for on in (dict(decision_noise=0.1), dict(lapse_rate=0.5), dict(imitation=0.1),
               dict(spontaneous_adoption=0.01)):
        with pytest.raises(ValueError, match="deterministic"):
            cascade.watts_cascade(indptr, indptr, indices, args["thresholds"], args["initially_active"],
                                  classic._params(peer_weight=1.0, **on), 10, np.empty(4, dtype=bool),
                                  np.empty(5, dtype=np.int64))
    with pytest.raises(ValueError, match="shorter"):
        cascade.watts_cascade(indptr, indptr, indices, args["thresholds"], args["initially_active"],
                              classic._params(peer_weight=1.0), 10, np.empty(4, dtype=bool),
                              np.empty(2, dtype=np.int64))


# --- 2. hand-made cases ------------------------------------------------------------------------

def test_path_half_threshold_activates_everyone_one_node_per_step():
    indptr, indices = path_csr(10)
    seeds = np.zeros(10, dtype=bool)
    seeds[0] = True
    final, counts = threshold_cascade(indptr, indices, np.full(10, 0.5), seeds, 100)
    assert final.all()
    np.testing.assert_array_equal(counts, np.arange(1, 11))


def test_path_threshold_above_half_stops_at_the_seed():
    indptr, indices = path_csr(10)
    seeds = np.zeros(10, dtype=bool)
    seeds[0] = True
    final, counts = threshold_cascade(indptr, indices, np.full(10, 0.6), seeds, 100)
    np.testing.assert_array_equal(final, seeds)
    np.testing.assert_array_equal(counts, [1])


def test_max_steps_is_respected():
    indptr, indices = path_csr(10)
    seeds = np.zeros(10, dtype=bool)
    seeds[0] = True
    final, counts = threshold_cascade(indptr, indices, np.full(10, 0.5), seeds, 3)
    np.testing.assert_array_equal(counts, [1, 2, 3, 4])
    np.testing.assert_array_equal(final, np.arange(10) < 4)
    final0, counts0 = threshold_cascade(indptr, indices, np.full(10, 0.5), seeds, 0)
    np.testing.assert_array_equal(final0, seeds)
    np.testing.assert_array_equal(counts0, [1])
    # A bound far beyond any cascade (and beyond int64) only lets it run to its end.
    final_big, counts_big = threshold_cascade(indptr, indices, np.full(10, 0.5), seeds, 10**30)
    assert final_big.all()
    np.testing.assert_array_equal(counts_big, np.arange(1, 11))


def test_isolated_nodes_never_activate_even_with_threshold_zero():
    # Nodes 0-2 form a path; 3 and 4 are isolated; 4 is a seed and stays active.
    indptr, indices = csr_from_edges(5, np.array([0, 1]), np.array([1, 2]))
    seeds = np.array([True, False, False, False, True])
    final, counts = threshold_cascade(indptr, indices, np.zeros(5), seeds, 100)
    np.testing.assert_array_equal(final, [True, True, True, False, True])
    np.testing.assert_array_equal(counts, [2, 3, 4])


def test_threshold_zero_needs_one_active_neighbour():
    # Two separate paths 0-1-2 and 3-4: only the one with a seed activates, although every
    # threshold is 0 (a literal "0 >= 0" would have switched on 3 and 4 in the first step).
    indptr, indices = csr_from_edges(5, np.array([0, 1, 3]), np.array([1, 2, 4]))
    seeds = np.array([True, False, False, False, False])
    final, _ = threshold_cascade(indptr, indices, np.zeros(5), seeds, 100)
    np.testing.assert_array_equal(final, [True, True, True, False, False])
    assert 0.0 < MIN_THRESHOLD < 1.0 / np.iinfo(np.int32).max


def test_active_nodes_stay_active_and_thresholds_of_seeds_are_ignored():
    # A star: the centre (seed, threshold inf) has only inactive neighbours, whose thresholds
    # (inf) keep them inactive. Nothing changes and the seed does not lapse.
    indptr, indices = csr_from_edges(6, np.zeros(5, dtype=np.int64), np.arange(1, 6))
    seeds = np.array([True, False, False, False, False, False])
    final, counts = threshold_cascade(indptr, indices, np.full(6, np.inf), seeds, 50)
    np.testing.assert_array_equal(final, seeds)
    np.testing.assert_array_equal(counts, [1])
    # Leaves with threshold 1 activate (their only neighbour is active); the centre stays on.
    final, counts = threshold_cascade(indptr, indices, np.ones(6), seeds, 50)
    assert final.all()
    np.testing.assert_array_equal(counts, [1, 6])


def test_counts_are_monotone_and_accepts_other_integer_dtypes():
    rng = np.random.default_rng(REFERENCE_SEED)
    indptr, indices = erdos_renyi(rng, 500, 3.0)
    seeds = (rng.random(500) < 0.02).astype(np.int64)  # 0/1 integers are accepted
    thresholds = rng.uniform(0.05, 0.4, 500).astype(np.float32)
    final, counts = threshold_cascade(indptr.astype(np.int32), indices.astype(np.int64),
                                      thresholds, seeds, 1000)
    assert np.all(np.diff(counts) > 0)
    assert counts[-1] == final.sum()
    assert final[seeds.astype(bool)].all()


# --- 3. Watts' cascade window -------------------------------------------------------------------

def test_watts_condition_window_for_phi_018():
    # For phi = 0.18 nodes of degree <= 5 are vulnerable; the condition
    # z e^{-z} (1 + z + z^2/2 + z^3/6) >= 1 holds for z in about (1.03, 5.76).
    assert not watts_cascade_condition(0.5, 0.18)
    assert not watts_cascade_condition(1.0, 0.18)
    assert watts_cascade_condition(1.1, 0.18)
    assert watts_cascade_condition(2.0, 0.18)
    assert watts_cascade_condition(4.0, 0.18)
    assert watts_cascade_condition(5.7, 0.18)
    assert not watts_cascade_condition(5.8, 0.18)
    assert not watts_cascade_condition(12.0, 0.18)
    z = 4.0
    closed = z * z * math.exp(-z) * (1 + z + z**2 / 2 + z**3 / 6) - z
    assert vulnerable_cluster_condition_value(z, 0.18) == pytest.approx(closed, rel=1e-12)
    # phi = 0: every node vulnerable, ordinary percolation (z^2 >= z).
    assert vulnerable_cluster_condition_value(3.0, 0.0) == pytest.approx(6.0)
    assert not watts_cascade_condition(0.9, 0.0) and watts_cascade_condition(1.1, 0.0)
    # phi > 1: nobody is vulnerable.
    assert vulnerable_cluster_condition_value(3.0, 1.5) == pytest.approx(-3.0)


def test_cascade_window_on_erdos_renyi_graphs():
    """Watts (2002), Fig. 1: global cascades from one seed only inside the window.

    N = 10_000, phi = 0.18, 20 runs per z, each on a fresh graph with one random seed node; a
    run is a global cascade when more than half the nodes end active.

    Measured with these seeds: z = 0.5 -> 0.00, z = 2 -> 0.85, z = 4 -> 0.80, z = 12 -> 0.00
    (40-run pilot with other seeds: 0.00, 0.83, 0.80, 0.00). Inside the window a cascade happens
    when the seed hits the vulnerable cluster, with probability ~0.8 at z = 2 and 4, so
    "> 0.2" fails with probability ~1e-8 per z (binomial(20, 0.8) <= 4). Outside the window no
    cascade is possible for z = 0.5 (no giant component: the largest component has O(log N)
    nodes) and at z = 12 a node needs >= 3 active of ~12 neighbours, so one seed triggers at
    most a few of the rare degree-<=5 neighbours (largest final share with these seeds: 0.0004
    at z = 0.5, 0.0001 at z = 12); "< 0.05" means zero of 20 runs. Just past the upper edge
    (z = 6) finite-size cascades still happen in a few percent of runs (pilot: 3 of 40), which
    is why z = 12 is used.
    """
    n, phi, runs = 10_000, 0.18, 20
    fractions = {}
    for z in (0.5, 2.0, 4.0, 12.0):
        cascades = 0
        for r in range(runs):
            rng = np.random.default_rng([WINDOW_SEED, int(z * 10), r])
            indptr, indices = erdos_renyi(rng, n, z)
            seeds = np.zeros(n, dtype=bool)
            seeds[rng.integers(n)] = True
            final, _ = threshold_cascade(indptr, indices, np.full(n, phi), seeds, n)
            cascades += final.mean() > 0.5
        fractions[z] = float(cascades / runs)
    print("cascade fractions:", fractions)
    for z, frac in fractions.items():
        if watts_cascade_condition(z, phi):
            assert frac > 0.2, (z, frac)
        else:
            assert frac < 0.05, (z, frac)
    assert [watts_cascade_condition(z, phi) for z in fractions] == [False, True, True, False]


# --- 4. Bass ------------------------------------------------------------------------------------

def test_simulate_bass_matches_discrete_recurrence():
    # Mean of five runs of n = 20_000: one run's max error is ~0.002-0.02 (the take-off time
    # jitters; 1 of 40 pilot seeds reached 0.023), the mean's is smaller (0.0014 here; single
    # runs 0.004-0.006). The continuous closed form is
    # ~0.07 away with these weekly rates (discretisation error), far beyond the tolerance.
    n, p, q, steps = 20_000, 0.03, 0.38, 30
    runs = np.array([simulate_bass(n, p, q, steps, seed) for seed in BASS_SEEDS]) / n
    discrete = bass_discrete(p, q, steps)
    err = np.abs(runs.mean(axis=0) - discrete).max()
    print(f"Bass p={p} q={q}: max |F_sim - F_discrete| = {err:.4f}")
    assert err < 0.02
    assert np.abs(runs - discrete).max() < 0.04  # every single run, too
    assert np.abs(bass_cdf(p, q, np.arange(steps + 1)) - discrete).max() > 0.05
    assert runs[:, 0].max() == 0.0 and np.all(np.diff(runs, axis=1) >= 0)


def test_simulate_bass_matches_closed_form_for_small_rates():
    # With p + q ~ 0.04 per step the Euler discretisation error is < 0.01; the rest is noise.
    n, p, q, steps = 20_000, 0.003, 0.038, 300
    t = np.arange(steps + 1)
    runs = np.array([simulate_bass(n, p, q, steps, seed) for seed in BASS_SEEDS[:3]]) / n
    err = np.abs(runs.mean(axis=0) - bass_cdf(p, q, t)).max()
    print(f"Bass p={p} q={q}: max |F_sim - F_closed| = {err:.4f}")
    assert err < 0.03
    assert np.abs(bass_discrete(p, q, steps) - bass_cdf(p, q, t)).max() < 0.01


def test_simulate_bass_is_deterministic_per_seed():
    a = simulate_bass(5_000, 0.03, 0.38, 20, seed=7)
    b = simulate_bass(5_000, 0.03, 0.38, 20, seed=7)
    c = simulate_bass(5_000, 0.03, 0.38, 20, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.int64 and a.shape == (21,)
    np.testing.assert_array_equal(simulate_bass(10, 0.5, 0.5, 0, seed=0), [0])
    np.testing.assert_array_equal(simulate_bass(10, 0.0, 0.9, 5, seed=0), np.zeros(6))
    np.testing.assert_array_equal(simulate_bass(10, 1.0, 0.0, 2, seed=0), [0, 10, 10])


def test_bass_closed_form_and_recurrence_values():
    p, q = 0.03, 0.38
    assert bass_cdf(p, q, 0.0) == 0.0
    assert isinstance(bass_cdf(p, q, 1.0), float)
    t = np.array([[0.0, 5.0], [10.0, 1e3]])
    f = bass_cdf(p, q, t)
    assert f.shape == (2, 2) and f[1, 1] == pytest.approx(1.0)
    # The closed form solves dF/dt = (p + q F)(1 - F).
    h = 1e-6
    for tt in (1.0, 7.0, 15.0):
        deriv = (bass_cdf(p, q, tt + h) - bass_cdf(p, q, tt - h)) / (2 * h)
        ff = bass_cdf(p, q, tt)
        assert deriv == pytest.approx((p + q * ff) * (1 - ff), rel=1e-6)
    d = bass_discrete(p, q, 3)
    assert d[0] == 0.0 and d[1] == pytest.approx(p)
    assert d[2] == pytest.approx(p + (p + q * p) * (1 - p))
    np.testing.assert_array_equal(bass_discrete(1.0, 1.0, 3), [0.0, 1.0, 1.0, 1.0])


# --- 5. bad inputs ------------------------------------------------------------------------------

def _path():
    indptr, indices = path_csr(4)
    return indptr, indices, np.full(4, 0.5), np.array([True, False, False, False])


@pytest.mark.parametrize("mutate, message", [
    (lambda a: {**a, "indptr": a["indptr"][:-1]}, "indptr"),
    (lambda a: {**a, "indptr": np.array([1, 2, 3, 4, 6])}, r"indptr\[0\]"),
    (lambda a: {**a, "indptr": np.array([0, 3, 2, 4, 6])}, "non-decreasing"),
    (lambda a: {**a, "indptr": a["indptr"].astype(float)}, "integers"),
    (lambda a: {**a, "indices": np.array([1, 0, 2, 1, 3, 9])}, r"\[0, 4\)"),
    (lambda a: {**a, "indices": a["indices"].reshape(2, 3)}, "1-D"),
    (lambda a: {**a, "thresholds": np.full(3, 0.5)}, "thresholds must have shape"),
    (lambda a: {**a, "thresholds": np.array([0.5, -0.1, 0.5, 0.5])}, ">= 0"),
    (lambda a: {**a, "thresholds": np.array([0.5, np.nan, 0.5, 0.5])}, "NaN"),
    (lambda a: {**a, "thresholds": np.array(["a", "b", "c", "d"])}, "real numbers"),
    (lambda a: {**a, "initially_active": np.array([True, False])},
     "initially_active must have shape"),
    (lambda a: {**a, "initially_active": np.array([0.0, 1.0, 0.0, 0.0])}, "boolean"),
    (lambda a: {**a, "initially_active": np.array([0, 2, 0, 0])}, "boolean"),
    (lambda a: {**a, "max_steps": -1}, "max_steps"),
    (lambda a: {**a, "max_steps": 2.5}, "max_steps"),
])
@pytest.mark.parametrize("cascade", [threshold_cascade, threshold_cascade_full_model])
def test_threshold_cascade_rejects_bad_input(mutate, message, cascade):
    indptr, indices, thresholds, seeds = _path()
    args = dict(indptr=indptr, indices=indices, thresholds=thresholds,
                initially_active=seeds, max_steps=10)
    with pytest.raises(ValueError, match=message):
        cascade(**mutate(args))


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=0, p=0.1, q=0.1, steps=5), "n must be"),
    (dict(n=10, p=-0.1, q=0.1, steps=5), "p must be in"),
    (dict(n=10, p=0.1, q=1.5, steps=5), "q must be in"),
    (dict(n=10, p=float("nan"), q=0.1, steps=5), "p must be in"),
    (dict(n=10, p=0.1, q=0.1, steps=-1), "steps must be"),
    (dict(n=10.0, p=0.1, q=0.1, steps=5), "n must be"),
])
def test_simulate_bass_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate_bass(seed=0, **kwargs)


def test_closed_forms_reject_bad_input():
    with pytest.raises(ValueError, match="p must be > 0"):
        bass_cdf(0.0, 0.3, 1.0)
    with pytest.raises(ValueError, match="q must be >= 0"):
        bass_cdf(0.1, -0.3, 1.0)
    with pytest.raises(ValueError, match="q must be in"):
        bass_discrete(0.1, 2.0, 5)
    with pytest.raises(ValueError, match="steps must be"):
        bass_discrete(0.1, 0.2, -2)
    with pytest.raises(ValueError, match="z"):
        watts_cascade_condition(0.0, 0.2)
    with pytest.raises(ValueError, match="phi"):
        vulnerable_cluster_condition_value(2.0, -0.1)


def test_every_participation_lever_has_a_switched_off_value():
    assert set(kernels.ParticipationParams._fields) == set(classic._SWITCHED_OFF)
