"""GET /v1/analytics/density and /hotspots: roles, the map page's contract, limits, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point

from airgrid.airspace.traffic.models import IntentRequest
from airgrid.api.http.routes.deps import Services
from airgrid.geo.volumes import Volume4D

T0 = datetime(2031, 3, 3, 8, 0, tzinfo=UTC).timestamp()
START, END = "2031-03-03T08:00:00Z", "2031-03-03T09:00:00Z"
PROPERTIES = {
    "cell", "tier", "bin_start", "bin_end", "count", "occupancy", "conflicts", "refusals",
    "capacity", "load", "hotspot", "suggestion",
}  # fmt: skip


def _disc(t: float) -> Volume4D:
    return Volume4D(Point(112.98, 28.2).buffer(0.002), 250.0, 290.0, t, t + 600)


@pytest.fixture()
def traffic(services: Services) -> None:
    """Two intents in one place and bin; a third refused there (one conflict)."""
    store = services.stores.get()
    assert store.submit(IntentRequest("acme", 20, "T2", (_disc(T0),), "a1")).accepted
    assert store.submit(IntentRequest("acme", 20, "T2", (_disc(T0 + 1_200),), "a2")).accepted
    refused = store.submit(IntentRequest("zeta", 20, "T2", (_disc(T0 + 100),), "z1"))
    assert not refused.accepted


def _get(client: TestClient, headers: dict, path: str = "density", **params) -> object:
    query = {"tier": "T2", "start": START, "end": END, **params}
    return client.get(f"/v1/analytics/{path}", params=query, headers=headers)


@pytest.mark.parametrize(
    ("role", "status"),
    [("planner", 200), ("regulator", 200), ("admin", 200), ("operator", 403), (None, 401)],
)
def test_roles(
    client: TestClient, auth: dict, traffic: None, role: str | None, status: int
) -> None:
    headers = auth[role] if role else {}
    assert _get(client, headers).status_code == status
    assert _get(client, headers, "hotspots").status_code == status


def test_density_as_geojson_keeps_the_map_page_contract(
    client: TestClient, auth: dict, traffic: None
) -> None:
    r = _get(client, auth["planner"], bin_s=1800)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and doc["features"]
    for f in doc["features"]:
        assert f["geometry"]["type"] == "Polygon" and len(f["geometry"]["coordinates"][0]) == 7
        assert set(f["properties"]) >= PROPERTIES
    first = [f["properties"] for f in doc["features"] if f["properties"]["bin_start"] == START]
    assert max(p["count"] for p in first) == 2  # a1 and a2 both fly in the first half hour
    assert sum(p["refusals"] for p in first) >= 1
    assert sum(p["conflicts"] for p in first) >= 1


def test_density_as_rows(client: TestClient, auth: dict, traffic: None) -> None:
    r = _get(client, auth["regulator"], format="json")
    assert r.status_code == 200
    doc = r.json()
    assert (doc["tier"], doc["bin_s"], doc["start"]) == ("T2", 900, START)
    assert doc["rows"] and set(doc["rows"][0]) >= PROPERTIES


def test_hotspots_list_cells_over_capacity(
    client: TestClient, auth: dict, services: Services, traffic: None
) -> None:
    r = _get(client, auth["admin"], "hotspots", bin_s=3600)
    assert r.status_code == 200 and r.json()["bins"] == 1
    assert r.json()["cells"] == []  # two flights are far below a cell's hourly capacity


@pytest.mark.parametrize(
    ("params", "slug"),
    [
        ({"end": START}, "analytics-window"),
        ({"tier": "T9"}, "analytics-tier"),
        ({"bin_s": 1, "end": "2031-03-04T08:00:00Z"}, "analytics-limit"),
    ],
)
def test_bad_requests_are_problems(client: TestClient, auth: dict, params: dict, slug: str) -> None:
    r = _get(client, auth["planner"], **params)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == f"urn:airgrid:problem:{slug}"


def test_rows_and_volumes_are_limited(
    client: TestClient, auth: dict, services: Services, traffic: None
) -> None:
    services.settings.max_analytics_rows = 1
    r = _get(client, auth["planner"])
    assert r.status_code == 422 and "rows" in r.json()["detail"]
    services.settings.max_analytics_rows = 500_000
    services.settings.max_analytics_volumes = 2
    r = _get(client, auth["planner"])
    assert r.status_code == 422 and "volumes" in r.json()["detail"]
