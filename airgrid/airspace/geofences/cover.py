"""Conservative grid covers of geofences: the voxels a geofence may touch, and marking them.

Per tier, every H3 cell overlapping the grown footprint
(:func:`~airgrid.airspace.grid.footprint.footprint_cells`) times every layer touching
the band resolved over that cell; the cover is a superset of the geofence's volume.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from airgrid.airspace.geofences.model import Category, Geofence
from airgrid.airspace.grid.footprint import footprint_cells
from airgrid.airspace.grid.voxels import Grid, Status


def cover_geofence(
    grid: Grid, geofence: Geofence, at_time: float | datetime | None = None
) -> np.ndarray:
    """Voxels of ``grid`` that the geofence may touch.

    Parameters
    ----------
    grid
        The grid.
    geofence
        The geofence.
    at_time
        When given, an inactive geofence covers nothing.

    Returns
    -------
    numpy.ndarray
        Sorted int64 voxel indices.

    Notes
    -----
    Per tier: every cell overlapping the footprint
    (:func:`~airgrid.airspace.grid.footprint.footprint_cells`), times every layer
    whose ``[floor, ceiling)`` touches the band resolved *over that cell*: AGL lower
    limits are added to ``cell_g_lo`` (lowest plausible ground), AGL upper limits to
    ``cell_g_hi`` (highest plausible ground). Layers touching the band at one
    altitude count. The cover is therefore a superset of the geofence's volume, at
    every tier.
    """
    if at_time is not None and not geofence.is_active(at_time):
        return np.empty(0, np.int64)
    out = []
    for t, tier in enumerate(grid.tiers):
        ci = grid.find_cells(footprint_cells(geofence.footprint, tier.resolution), t)
        ci = ci[ci >= 0]
        if len(ci) == 0:
            continue
        lo, hi = geofence.resolve_limits(
            grid.cell_g_lo[ci].astype(np.float64), grid.cell_g_hi[ci].astype(np.float64)
        )
        lo = np.broadcast_to(np.asarray(lo, np.float64), (len(ci),))
        hi = np.broadcast_to(np.asarray(hi, np.float64), (len(ci),))
        th = tier.thickness_m
        first = grid.cell_first_layer[ci].astype(np.int64)
        last = first + grid.cell_nlayers[ci].astype(np.int64) - 1
        # layer k spans [k*th, (k+1)*th); it touches [lo, hi] iff (k+1)*th >= lo and k*th <= hi
        klo = np.maximum(first, np.ceil(lo / th - 1.0 - 1e-9).astype(np.int64))
        khi = np.minimum(last, np.floor(hi / th + 1e-9).astype(np.int64))
        cnt = np.maximum(khi - klo + 1, 0)
        if cnt.sum() == 0:
            continue
        base = grid.cell_start[ci].astype(np.int64) + (klo - first)
        starts = np.repeat(base, cnt)
        offs = np.arange(int(cnt.sum()), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        out.append(starts + offs)
    return np.unique(np.concatenate(out)) if out else np.empty(0, np.int64)


def mark_geofences(grid: Grid, geofences: Sequence[Geofence]) -> np.ndarray:
    """Set ``Status.GEOFENCE`` (in place) on voxels covered by permanent prohibited geofences.

    Only geofences that are ``prohibited`` and permanently valid are marked: the
    status bit is static, time-limited geofences are checked per flight (intents).
    Bits already set stay set.

    Returns
    -------
    numpy.ndarray
        Sorted int64 indices of the voxels covered (newly or already marked).
    """
    parts = [
        cover_geofence(grid, g)
        for g in geofences
        if g.category is Category.PROHIBITED and g.validity.permanent
    ]
    idx = np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64)
    grid.status[idx] |= np.uint8(Status.GEOFENCE)
    return idx


__all__ = ["cover_geofence", "mark_geofences"]
