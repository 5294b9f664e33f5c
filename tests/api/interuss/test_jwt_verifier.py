"""The JWT verifier on its own: keys from a JWKS URL (fetched again for an unknown key id),
the one-hour lifetime bound, and the scope -> role mapping for ``/v1``."""

from __future__ import annotations

import http.server
import json
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from airgrid.api.http.auth import JwksError, JwtVerifier, Role, TokenError, role_from_scopes


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    return {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": kid}


@pytest.fixture()
def jwks_server():
    """A loopback server of a JWKS document the test may change; yields (URL, keys, hits)."""
    keys: list[dict] = []
    hits: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(1)
            body = json.dumps({"keys": keys}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/jwks.json", keys, hits
    finally:
        srv.shutdown()
        srv.server_close()


def _token(key: rsa.RSAPrivateKey, kid: str, exp_in: float = 300, aud: str = "airgrid") -> str:
    claims = {"sub": "c", "aud": aud, "exp": int(time.time() + exp_in), "scope": "a b"}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_jwks_url_and_key_rotation(jwks_server):
    url, keys, hits = jwks_server
    k1 = rsa.generate_private_key(public_exponent=65_537, key_size=2_048)
    k2 = rsa.generate_private_key(public_exponent=65_537, key_size=2_048)
    keys.append(_jwk(k1, "one"))
    v = JwtVerifier("airgrid", jwks_url=url, min_refetch_s=0.0)
    claims = v.verify(_token(k1, "one"))
    assert claims.subject == "c" and claims.scopes == {"a", "b"}
    v.verify(_token(k1, "one"))
    assert len(hits) == 1  # cached
    # a new key appears: a token naming it makes the verifier fetch the set again
    keys.append(_jwk(k2, "two"))
    assert v.verify(_token(k2, "two")).subject == "c"
    assert len(hits) == 2
    with pytest.raises(TokenError, match="no key"):
        v.verify(_token(k2, "three"))


def test_lifetime_audience_and_configuration(tmp_path):
    key = rsa.generate_private_key(public_exponent=65_537, key_size=2_048)
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [_jwk(key, "k")]}))
    v = JwtVerifier("airgrid", jwks_path=path)
    v.verify(_token(key, "k", exp_in=3_600))
    with pytest.raises(TokenError, match="more than 3600"):
        v.verify(_token(key, "k", exp_in=3_600 + 120))
    with pytest.raises(TokenError):
        v.verify(_token(key, "k", aud="other"))
    with pytest.raises(JwksError):
        JwtVerifier("airgrid", jwks_path=path, jwks_url="http://127.0.0.1:1/x")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(JwksError):
        JwtVerifier("airgrid", jwks_path=tmp_path / "bad.json").verify(_token(key, "k"))


def test_role_from_scopes():
    table = {"op": "operator", "reg": "regulator", "adm": "admin"}
    assert role_from_scopes(frozenset({"op", "reg"}), table) is Role.REGULATOR
    assert role_from_scopes(frozenset({"x"}), table) is None
