"""Inputs that once crashed a handler, leaked internals or stored something unreadable.

Each answer must be a 4xx problem naming what to fix (never a 5xx, never an internal
message), nothing must be stored, and the list endpoints must keep working.
"""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Callable

import httpx
import pytest
import uvicorn
from fastapi import Request

from airgrid.api.http.app import create_app
from tests.api.conftest import ORIGIN, fence, square, volume
from tests.servers import free_port

DAILY = {
    "daily_periods": [
        {
            "days": ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"],
            "start": "07:00",
            "end": "19:00",
        }
    ]
}
#: Instants at the very ends of what a datetime can hold, with offsets that push them past.
EDGE_TIMES = [
    "9999-12-31T20:00:00-14:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
]


#: Most a request refused before its work may allocate at its peak (bytes); doing the
#: work would allocate gigabytes (1.6 GB for the tiny pieces). Memory, unlike time,
#: does not depend on the load.
REFUSAL_PEAK_BYTES = 64 * 2**20


def _peak(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, int]:
    """The answer of ``call`` and the peak bytes traced while it ran (all threads).

    The call is made once untraced first, so the app's lazy set-up of the route is not
    counted.
    """
    call()
    tracemalloc.start()
    try:
        r = call()
        return r, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def _lists_work(client, auth) -> None:
    for role in ("operator", "regulator", "admin"):
        assert client.get("/v1/intents", headers=auth[role]).status_code == 200
    assert client.get("/v1/geofences", headers=auth["operator"]).status_code == 200
    assert client.get("/v1/geofences/export/geojson", headers=auth["operator"]).status_code == 200


@pytest.mark.parametrize("when", EDGE_TIMES)
def test_an_intent_at_the_datetime_limits_is_refused_and_nothing_unreadable_is_stored(
    client, auth, when
):
    body = {"tier": "T2", "intent_id": "edge", "volumes": [volume(start=when, end=when)]}
    if when.startswith("9999"):
        body["volumes"][0]["start"] = "9999-12-31T20:00:00-14:00"
        body["volumes"][0]["end"] = "9999-12-31T23:00:00-14:00"
    else:
        body["volumes"][0]["end"] = "0001-01-02T00:00:00+14:00"
    r = client.post("/v1/intents", json=body, headers=auth["operator"])
    assert "1970" in _problem(r, 422)["detail"]
    _lists_work(client, auth)


def test_times_near_the_limits_are_4xx_where_geofences_have_daily_periods(client, auth):
    h = auth["regulator"]
    assert client.post("/v1/geofences", json=fence("D", **DAILY), headers=h).status_code == 201
    for when in EDGE_TIMES:
        p = {"lon": 112.97, "lat": 28.17, "alt_m": 900.0, "time": when}
        _problem(client.post("/v1/geofences/check/point", json=p, headers=h), 422)
        track = {"points": [p, {**p, "lon": 112.98}]}
        _problem(client.post("/v1/geofences/check/track", json=track, headers=h), 422)
        plan = {
            "route": {
                "line": {
                    "type": "LineString",
                    "coordinates": [[112.93, 28.16, 900.0], [113.0, 28.16, 900.0]],
                },
                "departure": when,
            }
        }
        _problem(client.post("/v1/geofences/check/plan", json=plan, headers=h), 422)
        _problem(client.get("/v1/geofences", params={"active_at": when}, headers=h), 422)
        route = {
            "origin": {"type": "Point", "coordinates": [112.95, 28.15, 1000.0]},
            "destination": {"type": "Point", "coordinates": [113.0, 28.2, 1000.0]},
            "departure": when,
        }
        _problem(client.post("/v1/routes", json=route, headers=h), 422)
    # a route flown so slowly that it ends past the range is refused too, not overflowed
    slow = {
        "route": {
            "line": {
                "type": "LineString",
                "coordinates": [[112.93, 28.16, 900.0], [113.0, 28.16, 900.0]],
            },
            "departure": "2199-12-31T23:00:00Z",
            "speed_mps": 0.1,
        }
    }
    _problem(client.post("/v1/geofences/check/plan", json=slow, headers=h), 422)
    _lists_work(client, auth)


@pytest.mark.parametrize(
    "props",
    [
        {"identifier": "CTR/ZGHA-TEST"},
        {"identifier": "CTR ZGHA"},
        {"identifier": "x" * 129},
        {"identifier": "."},
        {"identifier": ".."},
        {"identifier": "tab\there"},
    ],
)
def test_every_import_format_refuses_the_identifiers_the_api_refuses(client, auth, props):
    h = auth["regulator"]
    ident = props["identifier"]
    _problem(client.post("/v1/geofences", json=fence(ident), headers=h), 422)
    gj = {"type": "FeatureCollection", "features": [fence(ident)]}
    _problem(client.post("/v1/geofences/import/geojson", json=gj, headers=h), 422)
    ed269 = client.get("/v1/geofences/export/ed269", headers=h).json()
    ok = client.post(
        "/v1/geofences/import/geojson",
        json={"type": "FeatureCollection", "features": [fence("OK")]},
        headers=h,
    )
    assert ok.status_code == 200
    for fmt in ("ed269", "ed318"):
        doc = client.get(f"/v1/geofences/export/{fmt}", headers=h).json()
        text = str(doc)
        assert "'OK'" in text
        renamed = _rename(doc, "OK", ident)
        _problem(client.post(f"/v1/geofences/import/{fmt}", json=renamed, headers=h), 422)
    assert ed269["UASZoneList"] == []
    assert [
        f["properties"]["identifier"]
        for f in client.get("/v1/geofences", headers=h).json()["features"]
    ] == ["OK"]
    _lists_work(client, auth)


def _rename(doc, old: str, new: str):
    if isinstance(doc, dict):
        return {
            k: (new if k == "identifier" and v == old else _rename(v, old, new))
            for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [_rename(v, old, new) for v in doc]
    return doc


@pytest.mark.parametrize(
    "props", [{"reason_codes": 5}, {"daily_periods": 5}, {"reason_codes": [1, 2]}]
)
def test_geojson_import_with_mistyped_properties_is_422(client, auth, props):
    doc = {"type": "FeatureCollection", "features": [fence("T", **props)]}
    _problem(client.post("/v1/geofences/import/geojson", json=doc, headers=auth["regulator"]), 422)


def test_geojson_import_with_properties_not_an_object_is_422(client, auth):
    feature = {**fence("T"), "properties": "x"}
    doc = {"type": "FeatureCollection", "features": [feature]}
    _problem(client.post("/v1/geofences/import/geojson", json=doc, headers=auth["regulator"]), 422)


def test_circles_must_not_cross_the_antimeridian_nor_be_tiny(client, auth):
    h = auth["regulator"]
    wide = fence("AM", circle={"center": [179.999, 10.0], "radius_m": 5_000})
    wide["geometry"]["coordinates"] = square(179.95, 9.95, 0.04)
    assert (
        "antimeridian"
        in _problem(client.post("/v1/geofences", json=wide, headers=h), 422)["detail"]
    )
    tiny = fence("TINY", circle={"center": [112.97, 28.17], "radius_m": 1e-9})
    _problem(client.post("/v1/geofences", json=tiny, headers=h), 422)
    gj = {"type": "FeatureCollection", "features": [wide]}
    _problem(client.post("/v1/geofences/import/geojson", json=gj, headers=h), 422)
    r = client.post(
        "/v1/geofences/check/point", json={"lon": 0.0, "lat": 10.0, "alt_m": 100.0}, headers=h
    )
    assert r.json()["inside"] is False


def test_plan_check_inputs_that_once_were_500_or_leaked(client, auth):
    h = auth["operator"]
    line2d = {
        "route": {
            "line": {"type": "LineString", "coordinates": [[112.93, 28.16], [113.0, 28.16]]},
            "departure": "2026-11-25T08:00:00Z",
        }
    }
    body = _problem(client.post("/v1/geofences/check/plan", json=line2d, headers=h), 422)
    assert "alt_m" in body["detail"] and "index" not in body["detail"]
    tiny = {
        "route": {
            **line2d["route"],
            "line": {
                "type": "LineString",
                "coordinates": [[112.93, 28.16, 900.0], [113.0, 28.16, 900.0]],
            },
            "speed_mps": 1e-300,
        }
    }
    _problem(client.post("/v1/geofences/check/plan", json=tiny, headers=h), 422)
    bbox = _problem(client.get("/v1/geofences", params={"bbox": "1,2,3"}, headers=h), 422)
    assert "unpack" not in bbox["detail"] and "four numbers" in bbox["detail"]


def test_numbers_are_not_times(client, auth):
    r = client.post(
        "/v1/geofences/check/point",
        json={"lon": 112.97, "lat": 28.17, "alt_m": 900.0, "time": 0},
        headers=auth["operator"],
    )
    assert _problem(r, 422)["errors"][0]["loc"] == ["body", "time"]


def test_a_tiny_max_piece_is_refused_before_any_piece_is_built(client, auth):
    route = {
        "waypoints": [
            {"lon": 112.95, "lat": 28.15, "alt_m": 1000.0, "time": "2026-11-25T08:00:00Z"},
            {"lon": 112.965, "lat": 28.15, "alt_m": 1000.0, "time": "2026-11-25T08:05:00Z"},
        ],
        "max_piece_m": 0.001,
    }
    r, peak = _peak(
        lambda: client.post(
            "/v1/intents", json={"tier": "T2", "route": route}, headers=auth["operator"]
        )
    )
    assert "max_piece_m" in _problem(r, 422)["detail"]
    assert peak < REFUSAL_PEAK_BYTES, f"{peak / 2**20:.1f} MiB"


def test_dot_intent_ids_are_refused(client, auth):
    for ident in (".", ".."):
        r = client.post(
            "/v1/intents",
            json={"tier": "T2", "intent_id": ident, "volumes": [volume()]},
            headers=auth["operator"],
        )
        _problem(r, 422)


# -- the closed error contract on a real server ------------------------------------------


@pytest.fixture()
def live(settings, services):
    """The app under a real uvicorn (in a thread) with two extra routes: one that fails
    with an internal error whose message must not leak, one that names the client port."""
    app = create_app(settings, services=services)

    def boom() -> None:
        raise IndexError("index 2 is out of bounds for axis 1 with size 2")

    def lookup() -> None:
        raise KeyError("internal-table-name")

    def peer(request: Request) -> dict:
        return {"port": request.client.port}

    app.add_api_route("/test/boom", boom)
    app.add_api_route("/test/lookup", lookup)
    app.add_api_route("/test/peer", peer)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="critical")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=30)


def test_internal_errors_are_generic_500s_with_an_id_and_the_connection_stays_open(live, caplog):
    with httpx.Client(base_url=live) as c:
        before = c.get("/test/peer").json()["port"]
        for path in ("/test/boom", "/test/lookup"):
            r = c.get(path)
            body = _problem(r, 500)
            assert body["type"] == "urn:airgrid:problem:internal-error"
            assert "bounds" not in r.text and "internal-table-name" not in r.text
            assert len(body["error_id"]) == 32 and body["error_id"] in body["detail"]
            assert body["error_id"] in caplog.text and "Traceback" in caplog.text
        assert c.get("/test/peer").json()["port"] == before  # the same keep-alive connection
        assert c.get("/v1/health").status_code == 200


def test_a_route_to_a_point_between_tiers_is_422_naming_the_nearest_altitude(
    client, auth, services
):
    lon, lat = 113.0, 28.2
    alt = next(
        a for a in range(0, 3_000, 5) if "between tier" in services.grid.locate(lat, lon, a).reason
    )
    body = {
        "origin": {"type": "Point", "coordinates": ORIGIN},
        "destination": {"type": "Point", "coordinates": [lon, lat, alt + 1.0]},
    }
    detail = _problem(client.post("/v1/routes", json=body, headers=auth["operator"]), 422)["detail"]
    nearest = float(detail.split("nearest altitude with a voxel here is ")[1].split()[0])
    assert services.grid.locate(lat, lon, nearest).voxel >= 0


def test_options_and_405_name_every_method_of_the_path(client, auth):
    r = client.options("/v1/intents")
    assert r.status_code == 204 and set(r.headers["allow"].split(", ")) == {
        "GET",
        "HEAD",
        "OPTIONS",
        "POST",
    }
    r = client.options("/v1/geofences/G1")
    assert set(r.headers["allow"].split(", ")) == {"DELETE", "GET", "HEAD", "OPTIONS", "PUT"}
    r = client.delete("/v1/grid/tiers", headers=auth["admin"])
    assert _problem(r, 405) and r.headers["allow"] == "GET, HEAD, OPTIONS"


def test_long_query_spans_are_refused_before_the_daily_periods_are_expanded(client, auth):
    h = auth["regulator"]
    assert client.post("/v1/geofences", json=fence("D", **DAILY), headers=h).status_code == 201
    vol = {
        "footprint": {"type": "Polygon", "coordinates": square(112.96, 28.16, 0.02)},
        "floor_m": 100.0,
        "ceiling_m": 200.0,
        "start": "1970-01-01T00:00:00Z",
        "end": "2199-12-31T00:00:00Z",
    }
    r, peak = _peak(
        lambda: client.post("/v1/geofences/check/plan", json={"volumes": [vol] * 50}, headers=h)
    )
    assert "limit" in _problem(r, 422)["detail"]
    assert peak < REFUSAL_PEAK_BYTES, f"{peak / 2**20:.1f} MiB"
    window = {"active_from": "1970-01-01T00:00:00Z", "active_to": "2199-12-31T00:00:00Z"}
    _problem(client.get("/v1/geofences", params=window, headers=h), 422)
    week = {"active_from": "2027-01-04T00:00:00Z", "active_to": "2027-01-11T00:00:00Z"}
    assert [
        f["id"] for f in client.get("/v1/geofences", params=week, headers=h).json()["features"]
    ] == ["D"]


def test_an_intent_near_too_many_held_volumes_is_refused_whole(client, auth, monkeypatch):
    """The exact conflict test has a budget of candidate pairs, counted before it runs; an
    intent over it is refused (422, its own problem type) and changes nothing."""
    from airgrid.airspace.traffic import limits
    from tests.api.conftest import DAY

    for n in range(5):  # five held intents, one per 20-minute window, at one place
        start, end = f"{DAY}T{8 + n:02d}:00:00Z", f"{DAY}T{8 + n:02d}:20:00Z"
        r = client.post(
            "/v1/intents",
            json={"tier": "T2", "volumes": [volume(start=start, end=end)]},
            headers=auth["operator"],
        )
        assert r.status_code == 201, r.text
    long = {"tier": "T2", "volumes": [volume(start=f"{DAY}T07:00:00Z", end=f"{DAY}T14:00:00Z")]}
    monkeypatch.setattr(limits, "MAX_CANDIDATE_PAIRS", 4)
    body = _problem(client.post("/v1/intents", json=long, headers=auth["operator"]), 422)
    assert body["type"].endswith(":conflict-budget-exceeded")
    assert "5 held volumes" in body["detail"] and "split" in body["detail"]
    mine = client.get("/v1/intents", headers=auth["operator"]).json()["intents"]
    assert [i["state"] for i in mine] == ["accepted"] * 5  # nothing accepted or pre-empted
    monkeypatch.setattr(limits, "MAX_CANDIDATE_PAIRS", 5)
    r = client.post("/v1/intents", json=long, headers=auth["operator"])
    assert r.status_code == 409 and len(r.json()["conflicts"]) == 5
