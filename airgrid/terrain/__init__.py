"""Terrain: elevation rasters to the lowest and highest plausible ground under H3 cells.

Knows nothing of tiers or airspace.
"""

from airgrid.terrain.bounds import box_ground_bounds
from airgrid.terrain.dem import Dem, DemAccuracy
from airgrid.terrain.errors import (
    DemAccuracyError,
    DemCrsError,
    DemNotFoundError,
    DemReadError,
    NoDataError,
    ObstacleError,
    OutsideCoverageError,
    TerrainError,
)
from airgrid.terrain.hillshade import export_hillshade, hillshade
from airgrid.terrain.surface import (
    CellGround,
    Obstacle,
    Obstacles,
    band_ground,
    cell_ground,
    cell_vertices_lonlat,
)

__all__ = [
    "CellGround",
    "Dem",
    "DemAccuracy",
    "DemAccuracyError",
    "DemCrsError",
    "DemNotFoundError",
    "DemReadError",
    "NoDataError",
    "Obstacle",
    "ObstacleError",
    "Obstacles",
    "OutsideCoverageError",
    "TerrainError",
    "band_ground",
    "box_ground_bounds",
    "cell_ground",
    "cell_vertices_lonlat",
    "export_hillshade",
    "hillshade",
]
