"""Geofence endpoints: write, list/filter, import/export, point/track/plan checks."""

from __future__ import annotations

import itertools

from tests.api.conftest import fence, square, volume


def _ids(fc: dict) -> list[str]:
    return [f["properties"]["identifier"] for f in fc["features"]]


def test_create_get_replace_delete(client, auth):
    h = auth["regulator"]
    r = client.post("/v1/geofences", json=fence("F1", name="range"), headers=h)
    assert r.status_code == 201
    assert r.json()["geofence"]["properties"]["name"] == "range"
    assert client.post("/v1/geofences", json=fence("F1"), headers=h).status_code == 409
    got = client.get("/v1/geofences/F1", headers=auth["operator"])
    assert got.status_code == 200 and got.json()["geometry"]["coordinates"] == square(
        112.96, 28.16, 0.03
    )
    put = client.put(
        "/v1/geofences/F1", json=fence("F1", name="renamed", category="advisory"), headers=h
    )
    assert put.status_code == 200 and put.json()["geofence"]["properties"]["category"] == "advisory"
    assert client.get("/v1/geofences/F1", headers=h).json()["properties"]["name"] == "renamed"
    assert client.put("/v1/geofences/F2", json=fence("F2"), headers=h).status_code == 404
    mismatch = client.put("/v1/geofences/F1", json=fence("OTHER"), headers=h)
    assert mismatch.status_code == 422 and "differs" in mismatch.json()["detail"]
    assert client.delete("/v1/geofences/F1", headers=h).status_code == 204
    assert client.get("/v1/geofences/F1", headers=h).status_code == 404
    assert client.delete("/v1/geofences/F1", headers=h).status_code == 404


def test_clockwise_ring_is_stored_right_hand(client, auth):
    f = fence("CW")
    f["geometry"]["coordinates"] = [list(reversed(f["geometry"]["coordinates"][0]))]
    r = client.post("/v1/geofences", json=f, headers=auth["admin"])
    assert r.status_code == 201
    ring = r.json()["geofence"]["geometry"]["coordinates"][0]
    area2 = sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring))
    assert area2 > 0  # counter-clockwise exterior (RFC 7946)


def test_invalid_geofences_are_422_naming_the_fault(client, auth):
    h = auth["regulator"]
    bow = fence("BOW")
    bow["geometry"]["coordinates"] = [
        [[112.9, 28.1], [113.0, 28.2], [113.0, 28.1], [112.9, 28.2], [112.9, 28.1]]
    ]
    r = client.post("/v1/geofences", json=bow, headers=h)
    assert r.status_code == 422 and "intersects itself" in r.json()["detail"]
    upside = client.post("/v1/geofences", json=fence("UP", lower_m=500, upper_m=100), headers=h)
    assert upside.status_code == 422 and "not below" in upside.json()["detail"]
    open_ring = fence("OPEN")
    open_ring["geometry"]["coordinates"][0].pop()
    r = client.post("/v1/geofences", json=open_ring, headers=h)
    assert r.status_code == 422 and "closed" in r.json()["detail"]


def test_vertex_limit(client, auth, services, monkeypatch):
    monkeypatch.setattr(services.settings, "max_polygon_vertices", 3)
    r = client.post("/v1/geofences", json=fence("BIG"), headers=auth["regulator"])
    assert r.status_code == 422 and "limit" in r.json()["detail"]


def test_list_filters_by_bbox_time_and_category(client, auth):
    h = auth["regulator"]
    client.post("/v1/geofences", json=fence("A", 112.96, 28.16, 0.01), headers=h)
    client.post("/v1/geofences", json=fence("B", 113.5, 28.5, 0.01, category="advisory"), headers=h)
    client.post(
        "/v1/geofences",
        json=fence(
            "C",
            112.96,
            28.16,
            0.01,
            valid_from="2026-12-01T00:00:00Z",
            valid_to="2026-12-02T00:00:00Z",
        ),
        headers=h,
    )

    def get(**q):
        return _ids(client.get("/v1/geofences", params=q, headers=auth["operator"]).json())

    assert get() == ["A", "B", "C"]
    assert get(bbox="112.9,28.1,113.0,28.2") == ["A", "C"]
    assert get(category="advisory") == ["B"]
    assert get(active_at="2026-11-25T00:00:00Z") == ["A", "B"]
    assert get(active_from="2026-12-01T12:00:00Z", active_to="2026-12-03T00:00:00Z") == [
        "A",
        "B",
        "C",
    ]
    bad = client.get("/v1/geofences", params={"active_from": "2026-12-01T12:00:00Z"}, headers=h)
    assert bad.status_code == 422 and "active_to" in bad.json()["detail"]


def test_export_import_round_trip_geojson_ed269_and_ed318(client, auth):
    h = auth["regulator"]
    client.post(
        "/v1/geofences",
        json=fence("A", daily_periods=[{"days": ["MON"], "start": "07:00:00", "end": "19:00:00"}]),
        headers=h,
    )
    client.post(
        "/v1/geofences",
        json=fence("B", 112.9, 28.2, 0.01, lower_m=50, lower_reference="AGL"),
        headers=h,
    )
    gj = client.get("/v1/geofences/export/geojson", headers=h).json()
    ed = client.get("/v1/geofences/export/ed269", headers=h).json()
    assert [z["identifier"] for z in ed["UASZoneList"]] == ["A", "B"]
    ed318 = client.get("/v1/geofences/export/ed318", headers=auth["operator"]).json()
    assert ed318["type"] == "FeatureCollection"
    assert [f["properties"]["identifier"] for f in ed318["features"]] == ["A", "B"]
    assert ed318["features"][1]["geometry"]["layer"]["lowerReference"] == "AGL"
    for kind, doc in (("geojson", gj), ("ed269", ed), ("ed318", ed318)):
        for ident in ("A", "B"):
            client.delete(f"/v1/geofences/{ident}", headers=h)
        r = client.post(f"/v1/geofences/import/{kind}", json=doc, headers=h)
        assert r.status_code == 200 and r.json()["created"] == ["A", "B"]
        assert client.get("/v1/geofences/export/geojson", headers=h).json() == gj
    r = client.post(
        "/v1/geofences/import/geojson?mode=replace",
        json={"type": "FeatureCollection", "features": [fence("Z")]},
        headers=h,
    )
    assert r.json() == {
        "created": ["Z"],
        "replaced": [],
        "deleted": ["A", "B"],
        "conflicting_intents": [],
    }


def test_import_rejects_malformed_documents_whole(client, auth):
    h = auth["regulator"]
    doc = {
        "type": "FeatureCollection",
        "features": [fence("OK"), {"type": "Feature", "properties": {}}],
    }
    r = client.post("/v1/geofences/import/geojson", json=doc, headers=h)
    assert r.status_code == 422 and "identifier" in r.json()["detail"]
    assert _ids(client.get("/v1/geofences", headers=h).json()) == []
    bad = client.post(
        "/v1/geofences/import/ed269", json={"UASZoneList": [{"identifier": "X"}]}, headers=h
    )
    assert bad.status_code == 422


def _ed318_zone(ident: str, **layer) -> dict:
    return {
        "type": "Feature",
        "geometry": {
            "type": "Point",
            "coordinates": [112.97, 28.17],
            "extent": {"subType": "Circle", "radius": 500},
            "layer": {
                "lower": 0,
                "lowerReference": "AGL",
                "upper": 120,
                "upperReference": "AGL",
                "uom": "m",
                **layer,
            },
        },
        "properties": {
            "identifier": ident,
            "country": "CHN",
            "type": "PROHIBITED",
            "variant": "COMMON",
            "zoneAuthority": [{"purpose": "INFORMATION", "name": [{"text": "CAAC", "lang": "en"}]}],
        },
    }


def test_ed318_import_is_whole_or_nothing_with_the_specific_fault(client, auth):
    h = auth["regulator"]
    doc = {
        "type": "FeatureCollection",
        "metadata": {},
        "features": [_ed318_zone("OK"), _ed318_zone("BAD", lower=200)],
    }
    r = client.post("/v1/geofences/import/ed318", json=doc, headers=h)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert "geozone 'BAD'" in r.json()["detail"] and "not below" in r.json()["detail"]
    assert _ids(client.get("/v1/geofences", headers=h).json()) == []
    wrong = client.post("/v1/geofences/import/ed318", json={"UASZoneList": []}, headers=h)
    assert wrong.status_code == 422 and "FeatureCollection" in wrong.json()["detail"]
    ok = client.post(
        "/v1/geofences/import/ed318?mode=replace",
        json={**doc, "features": doc["features"][:1]},
        headers=h,
    )
    assert ok.status_code == 200 and ok.json()["created"] == ["OK"]
    got = client.get("/v1/geofences/OK", headers=h).json()["properties"]
    assert (got["authority"], got["upper_m"], got["upper_reference"]) == ("CAAC", 120, "AGL")


def test_ed318_endpoints_need_the_right_role_and_respect_the_body_limit(client, auth, settings):
    doc = {"type": "FeatureCollection", "features": [_ed318_zone("Z")]}
    assert client.get("/v1/geofences/export/ed318").status_code == 401
    assert client.post("/v1/geofences/import/ed318", json=doc).status_code == 401
    assert (
        client.post("/v1/geofences/import/ed318", json=doc, headers=auth["operator"]).status_code
        == 403
    )
    big = {**doc, "name": "x" * settings.max_body_bytes}
    r = client.post("/v1/geofences/import/ed318", json=big, headers=auth["admin"])
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert (
        client.get("/v1/geofences/export/ed318", headers=auth["planner"]).json()["features"] == []
    )


def test_point_check_respects_footprint_band_and_time(client, auth):
    h = auth["regulator"]
    client.post("/v1/geofences", json=fence("LOW", upper_m=800), headers=h)
    client.post(
        "/v1/geofences",
        json=fence("TIMED", valid_from="2026-11-25T00:00:00Z", valid_to="2026-11-25T01:00:00Z"),
        headers=h,
    )

    def chk(**b):
        return client.post("/v1/geofences/check/point", json=b, headers=auth["operator"]).json()

    inside = chk(lon=112.97, lat=28.17, alt_m=700)
    assert inside["inside"] and {g["identifier"] for g in inside["geofences"]} == {"LOW", "TIMED"}
    assert [g["identifier"] for g in chk(lon=112.97, lat=28.17, alt_m=900)["geofences"]] == [
        "TIMED"
    ]
    assert chk(lon=112.97, lat=28.17, alt_m=900, time="2026-11-25T02:00:00Z") == {
        "inside": False,
        "geofences": [],
    }
    assert chk(lon=112.90, lat=28.17, alt_m=700)["inside"] is False


def test_track_check_reports_entry_and_exit(client, auth):
    client.post("/v1/geofences", json=fence("F"), headers=auth["regulator"])
    pts = [
        {"lon": 112.94, "lat": 28.17, "alt_m": 900, "time": "2026-11-25T08:00:00Z"},
        {"lon": 113.00, "lat": 28.17, "alt_m": 900, "time": "2026-11-25T08:06:00Z"},
    ]
    r = client.post("/v1/geofences/check/track", json={"points": pts}, headers=auth["operator"])
    assert r.status_code == 200
    (hit,) = r.json()["hits"]
    assert hit["geofence"]["identifier"] == "F"
    assert abs(hit["entry"]["lon"] - 112.96) < 1e-9 and abs(hit["exit"]["lon"] - 112.99) < 1e-9
    assert (
        hit["entry"]["time"] == "2026-11-25T08:02:00Z"
        and hit["exit"]["time"] == "2026-11-25T08:05:00Z"
    )
    back = client.post(
        "/v1/geofences/check/track", json={"points": pts[::-1]}, headers=auth["operator"]
    )
    assert back.status_code == 422 and "back in time" in back.json()["detail"]


def test_plan_check_route_and_volumes(client, auth, services, monkeypatch):
    client.post("/v1/geofences", json=fence("F"), headers=auth["regulator"])
    body = {
        "route": {
            "line": {
                "type": "LineString",
                "coordinates": [[112.94, 28.17, 900], [113.0, 28.17, 900]],
            },
            "departure": "2026-11-25T08:00:00Z",
            "speed_mps": 10,
        },
        "volumes": [volume(112.95, 28.15, 0.02), volume(112.90, 28.10, 0.01)],
    }
    r = client.post("/v1/geofences/check/plan", json=body, headers=auth["planner"])
    assert r.status_code == 200
    out = r.json()
    assert [h["geofence"]["identifier"] for h in out["route_hits"]] == ["F"]
    (vh,) = out["volume_hits"]
    assert vh["volume"] == 0 and vh["where"]["type"] == "Polygon"
    assert (vh["floor_m"], vh["ceiling_m"]) == (950.0, 1000.0)
    empty = client.post("/v1/geofences/check/plan", json={}, headers=auth["planner"])
    assert empty.status_code == 422
    monkeypatch.setattr(services.settings, "max_track_points", 1)
    limited = client.post("/v1/geofences/check/plan", json=body, headers=auth["planner"])
    assert limited.status_code == 422 and limited.json()["type"].endswith("limit-exceeded")


def test_a_prohibited_geofence_reports_intents_it_now_meets(client, auth):
    r = client.post(
        "/v1/intents",
        json={"tier": "T2", "volumes": [volume(112.97, 28.17, 0.005)]},
        headers=auth["operator"],
    )
    assert r.status_code == 201
    w = client.post("/v1/geofences", json=fence("NEW"), headers=auth["regulator"])
    assert w.json()["conflicting_intents"] == [r.json()["id"]]
