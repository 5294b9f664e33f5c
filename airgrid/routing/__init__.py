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
    "search.constraints": ("Constraints",),
    "search.plan": ("plan_route",),
    "search.points": ("at_agl",),
    "search.route": ("Route", "RouteStatus", "Waypoint"),
    "search.router": ("Router",),
    "search.strategy": ("Strategy",),
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
    from airgrid.routing.search.constraints import Constraints
    from airgrid.routing.search.plan import plan_route
    from airgrid.routing.search.points import at_agl
    from airgrid.routing.search.route import Route, RouteStatus, Waypoint
    from airgrid.routing.search.router import Router
    from airgrid.routing.search.strategy import Strategy

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
