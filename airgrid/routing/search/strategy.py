"""Search strategies: exact A*, or the fast strategy (weighted A* and A* restricted to
a corridor of zones planned over the zone graph).
"""

from __future__ import annotations

import math
from enum import Enum

import numpy as np

from airgrid.routing.graph import RouteGraph
from airgrid.routing.kernels.astar import astar, lower_bound, planar_rates, trace_path
from airgrid.routing.kernels.status import FOUND
from airgrid.routing.kernels.tables import Bounds, Csr, Limits, Nodes, Workspace
from airgrid.routing.search.route import DEFAULT_BUDGET
from airgrid.routing.search.router import _MAX_GEN, NO_LANDMARKS, NO_ZONES, Router, router_for


class Strategy(str, Enum):
    """How a route is searched.

    ``EXACT`` runs A* over the whole graph: the route is optimal. ``FAST`` runs
    two fast searches and keeps the cheaper route: weighted A* (heuristic times
    :data:`CORRIDOR_WEIGHT`; its route costs at most that factor times the optimum,
    and it is complete, so "no route" is definitive), and exact A* restricted to a
    corridor: the zones (H3 parents two resolutions up, see
    :func:`airgrid.routing.zones.zone_table`) along a plan over the zone graph and
    their neighbours. Much faster for long routes; the route costs at most
    :data:`CORRIDOR_WEIGHT` times the optimum, and the result gives a proven lower
    bound. ``AUTO`` is ``FAST`` for origin-destination distances of at least
    :data:`CORRIDOR_FROM_M`, else ``EXACT``.
    """

    AUTO = "auto"
    EXACT = "exact"
    FAST = "fast"


#: Origin-destination distance (m) from which ``Strategy.AUTO`` searches with ``Strategy.FAST``.
CORRIDOR_FROM_M = 100_000.0

#: Zone rings around the zone plan that the corridor search may enter.
CORRIDOR_RINGS = 1

#: Heuristic weight of the fast strategy's weighted A* (its route costs at most this
#: times the optimum).
CORRIDOR_WEIGHT = 1.1


class ZonePlanner:
    """A* over a graph's zone graph: the plan of the fast strategy's corridor search.

    Parameters
    ----------
    graph
        The routing graph whose ``zone_*`` arrays are searched.
    """

    def __init__(self, graph: RouteGraph) -> None:
        self.graph = graph
        nz = len(graph.zone_xy)
        self._state = np.zeros((nz, 4), np.float64)
        self._csr = Csr(graph.zone_indptr, graph.zone_indices, graph.zone_weights)
        self._nodes = Nodes(graph.zone_xy, np.zeros(nz, np.int32))
        hr, rates = planar_rates(self._csr, graph.zone_xy, graph.dirs, 0.0, 8)
        hr = float(hr) * (1 - 1e-7) if np.isfinite(hr) else 0.0
        self._bounds = Bounds(graph.dirs, rates * (1 - 1e-7), hr, 0.0, NO_LANDMARKS)
        cap = len(graph.zone_indices) + 1  # one push per relaxed edge at most, plus the source
        self._hk = np.empty(cap, np.float64)
        self._hp = np.empty(cap, np.int64)
        self._gen = 0

    def corridor(self, src: int, dst: int, rings: int) -> np.ndarray | None:
        """Zones a corridor search between nodes ``src`` and ``dst`` may enter.

        The zones of the cheapest zone-graph path between the nodes' zones, plus every
        zone within ``rings`` zone-graph hops of it.

        Returns
        -------
        numpy.ndarray or None
            uint8 per zone (1: inside), or None when the zones are not connected.
        """
        gr = self.graph
        if self._gen >= _MAX_GEN:
            self._state.view(np.int64)[:, 1] = 0
            self._gen = 0
        self._gen += 2
        zs, zd = int(gr.zone[src]), int(gr.zone[dst])
        nz = len(gr.zone_xy)
        lim = Limits(NO_ZONES, NO_ZONES, nz + 1, 0.0, 1.0)
        ws = Workspace(self._state, self._hk, self._hp)
        st, _, _ = astar(self._csr, self._nodes, self._bounds, lim, zs, zd, self._gen, ws)
        if st != FOUND:
            return None
        ok = np.zeros(nz, np.uint8)
        front = trace_path(self._state, zs, zd).astype(np.int64)
        ok[front] = 1
        ptr, idx = gr.zone_indptr, gr.zone_indices
        for _ in range(rings):
            cnt = ptr[front + 1] - ptr[front]
            offs = np.repeat(ptr[front] - np.cumsum(cnt) + cnt, cnt) + np.arange(int(cnt.sum()))
            nxt = idx[offs]
            front = np.unique(nxt[ok[nxt] == 0]).astype(np.int64)
            ok[front] = 1
        return ok


def zone_planner_for(graph: RouteGraph, router: Router | None = None) -> ZonePlanner:
    """The :class:`ZonePlanner` kept on a router (default: the graph's own,
    :func:`~airgrid.routing.search.router.router_for`), created on first use."""
    router = router if router is not None else router_for(graph)
    if router.zones is None:
        router.zones = ZonePlanner(graph)
    return router.zones


def search_voxels(
    graph: RouteGraph,
    src: int,
    dst: int,
    blocked: np.ndarray,
    budget: int = DEFAULT_BUDGET,
    max_range_m: float = 0.0,
    strategy: Strategy | str = Strategy.AUTO,
    router: Router | None = None,
) -> tuple[int, float, int, np.ndarray, float]:
    """Search between two nodes with a :class:`Strategy`, in ``router``'s state (default:
    the graph's own, :func:`~airgrid.routing.search.router.router_for`).

    Returns
    -------
    status, cost, expansions, path, lower_bound
        As :meth:`~airgrid.routing.search.router.Router.search` (expansions summed over the stages), and a proven
        lower bound of the optimal cost (the cost itself after an exact search).
    """
    strategy = Strategy(strategy)
    router = router if router is not None else router_for(graph)
    if strategy is Strategy.AUTO:
        d = float(np.hypot(*(graph.nxyz[src, :2].astype(np.float64) - graph.nxyz[dst, :2])))
        strategy = Strategy.FAST if d >= CORRIDOR_FROM_M else Strategy.EXACT
    if strategy is Strategy.EXACT or len(graph.zone_xy) < 2:
        st, cost, exp, path = router.search(src, dst, blocked, budget, max_range_m)
        return st, cost, exp, path, cost
    st, cost, spent, path = router.search(
        src, dst, blocked, budget, max_range_m, weight=CORRIDOR_WEIGHT
    )
    if st != FOUND:  # weighted A* is complete: no route, or out of budget
        return st, cost, spent, path, math.inf
    h0 = float(lower_bound(graph.nodes, graph.bounds, src, dst))
    bound = max(h0, cost / CORRIDOR_WEIGHT)
    ok = zone_planner_for(graph, router).corridor(src, dst, CORRIDOR_RINGS)
    if ok is not None and spent < budget:
        st2, cost2, exp2, path2 = router.search(src, dst, blocked, budget - spent, max_range_m, ok)
        spent += exp2
        if st2 == FOUND and cost2 < cost:
            cost, path = cost2, path2
    return FOUND, cost, spent, path, min(bound, cost)
