"""Models of the InterUSS automated-testing interfaces, property for property as in their
YAML (``flight_planning/v1`` 0.6.0 with ``geotemporal.yaml``, ``user_notification.yaml`` and
``astm_f3548v21.yaml``; ``geospatial_map/v1`` 0.2.3 with ``astm_f3548_21.yaml``).

Unknown members are ignored, as the interfaces demand. Lists are bounded (the interfaces
set no bound; airgrid's limits apply).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from airgrid.api.http.schemas.common import EXAMPLE_DAY

#: Most volumes in a flight plan's area or a filter set, vertices in a polygon, checks in a
#: query and filter sets in a check.
MAX_VOLUMES, MAX_VERTICES, MAX_CHECKS, MAX_FILTER_SETS = 64, 2_000, 100, 20

#: A version-4 UUID, as both interfaces define their ids.
UUID4_PATTERN = (
    r"^[0-9a-fA-F]{8}\-[0-9a-fA-F]{4}\-4[0-9a-fA-F]{3}\-[8-b][0-9a-fA-F]{3}\-[0-9a-fA-F]{12}$"
)

UsageState = Literal["Planned", "InUse", "Closed"]
FunctionalState = Literal["Nominal", "OffNominal", "Contingent", "NotSpecified"]
ExecutionStyle = Literal["Hypothetical", "IfAllowed", "InReality"]
PlanningActivityResult = Literal["Completed", "Rejected", "Failed", "NotSupported"]
FlightPlanStatus = Literal["NotPlanned", "Planned", "OkToFly", "OffNominal", "Closed"]
AdvisoryInclusion = Literal["Unknown", "AtLeastOneAdvisoryOrCondition", "NoAdvisoriesOrConditions"]


#: A block of airspace in north-west Changsha, tomorrow 09:00-09:20 UTC, 150-250 m W84:
#: the area of the flight plan, clear-area and map query examples.
EXAMPLE_VOLUME: dict[str, Any] = {
    "volume": {
        "outline_polygon": {
            "vertices": [
                {"lng": 112.900, "lat": 28.244},
                {"lng": 112.906, "lat": 28.244},
                {"lng": 112.906, "lat": 28.250},
                {"lng": 112.900, "lat": 28.250},
            ]
        },
        "altitude_lower": {"value": 150.0, "reference": "W84", "units": "M"},
        "altitude_upper": {"value": 250.0, "reference": "W84", "units": "M"},
    },
    "time_start": {"value": f"{EXAMPLE_DAY}T09:00:00Z", "format": "RFC3339"},
    "time_end": {"value": f"{EXAMPLE_DAY}T09:20:00Z", "format": "RFC3339"},
}
#: Where the data source example is served from (a loopback server of the deployment).
EXAMPLE_SOURCE_URL = "http://127.0.0.1:8089/geozones-ed269.json"


# -- geotemporal (ASTM F3548-21 shapes) ------------------------------------------------------
class Time(BaseModel):
    """An RFC 3339 time."""

    value: AwareDatetime
    format: Literal["RFC3339"] = "RFC3339"


class Radius(BaseModel):
    """A circle's radius in metres."""

    value: float = Field(gt=0)
    units: Literal["M"] = "M"


class Altitude(BaseModel):
    """An altitude above the WGS84 ellipsoid (``W84``), the surface (``SFC``) or the
    take-off point (``Takeoff``, flight planning only; airgrid does not support it)."""

    value: float = Field(ge=-8000, le=100_000)
    reference: Literal["W84", "SFC", "Takeoff"]
    units: Literal["M"] = "M"


class LatLngPoint(BaseModel):
    """A point in WGS84 degrees."""

    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class Polygon(BaseModel):
    """A polygon's vertices (not closed: the last is not the first)."""

    vertices: list[LatLngPoint] = Field(min_length=3, max_length=MAX_VERTICES)


class Circle(BaseModel):
    """A circle on the Earth's surface."""

    center: LatLngPoint | None = None
    radius: Radius | None = None


class Volume3D(BaseModel):
    """An extruded outline: exactly one of circle and polygon."""

    outline_circle: Circle | None = None
    outline_polygon: Polygon | None = None
    altitude_lower: Altitude | None = None
    altitude_upper: Altitude | None = None


class Volume4D(BaseModel):
    """A volume and its time span."""

    volume: Volume3D
    time_start: Time | None = None
    time_end: Time | None = None


# -- flight_planning --------------------------------------------------------------------------
class StatusResponse(BaseModel):
    """Whether an interface is ready."""

    status: Literal["Starting", "Ready"]
    api_name: str | None = None
    api_version: str | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "Ready",
                    "api_name": "Flight Planning Automated Testing Interface",
                    "api_version": "v0.6.0",
                }
            ]
        }
    )


class BasicFlightPlanInformation(BaseModel):
    """Usage, UAS state and area of a flight plan."""

    usage_state: UsageState
    uas_state: FunctionalState
    area: list[Volume4D] = Field(default_factory=list, max_length=MAX_VOLUMES)


class ASTMF354821OpIntentInformation(BaseModel):
    """ASTM F3548-21 information of a flight plan."""

    priority: int = 0


class FlightPlan(BaseModel):
    """A flight plan; the parts airgrid does not read are kept as given."""

    basic_information: BasicFlightPlanInformation
    telemetry: dict[str, Any] | None = None
    astm_f3548_21: ASTMF354821OpIntentInformation | None = None
    uspace_flight_authorisation: dict[str, Any] | None = None
    rpas_operating_rules_2_6: dict[str, Any] | None = None
    additional_information: dict[str, Any] | None = None


class UpsertFlightPlanRequest(BaseModel):
    """A virtual user's flight planning action."""

    flight_plan: FlightPlan
    execution_style: ExecutionStyle
    request_id: str = Field(min_length=1, max_length=200)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "flight_plan": {
                        "basic_information": {
                            "usage_state": "Planned",
                            "uas_state": "Nominal",
                            "area": [EXAMPLE_VOLUME],
                        },
                        "astm_f3548_21": {"priority": 0},
                    },
                    "execution_style": "IfAllowed",
                    "request_id": "6a0f2f61-8a1f-4b7e-9d4c-2f3e5b1c7a90",
                }
            ]
        }
    )


class UpsertFlightPlanResponse(BaseModel):
    """The outcome of a flight planning action."""

    planning_result: PlanningActivityResult
    notes: str | None = None
    flight_plan_status: FlightPlanStatus
    as_planned: FlightPlan | None = None
    includes_advisories: AdvisoryInclusion = "Unknown"

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "planning_result": "Completed",
                    "flight_plan_status": "Planned",
                    "includes_advisories": "NoAdvisoriesOrConditions",
                }
            ]
        }
    )


class DeleteFlightPlanResponse(BaseModel):
    """The outcome of closing a flight plan."""

    planning_result: PlanningActivityResult
    notes: str | None = None
    flight_plan_status: FlightPlanStatus
    includes_advisories: AdvisoryInclusion = "Unknown"

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"planning_result": "Completed", "flight_plan_status": "Closed"}]
        }
    )


class ClearAreaRequest(BaseModel):
    """Close every flight plan intersecting an extent."""

    request_id: str = Field(min_length=1, max_length=200)
    extent: Volume4D

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"request_id": "clear-1", "extent": EXAMPLE_VOLUME}]}
    )


class ClearAreaOutcome(BaseModel):
    """Whether the area was cleared."""

    success: bool = False
    message: str | None = None
    details: dict[str, Any] | None = None


class ClearAreaResponse(BaseModel):
    """The outcome of a clear-area request."""

    outcome: ClearAreaOutcome

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "outcome": {
                        "success": True,
                        "message": "closed 1 flight plan(s)",
                        "details": {
                            "closed_flight_plans": ["03e5572a-f733-49af-bc14-8a18bd53ee39"]
                        },
                    }
                }
            ]
        }
    )


class UserNotification(BaseModel):
    """A notification the virtual user observed."""

    observed_at: Time
    message: str | None = None
    conflicts: Literal["Unknown", "None", "Single", "Multiple"] = "Unknown"


class QueryUserNotificationsResponse(BaseModel):
    """The notifications observed in a time window."""

    user_notifications: list[UserNotification]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_notifications": [
                        {
                            "observed_at": {"value": "2024-04-22T16:38:00Z", "format": "RFC3339"},
                            "message": "flight plan 03e5572a-f733-49af-bc14-8a18bd53ee39 was pre-empted by higher-priority flight plan 6a0f2f61-8a1f-4b7e-9d4c-2f3e5b1c7a90 (priority 100) and is closed",
                            "conflicts": "Single",
                        }
                    ]
                }
            ]
        }
    )


# -- geospatial_map ---------------------------------------------------------------------------
class GeospatialHttpsSource(BaseModel):
    """Where a geospatial data source is downloaded from."""

    url: str = Field(min_length=1, max_length=2_048)
    format: Literal["ED-269"] = "ED-269"


class CreateGeospatialDataSourceRequest(BaseModel):
    """Load a geospatial data source."""

    https_source: GeospatialHttpsSource | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"https_source": {"url": EXAMPLE_SOURCE_URL, "format": "ED-269"}}]
        }
    )


class GeospatialDataSourceStatus(BaseModel):
    """A data source's status."""

    id: str
    status: Literal[
        "Activating", "Ready", "Deactivating", "Deactivated", "Unsupported", "Rejected", "Error"
    ]
    message: str | None = None


class GeospatialDataSourceResponse(BaseModel):
    """One data source."""

    data_source: GeospatialDataSourceStatus

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data_source": {
                        "id": "32ef0162-30c4-4e56-9ce0-b204155ef93d",
                        "status": "Ready",
                        "message": "2 geofence(s) loaded",
                    }
                }
            ]
        }
    )


class ListGeospatialDataSourcesResponse(BaseModel):
    """Every data source loaded through the interface."""

    data_sources: list[GeospatialDataSourceStatus] = Field(default_factory=list)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data_sources": [
                        {"id": "32ef0162-30c4-4e56-9ce0-b204155ef93d", "status": "Ready"}
                    ]
                }
            ]
        }
    )


class MapAltitude(BaseModel):
    """An altitude of the geospatial map interface (``W84`` or ``SFC``)."""

    value: float = Field(ge=-8000, le=100_000)
    reference: Literal["W84", "SFC"]
    units: Literal["M"] = "M"


class MapVolume3D(BaseModel):
    """An extruded outline of the geospatial map interface (``W84`` or ``SFC`` limits)."""

    outline_circle: Circle | None = None
    outline_polygon: Polygon | None = None
    altitude_lower: MapAltitude | None = None
    altitude_upper: MapAltitude | None = None


class MapVolume4D(BaseModel):
    """A volume of the geospatial map interface and its time span."""

    volume: MapVolume3D
    time_start: Time | None = None
    time_end: Time | None = None


class Position(BaseModel):
    """A point, optionally at an altitude."""

    altitude: MapAltitude | None = None
    location: LatLngPoint


class ED269Filters(BaseModel):
    """ED-269 filters (airgrid answers ``UnsupportedFilter`` when they are given)."""

    u_space_class: str | None = None
    acceptable_restrictions: list[str] | None = None


class GeospatialFeatureFilterSet(BaseModel):
    """Filters a feature must all pass to be selected."""

    position: Position | None = None
    volumes4d: list[MapVolume4D] | None = Field(None, max_length=MAX_VOLUMES)
    after: AwareDatetime | None = None
    before: AwareDatetime | None = None
    restriction_source: str | None = None
    operation_rule_set: str | None = None
    resulting_operational_impact: Literal["Block", "Advise", "BlockOrAdvise"] | None = None
    ed269: ED269Filters | None = None


class GeospatialMapCheck(BaseModel):
    """A check: Present when any filter set selects a feature."""

    filter_sets: list[GeospatialFeatureFilterSet] = Field(
        default_factory=list, max_length=MAX_FILTER_SETS
    )


class GeospatialMapQueryRequest(BaseModel):
    """Checks against the geospatial map."""

    checks: list[GeospatialMapCheck] = Field(max_length=MAX_CHECKS)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "checks": [
                        {
                            "filter_sets": [
                                {
                                    "position": {"location": {"lng": 112.903, "lat": 28.247}},
                                    "resulting_operational_impact": "Block",
                                },
                                {"volumes4d": [EXAMPLE_VOLUME]},
                            ]
                        }
                    ]
                }
            ]
        }
    )


class GeospatialMapCheckResult(BaseModel):
    """The outcome of one check."""

    features_selection_outcome: Literal["Present", "Absent", "UnsupportedFilter", "Error"]
    message: str | None = None


class GeospatialMapQueryReply(BaseModel):
    """One result per check, in order."""

    results: list[GeospatialMapCheckResult] = Field(default_factory=list)

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"results": [{"features_selection_outcome": "Present"}]}]}
    )
