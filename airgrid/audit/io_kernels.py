"""Numba kernels of the audit's reading and writing: arrays and scalars in, arrays out."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def _put_degrees(v, buf, k):
    """Write ``v`` (degrees) at ``buf[k:]`` with 7 decimals, trailing zeros dropped (one
    kept); returns the next free position."""
    q = round(v * 1e7)
    if q < 0:
        buf[k] = 45  # "-"
        k += 1
        q = -q
    whole, frac = q // 10_000_000, q % 10_000_000
    m, w = 1, whole // 10
    while w > 0:
        m += 1
        w //= 10
    for j in range(m - 1, -1, -1):
        buf[k + j] = 48 + whole % 10
        whole //= 10
    k += m
    buf[k] = 46  # "."
    k += 1
    keep = 7
    while keep > 1 and frac % 10 == 0:
        frac //= 10
        keep -= 1
    for j in range(keep - 1, -1, -1):
        buf[k + j] = 48 + frac % 10
        frac //= 10
    return k + keep


@nb.njit(cache=True, nogil=True)
def geojson_geometries(xy, ptr, head_point, head_line, tail):
    """GeoJSON text of points and lines, coordinates with 7 decimals (about 1 cm).

    Geometry ``g`` has vertices ``xy[ptr[g]:ptr[g + 1]]``: one is a Point, more a
    LineString, written as ``head_point`` or ``head_line``, the coordinates, then ``tail``.

    Parameters
    ----------
    xy : float64[m, 2]
        Longitudes and latitudes.
    ptr : int64[k + 1]
        Vertices of each geometry.
    head_point, head_line, tail : uint8[:]
        UTF-8 text around the coordinates.

    Returns
    -------
    text : uint8[:]
        The geometries end to end.
    ends : int64[k + 1]
        Geometry ``g`` is ``text[ends[g]:ends[g + 1]]``.
    """
    k = len(ptr) - 1
    room = len(xy) * 30 + k * (max(len(head_point), len(head_line)) + len(tail) + 2)
    buf = np.empty(room, np.uint8)
    ends = np.empty(k + 1, np.int64)
    at = 0
    for g in range(k):
        ends[g] = at
        one = ptr[g + 1] - ptr[g] == 1
        head = head_point if one else head_line
        for c in head:
            buf[at] = c
            at += 1
        if not one:
            buf[at] = 91  # "["
            at += 1
        for v in range(ptr[g], ptr[g + 1]):
            if v > ptr[g]:
                buf[at] = 44  # ","
                at += 1
            buf[at] = 91
            at = _put_degrees(xy[v, 0], buf, at + 1)
            buf[at] = 44
            at = _put_degrees(xy[v, 1], buf, at + 1)
            buf[at] = 93  # "]"
            at += 1
        if not one:
            buf[at] = 93
            at += 1
        for c in tail:
            buf[at] = c
            at += 1
    ends[k] = at
    return buf[:at], ends


@nb.njit(cache=True, nogil=True)
def join_features(geom, geom_ends, props, prop_ends, head, mid, tail, sep, out):
    """Interleave two lists of texts: ``head``, geometry ``g``, ``mid``, properties ``g``,
    ``tail`` for each ``g``, with ``sep`` between consecutive items.

    Parameters
    ----------
    geom, props : uint8[:]
        Texts end to end; item ``g`` is ``geom[geom_ends[g]:geom_ends[g + 1]]`` and
        ``props[prop_ends[g]:prop_ends[g + 1]]``.
    geom_ends, prop_ends : int64[k + 1]
        Item bounds.
    head, mid, tail, sep : uint8[:]
        The fixed texts.
    out : uint8[:]
        Filled from the start; as long as the result or longer.

    Returns
    -------
    int
        Length of the result.
    """
    at = 0
    for g in range(len(geom_ends) - 1):
        if g > 0:
            at = _put(sep, 0, len(sep), out, at)
        at = _put(head, 0, len(head), out, at)
        at = _put(geom, geom_ends[g], geom_ends[g + 1], out, at)
        at = _put(mid, 0, len(mid), out, at)
        at = _put(props, prop_ends[g], prop_ends[g + 1], out, at)
        at = _put(tail, 0, len(tail), out, at)
    return at


@nb.njit(cache=True, nogil=True, inline="always")
def _put(src, a, b, out, at):
    """Copy ``src[a:b]`` to ``out`` from ``at``; the position after it."""
    for j in range(a, b):
        out[at] = src[j]
        at += 1
    return at


@nb.njit(cache=True, nogil=True)
def row_faults(
    fid, fid_empty, op, op_empty, t, t_bad, t_lo, t_hi, lat, lon, alt, a_lo, a_hi, ref, out
):
    """The first failing check of each row of a fix table, in one pass.

    Checks, in order (``out``: 0 for none, else 1 + the check's position): flight id not
    empty, operator not empty, time good, ``|lat| <= 90``, ``|lon| <= 180``,
    ``a_lo <= alt <= a_hi``, altitude reference known. The time is good where ``t_bad`` is
    false, or, when ``t_bad`` is empty, where ``t_lo <= t <= t_hi``. NaN fails every range.

    Parameters
    ----------
    fid, op : int[n]
        Codes of the flight id and operator; ``fid_empty``, ``op_empty`` the codes of the
        empty text (-1 when it does not occur).
    t : float64[n]
        POSIX seconds.
    t_bad : bool[n] or bool[0]
        Rows whose time is bad, or nothing (check ``t`` against ``t_lo..t_hi``).
    lat, lon, alt : float64[n]
        Degrees and metres.
    a_lo, a_hi : float
        Range of altitudes.
    ref : int8[n]
        Altitude reference, -1 unknown.
    out : int8[n]
        Filled with the first failing check of each row.

    Returns
    -------
    int
        Rows with a failing check.
    """
    own_t = len(t_bad) == 0
    bad = 0
    for i in range(len(out)):
        c = 0
        if fid[i] == fid_empty:
            c = 1
        elif op[i] == op_empty:
            c = 2
        elif (not (t[i] >= t_lo and t[i] <= t_hi)) if own_t else t_bad[i]:
            c = 3
        elif not abs(lat[i]) <= 90.0:
            c = 4
        elif not abs(lon[i]) <= 180.0:
            c = 5
        elif not (alt[i] >= a_lo and alt[i] <= a_hi):
            c = 6
        elif ref[i] < 0:
            c = 7
        out[i] = c
        if c:
            bad += 1
    return bad
