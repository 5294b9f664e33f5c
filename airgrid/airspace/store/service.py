"""The durable store of flight intents and geofences: SQLite by default, PostgreSQL by URL.

One interface (:class:`Store`), two backends:

* **SQLite** (default): one file ``airgrid.sqlite`` under a data directory, WAL journal,
  ``synchronous=FULL``, ``foreign_keys=ON``. Every write is a ``BEGIN IMMEDIATE``
  transaction, so one writer at a time across all processes; readers never block.
  Candidates for the exact test come from an in-process copy of the holding intents
  (:class:`~airgrid.airspace.traffic.holding_index.HoldingIndex`, one per database in a process,
  shared by its stores) rather than from a key table. Every write that changes an intent
  stamps it with the next store revision (``intents.rev``); a transaction that uses the
  copy reads the revision (``max(rev)``) under the write lock and first loads whatever was
  stamped since the copy's revision (everything, if the revision went back), so writes by
  other processes and connections are always seen. The copy takes over an acceptance only
  once its transaction has committed. A database file must not be replaced, while stores
  have it open, by a copy that went on with another history.
* **PostgreSQL** (``postgresql://...`` URL, psycopg 3): every write is a READ COMMITTED
  transaction that first takes an administrative advisory lock (shared by acceptances
  and state changes; exclusive for geofence changes, bulk restores and migrations), then
  ``pg_advisory_xact_lock`` on each of its keys in ascending order. Two intents that could
  conflict always share a key (see :meth:`~airgrid.airspace.traffic.keys.KeyScheme.keys`), so
  their acceptances serialise, while intents elsewhere in space and time proceed in
  parallel; statements after the locks see everything committed before them. Deadlocks,
  serialisation failures and uniqueness races (a grid-mode voxel-slot) roll back and
  retry the whole transaction.

Accepting an intent is ONE transaction: lock, find the candidates (SQLite: the in-process
copy, brought to the store's revision; PostgreSQL: the key table), run the exact test
(:func:`~airgrid.airspace.traffic.conflicts.find_conflicts`), check grid-mode voxel-slots and active
prohibited geofences, pre-empt lower-priority intents if allowed, write the intent, its
volumes (and on PostgreSQL its keys). The guarantee, also with concurrent writers in
separate processes: no two intents that hold airspace (accepted or activated) conflict,
and an intent reported accepted is committed (``synchronous=FULL`` / PostgreSQL's
default ``synchronous_commit=on``).

Invalid input raises a specific :class:`~airgrid.airspace.errors.AirspaceError` before
the transaction writes anything; a failed transaction is rolled back whole.

Schema changes are versioned migrations (:data:`MIGRATIONS`, table ``schema_version``),
applied in order under the write lock when a store is opened.

Decisions where the issue was silent
------------------------------------
* **Pre-emption** takes airspace only from intents of strictly lower priority that are
  accepted but not activated (an airborne flight is never displaced). They are set to
  ``cancelled`` with ``preempted_by`` and a reason (never deleted), lose their keys and
  grid claims in the same transaction (and leave the in-process copies after it), and
  are returned in :attr:`Decision.preempted` with all their volumes. If any conflict is not pre-emptable, nothing is pre-empted and the intent is refused.
* **Geofences** are met without a separation margin: their footprint (circles already
  circumscribed and grown) and conservatively resolved band are the protected volume.
  Creating a prohibited geofence reports the intents it now conflicts with; it does not
  cancel them.
* **Fixes** avoid every holder (not only blocking ones), are re-checked against the store
  before being proposed, and are not held: a later submission may still be refused.
* **Grid mode** claims are the tier's voxels overlapping each unbuffered volume per time
  slot; the exact test still applies on top.
* **Policy** (tiers, separation, keys, grid tiers) is stored at creation and fixed, so every
  process computes the same keys.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self

import h3
import numpy as np
import shapely

from airgrid.airspace.errors import (
    DuplicateIntentError,
    GeofenceError,
    GeofenceExistsError,
    GeofenceNotFoundError,
    IntentError,
    IntentNotFoundError,
    IntentTierError,
    SchemaVersionError,
    SeparationError,
    StateTransitionError,
    StoreBusyError,
    StoreConfigError,
    StoreError,
    TierTableError,
)
from airgrid.airspace.geofences.ground import bins_ground
from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.geofences.model import Category, Geofence
from airgrid.airspace.grid.tiers import TierTable
from airgrid.airspace.traffic.conflicts import find_conflicts
from airgrid.airspace.traffic.fixes import free_altitude_offset, free_departure_shift
from airgrid.airspace.traffic.holders import Holder, HolderVolumes, volume_limits
from airgrid.airspace.traffic.holding_index import HoldingIndex
from airgrid.airspace.traffic.keys import KeyScheme, pack_keys
from airgrid.airspace.traffic.models import (
    HOLDING,
    TRANSITIONS,
    Conflict,
    FixProposal,
    FlightIntent,
    GridConflict,
    IntentRequest,
    IntentState,
)
from airgrid.airspace.traffic.separation import SeparationMinima, SeparationTable
from airgrid.geo.volumes import Volume4D
from airgrid.terrain import Dem

log = logging.getLogger(__name__)

#: File name of the SQLite database inside the data directory.
SQLITE_FILE = "airgrid.sqlite"
#: Default data directory (``AIRGRID_DATA_DIR`` overrides it).
DEFAULT_DATA_DIR = Path(os.environ.get("AIRGRID_DATA_DIR", "var"))
_HOLDING_SQL = "('accepted', 'activated')"
#: Advisory-lock id that serialises migrations and bulk restores on PostgreSQL.
_ADMIN_LOCK = 0x41697267726964  # "Airgrid"
#: Flipped into grid-claim lock ids so they differ from index keys (a clash would only add waiting).
_CLAIM_LOCK_SALT = 1 << 40


# -- policy -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AirspacePolicy:
    """What a store enforces; persisted when the store is created, fixed afterwards.

    Attributes
    ----------
    tiers
        Tier table (intents name a tier; grid mode uses its resolution and layers).
    separation
        Separation minima per tier (every tier must have an entry).
    keys
        The key lattice of the index.
    grid_tiers
        Tiers in cell-exclusive grid mode: at most one intent per voxel-slot.

    Raises
    ------
    StoreConfigError
        A grid-mode tier or a tier without separation minima.
    """

    tiers: TierTable = field(default_factory=TierTable)
    separation: SeparationTable = field(default_factory=SeparationTable)
    keys: KeyScheme = field(default_factory=KeyScheme)
    grid_tiers: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "grid_tiers", frozenset(self.grid_tiers))
        names = {t.name for t in self.tiers}
        unknown = set(self.grid_tiers) - names
        if unknown:
            raise StoreConfigError(f"grid-mode tiers {sorted(unknown)} are not in the tier table")
        for n in names:
            try:
                self.separation.for_tier(n)
            except SeparationError as exc:
                raise StoreConfigError(str(exc)) from None
        for n in (self.keys.resolution, self.keys.layer_m, self.keys.slot_s):
            if not n > 0:
                raise StoreConfigError(f"key scheme values must be positive, got {self.keys}")

    def to_dict(self) -> dict:
        """Plain-data form (stored in the ``meta`` table)."""
        return {
            "tiers": self.tiers.to_dict(),
            "separation": self.separation.to_dict(),
            "keys": {
                "resolution": self.keys.resolution,
                "layer_m": self.keys.layer_m,
                "slot_s": self.keys.slot_s,
            },
            "grid_tiers": sorted(self.grid_tiers),
        }

    @classmethod
    def from_dict(cls, doc: dict) -> AirspacePolicy:
        """Inverse of :meth:`to_dict`."""
        return cls(
            TierTable.from_dict(doc["tiers"]),
            SeparationTable.from_dict(doc["separation"]),
            KeyScheme(
                int(doc["keys"]["resolution"]),
                float(doc["keys"]["layer_m"]),
                float(doc["keys"]["slot_s"]),
            ),
            frozenset(doc["grid_tiers"]),
        )


@dataclass(frozen=True)
class ProposalSettings:
    """How fixes for refused intents are searched (per process, not persisted).

    Attributes
    ----------
    shift_step_s, max_shift_s
        Departure delays tried: ``step, 2*step, ...`` up to ``max``.
    max_offset_m
        Altitude offsets tried: multiples of the tier's layer thickness up to this.
    """

    shift_step_s: float = 60.0
    max_shift_s: float = 7_200.0
    max_offset_m: float = 300.0


# -- answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeofenceConflict:
    """An active prohibited geofence an intent's volume meets.

    Attributes
    ----------
    geofence_id, name
        The geofence.
    volume
        Index of the intent's volume.
    lat, lon
        Centroid of the footprints' intersection.
    floor_m, ceiling_m
        Common altitude band (m AMSL).
    intervals
        Common active time intervals (POSIX seconds, closed).
    """

    geofence_id: str
    name: str
    volume: int
    lat: float
    lon: float
    floor_m: float
    ceiling_m: float
    intervals: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class LowVolume:
    """A volume whose floor may lie below its tier's lower limit above the terrain.

    Attributes
    ----------
    volume
        Index of the volume.
    floor_m
        Its floor, m AMSL.
    min_floor_m
        The highest plausible ground under its footprint's bounding box (DEM maximum plus
        the DEM's uncertainty margin) plus the tier's lower limit (or the tier table's
        clearance, if larger), m AMSL.
    """

    volume: int
    floor_m: float
    min_floor_m: float


@dataclass(frozen=True)
class HighVolume:
    """A volume whose ceiling may be above its tier's upper limit over the lowest ground.

    Attributes
    ----------
    volume
        Index of the volume.
    ceiling_m
        Its ceiling, m AMSL.
    max_ceiling_m
        The lowest plausible ground under its footprint's bounding box (DEM minimum
        minus the DEM's downward margin) plus the tier's upper limit, m AMSL.
    """

    volume: int
    ceiling_m: float
    max_ceiling_m: float


@dataclass(frozen=True)
class Decision:
    """The answer to a submission.

    Attributes
    ----------
    accepted
        Whether the intent was stored (it then holds airspace).
    request
        The request as decided (with its id).
    intent
        The stored intent when accepted, else None.
    conflicts
        Every conflict with another intent (also the pre-empted ones when accepted).
    grid_conflicts
        Voxel-slots held by others (grid-mode tiers only).
    geofence_conflicts
        Active prohibited geofences met.
    preempted
        Lower-priority intents this acceptance displaced (now cancelled, flagged).
    proposals
        Fixes that were free at answer time (only when refused).
    low_volumes
        Volumes whose floor may be below the tier's lower limit above the highest
        plausible ground (a notice, not a refusal: strategic deconfliction does not
        decide terrain clearance; empty when the store has no DEM).
    high_volumes
        Volumes whose ceiling may be above the tier's upper limit over the lowest
        plausible ground, out of the tier's band (a notice in the same way).
    """

    accepted: bool
    request: IntentRequest
    intent: FlightIntent | None = None
    conflicts: tuple[Conflict, ...] = ()
    grid_conflicts: tuple[GridConflict, ...] = ()
    geofence_conflicts: tuple[GeofenceConflict, ...] = ()
    preempted: tuple[FlightIntent, ...] = ()
    proposals: tuple[FixProposal, ...] = ()
    low_volumes: tuple[LowVolume, ...] = ()
    high_volumes: tuple[HighVolume, ...] = ()


@dataclass(frozen=True)
class GeofenceWrite:
    """What :meth:`Store.write_geofences` changed (identifiers, sorted)."""

    created: tuple[str, ...]
    replaced: tuple[str, ...]
    deleted: tuple[str, ...]
    conflicting_intents: tuple[str, ...]


class _Rollback(Exception):
    """Carries a result out of a transaction that must not commit."""

    def __init__(self, result: object) -> None:
        super().__init__("rollback")
        self.result = result


class _Retry(StoreError):
    """The transaction saw a state change it cannot decide on; run it again."""


# -- schema -------------------------------------------------------------------------------

_SQLITE_V1 = [
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE intents (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        operator TEXT NOT NULL,
        priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 1000),
        tier TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('accepted', 'activated', 'ended', 'cancelled')),
        preempted_by TEXT REFERENCES intents(id),
        reason TEXT NOT NULL DEFAULT '',
        t_start REAL NOT NULL,
        t_end REAL NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL)""",
    "CREATE INDEX intents_operator ON intents(operator, state)",
    """CREATE TABLE volumes (
        intent_seq INTEGER NOT NULL REFERENCES intents(seq) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        footprint BLOB NOT NULL,
        floor_m REAL NOT NULL, ceiling_m REAL NOT NULL,
        t_start REAL NOT NULL, t_end REAL NOT NULL,
        west REAL NOT NULL, south REAL NOT NULL, east REAL NOT NULL, north REAL NOT NULL,
        PRIMARY KEY (intent_seq, idx),
        CHECK (floor_m < ceiling_m), CHECK (t_start < t_end))""",
    "CREATE INDEX volumes_t_end ON volumes(t_end)",
    """CREATE TABLE intent_keys (
        key INTEGER NOT NULL,
        intent_seq INTEGER NOT NULL REFERENCES intents(seq) ON DELETE CASCADE,
        PRIMARY KEY (key, intent_seq)) WITHOUT ROWID""",
    "CREATE INDEX intent_keys_intent ON intent_keys(intent_seq)",
    """CREATE TABLE grid_claims (
        cell INTEGER NOT NULL, layer INTEGER NOT NULL, slot INTEGER NOT NULL,
        intent_seq INTEGER NOT NULL REFERENCES intents(seq) ON DELETE CASCADE,
        PRIMARY KEY (cell, layer, slot)) WITHOUT ROWID""",
    "CREATE INDEX grid_claims_intent ON grid_claims(intent_seq)",
    """CREATE TABLE geofences (
        id TEXT PRIMARY KEY,
        category TEXT NOT NULL,
        feature TEXT NOT NULL,
        west REAL NOT NULL, south REAL NOT NULL, east REAL NOT NULL, north REAL NOT NULL,
        updated_at REAL NOT NULL)""",
]

_PG_V1 = [
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE intents (
        seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        operator TEXT NOT NULL,
        priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 1000),
        tier TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('accepted', 'activated', 'ended', 'cancelled')),
        preempted_by TEXT REFERENCES intents(id),
        reason TEXT NOT NULL DEFAULT '',
        t_start DOUBLE PRECISION NOT NULL,
        t_end DOUBLE PRECISION NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX intents_operator ON intents(operator, state)",
    """CREATE TABLE volumes (
        intent_seq BIGINT NOT NULL REFERENCES intents(seq) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        footprint BYTEA NOT NULL,
        floor_m DOUBLE PRECISION NOT NULL, ceiling_m DOUBLE PRECISION NOT NULL,
        t_start DOUBLE PRECISION NOT NULL, t_end DOUBLE PRECISION NOT NULL,
        west DOUBLE PRECISION NOT NULL, south DOUBLE PRECISION NOT NULL,
        east DOUBLE PRECISION NOT NULL, north DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (intent_seq, idx),
        CHECK (floor_m < ceiling_m), CHECK (t_start < t_end))""",
    "CREATE INDEX volumes_t_end ON volumes(t_end)",
    """CREATE TABLE intent_keys (
        key BIGINT NOT NULL,
        intent_seq BIGINT NOT NULL REFERENCES intents(seq) ON DELETE CASCADE,
        PRIMARY KEY (key, intent_seq))""",
    "CREATE INDEX intent_keys_intent ON intent_keys(intent_seq)",
    """CREATE TABLE grid_claims (
        cell BIGINT NOT NULL, layer INTEGER NOT NULL, slot BIGINT NOT NULL,
        intent_seq BIGINT NOT NULL REFERENCES intents(seq) ON DELETE CASCADE,
        PRIMARY KEY (cell, layer, slot))""",
    "CREATE INDEX grid_claims_intent ON grid_claims(intent_seq)",
    """CREATE TABLE geofences (
        id TEXT PRIMARY KEY,
        category TEXT NOT NULL,
        feature TEXT NOT NULL,
        west DOUBLE PRECISION NOT NULL, south DOUBLE PRECISION NOT NULL,
        east DOUBLE PRECISION NOT NULL, north DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL)""",
]

_SQLITE_V2 = [
    "ALTER TABLE intents ADD COLUMN rev INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX intents_rev ON intents(rev)",
    "DROP TABLE intent_keys",
    "DROP INDEX volumes_t_end",
    "INSERT INTO meta (name, value) VALUES ('store_id', lower(hex(randomblob(16))))",
]

#: Ordered migrations: (version, description, {backend: statements}).
MIGRATIONS: list[tuple[int, str, dict[str, list[str]]]] = [
    (
        1,
        "intents, volumes, keys, grid claims, geofences",
        {"sqlite": _SQLITE_V1, "postgres": _PG_V1},
    ),
    (
        2,
        "SQLite: store revisions for the in-process index, which replaces its key table",
        {"sqlite": _SQLITE_V2, "postgres": []},
    ),
    # keys are derived data, written and deleted with their intent in one transaction, and
    # intents are never deleted; the foreign key's check per key row cost ~0.6 ms per
    # accepted intent (a stray key could only add a candidate, never hide one)
    (
        3,
        "PostgreSQL: no foreign-key check per key row",
        {
            "sqlite": [],
            "postgres": ["ALTER TABLE intent_keys DROP CONSTRAINT intent_keys_intent_seq_fkey"],
        },
    ),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


# -- backends -----------------------------------------------------------------------------


class _Sqlite:
    """SQLite dialect and connection."""

    name = "sqlite"

    def __init__(self, path: Path, busy_timeout_s: float) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(str(path), isolation_level=None, timeout=busy_timeout_s)
        except (OSError, sqlite3.Error) as exc:
            raise StoreConfigError(f"cannot open SQLite store {path}: {exc}") from exc
        c = self.conn
        c.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreConfigError(f"SQLite store {path} cannot use WAL (journal_mode={mode})")
        c.execute("PRAGMA synchronous = FULL")
        c.execute("PRAGMA foreign_keys = ON")
        c.execute("PRAGMA cache_size = -131072")

    def q(self, sql: str) -> str:
        return sql

    def execute(self, sql: str, params: Sequence = ()) -> Any:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> None:
        self.conn.executemany(sql, rows)

    def run(
        self, fn: Callable[[], Any], *, keys: Sequence[int] = (), exclusive: bool = False
    ) -> Any:
        """Run ``fn`` in one ``BEGIN IMMEDIATE`` transaction (the single-writer lock).

        ``keys`` and ``exclusive`` are for PostgreSQL; one writer at a time covers both.
        """
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreBusyError(f"SQLite store is locked by another writer: {exc}") from exc
        try:
            out = fn()
        except _Rollback as rb:
            self.conn.execute("ROLLBACK")
            return rb.result
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return out

    def claims_held(self, claims: np.ndarray) -> list[tuple]:
        return self.conn.execute(
            "SELECT g.cell, g.layer, g.slot, i.id, i.priority, i.state "
            "FROM json_each(?) j JOIN grid_claims g ON g.cell = json_extract(j.value, '$[0]') "
            "AND g.layer = json_extract(j.value, '$[1]') AND g.slot = json_extract(j.value, '$[2]') "
            "JOIN intents i ON i.seq = g.intent_seq",
            (json.dumps(claims.tolist()),),
        ).fetchall()

    def bulk_copy(self, table: str, cols: Sequence[str], rows: Iterable[Sequence]) -> None:
        ph = ", ".join("?" for _ in cols)
        self.conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({ph})", rows)

    def close(self) -> None:
        self.conn.close()


class _Postgres:
    """PostgreSQL dialect and connection (psycopg 3)."""

    name = "postgres"

    def __init__(self, url: str, retries: int) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - psycopg is a dependency
            raise StoreConfigError(
                "PostgreSQL stores need psycopg 3 (pip install 'psycopg[binary]')"
            ) from exc
        self.psycopg = psycopg
        self.retries = retries
        try:
            self.conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreConfigError(f"cannot connect to PostgreSQL: {exc}") from exc
        e = psycopg.errors
        self.retryable = (e.DeadlockDetected, e.SerializationFailure, e.UniqueViolation, _Retry)

    def q(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def execute(self, sql: str, params: Sequence = ()) -> Any:
        return self.conn.execute(self.q(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(self.q(sql), rows)

    def run(
        self, fn: Callable[[], Any], *, keys: Sequence[int] = (), exclusive: bool = False
    ) -> Any:
        """Run ``fn`` in a transaction, retrying on deadlock, serialisation failure and
        uniqueness races.

        Every transaction first takes the administrative advisory lock (shared, or
        ``exclusive`` for geofence changes, restores and migrations), then an advisory lock
        on each of ``keys`` in ascending order.
        """
        lock = sorted({int(k) for k in keys})
        admin = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        for attempt in range(self.retries):
            try:
                with self.conn.transaction():
                    # one round trip; reads come in later statements, whose snapshots
                    # therefore include every commit made before the locks were granted
                    self.conn.execute(
                        f"SELECT {admin}(%s), (SELECT count(pg_advisory_xact_lock(k)) "
                        "FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) s)",
                        (_ADMIN_LOCK, lock),
                    )
                    return fn()
            except _Rollback as rb:
                return rb.result
            except self.retryable as exc:
                log.debug("retrying transaction after %r (attempt %d)", exc, attempt + 1)
                time.sleep(random.uniform(0, 0.002 * (2 ** min(attempt, 8))))
            except self.psycopg.OperationalError as exc:
                raise StoreError(f"PostgreSQL failed: {exc}") from exc
        raise StoreBusyError(f"transaction still contended after {self.retries} attempts")

    def claims_held(self, claims: np.ndarray) -> list[tuple]:
        return self.conn.execute(
            "SELECT g.cell, g.layer, g.slot, i.id, i.priority, i.state "
            "FROM unnest(%s::bigint[], %s::int[], %s::bigint[]) AS j(cell, layer, slot) "
            "JOIN grid_claims g ON g.cell = j.cell AND g.layer = j.layer AND g.slot = j.slot "
            "JOIN intents i ON i.seq = g.intent_seq",
            (claims[:, 0].tolist(), claims[:, 1].tolist(), claims[:, 2].tolist()),
        ).fetchall()

    def bulk_copy(self, table: str, cols: Sequence[str], rows: Iterable[Sequence]) -> None:
        with (
            self.conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp,
        ):
            for r in rows:
                cp.write_row(r)

    def close(self) -> None:
        self.conn.close()


# -- the store ----------------------------------------------------------------------------


@dataclass
class _Prepared:
    request: IntentRequest
    limits: np.ndarray | None  # SQLite only: the volumes' limits, for the in-process copy
    keys: np.ndarray | None  # PostgreSQL only: index keys (SQLite uses the in-process copy)
    claims: np.ndarray | None
    lock_keys: list[int]


@dataclass
class _Accepted:
    """What an accepting SQLite transaction changed, for the in-process copy after commit."""

    base_rev: int
    rev: int
    seq: int
    holder: Holder
    limits: np.ndarray
    victims: list[int]


#: In-process copies of holding intents, per (SQLite file, store id): one per database.
_INDEXES: weakref.WeakValueDictionary[tuple[str, str], HoldingIndex] = weakref.WeakValueDictionary()
_INDEXES_LOCK = threading.Lock()


def _shared_index(path: Path, store_id: str) -> HoldingIndex:
    """The process's copy for one SQLite store (the id tells a re-created file apart)."""
    key = (str(path.resolve()), store_id)
    with _INDEXES_LOCK:
        index = _INDEXES.get(key)
        if index is None:
            index = _INDEXES[key] = HoldingIndex()
        return index


def _forget_indexes() -> None:
    """In a forked child: start without the parent's copies (whose locks it may not own)."""
    global _INDEXES_LOCK
    _INDEXES_LOCK = threading.Lock()
    _INDEXES.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_indexes)


class Store:
    """Flight intents and geofences, durable, behind one interface.

    Open with :func:`open_store`. A Store holds one connection: use one per thread or
    process (processes may share the same database freely).
    """

    def __init__(
        self,
        backend: _Sqlite | _Postgres,
        policy: AirspacePolicy | None,
        dem: Dem | None,
        proposals: ProposalSettings,
    ) -> None:
        self._db = backend
        self._dem = dem
        self.proposal_settings = proposals
        self._fences: tuple[int, GeofenceIndex | None] | None = None
        self.policy = self._migrate(policy)
        self._pair_minima: dict[str, dict[str, SeparationMinima]] = {}
        self._index: HoldingIndex | None = None
        if isinstance(backend, _Sqlite):
            store_id = backend.execute("SELECT value FROM meta WHERE name = 'store_id'").fetchone()[
                0
            ]
            self._index = _shared_index(backend.path, store_id)

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgres"``."""
        return self._db.name

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        """Highest applied migration."""
        return int(self._db.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    def _migrate(self, policy: AirspacePolicy | None) -> AirspacePolicy:
        db = self._db

        def body() -> AirspacePolicy:
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "description TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
            )
            cur = db.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            if cur > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"store schema version {cur} is newer than this airgrid ({SCHEMA_VERSION})"
                )
            for version, desc, stmts in MIGRATIONS:
                if version <= cur:
                    continue
                for sql in stmts[db.name]:
                    db.execute(sql)
                db.execute(
                    "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                    (version, desc, time.time()),
                )
                log.info("applied store migration %d: %s", version, desc)
            row = db.execute("SELECT value FROM meta WHERE name = 'policy'").fetchone()
            if row is None:
                chosen = policy or AirspacePolicy()
                db.execute(
                    "INSERT INTO meta (name, value) VALUES ('policy', ?)",
                    (json.dumps(chosen.to_dict(), sort_keys=True),),
                )
                db.execute("INSERT INTO meta (name, value) VALUES ('geofence_rev', '0')")
                return chosen
            stored = AirspacePolicy.from_dict(json.loads(row[0]))
            if policy is not None and policy.to_dict() != stored.to_dict():
                raise StoreConfigError(
                    "this store was created with another policy (tiers, separation, keys or grid "
                    "mode); open it without a policy to use the stored one"
                )
            return stored

        return db.run(body, exclusive=True)

    # -- intents: submission --------------------------------------------------------------
    def _prepare(self, request: IntentRequest, *, decide: bool = True) -> _Prepared:
        """Validate against the policy and compute keys (PostgreSQL) and grid claims outside
        any lock; to ``decide`` on it (SQLite), also its limits, with the in-process copy
        loaded."""
        if not isinstance(request, IntentRequest):
            raise IntentError(f"expected an IntentRequest, got {type(request).__name__}")
        req = request.with_id()
        try:
            self.policy.tiers.index(req.tier)
        except TierTableError:
            raise IntentTierError(
                f"unknown tier {req.tier!r}; tiers are {[t.name for t in self.policy.tiers]}"
            ) from None
        keys = None
        lock: list[int] = []
        if self._index is None:  # PostgreSQL: the keys find the candidates and are locked
            keys = self.policy.keys.keys(req.volumes, self.policy.separation.cover_minima(req.tier))
            lock = keys.tolist()
        claims = None
        if req.tier in self.policy.grid_tiers:
            tier = self.policy.tiers[self.policy.tiers.index(req.tier)]
            claims = self.policy.keys.grid_claims(req.volumes, tier.resolution, tier.thickness_m)
            if self._index is None:
                lock += (
                    pack_keys(claims[:, 0], claims[:, 1], claims[:, 2], tier.resolution)
                    ^ _CLAIM_LOCK_SALT
                ).tolist()
        limits = None
        if decide and self._index is not None:
            limits = volume_limits(req.volumes)[1]
            if self._index.rev is None:
                self._load_index()
        return _Prepared(req, limits, keys, claims, lock)

    def _load_index(self) -> None:
        """First use of the in-process copy: load it in a read transaction, so that the
        write lock is not held for the bulk of the work (the acceptance transaction then
        loads only what changed since)."""
        db = self._db
        db.execute("BEGIN")
        try:
            rev = int(db.execute("SELECT coalesce(max(rev), 0) FROM intents").fetchone()[0])
            with self._index.lock:
                if self._index.rev is None:
                    self._sync_index(rev)
        finally:
            db.execute("ROLLBACK")

    def submit(
        self, request: IntentRequest, *, preempt: bool = True, propose: bool = True
    ) -> Decision:
        """Check an intent and accept it if it conflicts with nothing that holds airspace.

        Parameters
        ----------
        request
            The intent (an id is assigned if it has none).
        preempt
            Allow taking airspace from lower-priority intents that are accepted but not
            yet activated. They are cancelled with ``preempted_by`` set, and returned in
            :attr:`Decision.preempted`. An activated (airborne) intent is never pre-empted.
        propose
            When refused, search fixes (:attr:`Decision.proposals`).

        Returns
        -------
        Decision
            Accepted, or refused with every conflict listed.

        Raises
        ------
        IntentTierError
            Unknown tier.
        DuplicateIntentError
            The id is taken.
        StoreBusyError
            The write lock could not be had in time.
        """
        prep = self._prepare(request)
        decision, accepted = self._db.run(
            lambda: self._decide(prep, preempt=preempt, write=True), keys=prep.lock_keys
        )
        if accepted is not None:  # committed: the in-process copy takes the change over
            self._index_accepted(accepted)
        if not decision.accepted and propose:
            decision = replace(decision, proposals=tuple(self._proposals(prep.request)))
        return self._with_low_volumes(decision)

    def check(self, request: IntentRequest, *, preempt: bool = True) -> Decision:
        """What :meth:`submit` would answer now, without writing or proposing anything.

        ``accepted`` then means "would be accepted"; nothing is held, so a later
        :meth:`submit` may still be refused.
        """
        return self._with_low_volumes(self._verdict(request, preempt=preempt))

    def _verdict(self, request: IntentRequest, *, preempt: bool) -> Decision:
        """:meth:`check` without the terrain notice (what fix searches need)."""
        prep = self._prepare(request)
        return self._db.run(
            lambda: self._decide(prep, preempt=preempt, write=False), keys=prep.lock_keys
        )[0]

    def _decide(
        self, prep: _Prepared, *, preempt: bool, write: bool
    ) -> tuple[Decision, _Accepted | None]:
        """The body of the acceptance transaction (locks are already held).

        Returns the decision and, for an intent accepted on SQLite, the change the
        in-process copy takes over once the transaction has committed.
        """
        db = self._db
        req = prep.request
        sqlite = self._index is not None
        taken, fence_rev, rev, holders = self._reads(prep)
        if taken:
            raise DuplicateIntentError(f"intent {req.intent_id!r} already exists")
        conflicts = find_conflicts(
            req.volumes, req.tier, req.priority, holders, self.policy.separation
        )
        grid = []
        if prep.claims is not None and len(prep.claims):
            for cell, layer, slot, oid, prio, state in db.claims_held(prep.claims):
                grid.append(
                    GridConflict(
                        oid,
                        h3.int_to_str(int(cell)),
                        int(layer),
                        int(slot),
                        req.priority > int(prio) and state == IntentState.ACCEPTED.value,
                    )
                )
        fences = self._geofence_conflicts(req.volumes, fence_rev)
        blocking = (
            bool(fences)
            or any(not c.preemptable for c in conflicts)
            or any(not g.preemptable for g in grid)
            or (not preempt and bool(conflicts or grid))
        )
        answer = Decision(not blocking, req, None, tuple(conflicts), tuple(grid), tuple(fences))
        if blocking or not write:
            raise _Rollback((answer, None))
        now = time.time()
        victims = sorted({c.other_id for c in conflicts} | {g.other_id for g in grid})
        reason = f"pre-empted by intent {req.intent_id} (priority {req.priority}, operator {req.operator})"
        seq = self._insert_intent(prep, now, rev + 1)  # first: victims reference it
        victim_seqs = []
        for vid in victims:
            found = db.execute(
                "UPDATE intents SET state = 'cancelled', preempted_by = ?, reason = ?, updated_at = ?"
                + (", rev = ?" if sqlite else "")
                + " WHERE id = ? AND state = 'accepted' AND priority < ? "
                "RETURNING seq",
                (req.intent_id, reason, now, *((rev + 1,) if sqlite else ()), vid, req.priority),
            ).fetchone()
            if found is None:
                raise _Retry(f"intent {vid} changed state during pre-emption")
            victim_seqs.append(int(found[0]))
            if not sqlite:
                db.execute("DELETE FROM intent_keys WHERE intent_seq = ?", (found[0],))
            db.execute("DELETE FROM grid_claims WHERE intent_seq = ?", (found[0],))
        if prep.claims is not None and len(prep.claims):
            db.executemany(
                "INSERT INTO grid_claims (cell, layer, slot, intent_seq) VALUES (?, ?, ?, ?)",
                [(int(c), int(lay), int(sl), seq) for c, lay, sl in prep.claims],
            )
        intent = FlightIntent(
            req.intent_id,
            req.operator,
            req.priority,
            req.tier,
            req.volumes,
            IntentState.ACCEPTED,
            None,
            "",
            now,
            now,
        )
        by_id = {h.id: h for h in holders.holders}
        preempted = []
        for vid in victims:
            if vid in by_id:
                h = by_id[vid]
                preempted.append(
                    FlightIntent(
                        h.id,
                        h.operator,
                        h.priority,
                        h.tier,
                        h.volumes,
                        IntentState.CANCELLED,
                        req.intent_id,
                        reason,
                        now,
                        now,
                    )
                )
            else:  # held only grid voxel-slots: read the full record
                preempted.append(replace(self._read("WHERE i.id = ?", (vid,))[0], updated_at=now))
        accepted = None
        if sqlite:
            accepted = _Accepted(
                rev,
                rev + 1,
                seq,
                Holder(
                    req.intent_id,
                    req.operator,
                    req.priority,
                    req.tier,
                    IntentState.ACCEPTED,
                    req.volumes,
                ),
                prep.limits,
                victim_seqs,
            )
        return replace(answer, intent=intent, preempted=tuple(preempted)), accepted

    def _insert_intent(self, prep: _Prepared, now: float, rev: int) -> int:
        """Write an accepted intent with its volumes (SQLite: at store revision ``rev``;
        PostgreSQL: with its keys, in one statement)."""
        db = self._db
        req = prep.request
        t0, t1 = req.window
        head = (
            req.intent_id,
            req.operator,
            req.priority,
            req.tier,
            IntentState.ACCEPTED.value,
            t0,
            t1,
            now,
            now,
        )
        if self._index is not None:
            seq = int(
                db.execute(
                    "INSERT INTO intents (id, operator, priority, tier, state, reason, t_start, t_end, "
                    "created_at, updated_at, rev) VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?)",
                    (*head, rev),
                ).lastrowid
            )
            db.executemany(
                "INSERT INTO volumes (intent_seq, idx, footprint, floor_m, ceiling_m, t_start, t_end, "
                "west, south, east, north) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _volume_rows(seq, req.volumes),
            )
            return seq
        cols = list(zip(*_volume_rows(0, req.volumes)))[1:]  # idx, footprint, ... north
        # the arrays go in binary (%b): no text encoding of footprints, keys and floats
        return int(
            db.conn.execute(
                "WITH i AS (INSERT INTO intents (id, operator, priority, tier, state, reason, t_start, t_end, "
                "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, '', %s, %s, %s, %s) RETURNING seq), "
                "v AS (INSERT INTO volumes (intent_seq, idx, footprint, floor_m, ceiling_m, t_start, t_end, "
                "west, south, east, north) SELECT i.seq, u.* FROM i, unnest(%b::int[], %b::bytea[], %b::float8[], "
                "%b::float8[], %b::float8[], %b::float8[], %b::float8[], %b::float8[], %b::float8[], %b::float8[]) "
                "AS u), k AS (INSERT INTO intent_keys (key, intent_seq) SELECT unnest(%b::bigint[]), i.seq FROM i) "
                "SELECT seq FROM i",
                (*head, *(list(c) for c in cols), prep.keys.tolist()),
            ).fetchone()[0]
        )

    def _reads(self, prep: _Prepared) -> tuple[bool, int, int, HolderVolumes]:
        """What the acceptance transaction reads first: whether the id is taken, the geofence
        revision, the store revision (SQLite; else 0) and the volumes of holding intents the
        exact test must see. SQLite takes these from the in-process copy, brought to the
        store revision; PostgreSQL reads every volume of the intents that share a key with
        the request, in the same round trip as the rest."""
        db = self._db
        req = prep.request
        head = (
            "SELECT (SELECT 1 FROM intents WHERE id = ?) IS NOT NULL, "
            "(SELECT value FROM meta WHERE name = 'geofence_rev')"
        )
        if self._index is not None:
            taken, fence_rev, rev = db.execute(
                head + ", (SELECT coalesce(max(rev), 0) FROM intents)", (req.intent_id,)
            ).fetchone()
            with self._index.lock:
                self._sync_index(int(rev))
                holders = self._index.candidates(prep.limits, self._minima(req.tier))
            return bool(taken), int(fence_rev), int(rev), holders
        with db.conn.pipeline():
            first = db.execute(head, (req.intent_id,))
            rows = db.execute(
                "SELECT i.seq, i.id, i.operator, i.priority, i.tier, i.state, v.footprint, "
                "v.floor_m, v.ceiling_m, v.t_start, v.t_end "
                "FROM (SELECT DISTINCT intent_seq AS seq FROM intent_keys WHERE key = ANY(?::bigint[])) c "
                "JOIN intents i ON i.seq = c.seq JOIN volumes v ON v.intent_seq = i.seq "
                f"WHERE i.state IN {_HOLDING_SQL} ORDER BY i.seq, v.idx",
                (prep.keys.tolist(),),
            )
        taken, fence_rev = first.fetchone()
        return bool(taken), int(fence_rev), 0, HolderVolumes.of(_group_holders(rows.fetchall()))

    def _minima(self, tier: str) -> dict[str, SeparationMinima]:
        """Separation between an intent of ``tier`` and one of each tier (fixed per store)."""
        found = self._pair_minima.get(tier)
        if found is None:
            table = self.policy.separation
            found = self._pair_minima[tier] = {t: table.between(tier, t) for t in table.minima}
        return found

    def _sync_index(self, rev: int) -> None:
        """Bring the in-process copy to store revision ``rev``, read in the current
        transaction (the caller holds the copy's lock).

        Loads only the intents stamped after the copy's revision; everything on first use,
        or if the store's revision went back (the file was replaced by an older copy).
        Interrupted half-way, the copy keeps its old revision, and loading again repairs it.
        """
        index = self._index
        if index.rev == rev:
            return
        select = (
            "SELECT i.seq, i.id, i.operator, i.priority, i.tier, i.state, v.footprint, v.floor_m, "
            "v.ceiling_m, v.t_start, v.t_end FROM intents i JOIN volumes v ON v.intent_seq = i.seq "
        )
        if index.rev is None or rev < index.rev:
            index.clear()
            index.add_rows(
                self._db.execute(
                    select + f"WHERE i.state IN {_HOLDING_SQL} ORDER BY i.seq, v.idx"
                ).fetchall()
            )
            index.rev = rev
            return
        fresh = []
        for seq, state in self._db.execute(
            "SELECT seq, state FROM intents WHERE rev > ?", (index.rev,)
        ).fetchall():
            state = IntentState(state)
            if state not in HOLDING:
                index.remove(seq)
            elif seq in index:
                index.set_state(seq, state)
            else:
                fresh.append(seq)
        if fresh:
            index.add_rows(
                self._db.execute(
                    select
                    + "WHERE i.seq IN (SELECT value FROM json_each(?)) ORDER BY i.seq, v.idx",
                    (json.dumps(fresh),),
                ).fetchall()
            )
        index.rev = rev

    def _index_accepted(self, accepted: _Accepted) -> None:
        """Take a committed acceptance over into the in-process copy, unless the copy has
        already moved past the revision it was read at (it then loaded the change itself)."""
        index = self._index
        with index.lock:
            if index.rev != accepted.base_rev:
                return
            for seq in accepted.victims:
                index.remove(seq)
            index.add([(accepted.seq, accepted.holder)], accepted.limits)
            index.rev = accepted.rev

    # -- fixes ----------------------------------------------------------------------------
    def _proposals(self, req: IntentRequest) -> list[FixProposal]:
        """Earliest free departure delay and nearest free altitude offset, each re-checked."""
        ps = self.proposal_settings
        holders = self._fix_holders(req)
        table = self.policy.separation
        tier = self.policy.tiers[self.policy.tiers.index(req.tier)]
        out = []
        d = self._first_free_now(
            lambda tried: free_departure_shift(
                req,
                holders,
                table,
                step_s=ps.shift_step_s,
                max_shift_s=ps.max_shift_s,
                exclude=tried,
            ),
            req.shifted,
        )
        if d is not None:
            out.append(
                FixProposal(
                    "departure_shift",
                    d,
                    0.0,
                    f"depart {d:.0f} s later: free of every intent and geofence now",
                )
            )
        bounds = self._band_limits(req)
        if bounds is None:
            floor_dz, top_dz = -math.inf, math.inf
            terrain = "no DEM was given to the store, so terrain clearance and the tier's band are not checked"
        else:
            floors, ceilings = bounds
            lim = volume_limits(req.volumes)[1]
            floor_dz = float(np.max(floors - lim[:, 4]))
            top_dz = float(np.min(ceilings - lim[:, 5]))
            need = max(tier.lower_m, self.policy.tiers.clearance_m)
            terrain = (
                f"every floor stays at least {need:.0f} m above the highest plausible ground under it and "
                f"every ceiling at most {tier.upper_m:.0f} m above the lowest (DEM uncertainty included)"
            )
        dz = self._first_free_now(
            lambda tried: free_altitude_offset(
                req,
                holders,
                table,
                step_m=tier.thickness_m,
                max_offset_m=ps.max_offset_m,
                min_offset_m=floor_dz,
                top_offset_m=top_dz,
                exclude=tried,
            ),
            req.raised,
        )
        if dz is not None:
            out.append(
                FixProposal(
                    "altitude_offset",
                    0.0,
                    dz,
                    f"fly {abs(dz):.0f} m {'higher' if dz > 0 else 'lower'}: free now; {terrain}",
                )
            )
        return out

    def _band_limits(self, req: IntentRequest) -> tuple[np.ndarray, np.ndarray] | None:
        """Per volume, the lowest floor and the highest ceiling (m AMSL) that keep it in
        its tier's band over the ground under the footprint's bounding box: the floor at
        least the tier's lower limit (or the table's clearance, if larger) above the
        highest plausible ground, the ceiling at most the tier's upper limit above the
        lowest (see :func:`~airgrid.airspace.geofences.ground.bins_ground`; Earth's
        extremes off the DEM). None without a DEM."""
        if self._dem is None:
            return None
        tier = self.policy.tiers[self.policy.tiers.index(req.tier)]
        limits = volume_limits(req.volumes)[1]
        bottom, top = bins_ground(self._dem, *limits[:, :4].T)
        return top + max(tier.lower_m, self.policy.tiers.clearance_m), bottom + tier.upper_m

    def _with_low_volumes(self, decision: Decision) -> Decision:
        """The decision with its :attr:`Decision.low_volumes` and :attr:`Decision.high_volumes` notices."""
        req = decision.request
        bounds = self._band_limits(req)
        if bounds is None:
            return decision
        floors, ceilings = bounds
        low = tuple(
            LowVolume(i, v.floor_m, float(m))
            for i, (v, m) in enumerate(zip(req.volumes, floors.tolist()))
            if v.floor_m < m
        )
        high = tuple(
            HighVolume(i, v.ceiling_m, float(m))
            for i, (v, m) in enumerate(zip(req.volumes, ceilings.tolist()))
            if v.ceiling_m > m
        )
        return replace(decision, low_volumes=low, high_volumes=high) if low or high else decision

    def _first_free_now(
        self,
        candidate: Callable[[list[float]], float | None],
        apply: Callable[[float], IntentRequest],
        tries: int = 20,
    ) -> float | None:
        """The first value ``candidate`` proposes (given the values already refused) whose
        request ``apply(value)`` :meth:`_free` confirms, within ``tries`` proposals."""
        tried: list[float] = []
        for _ in range(tries):
            x = candidate(tried)
            if x is None:
                return None
            if self._free(apply(x)):
                return x
            tried.append(x)
        return None

    def _fix_holders(self, req: IntentRequest) -> list[Holder] | HolderVolumes:
        """Holding volumes that a departure delay up to ``max_shift_s`` or any altitude
        offset of ``req`` could meet (SQLite: from the in-process copy, in a transaction)."""
        max_shift = self.proposal_settings.max_shift_s
        sep = self.policy.separation.max_minima
        if self._index is not None:
            minima = self._minima(req.tier)
            limits = volume_limits(req.volumes)[1]
            limits[:, 4:6] = (-np.inf, np.inf)
            limits[:, 7] += max_shift

            def body() -> HolderVolumes:
                rev = int(
                    self._db.execute("SELECT coalesce(max(rev), 0) FROM intents").fetchone()[0]
                )
                with self._index.lock:
                    self._sync_index(rev)
                    return self._index.candidates(limits, minima)

            return self._db.run(body)
        t0, t1 = req.window
        w = min(v.footprint.bounds[0] for v in req.volumes)
        s = min(v.footprint.bounds[1] for v in req.volumes)
        e = max(v.footprint.bounds[2] for v in req.volumes)
        n = max(v.footprint.bounds[3] for v in req.volumes)
        pad_lat = (sep.lateral_m + 100.0) / 110_574.0
        pad_lon = pad_lat / max(np.cos(np.radians(max(abs(s), abs(n)))), 0.01)
        rows = self._db.execute(
            "SELECT i.seq, i.id, i.operator, i.priority, i.tier, i.state, v.footprint, "
            "v.floor_m, v.ceiling_m, v.t_start, v.t_end FROM intents i "
            "JOIN volumes v ON v.intent_seq = i.seq "
            f"WHERE i.state IN {_HOLDING_SQL} AND v.t_end >= ? AND v.t_start <= ? "
            "AND v.east >= ? AND v.west <= ? AND v.north >= ? AND v.south <= ? ORDER BY i.seq, v.idx",
            (
                t0 - sep.seconds,
                t1 + max_shift + sep.seconds,
                w - pad_lon,
                e + pad_lon,
                s - pad_lat,
                n + pad_lat,
            ),
        ).fetchall()
        return _group_holders(rows)

    def _free(self, req: IntentRequest) -> bool:
        d = self._verdict(req.with_id(), preempt=False)
        return not (d.conflicts or d.grid_conflicts or d.geofence_conflicts)

    # -- intents: reading and life cycle --------------------------------------------------
    def get(self, intent_id: str) -> FlightIntent:
        """The stored intent.

        Raises
        ------
        IntentNotFoundError
            No such id.
        """
        found = self._read("WHERE i.id = ?", (intent_id,))
        if not found:
            raise IntentNotFoundError(f"no intent {intent_id!r}")
        return found[0]

    def list_intents(
        self,
        *,
        state: IntentState | str | None = None,
        operator: str | None = None,
        limit: int = 10_000,
    ) -> list[FlightIntent]:
        """Intents, oldest first, optionally filtered by state and operator.

        Raises
        ------
        IntentError
            Unknown state.
        """
        where, params = [], []
        if state is not None:
            try:
                params.append(IntentState(state).value)
            except ValueError:
                raise IntentError(
                    f"unknown state {state!r}; states are {[s.value for s in IntentState]}"
                ) from None
            where.append("i.state = ?")
        if operator is not None:
            where.append("i.operator = ?")
            params.append(operator)
        sql = ("WHERE " + " AND ".join(where)) if where else ""
        return self._read(sql, tuple(params), limit)

    def holding(self) -> list[FlightIntent]:
        """Every intent that holds airspace (accepted or activated)."""
        return self._read(f"WHERE i.state IN {_HOLDING_SQL}", ())

    def _read(self, where: str, params: tuple, limit: int = 1_000_000) -> list[FlightIntent]:
        rows = self._db.execute(
            "SELECT i.seq, i.id, i.operator, i.priority, i.tier, i.state, i.preempted_by, i.reason, "
            "i.created_at, i.updated_at, v.footprint, v.floor_m, v.ceiling_m, v.t_start, v.t_end "
            f"FROM (SELECT * FROM intents i {where} ORDER BY i.seq LIMIT {int(limit)}) i "
            "JOIN volumes v ON v.intent_seq = i.seq ORDER BY i.seq, v.idx",
            params,
        ).fetchall()
        out: list[FlightIntent] = []
        vols: list[Volume4D] = []
        geoms = shapely.from_wkb([bytes(r[10]) for r in rows]) if rows else []
        for n, r in enumerate(rows):
            vols.append(Volume4D(geoms[n], r[11], r[12], r[13], r[14]))
            if n + 1 == len(rows) or rows[n + 1][0] != r[0]:
                out.append(
                    FlightIntent(
                        r[1],
                        r[2],
                        int(r[3]),
                        r[4],
                        tuple(vols),
                        IntentState(r[5]),
                        r[6],
                        r[7],
                        float(r[8]),
                        float(r[9]),
                    )
                )
                vols = []
        return out

    def activate(self, intent_id: str) -> FlightIntent:
        """accepted -> activated (the flight started)."""
        return self._transition(intent_id, IntentState.ACTIVATED, "")

    def end(self, intent_id: str) -> FlightIntent:
        """activated -> ended (the flight landed; its airspace is released)."""
        return self._transition(intent_id, IntentState.ENDED, "")

    def cancel(self, intent_id: str, reason: str = "") -> FlightIntent:
        """accepted/activated -> cancelled (its airspace is released)."""
        return self._transition(intent_id, IntentState.CANCELLED, reason)

    def _transition(self, intent_id: str, new: IntentState, reason: str) -> FlightIntent:
        db = self._db
        lock = "FOR UPDATE" if db.name == "postgres" else ""

        def body() -> None:
            row = db.execute(
                f"SELECT seq, state FROM intents WHERE id = ? {lock}", (intent_id,)
            ).fetchone()
            if row is None:
                raise IntentNotFoundError(f"no intent {intent_id!r}")
            old = IntentState(row[1])
            if new not in TRANSITIONS[old]:
                raise StateTransitionError(
                    f"intent {intent_id}: cannot go from {old.value} to {new.value}"
                )
            if self._index is not None:  # stamped: in-process copies load the change
                db.execute(
                    "UPDATE intents SET state = ?, reason = ?, updated_at = ?, "
                    "rev = (SELECT coalesce(max(rev), 0) + 1 FROM intents) WHERE seq = ?",
                    (new.value, reason, time.time(), row[0]),
                )
            else:
                db.execute(
                    "UPDATE intents SET state = ?, reason = ?, updated_at = ? WHERE seq = ?",
                    (new.value, reason, time.time(), row[0]),
                )
            if new not in HOLDING:
                if self._index is None:
                    db.execute("DELETE FROM intent_keys WHERE intent_seq = ?", (row[0],))
                db.execute("DELETE FROM grid_claims WHERE intent_seq = ?", (row[0],))

        db.run(body)
        return self.get(intent_id)

    # -- bulk -----------------------------------------------------------------------------
    def restore_intents(self, requests: Sequence[IntentRequest]) -> int:
        """Write intents as accepted WITHOUT the conflict test, in one bulk transaction.

        For restoring a backup of a store and for benchmarks: the caller vouches that the
        intents conflict neither with each other nor with what the store holds (this is
        the one path that does not enforce it). Keys (PostgreSQL) are computed as for
        :meth:`submit`.

        Returns
        -------
        int
            Intents written.

        Raises
        ------
        IntentTierError, DuplicateIntentError
            As for :meth:`submit` (nothing is written).
        """
        preps = [self._prepare(r, decide=False) for r in requests]
        db = self._db

        def body() -> int:
            if db.name == "postgres":
                db.execute("LOCK TABLE intents IN EXCLUSIVE MODE")
            ids = [p.request.intent_id for p in preps]
            if len(set(ids)) != len(ids):
                raise DuplicateIntentError("restore_intents got the same id twice")
            taken = db.execute(
                "SELECT id FROM intents WHERE id IN (SELECT value FROM json_each(?))"
                if db.name == "sqlite"
                else "SELECT id FROM intents WHERE id = ANY(?)",
                (json.dumps(ids) if db.name == "sqlite" else ids,),
            ).fetchall()
            if taken:
                raise DuplicateIntentError(f"intents already exist: {[t[0] for t in taken][:5]}")
            base = int(db.execute("SELECT coalesce(max(seq), 0) FROM intents").fetchone()[0]) + 1
            now = time.time()
            cols = (
                "seq",
                "id",
                "operator",
                "priority",
                "tier",
                "state",
                "reason",
                "t_start",
                "t_end",
                "created_at",
                "updated_at",
            )
            rows = (
                (
                    base + n,
                    p.request.intent_id,
                    p.request.operator,
                    p.request.priority,
                    p.request.tier,
                    "accepted",
                    "",
                    *p.request.window,
                    now,
                    now,
                )
                for n, p in enumerate(preps)
            )
            if self._index is not None:  # one new store revision for the whole batch
                rev = int(db.execute("SELECT coalesce(max(rev), 0) + 1 FROM intents").fetchone()[0])
                db.bulk_copy("intents", (*cols, "rev"), ((*r, rev) for r in rows))
            else:
                db.bulk_copy("intents", cols, rows)
            db.bulk_copy(
                "volumes",
                (
                    "intent_seq",
                    "idx",
                    "footprint",
                    "floor_m",
                    "ceiling_m",
                    "t_start",
                    "t_end",
                    "west",
                    "south",
                    "east",
                    "north",
                ),
                (
                    row
                    for n, p in enumerate(preps)
                    for row in _volume_rows(base + n, p.request.volumes)
                ),
            )
            if self._index is None:
                seqs = np.concatenate(
                    [np.full(len(p.keys), base + n, np.int64) for n, p in enumerate(preps)]
                )
                keys = np.concatenate([p.keys for p in preps])
                order = np.lexsort((seqs, keys))
                db.bulk_copy(
                    "intent_keys",
                    ("key", "intent_seq"),
                    zip(keys[order].tolist(), seqs[order].tolist()),
                )
            claims = [
                (int(c), int(lay), int(s), base + n)
                for n, p in enumerate(preps)
                if p.claims is not None
                for c, lay, s in p.claims
            ]
            if claims:
                db.bulk_copy("grid_claims", ("cell", "layer", "slot", "intent_seq"), claims)
            if db.name == "postgres":
                db.execute(
                    "SELECT setval(pg_get_serial_sequence('intents', 'seq'), ?)",
                    (base + len(preps),),
                )
            return len(preps)

        n = db.run(body, exclusive=True)
        db.execute("ANALYZE")
        return n

    # -- geofences ------------------------------------------------------------------------
    def put_geofence(self, geofence: Geofence, *, exists: bool | None = None) -> list[str]:
        """Create or replace one geofence (stored as its GeoJSON feature), in one transaction.

        Parameters
        ----------
        geofence
            The geofence.
        exists
            True: it must already exist (replace); False: it must not (create); None: either.

        Returns
        -------
        list of str
            Ids of intents holding airspace that the geofence now conflicts with (if it is
            prohibited). They are reported, not cancelled: the regulator or operator decides.

        Raises
        ------
        GeofenceError
            Not a Geofence.
        GeofenceNotFoundError, GeofenceExistsError
            ``exists`` does not hold (nothing is written).
        """
        return list(self.write_geofences([geofence], exists=exists).conflicting_intents)

    def write_geofences(
        self, fences: Sequence[Geofence], *, replace_all: bool = False, exists: bool | None = None
    ) -> GeofenceWrite:
        """Upsert geofences (and with ``replace_all`` delete every other one) in ONE transaction.

        The transaction holds the store's write lock for its whole length (SQLite: the single
        writer; PostgreSQL: the exclusive administrative lock, which every acceptance takes
        shared), so an intent is always decided against the whole old or the whole new set,
        concurrent writes of sets serialise (the last one wins whole), and a crash leaves the
        old set.

        Parameters
        ----------
        fences
            The geofences; identifiers must be distinct.
        replace_all
            Also delete every stored geofence whose identifier is not among ``fences``.
        exists
            For each geofence: True, it must already exist; False, it must not; None, either.

        Returns
        -------
        GeofenceWrite
            Created, replaced and deleted identifiers, and the holding intents that the
            written prohibited geofences now conflict with.

        Raises
        ------
        GeofenceError
            Not Geofences, or an identifier given twice (nothing is written).
        GeofenceNotFoundError, GeofenceExistsError
            ``exists`` does not hold (nothing is written).
        """
        fences = list(fences)
        for g in fences:
            if not isinstance(g, Geofence):
                raise GeofenceError(f"expected a Geofence, got {type(g).__name__}")
        ids = [g.identifier for g in fences]
        if len(set(ids)) != len(ids):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            raise GeofenceError(f"geofence identifiers given more than once: {twice[:5]}")
        now = time.time()
        rows = [
            (
                g.identifier,
                Category(g.category).value,
                json.dumps(g.to_geojson_feature(), sort_keys=True),
                *g.footprint.bounds,
                now,
            )
            for g in fences
        ]
        db = self._db

        def body() -> GeofenceWrite:
            stored = {r[0] for r in db.execute("SELECT id FROM geofences").fetchall()}
            new = set(ids)
            if exists is True and new - stored:
                raise GeofenceNotFoundError(f"no geofence {sorted(new - stored)[0]!r}")
            if exists is False and new & stored:
                raise GeofenceExistsError(f"geofence {sorted(new & stored)[0]!r} exists")
            gone = sorted(stored - new) if replace_all else []
            db.executemany("DELETE FROM geofences WHERE id = ?", [(i,) for i in gone])
            db.executemany(
                "INSERT INTO geofences (id, category, feature, west, south, east, north, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "category = excluded.category, feature = excluded.feature, west = excluded.west, "
                "south = excluded.south, east = excluded.east, north = excluded.north, "
                "updated_at = excluded.updated_at",
                rows,
            )
            self._bump_fences()
            return GeofenceWrite(
                tuple(sorted(new - stored)), tuple(sorted(new & stored)), tuple(gone), ()
            )

        done = db.run(body, exclusive=True)
        conflicting = sorted(
            {
                i
                for g in fences
                if Category(g.category) is Category.PROHIBITED
                for i in self._conflicting_intents(g)
            }
        )
        return replace(done, conflicting_intents=tuple(conflicting))

    def _conflicting_intents(self, geofence: Geofence) -> list[str]:
        """Ids of holding intents with a volume inside ``geofence``."""
        w, s, e, n = geofence.footprint.bounds
        rows = self._db.execute(
            "SELECT i.seq, i.id, i.operator, i.priority, i.tier, i.state, v.footprint, "
            "v.floor_m, v.ceiling_m, v.t_start, v.t_end FROM intents i JOIN volumes v "
            f"ON v.intent_seq = i.seq WHERE i.state IN {_HOLDING_SQL} AND v.east >= ? AND v.west <= ? "
            "AND v.north >= ? AND v.south <= ? ORDER BY i.seq, v.idx",
            (w, e, s, n),
        ).fetchall()
        holders = _group_holders(rows)
        if not holders:
            return []
        index = GeofenceIndex([geofence], dem=self._dem)
        return [h.id for h in holders if any(index.check_volume(v) for v in h.volumes)]

    def _bump_fences(self) -> None:
        self._db.execute(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
            "WHERE name = 'geofence_rev'"
        )

    def get_geofence(self, geofence_id: str) -> Geofence:
        """A stored geofence.

        Raises
        ------
        GeofenceError
            No such geofence (:class:`LookupError` too).
        """
        row = self._db.execute(
            "SELECT feature FROM geofences WHERE id = ?", (geofence_id,)
        ).fetchone()
        if row is None:
            raise GeofenceNotFoundError(f"no geofence {geofence_id!r}")
        return Geofence.from_geojson_feature(json.loads(row[0]))

    def list_geofences(self, category: Category | str | None = None) -> list[Geofence]:
        """Stored geofences (optionally of one category), by id."""
        if category is None:
            rows = self._db.execute("SELECT feature FROM geofences ORDER BY id").fetchall()
        else:
            rows = self._db.execute(
                "SELECT feature FROM geofences WHERE category = ? ORDER BY id",
                (Category(category).value,),
            ).fetchall()
        return [Geofence.from_geojson_feature(json.loads(r[0])) for r in rows]

    def delete_geofence(self, geofence_id: str) -> None:
        """Remove a geofence.

        Raises
        ------
        GeofenceError
            No such geofence.
        """
        db = self._db

        def body() -> None:
            row = db.execute(
                "DELETE FROM geofences WHERE id = ? RETURNING id", (geofence_id,)
            ).fetchone()
            if row is None:
                raise GeofenceNotFoundError(f"no geofence {geofence_id!r}")
            self._bump_fences()

        db.run(body, exclusive=True)

    def _fence_index(self, rev: int) -> GeofenceIndex | None:
        """Index of the prohibited geofences at revision ``rev`` (rebuilt when it changed)."""
        if self._fences is None or self._fences[0] != rev:
            fences = self.list_geofences(Category.PROHIBITED)
            self._fences = (rev, GeofenceIndex(fences, dem=self._dem) if fences else None)
        return self._fences[1]

    def _geofence_conflicts(self, volumes: Sequence[Volume4D], rev: int) -> list[GeofenceConflict]:
        """Active prohibited geofences met by any volume (closed footprint, band and time).

        No separation margin is added around a geofence: its footprint (circles already
        circumscribed and grown) and its conservatively resolved band are the protected
        volume.
        """
        index = self._fence_index(rev)
        if index is None:
            return []
        out = []
        for i, v in enumerate(volumes):
            for hit in index.check_volume(v):
                c = hit.where.centroid if not hit.where.is_empty else v.footprint.centroid
                out.append(
                    GeofenceConflict(
                        hit.geofence.identifier,
                        hit.geofence.name,
                        i,
                        float(c.y),
                        float(c.x),
                        hit.floor_m,
                        hit.ceiling_m,
                        hit.intervals,
                    )
                )
        return out


def _volume_rows(seq: int, volumes: Sequence[Volume4D]) -> list[tuple]:
    fps = np.array([v.footprint for v in volumes], dtype=object)
    return [
        (seq, i, wkb, v.floor_m, v.ceiling_m, v.t_start, v.t_end, *box)
        for i, (v, wkb, box) in enumerate(
            zip(volumes, shapely.to_wkb(fps).tolist(), shapely.bounds(fps).tolist())
        )
    ]


def _group_holders(rows: list) -> list[Holder]:
    """Holders from rows ``seq, id, operator, priority, tier, state, footprint, floor_m,
    ceiling_m, t_start, t_end`` ordered by seq and volume."""
    holders: list[Holder] = []
    if not rows:
        return holders
    geoms = shapely.from_wkb([bytes(r[6]) for r in rows])
    vols: list[Volume4D] = []
    for n, r in enumerate(rows):
        vols.append(Volume4D(geoms[n], r[7], r[8], r[9], r[10]))
        if n + 1 == len(rows) or rows[n + 1][0] != r[0]:
            holders.append(Holder(r[1], r[2], int(r[3]), r[4], IntentState(r[5]), tuple(vols)))
            vols = []
    return holders


def open_store(
    location: str | Path | None = None,
    *,
    policy: AirspacePolicy | None = None,
    dem: Dem | None = None,
    proposals: ProposalSettings | None = None,
    busy_timeout_s: float = 60.0,
    retries: int = 50,
) -> Store:
    """Open (creating and migrating if needed) a store.

    Parameters
    ----------
    location
        ``postgresql://...`` (or ``postgres://``) for PostgreSQL; otherwise a data
        directory for SQLite (the file is ``<dir>/airgrid.sqlite``); default
        ``$AIRGRID_DATA_DIR`` or ``var/``.
    policy
        Tiers, separation, keys and grid mode; stored when the store is created. Passing
        one that differs from the stored one is an error; omit it to use the stored one.
    dem
        Terrain for geofences whose limits are in true height (without it they use the
        Earth-wide ground extremes, which errs towards larger geofences).
    proposals
        Fix search settings.
    busy_timeout_s
        SQLite: how long a writer waits for the lock.
    retries
        PostgreSQL: attempts per transaction under contention.

    Raises
    ------
    StoreConfigError
        Unusable location or URL, or a conflicting policy.
    SchemaVersionError
        The database was written by a newer airgrid.
    """
    if location is not None and str(location).startswith(("postgresql://", "postgres://")):
        backend: _Sqlite | _Postgres = _Postgres(str(location), retries)
    elif isinstance(location, str) and ("dbname=" in location or "host=" in location):
        raise StoreConfigError(
            "that looks like a libpq conninfo string; pass a postgresql:// URL "
            "for PostgreSQL or a directory for SQLite"
        )
    elif isinstance(location, str) and location.startswith("sqlite:"):
        raise StoreConfigError(
            f"{location!r}: for SQLite pass the data directory (the file is "
            f"<dir>/{SQLITE_FILE}), not a sqlite: URL"
        )
    else:
        data_dir = Path(location) if location is not None else DEFAULT_DATA_DIR
        if data_dir.exists() and not data_dir.is_dir():
            raise StoreConfigError(f"store location {data_dir} is not a directory")
        backend = _Sqlite(data_dir / SQLITE_FILE, busy_timeout_s)
    try:
        return Store(backend, policy, dem, proposals or ProposalSettings())
    except BaseException:
        backend.close()
        raise


__all__ = [
    "DEFAULT_DATA_DIR",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SQLITE_FILE",
    "AirspacePolicy",
    "Decision",
    "GeofenceConflict",
    "GeofenceWrite",
    "HighVolume",
    "LowVolume",
    "ProposalSettings",
    "Store",
    "open_store",
]
