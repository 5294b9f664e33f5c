"""Found routes stay in their tier's band of true height, checked against the DEM itself.

Issue #11: sample every 50 m along found routes in each tier, over flat land
(Changsha) and hills (Hengshan, Wulingyuan); at every sample the altitude minus the
DEM's bilinear ground lies inside the tier's band. The DEM's bilinear height is an
independent reading of the ground: the grid only ever saw it through the touched
pixels and their margins.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pyproj import Geod

from airgrid.airspace.grid import Grid, TierTable, area_from_bbox, build_grid
from airgrid.routing import build_graph, plan_route
from airgrid.terrain import Dem

GEOD = Geod(ellps="WGS84")
AREAS = {
    "changsha": (112.93, 28.13, 113.03, 28.23),  # the Xiang plain, downtown
    "hengshan": (
        112.62,
        27.2,
        112.9,
        27.38,
    ),  # Mount Heng (Zhurong Peak 1300 m) and its eastern foothills
    "wulingyuan": (110.42, 29.30, 110.56, 29.42),  # Wulingyuan sandstone pillars
}


@pytest.fixture(scope="module", params=sorted(AREAS))
def area_grid(request, real_dem: Dem) -> tuple[str, Grid]:
    return request.param, build_grid(area_from_bbox(*AREAS[request.param]), real_dem, TierTable())


def _samples(waypoints: list, step_m: float = 50.0) -> np.ndarray:
    """(lat, lon, alt) at least every ``step_m`` metres along the polyline, ends included.

    Segments are a few kilometres at most, so linear steps in lon/lat stay within a
    metre of the geodesic.
    """
    out = []
    for a, b in itertools.pairwise(waypoints):
        _, _, d = GEOD.inv(a.lon, a.lat, b.lon, b.lat)
        f = np.linspace(0.0, 1.0, max(int(np.ceil(d / step_m)), 1) + 1)
        out.append(
            np.c_[
                a.lat + f * (b.lat - a.lat),
                a.lon + f * (b.lon - a.lon),
                a.alt_m + f * (b.alt_m - a.alt_m),
            ]
        )
    return np.concatenate(out)


def test_found_routes_stay_in_band_over_the_bilinear_dem(area_grid, real_dem: Dem) -> None:
    name, grid = area_grid
    graph = build_graph(grid)
    rng = np.random.default_rng(11)
    checked = {}
    usable = grid.usable()
    for t, tier in enumerate(grid.tiers):
        cand = np.flatnonzero(usable & (grid.tier == t))
        if len(cand) < 2:
            continue
        for _ in range(12):
            o, d = (int(v) for v in rng.choice(cand, 2, replace=False))
            route = plan_route(graph, o, d, tiers=[tier.name])
            if not route.found or len(route.waypoints) < 2:
                continue
            s = _samples(route.waypoints)
            height = s[:, 2] - real_dem.elevation(s[:, 0], s[:, 1])
            assert height.min() >= tier.lower_m, (name, tier.name, float(height.min()))
            assert height.max() <= tier.upper_m, (name, tier.name, float(height.max()))
            checked[tier.name] = checked.get(tier.name, 0) + len(s)
            if checked[tier.name] > 200:
                break
    if not usable.any():
        # no band can be certified anywhere here: the grid must say so, not guess
        west, south, east, north = AREAS[name]
        for alt in (300.0, 800.0, 1500.0):
            assert "absent" in grid.locate((south + north) / 2, (west + east) / 2, alt).reason
        return
    # the test must see real routes in the tiers that exist there
    assert sum(checked.values()) > 200, (name, checked)
