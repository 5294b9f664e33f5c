"""Where flights start and end: demand points from real Hunan data, and the usable voxel
nearest a point.

Demand points are the logistics nodes of
:func:`~airgrid.routing.corridors.nodes.default_nodes` (prefecture seats and civil
airports as hubs, other GeoNames places as depots and drop points), kept where the grid's
area holds them. A point's weight is its GeoNames population; airports, which carry no
population figure, get the mean weight of the seats (they are where intercity traffic
gathers). Flights from a point spread their ends over a disc around it (depots, pads
and vertiports lie across a town, not on its centre) whose area grows with the
population: the area the town would cover at :data:`URBAN_DENSITY_PER_KM2`, at least
:data:`SPREAD_M` in radius (and exactly that for airports) and at most
:data:`MAX_SPREAD_M`. Endpoints are snapped to usable voxels by :class:`VoxelPicker`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h3
import numpy as np
import shapely
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from airgrid.airspace.grid import BLOCKING, Grid
from airgrid.data import DATA_DIR
from airgrid.geo.constants import EARTH_RADIUS_M
from airgrid.routing.corridors.nodes import NodeKind, default_nodes
from airgrid.simulation.errors import NoDemandError

#: Least radius (m) over which flights from one demand point spread their ends.
SPREAD_M = 3_000.0
#: Largest such radius (m).
MAX_SPREAD_M = 20_000.0
#: People per km² of a town's built-up area, for the radius of its disc: a round figure
#: between the built-up densities of Hunan's prefecture seats (Changsha's GeoNames
#: population of 3.09 million gives a disc of 14 km radius, about 620 km²).
URBAN_DENSITY_PER_KM2 = 5_000.0


@dataclass(frozen=True)
class DemandPoints:
    """Named ground positions with a demand weight.

    Attributes
    ----------
    name
        Per point, its name (object array of str).
    kind
        Per point, ``"hub"``, ``"depot"`` or ``"drop"`` (object array of str).
    lat, lon
        WGS84 degrees (float64).
    weight
        Demand weight, > 0 (float64).
    radius_m
        Radius of the disc over which flights from the point spread their ends, metres
        (float64; None: :data:`SPREAD_M` for every point).
    """

    name: np.ndarray
    kind: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    weight: np.ndarray
    radius_m: np.ndarray | None = None

    def radius(self, k: int) -> float:
        """The spread radius of point ``k``, metres."""
        return SPREAD_M if self.radius_m is None else float(self.radius_m[k])

    def __len__(self) -> int:
        return len(self.lat)

    def where(self, keep: np.ndarray) -> DemandPoints:
        """The points where ``keep`` (a bool mask) is true."""
        return DemandPoints(
            self.name[keep],
            self.kind[keep],
            self.lat[keep],
            self.lon[keep],
            self.weight[keep],
            None if self.radius_m is None else self.radius_m[keep],
        )


def grid_demand(grid: Grid, data_dir: Path = DATA_DIR) -> DemandPoints:
    """The demand points inside ``grid``'s area (see the module docstring).

    Raises
    ------
    NoDemandError
        The grid's area holds no demand point.
    """
    nodes = default_nodes(data_dir)
    seats = [n.weight for n in nodes if n.kind is NodeKind.HUB and n.weight > 0]
    airport_weight = float(np.mean(seats)) if seats else 1.0
    pts = DemandPoints(
        np.array([n.name for n in nodes], object),
        np.array([n.kind.value for n in nodes], object),
        np.array([n.lat for n in nodes], np.float64),
        np.array([n.lon for n in nodes], np.float64),
        np.array([n.weight if n.weight > 0 else airport_weight for n in nodes], np.float64),
        np.array([spread_radius_m(n.weight) for n in nodes], np.float64),
    )
    area = grid.meta.get("area_wkt")
    if area:
        pts = pts.where(shapely.covers(shapely.from_wkt(area), shapely.points(pts.lon, pts.lat)))
    if not len(pts):
        raise NoDemandError(f"no demand point lies in the grid's area ({grid.meta.get('area')})")
    return pts


def spread_radius_m(population: float) -> float:
    """Radius (m) of the disc a town of ``population`` covers at
    :data:`URBAN_DENSITY_PER_KM2`, clipped to [:data:`SPREAD_M`, :data:`MAX_SPREAD_M`]
    (:data:`SPREAD_M` for no population figure, such as an airport's)."""
    area_m2 = max(population, 0.0) / URBAN_DENSITY_PER_KM2 * 1e6
    return float(np.clip(np.sqrt(area_m2 / np.pi), SPREAD_M, MAX_SPREAD_M))


def unit_xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, shape ``(n, 3)``."""
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def great_circle_m(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> np.ndarray:
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    p1, p2 = np.radians(np.asarray(lat1, np.float64)), np.radians(np.asarray(lat2, np.float64))
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.subtract(lon2, lon1)) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def offset_point(
    lat: float, lon: float, distance_m: float, bearing_rad: float
) -> tuple[float, float]:
    """The point ``distance_m`` from (lat, lon) along ``bearing_rad`` (a flat-Earth step,
    good to well under 1 % at the 300 km this module asks for)."""
    dn = distance_m * np.cos(bearing_rad)
    de = distance_m * np.sin(bearing_rad)
    dlat = np.degrees(dn / EARTH_RADIUS_M)
    dlon = np.degrees(de / (EARTH_RADIUS_M * np.cos(np.radians(lat))))
    return float(lat + dlat), float(lon + dlon)


class VoxelPicker:
    """The usable voxel of one tier nearest a point: per cell of the tier that holds a
    usable voxel, the middle usable voxel of its column, found by a k-d tree over the
    cell centres.

    Parameters
    ----------
    grid
        The grid.
    tier
        Tier name; a tier the grid lacks, or one without a usable voxel, picks nothing.
    blocked
        Per voxel, whether it may not be picked although the grid certifies it (such as
        the voxels of prohibited geofences), or None.
    """

    def __init__(self, grid: Grid, tier: str, blocked: np.ndarray | None = None) -> None:
        names = [t.name for t in grid.tiers]
        self.voxels = np.empty(0, np.int64)
        self._tree: cKDTree | None = None
        if tier not in names:
            return
        sl = grid.tier_slice(names.index(tier))
        start = grid.cell_start[sl].astype(np.int64)
        n = grid.cell_nlayers[sl].astype(np.int64)
        usable = (grid.status & np.uint8(BLOCKING)) == 0
        if blocked is not None:
            usable &= ~blocked
        # per cell, the usable voxels of its column; the middle one stands for the cell
        cells = np.repeat(np.arange(len(start)), n)
        vox = np.repeat(start, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
        keep = usable[vox]
        cells, vox = cells[keep], vox[keep]
        if not len(vox):
            return
        first = np.searchsorted(cells, np.unique(cells))
        count = np.diff(np.append(first, len(cells)))
        self.voxels = vox[first + count // 2]
        ids = grid.cell_id[sl][cells[first]]
        ll = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in ids], np.float64)
        self._tree = cKDTree(unit_xyz(ll[:, 0], ll[:, 1]))

    def __bool__(self) -> bool:
        return self._tree is not None

    def nearest(self, lat: float, lon: float, max_m: float) -> int:
        """The picked voxel nearest (lat, lon) within ``max_m`` metres, or -1."""
        if self._tree is None:
            return -1
        d, i = self._tree.query(unit_xyz(np.array([lat]), np.array([lon]))[0])
        return int(self.voxels[i]) if d * EARTH_RADIUS_M <= max_m else -1


__all__ = [
    "MAX_SPREAD_M",
    "SPREAD_M",
    "URBAN_DENSITY_PER_KM2",
    "DemandPoints",
    "VoxelPicker",
    "great_circle_m",
    "grid_demand",
    "offset_point",
    "spread_radius_m",
    "unit_xyz",
]
