"""RS256 JWT scopes of both InterUSS interfaces, and JWTs as an option on ``/v1``."""

from __future__ import annotations

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from airgrid.api.http.interuss.security import (
    DIRECT_FLIGHT_PLANNING,
    DIRECT_GEOSPATIAL_MAP,
    MAP_QUERY,
    PLAN,
)
from tests.api.interuss.conftest import ALL_SCOPES, plan_id, upsert_body

PID = "03e5572a-f733-49af-bc14-8a18bd53ee39"
SID = "32ef0162-30c4-4e56-9ce0-b204155ef93d"
#: (method, path, body, the scope it needs).
ROUTES = [
    ("GET", "/flight_planning/v1/status", None, DIRECT_FLIGHT_PLANNING),
    ("PUT", f"/flight_planning/v1/flight_plans/{PID}", "upsert", PLAN),
    ("DELETE", f"/flight_planning/v1/flight_plans/{PID}", None, DIRECT_FLIGHT_PLANNING),
    ("POST", "/flight_planning/v1/clear_area_requests", "clear", DIRECT_FLIGHT_PLANNING),
    (
        "GET",
        "/flight_planning/v1/user_notifications?after=2024-04-22T16:36:50.52Z",
        None,
        PLAN,
    ),
    ("GET", "/geospatial_map/v1/status", None, DIRECT_GEOSPATIAL_MAP),
    ("GET", "/geospatial_map/v1/geospatial_data_sources", None, DIRECT_GEOSPATIAL_MAP),
    ("GET", f"/geospatial_map/v1/geospatial_data_sources/{SID}", None, DIRECT_GEOSPATIAL_MAP),
    ("POST", "/geospatial_map/v1/map/queries", "query", MAP_QUERY),
]


def _body(kind: str | None) -> dict | None:
    if kind == "upsert":
        return upsert_body("Closed")
    if kind == "clear":
        area = upsert_body()["flight_plan"]["basic_information"]["area"][0]
        return {"request_id": plan_id(), "extent": area}
    if kind == "query":
        return {"checks": []}
    return None


@pytest.mark.parametrize(("method", "path", "body", "scope"), ROUTES)
def test_scope_matrix(server, sign, method, path, body, scope):
    """Each route answers 401 without a token, 403 with every scope but its own, and
    anything but 401/403 with its own scope alone."""
    with httpx.Client(base_url=server, timeout=60) as c:
        assert c.request(method, path, json=_body(body)).status_code == 401
        others = [s for s in ALL_SCOPES if s != scope]
        r = c.request(method, path, json=_body(body), headers=_bearer(sign(*others)))
        assert r.status_code == 403, r.text
        assert scope in r.json()["detail"]
        r = c.request(method, path, json=_body(body), headers=_bearer(sign(scope)))
        assert r.status_code not in (401, 403), r.text


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_invalid_tokens_are_401(server, sign):
    stranger = rsa.generate_private_key(public_exponent=65_537, key_size=2_048)
    bad = {
        "wrong audience": sign(*ALL_SCOPES, aud="uss.example.com"),
        "expired": sign(*ALL_SCOPES, exp_in=-120),
        "valid for more than an hour": sign(*ALL_SCOPES, exp_in=2 * 3_600),
        "unknown key id": sign(*ALL_SCOPES, kid="other"),
        "signed by another key": sign(*ALL_SCOPES, key=stranger),
        "not a JWT": "agk_not-a-jwt",
    }
    with httpx.Client(base_url=server, timeout=60) as c:
        for why, token in bad.items():
            r = c.get("/flight_planning/v1/status", headers=_bearer(token))
            assert r.status_code == 401, why
            assert r.headers["content-type"].startswith("application/problem+json"), why
        # an HS256 token (algorithm confusion) is refused
        forged = jwt.encode(
            {"sub": "x", "aud": "localhost", "exp": 2_000_000_000, "scope": DIRECT_FLIGHT_PLANNING},
            "a-shared-secret-of-at-least-32-bytes!",
            algorithm="HS256",
        )
        assert c.get("/flight_planning/v1/status", headers=_bearer(forged)).status_code == 401
        # one hour ahead is accepted
        ok = sign(DIRECT_FLIGHT_PLANNING, exp_in=3_590)
        assert c.get("/flight_planning/v1/status", headers=_bearer(ok)).status_code == 200


def test_jwt_on_v1_maps_scopes_to_roles(server, sign):
    with httpx.Client(base_url=server, timeout=60) as c:
        me = c.get("/v1/whoami", headers=_bearer(sign("airgrid.regulator", sub="caa")))
        assert me.status_code == 200, me.text
        assert me.json()["name"] == "caa" and me.json()["role"] == "regulator"
        both = c.get("/v1/whoami", headers=_bearer(sign("airgrid.operator", "airgrid.admin")))
        assert both.json()["role"] == "admin"
        # InterUSS scopes grant no airgrid role
        r = c.get("/v1/whoami", headers=_bearer(sign(*ALL_SCOPES)))
        assert r.status_code == 403
        # an operator may not write geofences
        r = c.get("/v1/intents", headers=_bearer(sign("airgrid.operator")))
        assert r.status_code == 200
        r = c.delete("/v1/geofences/none", headers=_bearer(sign("airgrid.operator")))
        assert r.status_code == 403
        assert (
            c.get("/v1/whoami", headers=_bearer(sign("airgrid.admin", aud="x"))).status_code == 401
        )
