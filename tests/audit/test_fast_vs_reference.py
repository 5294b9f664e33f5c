"""The audit's fast path against plain slow references (shapely per point and per segment).

Random tracks climb and descend, so fences are met between fixes through their band as
well as through their footprint's boundary; random intent volumes are checked per fix.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.geofences.model import Geofence, Limit
from airgrid.airspace.geofences.schedule import Validity
from airgrid.airspace.grid.tiers import TierTable
from airgrid.airspace.traffic.models import FlightIntent, IntentState
from airgrid.audit.audit import audit_tracks
from airgrid.audit.fence_rule import fence_violations
from airgrid.audit.tracks import AltRef
from airgrid.geo.volumes import Volume4D
from airgrid.terrain import box_ground_bounds
from tests.audit.conftest import SQUARE, T0, fixes
from tests.audit.test_fence_reference import _fences


def _within(a0: float, a1: float, lo: float, hi: float) -> tuple[float, float] | None:
    """Parameters ``s`` in [0, 1] where ``a0 + (a1 - a0) s`` is in [lo, hi]."""
    if a0 == a1:
        return (0.0, 1.0) if lo <= a0 <= hi else None
    s = sorted(((lo - a0) / (a1 - a0), (hi - a0) / (a1 - a0)))
    s0, s1 = max(s[0], 0.0), min(s[1], 1.0)
    return (s0, s1) if s0 <= s1 else None


def _horizontal(seg: shapely.Geometry, fp: shapely.Geometry, a, length: float) -> list:
    """Parameter ranges of the segment inside the footprint (boundary included)."""
    inter = seg.intersection(fp)
    out = []
    for part in shapely.get_parts(inter):
        if part.is_empty:
            continue
        xy = shapely.get_coordinates(part)
        d = np.hypot(xy[:, 0] - a[0], xy[:, 1] - a[1]) / (length or 1.0)
        out.append((float(d.min()), float(d.max())))
    return out


def _reference(fences, lat, lon, alt, t) -> dict[int, float]:
    """(fence -> first entry time) of every fence the straight 4D track meets in its band."""
    out: dict[int, float] = {}
    for f, g in enumerate(fences):
        lo, hi = g.amsl_band(None)
        for k in range(len(t) - 1):
            a, b = (lon[k], lat[k]), (lon[k + 1], lat[k + 1])
            seg = shapely.LineString([a, b]) if a != b else shapely.Point(a)
            vert = _within(alt[k], alt[k + 1], lo, hi)
            if vert is None:
                continue
            length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
            starts = [
                max(h0, vert[0])
                for h0, h1 in _horizontal(seg, g.footprint, a, length)
                if max(h0, vert[0]) <= min(h1, vert[1])
            ]
            if starts:
                out[f] = t[k] + (t[k + 1] - t[k]) * min(starts)
                break
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    n_fix=st.integers(2, 8),
    step=st.sampled_from([0.0005, 0.004, 0.02]),
)
def test_climbing_tracks_meet_the_fences_shapely_finds(make_tracks, seed, n_fix, step):
    rng = np.random.default_rng(seed)
    fences = _fences(seed, 12)
    lon = 112.05 + np.cumsum(rng.uniform(-step, step, n_fix)) + rng.uniform(-0.05, 0.05)
    lat = 28.05 + np.cumsum(rng.uniform(-step, step, n_fix)) + rng.uniform(-0.05, 0.05)
    alt = rng.uniform(0, 700, n_fix)
    t = T0 + np.cumsum(rng.uniform(0.5, 5.0, n_fix))
    tracks = make_tracks(fixes("C", t, lat, lon, alt), dem=False)
    fence, runs = fence_violations(GeofenceIndex(fences), tracks)
    want = _reference(fences, lat, lon, alt, t)
    got: dict[int, float] = {}
    for f, t0 in zip(fence.tolist(), runs.t0.tolist()):
        got[f] = min(got.get(f, np.inf), t0)
    assert set(got) == set(want)
    for f, t_in in want.items():
        assert abs(got[f] - t_in) < 1e-6 * max(1.0, t[-1] - t[0])


def _volumes(rng: np.random.Generator, n: int) -> tuple[Volume4D, ...]:
    out = []
    while len(out) < n:
        cx, cy = rng.uniform(112.0, 112.1), rng.uniform(28.0, 28.1)
        k = int(rng.integers(3, 7))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = rng.uniform(0.005, 0.05, k)
        fp = shapely.Polygon(np.column_stack([cx + r * np.cos(ang), cy + r * np.sin(ang)]))
        if rng.random() < 0.3:
            fp = shapely.box(cx - 0.02, cy - 0.02, cx + 0.02, cy + 0.02)
        if not fp.is_valid:
            continue
        lo = float(rng.uniform(0, 400))
        t0 = T0 + float(rng.uniform(0, 20))
        out.append(Volume4D(fp, lo, lo + float(rng.uniform(50, 400)), t0, t0 + 30.0))
    return tuple(out)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), n_fix=st.integers(1, 30), n_vol=st.integers(1, 4))
def test_nonconformance_matches_shapely_per_fix(make_tracks, seed, n_fix, n_vol):
    rng = np.random.default_rng(seed)
    vols = _volumes(rng, n_vol)
    lon = 112.05 + np.cumsum(rng.uniform(-0.01, 0.01, n_fix))
    lat = 28.05 + np.cumsum(rng.uniform(-0.01, 0.01, n_fix))
    alt = rng.uniform(0, 800, n_fix)
    t = T0 + np.cumsum(rng.uniform(0.5, 3.0, n_fix))
    intent = FlightIntent("I", "Op", 10, "T1", vols, IntentState.ACTIVATED)
    tracks = make_tracks(fixes("N", t, lat, lon, alt, intent_id="I"), dem=False)
    v, _ = audit_tracks(tracks, index=None, tiers=TierTable(), intents={"I": intent})
    ok = np.array(
        [
            any(
                shapely.intersects(vol.footprint, shapely.Point(x, y))
                and vol.floor_m <= a <= vol.ceiling_m
                and vol.t_start <= tt <= vol.t_end
                for vol in vols
            )
            for x, y, a, tt in zip(lon, lat, alt, t)
        ]
    )
    want = []
    k = 0
    while k < n_fix:
        if ok[k]:
            k += 1
            continue
        e = k
        while e + 1 < n_fix and not ok[e + 1]:
            e += 1
        want.append((t[k], t[e]))
        k = e + 1
    non = v[v["rule"] == "nonconformance"]
    assert list(zip(non["t_first"], non["t_last"])) == want
    assert (non["certainty"] == "certain").all()


# -- crossings of a band or a schedule wholly between two fixes --------------------------------
def _band_fence(lo: float, hi: float, validity: Validity | None = None) -> Geofence:
    return Geofence("BAND", Limit(lo), Limit(hi), polygon=SQUARE, validity=validity or Validity())


def test_band_wholly_between_two_fixes_is_entered(make_tracks):
    # both fixes deep inside the footprint, one under the band and one over it
    tr = make_tracks(fixes("V", [T0, T0 + 10], [28.11, 28.11], [112.91, 112.91], [50.0, 250.0]))
    fence, runs = fence_violations(GeofenceIndex([_band_fence(100.0, 150.0)]), tr)
    assert fence.tolist() == [0]
    assert runs.t0[0] == pytest.approx(T0 + 2.5) and runs.t1[0] == pytest.approx(T0 + 5.0)
    assert bool(runs.certain[0])


def test_active_window_wholly_between_two_fixes_is_entered(make_tracks):
    window = Validity(start=T0 + 3, end=T0 + 5)
    tr = make_tracks(fixes("W", [T0, T0 + 10], [28.11, 28.11], [112.905, 112.915], 500.0))
    fence, runs = fence_violations(GeofenceIndex([_band_fence(0.0, 3000.0, window)]), tr)
    assert fence.tolist() == [0]
    assert (runs.t0[0], runs.t1[0]) == pytest.approx((T0 + 3, T0 + 5))


def test_band_inside_the_altitude_interval_of_agl_fixes_is_possible(make_tracks, real_dem):
    lo, hi, _ = box_ground_bounds(real_dem, [112.91], [28.11], [112.91], [28.11])
    assert hi[0] - lo[0] > 10
    mid = (lo[0] + hi[0]) / 2 + 80.0  # the fixes' AMSL interval is [lo + 80, hi + 80]
    tr = make_tracks(fixes("A", [T0, T0 + 1, T0 + 2], [28.11] * 3, [112.91] * 3, 80.0, AltRef.AGL))
    assert tr.amsl_lo[0] < mid - 2 and mid + 2 < tr.amsl_hi[0]
    fence, runs = fence_violations(GeofenceIndex([_band_fence(mid - 2, mid + 2)]), tr)
    assert fence.tolist() == [0]
    assert (runs.t0[0], runs.t1[0]) == (T0, T0 + 2)
    assert not bool(runs.certain[0])
