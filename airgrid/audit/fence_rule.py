"""Geofences entered while active: every fix through the geofence index, crossings between fixes.

Fixes
-----
All fixes go through :meth:`GeofenceIndex.check_points` at once (its batched Numba point
check: bins, per-bin bands with true-height limits over the ground of the bin, closed
time intervals with daily periods, boundaries inside). A fix whose altitude is an
interval (AGL logs) is checked at both ends: inside at both is certain, at one possible.
(A fence band lying wholly inside a fix's altitude interval is not seen; such intervals
are the DEM's ground uncertainty at the fix, tens of metres.)

Between fixes
-------------
The track is straight between fixes, with altitude and time linear, so it can enter a
fence between two fixes that are both outside it. Such segments are found without
geometry for most of them: every footprint boundary marks the cells of a lon/lat lattice
(:data:`CELL_DEG`) its edges touch, and a segment can only cross a boundary if a cell its
box touches is marked. Segments that pass, and segments with one end inside a fence and
the other not, get the exact test of :meth:`GeofenceIndex.check_segment` (entry and exit
interpolated in 4D; whole-footprint bands, so never less than the fixes see).

Runs of fixes inside a fence and stretches inside it between fixes are merged per flight
and fence when they touch in time: one violation per continuous passage.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.audit.kernels import segments_near_marked
from airgrid.audit.runs import Runs
from airgrid.audit.tracks import Tracks
from airgrid.geo.constants import M_PER_DEG_LAT_MIN, M_PER_DEG_LON_EQUATOR

#: Side of the lattice cells that boundaries mark, degrees (about 200 m).
CELL_DEG = 0.002
#: Most cells of the bitmap of marked cells.
MAX_CELLS = 16_000_000


class BoundaryCells:
    """Cells of a lon/lat lattice that the footprint boundaries of some geofences touch, and
    an STRtree of those boundaries."""

    def __init__(self, footprints: list[shapely.Geometry], cell_deg: float = CELL_DEG) -> None:
        w, s, e, n = shapely.total_bounds(footprints) if footprints else (0.0, 0.0, 0.0, 0.0)
        # cells grow for fences spread far apart, so the bitmap stays under MAX_CELLS
        self.cell = max(cell_deg, math.sqrt((e - w + cell_deg) * (n - s + cell_deg) / MAX_CELLS))
        codes = []
        for fp in footprints:
            for ring in shapely.get_rings(fp):
                xy = shapely.get_coordinates(ring)
                x0, y0 = (
                    self._ix(np.minimum(xy[:-1, 0], xy[1:, 0])),
                    self._iy(np.minimum(xy[:-1, 1], xy[1:, 1])),
                )
                x1, y1 = (
                    self._ix(np.maximum(xy[:-1, 0], xy[1:, 0])),
                    self._iy(np.maximum(xy[:-1, 1], xy[1:, 1])),
                )
                for a, b, c, d in zip(x0.tolist(), x1.tolist(), y0.tolist(), y1.tolist()):
                    gx, gy = np.meshgrid(np.arange(a, b + 1), np.arange(c, d + 1))
                    codes.append(np.column_stack([gx.ravel(), gy.ravel()]))
        xy = np.concatenate(codes) if codes else np.zeros((0, 2), np.int64)
        self.x0, self.y0 = (xy.min(0) if len(xy) else np.zeros(2, np.int64)).tolist()
        size = (xy.max(0) - xy.min(0) + 1) if len(xy) else np.zeros(2, np.int64)
        self.marked = np.zeros(tuple(size.tolist()), bool)
        self.marked[xy[:, 0] - self.x0, xy[:, 1] - self.y0] = True
        self.tree = shapely.STRtree([shapely.boundary(fp) for fp in footprints])

    def _ix(self, lon: np.ndarray) -> np.ndarray:
        return np.floor((np.asarray(lon) + 180.0) / self.cell).astype(np.int64)

    def _iy(self, lat: np.ndarray) -> np.ndarray:
        return np.floor((np.asarray(lat) + 90.0) / self.cell).astype(np.int64)

    def may_cross(
        self, lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray
    ) -> np.ndarray:
        """bool per segment: its box touches a marked cell, so it may meet a boundary.

        Two boxes that meet share a point, and the cell of that point is in both cell
        ranges (the cell map is monotonic), so no crossing is lost; a segment spanning at
        most one cell each way touches only the cells of its box's corners.
        """
        out = np.empty(len(lon0), bool)
        x0, y0, x1, y1 = (np.ascontiguousarray(v, np.float64) for v in (lon0, lat0, lon1, lat1))
        segments_near_marked(
            x0, y0, x1, y1, float(self.cell), int(self.x0), int(self.y0), self.marked, out
        )
        return out


def _pairs(index: GeofenceIndex, tracks: Tracks) -> tuple[np.ndarray, np.ndarray]:
    """Keys ``fix * F + fence`` of (fix, fence) inside: possibly (either altitude), certainly (both)."""
    nf = len(index)
    p, f = index.check_points(tracks.lat, tracks.lon, tracks.amsl_lo, tracks.t)
    lo = p * nf + f
    wide = np.flatnonzero(tracks.amsl_hi != tracks.amsl_lo)
    if len(wide) == 0:
        return lo, lo
    p2, f2 = index.check_points(
        tracks.lat[wide], tracks.lon[wide], tracks.amsl_hi[wide], tracks.t[wide]
    )
    hi = wide[p2] * nf + f2
    lo_wide = np.isin(p, wide)
    possible = np.union1d(lo, hi)
    certain = np.union1d(lo[~lo_wide], np.intersect1d(lo[lo_wide], hi))
    return possible, certain


def _segment_candidates(
    index: GeofenceIndex, tracks: Tracks, cells: BoundaryCells, possible: np.ndarray
) -> np.ndarray:
    """Segments (by their first fix) that need the exact segment test."""
    nf = len(index)
    nxt = tracks.same_flight_next()
    seg = np.flatnonzero(nxt)
    near = cells.may_cross(
        tracks.lon[seg], tracks.lat[seg], tracks.lon[seg + 1], tracks.lat[seg + 1]
    )
    c = seg[
        near & ((tracks.lon[seg] != tracks.lon[seg + 1]) | (tracks.lat[seg] != tracks.lat[seg + 1]))
    ]
    xy = np.stack([tracks.lon[c], tracks.lat[c], tracks.lon[c + 1], tracks.lat[c + 1]], axis=1)
    lines = shapely.linestrings(xy.reshape(-1, 2, 2))
    cand = [c[np.unique(cells.tree.query(lines, predicate="intersects")[0])]]
    if len(possible):
        p, f = possible // nf, possible % nf
        before_out = (p > 0) & nxt[np.maximum(p - 1, 0)] & ~np.isin((p - 1) * nf + f, possible)
        after_out = nxt[p] & ~np.isin((p + 1) * nf + f, possible)
        cand += [p[before_out] - 1, p[after_out]]
    return np.unique(np.concatenate(cand))


def _stretches(index: GeofenceIndex, tracks: Tracks, segs: np.ndarray) -> list[tuple]:
    """(fence, segment, t_entry, t_exit, certain) of every stretch inside a fence."""
    out: list[tuple] = []
    lat, lon, t = tracks.lat, tracks.lon, tracks.t
    for k in segs.tolist():
        exact = (
            tracks.amsl_lo[k] == tracks.amsl_hi[k]
            and tracks.amsl_lo[k + 1] == tracks.amsl_hi[k + 1]
        )
        alts = [(tracks.amsl_lo[k], tracks.amsl_lo[k + 1])]
        if not exact:
            alts.append((tracks.amsl_hi[k], tracks.amsl_hi[k + 1]))
        for a0, a1 in alts:
            hits = index.check_segment(
                (lat[k], lon[k], a0, t[k]), (lat[k + 1], lon[k + 1], a1, t[k + 1])
            )
            out.extend((h.fence, k, h.entry.t, h.exit.t, exact) for h in hits)
    return out


def _point_runs(tracks: Tracks, nf: int, possible: np.ndarray, certain: np.ndarray) -> list[tuple]:
    """(fence, i0, i1, certain) of runs of consecutive fixes of one flight inside one fence."""
    if len(possible) == 0:
        return []
    p, f = possible // nf, possible % nf
    order = np.lexsort((p, f))
    p, f = p[order], f[order]
    cert = np.isin(possible[order], certain)
    nxt = tracks.same_flight_next()
    cont = (f[1:] == f[:-1]) & (p[1:] == p[:-1] + 1) & nxt[p[:-1]]
    starts = np.flatnonzero(np.concatenate([[True], ~cont]))
    ends = np.concatenate([starts[1:] - 1, [len(p) - 1]])
    anyc = np.maximum.reduceat(cert.astype(np.int8), starts) > 0
    return list(zip(f[starts].tolist(), p[starts].tolist(), p[ends].tolist(), anyc.tolist()))


def fence_violations(
    index: GeofenceIndex, tracks: Tracks, cells: BoundaryCells | None = None
) -> tuple[np.ndarray, Runs]:
    """Passages through active geofences.

    Returns
    -------
    fence : int64[k]
        Index of the geofence of each violation (in ``index.geofences``).
    runs : Runs
        First and last fix inside each passage (the two fixes around it for a passage
        wholly between two fixes), entry and exit times (interpolated between
        fixes where the passage starts or ends between them), certainty, and the
        largest horizontal depth inside the footprint of its fixes (metres; 0 for a
        passage wholly between two fixes).
    """
    nf = len(index)
    cells = cells or BoundaryCells([g.footprint for g in index.geofences])
    possible, certain = _pairs(index, tracks)
    segs = _segment_candidates(index, tracks, cells, possible)
    items = [
        (f, float(tracks.t[a]), float(tracks.t[b]), a, b, c)
        for f, a, b, c in _point_runs(tracks, nf, possible, certain)
    ]
    t = tracks.t
    for f, k, t0, t1, c in _stretches(index, tracks, segs):
        at_k, at_next = t0 <= t[k], t1 >= t[k + 1]
        i0 = k if at_k or not at_next else k + 1
        i1 = k + 1 if at_next or not at_k else k
        items.append((f, t0, t1, i0, i1, c))
    items.sort(key=lambda r: (int(tracks.flight[r[3]]), r[0], r[1], r[2]))
    merged: list[list] = []
    for f, t0, t1, a, b, c in items:
        last = merged[-1] if merged else None
        if last and last[0] == f and tracks.flight[last[3]] == tracks.flight[a] and t0 <= last[2]:
            last[2] = max(last[2], t1)
            last[3], last[4] = min(last[3], a), max(last[4], b)
            last[5] = last[5] or c
        else:
            merged.append([f, t0, t1, a, b, c])
    if not merged:
        e = np.empty(0, np.int64)
        return e, Runs(e, e, np.empty(0), np.empty(0), np.empty(0, bool), np.empty(0))
    m = np.array([r[:5] for r in merged], dtype=np.float64)
    fence = m[:, 0].astype(np.int64)
    i0, i1 = m[:, 3].astype(np.int64), m[:, 4].astype(np.int64)
    depth = _depths(index, tracks, possible, fence, i0, i1)
    runs = Runs(i0, i1, m[:, 1], m[:, 2], np.array([r[5] for r in merged], bool), depth)
    return fence, runs


def _depths(
    index: GeofenceIndex,
    tracks: Tracks,
    possible: np.ndarray,
    fence: np.ndarray,
    i0: np.ndarray,
    i1: np.ndarray,
) -> np.ndarray:
    """Largest horizontal distance (m, local equirectangular) inside the footprint of the
    fixes of each violation that are inside its fence."""
    nf = len(index)
    p, f = possible // nf, possible % nf
    order = np.lexsort((p, f))
    p, f = p[order], f[order]
    dist = np.zeros(len(p))
    for g in np.unique(f).tolist():
        sl = slice(*np.searchsorted(f, [g, g + 1]))
        fp = index.geofences[g].footprint
        c = fp.centroid
        k = (M_PER_DEG_LON_EQUATOR * math.cos(math.radians(c.y)), M_PER_DEG_LAT_MIN)
        ring = shapely.transform(shapely.boundary(fp), lambda xy, c=c, k=k: (xy - [c.x, c.y]) * k)
        xy = (np.column_stack([tracks.lon[p[sl]], tracks.lat[p[sl]]]) - [c.x, c.y]) * k
        dist[sl] = shapely.distance(ring, shapely.points(xy))
    out = np.zeros(len(fence))
    for v, (g, a, b) in enumerate(zip(fence.tolist(), i0.tolist(), i1.tolist())):
        lo, hi = np.searchsorted(f, [g, g + 1])
        s, e = lo + np.searchsorted(p[lo:hi], [a, b + 1])
        if e > s:
            out[v] = float(dist[s:e].max())
    return out


__all__ = ["CELL_DEG", "BoundaryCells", "fence_violations"]
