"""The fast strategy (weighted A* and a zone-corridor search), the zone graph, and landmarks."""

from __future__ import annotations

import h3
import numpy as np
import pytest

from airgrid.routing import RouteConstraintError, Strategy, build_graph, plan_route
from airgrid.routing.landmarks import landmark_count, main_component
from airgrid.routing.search.strategy import (
    CORRIDOR_FROM_M,
    CORRIDOR_WEIGHT,
    search_voxels,
    zone_planner_for,
)


def _far_pairs(graph, n: int, min_m: float, seed: int) -> list[tuple[int, int]]:
    """``n`` usable voxel pairs at least ``min_m`` apart in the graph's plane, connected in the graph.

    Pairs are drawn from the largest strongly connected component: with two-sided tier
    bands the tier is absent over uncertain ground, which splits the real T2 grid.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    rng = np.random.default_rng(seed)
    adj = csr_matrix(
        (np.ones(len(graph.indices)), graph.indices, graph.indptr), shape=(graph.n_nodes,) * 2
    )
    _, comp = connected_components(adj, directed=True, connection="strong")
    usable = np.flatnonzero(graph.usable & (np.diff(graph.indptr) > 0))
    usable = usable[comp[usable] == np.bincount(comp[usable]).argmax()]
    assert len(usable) > graph.n_nodes // 2  # the main component is most of the grid
    out = []
    while len(out) < n:
        a, b = (int(x) for x in rng.choice(usable, 2))
        if np.hypot(*(graph.nxyz[a, :2].astype(float) - graph.nxyz[b, :2])) >= min_m:
            out.append((a, b))
    return out


def _assert_valid_path(graph, r) -> None:
    assert graph.usable[r.voxels].all()
    for u, v in zip(r.voxels[:-1].tolist(), r.voxels[1:].tolist()):
        assert v in graph.indices[graph.indptr[u] : graph.indptr[u + 1]]


def test_zones_are_h3_parents_and_zone_edges_follow_graph_edges(real_t2_graph):
    g = real_t2_graph
    assert g.zone_res == 7
    planner = zone_planner_for(g)
    assert planner.graph is g
    grid = g.grid
    sample = np.flatnonzero(g.usable)[::211]
    parents = {
        h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(grid.cell_id[grid.voxel_cell[v]])), 7))
        for v in sample.tolist()
    }
    zone_ids = {}
    for v in sample.tolist():
        zone_ids.setdefault(int(g.zone[v]), set()).add(
            h3.str_to_int(
                h3.cell_to_parent(h3.int_to_str(int(grid.cell_id[grid.voxel_cell[v]])), 7)
            )
        )
    assert all(len(s) == 1 for s in zone_ids.values())  # one H3 parent per zone row
    assert len(parents) == len(zone_ids)
    # zone edges: exactly the zone pairs some graph edge crosses
    deg = np.diff(g.indptr)
    src = np.repeat(np.arange(g.n_nodes), deg)
    za, zb = g.zone[src], g.zone[g.indices]
    want = {(int(a), int(b)) for a, b in zip(za[za != zb].tolist(), zb[za != zb].tolist())}
    zdeg = np.diff(g.zone_indptr)
    got = set(zip(np.repeat(np.arange(len(zdeg)), zdeg).tolist(), g.zone_indices.tolist()))
    assert got == want
    assert (g.zone_weights > 0).all()


def test_corridor_routes_are_valid_and_close_to_optimal(real_t2_graph):
    g = real_t2_graph
    gaps = []
    for a, b in _far_pairs(g, 25, 9_000, seed=3):
        exact = plan_route(g, a, b, smooth_path=False, strategy="exact")
        corr = plan_route(g, a, b, smooth_path=False, strategy=Strategy.FAST)
        assert exact.found and exact.optimal
        assert corr.found
        _assert_valid_path(g, corr)
        assert corr.voxels[0] == a and corr.voxels[-1] == b
        assert exact.cost * (1 - 1e-9) <= corr.cost <= CORRIDOR_WEIGHT * exact.cost * (1 + 1e-9)
        assert corr.cost_lower_bound <= exact.cost * (1 + 1e-9)
        assert corr.cost <= CORRIDOR_WEIGHT * corr.cost_lower_bound * (1 + 1e-9)
        assert corr.optimal == (corr.cost <= corr.cost_lower_bound)
        gaps.append(corr.cost / exact.cost - 1)
    assert max(gaps) < 0.05  # measured: a fraction of a percent on real terrain


def test_corridor_stage_only_enters_the_planned_zones(real_t2_graph):
    from airgrid.routing.search.router import router_for

    g = real_t2_graph
    a, b = _far_pairs(g, 1, 12_000, seed=5)[0]
    ok = zone_planner_for(g).corridor(a, b, rings=1)
    assert ok is not None and ok[g.zone[a]] and ok[g.zone[b]]
    assert 0 < ok.sum() < len(ok)
    st, cost, _, path = router_for(g).search(a, b, np.empty(0, np.uint8), zone_ok=ok)
    assert st == 0 and ok[g.zone[path]].all()
    st2, cost2, _, _, bound = search_voxels(g, a, b, np.empty(0, np.uint8), strategy="fast")
    assert st2 == 0 and cost2 <= cost and bound <= cost2


def test_weighted_astar_is_within_its_weight(real_t2_graph):
    from airgrid.routing.search.router import router_for

    r = router_for(real_t2_graph)
    none = np.empty(0, np.uint8)
    for a, b in _far_pairs(real_t2_graph, 20, 5_000, seed=9):
        st, exact, _, _ = r.search(a, b, none)
        st_w, weighted, _, path = r.search(a, b, none, weight=1.3)
        assert st == st_w == 0
        assert exact * (1 - 1e-9) <= weighted <= 1.3 * exact * (1 + 1e-9)
        assert path[0] == a and path[-1] == b


def test_corridor_search_survives_a_mask_that_cuts_its_plan(real_t2_graph):
    """Blocking a zone of the zone plan: the weighted search still finds the way around."""
    g = real_t2_graph
    a, b = _far_pairs(g, 1, 12_000, seed=11)[0]
    ok = zone_planner_for(g).corridor(a, b, rings=0)
    plan_zones = np.flatnonzero(ok)
    inner = [z for z in plan_zones.tolist() if z not in (g.zone[a], g.zone[b])]
    assert inner, "the plan must cross at least one zone between the ends"
    blocked = np.isin(g.zone, inner[len(inner) // 2 : len(inner) // 2 + 1])
    exact = plan_route(g, a, b, smooth_path=False, strategy="exact", blocked_mask=blocked)
    corr = plan_route(g, a, b, smooth_path=False, strategy="fast", blocked_mask=blocked)
    assert exact.found and corr.found
    assert not blocked[corr.voxels].any()
    assert corr.cost >= exact.cost * (1 - 1e-9)


def test_corridor_reports_unreachable_and_budget_like_exact(gen_graph):
    usable = np.flatnonzero(gen_graph.usable)
    r = plan_route(gen_graph, int(usable[0]), int(usable[-1]), strategy="fast", budget=3)
    assert r.status.value == "budget_exhausted" and r.expansions <= 3


def test_auto_strategy_is_exact_below_the_threshold(real_t2_graph):
    a, b = _far_pairs(real_t2_graph, 1, 9_000, seed=2)[0]
    assert (
        np.hypot(*(real_t2_graph.nxyz[a, :2].astype(float) - real_t2_graph.nxyz[b, :2]))
        < CORRIDOR_FROM_M
    )
    r = plan_route(real_t2_graph, a, b, smooth_path=False)
    assert r.optimal
    assert r.to_geojson()["properties"]["optimal"] is True


def test_bad_strategy_is_a_constraint_error(real_t2_graph):
    usable = np.flatnonzero(real_t2_graph.usable)
    with pytest.raises(RouteConstraintError, match="strategy"):
        plan_route(real_t2_graph, int(usable[0]), int(usable[1]), strategy="fastest")


def test_parallel_landmark_tables_match_scipy(real_t2_grid):
    from scipy.sparse.csgraph import dijkstra

    g = build_graph(real_t2_grid, landmarks=4)
    csr = g.to_scipy()
    fwd = dijkstra(csr, directed=True, indices=g.landmarks)
    bwd = dijkstra(csr.T.tocsr(), directed=True, indices=g.landmarks)
    L = len(g.landmarks)
    assert np.allclose(g.lm[:, :L], fwd.T, rtol=1e-9, equal_nan=False)
    assert np.allclose(g.lm[:, L:], bwd.T, rtol=1e-9)
    serial = build_graph(real_t2_grid)
    serial.add_landmarks(4, parallel=False)
    assert np.array_equal(serial.landmarks, g.landmarks) and np.array_equal(serial.lm, g.lm)


def test_landmark_count_budget():
    assert landmark_count(500_000) == 32
    assert landmark_count(500_000, budget_bytes=16 * 500_000 * 9) == 9
    assert landmark_count(500_000, budget_bytes=16 * 500_000 * 7) == 0
    assert landmark_count(0) == 32


def test_corridor_search_says_no_route_when_the_ends_are_walled_off(real_t2_graph):
    """Every zone around the ends blocked: the weighted search is complete, so its "no route" stands."""
    g = real_t2_graph
    a, b = _far_pairs(g, 1, 12_000, seed=11)[0]
    ok = zone_planner_for(g).corridor(a, b, rings=1)
    wall = np.flatnonzero(ok)
    blocked = np.isin(g.zone, [z for z in wall.tolist() if z not in (g.zone[a], g.zone[b])])
    exact = plan_route(g, a, b, smooth_path=False, strategy="exact", blocked_mask=blocked)
    corr = plan_route(g, a, b, smooth_path=False, strategy="fast", blocked_mask=blocked)
    assert exact.status.value == corr.status.value == "no_route"


def test_farthest_landmarks_follow_their_definition(real_t2_grid):
    """Each landmark after the first is the candidate farthest (scipy costs) from its nearest predecessor."""
    from scipy.sparse.csgraph import dijkstra

    g = build_graph(real_t2_grid, landmarks=5)
    nodes = main_component(g.csr, np.flatnonzero(g.usable & (np.diff(g.indptr) > 0)))
    assert set(g.landmarks.tolist()) <= set(nodes.tolist())
    cost = dijkstra(g.to_scipy(), directed=True, indices=g.landmarks)
    for i in range(1, len(g.landmarks)):
        near = cost[:i, nodes].min(axis=0)
        assert near[nodes == g.landmarks[i]][0] == pytest.approx(near.max(), rel=1e-9)
