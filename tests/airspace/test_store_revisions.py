"""Both backends decide against the revision-checked in-process copy: writes by another
connection are loaded before the next decision, a store of schema 7 upgrades with its
intents still blocking, a refused submission is one transaction with its record, and
volumes whose band or window are ints are stored (accepted or refused)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from airgrid.airspace.store.index_sync import _ask_changes
from airgrid.airspace.store.rows import _volume_rows
from airgrid.airspace.store.schema import SCHEMA_VERSION
from airgrid.airspace.store.service import Store, open_store
from airgrid.geo.volumes import Volume4D
from tests.airspace.conftest import StoreMaker, circle, sent_sql
from tests.airspace.test_store_accounts import to_schema_7


def _raw_insert(st: Store, intent_id: str, rev: int) -> None:
    """Write an accepted intent as another server would (its own SQL, its own commit)."""
    req = circle("other", intent_id=intent_id)
    db = st._db

    def body() -> None:
        seq = db.execute(
            "INSERT INTO intents (id, operator, priority, tier, state, reason, t_start, t_end, "
            "created_at, updated_at, rev) VALUES (?, 'x', 20, 'T2', 'accepted', '', ?, ?, 0, 0, ?) "
            "RETURNING seq",
            (intent_id, *req.window, rev),
        ).fetchone()[0]
        db.executemany(
            "INSERT INTO volumes (intent_seq, idx, footprint, floor_m, ceiling_m, t_start, "
            "t_end, west, south, east, north) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _volume_rows(int(seq), req.volumes),
        )

    db.run(body, intents=True)


def test_a_commit_by_another_writer_is_loaded_before_the_next_decision(
    maker: StoreMaker,
) -> None:
    st = maker.open()
    assert st.submit(circle("here", north=5_000.0, intent_id="here")).accepted
    rev = st._index.rev
    assert rev == 1
    writer = maker.open()  # another connection (in this process, the same copy)
    _raw_insert(writer, "there", rev + 1)
    assert st._index.rev == rev  # nothing read yet
    d = st.check(circle("late", east=40.0))
    assert [c.other_id for c in d.conflicts] == ["there"] and st._index.rev == rev + 1
    writer._db.run(
        lambda: writer._db.execute(
            "UPDATE intents SET state = 'cancelled', rev = ? WHERE id = 'there'", (rev + 2,)
        ),
        intents=True,
    )
    assert st.check(circle("late", east=40.0)).accepted
    writer.cancel("here")  # a state change through the store stamps the next revision too
    assert st._index.rev == rev + 2
    assert st.submit(circle("late", north=5_000.0), propose=False).accepted
    assert st._index.rev == rev + 4


def test_a_store_of_schema_7_upgrades_and_its_intents_still_block(maker: StoreMaker) -> None:
    st = maker.open()
    assert st.submit(circle("old", intent_id="old")).accepted
    to_schema_7(st)
    st.close()
    up = maker.open()
    assert up.schema_version() == SCHEMA_VERSION == 10
    if up.backend == "postgres":  # migration 8 gave it a store id: a copy of its own
        assert up._index is not st._index
    d = up.submit(circle("new", east=40.0), propose=False)
    assert not d.accepted and [c.other_id for c in d.conflicts] == ["old"]
    assert up.submit(circle("new", north=3_000.0, intent_id="new")).accepted
    assert sorted(i.id for i in maker.open().holding()) == ["new", "old"]


def test_a_refused_submission_is_recorded_in_its_transaction_or_right_after(
    maker: StoreMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL records a refusal in the deciding transaction; SQLite in one of its own
    right after it (a SQLite transaction cannot lower its own synchronous level)."""
    st = maker.open()
    assert st.submit(circle("a", intent_id="a")).accepted
    runs: list[bool] = []
    # a transaction: PostgreSQL's run, SQLite's transactions within one turn to write
    name = "run" if st.backend == "postgres" else "_transaction"
    real = getattr(st._db, name)
    monkeypatch.setattr(st._db, name, lambda fn, **kw: runs.append(True) or real(fn, **kw))
    d = st.submit(circle("b", east=40.0, intent_id="b"), propose=False)
    per_refusal = 1 if st.backend == "postgres" else 2
    assert not d.accepted and len(runs) == per_refusal
    count = "SELECT count(*) FROM refusals WHERE intent_id = 'b'"
    assert maker.open()._db.execute(count).fetchone()[0] == 1  # committed
    quiet = st.submit(circle("b", east=40.0, intent_id="b2"), propose=False, record_refusal=False)
    assert not quiet.accepted
    assert len(runs) == per_refusal + 1
    assert maker.open()._db.execute("SELECT count(*) FROM refusals").fetchone()[0] == 1
    # the record commits or rolls back with the transaction
    monkeypatch.setattr(st._db, name, real)

    def crash(*args: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr("airgrid.airspace.store.deciding._write_refusal", crash)
    with pytest.raises(OSError, match="power cut"):
        st.submit(circle("c", east=40.0, intent_id="c"), propose=False)
    assert maker.open()._db.execute("SELECT count(*) FROM refusals").fetchone()[0] == 1
    assert [i.id for i in st.list_intents()] == ["a"]


def test_bands_and_windows_given_as_int_are_stored(maker: StoreMaker) -> None:
    st = maker.open()
    first = circle("a", intent_id="a").volumes[0]
    whole = Volume4D(first.footprint, 100, 200, int(first.t_start), int(first.t_end) + 1)
    mixed = (whole, first)  # one volume of ints, one of floats
    assert st.submit(replace(circle("a", intent_id="a"), volumes=mixed), propose=False).accepted
    refused = st.submit(replace(circle("b", intent_id="b"), volumes=mixed), propose=False)
    assert not refused.accepted
    other = maker.open()
    (got,) = other.list_intents()
    assert [v.floor_m for v in got.volumes] == [100.0, first.floor_m]
    assert other._db.execute("SELECT count(*) FROM refusal_volumes").fetchone()[0] == 2


def test_sqlite_searches_the_changes_through_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The statements that bring another worker's changes search ``intents_rev`` and the
    volumes' key; SQLite never walks a whole table for them (asked for the changed intents
    in ``seq`` order, it walked the intents in that order instead)."""
    with open_store(tmp_path) as st:
        sent = sent_sql(st, monkeypatch)
        _ask_changes(st._db, 5)
        details = [
            row[3]
            for sql in list(sent)
            for row in st._db.execute("EXPLAIN QUERY PLAN " + sql, (5,)).fetchall()
        ]
    assert not [d for d in details if d.startswith("SCAN")], details
    assert any("intents_rev" in d for d in details)
    assert any(d.startswith("SEARCH volumes") for d in details)
