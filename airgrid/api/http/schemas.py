"""Request and response models of the HTTP API, each with an example.

Naming follows the ``XCreate`` (request body) / ``XPublic`` (answer) habit. GeoJSON in
and out follows RFC 7946: positions are ``[lon, lat]`` or ``[lon, lat, alt_m]`` with
the altitude in metres above mean sea level; polygon rings are closed, and rings the
API writes follow the right-hand rule (exterior counter-clockwise). Rings read in
either orientation are accepted and reoriented.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import shapely
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from shapely.geometry import LineString, Polygon, mapping

from airgrid.airspace.grid.altitude import AltitudeReference
from airgrid.geo.validation import MIN_RADIUS_M, check_datetime, check_identifier

Finite = Annotated[float, Field(allow_inf_nan=False)]
Lon = Annotated[
    float, Field(ge=-180, le=180, allow_inf_nan=False, description="Longitude, degrees (WGS84).")
]
Lat = Annotated[
    float, Field(ge=-90, le=90, allow_inf_nan=False, description="Latitude, degrees (WGS84).")
]
AltM = Annotated[
    float,
    Field(
        ge=-500,
        le=20_000,
        allow_inf_nan=False,
        description="Altitude, metres above mean sea level.",
    ),
]


#: The day the request examples fly on: tomorrow (UTC) when the app is imported, so every
#: example stays inside the planning window however long after writing it is tried.
EXAMPLE_DAY = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()


def _text_time(v: object) -> object:
    if not isinstance(v, str | datetime):
        raise ValueError(
            "a time must be an RFC 3339 string with a time zone, e.g. 2026-11-25T08:00:00Z"
        )
    return v


def _check_instant(t: datetime) -> datetime:
    return check_datetime(t, "time", ValueError)


#: A request time: an RFC 3339 string with a time zone (numbers are refused), in the range
#: every store and calendar computation supports (1970-01-01 to 2200-01-01 UTC).
Instant = Annotated[AwareDatetime, BeforeValidator(_text_time), AfterValidator(_check_instant)]


def _geofence_id(v: str) -> str:
    return check_identifier(v, "identifier", ValueError)


def _intent_id(v: str | None) -> str | None:
    return None if v is None else check_identifier(v, "intent_id", ValueError)


def _check_position(p: list[float]) -> list[float]:
    if not (-180 <= p[0] <= 180 and -90 <= p[1] <= 90):
        raise ValueError(
            f"position {p[:2]} is not [lon, lat] in range (RFC 7946 order is lon, lat)"
        )
    return p


Position = Annotated[
    list[Finite],
    Field(min_length=2, max_length=3, description="[lon, lat] or [lon, lat, alt_m]."),
    AfterValidator(_check_position),
]


def _check_ring(ring: list[list[float]]) -> list[list[float]]:
    if ring[0][:2] != ring[-1][:2]:
        raise ValueError("a linear ring must be closed: its last position must repeat the first")
    return ring


Ring = Annotated[list[Position], Field(min_length=4), AfterValidator(_check_ring)]


def orient_rh(geom: shapely.Geometry) -> shapely.Geometry:
    """The geometry with polygon rings in right-hand order (exterior counter-clockwise)."""
    return shapely.orient_polygons(geom, exterior_cw=False)


class PointGeometry(BaseModel):
    """GeoJSON Point."""

    type: Literal["Point"]
    coordinates: Position

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"type": "Point", "coordinates": [112.97, 28.2]}]}
    )


class LineStringGeometry(BaseModel):
    """GeoJSON LineString (at least two positions)."""

    type: Literal["LineString"]
    coordinates: Annotated[list[Position], Field(min_length=2)]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"type": "LineString", "coordinates": [[112.93, 28.15], [113.02, 28.22]]}]
        }
    )

    def to_shapely(self) -> LineString:
        """The line as a shapely geometry (lon, lat)."""
        return LineString([p[:2] for p in self.coordinates])


class PolygonGeometry(BaseModel):
    """GeoJSON Polygon: an exterior ring and optional holes, each closed."""

    type: Literal["Polygon"]
    coordinates: Annotated[list[Ring], Field(min_length=1)]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [112.95, 28.15],
                            [113.0, 28.15],
                            [113.0, 28.2],
                            [112.95, 28.2],
                            [112.95, 28.15],
                        ]
                    ],
                }
            ]
        }
    )

    def to_shapely(self) -> Polygon:
        """The polygon as a valid shapely geometry in right-hand order.

        Raises
        ------
        ValueError
            Self-intersecting or otherwise invalid rings.
        """
        rings = [[p[:2] for p in r] for r in self.coordinates]
        poly = Polygon(rings[0], rings[1:])
        if not poly.is_valid:
            raise ValueError(f"invalid polygon: {shapely.is_valid_reason(poly)}")
        return orient_rh(poly)

    @property
    def n_vertices(self) -> int:
        """Positions over all rings."""
        return sum(len(r) for r in self.coordinates)

    @classmethod
    def from_shapely(cls, geom: Polygon) -> PolygonGeometry:
        """A GeoJSON polygon from shapely, rings in right-hand order."""
        return cls.model_validate(mapping(orient_rh(geom)))


# -- problems -------------------------------------------------------------------------
class ProblemItem(BaseModel):
    """One validation error."""

    loc: list[str | int] = Field(description="Where: 'body', 'query' or 'path' and the field path.")
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details; every error answer of this API has this shape."""

    type: str = Field(description="URN naming the kind of problem.")
    title: str
    status: int
    detail: str = Field(description="What went wrong and what to change.")
    instance: str | None = Field(None, description="The request path.")
    errors: list[ProblemItem] | None = Field(
        None, description="Per-field errors (validation only)."
    )

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:airgrid:problem:validation-error",
                    "title": "Unprocessable Content",
                    "status": 422,
                    "detail": "query.lat: Input should be less than or equal to 90",
                    "instance": "/v1/grid/voxel",
                    "errors": [
                        {
                            "loc": ["query", "lat"],
                            "msg": "Input should be less than or equal to 90",
                            "type": "less_than_equal",
                        }
                    ],
                }
            ]
        },
    )


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error codes, all answered as :class:`Problem`."""
    text = {
        400: "Malformed request.",
        401: "Missing or unknown API key.",
        403: "The key's role may not do this.",
        404: "No such resource.",
        409: "Conflicts with the current state.",
        413: "Request body too large.",
        422: "Invalid input or over a limit; `detail` tells what to fix.",
    }
    return {c: {"model": Problem, "description": text[c]} for c in codes}


# -- auth and health ------------------------------------------------------------------
class PrincipalPublic(BaseModel):
    """The caller, as identified by its API key."""

    name: str
    role: Literal["operator", "planner", "regulator", "admin"]
    key_id: str = Field(description="First characters of the key's hash (never the key).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "sf-express-ops", "role": "operator", "key_id": "3f9a0c1d2e4b"}]
        }
    )


class HealthPublic(BaseModel):
    """Liveness: the process answers."""

    status: Literal["ok"]
    version: str

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "version": "0.1.0"}]}
    )


class ReadyPublic(BaseModel):
    """Readiness: every dependency the API needs, with its state."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str] = Field(description="Per dependency: 'ok' or the failure.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ready", "checks": {"grid": "ok", "dem": "ok", "database": "ok"}}
            ]
        }
    )


# -- grid and terrain -----------------------------------------------------------------
class TierPublic(BaseModel):
    """One tier of the loaded grid."""

    name: str
    resolution: int = Field(description="H3 resolution of the tier's cells.")
    lower_m: float = Field(
        description="Bottom of the band of true height: every usable voxel's floor is at "
        "least this far above the highest plausible ground of its cell."
    )
    upper_m: float = Field(
        description="Top of the band of true height: every voxel's ceiling is at most this "
        "far above the lowest plausible ground of its cell."
    )
    thickness_m: float = Field(description="Layer thickness; layer k spans [k*t, (k+1)*t) m AMSL.")
    use: str
    cells: int
    voxels: int
    usable: int = Field(description="Voxels with no blocking status.")
    terrain_blocked: float = Field(description="Share of voxels blocked by terrain clearance.")
    exists_share: float = Field(
        description="Share of the tier's cells with at least one usable voxel; elsewhere "
        "the ground is too uncertain for the band, or it is blocked."
    )
    ground_span_m_median: float = Field(
        description="Median over the tier's cells of g_hi - g_lo, the width of "
        "the certain range of the ground."
    )
    cells_lost_to_envelope: int = Field(
        description="Cells where the band fits over the cell's own ground but "
        "not over the continuity envelope (the ceiling rule wins)."
    )


class TiersPublic(BaseModel):
    """The loaded grid's tiers."""

    area: str
    clearance_m: float
    tiers: list[TierPublic]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "area": "changsha",
                    "clearance_m": 30.0,
                    "tiers": [
                        {
                            "name": "T2",
                            "resolution": 9,
                            "lower_m": 120.0,
                            "upper_m": 300.0,
                            "thickness_m": 20.0,
                            "use": "logistics corridors",
                            "cells": 124384,
                            "voxels": 118110,
                            "usable": 118110,
                            "terrain_blocked": 0.0,
                            "exists_share": 0.3475,
                            "ground_span_m_median": 206.0,
                            "cells_lost_to_envelope": 4698,
                        }
                    ],
                }
            ]
        }
    )


class VoxelPublic(BaseModel):
    """One voxel: an H3 cell between a floor and a ceiling (m AMSL)."""

    id: str = Field(description="'<h3 cell>:<layer>'.")
    cell: str
    layer: int
    tier: str
    floor_m: float = Field(description="Bottom, metres AMSL.")
    ceiling_m: float = Field(description="Top, metres AMSL.")
    g_lo_m: float = Field(description="Lowest plausible ground under the cell, metres AMSL.")
    g_hi_m: float = Field(description="Highest plausible ground under the cell, metres AMSL.")
    true_height_range_m: tuple[float, float] = Field(
        description="Certain range of true height inside the voxel: floor - g_hi_m to ceiling - g_lo_m."
    )
    usable: bool
    status: list[str] = Field(description="Status flags: TERRAIN, GEOFENCE, CORRIDOR ...")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "8941890f497ffff:12",
                    "cell": "8941890f497ffff",
                    "layer": 12,
                    "tier": "T2",
                    "floor_m": 240.0,
                    "ceiling_m": 260.0,
                    "g_lo_m": 5.0,
                    "g_hi_m": 67.0,
                    "true_height_range_m": [173.0, 255.0],
                    "usable": True,
                    "status": [],
                }
            ]
        }
    )


class LocatePublic(BaseModel):
    """Which voxel holds a point, or why none does."""

    lon: float
    lat: float
    alt_m: float = Field(description="The altitude as given, in the reference alt_ref.")
    alt_ref: str = Field(description="AMSL, AGL or W84.")
    alt_amsl_m: float = Field(description="The altitude in metres AMSL, as located.")
    alt_resolution: str = Field(description="How alt_m was turned into alt_amsl_m.")
    voxel: VoxelPublic | None = Field(description="The voxel, or null when the point is in none.")
    tier: str | None = Field(description="Tier of the voxel or of the nearest tier column.")
    cell: str | None
    layer: int
    usable: bool
    reason: str = Field(description="Why not usable or why no voxel ('' when usable).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lon": 112.99,
                    "lat": 28.27,
                    "alt_m": 250.0,
                    "alt_ref": "AMSL",
                    "alt_amsl_m": 250.0,
                    "alt_resolution": "AMSL as given",
                    "voxel": {
                        "id": "8941890f497ffff:12",
                        "cell": "8941890f497ffff",
                        "layer": 12,
                        "tier": "T2",
                        "floor_m": 240.0,
                        "ceiling_m": 260.0,
                        "g_lo_m": 5.0,
                        "g_hi_m": 67.0,
                        "true_height_range_m": [173.0, 255.0],
                        "usable": True,
                        "status": [],
                    },
                    "tier": "T2",
                    "cell": "8941890f497ffff",
                    "layer": 12,
                    "usable": True,
                    "reason": "",
                }
            ]
        }
    )


class VoxelProperties(BaseModel):
    """Properties of a voxel Feature."""

    cell: str
    layer: int
    tier: str
    floor_m: float
    ceiling_m: float
    g_lo_m: float
    g_hi_m: float
    true_height_range_m: tuple[float, float]
    usable: bool
    status: list[str]


class VoxelFeature(BaseModel):
    """A voxel as a GeoJSON Feature (its hexagon; floor and ceiling in properties)."""

    type: Literal["Feature"]
    id: str
    geometry: PolygonGeometry
    properties: VoxelProperties


class VoxelCollection(BaseModel):
    """Voxels of an area as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[VoxelFeature]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "id": "89418901a03ffff:9",
                            "geometry": {
                                "type": "Polygon",
                                "coordinates": [
                                    [
                                        [113.0048637, 28.263792],
                                        [113.004459, 28.2655135],
                                        [113.002584, 28.2662029],
                                        [113.0011137, 28.2651709],
                                        [113.0015184, 28.2634493],
                                        [113.0033935, 28.2627599],
                                        [113.0048637, 28.263792],
                                    ]
                                ],
                            },
                            "properties": {
                                "cell": "89418901a03ffff",
                                "layer": 9,
                                "tier": "T2",
                                "floor_m": 180.0,
                                "ceiling_m": 200.0,
                                "g_lo_m": 7.0,
                                "g_hi_m": 60.0,
                                "true_height_range_m": [120.0, 193.0],
                                "usable": True,
                                "status": [],
                            },
                        }
                    ],
                }
            ]
        }
    )


class ElevationPublic(BaseModel):
    """Terrain height at a point (bilinear in the DEM)."""

    lon: float
    lat: float
    elevation_m: float = Field(description="The DEM's best estimate (bilinear), metres AMSL.")
    g_lo_m: float | None = Field(
        description="Lowest plausible ground of the grid cell there (m AMSL); null "
        "outside the grid."
    )
    g_hi_m: float | None = Field(
        description="Highest plausible ground of the grid cell there (m AMSL); null "
        "outside the grid."
    )
    geoid_undulation_m: float = Field(
        description="EGM96 geoid height above the WGS84 ellipsoid there: a W84 "
        "height is elevation_m plus this."
    )
    dem_accuracy: str = Field(
        description="The DEM's uncertainty model (upward and downward margins)."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lon": 112.99,
                    "lat": 28.27,
                    "elevation_m": 28.7,
                    "g_lo_m": 5.0,
                    "g_hi_m": 67.0,
                    "geoid_undulation_m": -16.69,
                    "dem_accuracy": "up 20 m + 2 x relief, down 15 m + 1 x relief (3x3-pixel window)",
                }
            ]
        }
    )


class ProfileCreate(BaseModel):
    """A terrain profile request: a line and how many evenly spaced samples."""

    line: LineStringGeometry
    samples: int = Field(100, ge=2, description="Samples along the whole line, ends included.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "line": {
                        "type": "LineString",
                        "coordinates": [[112.93, 28.15], [113.02, 28.22]],
                    },
                    "samples": 50,
                }
            ]
        }
    )


class ProfilePoint(BaseModel):
    """One profile sample."""

    distance_m: float = Field(description="Along the line from its start (geodesic).")
    lon: float
    lat: float
    elevation_m: float = Field(description="The DEM's best estimate (bilinear), metres AMSL.")


class ProfilePublic(BaseModel):
    """Terrain heights along a line."""

    length_m: float
    min_elevation_m: float
    max_elevation_m: float
    points: list[ProfilePoint]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "length_m": 11759.2,
                    "min_elevation_m": 27.3,
                    "max_elevation_m": 53.8,
                    "points": [
                        {"distance_m": 0.0, "lon": 112.93, "lat": 28.15, "elevation_m": 38.7},
                        {
                            "distance_m": 240.0,
                            "lon": 112.9318356,
                            "lat": 28.1514292,
                            "elevation_m": 37.8,
                        },
                    ],
                }
            ]
        }
    )


# -- routes ---------------------------------------------------------------------------
def _check_3d(p: list[float]) -> list[float]:
    if len(p) != 3:
        raise ValueError("a route point needs [lon, lat, alt_m] (altitude in metres AMSL)")
    return p


class Point3D(BaseModel):
    """GeoJSON Point with altitude: ``[lon, lat, alt_m]`` (metres AMSL)."""

    type: Literal["Point"]
    coordinates: Annotated[Position, AfterValidator(_check_3d)]

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"type": "Point", "coordinates": [112.98, 28.24, 250.0]}]}
    )

    @property
    def lat_lon_alt(self) -> tuple[float, float, float]:
        """``(lat, lon, alt_m)``, the router's order."""
        lon, lat, alt = self.coordinates
        return lat, lon, alt


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


class LineString3D(BaseModel):
    """GeoJSON LineString with altitudes ``[lon, lat, alt_m]``."""

    type: Literal["LineString"]
    coordinates: Annotated[
        list[Annotated[Position, AfterValidator(_check_3d)]], Field(min_length=2)
    ]


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


# -- geofences ------------------------------------------------------------------------
class DailyPeriodModel(BaseModel):
    """A recurring daily activity window, local to the geofence's time zone."""

    days: list[str] = Field(min_length=1, examples=[["MON", "TUE", "WED", "THU", "FRI"]])
    start: str = Field(pattern=r"^\d{2}:\d{2}(:\d{2})?$", examples=["07:00:00"])
    end: str = Field(pattern=r"^\d{2}:\d{2}(:\d{2})?$", examples=["19:00:00"])


class CircleModel(BaseModel):
    """An exact circle; the Feature geometry then holds its containing polygon."""

    center: Annotated[list[Finite], Field(min_length=2, max_length=2)]
    radius_m: Annotated[float, Field(ge=MIN_RADIUS_M, allow_inf_nan=False)]


class GeofenceProperties(BaseModel):
    """Properties of a geofence Feature (see :mod:`airgrid.airspace.geofences.formats.geojson`)."""

    identifier: Annotated[
        str, Field(min_length=1, max_length=128, pattern=r"^[^/\s]+$"), AfterValidator(_geofence_id)
    ]
    name: str = ""
    category: Literal["prohibited", "authorisation_required", "advisory"] = "prohibited"
    reason: str = ""
    reason_codes: list[str] = Field(default_factory=list)
    authority: str = ""
    source_id: str = ""
    country: str = "CHN"
    lower_m: Finite
    lower_reference: Literal["AGL", "AMSL"] = "AMSL"
    upper_m: Finite
    upper_reference: Literal["AGL", "AMSL"] = "AMSL"
    valid_from: str | None = Field(
        None, description="ISO 8601 start (UTC when no offset); null: always."
    )
    valid_to: str | None = Field(None, description="ISO 8601 end; null: open-ended.")
    timezone: str = "Asia/Shanghai"
    daily_periods: list[DailyPeriodModel] = Field(default_factory=list)
    circle: CircleModel | None = None


_GEOFENCE_EXAMPLE = {
    "type": "Feature",
    "id": "CSX-TEST-1",
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [[112.95, 28.25], [112.97, 28.25], [112.97, 28.27], [112.95, 28.27], [112.95, 28.25]]
        ],
    },
    "properties": {
        "identifier": "CSX-TEST-1",
        "name": "Test range",
        "category": "prohibited",
        "reason": "military exercise",
        "reason_codes": ["SENSITIVE"],
        "authority": "CAAC Central South",
        "source_id": "",
        "country": "CHN",
        "lower_m": 0,
        "lower_reference": "AGL",
        "upper_m": 3000,
        "upper_reference": "AMSL",
        "valid_from": None,
        "valid_to": None,
        "timezone": "Asia/Shanghai",
        "daily_periods": [],
        "circle": None,
    },
}


class GeofenceFeature(BaseModel):
    """A geofence as an RFC 7946 Feature (footprint polygon, limits and validity in properties)."""

    type: Literal["Feature"]
    id: str | None = None
    geometry: PolygonGeometry
    properties: GeofenceProperties

    model_config = ConfigDict(json_schema_extra={"examples": [_GEOFENCE_EXAMPLE]})


class GeofenceCollection(BaseModel):
    """Geofences as a FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[GeofenceFeature]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"type": "FeatureCollection", "features": [_GEOFENCE_EXAMPLE]}]
        }
    )


class GeofenceWritePublic(BaseModel):
    """A written geofence and the intents holding airspace it now conflicts with."""

    geofence: GeofenceFeature
    conflicting_intents: list[str] = Field(
        description="Accepted or activated intents inside this prohibited geofence (reported, not cancelled)."
    )

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"geofence": _GEOFENCE_EXAMPLE, "conflicting_intents": []}]}
    )


class ImportPublic(BaseModel):
    """Outcome of an import."""

    created: list[str]
    replaced: list[str]
    deleted: list[str] = Field(
        description="Removed because mode=replace and absent from the import."
    )
    conflicting_intents: list[str] = Field(
        description="Intents holding airspace inside imported prohibited "
        "geofences (reported, not cancelled)."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "created": ["CSX-TEST-1"],
                    "replaced": [],
                    "deleted": [],
                    "conflicting_intents": [],
                }
            ]
        }
    )


class GeofenceRef(BaseModel):
    """A geofence named in a check answer."""

    identifier: str
    name: str
    category: Literal["prohibited", "authorisation_required", "advisory"]


class PointCheckCreate(BaseModel):
    """A 4D point to check; without ``time`` every geofence counts as active."""

    lon: Lon
    lat: Lat
    alt_m: AltM
    time: Instant | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lon": 112.96,
                    "lat": 28.26,
                    "alt_m": 270.0,
                    "time": f"{EXAMPLE_DAY}T08:00:00+08:00",
                }
            ]
        }
    )


class PointCheckPublic(BaseModel):
    """The geofences containing a point."""

    inside: bool
    geofences: list[GeofenceRef]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "inside": True,
                    "geofences": [
                        {"identifier": "CSX-TEST-1", "name": "Test range", "category": "prohibited"}
                    ],
                }
            ]
        }
    )


class TrackPointModel(BaseModel):
    """A 4D track point."""

    lon: Lon
    lat: Lat
    alt_m: AltM
    time: Instant


class TrackCheckCreate(BaseModel):
    """A track: 4D points in time order; straight in lon/lat between points."""

    points: list[TrackPointModel] = Field(min_length=2)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "points": [
                        {
                            "lon": 112.93,
                            "lat": 28.26,
                            "alt_m": 270.0,
                            "time": f"{EXAMPLE_DAY}T08:00:00+08:00",
                        },
                        {
                            "lon": 113.0,
                            "lat": 28.26,
                            "alt_m": 270.0,
                            "time": f"{EXAMPLE_DAY}T08:10:00+08:00",
                        },
                    ]
                }
            ]
        }
    )


class TrackHitPublic(BaseModel):
    """One continuous passage of a track through a geofence."""

    geofence: GeofenceRef
    entry: TrackPointModel
    exit: TrackPointModel
    entry_segment: int
    exit_segment: int


class TrackCheckPublic(BaseModel):
    """Every passage through a geofence, ordered by entry time."""

    hits: list[TrackHitPublic]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "hits": [
                        {
                            "geofence": {
                                "identifier": "CSX-TEST-1",
                                "name": "Test range",
                                "category": "prohibited",
                            },
                            "entry": {
                                "lon": 112.95,
                                "lat": 28.26,
                                "alt_m": 270.0,
                                "time": f"{EXAMPLE_DAY}T00:02:51Z",
                            },
                            "exit": {
                                "lon": 112.97,
                                "lat": 28.26,
                                "alt_m": 270.0,
                                "time": f"{EXAMPLE_DAY}T00:05:42Z",
                            },
                            "entry_segment": 0,
                            "exit_segment": 0,
                        }
                    ]
                }
            ]
        }
    )


class VolumeModel(BaseModel):
    """A 4D volume: footprint, altitude band (m AMSL) and time window."""

    footprint: PolygonGeometry
    floor_m: AltM
    ceiling_m: AltM
    start: Instant
    end: Instant


class VolumeCreate(VolumeModel):
    """A 4D volume to reserve; its band may be given in any altitude reference."""

    altitude_reference: AltitudeReference = Field(
        AltitudeReference.AMSL,
        description="Reference of floor_m and ceiling_m: AMSL; AGL (the floor over the lowest and the ceiling "
        "over the highest plausible ground under the footprint); W84 (WGS84 ellipsoid, with the "
        "EGM96 undulation's extremes over the footprint, +-1.2 m). Stored and answered as AMSL.",
    )


class PlannedRoute(BaseModel):
    """A route to fly: a 3D line, a departure time and a ground speed."""

    line: LineString3D
    departure: Instant
    speed_mps: Annotated[float, Field(ge=0.1, le=150, allow_inf_nan=False)] = 15.0


class PlanCheckCreate(BaseModel):
    """A flight plan: a timed route, 4D volumes, or both."""

    route: PlannedRoute | None = None
    volumes: list[VolumeCreate] = Field(default_factory=list, max_length=500)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "route": {
                        "line": {
                            "type": "LineString",
                            "coordinates": [[112.93, 28.26, 270.0], [113.0, 28.26, 270.0]],
                        },
                        "departure": f"{EXAMPLE_DAY}T08:00:00+08:00",
                        "speed_mps": 15.0,
                    },
                    "volumes": [],
                }
            ]
        }
    )


class VolumeHitPublic(BaseModel):
    """A geofence one planned volume meets, and where."""

    geofence: GeofenceRef
    volume: int = Field(description="Index of the volume in the request.")
    where: dict[str, Any] = Field(description="GeoJSON geometry of the common footprint.")
    floor_m: float
    ceiling_m: float
    intervals: list[tuple[AwareDatetime, AwareDatetime]]


class PlanCheckPublic(BaseModel):
    """Route passages and volume overlaps with geofences."""

    route_hits: list[TrackHitPublic]
    volume_hits: list[VolumeHitPublic]

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"route_hits": [], "volume_hits": []}]}
    )


# -- flight intents -------------------------------------------------------------------
class IntentRouteModel(BaseModel):
    """A 4D route turned into volumes along its timing profile."""

    waypoints: list[TrackPointModel] = Field(min_length=2, description="Times strictly increasing.")
    half_width_m: Annotated[float, Field(gt=0, le=5_000, allow_inf_nan=False)] = 50.0
    half_height_m: Annotated[float, Field(gt=0, le=1_000, allow_inf_nan=False)] = 20.0
    max_piece_m: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 2_000.0
    time_margin_s: Annotated[float, Field(ge=0, le=3_600, allow_inf_nan=False)] = 30.0
    alt_ref: Literal["AMSL", "W84"] = Field(
        "AMSL",
        description="Reference of the waypoints' altitudes: AMSL, or W84 (WGS84 ellipsoid; converted per "
        "waypoint with EGM96 and the pieces grown by the 1.2 m grid error). For heights above "
        "ground, give volumes with altitude_reference AGL.",
    )


_INTENT_VOLUME_EXAMPLE = {
    "footprint": {
        "type": "Polygon",
        "coordinates": [
            [[113.0, 28.26], [113.01, 28.26], [113.01, 28.27], [113.0, 28.27], [113.0, 28.26]]
        ],
    },
    "floor_m": 250.0,
    "ceiling_m": 290.0,
    "start": f"{EXAMPLE_DAY}T08:00:00Z",
    "end": f"{EXAMPLE_DAY}T08:20:00Z",
}
#: The same block of T2 airspace two hours later (the second IntentCreate example).
_INTENT_VOLUME_EXAMPLE_2 = {
    **_INTENT_VOLUME_EXAMPLE,
    "start": f"{EXAMPLE_DAY}T10:00:00Z",
    "end": f"{EXAMPLE_DAY}T10:20:00Z",
}


class IntentCreate(BaseModel):
    """A flight intent: 4D volumes, or a route to turn into volumes (exactly one of the two)."""

    intent_id: Annotated[str | None, AfterValidator(_intent_id)] = Field(
        None,
        pattern=r"^[A-Za-z0-9._:-]{1,64}$",
        description="Client id (a UUID is assigned otherwise).",
    )
    tier: str = Field(description="Tier flown (selects the separation minima).", examples=["T2"])
    priority: Annotated[int, Field(ge=0, le=1000)] = Field(
        20, description="Larger wins; above the operator level (20) needs a grant or an admin key."
    )
    preempt: bool = Field(
        True, description="Take airspace from lower-priority accepted (not activated) intents."
    )
    volumes: list[VolumeCreate] = Field(default_factory=list, max_length=5_000)
    route: IntentRouteModel | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "intent_id": "sfx-example-0001",
                    "tier": "T2",
                    "priority": 20,
                    "volumes": [_INTENT_VOLUME_EXAMPLE],
                },
                {
                    "intent_id": "sfx-example-0002",
                    "tier": "T2",
                    "priority": 20,
                    "volumes": [_INTENT_VOLUME_EXAMPLE_2],
                },
            ]
        }
    )


class IntentPublic(BaseModel):
    """A stored flight intent."""

    id: str
    operator: str
    priority: int
    tier: str
    state: Literal["accepted", "activated", "ended", "cancelled"]
    preempted_by: str | None
    reason: str
    start: AwareDatetime
    end: AwareDatetime
    created_at: AwareDatetime
    updated_at: AwareDatetime
    volumes: list[VolumeModel]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "sfx-example-0001",
                    "operator": "sf-express-ops",
                    "priority": 20,
                    "tier": "T2",
                    "state": "accepted",
                    "preempted_by": None,
                    "reason": "",
                    "start": f"{EXAMPLE_DAY}T08:00:00Z",
                    "end": f"{EXAMPLE_DAY}T08:20:00Z",
                    "created_at": "2026-12-04T18:43:03Z",
                    "updated_at": "2026-12-04T18:43:03Z",
                    "volumes": [_INTENT_VOLUME_EXAMPLE],
                }
            ]
        }
    )


class LowVolumePublic(BaseModel):
    """A volume whose floor may be below its tier's lower limit above the highest plausible ground."""

    volume: int = Field(description="Index of the submitted volume.")
    floor_m: float = Field(description="Its floor, m AMSL.")
    min_floor_m: float = Field(
        description="Highest plausible ground under it (DEM maximum plus the DEM's "
        "uncertainty margin) plus the tier's lower limit, m AMSL."
    )


class HighVolumePublic(BaseModel):
    """A volume whose ceiling may be above its tier's upper limit over the lowest plausible ground."""

    volume: int = Field(description="Index of the submitted volume.")
    ceiling_m: float = Field(description="Its ceiling, m AMSL.")
    max_ceiling_m: float = Field(
        description="Lowest plausible ground under it (DEM minimum minus the DEM's "
        "downward margin) plus the tier's upper limit, m AMSL."
    )


#: What the notices are, for the answers that carry them.
LOW_VOLUMES_DESCRIPTION = (
    "Volumes that may fly below their tier's lower limit above the highest plausible ground. "
    "A notice, not a refusal: deconfliction does not decide terrain clearance."
)
HIGH_VOLUMES_DESCRIPTION = (
    "Volumes that may fly above their tier's upper limit over the lowest plausible ground "
    "(out of the tier's band of true height). A notice, not a refusal."
)


class IntentAccepted(IntentPublic):
    """An accepted intent, the lower-priority intents it pre-empted, and any terrain notice."""

    preempted: list[str] = Field(description="Ids of intents cancelled by this acceptance.")
    low_volumes: list[LowVolumePublic] = Field(description=LOW_VOLUMES_DESCRIPTION)
    high_volumes: list[HighVolumePublic] = Field(description=HIGH_VOLUMES_DESCRIPTION)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **IntentPublic.model_config["json_schema_extra"]["examples"][0],
                    "preempted": [],
                    "low_volumes": [],
                    "high_volumes": [],
                }
            ]
        }
    )


class IntentList(BaseModel):
    """Intents, oldest first."""

    intents: list[IntentPublic]

    model_config = ConfigDict(json_schema_extra={"examples": [{"intents": []}]})


class ConflictPublic(BaseModel):
    """A conflict with another intent."""

    other_id: str
    other_operator: str
    other_priority: int
    other_state: str
    volume: int = Field(description="Index of the submitted volume.")
    other_volume: int
    lon: float = Field(
        description="Where the conflict is (with lat): the centroid of the two footprints' overlap, "
        "or, if they do not overlap, the middle of the shortest line between them."
    )
    lat: float
    floor_m: float
    ceiling_m: float
    start: AwareDatetime
    end: AwareDatetime
    distance_m: float = Field(
        description="Horizontal distance between the two footprints (0 when they overlap)."
    )
    minima: dict[str, float] = Field(description="lateral_m, vertical_m, seconds that applied.")
    preemptable: bool


class GridConflictPublic(BaseModel):
    """A voxel-slot held by another intent (grid-mode tiers)."""

    other_id: str
    cell: str
    layer: int
    slot: int
    preemptable: bool


class GeofenceConflictPublic(BaseModel):
    """An active prohibited geofence the intent meets."""

    geofence_id: str
    name: str
    volume: int
    lon: float
    lat: float
    floor_m: float
    ceiling_m: float
    intervals: list[tuple[AwareDatetime, AwareDatetime]]


class FixPublic(BaseModel):
    """A change that made the intent acceptable when answered (not held)."""

    kind: Literal["departure_shift", "altitude_offset"]
    shift_s: float
    offset_m: float
    description: str


class IntentConflictProblem(Problem):
    """409 answer to a refused intent: every conflict and the proposed fixes."""

    conflicts: list[ConflictPublic]
    grid_conflicts: list[GridConflictPublic]
    geofence_conflicts: list[GeofenceConflictPublic]
    fixes: list[FixPublic]
    low_volumes: list[LowVolumePublic] = Field(description=LOW_VOLUMES_DESCRIPTION)
    high_volumes: list[HighVolumePublic] = Field(description=HIGH_VOLUMES_DESCRIPTION)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:airgrid:problem:intent-conflict",
                    "title": "Conflict",
                    "status": 409,
                    "detail": "the intent conflicts with 1 intent(s) and 0 geofence(s); apply a fix and resubmit",
                    "instance": "/v1/intents",
                    "conflicts": [
                        {
                            "other_id": "a1",
                            "other_operator": "op-2",
                            "other_priority": 20,
                            "other_state": "accepted",
                            "volume": 0,
                            "other_volume": 0,
                            "lon": 113.005,
                            "lat": 28.265,
                            "floor_m": 250.0,
                            "ceiling_m": 290.0,
                            "start": f"{EXAMPLE_DAY}T08:00:00Z",
                            "end": f"{EXAMPLE_DAY}T08:20:00Z",
                            "distance_m": 0.0,
                            "minima": {"lateral_m": 100.0, "vertical_m": 30.0, "seconds": 30.0},
                            "preemptable": False,
                        }
                    ],
                    "grid_conflicts": [],
                    "geofence_conflicts": [],
                    "fixes": [
                        {
                            "kind": "departure_shift",
                            "shift_s": 1260.0,
                            "offset_m": 0.0,
                            "description": "depart 1260 s later: free of every intent and geofence now",
                        }
                    ],
                    "low_volumes": [],
                    "high_volumes": [],
                }
            ]
        }
    )


class CancelCreate(BaseModel):
    """Why an intent is cancelled."""

    reason: str = Field("", max_length=500)
