"""Airspace error family: every airspace failure is an :class:`AirspaceError`.

Each subclass also inherits the builtin that matches it, so ``except ValueError``
keeps working for callers that do not know airgrid.
"""

from __future__ import annotations


class AirspaceError(Exception):
    """Root of every airspace error."""


class TierTableError(AirspaceError, ValueError):
    """The tier table is inconsistent (overlapping bands, bad resolution, ...)."""


class AreaError(AirspaceError, ValueError):
    """An area (bbox, polygon or name) is invalid or unknown."""


class AreaTooLargeError(AreaError):
    """An area would need more cells than the configured limit."""


class GridFileError(AirspaceError, OSError):
    """A saved grid is missing, incomplete or of another format version."""


class OutsideGridError(AirspaceError, LookupError):
    """A position or voxel id is not in the grid."""


class VoxelIdError(AirspaceError, ValueError):
    """A public voxel id is malformed."""


class GridCodeError(AirspaceError, ValueError):
    """A standard grid code (Beidou, ZFXY) is malformed, or a point or level has none."""


class GeofenceError(AirspaceError, ValueError):
    """A geofence (or a document describing geofences) is invalid."""


class SelfIntersectingRingError(GeofenceError):
    """A geofence polygon's ring crosses or touches itself."""


class DegenerateGeometryError(GeofenceError):
    """A geofence has no area (fewer than 3 distinct vertices, collinear vertices), or has
    both or neither of a polygon and a circle."""


class LowerAboveUpperError(GeofenceError):
    """A geofence's lower limit is not below its upper limit (same vertical reference)."""


class LimitValueError(GeofenceError):
    """A vertical limit is not a finite number or has an unknown reference."""


class EndBeforeStartError(GeofenceError):
    """A validity window ends before (or when) it starts."""


class NonPositiveRadiusError(GeofenceError):
    """A circular geofence's radius is zero, negative or not finite."""


class RadiusTooLargeError(GeofenceError):
    """A circular geofence's radius exceeds what the local metric projection supports."""


class CoordinateRangeError(GeofenceError):
    """A coordinate is not finite or lies outside lon [-180, 180] / lat [-90, 90]."""


class TooManyVerticesError(GeofenceError):
    """A polygon has more vertices than the configured limit."""


class DailyPeriodError(GeofenceError):
    """A daily period has an unknown weekday, a malformed time or an empty span."""


class TimeZoneError(GeofenceError):
    """A time zone name is unknown, or a datetime carries no time zone."""


class GeofenceFormatError(GeofenceError):
    """A GeoJSON or ED-269 document (or one of its fields) is malformed."""


# -- flight intents, separation and the durable store ----------------------------------


class SeparationError(AirspaceError, ValueError):
    """A separation-minima table is malformed or lacks a tier."""


class IntentError(AirspaceError, ValueError):
    """A flight intent (or the request for one) is invalid."""


class RouteError(IntentError):
    """A 4D route (waypoints) cannot become volumes: too few points, time not increasing, ..."""


class ConflictBudgetError(IntentError):
    """An intent comes near more held volumes than one decision may examine; refused whole."""


class IntentTierError(IntentError):
    """An intent names a tier that the store's tier table does not have."""


class DuplicateIntentError(IntentError):
    """An intent with this id already exists in the store."""


class IntentNotFoundError(AirspaceError, LookupError):
    """No intent with this id in the store."""


class StateTransitionError(AirspaceError, ValueError):
    """A state change that the intent life cycle does not allow (e.g. ended -> activated)."""


class IntentNotAirborneError(StateTransitionError):
    """Telemetry for an intent that is not airborne (activated, nonconforming or contingent)."""


class StoreError(AirspaceError, RuntimeError):
    """The durable store failed (connection, schema, contention)."""


class StoreConfigError(StoreError, ValueError):
    """Bad store location or URL, or a policy that differs from the one the store was created with."""


class SchemaVersionError(StoreError):
    """The database schema is newer than this airgrid understands."""


class StoreBusyError(StoreError, TimeoutError):
    """The store stayed locked by other writers longer than the timeout, or retries ran out."""


class GeofenceNotFoundError(GeofenceError, LookupError):
    """No geofence with this id in the store."""


class GeofenceExistsError(GeofenceError):
    """A geofence with this identifier already exists (a create that must not replace)."""
