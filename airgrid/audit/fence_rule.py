"""Geofences entered while active: every fix through the geofence index, crossings between fixes.

Fixes
-----
All fixes go through :meth:`GeofenceIndex.check_points` at once (its batched Numba point
check: bins, per-bin bands with true-height limits over the ground of the bin, closed
time intervals with daily periods, boundaries inside). A fix whose altitude is an
interval (AGL logs) is checked at both ends: inside at both is certain, at one possible.

Between fixes
-------------
The track is straight between fixes, with altitude and time linear, so it can enter a
fence between two fixes that are both outside it. Such segments are found without
geometry for most of them: every footprint boundary marks the cells of a lon/lat lattice
(:data:`CELL_DEG`) its edges touch, and a segment can only cross a boundary if a cell its
box touches is marked. Inside a footprint a segment can still enter a fence through its
band (climbing or descending across it, the band wholly between its ends' altitudes or
inside an end's altitude interval) or through its schedule (an active interval starting
or ending between the two fix times); one Numba pass over all segments
(:func:`~airgrid.audit.kernels.segments_across_limits`, on the footprints' boxes) flags
those. Flagged segments, and segments with one end inside a fence and the other not,
get the exact test of :meth:`GeofenceIndex.check_segment` (entry and exit interpolated
in 4D; whole-footprint bands, so never less than the fixes see), along the lowest and
highest altitudes of the ends, and for a band inside an end's altitude interval also
along the altitudes nearest the band's middle (possible only).

Runs of fixes inside a fence and stretches inside it between fixes are merged per flight
and fence when they touch in time: one violation per continuous passage.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np
import shapely

from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.audit.kernels import boundary_distances, segments_across_limits, segments_near_marked
from airgrid.audit.runs import Runs
from airgrid.audit.threads import over_spans, together
from airgrid.audit.tracks import Tracks
from airgrid.geo.constants import M_PER_DEG_LAT_MIN, M_PER_DEG_LON_EQUATOR
from airgrid.terrain import TerrainError

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
        cell, ox, oy = float(self.cell), int(self.x0), int(self.y0)
        over_spans(
            lambda a, b: segments_near_marked(
                x0[a:b], y0[a:b], x1[a:b], y1[a:b], cell, ox, oy, self.marked, out[a:b]
            ),
            len(out),
        )
        return out


@dataclass(frozen=True)
class FenceTables:
    """What the rule needs of an index besides its point and segment checks.

    Attributes
    ----------
    cells
        The boundary cells of the footprints.
    box
        float64[F, 4]: footprint bounds (west, south, east, north).
    band
        float64[F, 2]: each fence's band over its whole footprint, metres AMSL, as the
        index resolves it for segments (true-height limits over the footprint's ground).
    """

    cells: BoundaryCells
    box: np.ndarray
    band: np.ndarray


_TABLES: weakref.WeakKeyDictionary[GeofenceIndex, FenceTables] = weakref.WeakKeyDictionary()


def fence_tables(index: GeofenceIndex) -> FenceTables:
    """The :class:`FenceTables` of an index, built once per index."""
    got = _TABLES.get(index)
    if got is None:
        fps = [g.footprint for g in index.geofences]
        bands = []
        for g in index.geofences:
            try:
                bands.append(g.amsl_band(index.dem if g.uses_terrain else None))
            except TerrainError:
                bands.append(g.amsl_band(None))
        box = np.ascontiguousarray(shapely.bounds(np.array(fps, dtype=object)), np.float64)
        got = FenceTables(BoundaryCells(fps), box, np.array(bands, np.float64).reshape(-1, 2))
        _TABLES[index] = got
    return got


def _schedule_edges(index: GeofenceIndex, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of each fence's active intervals within ``[t0, t1]`` (pointer, edges)."""
    per = [
        sorted(x for iv in g.active_intervals(t0, t1) for x in iv)
        if not g.validity.permanent
        else []
        for g in index.geofences
    ]
    ptr = np.concatenate([[0], np.cumsum([len(e) for e in per])]).astype(np.int64)
    return ptr, np.array([x for e in per for x in e], np.float64)


def _pairs(index: GeofenceIndex, tracks: Tracks) -> tuple[np.ndarray, np.ndarray]:
    """Keys ``fix * F + fence`` of (fix, fence) inside, ascending: possibly (either altitude),
    certainly (both; the same array when every fix has one altitude)."""
    nf = len(index)
    p, f = _check_points(index, tracks.lat, tracks.lon, tracks.amsl_lo, tracks.t)
    lo = p * nf + f
    wide = np.flatnonzero(tracks.amsl_hi != tracks.amsl_lo)
    if len(wide) == 0:
        return lo, lo
    p2, f2 = _check_points(
        index, tracks.lat[wide], tracks.lon[wide], tracks.amsl_hi[wide], tracks.t[wide]
    )
    hi = wide[p2] * nf + f2
    lo_wide = (tracks.amsl_hi != tracks.amsl_lo)[p]
    possible = np.union1d(lo, hi)
    certain = np.union1d(lo[~lo_wide], np.intersect1d(lo[lo_wide], hi))
    return possible, certain


def _check_points(
    index: GeofenceIndex, lat: np.ndarray, lon: np.ndarray, alt: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`GeofenceIndex.check_points` over spans of the points in threads (its kernel
    releases the GIL); the same rows, points ascending."""

    def span(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        p, f = index.check_points(lat[a:b], lon[a:b], alt[a:b], t[a:b])
        return p + a, f

    parts = over_spans(span, len(lat))
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p for p, _ in parts]), np.concatenate([f for _, f in parts])


def _member(keys: np.ndarray, x: np.ndarray) -> np.ndarray:
    """bool per ``x``: it is in ``keys`` (sorted ascending)."""
    pos = np.searchsorted(keys, x)
    return (pos < len(keys)) & (keys[np.minimum(pos, len(keys) - 1)] == x)


def _segment_candidates(
    index: GeofenceIndex, tracks: Tracks, tables: FenceTables, possible: np.ndarray
) -> np.ndarray:
    """Segments (by their first fix) that need the exact segment test: near a footprint
    boundary, with one end inside a fence and the other not, or across a fence's band
    or schedule edge between two fixes."""
    nf = len(index)
    cells = tables.cells
    nxt = tracks.same_flight_next()
    lon, lat = tracks.lon, tracks.lat
    c = np.flatnonzero(cells.may_cross(lon[:-1], lat[:-1], lon[1:], lat[1:]))  # views
    c = c[nxt[c] & ((lon[c] != lon[c + 1]) | (lat[c] != lat[c + 1]))]  # moving, one flight
    xy = np.stack([tracks.lon[c], tracks.lat[c], tracks.lon[c + 1], tracks.lat[c + 1]], axis=1)
    lines = shapely.linestrings(xy.reshape(-1, 2, 2))
    cand = [c[np.unique(cells.tree.query(lines, predicate="intersects")[0])]]
    if len(tracks) > 1:
        across = np.empty(len(tracks) - 1, bool)
        ptr, edges = _schedule_edges(index, float(tracks.t.min()), float(tracks.t.max()))
        a_lo, a_hi, t = tracks.amsl_lo, tracks.amsl_hi, tracks.t
        over_spans(
            lambda a, b: segments_across_limits(
                lon[a : b + 1], lat[a : b + 1], a_lo[a : b + 1], a_hi[a : b + 1], t[a : b + 1],
                nxt[a : b + 1], tables.box, tables.band, ptr, edges, across[a:b],
            ),
            len(across),
        )  # fmt: skip
        cand.append(np.flatnonzero(across))
    if len(possible):
        p, f = possible // nf, possible % nf
        before_out = (p > 0) & nxt[np.maximum(p - 1, 0)] & ~_member(possible, (p - 1) * nf + f)
        after_out = nxt[p] & ~_member(possible, (p + 1) * nf + f)
        cand += [p[before_out] - 1, p[after_out]]
    return np.unique(np.concatenate(cand))


def _stretches(
    index: GeofenceIndex, tracks: Tracks, segs: np.ndarray, band: np.ndarray
) -> list[tuple]:
    """(fence, segment, t_entry, t_exit, certain) of every stretch inside a fence.

    A segment is tested along its lowest and highest altitudes; where the ends' altitudes
    are intervals, also, per fence whose band lies inside an end's interval, along the
    altitudes of each end nearest the middle of that band (possible only)."""
    out: list[tuple] = []
    lat, lon, t = tracks.lat, tracks.lon, tracks.t
    a_lo, a_hi = tracks.amsl_lo, tracks.amsl_hi
    mid = band.mean(axis=1)
    for k in segs.tolist():
        exact = a_lo[k] == a_hi[k] and a_lo[k + 1] == a_hi[k + 1]
        alts = [(a_lo[k], a_lo[k + 1], -1)]
        if not exact:
            alts.append((a_hi[k], a_hi[k + 1], -1))
            inside = ((a_lo[k] < band[:, 0]) & (band[:, 1] < a_hi[k])) | (
                (a_lo[k + 1] < band[:, 0]) & (band[:, 1] < a_hi[k + 1])
            )
            for f in np.flatnonzero(inside).tolist():
                a0 = min(max(mid[f], a_lo[k]), a_hi[k])
                alts.append((a0, min(max(mid[f], a_lo[k + 1]), a_hi[k + 1]), f))
        for a0, a1, only in alts:
            hits = index.check_segment(
                (lat[k], lon[k], a0, t[k]), (lat[k + 1], lon[k + 1], a1, t[k + 1])
            )
            out.extend(
                (h.fence, k, h.entry.t, h.exit.t, exact)
                for h in hits
                if only < 0 or h.fence == only
            )
    return out


def _point_runs(tracks: Tracks, nf: int, possible: np.ndarray, certain: np.ndarray) -> list[tuple]:
    """(fence, i0, i1, certain) of runs of consecutive fixes of one flight inside one fence."""
    if len(possible) == 0:
        return []
    p, f = possible // nf, possible % nf
    order = np.lexsort((p, f))
    p, f = p[order], f[order]
    cert = np.ones(len(p), bool) if certain is possible else _member(certain, possible[order])
    nxt = tracks.same_flight_next()
    cont = (f[1:] == f[:-1]) & (p[1:] == p[:-1] + 1) & nxt[p[:-1]]
    starts = np.flatnonzero(np.concatenate([[True], ~cont]))
    ends = np.concatenate([starts[1:] - 1, [len(p) - 1]])
    anyc = np.maximum.reduceat(cert.astype(np.int8), starts) > 0
    return list(zip(f[starts].tolist(), p[starts].tolist(), p[ends].tolist(), anyc.tolist()))


def fence_violations(index: GeofenceIndex, tracks: Tracks) -> tuple[np.ndarray, Runs]:
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
    tables = fence_tables(index)
    possible, certain = _pairs(index, tracks)
    # the depths of the fixes inside beside the segments' work
    depths, stretches = together(
        lambda: _fix_depths(index, tracks, possible),
        lambda: _stretches(
            index, tracks, _segment_candidates(index, tracks, tables, possible), tables.band
        ),
    )
    items = [
        (f, float(tracks.t[a]), float(tracks.t[b]), a, b, c)
        for f, a, b, c in _point_runs(tracks, nf, possible, certain)
    ]
    t = tracks.t
    for f, k, t0, t1, c in stretches:
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
    fix, fix_fence, fix_depth = depths
    depth = _run_depths(fix, fix_fence, fix_depth, fence, i0, i1)
    runs = Runs(i0, i1, m[:, 1], m[:, 2], np.array([r[5] for r in merged], bool), depth)
    return fence, runs


def _fix_depths(
    index: GeofenceIndex, tracks: Tracks, possible: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal distance (m, local equirectangular) of each fix inside a fence to the
    boundary of its footprint: fix, fence and distance of each pair of ``possible``,
    by fence then fix."""
    nf = len(index)
    p, f = possible // nf, possible % nf
    order = np.lexsort((p, f))
    p, f = p[order], f[order]
    dist = np.zeros(len(p))
    for g in np.unique(f).tolist():
        sl = slice(*np.searchsorted(f, [g, g + 1]))
        fp = index.geofences[g].footprint
        c = fp.centroid
        k = np.array([M_PER_DEG_LON_EQUATOR * math.cos(math.radians(c.y)), M_PER_DEG_LAT_MIN])
        rings = shapely.get_rings(shapely.get_parts(fp))
        ring_xy = (shapely.get_coordinates(rings) - [c.x, c.y]) * k
        ring_ptr = np.concatenate([[0], np.cumsum(shapely.get_num_coordinates(rings))])
        x = (tracks.lon[p[sl]] - c.x) * k[0]
        y = (tracks.lat[p[sl]] - c.y) * k[1]
        dist[sl] = _distances(x, y, np.ascontiguousarray(ring_xy), ring_ptr.astype(np.int64))
    return p, f, dist


def _run_depths(
    p: np.ndarray,
    f: np.ndarray,
    dist: np.ndarray,
    fence: np.ndarray,
    i0: np.ndarray,
    i1: np.ndarray,
) -> np.ndarray:
    """Largest depth (:func:`_fix_depths`: ``p``, ``f``, ``dist``) of the fixes ``i0..i1``
    of each violation inside its fence (0 for none)."""
    out = np.zeros(len(fence))
    for v, (g, a, b) in enumerate(zip(fence.tolist(), i0.tolist(), i1.tolist())):
        lo, hi = np.searchsorted(f, [g, g + 1])
        s, e = lo + np.searchsorted(p[lo:hi], [a, b + 1])
        if e > s:
            out[v] = float(dist[s:e].max())
    return out


def _distances(
    x: np.ndarray, y: np.ndarray, ring_xy: np.ndarray, ring_ptr: np.ndarray
) -> np.ndarray:
    """:func:`~airgrid.audit.kernels.boundary_distances` of the points, over the threads."""
    out = np.empty(len(x))
    over_spans(
        lambda a, b: boundary_distances(x[a:b], y[a:b], ring_xy, ring_ptr, out[a:b]),
        len(x),
        min_span=20_000,
    )
    return out


__all__ = ["CELL_DEG", "BoundaryCells", "fence_violations"]
