"""Live conformance: telemetry moves an airborne intent between activated, nonconforming and
contingent, and the history and alerts that record it.

A batch is applied in ONE transaction: the intent's row is locked, the positions newer
than the latest one judged before are stepped through
:func:`~airgrid.airspace.traffic.conformance.conformance_steps`, and the new state, one
history entry per change (with the position that caused it) and the telemetry progress
(table ``intent_telemetry``: latest position judged, start of the current run outside)
are written together. Nonconforming and contingent intents keep holding their airspace.

The contingent timer also runs on the server's clock: an intent nonconforming for longer
than ``contingent_after_s`` since that change was recorded becomes contingent even when
no position follows (:meth:`_ConformancePart.sweep_contingent`, cause ``timeout``, with
the position that made it nonconforming).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np

from airgrid.airspace.errors import IntentError, IntentNotAirborneError, IntentNotFoundError
from airgrid.airspace.store.backends import _Postgres, _Sqlite
from airgrid.airspace.store.core import _StoreCore
from airgrid.airspace.store.history import _read_events, _record_event
from airgrid.airspace.store.lifecycle import _set_state
from airgrid.airspace.traffic.conformance import (
    IntentEvent,
    JudgedFixes,
    Step,
    TelemetryOutcome,
    conformance_steps,
)
from airgrid.airspace.traffic.models import AIRBORNE, IntentState

#: The states telemetry moves an intent into (its alerts).
ALERT_STATES = frozenset({IntentState.NONCONFORMING, IntentState.CONTINGENT, IntentState.ACTIVATED})


class _ConformancePart(_StoreCore):
    """Telemetry, history and alerts."""

    def record_telemetry(
        self, intent_id: str, fixes: JudgedFixes, contingent_after_s: float
    ) -> TelemetryOutcome:
        """Apply a judged batch of telemetry to an airborne intent (see the module docstring).

        Parameters
        ----------
        intent_id
            The intent.
        fixes
            Its positions, judged against its volumes, in time order.
        contingent_after_s
            A run outside lasting longer than this makes the intent contingent.

        Raises
        ------
        IntentNotFoundError
            No such intent.
        IntentNotAirborneError
            The intent is not activated, nonconforming or contingent.
        """
        db = self._db
        lock = "FOR UPDATE" if db.name == "postgres" else ""

        def body() -> TelemetryOutcome:
            row = db.execute(
                f"SELECT i.seq, i.state, i.operator FROM intents i WHERE i.id = ? {lock}",
                (intent_id,),
            ).fetchone()
            if row is None:
                raise IntentNotFoundError(f"no intent {intent_id!r}")
            seq, state = int(row[0]), IntentState(row[1])
            if state not in AIRBORNE:
                raise IntentNotAirborneError(
                    f"intent {intent_id} is {state.value}; telemetry is taken only while it "
                    "is activated (or nonconforming or contingent)"
                )
            progress = db.execute(
                "SELECT last_t, out_since, judged FROM intent_telemetry WHERE intent_seq = ?",
                (seq,),
            ).fetchone()
            last_t = -np.inf if progress is None else float(progress[0])
            out_since = None if progress is None or progress[1] is None else float(progress[1])
            new = np.flatnonzero(fixes.t > last_t)
            fresh = _take(fixes, new)
            steps, final, out_since = conformance_steps(state, out_since, fresh, contingent_after_s)
            now = time.time()
            events = _write_steps(db, seq, intent_id, row[2], steps, fresh, now)
            if final is not state:
                _set_state(db, seq, final, now, steps[-1].detail)
            if len(fresh):
                _save_progress(db, seq, float(fresh.t[-1]), out_since, len(fresh), progress is None)
            return TelemetryOutcome(
                final, len(fresh), len(fixes) - len(fresh), int(fresh.outside.sum()), tuple(events)
            )

        return db.run(body)

    def sweep_contingent(
        self, contingent_after_s: float, now: float | None = None
    ) -> list[IntentEvent]:
        """Make contingent every intent nonconforming for too long by the server's clock.

        An intent qualifies when it is nonconforming and its latest change into
        nonconforming was recorded more than ``contingent_after_s`` before ``now``: no
        position brought it back inside since, whether or not more positions came. Each
        change is written with its history entry (cause ``timeout``, the position of the
        change into nonconforming) in one transaction; nothing is locked when no intent
        qualifies.

        Parameters
        ----------
        contingent_after_s
            Longest time nonconforming.
        now
            POSIX seconds (default: the clock).

        Returns
        -------
        list of IntentEvent
            The changes made.
        """
        db = self._db
        now = time.time() if now is None else float(now)
        due_sql = (
            "SELECT i.seq, i.id, i.operator, max(e.at) FROM intents i "
            "JOIN intent_events e ON e.intent_seq = i.seq AND e.new_state = ? "
            "WHERE i.state = ? GROUP BY i.seq, i.id, i.operator HAVING max(e.at) < ? "
            "ORDER BY i.seq"
        )
        non = IntentState.NONCONFORMING.value
        args = (non, non, now - contingent_after_s)
        if not db.execute(due_sql, args).fetchall():
            return []
        lock = " FOR UPDATE" if db.name == "postgres" else ""

        def body() -> list[IntentEvent]:
            events = []
            for seq, iid, operator, since in db.execute(due_sql, args).fetchall():
                state = db.execute(f"SELECT state FROM intents WHERE seq = ?{lock}", (seq,))
                if state.fetchone()[0] != non:
                    continue
                detail = (
                    f"nonconforming since {_iso(float(since))} by the server's clock, more "
                    f"than {contingent_after_s:g} s without a position back inside"
                )
                fix = _nonconforming_fix(db, int(seq))
                old, new = IntentState.NONCONFORMING, IntentState.CONTINGENT
                eid = _record_event(db, int(seq), old, new, "timeout", now, detail, fix)
                _set_state(db, int(seq), new, now, detail)
                events.append(
                    IntentEvent(eid, iid, operator, old, new, "timeout", now, detail, fix)
                )
            return events

        return db.run(body, intents=True)

    def history(self, intent_id: str) -> list[IntentEvent]:
        """The intent's history, oldest first.

        Raises
        ------
        IntentNotFoundError
            No such intent.
        """
        if self._db.execute("SELECT 1 FROM intents WHERE id = ?", (intent_id,)).fetchone() is None:
            raise IntentNotFoundError(f"no intent {intent_id!r}")
        return _read_events(self._db, "WHERE i.id = ?", (intent_id,), 1_000_000)

    def alerts(
        self,
        *,
        operator: str | None = None,
        since: float | None = None,
        state: IntentState | str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[IntentEvent]:
        """Conformance changes (history entries caused by telemetry or by the contingent
        timer), oldest first.

        Parameters
        ----------
        operator
            Only this operator's intents.
        since
            Only entries recorded at or after this time (POSIX seconds).
        state
            Only changes into this state (nonconforming, contingent or activated).
        after
            Only entries with a larger id (the paging cursor).
        limit
            At most this many.

        Raises
        ------
        IntentError
            ``state`` is not one telemetry moves an intent into.
        """
        where = ["e.cause IN ('telemetry', 'timeout')", "e.id > ?"]
        params: list[object] = [int(after)]
        if operator is not None:
            where.append("i.operator = ?")
            params.append(operator)
        if since is not None:
            where.append("e.at >= ?")
            params.append(float(since))
        if state is not None:
            try:
                chosen = IntentState(state)
            except ValueError:
                chosen = None
            if chosen not in ALERT_STATES:
                raise IntentError(
                    f"alerts are changes into {sorted(s.value for s in ALERT_STATES)}, "
                    f"not {state!r}"
                )
            assert chosen is not None
            where.append("e.new_state = ?")
            params.append(chosen.value)
        return _read_events(self._db, "WHERE " + " AND ".join(where), tuple(params), limit)


def _write_steps(
    db: _Sqlite | _Postgres,
    seq: int,
    intent_id: str,
    operator: str,
    steps: list[Step],
    fixes: JudgedFixes,
    now: float,
) -> list[IntentEvent]:
    """Write one history entry per step, with the position that caused it."""
    events = []
    for step in steps:
        k = step.fix
        fix = (
            float(fixes.t[k]),
            float(fixes.lon[k]),
            float(fixes.lat[k]),
            float(fixes.alt_m[k]),
            fixes.alt_ref,
            float(fixes.amsl_lo[k]),
            float(fixes.amsl_hi[k]),
            bool(fixes.certain[k]),
        )
        eid = _record_event(db, seq, step.old, step.new, "telemetry", now, step.detail, fix)
        events.append(
            IntentEvent(
                eid, intent_id, operator, step.old, step.new, "telemetry", now, step.detail, fix
            )
        )
    return events


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _nonconforming_fix(
    db: _Sqlite | _Postgres, seq: int
) -> tuple[float, float, float, float, str, float, float, bool] | None:
    """The position of intent ``seq``'s latest change into nonconforming."""
    row = db.execute(
        "SELECT fix_t, lon, lat, alt_m, alt_ref, amsl_lo, amsl_hi, certain FROM intent_events "
        "WHERE intent_seq = ? AND new_state = ? AND fix_t IS NOT NULL ORDER BY id DESC LIMIT 1",
        (seq, IntentState.NONCONFORMING.value),
    ).fetchone()
    if row is None:
        return None
    t, lon, lat, alt, ref, lo, hi, certain = row
    return (
        float(t),
        float(lon),
        float(lat),
        float(alt),
        str(ref),
        float(lo),
        float(hi),
        bool(certain),
    )


def _take(fixes: JudgedFixes, idx: np.ndarray) -> JudgedFixes:
    """The positions ``idx`` of a batch."""
    return JudgedFixes(
        fixes.t[idx],
        fixes.lon[idx],
        fixes.lat[idx],
        fixes.alt_m[idx],
        fixes.alt_ref,
        fixes.amsl_lo[idx],
        fixes.amsl_hi[idx],
        fixes.outside[idx],
        fixes.certain[idx],
        fixes.index[idx],
    )


def _save_progress(
    db: _Sqlite | _Postgres,
    seq: int,
    last_t: float,
    out_since: float | None,
    judged: int,
    first: bool,
) -> None:
    """Write where intent ``seq``'s telemetry has got to."""
    if first:
        db.execute(
            "INSERT INTO intent_telemetry (intent_seq, last_t, out_since, judged) "
            "VALUES (?, ?, ?, ?)",
            (seq, last_t, out_since, judged),
        )
    else:
        db.execute(
            "UPDATE intent_telemetry SET last_t = ?, out_since = ?, judged = judged + ? "
            "WHERE intent_seq = ?",
            (last_t, out_since, judged, seq),
        )
