"""The service database as the API and the CLI open it: database URLs, and one
:class:`~airgrid.airspace.store.service.Store` per thread.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import suppress
from pathlib import Path

from airgrid.airspace.store.backends import SQLITE_FILE
from airgrid.airspace.store.service import Store, open_store
from airgrid.api.http.errors import ApiError
from airgrid.terrain import Dem


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
