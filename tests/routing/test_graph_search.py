"""A* against networkx Dijkstra, graph structure, constraints, outcomes and errors."""

from __future__ import annotations

import h3
import networkx as nx
import numpy as np
import pytest
import shapely

from airgrid.airspace.grid import Status
from airgrid.routing import (
    PointBetweenTiersError,
    PointBlockedError,
    PointInTerrainError,
    PointOutsideGridError,
    RouteConstraintError,
    RouteStatus,
    RoutingError,
    build_graph,
    plan_route,
)
from airgrid.routing.cells import cell_neighbours
from airgrid.routing.search.router import router_for


def _main_component(graph, allowed=None):
    """Mask of the largest strongly connected component of the graph restricted to ``allowed`` voxels.

    With two-sided tier bands a tier is absent over uncertain ground, which splits the real
    grids into pieces: endpoints that must be connected are drawn from the main one.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    allowed = graph.usable if allowed is None else allowed & graph.usable
    src = np.repeat(np.arange(graph.n_nodes), np.diff(graph.indptr))
    keep = allowed[src] & allowed[graph.indices]
    adj = csr_matrix(
        (np.ones(int(keep.sum())), (src[keep], graph.indices[keep])), shape=(graph.n_nodes,) * 2
    )
    _, comp = connected_components(adj, directed=True, connection="strong")
    return allowed & (comp == np.bincount(comp[allowed]).argmax())


def _column_voxel(grid, lat, lon):
    """The middle voxel of the T2 (tier 0) column at a point; the column must exist."""
    ci = int(
        grid.find_cells(
            np.array([h3.str_to_int(h3.latlng_to_cell(lat, lon, grid.tiers[0].resolution))]), 0
        )[0]
    )
    assert ci >= 0 and grid.cell_nlayers[ci] > 0
    return int(grid.cell_start[ci] + grid.cell_nlayers[ci] // 2)


def _pairs_vs_dijkstra(graph, n_sources, per_source, seed):
    """Compare A* with networkx Dijkstra for random usable pairs; return how many were compared."""
    rng = np.random.default_rng(seed)
    nxg = graph.to_networkx()
    usable = np.flatnonzero(graph.usable)
    compared = reachable = 0
    for src in rng.choice(usable, n_sources, replace=False).tolist():
        dist = nx.single_source_dijkstra_path_length(nxg, src)
        for dst in rng.choice(usable, per_source, replace=False).tolist():
            r = plan_route(graph, src, dst, smooth_path=False)
            if dst in dist:
                assert r.status is RouteStatus.FOUND
                assert r.cost == pytest.approx(dist[dst], rel=1e-9, abs=1e-6)
                w = dict(
                    zip(zip(r.voxels[:-1].tolist(), r.voxels[1:].tolist()), [0] * len(r.voxels))
                )
                assert sum(nxg[a][b]["weight"] for a, b in w) == pytest.approx(r.cost, rel=1e-9)
                reachable += 1
            else:
                assert r.status is RouteStatus.NO_ROUTE
            compared += 1
    return compared, reachable


@pytest.mark.parametrize("which", ["gen_graph", "gen_lm_graph", "real_t2_graph", "small_graph"])
def test_astar_cost_equals_networkx_dijkstra(which, request):
    graph = request.getfixturevalue(which)
    compared, reachable = _pairs_vs_dijkstra(graph, 12, 9, seed=len(which))
    assert compared >= 100
    assert reachable >= 50


def test_batch_equals_single(real_t2_graph):
    rng = np.random.default_rng(3)
    usable = np.flatnonzero(real_t2_graph.usable)
    s, d = rng.choice(usable, 40), rng.choice(usable, 40)
    router = router_for(real_t2_graph)
    status, cost, _ = router.batch(s, d, np.empty(0, np.uint8))
    for i in range(40):
        st, c, _, _ = router.search(int(s[i]), int(d[i]), np.empty(0, np.uint8))
        assert st == status[i]
        assert c == cost[i]
    _, cost2, _ = router.batch(d, s, np.empty(0, np.uint8))  # reused state, reversed pairs
    back = [router.search(int(d[i]), int(s[i]), np.empty(0, np.uint8))[1] for i in range(40)]
    assert np.array_equal(cost2, np.array(back))


def test_search_state_survives_generation_wrap_and_fresh_rows(real_t2_graph):
    """Rows start zeroed and get their coordinates on first touch; the generation wrap clears tags."""
    from airgrid.routing.search.router import _MAX_GEN, Router

    rng = np.random.default_rng(4)
    usable = np.flatnonzero(real_t2_graph.usable)
    pairs = [tuple(int(x) for x in rng.choice(usable, 2)) for _ in range(12)]
    want = [router_for(real_t2_graph).search(a, b, np.empty(0, np.uint8))[1] for a, b in pairs]
    fresh = Router(real_t2_graph)
    fresh._gen = _MAX_GEN - 6  # three queries before the wrap resets every tag to "never touched"
    got = [fresh.search(a, b, np.empty(0, np.uint8))[1] for a, b in pairs]
    assert got == want
    assert fresh._gen < 20


def test_edges_match_a_python_construction(gen_grid, gen_graph):
    """Every edge and only the specified ones: same-layer H3 neighbours, column steps, parent links."""
    g = gen_grid
    usable = g.usable()
    want = set()
    for ci in range(g.n_cells):
        t = int(g.cell_tier[ci])
        nbrs = g.find_cells(
            np.array(
                [h3.str_to_int(x) for x in h3.grid_ring(h3.int_to_str(int(g.cell_id[ci])), 1)]
            ),
            t,
        )
        first, nl, start = (
            int(g.cell_first_layer[ci]),
            int(g.cell_nlayers[ci]),
            int(g.cell_start[ci]),
        )
        for off in range(nl):
            v = start + off
            cands = [int(x) for x in g.voxel_index(nbrs, np.full(len(nbrs), first + off))]
            cands += [v - 1] if off > 0 else []
            cands += [v + 1] if off < nl - 1 else []
            p = int(g.cell_parent[ci])
            if off == nl - 1 and p >= 0 and g.cell_nlayers[p] > 0:
                cands.append(int(g.cell_start[p]))
            if off == 0:
                for ch in np.flatnonzero(g.cell_parent == ci).tolist():
                    if g.cell_nlayers[ch] > 0:
                        cands.append(int(g.cell_start[ch] + g.cell_nlayers[ch] - 1))
            want |= {(v, w) for w in cands if w >= 0 and usable[v] and usable[w]}
    deg = np.diff(gen_graph.indptr)
    src = np.repeat(np.arange(gen_graph.n_nodes), deg)
    got = set(zip(src.tolist(), gen_graph.indices.tolist()))
    assert got == want
    assert gen_graph.indices.dtype == np.int32 and gen_graph.weights.dtype == np.float32
    assert (gen_graph.weights > 0).all()


def test_neighbour_table_matches_grid_ring(real_t2_grid):
    nbr = cell_neighbours(real_t2_grid, 0)
    for ci in range(0, real_t2_grid.n_cells, 37):
        ring = real_t2_grid.find_cells(
            np.array(
                [
                    h3.str_to_int(x)
                    for x in h3.grid_ring(h3.int_to_str(int(real_t2_grid.cell_id[ci])), 1)
                ]
            ),
            0,
        )
        assert set(nbr[ci].tolist()) - {-1} == set(ring.tolist()) - {-1}


def test_paths_use_only_usable_voxels_and_graph_edges(gen_graph):
    rng = np.random.default_rng(7)
    usable = np.flatnonzero(gen_graph.usable)
    found = 0
    for _ in range(30):
        a, b = rng.choice(usable, 2).tolist()
        r = plan_route(gen_graph, a, b, smooth_path=False)
        if not r.found:
            continue
        found += 1
        assert gen_graph.usable[r.voxels].all()
        assert r.voxels[0] == a and r.voxels[-1] == b
        for u, v in zip(r.voxels[:-1].tolist(), r.voxels[1:].tolist()):
            assert v in gen_graph.indices[gen_graph.indptr[u] : gen_graph.indptr[u + 1]]
    assert found >= 20


def test_terrain_blocked_voxels_have_no_edges(gen_grid, gen_graph):
    blocked = np.flatnonzero(gen_grid.status & np.uint8(Status.TERRAIN))
    assert len(blocked) > 0
    assert (np.diff(gen_graph.indptr)[blocked] == 0).all()
    assert not np.isin(gen_graph.indices, blocked).any()


def test_blocked_mask_is_avoided_and_costs_more(real_t2_graph):
    g = real_t2_graph.grid
    # ~13 km SSW-NNE across the part of Changsha where T2 exists (the SW hills have no T2 link)
    a = _column_voxel(g, 28.11, 112.985)
    b = _column_voxel(g, 28.22, 113.03)
    main = _main_component(real_t2_graph)
    assert main[a] and main[b]
    free = plan_route(real_t2_graph, a, b, smooth_path=False)
    assert free.found
    mask = np.zeros(g.n_voxels, bool)
    mask[free.voxels[len(free.voxels) // 2]] = True
    r = plan_route(real_t2_graph, a, b, blocked_mask=mask, smooth_path=False)
    assert r.found and not mask[r.voxels].any()
    assert r.cost >= free.cost


def test_constraints_tiers_heights_no_go(small_graph):
    g = small_graph.grid
    usable = np.flatnonzero(_main_component(small_graph, g.tier == 0))
    rng = np.random.default_rng(11)
    a, b = rng.choice(usable, 2).tolist()
    r = plan_route(small_graph, a, b, tiers=["T2"], smooth_path=False)
    assert r.found and (g.tier[r.voxels] == 0).all()
    th = 200.0
    g_lo = g.cell_g_lo[g.voxel_cell]  # per voxel, its cell's lowest plausible ground
    high = (g.floor - g.g_hi) >= th
    ok = _main_component(small_graph, high | (g.tier > 0)) & (g.tier == 0) & high
    a, b = rng.choice(np.flatnonzero(ok), 2).tolist()
    r = plan_route(small_graph, a, b, min_height_m=th, smooth_path=False)
    assert r.found and ((g.floor[r.voxels] - g.g_hi[r.voxels]) >= th).all()
    r = (
        plan_route(small_graph, a, b, max_height_m=250.0, smooth_path=False)
        if (g.ceiling[[a, b]] - g_lo[[a, b]] <= 250).all()
        else None
    )
    if r is not None and r.found:
        assert ((g.ceiling[r.voxels] - g_lo[r.voxels]) <= 250).all()
    # west-east across the north of the box, where T2 exists on both sides of the no-go box
    box = shapely.box(112.975, 28.2, 112.995, 28.24)
    west = _main_component(small_graph) & (g.tier == 0)
    lonlat = np.array(
        [h3.cell_to_latlng(h3.int_to_str(int(c)))[::-1] for c in g.cell[np.flatnonzero(west)]]
    )
    mid = np.abs(lonlat[:, 1] - 28.22) < 0.005
    wv = np.flatnonzero(west)[mid & (lonlat[:, 0] < 112.95)]
    ev = np.flatnonzero(west)[mid & (lonlat[:, 0] > 113.01)]
    r0 = plan_route(small_graph, int(wv[0]), int(ev[0]))
    r = plan_route(small_graph, int(wv[0]), int(ev[0]), no_go=[box])
    assert r0.found and r.found
    for v in r.voxels.tolist():
        cell = shapely.Polygon(
            [p[::-1] for p in h3.cell_to_boundary(h3.int_to_str(int(g.cell[v])))]
        )
        assert not cell.intersects(box)
    assert r.cost > r0.cost


def test_unreachable_and_budget_outcomes(gen_graph):
    g = gen_graph.grid
    usable = np.flatnonzero(gen_graph.usable)
    a, b = int(usable[0]), int(usable[-1])
    r = plan_route(gen_graph, a, b, smooth_path=False)
    assert r.found and r.expansions > 20
    tight = plan_route(gen_graph, a, b, budget=10)
    assert tight.status is RouteStatus.BUDGET_EXHAUSTED and not tight.found
    assert tight.expansions == 10 and "budget" in tight.message
    # wall: block every voxel of the cells around b's column
    cb = int(g.voxel_cell[b])
    ring = g.find_cells(
        np.array(list(map(h3.str_to_int, h3.grid_ring(h3.int_to_str(int(g.cell_id[cb])), 1)))),
        int(g.cell_tier[cb]),
    )
    mask = np.zeros(g.n_voxels, bool)
    for c in ring[ring >= 0].tolist():
        mask[g.cell_start[c] : g.cell_start[c + 1]] = True
    p = int(g.cell_parent[cb])
    if p >= 0:
        mask[g.cell_start[p] : g.cell_start[p + 1]] = True
    mask[g.cell_start[cb] : g.cell_start[cb + 1]] = True
    mask[b] = False
    if g.cell_tier[cb] == 1:  # the coarse cell's children reach it from below
        for ch in np.flatnonzero(g.cell_parent == cb).tolist():
            mask[g.cell_start[ch] : g.cell_start[ch + 1]] = True
    blocked = plan_route(gen_graph, a, b, blocked_mask=mask)
    assert blocked.status is RouteStatus.NO_ROUTE and "not connected" in blocked.message
    assert len(blocked.voxels) == 0 and blocked.waypoints == []


def test_max_range(real_t2_graph):
    usable = np.flatnonzero(real_t2_graph.usable)
    rng = np.random.default_rng(5)
    for _ in range(10):
        a, b = rng.choice(usable, 2).tolist()
        r = plan_route(real_t2_graph, a, b)
        if r.found and r.length_m > 5000:
            break
    short = plan_route(real_t2_graph, a, b, max_range_m=0.5 * r.length_m)
    assert short.status is RouteStatus.NO_ROUTE
    ok = plan_route(real_t2_graph, a, b, max_range_m=1.5 * r.length_m)
    assert ok.found and ok.cost == pytest.approx(r.cost)


def test_point_errors(small_graph, gen_graph):
    g = small_graph.grid
    with pytest.raises(PointOutsideGridError) as e:
        plan_route(small_graph, (20.0, 100.0, 500.0), (28.2, 113.0, 700.0))
    assert isinstance(e.value, LookupError) and isinstance(e.value, RoutingError)
    v = int(np.flatnonzero(small_graph.usable)[0])
    lat, lon = h3.cell_to_latlng(h3.int_to_str(int(g.cell[v])))
    ground = float(g.g_hi[v])
    with pytest.raises(PointInTerrainError) as e:
        plan_route(small_graph, (lat, lon, ground - 10.0), v)
    assert isinstance(e.value, ValueError)
    with pytest.raises(PointBetweenTiersError, match="nearest altitude with a voxel"):
        plan_route(small_graph, (lat, lon, 20_000.0), v)
    with pytest.raises(PointOutsideGridError):
        plan_route(small_graph, v, g.n_voxels + 5)
    with pytest.raises(RouteConstraintError):
        plan_route(small_graph, "not-a-voxel", v)
    with pytest.raises(RouteConstraintError):
        plan_route(small_graph, (float("nan"), 1.0, 2.0), v)
    with pytest.raises(RouteConstraintError):
        plan_route(small_graph, v, v, tiers=["T9"])
    with pytest.raises(RouteConstraintError):
        plan_route(small_graph, v, v, min_height_m=300, max_height_m=100)
    with pytest.raises(RouteConstraintError):
        plan_route(small_graph, v, v, blocked_mask=np.zeros(3, bool))
    mask = np.zeros(g.n_voxels, bool)
    mask[v] = True
    with pytest.raises(PointBlockedError):
        plan_route(small_graph, v, v, blocked_mask=mask)
    gg = gen_graph.grid
    tv = int(np.flatnonzero(gg.status & np.uint8(Status.TERRAIN))[0])
    with pytest.raises(PointInTerrainError):
        plan_route(gen_graph, tv, int(np.flatnonzero(gen_graph.usable)[0]))
    with pytest.raises(PointInTerrainError):
        plan_route(gen_graph, gg.voxel_id(tv), int(np.flatnonzero(gen_graph.usable)[0]))


def test_route_from_coordinates_and_geojson(small_graph):
    from airgrid.routing import at_agl

    # origin on the part of Changsha where T2 exists and links to the destination (not the SW hills)
    mid = at_agl(small_graph, 28.11, 112.985)
    g = small_graph.grid
    v0 = int(g.locate(*mid).voxel)
    h = mid[2] - float(g.g_hi[v0])  # the (certain) true height of that mid-column point
    h_max = mid[2] - float(g.cell_g_lo[g.voxel_cell[v0]])
    o = at_agl(small_graph, 28.11, 112.985, h)
    assert o == pytest.approx(mid)
    d = at_agl(small_graph, 28.23, 113.03)
    with pytest.raises(PointOutsideGridError, match="columns there span"):
        at_agl(small_graph, 28.23, 113.03, 5.0)
    r = plan_route(small_graph, o, d)
    assert r.found
    w0, w1 = r.waypoints[0], r.waypoints[-1]
    assert (w0.lat, w0.lon, w0.alt_m) == pytest.approx(o) and (
        w1.lat,
        w1.lon,
        w1.alt_m,
    ) == pytest.approx(d)
    assert w0.true_height_range_m == pytest.approx((h, h_max))
    gj = r.to_geojson()
    assert gj["geometry"]["type"] == "LineString"
    assert all(len(c) == 3 for c in gj["geometry"]["coordinates"])
    assert len(r.waypoints) < len(r.voxels)
    assert r.min_clearance_m >= small_graph.grid.tiers.clearance_m
    assert r.length_m >= 12_000 and r.time_s >= r.length_m / 15.0 - 1e-6


def test_corridor_discount_attracts_routes(real_t2_grid):
    g = real_t2_grid
    usable = np.flatnonzero(g.usable())
    rng = np.random.default_rng(2)
    base = build_graph(g)
    for _ in range(20):
        a, b = rng.choice(usable, 2).tolist()
        r = plan_route(base, a, b, smooth_path=False)
        if r.found and len(r.voxels) > 20:
            break
    from airgrid.airspace.grid import Grid

    cols = {
        k: getattr(g, k)
        for k in (
            "cell_id",
            "cell_tier",
            "cell_g_hi",
            "cell_g_lo",
            "cell_band_ground",
            "cell_dem_max",
            "cell_dem_min",
            "cell_first_layer",
            "cell_nlayers",
            "cell_start",
            "cell_parent",
            "tier_cell_start",
            "cell",
            "layer",
            "floor",
            "ceiling",
            "g_hi",
            "tier",
            "voxel_cell",
        )
    }
    status = g.status.copy()
    status[r.voxels] |= np.uint8(Status.CORRIDOR)
    cg = build_graph(Grid(g.tiers, dict(cols, status=status), dict(g.meta)))
    rc = plan_route(cg, a, b, smooth_path=False)
    assert rc.cost < r.cost
    assert cg.h_rate < base.h_rate


def test_graph_save_load_roundtrip_and_fingerprint(real_t2_graph, gen_grid, tmp_path):
    from airgrid.routing import GraphFileError, RouteGraph

    path = real_t2_graph.save(tmp_path / "graph")
    back = RouteGraph.load(path, real_t2_graph.grid)
    from airgrid.routing.graph import _ARRAYS

    for k in _ARRAYS:
        assert np.array_equal(getattr(back, k), getattr(real_t2_graph, k))
    usable = np.flatnonzero(real_t2_graph.usable)
    a, b = int(usable[3]), int(usable[-3])
    assert plan_route(back, a, b).cost == plan_route(real_t2_graph, a, b).cost
    with pytest.raises(GraphFileError):
        RouteGraph.load(path, gen_grid)
    with pytest.raises(GraphFileError) as e:
        RouteGraph.load(tmp_path / "nothing", gen_grid)
    assert isinstance(e.value, OSError)


def test_not_found_geojson_has_null_geometry(gen_graph):
    usable = np.flatnonzero(gen_graph.usable)
    r = plan_route(gen_graph, int(usable[0]), int(usable[-1]), budget=5)
    doc = r.to_geojson()
    assert doc["geometry"] is None and doc["properties"]["status"] == "budget_exhausted"
    same = plan_route(gen_graph, int(usable[0]), int(usable[0]))
    assert same.found and same.cost == 0.0
    assert len(same.to_geojson()["geometry"]["coordinates"]) == 2


def test_landmarks_are_exact_distances_and_cut_expansions(gen_graph, gen_lm_graph):
    import networkx as nx

    g = gen_lm_graph
    # 6 asked, 6 distinct nodes, all in the largest strongly connected component
    L = len(g.landmarks)
    assert L == 6 and len(np.unique(g.landmarks)) == L and g.lm.shape == (g.n_nodes, 2 * L)
    nxg = g.to_networkx()
    biggest = max(nx.strongly_connected_components(nxg), key=len)
    assert set(g.landmarks.tolist()) <= biggest
    for j, lmk in enumerate(g.landmarks.tolist()):  # every landmark's columns are exact
        fwd = nx.single_source_dijkstra_path_length(nxg, lmk)
        bwd = nx.single_source_dijkstra_path_length(nxg.reverse(copy=False), lmk)
        for v in np.flatnonzero(g.usable)[::97].tolist():
            assert g.lm[v, j] == pytest.approx(fwd.get(v, np.inf), rel=1e-12)
            assert g.lm[v, L + j] == pytest.approx(bwd.get(v, np.inf), rel=1e-12)
    rng = np.random.default_rng(8)
    usable = np.flatnonzero(g.usable)
    plain = with_lm = 0
    for _ in range(30):
        a, b = rng.choice(usable, 2).tolist()
        r0 = plan_route(gen_graph, a, b, smooth_path=False)
        r1 = plan_route(g, a, b, smooth_path=False)
        assert r0.status is r1.status
        if r0.found:
            assert r1.cost == pytest.approx(r0.cost, rel=1e-9)
        plain += r0.expansions
        with_lm += r1.expansions
    assert with_lm < plain


def test_plan_route_on_a_grid_reuses_its_graph_until_status_changes(real_t2_grid):
    from airgrid.routing.search.router import graph_for

    g1 = graph_for(real_t2_grid)
    assert graph_for(real_t2_grid) is g1
    usable = np.flatnonzero(g1.usable)
    assert plan_route(real_t2_grid, int(usable[0]), int(usable[0])).found
    old = real_t2_grid.status[usable[1]]
    real_t2_grid.status[usable[1]] |= np.uint8(Status.GEOFENCE)
    try:
        g2 = graph_for(real_t2_grid)
        assert g2 is not g1 and not g2.usable[usable[1]]
    finally:
        real_t2_grid.status[usable[1]] = old
