"""Straight segments over the grid: the cells and voxels a segment between two points
passes through (exact against each cell's hexagon).
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache
from itertools import chain

import h3
import numpy as np
import shapely
from h3.api import basic_int as h3i

from airgrid.airspace.grid import Grid
from airgrid.geo.constants import EARTH_RADIUS_M
from airgrid.routing.graph import RouteGraph
from airgrid.routing.kernels.hulls import convex_hull_rows
from airgrid.routing.kernels.tables import CellGeo, SightScratch


# -- smoothing ------------------------------------------------------------------------------
def voxel_lonlat(graph: RouteGraph, voxels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (degrees) of the cell centres of ``voxels``, from the
    graph's cell unit vectors (no H3 call)."""
    xyz = graph.cell_xyz[graph.grid.voxel_cell[voxels]]
    lat = np.degrees(np.arctan2(xyz[:, 2], np.hypot(xyz[:, 0], xyz[:, 1])))
    return lat, np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0]))


def to_xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _segment_samples(
    p: np.ndarray, q: np.ndarray, step_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points at most ``step_m`` apart on the segment p -> q, linear in (lat, lon, alt), ends included."""
    m_per_deg = math.radians(EARTH_RADIUS_M)
    dlat = (q[0] - p[0]) * m_per_deg
    dlon = (q[1] - p[1]) * m_per_deg * math.cos(math.radians(0.5 * (p[0] + q[0])))
    n = math.ceil(math.hypot(dlat, dlon) / step_m) + 1
    s = np.linspace(0.0, 1.0, max(n, 2))
    return p[0] + (q[0] - p[0]) * s, p[1] + (q[1] - p[1]) * s, p[2] + (q[2] - p[2]) * s


def sampling_step_m(grid: Grid, t: int = 0) -> float:
    """Candidate-sampling step of tier ``t``: half its H3 average edge length."""
    return h3.average_hexagon_edge_length(grid.tiers[t].resolution, "m") / 2


#: Vertices kept per cell hull (an H3 boundary has at most 10).
_HULL_VERTS = 10
#: Cells are grown by this many degrees (~0.1 mm) in the line-of-sight clip, so a segment
#: that touches a cell's boundary counts as passing over it despite round-off.
TOUCH_DEG = 1e-9


@lru_cache(maxsize=1 << 16)
def _cell_hull(cell: int) -> np.ndarray:
    """:func:`_cell_hulls` of one cell, cached (read-only: shared by every caller)."""
    out = _cell_hulls(np.array([cell], np.int64))[0]
    out.flags.writeable = False
    return out


def _cell_hulls(cells: np.ndarray) -> np.ndarray:
    """Convex hulls of cells' boundaries (edges straight in (lon, lat)) as half-planes: per
    cell and edge, a vertex and the inward unit normal (float64[n, :data:`_HULL_VERTS`,
    4]: ``x, y, nx, ny``; unused rows have a zero normal, which constrains nothing).

    The hull equals the hexagon for ordinary cells and contains it where a boundary is
    not strictly convex (extra distortion vertices), so clipping by it never misses a
    cell a segment touches. Strictly convex boundaries (nearly all) are written by the
    Numba kernel :func:`~airgrid.routing.kernels.hulls.convex_hull_rows`; the others
    are replaced by shapely's convex hull of their vertices first.
    """
    bounds = [h3i.cell_to_boundary(c) for c in cells.tolist()]
    at = np.zeros(len(bounds) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, bounds), np.int64, len(bounds)), out=at[1:])
    flat = chain.from_iterable(chain.from_iterable(bounds))
    latlng = np.fromiter(flat, np.float64, 2 * int(at[-1])).reshape(-1, 2)
    out = np.zeros((len(bounds), _HULL_VERTS, 4))
    convex = convex_hull_rows(latlng, at, out)
    for i in np.flatnonzero(~convex).tolist():
        lonlat = latlng[at[i] : at[i + 1], ::-1]
        hull = shapely.get_coordinates(shapely.convex_hull(shapely.multipoints(lonlat)))[:-1]
        one = np.array([0, len(hull)], np.int64)
        convex_hull_rows(np.ascontiguousarray(hull[:, ::-1]), one, out[i : i + 1])
    return out


def _clip(
    p: np.ndarray, q: np.ndarray, cells: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which cells the segment p -> q ((lon, lat), straight in lon/lat) touches, and the
    parameter interval ``[t0, t1]`` of ``[0, 1]`` it spends over each.

    Cyrus-Beck clipping against each cell's convex hull (:func:`_cell_hull`) grown by
    :data:`TOUCH_DEG`: boundary contact counts, and round-off can only add cells or
    widen intervals.
    """
    h = (
        np.stack([_cell_hull(c) for c in cells.tolist()])
        if len(cells)
        else np.empty((0, _HULL_VERTS, 4))
    )
    x, y, nx, ny = h[..., 0], h[..., 1], h[..., 2], h[..., 3]
    num = nx * (p[0] - x) + ny * (p[1] - y) + TOUCH_DEG * ((nx != 0) | (ny != 0))
    den = nx * (q[0] - p[0]) + ny * (q[1] - p[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        t = -num / den
    t0 = np.where(den > 0, t, 0.0).max(axis=1, initial=0.0)
    t1 = np.where(den < 0, t, 1.0).min(axis=1, initial=1.0)
    hit = (t0 <= t1) & ~((den == 0) & (num < 0)).any(axis=1)
    return hit, t0, t1


def segment_cells(
    graph: RouteGraph, p: np.ndarray, q: np.ndarray, t: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Every tier-``t`` cell the segment p -> q passes over, exactly, with its parameter range.

    The segment is straight in (lon, lat) (as GeoJSON draws it) with altitude linear
    along it. Candidates are the cells of points sampled every half edge
    (:func:`sampling_step_m`) plus their H3 neighbours: a cell the segment enters lies
    within a quarter edge of a sample, and going from a cell to one that is not its
    neighbour takes at least an edge length (the gap between a hexagon's non-adjacent
    edges), so it is a sample's cell or one of its neighbours. Clipping the segment
    by each candidate's hexagon (:func:`_clip`) keeps those it really touches (boundary
    contact included, cells grown by 1e-9 degree against round-off) with the stretch
    spent over each.

    Returns
    -------
    (cell rows, t0, t1) or None
        Cell-table rows and the parameter interval ``[t0, t1]`` of ``[0, 1]`` spent over
        each; None when the segment touches a cell that is not in the grid.
    """
    grid = graph.grid
    res = grid.tiers[t].resolution
    lat, lon, _ = _segment_samples(p, q, sampling_step_m(grid, t))
    f = h3i.latlng_to_cell
    sc = np.unique(
        np.fromiter((f(a, b, res) for a, b in zip(lat.tolist(), lon.tolist())), np.int64, len(lat))
    )
    ci = grid.find_cells(sc, t)
    if (ci < 0).any():
        return None
    if p[0] == q[0] and p[1] == q[1]:
        return ci, np.zeros(len(ci)), np.ones(len(ci))
    a, b = np.array([p[1], p[0]]), np.array([q[1], q[0]])
    nb = graph.nbr[ci]
    rim = ci[(nb < 0).any(axis=1)]
    if len(rim):
        ring = {int(x) for r in rim.tolist() for x in h3i.grid_ring(int(grid.cell_id[r]), 1)}
        outside = np.array(sorted(ring), np.int64)
        outside = outside[grid.find_cells(outside, t) < 0]
        if len(outside) and _clip(a, b, outside)[0].any():
            return None
    cand = np.unique(np.concatenate([ci, nb[nb >= 0].astype(np.int64)]))
    hit, t0, t1 = _clip(a, b, grid.cell_id[cand])
    return cand[hit], t0[hit], t1[hit]


def segment_voxels(
    graph: RouteGraph, p: np.ndarray, q: np.ndarray, t: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Every tier-``t`` (cell, layer) the 3D segment p -> q passes through.

    Returns
    -------
    (voxels, cell rows, lowest altitude over each cell) or None
        Voxel indices (-1 where the layer is not in the column); per touched cell, its
        row and the segment's lowest altitude over it. None if the segment leaves the
        grid's cells.
    """
    grid = graph.grid
    got = segment_cells(graph, p, q, t)
    if got is None:
        return None
    rows, t0, t1 = got
    a0 = p[2] + (q[2] - p[2]) * t0
    a1 = p[2] + (q[2] - p[2]) * t1
    lo, hi = np.minimum(a0, a1), np.maximum(a0, a1)
    th = grid.tiers[t].thickness_m
    l0 = np.floor(lo / th).astype(np.int64)
    n = np.floor(hi / th).astype(np.int64) - l0 + 1
    rr = np.repeat(rows, n)
    lay = np.repeat(l0, n) + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    return grid.voxel_index(rr, lay), rows, lo


class CellHulls:
    """The convex hulls of a graph's cells (and, for cells at the grid's rim, of the
    cells around them outside the grid), filled on demand and shared by every thread
    routing on the graph (see :func:`hulls_for`).

    Rows are written whole before they are flagged filled, under a lock, so a walk in
    another thread sees either no hull or the whole one. The table is zeroed memory:
    only the pages of cells routes have come near are ever materialised.

    Parameters
    ----------
    graph
        The graph whose grid's cells are described.
    """

    def __init__(self, graph: RouteGraph) -> None:
        grid = graph.grid
        n = grid.n_cells
        self._grid = grid
        nbr = np.ascontiguousarray(graph.nbr, np.int32)
        rim = (nbr < 0).any(axis=1)
        rim_row = np.full(n, -1, np.int64)
        rim_row[rim] = np.arange(int(rim.sum()))
        self.geo = CellGeo(
            nbr,
            np.zeros((n, _HULL_VERTS, 4)),
            np.zeros(n, np.uint8),
            np.ascontiguousarray(grid.cell_first_layer, np.int32),
            np.ascontiguousarray(grid.cell_nlayers, np.int32),
            np.ascontiguousarray(grid.cell_start, np.int64),
            np.ascontiguousarray(grid.cell_g_hi, np.float32),
            rim_row,
            np.zeros((int(rim.sum()), 6, _HULL_VERTS, 4)),
            np.zeros(int(rim.sum()), np.int8),
        )
        self._lock = threading.Lock()

    def fill(self, rows: np.ndarray, rings: int = 1) -> None:
        """Make sure the hulls of cell ``rows`` and of the cells within ``rings`` neighbour
        steps of them are in the table."""
        rows = np.asarray(rows, np.int64)
        for k in range(rings):
            nb = self.geo.nbr[rows]
            rows = np.concatenate([rows, nb[nb >= 0].astype(np.int64)])
            if k < rings - 1:  # keep the next ring's gather small
                rows = np.unique(rows)
        todo = rows[self.geo.filled[rows] == 0]
        if not len(todo):
            return
        todo = np.unique(todo)
        geo, grid = self.geo, self._grid
        with self._lock:
            todo = todo[geo.filled[todo] == 0]
            geo.hull[todo] = _cell_hulls(grid.cell_id[todo])
            for r in todo[geo.rim_row[todo] >= 0].tolist():
                k = geo.rim_row[r]
                ring = np.array(h3i.grid_ring(int(grid.cell_id[r]), 1), np.int64)
                out = ring[grid.find_cells(ring, int(grid.cell_tier[r])) < 0].tolist()
                for j, o in enumerate(out):
                    geo.out_hull[k, j] = _cell_hull(o)
                geo.out_n[k] = len(out)
            geo.filled[todo] = 1


_HULLS_LOCK = threading.Lock()


def hulls_for(graph: RouteGraph) -> CellHulls:
    """The :class:`CellHulls` kept on a graph (created on first use, once across threads)."""
    if graph.hulls is None:
        with _HULLS_LOCK:
            if graph.hulls is None:
                graph.hulls = CellHulls(graph)
    return graph.hulls


def sight_scratch(graph: RouteGraph) -> SightScratch:
    """Fresh line-of-sight scratch for one thread (32 bytes per cell, zeroed memory)."""
    n = graph.grid.n_cells
    return SightScratch(
        np.zeros(n, np.int64),
        np.zeros(1, np.int64),
        np.zeros(n, np.int64),
        np.zeros(n, np.float64),
        np.zeros(n, np.float64),
    )
