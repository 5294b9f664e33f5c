"""Models of the geofence routes: geofences as GeoJSON Features, writes and imports."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from airgrid.api.http.schemas.common import Finite, PolygonGeometry
from airgrid.geo.validation import MIN_RADIUS_M, check_identifier


def _geofence_id(v: str) -> str:
    return check_identifier(v, "identifier", ValueError)


class DailyPeriodModel(BaseModel):
    """A recurring daily activity window, local to the geofence's time zone."""

    days: list[str] = Field(min_length=1, examples=[["MON", "TUE", "WED", "THU", "FRI"]])
    start: str = Field(pattern=r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", examples=["07:00:00"])
    end: str = Field(pattern=r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", examples=["19:00:00"])


class CircleModel(BaseModel):
    """An exact circle; the Feature geometry then holds its containing polygon."""

    center: Annotated[list[Finite], Field(min_length=2, max_length=2)]
    radius_m: Annotated[float, Field(ge=MIN_RADIUS_M, allow_inf_nan=False)]


class GeofenceProperties(BaseModel):
    """Properties of a geofence Feature (see :mod:`airgrid.airspace.geofences.formats.geojson`).

    ``null`` for an optional property is its default, and numbers may be numeric strings,
    as in every import format: the body is read by the same reader as
    ``/v1/geofences/import/geojson``.
    """

    identifier: Annotated[
        str, Field(min_length=1, max_length=128, pattern=r"^[^/\s]+$"), AfterValidator(_geofence_id)
    ]
    name: str | None = ""
    category: Literal["prohibited", "authorisation_required", "advisory"] | None = "prohibited"
    reason: str | None = ""
    reason_codes: list[str] | None = Field(default_factory=list)
    authority: str | None = ""
    source_id: str | None = ""
    country: str | None = "CHN"
    lower_m: Finite
    lower_reference: Literal["AGL", "AMSL", "W84"] | None = Field(
        "AMSL", description="AGL (true height), AMSL, or W84 (WGS84 ellipsoid)."
    )
    upper_m: Finite
    upper_reference: Literal["AGL", "AMSL", "W84"] | None = "AMSL"
    valid_from: str | None = Field(
        None, description="ISO 8601 start (UTC when no offset); null: always."
    )
    valid_to: str | None = Field(None, description="ISO 8601 end; null: open-ended.")
    timezone: str | None = "Asia/Shanghai"
    daily_periods: list[DailyPeriodModel] | None = Field(default_factory=list)
    circle: CircleModel | None = None


_GEOFENCE_EXAMPLE: JsonDict = {
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
