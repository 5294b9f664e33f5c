"""One problem+json shape for every error, limits answered 4xx, the OpenAPI document."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from airgrid.airspace.errors import StoreBusyError
from airgrid.api.http.app import create_app, load_services
from airgrid.api.http.stores import DatabaseUrlError
from tests.api.conftest import volume

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def _is_problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert set(body) >= PROBLEM_KEYS and body["status"] == status
    assert body["type"].startswith("urn:airgrid:problem:")
    return body


def test_unknown_path_and_method(client, auth):
    _is_problem(client.get("/v1/nope", headers=auth["admin"]), 404)
    _is_problem(client.delete("/v1/grid/tiers", headers=auth["admin"]), 405)


def test_malformed_json_is_422_with_errors(client, auth):
    r = client.post(
        "/v1/grid/profile",
        content=b"{not json",
        headers={**auth["admin"], "Content-Type": "application/json"},
    )
    body = _is_problem(r, 422)
    assert body["errors"][0]["type"] == "json_invalid"


def test_nan_is_refused(client, auth):
    r = client.post(
        "/v1/geofences/check/point",
        content=b'{"lon": NaN, "lat": 28.1, "alt_m": 900}',
        headers={**auth["admin"], "Content-Type": "application/json"},
    )
    body = _is_problem(r, 422)
    assert body["errors"][0]["loc"] == ["body", "lon"]


def test_declared_oversized_body_is_413_before_reading(client, auth, settings):
    r = client.post(
        "/v1/grid/profile", content=b"x" * (settings.max_body_bytes + 1), headers=auth["admin"]
    )
    body = _is_problem(r, 413)
    assert str(settings.max_body_bytes) in body["detail"]


def test_streamed_oversized_body_is_413(client, auth, settings):
    def chunks():
        for _ in range(settings.max_body_bytes // 10_000 + 2):
            yield b" " * 10_000

    r = client.post(
        "/v1/grid/profile",
        content=chunks(),
        headers={**auth["admin"], "Content-Type": "application/json"},
    )
    _is_problem(r, 413)


def test_store_busy_is_503_with_retry_after(client, auth, services, monkeypatch):
    store = services.stores.get()

    def busy(*a, **k):
        raise StoreBusyError("SQLite store is locked by another writer")

    monkeypatch.setattr(type(store), "submit", busy)
    r = client.post(
        "/v1/intents", json={"tier": "T2", "volumes": [volume()]}, headers=auth["operator"]
    )
    _is_problem(r, 503)
    assert r.headers["retry-after"] == "1"


def test_unexpected_error_is_a_500_problem_without_internals(settings, services):
    app = create_app(settings, services=services)

    def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/v1/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        body = _is_problem(c.get("/v1/boom"), 500)
    assert "secret" not in body["detail"]


def test_openapi_documents_every_operation_with_examples_and_problems(client):
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), (method, path)
            for code, resp in op["responses"].items():
                if int(code) >= 400 and path != "/v1/ready":
                    assert list(resp["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        code,
                    )
            if "requestBody" in op:
                ref = op["requestBody"]["content"]["application/json"]["schema"]
                name = ref.get("$ref", "").rsplit("/", 1)[-1]
                has_example = (
                    (name and "examples" in schemas[name])
                    or "examples" in ref
                    or "example" in op["requestBody"]["content"]["application/json"]
                )
                assert has_example, (method, path)
            ok = next(r for c, r in op["responses"].items() if c.startswith("2"))
            for media in ok.get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                if ref:
                    assert "examples" in schemas[ref.rsplit("/", 1)[-1]], (method, path)


def test_bad_database_urls_fail_at_start_up(settings, tmp_path):
    for url in (f"sqlite:///{tmp_path / 'other.db'}", "sqlite:///:memory:"):
        with pytest.raises(DatabaseUrlError, match=r"airgrid\.sqlite|must name a file"):
            load_services(settings.model_copy(update={"db_url": url}))


DEGENERATE = {"type": "Polygon", "coordinates": [[[0, 0], [0, 0], [0, 0], [0, 0]]]}


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v1/intents", {"tier": "T2", "volumes": [{**volume(), "footprint": DEGENERATE}]}),
        ("/v1/geofences/check/plan", {"volumes": [{**volume(), "footprint": DEGENERATE}]}),
        (
            "/v1/routes",
            {
                "origin": {"type": "Point", "coordinates": [112.95, 28.15, 950]},
                "destination": {"type": "Point", "coordinates": [112.99, 28.19, 950]},
                "no_go": [DEGENERATE],
            },
        ),
    ],
)
def test_degenerate_polygon_is_a_422_not_a_500(client, auth, path, body):
    # schemathesis found an all-[0, 0] ring answered with a 500 on POST /v1/intents.
    body = _is_problem(client.post(path, json=body, headers=auth["admin"]), 422)
    assert "invalid polygon" in body["detail"]
