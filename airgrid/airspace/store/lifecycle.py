"""Reading stored intents and moving them through their life cycle (accepted, activated,
ended, cancelled); leaving the holding states releases their grid claims. Every change is
written to the intent's history in the same transaction and stamped with the next store
revision.
"""

from __future__ import annotations

import time

from airgrid.airspace.errors import IntentError, IntentNotFoundError, StateTransitionError
from airgrid.airspace.store.backends import _Postgres, _Sqlite
from airgrid.airspace.store.core import _StoreCore
from airgrid.airspace.store.history import _record_event
from airgrid.airspace.store.rows import _HOLDING_SQL, _read_intents
from airgrid.airspace.traffic.models import HOLDING, TRANSITIONS, FlightIntent, IntentState


class _LifecyclePart(_StoreCore):
    """Intent reads and state transitions."""

    def get(self, intent_id: str) -> FlightIntent:
        """The stored intent.

        Raises
        ------
        IntentNotFoundError
            No such id.
        """
        found = _read_intents(self._db, "WHERE i.id = ?", (intent_id,))
        if not found:
            raise IntentNotFoundError(f"no intent {intent_id!r}")
        return found[0]

    def list_intents(
        self,
        *,
        state: IntentState | str | None = None,
        operator: str | None = None,
        id_prefix: str | None = None,
        limit: int = 10_000,
    ) -> list[FlightIntent]:
        """Intents, oldest first, optionally filtered by state, operator and the start of
        their id.

        Raises
        ------
        IntentError
            Unknown state.
        """
        where: list[str] = []
        params: list[str | int] = []
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
        if id_prefix is not None:
            where.append("substr(i.id, 1, CAST(? AS INTEGER)) = ?")
            params += [len(id_prefix), id_prefix]
        sql = ("WHERE " + " AND ".join(where)) if where else ""
        return _read_intents(self._db, sql, tuple(params), limit)

    def holding(self) -> list[FlightIntent]:
        """Every intent that holds airspace (accepted, activated, nonconforming or
        contingent)."""
        return _read_intents(self._db, f"WHERE i.state IN {_HOLDING_SQL}", ())

    def activate(self, intent_id: str) -> FlightIntent:
        """accepted -> activated (the flight started; only telemetry moves it back from
        nonconforming)."""
        return self._transition(intent_id, IntentState.ACTIVATED, "", IntentState.ACCEPTED)

    def end(self, intent_id: str) -> FlightIntent:
        """activated, nonconforming or contingent -> ended (the flight landed; its airspace
        is released)."""
        return self._transition(intent_id, IntentState.ENDED, "")

    def cancel(self, intent_id: str, reason: str = "") -> FlightIntent:
        """Any holding state -> cancelled (its airspace is released)."""
        return self._transition(intent_id, IntentState.CANCELLED, reason)

    def _transition(
        self, intent_id: str, new: IntentState, reason: str, only_from: IntentState | None = None
    ) -> FlightIntent:
        """Move an intent to ``new`` (from ``only_from`` only, when given) and record it."""
        db = self._db
        lock = "FOR UPDATE" if db.name == "postgres" else ""

        def body() -> None:
            row = db.execute(
                f"SELECT seq, state FROM intents WHERE id = ? {lock}", (intent_id,)
            ).fetchone()
            if row is None:
                raise IntentNotFoundError(f"no intent {intent_id!r}")
            old = IntentState(row[1])
            if new not in TRANSITIONS[old] or only_from not in (None, old):
                raise StateTransitionError(
                    f"intent {intent_id}: cannot go from {old.value} to {new.value}"
                )
            now = time.time()
            _set_state(db, row[0], new, now, reason)
            _record_event(db, row[0], old, new, "request", now, reason)
            if new not in HOLDING:
                db.execute("DELETE FROM grid_claims WHERE intent_seq = ?", (row[0],))

        db.run(body, intents=True)
        return self.get(intent_id)


def _set_state(
    db: _Sqlite | _Postgres, seq: int, new: IntentState, now: float, reason: str
) -> None:
    """Write intent ``seq``'s new state at the next store revision, so the in-process
    copies load the change (taking the intents lock first, if the transaction has not)."""
    db.lock_intents()
    db.execute(
        "UPDATE intents SET state = ?, reason = ?, updated_at = ?, "
        "rev = (SELECT coalesce(max(rev), 0) + 1 FROM intents) WHERE seq = ?",
        (new.value, reason, now, seq),
    )
