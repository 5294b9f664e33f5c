"""PostgreSQL decides in pipeline mode: writes whose results are not fetched go out with
the COMMIT, so their errors surface there; the transaction is then rolled back (and
retried if the error is a race), and nothing of it is committed. An accepted intent and a
refusal, each one statement sent with the COMMIT, are stored whole; another writer's
changes come back with the first reads, new holders' volumes included. Columns go as binary arrays encoded at
once, and come back exactly."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import psycopg
import pytest
import shapely

from airgrid.airspace.store.backends import ByteaColumn, Float8Column, Int4Column, TextColumn
from airgrid.airspace.store.index_sync import _ask_changes
from airgrid.airspace.store.refusals import _write_refusal
from airgrid.airspace.store.service import Store
from airgrid.airspace.store.submissions import Submission, SubmissionKey
from tests.airspace.conftest import StoreMaker, circle, sent_sql
from tests.airspace.test_store_revisions import _raw_insert

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(new_location: Callable[[str], str]) -> Iterator[StoreMaker]:
    """Stores on one fresh PostgreSQL database."""
    m = StoreMaker("postgres", new_location("postgres"))
    yield m
    m.close_all()


def _meta(st: Store, name: str) -> list[tuple]:
    return st._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchall()


def test_an_error_sent_with_the_commit_rolls_the_transaction_back(pg: StoreMaker) -> None:
    st = pg.open()
    db = st._db

    def body() -> None:
        db.execute("INSERT INTO meta (name, value) VALUES ('early', '1')")
        db.execute("INSERT INTO meta (name, value) VALUES (NULL, '2')")  # NOT NULL

    with pytest.raises(psycopg.errors.NotNullViolation):
        db.run(body, intents=True)
    assert db.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert _meta(pg.open(), "early") == []  # the earlier write was not committed
    assert st.submit(circle("a", intent_id="a")).accepted  # the connection still decides
    assert [i.id for i in pg.open().list_intents()] == ["a"]


def test_a_race_found_at_commit_is_retried(pg: StoreMaker) -> None:
    st = pg.open()
    db = st._db
    attempts: list[int] = []

    def body() -> int:
        attempts.append(1)
        db.execute("INSERT INTO meta (name, value) VALUES (?, 'x')", (f"try{len(attempts)}",))
        if len(attempts) == 1:  # a uniqueness race, as two writers of one key
            db.execute("INSERT INTO meta (name, value) VALUES ('store_id', 'twin')")
        return len(attempts)

    assert db.run(body, intents=True) == 2
    other = pg.open()
    assert _meta(other, "try1") == [] and _meta(other, "try2") == [("x",)]


def test_an_accepted_intent_and_a_refusal_are_read_back_from_another_connection(
    pg: StoreMaker,
) -> None:
    st = pg.open()
    assert st.submit(circle("a", intent_id="a")).accepted
    refused = st.submit(circle("b", east=40.0, intent_id="b"), propose=False)
    assert not refused.accepted and [c.other_id for c in refused.conflicts] == ["a"]
    other = pg.open()
    (got,) = other.list_intents()
    assert got.id == "a" and len(got.volumes) == len(circle("a").volumes)
    vols = other._db.execute(
        "SELECT count(*) FROM refusal_volumes v JOIN refusals r ON r.id = v.refusal_id "
        "WHERE r.intent_id = 'b'"
    ).fetchone()[0]
    points = other._db.execute(
        "SELECT c.kind, c.other_id FROM refusal_conflicts c JOIN refusals r "
        "ON r.id = c.refusal_id WHERE r.intent_id = 'b'"
    ).fetchall()
    assert vols == len(refused.request.volumes) and points == [("intent", "a")]
    # the copy took the acceptance over with its sequence number, read after the commit
    assert st._index.rev == 1 and len(st._index) == 1


def test_another_writers_changes_come_back_with_the_first_reads(
    pg: StoreMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    st = pg.open()
    assert st.submit(circle("here", north=5_000.0, intent_id="here")).accepted
    writer = pg.open()  # another connection (in this process, the same copy)

    def own_trip(*args: object) -> None:
        raise AssertionError("the changed states were read in a round trip of their own")

    monkeypatch.setattr("airgrid.airspace.store.index_sync._ask_changes", own_trip)
    sent = sent_sql(st, monkeypatch)
    _raw_insert(writer, "there", 2)
    d = st.check(circle("late", east=40.0))
    assert [c.other_id for c in d.conflicts] == ["there"] and st._index.rev == 2
    # the new holder's volumes came with its state, in the changes asked for with the reads
    (volumes,) = [s for s in sent if "FROM volumes" in s]
    assert "rev >" in volumes

    def stamp(state: str, rev: int) -> None:
        writer._db.run(
            lambda: writer._db.execute(
                "UPDATE intents SET state = ?, rev = ? WHERE id = 'there'", (state, rev)
            ),
            intents=True,
        )

    stamp("activated", 3)  # still holds airspace, now airborne: not pre-emptable
    d = st.check(circle("late", east=40.0, priority=90))
    assert [(c.other_id, c.preemptable) for c in d.conflicts] == [("there", False)]
    stamp("cancelled", 4)
    assert st.check(circle("late", east=40.0)).accepted and st._index.rev == 4
    assert len(st._index) == 1


def test_a_refusal_alone_commits_without_waiting_for_the_disk(pg: StoreMaker) -> None:
    """The refusal's transaction turns synchronous_commit off for itself only: the next
    transaction on the connection (an acceptance) is durable again, and the refusal is
    stored whole."""
    st = pg.open()
    assert st.submit(circle("a", intent_id="a")).accepted
    refused = st.check(circle("b", intent_id="b"))
    assert not refused.accepted
    db = st._db

    def body() -> str:
        _write_refusal(db, refused)
        return str(db.conn.execute("SHOW synchronous_commit").fetchone()[0])

    assert db.run(body, intents=True) == "off"
    assert str(db.conn.execute("SHOW synchronous_commit").fetchone()[0]) == "on"
    other = pg.open()
    assert other._db.execute("SELECT intent_id FROM refusals").fetchall() == [("b",)]
    assert len(other._db.execute("SELECT idx FROM refusal_volumes").fetchall()) == len(
        refused.request.volumes
    )


def test_binary_columns_read_back_exactly(pg: StoreMaker) -> None:
    db = pg.open()._db
    floats = [0.0, -1.5, 1e300, 5e-324, 1_800_000_000.123456, 7]
    ints = [0, -2, 2**31 - 1]
    blobs = [b"", b"\x00\xff", bytes(range(256))]
    texts = ["", "intent-1", "zone \u00e9\u4e2d", "it's"]
    sql = "SELECT %b::float8[], %b::int4[], %b::bytea[], %b::text[]"
    got = db.conn.execute(
        sql, (Float8Column(floats), Int4Column(ints), ByteaColumn(blobs), TextColumn(texts))
    ).fetchone()
    assert got == ([float(x) for x in floats], ints, blobs, texts)
    empty = db.conn.execute(
        sql, (Float8Column([]), Int4Column([]), ByteaColumn([]), TextColumn([]))
    ).fetchone()
    assert empty == ([], [], [], [])


def test_the_volumes_of_an_accepted_intent_and_a_refusal_are_stored_as_submitted(
    pg: StoreMaker,
) -> None:
    st = pg.open()
    a = circle("a", intent_id="a")
    b = circle("b", north=60_000.0, t=600.0, intent_id="b")
    two = replace(a, volumes=(a.volumes[0], b.volumes[0]))
    assert st.submit(two, propose=False).accepted
    refused = st.submit(replace(two, intent_id="c"), propose=False)
    assert not refused.accepted
    other = pg.open()._db
    rows = other.execute(
        "SELECT idx, footprint, floor_m, ceiling_m, t_start, t_end, west, south, east, north "
        "FROM volumes ORDER BY idx"
    ).fetchall()
    kept = other.execute(
        "SELECT idx, footprint, floor_m, ceiling_m, t_start, t_end FROM refusal_volumes "
        "ORDER BY idx"
    ).fetchall()
    for n, v in enumerate(two.volumes):
        band = (v.floor_m, v.ceiling_m, v.t_start, v.t_end)
        assert rows[n][0] == kept[n][0] == n
        assert bytes(rows[n][1]) == bytes(kept[n][1]) == shapely.to_wkb(v.footprint)
        assert tuple(rows[n][2:6]) == tuple(kept[n][2:6]) == band
        assert np.array_equal(rows[n][6:], shapely.bounds(v.footprint))
    points = other.execute(
        "SELECT kind, other_id, lat, lon, t_start, t_end FROM refusal_conflicts ORDER BY lat"
    ).fetchall()
    want = sorted(
        (("intent", c.other_id, c.lat, c.lon, c.t_start, c.t_end)) for c in refused.conflicts
    )
    assert sorted(points) == want and len(points) == 2


def test_the_changes_are_found_through_indexes_before_any_statistics(
    pg: StoreMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On tables no ANALYZE has seen (a new database), PostgreSQL plans with default
    selectivities: the statements that bring another server's changes must still reach
    the volumes through an index, never by scanning every volume (which a join of the
    changed intents with their volumes did, tens of milliseconds a decision)."""
    st = pg.open()
    db = st._db
    db.execute(
        "INSERT INTO intents (id, operator, priority, tier, state, reason, t_start, t_end, "
        "created_at, updated_at, rev) SELECT 'i' || g, 'x', 20, 'T2', 'accepted', '', 0, 60, 0, "
        "0, g FROM generate_series(1, 3000) g"
    )
    db.execute(
        "INSERT INTO volumes (intent_seq, idx, footprint, floor_m, ceiling_m, t_start, t_end, "
        "west, south, east, north) SELECT i.seq, k, '\\x00'::bytea, 0, 1, 0, 60, 0, 0, 1, 1 "
        "FROM intents i, generate_series(0, 9) k"
    )
    assert db.execute(
        "SELECT count(*) FROM pg_stats WHERE tablename IN ('intents', 'volumes')"
    ).fetchone() == (0,)
    sent = sent_sql(st, monkeypatch)
    _ask_changes(db, 2_998)
    asked = list(sent)
    scans = []
    for sql in asked:
        plan = db.execute("EXPLAIN (FORMAT JSON) " + sql, (2_998,)).fetchone()[0]
        scans += _scans(plan[0]["Plan"])
    assert ("Seq Scan", "volumes") not in scans
    assert {t for _, t in scans} == {"intents", "volumes"}


def _scans(node: dict) -> list[tuple[str, str]]:
    """(node type, table) of every scan of a table in a JSON plan."""
    own = [(node["Node Type"], node["Relation Name"])] if "Relation Name" in node else []
    return own + [s for child in node.get("Plans", []) for s in _scans(child)]


def test_recorded_answers_are_compressed_with_lz4_where_the_server_has_it(pg: StoreMaker) -> None:
    st = pg.open()
    key = SubmissionKey("op", "k1", "h1")
    assert st.submit(circle("op", intent_id="a"), submission=key).accepted
    body = json.dumps({"id": "a", "volumes": [[k * 0.001, k * 0.002] for k in range(2_000)]})
    st.record_submission(key, 201, body.encode(), "a")
    has_lz4 = st._db.execute(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    ).fetchone()[0]
    stored = st._db.execute(
        "SELECT pg_column_compression(body) FROM submissions WHERE key = 'k1'"
    ).fetchone()[0]
    assert stored == ("lz4" if has_lz4 else "pglz")
    assert st.submission("op", "k1") == Submission("h1", "a", 201, body.encode())
