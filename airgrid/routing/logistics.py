"""Multi-stop logistics routes: a depot, drop points, a good visiting order, legs by A*.

The leg cost matrix comes from batch A* (all ordered pairs, both cores); the order is
exact (Held-Karp dynamic programming) for up to :data:`EXACT_MAX_STOPS` stops and
nearest neighbour improved by 2-opt beyond.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely

from airgrid.airspace.grid import Grid
from airgrid.routing.errors import RouteConstraintError
from airgrid.routing.graph import RouteGraph
from airgrid.routing.kernels.status import BUDGET, FOUND
from airgrid.routing.search.constraints import Constraints, constraint_mask
from airgrid.routing.search.plan import route_voxels
from airgrid.routing.search.points import resolve_point
from airgrid.routing.search.route import DEFAULT_BUDGET, Point, Route, RouteStatus
from airgrid.routing.search.router import graph_for, router_for

#: Up to this many stops the order is exact (Held-Karp, O(2^n n^2)).
EXACT_MAX_STOPS = 8
#: Most stops one request may carry.
MAX_STOPS = 30


@dataclass
class MultiStopRoute:
    """A depot-to-stops route.

    Attributes
    ----------
    status
        ``FOUND`` when every leg was found; otherwise the first failing outcome.
    order
        Visiting order as indices into the request's ``stops``.
    legs
        One :class:`~airgrid.routing.search.route.Route` per leg (depot -> first stop -> ...
        [-> depot]).
    return_to_depot
        Whether the tour closes at the depot.
    exact
        Whether the order is proven optimal for the leg cost matrix.
    cost_matrix
        Leg costs between [depot, *stops] (inf where unreachable).
    message
        Explanation when not found.
    """

    status: RouteStatus
    order: list[int]
    legs: list[Route] = field(default_factory=list)
    return_to_depot: bool = True
    exact: bool = True
    cost_matrix: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    message: str = ""

    @property
    def total_cost(self) -> float:
        """Sum of leg costs."""
        return float(sum(leg.cost for leg in self.legs)) if self.legs else math.inf

    @property
    def total_length_m(self) -> float:
        """Sum of smoothed leg lengths."""
        return float(sum(leg.length_m for leg in self.legs))

    @property
    def total_time_s(self) -> float:
        """Sum of leg flight times."""
        return float(sum(leg.time_s for leg in self.legs))

    def to_geojson(self) -> dict:
        """GeoJSON FeatureCollection: one LineString Z feature per leg."""
        feats = []
        seq = [-1] + self.order + ([-1] if self.return_to_depot else [])
        for k, leg in enumerate(self.legs):
            f = leg.to_geojson()
            f["properties"].update(leg=k, from_stop=seq[k], to_stop=seq[k + 1])
            feats.append(f)
        return {
            "type": "FeatureCollection",
            "features": feats,
            "properties": {
                "status": self.status.value,
                "order": self.order,
                "exact": self.exact,
                "total_length_m": self.total_length_m,
                "total_time_s": self.total_time_s,
            },
        }


def tour_cost(cost: np.ndarray, order: Sequence[int], return_to_depot: bool) -> float:
    """Cost of visiting stops ``order`` (1-based rows of ``cost``; row 0 is the depot)."""
    seq = [0, *order] + ([0] if return_to_depot else [])
    return float(sum(cost[a, b] for a, b in itertools.pairwise(seq)))


def held_karp(cost: np.ndarray, return_to_depot: bool) -> tuple[list[int], float]:
    """Exact best order of stops 1..n from depot 0 (Held & Karp 1962 dynamic programming).

    Returns
    -------
    order : list[int]
        Stops (1-based matrix rows) in visiting order.
    cost : float
        Its cost (inf if no finite tour exists).
    """
    n = cost.shape[0] - 1
    if n == 0:
        return [], 0.0
    full = (1 << n) - 1
    best = np.full((1 << n, n), math.inf)
    back = np.full((1 << n, n), -1, np.int64)
    for j in range(n):
        best[1 << j, j] = cost[0, j + 1]
    for mask in range(1, full + 1):
        for j in range(n):
            if not mask & (1 << j) or not math.isfinite(best[mask, j]):
                continue
            for k in range(n):
                if mask & (1 << k):
                    continue
                nm = mask | (1 << k)
                c = best[mask, j] + cost[j + 1, k + 1]
                if c < best[nm, k]:
                    best[nm, k] = c
                    back[nm, k] = j
    ends = best[full] + (cost[1:, 0] if return_to_depot else 0.0)
    j = int(np.argmin(ends))
    total = float(ends[j])
    if not math.isfinite(total):
        return list(range(1, n + 1)), math.inf
    order, mask = [], full
    while j >= 0:
        order.append(j + 1)
        j, mask = int(back[mask, j]), mask & ~(1 << j)
    return order[::-1], total


def nearest_neighbour_2opt(cost: np.ndarray, return_to_depot: bool) -> tuple[list[int], float]:
    """Nearest-neighbour order from the depot, improved by 2-opt until no move helps.

    Costs may be asymmetric (climbs cost more than descents), so each 2-opt move is
    scored by the full tour cost of the reversed order.
    """
    n = cost.shape[0] - 1
    left = set(range(1, n + 1))
    order, cur = [], 0
    while left:
        nxt = min(left, key=lambda k: (cost[cur, k], k))
        order.append(nxt)
        left.remove(nxt)
        cur = nxt
    best = tour_cost(cost, order, return_to_depot)
    improved = True
    while improved:
        improved = False
        for i, j in itertools.combinations(range(n), 2):
            cand = order[:i] + order[i : j + 1][::-1] + order[j + 1 :]
            c = tour_cost(cost, cand, return_to_depot)
            if c < best - 1e-9:
                order, best, improved = cand, c, True
    return order, best


def plan_multi_stop(
    graph: RouteGraph | Grid,
    depot: Point,
    stops: Sequence[Point],
    *,
    return_to_depot: bool = True,
    tiers: Sequence[str] | None = None,
    min_height_m: float | None = None,
    max_height_m: float | None = None,
    no_go: Sequence[shapely.Geometry] = (),
    blocked_mask: np.ndarray | None = None,
    budget: int = DEFAULT_BUDGET,
    cruise_mps: float = 15.0,
    climb_mps: float = 5.0,
    descent_mps: float = 3.0,
) -> MultiStopRoute:
    """Plan a depot -> stops [-> depot] route.

    Parameters
    ----------
    graph
        Routing graph (or a Grid, see :func:`~airgrid.routing.search.plan.plan_route`).
    depot, stops
        Points as accepted by :func:`~airgrid.routing.search.plan.plan_route`; 1 to
        :data:`MAX_STOPS` stops.
    return_to_depot
        Close the tour at the depot.
    tiers, min_height_m, max_height_m, no_go, blocked_mask, budget, cruise_mps, climb_mps, descent_mps
        As for :func:`~airgrid.routing.search.plan.plan_route` (applied to every leg).

    Returns
    -------
    MultiStopRoute

    Raises
    ------
    RouteConstraintError
        No stops or too many.
    airgrid.routing.errors.RoutingError
        A depot or stop outside the grid, in terrain or blocked.

    Notes
    -----
    Leg costs for all ordered pairs come from one batch A* call; the order minimises
    the sum of leg costs (Held & Karp 1962 for <= 8 stops, otherwise nearest neighbour
    plus 2-opt, Croes 1958), then each chosen leg is routed and smoothed.
    """
    gr = graph_for(graph)
    if not 1 <= len(stops) <= MAX_STOPS:
        raise RouteConstraintError(f"give 1 to {MAX_STOPS} stops, got {len(stops)}")
    blocked = constraint_mask(
        gr, Constraints(tiers, min_height_m, max_height_m, tuple(no_go), None, blocked_mask)
    )
    pts = [resolve_point(gr, depot, blocked, "depot")]
    pts += [resolve_point(gr, p, blocked, f"stop {i + 1}") for i, p in enumerate(stops)]
    vox = np.array([v for v, _ in pts], np.int32)
    cost, status = _leg_costs(gr, vox, blocked, budget)
    exact = len(vox) - 1 <= EXACT_MAX_STOPS
    order, total = (
        held_karp(cost, return_to_depot) if exact else nearest_neighbour_2opt(cost, return_to_depot)
    )
    order0 = [k - 1 for k in order]
    if not math.isfinite(total):
        return _unroutable(cost, status, order0, return_to_depot, exact)
    seq = [0, *order] + ([0] if return_to_depot else [])
    legs = [
        route_voxels(
            gr,
            int(vox[a]),
            int(vox[b]),
            blocked,
            origin_xyz=pts[a][1],
            dest_xyz=pts[b][1],
            budget=budget,
            speeds=(cruise_mps, climb_mps, descent_mps),
        )
        for a, b in itertools.pairwise(seq)
    ]
    return MultiStopRoute(RouteStatus.FOUND, order0, legs, return_to_depot, exact, cost)


def _leg_costs(
    gr: RouteGraph, vox: np.ndarray, blocked: np.ndarray, budget: int
) -> tuple[np.ndarray, np.ndarray]:
    """Costs between every ordered pair of the voxels (inf where not found), from one batch
    A* call, and the batch's status per pair (pairs in row-major order, diagonal left out).
    """
    m = len(vox)
    ii, jj = np.nonzero(~np.eye(m, dtype=bool))
    status, cst, _ = router_for(gr).batch(vox[ii], vox[jj], blocked, budget)
    cost = np.zeros((m, m))
    cost[ii, jj] = np.where(status == FOUND, cst, math.inf)
    return cost, status


def _unroutable(
    cost: np.ndarray, status: np.ndarray, order0: list[int], return_to_depot: bool, exact: bool
) -> MultiStopRoute:
    """The result of a tour no order completes: out of budget, or stops unreachable."""
    exhausted = bool((status == BUDGET).any())
    unreachable = sorted({int(k) for k in range(1, len(cost)) if not np.isfinite(cost[0, k])})
    msg = (
        "some legs exhausted the search budget"
        if exhausted
        else "no order visits every stop through usable voxels"
        + (f"; unreachable from the depot: stops {unreachable}" if unreachable else "")
    )
    return MultiStopRoute(
        RouteStatus.BUDGET_EXHAUSTED if exhausted else RouteStatus.NO_ROUTE,
        order0,
        return_to_depot=return_to_depot,
        exact=exact,
        cost_matrix=cost,
        message=msg,
    )


__all__ = [
    "EXACT_MAX_STOPS",
    "MAX_STOPS",
    "MultiStopRoute",
    "held_karp",
    "nearest_neighbour_2opt",
    "plan_multi_stop",
    "tour_cost",
]
