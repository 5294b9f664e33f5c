"""Numba kernels that build the CSR edges of the routing graph from cell neighbours and
layer spans, and list the edges that cross between zones.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from airgrid.routing.costs import HORIZONTAL, TRANSITION, VERTICAL, edge_cost, great_circle_m
from airgrid.routing.kernels.tables import Csr


# -- graph construction ---------------------------------------------------------------------
@njit(cache=True, inline="always")
def _put(out, write, p, k, w, cost):
    """Write edge ``k`` of the voxel whose edges start at ``p`` (when ``write``)."""
    if write:
        out.indices[p + k] = w
        out.weights[p + k] = cost


@njit(cache=True, inline="always")
def _horizontal(c, v, lay, p, k, cells, vox, costs, out, write):
    """Edges of voxel ``v`` (absolute layer ``lay``) to the same layer of ``c``'s neighbours."""
    tw = costs.tier_w[cells.tier[c]]
    for j in range(cells.nbr.shape[1]):
        nc = cells.nbr[c, j]
        if nc < 0:
            continue
        o2 = lay - cells.first[nc]
        if o2 < 0 or o2 >= cells.nl[nc]:
            continue
        w = cells.start[nc] + o2
        if not vox.usable[w]:
            continue
        if write:
            d = great_circle_m(cells.xyz, c, nc)
            cost = edge_cost(HORIZONTAL, d, 0.0, tw, vox.vfac[v], vox.vfac[w], costs)
            _put(out, write, p, k, w, cost)
        k += 1
    return k


@njit(cache=True, inline="always")
def _vertical(v, off, n0, p, k, vox, costs, out, write):
    """Edges of voxel ``v`` (``off`` layers up its column of ``n0``) to the voxels above and below."""
    for step in (-1, 1):
        o2 = off + step
        if o2 < 0 or o2 >= n0:
            continue
        w = v + step
        if not vox.usable[w]:
            continue
        if write:
            cost = edge_cost(VERTICAL, 0.0, vox.zc[w] - vox.zc[v], 1.0, 1.0, 1.0, costs)
            _put(out, write, p, k, w, cost)
        k += 1
    return k


@njit(cache=True, inline="always")
def _transition(c, oc, v, w, p, k, cells, vox, costs, out, write):
    """Edge of voxel ``v`` of cell ``c`` to voxel ``w`` of cell ``oc`` in another tier."""
    if not vox.usable[w]:
        return k
    if write:
        d = great_circle_m(cells.xyz, c, oc)
        tw = max(costs.tier_w[cells.tier[c]], costs.tier_w[cells.tier[oc]])
        dz = vox.zc[w] - vox.zc[v]
        cost = edge_cost(TRANSITION, d, dz, tw, vox.vfac[v], vox.vfac[w], costs)
        _put(out, write, p, k, w, cost)
    return k + 1


@njit(cache=True)
def _cell_edges(c, cells, vox, costs, out, write):
    """Count (``write=False``, into ``out.indptr``) or write the out-edges of every voxel of cell ``c``.

    Per voxel: horizontal edges (same tier, same absolute layer), vertical ones within
    the column, from the top voxel up to the parent cell's bottom voxel, and from the
    bottom voxel down to each child cell's top voxel.
    """
    total = 0
    n0 = cells.nl[c]
    pc = cells.parent[c]
    for off in range(n0):
        v = cells.start[c] + off
        k = 0
        if vox.usable[v]:
            p = out.indptr[v] if write else 0
            k = _horizontal(c, v, cells.first[c] + off, p, k, cells, vox, costs, out, write)
            k = _vertical(v, off, n0, p, k, vox, costs, out, write)
            if off == n0 - 1 and pc >= 0 and cells.nl[pc] > 0:
                w = cells.start[pc]
                k = _transition(c, pc, v, w, p, k, cells, vox, costs, out, write)
            if off == 0:
                for q in range(cells.child_ptr[c], cells.child_ptr[c + 1]):
                    ch = cells.child_idx[q]
                    if cells.nl[ch] == 0:
                        continue
                    w = cells.start[ch] + cells.nl[ch] - 1
                    k = _transition(c, ch, v, w, p, k, cells, vox, costs, out, write)
        if not write:
            out.indptr[v] = k
        total += k
    return total


@njit(cache=True, parallel=True)
def count_edges(cells, vox, costs, degree):
    """Out-degree of every voxel into ``degree`` (int64[n_voxels]).

    ``cells`` is a :class:`~airgrid.routing.kernels.tables.CellTable`, ``vox`` a
    :class:`~airgrid.routing.kernels.tables.VoxelTable`, ``costs`` an
    :class:`~airgrid.routing.costs.EdgeCosts`.
    """
    out = Csr(degree, np.empty(0, np.int32), np.empty(0, np.float32))
    for c in prange(len(cells.nl)):
        _cell_edges(c, cells, vox, costs, out, False)


@njit(cache=True, parallel=True)
def fill_edges(cells, vox, costs, out):
    """Write targets and weights of every voxel's out-edges into the :class:`~airgrid.routing.kernels.tables.Csr` ``out``.

    ``out.indptr`` holds the offsets (prefix sums of :func:`count_edges`' degrees);
    the other arguments are as in :func:`count_edges`.
    """
    for c in prange(len(cells.nl)):
        _cell_edges(c, cells, vox, costs, out, True)


@njit(cache=True)
def zone_crossings(g, nodes):
    """Edges of the :class:`~airgrid.routing.kernels.tables.Csr` ``g`` that cross between
    the zones of :class:`~airgrid.routing.kernels.tables.Nodes` ``nodes``: (zone of u,
    zone of v, cost per planar metre).

    Returns
    -------
    za, zb : int32[m]
    rate : float64[m]
        ``weight / planar length`` of each crossing edge (edges of zero planar
        length, if any, are skipped).
    """
    indptr, indices, weights = g.indptr, g.indices, g.weights
    zone, nxyz = nodes.zone, nodes.nxyz
    n = len(indptr) - 1
    m = 0
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            if zone[indices[e]] != zone[u]:
                m += 1
    za = np.empty(m, np.int32)
    zb = np.empty(m, np.int32)
    rate = np.empty(m, np.float64)
    k = 0
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if zone[v] == zone[u]:
                continue
            dx = np.float64(nxyz[v, 0]) - np.float64(nxyz[u, 0])
            dy = np.float64(nxyz[v, 1]) - np.float64(nxyz[u, 1])
            d = math.sqrt(dx * dx + dy * dy)
            if d <= 0:
                continue
            za[k] = zone[u]
            zb[k] = zone[v]
            rate[k] = weights[e] / d
            k += 1
    return za[:k], zb[:k], rate[:k]
