"""Geofence point checks per second, with geofence identities: GeofenceIndex vs shapely STRtree.

Fences: the 12 default Hunan airport zones (0-1000 m true height, resolved on the
shipped 30-arc-second DEM) plus 1000 random simple polygons over Hunan (3-40 vertices, 1-20 km
across, random AMSL bands). Points: 1,000,000 uniform over Hunan's bounding box, altitude
0-1500 m AMSL, times over one week.

Baseline: what a user would write with shapely alone: ``STRtree.query(points,
predicate="within")`` (horizontal identities), then a numpy altitude filter with each
fence's band. Our index answers with horizontal, altitude and time tests in one pass.
Both answers are compared (ours resolves true-height limits per 1 km bin, the baseline
per fence, so ours must be a subset of the baseline's pairs and equal on AMSL fences).

Run: ``.venv/bin/python benchmarks/geofences.py``
"""

from __future__ import annotations

import time

import numba as nb
import numpy as np
import shapely

from airgrid.airspace.geofences.airports import airport_zones
from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.geofences.model import Geofence, Limit
from airgrid.airspace.geofences.schedule import DailyPeriod, Validity
from airgrid.data import DEFAULT_DEM
from airgrid.terrain import Dem

N_POINTS = 1_000_000
N_RANDOM = 1000
T0 = 1_740_960_000.0  # 2025-03-03 00:00 UTC


def random_polygons(rng: np.random.Generator, n: int, *, timed: bool = False) -> list[Geofence]:
    out: list[Geofence] = []
    while len(out) < n:
        cx, cy = rng.uniform(109.0, 114.0), rng.uniform(25.0, 29.8)
        k = int(rng.integers(3, 41))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = rng.uniform(0.005, 0.1, k)
        ring = np.column_stack([cx + r * np.cos(ang), cy + r * np.sin(ang)])
        if not shapely.LinearRing(ring).is_simple:
            continue
        lo = float(rng.uniform(0, 800))
        validity = Validity()
        if timed and len(out) % 5 == 0:
            validity = Validity(
                daily=(
                    DailyPeriod.from_strings(["MON", "TUE", "WED", "THU", "FRI"], "08:00", "18:00"),
                )
            )
        out.append(
            Geofence(
                f"R{len(out)}",
                Limit(lo),
                Limit(lo + float(rng.uniform(50, 700))),
                polygon=tuple(map(tuple, ring)),
                validity=validity,
            )
        )
    return out


def best_rate(fn, n: int, repeats: int = 5) -> tuple[float, object]:
    best = float("inf")
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return n / best, out


def main() -> None:
    rng = np.random.default_rng(2025)
    dem = Dem.open(DEFAULT_DEM)
    fences = airport_zones() + random_polygons(rng, N_RANDOM)
    t0 = time.perf_counter()
    index = GeofenceIndex(fences, dem=dem, bin_m=1000.0)
    stats = index.stats  # builds the bins (done lazily, on the first point check)
    build_s = time.perf_counter() - t0
    lat = rng.uniform(24.63, 30.13, N_POINTS)
    lon = rng.uniform(108.78, 114.26, N_POINTS)
    alt = rng.uniform(0.0, 1500.0, N_POINTS)
    t = T0 + rng.uniform(0.0, 7 * 86400.0, N_POINTS)

    index.check_points(lat[:1000], lon[:1000], alt[:1000], t[:1000])  # JIT warm-up
    ours_rate, (p, f) = best_rate(lambda: index.check_points(lat, lon, alt, t), N_POINTS)
    threads = nb.get_num_threads()
    index.check_points(lat[:1000], lon[:1000], alt[:1000], t[:1000], parallel=True)
    ours_par, (pp, fp) = best_rate(
        lambda: index.check_points(lat, lon, alt, t, parallel=True), N_POINTS
    )
    assert np.array_equal(pp, p) and np.array_equal(fp, f)

    tree = shapely.STRtree([g.footprint for g in fences])
    bands = np.array([g.amsl_band(dem) for g in fences])

    def baseline():
        pts = shapely.points(lon, lat)
        qp, qf = tree.query(pts, predicate="within")
        keep = (alt[qp] >= bands[qf, 0]) & (alt[qp] <= bands[qf, 1])
        return qp[keep], qf[keep]

    pts = shapely.points(lon, lat)
    query_rate, _ = best_rate(lambda: tree.query(pts, predicate="within"), N_POINTS, repeats=3)
    base_rate, (bp, bf) = best_rate(baseline, N_POINTS, repeats=3)

    ours = set(zip(p.tolist(), f.tolist()))
    base = set(zip(bp.tolist(), bf.tolist()))
    amsl = {i for i, g in enumerate(fences) if not g.uses_terrain}
    agree_amsl = {x for x in ours if x[1] in amsl} == {x for x in base if x[1] in amsl}

    timed = airport_zones() + random_polygons(np.random.default_rng(2025), N_RANDOM, timed=True)
    tindex = GeofenceIndex(timed, dem=dem, bin_m=1000.0)
    tindex.check_points(lat[:1000], lon[:1000], alt[:1000], t[:1000])
    timed_rate, _ = best_rate(lambda: tindex.check_points(lat, lon, alt, t), N_POINTS)

    print(
        f"fences: {len(fences)} ({len(fences) - N_RANDOM} airport zones + {N_RANDOM} random polygons); "
        f"points: {N_POINTS:,}; numba threads: {threads}"
    )
    print(f"index build (bins, per-bin terrain bands): {build_s:.2f} s; {stats}")
    print(
        f"hits: ours {len(ours):,} pairs, baseline {len(base):,} pairs; ours subset of baseline: "
        f"{ours <= base}; identical on AMSL fences: {agree_amsl}"
    )
    print(
        f"GeofenceIndex.check_points (alt + time + identities): {ours_rate / 1e6:8.2f} M points/s "
        f"(serial kernel, the default); parallel=True on {threads} threads: {ours_par / 1e6:.2f} M/s"
    )
    print(
        f"  same, 20% of fences with weekday daily periods:    {timed_rate / 1e6:8.2f} M points/s"
    )
    print(
        f"shapely STRtree.query(points, 'within') alone:        {query_rate / 1e6:8.2f} M points/s"
    )
    print(
        f"shapely STRtree.query + altitude filter (baseline):   {base_rate / 1e6:8.2f} M points/s"
    )
    print(
        f"ratio ours / baseline: {ours_rate / base_rate:.1f}x; ours / STRtree.query alone: "
        f"{ours_rate / query_rate:.1f}x; goal >= 5 M/s: {'met' if ours_rate >= 5e6 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
