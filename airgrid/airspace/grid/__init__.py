"""The voxel grid: tiers of true height, areas and their H3 covers, the 3D grid on terrain.

Depends on ``terrain`` and ``geo`` only.

The names below are imported lazily (PEP 562), each from its own submodule on first
use, so ``from airgrid.airspace.grid import Grid`` (loading a saved grid) does not import
the area code, shapely or the terrain package.
"""

from typing import TYPE_CHECKING

from airgrid._lazy import lazy_exports

_EXPORTS = {
    "areas": ("Area", "area_from_bbox", "area_from_geojson", "cover_cells", "named_area"),
    "build": ("build_grid",),
    "voxels": ("BLOCKING", "Grid", "Located", "Status"),
    "tiers": ("DEFAULT_TIERS", "Tier", "TierTable", "tier_layers"),
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from airgrid.airspace.grid.areas import (
        Area,
        area_from_bbox,
        area_from_geojson,
        cover_cells,
        named_area,
    )
    from airgrid.airspace.grid.build import build_grid
    from airgrid.airspace.grid.tiers import DEFAULT_TIERS, Tier, TierTable, tier_layers
    from airgrid.airspace.grid.voxels import BLOCKING, Grid, Located, Status

__all__ = [
    "BLOCKING",
    "DEFAULT_TIERS",
    "Area",
    "Grid",
    "Located",
    "Status",
    "Tier",
    "TierTable",
    "area_from_bbox",
    "area_from_geojson",
    "build_grid",
    "cover_cells",
    "named_area",
    "tier_layers",
]
