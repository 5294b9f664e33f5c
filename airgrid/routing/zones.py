"""Zones of the routing graph: H3 parents of the grid's cells, and the small zone graph
the fast strategy plans its corridor over.
"""

from __future__ import annotations

import numpy as np

from airgrid.airspace.grid import Grid
from airgrid.airspace.grid.h3index import parent_of
from airgrid.routing.kernels.edges import zone_crossings
from airgrid.routing.kernels.tables import Csr, Nodes


def zone_table(grid: Grid) -> tuple[int, np.ndarray, np.ndarray]:
    """Zones of a grid: H3 parents of its cells, two resolutions above the finest tier.

    The zone resolution is ``min(coarsest tier, finest tier - 2)`` (res 7 for a
    res-9 T2 grid: zones of 49 fine cells, about 2 km across), so every cell of every
    tier lies in exactly one zone.

    Returns
    -------
    zone_res : int
    cell_zone : int32[n_cells]
        Zone row of every cell.
    zones : int64[n_zones]
        The zones' H3 ids, sorted.
    """
    res = [t.resolution for t in grid.tiers]
    zone_res = max(0, min(min(res), max(res) - 2))
    parents = parent_of(np.asarray(grid.cell_id), zone_res)
    zones, cell_zone = np.unique(parents, return_inverse=True)
    return zone_res, cell_zone.astype(np.int32), zones


def zone_graph(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    zone: np.ndarray,
    nxyz: np.ndarray,
    n_zones: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The zone graph: zones joined where an edge crosses between them.

    A zone's centroid is the mean planar position of its nodes; the edge between
    two zones costs their centroid distance times the lowest cost per metre of the
    edges crossing between them. It guides corridor planning and is not a bound.

    Returns
    -------
    indptr, indices, weights
        CSR over zones (int64, int32, float32).
    xy
        Zone centroids as float32[n_zones, 3] (x, y, 0).
    """
    cnt = np.bincount(zone, minlength=n_zones).astype(np.float64)
    xy = np.zeros((n_zones, 3), np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in range(2):
            xy[:, k] = (
                np.bincount(zone, weights=nxyz[:, k].astype(np.float64), minlength=n_zones) / cnt
            )
    xy[cnt == 0, :2] = 0.0
    za, zb, rate = zone_crossings(Csr(indptr, indices, weights), Nodes(nxyz, zone))
    key = za.astype(np.int64) * n_zones + zb
    order = np.lexsort((rate, key))
    key, rate = key[order], rate[order]
    first = np.ones(len(key), bool)
    first[1:] = key[1:] != key[:-1]
    key, rate = key[first], rate[first]
    a, b = np.divmod(key, n_zones)
    d = np.hypot(xy[b, 0].astype(np.float64) - xy[a, 0], xy[b, 1].astype(np.float64) - xy[a, 1])
    ptr = np.zeros(n_zones + 1, np.int64)
    np.cumsum(np.bincount(a, minlength=n_zones), out=ptr[1:])
    return ptr, b.astype(np.int32), (d * rate).astype(np.float32), xy
