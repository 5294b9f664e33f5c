"""Multi-stop order: exact vs brute force, heuristic sanity, end-to-end legs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from airgrid.routing import RouteConstraintError, RouteStatus, plan_multi_stop
from airgrid.routing.logistics import held_karp, nearest_neighbour_2opt, tour_cost


def _brute(cost, ret):
    n = cost.shape[0] - 1
    return min(tour_cost(cost, p, ret) for p in itertools.permutations(range(1, n + 1)))


@pytest.mark.parametrize("n", [1, 2, 4, 6, 7])
@pytest.mark.parametrize("ret", [True, False])
def test_held_karp_equals_brute_force(n, ret):
    rng = np.random.default_rng(n * 10 + ret)
    for _ in range(5):
        cost = rng.uniform(1, 100, (n + 1, n + 1))  # asymmetric, like climb vs descent
        np.fill_diagonal(cost, 0)
        order, c = held_karp(cost, ret)
        assert sorted(order) == list(range(1, n + 1))
        assert c == pytest.approx(tour_cost(cost, order, ret))
        assert c == pytest.approx(_brute(cost, ret))


def test_held_karp_infinite_when_unreachable():
    cost = np.array([[0, 1, math.inf], [1, 0, math.inf], [math.inf, math.inf, 0]])
    assert held_karp(cost, True)[1] == math.inf


def test_nearest_neighbour_2opt_is_a_permutation_no_worse_than_nn():
    rng = np.random.default_rng(1)
    pts = rng.uniform(0, 100, (13, 2))
    cost = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    order, c = nearest_neighbour_2opt(cost, True)
    assert sorted(order) == list(range(1, 13))
    assert c == pytest.approx(tour_cost(cost, order, True))
    # 2-opt local optimum: no single reversal improves it
    for i, j in itertools.combinations(range(12), 2):
        cand = order[:i] + order[i : j + 1][::-1] + order[j + 1 :]
        assert tour_cost(cost, cand, True) >= c - 1e-9
    exact_small = held_karp(cost[:8, :8], True)[1]
    heur_small = nearest_neighbour_2opt(cost[:8, :8], True)[1]
    assert heur_small >= exact_small - 1e-9


def _stops(graph, k, seed):
    rng = np.random.default_rng(seed)
    g = graph.grid
    comp = np.flatnonzero(graph.usable & (g.tier == 0))
    depot = int(comp[len(comp) // 2])
    from airgrid.routing.search.router import router_for

    reach = []
    for v in rng.permutation(comp).tolist():
        st, _, _, _ = router_for(graph).search(depot, v, np.empty(0, np.uint8))
        st2, _, _, _ = router_for(graph).search(v, depot, np.empty(0, np.uint8))
        if st == 0 and st2 == 0:
            reach.append(v)
        if len(reach) == k:
            return depot, reach
    raise AssertionError("not enough reachable stops")


@pytest.mark.parametrize("ret", [True, False])
def test_plan_multi_stop_small_is_optimal(real_t2_graph, ret):
    depot, stops = _stops(real_t2_graph, 5, 3)
    m = plan_multi_stop(real_t2_graph, depot, stops, return_to_depot=ret)
    assert m.status is RouteStatus.FOUND and m.exact
    assert sorted(m.order) == list(range(5))
    assert m.total_cost == pytest.approx(_brute(m.cost_matrix, ret), rel=1e-9)
    assert len(m.legs) == 5 + ret
    assert m.legs[0].origin == depot and (m.legs[-1].destination == depot) == ret
    for a, b in zip(m.legs, m.legs[1:]):
        assert a.destination == b.origin
    gj = m.to_geojson()
    assert len(gj["features"]) == len(m.legs)


def test_plan_multi_stop_heuristic_beyond_eight(real_t2_graph):
    depot, stops = _stops(real_t2_graph, 10, 9)
    m = plan_multi_stop(real_t2_graph, depot, stops, return_to_depot=True)
    assert m.status is RouteStatus.FOUND and not m.exact
    assert sorted(m.order) == list(range(10))
    assert m.total_cost == pytest.approx(
        tour_cost(m.cost_matrix, [k + 1 for k in m.order], True), rel=1e-6
    )


def test_plan_multi_stop_errors_and_unreachable(real_t2_graph):
    depot, stops = _stops(real_t2_graph, 2, 4)
    with pytest.raises(RouteConstraintError):
        plan_multi_stop(real_t2_graph, depot, [])
    g = real_t2_graph.grid
    mask = np.zeros(g.n_voxels, bool)
    v = stops[0]
    c = int(g.voxel_cell[v])
    mask[g.cell_start[c] : g.cell_start[c + 1]] = True
    for nb in real_t2_graph.nbr[c].tolist():
        if nb >= 0:
            mask[g.cell_start[nb] : g.cell_start[nb + 1]] = True
    mask[v] = False
    m = plan_multi_stop(real_t2_graph, depot, stops, blocked_mask=mask)
    assert m.status is RouteStatus.NO_ROUTE and m.legs == []
    assert "stops [1]" in m.message
