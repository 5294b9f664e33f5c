"""Corridors: lanes never share a voxel, never use blocked voxels, stay in their tier, get routes."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import shapely
from h3.api import basic_int as h3i

from airgrid.airspace.grid import BLOCKING, Status
from airgrid.routing.corridors.access import node_access
from airgrid.routing.corridors.bearings import bearing_deg
from airgrid.routing.corridors.corridor import (
    band_voxels,
    build_corridor,
    cells_polygon,
    centreline_points,
    clear_corridors,
    mark_corridors,
    opposing_lane_mask,
)
from airgrid.routing.corridors.nodes import make_node
from airgrid.routing.errors import CorridorError
from airgrid.routing.graph import build_graph
from airgrid.routing.search.plan import plan_route
from tests.routing.conftest import ROLLING_FENCE as FENCE
from tests.routing.conftest import rolling_grid

WEST = make_node("w", "West", 28.15, 112.92, "hub")
EAST = make_node("e", "East", 28.16, 113.08, "hub")


@pytest.fixture(scope="module")
def corridor_grid(tmp_path_factory):
    """T2+T3 over ~19 x 13 km of generated rolling terrain, with the prohibited circle marked.

    Module-owned (corridor marks are written into it).
    """
    return rolling_grid(tmp_path_factory)


@pytest.fixture(scope="module")
def corridor_graph(corridor_grid):
    return build_graph(corridor_grid)


@pytest.fixture(scope="module")
def corridor(corridor_graph):
    return build_corridor(corridor_graph, EAST, WEST, tier="T2", width=1, band=1, band_layers=4)


@pytest.mark.parametrize(("band", "band_layers"), [(1, 2), (0, 4)])
def test_lanes_of_opposite_direction_never_share_a_voxel(
    corridor_grid, corridor_graph, band, band_layers
) -> None:
    # T2 columns hold at most 7 layers now (band top from the lowest plausible ground), so
    # band 1 of 4 layers never fits uncompressed: check a band offset with 2-layer bands
    # and two-layer lanes with band 0 of 4 layers, on bands every column along the route holds
    g = corridor_grid
    corridor = build_corridor(
        corridor_graph, EAST, WEST, tier="T2", width=1, band=band, band_layers=band_layers
    )
    assert corridor.compressed_cells == 0
    assert len(corridor.lane_a) > 0 and len(corridor.lane_b) > 0
    assert len(np.intersect1d(corridor.lane_a, corridor.lane_b)) == 0
    # lane A the lower half of the band's relative layers, lane B the upper half
    half = band_layers // 2
    bottom = band * band_layers
    rel_a = g.layer[corridor.lane_a] - g.cell_first_layer[g.voxel_cell[corridor.lane_a]]
    rel_b = g.layer[corridor.lane_b] - g.cell_first_layer[g.voxel_cell[corridor.lane_b]]
    assert set(rel_a.tolist()) == set(range(bottom, bottom + half))
    assert set(rel_b.tolist()) == set(range(bottom + half, bottom + band_layers))
    # every occupied footprint cell carries both directions, half the band each
    cells_a = g.voxel_cell[corridor.lane_a]
    cells_b = g.voxel_cell[corridor.lane_b]
    occupied = corridor.cells[corridor.occupied]
    assert (np.bincount(cells_a)[occupied] == half).all() and (
        np.bincount(cells_b)[occupied] == half
    ).all()
    assert np.array_equal(np.unique(cells_a), occupied) and np.array_equal(
        np.unique(cells_b), occupied
    )


def test_orientation_follows_the_semicircular_rule(corridor) -> None:
    # asked East -> West, stored West -> East: bearing from a to b in [0, 180)
    assert (corridor.a.id, corridor.b.id) == ("w", "e")
    assert 0 <= bearing_deg(corridor.a.lat, corridor.a.lon, corridor.b.lat, corridor.b.lon) < 180
    assert corridor.lane_from("w") is corridor.lane_a and corridor.lane_from("e") is corridor.lane_b
    with pytest.raises(CorridorError):
        corridor.lane_from("nowhere")


def test_corridor_avoids_blocked_voxels_and_stays_in_its_tier(corridor_grid, corridor) -> None:
    vox = corridor.voxels
    assert (corridor_grid.status[vox] & np.uint8(BLOCKING) == 0).all()
    assert (corridor_grid.tier[vox] == 0).all()  # T2 only, although T3 is in the grid
    fence = FENCE.footprint
    centre_ll = [
        h3i.cell_to_latlng(int(h)) for h in corridor_grid.cell_id[corridor.centreline].tolist()
    ]
    assert not any(fence.contains(shapely.Point(lo, la)) for la, lo in centre_ll)
    poly = cells_polygon(corridor_grid, corridor.cells[corridor.occupied])
    assert not poly.intersects(fence)
    # the centreline is a chain of H3 neighbours from one access cell to the other
    ids = corridor_grid.cell_id[corridor.centreline].tolist()
    assert all(h3i.are_neighbor_cells(int(p), int(q)) for p, q in itertools.pairwise(ids))


def test_mark_and_clear(corridor_grid, corridor) -> None:
    mark_corridors(corridor_grid, [corridor])
    try:
        st = corridor_grid.status
        assert (st[corridor.lane_a] & Status.CORRIDOR).all() and not (
            st[corridor.lane_a] & Status.LANE_B
        ).any()
        assert (st[corridor.lane_b] & Status.CORRIDOR).all() and (
            st[corridor.lane_b] & Status.LANE_B
        ).all()
        assert np.count_nonzero(st & np.uint8(Status.CORRIDOR)) == len(corridor.voxels)
    finally:
        clear_corridors(corridor_grid)
    assert np.count_nonzero(corridor_grid.status & np.uint8(Status.CORRIDOR | Status.LANE_B)) == 0
    assert np.count_nonzero(corridor_grid.status & np.uint8(Status.GEOFENCE)) > 0  # other bits kept


def test_route_follows_the_corridor_within_the_detour_ratio(
    corridor_grid, corridor_graph, corridor
) -> None:
    acc_w = node_access(corridor_grid, 0, WEST)
    acc_e = node_access(corridor_grid, 0, EAST)
    start = int(corridor.lane_a[corridor_grid.voxel_cell[corridor.lane_a] == acc_w.cell][0])
    end = int(corridor.lane_a[corridor_grid.voxel_cell[corridor.lane_a] == acc_e.cell][0])
    direct = plan_route(corridor_graph, start, end, tiers=["T2"])
    mark_corridors(corridor_grid, [corridor])
    try:
        marked = build_graph(corridor_grid)
        route = plan_route(marked, start, end, tiers=["T2"])
        east = opposing_lane_mask(corridor_grid, WEST.lat, WEST.lon, EAST.lat, EAST.lon)
        west = opposing_lane_mask(corridor_grid, EAST.lat, EAST.lon, WEST.lat, WEST.lon)
        in_lane = plan_route(marked, start, end, tiers=["T2"], blocked_mask=east)
    finally:
        clear_corridors(corridor_grid)
    assert direct.found and route.found and in_lane.found
    assert np.array_equal(np.flatnonzero(east), corridor.lane_b)
    assert np.array_equal(np.flatnonzero(west), corridor.lane_a)
    footprint = corridor.cells[corridor.occupied]
    ids = corridor_grid.cell_id[footprint].tolist()
    near = corridor_grid.find_cells(
        np.array(sorted({n for h in ids for n in h3i.grid_disk(int(h), 1)})), 0
    )
    for r in (route, in_lane):
        # the route runs inside the corridor; where the band steps with the terrain it may climb
        # one layer in a cell beside it (vertical moves get no corridor discount)
        cells = corridor_grid.voxel_cell[r.voxels]
        assert np.isin(cells, footprint).mean() >= 0.85
        assert np.isin(cells, near).all()
        assert np.isin(r.voxels, corridor.voxels).mean() >= 0.75
        assert r.length_m <= 1.4 * direct.length_m
    # eastbound traffic keeps to lane A and never enters the westbound lane
    assert np.isin(in_lane.voxels, corridor.lane_a).mean() >= 0.75
    assert not np.isin(in_lane.voxels, corridor.lane_b).any()


def test_centreline_points_stay_in_the_corridor(corridor_grid, corridor) -> None:
    pts = centreline_points(corridor_grid, corridor)
    assert 2 <= len(pts) < len(corridor.centreline)
    poly = cells_polygon(corridor_grid, corridor.cells[corridor.occupied])
    line = shapely.LineString(pts[:, :2])
    assert poly.buffer(1e-9).covers(line)
    floor = corridor_grid.floor[corridor.voxels].min()
    ceiling = corridor_grid.ceiling[corridor.voxels].max()
    assert (pts[:, 2] > floor).all() and (pts[:, 2] < ceiling).all()


def test_polygon_is_rfc7946_counter_clockwise(corridor_grid, corridor) -> None:
    poly = cells_polygon(corridor_grid, corridor.cells[corridor.occupied])
    parts = [poly] if poly.geom_type == "Polygon" else list(poly.geoms)
    assert all(p.exterior.is_ccw for p in parts)


def test_band_shifts_down_in_short_columns(corridor_grid, corridor) -> None:
    lane_a, lane_b, short, occupied = band_voxels(corridor_grid, corridor.cells, 50, 2)
    assert short == len(corridor.cells)
    g = corridor_grid
    top = g.cell_first_layer[g.voxel_cell[lane_b]] + g.cell_nlayers[g.voxel_cell[lane_b]] - 1
    assert np.array_equal(g.layer[lane_b], top)  # lane B: the column's top layer
    assert np.array_equal(lane_a + 1, lane_b)  # lane A: the layer just below, same column
    assert occupied.sum() == len(lane_b)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"width": -1}, "width"),
        ({"band": -2}, "band"),
        ({"band_layers": 3}, "even"),
        ({"tier": "T9"}, "unknown tier"),
    ],
)
def test_bad_parameters(corridor_graph, kw, match) -> None:
    with pytest.raises(CorridorError, match=match):
        build_corridor(corridor_graph, WEST, EAST, **kw)


def test_node_without_access(corridor_grid) -> None:
    inside_fence = make_node("f", "Fenced", 28.155, 113.0, "drop")
    acc = node_access(corridor_grid, 0, inside_fence)  # joins at the fence's edge
    la, lo = h3i.cell_to_latlng(int(corridor_grid.cell_id[acc.cell]))
    assert acc.offset_m >= 2500 and not FENCE.footprint.contains(shapely.Point(lo, la))
    with pytest.raises(CorridorError, match="no usable voxel"):
        node_access(corridor_grid, 0, inside_fence, max_rings=3)
    assert math.isfinite(acc.offset_m)
