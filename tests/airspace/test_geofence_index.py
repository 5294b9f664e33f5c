"""GeofenceIndex: points, tracks and volumes against brute-force shapely."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airgrid.airspace.errors import GeofenceError
from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.geofences.model import Circle, Geofence, Limit
from airgrid.airspace.geofences.schedule import DailyPeriod, Validity
from airgrid.data import DEFAULT_DEM
from airgrid.geo.volumes import Volume4D
from airgrid.terrain import Dem

T0 = datetime(2025, 3, 3, tzinfo=UTC).timestamp()  # a Monday
_CACHE: dict = {}


def random_fences(seed: int, n: int = 60) -> list[Geofence]:
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        i = len(out)
        cx, cy = rng.uniform(112.0, 113.0), rng.uniform(27.5, 28.5)
        lo = float(rng.uniform(0, 500))
        kind = i % 4
        validity = Validity()
        if kind == 1:
            validity = Validity(
                start=T0 + rng.uniform(0, 86400), end=T0 + rng.uniform(86400, 3 * 86400)
            )
        elif kind == 2:
            validity = Validity(daily=(DailyPeriod.from_strings(["MON", "WED"], "22:00", "03:00"),))
        if kind == 3:
            out.append(
                Geofence(
                    f"C{i}",
                    Limit(lo),
                    Limit(lo + rng.uniform(10, 800)),
                    circle=Circle(cx, cy, float(rng.uniform(200, 15_000))),
                    validity=validity,
                )
            )
            continue
        k = int(rng.integers(3, 30))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = rng.uniform(0.005, 0.15, k)
        ring = np.column_stack([cx + r * np.cos(ang), cy + r * np.sin(ang)])
        if not shapely.LinearRing(ring).is_simple:
            continue
        out.append(
            Geofence(
                f"P{i}",
                Limit(lo),
                Limit(lo + rng.uniform(10, 800)),
                polygon=tuple(map(tuple, ring)),
                validity=validity,
            )
        )
    return out


def brute_points(fences, lat, lon, alt, t):
    pts = shapely.points(lon, lat)
    pairs = set()
    for f, g in enumerate(fences):
        lo, hi = g.amsl_band(None)
        inside = np.flatnonzero(shapely.covers(g.footprint, pts) & (alt >= lo) & (alt <= hi))
        for i in inside.tolist():
            if t is None or g.is_active(float(t[i])):
                pairs.add((i, f))
    return pairs


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), bin_m=st.sampled_from([150.0, 500.0, 3000.0]))
def test_points_match_brute_force(seed, bin_m):
    fences = random_fences(seed)
    idx = GeofenceIndex(fences, bin_m=bin_m)
    rng = np.random.default_rng(seed + 1)
    n = 20_000
    lat, lon = rng.uniform(27.3, 28.7, n), rng.uniform(111.8, 113.2, n)
    alt, t = rng.uniform(0, 1400, n), T0 + rng.uniform(-86400, 5 * 86400, n)
    p, f = idx.check_points(lat, lon, alt, t)
    assert set(zip(p.tolist(), f.tolist())) == brute_points(fences, lat, lon, alt, t)
    assert (np.diff(p) >= 0).all()
    p2, f2 = idx.check_points(lat, lon, alt)  # no time: every fence counts
    assert set(zip(p2.tolist(), f2.tolist())) == brute_points(fences, lat, lon, alt, None)
    # the parallel kernel agrees; tiny chunks overflow their buffers and take the exact-size path
    for chunks in (None, n):
        p3, f3 = idx.check_points(lat, lon, alt, t, parallel=True, chunks=chunks)
        np.testing.assert_array_equal(p3, p)
        np.testing.assert_array_equal(f3, f)


def test_points_on_edges_and_vertices_count_as_inside():
    poly = (
        (112.0, 28.0),
        (112.1, 28.0),
        (112.13, 28.07),
        (112.05, 28.1),
        (112.0, 28.06),
    )  # counter-clockwise
    fence = Geofence("E", Limit(0.0), Limit(500.0), polygon=poly)
    idx = GeofenceIndex([fence], bin_m=500.0)
    ring = np.array(poly + poly[:1])
    on = np.array(
        [a + s * (b - a) for a, b in itertools.pairwise(ring) for s in np.linspace(0, 1, 11)]
    )
    p, _ = idx.check_points(on[:, 1], on[:, 0], np.full(len(on), 100.0))
    assert set(p.tolist()) == set(
        range(len(on))
    )  # every vertex and edge point, horizontal edge included
    d = ring[1:] - ring[:-1]
    normal = np.column_stack([d[:, 1], -d[:, 0]]) / np.hypot(d[:, 0], d[:, 1])[:, None]
    out = (ring[:-1] + ring[1:]) / 2 + 1e-6 * normal  # 0.1 m outside each edge's middle
    assert not shapely.covers(fence.footprint, shapely.points(out[:, 0], out[:, 1])).any()
    p_out, _ = idx.check_points(out[:, 1], out[:, 0], np.full(len(out), 100.0))
    assert len(p_out) == 0


def test_overlapping_fences_give_every_identity():
    sq = ((112.0, 28.0), (112.1, 28.0), (112.1, 28.1), (112.0, 28.1))
    fences = [Geofence(f"S{i}", Limit(0.0), Limit(100.0 + i), polygon=sq) for i in range(5)]
    idx = GeofenceIndex(fences)
    assert [g.identifier for g in idx.check_point(28.05, 112.05, 50.0, T0)] == [
        "S0",
        "S1",
        "S2",
        "S3",
        "S4",
    ]
    assert [g.identifier for g in idx.check_point(28.05, 112.05, 102.5, T0)] == ["S3", "S4"]
    assert idx.check_point(28.05, 112.15, 50.0, T0) == []
    assert idx.check_point(40.0, 100.0, 50.0, T0) == []
    with pytest.raises(GeofenceError):
        idx.check_points(np.array([np.nan]), np.array([112.0]), np.array([1.0]))
    with pytest.raises(GeofenceError):
        idx.check_points(np.array([28.0, 28.1]), np.array([112.0]), np.array([1.0]))
    # a batch where every point is in all five fences overflows the first buffer
    many = np.full(1000, 28.05)
    p, _f = idx.check_points(many, many + 84.0, np.full(1000, 10.0), T0)
    assert len(p) == 5000 and (np.bincount(p) == 5).all()


def test_true_height_fences_over_real_terrain():
    d = Dem.open(DEFAULT_DEM)
    area = ((110.48, 29.32), (110.55, 29.32), (110.55, 29.38), (110.48, 29.38))  # Wulingyuan
    agl = Geofence("AGL", Limit(0.0, "AGL"), Limit(120.0, "AGL"), polygon=area)
    amsl = Geofence("AMSL", Limit(0.0), Limit(120.0), polygon=area)
    idx = GeofenceIndex([agl, amsl], dem=d)
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(29.321, 29.379, 500), rng.uniform(110.481, 110.549, 500)
    ground = d.elevation(lat, lon)
    assert ground.min() > 300
    p, f = idx.check_points(lat, lon, ground + rng.uniform(0, 120, 500), T0)
    assert set(p[f == 0].tolist()) == set(range(500)) and not (f == 1).any()
    p, f = idx.check_points(lat, lon, np.full(500, 60.0), T0)
    assert set(p[f == 1].tolist()) == set(range(500))
    p, f = idx.check_points(lat, lon, ground + 6000.0, T0)
    assert len(p) == 0
    hits = idx.check_volume(Volume4D(shapely.Polygon(area), 500.0, 900.0, T0, T0 + 60))
    assert [h.geofence.identifier for h in hits] == ["AGL"]


def test_segment_entry_and_exit():
    sq = ((112.0, 28.0), (112.2, 28.0), (112.2, 28.2), (112.0, 28.2))
    g = Geofence("SQ", Limit(0.0), Limit(500.0), polygon=sq)
    idx = GeofenceIndex([g])
    (h,) = idx.check_segment((28.1, 111.9, 100.0, T0), (28.1, 112.3, 100.0, T0 + 400))
    assert h.entry.lon == pytest.approx(112.0) and h.exit.lon == pytest.approx(112.2)
    assert h.entry.t == pytest.approx(T0 + 100) and h.exit.t == pytest.approx(T0 + 300)
    # climbing out of the band: exit where the altitude reaches 500 m
    (h,) = idx.check_segment((28.1, 111.9, 100.0, T0), (28.1, 112.3, 900.0, T0 + 400))
    assert h.exit.alt_m == pytest.approx(500.0) and h.exit.lon == pytest.approx(112.1)
    # above the band, or before a timed fence is active: nothing
    assert idx.check_segment((28.1, 111.9, 600.0, T0), (28.1, 112.3, 600.0, T0 + 400)) == []
    timed = Geofence(
        "TM", Limit(0.0), Limit(500.0), polygon=sq, validity=Validity(start=T0 + 200, end=T0 + 250)
    )
    (h,) = GeofenceIndex([timed]).check_segment(
        (28.1, 111.9, 100.0, T0), (28.1, 112.3, 100.0, T0 + 400)
    )
    assert (h.entry.t, h.exit.t) == (pytest.approx(T0 + 200), pytest.approx(T0 + 250))
    # hovering inside
    (h,) = idx.check_segment((28.1, 112.1, 100.0, T0), (28.1, 112.1, 120.0, T0 + 60))
    assert h.entry.t == T0 and h.exit.t == T0 + 60


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_tracks_match_dense_brute_force_sampling(seed):
    fences = random_fences(seed, 30)
    idx = GeofenceIndex(fences)
    rng = np.random.default_rng(seed + 7)
    k = 8
    pts = np.column_stack(
        [
            rng.uniform(27.4, 28.6, k),
            rng.uniform(111.9, 113.1, k),
            rng.uniform(0, 1200, k),
            T0 + np.cumsum(rng.uniform(600, 40_000, k)),
        ]
    )
    hits = idx.check_track([tuple(p) for p in pts])
    # dense samples along the track, decided by brute force
    s = np.linspace(0, 1, 400)
    for a, b in itertools.pairwise(pts):
        smp = a[None, :] + s[:, None] * (b - a)[None, :]
        truth = brute_points(fences, smp[:, 0], smp[:, 1], smp[:, 2], smp[:, 3])
        for i, f in truth:
            tt = smp[i, 3]
            assert any(h.fence == f and h.entry.t - 1e-6 <= tt <= h.exit.t + 1e-6 for h in hits), (
                i,
                f,
            )
    # every reported stretch is really inside at its middle
    for h in hits:
        mid_t = (h.entry.t + h.exit.t) / 2
        seg = int(np.searchsorted(pts[:, 3], mid_t, side="right") - 1)
        seg = min(max(seg, 0), k - 2)
        a, b = pts[seg], pts[seg + 1]
        q = a + (mid_t - a[3]) / (b[3] - a[3]) * (b - a)
        g = fences[h.fence]
        lo, hi = g.amsl_band(None)
        assert g.footprint.buffer(1e-9).covers(shapely.Point(q[1], q[0]))
        assert lo - 1e-6 <= q[2] <= hi + 1e-6 and h.entry_segment <= seg <= h.exit_segment


def test_track_passages_are_joined_across_waypoints():
    sq = ((112.0, 28.0), (112.2, 28.0), (112.2, 28.2), (112.0, 28.2))
    idx = GeofenceIndex([Geofence("SQ", Limit(0.0), Limit(500.0), polygon=sq)])
    track = [
        (28.1, 111.9, 100.0, T0),
        (28.1, 112.1, 100.0, T0 + 100),
        (28.15, 112.1, 100.0, T0 + 200),
        (28.15, 112.3, 100.0, T0 + 300),
        (28.15, 112.1, 100.0, T0 + 400),
    ]
    h1, h2 = idx.check_track(track)
    assert (h1.entry_segment, h1.exit_segment) == (0, 2) and h1.exit.lon == pytest.approx(112.2)
    assert h2.entry_segment == 3 and h2.exit.t == T0 + 400
    with pytest.raises(GeofenceError):
        idx.check_track(track[:1])
    with pytest.raises(GeofenceError):
        idx.check_segment(track[1], track[0])


def test_volume_checks():
    fences = random_fences(11, 40)
    idx = GeofenceIndex(fences)
    rng = np.random.default_rng(5)
    volumes, wanted = [], []
    for _ in range(50):
        c = shapely.Point(rng.uniform(112, 113), rng.uniform(27.5, 28.5)).buffer(
            rng.uniform(0.001, 0.1)
        )
        lo = float(rng.uniform(0, 1200))
        ts = T0 + float(rng.uniform(0, 4 * 86400))
        v = Volume4D(
            c, lo, lo + float(rng.uniform(1, 300)), ts, ts + float(rng.uniform(60, 20_000))
        )
        got = {h.fence for h in idx.check_volume(v)}
        want = set()
        for f, g in enumerate(fences):
            glo, ghi = g.amsl_band(None)
            if (
                c.intersects(g.footprint)
                and max(glo, v.floor_m) <= min(ghi, v.ceiling_m)
                and g.active_intervals(v.t_start, v.t_end)
            ):
                want.add(f)
        assert got == want
        volumes.append(v)
        wanted += [(len(volumes) - 1, f) for f in sorted(want)]
    # all at once: the same hits, ordered by volume then fence
    assert [(i, h.fence) for i, h in idx.check_volumes(volumes)] == wanted
    assert wanted  # some volumes meet fences
    sq = ((112.0, 28.0), (112.2, 28.0), (112.2, 28.2), (112.0, 28.2))
    g = Geofence(
        "SQ", Limit(0.0), Limit(500.0), polygon=sq, validity=Validity(start=T0 + 100, end=T0 + 200)
    )
    (h,) = GeofenceIndex([g]).check_volume(
        Volume4D(shapely.box(112.1, 28.1, 112.3, 28.3), 400, 800, T0, T0 + 150)
    )
    assert (h.floor_m, h.ceiling_m, h.intervals) == (400.0, 500.0, ((T0 + 100, T0 + 150),))
    assert h.where.equals(shapely.box(112.1, 28.1, 112.2, 28.2))
