"""Distances between footprints in the exact test's local planes, computed by a Numba
kernel over vertex arrays.

A footprint (Polygon or MultiPolygon, lon/lat) is taken apart once into its rings'
vertices (:func:`boundaries`); the rings are densified to
:data:`~airgrid.airspace.traffic.planes.DENSIFY_DEG` exactly as ``shapely.segmentize``
does (each edge cut into equal pieces, as few as keep them that short), the vertices
are projected into the local stereographic plane (:mod:`airgrid.geo.stereographic`,
PROJ's own arithmetic, in the same kernel), and each pair's distance comes from
:func:`_pair_distances`: 0 where the two regions meet,
else the shortest distance between their boundaries. That is GEOS's polygon distance
(``shapely.distance``) of the projected, densified footprints, which the tests use as
the reference, without building a geometry per footprint and plane.

The same kernel measures in lon/lat itself (:func:`lonlat_distances`, the exact test's
first pass) and gives the middle of a shortest line between footprints apart
(:func:`closest_midpoints`, where a conflict is reported).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numba as nb
import numpy as np
import shapely

from airgrid.airspace.traffic.planes import DENSIFY_DEG, PLANE_QUANTUM_DEG
from airgrid.geo.stereographic import sterea_params, sterea_point

_POLYGON = int(shapely.GeometryType.POLYGON)


class Rings(NamedTuple):
    """Footprints as vertex arrays (see :func:`boundaries`)."""

    xy: np.ndarray  # float64 (n, 2): the rings' vertices, ring after ring, each closed
    ring_at: np.ndarray  # int64: ring q's vertices are xy[ring_at[q]:ring_at[q + 1]]
    geom_at: np.ndarray  # int64: footprint g's rings are geom_at[g] to geom_at[g + 1] - 1


def boundaries(geoms: np.ndarray) -> Rings:
    """The rings of each footprint of ``geoms`` (Polygons or MultiPolygons, lon/lat)."""
    n = len(geoms)
    if (shapely.get_type_id(geoms) == _POLYGON).all() and not shapely.get_num_interior_rings(
        geoms
    ).any():  # one ring each: the vertices alone tell the rings apart
        xy, owner = shapely.get_coordinates(geoms, return_index=True)
        ring_at = np.searchsorted(owner, np.arange(n + 1))
        return Rings(xy, ring_at, np.arange(n + 1))
    kind, xy, offsets = shapely.to_ragged_array(geoms)
    if kind == shapely.GeometryType.POLYGON:
        ring_at, geom_at = offsets
    else:  # MultiPolygon (Polygons among them count as one part)
        ring_at, part_at, geom_parts = offsets
        geom_at = part_at[geom_parts]
    return Rings(xy, ring_at.astype(np.int64), geom_at.astype(np.int64))


@nb.njit(cache=True, nogil=True, inline="always")
def _pieces(x0: float, y0: float, x1: float, y1: float, step: float) -> int:
    """Equal pieces an edge is cut into: as few as keep each at most ``step`` long."""
    return max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))


@nb.njit(cache=True, nogil=True)
def _densify(xy: np.ndarray, ring_at: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Rings ``xy`` / ``ring_at`` (see :func:`boundaries`) with each edge longer than
    ``step`` cut into ``ceil(length / step)`` equal pieces, as ``shapely.segmentize``
    cuts them."""
    n_ring = len(ring_at) - 1
    count = 0
    for q in range(n_ring):
        count += 1
        for v in range(ring_at[q], ring_at[q + 1] - 1):
            count += _pieces(xy[v, 0], xy[v, 1], xy[v + 1, 0], xy[v + 1, 1], step)
    out = np.empty((count, 2))
    out_at = np.empty(n_ring + 1, np.int64)
    c = 0
    for q in range(n_ring):
        out_at[q] = c
        for v in range(ring_at[q], ring_at[q + 1] - 1):
            x0, y0, x1, y1 = xy[v, 0], xy[v, 1], xy[v + 1, 0], xy[v + 1, 1]
            pieces = _pieces(x0, y0, x1, y1, step)
            for s in range(pieces):
                f = s / pieces
                out[c, 0] = x0 + f * (x1 - x0)
                out[c, 1] = y0 + f * (y1 - y0)
                c += 1
        last = ring_at[q + 1] - 1
        out[c, 0] = xy[last, 0]
        out[c, 1] = xy[last, 1]
        c += 1
    out_at[n_ring] = c
    return out, out_at


@nb.njit(cache=True, nogil=True, inline="always")
def _foot(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> tuple[float, float]:
    """The point of segment ``ab`` nearest to point ``p``."""
    dx, dy = bx - ax, by - ay
    den = dx * dx + dy * dy
    t = 0.0
    if den > 0.0:
        t = min(1.0, max(0.0, ((px - ax) * dx + (py - ay) * dy) / den))
    return ax + t * dx, ay + t * dy


@nb.njit(cache=True, nogil=True, inline="always")
def _point_segment2(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    """Squared distance from point ``p`` to segment ``ab``."""
    fx, fy = _foot(px, py, ax, ay, bx, by)
    return (px - fx) * (px - fx) + (py - fy) * (py - fy)


@nb.njit(cache=True, nogil=True, inline="always")
def _orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


@nb.njit(cache=True, nogil=True, inline="always")
def _segment_distance2(
    ax: float, ay: float, bx: float, by: float, cx: float, cy: float, dx: float, dy: float
) -> float:
    """Squared distance between segments ``ab`` and ``cd``: 0 where they cross."""
    d1 = _orient(cx, cy, dx, dy, ax, ay)
    d2 = _orient(cx, cy, dx, dy, bx, by)
    d3 = _orient(ax, ay, bx, by, cx, cy)
    d4 = _orient(ax, ay, bx, by, dx, dy)
    if ((d1 > 0 and d2 < 0) or (d1 < 0 and d2 > 0)) and (
        (d3 > 0 and d4 < 0) or (d3 < 0 and d4 > 0)
    ):
        return 0.0
    return min(
        _point_segment2(ax, ay, cx, cy, dx, dy),
        _point_segment2(bx, by, cx, cy, dx, dy),
        _point_segment2(cx, cy, ax, ay, bx, by),
        _point_segment2(dx, dy, ax, ay, bx, by),
    )


@nb.njit(cache=True, nogil=True)
def _inside(px: float, py: float, xy: np.ndarray, ring_at: np.ndarray, r0: int, r1: int) -> bool:
    """Whether point ``p`` lies inside the region bounded by rings ``r0`` to ``r1 - 1``
    (even-odd rule over all of them: a polygon's holes and a multipolygon's parts)."""
    inside = False
    for q in range(r0, r1):
        for v in range(ring_at[q], ring_at[q + 1] - 1):
            ax, ay, bx, by = xy[v, 0], xy[v, 1], xy[v + 1, 0], xy[v + 1, 1]
            if (ay > py) != (by > py) and px < ax + (bx - ax) * (py - ay) / (by - ay):
                inside = not inside
    return inside


@nb.njit(cache=True, nogil=True)
def _ring_inside(
    xy: np.ndarray, ring_at: np.ndarray, geom_at: np.ndarray, ga: int, gb: int
) -> bool:
    """Whether a ring of footprint ``ga`` has its first vertex inside footprint ``gb``.

    With no edges of the two crossing or touching, each ring lies wholly inside the
    other's region or wholly outside it, and the regions meet iff some ring (an outer
    ring of a part nested in the other's region) lies inside.
    """
    for q in range(geom_at[ga], geom_at[ga + 1]):
        v = ring_at[q]
        if _inside(xy[v, 0], xy[v, 1], xy, ring_at, geom_at[gb], geom_at[gb + 1]):
            return True
    return False


@nb.njit(cache=True, nogil=True)
def _closest(
    ax: float, ay: float, bx: float, by: float, cx: float, cy: float, dx: float, dy: float
) -> tuple[float, float]:
    """Middle of the shortest line between segments ``ab`` and ``cd`` that do not meet
    (from an endpoint of one to the other)."""
    best, mx, my = np.inf, 0.0, 0.0
    for m in range(4):
        px, py = (ax, ay) if m == 0 else (bx, by) if m == 1 else (cx, cy) if m == 2 else (dx, dy)
        sx, sy, ex, ey = (cx, cy, dx, dy) if m < 2 else (ax, ay, bx, by)
        fx, fy = _foot(px, py, sx, sy, ex, ey)
        d = (px - fx) * (px - fx) + (py - fy) * (py - fy)
        if d < best:
            best, mx, my = d, (px + fx) / 2, (py + fy) / 2
    return mx, my


@nb.njit(cache=True, nogil=True)
def _closest_segments(
    xy: np.ndarray, ring_at: np.ndarray, geom_at: np.ndarray, ga: int, gb: int, cap2: float
) -> tuple[float, int, int]:
    """The squared distance between the boundaries of footprints ``ga`` and ``gb`` and the
    first vertices of a pair of segments at that distance; ``(cap2, -1, -1)`` when no two
    segments are nearer than ``sqrt(cap2)``. Returns at the first pair that crosses."""
    best, sa, sb = cap2, -1, -1
    for qa in range(geom_at[ga], geom_at[ga + 1]):
        for va in range(ring_at[qa], ring_at[qa + 1] - 1):
            ax, ay, bx, by = xy[va, 0], xy[va, 1], xy[va + 1, 0], xy[va + 1, 1]
            w, e, s, north = min(ax, bx), max(ax, bx), min(ay, by), max(ay, by)
            for qb in range(geom_at[gb], geom_at[gb + 1]):
                for vb in range(ring_at[qb], ring_at[qb + 1] - 1):
                    cx, cy, dx, dy = xy[vb, 0], xy[vb, 1], xy[vb + 1, 0], xy[vb + 1, 1]
                    # the segments' boxes' gap bounds their distance from below
                    gx = max(0.0, min(cx, dx) - e, w - max(cx, dx))
                    gy = max(0.0, min(cy, dy) - north, s - max(cy, dy))
                    if gx * gx + gy * gy < best:
                        d = _segment_distance2(ax, ay, bx, by, cx, cy, dx, dy)
                        if d < best:
                            best, sa, sb = d, va, vb
                            if d == 0.0:
                                return best, sa, sb
    return best, sa, sb


@nb.njit(cache=True, nogil=True)
def _pair_distances(
    xy: np.ndarray,
    ring_at: np.ndarray,
    geom_at: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    cap: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance between footprints ``a[n]`` and ``b[n]`` of the rings ``xy`` / ``ring_at``
    / ``geom_at`` (see :class:`Rings`): 0 where their regions meet (an edge of one crosses
    or touches an edge of the other, or one holds a vertex of the other), else the
    shortest distance between their boundaries, or ``inf`` where that is more than
    ``cap[n]``; and the middle of a shortest line between them where they are apart
    (NaN elsewhere)."""
    out = np.empty(len(a))
    mid = np.full((len(a), 2), np.nan)
    for n in range(len(a)):
        ga, gb = a[n], b[n]
        best, sa, sb = _closest_segments(xy, ring_at, geom_at, ga, gb, cap[n] * cap[n])
        if best > 0.0 and (
            _ring_inside(xy, ring_at, geom_at, ga, gb) or _ring_inside(xy, ring_at, geom_at, gb, ga)
        ):
            out[n] = 0.0
        elif sa < 0:
            out[n] = np.inf
        else:
            out[n] = math.sqrt(best)
            if best > 0.0:
                mid[n, 0], mid[n, 1] = _closest(
                    xy[sa, 0],
                    xy[sa, 1],
                    xy[sa + 1, 0],
                    xy[sa + 1, 1],
                    xy[sb, 0],
                    xy[sb, 1],
                    xy[sb + 1, 0],
                    xy[sb + 1, 1],
                )
    return out, mid


@nb.njit(cache=True, nogil=True)
def _gather(
    xy: np.ndarray, ring_at: np.ndarray, geom_at: np.ndarray, which: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The footprints ``which`` of the rings ``xy`` / ``ring_at`` / ``geom_at``, in that
    order, as rings of their own."""
    n_vert = n_ring = 0
    for g in which:
        n_ring += geom_at[g + 1] - geom_at[g]
        n_vert += ring_at[geom_at[g + 1]] - ring_at[geom_at[g]]
    out = np.empty((n_vert, 2))
    out_ring = np.empty(n_ring + 1, np.int64)
    out_geom = np.empty(len(which) + 1, np.int64)
    v = q = 0
    for m, g in enumerate(which):
        out_geom[m] = q
        for r in range(geom_at[g], geom_at[g + 1]):
            out_ring[q] = v
            for u in range(ring_at[r], ring_at[r + 1]):
                out[v, 0], out[v, 1] = xy[u, 0], xy[u, 1]
                v += 1
            q += 1
    out_ring[n_ring] = v
    out_geom[len(which)] = q
    return out, out_ring, out_geom


def small_unique(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(x, return_inverse=True)`` of non-negative integers, by marking them in a
    table as long as the largest (they index footprints here, so the table is small):
    linear time instead of a sort."""
    x = np.asarray(x, np.int64)
    if not len(x):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    seen = np.zeros(int(x.max()) + 1, bool)
    seen[x] = True
    values = np.flatnonzero(seen)
    rank = np.cumsum(seen) - 1
    return values, rank[x]


def closest_midpoints(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Middle (lon, lat) of a shortest line between each pair ``a[n]``, ``b[n]`` of
    footprints that do not meet, in lon/lat scaled by the cosine of ``a``'s mean
    latitude (an equirectangular plane)."""
    if not len(a):
        return np.empty((0, 2))
    rings = boundaries(np.concatenate([a, b]))
    lo, hi = shapely.total_bounds(a)[[1, 3]]
    scale = np.array([math.cos(math.radians((lo + hi) / 2)), 1.0])
    n = np.arange(len(a), dtype=np.int64)
    _, mid = _pair_distances(
        rings.xy * scale, rings.ring_at, rings.geom_at, n, len(a) + n, np.full(len(a), np.inf)
    )
    return mid / scale


def lonlat_distances(rings: Rings, a: np.ndarray, b: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Distance in degrees (in lon/lat as a plane, as ``shapely.distance`` measures it)
    between footprints ``a[n]`` and ``b[n]`` of ``rings``: 0 where they meet, ``inf``
    where it is more than ``cap[n]``."""
    return _pair_distances(rings.xy, rings.ring_at, rings.geom_at, a, b, cap)[0]


@nb.njit(cache=True, nogil=True)
def _plane_distances(
    xy: np.ndarray,
    ring_at: np.ndarray,
    geom_at: np.ndarray,
    which: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    plane: np.ndarray,
    step: float,
) -> np.ndarray:
    """Distances (m) between footprints ``which[a[n]]`` and ``which[b[n]]`` of the rings
    ``xy`` / ``ring_at`` / ``geom_at`` (lon/lat), each densified to ``step`` degrees and
    projected into the stereographic plane with constants ``plane`` (see
    :func:`~airgrid.geo.stereographic.sterea_params`), in one pass."""
    sub, sub_ring, sub_geom = _gather(xy, ring_at, geom_at, which)
    dense, dense_at = _densify(sub, sub_ring, step)
    for v in range(dense.shape[0]):
        dense[v, 0], dense[v, 1] = sterea_point(plane, dense[v, 0], dense[v, 1])
    return _pair_distances(dense, dense_at, sub_geom, a, b, np.full(len(a), np.inf))[0]


@lru_cache(maxsize=256)
def _plane_constants(qx: int, qy: int) -> np.ndarray:
    """Constants of the plane :func:`~airgrid.airspace.traffic.planes.plane_for` gives
    for centres that round to (``qx``, ``qy``) multiples of ``PLANE_QUANTUM_DEG``: the
    same centre, to the 1e-8 degree PROJ is given it with."""
    lon = round(round(qx * PLANE_QUANTUM_DEG, 6), 8)
    lat = round(round(qy * PLANE_QUANTUM_DEG, 6), 8)
    out = sterea_params(lon, lat)
    out.flags.writeable = False
    return out


def plane_distances_of(
    rings: Rings, centres: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Distance (m) between footprints ``a[n]`` and ``b[n]`` of ``rings`` (lon/lat) in the
    local stereographic plane of ``centres[a[n]]`` (lon, lat; rounded to
    ``PLANE_QUANTUM_DEG``), both densified to ``DENSIFY_DEG`` in lon/lat first; each
    footprint's vertices are projected once per plane, by the Numba projection of
    :mod:`airgrid.geo.stereographic` (PROJ's arithmetic).

    Equal, up to floating-point rounding, to ``shapely.distance`` of the two footprints
    after :func:`~airgrid.airspace.traffic.planes.to_plane` into that plane.
    """
    d = np.empty(len(a))
    if not len(a):
        return d
    q = np.round(centres[a] / PLANE_QUANTUM_DEG).astype(np.int64)
    plane_keys, plane_of = np.unique(q[:, 0] * 4096 + q[:, 1], return_inverse=True)
    for g, key in enumerate(plane_keys.tolist()):
        qx, qy = (key + 2048) // 4096, (key + 2048) % 4096 - 2048
        members = np.flatnonzero(plane_of == g)
        which, at = small_unique(np.concatenate([a[members], b[members]]))
        m = len(members)
        d[members] = _plane_distances(
            rings.xy,
            rings.ring_at,
            rings.geom_at,
            which,
            at[:m],
            at[m:],
            _plane_constants(qx, qy),
            DENSIFY_DEG,
        )
    return d


__all__ = [
    "Rings",
    "boundaries",
    "closest_midpoints",
    "lonlat_distances",
    "plane_distances_of",
    "small_unique",
]
