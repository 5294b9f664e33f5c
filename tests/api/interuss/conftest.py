"""A real uvicorn serving airgrid with JWT verification, and RS256 tokens signed here.

One server for the InterUSS tests (the grid loads once): its JWKS file holds the public
half of an RSA key made in the session, JWTs are also accepted on ``/v1``, and the test
subject ``uss_qualifier`` is granted priorities up to 100.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from airgrid.api.http.interuss.security import (
    DIRECT_FLIGHT_PLANNING,
    DIRECT_GEOSPATIAL_MAP,
    MAP_QUERY,
    PLAN,
)
from tests.servers import airgrid_serve

#: The audience the server checks (the host name uss_qualifier would call it by).
AUDIENCE = "localhost"
#: Every InterUSS scope.
ALL_SCOPES = (PLAN, DIRECT_FLIGHT_PLANNING, MAP_QUERY, DIRECT_GEOSPATIAL_MAP)
#: Priority granted to the test subject (``priority_grants``).
GRANTED = 100


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    """The signing key of the test authority."""
    return rsa.generate_private_key(public_exponent=65_537, key_size=2_048)


@pytest.fixture(scope="session")
def sign(rsa_key: rsa.RSAPrivateKey) -> Callable[..., str]:
    """``sign(*scopes, sub=, aud=, exp_in=, kid=, key=)``: an RS256 JWT."""

    def make(
        *scopes: str,
        sub: str = "uss_qualifier",
        aud: str = AUDIENCE,
        exp_in: float = 300.0,
        kid: str = "test-key",
        key: rsa.RSAPrivateKey | None = None,
    ) -> str:
        claims = {
            "sub": sub,
            "aud": aud,
            "exp": int(time.time() + exp_in),
            "scope": " ".join(scopes),
        }
        return jwt.encode(claims, key or rsa_key, algorithm="RS256", headers={"kid": kid})

    return make


@pytest.fixture(scope="session")
def server(grid_dir: Path, rsa_key: rsa.RSAPrivateKey, tmp_path_factory: pytest.TempPathFactory):
    """uvicorn (one worker) with the test JWKS; yields the base URL."""
    tmp = tmp_path_factory.mktemp("interuss")
    jwk = json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key()))
    jwks = tmp / "jwks.json"
    jwks.write_text(
        json.dumps({"keys": [{**jwk, "kid": "test-key", "alg": "RS256", "use": "sig"}]})
    )
    env = {
        "AIRGRID_GRID_PATH": str(grid_dir),
        "AIRGRID_VAR_DIR": str(tmp),
        "AIRGRID_DB_URL": f"sqlite:///{tmp / 'airgrid.sqlite'}",
        "AIRGRID_JWT_JWKS_PATH": str(jwks),
        "AIRGRID_JWT_AUDIENCE": AUDIENCE,
        "AIRGRID_JWT_FOR_V1": "true",
        "AIRGRID_PRIORITY_GRANTS": json.dumps({"uss_qualifier": GRANTED}),
        "AIRGRID_INTERUSS_MAX_SOURCE_BYTES": "200000",
    }
    with airgrid_serve(env, tmp / "uvicorn.log") as base:
        yield base


@pytest.fixture(scope="session")
def http(server: str, sign: Callable[..., str]):
    """An httpx client on the server carrying a token with every InterUSS scope."""
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {sign(*ALL_SCOPES)}"}, timeout=60
    ) as c:
        yield c


def rfc3339(t: datetime) -> dict:
    """An InterUSS Time."""
    return {"value": t.astimezone(UTC).isoformat().replace("+00:00", "Z"), "format": "RFC3339"}


def area(
    lng: float,
    lat: float,
    *,
    d: float = 0.004,
    lo: float = 150.0,
    hi: float = 250.0,
    start_in: timedelta = timedelta(minutes=30),
    length: timedelta = timedelta(minutes=20),
) -> list[dict]:
    """One Volume4D: a square of half-side ``d`` degrees, W84 altitudes, a time span."""
    t0 = datetime.now(UTC) + start_in
    return [
        {
            "volume": {
                "outline_polygon": {
                    "vertices": [
                        {"lng": lng - d, "lat": lat - d},
                        {"lng": lng + d, "lat": lat - d},
                        {"lng": lng + d, "lat": lat + d},
                        {"lng": lng - d, "lat": lat + d},
                    ]
                },
                "altitude_lower": {"value": lo, "reference": "W84", "units": "M"},
                "altitude_upper": {"value": hi, "reference": "W84", "units": "M"},
            },
            "time_start": rfc3339(t0),
            "time_end": rfc3339(t0 + length),
        }
    ]


def upsert_body(
    usage: str = "Planned",
    *,
    where: tuple[float, float] = (112.97, 28.17),
    priority: int = 0,
    style: str = "IfAllowed",
    uas: str = "Nominal",
    **area_kw,
) -> dict:
    """An UpsertFlightPlanRequest with a fresh request id."""
    return {
        "flight_plan": {
            "basic_information": {
                "usage_state": usage,
                "uas_state": uas,
                "area": area(*where, **area_kw),
            },
            "astm_f3548_21": {"priority": priority},
        },
        "execution_style": style,
        "request_id": str(uuid.uuid4()),
    }


def plan_id() -> str:
    """A fresh flight plan id (a version-4 UUID)."""
    return str(uuid.uuid4())


@pytest.fixture(scope="session")
def admin_http(server: str, sign: Callable[..., str]):
    """An httpx client on the server's ``/v1`` with a JWT granting the admin role."""
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {sign('airgrid.admin')}"}, timeout=60
    ) as c:
        yield c
