"""Density analytics: intents per second, ours against a pandas/shapely baseline.

Traffic: ``--intents`` (default 100,000) T2 delivery flights over one day around the
prefecture cities of Hunan (departures weighted by GeoNames population, within 25 km of
the place), each a route of 2-15 km cut into pieces of at most 2 km, every piece a tube
of 30 m half-width for its own 2 minutes (what
:func:`~airgrid.airspace.traffic.route_volumes.route_to_volumes` makes of a route).
Window: the day in 15-minute bins, T2 cells (H3 resolution 9).

Ours: :func:`~airgrid.analytics.density.density` (Numba lattice apportioning, NumPy and
pandas) and :func:`~airgrid.analytics.hotspots.assess` (capacity, hotspots, suggestions).

Baseline: what a user would write with h3 and shapely: per volume the H3 overlap cover
(``h3shape_to_cells_experimental``, ``contain="overlap"``), the exact intersection
areas with every covering hexagon (vectorised shapely), then pandas for bins and counts.
It is run on a sample (``--baseline-intents``, default 2,000) and its rate quoted per
intent; our apportioning is compared with it on that sample (counts and total
volume-seconds).

Run: ``.venv/bin/python benchmarks/analytics.py [--intents N] [--runs R]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import h3
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from airgrid.airspace.grid.tiers import TierTable
from airgrid.analytics.apportion import footprint_areas_m2
from airgrid.analytics.capacity import CapacityTable, Places
from airgrid.analytics.density import Traffic, Window, density
from airgrid.analytics.hotspots import assess
from airgrid.data import DEFAULT_TIER_FILE

DAY = 1_956_528_000.0  # 2032-01-01 00:00 UTC
HALF_WIDTH_M = 30.0
SPEED_MS = 15.0


def traffic_day(n: int, seed: int = 0) -> Traffic:
    """``n`` routes as tube pieces (see the module docstring)."""
    rng = np.random.default_rng(seed)
    places = Places.read()
    big = places.population >= 50_000
    w = places.population[big] / places.population[big].sum()
    pick = rng.choice(np.flatnonzero(big), n, p=w)
    r_km, ang = 25 * np.sqrt(rng.random(n)), rng.uniform(0, 2 * np.pi, n)
    lat0 = places.lat[pick] + r_km * np.sin(ang) / 111.0
    lon0 = places.lon[pick] + r_km * np.cos(ang) / (111.0 * np.cos(np.radians(lat0)))
    length_m = rng.uniform(2_000, 15_000, n)
    heading = rng.uniform(0, 2 * np.pi, n)
    pieces = np.ceil(length_m / 2_000).astype(np.int64)
    owner = np.repeat(np.arange(n), pieces)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    step = (length_m / pieces)[owner]
    dx, dy = np.cos(heading)[owner] * step, np.sin(heading)[owner] * step
    m_lat = 111_320.0
    m_lon = m_lat * np.cos(np.radians(lat0[owner]))
    x0, y0 = lon0[owner] + k * dx / m_lon, lat0[owner] + k * dy / m_lat
    x1, y1 = x0 + dx / m_lon, y0 + dy / m_lat
    lines = shapely.linestrings(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], 1))
    fps = shapely.buffer(lines, HALF_WIDTH_M / m_lat, quad_segs=4)
    depart = DAY + rng.beta(2.2, 2.2, n) * 80_000  # a daily curve peaking at midday
    t0 = depart[owner] + k * step / SPEED_MS
    return Traffic(owner, fps, np.full(len(owner), 240.0), np.full(len(owner), 280.0), t0,
                   t0 + step / SPEED_MS)  # fmt: skip


def baseline(traffic: Traffic, res: int, window: Window) -> pd.DataFrame:
    """Counts and volume-seconds per (cell, bin) with h3 covers and shapely intersections."""
    vol, cells = [], []
    for i, fp in enumerate(traffic.footprint):
        cover = h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(mapping(fp)), res, "overlap")
        vol += [i] * len(cover)
        cells += cover
    uniq = sorted(set(cells))
    hexes = shapely.polygons([[(b, a) for a, b in h3.cell_to_boundary(c)] for c in uniq])
    at = {c: j for j, c in enumerate(uniq)}
    codes = np.array([h3.str_to_int(c) for c in uniq], np.int64)
    vi = np.array(vol)
    hi = np.array([at[c] for c in cells])
    scale = footprint_areas_m2(traffic.footprint) / shapely.area(traffic.footprint)
    area = shapely.area(shapely.intersection(traffic.footprint[vi], hexes[hi])) * scale[vi]
    df = pd.DataFrame({"owner": traffic.owner[vi], "cell": codes[hi], "area": area,
                       "t0": traffic.t_start[vi], "t1": traffic.t_end[vi]})  # fmt: skip
    df = df[df["area"] > 0]
    rows = []
    for b in range(window.n_bins):
        b0 = window.start + b * window.bin_s
        secs = np.minimum(df["t1"].to_numpy(), b0 + window.bin_s) - np.maximum(
            df["t0"].to_numpy(), b0
        )
        keep = secs > 0
        if keep.any():
            rows.append(df[keep].assign(b=b, vs=df["area"].to_numpy()[keep] * 40.0 * secs[keep]))
    spread = pd.concat(rows)
    g = spread.groupby(["cell", "b"])
    return g.agg(count=("owner", "nunique"), vs=("vs", "sum"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--intents", type=int, default=100_000)
    ap.add_argument("--baseline-intents", type=int, default=2_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    tiers = TierTable.from_toml(DEFAULT_TIER_FILE)
    t2 = tiers[tiers.index("T2")]
    window = Window(DAY, DAY + 86_400, 900)
    table, places = CapacityTable.from_toml(), Places.read()
    traffic = traffic_day(args.intents)
    print(f"traffic: {args.intents} intents, {len(traffic)} volumes, T2 (res {t2.resolution}), "
          f"{window.n_bins} bins of {window.bin_s:.0f} s")  # fmt: skip
    density(traffic.take(np.arange(200)), t2, window)  # compile the kernels
    times, assessed = [], None
    for _ in range(args.runs):
        t = time.perf_counter()
        assessed = assess(density(traffic, t2, window), table, places)
        times.append(time.perf_counter() - t)
    ours = statistics.median(times)
    assert assessed is not None
    print(f"ours: {ours:.2f} s median of {args.runs} for {args.intents} intents "
          f"({args.intents / ours:,.0f} intents/s); {len(assessed)} cell-bins, "
          f"{assessed['cell'].nunique()} cells, {int(assessed['hotspot'].sum())} over capacity, "
          f"{(assessed.groupby('cell')['suggestion'].first() != '').sum()} cells suggested")  # fmt: skip
    sample = traffic.take(traffic.owner < args.baseline_intents)
    t = time.perf_counter()
    base = baseline(sample, t2.resolution, window)
    base_s = time.perf_counter() - t
    t = time.perf_counter()
    mine = density(sample, t2, window).table.set_index(["cell", "bin"])
    mine_s = time.perf_counter() - t
    rate = args.baseline_intents / base_s
    print(f"baseline (h3 overlap cover + shapely intersections + pandas): {base_s:.2f} s for "
          f"{args.baseline_intents} intents ({rate:,.0f} intents/s; {args.intents / rate:,.0f} s "
          f"for {args.intents} at that rate); ours on the same sample {mine_s:.2f} s")  # fmt: skip
    band = t2.upper_m - t2.lower_m
    base_vs = base["vs"].sum()
    cell_vs = np.array(
        [h3.cell_area(h3.int_to_str(c), "m^2") for c in mine.index.get_level_values(0)]
    )
    mine_vs = float((mine["occupancy"].to_numpy() * cell_vs * band * window.bin_s).sum())
    base.index = base.index.set_names(["cell", "bin"])
    both = base.join(mine[["count"]].add_suffix("_ours"), how="outer").fillna(0)
    equal = (both["count"] == both["count_ours"]).mean()
    print(f"agreement on the sample: volume-seconds {mine_vs / base_vs:.6f} of the baseline's; "
          f"cell-bins {len(mine)} ours, {len(base)} baseline (ours all among the baseline's: "
          f"{set(mine.index) <= set(base.index)}); counts equal in {equal:.1%} of cell-bins")  # fmt: skip
    print(f"speed-up: {(args.intents / ours) / rate:.1f}x intents/s")


if __name__ == "__main__":
    main()
