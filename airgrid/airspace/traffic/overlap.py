"""Centroids of the overlap of two footprints, by a Numba kernel where one is convex.

Route tubes, circles and most drawn footprints are convex polygons, and clipping a
polygon by a convex one (Sutherland and Hodgman, 1974) gives their intersection at once:
the clipped ring may carry edges of zero width where the subject is concave, which add
nothing to its area or centroid. Pairs where neither footprint is a convex single ring,
or whose overlap has no area (they only touch), go to GEOS
(``shapely.intersection``); the result is ``shapely.centroid`` of the intersection in
every case, up to floating-point rounding.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import shapely

from airgrid.airspace.traffic.plane_distance import boundaries
from airgrid.geo.chunks import chunked


@nb.njit(cache=True, nogil=True)
def _signed_area(xy: np.ndarray, r0: int, r1: int) -> float:
    """Twice the signed area of the closed ring ``xy[r0:r1]`` (positive when
    counter-clockwise)."""
    s = 0.0
    x0, y0 = xy[r0, 0], xy[r0, 1]
    for v in range(r0, r1 - 1):
        s += (xy[v, 0] - x0) * (xy[v + 1, 1] - y0) - (xy[v + 1, 0] - x0) * (xy[v, 1] - y0)
    return s


@nb.njit(cache=True, nogil=True)
def _convex(xy: np.ndarray, r0: int, r1: int) -> bool:
    """Whether the closed ring ``xy[r0:r1]`` is convex (every turn the same way; straight
    runs allowed)."""
    n = r1 - r0 - 1
    if n < 3:
        return False
    sign = 0.0
    for m in range(n):
        a, b, c = r0 + m, r0 + (m + 1) % n, r0 + (m + 2) % n
        t = (xy[b, 0] - xy[a, 0]) * (xy[c, 1] - xy[b, 1]) - (xy[b, 1] - xy[a, 1]) * (
            xy[c, 0] - xy[b, 0]
        )
        if t != 0.0:
            if sign == 0.0:
                sign = t
            elif (t > 0.0) != (sign > 0.0):
                return False
    return sign != 0.0


@nb.njit(cache=True, nogil=True)
def _clip_centroid(
    xy: np.ndarray, s0: int, s1: int, c0: int, c1: int, buf: np.ndarray, tmp: np.ndarray
) -> tuple[float, float, float]:
    """Area and centroid of ring ``xy[s0:s1]`` clipped by the convex ring ``xy[c0:c1]``
    (both closed); ``buf`` and ``tmp`` are scratch space for the clipped ring."""
    ox, oy = xy[c0, 0], xy[c0, 1]  # origin shifted to the clipper, for precision
    n = s1 - s0 - 1
    for m in range(n):
        buf[m, 0], buf[m, 1] = xy[s0 + m, 0] - ox, xy[s0 + m, 1] - oy
    ccw = _signed_area(xy, c0, c1) > 0.0
    for e in range(c0, c1 - 1):
        ax, ay = xy[e, 0] - ox, xy[e, 1] - oy
        bx, by = xy[e + 1, 0] - ox, xy[e + 1, 1] - oy
        out = 0
        for m in range(n):
            pm = m - 1 if m else n - 1
            px, py = buf[pm, 0], buf[pm, 1]
            qx, qy = buf[m, 0], buf[m, 1]
            sp = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
            sq = (bx - ax) * (qy - ay) - (by - ay) * (qx - ax)
            if not ccw:
                sp, sq = -sp, -sq
            if sq >= 0.0:
                if sp < 0.0:
                    f = sp / (sp - sq)
                    tmp[out, 0], tmp[out, 1] = px + f * (qx - px), py + f * (qy - py)
                    out += 1
                tmp[out, 0], tmp[out, 1] = qx, qy
                out += 1
            elif sp >= 0.0:
                f = sp / (sp - sq)
                tmp[out, 0], tmp[out, 1] = px + f * (qx - px), py + f * (qy - py)
                out += 1
        n = out
        for m in range(n):
            buf[m, 0], buf[m, 1] = tmp[m, 0], tmp[m, 1]
        if n == 0:
            return 0.0, 0.0, 0.0
    area = cx = cy = 0.0
    for m in range(n):
        x0, y0 = buf[m, 0], buf[m, 1]
        x1, y1 = buf[(m + 1) % n, 0], buf[(m + 1) % n, 1]
        w = x0 * y1 - x1 * y0
        area += w
        cx += (x0 + x1) * w
        cy += (y0 + y1) * w
    if area == 0.0:
        return 0.0, 0.0, 0.0
    return abs(area) / 2, ox + cx / (3 * area), oy + cy / (3 * area)


@nb.njit(cache=True, nogil=True)
def _overlap_centroids(
    xy: np.ndarray, ring_at: np.ndarray, geom_at: np.ndarray, n_pairs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Centroid of the overlap of footprints ``p`` and ``n_pairs + p`` (see
    :class:`~airgrid.airspace.traffic.plane_distance.Rings`) where one is a convex
    single ring and the overlap has area; NaN elsewhere."""
    out = np.full((n_pairs, 2), np.nan)
    longest = 0
    for q in range(len(ring_at) - 1):
        longest = max(longest, ring_at[q + 1] - ring_at[q])
    # a ring of n vertices clipped by convex regions of k edges keeps at most n vertices,
    # gains at most 2n crossings (a segment crosses a convex boundary twice at most) and k
    # corners of the clipper
    buf = np.empty((4 * longest + 4, 2))
    tmp = np.empty((4 * longest + 4, 2))
    for p in range(n_pairs):
        ga, gb = p, n_pairs + p
        if geom_at[ga + 1] - geom_at[ga] != 1 or geom_at[gb + 1] - geom_at[gb] != 1:
            continue
        ra, rb = geom_at[ga], geom_at[gb]
        a0, a1, b0, b1 = ring_at[ra], ring_at[ra + 1], ring_at[rb], ring_at[rb + 1]
        if _convex(xy, b0, b1):
            area, x, y = _clip_centroid(xy, a0, a1, b0, b1, buf, tmp)
        elif _convex(xy, a0, a1):
            area, x, y = _clip_centroid(xy, b0, b1, a0, a1, buf, tmp)
        else:
            continue
        if area > 0.0:
            out[p, 0], out[p, 1] = x, y
    return out[:, 0], out[:, 1]


def overlap_centroids(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Centroid (x, y) of the intersection of each pair ``a[n]``, ``b[n]`` of polygons:
    ``shapely.centroid(shapely.intersection(a, b))`` up to rounding, NaN where they do
    not meet; computed by the clipping kernel where one of the two is a convex single
    ring and their overlap has area, by GEOS otherwise."""
    if not len(a):
        return np.empty((0, 2))
    x, y = _overlap_centroids(*boundaries(np.concatenate([a, b])), len(a))
    out = np.column_stack([x, y])
    rest = np.isnan(x)
    if rest.any():
        c = chunked(lambda p, q: shapely.centroid(shapely.intersection(p, q)), a[rest], b[rest])
        met = ~shapely.is_empty(c)
        at = np.flatnonzero(rest)
        out[at[met]] = shapely.get_coordinates(c[met])
    return out


__all__ = ["overlap_centroids"]
