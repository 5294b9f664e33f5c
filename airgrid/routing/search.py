"""Route requests: validate input, apply per-request constraints, search, smooth, report.

Public entry point: :func:`plan_route`. A :class:`Router` holds the reusable search
state of one graph; ``plan_route`` keeps one per graph.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

import h3
import numpy as np
import shapely
from h3.api import basic_int as h3i

from airgrid.airspace.errors import OutsideGridError, VoxelIdError
from airgrid.airspace.grid import Area, Grid, Status, cover_cells
from airgrid.airspace.grid.voxels import BLOCKING
from airgrid.routing.costs import EARTH_R
from airgrid.routing.errors import (
    PointBetweenTiersError,
    PointBlockedError,
    PointInTerrainError,
    PointOutsideGridError,
    RouteConstraintError,
)
from airgrid.routing.graph import RouteGraph, build_graph, grid_fingerprint, landmark_count
from airgrid.routing.kernels.astar import astar, astar_batch, lower_bound, planar_rates, trace_path
from airgrid.routing.kernels.status import BUDGET, FOUND, HEAP_FULL, NO_ROUTE

#: An origin/destination: (lat, lon, alt m AMSL), a dense voxel index, or a voxel id "h3:layer".
Point = tuple[float, float, float] | int | np.integer | str

#: Default expansion budget per query (enough for a Hunan-wide T2 route).
DEFAULT_BUDGET = 20_000_000

#: No zone filter (every zone may be entered); no landmarks.
_NO_ZONES = np.empty(0, np.uint8)
_NO_LANDMARKS = np.empty((0, 0), np.float64)


class Strategy(str, Enum):
    """How a route is searched.

    ``EXACT`` runs A* over the whole graph: the route is optimal. ``FAST`` runs
    two fast searches and keeps the cheaper route: weighted A* (heuristic times
    :data:`CORRIDOR_WEIGHT`; its route costs at most that factor times the optimum,
    and it is complete, so "no route" is definitive), and exact A* restricted to a
    corridor: the zones (H3 parents two resolutions up, see
    :func:`airgrid.routing.graph.zone_table`) along a plan over the zone graph and
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


class RouteStatus(str, Enum):
    """Outcome of a route request."""

    FOUND = "found"
    NO_ROUTE = (
        "no_route"  #: the search space was exhausted: origin and destination are not connected
    )
    BUDGET_EXHAUSTED = "budget_exhausted"  #: stopped after the expansion budget; a route may exist


@dataclass(frozen=True)
class Constraints:
    """Per-request constraints, all turned into one voxel mask.

    Attributes
    ----------
    tiers
        Tier names the aircraft may use (None: all).
    min_height_m, max_height_m
        Allowed true height, certain on both sides: a voxel is used only if its floor
        is at least ``min_height_m`` above its cell's highest plausible ground and its
        ceiling at most ``max_height_m`` above the lowest.
    no_go
        Extra no-go areas (shapely Polygon/MultiPolygon in lon/lat, all altitudes);
        every voxel whose cell overlaps one is blocked (conservative H3 cover).
    max_range_m
        Longest acceptable route (smoothed 3D length). The search prunes nodes outside
        the origin/destination ellipse of this size.
    blocked_mask
        Extra boolean mask over voxels (True: may not be entered). The hook through
        which active geofences and reserved airspace at the departure time come in.
    """

    tiers: Sequence[str] | None = None
    min_height_m: float | None = None
    max_height_m: float | None = None
    no_go: Sequence[shapely.Geometry] = ()
    max_range_m: float | None = None
    blocked_mask: np.ndarray | None = field(default=None, repr=False)

    def is_empty(self) -> bool:
        """True when no constraint restricts the voxels."""
        return (
            self.tiers is None
            and self.min_height_m is None
            and self.max_height_m is None
            and not self.no_go
            and self.blocked_mask is None
        )


@dataclass(frozen=True)
class Waypoint:
    """One waypoint of a flyable route.

    Attributes
    ----------
    lat, lon
        Degrees (WGS84).
    alt_m
        Altitude above mean sea level.
    true_height_range_m
        The certain range of true height at the waypoint: altitude minus the highest
        and minus the lowest plausible ground of the cell holding it.
    voxel
        Dense index of the voxel holding the waypoint.
    """

    lat: float
    lon: float
    alt_m: float
    true_height_range_m: tuple[float, float]
    voxel: int


@dataclass
class Route:
    """Result of a route request.

    Attributes
    ----------
    status
        :class:`RouteStatus`; only ``FOUND`` carries a path.
    origin, destination
        Dense voxel indices.
    cost
        Cost of the voxel path (equivalent metres, see :mod:`airgrid.routing.costs`).
    voxels
        The voxel path (int32), origin to destination.
    waypoints
        Smoothed waypoints.
    length_m
        3D length of the smoothed path.
    time_s
        Flight time at the request's speeds.
    min_clearance_m
        Least certain true height along the smoothed path: altitude minus the highest
        plausible ground, exact over the cells each segment crosses (tier-transition
        segments count their ends).
    expansions
        Nodes A* expanded.
    search_ms
        Wall time of the search itself.
    message
        Human-readable explanation for non-found outcomes.
    optimal
        Whether the cost is proven minimal (exact search, or a fast search whose cost
        meets its lower bound).
    cost_lower_bound
        A proven lower bound of the optimal cost: the cost itself after an exact search;
        after a fast search the larger of the A* heuristic at the origin and the
        weighted A* cost divided by its weight, so ``cost / cost_lower_bound`` bounds
        how far the route can be from optimal.
    """

    status: RouteStatus
    origin: int
    destination: int
    cost: float = math.inf
    voxels: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    waypoints: list[Waypoint] = field(default_factory=list)
    length_m: float = 0.0
    time_s: float = 0.0
    min_clearance_m: float = math.nan
    expansions: int = 0
    search_ms: float = 0.0
    message: str = ""
    optimal: bool = True
    cost_lower_bound: float = 0.0

    @property
    def found(self) -> bool:
        """Whether a route was found."""
        return self.status is RouteStatus.FOUND

    def to_geojson(self) -> dict:
        """GeoJSON Feature: LineString with Z (lon, lat, alt m AMSL) and summary properties.

        The geometry is null when no route was found.
        """
        coords = [[round(w.lon, 7), round(w.lat, 7), round(w.alt_m, 1)] for w in self.waypoints]
        if len(coords) == 1:  # origin and destination in one voxel at one point
            coords.append(list(coords[0]))
        return {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": coords} if coords else None,
            "properties": {
                "status": self.status.value,
                "cost": self.cost if self.found else None,
                "length_m": self.length_m,
                "time_s": self.time_s,
                "min_clearance_m": None
                if math.isnan(self.min_clearance_m)
                else self.min_clearance_m,
                "voxels": len(self.voxels),
                "waypoints": len(self.waypoints),
                "true_height_range_m": [
                    [round(w.true_height_range_m[0], 1), round(w.true_height_range_m[1], 1)]
                    for w in self.waypoints
                ],
                "expansions": self.expansions,
                "message": self.message,
                "optimal": self.optimal if self.found else None,
                "cost_lower_bound": self.cost_lower_bound if self.found else None,
            },
        }


#: Generations stay below 2**30 so ``generation << 32`` fits an int64 tag (see astar).
_MAX_GEN = (1 << 30) - 4


class Router:
    """Reusable search state for one graph (not thread-safe; one per thread).

    Parameters
    ----------
    graph
        The routing graph.
    heap_capacity
        Initial heap size; doubled on demand up to the node count.
    """

    def __init__(self, graph: RouteGraph, heap_capacity: int = 1 << 18) -> None:
        self.graph = graph
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
        zone_ok: np.ndarray = _NO_ZONES,
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
            st, cost, exp = astar(
                gr.indptr,
                gr.indices,
                gr.weights,
                gr.nxyz,
                gr.zone,
                gr.dirs,
                gr.rates,
                gr.h_rate,
                gr.v_rate,
                gr.lm,
                blocked,
                zone_ok,
                int(src),
                int(dst),
                int(budget),
                float(max_range_m),
                float(weight),
                self._next_gen(),
                self._state,
                self._hk,
                self._hp,
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
        status, cost, exps = astar_batch(
            gr.indptr,
            gr.indices,
            gr.weights,
            gr.nxyz,
            gr.zone,
            gr.dirs,
            gr.rates,
            gr.h_rate,
            gr.v_rate,
            gr.lm,
            blocked,
            _NO_ZONES,
            srcs,
            dsts,
            int(budget),
            float(max_range_m),
            self._batch_gens,
            *self._batch,
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
        self._zone0 = np.zeros(nz, np.int32)
        hr, rates = planar_rates(
            graph.zone_indptr,
            graph.zone_indices,
            graph.zone_weights,
            graph.zone_xy,
            graph.dirs,
            0.0,
            8,
        )
        self._hr = float(hr) * (1 - 1e-7) if np.isfinite(hr) else 0.0
        self._rates = rates * (1 - 1e-7)
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
        st, _, _ = astar(
            gr.zone_indptr,
            gr.zone_indices,
            gr.zone_weights,
            gr.zone_xy,
            self._zone0,
            gr.dirs,
            self._rates,
            self._hr,
            0.0,
            _NO_LANDMARKS,
            _NO_ZONES,
            _NO_ZONES,
            zs,
            zd,
            nz + 1,
            0.0,
            1.0,
            self._gen,
            self._state,
            self._hk,
            self._hp,
        )
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


def zone_planner_for(graph: RouteGraph) -> ZonePlanner:
    """The :class:`ZonePlanner` kept on a graph (created on first use)."""
    if graph.zone_planner is None:
        graph.zone_planner = ZonePlanner(graph)
    return graph.zone_planner


def search_voxels(
    graph: RouteGraph,
    src: int,
    dst: int,
    blocked: np.ndarray,
    budget: int = DEFAULT_BUDGET,
    max_range_m: float = 0.0,
    strategy: Strategy | str = Strategy.AUTO,
) -> tuple[int, float, int, np.ndarray, float]:
    """Search between two nodes with a :class:`Strategy`.

    Returns
    -------
    status, cost, expansions, path, lower_bound
        As :meth:`Router.search` (expansions summed over the stages), and a proven
        lower bound of the optimal cost (the cost itself after an exact search).
    """
    strategy = Strategy(strategy)
    router = router_for(graph)
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
    h0 = float(
        lower_bound(
            graph.nxyz, graph.dirs, graph.rates, graph.h_rate, graph.v_rate, graph.lm, src, dst
        )
    )
    bound = max(h0, cost / CORRIDOR_WEIGHT)
    ok = zone_planner_for(graph).corridor(src, dst, CORRIDOR_RINGS)
    if ok is not None and spent < budget:
        st2, cost2, exp2, path2 = router.search(src, dst, blocked, budget - spent, max_range_m, ok)
        spent += exp2
        if st2 == FOUND and cost2 < cost:
            cost, path = cost2, path2
    return FOUND, cost, spent, path, min(bound, cost)


#: The last grid whose graph :func:`graph_for` built, with its fingerprint and graph.
_LAST_GRID: list[tuple[Grid, str, RouteGraph]] = []


def graph_for(grid_or_graph: Grid | RouteGraph, landmarks: int | None = None) -> RouteGraph:
    """The graph itself, or the default-weight graph of a grid.

    ``landmarks``: ALT landmarks of a newly built graph (default :func:`landmark_count`).

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


def constraint_mask(graph: RouteGraph, c: Constraints) -> np.ndarray:
    """The request's blocked-voxel mask (uint8; empty array when nothing is blocked).

    Raises
    ------
    RouteConstraintError
        Unknown tier, inconsistent heights, non-polygonal no-go area, mask of wrong shape.
    """
    grid = graph.grid
    if c.is_empty():
        return np.empty(0, np.uint8)
    blocked = np.zeros(grid.n_voxels, bool)
    if c.tiers is not None:
        names = [t.name for t in grid.tiers]
        bad = [t for t in c.tiers if t not in names]
        if bad or not c.tiers:
            raise RouteConstraintError(
                f"unknown tiers {bad}; this grid has {names}"
                if bad
                else "allowed tiers must not be empty"
            )
        allowed = np.array([names.index(t) for t in c.tiers], np.int8)
        blocked |= ~np.isin(grid.tier, allowed)
    lo, hi = c.min_height_m, c.max_height_m
    for label, v in (("min_height_m", lo), ("max_height_m", hi)):
        if v is not None and not math.isfinite(v):
            raise RouteConstraintError(f"{label} must be finite")
    if lo is not None and hi is not None and lo >= hi:
        raise RouteConstraintError(f"min_height_m {lo} must be below max_height_m {hi}")
    if lo is not None:
        blocked |= (grid.floor - grid.g_hi) < np.float32(lo)
    if hi is not None:
        g_lo = np.repeat(grid.cell_g_lo, grid.cell_nlayers)
        blocked |= (grid.ceiling - g_lo) > np.float32(hi)
    for geom in c.no_go:
        if (
            not isinstance(geom, shapely.Geometry)
            or geom.geom_type not in ("Polygon", "MultiPolygon")
            or geom.is_empty
            or not geom.is_valid
        ):
            raise RouteConstraintError(
                "no-go areas must be valid, non-empty shapely Polygons/MultiPolygons"
            )
        for t, tier in enumerate(grid.tiers):
            ci = grid.find_cells(cover_cells(Area("no-go", geom), tier.resolution, workers=1), t)
            ci = ci[ci >= 0]
            if len(ci):
                n = grid.cell_nlayers[ci]
                idx = np.repeat(grid.cell_start[ci], n) + (
                    np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
                )
                blocked[idx] = True
    if c.blocked_mask is not None:
        m = np.asarray(c.blocked_mask)
        if m.shape != (grid.n_voxels,) or m.dtype != bool:
            raise RouteConstraintError(
                f"blocked_mask must be a bool array of shape ({grid.n_voxels},)"
            )
        blocked |= m
    return blocked.view(np.uint8)


def resolve_point(
    graph: RouteGraph, p: Point, blocked: np.ndarray, label: str
) -> tuple[int, tuple | None]:
    """Voxel of an origin/destination, checked against usability and the request mask.

    Returns
    -------
    voxel : int
    coords : (lat, lon, alt) or None
        The exact point when given as coordinates.

    Raises
    ------
    PointOutsideGridError, PointInTerrainError, PointBlockedError, RouteConstraintError
    """
    grid = graph.grid
    coords = None
    if isinstance(p, (bool, np.bool_)):
        raise RouteConstraintError(
            f"{label} must be (lat, lon, alt), a voxel index or id, got {p!r}"
        )
    if isinstance(p, (int, np.integer)):
        v = int(p)
        if not 0 <= v < grid.n_voxels:
            raise PointOutsideGridError(
                f"{label} voxel {v} is not in the grid (0..{grid.n_voxels - 1})"
            )
    elif isinstance(p, str):
        try:
            v = grid.parse_voxel_id(p)
        except VoxelIdError as exc:
            raise RouteConstraintError(f"{label}: {exc}") from None
        except OutsideGridError as exc:
            raise PointOutsideGridError(f"{label}: {exc}") from None
    else:
        try:
            lat, lon, alt = (float(x) for x in p)
        except (TypeError, ValueError):
            raise RouteConstraintError(
                f"{label} must be (lat, lon, alt), a voxel index or id, got {p!r}"
            ) from None
        if not all(math.isfinite(x) for x in (lat, lon, alt)) or not (
            -90 <= lat <= 90 and -180 <= lon <= 180
        ):
            raise RouteConstraintError(
                f"{label} ({lat}, {lon}, {alt}) is not a valid lat, lon, altitude"
            )
        loc = grid.locate(lat, lon, alt)
        if loc.voxel < 0:
            if loc.tier < 0:
                raise PointOutsideGridError(f"{label} ({lat}, {lon}) is outside the grid's area")
            ci = int(grid.find_cells(np.array([h3.str_to_int(loc.cell)]), loc.tier)[0])
            if ci >= 0 and alt < float(grid.cell_g_hi[ci]) + grid.tiers.clearance_m:
                raise PointInTerrainError(
                    f"{label} at {alt:.0f} m AMSL is inside terrain: the highest plausible ground "
                    f"there is {float(grid.cell_g_hi[ci]):.0f} m AMSL, + {grid.tiers.clearance_m:g} m clearance"
                )
            nearest = _nearest_band_alt(grid, lat, lon, alt)
            if not math.isfinite(nearest):
                raise PointOutsideGridError(f"{label} ({lat}, {lon}): {loc.reason}")
            raise PointBetweenTiersError(
                f"{label} at {alt:.0f} m AMSL is in no voxel ({loc.reason}); the "
                f"nearest altitude with a voxel here is {nearest:.0f} m AMSL"
            )
        v = loc.voxel
        coords = (lat, lon, alt)
    st = int(grid.status[v])
    if st & Status.TERRAIN:
        raise PointInTerrainError(
            f"{label} voxel {grid.voxel_id(v)} is terrain-blocked "
            f"(floor {float(grid.floor[v]):.0f} m AMSL, highest plausible ground "
            f"{float(grid.g_hi[v]):.0f} m AMSL)"
        )
    if not graph.usable[v]:
        raise PointBlockedError(
            f"{label} voxel {grid.voxel_id(v)} is not usable (status {Status(st)!r})"
        )
    if len(blocked) and blocked[v]:
        raise PointBlockedError(
            f"{label} voxel {grid.voxel_id(v)} is excluded by the request's constraints"
        )
    return v, coords


def at_agl(
    graph: RouteGraph | Grid, lat: float, lon: float, height_m: float | None = None
) -> tuple[float, float, float]:
    """The point ``height_m`` above ground (AGL) at (lat, lon), resolved conservatively.

    AGL is resolved against the highest plausible ground ``g_hi`` of the cell under
    the point, so the aircraft is at least ``height_m`` above the real ground (and at
    most ``height_m + g_hi - g_lo``). Tiers are tried lowest first; the first whose
    column there holds a voxel at that altitude gives the cell. With
    ``height_m=None``, the middle of the lowest tier's column there (always a voxel).

    Returns
    -------
    (lat, lon, alt_m_amsl)

    Raises
    ------
    PointOutsideGridError
        No tier has a cell at (lat, lon), or no column holds a voxel at that height.
    RouteConstraintError
        Non-finite or out-of-range input.
    """
    grid = graph.grid if isinstance(graph, RouteGraph) else graph
    h = 0.0 if height_m is None else height_m
    if not all(math.isfinite(x) for x in (lat, lon, h)) or not (
        -90 <= lat <= 90 and -180 <= lon <= 180
    ):
        raise RouteConstraintError(f"({lat}, {lon}) at {height_m} m is not a valid position")
    seen = []
    inside = False
    for t, tier in enumerate(grid.tiers):
        ci = int(grid.find_cells(np.array([h3i.latlng_to_cell(lat, lon, tier.resolution)]), t)[0])
        inside |= ci >= 0
        if ci < 0 or grid.cell_nlayers[ci] == 0:
            continue
        first = int(grid.cell_first_layer[ci])
        lo, hi = first * tier.thickness_m, (first + int(grid.cell_nlayers[ci])) * tier.thickness_m
        if height_m is None:
            start = int(grid.cell_start[ci])
            ok = np.flatnonzero(
                (grid.status[start : start + int(grid.cell_nlayers[ci])] & np.uint8(BLOCKING)) == 0
            )
            if len(ok):
                return lat, lon, (first + int(ok[len(ok) // 2]) + 0.5) * tier.thickness_m
            seen.append(f"{tier.name}: no usable voxel")
            continue
        alt = float(grid.cell_g_hi[ci]) + height_m
        if lo <= alt < hi:
            return lat, lon, alt
        seen.append(
            f"{tier.name}: {lo - float(grid.cell_g_hi[ci]):.0f}-{hi - float(grid.cell_g_hi[ci]):.0f} m"
        )
    if not inside:
        raise PointOutsideGridError(f"({lat}, {lon}) is outside the grid's area")
    if not seen:
        raise PointOutsideGridError(
            f"no tier exists at ({lat}, {lon}): the ground there is too uncertain for "
            f"every band ({grid.locate(lat, lon, 0.0).reason})"
        )
    if height_m is None:
        raise PointOutsideGridError(f"no usable voxel at ({lat}, {lon}): {', '.join(seen)}")
    raise PointOutsideGridError(
        f"no voxel at {height_m:g} m above the highest plausible ground at "
        f"({lat}, {lon}); columns there span {', '.join(seen)} above it"
    )


# -- smoothing ------------------------------------------------------------------------------
def _voxel_lonlat(grid: Grid, voxels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ll = np.array(
        [h3i.cell_to_latlng(int(c)) for c in grid.cell[voxels].tolist()], np.float64
    ).reshape(-1, 2)
    return ll[:, 0], ll[:, 1]


def _to_xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _segment_samples(
    p: np.ndarray, q: np.ndarray, step_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points at most ``step_m`` apart on the segment p -> q, linear in (lat, lon, alt), ends included."""
    dlat = (q[0] - p[0]) * 111_195.0
    dlon = (q[1] - p[1]) * 111_195.0 * math.cos(math.radians(0.5 * (p[0] + q[0])))
    n = math.ceil(math.hypot(dlat, dlon) / step_m) + 1
    s = np.linspace(0.0, 1.0, max(n, 2))
    return p[0] + (q[0] - p[0]) * s, p[1] + (q[1] - p[1]) * s, p[2] + (q[2] - p[2]) * s


def sampling_step_m(grid: Grid, t: int = 0) -> float:
    """Candidate-sampling step of tier ``t``: half its H3 average edge length."""
    return h3.average_hexagon_edge_length(grid.tiers[t].resolution, "m") / 2


#: Vertices kept per cell hull (an H3 boundary has at most 10).
_HULL_VERTS = 10
#: Cells are grown by this many degrees (~0.1 mm) in the line-of-sight clip, so a segment
#: that touches a cell's boundary counts as passing over it despite round-off.
_TOUCH_DEG = 1e-9


@lru_cache(maxsize=1 << 16)
def _cell_hull(cell: int) -> np.ndarray:
    """Convex hull of a cell's boundary (edges straight in (lon, lat)) as half-planes: per
    edge, a vertex and the inward unit normal (float64[:data:`_HULL_VERTS`, 4]:
    ``x, y, nx, ny``; unused rows have a zero normal, which constrains nothing).

    The hull equals the hexagon for ordinary cells and contains it where a boundary is
    not strictly convex (extra distortion vertices), so clipping by it never misses a
    cell a segment touches.
    """
    pts = [(lo, la) for la, lo in h3i.cell_to_boundary(cell)]
    n = len(pts)
    turns = [
        (pts[(k + 1) % n][0] - pts[k][0]) * (pts[(k + 2) % n][1] - pts[(k + 1) % n][1])
        - (pts[(k + 1) % n][1] - pts[k][1]) * (pts[(k + 2) % n][0] - pts[(k + 1) % n][0])
        for k in range(n)
    ]
    if not (all(t > 0 for t in turns) or all(t < 0 for t in turns)):
        pts = [
            tuple(xy)
            for xy in shapely.get_coordinates(shapely.convex_hull(shapely.multipoints(pts)))[:-1]
        ]
        n = len(pts)
    area2 = sum(pts[k][0] * pts[(k + 1) % n][1] - pts[(k + 1) % n][0] * pts[k][1] for k in range(n))
    if area2 < 0:  # clockwise: reverse
        pts = pts[::-1]
    out = np.zeros((_HULL_VERTS, 4))
    for k, (x, y) in enumerate(pts):
        ex, ey = pts[(k + 1) % n][0] - x, pts[(k + 1) % n][1] - y
        length = math.hypot(ex, ey)
        out[k] = (x, y, -ey / length, ex / length)
    out.flags.writeable = False  # shared by every caller through the cache
    return out


def _clip(
    p: np.ndarray, q: np.ndarray, cells: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which cells the segment p -> q ((lon, lat), straight in lon/lat) touches, and the
    parameter interval ``[t0, t1]`` of ``[0, 1]`` it spends over each.

    Cyrus-Beck clipping against each cell's convex hull (:func:`_cell_hull`) grown by
    :data:`_TOUCH_DEG`: boundary contact counts, and round-off can only add cells or
    widen intervals.
    """
    h = (
        np.stack([_cell_hull(c) for c in cells.tolist()])
        if len(cells)
        else np.empty((0, _HULL_VERTS, 4))
    )
    x, y, nx, ny = h[..., 0], h[..., 1], h[..., 2], h[..., 3]
    num = nx * (p[0] - x) + ny * (p[1] - y) + _TOUCH_DEG * ((nx != 0) | (ny != 0))
    den = nx * (q[0] - p[0]) + ny * (q[1] - p[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        t = -num / den
    t0 = np.where(den > 0, t, 0.0).max(axis=1, initial=0.0)
    t1 = np.where(den < 0, t, 1.0).min(axis=1, initial=1.0)
    hit = (t0 <= t1) & ~((den == 0) & (num < 0)).any(axis=1)
    return hit, t0, t1


def segment_cells(
    graph: RouteGraph, p: np.ndarray, q: np.ndarray, t: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Every tier-``t`` cell the segment p -> q passes over, exactly, with its parameter range.

    The segment is straight in (lon, lat) (as GeoJSON draws it) with altitude linear
    along it. Candidates are the cells of points sampled every half edge
    (:func:`sampling_step_m`) plus their H3 neighbours: a cell the segment enters lies
    within a quarter edge of a sample, and going from a cell to one that is not its
    neighbour takes at least an edge length (the gap between a hexagon's non-adjacent
    edges), so it is a sample's cell or one of its neighbours. Clipping the segment
    by each candidate's hexagon (:func:`_clip`) keeps those it really touches (boundary
    contact included, cells grown by 1e-9 degree against round-off) with the stretch
    spent over each.

    Returns
    -------
    (cell rows, t0, t1) or None
        Cell-table rows and the parameter interval ``[t0, t1]`` of ``[0, 1]`` spent over
        each; None when the segment touches a cell that is not in the grid.
    """
    grid = graph.grid
    res = grid.tiers[t].resolution
    lat, lon, _ = _segment_samples(p, q, sampling_step_m(grid, t))
    f = h3i.latlng_to_cell
    sc = np.unique(
        np.fromiter((f(a, b, res) for a, b in zip(lat.tolist(), lon.tolist())), np.int64, len(lat))
    )
    ci = grid.find_cells(sc, t)
    if (ci < 0).any():
        return None
    if p[0] == q[0] and p[1] == q[1]:
        return ci, np.zeros(len(ci)), np.ones(len(ci))
    a, b = np.array([p[1], p[0]]), np.array([q[1], q[0]])
    nb = graph.nbr[ci]
    rim = ci[(nb < 0).any(axis=1)]
    if len(rim):
        outside = {int(x) for r in rim.tolist() for x in h3i.grid_ring(int(grid.cell_id[r]), 1)}
        outside = np.array(sorted(outside), np.int64)
        outside = outside[grid.find_cells(outside, t) < 0]
        if len(outside) and _clip(a, b, outside)[0].any():
            return None
    cand = np.unique(np.concatenate([ci, nb[nb >= 0].astype(np.int64)]))
    hit, t0, t1 = _clip(a, b, grid.cell_id[cand])
    return cand[hit], t0[hit], t1[hit]


def segment_voxels(
    graph: RouteGraph, p: np.ndarray, q: np.ndarray, t: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Every tier-``t`` (cell, layer) the 3D segment p -> q passes through.

    Returns
    -------
    (voxels, cell rows, lowest altitude over each cell) or None
        Voxel indices (-1 where the layer is not in the column); per touched cell, its
        row and the segment's lowest altitude over it. None if the segment leaves the
        grid's cells.
    """
    grid = graph.grid
    got = segment_cells(graph, p, q, t)
    if got is None:
        return None
    rows, t0, t1 = got
    a0 = p[2] + (q[2] - p[2]) * t0
    a1 = p[2] + (q[2] - p[2]) * t1
    lo, hi = np.minimum(a0, a1), np.maximum(a0, a1)
    th = grid.tiers[t].thickness_m
    l0 = np.floor(lo / th).astype(np.int64)
    n = np.floor(hi / th).astype(np.int64) - l0 + 1
    rr = np.repeat(rows, n)
    lay = np.repeat(l0, n) + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    return grid.voxel_index(rr, lay), rows, lo


def _clear(
    graph: RouteGraph, blocked: np.ndarray, p: np.ndarray, q: np.ndarray, tp: int, tq: int
) -> bool:
    if tp != tq:
        return False
    got = segment_voxels(graph, p, q, tp)
    if got is None or (got[0] < 0).any():
        return False
    v = got[0]
    ok = graph.usable[v]
    if len(blocked):
        ok &= blocked[v] == 0
    return bool(ok.all())


def smooth(
    graph: RouteGraph,
    path: np.ndarray,
    blocked: np.ndarray,
    origin: tuple | None = None,
    dest: tuple | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Any-angle pruning of a voxel path into waypoints.

    Parameters
    ----------
    graph
        The graph the path was found on.
    path
        Voxel path (consecutive voxels joined by graph edges).
    blocked
        The request's mask (uint8 or empty).
    origin, dest
        Exact end points (lat, lon, alt) before the first / after the last voxel centre.

    Returns
    -------
    points : float64[k, 3]
        Waypoints (lat, lon, alt m AMSL).
    voxels : int64[k]
        Path voxel of each waypoint.

    Notes
    -----
    Greedy string pulling in the manner of Theta*/post-smoothing (Botea, Müller &
    Schaeffer 2004; Daniel, Nash, Koenig & Felner 2010): from the current anchor,
    the farthest later path point in line of sight becomes the next waypoint, found
    by galloping then bisection over the path index. Line of sight is exact, not
    sampled: both ends are in the same tier and every voxel of that tier the 3D
    segment passes through (:func:`segment_voxels`: every cell its footprint touches,
    boundary contact included, times every layer its altitude spans over that cell)
    exists, is usable and may be entered by the request. A segment between
    consecutive path points is always accepted: it joins two voxels by a graph edge
    (or an exact end point to its own voxel's centre), so smoothing never fails. Within
    one tier such a segment stays inside its two voxels; a tier transition's segment
    may cross the lattice gap between the two tiers' bands.
    """
    grid = graph.grid
    lat, lon = _voxel_lonlat(grid, path)
    pts = np.column_stack([lat, lon, graph.zc[path].astype(np.float64)])
    path = np.asarray(path, np.int64)
    if origin is not None:  # the exact point, then its voxel's centre (a segment inside one voxel)
        pts = np.vstack([np.asarray(origin, np.float64)[None, :], pts])
        path = np.concatenate([path[:1], path])
    if dest is not None:
        pts = np.vstack([pts, np.asarray(dest, np.float64)[None, :]])
        path = np.concatenate([path, path[-1:]])
    tiers = grid.tier[path].astype(np.int64)
    idx = string_pull(
        len(pts), lambda i, j: _clear(graph, blocked, pts[i], pts[j], tiers[i], tiers[j])
    )
    return pts[idx], path[idx]


def string_pull(n: int, visible: Callable[[int, int], bool]) -> np.ndarray:
    """Indices kept when pruning a polyline of ``n`` points by line of sight.

    From each kept point ``i`` the next kept point is a farthest ``j`` with
    ``visible(i, j)``, found by galloping (``i+2, i+4, ...``) and then bisecting
    between the last visible and the first blocked index. ``i -> i+1`` is always
    taken as visible, so the result is never empty and ends at ``n - 1``.

    Parameters
    ----------
    n
        Number of points.
    visible
        Whether the straight segment between two point indices is clear.

    Returns
    -------
    numpy.ndarray
        int64 indices, starting at 0 and ending at ``n - 1``.

    Notes
    -----
    Galloping plus bisection assumes visibility is roughly monotone along the path
    (true for paths that leave a region once); a non-monotone case only keeps more
    points, never an invisible segment, since every kept segment was tested.
    """
    keep = [0]
    i = 0
    while i < n - 1:
        best, k, fail = i + 1, 2, -1
        while best < n - 1:
            j = min(i + k, n - 1)
            if visible(i, j):
                best, k = j, k * 2
            else:
                fail = j
                break
        if fail > 0:
            lo, hi = best, fail
            while hi - lo > 1:
                m = (lo + hi) // 2
                lo, hi = (m, hi) if visible(i, m) else (lo, m)
            best = lo
        keep.append(best)
        i = best
    return np.array(keep, np.int64)


def _finish(
    graph: RouteGraph,
    route: Route,
    blocked: np.ndarray,
    origin: tuple | None,
    dest: tuple | None,
    cruise_mps: float,
    climb_mps: float,
    descent_mps: float,
) -> None:
    grid = graph.grid
    pts, wvox = smooth(graph, route.voxels, blocked, origin, dest)
    route.waypoints = [
        Waypoint(
            float(a),
            float(b),
            float(c),
            (float(c - grid.g_hi[v]), float(c - grid.cell_g_lo[grid.voxel_cell[v]])),
            int(v),
        )
        for (a, b, c), v in zip(pts.tolist(), wvox.tolist())
    ]
    xyz = _to_xyz(pts[:, 0], pts[:, 1])
    chord = np.linalg.norm(np.diff(xyz, axis=0), axis=1)
    horiz = 2 * EARTH_R * np.arcsin(np.minimum(chord / 2, 1.0))
    dz = np.diff(pts[:, 2])
    route.length_m = float(np.hypot(horiz, dz).sum())
    vt = np.where(dz > 0, dz / climb_mps, -dz / descent_mps)
    route.time_s = float(np.maximum(horiz / cruise_mps, vt).sum())
    clear = [float(np.min(pts[:, 2] - grid.g_hi[wvox]))]
    tiers = grid.tier[wvox]
    for k in range(len(pts) - 1):
        if tiers[k] != tiers[k + 1]:
            continue  # a tier transition: its ends are counted above
        got = segment_voxels(graph, pts[k], pts[k + 1], int(tiers[k]))
        if got is not None:
            clear.append(float(np.min(got[2] - grid.cell_g_hi[got[1]])))
    route.min_clearance_m = min(clear)


def plan_route(
    graph: RouteGraph | Grid,
    origin: Point,
    dest: Point,
    *,
    tiers: Sequence[str] | None = None,
    min_height_m: float | None = None,
    max_height_m: float | None = None,
    no_go: Sequence[shapely.Geometry] = (),
    max_range_m: float | None = None,
    blocked_mask: np.ndarray | None = None,
    budget: int = DEFAULT_BUDGET,
    cruise_mps: float = 15.0,
    climb_mps: float = 5.0,
    descent_mps: float = 3.0,
    smooth_path: bool = True,
    strategy: Strategy | str = Strategy.AUTO,
) -> Route:
    """Plan a route between two points of a grid.

    Parameters
    ----------
    graph
        A :class:`~airgrid.routing.graph.RouteGraph`, or a Grid (its default-weight
        graph is built once and cached).
    origin, dest
        ``(lat, lon, alt_m_amsl)``, a dense voxel index, or a voxel id ``"<h3>:<layer>"``.
    tiers, min_height_m, max_height_m, no_go, max_range_m, blocked_mask
        Per-request constraints, see :class:`Constraints`.
    budget
        Maximum A* expansions before giving up with ``BUDGET_EXHAUSTED``.
    cruise_mps, climb_mps, descent_mps
        Speeds for the flight time: each segment takes the longer of its horizontal
        time at cruise speed and its vertical time at climb/descent speed.
    smooth_path
        Compute waypoints, length, time and clearance (False: voxel path and cost only).
    strategy
        :class:`Strategy` (default ``AUTO``: exact below :data:`CORRIDOR_FROM_M`,
        fast beyond).

    Returns
    -------
    Route
        ``FOUND``, ``NO_ROUTE`` or ``BUDGET_EXHAUSTED``. A found route longer than
        ``max_range_m`` is reported as ``NO_ROUTE`` with the reason.

    Raises
    ------
    PointOutsideGridError
        A point is outside the grid (or in no voxel).
    PointInTerrainError
        A point is inside terrain or a terrain-blocked voxel.
    PointBlockedError
        A point is in a voxel the request may not use.
    RouteConstraintError
        Malformed points or constraints.

    Notes
    -----
    A* (Hart, Nilsson & Raphael 1968, "A Formal Basis for the Heuristic Determination
    of Minimum Cost Paths") over the CSR graph, see :func:`airgrid.routing.kernels.astar.astar`
    for the heuristic and its admissibility; then line-of-sight smoothing
    (:func:`smooth`).
    """
    gr = graph_for(graph)
    for label, v in (
        ("cruise_mps", cruise_mps),
        ("climb_mps", climb_mps),
        ("descent_mps", descent_mps),
    ):
        if not (math.isfinite(v) and v > 0):
            raise RouteConstraintError(f"{label} must be > 0")
    if not (isinstance(budget, (int, np.integer)) and budget > 0):
        raise RouteConstraintError(f"budget must be a positive integer, got {budget!r}")
    if max_range_m is not None and not (math.isfinite(max_range_m) and max_range_m > 0):
        raise RouteConstraintError("max_range_m must be > 0")
    try:
        strategy = Strategy(strategy)
    except ValueError:
        raise RouteConstraintError(
            f"strategy must be one of {[m.value for m in Strategy]}, got {strategy!r}"
        ) from None
    cons = Constraints(tiers, min_height_m, max_height_m, tuple(no_go), max_range_m, blocked_mask)
    blocked = constraint_mask(gr, cons)
    src, o_pt = resolve_point(gr, origin, blocked, "origin")
    dst, d_pt = resolve_point(gr, dest, blocked, "destination")
    return route_voxels(
        gr,
        src,
        dst,
        blocked,
        origin_xyz=o_pt,
        dest_xyz=d_pt,
        budget=budget,
        max_range_m=max_range_m,
        speeds=(cruise_mps, climb_mps, descent_mps),
        smooth_path=smooth_path,
        strategy=strategy,
    )


def route_voxels(
    graph: RouteGraph,
    src: int,
    dst: int,
    blocked: np.ndarray,
    *,
    origin_xyz: tuple | None = None,
    dest_xyz: tuple | None = None,
    budget: int = DEFAULT_BUDGET,
    max_range_m: float | None = None,
    speeds: tuple[float, float, float] = (15.0, 5.0, 3.0),
    smooth_path: bool = True,
    strategy: Strategy | str = Strategy.AUTO,
) -> Route:
    """Search and finish a route between two already validated voxels.

    The building block of :func:`plan_route` and multi-stop routing; arguments as
    there, ``blocked`` from :func:`constraint_mask`, ``speeds`` = (cruise, climb,
    descent) m/s.
    """
    t0 = time.perf_counter()
    st, cost, exp, path, bound = search_voxels(
        graph, src, dst, blocked, budget, max_range_m or 0.0, strategy
    )
    ms = (time.perf_counter() - t0) * 1e3
    if st == BUDGET:
        return Route(
            RouteStatus.BUDGET_EXHAUSTED,
            src,
            dst,
            expansions=exp,
            search_ms=ms,
            message=f"no route within the budget of {budget:,} expansions",
        )
    if st == NO_ROUTE:
        why = " within the maximum range" if max_range_m else ""
        return Route(
            RouteStatus.NO_ROUTE,
            src,
            dst,
            expansions=exp,
            search_ms=ms,
            message=f"origin and destination are not connected through usable voxels{why}",
        )
    route = Route(
        RouteStatus.FOUND,
        src,
        dst,
        cost=cost,
        voxels=path,
        expansions=exp,
        search_ms=ms,
        optimal=cost <= bound,
        cost_lower_bound=bound,
    )
    if smooth_path:
        _finish(graph, route, blocked, origin_xyz, dest_xyz, *speeds)
        if max_range_m and route.length_m > max_range_m:
            return Route(
                RouteStatus.NO_ROUTE,
                src,
                dst,
                expansions=exp,
                search_ms=ms,
                message=f"the best route is {route.length_m / 1000:.1f} km, longer than the "
                f"maximum range {max_range_m / 1000:.1f} km",
            )
    return route


def _nearest_band_alt(grid: Grid, lat: float, lon: float, alt: float) -> float:
    """The altitude nearest ``alt`` inside a tier band of the grid's columns at a point
    (a metre inside the band, so it names a voxel); inf where no tier exists there."""
    best = math.inf
    for t, tier in enumerate(grid.tiers):
        ci = int(
            grid.find_cells(
                np.array([h3.str_to_int(h3.latlng_to_cell(lat, lon, tier.resolution))]), t
            )[0]
        )
        if ci < 0 or int(grid.cell_nlayers[ci]) == 0:
            continue
        lo = int(grid.cell_first_layer[ci]) * tier.thickness_m
        hi = lo + int(grid.cell_nlayers[ci]) * tier.thickness_m
        near = min(max(alt, lo + 1.0), hi - 1.0)
        if abs(near - alt) < abs(best - alt):
            best = near
    return best


__all__ = [
    "CORRIDOR_FROM_M",
    "Constraints",
    "Point",
    "Route",
    "RouteStatus",
    "Router",
    "Strategy",
    "Waypoint",
    "ZonePlanner",
    "at_agl",
    "constraint_mask",
    "graph_for",
    "plan_route",
    "resolve_point",
    "route_voxels",
    "router_for",
    "search_voxels",
    "segment_cells",
    "segment_voxels",
    "smooth",
    "zone_planner_for",
]
