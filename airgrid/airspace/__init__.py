"""Airspace: the tiered 3D voxel grid, geofences, flight intents and the durable store.

Depends on ``terrain`` only.

The names below are imported lazily (PEP 562), each from its own submodule on first
use, so ``from airgrid.airspace import Grid`` (loading a saved grid) does not import
the area code, shapely or the terrain package.
"""

from typing import TYPE_CHECKING

from airgrid._lazy import lazy_exports

_EXPORTS = {
    "areas": ("Area", "area_from_bbox", "area_from_geojson", "cover_cells", "named_area"),
    "errors": (
        "AirspaceError",
        "AreaError",
        "AreaTooLargeError",
        "GridFileError",
        "OutsideGridError",
        "TierTableError",
        "VoxelIdError",
    ),
    "grid": ("BLOCKING", "Grid", "Located", "Status", "build_grid"),
    "tiers": ("DEFAULT_TIERS", "Tier", "TierTable", "tier_layers"),
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from airgrid.airspace.areas import (
        Area,
        area_from_bbox,
        area_from_geojson,
        cover_cells,
        named_area,
    )
    from airgrid.airspace.errors import (
        AirspaceError,
        AreaError,
        AreaTooLargeError,
        GridFileError,
        OutsideGridError,
        TierTableError,
        VoxelIdError,
    )
    from airgrid.airspace.grid import BLOCKING, Grid, Located, Status, build_grid
    from airgrid.airspace.tiers import DEFAULT_TIERS, Tier, TierTable, tier_layers

__all__ = [
    "BLOCKING",
    "DEFAULT_TIERS",
    "AirspaceError",
    "Area",
    "AreaError",
    "AreaTooLargeError",
    "Grid",
    "GridFileError",
    "Located",
    "OutsideGridError",
    "Status",
    "Tier",
    "TierTable",
    "TierTableError",
    "VoxelIdError",
    "area_from_bbox",
    "area_from_geojson",
    "build_grid",
    "cover_cells",
    "named_area",
    "tier_layers",
]
