"""Live conformance over the API: telemetry moves an activated intent through nonconforming
and contingent, recorded in its history and read as alerts."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests.api.conftest import square

LON, LAT, D = 112.95, 28.15, 0.01
FLOOR, CEILING = 950.0, 1000.0


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture()
def flying(client, auth):
    """An activated intent of 'operator' flying from a minute ago for twenty minutes."""
    now = time.time()
    body = {
        "intent_id": "live-1",
        "tier": "T2",
        "volumes": [
            {
                "footprint": {"type": "Polygon", "coordinates": square(LON, LAT, D)},
                "floor_m": FLOOR,
                "ceiling_m": CEILING,
                "start": _iso(now - 60),
                "end": _iso(now + 1200),
            }
        ],
    }
    assert client.post("/v1/intents", json=body, headers=auth["operator"]).status_code == 201
    return now - 50


def _send(client, headers, fixes, intent="live-1"):
    positions = [
        {"time": _iso(t), "lon": lon, "lat": LAT + D / 2, "alt_m": alt} for t, lon, alt in fixes
    ]
    return client.post(
        f"/v1/intents/{intent}/telemetry", json={"positions": positions}, headers=headers
    )


def test_transitions_history_and_alerts(client, auth, flying):
    op, t0 = auth["operator"], flying
    inside = LON + D / 2
    assert _send(client, op, [(t0, inside, 970.0)]).status_code == 409  # not activated yet
    assert client.post("/v1/intents/live-1/activate", headers=op).status_code == 200
    r = _send(client, op, [(t0, inside, 970.0), (t0 + 1, inside, CEILING)])
    assert (
        r.status_code == 200 and r.json()["state"] == "activated" and r.json()["transitions"] == []
    )
    r = _send(client, op, [(t0 + 2, inside, CEILING + 1.0)])  # 1 m above the ceiling
    a = r.json()
    assert a["state"] == "nonconforming" and a["outside"] == 1
    ev = a["transitions"][0]
    assert (ev["from_state"], ev["to_state"]) == ("activated", "nonconforming")
    assert ev["position"]["alt_m"] == CEILING + 1.0 and ev["position"]["certain"] is True
    r = _send(client, op, [(t0 + 3, inside, 970.0)])
    assert r.json()["state"] == "activated"
    r = _send(client, op, [(t0 + 4 + k, inside, 1100.0) for k in range(32)])
    steps = [(e["to_state"], e["position"]["time"]) for e in r.json()["transitions"]]
    assert [s for s, _ in steps] == ["nonconforming", "contingent"]
    assert steps[1][1].startswith(_iso(t0 + 35)[:19])  # 31 s after leaving: > 30 s
    r = _send(client, op, [(t0 + 40, inside, 970.0)])
    assert r.json()["state"] == "contingent"  # stays until ended
    assert _send(client, op, [(t0 + 40, inside, 970.0)]).json()["stale"] == 1
    hist = client.get("/v1/intents/live-1/history", headers=op).json()["events"]
    assert [(e["from_state"], e["to_state"], e["cause"]) for e in hist] == [
        ("accepted", "activated", "request"),
        ("activated", "nonconforming", "telemetry"),
        ("nonconforming", "activated", "telemetry"),
        ("activated", "nonconforming", "telemetry"),
        ("nonconforming", "contingent", "telemetry"),
    ]
    mine = client.get("/v1/alerts", headers=op).json()
    assert len(mine["alerts"]) == 4 and mine["next_after"] is None
    assert client.get("/v1/alerts", headers=auth["operator2"]).json()["alerts"] == []
    reg = client.get("/v1/alerts?state=contingent", headers=auth["regulator"]).json()
    assert [e["to_state"] for e in reg["alerts"]] == ["contingent"]
    page = client.get("/v1/alerts?limit=2", headers=auth["regulator"]).json()
    assert len(page["alerts"]) == 2 and page["next_after"] == page["alerts"][1]["id"]
    # A cursor past SQLite's 64-bit integers is bad input, not a server error.
    r = client.get(f"/v1/alerts?after={2**63}", headers=auth["regulator"])
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert client.post("/v1/intents/live-1/end", headers=op).json()["state"] == "ended"
    assert _send(client, op, [(t0 + 50, inside, 970.0)]).status_code == 409


def test_ownership_limits_and_times(client, auth, flying, settings):
    op, t0 = auth["operator"], flying
    inside = LON + D / 2
    assert client.post("/v1/intents/live-1/activate", headers=op).status_code == 200
    assert _send(client, auth["operator2"], [(t0, inside, 970.0)]).status_code == 404
    assert _send(client, auth["regulator"], [(t0, inside, 970.0)]).status_code == 403
    assert _send(client, op, [(t0, inside, 970.0)], intent="nope").status_code == 404
    many = [(t0 + k * 0.01, inside, 970.0) for k in range(settings.max_telemetry_points + 1)]
    assert _send(client, op, many).status_code == 413
    assert _send(client, op, []).status_code == 422
    r = _send(client, op, [(time.time() + 3600, inside, 970.0)])
    assert r.status_code == 422 and r.json()["type"].endswith("telemetry-in-future")
    r = _send(client, op, [(t0 - 86_400, inside, 970.0)])
    assert r.status_code == 422 and r.json()["type"].endswith("telemetry-before-intent")
    assert client.get("/v1/intents/live-1/history", headers=auth["operator2"]).status_code == 404
