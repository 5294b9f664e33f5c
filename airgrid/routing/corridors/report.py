"""Planner reports for corridors and corridor networks, and their GeoJSON (RFC 7946) export.

Per corridor: length (3D, along the string-pulled centreline), detour ratio against the
great circle between its two access cells, minimum and mean terrain clearance (voxel
floor above the cell's highest plausible ground, over all corridor voxels), geofences
crossed or skirted, airspace occupied (voxels) and crossings. Geofences are judged
exactly with shapely: *crossed* when a fence's footprint meets the corridor's polygon
and its altitude band (:meth:`~airgrid.airspace.geofences.model.Geofence.amsl_band` over the
grid's terrain) overlaps the corridor's altitude range; *skirted* when not crossed but
within ``skirt_m`` of the polygon horizontally. Without geofences the report says they
were not evaluated.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import shapely

from airgrid.airspace.geofences.model import Geofence
from airgrid.airspace.grid import Grid
from airgrid.geo.constants import deg_lat_for, deg_lon_for
from airgrid.geo.plane import local_metric
from airgrid.routing.corridors.bearings import haversine_m
from airgrid.routing.corridors.corridor import Corridor, cells_polygon, centreline_points
from airgrid.routing.corridors.network import CorridorNetwork

#: Default horizontal distance within which a geofence counts as skirted (m).
DEFAULT_SKIRT_M = 2_000.0


def path_length_m(points: np.ndarray) -> float:
    """3D length of a (lon, lat, alt) polyline: great-circle horizontal legs, straight vertical change."""
    if len(points) < 2:
        return 0.0
    horiz = [haversine_m(a[1], a[0], b[1], b[0]) for a, b in itertools.pairwise(points)]
    return float(np.hypot(np.array(horiz), np.diff(points[:, 2])).sum())


def _geofence_verdicts(
    corridor_poly: shapely.Geometry,
    alt_lo: float,
    alt_hi: float,
    fences: Sequence[Geofence],
    tree: shapely.STRtree,
    grid: Grid,
    skirt_m: float,
) -> tuple[list[str], list[str]]:
    c = corridor_poly.centroid
    pad = max(deg_lat_for(skirt_m), deg_lon_for(skirt_m, c.y))
    fwd, _ = local_metric(c.x, c.y)
    poly_m = shapely.transform(
        corridor_poly, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1]))
    )
    crossed, skirted = [], []
    for k in sorted(int(i) for i in tree.query(corridor_poly.buffer(pad))):
        g = fences[k]
        fp_m = shapely.transform(
            g.footprint, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1]))
        )
        lo, hi = g.amsl_band(grid)
        if fp_m.intersects(poly_m) and lo <= alt_hi and hi >= alt_lo:
            crossed.append(g.identifier)
        elif fp_m.distance(poly_m) <= skirt_m:
            skirted.append(g.identifier)
    return crossed, skirted


def corridor_report(
    grid: Grid,
    corridor: Corridor,
    *,
    geofences: Sequence[Geofence] | None = None,
    crossings: int = 0,
    skirt_m: float = DEFAULT_SKIRT_M,
) -> dict:
    """Planner figures of one corridor.

    Parameters
    ----------
    grid
        The grid the corridor was built on.
    corridor
        The corridor.
    geofences
        Geofences to judge (None: not evaluated).
    crossings
        Crossings of this corridor's centreline with others (from the network).
    skirt_m
        Horizontal distance within which a geofence is *skirted*.

    Returns
    -------
    dict
        Plain JSON-ready values (see the module docstring).
    """
    pts = centreline_points(grid, corridor)
    length = path_length_m(pts)
    la0, lo0 = pts[0][1], pts[0][0]
    la1, lo1 = pts[-1][1], pts[-1][0]
    gc = haversine_m(la0, lo0, la1, lo1)
    vox = corridor.voxels
    floor = np.asarray(grid.floor, np.float64)[vox]
    clear = floor - np.asarray(grid.g_hi, np.float64)[vox]
    floor_min_m = round(float(floor.min()), 1) if len(vox) else None
    ceiling_max_m = (
        round(float(np.asarray(grid.ceiling, np.float64)[vox].max()), 1) if len(vox) else None
    )
    out = {
        "id": corridor.id,
        "a": corridor.a.name,
        "b": corridor.b.name,
        "a_id": corridor.a.id,
        "b_id": corridor.b.id,
        "tier": corridor.tier_name,
        "band": corridor.band,
        "band_layers": corridor.band_layers,
        "width_rings": corridor.width,
        "cost": round(float(corridor.cost), 1),
        "length_m": round(length, 1),
        "great_circle_m": round(gc, 1),
        "detour_ratio": round(length / gc, 4) if gc > 0 else None,
        "min_clearance_m": round(float(clear.min()), 1) if len(vox) else None,
        "mean_clearance_m": round(float(clear.mean()), 1) if len(vox) else None,
        "floor_min_m": floor_min_m,
        "ceiling_max_m": ceiling_max_m,
        "voxels": len(vox),
        "lane_a_voxels": len(corridor.lane_a),
        "lane_b_voxels": len(corridor.lane_b),
        "cells": int(corridor.occupied.sum()),
        "centreline_cells": len(corridor.centreline),
        "compressed_cells": int(corridor.compressed_cells),
        "crossings": int(crossings),
    }
    out.update(_geofence_fields(grid, corridor, geofences, floor_min_m, ceiling_max_m, skirt_m))
    return out


def _geofence_fields(
    grid: Grid,
    corridor: Corridor,
    geofences: Sequence[Geofence] | None,
    floor_min_m: float | None,
    ceiling_max_m: float | None,
    skirt_m: float,
) -> dict:
    """The report's geofence fields: whether judged, and the ids crossed and skirted.

    ``floor_min_m`` and ``ceiling_max_m`` are the corridor's vertical extent (None when
    it has no voxels).
    """
    if geofences is None:
        return {"geofences_evaluated": False, "geofences_crossed": "", "geofences_skirted": ""}
    fences = list(geofences)
    tree = shapely.STRtree([g.footprint for g in fences])
    crossed: list[str] = []
    skirted: list[str] = []
    if fences and floor_min_m is not None and ceiling_max_m is not None:  # voxels exist
        crossed, skirted = _geofence_verdicts(
            cells_polygon(grid, corridor.cells[corridor.occupied]),
            floor_min_m,
            ceiling_max_m,
            fences,
            tree,
            grid,
            skirt_m,
        )
    return {
        "geofences_evaluated": True,
        "geofences_crossed": ",".join(crossed),
        "geofences_skirted": ",".join(skirted),
    }


def network_report(
    net: CorridorNetwork,
    *,
    geofences: Sequence[Geofence] | None = None,
    skirt_m: float = DEFAULT_SKIRT_M,
) -> dict:
    """Planner figures of a network: ``{"network": {...}, "corridors": [...]}``.

    Parameters
    ----------
    net
        The network.
    geofences
        Geofences to judge (None: not evaluated).
    skirt_m
        Horizontal distance within which a geofence is *skirted*.
    """
    per = dict.fromkeys(range(len(net.corridors)), 0)
    for i, j, n in net.crossings:
        per[i] += n
        per[j] += n
    fences = list(geofences) if geofences is not None else None
    rows = [
        corridor_report(net.grid, c, geofences=fences, crossings=per[i], skirt_m=skirt_m)
        for i, c in enumerate(net.corridors)
    ]
    total_vox = sum(r["voxels"] for r in rows)
    distinct = len(net.voxels)
    det = [r["detour_ratio"] for r in rows if r["detour_ratio"] is not None]
    summary = {
        "tier": net.grid.tiers[net.corridors[0].tier].name
        if net.corridors
        else str(net.params.tier),
        "nodes": len(net.nodes),
        "unreachable_nodes": len(net.unreachable),
        "pieces": len(net.pieces),
        "largest_piece_nodes": len(net.pieces[0]),
        "connected": net.is_connected(),
        "corridors": len(net.corridors),
        "candidates": len(net.candidates),
        "candidates_priced": sum(1 for c in net.candidates if math.isfinite(c.cost)),
        "mst_links": sum(1 for c in net.candidates if c.selected == "mst"),
        "redundant_links": sum(1 for c in net.candidates if c.selected == "redundant"),
        "detour_ratio_param": net.params.detour_ratio,
        "width_rings": net.params.width,
        "band_layers": net.params.band_layers,
        "bands_available": net.n_bands,
        "bands_used": len({c.band for c in net.corridors}),
        "length_m": round(sum(r["length_m"] for r in rows), 1),
        "detour_ratio_mean": round(float(np.mean(det)), 4) if det else None,
        "detour_ratio_max": round(float(np.max(det)), 4) if det else None,
        "min_clearance_m": min(
            (r["min_clearance_m"] for r in rows if r["min_clearance_m"] is not None), default=None
        ),
        "voxels": distinct,
        "voxels_shared": total_vox - distinct,
        "merged_cells": net.merged_cells,
        "crossings": sum(n for _, _, n in net.crossings),
        "crossing_pairs": len(net.crossings),
        "conflict_pairs": len(net.conflicts),
        "unseparated_pairs": len(net.unseparated),
        "geofences_evaluated": fences is not None,
        "geofences_crossed": sorted(
            {g for r in rows for g in r["geofences_crossed"].split(",") if g}
        ),
        "geofences_skirted": sorted(
            {g for r in rows for g in r["geofences_skirted"].split(",") if g}
        ),
        "timings_s": {k: round(v, 3) for k, v in net.timings.items()},
    }
    return {"network": summary, "corridors": rows}


def _coords(geom: shapely.Geometry) -> list:
    def ring(r: shapely.LinearRing) -> list:
        return [[round(x, 7), round(y, 7)] for x, y in np.asarray(r.coords)[:, :2].tolist()]

    if geom.geom_type == "Polygon":
        return [ring(geom.exterior)] + [ring(i) for i in geom.interiors]
    return [[ring(p.exterior)] + [ring(i) for i in p.interiors] for p in geom.geoms]


def network_geojson(net: CorridorNetwork, report: dict | None = None) -> dict:
    """RFC 7946 FeatureCollection of a network.

    Features: per corridor a ``LineString`` with Z (its centreline, lon/lat/alt m AMSL,
    ``feature = "centreline"``) and its footprint polygon (union of its H3 cells holding corridor voxels,
    ``feature = "corridor"``), both carrying the corridor's report; per node a ``Point``
    (``feature = "node"``). The network summary is the foreign member
    ``airgrid_network``.

    Parameters
    ----------
    net
        The network.
    report
        A :func:`network_report` (computed without geofences when omitted).
    """
    report = report or network_report(net)
    feats = []
    for c, row in zip(net.corridors, report["corridors"]):
        pts = centreline_points(net.grid, c)
        line = [[round(x, 7), round(y, 7), round(z, 1)] for x, y, z in pts.tolist()]
        if len(line) == 1:
            line.append(line[0])
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": dict(row, feature="centreline"),
            }
        )
        poly = cells_polygon(net.grid, c.cells[c.occupied])
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": poly.geom_type, "coordinates": _coords(poly)},
                "properties": dict(row, feature="corridor"),
            }
        )
    piece_of = {nid: k for k, ids in enumerate(net.pieces) for nid in ids}
    for nid, n in net.nodes.items():
        f = n.to_geojson()
        f["properties"].update(
            feature="node", piece=piece_of[nid], access_offset_m=round(net.access[nid].offset_m, 1)
        )
        feats.append(f)
    return {"type": "FeatureCollection", "features": feats, "airgrid_network": report["network"]}


__all__ = [
    "DEFAULT_SKIRT_M",
    "corridor_report",
    "network_geojson",
    "network_report",
    "path_length_m",
]
