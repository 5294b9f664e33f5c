"""Numba kernels of the audit: arrays and scalars in, arrays out."""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True)
def conformance_scan(flight, lon, lat, t, a_lo, a_hi, first_vol, box, lim, rect, poss, cert):
    """Fixes against the volumes of their own flight's intent.

    A (fix, volume) pair is *near* when the fix's time is in the volume's closed window,
    its altitude interval meets the closed band and it lies in the footprint's closed
    bounding box. A near pair with a rectangular footprint (``rect``: the footprint is
    its bounding box) is inside; the others are returned for an exact test.

    Parameters
    ----------
    flight : int32[n]
        Flight of each fix.
    lon, lat, t, a_lo, a_hi : float64[n]
        The fixes (altitude interval in metres AMSL).
    first_vol : int64[n_flights + 1]
        Volumes of flight ``f`` are ``first_vol[f]:first_vol[f + 1]``.
    box : float64[v, 4]
        Footprint bounds (west, south, east, north).
    lim : float64[v, 4]
        Floor, ceiling, window start and end.
    rect : bool[v]
        The footprint is exactly its bounding box.
    poss, cert : bool[n]
        Set where the fix is inside a rectangular volume for some altitude of its interval
        (``poss``) or for all of them (``cert``).

    Returns
    -------
    pend_fix, pend_vol : int64[k]
        Near pairs with other footprints, for the exact point-in-polygon test.
    """
    cap = 1024
    pend_fix = np.empty(cap, np.int64)
    pend_vol = np.empty(cap, np.int64)
    k = 0
    for i in range(len(t)):
        f = flight[i]
        for v in range(first_vol[f], first_vol[f + 1]):
            if not (t[i] >= lim[v, 2] and t[i] <= lim[v, 3]):
                continue
            if not (a_lo[i] <= lim[v, 1] and a_hi[i] >= lim[v, 0]):
                continue
            x, y = lon[i], lat[i]
            if not (x >= box[v, 0] and x <= box[v, 2] and y >= box[v, 1] and y <= box[v, 3]):
                continue
            if rect[v]:
                poss[i] = True
                if a_lo[i] >= lim[v, 0] and a_hi[i] <= lim[v, 1]:
                    cert[i] = True
            else:
                if k == cap:
                    cap *= 2
                    pend_fix = np.concatenate((pend_fix, np.empty(cap - k, np.int64)))
                    pend_vol = np.concatenate((pend_vol, np.empty(cap - k, np.int64)))
                pend_fix[k] = i
                pend_vol[k] = v
                k += 1
    return pend_fix[:k], pend_vol[:k]


@nb.njit(cache=True)
def segments_near_marked(lon0, lat0, lon1, lat1, cell, x0, y0, marked, out):
    """Segments whose bounding box may touch a marked lattice cell.

    Cell indices are ``floor((lon + 180) / cell)`` and ``floor((lat + 90) / cell)``; a
    segment is near when its box spans more than one cell in either direction, or when
    a cell of one of its box's corners is marked (``marked[ix - x0, iy - y0]``).

    Parameters
    ----------
    lon0, lat0, lon1, lat1 : float64[n]
        Segment ends.
    cell : float
        Lattice cell side, degrees.
    x0, y0 : int
        Cell indices of ``marked[0, 0]``.
    marked : bool[nx, ny]
        Marked cells.
    out : bool[n]
        Filled with the answer.
    """
    nx, ny = marked.shape
    for i in range(len(lon0)):
        ax = math.floor((min(lon0[i], lon1[i]) + 180.0) / cell)
        bx = math.floor((max(lon0[i], lon1[i]) + 180.0) / cell)
        ay = math.floor((min(lat0[i], lat1[i]) + 90.0) / cell)
        by = math.floor((max(lat0[i], lat1[i]) + 90.0) / cell)
        hit = bx - ax > 1 or by - ay > 1
        for cx in (ax, bx):
            for cy in (ay, by):
                ix, iy = int(cx) - x0, int(cy) - y0
                if 0 <= ix < nx and 0 <= iy < ny and marked[ix, iy]:
                    hit = True
        out[i] = hit
