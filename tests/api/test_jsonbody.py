"""Large JSON bodies are validated in a worker thread, not on the event loop."""

from __future__ import annotations

import threading

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, field_validator

from airgrid.api.http.jsonbody import THREAD_BODY_BYTES, ThreadBodyRoute

#: Thread idents of the last validation of each Points body.
validated_in: list[int] = []


class Points(BaseModel):
    """A long list, as a track or a route intent is."""

    values: list[float] = Field(min_length=1)

    @field_validator("values")
    @classmethod
    def _where(cls, v: list[float]) -> list[float]:
        validated_in.append(threading.get_ident())
        if any(x < 0 for x in v):
            raise ValueError("values must not be negative")
        return v


def _app(route_class: type[APIRoute]) -> FastAPI:
    router = APIRouter(route_class=route_class)

    @router.post("/points")
    async def points(body: Points) -> dict[str, int]:
        # an async endpoint runs on the event loop's thread
        return {"n": len(body.values), "loop": threading.get_ident()}

    app = FastAPI()
    app.include_router(router)
    return app


def _body(n_bytes: int, last: float = 1.0) -> dict[str, list[float]]:
    n = n_bytes // 5 + 1  # "1.25," is 5 bytes
    return {"values": [1.25] * (n - 1) + [last]}


def test_a_large_body_is_validated_off_the_event_loop() -> None:
    with TestClient(_app(ThreadBodyRoute)) as client:
        validated_in.clear()
        r = client.post("/points", json=_body(THREAD_BODY_BYTES))
        assert r.status_code == 200, r.text
        assert r.json()["n"] == THREAD_BODY_BYTES // 5 + 1
        assert validated_in and r.json()["loop"] not in validated_in


def test_a_plain_route_validates_on_the_event_loop() -> None:
    # the behaviour ThreadBodyRoute changes: without it the loop's thread validates
    with TestClient(_app(APIRoute)) as client:
        validated_in.clear()
        r = client.post("/points", json=_body(THREAD_BODY_BYTES))
        assert r.status_code == 200, r.text
        loop = r.json()["loop"]
        assert validated_in == [loop]


def test_a_small_body_stays_on_the_event_loop() -> None:
    with TestClient(_app(ThreadBodyRoute)) as client:
        validated_in.clear()
        r = client.post("/points", json={"values": [1.0, 2.0]})
        assert r.status_code == 200, r.text
        loop = r.json()["loop"]
        assert validated_in == [loop]


def test_an_invalid_large_body_gets_fastapis_own_errors() -> None:
    bad = _body(THREAD_BODY_BYTES, last=-1.0)
    with TestClient(_app(ThreadBodyRoute)) as client:
        threaded = client.post("/points", json=bad)
    with TestClient(_app(APIRoute)) as client:
        plain = client.post("/points", json=bad)
    assert threaded.status_code == plain.status_code == 422
    assert threaded.json()["detail"][0]["loc"] == plain.json()["detail"][0]["loc"]
    assert threaded.json()["detail"][0]["msg"] == plain.json()["detail"][0]["msg"]
    assert threaded.json()["detail"][0]["loc"][:2] == ["body", "values"]


def test_a_large_body_that_is_not_json_gets_fastapis_own_error() -> None:
    raw = b'{"values": [' + b"1.0," * (THREAD_BODY_BYTES // 4) + b"]"  # cut short
    with TestClient(_app(ThreadBodyRoute)) as client:
        r = client.post("/points", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"


def test_every_api_route_with_a_body_is_a_thread_body_route() -> None:
    from airgrid.api.http.routes import geofences, grid, intents, routes

    with_body = [
        r
        for m in (geofences, grid, intents, routes)
        for r in m.router.routes
        if isinstance(r, APIRoute) and r.body_field is not None
    ]
    assert {r.path for r in with_body} >= {"/v1/intents", "/v1/geofences/check/track"}
    assert all(isinstance(r, ThreadBodyRoute) for r in with_body)
