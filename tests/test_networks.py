"""Tests for sim.networks: CSR invariants, departments, hierarchy, small world, heavy tail, contacts."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from sim.networks import Market, Organisation, build_market, build_organisation, csr_from_edges

ORG_DEFAULTS = dict(
    employees=1_200,
    departments=6,
    customer_facing_departments=0.25,
    span_of_control=8,
    team_ties=10,
    team_rewiring=0.1,
    cross_silo_ties=1.0,
    informal_leader_share=0.02,
)
MARKET_DEFAULTS = dict(
    customers=5_000,
    customer_degree=10.0,
    customer_degree_exponent=2.5,
    contacts_per_facing_employee=20,
)


def make_org(seed: int = 1, **kw) -> Organisation:
    return build_organisation(np.random.default_rng(seed), **{**ORG_DEFAULTS, **kw})


def make_market(org: Organisation, seed: int = 2, **kw) -> Market:
    return build_market(np.random.default_rng(seed), facing_employees=np.flatnonzero(org.customer_facing),
                        n_employees=org.n, **{**MARKET_DEFAULTS, **kw})


def edge_set(indptr: np.ndarray, indices: np.ndarray) -> set[tuple[int, int]]:
    rows = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    return set(zip(rows.tolist(), indices.tolist()))


def assert_csr(indptr: np.ndarray, indices: np.ndarray, n: int, *, symmetric: bool = True,
               n_cols: int | None = None) -> None:
    assert indptr.dtype == np.int64 and indices.dtype == np.int32
    assert indptr.shape == (n + 1,) and indptr[0] == 0 and indptr[-1] == indices.size
    assert np.all(np.diff(indptr) >= 0)
    if indices.size:
        assert indices.min() >= 0 and indices.max() < (n if n_cols is None else n_cols)
    rows = np.repeat(np.arange(n), np.diff(indptr))
    # Strictly increasing within rows: sorted and no duplicates at once.
    same_row = rows[1:] == rows[:-1]
    assert np.all(np.diff(indices.astype(np.int64))[same_row] > 0)
    if symmetric:
        assert not np.any(rows == indices), "self loop"
        fwd = rows.astype(np.int64) * n + indices
        back = indices.astype(np.int64) * n + rows
        assert np.array_equal(np.sort(fwd), np.sort(back)), "not symmetric"


# --- csr_from_edges ---------------------------------------------------------------------------

def test_csr_from_edges_symmetrises_dedupes_and_sorts():
    indptr, indices = csr_from_edges(5, np.array([3, 0, 1, 2, 2, 4]), np.array([0, 3, 0, 2, 1, 1]))
    assert_csr(indptr, indices, 5)
    assert edge_set(indptr, indices) == {(0, 3), (3, 0), (0, 1), (1, 0), (1, 2), (2, 1), (1, 4), (4, 1)}


def test_csr_from_edges_empty():
    indptr, indices = csr_from_edges(4, np.zeros(0, int), np.zeros(0, int))
    assert indptr.tolist() == [0] * 5 and indices.size == 0
    indptr, indices = csr_from_edges(0, np.zeros(0, int), np.zeros(0, int))
    assert indptr.tolist() == [0] and indices.dtype == np.int32


def test_csr_from_edges_rejects_out_of_range():
    with pytest.raises(ValueError):
        csr_from_edges(3, np.array([0]), np.array([3]))


# --- organisation -----------------------------------------------------------------------------

def test_organisation_csr_and_dtypes():
    org = make_org()
    assert_csr(org.indptr, org.indices, org.n)
    assert org.n == 1_200 and org.n_departments == 6 and org.n_edges == org.indices.size // 2
    for name, dtype in [("department", np.int32), ("dept_start", np.int64), ("manager", np.int32),
                        ("level", np.int32), ("is_manager", bool), ("is_executive", bool),
                        ("is_informal_leader", bool), ("customer_facing", bool)]:
        assert getattr(org, name).dtype == dtype, name


def test_departments_are_department_major_and_even():
    org = make_org(employees=1_003, departments=7)
    sizes = np.diff(org.dept_start)
    assert org.dept_start[0] == 0 and org.dept_start[-1] == 1_003
    assert sizes.tolist() == [144] * 2 + [143] * 5  # 1003 = 7 * 143 + 2
    assert np.all(np.diff(org.department) >= 0)
    for d in range(7):
        assert np.all(org.department[org.dept_start[d]:org.dept_start[d + 1]] == d)


@pytest.mark.parametrize("share, depts, facing", [(0.25, 6, 2), (0.3, 10, 3), (0.0, 6, 0), (1.0, 4, 4),
                                                  (0.01, 6, 1)])
def test_customer_facing_departments_come_first(share, depts, facing):
    org = make_org(employees=600, departments=depts, customer_facing_departments=share)
    assert np.array_equal(org.customer_facing, org.department < facing)


def test_hierarchy():
    span = 5
    org = make_org(span_of_control=span)
    n = org.n
    assert org.manager[0] == -1 and np.sum(org.manager == -1) == 1
    assert np.all(org.manager[1:] < np.arange(1, n)) and np.all(org.manager[1:] >= 0)
    reports = np.bincount(org.manager[1:], minlength=n)
    heads = org.dept_start[:-1]
    non_ceo = np.ones(n, bool)
    non_ceo[0] = False
    # Nobody but the CEO has more than span reports; the CEO has its own team plus the other heads.
    assert reports[non_ceo].max() <= span
    assert reports[0] == min(span, org.dept_start[1] - 1) + org.n_departments - 1
    assert np.all(org.manager[heads[1:]] == 0)
    assert np.array_equal(org.is_executive, np.isin(np.arange(n), heads))
    assert np.array_equal(org.is_manager, reports > 0)
    # Everyone below a head stays in the head's department.
    below = np.setdiff1d(np.arange(1, n), heads)
    assert np.all(org.department[org.manager[below]] == org.department[below])
    assert org.level[0] == 0 and np.all(org.level[heads[1:]] == 1)
    assert np.all(org.level[1:] == org.level[org.manager[1:]] + 1)
    # A full span-ary tree over ~200 people is about log_5(200) + 1 levels deep.
    assert org.level.max() <= 2 + math.ceil(math.log(org.dept_start[1], span))


def test_manager_report_pairs_are_ties():
    org = make_org()
    edges = edge_set(org.indptr, org.indices)
    for i in range(1, org.n):
        assert (i, int(org.manager[i])) in edges


def test_cross_silo_tie_count():
    org = make_org(employees=3_000, departments=10, cross_silo_ties=2.0)
    rows = np.repeat(np.arange(org.n), np.diff(org.indptr))
    cross = np.sum(org.department[rows] != org.department[org.indices]) // 2
    wanted = round(2.0 * 3_000 / 2)
    heads_to_ceo = org.n_departments - 1  # reporting ties that also cross departments
    assert abs(cross - heads_to_ceo - wanted) <= 0.03 * wanted


def test_no_cross_silo_ties_with_one_department_or_zero_lever():
    for kw in (dict(departments=1), dict(cross_silo_ties=0.0)):
        org = make_org(**kw)
        rows = np.repeat(np.arange(org.n), np.diff(org.indptr))
        crossing = org.department[rows] != org.department[org.indices]
        # Only the heads' ties to the CEO cross departments.
        assert np.sum(crossing) == 2 * (org.n_departments - 1)


def test_informal_leaders_are_best_connected_non_managers():
    org = make_org(informal_leader_share=0.05)
    degree = np.diff(org.indptr)
    candidates = np.flatnonzero(~org.is_manager)
    assert org.is_informal_leader.sum() == round(0.05 * candidates.size)
    assert not np.any(org.is_informal_leader & org.is_manager)
    leaders = degree[org.is_informal_leader]
    others = degree[~org.is_informal_leader & ~org.is_manager]
    assert leaders.min() >= others.max()
    assert make_org(informal_leader_share=0.0).is_informal_leader.sum() == 0


def test_team_degree_follows_lattice():
    org = make_org(team_rewiring=0.0, cross_silo_ties=0.0, span_of_control=1_000)
    degree = np.diff(org.indptr)
    # With no rewiring and a flat hierarchy each ordinary member has 10 lattice ties and,
    # unless the lattice already links them, one tie to the head.
    ordinary = ~org.is_executive
    assert np.all((degree[ordinary] >= 10) & (degree[ordinary] <= 11))


def test_departments_are_small_worlds():
    org = make_org()
    g = nx.Graph()
    rows = np.repeat(np.arange(org.n), np.diff(org.indptr))
    g.add_edges_from(zip(rows.tolist(), org.indices.tolist()))
    for d in range(org.n_departments):
        members = range(int(org.dept_start[d]), int(org.dept_start[d + 1]))
        sub = g.subgraph(members)
        m = sub.number_of_nodes()
        density = 2 * sub.number_of_edges() / (m * (m - 1))
        clustering = nx.average_clustering(sub)
        # A random graph of the same density has clustering about equal to its density.
        assert clustering > 4 * density, (d, clustering, density)
        assert nx.is_connected(sub)
    # Silos: far more ties inside departments than between them.
    inside = np.sum(org.department[rows] == org.department[org.indices])
    assert inside > 4 * (rows.size - inside)


def test_rewiring_lowers_clustering():
    def mean_clustering(p):
        org = make_org(employees=400, departments=2, team_rewiring=p, cross_silo_ties=0.0)
        rows = np.repeat(np.arange(org.n), np.diff(org.indptr))
        g = nx.Graph(list(zip(rows.tolist(), org.indices.tolist())))
        return nx.average_clustering(g)

    assert mean_clustering(0.0) > mean_clustering(0.3) > mean_clustering(1.0)


def test_organisation_is_reproducible():
    a, b, c = make_org(seed=5), make_org(seed=5), make_org(seed=6)
    for name in Organisation.__dataclass_fields__:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert not np.array_equal(a.indices, c.indices) or not np.array_equal(a.indptr, c.indptr)


def test_does_not_touch_global_rng():
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    org = make_org()
    make_market(org)
    assert np.random.random() == before


def test_one_person_per_department():
    org = make_org(employees=8, departments=8, span_of_control=3)
    assert_csr(org.indptr, org.indices, 8)
    assert org.manager.tolist() == [-1] + [0] * 7
    assert org.level.tolist() == [0] + [1] * 7
    assert org.is_executive.all()
    assert org.is_manager.tolist() == [True] + [False] * 7
    # The heads are tied to the CEO; 8 cross-silo ties are drawn among 8 people.
    assert org.n_edges >= 7


def test_one_department():
    org = make_org(employees=300, departments=1, customer_facing_departments=0.5)
    assert_csr(org.indptr, org.indices, 300)
    assert org.n_departments == 1 and org.is_executive.sum() == 1 and org.customer_facing.all()


def test_tiny_departments_become_cliques():
    org = make_org(employees=20, departments=4, team_ties=10, cross_silo_ties=0.0, team_rewiring=0.0)
    for d in range(4):
        s, e = org.dept_start[d], org.dept_start[d + 1]
        for i in range(s, e):
            row = set(org.indices[org.indptr[i]:org.indptr[i + 1]].tolist())
            assert set(range(s, e)) - {i} <= row


def test_organisation_rejects_bad_input():
    with pytest.raises(ValueError):
        make_org(employees=3, departments=4)
    with pytest.raises(ValueError):
        make_org(team_rewiring=1.5)
    with pytest.raises(TypeError):
        build_organisation(np.random.RandomState(0), **ORG_DEFAULTS)


# --- market -----------------------------------------------------------------------------------

def test_market_csr():
    org = make_org()
    market = make_market(org)
    assert market.n == 5_000
    assert_csr(market.indptr, market.indices, market.n)
    assert_csr(market.contact_indptr, market.contact_indices, market.n, symmetric=False, n_cols=org.n)
    assert_csr(market.staff_indptr, market.staff_indices, org.n, symmetric=False, n_cols=market.n)


def test_customer_graph_is_heavy_tailed():
    market = make_market(make_org(), customers=5_000, customer_degree=10.0, customer_degree_exponent=2.5)
    degree = np.diff(market.indptr)
    assert abs(degree.mean() - 10.0) <= 0.15 * 10.0
    assert degree.max() >= 10 * degree.mean()
    # Power law: the top 1% of customers hold far more than 1% of the ties.
    top = np.sort(degree)[-50:]
    assert top.sum() > 0.08 * degree.sum()
    # A thinner tail (larger exponent) gives smaller hubs.
    thin = np.diff(make_market(make_org(), customer_degree_exponent=5.0).indptr)
    assert thin.max() < degree.max()


def test_contacts_are_consistent_both_ways():
    org = make_org()
    market = make_market(org)
    staff = edge_set(market.staff_indptr, market.staff_indices)  # (employee, customer)
    contact = edge_set(market.contact_indptr, market.contact_indices)  # (customer, employee)
    assert staff == {(e, c) for c, e in contact}
    per_employee = np.diff(market.staff_indptr)
    facing = org.customer_facing
    assert np.all(per_employee[~facing] == 0)
    # Repeats are merged, so a few employees have slightly fewer than 20 distinct customers.
    assert per_employee[facing].max() == 20 and per_employee[facing].min() >= 17
    assert per_employee[facing].mean() > 19.9


def test_market_is_reproducible():
    org = make_org()
    a, b, c = make_market(org, seed=3), make_market(org, seed=3), make_market(org, seed=4)
    for name in Market.__dataclass_fields__:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert not np.array_equal(a.indices, c.indices) or not np.array_equal(a.indptr, c.indptr)
    assert not np.array_equal(a.staff_indices, c.staff_indices)


@pytest.mark.parametrize("kw", [dict(customers=0), dict(customer_degree=0.0), dict(contacts_per_facing_employee=0),
                                dict(customers=0, contacts_per_facing_employee=0)])
def test_market_edge_cases(kw):
    org = make_org(employees=60, departments=3)
    market = make_market(org, **kw)
    n_cust = kw.get("customers", MARKET_DEFAULTS["customers"])
    assert market.n == n_cust
    assert_csr(market.indptr, market.indices, n_cust)
    assert_csr(market.contact_indptr, market.contact_indices, n_cust, symmetric=False, n_cols=org.n)
    assert_csr(market.staff_indptr, market.staff_indices, org.n, symmetric=False, n_cols=max(n_cust, 1))
    if n_cust == 0 or kw.get("customer_degree") == 0.0:
        assert market.indices.size == 0 and np.all(market.indptr == 0)
    if n_cust == 0 or kw.get("contacts_per_facing_employee") == 0:
        assert market.staff_indices.size == 0 and np.all(market.staff_indptr == 0)
        assert market.contact_indices.size == 0 and np.all(market.contact_indptr == 0)


def test_market_without_facing_employees():
    market = build_market(np.random.default_rng(0), facing_employees=np.zeros(0, dtype=np.int64),
                          n_employees=10, **MARKET_DEFAULTS)
    assert market.staff_indptr.shape == (11,) and market.staff_indices.size == 0
    assert market.contact_indptr.shape == (market.n + 1,) and market.contact_indices.size == 0


def test_market_rejects_bad_input():
    with pytest.raises(ValueError):
        build_market(np.random.default_rng(0), facing_employees=np.array([10]), n_employees=10, **MARKET_DEFAULTS)
    with pytest.raises(ValueError):
        build_market(np.random.default_rng(0), facing_employees=np.array([0]), n_employees=10,
                     **{**MARKET_DEFAULTS, "customers": -1})
