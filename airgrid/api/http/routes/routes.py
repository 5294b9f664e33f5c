"""Routes: a single route or a multi-stop route, answered as GeoJSON Features."""

from __future__ import annotations

import math

import numpy as np
from fastapi import APIRouter, Response

from airgrid.airspace.grid.voxels import Grid
from airgrid.api.http.jsonbody import ThreadBodyRoute
from airgrid.api.http.routes.deps import V1, PrincipalDep, ServicesDep
from airgrid.api.http.schemas.common import LineString3D, error_responses
from airgrid.api.http.schemas.routes import (
    MultiRouteCollection,
    MultiRouteCreate,
    MultiRouteProperties,
    RouteCreate,
    RouteFeature,
    RouteOptions,
    RouteProperties,
)
from airgrid.routing.search.route import Route
from airgrid.terrain import Dem

router = APIRouter(
    route_class=ThreadBodyRoute,
    prefix=f"{V1}/routes",
    tags=["routes"],
    responses=error_responses(401, 404, 413, 422),
)


def _voxel_ids(grid: Grid, voxels: np.ndarray) -> list[str]:
    """Public ids (as :meth:`~airgrid.airspace.grid.voxels.Grid.voxel_id`) of a route's
    voxels, gathered in two array reads; a cell's H3 string is its index in lowercase
    hexadecimal, as ``h3.int_to_str`` writes it."""
    v = np.asarray(voxels, np.int64)
    cells, layers = grid.cell[v].tolist(), grid.layer[v].tolist()
    return [f"{c:x}:{k}" for c, k in zip(cells, layers)]


def route_feature(
    grid: Grid,
    route: Route,
    dem: Dem,
    leg: int | None = None,
    from_stop: int | None = None,
    to_stop: int | None = None,
) -> RouteFeature:
    """A found route as a GeoJSON Feature.

    The models are built without validation (``model_construct``): every value is made
    here from the route, as a plain ``float``, ``int``, ``bool`` or ``str`` of its field's
    type, so they serialise to the JSON the validated models would.
    """
    wps = route.waypoints
    wlat = np.array([w.lat for w in wps], dtype=np.float64)
    wlon = np.array([w.lon for w in wps], dtype=np.float64)
    walt = np.array([w.alt_m for w in wps], dtype=np.float64)
    above_dem = (
        walt - np.asarray(dem.elevation(wlat, wlon), dtype=np.float64) if len(walt) else walt
    )
    coords = [
        [round(float(w.lon), 7), round(float(w.lat), 7), round(float(w.alt_m), 1)] for w in wps
    ]
    if len(coords) == 1:  # origin and destination in one voxel: a degenerate but valid line
        coords = coords * 2
    clearance = float(route.min_clearance_m)
    return RouteFeature.model_construct(
        type="Feature",
        geometry=LineString3D.model_construct(type="LineString", coordinates=coords),
        properties=RouteProperties.model_construct(
            status="found",
            cost=float(route.cost),
            length_m=float(route.length_m),
            time_s=float(route.time_s),
            min_clearance_m=None if math.isnan(clearance) else clearance,
            voxels=_voxel_ids(grid, route.voxels),
            true_height_range_m=[
                (round(float(lo), 1), round(float(hi), 1))
                for lo, hi in (w.true_height_range_m for w in wps)
            ],
            height_above_dem_m=[round(h, 1) for h in above_dem.tolist()],
            expansions=int(route.expansions),
            search_ms=float(route.search_ms),
            optimal=bool(route.optimal),
            cost_lower_bound=float(route.cost_lower_bound),
            leg=leg,
            from_stop=from_stop,
            to_stop=to_stop,
        ),
    )


def _blocked(services: ServicesDep, opts: RouteOptions) -> np.ndarray:
    """Voxels a route may not use: those of prohibited geofences active around its
    departure and those at the edge of the served area, read-only (see
    :meth:`~airgrid.api.http.registry.GeofenceRegistry.route_mask`)."""
    return services.geofences.route_mask(
        services.grid, opts.departure, services.settings.route_geofence_horizon_s
    )


@router.post("", response_model=RouteFeature, summary="Plan a route between two points")
def single(services: ServicesDep, _: PrincipalDep, body: RouteCreate) -> Response:
    """The cheapest flyable route from origin to destination, smoothed, with timing.

    The route avoids every voxel that a prohibited geofence may touch (those active
    around ``departure`` when it is given, else all of them), and the cells at the edge
    of the grid's area: every cell it uses lies at least 100 m inside the area, so an
    intent with the default 50 m tube around it is inside the area too.

    422 when no route exists or the search budget runs out (``detail`` says which),
    404 when a point lies outside the grid.
    """
    planner = services.routing
    planner.check([body.origin, body.destination], body)
    blocked = _blocked(services, body)
    feature = route_feature(
        services.grid, planner.plan(body.origin, body.destination, body, blocked), services.dem
    )
    # built without validation (see route_feature): serialised once, not validated as the
    # response model
    return Response(feature.model_dump_json(by_alias=True), media_type="application/json")


@router.post("/multi", response_model=MultiRouteCollection, summary="Plan a multi-stop route")
def multi(services: ServicesDep, _: PrincipalDep, body: MultiRouteCreate) -> Response:
    """Depot -> every stop [-> depot] in the cheapest order found, one Feature per leg.

    The order is exact (Held-Karp) up to 8 stops, nearest neighbour plus 2-opt beyond;
    every leg avoids prohibited geofences as a single route does.
    """
    planner = services.routing
    planner.check([body.depot, *body.stops], body)
    tour = planner.plan_multi(body.depot, body.stops, body, _blocked(services, body))
    seq = [-1, *tour.order] + ([-1] if body.return_to_depot else [])
    legs = [
        route_feature(services.grid, leg, services.dem, leg=k, from_stop=seq[k], to_stop=seq[k + 1])
        for k, leg in enumerate(tour.legs)
    ]
    collection = MultiRouteCollection(
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
    # the legs pass through as built; serialised once, not validated as the response model
    return Response(collection.model_dump_json(by_alias=True), media_type="application/json")
