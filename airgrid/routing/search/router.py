"""The reusable search state of one graph (:class:`Router`: single and batch A*, and
line-of-sight scratch), kept on the graph or lent from a :class:`RouterPool` to concurrent
searches, and the graph kept for the last grid asked for.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from airgrid.airspace.grid import Grid
from airgrid.routing.errors import RouteConstraintError
from airgrid.routing.graph import RouteGraph, build_graph, grid_fingerprint
from airgrid.routing.kernels.astar import astar, astar_batch, trace_path
from airgrid.routing.kernels.status import FOUND, HEAP_FULL
from airgrid.routing.kernels.tables import Limits, Workspace
from airgrid.routing.landmarks import landmark_count
from airgrid.routing.search.route import DEFAULT_BUDGET
from airgrid.routing.search.sightline import sight_scratch

if TYPE_CHECKING:
    from airgrid.routing.search.strategy import ZonePlanner

#: No zone filter (every zone may be entered); no landmarks.
NO_ZONES = np.empty(0, np.uint8)
NO_LANDMARKS = np.empty((0, 0), np.float64)


#: Generations stay below 2**30 so ``generation << 32`` fits an int64 tag (see astar).
_MAX_GEN = (1 << 30) - 4


class Router:
    """Reusable search state for one graph (not thread-safe; one per thread).

    Holds the A* state (32 bytes per node), the zone planner of the fast strategy and
    the line-of-sight scratch of smoothing (32 bytes per cell), all zeroed memory that
    is materialised only where searches touch it.

    Parameters
    ----------
    graph
        The routing graph.
    heap_capacity
        Initial heap size; doubled on demand up to the node count.

    Attributes
    ----------
    sight
        Line-of-sight scratch (:func:`~airgrid.routing.search.sightline.sight_scratch`).
    zones
        The zone planner (set by :func:`airgrid.routing.search.strategy.zone_planner_for`).
    """

    def __init__(self, graph: RouteGraph, heap_capacity: int = 1 << 18) -> None:
        self.graph = graph
        self.sight = sight_scratch(graph)
        self.zones: ZonePlanner | None = None
        self._state = _new_state(graph, 1)[0]
        self._gen = 0
        self._batch: tuple[np.ndarray, ...] | None = (
            None  # per-thread state rows, kept between batches
        )
        self._batch_gens = np.zeros(1, np.int64)
        self._heap(min(max(heap_capacity, 16), max(graph.n_nodes, 16)))

    def _heap(self, cap: int) -> None:
        self._hk = np.empty(cap, np.float64)
        self._hp = np.empty(cap, np.int64)

    def _next_gen(self) -> int:
        if self._gen >= _MAX_GEN:
            self._state.view(np.int64)[:, 1] = 0
            self._gen = 0
        self._gen += 2
        return self._gen

    def search(
        self,
        src: int,
        dst: int,
        blocked: np.ndarray,
        budget: int = DEFAULT_BUDGET,
        max_range_m: float = 0.0,
        zone_ok: np.ndarray = NO_ZONES,
        weight: float = 1.0,
    ) -> tuple[int, float, int, np.ndarray]:
        """Raw A* between two nodes.

        Parameters
        ----------
        src, dst
            Node indices (not checked here).
        blocked
            uint8 node mask (nonzero blocked) or an empty array.
        budget
            Maximum expansions.
        max_range_m
            Ellipse pruning (0: off).
        zone_ok
            uint8 per zone of the graph (zero: not entered) or an empty array (all zones).
        weight
            Heuristic weight (1: exact; ``w > 1``: weighted A*, cost at most ``w`` times
            the optimum).

        Returns
        -------
        status, cost, expansions, path
            Kernel status code, cost, expansions, and the node path (empty unless found).
        """
        gr = self.graph
        while True:
            lim = Limits(blocked, zone_ok, int(budget), float(max_range_m), float(weight))
            ws = Workspace(self._state, self._hk, self._hp)
            st, cost, exp = astar(
                gr.csr, gr.nodes, gr.bounds, lim, int(src), int(dst), self._next_gen(), ws
            )
            if st != HEAP_FULL:
                break
            self._heap(min(2 * len(self._hk), gr.n_nodes + 1))
        path = trace_path(self._state, int(src), int(dst)) if st == FOUND else np.empty(0, np.int32)
        return int(st), float(cost), int(exp), path

    def batch(
        self,
        srcs: np.ndarray,
        dsts: np.ndarray,
        blocked: np.ndarray,
        budget: int = DEFAULT_BUDGET,
        max_range_m: float = 0.0,
        threads: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Costs of many (src, dst) pairs, in parallel (one state row per thread).

        The per-thread state (``threads`` full-size rows) is allocated on the first
        call and reused by later ones.

        Returns
        -------
        status : int32[n], cost : float64[n], expansions : int64[n]
        """
        import numba

        gr = self.graph
        srcs = np.ascontiguousarray(srcs, np.int32)
        dsts = np.ascontiguousarray(dsts, np.int32)
        rows = max(1, min(threads or numba.get_num_threads(), len(srcs)))
        cap = len(self._hk)
        if (
            self._batch is None
            or self._batch[0].shape[0] != rows
            or self._batch[1].shape[1] != cap
            or int(self._batch_gens.max()) + 2 * len(srcs) >= _MAX_GEN
        ):
            self._batch = (
                _new_state(gr, rows),
                np.empty((rows, cap), np.float64),
                np.empty((rows, cap), np.int64),
            )
            self._batch_gens = np.zeros(rows, np.int64)
        lim = Limits(blocked, NO_ZONES, int(budget), float(max_range_m), 1.0)
        ws = Workspace(*self._batch)
        status, cost, exps = astar_batch(
            gr.csr, gr.nodes, gr.bounds, lim, srcs, dsts, self._batch_gens, ws
        )
        for i in np.flatnonzero(status == HEAP_FULL).tolist():
            status[i], cost[i], exps[i], _ = self.search(
                int(srcs[i]), int(dsts[i]), blocked, budget, max_range_m
            )
        return status, cost, exps


def _new_state(graph: RouteGraph, rows: int) -> np.ndarray:
    """``rows`` zeroed search-state arrays (float64[rows, n, 4], see :func:`airgrid.routing.kernels.astar.astar`).

    Zeroed memory is materialised page by page as searches touch it, so a first route
    on a province-wide graph does not pay for the whole array up front.
    """
    return np.zeros((rows, graph.n_nodes, 4), np.float64)


#: The last grid whose graph :func:`graph_for` built, with its fingerprint and graph.
_LAST_GRID: list[tuple[Grid, str, RouteGraph]] = []


def graph_for(grid_or_graph: Grid | RouteGraph, landmarks: int | None = None) -> RouteGraph:
    """The graph itself, or the default-weight graph of a grid.

    ``landmarks``: ALT landmarks of a newly built graph (default :func:`~airgrid.routing.landmarks.landmark_count`).

    The graph of the last grid asked for is kept (one entry, strong reference) and
    reused while the grid's fingerprint (cells, layers, status) is unchanged; pass a
    :class:`~airgrid.routing.graph.RouteGraph` to control reuse and memory yourself.
    """
    if isinstance(grid_or_graph, RouteGraph):
        return grid_or_graph
    if not isinstance(grid_or_graph, Grid):
        raise RouteConstraintError(
            f"expected a Grid or RouteGraph, got {type(grid_or_graph).__name__}"
        )
    fp = grid_fingerprint(grid_or_graph)
    if _LAST_GRID and _LAST_GRID[0][0] is grid_or_graph and _LAST_GRID[0][1] == fp:
        return _LAST_GRID[0][2]
    _LAST_GRID.clear()
    gr = build_graph(
        grid_or_graph,
        landmarks=landmark_count(grid_or_graph.n_voxels) if landmarks is None else landmarks,
    )
    _LAST_GRID.append((grid_or_graph, fp, gr))
    return gr


def router_for(graph: RouteGraph) -> Router:
    """The :class:`Router` kept on a graph (created on first use)."""
    if graph.router is None:
        graph.router = Router(graph)
    return graph.router


class RouterPool:
    """Search states lent to concurrent searches on one graph, one state per search.

    Up to ``size`` :class:`Router` objects are made on demand; a search that finds all
    of them lent waits for one to come back. The most recently returned one is lent
    first (its memory is the warmest).

    Parameters
    ----------
    graph
        The routing graph.
    size
        Most searches at once.
    """

    def __init__(self, graph: RouteGraph, size: int) -> None:
        if size < 1:
            raise RouteConstraintError(f"a router pool needs at least one router, got {size}")
        self.graph = graph
        self.size = size
        self._free: queue.LifoQueue[Router] = queue.LifoQueue()
        self._made = 0
        self._lock = threading.Lock()

    @contextmanager
    def lease(self) -> Iterator[Router]:
        """A router of the pool for the duration of a ``with`` block."""
        router = self._take()
        try:
            yield router
        finally:
            self._free.put(router)

    def _take(self) -> Router:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            make = self._made < self.size
            self._made += make
        return Router(self.graph) if make else self._free.get()

    @property
    def made(self) -> int:
        """Routers made so far (at most :attr:`size`)."""
        return self._made
