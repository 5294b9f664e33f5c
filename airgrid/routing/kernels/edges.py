"""Numba kernels that build the CSR edges of the routing graph from cell neighbours and
layer spans, and list the edges that cross between zones.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from airgrid.routing.costs import HORIZONTAL, TRANSITION, VERTICAL, edge_cost, great_circle_m


# -- graph construction ---------------------------------------------------------------------
@njit(cache=True)
def _cell_edges(
    c,
    nbr,
    first,
    nl,
    start,
    parent,
    child_ptr,
    child_idx,
    cell_tier,
    usable,
    cell_xyz,
    zc,
    vfac,
    tier_w,
    climb,
    descent,
    transition,
    indices,
    weights,
    out_ptr,
    write,
):
    """Count (``write=False``) or write the out-edges of every voxel of cell ``c``."""
    total = 0
    n0 = nl[c]
    t = cell_tier[c]
    for off in range(n0):
        v = start[c] + off
        k = 0
        if usable[v]:
            p = out_ptr[v] if write else 0
            lay = first[c] + off
            # horizontal: same tier, same absolute layer
            for j in range(nbr.shape[1]):
                nc = nbr[c, j]
                if nc < 0:
                    continue
                o2 = lay - first[nc]
                if o2 < 0 or o2 >= nl[nc]:
                    continue
                w = start[nc] + o2
                if not usable[w]:
                    continue
                if write:
                    d = great_circle_m(cell_xyz, c, nc)
                    indices[p + k] = w
                    weights[p + k] = edge_cost(
                        HORIZONTAL, d, 0.0, tier_w[t], vfac[v], vfac[w], climb, descent, transition
                    )
                k += 1
            # vertical within the column
            for step in (-1, 1):
                o2 = off + step
                if o2 < 0 or o2 >= n0:
                    continue
                w = v + step
                if not usable[w]:
                    continue
                if write:
                    indices[p + k] = w
                    weights[p + k] = edge_cost(
                        VERTICAL, 0.0, zc[w] - zc[v], 1.0, 1.0, 1.0, climb, descent, transition
                    )
                k += 1
            # up to the parent (coarser) tier: top voxel -> parent's bottom voxel
            pc = parent[c]
            if off == n0 - 1 and pc >= 0 and nl[pc] > 0:
                w = start[pc]
                if usable[w]:
                    if write:
                        d = great_circle_m(cell_xyz, c, pc)
                        tw = max(tier_w[t], tier_w[cell_tier[pc]])
                        indices[p + k] = w
                        weights[p + k] = edge_cost(
                            TRANSITION,
                            d,
                            zc[w] - zc[v],
                            tw,
                            vfac[v],
                            vfac[w],
                            climb,
                            descent,
                            transition,
                        )
                    k += 1
            # down to the children (finer tier): bottom voxel -> each child's top voxel
            if off == 0:
                for q in range(child_ptr[c], child_ptr[c + 1]):
                    ch = child_idx[q]
                    if nl[ch] == 0:
                        continue
                    w = start[ch] + nl[ch] - 1
                    if not usable[w]:
                        continue
                    if write:
                        d = great_circle_m(cell_xyz, c, ch)
                        tw = max(tier_w[t], tier_w[cell_tier[ch]])
                        indices[p + k] = w
                        weights[p + k] = edge_cost(
                            TRANSITION,
                            d,
                            zc[w] - zc[v],
                            tw,
                            vfac[v],
                            vfac[w],
                            climb,
                            descent,
                            transition,
                        )
                    k += 1
        if not write:
            out_ptr[v] = k
        total += k
    return total


@njit(cache=True, parallel=True)
def count_edges(
    nbr,
    first,
    nl,
    start,
    parent,
    child_ptr,
    child_idx,
    cell_tier,
    usable,
    cell_xyz,
    zc,
    vfac,
    tier_w,
    climb,
    descent,
    transition,
    degree,
):
    """Out-degree of every voxel into ``degree`` (int64[n_voxels])."""
    dummy_i = np.empty(0, np.int32)
    dummy_w = np.empty(0, np.float32)
    for c in prange(len(nl)):
        _cell_edges(
            c,
            nbr,
            first,
            nl,
            start,
            parent,
            child_ptr,
            child_idx,
            cell_tier,
            usable,
            cell_xyz,
            zc,
            vfac,
            tier_w,
            climb,
            descent,
            transition,
            dummy_i,
            dummy_w,
            degree,
            False,
        )


@njit(cache=True, parallel=True)
def fill_edges(
    nbr,
    first,
    nl,
    start,
    parent,
    child_ptr,
    child_idx,
    cell_tier,
    usable,
    cell_xyz,
    zc,
    vfac,
    tier_w,
    climb,
    descent,
    transition,
    indptr,
    indices,
    weights,
):
    """Write targets and weights of every voxel's out-edges at ``indptr``."""
    for c in prange(len(nl)):
        _cell_edges(
            c,
            nbr,
            first,
            nl,
            start,
            parent,
            child_ptr,
            child_idx,
            cell_tier,
            usable,
            cell_xyz,
            zc,
            vfac,
            tier_w,
            climb,
            descent,
            transition,
            indices,
            weights,
            indptr,
            True,
        )


@njit(cache=True)
def zone_crossings(indptr, indices, weights, zone, nxyz):
    """Edges that cross between zones: (zone of u, zone of v, cost per planar metre).

    Returns
    -------
    za, zb : int32[m]
    rate : float64[m]
        ``weight / planar length`` of each crossing edge (edges of zero planar
        length, if any, are skipped).
    """
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
