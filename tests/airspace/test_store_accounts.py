"""API keys and recorded submissions in the store: their migration, and an accepted
submission recorded in its acceptance transaction."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from airgrid.airspace.store.backends import SQLITE_FILE
from airgrid.airspace.store.schema import _OLD_STATES, _STATES_V5, SCHEMA_VERSION
from airgrid.airspace.store.service import Store, open_store
from airgrid.airspace.store.submissions import Submission, SubmissionKey
from tests.airspace.conftest import StoreMaker, circle

#: The two tables as the API created them before they joined the migrations (schema 3).
OLD_API_KEYS = (
    "CREATE TABLE IF NOT EXISTS api_keys ("
    " key_hash TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,"
    " created_at DOUBLE PRECISION NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)"
)
OLD_SUBMISSIONS = (
    "CREATE TABLE IF NOT EXISTS submissions ("
    " operator TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,"
    " status INTEGER NOT NULL, body TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,"
    " PRIMARY KEY (operator, key))"
)


def to_schema_7(st: Store) -> None:
    """Turn a current store into what a store of schema 7 looked like: on PostgreSQL, a
    key table (empty: the keys are not computed again), no store revisions or store id
    and no function confirming revisions."""
    db = st._db
    if db.name == "postgres":
        db.execute("DROP FUNCTION airgrid_confirm_revisions")
        db.execute("DROP INDEX intents_rev")
        db.execute("ALTER TABLE intents DROP COLUMN rev")
        db.execute(
            "CREATE TABLE intent_keys (key BIGINT NOT NULL, intent_seq BIGINT NOT NULL, "
            "PRIMARY KEY (key, intent_seq))"
        )
        db.execute("CREATE INDEX intent_keys_intent ON intent_keys(intent_seq)")
        db.execute("CREATE INDEX volumes_t_end ON volumes(t_end)")
        db.execute("DELETE FROM meta WHERE name = 'store_id'")
    db.execute("DELETE FROM schema_version WHERE version > 7")


def to_schema_4(st: Store) -> None:
    """Turn a current store into what a store of schema 4 looked like: no history, no
    telemetry progress, intents of the four first states only (they must be in one)."""
    to_schema_7(st)
    db = st._db
    db.execute("DROP TABLE intent_events")
    db.execute("DROP TABLE intent_telemetry")
    if db.name == "postgres":
        db.execute(
            "ALTER TABLE intents DROP CONSTRAINT intents_state_check, "
            f"ADD CONSTRAINT intents_state_check CHECK ({_OLD_STATES})"
        )
    else:
        cookie = db.execute("PRAGMA schema_version").fetchone()[0]
        db.execute("PRAGMA writable_schema = ON")
        db.execute(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE name = 'intents'",
            (_STATES_V5, _OLD_STATES),
        )
        db.execute(f"PRAGMA schema_version = {cookie + 1}")
        db.execute("PRAGMA writable_schema = OFF")
    db.execute("DELETE FROM schema_version WHERE version > 4")


def to_schema_3(st: Store) -> None:
    """Turn a current store into what a store of schema 3 with the API's own ``api_keys``
    and ``submissions`` tables looked like, keeping their rows (answered submissions only)."""
    to_schema_4(st)
    db = st._db
    db.execute("ALTER TABLE api_keys RENAME TO api_keys_now")
    db.execute("ALTER TABLE submissions RENAME TO submissions_now")
    db.execute(OLD_API_KEYS)
    db.execute(OLD_SUBMISSIONS)
    db.execute("INSERT INTO api_keys SELECT * FROM api_keys_now")
    db.execute(
        "INSERT INTO submissions SELECT operator, key, request_hash, status, body, created_at "
        "FROM submissions_now WHERE body IS NOT NULL"
    )
    db.execute("DROP TABLE api_keys_now")
    db.execute("DROP TABLE submissions_now")
    db.execute("DELETE FROM schema_version WHERE version > 3")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_api_keys_are_stored_listed_and_revoked_by_hash_prefix(maker: StoreMaker) -> None:
    st = maker.open()
    st.add_api_key(_hash("one"), "ops", "operator", 1.0)
    st.add_api_key(_hash("two"), "reg", "regulator", 2.0)
    other = maker.open()  # committed: another connection sees them
    assert other.live_api_key(_hash("one")).name == "ops"
    assert [(k.name, k.role, k.revoked) for k in other.api_keys()] == [
        ("ops", "operator", False),
        ("reg", "regulator", False),
    ]
    assert st.revoke_api_keys("%") == 0  # the prefix is a prefix, not a pattern
    assert st.revoke_api_keys(_hash("one")[:10]) == 1
    assert other.live_api_key(_hash("one")) is None
    assert st.revoke_api_keys(_hash("one")[:10]) == 0
    assert [k.revoked for k in other.api_keys()] == [True, False]


def test_an_accepted_submission_is_recorded_by_its_acceptance(maker: StoreMaker) -> None:
    st = maker.open()
    key = SubmissionKey("op", "order-1", "h1")
    assert st.submit(circle("op", intent_id="a"), submission=key).accepted
    # committed with the intent, before any answer is recorded
    assert maker.open().submission("op", "order-1") == Submission("h1", "a", None, None)
    st.record_submission(key, 201, b'{"id": "a"}', "a")
    st.record_submission(key, 201, b'{"id": "other"}', "a")  # filled in once
    st.record_submission(key, 409, b"{}")  # a refusal never replaces an acceptance
    assert st.submission("op", "order-1") == Submission("h1", "a", 201, b'{"id": "a"}')


def test_a_refused_submission_records_nothing_until_its_answer(maker: StoreMaker) -> None:
    st = maker.open()
    assert st.submit(circle("first", intent_id="first")).accepted
    key = SubmissionKey("op", "late", "h2")
    d = st.submit(circle("op", intent_id="late"), preempt=False, propose=False, submission=key)
    assert not d.accepted and st.submission("op", "late") is None
    st.record_submission(key, 409, b'{"refused": true}')
    st.record_submission(key, 409, b'{"again": true}')  # a concurrent copy was first
    assert st.submission("op", "late") == Submission("h2", None, 409, b'{"refused": true}')
    st.cancel("first")
    # an acceptance under the key (the airspace came free) replaces the recorded refusal
    assert st.submit(circle("op", intent_id="late"), submission=key).accepted
    assert st.submission("op", "late") == Submission("h2", "late", None, None)


def test_the_record_and_the_intent_commit_or_roll_back_together(
    maker: StoreMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    st = maker.open()

    def crash(*args: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(st, "_preempted", crash)  # after every write of the acceptance
    with pytest.raises(OSError, match="power cut"):
        st.submit(circle("op", intent_id="x"), submission=SubmissionKey("op", "k", "h"))
    assert st.list_intents() == [] and st.submission("op", "k") is None
    monkeypatch.undo()
    assert st.submit(circle("op", intent_id="x"), submission=SubmissionKey("op", "k", "h")).accepted
    assert st.get("x").id == "x" and st.submission("op", "k").intent_id == "x"


def test_a_store_of_schema_3_with_the_apis_tables_upgrades_keeping_their_rows(
    maker: StoreMaker,
) -> None:
    st = maker.open()
    st.add_api_key(_hash("live"), "ops", "operator", 1.0)
    st.add_api_key(_hash("dead"), "old", "admin", 2.0)
    st.revoke_api_keys(_hash("dead")[:12])
    key = SubmissionKey("ops", "order-9", "h9")
    assert st.submit(circle("ops", intent_id="i9"), submission=key).accepted
    st.record_submission(key, 201, b'{"id": "i9"}', "i9")
    st.record_submission(SubmissionKey("ops", "no", "h0"), 409, b'{"no": 1}')
    to_schema_3(st)
    assert st.schema_version() == 3
    up = maker.open()
    assert up.schema_version() == SCHEMA_VERSION == 10
    assert up.live_api_key(_hash("live")).name == "ops"
    assert up.live_api_key(_hash("dead")) is None
    assert up.submission("ops", "order-9") == Submission("h9", None, 201, b'{"id": "i9"}')
    assert up.submission("ops", "no") == Submission("h0", None, 409, b'{"no": 1}')
    # and the upgraded table records acceptances as a new one does
    key2 = SubmissionKey("ops", "order-10", "h10")
    assert up.submit(circle("ops", north=3_000.0, intent_id="i10"), submission=key2).accepted
    assert up.submission("ops", "order-10") == Submission("h10", "i10", None, None)


def test_a_sqlite_file_with_only_the_key_table_becomes_a_store(tmp_path: Path) -> None:
    """``airgrid keys create`` on a new file made only ``api_keys``; the store then adopts it."""
    c = sqlite3.connect(tmp_path / SQLITE_FILE)
    c.execute(OLD_API_KEYS)
    c.execute("INSERT INTO api_keys VALUES (?, 'ops', 'operator', 1.0, 0)", (_hash("t"),))
    c.commit()
    c.close()
    with open_store(tmp_path) as st:
        assert st.schema_version() == SCHEMA_VERSION
        assert st.live_api_key(_hash("t")).role == "operator"
        assert st.submission("ops", "any") is None


def _sync_level(st: Store) -> str:
    """The connection's commit durability now: SQLite's ``synchronous`` (2 FULL, 1
    NORMAL), PostgreSQL's ``synchronous_commit``."""
    sql = "PRAGMA synchronous" if st._db.name == "sqlite" else "SHOW synchronous_commit"
    return str(st._db.execute(sql).fetchone()[0])


def test_an_answer_is_recorded_without_waiting_for_the_disk(maker: StoreMaker) -> None:
    """The answer's record is written in a transaction that does not wait for the disk
    (nothing is decided on it), and the connection is durable again after it: the next
    acceptance waits for the disk."""
    st = maker.open()
    durable = _sync_level(st)
    assert durable in ("2", "on")
    seen: list[str] = []
    db = st._db
    execute = db.execute

    def spying(sql: str, params=()):  # the level inside the record's transaction
        if sql.startswith("INSERT INTO submissions"):
            seen.append(_sync_level(st))
        return execute(sql, params)

    db.execute = spying  # type: ignore[method-assign]
    key = SubmissionKey("ops", "k1", "h1")
    st.record_submission(key, 409, b'{"refused": true}')
    db.execute = execute  # type: ignore[method-assign]
    assert seen == ["1" if db.name == "sqlite" else "off"]
    assert _sync_level(st) == durable
    assert st.submission("ops", "k1") == Submission("h1", None, 409, b'{"refused": true}')
    assert st.submit(circle("a", intent_id="a")).accepted
    assert _sync_level(st) == durable
