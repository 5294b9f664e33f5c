"""H3 cells under a lon/lat footprint, grown so the cover never misses a piece of it.

Grid covers of geofences and the ground bounds of volumes given in true height both
start from the cells a footprint may touch; this module finds them conservatively.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import h3
import numpy as np
import shapely
from shapely.geometry import mapping

from airgrid.geo.constants import M_PER_DEG_LON_EQUATOR

if TYPE_CHECKING:
    from airgrid.airspace.grid.voxels import Grid

#: Footprints are grown by this much (metres) before the H3 overlap cover.
COVER_PAD_M = 1.0


def _pad_deg(geom: shapely.Geometry, pad_m: float) -> float:
    _, s, _, n = geom.bounds
    coslat = max(math.cos(math.radians(max(abs(s), abs(n)))), 0.01)
    return pad_m / (M_PER_DEG_LON_EQUATOR * coslat)


def footprint_cells(
    footprint: shapely.Geometry, resolution: int, *, pad_m: float = COVER_PAD_M
) -> np.ndarray:
    """Every H3 cell at ``resolution`` overlapping the footprint grown by ``pad_m`` metres.

    The pad is applied in degrees, never less than ``pad_m`` in any direction, and
    absorbs the difference between H3's spherical cell edges and straight lon/lat
    edges. Sorted unique int64 ids.
    """
    grown = footprint.buffer(
        _pad_deg(footprint, pad_m), quad_segs=4, join_style="mitre", mitre_limit=4.0
    )
    cells = h3.h3shape_to_cells_experimental(
        h3.geo_to_h3shape(mapping(grown)), resolution, contain="overlap"
    )
    return np.unique(np.fromiter((h3.str_to_int(c) for c in cells), np.int64, len(cells)))


def footprint_ground(grid: Grid, footprint: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    """``cell_g_lo`` and ``cell_g_hi`` of every grid cell (all tiers) overlapping the footprint.

    Cells come from :func:`footprint_cells` per tier; both arrays are empty when the
    grid has no cell under the footprint.
    """
    lows, highs = [], []
    for t, tier in enumerate(grid.tiers):
        ci = grid.find_cells(footprint_cells(footprint, tier.resolution), t)
        ci = ci[ci >= 0]
        lows.append(grid.cell_g_lo[ci])
        highs.append(grid.cell_g_hi[ci])
    return np.concatenate(lows), np.concatenate(highs)


__all__ = ["COVER_PAD_M", "footprint_cells", "footprint_ground"]
