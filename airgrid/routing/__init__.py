"""Routing: CSR graph over usable voxels, cost model, Numba A* (single and batch),
smoothing into flyable waypoints, and multi-stop logistics routes.

Depends on ``airspace`` and ``terrain`` only.
"""

from airgrid.routing.costs import CostWeights
from airgrid.routing.errors import (
    GraphFileError,
    PointBlockedError,
    PointInTerrainError,
    PointOutsideGridError,
    RouteConstraintError,
    RoutingError,
)
from airgrid.routing.graph import RouteGraph, build_graph
from airgrid.routing.logistics import MultiStopRoute, plan_multi_stop
from airgrid.routing.search import (
    Constraints,
    Route,
    Router,
    RouteStatus,
    Waypoint,
    at_true_height,
    plan_route,
)

__all__ = [
    "Constraints", "CostWeights", "GraphFileError", "MultiStopRoute", "PointBlockedError", "PointInTerrainError",
    "PointOutsideGridError", "Route", "RouteConstraintError", "RouteGraph", "RouteStatus", "Router",
    "RoutingError", "Waypoint", "at_true_height", "build_graph", "plan_multi_stop", "plan_route",
]
