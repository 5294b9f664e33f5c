"""A grid's served area: the polygon every intent must lie in, and the voxels routes
keep off so that an intent around a route lies in it too.

The grid holds every H3 cell that overlaps its area, so the cells along the edge reach
past it. A route through such a cell would give an intent that the API's area rule
refuses; :func:`border_voxels` marks the voxels of every cell that is not wholly inside
the area shrunk by :data:`ROUTE_AREA_MARGIN_M`, and the API's routes and the traffic
day leave them out of the search.

:func:`covered_by_area` is the API's test of that rule: most footprints are answered
from a raster of tiles wholly inside the area, the rest with the exact test.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

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
#: Tiles per side of the raster over the area's bounds (see :func:`covered_by_area`).
_TILES = 128
#: Growth (degrees, about 0.1 mm) of a footprint's bounds before they are matched to
#: tiles: far more than the rounding of that match, so no tile it reaches is missed.
_BOUNDS_EPS_DEG = 1e-9
_AREA_TILES: weakref.WeakKeyDictionary[Grid, _AreaTiles] = weakref.WeakKeyDictionary()
_AREA_TILES_LOCK = threading.Lock()


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


@dataclass(frozen=True)
class _AreaTiles:
    """A square raster of ``n`` by ``n`` tiles over the served area's bounds: tile
    ``(iy, ix)`` spans ``x0 + ix * d .. x0 + (ix + 1) * d`` and likewise in latitude;
    ``outside_sat`` is the summed-area table (``int64[n + 1, n + 1]``) of the tiles not
    wholly inside."""

    x0: float
    y0: float
    d: float
    outside_sat: np.ndarray

    @property
    def n(self) -> int:
        """Tiles per side."""
        return len(self.outside_sat) - 1


def covered_by_area(grid: Grid, footprints: list[shapely.Geometry] | np.ndarray) -> np.ndarray:
    """Per footprint, whether it lies in the grid's served area (``shapely.covered_by``).

    The answer is exactly the exact test's. A footprint whose bounds, grown by
    :data:`_BOUNDS_EPS_DEG`, fall in tiles that are each wholly inside the area is inside
    (the tiles' union holds the bounds); every other footprint is tested exactly. The
    tiles are computed once per grid (also when ``footprints`` is empty, which warms
    them).

    Returns
    -------
    numpy.ndarray
        bool[n].
    """
    t = _area_tiles(grid)
    fps = np.asarray(footprints, dtype=object).reshape(-1)
    if not len(fps):
        return np.zeros(0, bool)
    b = shapely.bounds(fps)
    with np.errstate(invalid="ignore"):
        lo_x = np.floor((b[:, 0] - _BOUNDS_EPS_DEG - t.x0) / t.d)
        lo_y = np.floor((b[:, 1] - _BOUNDS_EPS_DEG - t.y0) / t.d)
        hi_x = np.floor((b[:, 2] + _BOUNDS_EPS_DEG - t.x0) / t.d)
        hi_y = np.floor((b[:, 3] + _BOUNDS_EPS_DEG - t.y0) / t.d)
        on = (lo_x >= 0) & (lo_y >= 0) & (hi_x < t.n) & (hi_y < t.n)  # false for NaN
    # rows r0 .. r1 - 1 and columns c0 .. c1 - 1 of the raster
    c0, r0 = (np.where(on, v, 0).astype(np.int64) for v in (lo_x, lo_y))
    c1, r1 = (np.where(on, v, 0).astype(np.int64) + 1 for v in (hi_x, hi_y))
    sat = t.outside_sat
    outside = sat[r1, c1] - sat[r0, c1] - sat[r1, c0] + sat[r0, c0]
    out = on & (outside == 0)
    rest = np.flatnonzero(~out)
    if len(rest):
        out[rest] = shapely.covered_by(fps[rest], served_area(grid))
    return out


def _area_tiles(grid: Grid) -> _AreaTiles:
    """The :class:`_AreaTiles` of a grid (computed once, however many requests ask)."""
    tiles = _AREA_TILES.get(grid)
    if tiles is not None:
        return tiles
    with _AREA_TILES_LOCK:
        tiles = _AREA_TILES.get(grid)
        if tiles is None:
            area = served_area(grid)
            w, s, e, n = area.bounds
            d = max(e - w, n - s, 1e-6) / _TILES
            k = np.arange(_TILES, dtype=np.float64)
            xs, ys = np.meshgrid(w + k * d, s + k * d)  # [iy, ix]
            boxes = shapely.box(xs, ys, w + (k + 1) * d, (s + (k + 1) * d)[:, None])
            inside = shapely.covered_by(boxes, area)
            sat = np.zeros((_TILES + 1, _TILES + 1), np.int64)
            sat[1:, 1:] = (~inside).cumsum(axis=0).cumsum(axis=1)
            tiles = _AREA_TILES[grid] = _AreaTiles(w, s, d, sat)
    return tiles


__all__ = ["ROUTE_AREA_MARGIN_M", "border_voxels", "covered_by_area", "served_area"]
