"""Models of the geofence checks: a 4D point, a track, and a flight plan (route and volumes)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from airgrid.api.http.schemas.common import (
    EXAMPLE_DAY,
    AltM,
    Instant,
    Lat,
    LineString3D,
    Lon,
    TrackPointModel,
    VolumeCreate,
)
from airgrid.api.http.schemas.geofences import GeofenceRef


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
