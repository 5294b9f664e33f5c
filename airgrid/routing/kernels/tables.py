"""The argument groups of the routing kernels: named tuples of arrays (and a few scalars)
that Numba takes as one typed argument each.

Fields that travel together get one tuple: the CSR of a graph, its per-node table, the
heuristic's lower bounds, one query's limits, and the reusable search workspace. The
graph build's cell and voxel tables are here too.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Csr(NamedTuple):
    """A directed graph in compressed sparse rows.

    Attributes
    ----------
    indptr : int64[n + 1]
        Out-edges of node ``u`` are ``indptr[u]:indptr[u + 1]``.
    indices : int32[E]
        Edge targets.
    weights : float32[E]
        Edge costs.
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray


class Nodes(NamedTuple):
    """Per-node table of a search graph.

    Attributes
    ----------
    nxyz : float32[n, 3]
        Planar x, y (m) and altitude z (m) of every node.
    zone : int32[n]
        Zone of every node.
    """

    nxyz: np.ndarray
    zone: np.ndarray


class Bounds(NamedTuple):
    """The lower bounds the A* heuristic combines (see :func:`.astar.astar`).

    Attributes
    ----------
    dirs : float64[3, 2]
        Unit vectors (x, y) of the 3 face normals of the hex lattice in the graph's plane.
    rates : float64[2, 3]
        Per direction, cost lower bounds per metre of progress along (row 0) and
        against (row 1) it.
    hr, vr : float
        Lower bounds of cost per planar / vertical metre.
    lm : float64[n, 2L]
        Landmark distances, ``lm[v, i] = d(L_i, v)`` and ``lm[v, L + i] = d(v, L_i)``
        (inf where unreachable); shape (0, 0) for none.
    """

    dirs: np.ndarray
    rates: np.ndarray
    hr: float
    vr: float
    lm: np.ndarray


class Limits(NamedTuple):
    """What one A* query may enter and spend.

    Attributes
    ----------
    blocked : uint8[n] or empty
        Nonzero: the node may not be entered.
    zone_ok : uint8[n_zones] or empty
        Zero: the zone's nodes may not be entered.
    budget : int
        Maximum node expansions.
    max_range_m : float
        If > 0, nodes farther than this along origin -> node -> destination (planar
        distances) are pruned.
    hw : float
        Heuristic weight (1: exact A*; ``w > 1``: weighted A*).
    """

    blocked: np.ndarray
    zone_ok: np.ndarray
    budget: int
    max_range_m: float
    hw: float


class Workspace(NamedTuple):
    """Reusable search state of one thread (or, with a leading row axis, of many).

    Attributes
    ----------
    state : float64[n, 4]
        Per node one 32-byte row (see :func:`.astar.astar`).
    hk, hp : float64[cap], int64[cap]
        Heap keys and payloads.
    """

    state: np.ndarray
    hk: np.ndarray
    hp: np.ndarray


class CellTable(NamedTuple):
    """The grid's cells as the graph build reads them.

    Attributes
    ----------
    nbr : int32[n_cells, 6]
        Rows of every cell's H3 neighbours in its tier (-1: absent).
    first, nl : int32[n_cells]
        First absolute layer and layer count of every cell's column.
    start : int64[n_cells]
        Index of every cell's bottom voxel.
    parent : int32[n_cells]
        Row of the H3 parent cell in the next tier up (-1: none).
    child_ptr, child_idx : int64[n_cells + 1], int32[m]
        Children of cell ``c`` are ``child_idx[child_ptr[c]:child_ptr[c + 1]]``.
    tier : int8[n_cells]
        Tier of every cell.
    xyz : float64[n_cells, 3]
        Unit vector of every cell centre.
    """

    nbr: np.ndarray
    first: np.ndarray
    nl: np.ndarray
    start: np.ndarray
    parent: np.ndarray
    child_ptr: np.ndarray
    child_idx: np.ndarray
    tier: np.ndarray
    xyz: np.ndarray


class VoxelTable(NamedTuple):
    """The grid's voxels as the graph build reads them.

    Attributes
    ----------
    usable : bool[n_voxels]
        Voxels that get edges.
    zc : float32[n_voxels]
        Altitude of every voxel centre (m AMSL).
    vfac : float32[n_voxels]
        Per-voxel cost factor (see :func:`airgrid.routing.costs.voxel_factors`).
    """

    usable: np.ndarray
    zc: np.ndarray
    vfac: np.ndarray


class CellGeo(NamedTuple):
    """The grid's cells as the line-of-sight walk reads them.

    Attributes
    ----------
    nbr : int32[n_cells, 6]
        Rows of every cell's H3 neighbours in its tier (-1: absent).
    hull : float64[n_cells, 10, 4]
        Per cell, the half-planes of its convex hull in (lon, lat): per edge a vertex
        ``x, y`` and the inward unit normal ``nx, ny`` (unused rows: zero normal).
    filled : uint8[n_cells]
        Nonzero where ``hull`` holds the cell's hull.
    first, nl : int32[n_cells]
        First absolute layer and layer count of every cell's column.
    start : int64[n_cells]
        Index of every cell's bottom voxel.
    g_hi : float32[n_cells]
        Highest plausible ground of every cell (m AMSL).
    rim_row : int64[n_cells]
        Per cell with a missing neighbour (the grid's rim), its row in ``out_hull``
        (-1: every neighbour is in the grid).
    out_hull : float64[n_rim, 6, 10, 4]
        Per rim cell, the hulls (as ``hull``) of the cells around it that are not in
        the grid, filled with the cell's own hull.
    out_n : int8[n_rim]
        How many of those there are.
    """

    nbr: np.ndarray
    hull: np.ndarray
    filled: np.ndarray
    first: np.ndarray
    nl: np.ndarray
    start: np.ndarray
    g_hi: np.ndarray
    rim_row: np.ndarray
    out_hull: np.ndarray
    out_n: np.ndarray


class SightScratch(NamedTuple):
    """Reusable state of one thread's line-of-sight walks.

    Attributes
    ----------
    stamp : int64[n_cells]
        Walk number in which each cell was last tried.
    gen : int64[1]
        The current walk number.
    queue : int64[n_cells]
        Rows of the touched cells, in walk order.
    t0, t1 : float64[n_cells]
        The parameter interval the segment spends over each queued cell.
    """

    stamp: np.ndarray
    gen: np.ndarray
    queue: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
