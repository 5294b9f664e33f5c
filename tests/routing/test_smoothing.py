"""Smoothed routes never cross an unusable or excluded voxel (hypothesis property)."""

from __future__ import annotations

import math

import h3
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airgrid.routing import plan_route
from airgrid.routing.search.constraints import Constraints, constraint_mask
from airgrid.routing.search.sightline import sampling_step_m, segment_cells

NO_GO = shapely.box(112.945, 28.14, 112.955, 28.165)


def _dense_voxels(grid, p, q, step):
    """Voxel of points every ``step`` m along p -> q (straight in lon/lat, as GeoJSON draws it),
    found independently of the router with h3 point lookups."""
    d = math.hypot(
        (q[0] - p[0]) * 111_195.0, (q[1] - p[1]) * 111_195.0 * math.cos(math.radians(p[0]))
    )
    out = []
    for s in np.linspace(0, 1, max(2, math.ceil(d / step) + 1)):
        lat, lon, alt = (p[k] + (q[k] - p[k]) * s for k in range(3))
        v = -1
        for t, tier in enumerate(grid.tiers):
            ci = grid.find_cells(
                np.array([h3.str_to_int(h3.latlng_to_cell(lat, lon, tier.resolution))]), t
            )
            v = int(grid.voxel_index(ci, np.array([math.floor(alt / tier.thickness_m)]))[0])
            if v >= 0:
                break
        out.append(v)
    return np.array(out)


@pytest.fixture(scope="module")
def t1_nodes(gen_graph):
    blocked = constraint_mask(gen_graph, Constraints(tiers=["T1"], no_go=(NO_GO,)))
    return np.flatnonzero(gen_graph.usable & (blocked == 0)), blocked


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(i=st.integers(0, 10**9), j=st.integers(0, 10**9))
def test_smoothed_segments_stay_in_allowed_voxels(gen_graph, t1_nodes, i, j):
    """T1 over generated terrain (terrain-blocked layers, a hill, a ridge) with a no-go box:
    every point of every smoothed segment lies in a usable, allowed voxel."""
    nodes, blocked = t1_nodes
    a, b = int(nodes[i % len(nodes)]), int(nodes[j % len(nodes)])
    r = plan_route(gen_graph, a, b, tiers=["T1"], no_go=[NO_GO])
    if not r.found:
        return
    g = gen_graph.grid
    step = sampling_step_m(g) / 16
    for p, q in zip(r.waypoints[:-1], r.waypoints[1:]):
        v = _dense_voxels(g, (p.lat, p.lon, p.alt_m), (q.lat, q.lon, q.alt_m), step)
        assert (v >= 0).all()
        assert gen_graph.usable[v].all()
        assert (blocked[v] == 0).all()
    assert len(r.waypoints) <= len(r.voxels)
    assert r.min_clearance_m >= g.tiers.clearance_m


def test_smoothing_shortens_and_prunes(gen_graph, t1_nodes):
    nodes, _ = t1_nodes
    g = gen_graph.grid
    rng = np.random.default_rng(4)
    checked = 0
    for _ in range(40):
        a, b = rng.choice(nodes, 2).tolist()
        r = plan_route(gen_graph, a, b, tiers=["T1"], no_go=[NO_GO])
        if not r.found or len(r.voxels) < 15:
            continue
        ll = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in g.cell[r.voxels]])
        xyz = np.column_stack(
            [
                np.cos(np.radians(ll[:, 0])) * np.cos(np.radians(ll[:, 1])),
                np.cos(np.radians(ll[:, 0])) * np.sin(np.radians(ll[:, 1])),
                np.sin(np.radians(ll[:, 0])),
            ]
        )
        raw = float(
            np.hypot(
                6_371_008.8 * np.linalg.norm(np.diff(xyz, axis=0), axis=1),
                np.diff(gen_graph.zc[r.voxels]),
            ).sum()
        )
        assert len(r.waypoints) < len(r.voxels)
        assert r.length_m <= raw + 1.0
        checked += 1
    assert checked >= 5


def _reference_cells(graph, p, q, t):
    """Cells whose hexagon (edges straight in lon/lat) the segment touches and the stretch
    spent over each, by shapely on every cell of the tier near the segment."""
    g = graph.grid
    lo, hi = g.tier_cell_start[t], g.tier_cell_start[t + 1]
    ids = g.cell_id[lo:hi]
    ll = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in ids.tolist()])
    near = np.flatnonzero(
        shapely.distance(
            shapely.points(ll[:, 1], ll[:, 0]), shapely.LineString([(p[1], p[0]), (q[1], q[0])])
        )
        < 0.02
    )
    line = shapely.LineString([(p[1], p[0]), (q[1], q[0])])
    out = {}
    for k in near.tolist():
        poly = shapely.Polygon([(b, a) for a, b in h3.cell_to_boundary(h3.int_to_str(int(ids[k])))])
        inter = shapely.intersection(line, poly)
        if not inter.is_empty:
            tt = [
                line.project(shapely.Point(xy), normalized=True)
                for xy in shapely.get_coordinates(inter)
            ]
            out[lo + k] = (min(tt), max(tt))
    return out


def test_segment_cells_match_a_shapely_reference(gen_graph):
    """Random segments (some along cell edges and through vertices): the clipped cells and
    stretches contain shapely's intersection of the segment with every nearby hexagon, and
    exceed it only within 1e-8 degree of the hexagon (the touch tolerance)."""
    g = gen_graph.grid
    rng = np.random.default_rng(7)
    t = 0
    lo, hi = g.tier_cell_start[t], g.tier_cell_start[t + 1]
    checked = 0
    for n in range(60):
        a, b = rng.integers(lo, hi, 2).tolist()
        ca = h3.int_to_str(int(g.cell_id[a]))
        if n % 3 == 0:  # along an edge of a's hexagon, through two of its vertices
            v = h3.cell_to_boundary(ca)
            p, q = (*v[0], 200.0), (*v[1], 200.0)
        else:
            p = (*h3.cell_to_latlng(ca), 200.0)
            q = (*h3.cell_to_latlng(h3.int_to_str(int(g.cell_id[b]))), 260.0)
        got = segment_cells(gen_graph, np.array(p), np.array(q), t)
        if got is None:
            continue
        want = _reference_cells(gen_graph, p, q, t)
        rows, t0, t1 = got
        mine = {int(r): (a0, a1) for r, a0, a1 in zip(rows.tolist(), t0.tolist(), t1.tolist())}
        assert set(want) <= set(mine)
        line = shapely.LineString([(p[1], p[0]), (q[1], q[0])])
        for r in set(mine) - set(want):
            poly = shapely.Polygon(
                [(y, x) for x, y in h3.cell_to_boundary(h3.int_to_str(int(g.cell_id[r])))]
            )
            assert line.distance(poly) < 1e-8
        for r, (w0, w1) in want.items():
            assert mine[r][0] <= w0 + 1e-9 and mine[r][1] >= w1 - 1e-9  # never a shorter stretch
            poly = shapely.Polygon(
                [(y, x) for x, y in h3.cell_to_boundary(h3.int_to_str(int(g.cell_id[r])))]
            )
            for s in mine[r]:  # and no longer than the touch tolerance allows
                assert line.interpolate(s, normalized=True).distance(poly) < 1e-8
        checked += 1
    assert checked >= 40
