"""The two database backends of a store and their dialect differences.

:class:`_Sqlite` (one file, WAL journal, ``BEGIN IMMEDIATE`` single-writer transactions) and
:class:`_Postgres` (psycopg 3, advisory locks, retried transactions, the intents ones in
pipeline mode) offer the same small interface: placeholders, statements, one transaction
per ``run``, grid-claim lookups and bulk copies. :func:`connect` picks one from a store location.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import sqlite3
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from airgrid.airspace.errors import StoreBusyError, StoreConfigError, StoreError
from airgrid.airspace.store.copy_odds import CopyOdds
from airgrid.airspace.store.writer_turn import WriterTurn

log = logging.getLogger(__name__)

#: File name of the SQLite database inside the data directory.
SQLITE_FILE = "airgrid.sqlite"
#: Default SQLite directory: ``var/`` under the working directory (the service's is
#: :attr:`airgrid.settings.Settings.var_dir`).
DEFAULT_DATA_DIR = Path("var")
#: Advisory-lock id that serialises migrations and bulk restores on PostgreSQL.
_ADMIN_LOCK = 0x41697267726964  # "Airgrid"
#: Advisory-lock id held by every PostgreSQL transaction that decides on intents or changes
#: their state (and so the store revision): one at a time, as SQLite's single writer.
_INTENTS_LOCK = 0x41697267726965
#: SQLSTATE of the error ``airgrid_confirm_revisions`` (schema migration 9) raises when the
#: store is no longer at the revisions a transaction decided at.
STORE_MOVED = "AGR01"


#: A binary float8 array element: its length (8) and its value, big-endian.
_FLOAT8_ITEM = np.dtype([("size", ">i4"), ("value", ">f8")])
#: A binary int4 array element: its length (4) and its value, big-endian.
_INT4_ITEM = np.dtype([("size", ">i4"), ("value", ">i4")])


class Float8Column:
    """A column of floats passed to PostgreSQL as one binary ``float8[]`` parameter
    (``%b``), encoded by NumPy at once rather than element by element."""

    __slots__ = ("values",)

    def __init__(self, values: Iterable[float] | np.ndarray) -> None:
        self.values = np.asarray(values, dtype=np.float64).ravel()


class Int4Column:
    """A column of 32-bit integers passed as one binary ``int4[]`` parameter (``%b``)."""

    __slots__ = ("values",)

    def __init__(self, values: Iterable[int] | np.ndarray) -> None:
        self.values = np.asarray(values, dtype=np.int32).ravel()


class ByteaColumn:
    """A column of byte strings passed as one binary ``bytea[]`` parameter (``%b``)."""

    __slots__ = ("values",)

    def __init__(self, values: Iterable[bytes]) -> None:
        self.values = [bytes(b) for b in values]


class TextColumn:
    """A column of strings passed as one binary ``text[]`` parameter (``%b``)."""

    __slots__ = ("values",)

    def __init__(self, values: Iterable[str]) -> None:
        self.values = [str(t) for t in values]


def _array_head(element_oid: int, n: int) -> bytes:
    """The header of a one-dimensional binary array of ``n`` elements (no NULLs)."""
    if not n:
        return struct.pack(">iiI", 0, 0, element_oid)
    return struct.pack(">iiIii", 1, 0, element_oid, n, 1)


def _varlena_array(values: list[bytes], element_oid: int) -> bytes:
    """A binary array of variable-length values, given encoded."""
    body = b"".join(struct.pack(">i", len(b)) + b for b in values)
    return _array_head(element_oid, len(values)) + body


def _numeric_array(values: np.ndarray, item: np.dtype, width: int, element_oid: int) -> bytes:
    """A binary array of fixed-width numbers."""
    out = np.empty(len(values), item)
    out["size"] = width
    out["value"] = values
    return _array_head(element_oid, len(values)) + out.tobytes()


@functools.cache
def _column_dumpers() -> tuple[tuple[type, type], ...]:
    """The psycopg dumpers of the column types above (made once, on first use)."""
    from psycopg import pq
    from psycopg.adapt import Dumper

    class Float8Dumper(Dumper):
        format = pq.Format.BINARY
        oid = 1022  # float8[]

        def dump(self, obj: Float8Column) -> bytes:
            return _numeric_array(obj.values, _FLOAT8_ITEM, 8, 701)

    class Int4Dumper(Dumper):
        format = pq.Format.BINARY
        oid = 1007  # int4[]

        def dump(self, obj: Int4Column) -> bytes:
            return _numeric_array(obj.values, _INT4_ITEM, 4, 23)

    class ByteaDumper(Dumper):
        format = pq.Format.BINARY
        oid = 1001  # bytea[]

        def dump(self, obj: ByteaColumn) -> bytes:
            return _varlena_array(obj.values, 17)

    class TextDumper(Dumper):
        format = pq.Format.BINARY
        oid = 1009  # text[]

        def dump(self, obj: TextColumn) -> bytes:
            encoding = self.connection.info.encoding if self.connection else "utf-8"
            return _varlena_array([t.encode(encoding) for t in obj.values], 25)

    return (
        (Float8Column, Float8Dumper),
        (Int4Column, Int4Dumper),
        (ByteaColumn, ByteaDumper),
        (TextColumn, TextDumper),
    )


def _register_columns(conn: Any) -> None:
    """Have a psycopg connection send the column types above in binary."""
    for cls, dumper in _column_dumpers():
        conn.adapters.register_dumper(cls, dumper)


class _PipelineEndNoise(logging.Filter):
    """Drops psycopg's warning that ending a pipeline failed because it was aborted
    ("error ignored terminating <psycopg.Pipeline ...>: pipeline aborted").

    psycopg logs it when a statement of the pipeline failed and that error is already on
    its way up: :meth:`_Postgres._pipelined` raises it (a stale first attempt's
    :data:`STORE_MOVED`, which :meth:`_Postgres.run` decides again, a race it retries,
    or any other error), and the pipeline's end can only report that it was aborted.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not (
            msg.startswith("error ignored terminating <psycopg.Pipeline")
            and msg.endswith("pipeline aborted")
        )


logging.getLogger("psycopg").addFilter(_PipelineEndNoise())


class _Rollback(Exception):
    """Carries a result out of a transaction that must not commit."""

    def __init__(self, result: object) -> None:
        super().__init__("rollback")
        self.result = result


class _Retry(StoreError):
    """The transaction saw a state change it cannot decide on; run it again."""


def _first(row: Sequence | None, sql: str) -> Any:
    """The first value of a statement's row."""
    if row is None:
        raise RuntimeError(f"statement returned no row: {sql[:80]}")
    return row[0]


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
        self._unsynced: list[Callable[[], None]] = []
        self._turn = WriterTurn(path, busy_timeout_s)

    def q(self, sql: str) -> str:
        return sql

    def execute(self, sql: str, params: Sequence = ()) -> Any:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> None:
        self.conn.executemany(sql, rows)

    def run(self, fn: Callable[[], Any], *, intents: bool = False, exclusive: bool = False) -> Any:
        """Run ``fn`` in one ``BEGIN IMMEDIATE`` transaction (the single-writer lock), in
        this connection's turn to write (:class:`~airgrid.airspace.store.writer_turn.WriterTurn`),
        then the records :meth:`unsynced` queued, in the same turn.

        ``intents`` and ``exclusive`` are for PostgreSQL; one writer at a time covers both.
        """
        with self._turn:
            out = self._transaction(fn)
            if self._unsynced:
                writes, self._unsynced = self._unsynced, []
                self._unsynced_transaction(lambda: [w() for w in writes])
            return out

    def _transaction(self, fn: Callable[[], Any]) -> Any:
        """``fn`` in one ``BEGIN IMMEDIATE`` transaction (the caller has the turn)."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreBusyError(f"SQLite store is locked by another writer: {exc}") from exc
        try:
            out = fn()
        except _Rollback as rb:
            self._unsynced.clear()
            self.conn.execute("ROLLBACK")
            return rb.result
        except BaseException:
            self._unsynced.clear()
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return out

    def unsynced(self, write: Callable[[], None]) -> None:
        """Run ``write``, a record nothing decides on (a refusal), once the current
        transaction has committed, in a transaction of its own that does not wait for the
        disk.

        That transaction runs with ``synchronous = NORMAL``: in WAL mode its commit cannot
        corrupt the store, and a power loss may lose it (never leaving part of it) until
        the next durable commit of this connection syncs the log. A SQLite transaction
        cannot change its own synchronous level, hence the second transaction.
        """
        self._unsynced.append(write)

    def run_unsynced(self, fn: Callable[[], Any]) -> Any:
        """:meth:`run` ``fn`` in a transaction whose commit does not wait for the disk
        (``synchronous = NORMAL``; see :meth:`unsynced`): for records nothing decides on."""
        with self._turn:
            return self._unsynced_transaction(fn)

    def _unsynced_transaction(self, fn: Callable[[], Any]) -> Any:
        """:meth:`_transaction` with ``synchronous = NORMAL`` (the caller has the turn)."""
        self.conn.execute("PRAGMA synchronous = NORMAL")
        try:
            return self._transaction(fn)
        finally:
            self.conn.execute("PRAGMA synchronous = FULL")

    def lock_intents(self) -> None:
        """Nothing to do: the transaction already holds the single-writer lock."""

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
        self._turn.close()


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
        self.url = url
        self.retries = retries
        try:
            self.conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreConfigError(f"cannot connect to PostgreSQL: {exc}") from exc
        _register_columns(self.conn)
        e = psycopg.errors
        self.retryable = (e.DeadlockDetected, e.SerializationFailure, e.UniqueViolation, _Retry)
        #: True during a transaction's first attempt, which may decide on what the process
        #: already knows and have the server confirm it (:meth:`confirm_revisions`) while
        #: :attr:`odds` say that is worth trying; a retry reads.
        self.first_attempt = False
        #: How often this connection's decisions find the process's copy current.
        self.odds = CopyOdds()
        #: Whether the current attempt asked for :meth:`confirm_revisions`.
        self._confirming = False

    def q(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def execute(self, sql: str, params: Sequence = ()) -> Any:
        return self.conn.execute(self.q(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(self.q(sql), rows)

    def run(self, fn: Callable[[], Any], *, intents: bool = False, exclusive: bool = False) -> Any:
        """Run ``fn`` in a transaction, retrying on deadlock, serialisation failure and
        uniqueness races.

        Every transaction first takes the administrative advisory lock (shared, or
        ``exclusive`` for geofence changes, restores and migrations), then, with
        ``intents``, the intents lock (:data:`_INTENTS_LOCK`); an ``intents``
        transaction runs in pipeline mode (:meth:`_pipelined`). A first attempt that
        fails with :data:`STORE_MOVED` is run again at once (with
        :attr:`first_attempt` false); one that finds a prepared statement missing, on a
        new connection.
        """
        admin = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        sql = f"SELECT {admin}({_ADMIN_LOCK})"
        if intents:
            sql += f", pg_advisory_xact_lock({_INTENTS_LOCK})"
        try:
            for attempt in range(self.retries):
                self.first_attempt = attempt == 0
                self._confirming = False
                try:
                    out = self._attempt(sql, fn, intents)
                except self.retryable as exc:
                    log.debug("retrying transaction after %r (attempt %d)", exc, attempt + 1)
                    time.sleep(random.uniform(0, 0.002 * (2 ** min(attempt, 8))))
                except self.psycopg.errors.InvalidSqlStatementName as exc:
                    # psycopg takes a statement it prepares in a pipeline for prepared even
                    # if an earlier error there had the server skip its preparation: start
                    # a new session, which prepares afresh
                    log.info("reconnecting after %s", exc)
                    self._reconnect()
                except self.psycopg.OperationalError as exc:
                    raise StoreError(f"PostgreSQL failed: {exc}") from exc
                except self.psycopg.DatabaseError as exc:
                    if exc.sqlstate != STORE_MOVED:
                        raise
                    self.odds.saw(False)
                    log.debug("the store moved on; deciding again after reading it")
                else:
                    if self._confirming:
                        self.odds.saw(True)
                    return out
        finally:
            self.first_attempt = False
        raise StoreBusyError(f"transaction still contended after {self.retries} attempts")

    def _attempt(self, lock_sql: str, fn: Callable[[], Any], intents: bool) -> Any:
        """One attempt of :meth:`run`: ``fn``'s result, or the result a :class:`_Rollback`
        carried out of it."""
        try:
            if intents:
                return self._pipelined(lock_sql, fn)
            with self.conn.transaction():
                # reads come in later statements, whose snapshots therefore include every
                # commit made before the locks were granted
                self.conn.execute(lock_sql)
                return fn()
        except _Rollback as rb:
            return rb.result

    def confirm_revisions(self, rev: int, fence_rev: int, intent_id: str) -> None:
        """Have the server confirm, right after the locks, that the store is at revision
        ``rev`` and geofence revision ``fence_rev`` and that ``intent_id`` is not taken.

        The statement returns nothing to fetch: in pipeline mode it goes out with the next
        one whose result is fetched, or with the end of the transaction, and runs before
        every later statement. If the store moved on, it fails with :data:`STORE_MOVED`:
        the server skips the rest of the transaction (nothing decided on the stale copy
        is committed or answered), and :meth:`run` runs it again, reading. Either outcome
        goes into :attr:`odds`.
        """
        self._confirming = True
        self.execute(
            "SELECT airgrid_confirm_revisions(?::bigint, ?::bigint, ?::text)",
            (rev, fence_rev, intent_id),
        )

    def run_unsynced(self, fn: Callable[[], Any]) -> Any:
        """:meth:`run` ``fn`` in a transaction whose commit does not wait for its WAL to
        reach the disk (``synchronous_commit`` off for that transaction alone): for
        records nothing decides on. A crash may lose it, never part of it."""

        def body() -> Any:
            self.conn.execute("SET LOCAL synchronous_commit = off")
            return fn()

        return self.run(body)

    def _pipelined(self, lock_sql: str, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` in one transaction in pipeline mode, after ``lock_sql``.

        A statement whose result is not fetched is sent with the next one that is, or
        with the end of the transaction: ``BEGIN`` and the locks travel with the first
        read, and writes that return nothing with the ``COMMIT`` (or the ``ROLLBACK`` of
        a :class:`_Rollback`). A transaction that reads nothing before it decides (a
        first attempt that has its revisions confirmed instead) is therefore one round
        trip, a decision that reads first two. The server runs a pipeline's statements
        one after the other: the reads' snapshots include every commit made before the
        locks were granted. ``fn`` must not COPY. An error of any statement is raised
        once the pipeline is synced, also when ``fn`` raised :class:`_Rollback` (whose
        result then does not count).
        """
        conn = self.conn
        rollback: _Rollback | None = None
        try:
            with conn.pipeline():
                conn.execute("BEGIN")
                conn.execute(lock_sql)
                try:
                    out = fn()
                except _Rollback as rb:
                    rollback = rb
                conn.execute("COMMIT" if rollback is None else "ROLLBACK")
            if rollback is not None:
                raise rollback
            return out
        except BaseException:
            # an error inside the pipeline leaves the transaction open (or failed)
            if conn.pgconn.status == self.psycopg.pq.ConnStatus.OK and (
                conn.info.transaction_status != self.psycopg.pq.TransactionStatus.IDLE
            ):
                conn.execute("ROLLBACK")
            raise

    def later(self, sql: str, params: Sequence = ()) -> Callable[[], Any]:
        """Execute a statement that returns one row and give a function that returns the
        row's first value: fetched on the first call, so in pipeline mode (an
        ``intents`` transaction) the statement goes out with the next one whose result
        is fetched, or with the ``COMMIT`` if the first call comes after it."""
        cur = self.conn.execute(self.q(sql), params)
        return functools.cache(lambda: _first(cur.fetchone(), sql))

    def lock_intents(self) -> None:
        """Take the intents lock in the current transaction (if it does not hold it yet);
        statements after it see every commit made before it was granted."""
        self.conn.execute(f"SELECT pg_advisory_xact_lock({_INTENTS_LOCK})")

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

    def _reconnect(self) -> None:
        """Replace the connection by a new one (a new session)."""
        self.conn.close()
        try:
            self.conn = self.psycopg.connect(self.url, autocommit=True)
        except self.psycopg.Error as exc:
            raise StoreError(f"cannot reconnect to PostgreSQL: {exc}") from exc
        _register_columns(self.conn)

    def close(self) -> None:
        self.conn.close()


def connect(
    location: str | Path | None, busy_timeout_s: float, retries: int
) -> _Sqlite | _Postgres:
    """The backend for a store location (see :func:`~airgrid.airspace.store.service.open_store`).

    Parameters
    ----------
    location
        ``postgresql://...`` (or ``postgres://``) for PostgreSQL; otherwise a data
        directory for SQLite (the file is ``<dir>/airgrid.sqlite``); None for
        :data:`DEFAULT_DATA_DIR`.
    busy_timeout_s
        SQLite: how long a writer waits for the lock.
    retries
        PostgreSQL: attempts per transaction under contention.

    Returns
    -------
    _Sqlite or _Postgres
        An open connection.

    Raises
    ------
    StoreConfigError
        Unusable location or URL.
    """
    if location is not None and str(location).startswith(("postgresql://", "postgres://")):
        return _Postgres(str(location), retries)
    if isinstance(location, str) and ("dbname=" in location or "host=" in location):
        raise StoreConfigError(
            "that looks like a libpq conninfo string; pass a postgresql:// URL "
            "for PostgreSQL or a directory for SQLite"
        )
    if isinstance(location, str) and location.startswith("sqlite:"):
        raise StoreConfigError(
            f"{location!r}: for SQLite pass the data directory (the file is "
            f"<dir>/{SQLITE_FILE}), not a sqlite: URL"
        )
    data_dir = Path(location) if location is not None else DEFAULT_DATA_DIR
    if data_dir.exists() and not data_dir.is_dir():
        raise StoreConfigError(f"store location {data_dir} is not a directory")
    return _Sqlite(data_dir / SQLITE_FILE, busy_timeout_s)


__all__ = ["DEFAULT_DATA_DIR", "SQLITE_FILE", "STORE_MOVED", "connect"]
