"""The records of the intents service: life-cycle states, requests, stored intents, answers.

An intent is a list of :class:`~airgrid.geo.volumes.Volume4D` held by one operator at one
priority in one tier. :class:`IntentRequest` is what an operator submits (validated
whole on construction), :class:`FlightIntent` what the store keeps, and
:class:`Conflict`, :class:`GridConflict` and :class:`FixProposal` what a refusal
explains. Everything here is plain data; the computations live beside it
(:mod:`~airgrid.airspace.traffic.conflicts`, :mod:`~airgrid.airspace.traffic.fixes`,
:mod:`~airgrid.airspace.traffic.keys`).
"""

from __future__ import annotations

import copy
import math
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum, IntEnum

import shapely

from airgrid.airspace.errors import IntentError
from airgrid.airspace.traffic.limits import MAX_FOOTPRINT_EXTENT_M, MAX_VOLUMES
from airgrid.airspace.traffic.route_volumes import Waypoint, route_to_volumes
from airgrid.airspace.traffic.separation import SeparationMinima
from airgrid.geo.constants import M_PER_DEG_LON_EQUATOR
from airgrid.geo.validation import check_identifier
from airgrid.geo.volumes import Volume4D

#: Client-chosen intent ids.
_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class Priority(IntEnum):
    """Named priorities (any int 0-1000 is allowed; larger wins)."""

    LEISURE = 10
    COMMERCIAL = 20
    PUBLIC_SERVICE = 30
    MEDICAL = 40


class IntentState(str, Enum):
    """Life cycle: accepted -> activated -> ended; accepted/activated -> cancelled.

    While activated, the flight's telemetry is monitored against its volumes (ASTM F3548):
    a position outside them makes it ``nonconforming``; out longer than the configured
    time, ``contingent``; back inside, a nonconforming intent is activated again. A
    contingent intent stays contingent until it is ended or cancelled.

    An intent *holds airspace* while accepted, activated, nonconforming or contingent
    (others must deconflict against a nonconforming or contingent flight). A pre-empted
    intent is cancelled with ``preempted_by`` set (flagged, never deleted).
    """

    ACCEPTED = "accepted"
    ACTIVATED = "activated"
    NONCONFORMING = "nonconforming"
    CONTINGENT = "contingent"
    ENDED = "ended"
    CANCELLED = "cancelled"


_FLOWN_END = frozenset({IntentState.ENDED, IntentState.CANCELLED})
#: Allowed transitions (anything else is a :class:`~airgrid.airspace.errors.StateTransitionError`).
TRANSITIONS: dict[IntentState, frozenset[IntentState]] = {
    IntentState.ACCEPTED: frozenset({IntentState.ACTIVATED, IntentState.CANCELLED}),
    IntentState.ACTIVATED: _FLOWN_END | {IntentState.NONCONFORMING},
    IntentState.NONCONFORMING: _FLOWN_END | {IntentState.ACTIVATED, IntentState.CONTINGENT},
    IntentState.CONTINGENT: _FLOWN_END,
    IntentState.ENDED: frozenset(),
    IntentState.CANCELLED: frozenset(),
}
#: States of a flight in the air, whose telemetry is monitored.
AIRBORNE = frozenset({IntentState.ACTIVATED, IntentState.NONCONFORMING, IntentState.CONTINGENT})
#: States that hold airspace (and keys in the store).
HOLDING = AIRBORNE | {IntentState.ACCEPTED}


def _validate_volume(i: int, v: object) -> None:
    """Raise :class:`~airgrid.airspace.errors.IntentError` unless volume ``i`` is a valid
    lon/lat volume of bounded span."""
    if not isinstance(v, Volume4D):
        raise IntentError(f"volume {i} is not a Volume4D: {type(v).__name__}")
    if not v.footprint.is_valid:
        raise IntentError(f"volume {i}: invalid footprint ({shapely.is_valid_reason(v.footprint)})")
    w, s, e, n = v.footprint.bounds
    if not (w >= -180 and e <= 180 and s >= -90 and n <= 90):
        raise IntentError(f"volume {i}: footprint coordinates out of range (lon/lat order)")
    lat = (s + n) / 2
    span = max(
        (e - w) * M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat)),
        (n - s) * M_PER_DEG_LON_EQUATOR,
    )
    if span > MAX_FOOTPRINT_EXTENT_M:
        raise IntentError(
            f"volume {i}: footprint spans {span / 1000:.0f} km, more than "
            f"{MAX_FOOTPRINT_EXTENT_M / 1000:.0f} km; split it"
        )


def _check_intent_id(intent_id: object) -> None:
    """Raise :class:`~airgrid.airspace.errors.IntentError` unless ``intent_id`` is a valid
    intent id."""
    if not isinstance(intent_id, str) or not _ID_RE.match(intent_id):
        raise IntentError(f"intent id must match {_ID_RE.pattern}, got {intent_id!r}")
    check_identifier(intent_id, "intent id", IntentError)


@dataclass(frozen=True)
class IntentRequest:
    """What an operator submits.

    Attributes
    ----------
    operator
        Who flies (non-empty, <= 200 characters).
    priority
        Integer 0-1000, larger wins (see :class:`Priority`).
    tier
        Tier name; selects the separation minima (and grid mode).
    volumes
        The 4D volumes (1 .. :data:`~airgrid.airspace.traffic.limits.MAX_VOLUMES`).
    intent_id
        Optional client id (``[A-Za-z0-9._:-]{1,64}``); a UUID is assigned otherwise.

    Raises
    ------
    IntentError
        Any field invalid (every check runs before anything is stored).
    """

    operator: str
    priority: int
    tier: str
    volumes: tuple[Volume4D, ...]
    intent_id: str | None = None

    def __post_init__(self) -> None:
        if (
            not isinstance(self.operator, str)
            or not self.operator.strip()
            or len(self.operator) > 200
        ):
            raise IntentError("operator must be a non-empty string of at most 200 characters")
        if (
            isinstance(self.priority, bool)
            or not isinstance(self.priority, int)
            or not 0 <= self.priority <= 1000
        ):
            raise IntentError(f"priority must be an integer 0-1000, got {self.priority!r}")
        if not isinstance(self.tier, str) or not self.tier:
            raise IntentError("tier must be a tier name")
        if self.intent_id is not None:
            _check_intent_id(self.intent_id)
        vols = tuple(self.volumes) if not isinstance(self.volumes, Volume4D) else (self.volumes,)
        if not vols:
            raise IntentError("an intent needs at least one volume")
        if len(vols) > MAX_VOLUMES:
            raise IntentError(f"an intent may hold at most {MAX_VOLUMES} volumes, got {len(vols)}")
        for i, v in enumerate(vols):
            _validate_volume(i, v)
        object.__setattr__(self, "volumes", vols)
        object.__setattr__(self, "priority", int(self.priority))

    @classmethod
    def from_route(
        cls,
        operator: str,
        priority: int,
        tier: str,
        waypoints: Sequence[Waypoint | tuple[float, float, float, float]],
        *,
        half_width_m: float,
        half_height_m: float,
        max_piece_m: float = 2_000.0,
        time_margin_s: float = 0.0,
        intent_id: str | None = None,
    ) -> IntentRequest:
        """A request whose volumes come from
        :func:`~airgrid.airspace.traffic.route_volumes.route_to_volumes`."""
        vols = route_to_volumes(
            waypoints,
            half_width_m=half_width_m,
            half_height_m=half_height_m,
            max_piece_m=max_piece_m,
            time_margin_s=time_margin_s,
        )
        return cls(operator, priority, tier, tuple(vols), intent_id)

    def shifted(self, seconds: float) -> IntentRequest:
        """The same request ``seconds`` later (a departure-time fix)."""
        return self._moved(
            tuple(
                Volume4D(
                    v.footprint, v.floor_m, v.ceiling_m, v.t_start + seconds, v.t_end + seconds
                )
                for v in self.volumes
            )
        )

    def raised(self, metres: float) -> IntentRequest:
        """The same request ``metres`` higher (negative: lower) (an altitude fix)."""
        return self._moved(
            tuple(
                Volume4D(v.footprint, v.floor_m + metres, v.ceiling_m + metres, v.t_start, v.t_end)
                for v in self.volumes
            )
        )

    def renamed(self, intent_id: str) -> IntentRequest:
        """The same request under the id ``intent_id`` (checked as at construction).

        Raises
        ------
        IntentError
            An id that does not match :data:`_ID_RE` or is not a safe identifier.
        """
        _check_intent_id(intent_id)
        out = copy.copy(self)
        object.__setattr__(out, "intent_id", intent_id)
        return out

    def _moved(self, volumes: tuple[Volume4D, ...]) -> IntentRequest:
        """The same request with ``volumes``: this request's footprints (already checked
        when it was made) in new bands or windows, which :class:`Volume4D` checks."""
        out = copy.copy(self)
        object.__setattr__(out, "volumes", volumes)
        return out

    @property
    def window(self) -> tuple[float, float]:
        """Earliest start and latest end over the volumes."""
        return min(v.t_start for v in self.volumes), max(v.t_end for v in self.volumes)

    def with_id(self) -> IntentRequest:
        """This request with an id (a fresh UUID if it had none)."""
        return self if self.intent_id else self.renamed(uuid.uuid4().hex)


@dataclass(frozen=True)
class FlightIntent:
    """A stored flight intent.

    Attributes
    ----------
    id, operator, priority, tier, volumes
        As submitted (see :class:`IntentRequest`).
    state
        Life-cycle state (:class:`IntentState`).
    preempted_by
        Id of the higher-priority intent that took this one's airspace, else None.
    reason
        Why the state last changed by someone else's action (pre-emption), else ''.
    created_at, updated_at
        POSIX seconds.
    """

    id: str
    operator: str
    priority: int
    tier: str
    volumes: tuple[Volume4D, ...]
    state: IntentState
    preempted_by: str | None = None
    reason: str = ""
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    @property
    def preempted(self) -> bool:
        """True if a higher-priority intent displaced this one."""
        return self.preempted_by is not None


@dataclass(frozen=True)
class Conflict:
    """One conflict between a volume of the submitted intent and another intent.

    Attributes
    ----------
    other_id, other_operator, other_priority, other_state
        The other intent.
    volume, other_volume
        Indices of the two volumes.
    lat, lon
        Where the conflict is: the centroid of the two footprints' overlap, or, if they
        do not overlap, the middle of the shortest line between them.
    floor_m, ceiling_m
        Altitude band (m AMSL) where the grown volume and the other meet.
    t_start, t_end
        Time window where they meet.
    distance_m
        Horizontal distance between the two footprints (0 when they overlap).
    minima
        The separation that applied.
    preemptable
        True if the submitted intent's priority is higher and the other is only accepted
        (not yet activated): it could be pre-empted.
    """

    other_id: str
    other_operator: str
    other_priority: int
    other_state: IntentState
    volume: int
    other_volume: int
    lat: float
    lon: float
    floor_m: float
    ceiling_m: float
    t_start: float
    t_end: float
    distance_m: float
    minima: SeparationMinima
    preemptable: bool


@dataclass(frozen=True)
class GridConflict:
    """A voxel-slot the submitted intent needs in grid mode that another intent holds.

    Attributes
    ----------
    other_id
        The holder.
    cell, layer, slot
        The voxel (H3 string at the tier's resolution, layer index) and time slot.
    preemptable
        As for :class:`Conflict`.
    """

    other_id: str
    cell: str
    layer: int
    slot: int
    preemptable: bool


@dataclass(frozen=True)
class FixProposal:
    """A change that would make the intent acceptable at answer time (not held).

    Attributes
    ----------
    kind
        ``"departure_shift"`` or ``"altitude_offset"``.
    shift_s
        Seconds to delay every volume (departure shift), else 0.
    offset_m
        Metres to move every volume (altitude offset, negative = down), else 0.
    description
        Human-readable summary.
    """

    kind: str
    shift_s: float
    offset_m: float
    description: str

    def apply(self, request: IntentRequest) -> IntentRequest:
        """The request with this fix applied."""
        return request.shifted(self.shift_s).raised(self.offset_m)


__all__ = [
    "AIRBORNE",
    "HOLDING",
    "TRANSITIONS",
    "Conflict",
    "FixProposal",
    "FlightIntent",
    "GridConflict",
    "IntentRequest",
    "IntentState",
    "Priority",
]
