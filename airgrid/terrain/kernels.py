"""Numba kernels for terrain: arrays and scalars in, arrays out. No I/O, no h3.

Pixel-space convention: pixel ``(r, c)`` is the closed square ``[c, c+1] x [r, r+1]``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np


@nb.njit(cache=True, inline="always")
def _strip_x_extent(px, py, n, ya, yb):
    """x-range of a convex polygon clipped to the horizontal strip ``ya <= y <= yb``."""
    lo = math.inf
    hi = -math.inf
    for k in range(n):
        x0 = px[k]
        y0 = py[k]
        j = k + 1 if k + 1 < n else 0
        x1 = px[j]
        y1 = py[j]
        if ya <= y0 <= yb:
            lo = min(lo, x0)
            hi = max(hi, x0)
        if y0 != y1:
            for yc in (ya, yb):
                t = (yc - y0) / (y1 - y0)
                if 0.0 <= t <= 1.0:
                    xc = x0 + t * (x1 - x0)
                    lo = min(lo, xc)
                    hi = max(hi, xc)
    return lo, hi


class Polygons(NamedTuple):
    """Convex polygons in continuous pixel coordinates (col, row).

    Attributes
    ----------
    vx, vy : float64[n, m]
        Vertices in ring order.
    nverts : int32[n]
        Vertices used per polygon (``<= m``).
    """

    vx: np.ndarray
    vy: np.ndarray
    nverts: np.ndarray


class PixelWindows(NamedTuple):
    """Pixel windows ``[r0, r1) x [c0, c1)``, int64[n] each (clipped to the raster where read)."""

    c0: np.ndarray
    c1: np.ndarray
    r0: np.ndarray
    r1: np.ndarray


@nb.njit(cache=True, parallel=True)
def cell_extrema(polys, data, pad_x, pad_y, ring):
    """Height extrema over the DEM pixels that touch each convex polygon.

    One piece: the per-polygon row scan is the hot loop, and as a helper function it
    measured 5-15 % slower (its per-polygon call and tuple return cost as much as the
    few pixels a cell touches).

    Parameters
    ----------
    polys : Polygons
        The polygons, in continuous pixel coordinates.
    data : float32[h, w]
        Heights with NaN voids.
    pad_x, pad_y : float
        Grow every polygon by this many pixels (Minkowski sum with a rectangle).
    ring : int
        Pixels added around the touched ones for the relief window.

    Returns
    -------
    gmax, gmin : float32[n]
        Max and min over valid touched pixels (NaN if none).
    relief : float32[n]
        Max minus min over the relief window (valid pixels only).
    n_valid, n_void : int32[n]
        Counts of valid and void pixels touched.
    outside : bool[n]
        Whether the grown polygon reaches beyond the raster.

    Notes
    -----
    A closed pixel square meets a convex polygon ``P`` (grown by the pad) iff its
    column interval meets the x-extent of ``P`` clipped to the pixel's row strip.
    Clipping a convex polygon to a strip and taking the x-extent of the clipped
    vertices and edge crossings is exact, so the set is exactly the touched pixels:
    pixels that only share an edge or corner with the polygon count, which errs
    towards higher ground.
    """
    vx, vy, nverts = polys
    n = vx.shape[0]
    h, w = data.shape
    gmax = np.full(n, np.nan, np.float32)
    gmin = np.full(n, np.nan, np.float32)
    relief = np.zeros(n, np.float32)
    n_valid = np.zeros(n, np.int32)
    n_void = np.zeros(n, np.int32)
    outside = np.zeros(n, np.bool_)
    for i in nb.prange(n):
        m = nverts[i]
        px = vx[i, :m]
        py = vy[i, :m]
        ymin = py.min() - pad_y
        ymax = py.max() + pad_y
        r0 = math.ceil(ymin) - 1
        r1 = math.floor(ymax)
        hi_v = -np.inf
        lo_v = np.inf
        nv = 0
        nvoid = 0
        out = False
        wr0 = h
        wr1 = -1
        wc0 = w
        wc1 = -1
        for r in range(r0, r1 + 1):
            xlo, xhi = _strip_x_extent(px, py, m, r - pad_y, r + 1 + pad_y)
            if xlo > xhi:
                continue
            c0 = math.ceil(xlo - pad_x) - 1
            c1 = math.floor(xhi + pad_x)
            if r < 0 or r >= h or c0 < 0 or c1 >= w:
                out = True
            rr = min(max(r, 0), h - 1)
            if r != rr:
                continue
            cc0 = max(c0, 0)
            cc1 = min(c1, w - 1)
            if cc0 > cc1:
                continue
            wr0 = min(wr0, rr)
            wr1 = max(wr1, rr)
            wc0 = min(wc0, cc0)
            wc1 = max(wc1, cc1)
            for c in range(cc0, cc1 + 1):
                v = data[rr, c]
                if np.isnan(v):
                    nvoid += 1
                else:
                    nv += 1
                    if v > hi_v:
                        hi_v = v
                    if v < lo_v:
                        lo_v = v
        outside[i] = out
        n_valid[i] = nv
        n_void[i] = nvoid
        if nv > 0:
            gmax[i] = hi_v
            gmin[i] = lo_v
        if wr1 >= 0:
            a = np.inf
            b = -np.inf
            for r in range(max(wr0 - ring, 0), min(wr1 + ring, h - 1) + 1):
                for c in range(max(wc0 - ring, 0), min(wc1 + ring, w - 1) + 1):
                    v = data[r, c]
                    if not np.isnan(v):
                        a = min(a, v)
                        b = max(b, v)
            if b >= a:
                relief[i] = b - a
    return gmax, gmin, relief, n_valid, n_void, outside


@nb.njit(cache=True)
def window_bounds(lower, upper, win, lo_out, hi_out):
    """Lowest ``lower`` and highest ``upper`` over pixel windows.

    Parameters
    ----------
    lower, upper : float32[h, w]
        Per-pixel lowest and highest plausible ground, NaN on voids.
    win : PixelWindows
        The windows (clipped to the raster here).
    lo_out, hi_out : float64[n]
        Filled with the extremes; NaN where a window holds no valid pixel.
    """
    h, w = lower.shape
    c0, c1, r0, r1 = win.c0, win.c1, win.r0, win.r1
    for i in range(len(c0)):
        mn = np.inf
        mx = -np.inf
        for r in range(max(r0[i], 0), min(r1[i], h)):
            for c in range(max(c0[i], 0), min(c1[i], w)):
                a = lower[r, c]
                b = upper[r, c]
                if a == a:
                    mn = min(mn, a)
                if b == b:
                    mx = max(mx, b)
        if mn > mx:
            lo_out[i] = np.nan
            hi_out[i] = np.nan
        else:
            lo_out[i] = mn
            hi_out[i] = mx


@nb.njit(cache=True)
def affine_apply(x, y, sa, sb, sc, sd, se, sf, col_out, row_out):
    """``col = x * sa + y * sb + sc`` and ``row = x * sd + y * se + sf``, element-wise.

    The same operations in the same order as ``Affine(sa, sb, sc, sd, se, sf) @ (x, y)``
    of the ``affine`` package, so the results are bit for bit those.

    Parameters
    ----------
    x, y : float64[n]
        Coordinates in the transform's source space.
    sa, sb, sc, sd, se, sf : float
        The transform's coefficients.
    col_out, row_out : float64[n]
        Filled with the mapped coordinates.
    """
    for i in range(len(x)):
        col_out[i] = x[i] * sa + y[i] * sb + sc
        row_out[i] = x[i] * sd + y[i] * se + sf


class Sampled(NamedTuple):
    """What :func:`bilinear` found wrong, if anything.

    Attributes
    ----------
    outside, first_outside : int
        Points outside the raster, and the index of the first (-1: none). When there are
        any, nothing else was computed.
    void, first_void : int
        Points whose four neighbouring pixels are all voids, and the first (-1: none).
    """

    outside: int
    first_outside: int
    void: int
    first_void: int


@nb.njit(cache=True, nogil=True)
def bilinear(data, col, row, out):
    """Bilinear heights at continuous pixel coordinates, voids left out.

    Pixel values sit at pixel centres ``(c + 0.5, r + 0.5)``; a point is inside when
    ``0 <= col <= w`` and ``0 <= row <= h``, and within half a pixel of the edge it
    takes the edge values. Void (NaN) corners get weight 0 and the others' weights are
    renormalised. The arithmetic is that of the vectorised NumPy form (weights
    ``(1-fx)(1-fy), fx(1-fy), (1-fx)fy, fx fy`` summed in that order), so the results
    are bit for bit those.

    Parameters
    ----------
    data : float[h, w]
        The raster, NaN at voids.
    col, row : float64[n]
        Continuous pixel coordinates.
    out : float64[n]
        Filled with the heights (undefined where void, and everywhere when any point is
        outside).

    Returns
    -------
    Sampled
        Counts and first indices of the points outside and of those in voids.
    """
    h, w = data.shape
    outside = 0
    first_outside = -1
    for i in range(len(col)):
        if not (col[i] >= 0 and col[i] <= w and row[i] >= 0 and row[i] <= h):
            if outside == 0:
                first_outside = i
            outside += 1
    if outside:
        return Sampled(outside, first_outside, 0, -1)
    void = 0
    first_void = -1
    xmax = max(w - 2, 0)
    ymax = max(h - 2, 0)
    for i in range(len(col)):
        x = min(max(col[i] - 0.5, 0.0), w - 1.0)
        y = min(max(row[i] - 0.5, 0.0), h - 1.0)
        x0 = min(math.floor(x), xmax)
        y0 = min(math.floor(y), ymax)
        x1 = min(x0 + 1, w - 1)
        y1 = min(y0 + 1, h - 1)
        fx = x - x0
        fy = y - y0
        c00 = np.float64(data[y0, x0])
        c01 = np.float64(data[y0, x1])
        c10 = np.float64(data[y1, x0])
        c11 = np.float64(data[y1, x1])
        w00 = (1 - fx) * (1 - fy) if c00 == c00 else 0.0
        w01 = fx * (1 - fy) if c01 == c01 else 0.0
        w10 = (1 - fx) * fy if c10 == c10 else 0.0
        w11 = fx * fy if c11 == c11 else 0.0
        wsum = w00 + w01 + w10 + w11
        if (c00 != c00 and c01 != c01 and c10 != c10 and c11 != c11) or wsum <= 0:
            if void == 0:
                first_void = i
            void += 1
            continue
        acc = (c00 * w00 if c00 == c00 else 0.0) + (c01 * w01 if c01 == c01 else 0.0)
        acc = acc + (c10 * w10 if c10 == c10 else 0.0)
        out[i] = (acc + (c11 * w11 if c11 == c11 else 0.0)) / wsum
    return Sampled(0, -1, void, first_void)
