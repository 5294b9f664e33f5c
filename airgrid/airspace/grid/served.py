"""A grid's served area: the polygon every intent must lie in, and the voxels routes
keep off so that an intent around a route lies in it too.

The grid holds every H3 cell that overlaps its area, so the cells along the edge reach
past it. A route through such a cell would give an intent that the API's area rule
refuses; :func:`border_voxels` marks the voxels of every cell that is not wholly inside
the area shrunk by :data:`ROUTE_AREA_MARGIN_M`, and the API's routes and the traffic
day leave them out of the search.
"""

from __future__ import annotations

import threading
import weakref

import h3
import numpy as np
import shapely

from airgrid.airspace.grid.voxels import Grid
from airgrid.geo.plane import local_metric

#: How far inside the served area (m) every cell a route uses lies: twice the half-width
#: of a route intent's default tube (50 m), so an intent with that tube around the
#: route's line stays inside the area.
ROUTE_AREA_MARGIN_M = 100.0
#: Relative growth of the margin in the local plane, whose scale grows from 1 at its
#: centre as about 1 + (s / 2R)^2: under 0.2 % within 400 km (all of Hunan lies within
#: 330 km of its centroid), so the margin on the ground is never less than
#: :data:`ROUTE_AREA_MARGIN_M`.
_PLANE_GROWTH = 0.01

_AREAS: weakref.WeakKeyDictionary[Grid, shapely.Geometry] = weakref.WeakKeyDictionary()
_BORDERS: weakref.WeakKeyDictionary[Grid, np.ndarray] = weakref.WeakKeyDictionary()
_BORDERS_LOCK = threading.Lock()


def served_area(grid: Grid) -> shapely.Geometry:
    """The grid's area (``area_wkt`` of its meta) as a prepared polygon, parsed once per grid."""
    area = _AREAS.get(grid)
    if area is None:
        area = _AREAS[grid] = shapely.from_wkt(grid.meta["area_wkt"])
        shapely.prepare(area)
    return area


def border_voxels(grid: Grid) -> np.ndarray:
    """Per voxel, whether its cell is not wholly inside the served area shrunk by
    :data:`ROUTE_AREA_MARGIN_M` (computed once per grid).

    Conservative: the shrink is made in a local conformal plane centred on the area,
    with the margin grown by 1 % for the plane's scale; a cell whose centre lies deeper
    inside than twice its resolution's mean edge length (more than any H3 cell's
    circumradius) is inside, every other cell is tested with its exact hexagon.
    """
    mask = _BORDERS.get(grid)
    if mask is not None:
        return mask
    with _BORDERS_LOCK:  # one computation, however many requests ask at once
        mask = _BORDERS.get(grid)
        if mask is None:
            mask = _BORDERS[grid] = _border_voxels(grid)
    return mask


def _border_voxels(grid: Grid) -> np.ndarray:
    """:func:`border_voxels`, computed."""
    area = served_area(grid)
    c = area.centroid
    fwd, _ = local_metric(c.x, c.y)

    def plane(g: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(g, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))

    inner = plane(area).buffer(-ROUTE_AREA_MARGIN_M * (1 + _PLANE_GROWTH))
    shapely.prepare(inner)
    border_cell = np.ones(len(grid.cell_id), bool)
    for t, tier in enumerate(grid.tiers):
        sl = grid.tier_slice(t)
        rows = np.arange(sl.start, sl.stop)[grid.cell_nlayers[sl] > 0]
        if not len(rows):
            continue
        ids = [h3.int_to_str(int(i)) for i in grid.cell_id[rows]]
        ll = np.array([h3.cell_to_latlng(i) for i in ids], np.float64).reshape(-1, 2)
        x, y = fwd.transform(ll[:, 1], ll[:, 0])
        deep = inner.buffer(-2 * h3.average_hexagon_edge_length(tier.resolution, "m"))
        inside = shapely.contains_xy(deep, x, y)
        near = np.flatnonzero(~inside)
        if len(near):
            rings = [h3.cell_to_boundary(ids[k]) for k in near]
            corners = np.array([p for r in rings for p in r], np.float64)
            hx, hy = fwd.transform(corners[:, 1], corners[:, 0])
            owner = np.repeat(np.arange(len(near)), [len(r) for r in rings])
            hexagons = shapely.polygons(
                shapely.linearrings(np.column_stack([hx, hy]), indices=owner)
            )
            inside[near] = shapely.covered_by(hexagons, inner)
        border_cell[rows] = ~inside
    # voxels are stored cell row after cell row, cell_nlayers of each
    return np.repeat(border_cell, grid.cell_nlayers.astype(np.int64))


__all__ = ["ROUTE_AREA_MARGIN_M", "border_voxels", "served_area"]
