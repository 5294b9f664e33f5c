"""Check-and-accept latency for one route-shaped intent against 100,000 accepted intents.

Our figure: :meth:`airgrid.airspace.store.service.Store.submit` (one write transaction: candidate
lookup, exact test, geofence check, write, durable commit; a refusal is recorded in the
same transaction) on SQLite and on PostgreSQL. On both, candidates come from the process's
copy of the holding intents, brought to the store's revision inside the transaction (under
SQLite's single-writer lock, or PostgreSQL's one advisory lock for intents, where the
server confirms the copy's revision instead when it is current) and loaded by
the warm-up before timing. Baseline: what a user would
write with shapely alone, in memory and without any persistence: an STRtree over the
accepted intents' footprints buffered by the lateral separation (projected to UTM 49N,
built before timing), queried with the probe's projected footprints, then time-window and
altitude filters in numpy.

Traffic (synthetic, conflict-free by construction): 400 east-west lanes 250 m apart over a
100 km x 100 km square centred on Changsha, each cut into 30 sections of 3.3 km; an intent
flies 3 km of a section at 15 m/s (two 1.5 km volumes, route_to_volumes' default pieces of
at most 2 km; 20 m half-width) at 150 or 250 m AMSL, in one of the 4-hour window's time blocks of 260 s. Probes are routes
of 10-30 km with 3-6 waypoints in random directions at 20 m/s, half at the occupied
altitudes (mostly refused) and half at 350 m (mostly accepted, and then written).

Usage: ``python benchmarks/conflicts.py [--intents N] [--probes M] [--pg-url URL]``
(without ``--pg-url`` a throwaway PostgreSQL cluster is started with initdb/pg_ctl).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pg_cluster import Cluster

from airgrid.airspace.store.service import Store, open_store
from airgrid.airspace.traffic.models import IntentRequest
from airgrid.airspace.traffic.route_volumes import route_to_volumes

LAT0, LON0 = 28.2, 112.95
T0 = 1_800_000_000.0
LANES, SECTIONS, LANE_GAP, SECTION_LEN, FLIGHT_LEN = 400, 30, 250.0, 3_300.0, 3_000.0
LEVELS = (150.0, 250.0)
BLOCK_S, HOURS = 260.0, 4.0
SPEED = 15.0


def _metric_to_lonlat() -> Transformer:
    proj = f"+proj=aeqd +lat_0={LAT0} +lon_0={LON0} +datum=WGS84 +units=m"
    return Transformer.from_crs(proj, "EPSG:4326", always_xy=True)


def traffic(n: int, rng: np.random.Generator) -> list[IntentRequest]:
    """``n`` mutually conflict-free intents on the lane lattice."""
    blocks = int(HOURS * 3600 // BLOCK_S)
    cap = LANES * SECTIONS * len(LEVELS) * blocks
    picks = rng.choice(cap, size=n, replace=False)
    lane, rest = np.divmod(picks, SECTIONS * len(LEVELS) * blocks)
    sec, rest = np.divmod(rest, len(LEVELS) * blocks)
    lev, blk = np.divmod(rest, blocks)
    inv = _metric_to_lonlat()
    x0 = -50_000.0 + sec * SECTION_LEN
    y = -50_000.0 + lane * LANE_GAP
    lon_a, lat_a = inv.transform(x0, y)
    lon_b, lat_b = inv.transform(x0 + FLIGHT_LEN, y)
    out = []
    for k in range(n):
        t = T0 + blk[k] * BLOCK_S
        z = LEVELS[lev[k]]
        vols = route_to_volumes(
            [(lat_a[k], lon_a[k], z, t), (lat_b[k], lon_b[k], z, t + FLIGHT_LEN / SPEED)],
            half_width_m=20.0,
            half_height_m=15.0,
        )
        out.append(IntentRequest(f"op{k % 97}", 20, "T2", tuple(vols), f"load-{k}"))
    return out


def probes(m: int, rng: np.random.Generator) -> list[IntentRequest]:
    """Route-shaped intents of 10-30 km."""
    inv = _metric_to_lonlat()
    out = []
    for k in range(m):
        total = rng.uniform(10_000, 30_000)
        nwp = int(rng.integers(3, 7))
        x, y = rng.uniform(-35_000, 35_000, 2)
        heading = rng.uniform(0, 2 * math.pi)
        legs = rng.dirichlet(np.ones(nwp - 1)) * total
        z = float(rng.choice([150.0, 250.0, 350.0, 350.0]))
        t = T0 + rng.uniform(0, HOURS * 3600 - total / 20.0)
        pts = [(x, y, t)]
        for leg in legs:
            heading += rng.uniform(-0.6, 0.6)
            x, y, t = x + leg * math.cos(heading), y + leg * math.sin(heading), t + leg / 20.0
            pts.append((x, y, t))
        lon, lat = inv.transform([p[0] for p in pts], [p[1] for p in pts])
        wps = [(la, lo, z, p[2]) for la, lo, p in zip(lat, lon, pts)]
        vols = route_to_volumes(wps, half_width_m=20.0, half_height_m=15.0)
        out.append(IntentRequest("probe", 20, "T2", tuple(vols), f"probe-{k}"))
    return out


class Baseline:
    """shapely STRtree over buffered footprints, then time and altitude filters (in memory)."""

    def __init__(
        self, reqs: list[IntentRequest], lateral: float, vertical: float, seconds: float
    ) -> None:
        self.tf = Transformer.from_crs("EPSG:4326", "EPSG:32649", always_xy=True)
        vols = [v for r in reqs for v in r.volumes]
        self.owner = np.array([i for i, r in enumerate(reqs) for _ in r.volumes])
        fps = self._project(np.array([v.footprint for v in vols], dtype=object))
        self.tree = shapely.STRtree(shapely.buffer(fps, lateral))
        self.band = np.array([(v.floor_m - vertical, v.ceiling_m + vertical) for v in vols])
        self.win = np.array([(v.t_start - seconds, v.t_end + seconds) for v in vols])

    def _project(self, geoms: np.ndarray) -> np.ndarray:
        def fn(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(self.tf.transform(xy[:, 0], xy[:, 1]))

        return shapely.transform(geoms, fn)

    def conflicts(self, req: IntentRequest) -> set[int]:
        q = self._project(np.array([v.footprint for v in req.volumes], dtype=object))
        iq, it = self.tree.query(q, predicate="intersects")
        fl = np.array([v.floor_m for v in req.volumes])[iq]
        ce = np.array([v.ceiling_m for v in req.volumes])[iq]
        ts = np.array([v.t_start for v in req.volumes])[iq]
        te = np.array([v.t_end for v in req.volumes])[iq]
        ok = (
            (self.band[it, 0] <= ce)
            & (fl <= self.band[it, 1])
            & (self.win[it, 0] <= te)
            & (ts <= self.win[it, 1])
        )
        return set(self.owner[it[ok]].tolist())


def measure(store: Store, load: list[IntentRequest], probe_reqs: list[IntentRequest]) -> dict:
    t = time.perf_counter()
    store.restore_intents(load)
    load_s = time.perf_counter() - t
    store.check(probe_reqs[0].shifted(10 * 86_400.0))  # warm caches (planes, statements)
    lat, chk, verdict, with_load = [], [], [], []
    for r in probe_reqs:
        t = time.perf_counter()
        store.check(r)
        chk.append(time.perf_counter() - t)
        t = time.perf_counter()
        d = store.submit(r, propose=False)
        lat.append(time.perf_counter() - t)
        verdict.append(d.accepted)
        with_load.append(any(c.other_id.startswith("load-") for c in d.conflicts))
    return {
        "load_s": load_s,
        "lat": np.array(lat),
        "check": np.array(chk),
        "accepted": np.array(verdict),
        "with_load": np.array(with_load),
    }


def fsync_ms(folder: str, n: int = 50) -> float:
    """Median time to append 4 KiB to a file and fsync it (the floor of a durable commit)."""
    path = Path(folder) / "fsync.probe"
    out = []
    with open(path, "wb") as f:
        for _ in range(n):
            t = time.perf_counter()
            f.write(b"x" * 4096)
            f.flush()
            os.fsync(f.fileno())
            out.append(time.perf_counter() - t)
    path.unlink()
    return float(np.median(out) * 1e3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--intents", type=int, default=100_000)
    ap.add_argument("--probes", type=int, default=300)
    ap.add_argument("--pg-url", default=os.environ.get("AIRGRID_BENCH_PG_URL"))
    ap.add_argument("--seed", type=int, default=4)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print(
        f"conflicts benchmark: {args.intents:,} accepted intents, {args.probes} probe routes of 10-30 km"
    )
    t = time.perf_counter()
    load = traffic(args.intents, rng)
    probe_reqs = probes(args.probes, rng)
    n_vol = sum(len(p.volumes) for p in probe_reqs) / len(probe_reqs)
    print(
        f"  generated in {time.perf_counter() - t:.1f} s; probes have {n_vol:.1f} volumes on average"
    )

    from airgrid.airspace.traffic.separation import SeparationTable

    m = SeparationTable().for_tier("T2")
    t = time.perf_counter()
    base = Baseline(load, m.lateral_m, m.vertical_m, m.seconds)
    print(
        f"  baseline STRtree over {len(base.owner):,} buffered footprints built in {time.perf_counter() - t:.1f} s"
    )
    blat, bconf = [], []
    for r in probe_reqs:
        t = time.perf_counter()
        c = base.conflicts(r)
        blat.append(time.perf_counter() - t)
        bconf.append(bool(c))
    blat = np.array(blat)

    results = {}
    with tempfile.TemporaryDirectory(prefix="airgrid-bench-") as d:
        with open_store(d) as st:
            results["SQLite"] = measure(st, load, probe_reqs)
        disk_fsync = fsync_ms(d)
    cluster = None
    url = args.pg_url
    if not url:
        cluster = Cluster()
        url = cluster.start()
    try:
        with open_store(url) as st:
            results["PostgreSQL"] = measure(st, load, probe_reqs)
    finally:
        if cluster:
            cluster.stop()

    def ms(a: np.ndarray, q: float) -> float:
        return float(np.percentile(a, q) * 1e3)

    print(f"\n{'check-and-accept':<28}{'median ms':>10}{'p99 ms':>10}{'vs baseline (median)':>22}")
    print(
        f"{'shapely STRtree baseline':<28}{ms(blat, 50):>10.2f}{ms(blat, 99):>10.2f}{'1.00x':>22}"
    )
    for name, r in results.items():
        ratio = ms(blat, 50) / ms(r["lat"], 50)
        print(
            f"{'airgrid ' + name:<28}{ms(r['lat'], 50):>10.2f}{ms(r['lat'], 99):>10.2f}{ratio:>21.2f}x"
        )
    for name, r in results.items():
        ratio = ms(blat, 50) / ms(r["check"], 50)
        print(
            f"{'  check only, no write ' + name[:6]:<28}{ms(r['check'], 50):>10.2f}{ms(r['check'], 99):>10.2f}"
            f"{ratio:>21.2f}x"
        )
    print(
        f"  (fsync of a 4 KiB append on the data disk: median {disk_fsync:.2f} ms; every accepted "
        "intent pays one, synchronous=FULL)"
    )
    for name, r in results.items():
        agree = int(np.sum(r["with_load"] == np.array(bconf)))
        print(
            f"  {name}: bulk load {r['load_s']:.1f} s; {int(r['accepted'].sum())} of {len(probe_reqs)} probes "
            f"accepted; conflicts with the loaded intents found for {int(r['with_load'].sum())} probes, "
            f"the baseline agrees on {agree} of {len(probe_reqs)}"
        )
    sq = results["SQLite"]["lat"]
    print(
        f"\ngoals: SQLite median < 5 ms: {'met' if ms(sq, 50) < 5 else 'NOT met'}; "
        f">= 3x faster than the baseline: {'met' if ms(blat, 50) / ms(sq, 50) >= 3 else 'NOT met'}"
    )
    if "PostgreSQL" in results:
        pg = results["PostgreSQL"]["lat"]
        print(
            f"goals: PostgreSQL median <= 1.5 ms: {'met' if ms(pg, 50) <= 1.5 else 'NOT met'}; "
            f">= 1.5x faster than the baseline: {'met' if ms(blat, 50) / ms(pg, 50) >= 1.5 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
