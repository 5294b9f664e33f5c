"""ALT landmarks: how many a graph gets for a memory budget, and the exact single-source
costs their distance tables are made of.
"""

from __future__ import annotations

import numpy as np

from airgrid.routing.kernels.dijkstra import dijkstra_all
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


#: Landmarks the served graphs get (fewer where they would not fit :data:`LANDMARK_BYTES`).
#: Measured on the 45 km Changsha T2 graph (``benchmarks/routing.py``, 50 routes of
#: 20-70 km): median 2.1 ms with 16, 1.65 ms with 32, 1.85 ms with 48.
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
