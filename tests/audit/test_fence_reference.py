"""The vectorised geofence rule against a slow, plainly correct shapely reference."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.geofences.model import Geofence, Limit
from airgrid.audit.fence_rule import fence_violations
from tests.audit.conftest import T0, fixes


def _fences(seed: int, n: int) -> list[Geofence]:
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        cx, cy = rng.uniform(112.0, 112.1), rng.uniform(28.0, 28.1)
        k = int(rng.integers(3, 9))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = rng.uniform(0.002, 0.03, k)
        ring = np.column_stack([cx + r * np.cos(ang), cy + r * np.sin(ang)])
        if not shapely.Polygon(ring).is_valid:
            continue
        lo = float(rng.uniform(0, 300))
        out.append(
            Geofence(f"P{len(out)}", Limit(lo), Limit(lo + 200), polygon=tuple(map(tuple, ring)))
        )
    return out


def _reference(fences, lat, lon, alt, t):
    """(fence, first entry time) of every fence the straight track meets in its band."""
    out = {}
    for f, g in enumerate(fences):
        lo, hi = g.amsl_band(None)
        if not lo <= alt <= hi:
            continue
        for k in range(len(t) - 1):
            a, b = (lon[k], lat[k]), (lon[k + 1], lat[k + 1])
            seg = shapely.LineString([a, b]) if a != b else shapely.Point(a)
            inter = seg.intersection(g.footprint)
            if inter.is_empty:
                continue
            xy = shapely.get_coordinates(inter)
            d = np.hypot(xy[:, 0] - a[0], xy[:, 1] - a[1]).min()
            length = np.hypot(b[0] - a[0], b[1] - a[1])
            out[f] = t[k] + (t[k + 1] - t[k]) * (d / length if length else 0.0)
            break
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    n_fix=st.integers(2, 8),
    alt=st.floats(0, 600),
    step=st.sampled_from([0.0005, 0.004, 0.02]),
)
def test_geofence_rule_matches_shapely(make_tracks, seed, n_fix, alt, step):
    rng = np.random.default_rng(seed)
    fences = _fences(seed, 12)
    lon = 112.05 + np.cumsum(rng.uniform(-step, step, n_fix)) + rng.uniform(-0.05, 0.05)
    lat = 28.05 + np.cumsum(rng.uniform(-step, step, n_fix)) + rng.uniform(-0.05, 0.05)
    t = T0 + np.cumsum(rng.uniform(0.5, 5.0, n_fix))
    tracks = make_tracks(fixes("H", t, lat, lon, alt), dem=False)
    fence, runs = fence_violations(GeofenceIndex(fences), tracks)
    want = _reference(fences, lat, lon, alt, t)
    got: dict[int, float] = {}
    for f, t0 in zip(fence.tolist(), runs.t0.tolist()):
        got[f] = min(got.get(f, np.inf), t0)
    assert set(got) == set(want)
    for f, t_in in want.items():
        assert abs(got[f] - t_in) < 1e-6 * max(1.0, t[-1] - t[0])
