"""One tier of the routing graph on its own: its index by name, its voxels, the mask
that blocks everything else, and its connected pieces.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from airgrid.airspace.grid import Grid
from airgrid.routing.errors import CorridorError
from airgrid.routing.graph import RouteGraph
from airgrid.routing.search.constraints import Constraints, constraint_mask
from airgrid.routing.search.reach import union


def tier_index(grid: Grid, tier: str | int) -> int:
    """Index of a tier given by name or index.

    Raises
    ------
    CorridorError
        No such tier in the grid.
    """
    names = [t.name for t in grid.tiers]
    if isinstance(tier, (int, np.integer)) and not isinstance(tier, bool):
        if 0 <= int(tier) < len(names):
            return int(tier)
    elif tier in names:
        return names.index(str(tier))
    raise CorridorError(f"unknown tier {tier!r}; this grid has {names}")


def tier_mask(graph: RouteGraph, t: int) -> np.ndarray:
    """Blocked-voxel mask (uint8) that keeps a search inside tier ``t``."""
    if len(graph.grid.tiers) == 1:
        return np.empty(0, np.uint8)
    return constraint_mask(graph, Constraints(tiers=[graph.grid.tiers[t].name]))


def tier_voxels(grid: Grid, t: int) -> slice:
    """The contiguous range of voxel indices of tier ``t``."""
    sl = grid.tier_slice(t)
    return slice(int(grid.cell_start[sl.start]), int(grid.cell_start[sl.stop]))


@njit(cache=True)
def _union_find_labels(indptr: np.ndarray, indices: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Connected-piece root of every node in ``[lo, hi)``, edges to nodes outside ignored."""
    n = hi - lo
    parent = np.arange(n, dtype=np.int64)
    for u in range(n):
        for e in range(indptr[lo + u], indptr[lo + u + 1]):
            w = indices[e] - lo
            if w < 0 or w >= n:
                continue
            union(parent, u, w)
    for u in range(n):
        parent[u] = parent[parent[u]]
    return parent


def tier_components(graph: RouteGraph, t: int) -> np.ndarray:
    """Connected pieces of tier ``t``'s voxels (edges inside the tier only).

    Returns
    -------
    numpy.ndarray
        int64 label per voxel of the tier (indexed from the tier's first voxel, see
        :func:`tier_voxels`); labels are numbered by decreasing piece size, so label 0
        is the largest piece. Blocked voxels get their own singleton labels.

    Notes
    -----
    Union-find (union by smaller root, path halving) over the graph's CSR in one Numba
    pass; edges are symmetric, so these are the weakly connected components.
    """
    vs = tier_voxels(graph.grid, t)
    root = _union_find_labels(graph.indptr, graph.indices, vs.start, vs.stop)
    sizes = np.bincount(root, minlength=len(root))
    roots = np.flatnonzero(sizes)
    rank = np.zeros(len(root), np.int64)
    rank[roots[np.argsort(-sizes[roots], kind="stable")]] = np.arange(len(roots))
    return rank[root]
