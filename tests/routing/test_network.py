"""Corridor networks: connected, bounded detours, no head-on voxel sharing, crossings separated, GeoJSON."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pyogrio
import pytest
from h3.api import basic_int as h3i

from airgrid.airspace.grid import BLOCKING, Status, TierTable, area_from_bbox, build_grid
from airgrid.routing.corridors.bands import assign_bands, junction_cells, junction_rings
from airgrid.routing.corridors.corridor import clear_corridors, make_corridor, opposing_lane_mask
from airgrid.routing.corridors.merge import merge_centreline
from airgrid.routing.corridors.network import (
    NetworkParams,
    candidate_pairs,
    design_network,
    select_links,
)
from airgrid.routing.corridors.nodes import make_node
from airgrid.routing.corridors.report import corridor_report, network_geojson, network_report
from airgrid.routing.corridors.tiers import tier_components
from airgrid.routing.errors import CorridorError
from airgrid.routing.graph import build_graph
from airgrid.routing.search.plan import plan_route
from tests.routing.conftest import ROLLING_FENCE as FENCE
from tests.routing.conftest import rolling_grid

NODES = [
    make_node(f"n{i}", f"N{i}", la, lo, "hub" if i < 2 else "depot", 1000 * (i + 1))
    for i, (la, lo) in enumerate(
        [
            (28.12, 112.92),
            (28.20, 112.93),
            (28.112, 113.0),
            (28.205, 113.0),
            (28.12, 113.08),
            (28.19, 113.085),
        ]
    )
]
RATIO = 1.3


def _angle(a: float, b: float) -> float:
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


@pytest.fixture(scope="module")
def net_grid(tmp_path_factory):
    """T2+T3 over ~19 x 13 km of generated rolling terrain with a prohibited circle (module-owned)."""
    return rolling_grid(tmp_path_factory)


@pytest.fixture(scope="module")
def plain_graph(net_grid):
    return build_graph(net_grid)


@pytest.fixture(scope="module")
def net(net_grid, plain_graph):
    return design_network(plain_graph, NODES, NetworkParams(tier="T2", width=1, detour_ratio=RATIO))


def test_network_connects_all_its_nodes(net) -> None:
    assert net.pieces == [[n.id for n in NODES]]
    assert net.is_connected() and nx.is_connected(net.graph)
    assert set(net.graph.nodes) == {n.id for n in NODES}
    assert sum(c.selected == "mst" for c in net.candidates) == len(NODES) - 1
    assert (
        len(net.corridors)
        == sum(bool(c.selected) for c in net.candidates)
        == net.graph.number_of_edges()
    )


def test_network_detour_never_exceeds_the_ratio(net) -> None:
    priced = [c for c in net.candidates if math.isfinite(c.cost)]
    assert len(priced) == len(net.candidates) >= len(NODES)
    for c in priced:
        assert net.network_cost(c.u, c.v) <= RATIO * c.cost * (1 + 1e-9)


def test_network_never_uses_blocked_voxels_and_marks_its_lanes(net, net_grid) -> None:
    vox = net.voxels
    st = net_grid.status
    assert (st[vox] & np.uint8(BLOCKING) == 0).all()
    assert (net_grid.tier[vox] == 0).all()
    assert np.array_equal(np.flatnonzero(st & np.uint8(Status.CORRIDOR)), vox)
    lane_b = np.unique(np.concatenate([c.lane_b for c in net.corridors]))
    assert np.array_equal(np.flatnonzero(st & np.uint8(Status.LANE_B)), lane_b)


def test_opposite_directions_never_share_a_voxel(net, net_grid) -> None:
    assert net.unseparated == []
    for c in net.corridors:
        assert len(np.intersect1d(c.lane_a, c.lane_b)) == 0
    # outside the junctions around shared nodes, two corridors sharing a voxel carry traffic there
    # in compatible directions (lane-A bearings within 90 degrees): no voxel holds head-on traffic
    junctions = junction_cells(
        net_grid, net.corridors, net.access, junction_rings(net.params.width)
    )
    assert len(junctions) > 0
    for i, ci in enumerate(net.corridors):
        for cj in net.corridors[i + 1 :]:
            shared = np.intersect1d(ci.voxels, cj.voxels)
            for cell in np.setdiff1d(net_grid.voxel_cell[shared], junctions).tolist():
                hi = ci.heading[np.searchsorted(ci.cells, cell)]
                hj = cj.heading[np.searchsorted(cj.cells, cell)]
                assert _angle(hi, hj) <= 90.0


def test_route_between_corridor_nodes_follows_the_corridor(net, net_grid, plain_graph) -> None:
    c = max(net.corridors, key=lambda k: len(k.centreline))
    ca, cb = net.access[c.a.id].cell, net.access[c.b.id].cell
    start = int(c.lane_b[net_grid.voxel_cell[c.lane_b] == cb][0])  # westbound: b -> a in lane B
    end = int(c.lane_b[net_grid.voxel_cell[c.lane_b] == ca][0])
    marked = build_graph(net_grid)
    keep_lane = opposing_lane_mask(net_grid, c.b.lat, c.b.lon, c.a.lat, c.a.lon)
    route = plan_route(marked, start, end, tiers=["T2"], blocked_mask=keep_lane)
    status = net_grid.status.copy()
    clear_corridors(net_grid)
    try:
        direct = plan_route(build_graph(net_grid), start, end, tiers=["T2"])
    finally:
        net_grid.status[:] = status
    assert route.found and direct.found
    assert not np.isin(route.voxels, np.flatnonzero(keep_lane)).any()
    assert np.isin(route.voxels, net.voxels).mean() >= 0.75
    assert route.length_m <= RATIO * direct.length_m


def test_report_and_geojson_read_back_with_gdal(net, tmp_path: Path) -> None:
    rep = network_report(net, geofences=[FENCE])
    s = rep["network"]
    assert s["connected"] and s["corridors"] == len(net.corridors) and s["geofences_evaluated"]
    assert "TEST-P" not in s["geofences_crossed"]  # marked prohibited: never entered
    for r in rep["corridors"]:
        assert r["length_m"] >= r["great_circle_m"] > 0 and r["detour_ratio"] >= 1
        assert r["min_clearance_m"] >= 120 and r["mean_clearance_m"] >= r["min_clearance_m"]
        assert r["voxels"] == r["lane_a_voxels"] + r["lane_b_voxels"] > 0
    doc = network_geojson(net, rep)
    path = tmp_path / "net.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    info = pyogrio.read_info(path)
    assert info["features"] == 2 * len(net.corridors) + len(NODES) and info["crs"] == "EPSG:4326"
    meta, _, geoms, fields = pyogrio.raw.read(path)
    names = list(meta["fields"])
    kind = fields[names.index("feature")]
    assert sorted(set(kind.tolist())) == ["centreline", "corridor", "node"]
    lines = [f for f in doc["features"] if f["properties"]["feature"] == "centreline"]
    assert all(
        f["geometry"]["type"] == "LineString"
        and all(len(p) == 3 for p in f["geometry"]["coordinates"])
        for f in lines
    )
    assert all(g is not None for g in geoms)
    assert doc["airgrid_network"]["corridors"] == len(net.corridors)
    unevaluated = corridor_report(net.grid, net.corridors[0])
    assert unevaluated["geofences_evaluated"] is False


def test_crossing_corridors_get_different_bands(net_grid) -> None:
    res = net_grid.tiers[0].resolution
    # W-E north of the 300 m hill (~28.14 N 112.955 E), whose flank leaves T2 columns of 2 layers
    w, e = h3i.latlng_to_cell(28.19, 112.93, res), h3i.latlng_to_cell(28.20, 113.09, res)
    s, n = h3i.latlng_to_cell(28.105, 113.05, res), h3i.latlng_to_cell(28.215, 113.05, res)
    nodes = [
        make_node(k, k, *h3i.cell_to_latlng(h), "hub")
        for k, h in (("W", w), ("E", e), ("S", s), ("N", n))
    ]

    def line(p: int, q: int) -> np.ndarray:
        return net_grid.find_cells(np.array(list(h3i.grid_path_cells(p, q)), np.int64), 0)

    # two-layer bands: T2 columns are at most 7 layers now (the band's top is measured from
    # the lowest plausible ground), so 4-layer bands would leave room for one band only
    c1 = make_corridor(net_grid, nodes[0], nodes[1], line(w, e), tier=0, band_layers=2)
    c2 = make_corridor(net_grid, nodes[2], nodes[3], line(s, n), tier=0, band_layers=2)
    from airgrid.routing.corridors.access import Access

    access = {
        nd.id: Access(nd, int(net_grid.find_cells(np.array([h]), 0)[0]), 0, 0.0)
        for nd, h in zip(nodes, (w, e, s, n))
    }
    crossings, conflicts, unseparated, n_bands = assign_bands(net_grid, [c1, c2], access, 1)
    assert crossings == [(0, 1, 1)] and conflicts == [(0, 1)] and unseparated == [] and n_bands >= 2
    assert c1.band != c2.band
    assert len(np.intersect1d(c1.voxels, c2.voxels)) == 0  # they cross at different altitudes


def test_side_by_side_centrelines_merge(net_grid) -> None:
    res = net_grid.tiers[0].resolution

    def cell(la: float, lo: float) -> int:
        return h3i.latlng_to_cell(la, lo, res)

    def path(p: int, q: int) -> list[int]:
        return list(h3i.grid_path_cells(p, q))

    prev = net_grid.find_cells(np.array(path(cell(28.19, 112.95), cell(28.19, 113.09))), 0)
    # a later centreline 2 rings south of it for ~10 km, coming from and going back south
    a, b = cell(28.14, 112.96), cell(28.14, 113.08)
    x, y = cell(28.1845, 112.965), cell(28.1845, 113.075)
    ids = path(a, x) + path(x, y)[1:] + path(y, b)[1:]
    cl = net_grid.find_cells(np.array(ids), 0)
    assert (cl >= 0).all() and (prev >= 0).all()
    merged, n = merge_centreline(net_grid, 0, cl, [prev], rings=3)
    assert n >= 10
    assert np.isin(prev, merged).sum() >= 10  # the stretch now runs on the earlier centreline
    mid = net_grid.cell_id[merged].tolist()
    assert all(h3i.are_neighbor_cells(int(p), int(q)) for p, q in itertools.pairwise(mid))
    assert merged[0] == cl[0] and merged[-1] == cl[-1]


def test_nodes_in_separate_pieces_get_separate_networks(real_dem) -> None:
    # without the band envelope the coarse-DEM margins tear T2 into pieces here
    torn = build_graph(
        build_grid(
            area_from_bbox(112.9, 28.1, 113.05, 28.25),
            real_dem,
            TierTable().select(["T2"]),
            continuity=False,
        )
    )
    grid = torn.grid
    comps = tier_components(torn, 0)
    assert comps.max() >= 1

    def spread_cells(label: int, k: int) -> list[int]:
        cells = np.unique(grid.voxel_cell[np.flatnonzero(comps == label)])
        out: list[int] = []
        for c in np.random.default_rng(label).permutation(cells).tolist():
            if all(h3i.grid_distance(int(grid.cell_id[c]), int(grid.cell_id[o])) > 4 for o in out):
                out.append(c)
            if len(out) == k:
                return out
        raise AssertionError(f"piece {label} is too small")

    picks = spread_cells(0, 2) + spread_cells(1, 2)
    nodes = [
        make_node(f"p{i}", f"P{i}", *h3i.cell_to_latlng(int(grid.cell_id[c])), "drop")
        for i, c in enumerate(picks)
    ]
    # join_rings=0: every node joins at its own cell (the default may reach over to the larger piece)
    net = design_network(torn, nodes, NetworkParams(tier="T2", join_rings=0), mark=False)
    assert (
        np.count_nonzero(grid.status & np.uint8(Status.CORRIDOR)) == 0
    )  # mark=False left the grid alone
    assert sorted(map(sorted, net.pieces)) == [["p0", "p1"], ["p2", "p3"]]
    assert not net.is_connected()
    for piece in net.pieces:
        assert nx.is_connected(net.graph.subgraph(piece))


def test_candidates_and_selection_rules() -> None:
    sq = [
        make_node(k, k, la, lo, "hub")
        for k, la, lo in (
            ("a", 28.0, 112.0),
            ("b", 28.0, 112.1),
            ("c", 28.1, 112.1),
            ("d", 28.1, 112.0),
        )
    ]
    pairs = candidate_pairs(sq)
    assert len(pairs) == 5  # 4 sides + 1 diagonal
    line = [make_node(k, k, 28.0 + 0.1 * i, 112.0, "hub") for i, k in enumerate("abcd")]
    assert candidate_pairs(line, k=1) == [(0, 1), (1, 2), (2, 3)]  # collinear: k-nearest fallback
    costs = {
        ("a", "b"): 10.0,
        ("b", "c"): 10.0,
        ("c", "d"): 10.0,
        ("a", "d"): 25.0,
        ("a", "c"): 14.0,
    }
    chosen = select_links(costs, 1.4)
    # MST a-b, b-c, c-d; a-d detours 30 <= 1.4 * 25 (kept out); a-c detours 20 > 1.4 * 14 (added)
    assert chosen == {
        ("a", "b"): "mst",
        ("b", "c"): "mst",
        ("c", "d"): "mst",
        ("a", "c"): "redundant",
    }


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"detour_ratio": 1.0}, "detour_ratio"),
        ({"candidates": "all"}, "candidates"),
        ({"width": 20}, "width"),
        ({"band_layers": 1}, "even"),
        ({"join_rings": -1}, "join_rings"),
    ],
)
def test_bad_network_parameters(plain_graph, kw, match) -> None:
    with pytest.raises(CorridorError, match=match):
        design_network(plain_graph, NODES, NetworkParams(**kw), mark=False)


def test_too_few_or_coincident_nodes(plain_graph) -> None:
    with pytest.raises(CorridorError, match="at least 2"):
        design_network(plain_graph, NODES[:1], mark=False)
    twin = make_node("twin", "Twin", NODES[0].lat, NODES[0].lon, "drop")
    with pytest.raises(CorridorError, match="share one access cell"):
        design_network(plain_graph, [NODES[0], twin], mark=False)


def test_cli_corridors(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes.csv"
    nodes.write_text(
        "name,lat,lon,kind,weight\nA,28.19,112.96,hub,1\nB,28.22,113.0,depot,1\n"
        "C,28.16,113.01,drop,1\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.geojson"
    exe = str(Path(sys.executable).with_name("airgrid"))
    r = subprocess.run(
        [exe, "corridors", "--nodes", str(nodes), "--out", str(out), "--no-progress"],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "network" in r.stdout and "corridors" in r.stdout
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection" and doc["airgrid_network"]["nodes"] == 3
    assert doc["airgrid_network"]["geofences_evaluated"] is True
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lat,lon,kind,weight\nA,28,112,warehouse,1\n", encoding="utf-8")
    r = subprocess.run(
        [exe, "corridors", "--nodes", str(bad), "--no-progress"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "kind must be one of" in r.stderr
