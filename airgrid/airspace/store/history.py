"""The intents' history (table ``intent_events``): writing one entry inside the
transaction that changes the state, and reading entries back.
"""

from __future__ import annotations

from airgrid.airspace.store.backends import _Postgres, _Sqlite
from airgrid.airspace.traffic.conformance import IntentEvent
from airgrid.airspace.traffic.models import IntentState

#: Columns of an event row as :func:`_read_events` selects them.
_EVENT_SELECT = (
    "SELECT e.id, i.id, i.operator, e.old_state, e.new_state, e.cause, e.at, e.detail, "
    "e.fix_t, e.lon, e.lat, e.alt_m, e.alt_ref, e.amsl_lo, e.amsl_hi, e.certain "
    "FROM intent_events e JOIN intents i ON i.seq = e.intent_seq "
)


def _record_event(
    db: _Sqlite | _Postgres,
    seq: int,
    old: IntentState,
    new: IntentState,
    cause: str,
    at: float,
    detail: str = "",
    fix: tuple[float, float, float, float, str, float, float, bool] | None = None,
) -> int:
    """Write one history entry of intent ``seq`` in the current transaction; returns its id.

    ``fix`` is ``t, lon, lat, alt_m, alt_ref, amsl_lo, amsl_hi, certain`` of the position
    that caused a conformance change.
    """
    values = fix if fix is not None else (None,) * 8
    row = db.execute(
        "INSERT INTO intent_events (intent_seq, old_state, new_state, cause, at, detail, "
        "fix_t, lon, lat, alt_m, alt_ref, amsl_lo, amsl_hi, certain) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            seq,
            old.value,
            new.value,
            cause,
            at,
            detail,
            *values[:7],
            None if fix is None else int(bool(values[7])),
        ),
    ).fetchone()
    return int(row[0])


def _event(r: tuple) -> IntentEvent:
    fix = None
    if r[8] is not None:
        fix = (
            float(r[8]),
            float(r[9]),
            float(r[10]),
            float(r[11]),
            str(r[12]),
            float(r[13]),
            float(r[14]),
            bool(r[15]),
        )
    return IntentEvent(
        int(r[0]),
        r[1],
        r[2],
        IntentState(r[3]),
        IntentState(r[4]),
        r[5],
        float(r[6]),
        r[7],
        fix,
    )


def _read_events(
    db: _Sqlite | _Postgres, where: str, params: tuple, limit: int
) -> list[IntentEvent]:
    """History entries matching the SQL clause ``where`` (over ``e`` and ``i``), oldest
    first, at most ``limit``."""
    rows = db.execute(
        _EVENT_SELECT + f"{where} ORDER BY e.id LIMIT {int(limit)}", params
    ).fetchall()
    return [_event(tuple(r)) for r in rows]
