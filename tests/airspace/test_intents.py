"""Flight intents without a store: routes to volumes, the exact test, keys, fixes."""

from __future__ import annotations

import itertools
import math

import h3
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airgrid.airspace.errors import IntentError, RouteError, SeparationError
from airgrid.airspace.traffic.conflicts import LATERAL_TOLERANCE_M, find_conflicts
from airgrid.airspace.traffic.fixes import free_altitude_offset, free_departure_shift
from airgrid.airspace.traffic.holders import Holder
from airgrid.airspace.traffic.keys import KeyScheme, overlap_cells
from airgrid.airspace.traffic.models import IntentRequest, IntentState
from airgrid.airspace.traffic.planes import plane_for, to_plane
from airgrid.airspace.traffic.route_volumes import route_to_volumes
from airgrid.airspace.traffic.separation import SeparationMinima, SeparationTable
from airgrid.geo.plane import BUFFER_SAFETY
from airgrid.geo.volumes import Volume4D, VolumeError
from tests.airspace.conftest import LAT0, LON0, T0, circle, intents_conflict, offset

TABLE = SeparationTable()


def _metric_distance(a: shapely.Geometry, b: shapely.Geometry) -> float:
    c = a.centroid
    fwd, _ = plane_for(c.x, c.y)
    pa, pb = to_plane(np.array([a, b], dtype=object), fwd)
    return float(pa.distance(pb))


def _holder(req: IntentRequest, state: IntentState = IntentState.ACCEPTED) -> Holder:
    return Holder(req.intent_id or "h", req.operator, req.priority, req.tier, state, req.volumes)


# -- routes ----------------------------------------------------------------------------------


def test_route_pieces_follow_the_timing_profile() -> None:
    a = (LAT0, LON0, 300.0, T0)
    lat_b, lon_b = offset(LAT0, LON0, 5_000.0, 0.0)
    b = (lat_b, lon_b, 400.0, T0 + 500.0)
    vols = route_to_volumes([a, b], half_width_m=20.0, half_height_m=10.0, max_piece_m=2_000.0)
    assert len(vols) == 3  # ~5 km in pieces of <= 2 km
    assert vols[0].t_start == pytest.approx(T0) and vols[-1].t_end == pytest.approx(T0 + 500.0)
    for v, w in itertools.pairwise(vols):
        assert v.t_end == pytest.approx(w.t_start)
    # altitude band: lowest - 10 .. highest + 10 within each piece, climbing along the leg
    assert vols[0].floor_m == pytest.approx(290.0) and vols[-1].ceiling_m == pytest.approx(410.0)
    assert vols[0].ceiling_m < vols[-1].ceiling_m


def test_route_tube_contains_every_point_within_half_width() -> None:
    lat_b, lon_b = offset(LAT0, LON0, 1_500.0, 800.0)
    vols = route_to_volumes(
        [(LAT0, LON0, 300, T0), (lat_b, lon_b, 300, T0 + 200)], half_width_m=25.0, half_height_m=5.0
    )
    fp = shapely.union_all([v.footprint for v in vols])
    fwd, inv = plane_for(LON0, LAT0)
    (xa, xb), (ya, yb) = fwd.transform([LON0, lon_b], [LAT0, lat_b])
    track = shapely.LineString([(xa, ya), (xb, yb)])
    ring = track.buffer(25.0, quad_segs=64).exterior  # the exact tube boundary
    lon, lat = inv.transform(*np.asarray(ring.coords).T)
    assert shapely.contains_xy(fp, lon, lat).all()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-60_000, 60_000), st.floats(-60_000, 60_000), st.floats(50, 900)),
        min_size=2,
        max_size=7,
    ),
    st.floats(200.0, 5_000.0),
)
def test_a_route_is_the_sum_of_its_legs(points, max_piece_m) -> None:
    """Legs are converted together (those sharing a plane in one projection call), yet each
    gives exactly the volumes it gives as a route of its own, in order."""
    wps = [(*offset(LAT0, LON0, e, n), z, T0 + 60.0 * k) for k, (e, n, z) in enumerate(points)]
    kw = {"half_width_m": 30.0, "half_height_m": 10.0, "max_piece_m": max_piece_m}
    whole = route_to_volumes(wps, **kw)
    legs = [v for a, b in itertools.pairwise(wps) for v in route_to_volumes([a, b], **kw)]
    assert whole == legs


@pytest.mark.parametrize(
    "wps, exc_text",
    [
        ([(LAT0, LON0, 300, T0)], "at least two"),
        ([(LAT0, LON0, 300, T0), (LAT0, LON0 + 0.01, 300, T0)], "not after"),
        ([(LAT0, LON0, 300, T0), (95.0, LON0, 300, T0 + 10)], "out of range"),
        ([(LAT0, LON0, math.nan, T0), (LAT0, LON0, 300, T0 + 10)], "finite"),
    ],
)
def test_bad_routes_raise_route_error(wps, exc_text) -> None:
    with pytest.raises(RouteError, match=exc_text):
        route_to_volumes(wps, half_width_m=20, half_height_m=10)


def test_bad_route_sizes_raise() -> None:
    wps = [(LAT0, LON0, 300, T0), (LAT0, LON0 + 0.01, 300, T0 + 60)]
    with pytest.raises(RouteError, match="half_width_m"):
        route_to_volumes(wps, half_width_m=0, half_height_m=10)
    with pytest.raises(RouteError, match="time_margin_s"):
        route_to_volumes(wps, half_width_m=5, half_height_m=10, time_margin_s=-1)


@pytest.mark.parametrize(
    "kwargs, text",
    [
        ({"operator": ""}, "operator"),
        ({"priority": True}, "priority"),
        ({"priority": 1001}, "priority"),
        ({"intent_id": "has space"}, "intent id"),
        ({"volumes": ()}, "at least one volume"),
        ({"volumes": ("not a volume",)}, "not a Volume4D"),
    ],
)
def test_invalid_requests_raise_intent_error(kwargs, text) -> None:
    base = {
        "operator": "op",
        "priority": 20,
        "tier": "T2",
        "volumes": circle("x").volumes,
        "intent_id": None,
    }
    base.update(kwargs)
    with pytest.raises(IntentError, match=text):
        IntentRequest(**base)


def test_oversized_footprint_raises() -> None:
    big = shapely.box(112.0, 28.0, 113.0, 29.0)
    with pytest.raises(IntentError, match="spans"):
        IntentRequest("op", 20, "T2", (Volume4D(big, 0, 10, T0, T0 + 1),))


@given(st.floats(-7_200, 7_200), st.floats(-300, 300))
def test_moved_and_renamed_copies_equal_requests_built_afresh(
    seconds: float, metres: float
) -> None:
    """A shifted, raised or renamed copy, which re-checks only what changed, equals the
    request built and fully checked from its parts."""
    req = circle("op", intent_id="a-1")
    for copy, vols, intent_id in (
        (req.shifted(seconds), [(0.0, seconds)], "a-1"),
        (req.raised(metres), [(metres, 0.0)], "a-1"),
        (req.renamed("b-2"), [(0.0, 0.0)], "b-2"),
    ):
        v = req.volumes[0]
        dz, dt = vols[0]
        moved = Volume4D(
            v.footprint, v.floor_m + dz, v.ceiling_m + dz, v.t_start + dt, v.t_end + dt
        )
        assert copy == IntentRequest(req.operator, req.priority, req.tier, (moved,), intent_id)
    assert req.intent_id == "a-1" and req.volumes[0].floor_m == 200.0


@pytest.mark.parametrize("bad", ["has space", "", "x" * 300, 7])
def test_a_renamed_copy_checks_its_id(bad) -> None:
    with pytest.raises(IntentError, match="intent id"):
        circle("op").renamed(bad)


def test_a_moved_copy_checks_its_volumes() -> None:
    with pytest.raises(VolumeError, match="finite"):
        circle("op").shifted(math.inf)


# -- the exact test ----------------------------------------------------------------------------


def test_vertical_gap_equal_to_minimum_conflicts_and_larger_does_not() -> None:
    a = circle("a", floor=200, ceiling=230)
    v = TABLE.for_tier("T2").vertical_m
    touching = circle("b", floor=230 + v, ceiling=300)
    clear = circle("c", floor=230 + v + 0.01, ceiling=300)
    assert intents_conflict(a.volumes, "T2", touching.volumes, "T2", TABLE)
    assert not intents_conflict(a.volumes, "T2", clear.volumes, "T2", TABLE)


def test_time_gap_equal_to_minimum_conflicts_and_larger_does_not() -> None:
    s = TABLE.for_tier("T2").seconds
    a = circle("a", t=0, dur=100)
    assert intents_conflict(a.volumes, "T2", circle("b", t=100 + s, dur=50).volumes, "T2", TABLE)
    assert not intents_conflict(
        a.volumes, "T2", circle("b", t=100 + s + 0.001, dur=50).volumes, "T2", TABLE
    )


def test_lateral_boundary_is_conservative() -> None:
    lat_m = TABLE.for_tier("T2").lateral_m
    a = circle("a", r=20)
    near = circle("b", east=40 + lat_m - 1.0, r=20)  # gap 1 m under the minimum
    clear = circle("c", east=40 + lat_m + 3.0, r=20)  # gap a few metres over (plus polygon margins)
    assert intents_conflict(a.volumes, "T2", near.volumes, "T2", TABLE)
    assert not intents_conflict(a.volumes, "T2", clear.volumes, "T2", TABLE)
    d = _metric_distance(a.volumes[0].footprint, clear.volumes[0].footprint)
    assert lat_m * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M < d < lat_m + 4.0


def test_conflict_report_says_where_and_when() -> None:
    a = circle("a", t=0, dur=100, floor=200, ceiling=230)
    b = circle("b", east=60, t=50, dur=100, floor=220, ceiling=260, intent_id="b1")
    (c,) = find_conflicts(a.volumes, "T2", 20, [_holder(b)], TABLE)
    m = TABLE.for_tier("T2")
    assert c.other_id == "b1" and c.minima == m
    assert (c.t_start, c.t_end) == (T0 + 50, T0 + 130)  # A's window + 30 s meets B's
    assert (c.floor_m, c.ceiling_m) == (220.0, 260.0)  # A's band + 30 m covers B's
    lat, lon = offset(LAT0, LON0, 30.0, 0.0)  # apart: the middle of the gap between them
    assert abs(c.lat - lat) * 110_000 < 1 and abs(c.lon - lon) * 98_000 < 1
    assert c.distance_m == pytest.approx(60 - 2 * 20.12, abs=0.3) and not c.preemptable
    d = circle("d", east=30, t=50, dur=100, floor=220, ceiling=260)
    (c,) = find_conflicts(a.volumes, "T2", 20, [_holder(d)], TABLE)
    lat, lon = offset(LAT0, LON0, 15.0, 0.0)  # overlapping: the centre of the overlap (a lens)
    assert abs(c.lat - lat) * 110_000 < 1 and abs(c.lon - lon) * 98_000 < 1 and c.distance_m == 0.0


def _reference_conflicts(own: IntentRequest, holders: list[Holder]) -> list[tuple]:
    """Every pair in conflict, by the definition alone: no bounding-box or flat filter."""
    out = []
    for i, a in enumerate(own.volumes):
        c = a.footprint.centroid
        fwd, _ = plane_for(c.x, c.y)
        for h in holders:
            m = TABLE.between(own.tier, h.tier)
            for j, b in enumerate(h.volumes):
                if not (
                    a.floor_m - m.vertical_m <= b.ceiling_m
                    and b.floor_m <= a.ceiling_m + m.vertical_m
                    and a.t_start - m.seconds <= b.t_end
                    and b.t_start <= a.t_end + m.seconds
                ):
                    continue
                pa, pb = to_plane(np.array([a.footprint, b.footprint], dtype=object), fwd)
                d = float(pa.distance(pb))
                if d <= m.lateral_m * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M:
                    out.append((h.id, i, j, d))
    return sorted(out)


@pytest.mark.parametrize("lat0", [LAT0, 61.5])
def test_filters_before_the_exact_test_drop_nothing(lat0: float) -> None:
    """Holders placed all around an intent, a few metres either side of the lateral limit
    (and diagonally, where boxes are loose): the same conflicts as the bare definition."""
    rng = np.random.default_rng(11)
    _, inv = plane_for(LON0, lat0)

    def placed(g: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(g, lambda xy: np.column_stack(inv.transform(xy[:, 0], xy[:, 1])))

    own_pieces = [
        shapely.LineString([(0, 0), (1_500, 600)]).buffer(20.0),
        shapely.Point(-400, 300).buffer(35.0),
    ]
    own = IntentRequest(
        "me", 20, "T2", tuple(Volume4D(placed(g), 200, 240, T0, T0 + 300) for g in own_pieces)
    )
    holders = []
    for n in range(160):
        tier = str(rng.choice(["T1", "T2", "T3", "T4"]))
        limit = TABLE.between("T2", tier).lateral_m * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M
        base = own_pieces[n % 2]
        angle = rng.uniform(0, 2 * math.pi)
        r = float(rng.uniform(5, 60))
        # out from the own footprint's centre until the gap is the limit, plus -3..3 m
        target = limit + float(rng.uniform(-3.0, 3.0)) + r
        c, u = base.centroid, (math.cos(angle), math.sin(angle))
        lo, hi = 0.0, 5_000.0
        for _ in range(60):  # bisection: the distance grows along the ray (convex footprints)
            mid = (lo + hi) / 2
            lo, hi = (
                (mid, hi)
                if base.distance(shapely.Point(c.x + mid * u[0], c.y + mid * u[1])) < target
                else (lo, mid)
            )
        g = shapely.Point(c.x + lo * u[0], c.y + lo * u[1]).buffer(r)
        z = 210.0
        holders.append(
            Holder(
                f"h{n}",
                "op",
                20,
                tier,
                IntentState.ACCEPTED,
                (Volume4D(placed(g), z, z + 30, T0 + 100, T0 + 200),),
            )
        )
    want = _reference_conflicts(own, holders)
    got = sorted(
        (c.other_id, c.volume, c.other_volume, c.distance_m)
        for c in find_conflicts(own.volumes, "T2", 20, holders, TABLE)
    )
    assert [g[:3] for g in got] == [w[:3] for w in want]
    # the kernel's and GEOS's distances differ only by floating-point rounding
    assert [g[3] for g in got] == pytest.approx([w[3] for w in want], abs=1e-6)
    assert 40 < len(want) < 120  # both sides of the limit are exercised


def test_overlapping_footprints_conflict_at_zero_distance() -> None:
    """Holders that overlap the intent's footprints (found without projecting them) are
    the conflicts the bare definition finds, each 0 m away, and each is reported at a
    point inside both footprints."""
    rng = np.random.default_rng(12)
    _, inv = plane_for(LON0, LAT0)

    def placed(g: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(g, lambda xy: np.column_stack(inv.transform(xy[:, 0], xy[:, 1])))

    own = IntentRequest(
        "me",
        20,
        "T2",
        (
            Volume4D(
                placed(shapely.LineString([(0, 0), (1_500, 600)]).buffer(20.0)),
                200,
                240,
                T0,
                T0 + 300,
            ),
        ),
    )
    holders = []
    for n in range(40):
        x = float(rng.uniform(0, 1_500))
        r = float(rng.uniform(10, 60))
        off = float(rng.uniform(-20 - r + 5, 20 + r - 5))  # across the tube, overlapping it
        g = shapely.Point(x - off * 0.371, 0.4 * x + off * 0.928).buffer(r)
        holders.append(
            Holder(
                f"h{n}",
                "op",
                20,
                "T2",
                IntentState.ACCEPTED,
                (Volume4D(placed(g), 210, 240, T0 + 100, T0 + 200),),
            )
        )
    found = find_conflicts(own.volumes, "T2", 20, holders, TABLE)
    want = _reference_conflicts(own, holders)
    assert sorted((c.other_id, c.volume, c.other_volume, c.distance_m) for c in found) == want
    assert len(want) == 40 and all(d == 0.0 for *_, d in want)
    for c in found:
        where = shapely.Point(c.lon, c.lat)
        other = holders[int(c.other_id[1:])].volumes[0].footprint
        assert own.volumes[0].footprint.contains(where) and other.contains(where)


def test_pairs_of_tiers_use_the_stricter_minima() -> None:
    a = circle("a", tier="T1")
    gap = 200.0  # above T1's 50 m, below T3's 300 m
    b = circle("b", east=40 + gap, tier="T3")
    assert intents_conflict(a.volumes, "T1", b.volumes, "T3", TABLE)
    assert not intents_conflict(a.volumes, "T1", circle("b", east=40 + gap).volumes, "T1", TABLE)


def test_separation_table_errors_and_cover_minima() -> None:
    with pytest.raises(SeparationError):
        SeparationMinima(-1, 0, 0)
    with pytest.raises(SeparationError, match="no separation"):
        TABLE.for_tier("T9")
    odd = SeparationTable(
        {
            "A": SeparationMinima(100, 10, 10),
            "B": SeparationMinima(10, 100, 10),
            "C": SeparationMinima(5, 5, 5),
        }
    )
    assert odd.cover_minima("A") == SeparationMinima(100, 100, 10)  # incomparable with B
    assert odd.cover_minima("C") == SeparationMinima(5, 5, 5)  # dominated by both
    assert TABLE.cover_minima("T2") == TABLE.for_tier("T2")


# -- keys --------------------------------------------------------------------------------------


def test_overlap_cells_contain_h3_overlap_cover() -> None:
    vols = route_to_volumes(
        [(LAT0, LON0, 300, T0), (LAT0 + 0.05, LON0 + 0.08, 300, T0 + 900)],
        half_width_m=120.0,
        half_height_m=10.0,
    )
    for res in (7, 8, 9):
        ours = overlap_cells([v.footprint for v in vols], res)
        for v, cells in zip(vols, ours):
            ref = h3.h3shape_to_cells_experimental(
                h3.geo_to_h3shape(v.footprint), res, contain="overlap"
            )
            assert {h3.str_to_int(c) for c in ref} <= set(cells.tolist())
    # a ring with a hole, and two parts
    ring = shapely.Point(LON0, LAT0).buffer(0.05).difference(shapely.Point(LON0, LAT0).buffer(0.03))
    two = shapely.MultiPolygon(
        [
            shapely.box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01),
            shapely.box(LON0 + 0.1, LAT0, LON0 + 0.11, LAT0 + 0.003),
        ]
    )
    for shape in (ring, two):
        (cells,) = overlap_cells([shape], 8)
        ref = h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(shape), 8, contain="overlap")
        assert {h3.str_to_int(c) for c in ref} <= set(cells.tolist())
        assert len(cells) < 1.5 * len(ref) + 20  # a superset, but not a wasteful one


_coord = st.floats(-3_000, 3_000)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ax=_coord,
    ay=_coord,
    bx=_coord,
    by=_coord,
    ar=st.floats(2, 400),
    br=st.floats(2, 400),
    az=st.floats(0, 400),
    bz=st.floats(0, 400),
    at=st.floats(0, 600),
    bt=st.floats(0, 600),
    tiers=st.sampled_from([("T1", "T1"), ("T1", "T2"), ("T2", "T4"), ("T3", "T1")]),
)
def test_conflicting_intents_always_share_a_key(
    ax, ay, bx, by, ar, br, az, bz, at, bt, tiers
) -> None:
    """The index is safe: any conflicting pair has a common key (else it could be missed)."""
    a = circle("a", east=ax, north=ay, r=ar, floor=az, ceiling=az + 30, t=at, dur=90, tier=tiers[0])
    b = circle("b", east=bx, north=by, r=br, floor=bz, ceiling=bz + 30, t=bt, dur=90, tier=tiers[1])
    if intents_conflict(a.volumes, a.tier, b.volumes, b.tier, TABLE):
        ks = KeyScheme()
        ka = ks.keys(a.volumes, TABLE.cover_minima(a.tier))
        kb = ks.keys(b.volumes, TABLE.cover_minima(b.tier))
        assert np.intersect1d(ka, kb).size > 0


def test_keys_are_few_for_a_20_km_route() -> None:
    lat_b, lon_b = offset(LAT0, LON0, 16_000.0, 12_000.0)
    vols = route_to_volumes(
        [(LAT0, LON0, 300, T0), (lat_b, lon_b, 300, T0 + 1_000)],
        half_width_m=20.0,
        half_height_m=15.0,
    )
    keys = KeyScheme().keys(vols, TABLE.for_tier("T2"))
    assert 50 < len(keys) < 1_500
    assert len(np.unique(keys)) == len(keys)


# -- fixes -------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.floats(-400, 400), st.floats(-400, 400), st.floats(-3_000, 3_000), st.floats(20, 900)
        ),
        min_size=1,
        max_size=8,
    ),
    st.floats(120.0, 1_500.0),
)
def test_the_departure_shift_is_the_first_free_delay_found_by_brute_force(
    blockers, max_shift_s
) -> None:
    """Against a plain search over every lattice delay with the exact test (source of
    truth: find_conflicts), for blockers before, across and beyond the delays in range,
    and all around (diagonally, bounding boxes come nearer than the circles)."""
    holders = [
        _holder(
            circle(f"x{n}", east=e, north=nn, t=t, dur=d, floor=200, ceiling=230, intent_id=f"x{n}")
        )
        for n, (e, nn, t, d) in enumerate(blockers)
    ]
    req = circle("me", t=60, dur=120, floor=205, ceiling=225)
    free = [
        60.0 * k
        for k in range(1, int(max_shift_s // 60.0) + 1)
        if not find_conflicts(req.shifted(60.0 * k).volumes, "T2", 20, holders, TABLE)
    ]
    got = free_departure_shift(req, holders, TABLE, step_s=60.0, max_shift_s=max_shift_s)
    assert got == (free[0] if free else None)
    # a delay refused elsewhere (say by a geofence) is skipped: the next free one comes
    if free:
        again = free_departure_shift(
            req, holders, TABLE, step_s=60.0, max_shift_s=max_shift_s, exclude=[free[0]]
        )
        assert again == (free[1] if len(free) > 1 else None)


def test_a_blocker_near_only_by_bounding_box_forbids_no_delay() -> None:
    """A holder diagonal to the intent, 110 m from it (over the 100 m minimum) but with
    bounding boxes 93 m apart, passes the box filter; the exact test clears it, so it
    forbids none of the delays its window spans (brute force agrees)."""
    gap = 110.0 + 2 * 20.12
    blocker = circle(
        "x", east=gap / math.sqrt(2), north=gap / math.sqrt(2), t=0, dur=900, intent_id="x"
    )
    req = circle("me", t=60, dur=120, floor=205, ceiling=225)
    holders = [_holder(blocker)]
    assert not find_conflicts(req.volumes, "T2", 20, holders, TABLE)
    assert free_departure_shift(req, holders, TABLE, step_s=60.0, max_shift_s=600.0) == 60.0


def test_departure_shift_and_altitude_offset_are_free() -> None:
    blocker = circle("x", t=0, dur=300, floor=200, ceiling=230, intent_id="x")
    req = circle("me", t=60, dur=120, floor=205, ceiling=225)
    holders = [_holder(blocker)]
    d = free_departure_shift(req, holders, TABLE, step_s=60.0, max_shift_s=3_600.0)
    assert d == 300.0  # must start > 300 + 30 s after its own start at 60 s: first multiple is 300
    assert not find_conflicts(req.shifted(d).volumes, "T2", 20, holders, TABLE)
    assert find_conflicts(req.shifted(d - 60).volumes, "T2", 20, holders, TABLE)
    dz = free_altitude_offset(req, holders, TABLE, step_m=20.0, max_offset_m=300.0)
    assert dz == 60.0  # needs > 230 + 30 - 205 = 55 m up; down would need 55 m too: up first
    assert not find_conflicts(req.raised(dz).volumes, "T2", 20, holders, TABLE)
    assert free_departure_shift(req, holders, TABLE, step_s=60.0, max_shift_s=120.0) is None
    # a terrain limit from the caller: nothing below min_offset_m (closed)
    assert free_altitude_offset(req, holders, TABLE, step_m=20.0, min_offset_m=60.0) == 60.0
    assert free_altitude_offset(req, holders, TABLE, step_m=20.0, min_offset_m=61.0) == 80.0
    assert (
        free_altitude_offset(
            req, holders, TABLE, step_m=20.0, max_offset_m=300.0, min_offset_m=301.0
        )
        is None
    )
