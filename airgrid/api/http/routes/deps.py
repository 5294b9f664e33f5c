"""Shared dependencies: the loaded services, the caller and role checks.

Use the ``Annotated`` aliases in route signatures::

    def handler(services: ServicesDep, me: PrincipalDep) -> ...
    def writer(me: Annotated[Principal, Depends(require(Role.REGULATOR, Role.ADMIN))]) -> ...
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from airgrid.airspace.grid.voxels import Grid
from airgrid.api.http.auth import (
    TOKEN_PREFIX,
    JwtVerifier,
    KeyStore,
    Principal,
    Role,
    TokenError,
    role_from_scopes,
)
from airgrid.api.http.stores import StorePool
from airgrid.settings import Settings
from airgrid.terrain import Dem
from airgrid.terrain.geoid import Geoid

if TYPE_CHECKING:
    from airgrid.api.http.audit_jobs import AuditJobs
    from airgrid.api.http.planner import RoutePlanner
    from airgrid.api.http.registry import GeofenceRegistry


#: Prefix of every versioned route (set on each router, so route templates are complete).
V1 = "/v1"


@dataclass
class Services:
    """Everything a request handler may use, loaded once per app.

    Attributes
    ----------
    settings
        The service settings.
    grid
        The loaded grid.
    dem
        The DEM for elevations and profiles.
    geoid
        The geoid model for W84 (WGS84 ellipsoidal) altitudes.
    keys
        The API keys (kept in the stores' database).
    routing
        The route planner (:class:`airgrid.api.http.planner.RoutePlanner`).
    geofences
        The geofence registry (:class:`airgrid.api.http.registry.GeofenceRegistry`).
    stores
        Per-thread stores: the service database (flight intents, geofences, API keys,
        recorded submissions, jobs).
    audits
        The audit jobs (:class:`airgrid.api.http.audit_jobs.AuditJobs`).
    jwt
        The JWT verifier of the configured JWKS (None without one).
    """

    settings: Settings
    grid: Grid
    dem: Dem
    geoid: Geoid
    keys: KeyStore
    stores: StorePool
    routing: RoutePlanner
    geofences: GeofenceRegistry
    audits: AuditJobs
    jwt: JwtVerifier | None = None

    def close(self) -> None:
        """Stop the audit workers and close the database connections (at shutdown)."""
        self.audits.close()
        self.stores.close()

    def pingables(self) -> dict[str, Any]:
        """Dependencies checked by readiness, by name."""
        return {"database": self.stores}


async def get_services(request: Request) -> Services:
    """The app's :class:`Services` (async: no thread-pool hop for an attribute read)."""
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]

_bearer = HTTPBearer(
    auto_error=False,
    description="An API key from 'airgrid keys create' (or, with jwt_for_v1, an RS256 JWT).",
)


async def current_principal(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller identified by its bearer token.

    An API key kept in memory (:meth:`~airgrid.api.http.auth.KeyStore.cached`) is
    answered on the event loop; a store read, and a JWT's verification (which may fetch
    the JWKS), run in a worker thread.

    Raises
    ------
    HTTPException
        401 when the token is missing, malformed or unknown.
    """
    if credentials is None:
        raise HTTPException(
            401,
            "missing API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = credentials.credentials
    if (
        services.jwt is not None
        and services.settings.jwt_for_v1
        and not token.startswith(TOKEN_PREFIX)
    ):
        return await run_in_threadpool(_jwt_principal, services, services.jwt, token)
    principal = services.keys.cached(token)
    if principal is None:
        principal = await run_in_threadpool(services.keys.authenticate, token)
    if principal is None:
        raise HTTPException(
            401,
            "unknown or revoked API key",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return principal


def _jwt_principal(services: Services, verifier: JwtVerifier, token: str) -> Principal:
    """The principal of a JWT on ``/v1``: its subject, with the role its scopes grant.

    Raises
    ------
    HTTPException
        401 for an invalid token, 403 when no scope maps to a role.
    """
    try:
        claims = verifier.verify(token)
    except TokenError as exc:
        raise HTTPException(
            401, str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from None
    role = role_from_scopes(claims.scopes, services.settings.jwt_role_scopes)
    if role is None:
        raise HTTPException(
            403,
            f"the JWT has none of the scopes {sorted(services.settings.jwt_role_scopes)} "
            "that grant an airgrid role",
        )
    return Principal(claims.subject, role, "jwt")


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency that lets only ``roles`` through (403 for the others), on the event
    loop.

    Parameters
    ----------
    *roles
        Roles allowed.
    """
    allowed = frozenset(roles)

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(
                403,
                f"role '{principal.role}' may not do this; it needs one of "
                f"{sorted(r.value for r in allowed)}",
            )
        return principal

    return check


WriterDep = Annotated[Principal, Depends(require(Role.REGULATOR, Role.ADMIN))]
FlyerDep = Annotated[Principal, Depends(require(Role.OPERATOR, Role.PLANNER, Role.ADMIN))]
