"""Refused submissions, with their volumes and where they met other traffic, and columnar
reads of stored volumes for analytics.

A refused :meth:`~airgrid.airspace.store.service.Store.submit` records the request
(:func:`_write_refusal`) in a commit that does not wait for the disk: on PostgreSQL in the
deciding transaction itself, which then writes nothing else (:func:`_write_refusal_pg`); on
SQLite in a transaction of its own right after it (:meth:`_Sqlite.unsynced`; tables
``refusals``, ``refusal_volumes``, ``refusal_conflicts``): its volumes and one conflict
point per conflict (an intent's: the centroid of the common
footprint and the common interval; a geofence's: its centroid and the span of its common
intervals; a grid voxel-slot's: the cell centre and the request's window).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import h3
import numpy as np
import shapely

from airgrid.airspace.store.answers import Decision
from airgrid.airspace.store.backends import (
    ByteaColumn,
    Float8Column,
    Int4Column,
    TextColumn,
    _Postgres,
    _Sqlite,
)
from airgrid.airspace.store.core import _StoreCore
from airgrid.airspace.store.rows import _volume_rows
from airgrid.airspace.traffic.holders import band_window as band_window_of

#: States whose volumes are traffic that flies or flew (cancelled intents never did).
TRAFFIC_STATES = ("accepted", "activated", "nonconforming", "contingent", "ended")


def refusals_v7(real: str, serial: str, blob: str) -> list[str]:
    """The refusal tables (``real``, ``serial``, ``blob``: the backend's float type, id
    column and byte string type)."""
    return [
        f"CREATE TABLE IF NOT EXISTS refusals (id {serial}, intent_id TEXT NOT NULL,"
        " operator TEXT NOT NULL, tier TEXT NOT NULL, priority INTEGER NOT NULL,"
        f" at {real} NOT NULL, t_start {real} NOT NULL, t_end {real} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS refusals_window ON refusals(t_end, t_start)",
        "CREATE TABLE IF NOT EXISTS refusal_volumes ("
        " refusal_id BIGINT NOT NULL REFERENCES refusals(id) ON DELETE CASCADE,"
        f" idx INTEGER NOT NULL, footprint {blob} NOT NULL,"
        f" floor_m {real} NOT NULL, ceiling_m {real} NOT NULL,"
        f" t_start {real} NOT NULL, t_end {real} NOT NULL, PRIMARY KEY (refusal_id, idx))",
        "CREATE TABLE IF NOT EXISTS refusal_conflicts ("
        " refusal_id BIGINT NOT NULL REFERENCES refusals(id) ON DELETE CASCADE,"
        " kind TEXT NOT NULL CHECK (kind IN ('intent', 'geofence', 'grid')),"
        f" other_id TEXT NOT NULL, lat {real} NOT NULL, lon {real} NOT NULL,"
        f" t_start {real} NOT NULL, t_end {real} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS refusal_conflicts_refusal ON refusal_conflicts(refusal_id)",
    ]


@dataclass(frozen=True)
class VolumeColumns:
    """Stored volumes as columns, ordered by owner and volume index.

    Attributes
    ----------
    owner
        The intent's (or refusal's) sequence number (int64).
    footprint
        Shapely polygons (object array).
    floor_m, ceiling_m, t_start, t_end
        Band (m AMSL) and window (POSIX s).
    """

    owner: np.ndarray
    footprint: np.ndarray
    floor_m: np.ndarray
    ceiling_m: np.ndarray
    t_start: np.ndarray
    t_end: np.ndarray


@dataclass(frozen=True)
class ConflictColumns:
    """Recorded conflict points: ``lat``, ``lon``, ``t_start``, ``t_end`` (float64)."""

    lat: np.ndarray
    lon: np.ndarray
    t_start: np.ndarray
    t_end: np.ndarray


def _columns(rows: list) -> VolumeColumns:
    """Rows ``owner, footprint, floor_m, ceiling_m, t_start, t_end`` as columns."""
    if not rows:
        none = np.empty(0, np.float64)
        return VolumeColumns(np.empty(0, np.int64), np.empty(0, object), none, none, none, none)
    cols = list(zip(*rows))
    return VolumeColumns(
        np.array(cols[0], np.int64),
        shapely.from_wkb([bytes(b) for b in cols[1]]),
        *(np.array(c, np.float64) for c in cols[2:]),
    )


def _conflict_points(decision: Decision) -> list[tuple]:
    """``kind, other_id, lat, lon, t_start, t_end`` of each conflict of a refusal."""
    out: list[tuple] = [
        ("intent", c.other_id, c.lat, c.lon, c.t_start, c.t_end) for c in decision.conflicts
    ]
    for g in decision.geofence_conflicts:
        t0 = min(a for a, _ in g.intervals) if g.intervals else decision.request.window[0]
        t1 = max(b for _, b in g.intervals) if g.intervals else decision.request.window[1]
        out.append(("geofence", g.geofence_id, g.lat, g.lon, t0, t1))
    for gc in decision.grid_conflicts:
        lat, lon = h3.cell_to_latlng(gc.cell)
        out.append(("grid", gc.other_id, lat, lon, *decision.request.window))
    return out


def _write_refusal(db: _Sqlite | _Postgres, decision: Decision, *, durable: bool = False) -> None:
    """Record a refused request with its volumes and conflict points: on PostgreSQL in the
    caller's transaction, in one statement that returns nothing; on SQLite right after it
    commits (:meth:`_Sqlite.unsynced`). Neither commit waits for the disk.

    ``durable``: the caller's transaction also accepts an intent (the request moved by a
    fix the store took), so the record is written in it on both backends and commits
    with it, waiting for the disk as the acceptance does."""
    req = decision.request
    head = (req.intent_id or "", req.operator, req.tier, req.priority, time.time(), *req.window)
    if isinstance(db, _Postgres):
        _write_refusal_pg(db, head, decision, durable=durable)
    elif durable:
        _write_refusal_sqlite(db, head, decision)
    else:
        db.unsynced(lambda: _write_refusal_sqlite(db, head, decision))


def _write_refusal_sqlite(db: _Sqlite, head: tuple, decision: Decision) -> None:
    """:func:`_write_refusal` on SQLite: three inserts (after the deciding transaction, in
    one that does not wait for the disk: see :meth:`_Sqlite.unsynced`)."""
    req = decision.request
    rid = db.execute(
        "INSERT INTO refusals (intent_id, operator, tier, priority, at, t_start, t_end) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        head,
    ).fetchone()[0]
    db.executemany(
        "INSERT INTO refusal_volumes (refusal_id, idx, footprint, floor_m, ceiling_m, "
        "t_start, t_end) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [r[:7] for r in _volume_rows(int(rid), req.volumes)],
    )
    points = _conflict_points(decision)
    if points:
        db.executemany(
            "INSERT INTO refusal_conflicts (refusal_id, kind, other_id, lat, lon, "
            "t_start, t_end) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(int(rid), *p) for p in points],
        )


def _write_refusal_pg(db: _Postgres, head: tuple, decision: Decision, *, durable: bool) -> None:
    """:func:`_write_refusal` on PostgreSQL: the refusal, its volumes and its conflict
    points in one statement, whose result is never fetched (in pipeline mode it goes out
    with the ``COMMIT``).

    Unless ``durable``, the transaction, which then records nothing but the refusal,
    commits without waiting for its WAL to reach the disk (the statement sets
    ``synchronous_commit`` to off for the transaction, as ``SET LOCAL`` would): a refusal
    record is analytics, not a decision anything relies on, and a crash of the PostgreSQL
    server may lose at most the refusals of its last fraction of a second (three times
    ``wal_writer_delay``, 0.6 s by default); it never leaves a partial record. Accepting
    transactions keep the durable commit."""
    unsynced = (
        ""
        if durable
        else "FROM (SELECT set_config('synchronous_commit', 'off', true) AS sync) AS s "
        "WHERE s.sync = 'off' "
    )
    vols = decision.request.volumes
    fps = np.array([v.footprint for v in vols], dtype=object)
    band_window = band_window_of(vols)
    kinds, others, *where = list(zip(*_conflict_points(decision))) or [()] * 6
    # the columns go as binary arrays, each encoded at once (see Float8Column)
    db.conn.execute(
        "WITH r AS (INSERT INTO refusals (intent_id, operator, tier, priority, at, t_start, t_end) "
        f"SELECT %s, %s, %s, %s, %s, %s, %s {unsynced}RETURNING id), "
        "v AS (INSERT INTO refusal_volumes (refusal_id, idx, footprint, floor_m, ceiling_m, "
        "t_start, t_end) SELECT r.id, u.* FROM r, unnest(%b::int[], %b::bytea[], %b::float8[], "
        "%b::float8[], %b::float8[], %b::float8[]) AS u) "
        "INSERT INTO refusal_conflicts (refusal_id, kind, other_id, lat, lon, t_start, t_end) "
        "SELECT r.id, u.* FROM r, unnest(%b::text[], %b::text[], %b::float8[], %b::float8[], "
        "%b::float8[], %b::float8[]) AS u",
        (
            *head,
            Int4Column(np.arange(len(fps))),
            ByteaColumn(shapely.to_wkb(fps).tolist()),
            *(Float8Column(band_window[:, c]) for c in range(4)),
            TextColumn(kinds),
            TextColumn(others),
            *(Float8Column(c) for c in where),
        ),
    )


class _RefusalsPart(_StoreCore):
    """The refusal tables and the columnar reads analytics use."""

    def traffic_volumes(
        self, tier: str, start: float, end: float, *, limit: int = 10_000_000
    ) -> VolumeColumns:
        """Volumes of ``tier``'s intents that fly or flew (:data:`TRAFFIC_STATES`) whose
        window overlaps ``[start, end)``; at most ``limit`` volumes (the caller asks one
        more to tell that the limit was passed)."""
        states = ", ".join(f"'{s}'" for s in TRAFFIC_STATES)
        rows = self._db.execute(
            "SELECT v.intent_seq, v.footprint, v.floor_m, v.ceiling_m, v.t_start, v.t_end "
            "FROM intents i JOIN volumes v ON v.intent_seq = i.seq "
            f"WHERE i.tier = ? AND i.state IN ({states}) AND i.t_end > ? AND i.t_start < ? "
            f"ORDER BY v.intent_seq, v.idx LIMIT {int(limit)}",
            (tier, start, end),
        ).fetchall()
        return _columns(rows)

    def refused_volumes(
        self, tier: str, start: float, end: float, *, limit: int = 10_000_000
    ) -> VolumeColumns:
        """Volumes of ``tier``'s refused submissions whose window overlaps ``[start, end)``
        (owner: the refusal's id)."""
        rows = self._db.execute(
            "SELECT v.refusal_id, v.footprint, v.floor_m, v.ceiling_m, v.t_start, v.t_end "
            "FROM refusals r JOIN refusal_volumes v ON v.refusal_id = r.id "
            "WHERE r.tier = ? AND r.t_end > ? AND r.t_start < ? "
            f"ORDER BY v.refusal_id, v.idx LIMIT {int(limit)}",
            (tier, start, end),
        ).fetchall()
        return _columns(rows)

    def refusal_conflicts(
        self, tier: str, start: float, end: float, *, limit: int = 10_000_000
    ) -> ConflictColumns:
        """Conflict points recorded for ``tier``'s refusals whose interval meets
        ``[start, end)``."""
        rows = self._db.execute(
            "SELECT c.lat, c.lon, c.t_start, c.t_end FROM refusals r "
            "JOIN refusal_conflicts c ON c.refusal_id = r.id "
            "WHERE r.tier = ? AND c.t_end >= ? AND c.t_start < ? "
            f"ORDER BY c.refusal_id LIMIT {int(limit)}",
            (tier, start, end),
        ).fetchall()
        cols = [np.array(c, np.float64) for c in zip(*rows)] if rows else [np.empty(0)] * 4
        return ConflictColumns(*cols)


__all__ = ["TRAFFIC_STATES", "ConflictColumns", "VolumeColumns", "refusals_v7"]
