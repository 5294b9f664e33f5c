"""Deciding on an intent: the acceptance transaction.

Outside any lock, :meth:`_DecidingPart._prepare` validates the request and computes its
keys (PostgreSQL) and grid claims. Under the locks, :meth:`_DecidingPart._decide` reads the
candidates (SQLite: the in-process copy brought to the store revision; PostgreSQL: the key
table), runs the exact test, checks grid claims and prohibited geofences, pre-empts
lower-priority intents if allowed and writes the intent; on SQLite it returns the change
the in-process copy takes over after commit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import h3
import numpy as np

from airgrid.airspace.errors import (
    DuplicateIntentError,
    IntentError,
    IntentTierError,
    StateTransitionError,
    TierTableError,
)
from airgrid.airspace.store.answers import Decision
from airgrid.airspace.store.backends import _Retry, _Rollback
from airgrid.airspace.store.geofencing import _GeofencePart
from airgrid.airspace.store.history import _record_event
from airgrid.airspace.store.index_sync import _Accepted, _load_index, _sync_index
from airgrid.airspace.store.rows import _HOLDING_SQL, _group_holders, _read_intents, _volume_rows
from airgrid.airspace.store.submissions import SubmissionKey, _hold_submission
from airgrid.airspace.traffic.conflicts import find_conflicts
from airgrid.airspace.traffic.holders import Holder, HolderVolumes, volume_limits
from airgrid.airspace.traffic.keys import pack_keys
from airgrid.airspace.traffic.models import FlightIntent, GridConflict, IntentRequest, IntentState

#: Flipped into grid-claim lock ids so they differ from index keys (a clash would only add waiting).
_CLAIM_LOCK_SALT = 1 << 40


@dataclass(frozen=True)
class _Replacing:
    """The intent an accepted request takes the place of, and whether the new one starts
    activated (the flight is airborne)."""

    intent_id: str
    activate: bool = False


@dataclass
class _Prepared:
    """A validated request with what deciding on it needs, computed outside any lock."""

    request: IntentRequest
    limits: np.ndarray | None  # SQLite only: the volumes' limits, for the in-process copy
    keys: np.ndarray | None  # PostgreSQL only: index keys (SQLite uses the in-process copy)
    claims: np.ndarray | None
    lock_keys: list[int]

    @property
    def intent_id(self) -> str:
        """The request's id (a prepared request always has one)."""
        if self.request.intent_id is None:
            raise RuntimeError("a prepared intent request has no id")
        return self.request.intent_id

    @property
    def index_limits(self) -> np.ndarray:
        """The volumes' limits, for the in-process copy (SQLite, prepared to decide)."""
        if self.limits is None:
            raise RuntimeError("the request was not prepared to be decided on a SQLite store")
        return self.limits

    @property
    def index_keys(self) -> np.ndarray:
        """The index keys (PostgreSQL)."""
        if self.keys is None:
            raise RuntimeError("the request was prepared without index keys (SQLite store)")
        return self.keys


class _DecidingPart(_GeofencePart):
    """Preparing requests and deciding on them in one transaction."""

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
                _load_index(self._sqlite, self._index)
        return _Prepared(req, limits, keys, claims, lock)

    def _verdict(
        self, request: IntentRequest, *, preempt: bool, replacing: _Replacing | None = None
    ) -> Decision:
        """:meth:`~airgrid.airspace.store.service.Store.check` without the terrain notice (what fix searches need)."""
        prep = self._prepare(request)
        return self._db.run(
            lambda: self._decide(prep, preempt=preempt, write=False, replacing=replacing),
            keys=prep.lock_keys,
        )[0]

    def _decide(
        self,
        prep: _Prepared,
        *,
        preempt: bool,
        write: bool,
        submission: SubmissionKey | None = None,
        replacing: _Replacing | None = None,
    ) -> tuple[Decision, _Accepted | None]:
        """The body of the acceptance transaction (locks are already held).

        Returns the decision and, for an intent accepted on SQLite, the change the
        in-process copy takes over once the transaction has committed. An accepted
        ``submission`` is recorded in the same transaction. With ``replacing``, the
        intent it names is left out of the conflicts and, if the request is accepted,
        gives its airspace up to it in the same transaction.
        """
        req = prep.request
        taken, fence_rev, rev, holders = self._reads(prep)
        if taken:
            raise DuplicateIntentError(f"intent {prep.intent_id!r} already exists")
        conflicts = find_conflicts(
            req.volumes, req.tier, req.priority, holders, self.policy.separation
        )
        grid = self._grid_conflicts(prep)
        if replacing is not None:
            conflicts = [c for c in conflicts if c.other_id != replacing.intent_id]
            grid = [g for g in grid if g.other_id != replacing.intent_id]
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
        victims = sorted({c.other_id for c in conflicts} | {g.other_id for g in grid})
        return self._accept(prep, answer, victims, rev, holders, submission, replacing)

    def _grid_conflicts(self, prep: _Prepared) -> list[GridConflict]:
        """Voxel-slots of a grid-mode request already claimed by another intent."""
        if prep.claims is None or not len(prep.claims):
            return []
        priority = prep.request.priority
        return [
            GridConflict(
                oid,
                h3.int_to_str(int(cell)),
                int(layer),
                int(slot),
                priority > int(prio) and state == IntentState.ACCEPTED.value,
            )
            for cell, layer, slot, oid, prio, state in self._db.claims_held(prep.claims)
        ]

    def _accept(
        self,
        prep: _Prepared,
        answer: Decision,
        victims: list[str],
        rev: int,
        holders: HolderVolumes,
        submission: SubmissionKey | None,
        replacing: _Replacing | None = None,
    ) -> tuple[Decision, _Accepted | None]:
        """Write an accepted intent (at store revision ``rev + 1`` on SQLite), pre-empting
        ``victims`` and retiring the intent it is ``replacing``; returns the decision with
        the stored intents and, on SQLite, the change for the in-process copy."""
        req = prep.request
        now = time.time()
        reason = f"pre-empted by intent {prep.intent_id} (priority {req.priority}, operator {req.operator})"
        seq = self._insert_intent(prep, now, rev + 1)  # first: victims reference it
        victim_seqs = self._preempt(prep, victims, reason, now, rev + 1)
        state = IntentState.ACCEPTED
        if replacing is not None:
            victim_seqs.append(self._retire(prep.intent_id, replacing.intent_id, now, rev + 1))
            if replacing.activate:
                state = IntentState.ACTIVATED
                # the row was written in this transaction (and stamped, on SQLite)
                self._db.execute("UPDATE intents SET state = ? WHERE seq = ?", (state.value, seq))
                _record_event(self._db, seq, IntentState.ACCEPTED, state, "request", now)
        if prep.claims is not None and len(prep.claims):
            self._db.executemany(
                "INSERT INTO grid_claims (cell, layer, slot, intent_seq) VALUES (?, ?, ?, ?)",
                [(int(c), int(lay), int(sl), seq) for c, lay, sl in prep.claims],
            )
        if submission is not None:
            _hold_submission(self._db, submission, prep.intent_id)
        intent = FlightIntent(
            prep.intent_id,
            req.operator,
            req.priority,
            req.tier,
            req.volumes,
            state,
            None,
            "",
            now,
            now,
        )
        preempted = self._preempted(victims, holders, prep.intent_id, reason, now)
        accepted = None
        if self._index is not None:
            accepted = _Accepted(
                rev,
                rev + 1,
                seq,
                Holder(
                    prep.intent_id,
                    req.operator,
                    req.priority,
                    req.tier,
                    state,
                    req.volumes,
                ),
                prep.index_limits,
                victim_seqs,
            )
        return replace(answer, intent=intent, preempted=tuple(preempted)), accepted

    def _preempt(
        self, prep: _Prepared, victims: list[str], reason: str, now: float, rev: int
    ) -> list[int]:
        """Cancel ``victims`` for ``prep`` and release their keys and grid claims; returns
        their sequence numbers (SQLite: stamped with store revision ``rev``).

        Raises
        ------
        _Retry
            A victim is no longer an accepted intent of lower priority.
        """
        db = self._db
        sqlite = self._index is not None
        seqs = []
        for vid in victims:
            found = db.execute(
                "UPDATE intents SET state = 'cancelled', preempted_by = ?, reason = ?, updated_at = ?"
                + (", rev = ?" if sqlite else "")
                + " WHERE id = ? AND state = 'accepted' AND priority < ? "
                "RETURNING seq",
                (
                    prep.intent_id,
                    reason,
                    now,
                    *((rev,) if sqlite else ()),
                    vid,
                    prep.request.priority,
                ),
            ).fetchone()
            if found is None:
                raise _Retry(f"intent {vid} changed state during pre-emption")
            seqs.append(int(found[0]))
            _record_event(
                db,
                int(found[0]),
                IntentState.ACCEPTED,
                IntentState.CANCELLED,
                "preemption",
                now,
                reason,
            )
            if not sqlite:
                db.execute("DELETE FROM intent_keys WHERE intent_seq = ?", (found[0],))
            db.execute("DELETE FROM grid_claims WHERE intent_seq = ?", (found[0],))
        return seqs

    def _retire(self, by: str, old_id: str, now: float, rev: int) -> int:
        """Cancel intent ``old_id``, replaced by ``by``, and release its keys and grid claims;
        returns its sequence number (SQLite: stamped with store revision ``rev``).

        Raises
        ------
        StateTransitionError
            ``old_id`` does not exist or no longer holds airspace.
        """
        db = self._db
        sqlite = self._index is not None
        reason = f"replaced by intent {by}"
        row = db.execute(
            f"SELECT seq, state FROM intents WHERE id = ? AND state IN {_HOLDING_SQL}", (old_id,)
        ).fetchone()
        if row is None:
            raise StateTransitionError(f"intent {old_id} does not hold airspace to be replaced")
        seq, old_state = int(row[0]), IntentState(row[1])
        db.execute(
            "UPDATE intents SET state = 'cancelled', reason = ?, updated_at = ?"
            + (", rev = ?" if sqlite else "")
            + " WHERE seq = ?",
            (reason, now, *((rev,) if sqlite else ()), seq),
        )
        _record_event(db, seq, old_state, IntentState.CANCELLED, "request", now, reason)
        if not sqlite:
            db.execute("DELETE FROM intent_keys WHERE intent_seq = ?", (seq,))
        db.execute("DELETE FROM grid_claims WHERE intent_seq = ?", (seq,))
        return seq

    def _preempted(
        self, victims: list[str], holders: HolderVolumes, by: str, reason: str, now: float
    ) -> list[FlightIntent]:
        """The pre-empted intents as they now stand (cancelled by ``by``)."""
        by_id = {h.id: h for h in holders.holders}
        out = []
        for vid in victims:
            if vid in by_id:
                h = by_id[vid]
                out.append(
                    FlightIntent(
                        h.id,
                        h.operator,
                        h.priority,
                        h.tier,
                        h.volumes,
                        IntentState.CANCELLED,
                        by,
                        reason,
                        now,
                        now,
                    )
                )
            else:  # held only grid voxel-slots: read the full record
                out.append(
                    replace(_read_intents(self._db, "WHERE i.id = ?", (vid,))[0], updated_at=now)
                )
        return out

    def _insert_intent(self, prep: _Prepared, now: float, rev: int) -> int:
        """Write an accepted intent with its volumes (SQLite: at store revision ``rev``;
        PostgreSQL: with its keys, in one statement)."""
        db = self._db
        req = prep.request
        t0, t1 = req.window
        head = (
            prep.intent_id,
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
        row = self._postgres.conn.execute(
            "WITH i AS (INSERT INTO intents (id, operator, priority, tier, state, reason, t_start, t_end, "
            "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, '', %s, %s, %s, %s) RETURNING seq), "
            "v AS (INSERT INTO volumes (intent_seq, idx, footprint, floor_m, ceiling_m, t_start, t_end, "
            "west, south, east, north) SELECT i.seq, u.* FROM i, unnest(%b::int[], %b::bytea[], %b::float8[], "
            "%b::float8[], %b::float8[], %b::float8[], %b::float8[], %b::float8[], %b::float8[], %b::float8[]) "
            "AS u), k AS (INSERT INTO intent_keys (key, intent_seq) SELECT unnest(%b::bigint[]), i.seq FROM i) "
            "SELECT seq FROM i",
            (*head, *(list(c) for c in cols), prep.index_keys.tolist()),
        ).fetchone()
        if row is None:
            raise RuntimeError(f"inserting intent {prep.intent_id} returned no row")
        return int(row[0])

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
                head + ", (SELECT coalesce(max(rev), 0) FROM intents)", (prep.intent_id,)
            ).fetchone()
            index = self._holding
            with index.lock:
                _sync_index(self._sqlite, index, int(rev))
                holders = index.candidates(prep.index_limits, self._minima(req.tier))
            return bool(taken), int(fence_rev), int(rev), holders
        with self._postgres.conn.pipeline():
            first = db.execute(head, (prep.intent_id,))
            rows = db.execute(
                "SELECT i.seq, i.id, i.operator, i.priority, i.tier, i.state, v.footprint, "
                "v.floor_m, v.ceiling_m, v.t_start, v.t_end "
                "FROM (SELECT DISTINCT intent_seq AS seq FROM intent_keys WHERE key = ANY(?::bigint[])) c "
                "JOIN intents i ON i.seq = c.seq JOIN volumes v ON v.intent_seq = i.seq "
                f"WHERE i.state IN {_HOLDING_SQL} ORDER BY i.seq, v.idx",
                (prep.index_keys.tolist(),),
            )
        taken, fence_rev = first.fetchone()
        return bool(taken), int(fence_rev), 0, HolderVolumes.of(_group_holders(rows.fetchall()))
