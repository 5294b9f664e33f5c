"""Numba line of sight over the grid's cells: which cells and voxels a straight segment
passes through, walked cell to cell over the neighbour table, and greedy string pulling
of a voxel path with it.

Notes
-----
A segment runs straight in (lon, lat) with altitude linear along it. The cells it
touches (closed cells, boundary contact included) are found by a breadth-first walk:
from a cell it touches, every H3 neighbour is clipped against the segment (Cyrus-Beck
against the cell's convex hull grown by ``touch``, see :class:`~.tables.CellGeo`), and
those it touches are walked on. The touched cells cover the segment and each shares a
boundary point with the next along it; cells of one resolution that share a point are
H3 neighbours, so the walk reaches every touched cell. Where a touched cell has a
missing neighbour (the grid's rim) the segment is also clipped against the hulls of the
cells around it that are not in the grid: touching one, it leaves the grid
(:data:`SIGHT_OUTSIDE`). A cell outside the grid that the segment touches shares a
boundary point on the segment with a touched cell of the grid, so none is missed.

The hull table is filled lazily by the caller; a cell whose hull is not there yet stops
the walk with ``-2 - row`` so the caller can fill it and ask again.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Walk outcomes (``<= -2``: the hull of cell row ``-2 - code`` is missing).
SIGHT_BLOCKED, SIGHT_CLEAR, SIGHT_OUTSIDE = 0, 1, -1

#: Outcome of string pulling and of the legs' clearance when every hull was there.
PULL_DONE = 2


@njit(cache=True, nogil=True, inline="always")
def _clip(hull, r, ax, ay, dx, dy, touch):
    """Parameter interval ``[t0, t1]`` the segment ``a + t d`` spends over cell ``r``'s grown
    hull (``t0 > t1``: not touched)."""
    t0, t1 = 0.0, 1.0
    for k in range(hull.shape[1]):
        nx, ny = hull[r, k, 2], hull[r, k, 3]
        if nx == 0.0 and ny == 0.0:
            continue
        num = nx * (ax - hull[r, k, 0]) + ny * (ay - hull[r, k, 1]) + touch
        den = nx * dx + ny * dy
        if den == 0.0:
            if num < 0.0:
                return 1.0, 0.0
        elif den > 0.0:
            t = -num / den
            if t > t0:
                t0 = t
        else:
            t = -num / den
            if t < t1:
                t1 = t
    return t0, t1


@njit(cache=True, nogil=True, inline="always")
def _leaves(cg, r, ax, ay, dx, dy, touch):
    """Whether the segment touches a cell outside the grid next to rim cell ``r``."""
    k = cg.rim_row[r]
    if k < 0:
        return False
    for j in range(cg.out_n[k]):
        a, b = _clip(cg.out_hull[k], j, ax, ay, dx, dy, touch)
        if a <= b:
            return True
    return False


@njit(cache=True, nogil=True, inline="always")
def _seed(cg, row0, ax, ay, dx, dy, touch, gen, ws):
    """Queue the first cells of a walk: ``row0`` when its hull holds the segment's start,
    else (the start just outside it, between straight hull edges and H3's own) those of
    its neighbours whose hulls the segment touches.

    Returns
    -------
    status, tail : int, int
        :data:`SIGHT_CLEAR` and the queue length, or the status that ends the walk.
    """
    tail = 0
    if cg.filled[row0] == 0:
        return -2 - row0, 0
    for k in range(-1, 6):
        r = row0 if k < 0 else cg.nbr[row0, k]
        if r < 0:
            if _leaves(cg, row0, ax, ay, dx, dy, touch):
                return SIGHT_OUTSIDE, 0
            continue
        if cg.filled[r] == 0:
            return -2 - r, 0
        ws.stamp[r] = gen
        a, b = _clip(cg.hull, r, ax, ay, dx, dy, touch)
        if a <= b:
            ws.queue[tail], ws.t0[tail], ws.t1[tail] = r, a, b
            tail += 1
            if k < 0:
                break
    return (SIGHT_CLEAR, tail) if tail > 0 else (SIGHT_OUTSIDE, 0)


@njit(cache=True, nogil=True)
def walk(cg, usable, blocked, p, q, row0, th, check, touch, ws):
    """Walk the cells the 3D segment ``p -> q`` passes through.

    Parameters
    ----------
    cg : airgrid.routing.kernels.tables.CellGeo
        Cell geometry and columns.
    usable : bool[n_voxels]
        Voxels the graph may use.
    blocked : uint8[n_voxels] or empty
        The request's mask (nonzero: may not be entered).
    p, q : float64[3]
        End points (lat, lon, alt m AMSL).
    row0 : int
        Cell row holding ``p`` (its neighbours are tried when ``p`` lies just outside its hull).
    th : float
        Layer thickness of the cells' tier (m).
    check : bool
        Stop at the first voxel that is missing, unusable or blocked (:data:`SIGHT_BLOCKED`).
    touch : float
        Growth of every hull (degrees).
    ws : airgrid.routing.kernels.tables.SightScratch
        This thread's scratch (``ws.gen[0]`` is bumped per walk).

    Returns
    -------
    status : int
        :data:`SIGHT_CLEAR`, :data:`SIGHT_BLOCKED`, :data:`SIGHT_OUTSIDE` (the segment
        leaves the grid) or ``-2 - row`` (hull of ``row`` missing).
    min_clear : float
        Least ``lowest altitude over a cell - cell_g_hi`` over the touched cells.
    """
    ws.gen[0] += 1
    gen = ws.gen[0]
    ax, ay, dx, dy = p[1], p[0], q[1] - p[1], q[0] - p[0]
    st, tail = _seed(cg, row0, ax, ay, dx, dy, touch, gen, ws)
    if st != SIGHT_CLEAR:
        return st, math.inf
    head = 0
    low = math.inf
    while head < tail:
        r, a, b = ws.queue[head], ws.t0[head], ws.t1[head]
        head += 1
        za, zb = p[2] + (q[2] - p[2]) * a, p[2] + (q[2] - p[2]) * b
        lo, hi = min(za, zb), max(za, zb)
        low = min(low, lo - cg.g_hi[r])
        if check:
            for layer in range(math.floor(lo / th), math.floor(hi / th) + 1):
                off = layer - cg.first[r]
                if off < 0 or off >= cg.nl[r]:
                    return SIGHT_BLOCKED, low
                v = cg.start[r] + off
                if not usable[v] or (len(blocked) > 0 and blocked[v] != 0):
                    return SIGHT_BLOCKED, low
        for k in range(6):
            n = cg.nbr[r, k]
            if n < 0:
                if _leaves(cg, r, ax, ay, dx, dy, touch):
                    return SIGHT_OUTSIDE, low
                continue
            if ws.stamp[n] == gen:
                continue
            ws.stamp[n] = gen
            if cg.filled[n] == 0:
                return -2 - n, low
            a, b = _clip(cg.hull, n, ax, ay, dx, dy, touch)
            if a <= b:  # each cell is queued once: the queue (one slot per cell) never fills
                ws.queue[tail], ws.t0[tail], ws.t1[tail] = n, a, b
                tail += 1
    return SIGHT_CLEAR, low


@njit(cache=True, nogil=True)
def _visible(cg, usable, blocked, pts, rows, tiers, ths, i, j, touch, ws):
    """Whether ``pts[i] -> pts[j]`` is clear: :data:`SIGHT_CLEAR`, :data:`SIGHT_BLOCKED`
    (leaving the grid included) or a missing hull (``-2 - row``)."""
    if j == i + 1:
        return SIGHT_CLEAR
    if tiers[i] != tiers[j]:
        return SIGHT_BLOCKED
    st, _ = walk(cg, usable, blocked, pts[i], pts[j], rows[i], ths[tiers[i]], True, touch, ws)
    return SIGHT_BLOCKED if st == SIGHT_OUTSIDE else st


@njit(cache=True, nogil=True)
def string_pull(cg, usable, blocked, pts, rows, tiers, ths, touch, ws, keep):
    """Greedy string pulling of a polyline by line of sight (see
    :func:`airgrid.routing.search.smooth.string_pull`, which this mirrors step for step).

    Parameters
    ----------
    pts : float64[n, 3]
        Points (lat, lon, alt).
    rows, tiers : int64[n]
        Cell row and tier of every point.
    ths : float64[n_tiers]
        Layer thickness per tier.
    keep : int64[n]
        Output: kept indices.

    Returns
    -------
    status, count : int
        ``PULL_DONE`` with ``count`` kept indices in ``keep``; or ``-2 - row`` when
        the hull of cell ``row`` is missing (fill it and call again).
    """
    n = pts.shape[0]
    keep[0] = 0
    nk = 1
    i = 0
    while i < n - 1:
        best, k, fail = i + 1, 2, -1
        while best < n - 1:
            j = min(i + k, n - 1)
            st = _visible(cg, usable, blocked, pts, rows, tiers, ths, i, j, touch, ws)
            if st == SIGHT_CLEAR:
                best, k = j, k * 2
            elif st == SIGHT_BLOCKED:
                fail = j
                break
            else:
                return st, 0
        if fail > 0:
            lo, hi = best, fail
            while hi - lo > 1:
                m = (lo + hi) // 2
                st = _visible(cg, usable, blocked, pts, rows, tiers, ths, i, m, touch, ws)
                if st == SIGHT_CLEAR:
                    lo = m
                elif st == SIGHT_BLOCKED:
                    hi = m
                else:
                    return st, 0
            best = lo
        keep[nk] = best
        nk += 1
        i = best
    return PULL_DONE, nk


@njit(cache=True, nogil=True)
def legs_clearance(cg, usable, pts, rows, tiers, ths, start, touch, ws):
    """Least clearance over the legs ``pts[k] -> pts[k + 1]`` from ``start`` on (tier
    transitions and legs that leave the grid skipped).

    Returns
    -------
    status, k, low : int, int, float
        ``PULL_DONE`` with the minimum ``low``; or ``-2 - row`` (hull of ``row``
        missing) at leg ``k``, with the minimum over the legs before it.
    """
    low = math.inf
    empty = np.empty(0, np.uint8)
    for k in range(start, pts.shape[0] - 1):
        if tiers[k] != tiers[k + 1]:
            continue
        st, m = walk(
            cg, usable, empty, pts[k], pts[k + 1], rows[k], ths[tiers[k]], False, touch, ws
        )
        if st == SIGHT_OUTSIDE:
            continue
        if st != SIGHT_CLEAR:
            return st, k, low
        low = min(low, m)
    return PULL_DONE, 0, low
