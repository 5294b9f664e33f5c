"""Routing error family: every routing failure is a :class:`RoutingError`.

Each subclass also inherits the builtin that matches it (``ValueError`` for bad
requests, ``LookupError`` for positions the grid does not hold), so callers that do
not know airgrid can still catch them, and the CLI maps them to exit code 2.

"No route" and "budget exhausted" are *outcomes*, not errors: they come back as a
:class:`~airgrid.routing.search.route.Route` with the matching status.
"""

from __future__ import annotations


class RoutingError(Exception):
    """Root of every routing error."""


class PointOutsideGridError(RoutingError, LookupError):
    """An origin, destination or stop lies outside every voxel of the grid."""


class PointBetweenTiersError(RoutingError, ValueError):
    """A point inside the grid's area lies in no voxel (between two tiers' bands, or above
    the highest); the message names the nearest altitude that has a voxel."""


class PointInTerrainError(RoutingError, ValueError):
    """A point lies inside terrain: below the highest plausible ground plus clearance, or in a terrain-blocked voxel."""


class PointBlockedError(RoutingError, ValueError):
    """A point lies in a voxel the request may not use (geofence, tier, height, no-go area, mask)."""


class RouteConstraintError(RoutingError, ValueError):
    """A request is malformed: bad coordinates, constraints, weights or stops."""


class NodeFileError(RoutingError, ValueError):
    """A logistics-node file or node list is unreadable or invalid (format, fields, values, duplicates)."""


class CorridorError(RoutingError, ValueError):
    """A corridor or corridor network cannot be built as asked (bad parameters, node not reachable in the tier)."""


class NodeAccessError(CorridorError):
    """A logistics node has no usable voxel of the tier near it (the tier is absent or blocked there)."""


class GraphFileError(RoutingError, OSError):
    """A saved routing graph is missing, incomplete, or was built from another grid."""
