"""Routes: a single route or a multi-stop route, answered as GeoJSON Features."""

from __future__ import annotations

import math
import threading

import numpy as np
from fastapi import APIRouter
from pyproj import Geod

from airgrid.airspace.grid.altitude import resolve_altitude
from airgrid.airspace.grid.voxels import Grid
from airgrid.api.http.errors import ApiError, LimitError
from airgrid.api.http.jsonbody import ThreadBodyRoute
from airgrid.api.http.routes.deps import V1, PrincipalDep, ServicesDep
from airgrid.api.http.schemas.common import LineString3D, Point3D, error_responses
from airgrid.api.http.schemas.routes import (
    MultiRouteCollection,
    MultiRouteCreate,
    MultiRouteProperties,
    RouteCreate,
    RouteFeature,
    RouteOptions,
    RouteProperties,
)
from airgrid.api.http.settings import Settings
from airgrid.routing.landmarks import landmark_count
from airgrid.routing.logistics import MultiStopRoute, plan_multi_stop
from airgrid.routing.search.plan import plan_route
from airgrid.routing.search.route import Route, RouteStatus
from airgrid.routing.search.router import graph_for
from airgrid.terrain import Dem
from airgrid.terrain.geoid import Geoid

router = APIRouter(
    route_class=ThreadBodyRoute,
    prefix=f"{V1}/routes",
    tags=["routes"],
    responses=error_responses(401, 404, 413, 422),
)

_GEOD = Geod(ellps="WGS84")


class NoRouteError(ApiError, ValueError):
    """The search ended without a route (not connected, or out of budget)."""


class RoutePlanner:
    """Route searches on the loaded grid, one at a time.

    The router's search state is shared and not thread-safe, so searches are
    serialised; each is bounded by the server's search budget.

    Parameters
    ----------
    grid
        The loaded grid; its routing graph is built here, once.
    settings
        Limits (route length, stops, budget, vertices).
    """

    def __init__(self, grid: Grid, settings: Settings, geoid: Geoid) -> None:
        self.graph = graph_for(grid, landmarks=0)
        self.settings = settings
        self.geoid = geoid
        self._lock = threading.Lock()
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
        with self._lock:
            route = plan_route(
                self.graph,
                o,
                d,
                tiers=opts.tiers,
                min_height_m=opts.min_height_m,
                max_height_m=opts.max_height_m,
                no_go=no_go,
                max_range_m=opts.max_range_m,
                blocked_mask=blocked,
                budget=opts.budget or self.settings.search_budget,
                cruise_mps=opts.cruise_mps,
                climb_mps=opts.climb_mps,
                descent_mps=opts.descent_mps,
                strategy=opts.strategy,
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
        with self._lock:
            tour = plan_multi_stop(
                self.graph,
                depot_amsl,
                stops_amsl,
                return_to_depot=opts.return_to_depot,
                tiers=opts.tiers,
                min_height_m=opts.min_height_m,
                max_height_m=opts.max_height_m,
                no_go=no_go,
                blocked_mask=blocked,
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


def route_feature(
    grid: Grid,
    route: Route,
    dem: Dem,
    leg: int | None = None,
    from_stop: int | None = None,
    to_stop: int | None = None,
) -> RouteFeature:
    """A found route as a GeoJSON Feature."""
    wlat = np.array([w.lat for w in route.waypoints], dtype=np.float64)
    wlon = np.array([w.lon for w in route.waypoints], dtype=np.float64)
    walt = np.array([w.alt_m for w in route.waypoints], dtype=np.float64)
    above_dem = (
        walt - np.asarray(dem.elevation(wlat, wlon), dtype=np.float64) if len(walt) else walt
    )
    coords = [[round(w.lon, 7), round(w.lat, 7), round(w.alt_m, 1)] for w in route.waypoints]
    if len(coords) == 1:  # origin and destination in one voxel: a degenerate but valid line
        coords = coords * 2
    return RouteFeature(
        type="Feature",
        geometry=LineString3D(type="LineString", coordinates=coords),
        properties=RouteProperties(
            status="found",
            cost=route.cost,
            length_m=route.length_m,
            time_s=route.time_s,
            min_clearance_m=None if math.isnan(route.min_clearance_m) else route.min_clearance_m,
            voxels=[grid.voxel_id(int(v)) for v in route.voxels],
            true_height_range_m=[
                (round(w.true_height_range_m[0], 1), round(w.true_height_range_m[1], 1))
                for w in route.waypoints
            ],
            height_above_dem_m=[round(float(h), 1) for h in above_dem],
            expansions=route.expansions,
            search_ms=route.search_ms,
            optimal=route.optimal,
            cost_lower_bound=route.cost_lower_bound,
            leg=leg,
            from_stop=from_stop,
            to_stop=to_stop,
        ),
    )


def _geofence_mask(services: ServicesDep, opts: RouteOptions) -> np.ndarray | None:
    return services.geofences.blocked_mask(
        services.grid, opts.departure, services.settings.route_geofence_horizon_s
    )


@router.post("", response_model=RouteFeature, summary="Plan a route between two points")
def single(services: ServicesDep, _: PrincipalDep, body: RouteCreate) -> RouteFeature:
    """The cheapest flyable route from origin to destination, smoothed, with timing.

    The route avoids every voxel that a prohibited geofence may touch (those active
    around ``departure`` when it is given, else all of them).

    422 when no route exists or the search budget runs out (``detail`` says which),
    404 when a point lies outside the grid.
    """
    planner: RoutePlanner = services.routing
    planner.check([body.origin, body.destination], body)
    blocked = _geofence_mask(services, body)
    return route_feature(
        services.grid, planner.plan(body.origin, body.destination, body, blocked), services.dem
    )


@router.post("/multi", response_model=MultiRouteCollection, summary="Plan a multi-stop route")
def multi(services: ServicesDep, _: PrincipalDep, body: MultiRouteCreate) -> MultiRouteCollection:
    """Depot -> every stop [-> depot] in the cheapest order found, one Feature per leg.

    The order is exact (Held-Karp) up to 8 stops, nearest neighbour plus 2-opt beyond;
    every leg avoids prohibited geofences as a single route does.
    """
    planner: RoutePlanner = services.routing
    planner.check([body.depot, *body.stops], body)
    tour = planner.plan_multi(body.depot, body.stops, body, _geofence_mask(services, body))
    seq = [-1, *tour.order] + ([-1] if body.return_to_depot else [])
    legs = [
        route_feature(services.grid, leg, services.dem, leg=k, from_stop=seq[k], to_stop=seq[k + 1])
        for k, leg in enumerate(tour.legs)
    ]
    return MultiRouteCollection(
        type="FeatureCollection",
        features=legs,
        properties=MultiRouteProperties(
            status="found",
            order=tour.order,
            exact=tour.exact,
            legs=len(legs),
            length_m=tour.total_length_m,
            time_s=tour.total_time_s,
        ),
    )
