"""Routes keep off the edge of the served area, so an intent around a route lies in it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import h3
import numpy as np
import shapely
from pyproj import Transformer

from airgrid.airspace.grid.served import ROUTE_AREA_MARGIN_M, border_voxels, served_area
from tests.api.conftest import BBOX


def _pt(lon: float, lat: float, alt: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat, alt]}


def test_cells_left_to_routes_lie_the_margin_inside_the_area(services):
    """Independent check in UTM zone 49N (EPSG:32649, pyproj), not the module's plane:
    every cell with a voxel left to routes is inside the area and at least the margin
    (less 0.5 m for the projections' scale difference) from its edge."""
    grid = services.grid
    border = border_voxels(grid)
    assert border.any() and not border.all()
    to_utm = Transformer.from_crs(4326, 32649, always_xy=True)
    area = served_area(grid)
    area_m = shapely.transform(area, lambda xy: np.column_stack(to_utm.transform(*xy.T)))
    edge = area_m.boundary
    kept = np.unique(grid.cell[~border])
    assert len(kept) > 100
    for cell in kept:
        ring = np.array(h3.cell_to_boundary(h3.int_to_str(int(cell))))
        x, y = to_utm.transform(ring[:, 1], ring[:, 0])
        hexagon = shapely.polygons(np.column_stack([x, y]))
        assert area_m.covers(hexagon)
        assert edge.distance(hexagon) >= ROUTE_AREA_MARGIN_M - 0.5
    # and the voxels of a cell are all kept or all left out
    starts = grid.cell_start.astype(np.int64)
    per_cell = np.add.reduceat(border.astype(np.int64), starts[:-1][np.diff(starts) > 0])
    sizes = np.diff(starts)[np.diff(starts) > 0]
    assert np.all((per_cell == 0) | (per_cell == sizes))


def test_a_route_near_the_edge_gives_an_intent_inside_the_area(client, auth, services):
    """A route 400 m inside the east edge of the grid's box is planned off the edge cells,
    and its intent (default tube) is accepted; an origin 30 m inside the edge is refused
    before any search, where it used to give a route whose intent left the area."""
    east = BBOX[2]
    lon = east - 400 / (111_320 * np.cos(np.radians(28.18)))
    alt = 250.0  # T2 (the ground is about 50 m AMSL there)
    r = client.post(
        "/v1/routes",
        json={"origin": _pt(lon, 28.16, alt), "destination": _pt(lon, 28.21, alt)},
        headers=auth["operator"],
    )
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    grid = services.grid
    assert not border_voxels(grid)[[grid.parse_voxel_id(v) for v in props["voxels"]]].any()
    coords = r.json()["geometry"]["coordinates"]
    t0 = 3_600 * (1 + int(time.time()) // 3_600)
    waypoints = [
        {
            "lon": c[0],
            "lat": c[1],
            "alt_m": c[2],
            "time": datetime.fromtimestamp(t0 + 30 * k, UTC).isoformat(),
        }
        for k, c in enumerate(coords)
    ]
    a = client.post(
        "/v1/intents",
        json={"tier": "T2", "route": {"waypoints": waypoints}},
        headers=auth["operator"],
    )
    assert a.status_code == 201, a.text
    near = east - 30 / (111_320 * np.cos(np.radians(28.18)))
    e = client.post(
        "/v1/routes",
        json={"origin": _pt(near, 28.185, alt), "destination": _pt(lon, 28.21, alt)},
        headers=auth["operator"],
    )
    assert e.status_code == 422, e.text
    assert "edge of the served area" in e.json()["detail"]
