"""RS256 JWT bearer tokens with the InterUSS scopes (see :class:`~airgrid.api.http.auth.JwtVerifier`).

Every route of the two interfaces depends on :func:`require_scope`: no token or an invalid
one is 401, a valid token without the route's scope is 403, as both interfaces specify.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from airgrid.api.http.auth import TokenClaims, TokenError
from airgrid.api.http.routes.deps import ServicesDep

#: Scopes of ``flight_planning`` v1: the virtual user, and the test director.
PLAN = "interuss.flight_planning.plan"
DIRECT_FLIGHT_PLANNING = "interuss.flight_planning.direct_automated_test"
#: Scopes of ``geospatial_map`` v1: queries, and the test director.
MAP_QUERY = "interuss.geospatial_map.query"
DIRECT_GEOSPATIAL_MAP = "interuss.geospatial_map.direct_automated_test"

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="InterUSSAuthority",
    description="An RS256 JWT with the interface's scope, 'aud' the server's host name "
    "(AIRGRID_JWT_AUDIENCE) and 'exp' at most an hour ahead.",
)


def require_scope(scope: str) -> Callable[..., TokenClaims]:
    """A dependency that accepts only a valid JWT carrying ``scope``.

    Parameters
    ----------
    scope
        The scope the route needs.

    Returns
    -------
    Callable
        The dependency; it returns the token's claims.
    """

    def check(
        services: ServicesDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> TokenClaims:
        challenge = {"WWW-Authenticate": f'Bearer scope="{scope}"'}
        if credentials is None:
            raise HTTPException(
                401, "missing token: send 'Authorization: Bearer <JWT>'", headers=challenge
            )
        if services.jwt is None:
            raise HTTPException(
                401,
                "this server verifies no JWTs: set AIRGRID_JWT_JWKS_PATH or AIRGRID_JWT_JWKS_URL",
                headers=challenge,
            )
        try:
            claims = services.jwt.verify(credentials.credentials)
        except TokenError as exc:
            raise HTTPException(
                401, str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            ) from None
        if scope not in claims.scopes:
            raise HTTPException(403, f"the token lacks the scope {scope!r}")
        return claims

    return check
