"""Spread footprints over the H3 cells of one resolution, with the area each cell gets.

A footprint is sampled on a lon/lat lattice whose spacing is the resolution's average
edge length over ``samples_per_edge`` (metres, the longitude step scaled by the cosine
of the traffic's mean latitude). A Numba kernel rasterises every footprint at once (an
even-odd scanline over all its rings, so holes and multi-part footprints are handled);
each lattice node is placed in its H3 cell once, however many footprints share it,
by rasterising the hexagons around the traffic on the same lattice (:func:`_node_cells`).
A footprint's area (m²) is split over its nodes equally, so a cell receives the share of
the footprint's nodes that fall in it. A footprint too thin to hold any node gives its
whole area to the cell of its representative point.

A cell counts as touched when one of the footprint's nodes falls in it: a sliver of
overlap narrower than the lattice spacing may be missed, its area going to the
neighbouring cells the footprint does cover.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import NamedTuple

import h3
import numpy as np
import shapely
from numba import njit

from airgrid.airspace.grid.h3index import latlng_to_cells
from airgrid.geo.constants import M_PER_DEG_LAT_MIN, M_PER_DEG_LON_EQUATOR

#: Default lattice nodes per average cell edge length.
SAMPLES_PER_EDGE = 3.0


@dataclass(frozen=True)
class Apportioned:
    """Footprint areas per cell, one row per (footprint, cell) pair with area.

    Attributes
    ----------
    footprint
        Index of the footprint in the input (int64).
    cell
        H3 cell (int64).
    area_m2
        Area of the footprint apportioned to the cell (m², float64).
    """

    footprint: np.ndarray
    cell: np.ndarray
    area_m2: np.ndarray


@njit(cache=True)
def _row_nodes(xs, ys, ring_off, r0, r1, y, cross):  # pragma: no cover - numba
    """Sorted x of every ring edge crossing the row ``y`` (half-open in y); returns count."""
    n = 0
    for r in range(r0, r1):
        for k in range(ring_off[r], ring_off[r + 1] - 1):
            ya, yb = ys[k], ys[k + 1]
            if (ya <= y < yb) or (yb <= y < ya):
                cross[n] = xs[k] + (y - ya) * (xs[k + 1] - xs[k]) / (yb - ya)
                n += 1
    cross[:n].sort()
    return n


@njit(cache=True)
def _rasterise(xs, ys, ring_off, part_ring_off, part_owner, width):  # pragma: no cover
    """Lattice nodes (``i + j * width``, ``0 <= i < width``, ``j >= 0``) inside each
    owner's parts (even-odd rule).

    ``xs``/``ys`` are ring coordinates in lattice units, ``ring_off`` the first
    coordinate of each ring, ``part_ring_off`` the first ring of each part and
    ``part_owner`` the polygon each part belongs to. Returns the nodes and each node's
    owner, parts of an owner in order.
    """
    max_edges = 0
    for p in range(len(part_owner)):
        m = ring_off[part_ring_off[p + 1]] - ring_off[part_ring_off[p]]
        max_edges = max(max_edges, m)
    cross = np.empty(max_edges + 1, np.float64)
    counts = np.zeros(len(part_owner), np.int64)
    for stage in range(2):
        if stage == 1:
            total = counts.sum()
            nodes = np.empty(total, np.int64)
            owner = np.empty(total, np.int64)
            at = 0
        for p in range(len(part_owner)):
            c0, c1 = ring_off[part_ring_off[p]], ring_off[part_ring_off[p + 1]]
            j0 = max(math.ceil(ys[c0:c1].min()), 0)
            j1 = math.floor(ys[c0:c1].max())
            for j in range(j0, j1 + 1):
                n = _row_nodes(xs, ys, ring_off, part_ring_off[p], part_ring_off[p + 1], j, cross)
                for q in range(0, n - 1, 2):
                    i0 = max(math.ceil(cross[q]), 0)
                    i1 = min(math.ceil(cross[q + 1]) - 1, width - 1)
                    if stage == 0:
                        counts[p] += max(i1 - i0 + 1, 0)
                    else:
                        for i in range(i0, i1 + 1):
                            nodes[at] = i + j * width
                            owner[at] = part_owner[p]
                            at += 1
    return nodes, owner


class _Lattice(NamedTuple):
    """The sampling lattice: node ``(i, j)`` lies at ``(lon0 + i·dlon, lat0 + j·dlat)``."""

    lon0: float
    lat0: float
    dlon: float
    dlat: float
    width: int

    @classmethod
    def over(cls, bounds: np.ndarray, resolution: int, samples_per_edge: float) -> _Lattice:
        """A lattice over ``bounds`` (rows west, south, east, north) with a margin of
        :data:`_PAD_EDGES` edges, so the hexagons around the footprints lie on it."""
        lat_mid = float(np.mean(bounds[:, [1, 3]]))
        edge_m = h3.average_hexagon_edge_length(resolution, "m")
        step_m = edge_m / samples_per_edge
        dlat = step_m / M_PER_DEG_LAT_MIN
        dlon = step_m / (M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat_mid)))
        pad = _PAD_EDGES * samples_per_edge
        lon0, lat0 = bounds[:, 0].min() - pad * dlon, bounds[:, 1].min() - pad * dlat
        return cls(lon0, lat0, dlon, dlat, math.ceil((bounds[:, 2].max() - lon0) / dlon + pad) + 2)

    def rings(self, polys: np.ndarray) -> tuple[np.ndarray, ...]:
        """``xs, ys, ring_off, part_ring_off, part_owner`` of polygons for :func:`_rasterise`."""
        parts, part_owner = shapely.get_parts(polys, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        ring_off = np.searchsorted(coord_ring, np.arange(len(rings) + 1)).astype(np.int64)
        part_ring_off = np.searchsorted(ring_part, np.arange(len(parts) + 1)).astype(np.int64)
        xs = np.ascontiguousarray((coords[:, 0] - self.lon0) / self.dlon)
        ys = np.ascontiguousarray((coords[:, 1] - self.lat0) / self.dlat)
        return xs, ys, ring_off, part_ring_off, part_owner.astype(np.int64)

    def hexagon_rings(self, cells: list[str]) -> tuple[np.ndarray, ...]:
        """:meth:`rings` of H3 cells' boundaries (closed, straight edges in lon/lat)."""
        bounds = [(*b, b[0]) for b in map(h3.cell_to_boundary, cells)]
        sizes = np.fromiter(map(len, bounds), np.int64, len(bounds))
        flat = np.array(list(itertools.chain.from_iterable(bounds)), np.float64).reshape(-1, 2)
        ring_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        xs = np.ascontiguousarray((flat[:, 1] - self.lon0) / self.dlon)
        ys = np.ascontiguousarray((flat[:, 0] - self.lat0) / self.dlat)
        n = len(cells)
        return xs, ys, ring_off, np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int64)


#: Margin of the lattice around the footprints, in cell edges.
_PAD_EDGES = 12


def _node_cells(
    uniq: np.ndarray, lat: _Lattice, resolution: int, samples_per_edge: float
) -> np.ndarray:
    """The H3 cell of each lattice node, without asking H3 node by node.

    Seeds two edges apart are located with H3; the hexagons within one ring of their
    cells (nearly always every cell a node lies in) are rasterised on the lattice like
    footprints, each node taking the hexagon it falls in (hexagon edges are straight in
    lon/lat here; H3's great-circle edges differ by well under a millimetre at the
    resolutions of the tiers). A node no hexagon claims is located with H3.
    """
    if len(uniq) == 0:
        return uniq
    i, j = uniq % lat.width, uniq // lat.width
    stride = max(1, int(2 * samples_per_edge))
    wide = lat.width // stride + 1
    seeds = np.unique((j // stride) * wide + i // stride)
    si, sj = (seeds % wide + 0.5) * stride, (seeds // wide + 0.5) * stride
    seed_cells = np.unique(
        latlng_to_cells(lat.lat0 + sj * lat.dlat, lat.lon0 + si * lat.dlon, resolution)
    )
    around = {c for s in seed_cells.tolist() for c in h3.grid_disk(h3.int_to_str(s), 1)}
    hexes = sorted(around)
    xs, ys, ring_off, part_ring_off, part_owner = lat.hexagon_rings(hexes)
    keys, hex_of = _rasterise(xs, ys, ring_off, part_ring_off, part_owner, lat.width)
    order = np.argsort(uniq)
    pos = np.minimum(np.searchsorted(uniq[order], keys), len(uniq) - 1)
    hit = uniq[order[pos]] == keys
    out = np.zeros(len(uniq), np.int64)
    codes = np.fromiter((h3.str_to_int(c) for c in hexes), np.int64, len(hexes))
    out[order[pos[hit]]] = codes[hex_of[hit]]
    left = np.flatnonzero(out == 0)
    out[left] = latlng_to_cells(
        lat.lat0 + j[left] * lat.dlat, lat.lon0 + i[left] * lat.dlon, resolution
    )
    return out


def footprint_areas_m2(footprints: np.ndarray) -> np.ndarray:
    """Areas (m²) of lon/lat footprints, each scaled at its own centroid latitude."""
    lat = shapely.get_y(shapely.centroid(footprints))
    scale = M_PER_DEG_LAT_MIN * M_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat))
    return shapely.area(footprints) * scale


def apportion(
    footprints: np.ndarray, resolution: int, *, samples_per_edge: float = SAMPLES_PER_EDGE
) -> Apportioned:
    """Apportion each footprint's area to the H3 cells at ``resolution`` it covers.

    Parameters
    ----------
    footprints
        Shapely (multi)polygons in lon/lat degrees (object array).
    resolution
        H3 resolution of the cells.
    samples_per_edge
        Lattice nodes per average edge length (finer is more exact and slower).

    Returns
    -------
    Apportioned
        One row per (footprint, cell) with positive area, ordered by footprint; the
        areas of a footprint sum to its area.
    """
    fps = np.asarray(footprints, dtype=object)
    empty = np.empty(0, np.int64)
    if len(fps) == 0:
        return Apportioned(empty, empty, np.empty(0, np.float64))
    lat = _Lattice.over(shapely.bounds(fps), resolution, samples_per_edge)
    xs, ys, ring_off, part_ring_off, part_owner = lat.rings(fps)
    nodes, owner = _rasterise(xs, ys, ring_off, part_ring_off, part_owner, lat.width)
    uniq, inv = _dedupe(nodes, lat.width)
    node_cells = _node_cells(uniq, lat, resolution, samples_per_edge)
    per_fp = np.bincount(owner, minlength=len(fps))
    thin = np.flatnonzero(per_fp == 0)
    rep = shapely.point_on_surface(fps[thin])
    thin_cells = latlng_to_cells(shapely.get_y(rep), shapely.get_x(rep), resolution)
    cells, cell_idx = np.unique(np.concatenate([node_cells, thin_cells]), return_inverse=True)
    sample_fp = np.concatenate([owner, thin])
    sample_cell = np.concatenate([cell_idx[inv], cell_idx[len(node_cells) :]])
    order = np.argsort(sample_fp, kind="stable")  # thin footprints join their place
    fp, cell_i, n = _count_pairs(sample_fp[order], sample_cell[order].astype(np.int64))
    per_fp[thin] = 1
    share = footprint_areas_m2(fps)[fp] * n / per_fp[fp]
    return Apportioned(fp, cells[cell_i], share)


#: Side of the lattice blocks :func:`_dedupe` allocates (a power of two).
_BLOCK = 64


def _dedupe(nodes: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct lattice nodes (in block order) and each node's index among them,
    without sorting the nodes: a dense table over the lattice blocks any node falls in."""
    if len(nodes) == 0:
        return nodes, nodes
    i, j = nodes % width, nodes // width
    nbx = width // _BLOCK + 1
    block = (j // _BLOCK) * nbx + i // _BLOCK
    touched = np.bincount(block) > 0
    slot = np.cumsum(touched) - 1
    dense = slot[block] * (_BLOCK * _BLOCK) + (j % _BLOCK) * _BLOCK + i % _BLOCK
    mark = np.zeros(int(touched.sum()) * _BLOCK * _BLOCK, bool)
    mark[dense] = True
    present = np.flatnonzero(mark)
    table = np.full(len(mark), -1, np.int64)
    table[present] = np.arange(len(present))
    blocks = np.flatnonzero(touched)[present // (_BLOCK * _BLOCK)]
    within = present % (_BLOCK * _BLOCK)
    uniq = ((blocks // nbx) * _BLOCK + within // _BLOCK) * width + (
        (blocks % nbx) * _BLOCK + within % _BLOCK
    )
    return uniq, table[dense]


@njit(cache=True)
def _count_pairs(owner, cell):  # pragma: no cover - numba
    """(owner, cell, samples) of every distinct pair; ``owner`` is non-decreasing."""
    n = len(owner)
    out_o = np.empty(n, np.int64)
    out_c = np.empty(n, np.int64)
    out_n = np.empty(n, np.int64)
    m = 0
    a = 0
    while a < n:
        b = a
        while b < n and owner[b] == owner[a]:
            b += 1
        seg = np.sort(cell[a:b])
        k = 0
        while k < len(seg):
            q = k
            while q < len(seg) and seg[q] == seg[k]:
                q += 1
            out_o[m], out_c[m], out_n[m] = owner[a], seg[k], q - k
            m += 1
            k = q
        a = b
    return out_o[:m], out_c[:m], out_n[:m]


__all__ = ["SAMPLES_PER_EDGE", "Apportioned", "apportion", "footprint_areas_m2"]
