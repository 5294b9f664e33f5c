"""Hypothesis over the request models: odd times, numbers and identifiers in every way in.

For every generated request: no 5xx, every geofence and intent the API stored reads
back, and the list and export endpoints keep answering 200.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.api.conftest import square

#: Times near the ends of the datetime range and of the accepted range, with offsets.
TIMES = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00+14:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59-14:00",
            "9999-12-31T20:00:00-14:00",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2200-01-01T00:00:00Z",
            "2199-12-31T23:00:00+14:00",
            "2026-02-30T00:00:00Z",
        ]
    ),
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=14))]
        ),
    ).map(lambda d: d.isoformat()),
    st.integers(-3_600, 40 * 86_400).map(
        lambda s: (datetime.now(UTC) + timedelta(seconds=s)).replace(microsecond=0).isoformat()
    ),
    st.integers(-10, 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
)  # JSON carries no inf
NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [0.0, -0.0, 1e-300, 5e-324, 1e300, 1.7976931348623157e308, 1e-9, 0.5, 1.0, 2**63, -(2**63)]
    ),
    st.integers(-(2**70), 2**70),
)
IDENTS = st.one_of(
    st.sampled_from(
        [
            ".",
            "..",
            "a/b",
            " x",
            "x\t",
            "x" * 128,
            "x" * 129,
            "é",
            "\u0000",
            "CTR/ZGHA-TEST",
            "ok-1",
            "",
            "a b",
            "%2F",
            "...",
        ]
    ),
    st.text(max_size=140),
)
FUZZ = hsettings(
    max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


def _healthy(client, auth) -> None:
    for path in (
        "/v1/geofences",
        "/v1/geofences/export/geojson",
        "/v1/geofences/export/ed269",
        "/v1/geofences/export/ed318",
        "/v1/intents",
    ):
        r = client.get(path, headers=auth["admin"])
        assert r.status_code == 200, (path, r.text)
    for f in client.get("/v1/geofences", headers=auth["admin"]).json()["features"]:
        one = client.get(f"/v1/geofences/{f['properties']['identifier']}", headers=auth["admin"])
        assert one.status_code == 200, one.text
    for i in client.get("/v1/intents", headers=auth["admin"]).json()["intents"]:
        assert client.get(f"/v1/intents/{i['id']}", headers=auth["admin"]).status_code == 200


def _ok(r) -> None:
    assert r.status_code < 500, r.text
    assert r.headers["content-type"] in ("application/json", "application/problem+json")


def _feature(ident, lower, upper, start, end, radius):
    props = {
        "identifier": ident,
        "lower_m": lower,
        "upper_m": upper,
        "valid_from": start,
        "valid_to": end,
        "daily_periods": [{"days": ["MON", "SUN"], "start": "07:00", "end": "19:00"}],
    }
    if radius is not None:
        props["circle"] = {"center": [112.97, 28.17], "radius_m": radius}
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": square(112.96, 28.16, 0.02)},
        "properties": props,
    }


def _soon(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).isoformat()


#: One field at a time gets an odd value; the others stay sane, so that requests reach
#: the deeper code (stores, indexes, calendars) instead of stopping at the first check.
ODD = st.one_of(TIMES, NUMBERS, IDENTS, st.none())


@pytest.mark.slow
def test_geofence_writes_and_imports(client, auth):
    h = auth["regulator"]
    sane = {
        "ident": "Z-1",
        "lower": 0.0,
        "upper": 300.0,
        "start": None,
        "end": None,
        "radius": None,
    }

    @given(
        field=st.sampled_from([*sane, "none"]),
        odd=ODD,
        radius=st.none() | st.floats(1, 40_000),
        way=st.sampled_from(["post", "geojson", "ed269", "ed318"]),
    )
    @FUZZ
    def run(field, odd, radius, way):
        v = {**sane, "radius": radius, **({field: odd} if field in sane else {})}
        f = _feature(v["ident"], v["lower"], v["upper"], v["start"], v["end"], v["radius"])
        if way == "post":
            r = client.post("/v1/geofences", json=f, headers=h)
            if r.status_code == 409:
                r = client.put(f"/v1/geofences/{v['ident']}", json=f, headers=h)
        elif way == "geojson":
            r = client.post(
                "/v1/geofences/import/geojson",
                json={"type": "FeatureCollection", "features": [f]},
                headers=h,
            )
        else:  # through the other formats: export a valid zone, then put the generated values in
            base = _feature("FUZZ-BASE", 0, 100, None, None, radius)
            assert (
                client.post(
                    "/v1/geofences/import/geojson?mode=replace",
                    json={"type": "FeatureCollection", "features": [base]},
                    headers=h,
                ).status_code
                == 200
            )
            doc = client.get(f"/v1/geofences/export/{way}", headers=h).json()
            r = client.post(
                f"/v1/geofences/import/{way}?mode=replace",
                json=_inject(doc, v["ident"], v["lower"], v["upper"], v["start"], v["radius"]),
                headers=h,
            )
        _ok(r)
        _healthy(client, auth)

    run()


def _inject(doc, ident, lower, upper, start, radius):
    """Replace identifiers, limits, start times and radii anywhere in an exported document."""
    keys = {
        "identifier": ident,
        "lower": lower,
        "upper": upper,
        "startDateTime": start,
        "radius": radius,
    }
    if isinstance(doc, dict):
        return {
            k: (
                keys[k]
                if k in keys and keys[k] is not None
                else _inject(v, ident, lower, upper, start, radius)
            )
            for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [_inject(v, ident, lower, upper, start, radius) for v in doc]
    return doc


@pytest.mark.slow
def test_intents_checks_and_routes(client, auth):
    h = auth["operator"]
    sane = {
        "start": _soon(2),
        "end": _soon(2.3),
        "floor": 950.0,
        "ceiling": 1000.0,
        "ident": None,
        "speed": 15.0,
        "piece": 200.0,
        "lon": 112.95,
    }

    @given(
        field=st.sampled_from([*sane, "none"]),
        odd=ODD,
        k=st.integers(0, 10**6),
        way=st.sampled_from(["volumes", "route", "point", "plan", "routes"]),
    )
    @FUZZ
    def run(field, odd, k, way):
        v = {**sane, **({field: odd} if field in sane else {})}
        lon = v["lon"] if isinstance(v["lon"], (int, float)) else 112.95
        vol = {
            "footprint": {
                "type": "Polygon",
                "coordinates": square(112.9 + (k % 100) * 0.001, 28.15, 0.001),
            },
            "floor_m": v["floor"],
            "ceiling_m": v["ceiling"],
            "start": v["start"],
            "end": v["end"],
        }
        pts = [
            {"lon": v["lon"], "lat": 28.15, "alt_m": 1000.0, "time": v["start"]},
            {"lon": 112.96, "lat": 28.15, "alt_m": 1000.0, "time": v["end"]},
        ]
        if way == "volumes":
            r = client.post(
                "/v1/intents",
                json={"tier": "T2", "intent_id": v["ident"], "volumes": [vol]},
                headers=h,
            )
        elif way == "route":
            r = client.post(
                "/v1/intents",
                json={
                    "tier": "T2",
                    "intent_id": v["ident"],
                    "route": {"waypoints": pts, "max_piece_m": v["piece"]},
                },
                headers=h,
            )
        elif way == "point":
            r = client.post(
                "/v1/geofences/check/point", json={**pts[0], "alt_m": v["floor"]}, headers=h
            )
        elif way == "plan":
            line = {
                "type": "LineString",
                "coordinates": [[lon, 28.16, 900.0], [113.0, 28.16, 900.0]],
            }
            r = client.post(
                "/v1/geofences/check/plan",
                json={
                    "route": {"line": line, "departure": v["start"], "speed_mps": v["speed"]},
                    "volumes": [vol],
                },
                headers=h,
            )
        else:
            r = client.post(
                "/v1/routes",
                json={
                    "origin": {"type": "Point", "coordinates": [v["lon"], 28.15, 1000.0]},
                    "destination": {"type": "Point", "coordinates": [112.97, 28.17, 1000.0]},
                    "departure": v["start"],
                    "max_range_m": v["speed"]
                    if isinstance(v["speed"], float) and math.isfinite(v["speed"])
                    else None,
                },
                headers=h,
            )
        _ok(r)
        _healthy(client, auth)

    assert (
        client.post(
            "/v1/geofences",
            headers=auth["regulator"],
            json={
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": square(112.99, 28.2, 0.01)},
                "properties": {
                    "identifier": "DAILY",
                    "lower_m": 0,
                    "upper_m": 5000,
                    "daily_periods": [
                        {
                            "days": ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"],
                            "start": "22:00",
                            "end": "06:00",
                        }
                    ],
                },
            },
        ).status_code
        == 201
    )
    run()
