"""Ground bounds over lon/lat boxes: the one rule for "what ground may lie in here".

Geofence bands and intent checks ask for the lowest and highest plausible ground under
a footprint's bounding box; this module answers from the DEM's per-pixel bounds
(:attr:`~airgrid.terrain.Dem.lower`, :attr:`~airgrid.terrain.Dem.upper`).
"""

from __future__ import annotations

import numpy as np

from airgrid.terrain.dem import Dem
from airgrid.terrain.kernels import PixelWindows, window_bounds


def box_ground_bounds(
    dem: Dem, west: np.ndarray, south: np.ndarray, east: np.ndarray, north: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lowest and highest plausible ground (m AMSL) in each lon/lat box.

    Parameters
    ----------
    dem
        The terrain.
    west, south, east, north
        Box edges in WGS84 degrees, arrays of one length.

    Returns
    -------
    g_lo, g_hi : float64[n]
        ``min(height - downward margin)`` and ``max(height + upward margin)`` over the
        DEM pixels touching the box grown by one pixel on every side (so heights
        interpolated between pixel centres inside the box are bounded too). NaN
        where the box is not inside the DEM or holds only voids.
    inside : bool[n]
        Whether the box lies inside the DEM's extent.

    Notes
    -----
    The box corners are mapped to pixel space, so for a DEM in a projected CRS the
    window is the pixel box of the mapped corners, grown by one pixel; at the
    scales of geofences (kilometres) the curvature of a mapped lon/lat edge is far
    below one pixel.
    """
    west, south, east, north = (
        np.atleast_1d(np.asarray(v, np.float64)) for v in (west, south, east, north)
    )
    n = len(west)
    xs = np.concatenate([west, east, west, east])
    ys = np.concatenate([south, south, north, north])
    col, row = dem.lonlat_to_pixel(xs, ys)
    col = col.reshape(4, n)
    row = row.reshape(4, n)
    c0 = np.floor(col.min(0)).astype(np.int64) - 1
    c1 = np.floor(col.max(0)).astype(np.int64) + 2
    r0 = np.floor(row.min(0)).astype(np.int64) - 1
    r1 = np.floor(row.max(0)).astype(np.int64) + 2
    lo = np.empty(n)
    hi = np.empty(n)
    window_bounds(dem.lower, dem.upper, PixelWindows(c0, c1, r0, r1), lo, hi)
    w, s, e, nn = dem.bounds_lonlat
    inside = (west >= w) & (east <= e) & (south >= s) & (north <= nn)
    lo[~inside] = np.nan
    hi[~inside] = np.nan
    return lo, hi, inside


__all__ = ["box_ground_bounds"]
