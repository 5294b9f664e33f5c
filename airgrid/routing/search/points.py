"""Origins and destinations: from coordinates, voxel indices or voxel ids to a usable
voxel, with errors that say why a point cannot be used.
"""

from __future__ import annotations

import math

import h3
import numpy as np
from h3.api import basic_int as h3i

from airgrid.airspace.errors import OutsideGridError, VoxelIdError
from airgrid.airspace.grid import Grid, Status
from airgrid.airspace.grid.voxels import BLOCKING
from airgrid.routing.errors import (
    PointBetweenTiersError,
    PointBlockedError,
    PointInTerrainError,
    PointOutsideGridError,
    RouteConstraintError,
)
from airgrid.routing.graph import RouteGraph
from airgrid.routing.search.route import Point


def resolve_point(
    graph: RouteGraph, p: Point, blocked: np.ndarray, label: str
) -> tuple[int, tuple | None]:
    """Voxel of an origin/destination, checked against usability and the request mask.

    Returns
    -------
    voxel : int
    coords : (lat, lon, alt) or None
        The exact point when given as coordinates.

    Raises
    ------
    PointOutsideGridError, PointInTerrainError, PointBlockedError, RouteConstraintError
    """
    grid = graph.grid
    coords = None
    if isinstance(p, (bool, np.bool_)):
        raise RouteConstraintError(
            f"{label} must be (lat, lon, alt), a voxel index or id, got {p!r}"
        )
    if isinstance(p, (int, np.integer)):
        v = int(p)
        if not 0 <= v < grid.n_voxels:
            raise PointOutsideGridError(
                f"{label} voxel {v} is not in the grid (0..{grid.n_voxels - 1})"
            )
    elif isinstance(p, str):
        try:
            v = grid.parse_voxel_id(p)
        except VoxelIdError as exc:
            raise RouteConstraintError(f"{label}: {exc}") from None
        except OutsideGridError as exc:
            raise PointOutsideGridError(f"{label}: {exc}") from None
    else:
        try:
            lat, lon, alt = (float(x) for x in p)
        except (TypeError, ValueError):
            raise RouteConstraintError(
                f"{label} must be (lat, lon, alt), a voxel index or id, got {p!r}"
            ) from None
        v = _voxel_at(grid, lat, lon, alt, label)
        coords = (lat, lon, alt)
    _check_enterable(graph, v, blocked, label)
    return v, coords


def _voxel_at(grid: Grid, lat: float, lon: float, alt: float, label: str) -> int:
    """The voxel containing a point, or the error saying why none does.

    Raises
    ------
    RouteConstraintError
        Not a valid lat, lon, altitude.
    PointOutsideGridError
        Outside the grid's area, or no tier exists there.
    PointInTerrainError
        Below the highest plausible ground plus clearance.
    PointBetweenTiersError
        In no tier's band (the message names the nearest altitude that is).
    """
    if not all(math.isfinite(x) for x in (lat, lon, alt)) or not (
        -90 <= lat <= 90 and -180 <= lon <= 180
    ):
        raise RouteConstraintError(
            f"{label} ({lat}, {lon}, {alt}) is not a valid lat, lon, altitude"
        )
    loc = grid.locate(lat, lon, alt)
    if loc.voxel >= 0:
        return loc.voxel
    if loc.tier < 0:
        raise PointOutsideGridError(f"{label} ({lat}, {lon}) is outside the grid's area")
    ci = int(grid.find_cells(np.array([h3.str_to_int(loc.cell)]), loc.tier)[0])
    if ci >= 0 and alt < float(grid.cell_g_hi[ci]) + grid.tiers.clearance_m:
        raise PointInTerrainError(
            f"{label} at {alt:.0f} m AMSL is inside terrain: the highest plausible ground "
            f"there is {float(grid.cell_g_hi[ci]):.0f} m AMSL, + {grid.tiers.clearance_m:g} m clearance"
        )
    nearest = _nearest_band_alt(grid, lat, lon, alt)
    if not math.isfinite(nearest):
        raise PointOutsideGridError(f"{label} ({lat}, {lon}): {loc.reason}")
    raise PointBetweenTiersError(
        f"{label} at {alt:.0f} m AMSL is in no voxel ({loc.reason}); the "
        f"nearest altitude with a voxel here is {nearest:.0f} m AMSL"
    )


def _check_enterable(graph: RouteGraph, v: int, blocked: np.ndarray, label: str) -> None:
    """Raise unless a route may start or end in voxel ``v``.

    Raises
    ------
    PointInTerrainError
        The voxel is terrain-blocked.
    PointBlockedError
        The voxel is not usable, or the request's mask excludes it.
    """
    grid = graph.grid
    st = int(grid.status[v])
    if st & Status.TERRAIN:
        raise PointInTerrainError(
            f"{label} voxel {grid.voxel_id(v)} is terrain-blocked "
            f"(floor {float(grid.floor[v]):.0f} m AMSL, highest plausible ground "
            f"{float(grid.g_hi[v]):.0f} m AMSL)"
        )
    if not graph.usable[v]:
        raise PointBlockedError(
            f"{label} voxel {grid.voxel_id(v)} is not usable (status {Status(st)!r})"
        )
    if len(blocked) and blocked[v]:
        raise PointBlockedError(
            f"{label} voxel {grid.voxel_id(v)} is excluded by the request's constraints or the "
            "caller's blocked voxels (such as prohibited geofences or the edge of the served area)"
        )


def at_agl(
    graph: RouteGraph | Grid, lat: float, lon: float, height_m: float | None = None
) -> tuple[float, float, float]:
    """The point ``height_m`` above ground (AGL) at (lat, lon), resolved conservatively.

    AGL is resolved against the highest plausible ground ``g_hi`` of the cell under
    the point, so the aircraft is at least ``height_m`` above the real ground (and at
    most ``height_m + g_hi - g_lo``). Tiers are tried lowest first; the first whose
    column there holds a voxel at that altitude gives the cell. With
    ``height_m=None``, the middle of the lowest tier's column there (always a voxel).

    Returns
    -------
    (lat, lon, alt_m_amsl)

    Raises
    ------
    PointOutsideGridError
        No tier has a cell at (lat, lon), or no column holds a voxel at that height.
    RouteConstraintError
        Non-finite or out-of-range input.
    """
    grid = graph.grid if isinstance(graph, RouteGraph) else graph
    h = 0.0 if height_m is None else height_m
    if not all(math.isfinite(x) for x in (lat, lon, h)) or not (
        -90 <= lat <= 90 and -180 <= lon <= 180
    ):
        raise RouteConstraintError(f"({lat}, {lon}) at {height_m} m is not a valid position")
    seen = []
    inside = False
    for t, tier in enumerate(grid.tiers):
        ci = int(grid.find_cells(np.array([h3i.latlng_to_cell(lat, lon, tier.resolution)]), t)[0])
        inside |= ci >= 0
        if ci < 0 or grid.cell_nlayers[ci] == 0:
            continue
        first = int(grid.cell_first_layer[ci])
        lo, hi = first * tier.thickness_m, (first + int(grid.cell_nlayers[ci])) * tier.thickness_m
        if height_m is None:
            start = int(grid.cell_start[ci])
            ok = np.flatnonzero(
                (grid.status[start : start + int(grid.cell_nlayers[ci])] & np.uint8(BLOCKING)) == 0
            )
            if len(ok):
                return lat, lon, (first + int(ok[len(ok) // 2]) + 0.5) * tier.thickness_m
            seen.append(f"{tier.name}: no usable voxel")
            continue
        alt = float(grid.cell_g_hi[ci]) + height_m
        if lo <= alt < hi:
            return lat, lon, alt
        seen.append(
            f"{tier.name}: {lo - float(grid.cell_g_hi[ci]):.0f}-{hi - float(grid.cell_g_hi[ci]):.0f} m"
        )
    if not inside:
        raise PointOutsideGridError(f"({lat}, {lon}) is outside the grid's area")
    if not seen:
        raise PointOutsideGridError(
            f"no tier exists at ({lat}, {lon}): the ground there is too uncertain for "
            f"every band ({grid.locate(lat, lon, 0.0).reason})"
        )
    if height_m is None:
        raise PointOutsideGridError(f"no usable voxel at ({lat}, {lon}): {', '.join(seen)}")
    raise PointOutsideGridError(
        f"no voxel at {height_m:g} m above the highest plausible ground at "
        f"({lat}, {lon}); columns there span {', '.join(seen)} above it"
    )


def _nearest_band_alt(grid: Grid, lat: float, lon: float, alt: float) -> float:
    """The altitude nearest ``alt`` inside a tier band of the grid's columns at a point
    (a metre inside the band, so it names a voxel); inf where no tier exists there."""
    best = math.inf
    for t, tier in enumerate(grid.tiers):
        ci = int(
            grid.find_cells(
                np.array([h3.str_to_int(h3.latlng_to_cell(lat, lon, tier.resolution))]), t
            )[0]
        )
        if ci < 0 or int(grid.cell_nlayers[ci]) == 0:
            continue
        lo = int(grid.cell_first_layer[ci]) * tier.thickness_m
        hi = lo + int(grid.cell_nlayers[ci]) * tier.thickness_m
        near = min(max(alt, lo + 1.0), hi - 1.0)
        if abs(near - alt) < abs(best - alt):
            best = near
    return best
