"""The geofences of a store: atomic writes of one geofence or a whole set, reads, deletion,
the geofence revision that every change bumps, and the check of intent volumes against the
active prohibited geofences.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import replace

from airgrid.airspace.errors import GeofenceError, GeofenceExistsError, GeofenceNotFoundError
from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.geofences.model import Category, Geofence
from airgrid.airspace.store.answers import GeofenceConflict, GeofenceWrite
from airgrid.airspace.store.core import _StoreCore
from airgrid.airspace.store.rows import _HOLDING_SQL, _group_holders
from airgrid.geo.volumes import Volume4D

#: The geofence revision: it moves on every geofence write.
_FENCE_REV_SQL = "SELECT value FROM meta WHERE name = 'geofence_rev'"


class _GeofencePart(_StoreCore):
    """Geofence writes and reads, and geofence conflicts of intent volumes."""

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
        rows = _geofence_rows(fences)
        done = self._db.run(
            lambda: self._upsert_geofences(rows, replace_all, exists), exclusive=True
        )
        conflicting = sorted(
            {
                i
                for g in fences
                if Category(g.category) is Category.PROHIBITED
                for i in self._conflicting_intents(g)
            }
        )
        return replace(done, conflicting_intents=tuple(conflicting))

    def _upsert_geofences(
        self, rows: list[tuple], replace_all: bool, exists: bool | None
    ) -> GeofenceWrite:
        """The body of :meth:`write_geofences`' transaction, on rows of
        :func:`_geofence_rows` (the conflicting intents are left empty)."""
        db = self._db
        stored = {r[0] for r in db.execute("SELECT id FROM geofences").fetchall()}
        new = {r[0] for r in rows}
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
        return [h.id for h in holders if index.check_volumes(h.volumes)]

    def geofence_revision(self) -> int:
        """The geofence revision: it moves on every geofence write (one cheap read)."""
        return int(self._db.execute(_FENCE_REV_SQL).fetchone()[0])

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
        for i, hit in index.check_volumes(volumes):
            c = hit.where.centroid if not hit.where.is_empty else volumes[i].footprint.centroid
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


def _geofence_rows(fences: list[Geofence]) -> list[tuple]:
    """Rows of the ``geofences`` table for ``fences``, checked before any write.

    Raises
    ------
    GeofenceError
        Not Geofences, or an identifier given twice.
    """
    for g in fences:
        if not isinstance(g, Geofence):
            raise GeofenceError(f"expected a Geofence, got {type(g).__name__}")
    ids = [g.identifier for g in fences]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise GeofenceError(f"geofence identifiers given more than once: {twice[:5]}")
    now = time.time()
    return [
        (
            g.identifier,
            Category(g.category).value,
            json.dumps(g.to_geojson_feature(), sort_keys=True),
            *g.footprint.bounds,
            now,
        )
        for g in fences
    ]
