"""Bulk restore of intents without the conflict test, in one exclusive transaction (for
backups and benchmarks).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from airgrid.airspace.errors import DuplicateIntentError
from airgrid.airspace.store.deciding import _DecidingPart, _Prepared
from airgrid.airspace.store.index_sync import _REV_SQL
from airgrid.airspace.store.rows import _volume_rows
from airgrid.airspace.traffic.models import IntentRequest


class _RestorePart(_DecidingPart):
    """Writing intents in bulk without the conflict test."""

    def restore_intents(self, requests: Sequence[IntentRequest]) -> int:
        """Write intents as accepted WITHOUT the conflict test, in one bulk transaction.

        For restoring a backup of a store and for benchmarks: the caller vouches that the
        intents conflict neither with each other nor with what the store holds (this is
        the one path that does not enforce it). They are written at one new store
        revision, which the in-process copies load on their next use.

        Returns
        -------
        int
            Intents written.

        Raises
        ------
        IntentTierError, DuplicateIntentError
            As for :meth:`~airgrid.airspace.store.service.Store.submit` (nothing is written).
        """
        preps = [self._prepare(r, decide=False) for r in requests]
        n = self._db.run(lambda: self._restore(preps), exclusive=True)
        self._db.execute("ANALYZE")
        return n

    def _restore(self, preps: list[_Prepared]) -> int:
        """The body of :meth:`restore_intents`' transaction: refuse taken ids, then copy the
        intents, their volumes and grid claims in bulk."""
        db = self._db
        if db.name == "postgres":
            db.execute("LOCK TABLE intents IN EXCLUSIVE MODE")
        self._refuse_taken([p.intent_id for p in preps])
        base = int(db.execute("SELECT coalesce(max(seq), 0) FROM intents").fetchone()[0]) + 1
        self._copy_intents(preps, base)
        db.bulk_copy(
            "volumes",
            _VOLUME_COLUMNS,
            (row for n, p in enumerate(preps) for row in _volume_rows(base + n, p.request.volumes)),
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
                "SELECT setval(pg_get_serial_sequence('intents', 'seq'), ?)", (base + len(preps),)
            )
        return len(preps)

    def _refuse_taken(self, ids: list[str]) -> None:
        """Raise :class:`DuplicateIntentError` if ``ids`` repeat or one is stored."""
        db = self._db
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

    def _copy_intents(self, preps: list[_Prepared], base: int) -> None:
        """Copy the intent rows, numbered from ``base``, at one new store revision."""
        now = time.time()
        rows = (
            (
                base + n,
                p.intent_id,
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
        db = self._db
        rev = int(db.execute(f"SELECT ({_REV_SQL}) + 1").fetchone()[0])
        db.bulk_copy("intents", (*_INTENT_COLUMNS, "rev"), ((*r, rev) for r in rows))


_INTENT_COLUMNS = (
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
_VOLUME_COLUMNS = (
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
)
