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
