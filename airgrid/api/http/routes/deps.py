"""Shared dependencies: the loaded services, the caller and role checks.

Use the ``Annotated`` aliases in route signatures::

    def handler(services: ServicesDep, me: PrincipalDep) -> ...
    def writer(me: Annotated[Principal, Depends(require(Role.REGULATOR, Role.ADMIN))]) -> ...
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from airgrid.airspace.grid.voxels import Grid
from airgrid.airspace.store.backends import SQLITE_FILE
from airgrid.airspace.store.service import Store, open_store
from airgrid.api.http.auth import KeyStore, Principal, Role
from airgrid.api.http.errors import ApiError
from airgrid.settings import Settings
from airgrid.terrain import Dem
from airgrid.terrain.geoid import Geoid

if TYPE_CHECKING:
    from airgrid.api.http.planner import RoutePlanner
    from airgrid.api.http.registry import GeofenceRegistry


class DatabaseUrlError(ApiError, ValueError):
    """The database URL is unusable (a SQLite URL without a file, or the wrong file name)."""


def store_location(db_url: str) -> str | Path:
    """Where :func:`~airgrid.airspace.store.service.open_store` finds the database of a URL:
    the folder of a ``sqlite:///<dir>/airgrid.sqlite`` file, or the PostgreSQL URL itself.

    Raises
    ------
    DatabaseUrlError
        A ``sqlite:`` URL without a file path, or whose file is not named ``airgrid.sqlite``
        (the store's file name).
    """
    if not db_url.startswith("sqlite:"):
        return db_url
    path = db_url.removeprefix("sqlite:///")
    if path == db_url or not path or path == ":memory:":
        raise DatabaseUrlError(
            f"SQLite URLs must name a file, as sqlite:///path/to/{SQLITE_FILE}; got {db_url!r}"
        )
    if Path(path).name != SQLITE_FILE:
        raise DatabaseUrlError(
            f"the SQLite database must be a file named {SQLITE_FILE}, got {path}"
        )
    return Path(path).parent


class StorePool:
    """One :class:`~airgrid.airspace.store.service.Store` per thread (a Store holds one connection).

    Parameters
    ----------
    db_url
        ``sqlite:///<dir>/airgrid.sqlite`` or ``postgresql://...``.
    dem
        Terrain for geofences with true-height limits (None: the stores use the Earth-wide
        ground extremes; enough for API keys).

    Raises
    ------
    DatabaseUrlError
        An unusable URL (see :func:`store_location`).
    """

    def __init__(self, db_url: str, dem: Dem | None) -> None:
        self.location = store_location(db_url)
        self.dem = dem
        self._local = threading.local()
        self._all: list[Store] = []
        self._lock = threading.Lock()
        self.get()  # create and migrate now, so a bad database fails at start-up

    def get(self) -> Store:
        """This thread's store."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = open_store(self.location, dem=self.dem)
            with self._lock:
                self._all.append(store)
        return store

    def ping(self) -> None:
        """Read the schema version (readiness); raises if the database is unreachable."""
        self.get().schema_version()

    def close(self) -> None:
        """Close the stores; those opened by other threads are left to their owner (SQLite)."""
        with self._lock:
            for store in self._all:
                with suppress(sqlite3.ProgrammingError):  # opened in another thread
                    store.close()
            self._all.clear()
        self._local = threading.local()


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
        recorded submissions).
    """

    settings: Settings
    grid: Grid
    dem: Dem
    geoid: Geoid
    keys: KeyStore
    stores: StorePool
    routing: RoutePlanner
    geofences: GeofenceRegistry

    def close(self) -> None:
        """Close the database connections (at shutdown)."""
        self.stores.close()

    def pingables(self) -> dict[str, Any]:
        """Dependencies checked by readiness, by name."""
        return {"database": self.stores}


async def get_services(request: Request) -> Services:
    """The app's :class:`Services` (async: no thread-pool hop for an attribute read)."""
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]

_bearer = HTTPBearer(auto_error=False, description="An API key from 'airgrid keys create'.")


def current_principal(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller identified by its bearer token.

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
    principal = services.keys.authenticate(credentials.credentials)
    if principal is None:
        raise HTTPException(
            401,
            "unknown or revoked API key",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only ``roles`` through (403 for the others).

    Parameters
    ----------
    *roles
        Roles allowed.
    """
    allowed = frozenset(roles)

    def check(principal: PrincipalDep) -> Principal:
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
