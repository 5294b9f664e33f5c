"""Per-request constraints (tiers, heights, no-go areas, range, extra mask) and the
blocked-voxel mask they turn into.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely

from airgrid.airspace.grid import Area, Grid, cover_cells
from airgrid.routing.errors import RouteConstraintError
from airgrid.routing.graph import RouteGraph

#: A no-go area's voxels are remembered (per grid) when there are at most this many: a
#: small area such as a hexagon around a conflict, which a client re-routing a flight
#: sends again with every later re-route.
NO_GO_CACHE_VOXELS = 1_024
#: Small no-go areas remembered per grid, at most (the least recently used go first):
#: with :data:`NO_GO_CACHE_VOXELS`, at most 32 MiB of voxel indices.
NO_GO_CACHE_AREAS = 4_096


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


def tier_lut(graph: RouteGraph, tiers: Sequence[str]) -> np.ndarray:
    """Per tier index of the grid, whether a route allowed only ``tiers`` may not enter it
    (bool; index it with ``grid.tier``).

    Raises
    ------
    RouteConstraintError
        An unknown tier, or no tier at all.
    """
    names = [t.name for t in graph.grid.tiers]
    bad = [t for t in tiers if t not in names]
    if bad or not tiers:
        raise RouteConstraintError(
            f"unknown tiers {bad}; this grid has {names}"
            if bad
            else "allowed tiers must not be empty"
        )
    lut = np.ones(len(names), bool)
    lut[[names.index(t) for t in tiers]] = False
    return lut


def constraint_mask(graph: RouteGraph, c: Constraints) -> np.ndarray:
    """The request's blocked-voxel mask (uint8; empty array when nothing is blocked).

    A C-contiguous ``blocked_mask`` that is the only constraint is returned as it is (a
    uint8 view, no copy; read-only stays read-only); otherwise the mask is a new array.

    Raises
    ------
    RouteConstraintError
        Unknown tier, inconsistent heights, non-polygonal no-go area, mask of wrong shape.
    """
    grid = graph.grid
    if c.is_empty():
        return np.empty(0, np.uint8)
    lut = tier_lut(graph, c.tiers) if c.tiers is not None else None
    lo, hi = c.min_height_m, c.max_height_m
    for label, v in (("min_height_m", lo), ("max_height_m", hi)):
        if v is not None and not math.isfinite(v):
            raise RouteConstraintError(f"{label} must be finite")
    if lo is not None and hi is not None and lo >= hi:
        raise RouteConstraintError(f"min_height_m {lo} must be below max_height_m {hi}")
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
    m = None
    if c.blocked_mask is not None:
        m = np.asarray(c.blocked_mask)
        if m.shape != (grid.n_voxels,) or m.dtype != bool:
            raise RouteConstraintError(
                f"blocked_mask must be a bool array of shape ({grid.n_voxels},)"
            )
    parts: list[np.ndarray] = []
    if lut is not None:
        parts.append(lut[grid.tier])
    if lo is not None:
        parts.append((grid.floor - grid.g_hi) < np.float32(lo))
    if hi is not None:
        g_lo = np.repeat(grid.cell_g_lo, grid.cell_nlayers)
        parts.append((grid.ceiling - g_lo) > np.float32(hi))
    if m is not None and not parts and not c.no_go and m.flags.c_contiguous:
        return m.view(np.uint8)
    if m is not None:
        parts.append(m)
    if not parts:
        blocked = np.zeros(grid.n_voxels, bool)
    else:  # the parts built here are this call's arrays; the caller's mask is copied
        blocked = parts[0].copy() if parts[0] is m else parts[0]
    for p in parts[1:]:
        blocked |= p
    for geom in c.no_go:
        blocked[_NO_GO.voxels(grid, geom)] = True
    return blocked.view(np.uint8)


class _NoGoCache:
    """The voxels of small no-go areas, per grid and area (its WKB), least recently used
    out first; shared by the threads of a process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._grids: weakref.WeakKeyDictionary[Grid, OrderedDict[bytes, np.ndarray]] = (
            weakref.WeakKeyDictionary()
        )

    def voxels(self, grid: Grid, geom: shapely.Geometry) -> np.ndarray:
        """:func:`_no_go_voxels` of ``geom`` on ``grid``, remembered when small (read-only)."""
        key = shapely.to_wkb(geom)
        with self._lock:
            entries = self._grids.setdefault(grid, OrderedDict())
            known = entries.get(key)
            if known is not None:
                entries.move_to_end(key)
                return known
        found = _no_go_voxels(grid, geom)
        if len(found) <= NO_GO_CACHE_VOXELS:
            found.setflags(write=False)
            with self._lock:
                entries[key] = found
                if len(entries) > NO_GO_CACHE_AREAS:
                    entries.popitem(last=False)
        return found


_NO_GO = _NoGoCache()


def _no_go_voxels(grid: Grid, geom: shapely.Geometry) -> np.ndarray:
    """Indices of every voxel whose cell overlaps ``geom`` (conservative H3 cover), all tiers."""
    out = []
    for t, tier in enumerate(grid.tiers):
        ci = grid.find_cells(cover_cells(Area("no-go", geom), tier.resolution, workers=1), t)
        ci = ci[ci >= 0]
        if len(ci):
            n = grid.cell_nlayers[ci]
            out.append(
                np.repeat(grid.cell_start[ci], n)
                + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
            )
    return np.concatenate(out) if out else np.empty(0, np.int64)
