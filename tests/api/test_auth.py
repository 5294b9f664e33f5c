"""The auth matrix: every endpoint x (no key, bad key, each role), and key handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from airgrid.api.http.auth import KeyStore, Role, hash_token
from airgrid.api.http.stores import StorePool
from tests.api.conftest import DEST, ORIGIN, fence, volume

ROLES = ("operator", "planner", "regulator", "admin")
ALL = frozenset(ROLES)
WRITERS = frozenset({"regulator", "admin"})
FLYERS = frozenset({"operator", "planner", "admin"})


def _PT(c):
    return {"type": "Point", "coordinates": c}


#: (method, path, body, roles allowed, success status). ``{r}`` is the calling role's index:
#: each role works on its own geofence ``G{r}`` and on intent ``I{r}`` owned by operator-1.
MATRIX = [
    ("GET", "/v1/whoami", None, ALL, 200),
    ("GET", "/v1/grid/tiers", None, ALL, 200),
    ("GET", "/v1/grid/voxel?lon=112.97&lat=28.2&alt_m=900", None, ALL, 200),
    ("GET", "/v1/grid/voxels?bbox=112.96,28.18,112.97,28.19&tier=T4", None, ALL, 200),
    ("GET", "/v1/grid/elevation?lon=112.97&lat=28.2", None, ALL, 200),
    (
        "POST",
        "/v1/grid/profile",
        {"line": {"type": "LineString", "coordinates": [[112.93, 28.15], [113, 28.2]]}},
        ALL,
        200,
    ),
    ("POST", "/v1/routes", {"origin": _PT(ORIGIN), "destination": _PT(DEST)}, ALL, 200),
    ("POST", "/v1/routes/multi", {"depot": _PT(ORIGIN), "stops": [_PT(DEST)]}, ALL, 200),
    ("GET", "/v1/geofences", None, ALL, 200),
    ("GET", "/v1/geofences/G{r}", None, ALL, 200),
    ("POST", "/v1/geofences", "new-fence", WRITERS, 201),
    ("PUT", "/v1/geofences/G{r}", "same-fence", WRITERS, 200),
    ("DELETE", "/v1/geofences/G{r}", None, WRITERS, 204),
    ("GET", "/v1/geofences/export/geojson", None, ALL, 200),
    ("GET", "/v1/geofences/export/ed269", None, ALL, 200),
    (
        "POST",
        "/v1/geofences/import/geojson",
        {"type": "FeatureCollection", "features": []},
        WRITERS,
        200,
    ),
    ("POST", "/v1/geofences/import/ed269", {"UASZoneList": []}, WRITERS, 200),
    ("POST", "/v1/geofences/check/point", {"lon": 112.97, "lat": 28.17, "alt_m": 900}, ALL, 200),
    (
        "POST",
        "/v1/geofences/check/track",
        {
            "points": [
                {"lon": 112.94, "lat": 28.17, "alt_m": 900, "time": "2026-11-25T08:00:00Z"},
                {"lon": 113.0, "lat": 28.17, "alt_m": 900, "time": "2026-11-25T08:06:00Z"},
            ]
        },
        ALL,
        200,
    ),
    ("POST", "/v1/geofences/check/plan", {"volumes": [volume()]}, ALL, 200),
    ("POST", "/v1/intents", "new-intent", FLYERS, 201),
    ("GET", "/v1/intents", None, ALL, 200),
    ("GET", "/v1/intents/I{r}", None, frozenset({"operator", "regulator", "admin"}), 200),
    ("POST", "/v1/intents/I{r}/activate", None, frozenset({"operator", "admin"}), 200),
    ("POST", "/v1/intents/I{r}/cancel", None, frozenset({"operator", "regulator", "admin"}), 200),
]


@pytest.fixture()
def world(client, auth):
    """Per role: a geofence G<i> far from the routes and an intent I<i> owned by operator-1."""
    for i, _ in enumerate(ROLES):
        assert (
            client.post(
                "/v1/geofences",
                json=fence(f"G{i}", 113.6 + i * 0.01, 28.6, 0.005),
                headers=auth["admin"],
            ).status_code
            == 201
        )
        r = client.post(
            "/v1/intents",
            json={
                "tier": "T2",
                "intent_id": f"I{i}",
                "volumes": [volume(112.91, 28.11 + i * 0.02, 0.002)],
            },
            headers=auth["operator"],
        )
        assert r.status_code == 201
    return client


def _body(spec, i: int):
    if spec == "new-fence":
        return fence(f"N{i}", 113.7 + i * 0.01, 28.7, 0.005)
    if spec == "same-fence":
        return fence(f"G{i}", 113.6 + i * 0.01, 28.6, 0.004)
    if spec == "new-intent":
        return {"tier": "T2", "volumes": [volume(113.02, 28.11 + i * 0.02, 0.002)]}
    return spec


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "ok"), MATRIX, ids=[f"{m} {p}" for m, p, *_ in MATRIX]
)
def test_auth_matrix(world, auth, method, path, body, allowed, ok):
    client = world
    url = path.format(r=0)
    none = client.request(method, url, json=_body(body, 0))
    assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
    assert none.headers["content-type"] == "application/problem+json"
    bad = client.request(
        method, url, json=_body(body, 0), headers={"Authorization": "Bearer agk_not-a-key"}
    )
    assert bad.status_code == 401 and "invalid_token" in bad.headers["www-authenticate"]
    basic = client.request(
        method, url, json=_body(body, 0), headers={"Authorization": "Basic dXNlcjpwdw=="}
    )
    assert basic.status_code == 401
    for i, role in enumerate(ROLES):
        r = client.request(method, path.format(r=i), json=_body(body, i), headers=auth[role])
        expected = ok if role in allowed else 403
        if (
            expected == 403
            and path.startswith("/v1/intents/")
            and role not in ("regulator", "admin")
        ):
            expected = 404  # another operator's intent: not even told that it exists
        assert r.status_code == expected, (role, r.text)
        if expected >= 400:
            assert (
                r.json()["status"] == expected
                and r.headers["content-type"] == "application/problem+json"
            )


@pytest.mark.parametrize("path", ["/v1/health", "/v1/ready", "/v1/metrics"])
def test_health_endpoints_need_no_key(client, path):
    assert client.get(path).status_code == 200


def test_keys_are_stored_only_as_hashes(settings):
    pool = StorePool(settings.db_url, None)
    store = KeyStore(pool.get)
    token, info = store.create("ops", "operator")
    db = pool.get()._db
    rows = db.execute("SELECT key_hash, name, role FROM api_keys").fetchall()
    assert rows == [(hash_token(token), "ops", "operator")]
    db.execute("PRAGMA wal_checkpoint(FULL)")
    raw = Path(settings.db_url.removeprefix("sqlite:///")).read_bytes()
    assert token.encode() not in raw and hash_token(token).encode() in raw
    assert store.authenticate(token).role is Role.OPERATOR
    assert store.authenticate(token + "x") is None
    assert store.revoke(info.key_id) == 1
    assert store.authenticate(token) is None
    pool.close()


def test_revoked_key_is_401(client, services, tokens):
    info = services.keys.list_keys()[0]
    services.keys.revoke(info.key_id)
    r = client.get("/v1/whoami", headers={"Authorization": f"Bearer {tokens['operator']}"})
    assert r.status_code == 401


def test_bad_key_requests(services):
    from airgrid.api.http.auth import ApiKeyError

    with pytest.raises(ApiKeyError, match="unknown role"):
        services.keys.create("x", "pilot")
    with pytest.raises(ApiKeyError, match="non-empty"):
        services.keys.create("  ", "admin")
    with pytest.raises(ApiKeyError, match="at least 8"):
        services.keys.revoke("abc")
