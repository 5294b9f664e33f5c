"""The lon/lat bin filter behind batched point checks: building it, and the Numba kernels that query it.

A regular lon/lat grid of bins covers the footprints. For every (bin, footprint) pair
whose bin touches the footprint the filter stores an *entry*: whether the bin lies
wholly inside (no geometry needed), else the few footprint edges that can decide a
point of that bin (edges crossing the bin's latitude band and reaching east of its
west side: exactly the edges a crossing-number test for a point of the bin can meet).
Bins are grown by :data:`EPS_DEG` before they are classified, so a point that rounding
puts into a neighbouring bin still meets every footprint near it, and a point within
:data:`EPS_DEG` of an edge counts as inside.

The filter knows footprints only; altitude bands per entry, validity intervals and
what the footprints are come from its caller
(:class:`~airgrid.airspace.geofences.index.GeofenceIndex`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numba as nb
import numpy as np
import shapely

from airgrid.geo.constants import M_PER_DEG_LAT_MIN, M_PER_DEG_LON_EQUATOR

#: Growth of every bin (degrees) before it is classified, and the on-edge tolerance.
EPS_DEG = 1e-9


# -- kernels ---------------------------------------------------------------------------
@nb.njit(cache=True, nogil=True)
def _active(f, t, always, iv_ptr, iv_s, iv_e):
    if always[f]:
        return True
    lo = iv_ptr[f]
    hi = iv_ptr[f + 1]
    # last interval starting at or before t
    while lo < hi:
        mid = (lo + hi) // 2
        if iv_s[mid] <= t:
            lo = mid + 1
        else:
            hi = mid
    j = lo - 1
    return j >= iv_ptr[f] and t <= iv_e[j]


@nb.njit(cache=True, inline="always")
def _on_edge(px, py, ax, ay, bx, by):
    """Whether point p lies on segment a-b, within :data:`EPS_DEG` (boundary counts as inside)."""
    if (
        px < min(ax, bx) - EPS_DEG
        or px > max(ax, bx) + EPS_DEG
        or py < min(ay, by) - EPS_DEG
        or py > max(ay, by) + EPS_DEG
    ):
        return False
    dx = bx - ax
    dy = by - ay
    cross = dx * (py - ay) - dy * (px - ax)
    return abs(cross) <= EPS_DEG * math.sqrt(dx * dx + dy * dy)


@nb.njit(cache=True, nogil=True)
def _query_range(
    i0,
    i1,
    lat,
    lon,
    alt,
    t,
    use_time,
    x0,
    y0,
    inv_dx,
    inv_dy,
    nx,
    ny,
    bin_start,
    e_fence,
    e_inside,
    e_floor,
    e_ceil,
    e_es,
    e_en,
    ex0,
    ey0,
    ex1,
    ey1,
    eslope,
    always,
    iv_ptr,
    iv_s,
    iv_e,
    out_p,
    out_f,
    off,
    cap,
):
    k = 0
    for i in range(i0, i1):
        fx = (lon[i] - x0) * inv_dx
        fy = (lat[i] - y0) * inv_dy
        if not (fx >= 0.0 and fx < nx and fy >= 0.0 and fy < ny):
            continue
        b = int(fy) * nx + int(fx)
        a = alt[i]
        px = lon[i]
        py = lat[i]
        for e in range(bin_start[b], bin_start[b + 1]):
            if a < e_floor[e] or a > e_ceil[e]:
                continue
            f = e_fence[e]
            if use_time and not _active(f, t[i], always, iv_ptr, iv_s, iv_e):
                continue
            if not e_inside[e]:
                c = False
                for j in range(e_es[e], e_es[e] + e_en[e]):
                    crosses = (ey0[j] > py) != (ey1[j] > py)
                    if crosses and px < ex0[j] + (py - ey0[j]) * eslope[j]:
                        c = not c
                    if _on_edge(px, py, ex0[j], ey0[j], ex1[j], ey1[j]):
                        c = True
                        break
                if not c:
                    continue
            if k < cap:
                out_p[off + k] = i
                out_f[off + k] = f
            k += 1
    return k


@nb.njit(cache=True, parallel=True)
def _query_chunks(
    starts,
    lat,
    lon,
    alt,
    t,
    use_time,
    x0,
    y0,
    inv_dx,
    inv_dy,
    nx,
    ny,
    bin_start,
    e_fence,
    e_inside,
    e_floor,
    e_ceil,
    e_es,
    e_en,
    ex0,
    ey0,
    ex1,
    ey1,
    eslope,
    always,
    iv_ptr,
    iv_s,
    iv_e,
    out_p,
    out_f,
    cap,
    counts,
):
    for c in nb.prange(len(starts) - 1):
        counts[c] = _query_range(
            starts[c],
            starts[c + 1],
            lat,
            lon,
            alt,
            t,
            use_time,
            x0,
            y0,
            inv_dx,
            inv_dy,
            nx,
            ny,
            bin_start,
            e_fence,
            e_inside,
            e_floor,
            e_ceil,
            e_es,
            e_en,
            ex0,
            ey0,
            ex1,
            ey1,
            eslope,
            always,
            iv_ptr,
            iv_s,
            iv_e,
            out_p,
            out_f,
            c * cap,
            cap,
        )


class _QueryArgs(NamedTuple):
    """What :func:`_query_range` takes between its point range and its output buffers."""

    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    t: np.ndarray
    use_time: bool
    x0: float
    y0: float
    inv_dx: float
    inv_dy: float
    nx: int
    ny: int
    bin_start: np.ndarray
    e_fence: np.ndarray
    e_inside: np.ndarray
    e_floor: np.ndarray
    e_ceil: np.ndarray
    e_es: np.ndarray
    e_en: np.ndarray
    ex0: np.ndarray
    ey0: np.ndarray
    ex1: np.ndarray
    ey1: np.ndarray
    eslope: np.ndarray
    always: np.ndarray
    iv_ptr: np.ndarray
    iv_s: np.ndarray
    iv_e: np.ndarray


@dataclass(frozen=True)
class BinFilter:
    """A built bin filter over a list of footprints.

    Attributes
    ----------
    x0, y0
        West and south edge of bin (0, 0), degrees.
    dx, dy
        Bin size, degrees.
    nx, ny
        Bins per row and per column; bin ``b`` is row ``b // nx``, column ``b % nx``.
    bin_start
        int32[nx * ny + 1]: entries of bin ``b`` are ``bin_start[b]:bin_start[b + 1]``.
    e_bin, e_fence, e_inside
        Per entry (sorted by bin): its bin, its footprint's index, and whether the bin
        lies wholly inside the footprint.
    e_es, e_en
        Per entry: first stored edge and number of edges.
    ex0, ey0, ex1, ey1, eslope
        Per stored edge: its ends (lon, lat) and ``dlon / dlat`` (0 for a level edge).
    """

    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int
    bin_start: np.ndarray
    e_bin: np.ndarray
    e_fence: np.ndarray
    e_inside: np.ndarray
    e_es: np.ndarray
    e_en: np.ndarray
    ex0: np.ndarray
    ey0: np.ndarray
    ex1: np.ndarray
    ey1: np.ndarray
    eslope: np.ndarray

    @classmethod
    def build(cls, footprints: Sequence[shapely.Polygon], bin_m: float, max_bins: int) -> BinFilter:
        """Bins of about ``bin_m`` metres over the footprints, grown to stay under ``max_bins``."""
        w, s, e, n = np.array([fp.bounds for fp in footprints]).T
        w, s, e, n = w.min(), s.min(), e.max(), n.max()
        coslat = max(math.cos(math.radians((s + n) / 2)), 0.01)
        dy = bin_m / M_PER_DEG_LAT_MIN
        dx = bin_m / (M_PER_DEG_LON_EQUATOR * coslat)
        while (math.ceil((e - w) / dx) + 3) * (math.ceil((n - s) / dy) + 3) > max_bins:
            dx *= 1.25
            dy *= 1.25
        x0, y0 = w - dx, s - dy
        nx = math.ceil((e - w) / dx) + 3
        ny = math.ceil((n - s) / dy) + 3
        bins, fences, inside, es, en = [], [], [], [], []
        edges: list[np.ndarray] = []
        n_edges = 0
        for f, poly in enumerate(footprints):
            fw, fs, fe, fn = poly.bounds
            ix0 = max(math.floor((fw - EPS_DEG - x0) / dx), 0)
            ix1 = min(math.floor((fe + EPS_DEG - x0) / dx), nx - 1)
            iy0 = max(math.floor((fs - EPS_DEG - y0) / dy), 0)
            iy1 = min(math.floor((fn + EPS_DEG - y0) / dy), ny - 1)
            iy, ix = np.mgrid[iy0 : iy1 + 1, ix0 : ix1 + 1]
            ix, iy = ix.ravel(), iy.ravel()
            bx0 = x0 + ix * dx - EPS_DEG
            by0 = y0 + iy * dy - EPS_DEG
            boxes = shapely.box(bx0, by0, bx0 + dx + 2 * EPS_DEG, by0 + dy + 2 * EPS_DEG)
            shapely.prepare(poly)
            hit = shapely.intersects(poly, boxes)
            full = np.zeros(len(boxes), bool)
            full[hit] = shapely.covers(poly, boxes[hit])
            xy = np.asarray(poly.exterior.coords)
            ax, ay, bx, by = xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1]
            eymin, eymax, exmax = np.minimum(ay, by), np.maximum(ay, by), np.maximum(ax, bx)
            with np.errstate(divide="ignore", invalid="ignore"):
                slope = np.where(by != ay, (bx - ax) / (by - ay), 0.0)
            fe_arr = np.column_stack([ax, ay, bx, by, slope])
            idx = np.flatnonzero(hit)
            for row in np.unique(iy[idx]):
                row_idx = idx[iy[idx] == row]
                ylo = y0 + row * dy - EPS_DEG
                yhi = ylo + dy + 2 * EPS_DEG
                cand = np.flatnonzero((eymin <= yhi) & (eymax >= ylo))
                for b in row_idx:
                    bins.append(int(iy[b]) * nx + int(ix[b]))
                    fences.append(f)
                    inside.append(bool(full[b]))
                    if full[b]:
                        es.append(n_edges)
                        en.append(0)
                        continue
                    sel = cand[exmax[cand] >= bx0[b]]
                    edges.append(fe_arr[sel])
                    es.append(n_edges)
                    en.append(len(sel))
                    n_edges += len(sel)
        bins_a = np.array(bins, np.int64)
        order = np.argsort(bins_a, kind="stable")
        e_bin = bins_a[order]
        ed = np.concatenate(edges) if edges else np.zeros((0, 5))
        bin_start = np.zeros(nx * ny + 1, np.int32)
        np.cumsum(np.bincount(e_bin, minlength=nx * ny), out=bin_start[1:])
        return cls(
            x0,
            y0,
            dx,
            dy,
            nx,
            ny,
            bin_start,
            e_bin,
            np.array(fences, np.int32)[order],
            np.array(inside, np.bool_)[order],
            np.array(es, np.int32)[order],
            np.array(en, np.int32)[order],
            *(np.ascontiguousarray(ed[:, k]) for k in range(5)),
        )

    def boxes(self, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(west, south, east, north) of bins, grown by :data:`EPS_DEG` as when they were classified."""
        ix, iy = bins % self.nx, bins // self.nx
        bw = self.x0 + ix * self.dx - EPS_DEG
        bs = self.y0 + iy * self.dy - EPS_DEG
        return bw, bs, bw + self.dx + 2 * EPS_DEG, bs + self.dy + 2 * EPS_DEG

    def query(
        self,
        lat: np.ndarray,
        lon: np.ndarray,
        alt: np.ndarray,
        t: np.ndarray,
        use_time: bool,
        e_floor: np.ndarray,
        e_ceil: np.ndarray,
        always: np.ndarray,
        intervals: tuple[np.ndarray, np.ndarray, np.ndarray],
        *,
        parallel: bool = False,
        chunks: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(point, footprint) pairs of points inside footprints, within the entries' bands and active.

        Parameters
        ----------
        lat, lon, alt, t
            Contiguous float64 arrays of one length ``n > 0``, finite.
        use_time
            Whether ``t`` counts; without it every footprint is active.
        e_floor, e_ceil
            Per entry, the closed altitude band.
        always
            Per footprint, whether it is active at every instant.
        intervals
            ``(ptr, start, end)``: footprint ``f``'s closed active intervals are
            ``start[ptr[f]:ptr[f + 1]]`` to ``end[...]``, sorted.
        parallel, chunks
            Split the batch over Numba's threads into ``chunks`` pieces (default: 8
            per thread).

        Returns
        -------
        point_index : int64[k]
        fence_index : int32[k]
            Points ascending, footprints ascending within a point.
        """
        n = len(lat)
        args = self._kernel_args(lat, lon, alt, t, use_time, e_floor, e_ceil, always, intervals)
        k = max(1, min(chunks or 8 * nb.get_num_threads(), n)) if parallel else 1
        starts = np.linspace(0, n, k + 1).astype(np.int64)
        cap = int(np.diff(starts).max()) + 16
        out_p = np.empty(k * cap, np.int64)
        out_f = np.empty(k * cap, np.int32)
        counts = np.zeros(k, np.int64)
        if parallel:
            _query_chunks(starts, *args, out_p, out_f, cap, counts)
        else:
            counts[0] = _query_range(0, n, *args, out_p, out_f, 0, cap)
        return _gather(starts, counts, cap, out_p, out_f, args)

    def _kernel_args(
        self,
        lat: np.ndarray,
        lon: np.ndarray,
        alt: np.ndarray,
        t: np.ndarray,
        use_time: bool,
        e_floor: np.ndarray,
        e_ceil: np.ndarray,
        always: np.ndarray,
        intervals: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> _QueryArgs:
        """The arguments :func:`_query_range` takes between its range and its output buffers."""
        iv_ptr, iv_s, iv_e = intervals
        return _QueryArgs(
            lat,
            lon,
            alt,
            t,
            use_time,
            self.x0,
            self.y0,
            1.0 / self.dx,
            1.0 / self.dy,
            self.nx,
            self.ny,
            self.bin_start,
            self.e_fence,
            self.e_inside,
            e_floor,
            e_ceil,
            self.e_es,
            self.e_en,
            self.ex0,
            self.ey0,
            self.ex1,
            self.ey1,
            self.eslope,
            always,
            iv_ptr,
            iv_s,
            iv_e,
        )


def _gather(
    starts: np.ndarray,
    counts: np.ndarray,
    cap: int,
    out_p: np.ndarray,
    out_f: np.ndarray,
    args: _QueryArgs,
) -> tuple[np.ndarray, np.ndarray]:
    """The hits of every chunk in order, each chunk ``cap`` slots long in ``out_p``/``out_f``.

    A chunk that found more hits than its ``cap`` slots is run again with a buffer of
    exactly its count.
    """
    parts_p, parts_f = [], []
    for c in range(len(counts)):
        if counts[c] <= cap:
            parts_p.append(out_p[c * cap : c * cap + counts[c]])
            parts_f.append(out_f[c * cap : c * cap + counts[c]])
        else:
            m = int(counts[c])
            bp, bf = np.empty(m, np.int64), np.empty(m, np.int32)
            _query_range(starts[c], starts[c + 1], *args, bp, bf, 0, m)
            parts_p.append(bp)
            parts_f.append(bf)
    return np.concatenate(parts_p), np.concatenate(parts_f)


__all__ = ["EPS_DEG", "BinFilter"]
