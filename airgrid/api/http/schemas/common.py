"""Types every resource shares: coordinates, request times, GeoJSON geometries, 4D
track points and volumes, and the RFC 9457 problem answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import numpy as np
import shapely
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from shapely.geometry import LineString, Polygon, mapping

from airgrid.airspace.grid.altitude import AltitudeReference
from airgrid.api.http.errors import InputError
from airgrid.geo.validation import check_datetime

# -- coordinates, times and GeoJSON geometries ----------------------------------------
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
        InputError
            Self-intersecting, degenerate or otherwise invalid rings (a 422).
        """
        rings = [[p[:2] for p in r] for r in self.coordinates]
        poly = Polygon(rings[0], rings[1:])
        if not poly.is_valid:
            raise InputError(f"invalid polygon: {shapely.is_valid_reason(poly)}")
        return orient_rh(poly)

    @property
    def n_vertices(self) -> int:
        """Positions over all rings."""
        return sum(len(r) for r in self.coordinates)

    @classmethod
    def from_shapely(cls, geom: Polygon) -> PolygonGeometry:
        """A GeoJSON polygon from shapely, rings in right-hand order."""
        return cls.model_validate(mapping(orient_rh(geom)))

    @classmethod
    def many_from_shapely(cls, geoms: Sequence[Polygon]) -> list[PolygonGeometry]:
        """:meth:`from_shapely` of many polygons, oriented in one call.

        The rings come from valid shapely polygons (closed, at least four positions), so
        they are not validated again: answers built from stored intents skip it."""
        out = []
        for g in orient_rh(np.asarray(geoms, dtype=object)).tolist():
            rings = [g.exterior, *g.interiors]
            coords = [shapely.get_coordinates(r).tolist() for r in rings]
            out.append(cls.model_construct(type="Polygon", coordinates=coords))
        return out


# -- positions with altitudes, 4D points and volumes ----------------------------------
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


class LineString3D(BaseModel):
    """GeoJSON LineString with altitudes ``[lon, lat, alt_m]``."""

    type: Literal["LineString"]
    coordinates: Annotated[
        list[Annotated[Position, AfterValidator(_check_3d)]], Field(min_length=2)
    ]


class TrackPointModel(BaseModel):
    """A 4D track point."""

    lon: Lon
    lat: Lat
    alt_m: AltM
    time: Instant


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


def links(parameter: str, source: str, **operations: str) -> dict[str, Any]:
    """An OpenAPI ``links`` object: a value of this answer feeds one path parameter of
    each named operation (clients and stateful API tests follow it).

    Parameters
    ----------
    parameter
        The path parameter of every target operation (e.g. ``intent_id``).
    source
        Runtime expression of the value (e.g. ``$response.body#/id``).
    **operations
        Link name -> target ``operationId``.
    """
    return {
        name: {"operationId": op, "parameters": {parameter: source}}
        for name, op in operations.items()
    }
