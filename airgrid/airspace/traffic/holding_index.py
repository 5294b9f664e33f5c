"""In-process copy of the intents that hold airspace, with a bucket index of their volumes.

A SQLite :class:`~airgrid.airspace.store.service.Store` finds the candidates for the exact
conflict test here instead of in the database. The copy is only ever trusted inside the
store's write transaction, after the store has brought it to the database's revision
(see the store module); this module itself is pure bookkeeping.

Design
------
Every holding intent's volumes are rows of one array (bounding box in degrees, band,
window; with owner, volume number and tier beside) and are registered in every **bucket**
their box touches: a bucket is a :data:`BUCKET_DEG` x :data:`BUCKET_DEG` lon/lat square,
:data:`BUCKET_M` high, during a :data:`BUCKET_S` time step. Buckets live in a hash multimap
of plain arrays (chained entries). A query is one compiled (Numba) pass: it grows each of
its volumes by the largest separation that applies (conservatively, in degrees), visits the
buckets that grown box touches, and keeps the rows whose box, band and window meet the
query's grown by the separation between the query's tier and the row's. Two boxes that meet
share a point, and that point's bucket is in both ranges, so the bucket lookup loses
nothing. A volume that would need more than :data:`MAX_BUCKETS` buckets (hours long, or
tens of kilometres wide) is kept in a short list that every query scans instead, and so are
the rows added since the buckets were last filled (at most :data:`RECENT_ROWS`), so that
adding one intent costs no hashing. Removed rows are marked dead (a box that meets
nothing); the arrays are rebuilt once the dead outnumber the living.

Safety
------
If the exact test (:func:`~airgrid.airspace.traffic.conflicts.find_conflicts`) finds two footprints
in conflict, their distance in the local stereographic plane is at most
``lateral * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M``, so their geodesic distance is at
most that grown once more by the same two margins (which cover the plane's scale error and
its straight edges, both far smaller). A shortest path of that length changes latitude by
at most its length over the shortest degree of latitude (110 574 m), and longitude by at
most its length over the shortest degree of longitude met on the way: the query boxes are
grown by exactly these amounts for the pair's lateral minimum, and bands and windows by
its vertical and time minima. Intervals are closed everywhere.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

import numba as nb
import numpy as np
import shapely

from airgrid.airspace.traffic.conflicts import LATERAL_TOLERANCE_M
from airgrid.airspace.traffic.holders import Holder, HolderVolumes, volume_limits
from airgrid.airspace.traffic.models import IntentState
from airgrid.airspace.traffic.separation import SeparationMinima
from airgrid.airspace.traffic.volume_cache import CACHE_VOLUMES, VolumeCache
from airgrid.geo.constants import M_PER_DEG_LAT_MIN
from airgrid.geo.plane import BUFFER_SAFETY
from airgrid.geo.volumes import Volume4D

#: Bucket side, degrees of longitude and latitude (about 2 km).
BUCKET_DEG = 0.02
#: Bucket duration, seconds.
BUCKET_S = 300.0
#: Bucket height, metres (layers are clipped to -6.4 km .. 102 km, far beyond any flight).
BUCKET_M = 100.0
_LAYER_MIN, _LAYER_MAX = -64, 1023
#: A volume touching more buckets than this is scanned by every query instead.
MAX_BUCKETS = 256
#: Rows added since the buckets were last filled are scanned by every query; once there are
#: more than this, they are put in their buckets (so adding one intent costs no hashing).
RECENT_ROWS = 64
#: Start of an empty span of bucket ranges (every range's low end above its high end; far
#: beyond any bucket number, small enough that range sizes do not overflow).
_SPAN_LO, _SPAN_HI = 1 << 40, -(1 << 40)
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)
#: Footprints parsed at once when loading store rows (bounds only; the geometries are dropped).
_PARSE_CHUNK = 16_384


# -- kernels ---------------------------------------------------------------------------
@nb.njit(cache=True, nogil=True)
def _layer(z: float) -> int:
    """Layer of altitude ``z`` (m), clipped to the layers buckets know."""
    return min(max(math.floor(max(min(z, 1e9), -1e9) / BUCKET_M), _LAYER_MIN), _LAYER_MAX)


@nb.njit(cache=True, nogil=True)
def _ranges(b: np.ndarray) -> tuple[int, int, int, int, int, int, int, int]:
    """Inclusive bucket ranges (x0, x1, y0, y1, z0, z1, s0, s1) of one row
    ``[west, south, east, north, floor, ceiling, t_start, t_end]``. Every range goes through
    the same non-decreasing map on both sides (x and y clipped to [0, 65535]: only grown
    query boxes pass the poles or the antimeridian; layers clipped, see BUCKET_M), so two
    rows that meet share a bucket."""
    x0 = min(max(math.floor((b[0] + 180.0) / BUCKET_DEG), 0), 0xFFFF)
    x1 = min(max(math.floor((b[2] + 180.0) / BUCKET_DEG), 0), 0xFFFF)
    y0 = min(max(math.floor((b[1] + 90.0) / BUCKET_DEG), 0), 0xFFFF)
    y1 = min(max(math.floor((b[3] + 90.0) / BUCKET_DEG), 0), 0xFFFF)
    return (
        x0,
        x1,
        y0,
        y1,
        _layer(b[4]),
        _layer(b[5]),
        math.floor(b[6] / BUCKET_S),
        math.floor(b[7] / BUCKET_S),
    )


@nb.njit(cache=True, nogil=True)
def _clipped(r: tuple, span: np.ndarray) -> tuple[int, int, int, int, int, int, int, int]:
    """Bucket ranges ``r`` (as :func:`_ranges`) cut to ``span``; a range may come out empty."""
    return (
        max(r[0], span[0]),
        min(r[1], span[1]),
        max(r[2], span[2]),
        min(r[3], span[3]),
        max(r[4], span[4]),
        min(r[5], span[5]),
        max(r[6], span[6]),
        min(r[7], span[7]),
    )


@nb.njit(cache=True, nogil=True)
def _widen(box: np.ndarray, rows: np.ndarray, span: np.ndarray) -> None:
    """Grow ``span`` in place to cover the bucket ranges of ``rows`` of ``box``."""
    for r in rows:
        b = _ranges(box[r])
        for c in range(0, 8, 2):
            span[c] = min(span[c], b[c])
            span[c + 1] = max(span[c + 1], b[c + 1])


@nb.njit(cache=True, nogil=True)
def _code(x: int, y: int, z: int, s: int) -> np.int64:
    """A bucket's code: x, y and layer in the low 43 bits, the time step above (steps about
    ten years apart share codes; distinct buckets sharing one only cost box tests)."""
    u = (
        (np.uint64(s) << np.uint64(43))
        | (np.uint64(x) << np.uint64(27))
        | (np.uint64(y) << np.uint64(11))
        | np.uint64(z - _LAYER_MIN)
    )
    return np.int64(u & np.uint64(0x7FFFFFFFFFFFFFFF))


@nb.njit(cache=True, nogil=True)
def _slot(code: np.int64, shift: int) -> np.int64:
    """Hash-table slot of a bucket code (multiplicative hashing, top bits)."""
    return np.int64((np.uint64(code) * _HASH_MUL) >> np.uint64(shift))


@nb.njit(cache=True, nogil=True)
def _bucket_counts(box: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Buckets each of ``rows`` of ``box`` touches."""
    out = np.empty(rows.shape[0], np.int64)
    for n in range(rows.shape[0]):
        x0, x1, y0, y1, z0, z1, s0, s1 = _ranges(box[rows[n]])
        out[n] = (x1 - x0 + 1) * (y1 - y0 + 1) * (z1 - z0 + 1) * (s1 - s0 + 1)
    return out


@nb.njit(cache=True, nogil=True)
def _register(
    box: np.ndarray, rows: np.ndarray, head: np.ndarray, shift: int, entry: np.ndarray, n: int
) -> int:
    """Chain an entry (bucket code, row, next entry) per (row, bucket) into ``head``;
    returns the new entry count."""
    for r in rows:
        x0, x1, y0, y1, z0, z1, s0, s1 = _ranges(box[r])
        for s in range(s0, s1 + 1):
            for x in range(x0, x1 + 1):
                for y in range(y0, y1 + 1):
                    for z in range(z0, z1 + 1):
                        code = _code(x, y, z, s)
                        h = _slot(code, shift)
                        entry[n, 0] = code
                        entry[n, 1] = r
                        entry[n, 2] = head[h]
                        head[h] = n
                        n += 1
    return n


@nb.njit(cache=True, nogil=True)
def _meets(lim: np.ndarray, g: np.ndarray, b: np.ndarray) -> bool:
    """Whether box row ``b`` meets query row ``lim`` grown by ``g`` = (dlon, dlat, vertical,
    seconds)."""
    return (
        b[0] <= lim[2] + g[0]
        and lim[0] - g[0] <= b[2]
        and b[1] <= lim[3] + g[1]
        and lim[1] - g[1] <= b[3]
        and b[4] <= lim[5] + g[2]
        and lim[4] - g[2] <= b[5]
        and b[6] <= lim[7] + g[3]
        and lim[6] - g[3] <= b[7]
    )


@nb.njit(cache=True, nogil=True)
def _growth(lim: np.ndarray, minima: np.ndarray) -> np.ndarray:
    """Per tier, how far query boxes grow: (dlon, dlat, vertical, seconds) from rows
    (reach m, vertical m, seconds) of ``minima``, for queries with limits ``lim``."""
    g = np.empty((minima.shape[0], 4))
    lat_max = 0.0
    for j in range(lim.shape[0]):
        lat_max = max(lat_max, abs(lim[j, 1]), abs(lim[j, 3]))
    lat_max = min(lat_max + minima[:, 0].max() / M_PER_DEG_LAT_MIN, 90.0)
    coslat = max(math.cos(math.radians(lat_max)), 1e-9)
    for t in range(minima.shape[0]):
        g[t, 0] = minima[t, 0] / (M_PER_DEG_LAT_MIN * coslat)
        g[t, 1] = minima[t, 0] / M_PER_DEG_LAT_MIN
        g[t, 2] = minima[t, 1]
        g[t, 3] = minima[t, 2]
    return g


@nb.njit(cache=True, nogil=True)
def _query(
    lim: np.ndarray,
    minima: np.ndarray,
    box: np.ndarray,
    owner: np.ndarray,
    vol: np.ndarray,
    tier: np.ndarray,
    n_rows: int,
    recent: int,
    head: np.ndarray,
    shift: int,
    entry: np.ndarray,
    big: np.ndarray,
    span: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Live rows that meet a row of ``lim`` grown by the minima of the row's tier (see
    :func:`_growth`), ordered by owner and volume; with, per row, the index of its owner
    among the sorted unique owners. Rows from ``recent`` on are not in buckets yet.

    ``span`` holds the bucket ranges (as :func:`_ranges`) that every bucketed row lies
    within: a query visits only buckets inside them (the others hold no entry), and scans
    every row instead when more buckets than :data:`MAX_BUCKETS` and a quarter of the rows
    are left."""
    g = _growth(lim, minima)
    gmax = np.empty(4)
    for c in range(4):
        gmax[c] = g[:, c].max()
    hits = np.empty(64, np.int64)
    k = 0
    q = np.empty(8)
    for j in range(lim.shape[0]):
        q[:] = lim[j]
        q[0] -= gmax[0]
        q[2] += gmax[0]
        q[1] -= gmax[1]
        q[3] += gmax[1]
        q[4] -= gmax[2]
        q[5] += gmax[2]
        q[6] -= gmax[3]
        q[7] += gmax[3]
        x0, x1, y0, y1, z0, z1, s0, s1 = _clipped(_ranges(q), span)
        nx, ny, nz, ns = x1 - x0 + 1, y1 - y0 + 1, z1 - z0 + 1, s1 - s0 + 1
        if min(nx, ny, nz, ns) > 0 and nx * ny * nz * ns > max(MAX_BUCKETS, n_rows // 4):
            scan = np.arange(n_rows)  # a huge query: scan everything
        else:
            scan = np.concatenate((big, np.arange(recent, n_rows)))
            for s in range(s0, s1 + 1):
                for x in range(x0, x1 + 1):
                    for y in range(y0, y1 + 1):
                        for z in range(z0, z1 + 1):
                            code = _code(x, y, z, s)
                            e = head[_slot(code, shift)]
                            while e >= 0:
                                r = entry[e, 1]
                                if entry[e, 0] == code and _meets(lim[j], g[tier[r]], box[r]):
                                    if k == hits.shape[0]:
                                        hits = np.concatenate((hits, np.empty(k, np.int64)))
                                    hits[k] = r
                                    k += 1
                                e = entry[e, 2]
        for r in scan:
            if _meets(lim[j], g[tier[r]], box[r]):
                if k == hits.shape[0]:
                    hits = np.concatenate((hits, np.empty(k, np.int64)))
                hits[k] = r
                k += 1
    found = np.unique(hits[:k])
    key = np.empty(found.shape[0], np.int64)
    for n in range(found.shape[0]):
        key[n] = owner[found[n]] * 8192 + vol[found[n]]  # volumes per intent < 8192
    found = found[np.argsort(key)]
    holder = np.empty(found.shape[0], np.int64)
    h = -1
    for n in range(found.shape[0]):
        if n == 0 or owner[found[n]] != owner[found[n - 1]]:
            h += 1
        holder[n] = h
    return found, holder


class HoldingIndex:
    """The holding intents of one store at one revision, and their volumes' buckets.

    Volumes are kept compactly, as limits in arrays and footprints as WKB (100,000 intents
    of two route pieces each took 258 MB, 1.3 KB per volume with everything);
    :meth:`candidates` turns only the intents it returns back into
    :class:`~airgrid.airspace.traffic.holders.Holder` objects with shapely footprints, and
    keeps the volumes of those used last in a bounded cache
    (:class:`~airgrid.airspace.traffic.volume_cache.VolumeCache`).

    Parameters
    ----------
    cache_volumes
        Volumes the cache keeps at most.

    Attributes
    ----------
    rev
        Store revision this copy reflects (None: nothing loaded).
    lock
        Held by whoever reads or changes the copy.
    deciding
        Held by the store's acceptance transactions in this process, each from its
        start until the copy has taken its acceptance over (see
        :meth:`~airgrid.airspace.store.service.Store.submit`).
    """

    def __init__(self, cache_volumes: int = CACHE_VOLUMES) -> None:
        self.lock = threading.Lock()
        self.deciding = threading.Lock()
        self._cache_volumes = cache_volumes
        self.clear()

    def clear(self, rev: int | None = None) -> None:
        """Forget everything; the copy then reflects an empty store at ``rev``."""
        self.rev = rev
        self._cache = VolumeCache(self._cache_volumes)  # the volumes of the holders used last
        self._heads: dict[int, Holder] = {}  # each holder without its volumes
        self._rows: dict[int, np.ndarray] = {}  # its rows, in volume order
        self._tiers: dict[str, int] = {}  # tier name -> number
        self._box = np.empty((0, 8))  # west, south, east, north, floor, ceiling, t_start, t_end
        self._owner = np.empty(0, np.int64)  # seq, or -1 once removed
        self._vol = np.empty(0, np.int64)  # index of the volume in its intent
        self._tier = np.empty(0, np.int8)  # tier number of its intent
        self._wkb = np.empty(0, object)  # footprint, as WKB
        self._n = 0
        self._hashed = 0  # rows before this are in their buckets (or big)
        self._dead = 0
        self._big: set[int] = set()
        self._big_arr = np.empty(0, np.int64)
        self._shift = 64 - 10
        self._head = np.full(1 << 10, -1, np.int64)
        self._entry = np.empty((0, 3), np.int64)  # bucket code, row, next entry of the chain
        self._entries = 0
        # bucket ranges of every row ever bucketed since the last clear (empty: lo > hi)
        self._span = np.array([_SPAN_LO, _SPAN_HI] * 4, np.int64)

    def __len__(self) -> int:
        return len(self._heads)

    def __contains__(self, seq: int) -> bool:
        return seq in self._heads

    # -- changes ------------------------------------------------------------------------
    def add(self, items: Iterable[tuple[int, Holder]], limits: np.ndarray | None = None) -> None:
        """Add holders (``(seq, holder)``; a seq already present is replaced).

        ``limits`` are those of all their volumes in order (see
        :func:`~airgrid.airspace.traffic.holders.volume_limits`), when already at hand.
        """
        items = list(items)
        vols = [v for _, h in items for v in h.volumes]
        if limits is None:
            fps, limits = volume_limits(vols)
        else:
            fps = np.array([v.footprint for v in vols], dtype=object)
        self._append(
            [(seq, replace(h, volumes=())) for seq, h in items],
            [len(h.volumes) for _, h in items],
            shapely.to_wkb(fps) if len(fps) else np.empty(0, object),
            limits,
        )
        for seq, h in items:
            self._cache.put(seq, h.volumes)

    def add_rows(self, rows: Sequence[Sequence]) -> None:
        """Add holders from store rows ``seq, id, operator, priority, tier, state, footprint
        (WKB), floor_m, ceiling_m, t_start, t_end``, ordered by seq and volume.

        Bounding boxes are computed from the footprints themselves, not taken from stored
        columns, so the buckets always agree with the geometry the exact test sees.
        """
        if not rows:
            return
        wkb = np.array([bytes(r[6]) for r in rows], dtype=object)
        box = np.empty((len(rows), 8))
        for at in range(0, len(rows), _PARSE_CHUNK):  # parsed a chunk at a time: a small peak
            box[at : at + _PARSE_CHUNK, :4] = shapely.bounds(
                shapely.from_wkb(wkb[at : at + _PARSE_CHUNK])
            )
        box[:, 4:] = [r[7:11] for r in rows]
        heads: list[tuple[int, Holder]] = []
        counts: list[int] = []
        for n, r in enumerate(rows):
            if n and rows[n - 1][0] == r[0]:
                counts[-1] += 1
            else:
                heads.append(
                    (int(r[0]), Holder(r[1], r[2], int(r[3]), r[4], IntentState(r[5]), ()))
                )
                counts.append(1)
        self._append(heads, counts, wkb, box)

    def _append(
        self, heads: list[tuple[int, Holder]], counts: list[int], wkb: np.ndarray, box: np.ndarray
    ) -> None:
        """Store holders (without volumes) whose volumes, ``counts[i]`` for ``heads[i]``,
        have these footprints (WKB) and limits, in order."""
        for seq, _ in heads:
            self.remove(seq)
        if not len(wkb):
            return
        first = self._n
        end = first + len(wkb)
        if end > len(self._owner):
            cap = max(end + end // 4, 2 * len(self._owner), 1024)
            self._box = np.concatenate([self._box[:first], np.empty((cap - first, 8))])
            self._owner = np.concatenate([self._owner[:first], np.full(cap - first, -1, np.int64)])
            self._vol = np.resize(self._vol[:first], cap)
            self._tier = np.resize(self._tier[:first], cap)
            self._wkb = np.concatenate([self._wkb[:first], np.empty(cap - first, object)])
        row_of = np.arange(first, end)
        if len(heads) == 1:
            ((seq, h),) = heads
            self._owner[first:end] = seq
            self._tier[first:end] = self._tiers.setdefault(h.tier, len(self._tiers))
            self._vol[first:end] = row_of - first
        else:  # rows in time-then-space order: what one query meets lies together
            owner = np.repeat([seq for seq, _ in heads], counts)
            tier = np.repeat(
                [self._tiers.setdefault(h.tier, len(self._tiers)) for _, h in heads], counts
            )
            vol = np.concatenate([np.arange(n) for n in counts])
            order = np.lexsort((box[:, 1], box[:, 0], np.floor(box[:, 6] / BUCKET_S)))
            wkb, box = wkb[order], box[order]
            self._owner[first:end], self._tier[first:end], self._vol[first:end] = (
                owner[order],
                tier[order],
                vol[order],
            )
            row_of[order] = row_of.copy()
        self._wkb[first:end] = wkb
        self._box[first:end] = box
        at = 0
        for (seq, h), n in zip(heads, counts):
            self._heads[seq] = h
            self._rows[seq] = row_of[at : at + n]
            at += n
        self._n = end
        if end - self._hashed > RECENT_ROWS:
            self._hash_recent()

    def _hash_recent(self) -> None:
        """Put the live rows added since the last time in their buckets (or the big list)."""
        rows = self._hashed + np.flatnonzero(self._owner[self._hashed : self._n] >= 0)
        buckets = _bucket_counts(self._box, rows)
        big = buckets > MAX_BUCKETS
        if big.any():
            self._big.update(rows[big].tolist())
            self._big_arr = np.array(sorted(self._big), np.int64)
        _widen(self._box, rows[~big], self._span)
        self._register(rows[~big], int(buckets[~big].sum()))
        self._hashed = self._n

    def _register(self, rows: np.ndarray, entries: int) -> None:
        """Chain ``rows`` (``entries`` buckets in all) into the multimap, first rehashing every
        live row into a table twice as large when the chains would grow long."""
        need = self._entries + entries
        if need > 2 * len(self._head):
            rows = np.flatnonzero(self._owner[: self._n] >= 0)
            rows = rows[~np.isin(rows, self._big_arr)]
            need = int(_bucket_counts(self._box, rows).sum())
            bits = max(10, need.bit_length())
            self._shift = 64 - bits
            self._head = np.full(1 << bits, -1, np.int64)
            self._entries = 0
        if need > len(self._entry):
            cap = max(need + need // 4, 2 * len(self._entry), 4096)
            self._entry = np.concatenate(
                [self._entry[: self._entries], np.empty((cap - self._entries, 3), np.int64)]
            )
        self._entries = _register(
            self._box, rows, self._head, self._shift, self._entry, self._entries
        )

    def remove(self, seq: int) -> None:
        """Drop the holder stored under ``seq`` (no-op if absent)."""
        if self._heads.pop(seq, None) is None:
            return
        rows = self._rows.pop(seq)
        self._cache.drop(seq)
        self._owner[rows] = -1
        self._box[rows] = np.nan  # meets nothing
        self._wkb[rows] = None
        self._dead += len(rows)
        if self._big.intersection(rows.tolist()):
            self._big.difference_update(rows.tolist())
            self._big_arr = np.array(sorted(self._big), np.int64)
        if self._dead > max(4096, self._n - self._dead):  # compact: the living, in seq order
            seqs = sorted(self._heads)
            heads = [(s, self._heads[s]) for s in seqs]
            counts = [len(self._rows[s]) for s in seqs]
            rows = np.concatenate([self._rows[s] for s in seqs]) if seqs else np.empty(0, np.int64)
            wkb, box, cache = self._wkb[rows], self._box[rows], self._cache
            self.clear(self.rev)
            self._append(heads, counts, wkb, box)
            self._cache = cache

    def set_state(self, seq: int, state: IntentState) -> None:
        """Record a state change of a holder that keeps holding airspace."""
        self._heads[seq] = replace(self._heads[seq], state=state)

    # -- queries ------------------------------------------------------------------------
    def candidates(
        self, limits: np.ndarray, minima: Mapping[str, SeparationMinima]
    ) -> HolderVolumes:
        """The volumes that may come within the separation of volumes with these ``limits``
        (see :func:`~airgrid.airspace.traffic.holders.volume_limits`), with their holders (all their
        volumes) ordered by seq: a superset of those the exact test can find in conflict.

        ``minima`` gives, per tier of the holders, the separation that applies to them (every
        tier held must be there).
        """
        if not self._heads or not len(limits):
            return HolderVolumes.of([])
        table = np.empty((len(self._tiers), 3))
        for name, t in self._tiers.items():
            m = minima[name]
            table[t] = (
                (m.lateral_m * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M) * (1 + BUFFER_SAFETY)
                + LATERAL_TOLERANCE_M,
                m.vertical_m,
                m.seconds,
            )
        rows, holder = _query(
            limits,
            table,
            self._box,
            self._owner,
            self._vol,
            self._tier,
            self._n,
            self._hashed,
            self._head,
            self._shift,
            self._entry,
            self._big_arr,
            self._span,
        )
        if not len(rows):
            return HolderVolumes.of([])
        seqs = self._owner[rows]
        seqs = seqs[np.r_[True, seqs[1:] != seqs[:-1]]].tolist()
        vols: dict[int, tuple[Volume4D, ...]] = {}
        missing = []
        for s in seqs:
            got = self._cache.get(s)
            if got is None:
                missing.append(s)
            else:
                vols[s] = got
        if missing:
            own = [self._rows[s] for s in missing]
            every = np.concatenate(own)
            geoms = shapely.from_wkb(self._wkb[every])
            bands = self._box[every, 4:].tolist()
            at = 0
            for s, rr in zip(missing, own):
                vols[s] = tuple(Volume4D(geoms[at + k], *bands[at + k]) for k in range(len(rr)))
                self._cache.put(s, vols[s])
                at += len(rr)
        holders = []
        for s in seqs:
            h = self._heads[s]
            holders.append(Holder(h.id, h.operator, h.priority, h.tier, h.state, vols[s]))
        vol = self._vol[rows]
        fps = np.array(
            [holders[h].volumes[v].footprint for h, v in zip(holder.tolist(), vol.tolist())],
            dtype=object,
        )
        return HolderVolumes(holders, holder, vol, fps, self._box[rows])


__all__ = ["BUCKET_DEG", "BUCKET_M", "BUCKET_S", "MAX_BUCKETS", "RECENT_ROWS", "HoldingIndex"]
