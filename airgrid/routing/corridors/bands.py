"""Crossings and bands: which corridors conflict (crossing centrelines, opposing traffic
in shared cells, outside the junctions around nodes) and the layer bands that keep
conflicting corridors apart (step 6 of
:func:`~airgrid.routing.corridors.network.design_network`).
"""

from __future__ import annotations

import math

import h3
import networkx as nx
import numpy as np
import shapely
import shapely.affinity
from h3.api import basic_int as h3i

from airgrid.airspace.grid import Grid
from airgrid.geo.constants import M_PER_DEG_LON_EQUATOR
from airgrid.routing.corridors.access import Access
from airgrid.routing.corridors.bearings import bearing_angle, line_angle, segment_bearing
from airgrid.routing.corridors.corridor import Corridor, centreline_points, rebuild_lanes

#: Centrelines meeting at a smaller angle run together rather than cross.
MIN_CROSSING_ANGLE_DEG = 30.0


def count_crossings(
    grid: Grid,
    corridors: list[Corridor],
    access: dict[str, Access],
    zone_m: float,
    min_angle_deg: float = MIN_CROSSING_ANGLE_DEG,
) -> list[tuple[int, int, int]]:
    """Crossings of centrelines: ``(i, j, n)`` for every pair crossing ``n`` > 0 times.

    The string-pulled centrelines (:func:`~airgrid.routing.corridors.corridor.centreline_points`)
    are intersected with shapely. An intersection point counts as a crossing when the
    two lines meet there at ``min_angle_deg`` or more (shallower meetings are corridors
    running together, judged by :func:`opposing_pairs`) and it lies farther than
    ``zone_m`` from the access cell of a node both corridors end at (a junction).
    Shared stretches (line overlaps) are not crossings.
    """
    lines = {
        i: shapely.LineString(centreline_points(grid, c)[:, :2])
        for i, c in enumerate(corridors)
        if len(c.centreline) > 1
    }
    keep = list(lines)
    tree = shapely.STRtree([lines[i] for i in keep])
    out = []
    deg = zone_m / M_PER_DEG_LON_EQUATOR
    for i in keep:
        li = lines[i]
        for j in sorted(keep[int(x)] for x in tree.query(li, predicate="intersects")):
            if j <= i:
                continue
            lj = lines[j]
            zones = []
            for nid in {corridors[i].a.id, corridors[i].b.id} & {
                corridors[j].a.id,
                corridors[j].b.id,
            }:
                la, lo = h3i.cell_to_latlng(int(grid.cell_id[access[nid].cell]))
                cos = max(math.cos(math.radians(la)), 0.1)
                zones.append(
                    shapely.affinity.scale(shapely.Point(lo, la).buffer(deg), 1.0 / cos, 1.0)
                )
            n = 0
            for p in shapely.get_parts(li.intersection(lj)):
                if p.geom_type != "Point" or any(z.covers(p) for z in zones):
                    continue
                if line_angle(segment_bearing(li, p), segment_bearing(lj, p)) >= min_angle_deg:
                    n += 1
            if n:
                out.append((i, j, n))
    return out


def junction_cells(
    grid: Grid, corridors: list[Corridor], access: dict[str, Access], rings: int
) -> np.ndarray:
    """Cells within ``rings`` of the access cell of every node where two or more corridors end (sorted)."""
    ends: dict[str, int] = {}
    for c in corridors:
        for nid in (c.a.id, c.b.id):
            ends[nid] = ends.get(nid, 0) + 1
    t = corridors[0].tier if corridors else 0
    parts = [
        grid.find_cells(
            np.fromiter(h3i.grid_disk(int(grid.cell_id[access[nid].cell]), rings), np.int64), t
        )
        for nid, k in sorted(ends.items())
        if k >= 2
    ]
    cells = np.concatenate(parts) if parts else np.empty(0, np.int64)
    return np.unique(cells[cells >= 0])


def opposing_pairs(
    corridors: list[Corridor], exempt: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """Corridor pairs sharing a footprint cell where their lane-A bearings differ by more than 90°.

    Parameters
    ----------
    corridors
        The corridors.
    exempt
        Cells not judged (the junctions around shared nodes, :func:`junction_cells`).
    """
    skip = set(np.asarray(exempt if exempt is not None else [], np.int64).tolist())
    owner: dict[int, list[tuple[int, float]]] = {}
    for i, c in enumerate(corridors):
        for cell, h in zip(c.cells[c.occupied].tolist(), c.heading[c.occupied].tolist()):
            if cell not in skip:
                owner.setdefault(cell, []).append((i, h))
    out: set[tuple[int, int]] = set()
    for lst in owner.values():
        if len(lst) < 2:
            continue
        for x in range(len(lst)):
            for y in range(x + 1, len(lst)):
                (i, hi), (j, hj) = lst[x], lst[y]
                if i != j and bearing_angle(hi, hj) > 90.0:
                    out.add((min(i, j), max(i, j)))
    return sorted(out)


def junction_rings(width: int) -> int:
    """Radius (H3 rings) of the junction around a node shared by corridors: ``2 * width + 2``."""
    return 2 * width + 2


def assign_bands(
    grid: Grid, corridors: list[Corridor], access: dict[str, Access], width: int
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]], list[tuple[int, int]], int]:
    """Give conflicting corridors different layer bands (step 6), rebuilding their lanes in place.

    Parameters
    ----------
    grid
        The grid.
    corridors
        The corridors (their ``band`` and lanes are replaced).
    access
        Access of the corridors' nodes, by node id (junction zones).
    width
        Corridor half-width in rings (sizes the junction zones).

    Returns
    -------
    crossings
        ``(i, j, n)`` from :func:`count_crossings`.
    conflicts
        Pairs that must not share a band: crossing, or opposing lane-A bearings on
        shared cells outside the junctions (:func:`opposing_pairs`).
    unseparated
        Conflicting pairs left in one band (more colours needed than bands available).
    n_bands
        Bands available: the shortest occupied column // ``band_layers``.
    """
    if not corridors:
        return [], [], [], 0
    t = corridors[0].tier
    rings = junction_rings(width)
    spacing_m = math.sqrt(3.0) * h3.average_hexagon_edge_length(grid.tiers[t].resolution, "m")
    crossings = count_crossings(grid, corridors, access, zone_m=rings * spacing_m)
    exempt = junction_cells(grid, corridors, access, rings)
    conflicts = sorted({(i, j) for i, j, _ in crossings} | set(opposing_pairs(corridors, exempt)))
    cells = np.unique(np.concatenate([c.cells[c.occupied] for c in corridors]))
    layers = corridors[0].band_layers
    n_bands = max(int(np.asarray(grid.cell_nlayers)[cells].min()) // layers if len(cells) else 0, 1)
    cg = nx.Graph()
    cg.add_nodes_from(range(len(corridors)))
    cg.add_edges_from(conflicts)
    colour = nx.greedy_color(cg, strategy="DSATUR")
    for i, c in enumerate(corridors):
        rebuild_lanes(grid, c, colour[i] % n_bands)
    unseparated = [(i, j) for i, j in conflicts if corridors[i].band == corridors[j].band]
    return crossings, conflicts, unseparated, n_bands
