"""The lowest and highest plausible ground under a footprint, from any terrain source.

True-height (``AGL``) limits are resolved against these bounds: the lower limit over
the lowest ground, the upper over the highest, so a resolved band only grows. The
ground may be given as a number, a ``(low, high)`` pair, a DEM or a voxel grid; with
none, the Earth-wide extremes are used.
"""

from __future__ import annotations

import numpy as np
import shapely

from airgrid.airspace.errors import GeofenceError, OutsideGridError
from airgrid.airspace.grid.footprint import footprint_ground
from airgrid.airspace.grid.voxels import Grid
from airgrid.terrain import Dem, NoDataError, OutsideCoverageError
from airgrid.terrain.bounds import box_ground_bounds

#: Ground range used for true-height limits when no terrain is given: the Dead Sea shore
#: and the top of Everest. Used only where a caller gives no terrain; errs to safety.
EARTH_GROUND_MIN_M = -450.0
EARTH_GROUND_MAX_M = 8_850.0

#: The terrain under a footprint, in the forms :func:`ground_bounds` accepts.
Ground = float | tuple[float, float] | Dem | Grid | None


def ground_bounds(ground: Ground, footprint: shapely.Geometry, what: str) -> tuple[float, float]:
    """(lowest, highest) plausible ground under ``footprint``.

    Parameters
    ----------
    ground
        ``None`` (the Earth-wide extremes :data:`EARTH_GROUND_MIN_M` /
        :data:`EARTH_GROUND_MAX_M`), a number (one height), ``(low, high)``, a
        :class:`~airgrid.terrain.Dem` (:func:`dem_bounds` over the footprint's box) or a
        :class:`~airgrid.airspace.grid.voxels.Grid` (``min(cell_g_lo)`` and
        ``max(cell_g_hi)`` over every cell of every tier overlapping the footprint).
    footprint
        The footprint, lon/lat degrees.
    what
        Names the footprint's owner in error messages.

    Raises
    ------
    OutsideGridError
        A grid has no cell under the footprint.
    GeofenceError
        A ``(low, high)`` pair with ``low > high``.
    airgrid.terrain.OutsideCoverageError
        The DEM does not cover the footprint.
    """
    if ground is None:
        return EARTH_GROUND_MIN_M, EARTH_GROUND_MAX_M
    if isinstance(ground, Dem):
        return dem_bounds(ground, *footprint.bounds)
    if isinstance(ground, Grid):
        lo_arr, hi_arr = footprint_ground(ground, footprint)
        if len(lo_arr) == 0:
            raise OutsideGridError(f"{what}: the grid has no cell under the geofence")
        return float(lo_arr.min()), float(hi_arr.max())
    if isinstance(ground, tuple):
        lo, hi = (float(g) for g in ground)
        if not lo <= hi:
            raise GeofenceError(f"ground bounds must be (low, high) with low <= high, got {ground}")
        return lo, hi
    g = float(ground)
    return g, g


def dem_bounds(
    dem: Dem, west: float, south: float, east: float, north: float
) -> tuple[float, float]:
    """Lowest and highest plausible ground in a lon/lat box, from a DEM.

    The rule of :func:`airgrid.terrain.bounds.box_ground_bounds`: the DEM pixels
    touching the box grown by one pixel, each widened by its downward and upward
    uncertainty margins.

    Raises
    ------
    airgrid.terrain.OutsideCoverageError
        The box is not inside the DEM.
    airgrid.terrain.NoDataError
        Only voids under the box.
    """
    lo, hi, inside = box_ground_bounds(
        dem, np.array([west]), np.array([south]), np.array([east]), np.array([north])
    )
    if not inside[0]:
        raise OutsideCoverageError(
            f"box {west:.5f},{south:.5f},{east:.5f},{north:.5f} is not inside the DEM {dem.bounds_lonlat}"
        )
    if np.isnan(lo[0]):
        raise NoDataError("only DEM voids under the geofence")
    return float(lo[0]), float(hi[0])


def bins_ground(
    dem: Dem, west: np.ndarray, south: np.ndarray, east: np.ndarray, north: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per lon/lat box, lowest and highest plausible ground (the rule of :func:`dem_bounds`).

    Boxes outside the DEM, or over voids only, get the Earth-wide extremes.
    """
    lo, hi, _ = box_ground_bounds(dem, west, south, east, north)
    void = np.isnan(lo)
    lo[void] = EARTH_GROUND_MIN_M
    hi[void] = EARTH_GROUND_MAX_M
    return lo, hi


__all__ = [
    "EARTH_GROUND_MAX_M",
    "EARTH_GROUND_MIN_M",
    "Ground",
    "bins_ground",
    "dem_bounds",
    "ground_bounds",
]
