"""Flight-log audit, end to end (read Parquet, audit, write results): airgrid vs a pandas baseline.

Traffic: ``--points`` fixes (default 2,000,000) in flights of ``--fixes-per-flight`` fixes
(default 200, one a second, 15 m/s on a random heading, 300-900 m AMSL) uniform over
Hunan's bounding box, on Monday 2025-03-03. Every flight has an accepted intent: one
volume around its track (grown by 200 m, 0-3000 m AMSL, its whole time); every tenth
flight drifts 1 km sideways for its last quarter, leaving its intent. Geofences: the 12
default Hunan airport zones (0-1000 m true height on the 30 arc-second DEM).

Ours: :func:`airgrid.audit.audit.run_audit` (geofences with crossings between fixes,
tier band, light-UAV limit, terrain clearance, conformance, missing intents, evidence)
then :func:`airgrid.audit.report.write_results` (Parquet, GeoJSON, Markdown).

Baseline, what a user would write with shapely and pandas: read the Parquet with pandas,
``STRtree.query(points, predicate="intersects")`` over the fence footprints, a pandas
filter on each fence's AMSL band, a merge of fixes with their intent's volume and an
element-wise ``shapely.intersects`` plus window and band filters, runs by
``groupby``/``diff``, and the violations written as Parquet. It checks fixes only (no
crossings between fixes, no heights, no certainty), so it does less than ours.

Ours is also run with the rules on a local Dask cluster (``--workers`` processes on
127.0.0.1, started once; reading, normalising and writing stay in this process).

Run: ``.venv/bin/python benchmarks/audit.py [--points N] [--workers W]``. Figures are
medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from airgrid.airspace.geofences.airports import airport_zones
from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.grid.tiers import TierTable
from airgrid.airspace.traffic.models import FlightIntent, IntentState
from airgrid.audit.audit import run_audit
from airgrid.audit.cluster import audit_on_cluster
from airgrid.audit.report import write_results
from airgrid.data import DEFAULT_DEM
from airgrid.geo.volumes import Volume4D
from airgrid.terrain import Dem
from airgrid.terrain.geoid import Geoid

T0 = 1_740_988_800.0  # 2025-03-03 08:00 UTC
M_PER_DEG = 111_320.0


def traffic(n_points: int, per_flight: int, seed: int = 7) -> tuple[pd.DataFrame, dict]:
    """Fixes as a table, and an accepted intent per flight."""
    rng = np.random.default_rng(seed)
    nf = max(n_points // per_flight, 1)
    k = np.arange(per_flight)
    lat0 = rng.uniform(25.2, 29.6, nf)
    lon0 = rng.uniform(109.2, 113.8, nf)
    head = rng.uniform(0, 2 * np.pi, nf)
    coslat = np.cos(np.radians(lat0))
    step = 15.0 / M_PER_DEG
    lat = lat0[:, None] + np.cos(head)[:, None] * step * k
    lon = lon0[:, None] + (np.sin(head) / coslat)[:, None] * step * k
    alt = rng.uniform(300, 900, nf)[:, None] + 0.0 * k
    start = T0 + rng.uniform(0, 36_000, nf)
    t = start[:, None] + k
    intents = {}
    for f in range(nf):
        grow = 200.0 / M_PER_DEG
        box = shapely.box(
            lon[f].min() - grow / coslat[f],
            lat[f].min() - grow,
            lon[f].max() + grow / coslat[f],
            lat[f].max() + grow,
        )
        vol = Volume4D(box, 0.0, 3000.0, float(t[f, 0]), float(t[f, -1]))
        intents[f"F{f}"] = FlightIntent(
            f"F{f}", f"Op{f % 50}", 10, "T2", (vol,), IntentState.ACTIVATED
        )
    drift = np.arange(nf) % 10 == 0
    lon[drift, 3 * per_flight // 4 :] += 1000.0 / M_PER_DEG / coslat[drift, None]
    frame = pd.DataFrame(
        {
            "flight_id": np.repeat([f"F{f}" for f in range(nf)], per_flight),
            "operator": np.repeat([f"Op{f % 50}" for f in range(nf)], per_flight),
            "time": t.ravel(),
            "lat": lat.ravel(),
            "lon": lon.ravel(),
            "alt": alt.ravel(),
            "alt_ref": "AMSL",
        }
    )
    return frame, intents


def ours(
    path: Path,
    out: Path,
    index: GeofenceIndex,
    dem: Dem,
    geoid: Geoid,
    intents: dict,
    scheduler: str | None = None,
) -> int:
    executor = None
    if scheduler is not None:
        fences = index.geofences

        def executor(tracks):
            return audit_on_cluster(
                tracks,
                fences=fences,
                dem_paths=[DEFAULT_DEM],
                tiers=TierTable(),
                intents=intents,
                scheduler=scheduler,
            )

    result = run_audit(
        [path],
        index=index,
        dem=dem,
        geoid=geoid,
        tiers=TierTable(),
        intents=intents,
        executor=executor,
    )
    write_results(result, out)
    return len(result.violations)


def _runs(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    df = df.sort_values([*keys, "i"])
    new = (df.groupby(keys)["i"].diff() != 1).cumsum()
    return (
        df.groupby([*keys, new]).agg(t_first=("time", "min"), t_last=("time", "max")).reset_index()
    )


def baseline(path: Path, out: Path, fences: list, bands: np.ndarray, intents: dict) -> int:
    df = pd.read_parquet(path)
    df["i"] = np.arange(len(df))
    pts = shapely.points(df["lon"].to_numpy(), df["lat"].to_numpy())
    tree = shapely.STRtree([g.footprint for g in fences])
    p, f = tree.query(pts, predicate="intersects")
    hits = pd.DataFrame({"i": p, "fence": f})
    hits = hits.merge(df[["i", "flight_id", "time", "alt"]], on="i")
    hits = hits[(hits["alt"] >= bands[hits["fence"], 0]) & (hits["alt"] <= bands[hits["fence"], 1])]
    fence_runs = _runs(hits, ["flight_id", "fence"])
    vols = pd.DataFrame(
        [
            (iid, v.footprint, v.floor_m, v.ceiling_m, v.t_start, v.t_end)
            for iid, it in intents.items()
            for v in it.volumes
        ],
        columns=["flight_id", "fp", "floor", "ceiling", "t_start", "t_end"],
    )
    m = df.merge(vols, on="flight_id", how="left")
    inside = shapely.intersects(
        m["fp"].to_numpy(), shapely.points(m["lon"].to_numpy(), m["lat"].to_numpy())
    )
    m["ok"] = inside & (m["time"] >= m["t_start"]) & (m["time"] <= m["t_end"])
    m["ok"] &= (m["alt"] >= m["floor"]) & (m["alt"] <= m["ceiling"])
    conform = m.groupby("i")["ok"].any()
    bad = df[~df["i"].map(conform).fillna(False).astype(bool)]
    non_runs = _runs(bad.assign(intent=bad["flight_id"]), ["flight_id", "intent"])
    result = pd.concat([fence_runs.assign(rule="geofence"), non_runs.assign(rule="nonconformance")])
    result.astype({c: str for c in ("fence", "intent") if c in result}).to_parquet(
        out / "baseline.parquet"
    )
    return len(result)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=2_000_000)
    ap.add_argument("--fixes-per-flight", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--workers", type=int, default=2, help="Local cluster worker processes (0: none)."
    )
    args = ap.parse_args()
    frame, intents = traffic(args.points, args.fixes_per_flight)
    n = len(frame)
    t = time.perf_counter()
    dem = Dem.open(DEFAULT_DEM)
    fences = airport_zones()
    index = GeofenceIndex(fences, dem=dem)
    geoid = Geoid()
    index.check_points(np.array([28.0]), np.array([112.0]), np.array([0.0]), T0)  # build the bins
    setup = time.perf_counter() - t
    bands = np.array([g.amsl_band(dem) for g in fences])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.parquet"
        frame.to_parquet(path)
        print(
            f"{n:,} fixes in {len(intents):,} flights, {len(intents):,} accepted intents, {len(fences)} airport geofences"
        )
        print(f"setup (DEM, geoid, geofence index): {setup:.2f} s (not in the rates)")
        ours(path, Path(tmp), index, dem, geoid, intents)  # warm the kernels' caches
        times_ours, times_base, times_dask = [], [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            v_ours = ours(path, Path(tmp), index, dem, geoid, intents)
            times_ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            v_base = baseline(path, Path(tmp), fences, bands, intents)
            times_base.append(time.perf_counter() - t)
        if args.workers:
            from dask.distributed import LocalCluster

            with LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
            ) as cluster:
                addr = cluster.scheduler_address
                ours(path, Path(tmp), index, dem, geoid, intents, addr)  # workers build their index
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    v_dask = ours(path, Path(tmp), index, dem, geoid, intents, addr)
                    times_dask.append(time.perf_counter() - t)
    a, b = statistics.median(times_ours), statistics.median(times_base)
    print(f"airgrid audit   : {n / a / 1e6:.2f} M points/s  ({a:.2f} s, {v_ours:,} violations)")
    print(
        f"pandas baseline : {n / b / 1e6:.2f} M points/s  ({b:.2f} s, {v_base:,} runs; fixes only)"
    )
    print(f"ratio           : {b / a:.1f}x")
    if times_dask:
        d = statistics.median(times_dask)
        print(
            f"airgrid on a local cluster ({args.workers} worker processes): {n / d / 1e6:.2f} M points/s "
            f"({d:.2f} s, {v_dask:,} violations; {b / d:.1f}x the baseline)"
        )


if __name__ == "__main__":
    main()
