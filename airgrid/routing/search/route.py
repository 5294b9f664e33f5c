"""What a route request returns: the route, its waypoints and status, and the point
and budget types requests are made of.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

#: An origin/destination: (lat, lon, alt m AMSL), a dense voxel index, or a voxel id "h3:layer".
Point = tuple[float, float, float] | int | np.integer | str

#: Default expansion budget per query (enough for a Hunan-wide T2 route).
DEFAULT_BUDGET = 20_000_000


class RouteStatus(str, Enum):
    """Outcome of a route request."""

    FOUND = "found"
    NO_ROUTE = (
        "no_route"  #: the search space was exhausted: origin and destination are not connected
    )
    BUDGET_EXHAUSTED = "budget_exhausted"  #: stopped after the expansion budget; a route may exist


@dataclass(frozen=True)
class Waypoint:
    """One waypoint of a flyable route.

    Attributes
    ----------
    lat, lon
        Degrees (WGS84).
    alt_m
        Altitude above mean sea level.
    true_height_range_m
        The certain range of true height at the waypoint: altitude minus the highest
        and minus the lowest plausible ground of the cell holding it.
    voxel
        Dense index of the voxel holding the waypoint.
    """

    lat: float
    lon: float
    alt_m: float
    true_height_range_m: tuple[float, float]
    voxel: int


@dataclass
class Route:
    """Result of a route request.

    Attributes
    ----------
    status
        :class:`RouteStatus`; only ``FOUND`` carries a path.
    origin, destination
        Dense voxel indices.
    cost
        Cost of the voxel path (equivalent metres, see :mod:`airgrid.routing.costs`).
    voxels
        The voxel path (int32), origin to destination.
    waypoints
        Smoothed waypoints.
    length_m
        3D length of the smoothed path.
    time_s
        Flight time at the request's speeds.
    min_clearance_m
        Least certain true height along the smoothed path: altitude minus the highest
        plausible ground, exact over the cells each segment crosses (tier-transition
        segments count their ends).
    expansions
        Nodes A* expanded.
    search_ms
        Wall time of the search itself.
    message
        Human-readable explanation for non-found outcomes.
    optimal
        Whether the cost is proven minimal (exact search, or a fast search whose cost
        meets its lower bound).
    cost_lower_bound
        A proven lower bound of the optimal cost: the cost itself after an exact search;
        after a fast search the larger of the A* heuristic at the origin and the
        weighted A* cost divided by its weight, so ``cost / cost_lower_bound`` bounds
        how far the route can be from optimal.
    """

    status: RouteStatus
    origin: int
    destination: int
    cost: float = math.inf
    voxels: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    waypoints: list[Waypoint] = field(default_factory=list)
    length_m: float = 0.0
    time_s: float = 0.0
    min_clearance_m: float = math.nan
    expansions: int = 0
    search_ms: float = 0.0
    message: str = ""
    optimal: bool = True
    cost_lower_bound: float = 0.0

    @property
    def found(self) -> bool:
        """Whether a route was found."""
        return self.status is RouteStatus.FOUND

    def to_geojson(self) -> dict:
        """GeoJSON Feature: LineString with Z (lon, lat, alt m AMSL) and summary properties.

        The geometry is null when no route was found.
        """
        coords = [[round(w.lon, 7), round(w.lat, 7), round(w.alt_m, 1)] for w in self.waypoints]
        if len(coords) == 1:  # origin and destination in one voxel at one point
            coords.append(list(coords[0]))
        return {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": coords} if coords else None,
            "properties": {
                "status": self.status.value,
                "cost": self.cost if self.found else None,
                "length_m": self.length_m,
                "time_s": self.time_s,
                "min_clearance_m": None
                if math.isnan(self.min_clearance_m)
                else self.min_clearance_m,
                "voxels": len(self.voxels),
                "waypoints": len(self.waypoints),
                "true_height_range_m": [
                    [round(w.true_height_range_m[0], 1), round(w.true_height_range_m[1], 1)]
                    for w in self.waypoints
                ],
                "expansions": self.expansions,
                "message": self.message,
                "optimal": self.optimal if self.found else None,
                "cost_lower_bound": self.cost_lower_bound if self.found else None,
            },
        }
