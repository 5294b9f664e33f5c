"""One flight planned: its route over the graph, the route's timing, its intent, and the
voxels to avoid when it is re-routed around a conflict.

The route comes from :func:`~airgrid.routing.search.plan.route_voxels` between the
flight's two end voxels, under a blocked-voxel mask per tier set computed once
(:class:`FlightPlanner`), so a flight costs one search and one smoothing, nothing per
voxel of the grid. The intent's volumes come from
:meth:`~airgrid.airspace.traffic.models.IntentRequest.from_route` with the HTTP API's
defaults (:data:`TUBE`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import h3
import numpy as np
from h3.api import basic_int as h3i
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

from airgrid.airspace.geofences.cover import cover_geofence
from airgrid.airspace.geofences.model import Category, Geofence
from airgrid.airspace.grid.served import border_voxels
from airgrid.airspace.grid.voxels import Grid
from airgrid.airspace.traffic.models import Conflict, IntentRequest
from airgrid.routing.graph import RouteGraph
from airgrid.routing.search.plan import route_voxels
from airgrid.routing.search.route import Route
from airgrid.routing.search.router import Router, router_for
from airgrid.simulation.demand import great_circle_m
from airgrid.simulation.mix import FlightClass
from airgrid.simulation.schedule import Flight

#: Climb and descent speeds (m/s) of every flight (the router's defaults).
CLIMB_MPS, DESCENT_MPS = 5.0, 3.0
#: A* expansions allowed per route.
ROUTE_BUDGET = 2_000_000
#: A* expansions allowed to a re-route around conflicts, as a multiple of the flight's
#: first search (at least :data:`REROUTE_MIN_BUDGET`): a detour that needs far more search
#: than the route it replaces is given up, and the flight stays refused.
REROUTE_BUDGET_FACTOR = 8
#: Least A* expansions allowed to a re-route.
REROUTE_MIN_BUDGET = 20_000


@dataclass(frozen=True)
class Tube:
    """How a route becomes volumes (the HTTP API's ``route`` defaults)."""

    half_width_m: float = 50.0
    half_height_m: float = 20.0
    max_piece_m: float = 2_000.0
    time_margin_s: float = 30.0


#: The tube every flight reserves.
TUBE = Tube()


def prohibited_voxels(
    grid: Grid, fences: Iterable[Geofence], start: float, end: float
) -> np.ndarray | None:
    """Voxels no flight of the window ``[start, end]`` (POSIX s) may enter: the conservative
    covers (:func:`~airgrid.airspace.geofences.cover.cover_geofence`) of the prohibited
    geofences active at any moment of the window.

    A geofence active for part of the window blocks it all: flights are kept out a little
    more than they must be, never less. None when nothing is blocked.
    """
    mask = np.zeros(grid.n_voxels, bool)
    for fence in fences:
        if fence.category is Category.PROHIBITED and fence.active_intervals(start, end):
            mask[cover_geofence(grid, fence)] = True
    return mask if mask.any() else None


def no_fly_voxels(grid: Grid, fences: Iterable[Geofence], start: float, end: float) -> np.ndarray:
    """Voxels no flight of the window ``[start, end]`` may use: those of
    :func:`prohibited_voxels` and those at the edge of the grid's area
    (:func:`~airgrid.airspace.grid.served.border_voxels`), where a served store refuses
    intents."""
    blocked = prohibited_voxels(grid, fences, start, end)
    edge = border_voxels(grid)
    return edge if blocked is None else blocked | edge


def timed_waypoints(
    lat: np.ndarray, lon: np.ndarray, alt: np.ndarray, departure: float, cruise_mps: float
) -> list[tuple[float, float, float, float]]:
    """``(lat, lon, alt_m, t)`` of a route's waypoints leaving at ``departure``.

    Each segment takes the longer of its great-circle length at ``cruise_mps`` and its
    climb (at :data:`CLIMB_MPS`) or descent (at :data:`DESCENT_MPS`), as the router
    times a route; a segment takes at least a millisecond, so times strictly increase.
    """
    horiz = great_circle_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    dz = np.diff(alt)
    vt = np.where(dz > 0, dz / CLIMB_MPS, -dz / DESCENT_MPS)
    seg = np.maximum(np.maximum(horiz / cruise_mps, vt), 1e-3)
    t = departure + np.concatenate([[0.0], np.cumsum(seg)])
    return list(zip(lat.tolist(), lon.tolist(), alt.tolist(), t.tolist()))


class FlightPlanner:
    """Routes and intents of a day's flights over one graph (one per thread: see
    :meth:`twin`).

    Parameters
    ----------
    graph
        The routing graph of the grid the flights were drawn on.
    tube
        How routes become volumes.
    no_fly
        Per voxel, whether no flight may enter it (such as :func:`prohibited_voxels`):
        routes avoid these voxels and a flight ending in one is not :meth:`connected`.
    """

    def __init__(
        self, graph: RouteGraph, tube: Tube = TUBE, no_fly: np.ndarray | None = None
    ) -> None:
        self.graph = graph
        self.grid = graph.grid
        self.tube = tube
        self.no_fly = no_fly
        self.router = router_for(graph)
        self._masks: dict[tuple[str, ...], np.ndarray] = {}
        self._parts: dict[tuple[str, ...], np.ndarray] = {}

    def twin(self) -> FlightPlanner:
        """A planner for another thread: the same graph, tube, masks and components (those
        computed so far and later, shared), with a search state of its own."""
        other = FlightPlanner(self.graph, self.tube, self.no_fly)
        other.router = Router(self.graph)
        other._masks, other._parts = self._masks, self._parts
        return other

    def mask(self, tiers: Sequence[str]) -> np.ndarray:
        """The blocked-voxel mask (uint8) of voxels outside ``tiers``, not usable, or in
        the planner's ``no_fly`` voxels."""
        key = tuple(tiers)
        if key not in self._masks:
            names = [t.name for t in self.grid.tiers]
            allowed = [names.index(t) for t in key if t in names]
            blocked = ~np.isin(self.grid.tier, allowed)
            if self.no_fly is not None:
                blocked |= self.no_fly
            self._masks[key] = blocked.view(np.uint8)
        return self._masks[key]

    def components(self, tiers: Sequence[str]) -> np.ndarray:
        """Per voxel, its strongly connected component in the graph of ``tiers`` (voxels
        outside them are components of their own)."""
        key = tuple(tiers)
        if key not in self._parts:
            g = self.graph
            blocked = self.mask(key).view(bool)
            rows = np.repeat(np.arange(g.n_nodes, dtype=np.int32), np.diff(g.indptr))
            keep = ~blocked[rows] & ~blocked[g.indices]
            adj = csr_array(
                (np.ones(int(keep.sum()), np.int8), (rows[keep], g.indices[keep])),
                shape=(g.n_nodes, g.n_nodes),
            )
            self._parts[key] = connected_components(adj, directed=True, connection="strong")[1]
        return self._parts[key]

    def connected(self, cls: FlightClass, origin: int, destination: int) -> bool:
        """Whether a route of class ``cls`` can exist from ``origin`` to ``destination``
        (before any voxel is avoided): the two lie in one component of its tiers' graph."""
        part = self.components(cls.tiers)
        return bool(part[origin] == part[destination])

    def route(
        self, flight: Flight, avoid: np.ndarray | None = None, budget: int = ROUTE_BUDGET
    ) -> Route:
        """The flight's route between its end voxels, also avoiding the voxels ``avoid``
        (indices) when given, within ``budget`` A* expansions."""
        blocked = self.mask(flight.cls.tiers)
        if avoid is not None and len(avoid):
            blocked = blocked.copy()
            blocked[avoid] = 1
            blocked[[flight.origin, flight.destination]] = 0
        return route_voxels(
            self.graph,
            flight.origin,
            flight.destination,
            blocked,
            budget=budget,
            speeds=(flight.cls.cruise_mps, CLIMB_MPS, DESCENT_MPS),
            router=self.router,
        )

    def intent(
        self, flight: Flight, route: Route, operator: str, intent_id: str, delay_s: float = 0.0
    ) -> IntentRequest:
        """The intent of a found route leaving ``delay_s`` after the flight's departure
        time, in the highest tier the route reaches (whose minima are the largest)."""
        wps = route.waypoints
        if len(wps) == 1:  # both ends in one voxel: a degenerate two-point route
            wps = [wps[0], wps[0]]
        lat = np.array([w.lat for w in wps])
        lon = np.array([w.lon for w in wps])
        alt = np.array([w.alt_m for w in wps])
        tier = self.grid.tiers[int(self.grid.tier[route.voxels].max())].name
        return IntentRequest.from_route(
            operator,
            flight.cls.priority,
            tier,
            timed_waypoints(lat, lon, alt, flight.departure + delay_s, flight.cls.cruise_mps),
            half_width_m=self.tube.half_width_m,
            half_height_m=self.tube.half_height_m,
            max_piece_m=self.tube.max_piece_m,
            time_margin_s=self.tube.time_margin_s,
            intent_id=intent_id,
        )

    def conflict_voxels(self, conflicts: Iterable[Conflict], tiers: Sequence[str]) -> np.ndarray:
        """Voxels of ``tiers`` near where ``conflicts`` meet: in the cells within twice the
        conflict's lateral minimum plus the tube's half-width of its place, whose band
        overlaps the conflict's band grown by the vertical minimum and the tube's
        half-height. A re-route that avoids them keeps clear of the conflicting volumes there.

        Conflicts that share a cell, ring and band (neighbouring volume pairs often do)
        are gathered once; the result may hold a voxel more than once.
        """
        grid = self.grid
        cs = list(conflicts)
        if not cs:
            return np.empty(0, np.int64)
        names = [t.name for t in grid.tiers]
        lat = [c.lat for c in cs]
        lon = [c.lon for c in cs]
        reach = np.array([2 * c.minima.lateral_m + self.tube.half_width_m for c in cs])
        band = np.array(
            [
                (
                    c.floor_m - c.minima.vertical_m - self.tube.half_height_m,
                    c.ceiling_m + c.minima.vertical_m + self.tube.half_height_m,
                )
                for c in cs
            ]
        )
        out: list[np.ndarray] = []
        for name in tiers:
            t = names.index(name)
            res = grid.tiers[t].resolution
            edge = h3.average_hexagon_edge_length(res, unit="m")
            k = np.maximum(1, np.ceil(reach / (math.sqrt(3) * edge))).astype(np.int64)
            centre = np.fromiter(map(h3i.latlng_to_cell, lat, lon, [res] * len(cs)), np.int64)
            # one row per distinct (centre, ring, band): its disk's cells, then their voxels
            rows = np.unique(np.column_stack([centre, k, band.view(np.int64)]), axis=0)
            disks = {
                (c, r): np.array(h3i.grid_disk(c, r), np.int64)
                for c, r in {(int(c), int(r)) for c, r in rows[:, :2]}
            }
            cells = [disks[int(c), int(r)] for c, r in rows[:, :2]]
            ci = grid.find_cells(np.concatenate(cells), t)
            row = np.repeat(np.arange(len(rows)), [len(x) for x in cells])[ci >= 0]
            ci = ci[ci >= 0]
            n = grid.cell_nlayers[ci].astype(np.int64)
            v = np.repeat(grid.cell_start[ci].astype(np.int64), n) + (
                np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
            )
            lo, hi = rows[:, 2:].copy().view(np.float64).T
            vrow = np.repeat(row, n)
            out.append(v[(grid.floor[v] <= hi[vrow]) & (grid.ceiling[v] >= lo[vrow])])
        return np.concatenate(out)


def crow_flies_m(route: Route) -> float:
    """Great-circle distance (m) between a found route's first and last waypoints."""
    a, b = route.waypoints[0], route.waypoints[-1]
    return float(great_circle_m(a.lat, a.lon, b.lat, b.lon))


__all__ = [
    "CLIMB_MPS",
    "DESCENT_MPS",
    "REROUTE_BUDGET_FACTOR",
    "REROUTE_MIN_BUDGET",
    "ROUTE_BUDGET",
    "TUBE",
    "FlightPlanner",
    "Tube",
    "crow_flies_m",
    "no_fly_voxels",
    "prohibited_voxels",
    "timed_waypoints",
]
