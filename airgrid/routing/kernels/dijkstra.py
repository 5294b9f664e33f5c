"""Numba Dijkstra over the CSR graph: exact costs from one source to every node, many
sources in parallel, and the reversed graph itself.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from airgrid.routing.kernels.heap import pack, pop, push
from airgrid.routing.kernels.status import FOUND, HEAP_FULL
from airgrid.routing.kernels.tables import Csr


@njit(cache=True, nogil=True)
def dijkstra_all(g, src, dist, hk, hp):
    """Exact costs from ``src`` to every node of the :class:`~airgrid.routing.kernels.tables.Csr` ``g`` into ``dist`` (pre-filled with inf).

    Dijkstra (1959) with the lazy heap of :func:`~airgrid.routing.kernels.astar.astar`. Returns FOUND, or HEAP_FULL
    when the heap (``hk``, ``hp``) is too small (the caller retries with a larger heap).
    """
    indptr, indices, weights = g.indptr, g.indices, g.weights
    cap = len(hk)
    dist[src] = 0.0
    push(hk, hp, 0, 0.0, pack(0.0, src))
    size = 1
    while size > 0:
        key = hk[0]
        u = pop(hk, hp, size) & 0xFFFFFFFF
        size -= 1
        if key > dist[u]:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = key + weights[e]
            if nd < dist[v]:
                if size == cap:
                    return HEAP_FULL
                dist[v] = nd
                push(hk, hp, size, nd, pack(nd, v))
                size += 1
    return FOUND


@njit(cache=True, parallel=True, nogil=True)
def dijkstra_many(g, sources, out, cap):
    """Exact costs from each source of the :class:`~airgrid.routing.kernels.tables.Csr` ``g`` into row ``j`` of ``out``.

    ``out`` is float64[k, n]; the k runs are spread over threads, each with a heap of
    ``cap``. On the reversed graph (see :func:`transpose`) the rows are the costs *to*
    each source.

    Returns
    -------
    int32[k]
        FOUND, or HEAP_FULL for runs the caller must redo with a larger heap.
    """
    k = len(sources)
    status = np.empty(k, np.int32)
    for j in prange(k):
        hk = np.empty(cap)
        hp = np.empty(cap, np.int64)
        out[j, :] = np.inf
        status[j] = dijkstra_all(g, sources[j], out[j], hk, hp)
    return status


@njit(cache=True, nogil=True)
def transpose(g):
    """The reversed :class:`~airgrid.routing.kernels.tables.Csr` graph (edge ``u -> v`` becomes ``v -> u``)."""
    indptr, indices, weights = g.indptr, g.indices, g.weights
    n = len(indptr) - 1
    tptr = np.zeros(n + 1, np.int64)
    for e in range(len(indices)):
        tptr[indices[e] + 1] += 1
    for i in range(n):
        tptr[i + 1] += tptr[i]
    cur = tptr[:-1].copy()
    tidx = np.empty(len(indices), np.int32)
    tw = np.empty(len(indices), np.float32)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            tidx[cur[v]] = u
            tw[cur[v]] = weights[e]
            cur[v] += 1
    return Csr(tptr, tidx, tw)
