"""Where a logistics node joins a tier: the access cell and voxel nearest the node,
preferring cells in the tier's larger connected pieces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from h3.api import basic_int as h3i

from airgrid.airspace.grid import Grid
from airgrid.routing.corridors.bearings import cell_latlng, haversine_m
from airgrid.routing.corridors.nodes import Node
from airgrid.routing.corridors.tiers import tier_voxels
from airgrid.routing.errors import NodeAccessError

#: Default search radius (H3 rings) for a node's access cell; at res 9 (cell spacing
#: ~350 m) 64 rings reach ~22 km, beyond the 15.3 km airport protection circles.
DEFAULT_ACCESS_RINGS = 64
#: Default extra rings a node may reach for a better-connected access cell (~3 km at res 9).
DEFAULT_JOIN_RINGS = 8


@dataclass(frozen=True)
class Access:
    """Where a node joins a tier.

    Attributes
    ----------
    node
        The node.
    cell
        Cell-table index of the access cell.
    voxel
        Lowest usable voxel of the access cell's column.
    offset_m
        Great-circle distance from the node to the access cell's centre.
    """

    node: Node
    cell: int
    voxel: int
    offset_m: float


def node_access(
    grid: Grid,
    t: int,
    node: Node,
    *,
    max_rings: int = DEFAULT_ACCESS_RINGS,
    join_rings: int = DEFAULT_JOIN_RINGS,
    components: np.ndarray | None = None,
) -> Access:
    """The access cell and voxel of a node in tier ``t``.

    The first ring (0 = the node's own cell) holding a cell with a usable voxel of the
    tier is found; among usable cells of that ring and the ``join_rings`` rings beyond
    it, the cell in the largest connected piece of the tier wins (lowest
    ``components`` label), then the one nearest the node.

    Parameters
    ----------
    grid
        The grid.
    t
        Tier index.
    node
        The node.
    max_rings
        Largest ring distance searched for the first usable cell.
    join_rings
        Extra rings searched for a better-connected cell.
    components
        Labels from :func:`~airgrid.routing.corridors.tiers.tier_components` (without it: the nearest usable cell).

    Raises
    ------
    CorridorError
        No usable voxel of the tier within ``max_rings`` of the node.
    """
    res = grid.tiers[t].resolution
    origin = h3i.latlng_to_cell(node.lat, node.lon, res)
    usable = grid.usable()
    v0 = tier_voxels(grid, t).start
    best: tuple | None = None
    last = max_rings
    for k in range(max_rings + 1):
        if k > last:
            break
        ring = (
            np.fromiter(h3i.grid_ring(origin, k), np.int64) if k else np.array([origin], np.int64)
        )
        ci = grid.find_cells(ring, t)
        for c in ci[ci >= 0].tolist():
            s, n = int(grid.cell_start[c]), int(grid.cell_nlayers[c])
            ok = np.flatnonzero(usable[s : s + n])
            if not len(ok):
                continue
            lat, lon = cell_latlng(int(grid.cell_id[c]))
            d = haversine_m(node.lat, node.lon, lat, lon)
            v = s + int(ok[0])
            key = (int(components[v - v0]) if components is not None else 0, d)
            if best is None:
                last = min(max_rings, k + (join_rings if components is not None else 0))
            if best is None or key < best[0]:
                best = (key, c, v, d)
    if best is None:
        raise NodeAccessError(
            f"node {node.name} ({node.lat:.5f}, {node.lon:.5f}) has no usable voxel of tier "
            f"{grid.tiers[t].name} within {max_rings} H3 rings"
        )
    return Access(node, best[1], best[2], best[3])
