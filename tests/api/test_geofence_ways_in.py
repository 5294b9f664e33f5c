"""One validation for every way in: what ``POST /v1/geofences`` refuses, the GeoJSON,
ED-269 and ED-318 imports refuse too, and what it accepts they accept (the lenient forms
of the readers included)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from airgrid.airspace.geofences.formats.ed269 import to_ed269
from airgrid.airspace.geofences.formats.ed318 import to_ed318
from airgrid.airspace.geofences.formats.geojson import feature_to_geofence
from tests.api.conftest import fence

DATA = Path(__file__).resolve().parents[1] / "data"


def _set(path: tuple, value):
    def mutate(f: dict) -> None:
        node = f
        for key in path[:-1]:
            node = node[key]
        if value is _DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return mutate


_DELETE = object()
P = "properties"
RING = ("geometry", "coordinates", 0)
#: Mutations of a valid Feature: lenient forms the API and the readers accept, and faults
#: both refuse.
MUTATIONS = {
    "null name": _set((P, "name"), None),
    "null texts": lambda f: f[P].update(reason=None, authority=None, source_id=None, country=None),
    "null category": _set((P, "category"), None),
    "null references": _set((P, "lower_reference"), None),
    "W84 reference": _set((P, "upper_reference"), "W84"),
    "null timezone and periods": lambda f: f[P].update(timezone=None, daily_periods=None),
    "null validity": lambda f: f[P].update(valid_from=None, valid_to=None),
    "numeric strings": lambda f: f[P].update(lower_m="0", upper_m=" 4000 "),
    "string coordinates": _set((*RING, 1), ["113.0", "28.16"]),
    "fractional seconds": _set(
        (P, "daily_periods"), [{"days": ["MON"], "start": "07:00:00.5", "end": "19:00"}]
    ),
    "bad identifier": _set((P, "identifier"), "a/b"),
    "missing upper": _set((P, "upper_m"), _DELETE),
    "null upper": _set((P, "upper_m"), None),
    "text upper": _set((P, "upper_m"), "high"),
    "name not text": _set((P, "name"), 5),
    "unknown reference": _set((P, "lower_reference"), "QNH"),
    "unknown category": _set((P, "category"), "forbidden"),
    "open ring": lambda f: f["geometry"]["coordinates"][0].pop(),
    "three positions": lambda f: f["geometry"].update(
        coordinates=[[[112.96, 28.16], [112.99, 28.16], [112.96, 28.19]]]
    ),
    "four ordinates": _set((*RING, 1), [112.99, 28.16, 0.0, 1.0]),
    "no days": _set((P, "daily_periods"), [{"days": [], "start": "07:00", "end": "19:00"}]),
    "one-digit hour": _set(
        (P, "daily_periods"), [{"days": ["MON"], "start": "7:00", "end": "19:00"}]
    ),
    "naive start": _set((P, "valid_from"), "2026-01-01T00:00:00"),
    "lower above upper": lambda f: f[P].update(lower_m=600, upper_m=100),
    "tiny circle": _set((P, "circle"), {"center": [112.97, 28.17], "radius_m": 0.5}),
    "latitude out of range": _set((*RING, 1), [112.99, 95.0]),
}


def _ok(status: int) -> bool:
    assert status < 500, status
    return status < 300


@pytest.mark.parametrize("name", MUTATIONS)
def test_post_and_every_import_agree(client, auth, name):
    h = auth["regulator"]
    f = copy.deepcopy(fence(f"W-{len(name)}"))
    MUTATIONS[name](f)
    posted = _ok(client.post("/v1/geofences", json=f, headers=h).status_code)
    imported = _ok(
        client.post(
            "/v1/geofences/import/geojson",
            json={"type": "FeatureCollection", "features": [f]},
            headers=h,
        ).status_code
    )
    assert imported == posted, f"{name}: POST {'accepts' if posted else 'refuses'}, import does not"
    if not posted:
        return
    g = feature_to_geofence(client.get(f"/v1/geofences/{f[P]['identifier']}", headers=h).json())
    for fmt, doc in (("ed269", to_ed269([g])), ("ed318", to_ed318([g]))):
        r = client.post(f"/v1/geofences/import/{fmt}", json=doc, headers=h)
        assert r.status_code == 200, (fmt, r.text)


@pytest.mark.parametrize(
    "fmt, name",
    [
        ("ed269", "interuss_cis_source_sample_ed269.json"),
        ("ed318", "interuss_cis_source_sample_ed318.json"),
    ],
)
def test_published_samples_import_and_post_back(client, auth, fmt, name):
    """InterUSS monitoring's Swiss samples (tests/data/SOURCE.md) import through the API, and
    each imported geofence, posted back as GeoJSON under a new identifier, is accepted."""
    h = auth["regulator"]
    doc = json.loads((DATA / name).read_text(encoding="utf-8"))
    r = client.post(f"/v1/geofences/import/{fmt}", json=doc, headers=h)
    assert r.status_code == 200, r.text
    created = r.json()["created"]
    assert created
    for f in client.get("/v1/geofences/export/geojson", headers=h).json()["features"]:
        f["id"] = f["properties"]["identifier"] = f["properties"]["identifier"] + "-again"
        assert client.post("/v1/geofences", json=f, headers=h).status_code == 201
