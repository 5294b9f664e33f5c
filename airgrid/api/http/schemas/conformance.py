"""Models of live conformance: telemetry batches, the intents' history and alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from airgrid.airspace.grid.altitude import AltitudeReference
from airgrid.api.http.schemas.common import Finite, Instant, Lat, Lon
from airgrid.api.http.schemas.intents import LIVE_START, IntentStateName

_FIX_TIME = LIVE_START.strftime("%Y-%m-%dT%H:%M:%SZ")
_FIX_TIME_2 = (LIVE_START + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


class TelemetryPosition(BaseModel):
    """One position of the flight."""

    time: Instant
    lon: Lon
    lat: Lat
    alt_m: Finite = Field(
        ge=-500, le=20_000, description="Altitude in the batch's altitude_reference, metres."
    )


class TelemetryCreate(BaseModel):
    """A batch of positions of one flight, in any order."""

    altitude_reference: AltitudeReference = Field(
        AltitudeReference.AMSL,
        description="Reference of every alt_m: AMSL; W84 (WGS84 ellipsoid, converted with "
        "EGM96); AGL (height above the ground, known within the ground's bounds at the "
        "position, so a position near a band's edge may count as outside).",
    )
    positions: list[TelemetryPosition] = Field(
        min_length=1, description="At most max_telemetry_points (413 beyond)."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "altitude_reference": "AMSL",
                    "positions": [
                        {"time": _FIX_TIME, "lon": 113.005, "lat": 28.235, "alt_m": 270.0},
                        {"time": _FIX_TIME_2, "lon": 113.0051, "lat": 28.235, "alt_m": 271.0},
                    ],
                }
            ]
        }
    )


class PositionPublic(BaseModel):
    """The position that caused a conformance change."""

    time: AwareDatetime
    lon: float
    lat: float
    alt_m: float = Field(description="As reported, in altitude_reference.")
    altitude_reference: Literal["AMSL", "AGL", "W84"]
    amsl_min_m: float = Field(description="Lowest altitude AMSL the position may have.")
    amsl_max_m: float = Field(description="Highest altitude AMSL the position may have.")
    certain: bool = Field(
        description="Certainly outside every volume (every altitude it may have); false: "
        "possibly outside, which counts as outside."
    )


_EVENT_EXAMPLE: JsonDict = {
    "id": 7,
    "intent_id": "sfx-example-0003",
    "operator": "sf-express-ops",
    "from_state": "activated",
    "to_state": "nonconforming",
    "cause": "telemetry",
    "at": "2026-12-05T08:00:02Z",
    "detail": "certainly outside its volumes",
    "position": {
        "time": "2026-12-05T08:00:01Z",
        "lon": 113.005,
        "lat": 28.235,
        "alt_m": 291.0,
        "altitude_reference": "AMSL",
        "amsl_min_m": 291.0,
        "amsl_max_m": 291.0,
        "certain": True,
    },
}


class IntentEventPublic(BaseModel):
    """One state change of an intent: what caused it and, for telemetry, the position."""

    id: int = Field(description="Increasing; the paging cursor of alerts.")
    intent_id: str
    operator: str
    from_state: IntentStateName
    to_state: IntentStateName
    cause: Literal["telemetry", "timeout", "request", "preemption"] = Field(
        description="'timeout': nonconforming too long by the server's clock (contingent)."
    )
    at: AwareDatetime = Field(description="When the server recorded it.")
    detail: str
    position: PositionPublic | None = Field(
        description="For telemetry: the position; for a timeout: the one that made it "
        "nonconforming."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [_EVENT_EXAMPLE]})


class TelemetryAccepted(BaseModel):
    """What a batch did to its intent."""

    intent_id: str
    state: IntentStateName = Field(description="The intent's state after the batch.")
    received: int
    judged: int = Field(description="Positions newer than every position judged before.")
    stale: int = Field(
        description="Positions no newer than the latest judged before (a resent or late "
        "batch): not judged again."
    )
    outside: int = Field(description="Judged positions that may lie outside every volume.")
    transitions: list[IntentEventPublic] = Field(
        description="The state changes, as recorded in the intent's history."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "intent_id": "sfx-example-0003",
                    "state": "nonconforming",
                    "received": 2,
                    "judged": 2,
                    "stale": 0,
                    "outside": 1,
                    "transitions": [_EVENT_EXAMPLE],
                }
            ]
        }
    )


class IntentHistory(BaseModel):
    """Every state change of an intent after its acceptance, oldest first."""

    intent_id: str
    events: list[IntentEventPublic]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"intent_id": "sfx-example-0003", "events": [_EVENT_EXAMPLE]}]
        }
    )


class AlertList(BaseModel):
    """Conformance changes, oldest first, one page."""

    alerts: list[IntentEventPublic]
    next_after: int | None = Field(
        description="Pass as ``after`` for the next page; null on the last page."
    )

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"alerts": [_EVENT_EXAMPLE], "next_after": None}]}
    )
