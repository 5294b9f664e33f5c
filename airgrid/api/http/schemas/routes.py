"""Models of the route routes: single and multi-stop requests and the routes found, as GeoJSON."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from airgrid.airspace.grid.altitude import AltitudeReference
from airgrid.api.http.schemas.common import Finite, Instant, LineString3D, Point3D, PolygonGeometry


class RouteOptions(BaseModel):
    """Constraints and speeds shared by single and multi-stop route requests."""

    tiers: list[str] | None = Field(
        None, description="Tier names the aircraft may use (default: all)."
    )
    min_height_m: Finite | None = Field(
        None,
        description="Least certain true height of a voxel floor (above the "
        "highest plausible ground of its cell).",
    )
    max_height_m: Finite | None = Field(
        None,
        description="Greatest certain true height of a voxel ceiling (above "
        "the lowest plausible ground of its cell).",
    )
    no_go: list[PolygonGeometry] = Field(
        default_factory=list, max_length=50, description="Extra no-go areas (all altitudes)."
    )
    max_range_m: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        None, description="Longest acceptable route."
    )
    budget: Annotated[int, Field(gt=0)] | None = Field(
        None, description="A* expansions before giving up (at most the server's search budget)."
    )
    cruise_mps: Annotated[float, Field(gt=0, le=150, allow_inf_nan=False)] = 15.0
    climb_mps: Annotated[float, Field(gt=0, le=50, allow_inf_nan=False)] = 5.0
    descent_mps: Annotated[float, Field(gt=0, le=50, allow_inf_nan=False)] = 3.0
    departure: Instant | None = Field(
        None,
        description="Departure time: avoid prohibited geofences active from then on for the server's "
        "horizon (default: avoid every prohibited geofence).",
    )
    alt_ref: AltitudeReference = Field(
        AltitudeReference.AMSL,
        description="Reference of the points' altitudes: AMSL, AGL (over the highest "
        "plausible ground of the finest cell there) or W84 (WGS84 ellipsoid).",
    )


class RouteCreate(RouteOptions):
    """A single route request between two 3D points."""

    origin: Point3D
    destination: Point3D
    strategy: Literal["auto", "exact", "fast"] = Field(
        "auto",
        description="exact: optimal A* over the whole grid; fast: the cheaper of weighted A* (at most 1.1 x "
        "the optimum) and A* inside a zone corridor (for long routes); auto: fast from 100 km.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "origin": {"type": "Point", "coordinates": [112.98, 28.24, 250.0]},
                    "destination": {"type": "Point", "coordinates": [113.03, 28.29, 260.0]},
                    "tiers": ["T2"],
                    "cruise_mps": 15.0,
                }
            ]
        }
    )


class MultiRouteCreate(RouteOptions):
    """A depot and drop points: the server picks the visiting order."""

    depot: Point3D
    stops: list[Point3D] = Field(min_length=1, description="Drop points, in any order.")
    return_to_depot: bool = True

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "depot": {"type": "Point", "coordinates": [112.98, 28.24, 250.0]},
                    "stops": [
                        {"type": "Point", "coordinates": [113.03, 28.29, 260.0]},
                        {"type": "Point", "coordinates": [113.0, 28.26, 250.0]},
                    ],
                    "return_to_depot": True,
                }
            ]
        }
    )


class RouteProperties(BaseModel):
    """Summary of a found route."""

    status: Literal["found"]
    cost: float = Field(description="Cost of the voxel path (equivalent metres).")
    length_m: float = Field(description="3D length of the smoothed path.")
    time_s: float = Field(description="Flight time at the request's speeds.")
    min_clearance_m: float | None = Field(
        description="Least certain true height along the path: altitude minus "
        "the highest plausible ground, over every cell crossed."
    )
    voxels: list[str] = Field(description="Voxel ids of the path, origin to destination.")
    true_height_range_m: list[tuple[float, float]] = Field(
        description="Per waypoint, the certain range of true height: altitude minus the highest and minus the "
        "lowest plausible ground of its cell."
    )
    height_above_dem_m: list[float] = Field(
        description="Per waypoint, altitude minus the DEM's best estimate (bilinear) of the ground there."
    )
    expansions: int
    search_ms: float
    optimal: bool = Field(
        True,
        description="Whether the cost is proven minimal (exact search, or a fast search "
        "meeting its lower bound).",
    )
    cost_lower_bound: float = Field(0.0, description="Proven lower bound of the optimal cost.")
    leg: int | None = Field(None, description="Leg number of a multi-stop route (0-based).")
    from_stop: int | None = Field(
        None, description="Multi-stop: index into 'stops' the leg starts at (-1: depot)."
    )
    to_stop: int | None = Field(
        None, description="Multi-stop: index into 'stops' the leg ends at (-1: depot)."
    )


class RouteFeature(BaseModel):
    """A route as a GeoJSON Feature (LineString with altitudes, summary in properties)."""

    type: Literal["Feature"]
    geometry: LineString3D
    properties: RouteProperties

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [
                            [112.98, 28.24, 250.0],
                            [113.0294521, 28.2830522, 270.0],
                            [113.03, 28.29, 260.0],
                        ],
                    },
                    "properties": {
                        "status": "found",
                        "cost": 9673.8,
                        "length_m": 7584.5,
                        "time_s": 505.6,
                        "min_clearance_m": 121.0,
                        "voxels": [
                            "894189019c3ffff:12",
                            "894189019c3ffff:13",
                            "8941890a877ffff:13",
                        ],
                        "true_height_range_m": [[155.0, 256.0], [131.0, 271.0], [121.0, 261.0]],
                        "height_above_dem_m": [219.2, 229.2, 206.6],
                        "expansions": 946,
                        "search_ms": 24.3,
                        "leg": None,
                    },
                }
            ]
        }
    )


class MultiRouteProperties(BaseModel):
    """Order and totals of a multi-stop route."""

    status: Literal["found"]
    order: list[int] = Field(description="Visiting order as indices into the request's stops.")
    exact: bool = Field(
        description="Whether the order is proven optimal (Held-Karp, up to 8 stops)."
    )
    legs: int
    length_m: float
    time_s: float


class MultiRouteCollection(BaseModel):
    """A multi-stop route: one Feature per leg, totals in ``properties``."""

    type: Literal["FeatureCollection"]
    features: list[RouteFeature]
    properties: MultiRouteProperties

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {
                                "type": "LineString",
                                "coordinates": [[112.98, 28.24, 250.0], [113.0, 28.26, 250.0]],
                            },
                            "properties": {
                                "status": "found",
                                "cost": 3620.9,
                                "length_m": 2963.7,
                                "time_s": 197.6,
                                "min_clearance_m": 146.0,
                                "voxels": ["894189019c3ffff:12", "89418901abbffff:12"],
                                "true_height_range_m": [[155.0, 256.0], [146.0, 259.0]],
                                "height_above_dem_m": [219.2, 221.1],
                                "expansions": 145,
                                "search_ms": 0.2,
                                "leg": 0,
                                "from_stop": -1,
                                "to_stop": 1,
                            },
                        }
                    ],
                    "properties": {
                        "status": "found",
                        "order": [1, 0],
                        "exact": True,
                        "legs": 3,
                        "length_m": 15323.0,
                        "time_s": 1123.6,
                    },
                }
            ]
        }
    )
