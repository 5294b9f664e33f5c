"""API keys: bearer tokens mapped to principals with a role.

A key is ``agk_`` followed by 32 random bytes (URL-safe base64). Only its SHA-256
is stored, in the flight store's ``api_keys`` table
(:mod:`airgrid.airspace.store.accounts`). A request's token is hashed and looked
up by that hash, so no secret is ever compared byte by byte and a leaked database
holds no usable key. ``airgrid keys create`` prints a new token once.

Roles, from least to most powerful in what they may write:

* ``operator``: submits flight intents and sees or changes only its own;
* ``planner``: plans routes and submits intents of its own;
* ``regulator``: writes geofences, sees every intent, may cancel any;
* ``admin``: everything.

JWTs (:class:`JwtVerifier`): RS256 bearer tokens signed by an authority whose public keys
are a JWKS file or URL, with the claims the InterUSS automated-testing interfaces demand
(``sub``, ``scope``, ``aud`` equal to the configured audience, ``exp`` at most
:data:`MAX_TOKEN_LIFETIME_S` ahead). The InterUSS routes check their scopes; ``/v1``
accepts them too when ``jwt_for_v1`` is set, the role coming from the scopes
(:func:`role_from_scopes`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from jwt.algorithms import RSAAlgorithm

from airgrid.api.http.errors import ApiError

if TYPE_CHECKING:
    from airgrid.airspace.store.service import Store

TOKEN_PREFIX = "agk_"


class Role(StrEnum):
    """What a principal may do (see the module docstring)."""

    OPERATOR = "operator"
    PLANNER = "planner"
    REGULATOR = "regulator"
    ADMIN = "admin"


class ApiKeyError(ApiError, ValueError):
    """An API key request is invalid (unknown role, empty name)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling.

    Attributes
    ----------
    name
        The principal's name; owner of the intents it submits.
    role
        Its role.
    key_id
        Short public id of the key used (first characters of its hash).
    """

    name: str
    role: Role
    key_id: str


@dataclass(frozen=True)
class KeyInfo:
    """A stored key, without its secret."""

    key_id: str
    name: str
    role: Role
    created_at: float
    revoked: bool


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token (the only form a key is stored in)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


#: Most live keys :class:`KeyStore` keeps in memory; the oldest entry makes room for a new one.
KEY_CACHE_SIZE = 10_000


class KeyStore:
    """API keys: tokens made and hashed here, kept in the store's ``api_keys`` table.

    Live keys found by :meth:`authenticate` are kept in memory by their hash for
    ``cache_s`` seconds (at most ``cache_size`` of them), so a key in use is read from
    the store about once per ``cache_s`` rather than on every request. Unknown and
    revoked tokens are never kept: a key created anywhere works at once. :meth:`revoke`
    empties the memory at once; a key revoked by another process sharing the database
    (several servers on one PostgreSQL, ``airgrid keys revoke``) is refused here at the
    latest ``cache_s`` seconds after its revocation committed.

    Parameters
    ----------
    store
        Returns the calling thread's store (:meth:`~airgrid.api.http.stores.StorePool.get`).
    cache_s
        How long a live key is used without reading the store again (0: read it on
        every request).
    cache_size
        Most keys kept.
    clock
        Monotonic seconds (tests).
    """

    def __init__(
        self,
        store: Callable[[], Store],
        cache_s: float = 0.0,
        *,
        cache_size: int = KEY_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.cache_s = cache_s
        self.cache_size = cache_size
        self.clock = clock
        # hash -> (principal, clock time until which it is used), oldest first: an entry
        # is removed before it is stored again, so expired ones gather at the front
        self._cache: dict[str, tuple[Principal, float]] = {}
        # counts revocations here, so a read that began before one is not kept after it
        self._revocations = 0
        self._lock = threading.Lock()

    def create(self, name: str, role: Role | str) -> tuple[str, KeyInfo]:
        """Create a key; returns the token (shown once) and its stored record.

        Raises
        ------
        ApiKeyError
            Empty name or unknown role.
        """
        name = name.strip()
        if not name:
            raise ApiKeyError("a key needs a non-empty principal name")
        try:
            the_role = Role(role)
        except ValueError:
            raise ApiKeyError(
                f"unknown role {role!r}; roles are {[r.value for r in Role]}"
            ) from None
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = hash_token(token)
        now = time.time()
        self.store().add_api_key(digest, name, the_role.value, now)
        return token, KeyInfo(digest[:12], name, the_role, now, False)

    def cached(self, token: str) -> Principal | None:
        """The principal of a token kept in memory and not yet due for a read, or None
        (cheap: no store access, no lock; may run on the event loop)."""
        entry = self._cache.get(hash_token(token))
        return entry[0] if entry is not None and self.clock() < entry[1] else None

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a token, or None if no live key has that hash.

        A key kept in memory for less than ``cache_s`` seconds is answered from there;
        otherwise the store is read (blocking: call it from a worker thread).
        """
        digest = hash_token(token)
        entry = self._cache.get(digest)
        start = self.clock()
        if entry is not None and start < entry[1]:
            return entry[0]
        revocations = self._revocations
        key = self.store().live_api_key(digest)
        if key is None:
            return None
        principal = Principal(key.name, Role(key.role), digest[:12])
        if self.cache_s > 0:
            self._keep(digest, principal, start + self.cache_s, revocations)
        return principal

    def _keep(self, digest: str, principal: Principal, until: float, revocations: int) -> None:
        """Keep a live key read while ``revocations`` revocations had happened here,
        unless one happened since; expired entries, then the oldest, make room."""
        with self._lock:
            if revocations != self._revocations:
                return
            cache = self._cache
            cache.pop(digest, None)
            now = self.clock()
            while cache:
                first = next(iter(cache))
                if len(cache) < self.cache_size and cache[first][1] > now:
                    break
                del cache[first]
            cache[digest] = (principal, until)

    def list_keys(self) -> list[KeyInfo]:
        """Every key, oldest first (no secrets: they are not stored)."""
        return [
            KeyInfo(k.key_hash[:12], k.name, Role(k.role), k.created_at, k.revoked)
            for k in self.store().api_keys()
        ]

    def revoke(self, key_id: str) -> int:
        """Revoke the key(s) whose id (hash prefix, at least 8 characters) is ``key_id``.

        The keys kept in memory are dropped once the revocation is stored, so this
        process refuses the revoked keys at once.

        Returns
        -------
        int
            Keys revoked.

        Raises
        ------
        ApiKeyError
            An id shorter than 8 characters.
        """
        if len(key_id) < 8 or not all(c in "0123456789abcdef" for c in key_id):
            raise ApiKeyError(
                "give the key id as printed by 'airgrid keys list' (at least 8 hex characters)"
            )
        try:
            return self.store().revoke_api_keys(key_id)
        finally:
            with self._lock:
                self._revocations += 1
                self._cache.clear()


#: Longest a JWT may still be valid for when it is presented (the InterUSS interfaces:
#: ``exp`` at most one hour in the future).
MAX_TOKEN_LIFETIME_S = 3_600.0
#: Clock skew tolerated on ``exp`` and ``nbf``.
TOKEN_LEEWAY_S = 30.0
#: How long keys fetched from a JWKS URL are used before they are fetched again, and the
#: shortest time between two fetches caused by an unknown key id.
JWKS_REFRESH_S, JWKS_MIN_REFETCH_S = 300.0, 10.0
#: Largest JWKS document read, and the longest its download may take.
MAX_JWKS_BYTES, JWKS_TIMEOUT_S = 1_000_000, 5.0


class TokenError(ApiError, ValueError):
    """A bearer JWT cannot be accepted: malformed, wrong algorithm or key, bad signature,
    wrong audience, expired or valid for too long (401)."""

    status = 401


class JwksError(ApiError, ValueError):
    """The configured JWKS cannot be read or holds no usable RS256 key (503: the server,
    not the client, must be fixed)."""

    status = 503


@dataclass(frozen=True)
class TokenClaims:
    """What a verified JWT says.

    Attributes
    ----------
    subject
        ``sub``: the client.
    scopes
        The space-separated ``scope`` claim, as a set.
    expires_at
        ``exp``, POSIX seconds.
    """

    subject: str
    scopes: frozenset[str]
    expires_at: float


def _read_jwks(path: Path | None, url: str | None) -> dict[str, Any]:
    """The JWKS document of a file or an ``http(s)`` URL (bounded in size and time)."""
    try:
        if path is not None:
            raw = path.read_bytes()[: MAX_JWKS_BYTES + 1]
        else:
            if url is None or not url.startswith(("http://", "https://")):
                raise JwksError(f"the JWKS URL must be http(s), got {url!r}")
            with urllib.request.urlopen(url, timeout=JWKS_TIMEOUT_S) as resp:
                raw = resp.read(MAX_JWKS_BYTES + 1)
        if len(raw) > MAX_JWKS_BYTES:
            raise JwksError(f"the JWKS is larger than {MAX_JWKS_BYTES} bytes")
        doc = json.loads(raw)
    except (OSError, ValueError) as exc:
        if isinstance(exc, JwksError):
            raise
        raise JwksError(f"cannot read the JWKS ({path or url}): {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise JwksError("the JWKS is not an object with a 'keys' list")
    return doc


class JwtVerifier:
    """Verifies RS256 bearer JWTs with the public keys of a JWKS file or URL.

    Parameters
    ----------
    audience
        The ``aud`` every token must carry.
    jwks_path, jwks_url
        Where the keys are (exactly one). A file is read once; a URL is fetched on first
        use, again after :data:`JWKS_REFRESH_S`, and when a token names an unknown key id
        (at most every :data:`JWKS_MIN_REFETCH_S`).
    min_refetch_s
        Shortest time between two fetches of the URL caused by unknown key ids.
    clock
        Current POSIX time (tests).
    """

    def __init__(
        self,
        audience: str,
        *,
        jwks_path: Path | None = None,
        jwks_url: str | None = None,
        min_refetch_s: float = JWKS_MIN_REFETCH_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (jwks_path is None) == (jwks_url is None):
            raise JwksError("configure exactly one of jwt_jwks_path and jwt_jwks_url")
        self.audience = audience
        self.jwks_path = jwks_path
        self.jwks_url = jwks_url
        self.min_refetch_s = min_refetch_s
        self.clock = clock
        self._keys: dict[str | None, Any] = {}
        self._fetched = -1e300
        self._lock = threading.Lock()

    def _load(self, *, unknown_kid: bool) -> dict[str | None, Any]:
        """The keys by ``kid`` (``None`` for a key without one), fetched when due."""
        now = time.monotonic()
        with self._lock:
            due = not self._keys or (
                self.jwks_url is not None
                and now - self._fetched > (self.min_refetch_s if unknown_kid else JWKS_REFRESH_S)
            )
            if due:
                keys: dict[str | None, Any] = {}
                for jwk in _read_jwks(self.jwks_path, self.jwks_url)["keys"]:
                    if isinstance(jwk, dict) and jwk.get("kty") == "RSA":
                        try:
                            keys[jwk.get("kid")] = RSAAlgorithm.from_jwk(jwk)
                        except (jwt.InvalidKeyError, ValueError, KeyError, TypeError):
                            continue
                if not keys:
                    raise JwksError("the JWKS holds no usable RSA key")
                self._keys, self._fetched = keys, now
            return self._keys

    def verify(self, token: str) -> TokenClaims:
        """The claims of a valid token.

        Raises
        ------
        TokenError
            Malformed; not RS256; unknown key; bad signature; ``aud`` missing or not the
            audience; ``exp`` or ``sub`` missing; expired; ``exp`` more than
            :data:`MAX_TOKEN_LIFETIME_S` ahead; ``scope`` not a string.
        JwksError
            The keys cannot be read.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError(f"malformed JWT: {exc}") from None
        if header.get("alg") != "RS256":
            raise TokenError(f"the JWT must be signed with RS256, not {header.get('alg')!r}")
        kid = header.get("kid")
        keys = self._load(unknown_kid=False)
        if kid is not None and kid not in keys:
            keys = self._load(unknown_kid=True)
        # a token without a key id is accepted only when the set has a single key
        key = next(iter(keys.values())) if kid is None and len(keys) == 1 else keys.get(kid)
        if key is None:
            raise TokenError(f"no key with id {kid!r} in the JWKS")
        now = self.clock()
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.audience,
                leeway=TOKEN_LEEWAY_S,
                options={"require": ["exp", "sub", "aud"], "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid JWT: {exc}") from None
        exp = float(claims["exp"])
        if exp < now - TOKEN_LEEWAY_S:
            raise TokenError("the JWT has expired")
        if exp > now + MAX_TOKEN_LIFETIME_S + TOKEN_LEEWAY_S:
            raise TokenError(
                f"the JWT expires more than {MAX_TOKEN_LIFETIME_S:.0f} s ahead; ask for a "
                "shorter-lived token"
            )
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise TokenError("the JWT's 'scope' must be a space-separated string")
        return TokenClaims(str(claims["sub"]), frozenset(scope.split()), exp)


def jwt_verifier(audience: str, jwks_path: Path | None, jwks_url: str | None) -> JwtVerifier | None:
    """The verifier of the configured JWKS, or None when none is configured."""
    if jwks_path is None and jwks_url is None:
        return None
    return JwtVerifier(audience, jwks_path=jwks_path, jwks_url=jwks_url)


def role_from_scopes(scopes: frozenset[str], role_scopes: Mapping[str, str]) -> Role | None:
    """The most powerful role the scopes grant (roles in :class:`Role` order), or None.

    Raises
    ------
    ApiKeyError
        ``role_scopes`` names an unknown role.
    """
    granted = []
    for scope, role in role_scopes.items():
        if scope in scopes:
            try:
                granted.append(Role(role))
            except ValueError:
                raise ApiKeyError(
                    f"jwt_role_scopes maps {scope!r} to unknown role {role!r}"
                ) from None
    order = list(Role)
    return max(granted, key=order.index) if granted else None
