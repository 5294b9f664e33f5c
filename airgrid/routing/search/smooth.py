"""Path smoothing: string-pulling a voxel path into few waypoints joined by clear
straight segments.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from airgrid.routing.graph import RouteGraph
from airgrid.routing.kernels import sightline as ks
from airgrid.routing.kernels.tables import SightScratch
from airgrid.routing.search.sightline import (
    TOUCH_DEG,
    hulls_for,
    sight_scratch,
    voxel_lonlat,
)


def smooth(
    graph: RouteGraph,
    path: np.ndarray,
    blocked: np.ndarray,
    origin: tuple | None = None,
    dest: tuple | None = None,
    scratch: SightScratch | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Any-angle pruning of a voxel path into waypoints.

    Parameters
    ----------
    graph
        The graph the path was found on.
    path
        Voxel path (consecutive voxels joined by graph edges).
    blocked
        The request's mask (uint8 or empty).
    origin, dest
        Exact end points (lat, lon, alt) before the first / after the last voxel centre.
    scratch
        The calling thread's line-of-sight scratch (:func:`~airgrid.routing.search.sightline.sight_scratch`;
        default: a new one).

    Returns
    -------
    points : float64[k, 3]
        Waypoints (lat, lon, alt m AMSL).
    voxels : int64[k]
        Path voxel of each waypoint.

    Notes
    -----
    Greedy string pulling in the manner of Theta*/post-smoothing (Botea, Müller &
    Schaeffer 2004; Daniel, Nash, Koenig & Felner 2010): from the current anchor,
    the farthest later path point in line of sight becomes the next waypoint, found
    by galloping then bisection over the path index (:func:`string_pull`; run in
    Numba by :func:`airgrid.routing.kernels.sightline.string_pull`). Line of sight is
    exact, not sampled: both ends are in the same tier and every voxel of that tier the
    3D segment passes through (every cell its footprint touches, boundary contact
    included, times every layer its altitude spans over that cell; walked cell to cell
    by :func:`airgrid.routing.kernels.sightline.walk`, the same set as
    :func:`~airgrid.routing.search.sightline.segment_voxels`) exists, is usable and may be
    entered by the request. A segment between consecutive path
    points is always accepted: it joins two voxels by a graph edge (or an exact end
    point to its own voxel's centre), so smoothing never fails. Within one tier such a
    segment stays inside its two voxels; a tier transition's segment may cross the
    lattice gap between the two tiers' bands.
    """
    path = np.asarray(path, np.int64)
    lat, lon = voxel_lonlat(graph, path)
    pts = np.column_stack([lat, lon, graph.zc[path].astype(np.float64)])
    if origin is not None:  # the exact point, then its voxel's centre (a segment inside one voxel)
        pts = np.vstack([np.asarray(origin, np.float64)[None, :], pts])
        path = np.concatenate([path[:1], path])
    if dest is not None:
        pts = np.vstack([pts, np.asarray(dest, np.float64)[None, :]])
        path = np.concatenate([path, path[-1:]])
    idx = pull_points(graph, pts, path, blocked, scratch)
    return pts[idx], path[idx]


def pull_points(
    graph: RouteGraph,
    pts: np.ndarray,
    voxels: np.ndarray,
    blocked: np.ndarray,
    scratch: SightScratch | None = None,
) -> np.ndarray:
    """Indices :func:`string_pull` keeps of the points ``pts`` (lat, lon, alt), each in
    its voxel of ``voxels``, with the line of sight of :func:`smooth`.

    Returns
    -------
    numpy.ndarray
        int64 indices, starting at 0 and ending at ``len(pts) - 1``.
    """
    grid = graph.grid
    voxels = np.asarray(voxels, np.int64)
    tiers = grid.tier[voxels].astype(np.int64)
    rows = grid.voxel_cell[voxels].astype(np.int64)
    hulls = hulls_for(graph)
    hulls.fill(rows)
    ws = scratch if scratch is not None else sight_scratch(graph)
    ths = np.array([t.thickness_m for t in grid.tiers], np.float64)
    keep = np.empty(len(pts), np.int64)
    while True:
        st, count = ks.string_pull(
            hulls.geo, graph.usable, blocked, pts, rows, tiers, ths, TOUCH_DEG, ws, keep
        )
        if st == ks.PULL_DONE:
            return keep[:count].copy()
        hulls.fill(np.array([-2 - st], np.int64), rings=3)  # a hull missing: fill around it


def legs_clearance(
    graph: RouteGraph, pts: np.ndarray, voxels: np.ndarray, scratch: SightScratch | None = None
) -> float:
    """Least certain true height along the legs ``pts[k] -> pts[k + 1]``: the lowest
    altitude over every cell each leg passes over minus that cell's highest plausible
    ground (legs between tiers and legs that leave the grid are not counted).

    Parameters
    ----------
    graph
        The graph of the route.
    pts
        Waypoints (lat, lon, alt), float64[k, 3].
    voxels
        The path voxel of each waypoint (the first point of a leg lies in its voxel's cell).
    scratch
        The calling thread's line-of-sight scratch (default: a new one).
    """
    grid = graph.grid
    voxels = np.asarray(voxels, np.int64)
    tiers = grid.tier[voxels].astype(np.int64)
    rows = grid.voxel_cell[voxels].astype(np.int64)
    hulls = hulls_for(graph)
    hulls.fill(rows)
    ws = scratch if scratch is not None else sight_scratch(graph)
    ths = np.array([t.thickness_m for t in grid.tiers], np.float64)
    low, start = math.inf, 0
    while True:
        st, k, m = ks.legs_clearance(
            hulls.geo, graph.usable, pts, rows, tiers, ths, start, TOUCH_DEG, ws
        )
        low = min(low, m)
        if st == ks.PULL_DONE:
            return low
        hulls.fill(np.array([-2 - st], np.int64), rings=3)  # a hull missing: fill around it
        start = k


def string_pull(n: int, visible: Callable[[int, int], bool]) -> np.ndarray:
    """Indices kept when pruning a polyline of ``n`` points by line of sight.

    From each kept point ``i`` the next kept point is a farthest ``j`` with
    ``visible(i, j)``, found by galloping (``i+2, i+4, ...``) and then bisecting
    between the last visible and the first blocked index. ``i -> i+1`` is always
    taken as visible, so the result is never empty and ends at ``n - 1``.

    Parameters
    ----------
    n
        Number of points.
    visible
        Whether the straight segment between two point indices is clear.

    Returns
    -------
    numpy.ndarray
        int64 indices, starting at 0 and ending at ``n - 1``.

    Notes
    -----
    Galloping plus bisection assumes visibility is roughly monotone along the path
    (true for paths that leave a region once); a non-monotone case only keeps more
    points, never an invisible segment, since every kept segment was tested.
    """
    keep = [0]
    i = 0
    while i < n - 1:
        best, k, fail = i + 1, 2, -1
        while best < n - 1:
            j = min(i + k, n - 1)
            if visible(i, j):
                best, k = j, k * 2
            else:
                fail = j
                break
        if fail > 0:
            lo, hi = best, fail
            while hi - lo > 1:
                m = (lo + hi) // 2
                lo, hi = (m, hi) if visible(i, m) else (lo, m)
            best = lo
        keep.append(best)
        i = best
    return np.array(keep, np.int64)
