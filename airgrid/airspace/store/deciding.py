"""Deciding on an intent: the acceptance transaction.

Outside any lock, :meth:`_DecidingPart._prepare` validates the request and computes its
volumes' limits and grid claims. Under the intents lock (SQLite: the single writer;
PostgreSQL: one advisory lock), :meth:`_DecidingPart._decide` reads the store revision,
brings the in-process copy of the holding intents to it, takes the candidates from it,
runs the exact test, checks grid claims and prohibited geofences, pre-empts lower-priority
intents if allowed and writes the intent at the next revision (or, refused, the refusal
record); it returns the change the in-process copy takes over after commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import h3
import numpy as np
import shapely

from airgrid.airspace.errors import (
    DuplicateIntentError,
    IntentError,
    IntentTierError,
    StateTransitionError,
    TierTableError,
)
from airgrid.airspace.store.answers import Decision
from airgrid.airspace.store.backends import (
    ByteaColumn,
    Float8Column,
    Int4Column,
    _Postgres,
    _Retry,
    _Rollback,
)
from airgrid.airspace.store.geofencing import _FENCE_REV_SQL, _GeofencePart
from airgrid.airspace.store.history import _record_event
from airgrid.airspace.store.index_sync import (
    _REV_SQL,
    _Accepted,
    _ask_changes,
    _load_index,
    _sync_index,
)
from airgrid.airspace.store.refusals import _write_refusal
from airgrid.airspace.store.rows import _HOLDING_SQL, _read_intents, _volume_rows
from airgrid.airspace.store.submissions import SubmissionKey, _hold_submission
from airgrid.airspace.traffic.conflicts import find_conflicts
from airgrid.airspace.traffic.holders import Holder, HolderVolumes, volume_limits
from airgrid.airspace.traffic.models import (
    FixProposal,
    FlightIntent,
    GridConflict,
    IntentRequest,
    IntentState,
)

#: Given a refused request and the geofence revision decided on, inside the deciding
#: transaction: the request moved by a fix and decided free there, prepared, with the fix
#: (:meth:`~airgrid.airspace.store.fixes._FixesPart._taken_fix`), or None.
_Fixing = Callable[["_Prepared", int], "tuple[_Prepared, FixProposal] | None"]


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
    limits: np.ndarray | None  # the volumes' limits, for the in-process copy (to decide)
    claims: np.ndarray | None

    @property
    def intent_id(self) -> str:
        """The request's id (a prepared request always has one)."""
        if self.request.intent_id is None:
            raise RuntimeError("a prepared intent request has no id")
        return self.request.intent_id

    @property
    def index_limits(self) -> np.ndarray:
        """The volumes' limits, for the in-process copy (a request prepared to decide)."""
        if self.limits is None:
            raise RuntimeError("the request was not prepared to be decided")
        return self.limits


class _DecidingPart(_GeofencePart):
    """Preparing requests and deciding on them in one transaction."""

    def _prepare(self, request: IntentRequest, *, decide: bool = True) -> _Prepared:
        """Validate against the policy and compute grid claims outside any lock; to
        ``decide`` on it, also its limits, with the in-process copy loaded."""
        if not isinstance(request, IntentRequest):
            raise IntentError(f"expected an IntentRequest, got {type(request).__name__}")
        req = request.with_id()
        try:
            self.policy.tiers.index(req.tier)
        except TierTableError:
            raise IntentTierError(
                f"unknown tier {req.tier!r}; tiers are {[t.name for t in self.policy.tiers]}"
            ) from None
        claims = None
        if req.tier in self.policy.grid_tiers:
            tier = self.policy.tiers[self.policy.tiers.index(req.tier)]
            claims = self.policy.keys.grid_claims(req.volumes, tier.resolution, tier.thickness_m)
        limits = None
        if decide:
            limits = volume_limits(req.volumes)[1]
            if self._index.rev is None:
                _load_index(self._db, self._index)
        return _Prepared(req, limits, claims)

    def _verdict(
        self, request: IntentRequest, *, preempt: bool, replacing: _Replacing | None = None
    ) -> Decision:
        """:meth:`~airgrid.airspace.store.service.Store.check` without the terrain notice (what fix searches need)."""
        prep = self._prepare(request)
        return self._db.run(
            lambda: self._decide(prep, preempt=preempt, write=False, replacing=replacing),
            intents=True,
        )[0]

    def _decide(
        self,
        prep: _Prepared,
        *,
        preempt: bool,
        write: bool,
        submission: SubmissionKey | None = None,
        replacing: _Replacing | None = None,
        record_refusal: bool = False,
        fixing: _Fixing | None = None,
    ) -> tuple[Decision, _Accepted | None]:
        """The body of the acceptance transaction (the intents lock is already held).

        Returns the decision and, for an accepted intent, the change the in-process copy
        takes over once the transaction has committed. An accepted ``submission`` is
        recorded in the same transaction; so is a refusal, with ``write`` and
        ``record_refusal`` (the transaction then commits only that record). With
        ``replacing``, the intent it names is left out of the conflicts and, if the
        request is accepted, gives its airspace up to it in the same transaction.

        A refused request written with ``fixing`` is given to it (with the geofence
        revision decided on): when it returns the request moved by a fix, prepared and
        decided free in this transaction, that is accepted in its place, and the refusal
        of the request as submitted (with ``record_refusal``) is recorded in the same,
        durable, commit.
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
        if blocking and write and fixing is not None:
            fixed = fixing(prep, fence_rev)
            if fixed is not None:
                moved, fix = fixed
                if record_refusal:
                    _write_refusal(self._db, answer, durable=True)
                fixed_answer = Decision(True, moved.request, fix=fix)
                return self._accept(moved, fixed_answer, [], rev, holders, submission)
        if blocking and write and record_refusal:
            _write_refusal(self._db, answer)
            return answer, None
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
        """Write an accepted intent at store revision ``rev + 1``, pre-empting ``victims``
        and retiring the intent it is ``replacing``; returns the decision with the stored
        intents and the change for the in-process copy."""
        req = prep.request
        now = time.time()
        reason = f"pre-empted by intent {prep.intent_id} (priority {req.priority}, operator {req.operator})"
        seq_of = self._insert_intent(prep, now, rev + 1)  # first: victims reference it
        victim_seqs = self._preempt(prep, victims, reason, now, rev + 1)
        state = IntentState.ACCEPTED
        if replacing is not None:
            victim_seqs.append(self._retire(prep.intent_id, replacing.intent_id, now, rev + 1))
            if replacing.activate:
                state = IntentState.ACTIVATED
                # the row was written (and stamped) in this transaction
                self._db.execute(
                    "UPDATE intents SET state = ? WHERE seq = ?", (state.value, seq_of())
                )
                _record_event(self._db, seq_of(), IntentState.ACCEPTED, state, "request", now)
        if prep.claims is not None and len(prep.claims):
            seq = seq_of()
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
        accepted = _Accepted(
            rev,
            rev + 1,
            seq_of,
            Holder(prep.intent_id, req.operator, req.priority, req.tier, state, req.volumes),
            prep.index_limits,
            victim_seqs,
        )
        return replace(answer, intent=intent, preempted=tuple(preempted)), accepted

    def _preempt(
        self, prep: _Prepared, victims: list[str], reason: str, now: float, rev: int
    ) -> list[int]:
        """Cancel ``victims`` for ``prep`` and release their grid claims; returns their
        sequence numbers (stamped with store revision ``rev``).

        Raises
        ------
        _Retry
            A victim is no longer an accepted intent of lower priority.
        """
        db = self._db
        seqs = []
        for vid in victims:
            found = db.execute(
                "UPDATE intents SET state = 'cancelled', preempted_by = ?, reason = ?, "
                "updated_at = ?, rev = ? WHERE id = ? AND state = 'accepted' AND priority < ? "
                "RETURNING seq",
                (prep.intent_id, reason, now, rev, vid, prep.request.priority),
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
            db.execute("DELETE FROM grid_claims WHERE intent_seq = ?", (found[0],))
        return seqs

    def _retire(self, by: str, old_id: str, now: float, rev: int) -> int:
        """Cancel intent ``old_id``, replaced by ``by``, and release its grid claims; returns
        its sequence number (stamped with store revision ``rev``).

        Raises
        ------
        StateTransitionError
            ``old_id`` does not exist or no longer holds airspace.
        """
        db = self._db
        reason = f"replaced by intent {by}"
        row = db.execute(
            f"SELECT seq, state FROM intents WHERE id = ? AND state IN {_HOLDING_SQL}", (old_id,)
        ).fetchone()
        if row is None:
            raise StateTransitionError(f"intent {old_id} does not hold airspace to be replaced")
        seq, old_state = int(row[0]), IntentState(row[1])
        db.execute(
            "UPDATE intents SET state = 'cancelled', reason = ?, updated_at = ?, rev = ? "
            "WHERE seq = ?",
            (reason, now, rev, seq),
        )
        _record_event(db, seq, old_state, IntentState.CANCELLED, "request", now, reason)
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

    def _insert_intent(self, prep: _Prepared, now: float, rev: int) -> Callable[[], int]:
        """Write an accepted intent with its volumes at store revision ``rev``; returns a
        function that gives its sequence number.

        On PostgreSQL the intent and its volumes are one statement, whose result is
        fetched when the sequence number is first asked for: with nothing else needing
        it in the transaction, after the statement went out with the ``COMMIT``.
        """
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
            rev,
        )
        if db.name == "sqlite":
            seq = int(
                db.execute(
                    "INSERT INTO intents (id, operator, priority, tier, state, reason, t_start, t_end, "
                    "created_at, updated_at, rev) VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?)",
                    head,
                ).lastrowid
            )
            db.executemany(
                "INSERT INTO volumes (intent_seq, idx, footprint, floor_m, ceiling_m, t_start, t_end, "
                "west, south, east, north) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _volume_rows(seq, req.volumes),
            )
            return lambda: seq
        lim = prep.index_limits  # west, south, east, north, floor, ceiling, t_start, t_end
        fps = np.array([v.footprint for v in req.volumes], dtype=object)
        # the columns go as binary arrays, each encoded at once (see Float8Column)
        return self._postgres.later(
            "WITH i AS (INSERT INTO intents (id, operator, priority, tier, state, reason, t_start, t_end, "
            "created_at, updated_at, rev) VALUES (%s, %s, %s, %s, %s, '', %s, %s, %s, %s, %s) "
            "RETURNING seq), "
            "v AS (INSERT INTO volumes (intent_seq, idx, footprint, floor_m, ceiling_m, t_start, t_end, "
            "west, south, east, north) SELECT i.seq, u.* FROM i, unnest(%b::int[], %b::bytea[], %b::float8[], "
            "%b::float8[], %b::float8[], %b::float8[], %b::float8[], %b::float8[], %b::float8[], %b::float8[]) "
            "AS u) SELECT seq FROM i",
            (
                *head,
                Int4Column(np.arange(len(fps))),
                ByteaColumn(shapely.to_wkb(fps).tolist()),
                *(Float8Column(lim[:, c]) for c in (4, 5, 6, 7, 0, 1, 2, 3)),
            ),
        )

    def _reads(self, prep: _Prepared) -> tuple[bool, int, int, HolderVolumes]:
        """Whether the id is taken, the geofence revision, the store revision and the
        volumes of holding intents the exact test must see, from the in-process copy.

        On PostgreSQL, a transaction's first attempt may take them from what the process
        already knows (the copy at its revision, the geofence revision of the cached
        geofence index, an id not taken) and have the server confirm them after the locks
        (:meth:`~airgrid.airspace.store.backends._Postgres.confirm_revisions`): the
        decision then needs no read of its own. It does while the connection's
        :class:`~airgrid.airspace.store.copy_odds.CopyOdds` find the copy mostly current.
        Otherwise (and on SQLite) the three values are read first, in one statement, and
        the copy is brought to that revision; on PostgreSQL the changes since the copy's
        revision are asked for in the same round trip (an empty answer unless another
        server wrote since), and a first attempt tells the odds whether the copy was
        current."""
        db, index = self._db, self._index
        minima = self._minima(prep.request.tier)
        pg = db if isinstance(db, _Postgres) else None
        if pg and pg.first_attempt and self._fences is not None and pg.odds.worth_trying():
            fence_rev = self._fences[0]
            with index.lock:
                rev, holders = index.rev, index.candidates(prep.index_limits, minima)
            if rev is not None:
                pg.confirm_revisions(rev, fence_rev, prep.intent_id)
                return False, fence_rev, rev, holders
        reads = db.execute(
            "SELECT (SELECT 1 FROM intents WHERE id = ?) IS NOT NULL, "
            f"({_FENCE_REV_SQL}), ({_REV_SQL})",
            (prep.intent_id,),
        )
        since = index.rev
        changes = None
        if pg and since is not None:
            changes = (since, _ask_changes(pg, since))
        taken, fence_rev, rev = reads.fetchone()
        if pg and pg.first_attempt and since is not None:
            pg.odds.saw(since == rev)
        with index.lock:
            _sync_index(db, index, int(rev), changes)
            holders = index.candidates(prep.index_limits, minima)
        return bool(taken), int(fence_rev), int(rev), holders
