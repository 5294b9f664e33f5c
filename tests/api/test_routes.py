"""Route endpoints: single and multi-stop routes as GeoJSON, limits, geofence avoidance."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from shapely.geometry import shape

from airgrid.api.http.routes.routes import route_feature
from airgrid.api.http.schemas.routes import RouteCreate, RouteFeature
from tests.api.conftest import DEST, ORIGIN, fence


def _pt(c):
    return {"type": "Point", "coordinates": c}


def test_single_route_is_a_3d_linestring_from_origin_to_destination(client, auth, services):
    r = client.post(
        "/v1/routes",
        json={"origin": _pt(ORIGIN), "destination": _pt(DEST)},
        headers=auth["planner"],
    )
    assert r.status_code == 200, r.text
    f = r.json()
    assert f["type"] == "Feature" and f["geometry"]["type"] == "LineString"
    coords = f["geometry"]["coordinates"]
    assert coords[0] == ORIGIN and coords[-1] == DEST
    assert all(len(c) == 3 for c in coords)
    p = f["properties"]
    assert p["status"] == "found" and p["length_m"] > 0 and p["time_s"] > 0
    grid = services.grid
    vox = [grid.parse_voxel_id(v) for v in p["voxels"]]
    assert all(grid.usable()[v] for v in vox)
    assert p["voxels"] == [grid.voxel_id(v) for v in vox]  # the grid's own spelling
    assert p["voxels"][0] == grid.voxel_id(grid.locate(ORIGIN[1], ORIGIN[0], ORIGIN[2]).voxel)
    assert p["voxels"][-1] == grid.voxel_id(grid.locate(DEST[1], DEST[0], DEST[2]).voxel)
    assert p["min_clearance_m"] >= grid.tiers.clearance_m


def test_route_strategy_exact_and_fast(client, auth):
    body = {"origin": _pt(ORIGIN), "destination": _pt(DEST)}
    exact = client.post("/v1/routes", json=body | {"strategy": "exact"}, headers=auth["planner"])
    corr = client.post("/v1/routes", json=body | {"strategy": "fast"}, headers=auth["planner"])
    assert exact.status_code == corr.status_code == 200, (exact.text, corr.text)
    pe, pc = exact.json()["properties"], corr.json()["properties"]
    assert pe["optimal"] is True and pe["cost_lower_bound"] <= pe["cost"]
    assert pc["cost"] >= pe["cost"] * (1 - 1e-9) and pc["cost_lower_bound"] <= pe["cost"] * (
        1 + 1e-9
    )
    bad = client.post("/v1/routes", json=body | {"strategy": "fastest"}, headers=auth["planner"])
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert "strategy" in bad.text


def test_landmarks_arrive_in_the_background_and_change_no_route(client, auth, services):
    body = {"origin": _pt(ORIGIN), "destination": _pt(DEST), "strategy": "exact"}
    first = client.post("/v1/routes", json=body, headers=auth["planner"]).json()["properties"]
    assert services.routing.landmarks_ready(timeout_s=None)
    g = services.routing.graph
    assert len(g.landmarks) > 0 and g.lm.shape == (g.n_nodes, 2 * len(g.landmarks))
    assert np.isfinite(g.lm[g.landmarks, np.arange(len(g.landmarks))]).all()
    again = client.post("/v1/routes", json=body, headers=auth["planner"]).json()["properties"]
    assert again["cost"] == pytest.approx(first["cost"], rel=1e-9)
    assert again["voxels"][0] == first["voxels"][0] and again["voxels"][-1] == first["voxels"][-1]


def test_route_avoids_a_prohibited_geofence(client, auth):
    body = {"origin": _pt(ORIGIN), "destination": _pt(DEST)}
    before = client.post("/v1/routes", json=body, headers=auth["planner"]).json()
    w = client.post(
        "/v1/geofences", json=fence("BLOCK", 112.965, 28.165, 0.02), headers=auth["regulator"]
    )
    assert w.status_code == 201
    after = client.post("/v1/routes", json=body, headers=auth["planner"])
    assert after.status_code == 200
    fp = shape(fence("BLOCK", 112.965, 28.165, 0.02)["geometry"])
    assert shape(before["geometry"]).intersects(fp)
    line = shape(after.json()["geometry"])
    assert not line.intersects(fp)
    assert after.json()["properties"]["length_m"] > before["properties"]["length_m"]


def test_route_with_departure_ignores_geofence_inactive_then(client, auth):
    f = fence(
        "LATER",
        112.965,
        28.165,
        0.02,
        valid_from="2030-01-01T00:00:00Z",
        valid_to="2030-01-02T00:00:00Z",
    )
    assert client.post("/v1/geofences", json=f, headers=auth["admin"]).status_code == 201
    body = {"origin": _pt(ORIGIN), "destination": _pt(DEST), "departure": "2026-11-25T08:00:00Z"}
    r = client.post("/v1/routes", json=body, headers=auth["operator"])
    assert shape(r.json()["geometry"]).intersects(shape(f["geometry"]))
    body["departure"] = "2030-01-01T01:00:00Z"
    r = client.post("/v1/routes", json=body, headers=auth["operator"])
    assert not shape(r.json()["geometry"]).intersects(shape(f["geometry"]))


def test_multi_stop_route_visits_every_stop_and_returns(client, auth):
    stops = [DEST, [112.97, 28.22, 240.0], [112.93, 28.22, 280.0]]
    body = {"depot": _pt(ORIGIN), "stops": [_pt(s) for s in stops]}
    r = client.post("/v1/routes/multi", json=body, headers=auth["planner"])
    assert r.status_code == 200, r.text
    fc = r.json()
    props = fc["properties"]
    assert sorted(props["order"]) == [0, 1, 2] and props["exact"] is True and props["legs"] == 4
    seq = [-1, *props["order"], -1]
    where = {-1: ORIGIN, **dict(enumerate(stops))}
    for k, f in enumerate(fc["features"]):
        p = f["properties"]
        assert (p["leg"], p["from_stop"], p["to_stop"]) == (k, seq[k], seq[k + 1])
        assert f["geometry"]["coordinates"][0] == where[seq[k]]
        assert f["geometry"]["coordinates"][-1] == where[seq[k + 1]]
    assert math.isclose(props["length_m"], sum(f["properties"]["length_m"] for f in fc["features"]))
    one_way = client.post(
        "/v1/routes/multi", json={**body, "return_to_depot": False}, headers=auth["planner"]
    )
    assert one_way.json()["properties"]["legs"] == 3


def test_route_errors(client, auth, services, monkeypatch):
    h = auth["planner"]
    outside = client.post(
        "/v1/routes",
        json={"origin": _pt([110.0, 28.0, 1000.0]), "destination": _pt(DEST)},
        headers=h,
    )
    assert outside.status_code == 404 and "outside" in outside.json()["detail"]
    terrain = client.post(
        "/v1/routes",
        json={"origin": _pt([113.0, 28.2, 100.0]), "destination": _pt(DEST)},
        headers=h,
    )
    assert terrain.status_code == 422 and "terrain" in terrain.json()["detail"]
    no_alt = client.post(
        "/v1/routes", json={"origin": _pt([112.95, 28.15]), "destination": _pt(DEST)}, headers=h
    )
    assert no_alt.status_code == 422 and "alt_m" in no_alt.json()["detail"]
    budget = client.post(
        "/v1/routes", json={"origin": _pt(ORIGIN), "destination": _pt(DEST), "budget": 3}, headers=h
    )
    assert budget.status_code == 422 and budget.json()["type"].endswith("limit-exceeded")
    over = client.post(
        "/v1/routes",
        json={
            "origin": _pt(ORIGIN),
            "destination": _pt(DEST),
            "budget": services.settings.search_budget + 1,
        },
        headers=h,
    )
    assert over.status_code == 422 and "search budget" in over.json()["detail"]
    monkeypatch.setattr(services.settings, "max_route_km", 1.0)
    far = client.post(
        "/v1/routes", json={"origin": _pt(ORIGIN), "destination": _pt(DEST)}, headers=h
    )
    assert far.status_code == 422 and "km" in far.json()["detail"]
    monkeypatch.setattr(services.settings, "max_route_stops", 2)
    many = client.post(
        "/v1/routes/multi", json={"depot": _pt(ORIGIN), "stops": [_pt(DEST)] * 3}, headers=h
    )
    assert many.status_code == 422 and "stops" in many.json()["detail"]


def test_no_route_when_the_destination_is_walled_in(client, auth):
    outer = [[112.96, 28.16], [113.06, 28.16], [113.06, 28.26], [112.96, 28.26], [112.96, 28.16]]
    hole = [
        [112.985, 28.185],
        [113.015, 28.185],
        [113.015, 28.215],
        [112.985, 28.215],
        [112.985, 28.185],
    ]
    wall = {"type": "Polygon", "coordinates": [outer, hole]}
    r = client.post(
        "/v1/routes",
        json={"origin": _pt([112.93, 28.22, 280.0]), "destination": _pt(DEST), "no_go": [wall]},
        headers=auth["planner"],
    )
    assert r.status_code == 422
    assert "not connected" in r.json()["detail"]
    tour = client.post(
        "/v1/routes/multi",
        json={"depot": _pt([112.93, 28.22, 280.0]), "stops": [_pt(DEST)], "no_go": [wall]},
        headers=auth["planner"],
    )
    assert tour.status_code == 422 and "unreachable" in tour.json()["detail"]


def test_route_points_in_w84_are_converted_with_the_geoid(client, auth, services):
    geoid = services.geoid
    w84 = [
        [c[0], c[1], round(c[2] + float(geoid.undulation(c[1], c[0])), 3)] for c in (ORIGIN, DEST)
    ]
    r = client.post(
        "/v1/routes",
        json={"origin": _pt(w84[0]), "destination": _pt(w84[1]), "alt_ref": "W84"},
        headers=auth["planner"],
    )
    assert r.status_code == 200, r.text
    coords = r.json()["geometry"]["coordinates"]
    assert abs(coords[0][2] - ORIGIN[2]) < 0.01 and abs(coords[-1][2] - DEST[2]) < 0.01


def test_route_points_in_agl_sit_over_the_highest_plausible_ground(client, auth, services):
    g = services.grid
    heights = []
    for c in (ORIGIN, DEST):
        _, g_hi = g.ground_at(c[1], c[0])
        heights.append(c[2] - g_hi)  # the same altitudes, as heights over g_hi
    body = {
        "origin": _pt([ORIGIN[0], ORIGIN[1], heights[0]]),
        "destination": _pt([DEST[0], DEST[1], heights[1]]),
        "alt_ref": "AGL",
    }
    r = client.post("/v1/routes", json=body, headers=auth["planner"])
    assert r.status_code == 200, r.text
    coords = r.json()["geometry"]["coordinates"]
    assert abs(coords[0][2] - ORIGIN[2]) < 0.1 and abs(coords[-1][2] - DEST[2]) < 0.1


def test_route_features_built_unvalidated_serialise_as_the_validated_models(services):
    body = RouteCreate.model_validate({"origin": _pt(ORIGIN), "destination": _pt(DEST)})
    blocked = services.geofences.route_mask(
        services.grid, None, services.settings.route_geofence_horizon_s
    )
    route = services.routing.plan(body.origin, body.destination, body, blocked)
    assert route.found and len(route.waypoints) >= 2
    for stops in ({}, {"leg": 2, "from_stop": 0, "to_stop": -1}):
        fast = route_feature(services.grid, route, services.dem, **stops)
        # every field given, none left to its default
        for model in (fast, fast.geometry, fast.properties):
            assert model.model_fields_set == set(type(model).model_fields)
        checked = RouteFeature.model_validate(fast.model_dump())
        assert fast.model_dump_json(by_alias=True) == checked.model_dump_json(by_alias=True)
        p = json.loads(fast.model_dump_json())["properties"]
        assert (p["expansions"], p["cost"], p["optimal"]) == (
            route.expansions,
            route.cost,
            route.optimal,
        )
        assert [p[k] for k in ("leg", "from_stop", "to_stop")] == [
            stops.get(k) for k in ("leg", "from_stop", "to_stop")
        ]
