"""Flight-log audit, end to end (read Parquet, audit, write results): airgrid vs a pandas baseline.

Traffic: ``--points`` fixes (default 10,000,000) in ``--intents`` flights (default
10,000; one fix a second, 15 m/s on a random heading, 300-900 m AMSL) uniform over
Hunan's bounding box, on Monday 2025-03-03, written to Parquet in row groups of 1,000
flights. Every flight has an accepted intent: one volume around its track (grown by
200 m, 0-3000 m AMSL, its whole time); every tenth flight drifts 1 km sideways for its
last quarter, leaving its intent. Geofences: the 12 default Hunan airport zones (0-1000 m
true height on the 30 arc-second DEM).

Ours: :func:`airgrid.audit.audit.run_audit` (geofences with crossings between fixes,
tier band, light-UAV limit, terrain clearance, conformance, missing intents, evidence)
then :func:`airgrid.audit.report.write_results` (Parquet, GeoJSON, Markdown). Stage
times: read (Parquet to columns), audit (normalising, rules, evidence), write.

Baseline, what a user would write with shapely and pandas: read the Parquet with pandas,
``STRtree.query(points, predicate="intersects")`` over the fence footprints, a pandas
filter on each fence's AMSL band, a merge of fixes with their intent's volume and an
element-wise ``shapely.intersects`` plus window and band filters, runs by
``groupby``/``diff``, and the violations written as Parquet. It checks fixes only (no
crossings between fixes, no heights, no certainty), so it does less than ours.

Agreement, checked every run: the baseline's nonconformance runs (flight, first and last
time) must equal ours (all fixes AMSL, so "possible" and "certain" coincide); it counts
the baseline geofence runs lying inside one of our geofence violations of their flight
and fence (the baseline uses each fence's band over its whole footprint, the index the
band over the ground of each bin, so a few baseline runs high over low ground are not).

Ours is also run on a local Dask cluster (``--workers`` processes on 127.0.0.1, started
once): row groups sharing no flight are read, normalised and audited on the workers, each
task sending back only its violations and counts
(:func:`airgrid.audit.frames.audit_parquet_on_cluster`); writing stays in this process.

Run: ``.venv/bin/python benchmarks/audit.py [--points N] [--workers W] [--repeat R]``.
Figures are medians of ``--repeat`` runs (on a shared machine, say so when quoting them).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from airgrid.airspace.geofences.airports import airport_zones
from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.grid.tiers import TierTable
from airgrid.airspace.traffic.models import FlightIntent, IntentState
from airgrid.audit.audit import run_audit
from airgrid.audit.frames import audit_parquet_on_cluster
from airgrid.audit.report import write_results
from airgrid.data import DEFAULT_DEM
from airgrid.geo.volumes import Volume4D
from airgrid.terrain import Dem
from airgrid.terrain.geoid import Geoid

T0 = 1_740_988_800.0  # 2025-03-03 08:00 UTC
M_PER_DEG = 111_320.0


def write_traffic(path: Path, n_points: int, n_flights: int, seed: int = 7) -> dict:
    """Write the fixes to Parquet (one row group per 1,000 flights); an accepted intent per flight."""
    rng = np.random.default_rng(seed)
    nf = max(min(n_flights, n_points), 1)
    per_flight = max(n_points // nf, 1)
    intents: dict[str, FlightIntent] = {}
    schema = pa.schema(
        [("flight_id", pa.string()), ("operator", pa.string()), ("time", pa.float64()),
         ("lat", pa.float64()), ("lon", pa.float64()), ("alt", pa.float64()),
         ("alt_ref", pa.string())]
    )  # fmt: skip
    with pq.ParquetWriter(path, schema) as out:
        for f0 in range(0, nf, 1000):
            ids = np.arange(f0, min(f0 + 1000, nf))
            out.write_table(_flights(rng, ids, per_flight, intents), row_group_size=1 << 30)
    return intents


def _flights(rng: np.random.Generator, ids: np.ndarray, per_flight: int, intents: dict) -> pa.Table:
    nf = len(ids)
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
    grow = 200.0 / M_PER_DEG
    for j, f in enumerate(ids.tolist()):
        box = shapely.box(
            lon[j].min() - grow / coslat[j],
            lat[j].min() - grow,
            lon[j].max() + grow / coslat[j],
            lat[j].max() + grow,
        )
        vol = Volume4D(box, 0.0, 3000.0, float(t[j, 0]), float(t[j, -1]))
        intents[f"F{f}"] = FlightIntent(
            f"F{f}", f"Op{f % 50}", 10, "T2", (vol,), IntentState.ACTIVATED
        )
    drift = ids % 10 == 0
    lon[drift, 3 * per_flight // 4 :] += 1000.0 / M_PER_DEG / coslat[drift, None]
    names = pa.array([f"F{f}" for f in ids.tolist()])
    ops = pa.array([f"Op{f % 50}" for f in ids.tolist()])
    which = pa.array(np.repeat(np.arange(nf), per_flight))
    return pa.table(
        {
            "flight_id": names.take(which),
            "operator": ops.take(which),
            "time": t.ravel(),
            "lat": lat.ravel(),
            "lon": lon.ravel(),
            "alt": alt.ravel(),
            "alt_ref": pa.array(np.full(nf * per_flight, "AMSL", object), pa.string()),
        }
    )


def ours(
    path: Path,
    out: Path,
    index: GeofenceIndex,
    dem: Dem,
    geoid: Geoid,
    intents: dict,
    scheduler: str | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Our audit end to end; its violations and stage times (read, audit, write) in seconds.

    With a scheduler the log's row groups are read and audited on the workers, whole
    flights per task (one stage, "read+audit"), then written here.
    """
    marks: dict[str, float] = {}
    t = time.perf_counter()
    if scheduler is not None:
        result = audit_parquet_on_cluster(
            [path],
            fences=index.geofences,
            dem_paths=[DEFAULT_DEM],
            geoid_path="",
            tiers=TierTable(),
            intents=intents,
            scheduler=scheduler,
        )
        t_audit = time.perf_counter()
        write_results(result, out)
        return result.violations, {
            "read+audit": t_audit - t,
            "write": time.perf_counter() - t_audit,
        }
    result = run_audit(
        [path],
        index=index,
        dem=dem,
        geoid=geoid,
        tiers=TierTable(),
        intents=intents,
        progress=lambda step, _: marks.setdefault(step.split()[0], time.perf_counter()),
    )
    t_audit = time.perf_counter()
    write_results(result, out)
    t_end = time.perf_counter()
    stages = {
        "read": marks["normalising"] - t,
        "audit": t_audit - marks["normalising"],
        "write": t_end - t_audit,
    }
    return result.violations, stages


def agreement(v_ours: pd.DataFrame, v_base: pd.DataFrame, fence_ids: list[str]) -> str:
    """Check the baseline against ours (see the module docstring); a line saying how they agree."""
    mine = v_ours[v_ours["rule"] == "nonconformance"]
    base = v_base[v_base["rule"] == "nonconformance"]
    key = ["flight_id", "t_first", "t_last"]
    a = mine[key].sort_values(key).to_numpy()
    b = base[key].sort_values(key).to_numpy()
    if a.shape != b.shape or not (a == b).all():
        raise AssertionError(f"nonconformance runs differ: ours {len(a)}, baseline {len(b)}")
    fb = v_base[v_base["rule"] == "geofence"].copy()
    fb["object_id"] = np.array(fence_ids, dtype=object)[fb["fence"].astype(int).to_numpy()]
    fo = v_ours[v_ours["rule"] == "geofence"]
    m = fb.merge(fo, on=["flight_id", "object_id"], suffixes=("_b", "_o"))
    m = m[(m["t_first_o"] <= m["t_first_b"]) & (m["t_last_b"] <= m["t_last_o"])]
    covered = m.drop_duplicates(["flight_id", "object_id", "t_first_b"])
    return (
        f"agreement: {len(a):,} nonconformance runs equal; {len(covered):,} of {len(fb):,} "
        f"baseline geofence runs inside ours ({len(fo):,} passages, crossings between fixes "
        "included; the rest lie above the fence's band over the ground of their bin, under "
        "its whole-footprint band)"
    )


def _runs(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    df = df.sort_values([*keys, "i"])
    new = (df.groupby(keys)["i"].diff() != 1).cumsum()
    return (
        df.groupby([*keys, new]).agg(t_first=("time", "min"), t_last=("time", "max")).reset_index()
    )


def baseline(path: Path, out: Path, fences: list, bands: np.ndarray, intents: dict) -> pd.DataFrame:
    """The shapely + pandas audit; its runs (flight, fence or intent, first and last time, rule)."""
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
    return result


def _median_stages(runs: list[dict[str, float]]) -> str:
    return ", ".join(f"{k} {statistics.median(r[k] for r in runs):.2f} s" for k in runs[0])


def _line(label: str, n: int, runs: list[dict[str, float]], extra: str) -> tuple[str, float]:
    total = statistics.median(sum(r.values()) for r in runs)
    return f"{label}: {n / total / 1e6:.2f} M points/s  ({total:.2f} s; {extra})", total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=10_000_000)
    ap.add_argument("--intents", type=int, default=10_000, help="Flights, each with an intent.")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--workers", type=int, default=2, help="Local cluster worker processes (0: none)."
    )
    args = ap.parse_args()
    t = time.perf_counter()
    dem = Dem.open(DEFAULT_DEM)
    fences = airport_zones()
    index = GeofenceIndex(fences, dem=dem)
    geoid = Geoid()
    index.check_points(np.array([28.0]), np.array([112.0]), np.array([0.0]), T0)  # build the bins
    setup = time.perf_counter() - t
    bands = np.array([g.amsl_band(dem) for g in fences])
    fence_ids = [g.identifier for g in fences]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.parquet"
        intents = write_traffic(path, args.points, args.intents)
        n = pq.ParquetFile(path).metadata.num_rows
        print(
            f"{n:,} fixes in {len(intents):,} flights, {len(intents):,} accepted intents, "
            f"{len(fences)} airport geofences; medians of {args.repeat} run(s) on a shared "
            "2-core machine"
        )
        print(f"setup (DEM, geoid, geofence index): {setup:.2f} s (not in the rates)")
        ours(path, Path(tmp), index, dem, geoid, intents)  # warm the kernels' caches
        runs_ours, runs_base, runs_dask = [], [], []
        for _ in range(args.repeat):
            v_ours, stages = ours(path, Path(tmp), index, dem, geoid, intents)
            runs_ours.append(stages)
            t = time.perf_counter()
            v_base = baseline(path, Path(tmp), fences, bands, intents)
            runs_base.append({"all": time.perf_counter() - t})
        check = agreement(v_ours, v_base, fence_ids)
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
                    v_dask, stages = ours(path, Path(tmp), index, dem, geoid, intents, addr)
                    runs_dask.append(stages)
            if not v_dask.drop(columns="geometry").equals(v_ours.drop(columns="geometry")):
                raise AssertionError("the cluster's violations differ from the single-process ones")
    line, a = _line("airgrid audit   ", n, runs_ours, f"{len(v_ours):,} violations")
    print(line)
    print(f"  stages: {_median_stages(runs_ours)}")
    line, b = _line("pandas baseline ", n, runs_base, f"{len(v_base):,} runs; fixes only")
    print(line)
    print(f"ratio           : {b / a:.1f}x")
    print(check)
    if runs_dask:
        d = statistics.median(sum(r.values()) for r in runs_dask)
        line, _ = _line(
            f"airgrid on a local cluster ({args.workers} worker processes)",
            n,
            runs_dask,
            f"{len(v_dask):,} violations, equal to single-process; {b / d:.1f}x the baseline",
        )
        print(line)
        print(f"  stages: {_median_stages(runs_dask)}")


if __name__ == "__main__":
    main()
