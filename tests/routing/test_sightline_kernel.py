"""The Numba line of sight agrees with the exact Python walk; smoothed legs stay in usable
voxels on the real grid; concurrent searches from a router pool answer as sequential ones."""

from __future__ import annotations

import math
import threading

import h3
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airgrid.routing import plan_route
from airgrid.routing.search.constraints import Constraints, constraint_mask
from airgrid.routing.search.router import RouterPool
from airgrid.routing.search.sightline import sampling_step_m, segment_voxels
from airgrid.routing.search.smooth import legs_clearance, pull_points

NO_GO = shapely.box(112.945, 28.14, 112.955, 28.165)


def _python_clear(graph, blocked, p, q, t):
    got = segment_voxels(graph, p, q, t)
    if got is None or (got[0] < 0).any():
        return False
    ok = graph.usable[got[0]]
    if len(blocked):
        ok &= blocked[got[0]] == 0
    return bool(ok.all())


def _centre(graph, v, jitter, rng):
    """A point in voxel ``v``: its cell centre moved by up to ``jitter`` of the way to a vertex."""
    g = graph.grid
    c = h3.int_to_str(int(g.cell[v]))
    lat, lon = h3.cell_to_latlng(c)
    vlat, vlon = h3.cell_to_boundary(c)[int(rng.integers(6))]
    f = rng.uniform(0, jitter)
    alt = float(g.floor[v]) + rng.uniform(0.05, 0.95) * float(g.ceiling[v] - g.floor[v])
    return np.array([lat + f * (vlat - lat), lon + f * (vlon - lon), alt])


@pytest.mark.parametrize("tier", ["T1", "T2"])
def test_kernel_line_of_sight_matches_the_python_walk(gen_graph, tier):
    """Random segments between voxels of one tier (some leaving the grid at its rim, some
    through terrain or the no-go box): the kernel keeps the far point exactly when the
    exact Python walk finds every voxel usable and allowed; the legs' clearance is the
    Python walk's minimum."""
    g = gen_graph.grid
    t = g.tiers.index(tier)
    blocked = constraint_mask(gen_graph, Constraints(no_go=(NO_GO,)))
    nodes = np.flatnonzero(gen_graph.usable & (g.tier == t) & (blocked == 0))
    rim = nodes[(gen_graph.nbr[g.voxel_cell[nodes]] < 0).any(axis=1)]
    rng = np.random.default_rng(11)
    seen = {True: 0, False: 0}
    outside = 0
    for n in range(300):
        a, b = (int(x) for x in rng.choice(rim if n % 2 else nodes, 2))
        p, q = _centre(gen_graph, a, 0.9, rng), _centre(gen_graph, b, 0.9, rng)
        want = _python_clear(gen_graph, blocked, p, q, t)
        got = pull_points(gen_graph, np.stack([p, p, q]), np.array([a, a, b]), blocked)
        assert (len(got) == 2) == want, (p, q)
        seen[want] += 1
        pts, vox = np.stack([p, q]), np.array([a, b])
        ref = segment_voxels(gen_graph, p, q, t)
        low = legs_clearance(gen_graph, pts, vox)
        if ref is None:  # the segment leaves the grid
            outside += 1
            assert low == math.inf
        else:
            assert low == pytest.approx(float(np.min(ref[2] - g.cell_g_hi[ref[1]])), abs=1e-9)
    assert min(seen.values()) >= 20
    assert outside >= 10


def _dense_cells_ok(graph, blocked, p, q):
    """Whether every point every 1/16 half edge along p -> q (straight in lon/lat) lies in a
    usable, allowed voxel of some tier, found with h3 point lookups alone."""
    g = graph.grid
    step = sampling_step_m(g, 0) / 16
    d = math.hypot(
        (q[0] - p[0]) * 111_195.0, (q[1] - p[1]) * 111_195.0 * math.cos(math.radians(p[0]))
    )
    for s in np.linspace(0, 1, max(2, math.ceil(d / step) + 1)):
        lat, lon, alt = (p[k] + (q[k] - p[k]) * s for k in range(3))
        v = -1
        for t, tier in enumerate(g.tiers):
            ci = g.find_cells(
                np.array([h3.str_to_int(h3.latlng_to_cell(lat, lon, tier.resolution))]), t
            )
            v = int(g.voxel_index(ci, np.array([math.floor(alt / tier.thickness_m)]))[0])
            if v >= 0:
                break
        if v < 0 or not graph.usable[v] or (len(blocked) and blocked[v]):
            return False
    return True


@pytest.fixture(scope="module")
def real_nodes(real_t2_graph):
    box = shapely.box(112.965, 28.13, 112.98, 28.25)  # across the north of the grid
    blocked = constraint_mask(real_t2_graph, Constraints(no_go=(box,)))
    return np.flatnonzero(real_t2_graph.usable & (blocked == 0)), box, blocked


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(i=st.integers(0, 10**9), j=st.integers(0, 10**9))
def test_smoothed_legs_on_the_real_grid_pass_only_usable_voxels(real_t2_graph, real_nodes, i, j):
    """Real terrain, a no-go strip across most of the grid: every leg of a smoothed route, walked
    densely with h3 per sample, stays in usable voxels outside the strip."""
    nodes, box, blocked = real_nodes
    a, b = int(nodes[i % len(nodes)]), int(nodes[j % len(nodes)])
    r = plan_route(real_t2_graph, a, b, no_go=[box])
    if not r.found:
        return
    for p, q in zip(r.waypoints[:-1], r.waypoints[1:]):
        assert _dense_cells_ok(
            real_t2_graph, blocked, (p.lat, p.lon, p.alt_m), (q.lat, q.lon, q.alt_m)
        )


def test_concurrent_searches_from_a_pool_match_sequential_ones(real_t2_graph):
    """Four threads planning from a pool of two routers give, route for route, the
    waypoints, costs and clearances of planning one after another."""
    nodes = np.flatnonzero(real_t2_graph.usable)
    rng = np.random.default_rng(5)
    pairs = [tuple(int(x) for x in rng.choice(nodes, 2)) for _ in range(24)]
    want = [plan_route(real_t2_graph, a, b) for a, b in pairs]
    pool = RouterPool(real_t2_graph, 2)
    got: dict[int, object] = {}
    errors: list[BaseException] = []

    def work(k0: int) -> None:
        try:
            for k in range(k0, len(pairs), 4):
                with pool.lease() as router:
                    got[k] = plan_route(real_t2_graph, *pairs[k], router=router)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert pool.made <= 2
    found = 0
    for k, w in enumerate(want):
        r = got[k]
        assert r.status == w.status
        if w.found:
            found += 1
            assert r.cost == w.cost
            assert np.array_equal(r.voxels, w.voxels)
            assert [(x.lat, x.lon, x.alt_m) for x in r.waypoints] == [
                (x.lat, x.lon, x.alt_m) for x in w.waypoints
            ]
            assert r.min_clearance_m == w.min_clearance_m
    assert found >= 12


def test_search_and_line_of_sight_kernels_release_the_gil():
    """The kernels a route request spends its time in are compiled without the GIL, so
    searches in different request threads run side by side."""
    from airgrid.routing.kernels import astar as ka
    from airgrid.routing.kernels import sightline as ks

    kernels = (ka.astar, ka.trace_path, ka.lower_bound, ks.walk, ks.string_pull, ks.legs_clearance)
    for kernel in kernels:
        assert kernel.targetoptions.get("nogil") is True, kernel.__name__


def _hull_cells() -> list[int]:
    """Cells whose boundaries are hexagons, pentagons, and (resolutions 0 and 1) polygons
    with H3's distortion vertices, some of them not strictly convex in (lon, lat)."""
    rng = np.random.default_rng(7)
    hunan = [
        h3.latlng_to_cell(float(la), float(lo), res)
        for res in (6, 7, 8, 9)
        for la, lo in zip(rng.uniform(24.6, 30.1, 50), rng.uniform(108.8, 114.3, 50))
    ]
    coarse = [c for r0 in h3.get_res0_cells() for c in [r0, *h3.cell_to_children(r0, 1)]]
    pentagons = [p for res in (2, 5, 9) for p in h3.get_pentagons(res)]
    return [h3.str_to_int(c) for c in hunan + coarse + pentagons]


def test_cell_hull_rows_describe_shapelys_convex_hull_of_the_boundary():
    """Every hull row set (Numba kernel, shapely fallback for the boundaries that are not
    strictly convex) is the convex hull shapely computes of the cell's boundary vertices
    in (lon, lat): its vertices are the hull's, its normals unit and inward, and every
    boundary vertex lies on the inner side of every edge."""
    from airgrid.routing.search.sightline import _cell_hulls

    cells = _hull_cells()
    rows = _cell_hulls(np.array(cells, np.int64))
    fallback = 0
    for cell, row in zip(cells, rows):
        lonlat = np.array([(lo, la) for la, lo in h3.cell_to_boundary(h3.int_to_str(cell))])
        hull = shapely.convex_hull(shapely.multipoints(lonlat))
        used = row[np.hypot(row[:, 2], row[:, 3]) > 0]
        fallback += len(used) < len(lonlat)
        assert len(used) == shapely.get_num_coordinates(hull) - 1
        assert shapely.equals(shapely.Polygon(used[:, :2]), hull)
        np.testing.assert_allclose(np.hypot(used[:, 2], used[:, 3]), 1.0, rtol=1e-15)
        inward = (lonlat[:, None, 0] - used[None, :, 0]) * used[None, :, 2] + (
            lonlat[:, None, 1] - used[None, :, 1]
        ) * used[None, :, 3]
        assert inward.min() > -1e-12
        ccw = np.sum(used[:, 0] * np.roll(used[:, 1], -1) - np.roll(used[:, 0], -1) * used[:, 1])
        assert ccw > 0
    assert fallback > 0  # some boundaries took the convex-hull path
