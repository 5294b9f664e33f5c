"""``/geospatial_map/v1`` through a real uvicorn: ED-269 sources by URL, map queries."""

from __future__ import annotations

import http.server
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from airgrid.airspace.geofences.formats.ed269 import to_ed269
from airgrid.airspace.geofences.model import Category, Geofence, Limit
from tests.api.interuss.conftest import area, plan_id, upsert_body

GM = "/geospatial_map/v1"
#: The prohibited zone's box and an advisory zone elsewhere (lon/lat).
ZONE = (112.93, 28.20, 112.95, 28.22)
ADVISORY = (113.02, 28.20, 113.04, 28.22)


def _box(w: float, s: float, e: float, n: float) -> tuple[tuple[float, float], ...]:
    return ((w, s), (e, s), (e, n), (w, n))


def ed269_doc() -> dict:
    """Two zones, 0-300 m AGL: ``RESTR1`` prohibited over ZONE, ``ADV1`` advisory."""
    fences = [
        Geofence(
            "RESTR1",
            Limit(0, "AGL"),
            Limit(300, "AGL"),
            polygon=_box(*ZONE),
            authority="Test CAA",
        ),
        Geofence(
            "ADV1",
            Limit(0, "AGL"),
            Limit(300, "AGL"),
            polygon=_box(*ADVISORY),
            category=Category.ADVISORY,
        ),
    ]
    return to_ed269(fences)


@pytest.fixture(scope="module")
def source_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ed269") / "zones.json"
    path.write_text(json.dumps(ed269_doc()))
    return path


@pytest.fixture(scope="module")
def loaded(http, source_file: Path) -> str:
    """The id of the data source loaded from the file."""
    sid = str(uuid.uuid4())
    r = http.put(
        f"{GM}/geospatial_data_sources/{sid}",
        json={"https_source": {"url": source_file.as_uri(), "format": "ED-269"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["data_source"]["status"] == "Ready", r.text
    return sid


def check(http, *filter_sets: dict) -> str:
    r = http.post(f"{GM}/map/queries", json={"checks": [{"filter_sets": list(filter_sets)}]})
    assert r.status_code == 200, r.text
    return r.json()["results"][0]["features_selection_outcome"]


def at(lng: float, lat: float, alt: float | None = None) -> dict:
    pos: dict = {"location": {"lng": lng, "lat": lat}}
    if alt is not None:
        pos["altitude"] = {"value": alt, "reference": "W84", "units": "M"}
    return {"position": pos}


def test_status_and_sources(http, loaded, source_file):
    assert http.get(f"{GM}/status").json()["status"] == "Ready"
    got = http.get(f"{GM}/geospatial_data_sources/{loaded}").json()["data_source"]
    assert got["id"] == loaded and got["status"] == "Ready"
    listed = http.get(f"{GM}/geospatial_data_sources").json()["data_sources"]
    assert loaded in [d["id"] for d in listed]
    # the same id: same URL answers again, another URL is a conflict
    again = http.put(
        f"{GM}/geospatial_data_sources/{loaded}",
        json={"https_source": {"url": source_file.as_uri()}},
    )
    assert again.status_code == 200
    other = http.put(
        f"{GM}/geospatial_data_sources/{loaded}",
        json={"https_source": {"url": "file:///elsewhere.json"}},
    )
    assert other.status_code == 409
    assert http.get(f"{GM}/geospatial_data_sources/{uuid.uuid4()}").status_code == 404


def test_present_inside_absent_outside(http, loaded):
    assert check(http, at(112.94, 28.21)) == "Present"
    assert check(http, at(112.97, 28.21)) == "Absent"
    # the altitude counts: far above the zone's 300 m AGL ceiling is outside it
    assert check(http, at(112.94, 28.21, 150.0)) == "Present"
    assert check(http, at(112.94, 28.21, 3_000.0)) == "Absent"
    # impact: the prohibited zone blocks, the advisory one advises
    assert check(http, {**at(112.94, 28.21), "resulting_operational_impact": "Block"}) == "Present"
    assert check(http, {**at(112.94, 28.21), "resulting_operational_impact": "Advise"}) == "Absent"
    assert check(http, {**at(113.03, 28.21), "resulting_operational_impact": "Advise"}) == "Present"
    # restriction source: the data source id or the zone authority
    assert check(http, {**at(112.94, 28.21), "restriction_source": loaded}) == "Present"
    assert check(http, {**at(112.94, 28.21), "restriction_source": "Test CAA"}) == "Present"
    assert check(http, {**at(112.94, 28.21), "restriction_source": "other"}) == "Absent"
    # volumes4d and a time window (the zones are permanent)
    crossing = area(112.955, 28.21, d=0.01)
    assert check(http, {"volumes4d": crossing}) == "Present"
    assert check(http, {"volumes4d": area(112.99, 28.12, d=0.01)}) == "Absent"
    soon = datetime.now(UTC) + timedelta(hours=1)
    window = {"after": soon.isoformat(), "before": (soon + timedelta(hours=1)).isoformat()}
    assert check(http, {**at(112.94, 28.21), **window}) == "Present"
    # any filter set may select; none selects nothing
    assert check(http, at(112.97, 28.21), at(112.94, 28.21)) == "Present"
    assert check(http) == "Absent"
    r = http.post(
        f"{GM}/map/queries",
        json={
            "checks": [{"filter_sets": [{**at(112.94, 28.21), "operation_rule_set": "Part107"}]}]
        },
    )
    assert r.json()["results"][0]["features_selection_outcome"] == "UnsupportedFilter"


def test_loaded_zones_restrict_flight_plans(http, loaded):
    refused = http.put(
        f"/flight_planning/v1/flight_plans/{plan_id()}",
        json=upsert_body(where=(112.94, 28.21), d=0.002),
    ).json()
    assert refused["planning_result"] == "Rejected"
    assert f"{loaded}.RESTR1" in refused["notes"]


@pytest.fixture()
def loopback_source():
    """An HTTP server on 127.0.0.1 serving the ED-269 document and a large file."""
    doc = json.dumps(ed269_doc()).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = doc if self.path == "/zones.json" else b" " * 300_000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def test_loopback_http_size_limit_and_delete(http, admin_http, loopback_source):
    sid = str(uuid.uuid4())
    url = f"{GM}/geospatial_data_sources/{sid}"
    r = http.put(url, json={"https_source": {"url": f"{loopback_source}/zones.json"}})
    assert r.json()["data_source"]["status"] == "Ready", r.text
    for bad, why in (
        (f"{loopback_source}/big", "larger than"),
        ("https://caa.example.com/geozones.json", "loopback"),
        ("ftp://127.0.0.1/x", "loopback"),
    ):
        got = http.put(
            f"{GM}/geospatial_data_sources/{uuid.uuid4()}", json={"https_source": {"url": bad}}
        ).json()["data_source"]
        assert got["status"] == "Rejected" and why in got["message"], got

    # deleting the source removes its zones (the file source's copy stays)
    def zones() -> list[str]:
        fc = admin_http.get("/v1/geofences").json()
        return [f["properties"]["identifier"] for f in fc["features"]]

    assert f"{sid}.RESTR1" in zones()
    gone = http.delete(url).json()["data_source"]
    assert gone["status"] == "Deactivated"
    assert http.get(url).status_code == 404
    assert not [z for z in zones() if z.startswith(f"{sid}.")]
