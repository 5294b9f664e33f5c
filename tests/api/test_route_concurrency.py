"""Concurrent route searches on one planner answer exactly as sequential ones."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import h3
import numpy as np

from airgrid.api.http.schemas.routes import RouteCreate


def _bodies(grid, n: int) -> list[RouteCreate]:
    t = grid.tiers.index("T2")
    ok = np.flatnonzero(grid.usable() & (grid.tier == t))
    rng = np.random.default_rng(8)
    out = []
    for _ in range(n):
        pts = []
        for v in rng.choice(ok, 2).tolist():
            lat, lon = h3.cell_to_latlng(h3.int_to_str(int(grid.cell[v])))
            pts.append({"type": "Point", "coordinates": [lon, lat, float(grid.floor[v]) + 10]})
        out.append(RouteCreate.model_validate({"origin": pts[0], "destination": pts[1]}))
    return out


def _answer(planner, body: RouteCreate):
    try:
        r = planner.plan(body.origin, body.destination, body, None)
    except Exception as e:  # the same refusal either way
        return type(e).__name__, str(e)
    return (
        r.cost,
        r.voxels.tolist(),
        [(w.lat, w.lon, w.alt_m) for w in r.waypoints],
        r.min_clearance_m,
    )


def test_concurrent_routes_on_one_planner_match_sequential_ones(services):
    """Four threads at once on a planner with a pool of search states give, request for
    request, the costs, voxel paths, waypoints and clearances of one-at-a-time planning."""
    planner = services.routing
    planner.landmarks_ready(None)  # the same heuristic throughout (ties break alike)
    assert planner.pool.size == services.settings.route_workers
    bodies = _bodies(services.grid, 24)
    want = [_answer(planner, b) for b in bodies]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda b: _answer(planner, b), bodies))
    assert got == want
    assert sum(isinstance(w[0], float) for w in want) >= 12
