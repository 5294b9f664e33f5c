"""Grid and terrain endpoints: tiers, voxel lookup, voxels of an area, elevation, profile."""

from __future__ import annotations

import itertools

import h3
import shapely
from shapely.geometry import shape

from airgrid.airspace.grid import Grid


def test_tiers_match_the_loaded_grid(client, auth, services):
    r = client.get("/v1/grid/tiers", headers=auth["operator"])
    assert r.status_code == 200
    body = r.json()
    assert [t["name"] for t in body["tiers"]] == ["T2", "T3", "T4"]
    summary = services.grid.tier_summary()
    assert [t["voxels"] for t in body["tiers"]] == [row["voxels"] for row in summary]
    assert body["clearance_m"] == services.grid.tiers.clearance_m


def test_voxel_at_point_is_the_one_that_contains_it(client, auth, services):
    grid: Grid = services.grid
    t2 = grid.tiers.index("T2")
    ci = int(
        grid.find_cells(
            [h3.str_to_int(h3.latlng_to_cell(28.2, 112.97, grid.tiers[t2].resolution))], t2
        )[0]
    )
    assert ci >= 0 and grid.cell_nlayers[ci] > 0  # T2 exists over this point
    loc_alt = (int(grid.cell_first_layer[ci]) + 0.5) * grid.tiers[t2].thickness_m
    r = client.get(
        "/v1/grid/voxel",
        params={"lon": 112.97, "lat": 28.2, "alt_m": loc_alt},
        headers=auth["planner"],
    )
    assert r.status_code == 200
    body = r.json()
    vox = body["voxel"]
    assert vox is not None and body["usable"] is True and body["reason"] == ""
    assert vox["floor_m"] <= loc_alt < vox["ceiling_m"]
    assert vox["cell"] == h3.latlng_to_cell(
        28.2, 112.97, grid.tiers[grid.tiers.index(vox["tier"])].resolution
    )
    assert grid.parse_voxel_id(vox["id"]) >= 0


def test_voxel_below_lowest_tier_answers_reason(client, auth):
    r = client.get(
        "/v1/grid/voxel",
        params={"lon": 112.97, "lat": 28.2, "alt_m": 100},
        headers=auth["operator"],
    )
    assert r.status_code == 200
    body = r.json()
    assert body["voxel"] is None and body["usable"] is False
    assert "below tier T2" in body["reason"]


def test_voxel_outside_area_is_404_problem(client, auth):
    r = client.get(
        "/v1/grid/voxel", params={"lon": 110.0, "lat": 28.2, "alt_m": 700}, headers=auth["operator"]
    )
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert "outside the grid's area" in r.json()["detail"]


def test_voxel_rejects_swapped_lat(client, auth):
    r = client.get(
        "/v1/grid/voxel",
        params={"lon": 28.2, "lat": 112.97, "alt_m": 700},
        headers=auth["operator"],
    )
    assert r.status_code == 422
    body = r.json()
    assert body["errors"][0]["loc"] == ["query", "lat"]


def test_voxels_of_an_area_are_hexagons_overlapping_it(client, auth, services):
    bbox = (113.0, 28.18, 113.03, 28.21)  # T4 exists over few cells; some are here
    r = client.get(
        "/v1/grid/voxels",
        params={"bbox": ",".join(map(str, bbox)), "tier": "T4"},
        headers=auth["operator"],
    )
    assert r.status_code == 200
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["features"]
    box = shapely.box(*bbox)
    ids = set()
    for f in fc["features"]:
        poly = shape(f["geometry"])
        assert poly.intersects(box)
        assert poly.exterior.is_ccw  # RFC 7946 right-hand rule
        assert f["properties"]["tier"] == "T4"
        assert f["properties"]["floor_m"] < f["properties"]["ceiling_m"]
        ids.add(f["id"])
    # every layer of every overlapping T4 cell is there, nothing else
    grid = services.grid
    t = grid.tiers.index("T4")
    sl = grid.tier_slice(t)
    expected = set()
    for ci in range(sl.start, sl.stop):
        cell = h3.int_to_str(int(grid.cell_id[ci]))
        hexagon = shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])
        if hexagon.intersects(box):
            expected |= {
                f"{cell}:{int(grid.cell_first_layer[ci]) + k}"
                for k in range(int(grid.cell_nlayers[ci]))
            }
    assert ids == expected


def test_voxels_over_the_voxel_limit_is_422(client, auth, services, monkeypatch):
    monkeypatch.setattr(services.settings, "max_query_voxels", 500)
    r = client.get(
        "/v1/grid/voxels", params={"bbox": "112.98,28.17,113.03,28.22"}, headers=auth["operator"]
    )
    assert r.status_code == 422
    assert r.json()["type"].endswith("limit-exceeded")
    assert "narrow the bbox" in r.json()["detail"]


def test_voxels_over_the_area_limit_is_422(client, auth):
    r = client.get("/v1/grid/voxels", params={"bbox": "112,28,114,29"}, headers=auth["operator"])
    assert r.status_code == 422
    assert "km²" in r.json()["detail"]


def test_voxels_bad_bbox(client, auth):
    for bad in ("1,2,3", "113,28,112,29", "a,b,c,d"):
        r = client.get("/v1/grid/voxels", params={"bbox": bad}, headers=auth["operator"])
        assert r.status_code == 422, bad
        assert r.headers["content-type"] == "application/problem+json"


def test_voxels_unknown_tier_is_422(client, auth):
    r = client.get(
        "/v1/grid/voxels",
        params={"bbox": "112.96,28.18,112.97,28.19", "tier": "T9"},
        headers=auth["operator"],
    )
    assert r.status_code == 422
    assert "T9" in r.json()["detail"]


def test_elevation_matches_dem(client, auth, services):
    r = client.get(
        "/v1/grid/elevation", params={"lon": 112.97, "lat": 28.2}, headers=auth["operator"]
    )
    assert r.status_code == 200
    assert abs(r.json()["elevation_m"] - float(services.dem.elevation(28.2, 112.97))) < 1e-9


def test_elevation_outside_dem_is_422(client, auth):
    r = client.get(
        "/v1/grid/elevation", params={"lon": 100.0, "lat": 28.2}, headers=auth["operator"]
    )
    assert r.status_code == 422
    assert "outside the DEM" in r.json()["detail"]


def test_profile_samples_evenly_and_ends_on_the_line(client, auth, services):
    line = [[112.93, 28.15], [112.96, 28.2], [113.02, 28.22]]
    r = client.post(
        "/v1/grid/profile",
        json={"line": {"type": "LineString", "coordinates": line}, "samples": 11},
        headers=auth["operator"],
    )
    assert r.status_code == 200
    body = r.json()
    pts = body["points"]
    assert len(pts) == 11
    assert pts[0]["distance_m"] == 0 and abs(pts[-1]["distance_m"] - body["length_m"]) < 1e-6
    steps = [b["distance_m"] - a["distance_m"] for a, b in itertools.pairwise(pts)]
    assert max(steps) - min(steps) < 1e-6
    assert (pts[-1]["lon"], pts[-1]["lat"]) == tuple(line[-1])
    for p in pts:
        assert abs(p["elevation_m"] - float(services.dem.elevation(p["lat"], p["lon"]))) < 1e-6
    assert body["max_elevation_m"] == max(p["elevation_m"] for p in pts)


def test_profile_limits_and_bad_lines(client, auth):
    h = auth["operator"]
    too_many = client.post(
        "/v1/grid/profile",
        headers=h,
        json={
            "line": {"type": "LineString", "coordinates": [[112.93, 28.15], [113.0, 28.2]]},
            "samples": 10_000,
        },
    )
    assert too_many.status_code == 422 and "limit" in too_many.json()["detail"]
    one_point = client.post(
        "/v1/grid/profile",
        headers=h,
        json={"line": {"type": "LineString", "coordinates": [[112.93, 28.15]]}},
    )
    assert one_point.status_code == 422
    zero = client.post(
        "/v1/grid/profile",
        headers=h,
        json={"line": {"type": "LineString", "coordinates": [[112.93, 28.15], [112.93, 28.15]]}},
    )
    assert zero.status_code == 422 and "zero length" in zero.json()["detail"]
    latlon = client.post(
        "/v1/grid/profile",
        headers=h,
        json={"line": {"type": "LineString", "coordinates": [[28.15, 112.93], [28.2, 113.0]]}},
    )
    assert latlon.status_code == 422 and "lon, lat" in latlon.json()["detail"]


def test_voxel_altitude_references(client, auth, services):
    """AGL resolves over the highest plausible ground of the finest cell; W84 through EGM96."""
    grid: Grid = services.grid
    _g_lo, g_hi = grid.ground_at(28.2, 112.97)
    agl = client.get(
        "/v1/grid/voxel",
        params={"lon": 112.97, "lat": 28.2, "alt_m": 150, "alt_ref": "AGL"},
        headers=auth["planner"],
    ).json()
    assert agl["alt_ref"] == "AGL" and abs(agl["alt_amsl_m"] - (g_hi + 150)) < 0.01
    assert "highest plausible ground" in agl["alt_resolution"]
    n = float(services.geoid.undulation(28.2, 112.97))
    w84 = client.get(
        "/v1/grid/voxel",
        params={"lon": 112.97, "lat": 28.2, "alt_m": 250, "alt_ref": "W84"},
        headers=auth["planner"],
    ).json()
    assert (
        abs(w84["alt_amsl_m"] - (250 - n)) < 0.01 and n < 0
    )  # the geoid lies below the ellipsoid here
    v = w84["voxel"] or agl["voxel"]
    assert v is not None and v["g_lo_m"] <= v["g_hi_m"]
    assert v["true_height_range_m"] == [
        round(v["floor_m"] - v["g_hi_m"], 1),
        round(v["ceiling_m"] - v["g_lo_m"], 1),
    ]
    bad = client.get(
        "/v1/grid/voxel",
        params={"lon": 112.97, "lat": 28.2, "alt_m": 250, "alt_ref": "QNH"},
        headers=auth["planner"],
    )
    assert bad.status_code == 422


def test_elevation_names_its_heights(client, auth, services):
    body = client.get(
        "/v1/grid/elevation", params={"lon": 112.97, "lat": 28.2}, headers=auth["planner"]
    ).json()
    assert body["g_lo_m"] <= body["elevation_m"] <= body["g_hi_m"]
    assert -20 < body["geoid_undulation_m"] < -13 and "relief" in body["dem_accuracy"]
