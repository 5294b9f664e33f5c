"""Routing: CSR graph over usable voxels, cost model, Numba A* (single and batch),
smoothing into flyable waypoints, and multi-stop logistics routes.

Depends on ``airspace`` and ``terrain`` only.

The names below are imported lazily (PEP 562), each from its own submodule on first
use, so ``from airgrid.routing import RouteGraph, plan_route`` imports only what a
single route needs.
"""

from typing import TYPE_CHECKING

from airgrid._lazy import lazy_exports

_EXPORTS = {
    "costs": ("CostWeights",),
    "errors": (
        "GraphFileError",
        "PointBetweenTiersError",
        "PointBlockedError",
        "PointInTerrainError",
        "PointOutsideGridError",
        "RouteConstraintError",
        "RoutingError",
    ),
    "graph": ("RouteGraph", "build_graph"),
    "logistics": ("MultiStopRoute", "plan_multi_stop"),
    "search": (
        "Constraints",
        "Route",
        "Router",
        "RouteStatus",
        "Strategy",
        "Waypoint",
        "at_agl",
        "plan_route",
    ),
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from airgrid.routing.costs import CostWeights
    from airgrid.routing.errors import (
        GraphFileError,
        PointBetweenTiersError,
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
        Strategy,
        Waypoint,
        at_agl,
        plan_route,
    )

__all__ = [
    "Constraints",
    "CostWeights",
    "GraphFileError",
    "MultiStopRoute",
    "PointBetweenTiersError",
    "PointBlockedError",
    "PointInTerrainError",
    "PointOutsideGridError",
    "Route",
    "RouteConstraintError",
    "RouteGraph",
    "RouteStatus",
    "Router",
    "RoutingError",
    "Strategy",
    "Waypoint",
    "at_agl",
    "build_graph",
    "plan_multi_stop",
    "plan_route",
]
