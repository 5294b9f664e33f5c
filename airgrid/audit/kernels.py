"""Numba kernels of the audit: arrays and scalars in, arrays out."""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
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


@nb.njit(cache=True, nogil=True)
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


@nb.njit(cache=True, nogil=True)
def pixel_keys(x, y, coef, lon, lat, bounds, w, key):
    """The DEM pixel of each point as a key into a dense table of pixels.

    Continuous pixel coordinates are ``col = x * a + y * b + c`` and
    ``row = x * d + y * e + f`` (``coef = (a, b, c, d, e, f)``, the arithmetic of
    :func:`~airgrid.terrain.kernels.affine_apply`). A point is on the DEM when both are
    finite and it lies in the DEM's closed lon/lat bounds; its key is
    ``(floor(row) + 2) * w + floor(col) + 2`` on a table ``w`` wide (two rings wider
    than the raster on every side).

    Parameters
    ----------
    x, y : float64[n]
        Coordinates the affine map takes to pixel space.
    coef : float64[6]
        The map's coefficients.
    lon, lat : float64[n]
        The points.
    bounds : float64[4]
        The DEM's (west, south, east, north).
    w : int
        Width of the pixel table.
    key : int64[n]
        Filled with each point's key, -1 off the DEM.
    """
    sa, sb, sc, sd, se, sf = coef[0], coef[1], coef[2], coef[3], coef[4], coef[5]
    west, south, east, north = bounds[0], bounds[1], bounds[2], bounds[3]
    for i in range(len(x)):
        c = x[i] * sa + y[i] * sb + sc
        r = x[i] * sd + y[i] * se + sf
        px, py = lon[i], lat[i]
        on = np.isfinite(c) and np.isfinite(r) and px >= west and px <= east
        if not (on and py >= south and py <= north):
            key[i] = -1
        else:
            key[i] = (math.floor(r) + 2) * w + math.floor(c) + 2


@nb.njit(cache=True, nogil=True)
def number_pixels(slot, size):
    """Number the distinct keys of :func:`pixel_keys` in order of first appearance, in place.

    Parameters
    ----------
    slot : int64[n]
        Keys in ``0..size - 1`` or -1; replaced by each key's number (-1 stays).
    size : int
        Size of the pixel table.

    Returns
    -------
    int64[k]
        One point of each pixel, by pixel number.
    """
    table = np.full(size, -1, np.int64)
    first = np.empty(len(slot), np.int64)  # pages are only touched as pixels are found
    k = 0
    for i in range(len(slot)):
        key = slot[i]
        if key < 0:
            continue
        s = table[key]
        if s < 0:
            s = k
            table[key] = k
            first[k] = i
            k += 1
        slot[i] = s
    return first[:k].copy()


@nb.njit(cache=True, nogil=True)
def fix_heights(alt, agl, slot, g_lo, g_hi, amsl_lo, amsl_hi, h_lo, h_hi, no_ground):
    """Altitude and true-height intervals of fixes from the ground bounds of their pixel.

    An AGL fix has true height ``alt`` and AMSL ``g_lo + alt .. g_hi + alt``; any other
    (AMSL) fix has AMSL ``alt`` and true height ``alt - g_hi .. alt - g_lo``. Off the DEM
    (slot -1) the ground bounds are NaN.

    Parameters
    ----------
    alt : float64[n]
        Altitudes as logged (W84 already converted to AMSL).
    agl : bool[n]
        The altitude is above ground level.
    slot : int64[n]
        Pixel number of each fix (see :func:`number_pixels`).
    g_lo, g_hi : float64[k]
        Ground bounds of each pixel.
    amsl_lo, amsl_hi, h_lo, h_hi : float64[n]
        Filled with the intervals.
    no_ground : bool[n]
        Filled with: an AGL fix whose highest ground is not finite.
    """
    for i in range(len(alt)):
        s = slot[i]
        lo = g_lo[s] if s >= 0 else np.nan
        hi = g_hi[s] if s >= 0 else np.nan
        a = alt[i]
        if agl[i]:
            amsl_lo[i], amsl_hi[i] = lo + a, hi + a
            h_lo[i], h_hi[i] = a, a
            no_ground[i] = not np.isfinite(hi)
        else:
            amsl_lo[i], amsl_hi[i] = a, a
            h_lo[i], h_hi[i] = a - hi, a - lo
            no_ground[i] = False


@nb.njit(cache=True, nogil=True)
def true_heights(alt, slot, g_lo, g_hi, h_lo, h_hi):
    """True-height intervals ``alt - g_hi .. alt - g_lo`` of AMSL fixes from the ground
    bounds of their pixel (NaN off the DEM, slot -1); see :func:`fix_heights`.

    Parameters
    ----------
    alt : float64[n]
        Altitudes, metres AMSL.
    slot : int64[n]
        Pixel number of each fix (see :func:`number_pixels`).
    g_lo, g_hi : float64[k]
        Ground bounds of each pixel.
    h_lo, h_hi : float64[n]
        Filled with the intervals.
    """
    for i in range(len(alt)):
        s = slot[i]
        if s >= 0:
            h_lo[i], h_hi[i] = alt[i] - g_hi[s], alt[i] - g_lo[s]
        else:
            h_lo[i], h_hi[i] = np.nan, np.nan


@nb.njit(cache=True, nogil=True)
def boundary_distances(x, y, ring_xy, ring_ptr, out):
    """Distance of each point to the nearest segment of some rings (plane coordinates).

    The point-to-segment distance is GEOS's (``Distance::pointToSegment``): the nearer
    end beyond the segment's ends, else the perpendicular distance.

    Parameters
    ----------
    x, y : float64[n]
        The points.
    ring_xy : float64[m, 2]
        Vertices of all rings, each ring closed.
    ring_ptr : int64[r + 1]
        Ring ``j`` is ``ring_xy[ring_ptr[j]:ring_ptr[j + 1]]``.
    out : float64[n]
        Filled with the distances (inf without rings).
    """
    for i in range(len(x)):
        px, py = x[i], y[i]
        best = np.inf
        for j in range(len(ring_ptr) - 1):
            for k in range(ring_ptr[j], ring_ptr[j + 1] - 1):
                ax, ay = ring_xy[k, 0], ring_xy[k, 1]
                bx, by = ring_xy[k + 1, 0], ring_xy[k + 1, 1]
                if ax == bx and ay == by:
                    d = math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
                else:
                    len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay)
                    r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2
                    if r <= 0.0:
                        d = math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
                    elif r >= 1.0:
                        d = math.sqrt((px - bx) * (px - bx) + (py - by) * (py - by))
                    else:
                        s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / len2
                        d = abs(s) * math.sqrt(len2)
                if d < best:
                    best = d
        out[i] = best


@nb.njit(cache=True, nogil=True)
def run_heads(a, b, t):
    """Starts of runs of equal ``(a, b)`` pairs, and whether ``t`` never falls within a run.

    Parameters
    ----------
    a, b : int[n]
        Two integer keys per row.
    t : float64[n]
        Times.

    Returns
    -------
    heads : int64[k]
        First row of each run (0 first when ``n > 0``).
    ordered : bool
        ``t`` is non-decreasing within every run.
    """
    n = len(a)
    k = 0
    ordered = True
    for i in range(n):
        if i == 0 or a[i] != a[i - 1] or b[i] != b[i - 1]:
            k += 1
        elif t[i] < t[i - 1]:
            ordered = False
    heads = np.empty(k, np.int64)
    k = 0
    for i in range(n):
        if i == 0 or a[i] != a[i - 1] or b[i] != b[i - 1]:
            heads[k] = i
            k += 1
    return heads, ordered


@nb.njit(cache=True, nogil=True)
def segments_across_limits(lon, lat, a_lo, a_hi, t, nxt, box, band, edge_ptr, edges, out):
    """Segments that may enter a fence through its band or its schedule between two fixes.

    Segment ``k`` joins fix ``k`` to fix ``k + 1`` (when ``nxt[k]``). It is flagged when
    its bounding box meets a fence's footprint box (closed) and, for that fence, either
    its altitude span ``[min a_lo, max a_hi]`` of both ends meets the band while reaching
    outside it (so both ends may be out of the band while the segment passes through it,
    or the band lies inside an end's altitude interval), or an edge of one of the fence's
    active intervals lies strictly between the two fix times.

    Parameters
    ----------
    lon, lat, a_lo, a_hi, t : float64[n]
        The fixes (altitude intervals in metres AMSL).
    nxt : bool[n]
        Fix ``k + 1`` is of the same flight as fix ``k``.
    box : float64[F, 4]
        Footprint bounds (west, south, east, north) of each fence.
    band : float64[F, 2]
        Each fence's band over its whole footprint (floor, ceiling; metres AMSL).
    edge_ptr : int64[F + 1]
        Edges of fence ``f`` are ``edges[edge_ptr[f]:edge_ptr[f + 1]]`` (sorted; none for
        fences always active).
    edges : float64[m]
        Starts and ends of the active intervals.
    out : bool[n - 1]
        Filled with the answer.
    """
    for k in range(len(t) - 1):
        out[k] = False
        if not nxt[k]:
            continue
        w, e = min(lon[k], lon[k + 1]), max(lon[k], lon[k + 1])
        s, n = min(lat[k], lat[k + 1]), max(lat[k], lat[k + 1])
        lo, hi = min(a_lo[k], a_lo[k + 1]), max(a_hi[k], a_hi[k + 1])
        for f in range(box.shape[0]):
            if w > box[f, 2] or e < box[f, 0] or s > box[f, 3] or n < box[f, 1]:
                continue
            if lo <= band[f, 1] and hi >= band[f, 0] and (lo < band[f, 0] or hi > band[f, 1]):
                out[k] = True
                break
            e0, e1 = edge_ptr[f], edge_ptr[f + 1]
            if e1 > e0:
                j = e0 + np.searchsorted(edges[e0:e1], t[k], side="right")
                if j < e1 and edges[j] < t[k + 1]:
                    out[k] = True
                    break


@nb.njit(cache=True, inline="always")
def _step(run, poss, sure, exc, i, out_i, out_f, k):
    """One fix of one rule: ``run`` is (first fix or -1, certain, largest excess, rule);
    a run that ends at fix ``i - 1`` is written to the tables at row ``k``. Returns the
    new run and row."""
    first, cert, best, rule = run
    if poss:
        if first < 0:
            return (i, sure, exc, rule), k
        return (first, cert or sure, max(best, exc), rule), k
    if first < 0:
        return run, k
    out_i[k, 0] = rule
    out_i[k, 1] = first
    out_i[k, 2] = i - 1
    out_i[k, 3] = cert
    out_f[k] = best
    return (-1, False, best, rule), k + 1


@nb.njit(cache=True, nogil=True)
def _flight_height_runs(
    s, e, t, h_lo, h_hi, lo, up, free, limit, clearance, terminal_s, out_i, out_f, k
):
    """The runs of fixes ``s:e`` (one flight) into the tables from row ``k`` (room for
    ``2 * (e - s) + 4`` more); returns the next free row. See :func:`height_runs`."""
    first_up, last_up = np.inf, -np.inf
    for i in range(s, e):
        if h_lo[i] >= clearance:
            first_up = min(first_up, t[i])
            last_up = max(last_up, t[i])
    rise = min(first_up, t[s] + terminal_s)
    fall = max(last_up, t[e - 1] - terminal_s)
    r0, r1, r2, r3 = (
        (-1, False, 0.0, 0),
        (-1, False, 0.0, 1),
        (-1, False, 0.0, 2),
        (-1, False, 0.0, 3),
    )
    for i in range(s, e + 1):  # one past the end closes the flight's open runs
        if i < e:
            a, b = h_lo[i], h_hi[i]
            active = not (t[i] < rise or t[i] > fall)
            p0, p1 = b > up, a < lo and active
            p2, p3 = free and b > limit, a < clearance and active
            s0, s1 = a > up, b < lo and active
            s2, s3 = free and a > limit, b < clearance and active
        else:
            a = b = 0.0
            p0 = p1 = p2 = p3 = s0 = s1 = s2 = s3 = False
        r0, k = _step(r0, p0, s0, b - up, i, out_i, out_f, k)
        r1, k = _step(r1, p1, s1, lo - a, i, out_i, out_f, k)
        r2, k = _step(r2, p2, s2, b - limit, i, out_i, out_f, k)
        r3, k = _step(r3, p3, s3, clearance - a, i, out_i, out_f, k)
    return k


@nb.njit(cache=True, nogil=True)
def height_runs(start, t, h_lo, h_hi, lower, upper, no_tier, limit, clearance, terminal_s):
    """Runs of the four height rules in one pass over every flight.

    Per flight ``f`` (fixes ``start[f]:start[f + 1]``, in time order) the terminal phases
    end at ``rise = min(first t with h_lo >= clearance, t_first + terminal_s)`` and start
    at ``fall = max(last t with h_lo >= clearance, t_last - terminal_s)``; a fix is
    terminal when ``t < rise`` or ``t > fall``. Per fix, each rule may hold (possible),
    surely hold (certain) and have an excess:

    0. tier band above: ``h_hi > upper``, ``h_lo > upper``, ``h_hi - upper``;
    1. tier band below (not terminal): ``h_lo < lower``, ``h_hi < lower``, ``lower - h_lo``;
    2. light-UAV limit (flights without a tier): ``h_hi > limit``, ``h_lo > limit``,
       ``h_hi - limit``;
    3. terrain clearance (not terminal): ``h_lo < clearance``, ``h_hi < clearance``,
       ``clearance - h_lo``.

    Comparisons with NaN are false, so fixes without a true height and flights without a
    tier (NaN ``lower`` and ``upper``) break no band.

    Parameters
    ----------
    start : int64[n_flights + 1]
        Fixes of each flight.
    t, h_lo, h_hi : float64[n]
        Times and true-height intervals.
    lower, upper : float64[n_flights]
        Each flight's tier band (NaN without a tier).
    no_tier : bool[n_flights]
        The flight has no tier (held to ``limit``).
    limit, clearance, terminal_s : float
        The light-UAV limit, the terrain clearance, the longest terminal phase.

    Returns
    -------
    runs : int64[k, 4]
        Rule, first fix, last fix and certainty (1 if any fix of the run is certain) of
        every run of consecutive fixes of one flight where a rule may hold, in the order
        the runs end (so each rule's runs by first fix).
    excess : float64[k]
        Largest excess over each run's fixes.
    """
    out_i = np.empty((1024, 4), np.int64)
    out_f = np.empty(1024, np.float64)
    k = 0
    for f in range(len(start) - 1):
        s, e = start[f], start[f + 1]
        if e == s:
            continue
        need = k + 2 * (e - s) + 4  # at most one run per two fixes and rule, plus one
        if need > len(out_f):
            grow_i = np.empty((2 * need, 4), np.int64)
            grow_f = np.empty(2 * need, np.float64)
            grow_i[:k] = out_i[:k]
            grow_f[:k] = out_f[:k]
            out_i, out_f = grow_i, grow_f
        k = _flight_height_runs(
            s, e, t, h_lo, h_hi, lower[f], upper[f], no_tier[f], limit, clearance, terminal_s,
            out_i, out_f, k,
        )  # fmt: skip
    return out_i[:k], out_f[:k]


@nb.njit(cache=True, nogil=True)
def nonconformance_runs(start, has, possibly, certainly):
    """Runs of fixes off their flight's intent, and each flight's certainly conforming fixes.

    A fix of a flight with an intent (``has``) may be off it where it is not certainly
    inside a volume, and surely is where it is not possibly inside one. A run is a
    stretch of consecutive fixes of one flight that may be off (``has & ~certainly``); it
    is certain when one of its fixes surely is (``~possibly``).

    Parameters
    ----------
    start : int64[n_flights + 1]
        Fixes of flight ``f`` are ``start[f]:start[f + 1]``.
    has : bool[n_flights]
        The flight flew under an accepted intent.
    possibly, certainly : bool[n]
        The fix is inside some volume of its flight's intent for some / all of its
        altitudes.

    Returns
    -------
    runs : int64[k, 3]
        First fix, last fix and certainty (1 if some fix of the run is surely off) of
        each run, by first fix.
    conforming : int64[n_flights]
        Fixes of each flight certainly inside a volume (0 without an intent).
    """
    nf = len(start) - 1
    conforming = np.zeros(nf, np.int64)
    k = 0
    for f in range(nf):
        if not has[f]:
            continue
        for i in range(start[f], start[f + 1]):
            if certainly[i]:
                conforming[f] += 1
            elif i == start[f] or certainly[i - 1]:
                k += 1
    out = np.empty((k, 3), np.int64)
    k = 0
    for f in range(nf):
        if not has[f]:
            continue
        i, e = start[f], start[f + 1]
        while i < e:
            if certainly[i]:
                i += 1
                continue
            out[k, 0] = i
            out[k, 2] = 0
            while i < e and not certainly[i]:
                if not possibly[i]:
                    out[k, 2] = 1
                i += 1
            out[k, 1] = i - 1
            k += 1
    return out, conforming
