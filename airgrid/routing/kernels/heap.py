"""The 4-ary min-heap the search kernels share: parallel key and payload arrays, the
payload packing a node with its quantised cost so ties break towards the larger cost.
"""

from __future__ import annotations

import numpy as np
from numba import njit


# -- 4-ary heap of (key, packed), min on key, ties to the larger g --------------------------
# ``packed`` = ``quantised g << 32 | node``: one int64 carries the node and the tie-break.
@njit(cache=True, inline="always")
def _before(ka, pa, kb, pb):
    return ka < kb or (ka == kb and (pa >> 32) > (pb >> 32))


@njit(cache=True, inline="always")
def pack(g, node):
    """Heap payload of ``node`` reached at cost ``g`` (g quantised to 1/16 for tie-breaks only)."""
    return (np.int64(min(g * 16.0, 2147483647.0)) << 32) | np.int64(node)


@njit(cache=True, inline="always")
def push(hk, hp, size, key, pk):
    i = size
    while i > 0:
        p = (i - 1) >> 2
        if _before(key, pk, hk[p], hp[p]):
            hk[i] = hk[p]
            hp[i] = hp[p]
            i = p
        else:
            break
    hk[i] = key
    hp[i] = pk


@njit(cache=True, inline="always")
def pop(hk, hp, size):
    """Remove the root of a heap of ``size`` (> 0) entries; returns its payload."""
    top = hp[0]
    size -= 1
    if size > 0:
        key = hk[size]
        pk = hp[size]
        i = 0
        while True:
            c = 4 * i + 1
            if c >= size:
                break
            b = c
            for q in range(c + 1, min(c + 4, size)):
                if _before(hk[q], hp[q], hk[b], hp[b]):
                    b = q
            if _before(hk[b], hp[b], key, pk):
                hk[i] = hk[b]
                hp[i] = hp[b]
                i = b
            else:
                break
        hk[i] = key
        hp[i] = pk
    return top
