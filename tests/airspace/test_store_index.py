"""Candidates for the exact test: the in-process copy of holding intents (SQLite) must see
every write by other connections and other processes, and never hide a conflict."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from airgrid.airspace.store.backends import SQLITE_FILE
from airgrid.airspace.store.index_sync import _forget_indexes
from airgrid.airspace.store.rows import _volume_rows
from airgrid.airspace.store.schema import _SQLITE_V1, SCHEMA_VERSION
from airgrid.airspace.store.service import open_store
from airgrid.airspace.traffic.conflicts import find_conflicts
from airgrid.airspace.traffic.holders import Holder, volume_limits
from airgrid.airspace.traffic.holding_index import MAX_BUCKETS, HoldingIndex
from airgrid.airspace.traffic.models import IntentRequest, IntentState
from airgrid.airspace.traffic.route_volumes import route_to_volumes
from airgrid.airspace.traffic.separation import SeparationTable
from airgrid.geo.volumes import Volume4D
from tests.airspace.conftest import BACKENDS, LAT0, LON0, T0, circle, offset

TABLE = SeparationTable()


def _minima(tier: str) -> dict:
    return {t: TABLE.between(tier, t) for t in TABLE.minima}


# -- the copy against the exact test ------------------------------------------------------


def _random_request(rng: np.random.Generator, n: int) -> IntentRequest:
    """A circle or a short route somewhere in a 6 km square, 20 minutes and 300 m."""
    tier = str(rng.choice(["T1", "T2", "T3", "T4"]))
    z = float(rng.uniform(100, 400))
    t = float(rng.uniform(0, 1_200))
    if rng.random() < 0.5:
        return circle(
            "op",
            east=float(rng.uniform(-3_000, 3_000)),
            north=float(rng.uniform(-3_000, 3_000)),
            r=float(rng.uniform(3, 300)),
            floor=z,
            ceiling=z + float(rng.uniform(5, 60)),
            t=t,
            dur=float(rng.uniform(10, 400)),
            tier=tier,
            intent_id=f"r{n}",
        )
    a = offset(LAT0, LON0, float(rng.uniform(-3_000, 3_000)), float(rng.uniform(-3_000, 3_000)))
    b = offset(LAT0, LON0, float(rng.uniform(-3_000, 3_000)), float(rng.uniform(-3_000, 3_000)))
    vols = route_to_volumes(
        [
            (*a, z, T0 + t),
            (*b, z + float(rng.uniform(-50, 50)), T0 + t + float(rng.uniform(30, 300))),
        ],
        half_width_m=float(rng.uniform(5, 40)),
        half_height_m=10.0,
        max_piece_m=800.0,
    )
    return IntentRequest("op", 20, tier, tuple(vols), f"r{n}")


def _holder(req: IntentRequest) -> Holder:
    return Holder(
        req.intent_id, req.operator, req.priority, req.tier, IntentState.ACCEPTED, req.volumes
    )


def _key(conflicts: list) -> list[tuple]:
    return [(c.other_id, c.volume, c.other_volume, c.distance_m, c.lat, c.lon) for c in conflicts]


def test_candidates_never_hide_a_conflict() -> None:
    """The exact test on the copy's candidates finds exactly what it finds on every holder,
    also after removals (with compaction) and for volumes too large for buckets."""
    rng = np.random.default_rng(7)
    reqs = [_random_request(rng, n) for n in range(400)]
    # a 40-hour circle needs more than MAX_BUCKETS buckets: every query scans it
    big = circle(
        "big",
        east=500.0,
        north=500.0,
        r=2_000.0,
        floor=0.0,
        ceiling=600.0,
        t=-3_600.0,
        dur=40 * 3_600.0,
        intent_id="big",
    )
    assert (big.volumes[0].t_end - big.volumes[0].t_start) / 300.0 > MAX_BUCKETS
    held = {n: _holder(r) for n, r in enumerate([*reqs, big])}
    index = HoldingIndex()
    index.add(held.items())
    for _ in range(3):
        found = 0
        for p in [_random_request(rng, 10_000 + n) for n in range(60)]:
            want = find_conflicts(
                p.volumes, p.tier, 20, [h for _, h in sorted(held.items())], TABLE
            )
            cand = index.candidates(volume_limits(p.volumes)[1], _minima(p.tier))
            seq_of = {h.id: s for s, h in held.items()}
            ids = [h.id for h in cand.holders]
            assert ids == sorted(ids, key=seq_of.__getitem__)  # ordered by seq, as the store reads
            assert _key(find_conflicts(p.volumes, p.tier, 20, cand, TABLE)) == _key(want)
            found += bool(want)
        assert found > 10  # the probes really meet the traffic
        for n in rng.choice(400, size=120, replace=False).tolist():  # remove some (not big)
            index.remove(n)
            held.pop(n, None)
        assert len(index) == len(held)
    later = circle("x", east=500.0, north=500.0, floor=300.0, ceiling=320.0, t=30 * 3_600.0)
    assert [
        h.id for h in index.candidates(volume_limits(later.volumes)[1], _minima("T2")).holders
    ] == ["big"]


def test_removed_and_replaced_holders_are_not_candidates() -> None:
    index = HoldingIndex()
    a, b = circle("a", intent_id="a"), circle("b", east=30.0, intent_id="b")
    index.add([(1, _holder(a)), (2, _holder(b))])
    probe = volume_limits(circle("p", east=10.0).volumes)[1]
    assert [h.id for h in index.candidates(probe, _minima("T2")).holders] == ["a", "b"]
    index.remove(1)
    index.remove(1)  # absent: no-op
    assert [h.id for h in index.candidates(probe, _minima("T2")).holders] == ["b"]
    index.set_state(2, IntentState.ACTIVATED)
    (h,) = index.candidates(probe, _minima("T2")).holders
    assert h.state is IntentState.ACTIVATED
    index.add([(2, _holder(circle("b", east=5_000.0, intent_id="b")))])  # replaced: moved away
    assert index.candidates(probe, _minima("T2")).holders == []
    assert 2 in index and 1 not in index and len(index) == 1


def test_many_additions_rehash_and_stay_exact() -> None:
    """Adding one intent at a time grows arrays and the bucket table several times."""
    rng = np.random.default_rng(3)
    index = HoldingIndex()
    reqs = [_random_request(rng, n) for n in range(1_500)]
    for n, r in enumerate(reqs):
        index.add([(n, _holder(r))])
    holders = [_holder(r) for r in reqs]
    for p in [_random_request(rng, 10_000 + n) for n in range(40)]:
        want = find_conflicts(p.volumes, p.tier, 20, holders, TABLE)
        got = find_conflicts(
            p.volumes,
            p.tier,
            20,
            index.candidates(volume_limits(p.volumes)[1], _minima(p.tier)),
            TABLE,
        )
        assert _key(got) == _key(want)


# -- stores: other connections and other processes ----------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_stores_interleave_and_see_each_others_intents(
    backend: str, new_location: Callable[[str], str]
) -> None:
    location = new_location(backend)
    with open_store(location) as a, open_store(location) as b:
        assert a.submit(circle("a", intent_id="a1")).accepted
        assert b.check(circle("warm", north=9_000.0)).accepted
        d = b.submit(circle("b", east=50.0, intent_id="b1"), propose=False)
        assert not d.accepted and [c.other_id for c in d.conflicts] == ["a1"]
        assert b.submit(circle("b", north=3_000.0, intent_id="b2")).accepted
        d = a.submit(circle("a", north=3_000.0, east=40.0, t=30.0), propose=False)
        assert not d.accepted and [c.other_id for c in d.conflicts] == ["b2"]
        b.cancel("a1")  # released through the other store
        assert a.submit(circle("a", east=60.0, intent_id="a3")).accepted
        assert not b.submit(circle("b", east=70.0), propose=False).accepted
        assert {i.id for i in a.holding()} == {"b2", "a3"}


def test_a_commit_by_another_connection_is_loaded_before_the_next_decision(tmp_path: Path) -> None:
    """Rows stamped with a higher revision by another writer (here plain SQL) are taken in."""
    with open_store(tmp_path) as st:
        assert st.submit(circle("here", north=5_000.0, intent_id="here")).accepted
        rev = st._index.rev
        other = circle("there", intent_id="there")
        conn = sqlite3.connect(tmp_path / SQLITE_FILE, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        seq = conn.execute(
            "INSERT INTO intents (id, operator, priority, tier, state, t_start, t_end, created_at, "
            "updated_at, rev) VALUES ('there', 'x', 20, 'T2', 'accepted', ?, ?, 0, 0, ?) RETURNING seq",
            (*other.window, rev + 1),
        ).fetchone()[0]
        conn.executemany(
            "INSERT INTO volumes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _volume_rows(seq, other.volumes),
        )
        conn.execute("COMMIT")
        assert st._index.rev == rev  # nothing read yet
        d = st.check(circle("late", east=40.0))
        assert not d.accepted and [c.other_id for c in d.conflicts] == ["there"]
        assert st._index.rev == rev + 1
        conn.execute(
            "UPDATE intents SET state = 'cancelled', rev = ? WHERE id = 'there'", (rev + 2,)
        )
        assert st.check(circle("late", east=40.0)).accepted
        assert "there" not in {h.id for h in st._reads(st._prepare(circle("x")))[3].holders}
        conn.close()


def test_the_copy_takes_boxes_from_footprints_not_from_stored_columns(tmp_path: Path) -> None:
    """A volume row whose bounding-box columns are wrong (written by other means) is still
    found: the copy computes boxes from the footprint itself, on a full load and on an
    incremental one."""
    with open_store(tmp_path) as st:
        assert st.submit(circle("here", north=5_000.0, intent_id="here")).accepted
        rev = st._index.rev
        conn = sqlite3.connect(tmp_path / SQLITE_FILE, isolation_level=None)
        for n, east in enumerate((0.0, 3_000.0)):
            other = circle("there", east=east, intent_id=f"there{n}")
            conn.execute("BEGIN IMMEDIATE")
            seq = conn.execute(
                "INSERT INTO intents (id, operator, priority, tier, state, t_start, t_end, "
                "created_at, updated_at, rev) VALUES (?, 'x', 20, 'T2', 'accepted', ?, ?, 0, 0, ?) "
                "RETURNING seq",
                (other.intent_id, *other.window, rev + 1 + n),
            ).fetchone()[0]
            wrong = [
                (*r[:7], 0.0, 0.0, 0.0, 0.0) for r in _volume_rows(seq, other.volumes)
            ]  # a box at (0, 0)
            conn.executemany("INSERT INTO volumes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", wrong)
            conn.execute("COMMIT")
            if n == 0:  # the first is loaded incrementally, the second with everything
                d = st.check(circle("late", east=40.0))
                assert [c.other_id for c in d.conflicts] == ["there0"]
                st._index.clear()
        d = st.check(circle("late", east=3_040.0))
        assert [c.other_id for c in d.conflicts] == ["there1"]
        assert [c.other_id for c in st.check(circle("late", east=40.0)).conflicts] == ["there0"]
        conn.close()


def test_threads_sharing_one_copy_accept_exactly_one_of_each_conflicting_set(
    tmp_path: Path,
) -> None:
    """Four stores in four threads (one shared copy) race on sets of conflicting intents."""
    groups, writers = 12, 4
    barrier = threading.Barrier(writers)
    accepted: list[str] = []

    def run(w: int) -> None:
        with open_store(tmp_path) as st:
            for g in range(groups):
                barrier.wait(timeout=60)
                req = circle(
                    f"w{w}", east=3_000.0 * g + w, north=2.0 * w, t=3.0 * w, intent_id=f"g{g}-w{w}"
                )
                if st.submit(req, propose=False).accepted:
                    accepted.append(req.intent_id)

    open_store(tmp_path).close()
    threads = [threading.Thread(target=run, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(a.split("-")[0] for a in accepted) == sorted(f"g{g}" for g in range(groups))
    with open_store(tmp_path) as st:
        assert sorted(i.id for i in st.holding()) == sorted(accepted)
        for g in range(groups):  # the shared copy agrees with the file
            probe = circle("p", east=3_000.0 * g)
            assert [h.id for h in st._reads(st._prepare(probe))[3].holders] == [
                a for a in sorted(accepted) if a.startswith(f"g{g}-")
            ]


def test_separate_copies_in_one_process_see_each_others_writes(tmp_path: Path) -> None:
    """After a fork the registry starts empty: a store opened then keeps its own copy, which
    must still see what the other copy's store writes (and the other way round)."""
    with open_store(tmp_path) as a:
        assert a.submit(circle("a", intent_id="a1")).accepted
        _forget_indexes()
        with open_store(tmp_path) as b:
            assert b._index is not a._index
            d = b.submit(circle("b", east=40.0), propose=False)
            assert not d.accepted and [c.other_id for c in d.conflicts] == ["a1"]
            assert b.submit(circle("b", north=3_000.0, intent_id="b1")).accepted
            d = a.submit(circle("a", north=3_000.0, east=40.0), propose=False)
            assert not d.accepted and [c.other_id for c in d.conflicts] == ["b1"]
            a.activate("a1")
            d = b.submit(circle("b", east=40.0, priority=40), propose=False)
            assert not d.accepted and d.conflicts[0].other_state is IntentState.ACTIVATED


def _submit(location: str, req: IntentRequest) -> bool:
    with open_store(location) as st:
        return st.submit(req, propose=False).accepted


def _change(location: str, action: str, intent_id: str) -> str:
    with open_store(location) as st:
        return getattr(st, action)(intent_id).state.value


def _elsewhere(pool, fn: Callable, *args: object) -> object:
    return pool.apply(fn, args)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_writes_by_another_process_are_seen(
    backend: str, new_location: Callable[[str], str]
) -> None:
    location = new_location(backend)
    with mp.get_context("spawn").Pool(1) as pool, open_store(location) as st:
        assert st.submit(circle("here", north=5_000.0, intent_id="here")).accepted  # copy loaded
        assert _elsewhere(pool, _submit, location, circle("there", intent_id="there"))
        d = st.submit(circle("here", east=50.0, intent_id="late"), propose=False)
        assert not d.accepted and [c.other_id for c in d.conflicts] == ["there"]
        # a state change elsewhere: activated, so a higher priority may no longer pre-empt it
        assert _elsewhere(pool, _change, location, "activate", "there") == "activated"
        d = st.submit(circle("medical", east=50.0, priority=40), propose=False)
        assert not d.accepted and d.conflicts[0].other_state is IntentState.ACTIVATED
        assert not d.conflicts[0].preemptable
        assert _elsewhere(pool, _change, location, "cancel", "there") == "cancelled"
        assert st.submit(circle("here", east=50.0, intent_id="after")).accepted
        # and the other process sees what this one accepted
        assert not _elsewhere(pool, _submit, location, circle("there", east=80.0))
        assert sorted(i.id for i in st.holding()) == ["after", "here"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_conflicts_name_the_right_volume_and_preempted_intents_keep_all_volumes(
    backend: str, new_location: Callable[[str], str]
) -> None:
    """A holder whose first volume is hours away: the conflict is with its volume 1."""
    with open_store(new_location(backend)) as st:
        first = circle("low", north=8_000.0, t=-7_200.0).volumes[0]
        second = circle("low", t=0.0).volumes[0]
        assert st.submit(IntentRequest("low", 10, "T2", (first, second), "low")).accepted
        d = st.submit(circle("high", east=30.0, t=20.0, priority=40, intent_id="high"))
        assert d.accepted and [(c.other_id, c.other_volume) for c in d.conflicts] == [("low", 1)]
        (gone,) = d.preempted
        assert gone.id == "low" and len(gone.volumes) == 2 and gone.state is IntentState.CANCELLED
        assert st.get("low").state is IntentState.CANCELLED
        assert st.submit(
            circle("again", north=8_000.0, t=-7_200.0)
        ).accepted  # its airspace is free


def test_sqlite_store_of_schema_1_is_migrated_and_its_intents_are_candidates(
    tmp_path: Path,
) -> None:
    """A version-1 file (with a key table) opens at the current version; its intents still block."""
    c = sqlite3.connect(tmp_path / SQLITE_FILE)
    c.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
        "applied_at DOUBLE PRECISION NOT NULL)"
    )
    for sql in _SQLITE_V1:
        c.execute(sql)
    c.execute("INSERT INTO schema_version VALUES (1, 'v1', 0)")
    with open_store(tmp_path / "template") as fresh:  # the policy document of a default store
        c.execute(
            "INSERT INTO meta VALUES ('policy', ?)",
            fresh._db.execute("SELECT value FROM meta WHERE name = 'policy'").fetchone(),
        )
    c.execute("INSERT INTO meta VALUES ('geofence_rev', '0')")
    old = circle("old", intent_id="old")
    c.execute(
        "INSERT INTO intents (seq, id, operator, priority, tier, state, t_start, t_end, created_at, "
        "updated_at) VALUES (1, 'old', 'old', 20, 'T2', 'accepted', ?, ?, 0, 0)",
        old.window,
    )
    c.executemany(
        "INSERT INTO volumes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _volume_rows(1, old.volumes)
    )
    c.execute("INSERT INTO intent_keys VALUES (42, 1)")
    c.commit()
    c.close()
    with open_store(tmp_path) as st:
        assert st.schema_version() == SCHEMA_VERSION
        tables = {
            r[0] for r in st._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert "intent_keys" not in tables
        d = st.submit(circle("new", east=40.0), propose=False)
        assert not d.accepted and [c.other_id for c in d.conflicts] == ["old"]
        assert st.submit(circle("new", north=2_000.0)).accepted


def test_a_store_whose_revision_went_back_is_reloaded(tmp_path: Path) -> None:
    """The copy is rebuilt when the store's revision is lower than its own (an older file)."""
    st = open_store(tmp_path)
    assert st.submit(circle("a", intent_id="a")).accepted
    assert st.submit(circle("b", north=3_000.0, intent_id="b")).accepted
    # rewind: forget b and set every revision back, as a restored older copy would look
    st._db.execute(
        "DELETE FROM volumes WHERE intent_seq = (SELECT seq FROM intents WHERE id = 'b')"
    )
    st._db.execute("DELETE FROM intents WHERE id = 'b'")
    st._db.execute("UPDATE intents SET rev = 0")
    assert st.submit(circle("c", north=3_000.0, intent_id="c")).accepted  # b is gone from the copy
    assert not st.submit(circle("d", east=30.0), propose=False).accepted  # a is still there
    assert isinstance(st._index.rev, int) and st._index.rev == 1
    assert sorted(
        h.id
        for h in st._index.candidates(volume_limits(circle("x").volumes)[1], _minima("T2")).holders
    ) == ["a"]
    st.close()


def test_volume_rows_are_complete() -> None:
    vol = Volume4D(circle("x").volumes[0].footprint, 1.0, 2.0, 3.0, 4.0)
    ((seq, idx, wkb, *rest),) = _volume_rows(7, [vol])
    assert (seq, idx, rest[:4]) == (7, 0, [1.0, 2.0, 3.0, 4.0])
    assert tuple(rest[4:]) == vol.footprint.bounds and isinstance(wkb, bytes)


def _box_meets(b: np.ndarray, lim: np.ndarray, lateral_m: float, seconds: float) -> bool:
    """Whether a row of boxes ``b`` meets a row of ``lim`` grown by ``lateral_m`` (in
    degrees at the test latitudes) and ``seconds``, any altitude: a plain scan."""
    dlat = lateral_m / 110_574.0
    dlon = dlat / np.cos(np.radians(abs(LAT0) + 0.1))
    return bool(
        (
            (b[:, None, 0] <= lim[None, :, 2] + dlon)
            & (lim[None, :, 0] - dlon <= b[:, None, 2])
            & (b[:, None, 1] <= lim[None, :, 3] + dlat)
            & (lim[None, :, 1] - dlat <= b[:, None, 3])
            & (b[:, None, 6] <= lim[None, :, 7] + seconds)
            & (lim[None, :, 6] - seconds <= b[:, None, 7])
        ).any()
    )


def test_unbounded_band_queries_find_what_a_plain_scan_finds() -> None:
    """A fix-proposal query (any altitude, a window stretched by an hour) visits buckets
    only within the span of the bucketed rows, and finds every holder a plain scan of
    every box finds within the lateral minimum, and none beyond twice it."""
    rng = np.random.default_rng(11)
    reqs = [_random_request(rng, n) for n in range(600)]
    index = HoldingIndex()
    for n, r in enumerate(reqs):  # one at a time: most rows end up in buckets
        index.add([(n, _holder(r))])
    boxes = [volume_limits(r.volumes)[1] for r in reqs]
    near_total = 0
    for p in [_random_request(rng, 10_000 + n) for n in range(40)]:
        lim = volume_limits(p.volumes)[1]
        lim[:, 4:6] = (-np.inf, np.inf)
        lim[:, 7] += 3_600.0
        m = _minima(p.tier)
        near, far = set(), set()
        for r, b in zip(reqs, boxes):
            mm = m[r.tier]
            if _box_meets(b, lim, mm.lateral_m, mm.seconds):
                near.add(r.intent_id)
            if _box_meets(b, lim, 2 * mm.lateral_m + 10.0, mm.seconds + 1.0):
                far.add(r.intent_id)
        got = {h.id for h in index.candidates(lim, m).holders}
        assert near <= got <= far
        near_total += len(near)
    assert near_total > 100  # the probes really meet the traffic
    assert index._span[4] > -64  # only the layers held are visited, not every layer
