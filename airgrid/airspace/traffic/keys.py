"""The voxel x time-slot keys that index held airspace: :class:`KeyScheme` and its helpers.

:class:`KeyScheme` covers every volume, grown by its separation, with voxel x time-slot
keys (packed by compiled kernels). Keys are only an index: intents sharing a key are
candidates for the exact test (:mod:`~airgrid.airspace.traffic.conflicts`). Covers are
conservative (a superset), so such an index can add candidates but never hide a conflict.
(The stores find their candidates in the in-process
:class:`~airgrid.airspace.traffic.holding_index.HoldingIndex` instead.) The same module
gives the voxel-slots an intent claims in grid (cell-exclusive) mode.

**One key lattice for all tiers** (one H3
resolution, one vertical key thickness, one slot length), so intents of different tiers
whose volumes overlap physically always share keys.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import h3.api.basic_int as h3i
import numba as nb
import numpy as np
import shapely

from airgrid.airspace.errors import IntentError
from airgrid.airspace.traffic.holders import band_window
from airgrid.airspace.traffic.limits import check_key_count
from airgrid.airspace.traffic.planes import CIRCUMSCRIBE, QUAD_SEGS, flat_plane
from airgrid.airspace.traffic.separation import SeparationMinima
from airgrid.geo.plane import BUFFER_SAFETY
from airgrid.geo.volumes import Volume4D

#: Extra metres added to the grown footprint before covering it with key cells.
KEY_MARGIN_M = 2.0
#: Bits of a key that name the layer (layers wrap every 2**8).
_LAYER_BITS = 8


@nb.njit(cache=True, nogil=True)
def _pack_one(cell: int, layer: int, slot: int, resolution: int) -> int:
    """The key of one (cell, layer, slot) triple (see :func:`pack_keys`)."""
    cell_bits = 7 + 3 * resolution
    slot_bits = 63 - _LAYER_BITS - cell_bits
    c = (cell >> (45 - 3 * resolution)) & ((1 << cell_bits) - 1)
    lay = layer & ((1 << _LAYER_BITS) - 1)
    sl = slot & ((1 << slot_bits) - 1)
    return (c << (_LAYER_BITS + slot_bits)) | (lay << slot_bits) | sl


@nb.njit(cache=True, nogil=True)
def _pack_kernel(
    cells: np.ndarray, layers: np.ndarray, slots: np.ndarray, resolution: int
) -> np.ndarray:
    """:func:`_pack_one` of each row of three int64 arrays of one length."""
    out = np.empty(len(cells), np.int64)
    for i in range(len(cells)):
        out[i] = _pack_one(cells[i], layers[i], slots[i], resolution)
    return out


@nb.njit(cache=True, nogil=True)
def _cover_kernel(
    cells: np.ndarray,
    owner: np.ndarray,
    l0: np.ndarray,
    nl: np.ndarray,
    s0: np.ndarray,
    ns: np.ndarray,
    resolution: int,
) -> np.ndarray:
    """Keys of every (cell, layer, slot) of each cell's volume ``owner[i]``: layers
    ``l0[o] .. l0[o] + nl[o] - 1`` and slots ``s0[o] .. s0[o] + ns[o] - 1`` (unsorted,
    repeated where volumes share cells)."""
    total = 0
    for i in range(len(cells)):
        total += nl[owner[i]] * ns[owner[i]]
    out = np.empty(total, np.int64)
    at = 0
    for i in range(len(cells)):
        o = owner[i]
        for lay in range(l0[o], l0[o] + nl[o]):
            for sl in range(s0[o], s0[o] + ns[o]):
                out[at] = _pack_one(cells[i], lay, sl, resolution)
                at += 1
    return out


def _check_resolution(resolution: int) -> None:
    """Raise :class:`IntentError` if a key at ``resolution`` leaves fewer than 8 slot bits."""
    if 63 - _LAYER_BITS - (7 + 3 * resolution) < 8:
        raise IntentError(f"key resolution {resolution} leaves too few bits for time slots")


def pack_keys(
    cells: np.ndarray, layers: np.ndarray, slots: np.ndarray, resolution: int
) -> np.ndarray:
    """int64 key of each (cell, layer, slot) triple, ordered cell-major for locality.

    ``key = cell_bits << (8 + S) | (layer mod 2**8) << S | (slot mod 2**S)`` with
    ``cell_bits`` the 7 + 3r bits that name an H3 cell at resolution ``r`` and
    ``S = 63 - 8 - (7 + 3r)`` (27 bits at r = 7: slots wrap after ~255 years of minutes;
    layers wrap every 256 layers). The same triple always gives the same key; triples
    that differ only by a whole wrap share one, which only adds candidates to the exact
    test, never hides a conflict. Keys of one cell are contiguous. Arguments broadcast (``cells[:, None, None]`` ... gives a
    Cartesian product); the packing is a compiled kernel.
    """
    _check_resolution(resolution)
    c, lay, sl = (
        np.ascontiguousarray(a, np.int64).ravel()
        for a in np.broadcast_arrays(
            np.asarray(cells, np.int64), np.asarray(layers, np.int64), np.asarray(slots, np.int64)
        )
    )
    return _pack_kernel(c, lay, sl, resolution)


def cover_keys(
    cells: Sequence[np.ndarray],
    l0: np.ndarray,
    nl: np.ndarray,
    s0: np.ndarray,
    ns: np.ndarray,
    resolution: int,
) -> np.ndarray:
    """Sorted unique keys of every (cell, layer, slot) of volumes ``k``: the cells
    ``cells[k]``, layers ``l0[k] .. l0[k] + nl[k] - 1`` and slots ``s0[k] .. s0[k] + ns[k] - 1``
    (a compiled kernel; see :func:`pack_keys`)."""
    _check_resolution(resolution)
    if not len(cells):
        return np.empty(0, np.int64)
    owner = np.repeat(np.arange(len(cells)), [len(c) for c in cells])
    lay0, nlay, sl0, nsl = (np.ascontiguousarray(a, np.int64) for a in (l0, nl, s0, ns))
    keys = _cover_kernel(
        np.concatenate([np.asarray(c, np.int64) for c in cells]),
        owner,
        lay0,
        nlay,
        sl0,
        nsl,
        resolution,
    )
    return np.unique(keys)


def grow_for_keys(footprints: Sequence[shapely.Geometry], metres: float) -> np.ndarray:
    """Supersets of the footprints grown by ``metres`` (for key covers; errs outward).

    Works in :func:`~airgrid.airspace.traffic.planes.flat_plane` (an affine map:
    lon/lat-straight edges stay straight, no densifying, distances never overstated). A
    footprint that fills at least half of its minimum rotated rectangle (route pieces,
    circles) is replaced by that rectangle with its sides pushed out by ``metres`` (square
    corners contain the round buffer); any other is buffered by ``metres`` as a
    circumscribed polygon.
    """
    fps = np.asarray(footprints, dtype=object)
    origin, scale = flat_plane(fps)
    flat = shapely.transform(fps, lambda xy: (xy - origin) * scale)
    env = shapely.oriented_envelope(flat)
    boxy = (shapely.get_type_id(env) == 3) & (shapely.area(flat) >= 0.5 * shapely.area(env))
    grown = np.empty(len(fps), dtype=object)
    grown[boxy] = shapely.buffer(env[boxy], metres, join_style="mitre", mitre_limit=2.0)
    grown[~boxy] = shapely.buffer(flat[~boxy], metres * CIRCUMSCRIBE, quad_segs=QUAD_SEGS)
    return shapely.transform(grown, lambda xy: xy / scale + origin)


def overlap_cells(
    footprints: Sequence[shapely.Geometry] | np.ndarray, resolution: int
) -> list[np.ndarray]:
    """Per footprint, every H3 cell at ``resolution`` that overlaps it (touching counts).

    A breadth-first search over the cell grid, one ring at a time for all footprints at
    once: it starts from the cell of an interior point of each part of a footprint and its
    neighbours, keeps the cells whose polygon intersects the footprint, and goes on with
    their neighbours. The cells that overlap a connected part form a connected set (two cells
    that are not neighbours do not touch), so the search reaches every one of them. Cell
    edges are taken straight in lon/lat, < 5 cm from H3's at resolution 7, inside
    :data:`KEY_MARGIN_M`; the start ring holds a cell containing the interior point even if
    that point lies within those centimetres of an edge.
    """
    fps = np.asarray(footprints, dtype=object)
    if len(fps) == 0:
        return []
    parts, owner = shapely.get_parts(fps, return_index=True)
    seen: set[tuple[int, int]] = set()
    cells: list[int] = []
    whose: list[int] = []
    for (x, y), k in zip(
        shapely.get_coordinates(shapely.point_on_surface(parts)).tolist(), owner.tolist()
    ):
        for c in h3i.grid_disk(h3i.latlng_to_cell(y, x, resolution), 1):
            if (k, c) not in seen:
                seen.add((k, c))
                cells.append(c)
                whose.append(k)
    keep: list[list[int]] = [[] for _ in fps]
    shapely.prepare(fps)
    while cells:
        hit = shapely.intersects(
            np.array([_cell_polygon(c) for c in cells], dtype=object), fps[whose]
        )
        ring: list[int] = []
        ring_whose: list[int] = []
        for c, k, ok in zip(cells, whose, hit.tolist()):
            if ok:
                keep[k].append(c)
                for n in h3i.grid_disk(c, 1):
                    if (k, n) not in seen:
                        seen.add((k, n))
                        ring.append(n)
                        ring_whose.append(k)
        cells, whose = ring, ring_whose
    return [np.unique(np.asarray(kp, np.int64)) for kp in keep]


@lru_cache(maxsize=65536)
def _cell_polygon(cell: int) -> shapely.Polygon:
    """An H3 cell as a lon/lat polygon (edges straight in lon/lat)."""
    return shapely.Polygon([(lng, lat) for lat, lng in h3i.cell_to_boundary(cell)])


@dataclass(frozen=True)
class KeyScheme:
    """The voxel x time-slot key lattice of the index (one for all tiers).

    Attributes
    ----------
    resolution
        H3 resolution of key cells (default 7, ~1.4 km edges): coarse enough that a
        20 km route needs a few hundred keys, fine enough that candidates stay few.
    layer_m
        Vertical key thickness, metres AMSL (layer ``k`` spans ``[k*layer_m, (k+1)*layer_m]``).
    slot_s
        Time-slot length, seconds (slot ``k`` spans ``[k*slot_s, (k+1)*slot_s]``).

    Notes
    -----
    One lattice for all tiers, rather than each tier's own resolution: an intent of tier
    T1 whose band physically reaches into T2 airspace must share keys with T2 intents
    there, which separate lattices would not guarantee.
    """

    resolution: int = 7
    layer_m: float = 50.0
    slot_s: float = 60.0

    def keys(self, volumes: Sequence[Volume4D], minima: SeparationMinima) -> np.ndarray:
        """Sorted unique keys covering every volume grown by ``minima``.

        The footprint is grown by ``lateral * (1 + BUFFER_SAFETY) + KEY_MARGIN_M`` (see
        :func:`grow_for_keys`) and covered by :func:`overlap_cells`; the band grown by
        ``vertical`` and the window grown by ``seconds`` take every layer and slot they
        touch (closed intervals, so a boundary value takes both neighbours).

        For two conflicting intents, the grown cover of the one with the larger minima
        reaches the other's volume, which its own cover contains: they share a key
        (:meth:`~airgrid.airspace.traffic.separation.SeparationTable.cover_minima` makes this hold
        for any table).
        """
        grown = grow_for_keys(
            [v.footprint for v in volumes], minima.lateral_m * (1 + BUFFER_SAFETY) + KEY_MARGIN_M
        )
        cells = overlap_cells(grown, self.resolution)
        a = band_window(volumes)
        l0 = np.floor((a[:, 0] - minima.vertical_m) / self.layer_m).astype(np.int64)
        nl = np.floor((a[:, 1] + minima.vertical_m) / self.layer_m).astype(np.int64) + 1 - l0
        s0 = np.floor((a[:, 2] - minima.seconds) / self.slot_s).astype(np.int64)
        ns = np.floor((a[:, 3] + minima.seconds) / self.slot_s).astype(np.int64) + 1 - s0
        check_key_count(
            sum(len(c) * int(k) * int(m) for c, k, m in zip(cells, nl, ns)), "index keys"
        )
        return cover_keys(cells, l0, nl, s0, ns, self.resolution)

    def grid_claims(
        self, volumes: Sequence[Volume4D], resolution: int, thickness_m: float
    ) -> np.ndarray:
        """Voxel-slots (cell, layer, slot) an intent occupies in grid mode, unique rows.

        Voxels are the tier's own cells (``resolution``) and layers (``thickness_m``)
        overlapping each volume, unbuffered: in cell-exclusive operation the voxel is the
        separation. Layers and slots are half-open (``[k*t, (k+1)*t)``), like the grid.
        """
        cells = overlap_cells([v.footprint for v in volumes], resolution)
        check_key_count(
            sum(
                len(cs)
                * (math.ceil(v.ceiling_m / thickness_m) - math.floor(v.floor_m / thickness_m))
                * (math.ceil(v.t_end / self.slot_s) - math.floor(v.t_start / self.slot_s))
                for v, cs in zip(volumes, cells)
            ),
            "grid voxel-slots",
        )
        parts = []
        for v, cs in zip(volumes, cells):
            lay = np.arange(
                math.floor(v.floor_m / thickness_m), math.ceil(v.ceiling_m / thickness_m)
            )
            sl = np.arange(math.floor(v.t_start / self.slot_s), math.ceil(v.t_end / self.slot_s))
            c3, l3, s3 = np.meshgrid(cs, lay, sl, indexing="ij")
            parts.append(np.column_stack([c3.ravel(), l3.ravel(), s3.ravel()]))
        return np.unique(np.concatenate(parts), axis=0)


__all__ = [
    "KEY_MARGIN_M",
    "KeyScheme",
    "cover_keys",
    "grow_for_keys",
    "overlap_cells",
    "pack_keys",
]
