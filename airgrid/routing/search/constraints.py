"""Per-request constraints (tiers, heights, no-go areas, range, extra mask) and the
blocked-voxel mask they turn into.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely

from airgrid.airspace.grid import Area, cover_cells
from airgrid.routing.errors import RouteConstraintError
from airgrid.routing.graph import RouteGraph


@dataclass(frozen=True)
class Constraints:
    """Per-request constraints, all turned into one voxel mask.

    Attributes
    ----------
    tiers
        Tier names the aircraft may use (None: all).
    min_height_m, max_height_m
        Allowed true height, certain on both sides: a voxel is used only if its floor
        is at least ``min_height_m`` above its cell's highest plausible ground and its
        ceiling at most ``max_height_m`` above the lowest.
    no_go
        Extra no-go areas (shapely Polygon/MultiPolygon in lon/lat, all altitudes);
        every voxel whose cell overlaps one is blocked (conservative H3 cover).
    max_range_m
        Longest acceptable route (smoothed 3D length). The search prunes nodes outside
        the origin/destination ellipse of this size.
    blocked_mask
        Extra boolean mask over voxels (True: may not be entered). The hook through
        which active geofences and reserved airspace at the departure time come in.
    """

    tiers: Sequence[str] | None = None
    min_height_m: float | None = None
    max_height_m: float | None = None
    no_go: Sequence[shapely.Geometry] = ()
    max_range_m: float | None = None
    blocked_mask: np.ndarray | None = field(default=None, repr=False)

    def is_empty(self) -> bool:
        """True when no constraint restricts the voxels."""
        return (
            self.tiers is None
            and self.min_height_m is None
            and self.max_height_m is None
            and not self.no_go
            and self.blocked_mask is None
        )


def constraint_mask(graph: RouteGraph, c: Constraints) -> np.ndarray:
    """The request's blocked-voxel mask (uint8; empty array when nothing is blocked).

    Raises
    ------
    RouteConstraintError
        Unknown tier, inconsistent heights, non-polygonal no-go area, mask of wrong shape.
    """
    grid = graph.grid
    if c.is_empty():
        return np.empty(0, np.uint8)
    blocked = np.zeros(grid.n_voxels, bool)
    if c.tiers is not None:
        names = [t.name for t in grid.tiers]
        bad = [t for t in c.tiers if t not in names]
        if bad or not c.tiers:
            raise RouteConstraintError(
                f"unknown tiers {bad}; this grid has {names}"
                if bad
                else "allowed tiers must not be empty"
            )
        allowed = np.array([names.index(t) for t in c.tiers], np.int8)
        blocked |= ~np.isin(grid.tier, allowed)
    lo, hi = c.min_height_m, c.max_height_m
    for label, v in (("min_height_m", lo), ("max_height_m", hi)):
        if v is not None and not math.isfinite(v):
            raise RouteConstraintError(f"{label} must be finite")
    if lo is not None and hi is not None and lo >= hi:
        raise RouteConstraintError(f"min_height_m {lo} must be below max_height_m {hi}")
    if lo is not None:
        blocked |= (grid.floor - grid.g_hi) < np.float32(lo)
    if hi is not None:
        g_lo = np.repeat(grid.cell_g_lo, grid.cell_nlayers)
        blocked |= (grid.ceiling - g_lo) > np.float32(hi)
    for geom in c.no_go:
        if (
            not isinstance(geom, shapely.Geometry)
            or geom.geom_type not in ("Polygon", "MultiPolygon")
            or geom.is_empty
            or not geom.is_valid
        ):
            raise RouteConstraintError(
                "no-go areas must be valid, non-empty shapely Polygons/MultiPolygons"
            )
        for t, tier in enumerate(grid.tiers):
            ci = grid.find_cells(cover_cells(Area("no-go", geom), tier.resolution, workers=1), t)
            ci = ci[ci >= 0]
            if len(ci):
                n = grid.cell_nlayers[ci]
                idx = np.repeat(grid.cell_start[ci], n) + (
                    np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
                )
                blocked[idx] = True
    if c.blocked_mask is not None:
        m = np.asarray(c.blocked_mask)
        if m.shape != (grid.n_voxels,) or m.dtype != bool:
            raise RouteConstraintError(
                f"blocked_mask must be a bool array of shape ({grid.n_voxels},)"
            )
        blocked |= m
    return blocked.view(np.uint8)
