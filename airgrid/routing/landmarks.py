"""ALT landmarks: how many a graph gets for a memory budget, where they go (farthest
selection in the graph's largest strongly connected component), and the exact
single-source costs their distance tables are made of.
"""

from __future__ import annotations

import numpy as np

from airgrid.routing.kernels.dijkstra import dijkstra_all, dijkstra_many
from airgrid.routing.kernels.status import FOUND
from airgrid.routing.kernels.tables import Csr


def single_source_costs(g: Csr, src: int) -> np.ndarray:
    """Exact costs from ``src`` to every node of ``g`` (inf where unreachable)."""
    cap = 1 << 20
    while True:
        dist = np.full(len(g.indptr) - 1, np.inf)
        st = dijkstra_all(g, src, dist, np.empty(cap), np.empty(cap, np.int64))
        if st == FOUND:
            return dist
        cap *= 2


def main_component(g: Csr, nodes: np.ndarray) -> np.ndarray:
    """The ``nodes`` that lie in the strongly connected component of ``g`` holding most of them."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import connected_components

    n = len(g.indptr) - 1
    adj = csr_array((np.ones(len(g.indices), np.int8), g.indices, g.indptr), shape=(n, n))
    _, label = connected_components(adj, directed=True, connection="strong")
    own = label[nodes]
    return nodes[own == np.argmax(np.bincount(own))]


def farthest_landmarks(
    g: Csr, rev: Csr, candidates: np.ndarray, seed: int, k: int, *, parallel: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``k`` landmarks by farthest selection, and their exact distance tables.

    Farthest selection (Goldberg & Harrelson 2005): the first landmark is the
    candidate farthest (in cost) from ``seed``, each next one the candidate whose
    cost from its nearest landmark so far is largest. Landmarks spread that way sit
    behind the ends of most queries, where their bounds are tight. The candidates
    must be strongly connected (:func:`main_component`) and hold ``seed``; fewer than
    ``k`` landmarks come back only when every candidate is one already.

    Parameters
    ----------
    g, rev
        The graph and its reverse (:func:`~airgrid.routing.kernels.dijkstra.transpose`).
    candidates
        Nodes a landmark may be.
    seed
        The node the first landmark is farthest from.
    k
        Landmarks wanted.
    parallel
        Compute the costs to the landmarks on Numba's thread pool; else one after the
        other in the calling thread (the costs from each landmark always are: each
        choice needs the previous one's).

    Returns
    -------
    landmarks : int64[L]
    lm : float64[n, 2L]
        ``lm[v, i]`` = cost from landmark ``i`` to ``v``, ``lm[v, L + i]`` = cost from
        ``v`` to it (inf where unreachable).
    """
    chosen: list[int] = []
    rows: list[np.ndarray] = []
    near = single_source_costs(g, seed)[candidates]
    for _ in range(k):
        best = int(np.argmax(near))
        if near[best] <= 0.0 and chosen:
            break
        chosen.append(int(candidates[best]))
        rows.append(single_source_costs(g, chosen[-1]))
        near = rows[-1][candidates] if len(chosen) == 1 else np.minimum(near, rows[-1][candidates])
    landmarks = np.array(chosen, np.int64)
    back = np.empty((len(chosen), len(g.indptr) - 1))
    todo = list(range(len(chosen)))
    if parallel:
        st = dijkstra_many(rev, landmarks, back, min(len(g.indices) + 1, 1 << 23))
        todo = np.flatnonzero(st != FOUND).tolist()  # heap too small: redo one by one
    for j in todo:
        back[j] = single_source_costs(rev, chosen[j])
    return landmarks, np.ascontiguousarray(np.concatenate([np.array(rows), back]).T)


#: Landmarks the served graphs get (fewer where they would not fit :data:`LANDMARK_BYTES`).
#: Measured with farthest selection on the API's served grid (``var/grid-default``,
#: 283,539 voxels, T1-T4) for the 253 routes of 20-70 km of ``benchmarks/api.py``
#: (exact A*, median search CPU time / expansions): 4.0 ms / 11,734 with none,
#: 2.2 ms / 5,276 with 8, 1.65 ms / 3,455 with 16, 1.4 ms / 2,145 with 32.
DEFAULT_LANDMARKS = 32

#: Memory budget of the landmark table (bytes): 16 bytes per node per landmark.
LANDMARK_BYTES = 1 << 30

#: Fewest landmarks worth having (see :func:`landmark_count`).
MIN_LANDMARKS = 8


def landmark_count(
    n_nodes: int, wanted: int = DEFAULT_LANDMARKS, budget_bytes: int = LANDMARK_BYTES
) -> int:
    """How many ALT landmarks a graph of ``n_nodes`` gets: ``wanted``, fewer if over the memory budget.

    Below :data:`MIN_LANDMARKS` the answer is 0: so few landmarks rarely pay for the
    extra memory each expansion reads (measured on the Hunan-wide T2 graph: 3
    landmarks cut expansions by a third but not the time, and cost 52 s to
    precompute; ``benchmarks/routing.py``).

    Examples
    --------
    >>> landmark_count(532_763)  # 45 km around Changsha, T2
    32
    >>> landmark_count(5_450_256)  # Changsha prefecture, T1-T4 (the API's default grid)
    12
    >>> landmark_count(17_300_000)  # Hunan-wide T2: 3 would fit
    0
    """
    k = max(0, min(int(wanted), int(budget_bytes // (16 * max(n_nodes, 1)))))
    return k if k >= MIN_LANDMARKS else 0
