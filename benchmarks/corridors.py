"""Corridor network benchmark: Hunan's 14 prefecture seats at T2.

Steps (each timed): build the Hunan T2 grid from the shipped ETOPO5 DEM; mark the
default airport protection zones as prohibited; build the routing graph; design the
network (:func:`airgrid.routing.corridors.network.design_network`); the planner report with
geofences; the GeoJSON export, read back with GDAL through pyogrio (``read_info`` and
``raw.read``, no geopandas); a route between two seats joined by a corridor on the
re-built (corridor-discounted) graph, against the same route before marking.

Baseline from the same run: pricing the same candidate links one A* at a time
(``Router.search``, one core) beside the batch pricing the design uses (both cores).

Run: ``.venv/bin/python benchmarks/corridors.py`` (about 2-3 minutes on 2 cores).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    """Run the benchmark and print its figures."""
    import pyogrio

    from airgrid.airspace.geofences.airports import airport_zones
    from airgrid.airspace.geofences.cover import mark_geofences
    from airgrid.airspace.grid import TierTable, build_grid, named_area
    from airgrid.airspace.grid.build import peak_rss_bytes
    from airgrid.data import DEFAULT_DEM
    from airgrid.routing.corridors.corridor import (
        clear_corridors,
        mark_corridors,
        opposing_lane_mask,
    )
    from airgrid.routing.corridors.network import NetworkParams, design_network
    from airgrid.routing.corridors.nodes import PREFECTURE_SEATS, default_nodes
    from airgrid.routing.corridors.report import network_geojson, network_report
    from airgrid.routing.corridors.tiers import tier_mask
    from airgrid.routing.graph import build_graph
    from airgrid.routing.kernels.status import FOUND
    from airgrid.routing.search.plan import plan_route
    from airgrid.routing.search.router import router_for
    from airgrid.terrain import Dem

    t_all = time.perf_counter()
    seat_ids = {f"geonames:{g}" for g in PREFECTURE_SEATS}
    nodes = [n for n in default_nodes(kinds=["hub"]) if n.id in seat_ids]
    t0 = time.perf_counter()
    grid = build_grid(
        named_area("hunan"),
        Dem.open(DEFAULT_DEM),
        TierTable().select(["T2"]),
    )
    t_grid = time.perf_counter() - t0
    t0 = time.perf_counter()
    fences = airport_zones()
    n_fenced = len(mark_geofences(grid, fences))
    t_fence = time.perf_counter() - t0
    t0 = time.perf_counter()
    graph = build_graph(grid)
    t_graph = time.perf_counter() - t0
    print(
        f"grid: Hunan T2, {grid.n_cells:,} cells, {grid.n_voxels:,} voxels in {t_grid:.1f} s; "
        f"{n_fenced:,} voxels in {len(fences)} airport zones marked in {t_fence:.1f} s; "
        f"graph {graph.n_edges:,} edges in {t_graph:.1f} s"
    )

    params = NetworkParams(tier="T2", width=1, band_layers=4, detour_ratio=1.4)
    t0 = time.perf_counter()
    net = design_network(graph, nodes, params)
    t_design = time.perf_counter() - t0
    t0 = time.perf_counter()
    rep = network_report(net, geofences=fences)
    t_report = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hunan_t2_corridors.geojson"
        t0 = time.perf_counter()
        path.write_text(json.dumps(network_geojson(net, rep), ensure_ascii=False), encoding="utf-8")
        t_export = time.perf_counter() - t0
        size = path.stat().st_size
        info = pyogrio.read_info(path)
        meta, _, geoms, fields = pyogrio.raw.read(path)
    names, counts = np.unique(fields[list(meta["fields"]).index("feature")], return_counts=True)
    kinds = {str(k): int(n) for k, n in zip(names, counts)}
    s = rep["network"]
    print(
        f"design: {len(nodes)} seats -> {s['pieces']} pieces of T2 (largest {s['largest_piece_nodes']} seats), "
        f"{s['candidates']} candidates ({s['candidates_priced']} priced), {s['corridors']} corridors "
        f"({s['mst_links']} MST + {s['redundant_links']} redundant) in {t_design:.1f} s "
        f"(steps {s['timings_s']})"
    )
    print("pieces: " + " | ".join(", ".join(net.nodes[i].name for i in p) for p in net.pieces))
    print(
        f"network: {s['length_m'] / 1000:,.1f} km of centreline, detour ratio mean {s['detour_ratio_mean']} "
        f"max {s['detour_ratio_max']}, min clearance {s['min_clearance_m']} m, {s['voxels']:,} voxels "
        f"({s['voxels_shared']:,} shared, {s['merged_cells']} merged cells), {s['crossings']} crossings, "
        f"{s['unseparated_pairs']} unseparated, bands used {s['bands_used']}/{s['bands_available']}, "
        f"geofences crossed {s['geofences_crossed']} skirted {s['geofences_skirted']}"
    )
    for r in rep["corridors"]:
        print(
            f"  {r['a']:>12} - {r['b']:<12} band {r['band']} {r['length_m'] / 1000:6.1f} km "
            f"detour {r['detour_ratio']:.3f} clearance min {r['min_clearance_m']:.0f} mean "
            f"{r['mean_clearance_m']:.0f} m voxels {r['voxels']:,} crossings {r['crossings']}"
        )
    print(
        f"report {t_report:.1f} s; GeoJSON {size / 1e6:.2f} MB written in {t_export:.1f} s; read back by GDAL "
        f"({info['driver']}): {info['features']} features, {len(geoms)} geometries, by kind {kinds}"
    )

    # a route between the two ends of the longest corridor, before and after marking
    if net.corridors:
        c = max(net.corridors, key=lambda k: len(k.centreline))
        src = int(net.access[c.a.id].voxel)
        dst = int(net.access[c.b.id].voxel)
        clear_corridors(grid)
        before = plan_route(build_graph(grid), src, dst, tiers=["T2"])
        mark_corridors(grid, net.corridors)
        t0 = time.perf_counter()
        marked = build_graph(grid)
        t_regraph = time.perf_counter() - t0
        lane_src = int(
            c.lane_a[np.isin(np.asarray(grid.voxel_cell)[c.lane_a], [net.access[c.a.id].cell])][0]
        )
        lane_dst = int(
            c.lane_a[np.isin(np.asarray(grid.voxel_cell)[c.lane_a], [net.access[c.b.id].cell])][0]
        )
        keep_lane = opposing_lane_mask(grid, c.a.lat, c.a.lon, c.b.lat, c.b.lon)
        after = plan_route(marked, lane_src, lane_dst, tiers=["T2"], blocked_mask=keep_lane)
        inside = float(np.isin(after.voxels, c.voxels).mean())
        in_cells = float(
            np.isin(np.asarray(grid.voxel_cell)[after.voxels], c.cells[c.occupied]).mean()
        )
        print(
            f"route {c.a.name} -> {c.b.name}: {before.length_m / 1000:.1f} km before marking, "
            f"{after.length_m / 1000:.1f} km on the corridor graph (ratio {after.length_m / before.length_m:.3f}, "
            f"limit {params.detour_ratio}); in lane A (lane B blocked): {100 * in_cells:.1f}% of its voxels over "
            f"the corridor's cells, {100 * inside:.1f}% in its voxels (the rest climb where the band steps) "
            f"(graph rebuilt in {t_regraph:.1f} s)"
        )

    # baseline: the same candidates priced one search at a time
    pairs = [(x.u, x.v) for x in net.candidates]
    router = router_for(graph)
    blocked = tier_mask(graph, 0)
    t0 = time.perf_counter()
    st_b, cost_b, _ = router.batch(
        np.array([net.access[u].voxel for u, _ in pairs]),
        np.array([net.access[v].voxel for _, v in pairs]),
        blocked,
        params.budget,
    )
    t_batch = time.perf_counter() - t0
    t0 = time.perf_counter()
    seq = [
        router.search(net.access[u].voxel, net.access[v].voxel, blocked, params.budget)
        for u, v in pairs
    ]
    t_seq = time.perf_counter() - t0
    same = all(
        (s == FOUND) == (q[0] == FOUND) and (s != FOUND or abs(c - q[1]) < 1e-6 * c)
        for s, c, q in zip(st_b.tolist(), cost_b.tolist(), seq)
    )
    print(
        f"pricing {len(pairs)} candidates: batch {t_batch:.2f} s vs one-at-a-time {t_seq:.2f} s "
        f"(baseline / ours = {t_seq / max(t_batch, 1e-9):.2f}x; same costs: {same})"
    )
    print(
        f"total {time.perf_counter() - t_all:.1f} s; peak memory {peak_rss_bytes() / 2**30:.2f} GiB"
    )


if __name__ == "__main__":
    main()
