"""Numba half-plane tables of convex cell boundaries, for the line-of-sight clip.

A cell's boundary arrives as its vertices in (lat, lon) degrees; the table row of a
strictly convex boundary holds, per edge in counter-clockwise order (lon as x, lat as
y), the edge's first vertex and its inward unit normal (see
:class:`~.tables.CellGeo`). A boundary that is not strictly convex (an H3 cell with
distortion vertices that bend inward) is left to the caller, which takes its convex
hull first.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def convex_hull_rows(latlng: np.ndarray, at: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write the half-plane rows of every strictly convex boundary.

    Parameters
    ----------
    latlng : float64[m, 2]
        The boundaries' vertices (lat, lon), boundary after boundary, not closed.
    at : int64[n + 1]
        Boundary ``i`` is ``latlng[at[i]:at[i + 1]]`` (3 to ``out.shape[1]`` vertices).
    out : float64[n, k, 4]
        Rows written for every convex boundary: ``x, y, nx, ny`` per edge, the rest left
        as they are (callers pass zeros: a zero normal constrains nothing).

    Returns
    -------
    bool[n]
        True where the boundary was strictly convex (every turn of one sign) and its row
        written.
    """
    n = len(at) - 1
    ok = np.zeros(n, np.bool_)
    for i in range(n):
        a, m = at[i], at[i + 1] - at[i]
        pos = neg = 0
        area2 = 0.0
        for k in range(m):
            x0, y0 = latlng[a + k, 1], latlng[a + k, 0]
            x1, y1 = latlng[a + (k + 1) % m, 1], latlng[a + (k + 1) % m, 0]
            x2, y2 = latlng[a + (k + 2) % m, 1], latlng[a + (k + 2) % m, 0]
            turn = (x1 - x0) * (y2 - y1) - (y1 - y0) * (x2 - x1)
            if turn > 0:
                pos += 1
            elif turn < 0:
                neg += 1
            area2 += x0 * y1 - x1 * y0
        if pos != m and neg != m:
            continue
        step = -1 if area2 < 0 else 1  # clockwise: walk the vertices backwards
        first = m - 1 if step < 0 else 0
        for k in range(m):
            v = a + (first + step * k) % m
            w = a + (first + step * (k + 1)) % m
            x, y = latlng[v, 1], latlng[v, 0]
            ex, ey = latlng[w, 1] - x, latlng[w, 0] - y
            length = math.hypot(ex, ey)
            out[i, k, 0] = x
            out[i, k, 1] = y
            out[i, k, 2] = -ey / length
            out[i, k, 3] = ex / length
        ok[i] = True
    return ok
