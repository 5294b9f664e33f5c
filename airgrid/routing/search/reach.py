"""Which voxels a route can link under a blocked mask: the weakly connected pieces of the
routing graph once the blocked nodes are taken out. Two nodes in different pieces have no
route between them, under that mask or any mask that blocks more, so a search between
them can be answered without expanding a node.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from airgrid.routing.graph import RouteGraph


def pieces(graph: RouteGraph, blocked: np.ndarray) -> np.ndarray:
    """Per node, the label of its weakly connected piece of ``graph`` without the nodes
    ``blocked`` (a uint8 mask over nodes, nonzero blocked; empty: none).

    A blocked node is a piece of its own. Weak pieces ignore edge directions, so nodes
    with different labels are not linked by any path that avoids ``blocked``.

    Returns
    -------
    numpy.ndarray
        int32 labels, one per node: the lowest-numbered node of each piece.
    """
    return _weak_labels(graph.indptr, graph.indices, blocked)


@njit(cache=True, nogil=True)
def union(parent: np.ndarray, u: int, w: int) -> None:
    """Join the sets of ``u`` and ``w`` in the union-find forest ``parent`` (roots found
    with path halving; the higher root goes under the lower, so every root is the lowest
    node of its set)."""
    a = u
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    b = w
    while parent[b] != b:
        parent[b] = parent[parent[b]]
        b = parent[b]
    if a < b:
        parent[b] = a
    elif b < a:
        parent[a] = b


@njit(cache=True, nogil=True)
def _weak_labels(indptr: np.ndarray, indices: np.ndarray, blocked: np.ndarray) -> np.ndarray:
    """Union-find over the edges whose ends are both unblocked (``blocked`` uint8 or empty);
    each node labelled with the lowest node of its set."""
    n = len(indptr) - 1
    parent = np.arange(n).astype(np.int32)
    has_mask = len(blocked) > 0
    for u in range(n):
        if has_mask and blocked[u]:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            w = indices[e]
            if has_mask and blocked[w]:
                continue
            union(parent, u, w)
    for u in range(n):  # roots are the lowest nodes of their sets, below every member
        parent[u] = parent[parent[u]]
    return parent
