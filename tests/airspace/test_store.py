"""The durable store, on SQLite and on a real PostgreSQL server (see conftest.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import h3
import numpy as np
import pytest
import shapely
import shapely.affinity

from airgrid.airspace.errors import (
    DuplicateIntentError,
    GeofenceError,
    GeofenceNotFoundError,
    IntentError,
    IntentNotFoundError,
    IntentTierError,
    SchemaVersionError,
    StateTransitionError,
    StoreConfigError,
)
from airgrid.airspace.geofences.index import bins_ground
from airgrid.airspace.geofences.model import Category, Circle, Geofence, Limit, Validity
from airgrid.airspace.grid.tiers import TierTable
from airgrid.airspace.store.backends import SQLITE_FILE
from airgrid.airspace.store.policy import AirspacePolicy
from airgrid.airspace.store.schema import SCHEMA_VERSION
from airgrid.airspace.store.service import Store, open_store
from airgrid.airspace.traffic.holders import volume_limits
from airgrid.airspace.traffic.models import IntentRequest, IntentState
from airgrid.airspace.traffic.planes import plane_for
from airgrid.airspace.traffic.separation import SeparationMinima, SeparationTable
from airgrid.geo.volumes import Volume4D
from tests.airspace.conftest import (
    LAT0,
    LON0,
    T0,
    StoreMaker,
    circle,
    circle_footprint,
    intents_conflict,
    offset,
)

TABLES = ("intents", "volumes", "grid_claims", "geofences")


def _counts(st: Store) -> dict[str, int]:
    return {t: int(st._db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES}


def _assert_no_conflicts(st: Store) -> None:
    held = st.holding()
    table = st.policy.separation
    for i, a in enumerate(held):
        for b in held[i + 1 :]:
            assert not intents_conflict(a.volumes, a.tier, b.volumes, b.tier, table), (a.id, b.id)


def test_accept_then_refuse_with_report_and_fixes(maker: StoreMaker) -> None:
    st = maker.open()
    first = st.submit(circle("alpha", intent_id="alpha-1"))
    assert first.accepted and first.intent.state is IntentState.ACCEPTED
    clash = circle("beta", east=50, t=60, intent_id="beta-1")
    d = st.submit(clash)
    assert not d.accepted and d.intent is None
    assert {c.other_id for c in d.conflicts} == {"alpha-1"}
    with pytest.raises(IntentNotFoundError):
        st.get("beta-1")  # a refusal stores nothing
    kinds = {p.kind: p for p in d.proposals}
    assert set(kinds) == {"departure_shift", "altitude_offset"}
    # each proposal is really free: applying it gets the intent accepted
    shifted = kinds["departure_shift"].apply(clash)
    assert shifted.volumes[0].t_start > clash.volumes[0].t_start
    assert st.check(shifted).accepted
    raised = kinds["altitude_offset"].apply(clash)
    assert st.submit(raised).accepted
    _assert_no_conflicts(st)


def _band(real_dem, east: float, north: float) -> tuple[float, float]:
    """T2's certain band (lowest floor, highest ceiling, m AMSL) over a probe circle's box."""
    probe = circle("p", east=east, north=north)
    bottom, top = bins_ground(real_dem, *volume_limits(probe.volumes)[1][:, :4].T)
    return float(np.ceil(top.max())) + 120.0, float(np.floor(bottom.min())) + 300.0


@pytest.mark.parametrize("east, north", [(5_000.0, 0.0), (-5_000.0, 122_000.0)])
def test_altitude_fixes_keep_the_tier_band(
    tmp_path: Path, real_dem, east: float, north: float
) -> None:
    """With a DEM, an altitude offset keeps every floor at least the tier's lower limit above
    the highest plausible ground and every ceiling at most its upper limit above the lowest;
    where no free offset does, none is proposed. Without a DEM the same refusal proposes the
    nearest free offset and says the band was not checked. The first place (east of the Xiang
    in Changsha) has a band about 50 m deep, the second (by Dongting Lake) about 110 m."""
    lo_floor, hi_ceiling = _band(real_dem, east, north)
    req = circle("me", east=east, north=north, floor=lo_floor, ceiling=lo_floor + 20.0, t=60.0)
    blocker = circle(
        "x",
        east=east,
        north=north,
        floor=lo_floor,
        ceiling=lo_floor + 20.0,
        dur=300.0,
        intent_id="x",
    )
    for dem in (None, real_dem):
        with open_store(tmp_path / f"{east}-{'dem' if dem else 'none'}", dem=dem) as st:
            assert st.submit(blocker).accepted
            d = st.submit(req.with_id())
            assert not d.accepted
            fix = {p.kind: p for p in d.proposals}.get("altitude_offset")
            if dem is None:
                assert (
                    fix is not None
                    and abs(fix.offset_m) >= 50.0
                    and "not checked" in fix.description
                )
                assert d.low_volumes == () and d.high_volumes == ()
                continue
            assert "departure_shift" in {p.kind for p in d.proposals}
            fits = [
                k * 20.0
                for k in range(-15, 16)
                if k
                and lo_floor <= lo_floor + k * 20.0
                and lo_floor + 20.0 + k * 20.0 <= hi_ceiling
                and abs(k * 20.0) >= 50.0
            ]
            if not fits:
                assert fix is None  # no offset both free and in the band
            else:
                assert fix is not None and fix.offset_m in fits
                moved = fix.apply(req).with_id()
                assert st.check(moved).accepted
                assert (
                    moved.volumes[0].floor_m >= lo_floor
                    and moved.volumes[0].ceiling_m <= hi_ceiling
                )
                assert "above the lowest" in fix.description
            low = circle(
                "low",
                east=east,
                north=north,
                floor=lo_floor - 30.0,
                ceiling=lo_floor - 10.0,
                t=10_000.0,
            )
            (notice,) = st.check(low).low_volumes
            assert notice.volume == 0 and notice.min_floor_m > low.volumes[0].floor_m
            high = circle(
                "high",
                east=east,
                north=north,
                floor=hi_ceiling - 10.0,
                ceiling=hi_ceiling + 10.0,
                t=10_000.0,
            )
            (over,) = st.check(high).high_volumes
            assert (
                over.max_ceiling_m < high.volumes[0].ceiling_m and st.check(high).low_volumes == ()
            )
    assert (hi_ceiling - lo_floor) > 30.0


def _comb_pair(
    gap: float, n: int = 5, w: float = 20.0
) -> tuple[shapely.Geometry, shapely.Geometry]:
    """Two interleaved combs (metres): every part of one is exactly ``gap`` from the other."""
    period = 2 * (w + gap)
    length = (n - 1) * period + w
    a = shapely.union_all(
        [shapely.box(0, 200, length, 220)]
        + [shapely.box(k * period, 0, k * period + w, 200) for k in range(n)]
    )
    b = shapely.union_all(
        [shapely.box(0, -gap - 20, length, -gap)]
        + [
            shapely.box(k * period + w + gap, -gap, k * period + 2 * w + gap, 200 - gap)
            for k in range(n - 1)
        ]
    )
    assert a.distance(b) == pytest.approx(gap)
    return a, b


def _placed(g: shapely.Geometry) -> shapely.Geometry:
    """A metric test shape placed at the origin (local stereographic plane)."""
    _, inv = plane_for(LON0, LAT0)
    return shapely.transform(g, lambda xy: np.column_stack(inv.transform(xy[:, 0], xy[:, 1])))


def test_near_miss_interleaved_combs_are_both_accepted(maker: StoreMaker) -> None:
    """Footprints whose teeth interleave 4 m beyond the lateral minimum: both accepted."""
    sep = SeparationMinima(10.0, 10.0, 10.0)
    st = maker.open(
        AirspacePolicy(separation=SeparationTable(dict.fromkeys(("T1", "T2", "T3", "T4"), sep)))
    )
    a, b = _comb_pair(gap=14.0)

    def req(op: str, g: shapely.Geometry) -> IntentRequest:
        return IntentRequest(op, 20, "T2", (Volume4D(_placed(g), 200, 230, T0, T0 + 300),))

    assert st.submit(req("a", a)).accepted
    # the index makes the first a candidate for the second; the exact test lets both through
    assert [h.id for h in st._reads(st._prepare(req("b", b)))[3].holders] == [
        st.list_intents()[0].id
    ]
    d = st.submit(req("b", b))
    assert d.accepted, d.conflicts
    # 6 m closer (8 m apart, under the 10 m minimum) is refused
    assert not st.submit(req("c", shapely.affinity.translate(b, 0.0, 6.0))).accepted
    _assert_no_conflicts(st)


def test_time_window_semantics(maker: StoreMaker) -> None:
    st = maker.open()
    s = st.policy.separation.for_tier("T2").seconds
    assert st.submit(circle("a", t=0, dur=100)).accepted
    assert not st.submit(circle("b", t=100 + s, dur=60)).accepted  # gap == minimum
    assert st.submit(circle("c", t=100 + s + 1, dur=60)).accepted  # gap > minimum
    assert not st.submit(circle("d", t=-60 - s, dur=60)).accepted  # ends exactly s before
    assert st.submit(circle("e", t=-61 - s, dur=60)).accepted
    _assert_no_conflicts(st)


def test_priority_preemption_is_flagged_and_reported(maker: StoreMaker) -> None:
    st = maker.open()
    assert st.submit(circle("leisure", priority=10, intent_id="low")).accepted
    flying = st.submit(circle("commercial", north=2_000, priority=20, intent_id="flying")).intent
    st.activate(flying.id)
    med = st.submit(circle("hospital", priority=40, intent_id="med"))
    assert med.accepted
    assert [p.id for p in med.preempted] == ["low"]
    got = st.get("low")
    assert got.state is IntentState.CANCELLED and got.preempted and got.preempted_by == "med"
    assert "pre-empted by intent med" in got.reason
    # an airborne (activated) intent is never pre-empted, whatever the priority
    d = st.submit(circle("hospital", north=2_000, priority=40, intent_id="med2"))
    assert not d.accepted and d.conflicts[0].other_id == "flying" and not d.conflicts[0].preemptable
    # equal priority does not pre-empt; preempt=False refuses instead of displacing
    assert not st.submit(circle("hospital", priority=40)).accepted
    st.submit(circle("leisure", north=5_000, priority=10, intent_id="low2"))
    assert not st.submit(circle("hospital", north=5_000, priority=40), preempt=False).accepted
    assert st.get("low2").state is IntentState.ACCEPTED
    _assert_no_conflicts(st)


def test_state_transitions(maker: StoreMaker) -> None:
    st = maker.open()
    i = st.submit(circle("a", intent_id="i1")).intent
    with pytest.raises(StateTransitionError):
        st.end(i.id)  # accepted -> ended is not allowed
    assert st.activate(i.id).state is IntentState.ACTIVATED
    assert st.end(i.id).state is IntentState.ENDED
    for op in (st.activate, st.end, st.cancel):
        with pytest.raises(StateTransitionError):
            op(i.id)
    with pytest.raises(IntentNotFoundError):
        st.cancel("nope")
    # cancel releases the airspace
    j = st.submit(circle("b", intent_id="j1")).intent
    assert not st.submit(circle("c")).accepted
    st.cancel(j.id, "weather")
    assert st.get("j1").reason == "weather"
    assert st.submit(circle("c")).accepted


def test_grid_mode_exclusivity(maker: StoreMaker) -> None:
    tight = SeparationTable({t: SeparationMinima(1.0, 1.0, 1.0) for t in ("T1", "T2", "T3", "T4")})
    st = maker.open(AirspacePolicy(separation=tight, grid_tiers=frozenset({"T1"})))
    cell = h3.latlng_to_cell(LAT0, LON0, 10)  # T1's resolution
    clat, clon = h3.cell_to_latlng(cell)

    def req(op: str, east: float, tier: str) -> IntentRequest:
        lat, lon = offset(clat, clon, east, 0.0)
        return IntentRequest(
            op, 20, tier, (Volume4D(circle_footprint(lat, lon, 2.0), 101, 104, T0 + 5, T0 + 25),)
        )

    assert st.submit(req("a", -6.0, "T1")).accepted
    d = st.submit(req("b", 6.0, "T1"))  # 8 m apart: separated, but in the same voxel-slot
    assert not d.accepted and not d.conflicts and d.grid_conflicts
    g = d.grid_conflicts[0]
    assert (g.cell, g.layer, g.slot) == (cell, 5, int((T0 + 5) // 60))  # 100-120 m is T1 layer 5
    assert g.other_id == st.list_intents()[0].id
    # the uniqueness constraint itself refuses a second holder of a voxel-slot
    row = st._db.execute("SELECT cell, layer, slot FROM grid_claims LIMIT 1").fetchone()
    before = _counts(st)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        st._db.execute(
            "INSERT INTO grid_claims (cell, layer, slot, intent_seq) VALUES (?, ?, ?, "
            "(SELECT max(seq) FROM intents))",
            tuple(row),
        )
    assert _counts(st) == before
    # the same pair in a tier without grid mode: the exact test alone decides, both accepted
    st.cancel(st.list_intents()[0].id)
    assert _counts(st)["grid_claims"] == 0  # released with the airspace
    assert st.submit(req("c", -6.0, "T2")).accepted and st.submit(req("d", 6.0, "T2")).accepted


def test_invalid_inputs_store_nothing(maker: StoreMaker) -> None:
    st = maker.open()
    st.submit(circle("a", intent_id="taken"))
    before = _counts(st)
    with pytest.raises(DuplicateIntentError):
        st.submit(circle("b", north=9_000, intent_id="taken"))
    with pytest.raises(IntentTierError):
        st.submit(circle("b", north=9_000, tier="T9"))
    with pytest.raises(StateTransitionError):
        st.end("taken")
    with pytest.raises(GeofenceNotFoundError):
        st.delete_geofence("none")
    with pytest.raises(GeofenceError):
        st.put_geofence({"type": "Feature"})
    with pytest.raises(IntentError, match="unknown state"):
        st.list_intents(state="flying")
    with pytest.raises(IntentError, match="IntentRequest"):
        st.submit({"operator": "x"})
    with pytest.raises(StoreConfigError):
        open_store("host=127.0.0.1 dbname=x")  # a conninfo string, not a URL or directory
    with pytest.raises(StoreConfigError, match="data directory"):
        open_store("sqlite:///tmp/airgrid.sqlite")  # a URL where a directory is expected
    assert _counts(st) == before
    assert st.get("taken").state is IntentState.ACCEPTED


def _fence(
    ident: str, *, category: Category = Category.PROHIBITED, validity: Validity | None = None
) -> Geofence:
    lat, lon = offset(LAT0, LON0, 0.0, 1_000.0)
    return Geofence(
        ident,
        Limit(0.0, "AMSL"),
        Limit(500.0, "AMSL"),
        circle=Circle(lon=lon, lat=lat, radius_m=300.0),
        validity=validity or Validity(),
        category=category,
        name=ident,
    )


def test_geofences_persist_and_block_only_when_active_and_prohibited(maker: StoreMaker) -> None:
    st = maker.open()
    early = st.submit(circle("early", north=1_000, t=0, intent_id="early")).intent
    affected = st.put_geofence(_fence("gf-1"))
    assert affected == [early.id]  # reported, not cancelled
    assert st.get("early").state is IntentState.ACCEPTED
    assert st.get_geofence("gf-1") == _fence("gf-1")
    d = st.submit(circle("x", north=1_000, t=3_600))
    assert not d.accepted and d.geofence_conflicts[0].geofence_id == "gf-1"
    assert not d.conflicts
    # advisory fences and fences not active at the time do not block
    st.delete_geofence("gf-1")
    st.put_geofence(_fence("gf-adv", category=Category.AUTHORISATION_REQUIRED))
    st.put_geofence(_fence("gf-past", validity=Validity(start=T0 - 7_200, end=T0 - 3_600)))
    assert st.submit(circle("x", north=1_000, t=3_600)).accepted
    assert [g.identifier for g in st.list_geofences()] == ["gf-adv", "gf-past"]
    assert [g.identifier for g in st.list_geofences(Category.PROHIBITED)] == ["gf-past"]
    # a fresh connection sees the same geofences (durable)
    other = maker.open()
    assert other.get_geofence("gf-past") == _fence(
        "gf-past", validity=Validity(start=T0 - 7_200, end=T0 - 3_600)
    )


def test_proposed_delays_skip_the_ones_a_geofence_forbids(maker: StoreMaker) -> None:
    """The delay search sees intents only; a delay that would fly into a prohibited
    geofence's validity is skipped, and the first one past it is proposed and accepted."""
    clash = circle("beta", north=1_000, t=60)
    st = maker.open()
    assert st.submit(circle("alpha", north=1_000)).accepted
    free_of_intent = {p.kind: p for p in st.submit(clash.with_id()).proposals}
    assert free_of_intent["departure_shift"].shift_s < 540.0
    st.put_geofence(_fence("gf-until-600", validity=Validity(start=T0 - 3_600, end=T0 + 600)))
    d = st.submit(clash.with_id())
    assert not d.accepted and d.geofence_conflicts
    kinds = {p.kind: p for p in d.proposals}
    # the volume [60 + d, 180 + d] s meets the fence, which ends at 600 s, up to d = 540 s
    assert kinds["departure_shift"].shift_s == 600.0
    assert st.check(kinds["departure_shift"].apply(clash)).accepted
    # the fence spans 0-500 m AMSL and every offset up to 300 m leaves some of the volume in
    # it; without a DEM the store may send the volume under it (its 230 m ceiling below 0 m)
    assert kinds["altitude_offset"].offset_m < -230.0
    assert st.check(kinds["altitude_offset"].apply(clash)).accepted


def test_route_intents_and_fresh_connection(maker: StoreMaker) -> None:
    st = maker.open()
    lat_b, lon_b = offset(LAT0, LON0, 12_000.0, 6_000.0)
    req = IntentRequest.from_route(
        "courier",
        20,
        "T2",
        [(LAT0, LON0, 300, T0), (lat_b, lon_b, 300, T0 + 700)],
        half_width_m=20,
        half_height_m=15,
        intent_id="route-1",
    )
    assert st.submit(req).accepted
    crossing = IntentRequest.from_route(
        "courier2",
        20,
        "T2",
        [
            (*offset(LAT0, LON0, 6_000, -3_000), 310, T0 + 100),
            (*offset(LAT0, LON0, 6_000, 9_000), 310, T0 + 700),
        ],
        half_width_m=20,
        half_height_m=15,
    )
    d = st.submit(crossing)
    assert not d.accepted and all(c.other_id == "route-1" for c in d.conflicts)
    got = maker.open().get("route-1")
    assert len(got.volumes) == len(req.volumes)
    for v, w in zip(got.volumes, req.volumes):
        assert v.footprint.equals_exact(w.footprint, 0) and (v.floor_m, v.t_end) == (
            w.floor_m,
            w.t_end,
        )


def test_policy_is_fixed_at_creation(maker: StoreMaker) -> None:
    st = maker.open(AirspacePolicy(grid_tiers=frozenset({"T1"})))
    assert st.schema_version() == SCHEMA_VERSION == 10
    if st.backend == "postgres":  # migration 8 dropped the key table
        assert st._db.execute("SELECT to_regclass('intent_keys')").fetchone()[0] is None
    assert maker.open().policy.grid_tiers == frozenset({"T1"})
    with pytest.raises(StoreConfigError, match="another policy"):
        maker.open(AirspacePolicy())
    with pytest.raises(StoreConfigError, match="not in the tier table"):
        AirspacePolicy(tiers=TierTable().select(["T2"]), grid_tiers=frozenset({"T1"}))


def test_sqlite_refusal_is_recorded_after_its_decision_without_waiting_for_the_disk(
    tmp_path: Path,
) -> None:
    """A refusal is written in a transaction of its own after the deciding one, with
    synchronous NORMAL; the connection is back to FULL for the next decision, and the
    record is whole when read from another connection."""
    st = open_store(tmp_path)
    assert st.submit(circle("a", intent_id="a")).accepted
    levels: list[int] = []
    db = st._db

    def transaction(fn):
        levels.append(db.execute("PRAGMA synchronous").fetchone()[0])
        return type(db)._transaction(db, fn)

    db._transaction = transaction  # type: ignore[method-assign]
    refused = st.submit(circle("b", intent_id="b"), propose=False)
    assert not refused.accepted
    # the deciding transaction ran at FULL (2), then the refusal's own at NORMAL (1), and
    # the connection is back to FULL
    assert levels == [2, 1]
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2
    other = sqlite3.connect(tmp_path / SQLITE_FILE)
    assert other.execute("SELECT intent_id FROM refusals").fetchall() == [("b",)]
    assert other.execute("SELECT count(*) FROM refusal_volumes").fetchone()[0] == len(
        refused.request.volumes
    )
    assert other.execute("SELECT kind, other_id FROM refusal_conflicts").fetchall() == [
        ("intent", "a")
    ]
    other.close()
    assert st.submit(circle("c", intent_id="c", t=1_000.0), propose=False).accepted
    assert levels[-1] == 2
    st.close()


def test_sqlite_settings_and_newer_schema(tmp_path: Path) -> None:
    st = open_store(tmp_path)
    assert st._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert st._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert st._db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    st.close()
    c = sqlite3.connect(tmp_path / SQLITE_FILE)
    c.execute("INSERT INTO schema_version VALUES (99, 'from the future', 0)")
    c.commit()
    c.close()
    with pytest.raises(SchemaVersionError):
        open_store(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreConfigError):
        open_store(tmp_path / "file")


def test_route_volumes_round_trip_through_restore(maker: StoreMaker) -> None:
    st = maker.open()
    reqs = [circle("bulk", north=k * 500.0, intent_id=f"bulk-{k}") for k in range(20)]
    assert st.restore_intents(reqs) == 20
    assert len(st.holding()) == 20
    d = st.submit(circle("new", north=1_000.0))
    assert not d.accepted and {c.other_id for c in d.conflicts} == {"bulk-2"}
    with pytest.raises(DuplicateIntentError):
        st.restore_intents([circle("again", intent_id="bulk-3")])
    assert len(st.list_intents()) == 20
