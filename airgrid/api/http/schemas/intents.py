"""Models of the flight-intent routes: submissions, stored intents, conflicts and fixes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from airgrid.airspace.traffic.models import Priority
from airgrid.api.http.schemas.common import (
    EXAMPLE_DAY,
    Problem,
    TrackPointModel,
    VolumeCreate,
    VolumeModel,
)
from airgrid.geo.validation import check_identifier

#: The states of an intent's life cycle (see :class:`~airgrid.airspace.traffic.models.IntentState`).
IntentStateName = Literal[
    "accepted", "activated", "nonconforming", "contingent", "ended", "cancelled"
]


def _intent_id(v: str | None) -> str | None:
    return None if v is None else check_identifier(v, "intent_id", ValueError)


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


_INTENT_VOLUME_EXAMPLE: JsonDict = {
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
_INTENT_VOLUME_EXAMPLE_2: JsonDict = {
    **_INTENT_VOLUME_EXAMPLE,
    "start": f"{EXAMPLE_DAY}T10:00:00Z",
    "end": f"{EXAMPLE_DAY}T10:20:00Z",
}


#: The hour the live example flies from: the current hour (UTC) when the app is imported,
#: for twelve hours, so it can be activated and sent telemetry right away.
LIVE_START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
#: A block of T2 airspace south of the other examples, flown now (the third IntentCreate
#: example, the one the activation, telemetry and end examples use).
LIVE_VOLUME_EXAMPLE: JsonDict = {
    "footprint": {
        "type": "Polygon",
        "coordinates": [
            [[113.0, 28.23], [113.01, 28.23], [113.01, 28.24], [113.0, 28.24], [113.0, 28.23]]
        ],
    },
    "floor_m": 250.0,
    "ceiling_m": 290.0,
    "start": LIVE_START.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "end": (LIVE_START + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ"),
}


#: A fix kind (see FixPublic).
FixKind = Literal["departure_shift", "altitude_offset"]


def _distinct_kinds(kinds: list[str]) -> list[str]:
    """``take_fix`` names each kind at most once."""
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"each fix kind at most once, got {kinds}")
    return kinds


class IntentCreate(BaseModel):
    """A flight intent: 4D volumes, or a route to turn into volumes (exactly one of the two)."""

    intent_id: Annotated[str | None, AfterValidator(_intent_id)] = Field(
        None,
        pattern=r"^[A-Za-z0-9._:-]{1,64}$",
        description="Client id (a UUID is assigned otherwise).",
    )
    tier: str = Field(description="Tier flown (selects the separation minima).", examples=["T2"])
    priority: Annotated[int, Field(ge=0, le=1000)] = Field(
        int(Priority.COMMERCIAL),
        description="Larger wins; above the operator level (20) needs a grant or an admin key.",
    )
    preempt: bool = Field(
        True, description="Take airspace from lower-priority accepted (not activated) intents."
    )
    max_shift_s: Annotated[float, Field(ge=0, le=86_400)] | None = Field(
        None,
        description="Longest departure delay (s) you would take: a refusal proposes no "
        "later departure (the server's own limit applies as well).",
        examples=[900],
    )
    take_fix: Annotated[list[FixKind], AfterValidator(_distinct_kinds)] = Field(
        default_factory=list,
        max_length=2,
        description="Fixes you take, in order of preference: when the intent is refused, "
        "the server searches them in the same transaction and accepts it moved by the "
        "first one free (delays at most max_shift_s); the answer's fix says which. "
        "A retry answers as the first only with the same Idempotency-Key.",
        examples=[["altitude_offset", "departure_shift"]],
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
                {
                    "intent_id": "sfx-example-0003",
                    "tier": "T2",
                    "priority": 20,
                    "volumes": [LIVE_VOLUME_EXAMPLE],
                },
            ]
        }
    )


#: A stored intent (the IntentPublic example, and the base of the IntentAccepted one).
_INTENT_PUBLIC_EXAMPLE: JsonDict = {
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


class IntentPublic(BaseModel):
    """A stored flight intent."""

    id: str
    operator: str
    priority: int
    tier: str
    state: IntentStateName
    preempted_by: str | None
    reason: str
    start: AwareDatetime
    end: AwareDatetime
    created_at: AwareDatetime
    updated_at: AwareDatetime
    volumes: list[VolumeModel]

    model_config = ConfigDict(json_schema_extra={"examples": [_INTENT_PUBLIC_EXAMPLE]})


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


class FixPublic(BaseModel):
    """A change that made the intent acceptable when answered: proposed (not held) in a
    refusal, taken (the intent is held so moved) in an acceptance."""

    kind: FixKind
    shift_s: float
    offset_m: float
    description: str


class IntentAccepted(IntentPublic):
    """An accepted intent, the lower-priority intents it pre-empted, and any terrain notice."""

    preempted: list[str] = Field(description="Ids of intents cancelled by this acceptance.")
    low_volumes: list[LowVolumePublic] = Field(description=LOW_VOLUMES_DESCRIPTION)
    high_volumes: list[HighVolumePublic] = Field(description=HIGH_VOLUMES_DESCRIPTION)
    fix: FixPublic | None = Field(
        None,
        description="The fix the server took (take_fix): the intent as submitted was refused "
        "and is held moved by it. Null when accepted as submitted.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_INTENT_PUBLIC_EXAMPLE,
                    "preempted": [],
                    "low_volumes": [],
                    "high_volumes": [],
                    "fix": None,
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
