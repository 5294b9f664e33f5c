"""Terrain error family.

Every terrain failure is a :class:`TerrainError`; each subclass also inherits the
builtin that matches its meaning, so callers may catch either.
"""

from __future__ import annotations


class TerrainError(Exception):
    """Root of every terrain error."""


class DemNotFoundError(TerrainError, FileNotFoundError):
    """A DEM path does not exist."""


class DemReadError(TerrainError, OSError):
    """A DEM file exists but GDAL cannot read it as a raster."""


class DemCrsError(TerrainError, ValueError):
    """A DEM has no coordinate reference system, or tiles of a mosaic disagree."""


class OutsideCoverageError(TerrainError, ValueError):
    """A point or cell lies (partly) outside the DEM's extent."""


class NoDataError(TerrainError, ValueError):
    """Every DEM pixel that a point or cell needs is nodata (a void)."""


class ObstacleError(TerrainError, ValueError):
    """An obstacle feature is malformed (no geometry, no height, bad value)."""


class DemAccuracyError(TerrainError, ValueError):
    """A DEM uncertainty model has a negative, infinite or mistyped term."""


class GeoidError(TerrainError, ValueError):
    """A geoid grid is missing or unreadable, or a point lies outside its coverage."""
