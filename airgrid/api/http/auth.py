"""API keys: bearer tokens mapped to principals with a role.

A key is ``agk_`` followed by 32 random bytes (URL-safe base64). Only its SHA-256
is stored, in the ``api_keys`` table of the service database (the same SQLite file
or PostgreSQL database as the flight store). A request's token is hashed and looked
up by that hash, so no secret is ever compared byte by byte and a leaked database
holds no usable key. ``airgrid keys create`` prints a new token once.

Roles, from least to most powerful in what they may write:

* ``operator``: submits flight intents and sees or changes only its own;
* ``planner``: plans routes and submits intents of its own;
* ``regulator``: writes geofences, sees every intent, may cancel any;
* ``admin``: everything.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from airgrid.api.http.errors import ApiError

TOKEN_PREFIX = "agk_"


class Role(StrEnum):
    """What a principal may do (see the module docstring)."""

    OPERATOR = "operator"
    PLANNER = "planner"
    REGULATOR = "regulator"
    ADMIN = "admin"


class ApiKeyError(ApiError, ValueError):
    """An API key request is invalid (unknown role, empty name)."""


class DatabaseUrlError(ApiError, ValueError):
    """The database URL is unusable (a SQLite URL without a file, or the wrong file name)."""


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


def sqlite_path(db_url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or None for another database.

    Raises
    ------
    DatabaseUrlError
        A ``sqlite:`` URL without a file path.
    """
    if not db_url.startswith("sqlite:"):
        return None
    path = db_url.removeprefix("sqlite:///")
    if path == db_url or not path or path == ":memory:":
        raise DatabaseUrlError(
            f"SQLite URLs must name a file, as sqlite:///path/to/db.sqlite; got {db_url!r}"
        )
    return Path(path)


class Database:
    """A small SQL helper over SQLite or PostgreSQL for the API's own tables.

    Parameters
    ----------
    db_url
        ``sqlite:///path`` or ``postgresql://...``.

    Notes
    -----
    Each thread keeps its own connection (FastAPI runs sync handlers on a thread
    pool). SQLite runs in WAL mode with autocommit; :meth:`transaction` opens a
    ``BEGIN IMMEDIATE`` transaction, so writers are serialised by the database
    itself, also across worker processes.
    """

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self._file = sqlite_path(db_url)
        if self._file is not None:
            self._file.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        if self._file is not None:
            con = sqlite3.connect(
                self._file, timeout=30, check_same_thread=False, isolation_level=None
            )
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA busy_timeout=30000")
            return con
        import psycopg

        return psycopg.connect(self.db_url, autocommit=True)

    def _con(self) -> Any:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
            with self._lock:
                self._all.append(con)
        return con

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one statement (``?`` placeholders) and return its rows."""
        if self._file is None:
            sql = sql.replace("?", "%s")
        cur = self._con().execute(sql, params)
        return cur.fetchall() if cur.description else []

    @contextmanager
    def transaction(self) -> Iterator[Callable[..., list[tuple]]]:
        """A write transaction; yields :meth:`execute`. Commits on success, rolls back on error."""
        con = self._con()
        if self._file is not None:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield self.execute
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        else:
            with con.transaction():
                yield self.execute

    def close(self) -> None:
        """Close every connection this object opened (call once, at shutdown)."""
        with self._lock:
            for con in self._all:
                con.close()
            self._all.clear()
        self._local = threading.local()


class KeyStore:
    """The ``api_keys`` table.

    Parameters
    ----------
    db
        The service database.
    """

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS api_keys ("
        " key_hash TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,"
        " created_at DOUBLE PRECISION NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)"
    )

    def __init__(self, db: Database) -> None:
        self.db = db
        db.execute(self._SCHEMA)

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
        self.db.execute(
            "INSERT INTO api_keys (key_hash, name, role, created_at, revoked) VALUES (?, ?, ?, ?, 0)",
            (digest, name, the_role.value, now),
        )
        return token, KeyInfo(digest[:12], name, the_role, now, False)

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a token, or None if no live key has that hash."""
        digest = hash_token(token)
        rows = self.db.execute(
            "SELECT name, role FROM api_keys WHERE key_hash = ? AND revoked = 0", (digest,)
        )
        if not rows:
            return None
        name, role = rows[0]
        return Principal(name, Role(role), digest[:12])

    def list_keys(self) -> list[KeyInfo]:
        """Every key, oldest first (no secrets: they are not stored)."""
        rows = self.db.execute(
            "SELECT key_hash, name, role, created_at, revoked FROM api_keys ORDER BY created_at"
        )
        return [KeyInfo(h[:12], n, Role(r), float(c), bool(v)) for h, n, r, c, v in rows]

    def revoke(self, key_id: str) -> int:
        """Revoke the key(s) whose id (hash prefix, at least 8 characters) is ``key_id``.

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
        hits = self.db.execute(
            "SELECT key_hash FROM api_keys WHERE key_hash LIKE ? AND revoked = 0", (key_id + "%",)
        )
        for (h,) in hits:
            self.db.execute("UPDATE api_keys SET revoked = 1 WHERE key_hash = ?", (h,))
        return len(hits)

    def ping(self) -> None:
        """Run a trivial query (readiness); raises if the database is unreachable."""
        self.db.execute("SELECT 1")
