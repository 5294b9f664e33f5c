"""Route requests: validate input, apply per-request constraints, search, smooth, report.

Public entry point: :func:`plan_route`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import shapely

from airgrid.airspace.grid import Grid
from airgrid.geo.constants import EARTH_RADIUS_M
from airgrid.routing.errors import RouteConstraintError
from airgrid.routing.graph import RouteGraph
from airgrid.routing.kernels.status import BUDGET, NO_ROUTE
from airgrid.routing.search.constraints import Constraints, constraint_mask
from airgrid.routing.search.points import resolve_point
from airgrid.routing.search.route import DEFAULT_BUDGET, Point, Route, RouteStatus, Waypoint
from airgrid.routing.search.router import Router, graph_for, router_for
from airgrid.routing.search.sightline import to_xyz
from airgrid.routing.search.smooth import legs_clearance, smooth
from airgrid.routing.search.strategy import Strategy, search_voxels


def _finish(
    graph: RouteGraph,
    route: Route,
    blocked: np.ndarray,
    origin: tuple | None,
    dest: tuple | None,
    speeds: tuple[float, float, float],
    router: Router,
) -> None:
    grid = graph.grid
    cruise_mps, climb_mps, descent_mps = speeds
    pts, wvox = smooth(graph, route.voxels, blocked, origin, dest, router.sight)
    g_hi = grid.g_hi[wvox].astype(np.float64)
    g_lo = grid.cell_g_lo[grid.voxel_cell[wvox]].astype(np.float64)
    route.waypoints = [
        Waypoint(a, b, c, (c - hi, c - lo), v)
        for (a, b, c), hi, lo, v in zip(pts.tolist(), g_hi.tolist(), g_lo.tolist(), wvox.tolist())
    ]
    xyz = to_xyz(pts[:, 0], pts[:, 1])
    chord = np.linalg.norm(np.diff(xyz, axis=0), axis=1)
    horiz = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(chord / 2, 1.0))
    dz = np.diff(pts[:, 2])
    route.length_m = float(np.hypot(horiz, dz).sum())
    vt = np.where(dz > 0, dz / climb_mps, -dz / descent_mps)
    route.time_s = float(np.maximum(horiz / cruise_mps, vt).sum())
    # tier transitions count their ends (the first term)
    route.min_clearance_m = min(
        float(np.min(pts[:, 2] - g_hi)), legs_clearance(graph, pts, wvox, router.sight)
    )


def plan_route(
    graph: RouteGraph | Grid,
    origin: Point,
    dest: Point,
    *,
    tiers: Sequence[str] | None = None,
    min_height_m: float | None = None,
    max_height_m: float | None = None,
    no_go: Sequence[shapely.Geometry] = (),
    max_range_m: float | None = None,
    blocked_mask: np.ndarray | None = None,
    budget: int = DEFAULT_BUDGET,
    cruise_mps: float = 15.0,
    climb_mps: float = 5.0,
    descent_mps: float = 3.0,
    smooth_path: bool = True,
    strategy: Strategy | str = Strategy.AUTO,
    router: Router | None = None,
    pieces: np.ndarray | None = None,
) -> Route:
    """Plan a route between two points of a grid.

    A* over the CSR graph (:mod:`airgrid.routing.kernels.astar`: the heuristic and its
    admissibility), then line-of-sight smoothing (:func:`~airgrid.routing.search.smooth.smooth`).

    One piece: the public entry point; its length is the documentation of every option.

    Parameters
    ----------
    graph
        A :class:`~airgrid.routing.graph.RouteGraph`, or a Grid (its default-weight
        graph is built once and cached).
    origin, dest
        ``(lat, lon, alt_m_amsl)``, a dense voxel index, or a voxel id ``"<h3>:<layer>"``.
    tiers, min_height_m, max_height_m, no_go, max_range_m, blocked_mask
        Per-request constraints, see :class:`~airgrid.routing.search.constraints.Constraints`.
    budget
        Maximum A* expansions before giving up with ``BUDGET_EXHAUSTED``.
    cruise_mps, climb_mps, descent_mps
        Speeds for the flight time: each segment takes the longer of its horizontal
        time at cruise speed and its vertical time at climb/descent speed.
    smooth_path
        Compute waypoints, length, time and clearance (False: voxel path and cost only).
    strategy
        :class:`~airgrid.routing.search.strategy.Strategy` (default ``AUTO``: exact below :data:`~airgrid.routing.search.strategy.CORRIDOR_FROM_M`,
        fast beyond).
    router
        Search state, one per concurrent search (e.g. leased from a
        :class:`~airgrid.routing.search.router.RouterPool`; default: the graph's own).
    pieces
        Per node, its piece of the graph (:func:`~airgrid.routing.search.reach.pieces`)
        under a mask that the request's constraints block at least as much as: ends in
        different pieces are answered ``NO_ROUTE`` without a search.

    Returns
    -------
    Route
        ``FOUND``, ``NO_ROUTE`` or ``BUDGET_EXHAUSTED``. A found route longer than
        ``max_range_m`` is reported as ``NO_ROUTE`` with the reason.

    Raises
    ------
    PointOutsideGridError
        A point is outside the grid (or in no voxel).
    PointInTerrainError
        A point is inside terrain or a terrain-blocked voxel.
    PointBlockedError
        A point is in a voxel the request may not use.
    RouteConstraintError
        Malformed points or constraints.
    """
    gr = graph_for(graph)
    strategy = _checked_options((cruise_mps, climb_mps, descent_mps), budget, max_range_m, strategy)
    cons = Constraints(tiers, min_height_m, max_height_m, tuple(no_go), max_range_m, blocked_mask)
    blocked = constraint_mask(gr, cons)
    src, o_pt = resolve_point(gr, origin, blocked, "origin")
    dst, d_pt = resolve_point(gr, dest, blocked, "destination")
    return route_voxels(
        gr,
        src,
        dst,
        blocked,
        origin_xyz=o_pt,
        dest_xyz=d_pt,
        budget=budget,
        max_range_m=max_range_m,
        speeds=(cruise_mps, climb_mps, descent_mps),
        smooth_path=smooth_path,
        strategy=strategy,
        router=router,
        pieces=pieces,
    )


def _checked_options(
    speeds: tuple[float, float, float],
    budget: int,
    max_range_m: float | None,
    strategy: Strategy | str,
) -> Strategy:
    """The strategy of a :func:`plan_route` request, once its speeds, budget and range are valid.

    Raises
    ------
    RouteConstraintError
        A speed or the range not a positive number, the budget not a positive integer,
        or an unknown strategy.
    """
    for label, v in zip(("cruise_mps", "climb_mps", "descent_mps"), speeds):
        if not (math.isfinite(v) and v > 0):
            raise RouteConstraintError(f"{label} must be > 0")
    if not (isinstance(budget, (int, np.integer)) and budget > 0):
        raise RouteConstraintError(f"budget must be a positive integer, got {budget!r}")
    if max_range_m is not None and not (math.isfinite(max_range_m) and max_range_m > 0):
        raise RouteConstraintError("max_range_m must be > 0")
    try:
        return Strategy(strategy)
    except ValueError:
        raise RouteConstraintError(
            f"strategy must be one of {[m.value for m in Strategy]}, got {strategy!r}"
        ) from None


def route_voxels(
    graph: RouteGraph,
    src: int,
    dst: int,
    blocked: np.ndarray,
    *,
    origin_xyz: tuple | None = None,
    dest_xyz: tuple | None = None,
    budget: int = DEFAULT_BUDGET,
    max_range_m: float | None = None,
    speeds: tuple[float, float, float] = (15.0, 5.0, 3.0),
    smooth_path: bool = True,
    strategy: Strategy | str = Strategy.AUTO,
    router: Router | None = None,
    pieces: np.ndarray | None = None,
) -> Route:
    """Search and finish a route between two already validated voxels.

    The building block of :func:`plan_route` and multi-stop routing; arguments as
    there, ``blocked`` from :func:`~airgrid.routing.search.constraints.constraint_mask`, ``speeds`` = (cruise, climb,
    descent) m/s.
    """
    router = router if router is not None else router_for(graph)
    t0 = time.perf_counter()
    if pieces is not None and pieces[src] != pieces[dst]:
        st, cost, exp, path, bound = NO_ROUTE, math.inf, 0, np.empty(0, np.int32), math.inf
    else:
        st, cost, exp, path, bound = search_voxels(
            graph, src, dst, blocked, budget, max_range_m or 0.0, strategy, router
        )
    ms = (time.perf_counter() - t0) * 1e3
    if st == BUDGET:
        return Route(
            RouteStatus.BUDGET_EXHAUSTED,
            src,
            dst,
            expansions=exp,
            search_ms=ms,
            message=f"no route within the budget of {budget:,} expansions",
        )
    if st == NO_ROUTE:
        why = " within the maximum range" if max_range_m else ""
        return Route(
            RouteStatus.NO_ROUTE,
            src,
            dst,
            expansions=exp,
            search_ms=ms,
            message=f"origin and destination are not connected through usable voxels{why}",
        )
    route = Route(
        RouteStatus.FOUND,
        src,
        dst,
        cost=cost,
        voxels=path,
        expansions=exp,
        search_ms=ms,
        optimal=cost <= bound,
        cost_lower_bound=bound,
    )
    if smooth_path:
        _finish(graph, route, blocked, origin_xyz, dest_xyz, speeds, router)
        if max_range_m and route.length_m > max_range_m:
            return Route(
                RouteStatus.NO_ROUTE,
                src,
                dst,
                expansions=exp,
                search_ms=ms,
                message=f"the best route is {route.length_m / 1000:.1f} km, longer than the "
                f"maximum range {max_range_m / 1000:.1f} km",
            )
    return route
