"""What a store answers: the :class:`Decision` on a submission with its conflict and terrain
notices, and the :class:`GeofenceWrite` summary of a geofence change.
"""

from __future__ import annotations

from dataclasses import dataclass

from airgrid.airspace.traffic.models import (
    Conflict,
    FixProposal,
    FlightIntent,
    GridConflict,
    IntentRequest,
)


@dataclass(frozen=True)
class GeofenceConflict:
    """An active prohibited geofence an intent's volume meets.

    Attributes
    ----------
    geofence_id, name
        The geofence.
    volume
        Index of the intent's volume.
    lat, lon
        Centroid of the footprints' intersection.
    floor_m, ceiling_m
        Common altitude band (m AMSL).
    intervals
        Common active time intervals (POSIX seconds, closed).
    """

    geofence_id: str
    name: str
    volume: int
    lat: float
    lon: float
    floor_m: float
    ceiling_m: float
    intervals: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class LowVolume:
    """A volume whose floor may lie below its tier's lower limit above the terrain.

    Attributes
    ----------
    volume
        Index of the volume.
    floor_m
        Its floor, m AMSL.
    min_floor_m
        The highest plausible ground under its footprint's bounding box (DEM maximum plus
        the DEM's uncertainty margin) plus the tier's lower limit (or the tier table's
        clearance, if larger), m AMSL.
    """

    volume: int
    floor_m: float
    min_floor_m: float


@dataclass(frozen=True)
class HighVolume:
    """A volume whose ceiling may be above its tier's upper limit over the lowest ground.

    Attributes
    ----------
    volume
        Index of the volume.
    ceiling_m
        Its ceiling, m AMSL.
    max_ceiling_m
        The lowest plausible ground under its footprint's bounding box (DEM minimum
        minus the DEM's downward margin) plus the tier's upper limit, m AMSL.
    """

    volume: int
    ceiling_m: float
    max_ceiling_m: float


@dataclass(frozen=True)
class Decision:
    """The answer to a submission.

    Attributes
    ----------
    accepted
        Whether the intent was stored (it then holds airspace).
    request
        The request as decided (with its id).
    intent
        The stored intent when accepted, else None.
    conflicts
        Every conflict with another intent (also the pre-empted ones when accepted).
    grid_conflicts
        Voxel-slots held by others (grid-mode tiers only).
    geofence_conflicts
        Active prohibited geofences met.
    preempted
        Lower-priority intents this acceptance displaced (now cancelled, flagged).
    proposals
        Fixes that were free at answer time (only when refused).
    low_volumes
        Volumes whose floor may be below the tier's lower limit above the highest
        plausible ground (a notice, not a refusal: strategic deconfliction does not
        decide terrain clearance; empty when the store has no DEM).
    high_volumes
        Volumes whose ceiling may be above the tier's upper limit over the lowest
        plausible ground, out of the tier's band (a notice in the same way).
    fix
        The fix the store took itself (a submission with ``take_fix``): the request as
        submitted was refused, and ``request`` is it moved by this fix; else None.
    """

    accepted: bool
    request: IntentRequest
    intent: FlightIntent | None = None
    conflicts: tuple[Conflict, ...] = ()
    grid_conflicts: tuple[GridConflict, ...] = ()
    geofence_conflicts: tuple[GeofenceConflict, ...] = ()
    preempted: tuple[FlightIntent, ...] = ()
    proposals: tuple[FixProposal, ...] = ()
    low_volumes: tuple[LowVolume, ...] = ()
    high_volumes: tuple[HighVolume, ...] = ()
    fix: FixProposal | None = None


@dataclass(frozen=True)
class GeofenceWrite:
    """What :meth:`~airgrid.airspace.store.service.Store.write_geofences` changed (identifiers, sorted)."""

    created: tuple[str, ...]
    replaced: tuple[str, ...]
    deleted: tuple[str, ...]
    conflicting_intents: tuple[str, ...]


__all__ = ["Decision", "GeofenceConflict", "GeofenceWrite", "HighVolume", "LowVolume"]
