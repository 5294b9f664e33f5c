"""PostgreSQL decides in pipeline mode: writes whose results are not fetched go out with
the COMMIT, so their errors surface there; the transaction is then rolled back (and
retried if the error is a race), and nothing of it is committed."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest

from airgrid.airspace.store.service import Store
from tests.airspace.conftest import StoreMaker, circle

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
