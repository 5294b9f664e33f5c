"""PostgreSQL decides a transaction's first attempt on what the process already knows (the
in-process copy at its revision, the cached geofence revision, an id not taken) and has
the server confirm it as the transaction's last statement: a current copy decides without
reading first; a stale one is caught before anything is committed or answered, and the
transaction runs again, reading."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import pytest

from airgrid.airspace.errors import DuplicateIntentError
from tests.airspace.conftest import StoreMaker, circle, sent_sql
from tests.airspace.test_store import _fence
from tests.airspace.test_store_revisions import _raw_insert

pytestmark = pytest.mark.postgres

#: The statement that reads the revisions before deciding.
_READS = "SELECT (SELECT 1 FROM intents WHERE id"


@pytest.fixture
def pg(new_location: Callable[[str], str]) -> Iterator[StoreMaker]:
    """Stores on one fresh PostgreSQL database."""
    m = StoreMaker("postgres", new_location("postgres"))
    yield m
    m.close_all()


def _reads(seen: list[str]) -> int:
    return sum(s.startswith(_READS) for s in seen)


def test_a_current_copy_decides_without_reading_first(
    pg: StoreMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    st = pg.open()
    assert st.submit(circle("a", intent_id="a")).accepted  # loads the copy and geofences
    seen = sent_sql(st, monkeypatch)
    assert st.submit(circle("b", north=5_000.0, intent_id="b")).accepted
    refused = st.submit(circle("c", east=40.0, intent_id="c"), propose=False)
    assert not refused.accepted and [c.other_id for c in refused.conflicts] == ["a"]
    assert not st.check(circle("d", north=9_000.0)).conflicts
    assert _reads(seen) == 0
    assert sum("airgrid_confirm_revisions" in s for s in seen) == 3
    assert sorted(i.id for i in pg.open().list_intents()) == ["a", "b"]


def test_a_stale_acceptance_is_not_committed_and_the_retry_refuses(
    pg: StoreMaker, caplog: pytest.LogCaptureFixture
) -> None:
    """Every decision here is first made on a lagging copy. Over twelve of them psycopg
    prepares the statements, some in transactions the confirmation aborts (the store
    then reconnects once it finds one missing): the answers stay right, and the logs stay
    free of psycopg's warning that each aborted pipeline's end failed."""
    caplog.set_level(logging.WARNING, logger="psycopg")
    st = pg.open()
    assert st.submit(circle("here", north=5_000.0, intent_id="here")).accepted
    writer = pg.open()
    for k in range(12):
        # another server's commit (where each of the earlier ones is): the copy lags
        _raw_insert(writer, f"there{k}", k + 2)
        d = st.submit(circle("late", east=40.0, intent_id=f"late{k}"), propose=False)
        assert not d.accepted
        assert sorted(c.other_id for c in d.conflicts) == sorted(f"there{j}" for j in range(k + 1))
        assert st._index.rev == k + 2
    ids = {i.id for i in pg.open().list_intents()}
    assert not any(i.startswith("late") for i in ids)
    assert st.submit(circle("late", north=9_000.0, intent_id="free")).accepted
    assert not [r for r in caplog.records if "error ignored terminating" in r.getMessage()]


def test_a_taken_id_and_a_new_geofence_are_caught(pg: StoreMaker) -> None:
    st = pg.open()
    assert st.submit(circle("a", intent_id="a")).accepted
    assert st.check(circle("x", north=1_000.0)).accepted  # geofence revision cached
    other = pg.open()
    other.put_geofence(_fence("gf-1"))  # another connection: the cached revision lags
    d = st.submit(circle("x", north=1_000.0, t=3_600.0))
    assert not d.accepted and [g.geofence_id for g in d.geofence_conflicts] == ["gf-1"]
    assert other.submit(circle("b", north=9_000.0, intent_id="b")).accepted
    with pytest.raises(DuplicateIntentError):
        st.submit(circle("b", north=20_000.0, intent_id="b"))
    assert [i.operator for i in pg.open().list_intents() if i.id == "b"] == ["b"]


def test_threads_of_one_process_never_decide_on_a_copy_left_behind(
    pg: StoreMaker, caplog: pytest.LogCaptureFixture
) -> None:
    """Four threads, each with its own store on one database (as a server's request
    threads), submit 15 intents each, far apart. They take turns from the start of each
    acceptance until the shared copy holds it, so no first attempt has its revisions
    refused ("the store moved on") and every intent is accepted."""
    stores = [pg.open() for _ in range(4)]
    caplog.set_level(logging.DEBUG, logger="airgrid.airspace.store.backends")
    errors: list[BaseException] = []

    def submit(k: int) -> None:
        try:
            for n in range(15):
                req = circle(f"op{k}", east=2_000.0 * n, north=2_000.0 * k, intent_id=f"t{k}-{n}")
                assert stores[k].submit(req, propose=False).accepted
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    assert len(stores[0].holding()) == 60
    assert not [r for r in caplog.records if "the store moved on" in r.getMessage()]


def test_a_copy_other_servers_keep_moving_is_read_first_until_they_fall_silent(
    pg: StoreMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another server commits before every decision: each try on the copy is refused,
    and after enough of them the connection reads first (no confirmation at all). Once
    the other server falls silent, the reads find the copy current, and the tries come
    back: a decision again reads nothing first."""
    st = pg.open()
    assert st.submit(circle("here", north=5_000.0, intent_id="here")).accepted
    writer = pg.open()
    seen = sent_sql(st, monkeypatch)
    marks = []
    for k in range(40):
        _raw_insert(writer, f"there{k}", k + 2)
        d = st.submit(circle("late", east=40.0, intent_id=f"late{k}"), propose=False)
        assert len(d.conflicts) == k + 1
        marks.append(len(seen))
    tried = sum("airgrid_confirm_revisions" in s for s in seen)
    assert 0 < tried < 40  # tries stopped before the end
    assert not any("airgrid_confirm_revisions" in s for s in seen[marks[-11] :])
    assert _reads(seen[marks[-11] :]) == 10  # one read per decision, none thrown away
    del seen[:]
    for k in range(60):
        assert st.submit(circle("quiet", north=12_000.0 + 1_000.0 * k, intent_id=f"q{k}")).accepted
    del seen[:]
    assert st.submit(circle("quiet", north=80_000.0, intent_id="last")).accepted
    assert _reads(seen) == 0 and sum("airgrid_confirm_revisions" in s for s in seen) == 1
