"""The in-process copies of holding intents that stores decide against.

One :class:`~airgrid.airspace.traffic.holding_index.HoldingIndex` per database (SQLite file
or PostgreSQL URL, and store id) in a process, shared by its stores; :func:`_sync_index`
brings it to the store revision read in a transaction that holds the intents lock,
:func:`_index_accepted` takes a committed acceptance over. A forked child starts without
its parent's copies.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from airgrid.airspace.store.backends import _Postgres, _Sqlite
from airgrid.airspace.store.rows import _HOLDING_SQL
from airgrid.airspace.traffic.holders import Holder
from airgrid.airspace.traffic.holding_index import HoldingIndex
from airgrid.airspace.traffic.models import HOLDING, IntentState


@dataclass
class _Accepted:
    """What an accepting transaction changed, for the in-process copy after commit
    (``seq_of`` gives the intent's sequence number: on PostgreSQL, the result of a
    statement sent with the commit)."""

    base_rev: int
    rev: int
    seq_of: Callable[[], int]
    holder: Holder
    limits: np.ndarray
    victims: list[int]


#: In-process copies of holding intents, per (database, store id): one per database.
_INDEXES: weakref.WeakValueDictionary[tuple[str, str], HoldingIndex] = weakref.WeakValueDictionary()
_INDEXES_LOCK = threading.Lock()

#: The store revision: the highest stamped on an intent.
_REV_SQL = "SELECT coalesce(max(rev), 0) FROM intents"


def _shared_index(db: _Sqlite | _Postgres) -> HoldingIndex:
    """The process's copy for one store: keyed by its SQLite file or PostgreSQL URL and by
    the store id kept in its meta table (which tells a re-created database apart, and two
    databases behind one URL over time)."""
    store_id = str(db.execute("SELECT value FROM meta WHERE name = 'store_id'").fetchone()[0])
    where = str(db.path.resolve()) if isinstance(db, _Sqlite) else db.url
    key = (f"{db.name}:{where}", store_id)
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


def _load_index(db: _Sqlite | _Postgres, index: HoldingIndex) -> None:
    """First use of the in-process copy: load it in a read transaction on one snapshot,
    so that no write lock is held for the bulk of the work (the acceptance transaction
    then loads only what changed since)."""
    db.execute("BEGIN" if isinstance(db, _Sqlite) else "BEGIN ISOLATION LEVEL REPEATABLE READ")
    try:
        rev = int(db.execute(_REV_SQL).fetchone()[0])
        with index.lock:
            if index.rev is None:
                _sync_index(db, index, rev)
    finally:
        db.execute("ROLLBACK")


def _ask_changes(db: _Sqlite | _Postgres, since: int) -> tuple[Any, Any]:
    """Ask for the intents stamped after revision ``since`` (see :func:`_sync_index`).

    Returns two cursors: one of their ``seq, id, operator, priority, tier, state``, in no
    order (ordered by ``seq``, SQLite would walk the whole table in that order rather
    than search ``intents_rev``); one of the volumes of those that hold airspace,
    ``intent_seq, footprint, floor_m, ceiling_m, t_start, t_end``, ordered by intent and
    volume. In a PostgreSQL decision (pipeline mode) nothing is sent until a result is
    fetched: asked for before the reads are fetched, both come back in the same round
    trip.

    Each statement finds its rows through an index whatever the planner's statistics say.
    A join of the changed intents with their volumes does not: on a table no ANALYZE has
    seen yet (a new database, for its first minute or so) PostgreSQL estimates a third of
    the intents changed and hashes every volume, tens of milliseconds per decision. The
    volumes are therefore picked by ``intent_seq = ANY(ARRAY(...))``, an index scan with
    the changed holders' sequence numbers computed first.
    """
    holders = f"SELECT seq FROM intents WHERE rev > ? AND state IN {_HOLDING_SQL}"
    heads = db.execute(
        "SELECT seq, id, operator, priority, tier, state FROM intents WHERE rev > ?", (since,)
    )
    pick = f"= ANY(ARRAY({holders}))" if isinstance(db, _Postgres) else f"IN ({holders})"
    volumes = db.execute(
        "SELECT intent_seq, footprint, floor_m, ceiling_m, t_start, t_end FROM volumes "
        f"WHERE intent_seq {pick} ORDER BY intent_seq, idx",
        (since,),
    )
    return heads, volumes


def _sync_index(
    db: _Sqlite | _Postgres,
    index: HoldingIndex,
    rev: int,
    changes: tuple[int, tuple[Any, Any]] | None = None,
) -> None:
    """Bring the in-process copy to store revision ``rev``, read in the current
    transaction (the caller holds the copy's lock).

    Loads only the intents stamped after the copy's revision, with the volumes of new
    holders (from ``changes`` if given: the revision :func:`_ask_changes` was asked from
    and its cursors, used if the copy is still at that revision); everything on first
    use, or if the store's revision went back (the file was replaced by an older copy).
    Interrupted half-way, the copy keeps its old revision, and loading again repairs it.
    """
    if index.rev == rev:
        return
    if index.rev is None or rev < index.rev:
        index.clear()
        index.add_rows(
            db.execute(
                "SELECT i.seq, i.id, i.operator, i.priority, i.tier, i.state, v.footprint, "
                "v.floor_m, v.ceiling_m, v.t_start, v.t_end FROM intents i JOIN volumes v "
                f"ON v.intent_seq = i.seq WHERE i.state IN {_HOLDING_SQL} ORDER BY i.seq, v.idx"
            ).fetchall()
        )
        index.rev = rev
        return
    if changes is None or changes[0] != index.rev:
        changes = (index.rev, _ask_changes(db, index.rev))
    heads, volumes = changes[1]
    fresh = {}
    for head in heads.fetchall():
        seq, state = head[0], IntentState(head[5])
        if seq in index:
            if state in HOLDING:
                index.set_state(seq, state)
            else:
                index.remove(seq)
        elif state in HOLDING:
            fresh[seq] = tuple(head)
    index.add_rows([(*fresh[v[0]], *v[1:]) for v in volumes.fetchall() if v[0] in fresh])
    index.rev = rev


def _index_accepted(index: HoldingIndex, accepted: _Accepted) -> None:
    """Take a committed acceptance over into the in-process copy, unless the copy has
    already moved past the revision it was read at (it then loaded the change itself)."""
    with index.lock:
        if index.rev != accepted.base_rev:
            return
        for seq in accepted.victims:
            index.remove(seq)
        index.add([(accepted.seq_of(), accepted.holder)], accepted.limits)
        index.rev = accepted.rev
