"""The route planner behind ``/v1/routes``: searches on the loaded grid, within the
server's limits, several at once, each in a search state lent from a pool.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pyproj import Geod

from airgrid.airspace.grid.altitude import resolve_altitude
from airgrid.airspace.grid.voxels import Grid
from airgrid.api.http.errors import ApiError, LimitError
from airgrid.api.http.schemas.common import Point3D
from airgrid.api.http.schemas.routes import MultiRouteCreate, RouteCreate, RouteOptions
from airgrid.routing.landmarks import landmark_count
from airgrid.routing.logistics import MultiStopRoute, plan_multi_stop
from airgrid.routing.search import reach
from airgrid.routing.search.constraints import Constraints, constraint_mask
from airgrid.routing.search.plan import plan_route
from airgrid.routing.search.route import Route, RouteStatus
from airgrid.routing.search.router import RouterPool, graph_for
from airgrid.routing.search.sightline import hulls_for
from airgrid.settings import Settings
from airgrid.terrain.geoid import Geoid

_GEOD = Geod(ellps="WGS84")
_NO_MASK = np.empty(0, np.uint8)
#: Base masks a planner keeps (see :meth:`RoutePlanner.base_mask`); beyond, the least
#: recently used one is dropped.
BASE_MASKS = 16


class NoRouteError(ApiError, ValueError):
    """The search ended without a route (not connected, or out of budget)."""


@dataclass
class _Base:
    """A base mask kept by :class:`RoutePlanner`: the ``blocked`` array it was made from
    (kept so that its id stays its own), the mask, and the graph's pieces under it
    (computed on first use)."""

    blocked: np.ndarray | None
    mask: np.ndarray | None
    pieces: np.ndarray | None = None


class RoutePlanner:
    """Route searches on the loaded grid, several at once.

    Each single route runs in a search state lent from a
    :class:`~airgrid.routing.search.router.RouterPool` of
    ``settings.route_workers`` states; the search and line-of-sight kernels release the
    GIL, so searches in different request threads run side by side. Multi-stop tours
    compute their cost matrix with Numba's thread pool, which must not be entered from
    two threads at once, so tours run one at a time (beside any single routes). Each
    search is bounded by the server's search budget.

    Parameters
    ----------
    grid
        The loaded grid; its routing graph is built here, once.
    settings
        Limits (route length, stops, budget, vertices) and the pool size.
    """

    def __init__(self, grid: Grid, settings: Settings, geoid: Geoid) -> None:
        self.graph = graph_for(grid, landmarks=0)
        self.settings = settings
        self.geoid = geoid
        self.pool = RouterPool(self.graph, settings.route_workers)
        hulls_for(self.graph)
        self._tours = threading.Lock()
        self._bases: OrderedDict[tuple, _Base] = OrderedDict()
        self._bases_lock = threading.Lock()
        self._pieces_lock = threading.Lock()
        k = landmark_count(self.graph.n_nodes) if len(self.graph.landmarks) == 0 else 0
        self._landmarks = threading.Thread(
            target=self.graph.add_landmarks,
            args=(k,),
            kwargs={"parallel": False},
            name="airgrid-landmarks",
            daemon=True,
        )
        if k:
            self._landmarks.start()

    def landmarks_ready(self, timeout_s: float | None = 0.0) -> bool:
        """Whether the graph's ALT landmarks are in place (waiting up to ``timeout_s``; None: until they are).

        They are computed in a background thread after start-up (several seconds on a
        prefecture grid); until then routes are searched with the geometric bounds
        alone, with the same results, only more slowly.
        """
        if self._landmarks.is_alive():
            self._landmarks.join(timeout_s)
        return not self._landmarks.is_alive()

    def base_mask(
        self, tiers: Sequence[str] | None, blocked: np.ndarray | None
    ) -> np.ndarray | None:
        """The voxels outside ``tiers`` or in ``blocked`` (a bool mask over the grid's
        voxels, such as a :meth:`~airgrid.api.http.registry.GeofenceRegistry.route_mask`),
        read-only; None when neither restricts anything.

        Kept for the :data:`BASE_MASKS` most recent pairs of a tier set and a ``blocked``
        array object: the array must not change while it is in use (the registry's masks
        are read-only, and a geofence change gives new ones). Without ``tiers``,
        ``blocked`` itself.

        Raises
        ------
        airgrid.routing.errors.RouteConstraintError
            An unknown tier, no tier at all, or ``blocked`` not a voxel mask.
        """
        return self._base(tiers, blocked).mask

    def pieces(self, tiers: Sequence[str] | None, blocked: np.ndarray | None) -> np.ndarray:
        """Per node, its weakly connected piece of the graph without the voxels of
        :meth:`base_mask` (:func:`~airgrid.routing.search.reach.pieces`), computed once
        and kept beside that mask.

        Raises
        ------
        airgrid.routing.errors.RouteConstraintError
            As :meth:`base_mask`.
        """
        base = self._base(tiers, blocked)
        if base.pieces is None:
            with self._pieces_lock:
                if base.pieces is None:
                    mask = _NO_MASK if base.mask is None else base.mask.view(np.uint8)
                    base.pieces = reach.pieces(self.graph, mask)
        return base.pieces

    def _base(self, tiers: Sequence[str] | None, blocked: np.ndarray | None) -> _Base:
        """The kept :class:`_Base` of a tier set and a ``blocked`` array, made on first use."""
        key = (None if tiers is None else frozenset(tiers), id(blocked))
        with self._bases_lock:
            hit = self._bases.get(key)
            if hit is not None and hit.blocked is blocked:
                self._bases.move_to_end(key)
                return hit
        mask = blocked
        if tiers is not None:
            c = Constraints(tiers=list(tiers), blocked_mask=blocked)
            mask = constraint_mask(self.graph, c).view(bool)
            mask.flags.writeable = False
        base = _Base(blocked, mask)
        with self._bases_lock:
            # the entry holds ``blocked``: its id names no other array while it is kept
            self._bases[key] = base
            self._bases.move_to_end(key)
            while len(self._bases) > BASE_MASKS:
                self._bases.popitem(last=False)
        return base

    def check(self, points: list[Point3D], opts: RouteOptions) -> None:
        """Refuse requests over the limits before any search.

        Raises
        ------
        LimitError
            Too long, too many stops, too many no-go vertices, or a budget over the server's.
        """
        lim = self.settings
        if len(points) - 1 > lim.max_route_stops:
            raise LimitError(
                f"{len(points) - 1} stops, the limit is {lim.max_route_stops}; split the tour"
            )
        lon = np.array([p.coordinates[0] for p in points])
        lat = np.array([p.coordinates[1] for p in points])
        _, _, d = _GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
        km = float(np.sum(d)) / 1000
        if km > lim.max_route_km:
            raise LimitError(
                f"the stops are {km:.1f} km apart in a straight line, over the limit of "
                f"{lim.max_route_km:g} km; split the flight"
            )
        verts = sum(g.n_vertices for g in opts.no_go)
        if verts > lim.max_polygon_vertices:
            raise LimitError(
                f"the no-go areas have {verts} vertices, the limit is {lim.max_polygon_vertices}"
            )
        if opts.budget is not None and opts.budget > lim.search_budget:
            raise LimitError(
                f"budget {opts.budget} is over the server's search budget {lim.search_budget}"
            )

    def amsl(self, p: Point3D, opts: RouteOptions) -> tuple[float, float, float]:
        """``(lat, lon, alt_m AMSL)`` of a request point whose altitude is in ``opts.alt_ref``."""
        lat, lon, alt = p.lat_lon_alt
        return (
            lat,
            lon,
            resolve_altitude(
                alt, opts.alt_ref, lat, lon, grid=self.graph.grid, geoid=self.geoid
            ).alt_amsl_m,
        )

    def plan(
        self, origin: Point3D, dest: Point3D, opts: RouteCreate, blocked: np.ndarray | None
    ) -> Route:
        """One found route between two points, avoiding the ``blocked`` voxels.

        Raises
        ------
        NoRouteError
            Not connected, or no route within the budget.
        airgrid.routing.errors.RoutingError
            A point outside the grid, in terrain or blocked; bad constraints.
        """
        no_go = [g.to_shapely() for g in opts.no_go]
        o, d = self.amsl(origin, opts), self.amsl(dest, opts)
        base, parts = self.base_mask(opts.tiers, blocked), self.pieces(opts.tiers, blocked)
        with self.pool.lease() as router:
            route = plan_route(
                self.graph,
                o,
                d,
                min_height_m=opts.min_height_m,
                max_height_m=opts.max_height_m,
                no_go=no_go,
                max_range_m=opts.max_range_m,
                blocked_mask=base,
                budget=opts.budget or self.settings.search_budget,
                cruise_mps=opts.cruise_mps,
                climb_mps=opts.climb_mps,
                descent_mps=opts.descent_mps,
                strategy=opts.strategy,
                router=router,
                pieces=parts,
            )
        if route.status is RouteStatus.BUDGET_EXHAUSTED:
            raise LimitError(f"{route.message}; ask for a shorter route or fewer constraints")
        if route.status is not RouteStatus.FOUND:
            raise NoRouteError(route.message)
        return route

    def plan_multi(
        self,
        depot: Point3D,
        stops: list[Point3D],
        opts: MultiRouteCreate,
        blocked: np.ndarray | None,
    ) -> MultiStopRoute:
        """A found depot -> stops [-> depot] tour.

        Raises
        ------
        NoRouteError
            Some stop cannot be reached.
        LimitError
            The search budget ran out.
        """
        no_go = [g.to_shapely() for g in opts.no_go]
        depot_amsl, stops_amsl = self.amsl(depot, opts), [self.amsl(s, opts) for s in stops]
        base = self.base_mask(opts.tiers, blocked)
        with self._tours:
            tour = plan_multi_stop(
                self.graph,
                depot_amsl,
                stops_amsl,
                return_to_depot=opts.return_to_depot,
                min_height_m=opts.min_height_m,
                max_height_m=opts.max_height_m,
                no_go=no_go,
                blocked_mask=base,
                budget=opts.budget or self.settings.search_budget,
                cruise_mps=opts.cruise_mps,
                climb_mps=opts.climb_mps,
                descent_mps=opts.descent_mps,
            )
        if tour.status is RouteStatus.BUDGET_EXHAUSTED:
            raise LimitError(f"{tour.message}; ask for fewer or closer stops")
        if tour.status is not RouteStatus.FOUND:
            raise NoRouteError(tour.message)
        return tour
