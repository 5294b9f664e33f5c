"""A day of Hunan traffic: every flight routed, deconflicted and accepted, in-process and
through the HTTP API.

The grid is Hunan-wide with tiers T2, T3 and T4 (the shipped tier table has no T1
certified at the 30" DEM's accuracy over most of the province, so the light last-mile
share flies T2 where T1 is missing: see :mod:`airgrid.simulation.mix`). Without
``--grid`` it is built once into ``var/grid-hunan-t234`` (about 70 s), and its routing
graph with ALT landmarks is cached beside it (about 50 s once).

One run:

1. ``--flights`` flights (default 26,000) drawn with ``--seed`` over tomorrow (local
   time): demand from the logistics nodes and GeoNames places by population, airports;
   last-mile hops of 2-15 km and intercity flights of 50-300 km; departures over the
   daily curve of :mod:`airgrid.simulation.departures`. Every store holds the Hunan
   airport protection geofences (as ``airgrid serve`` seeds them): flights neither end
   nor route inside them.
2. In-process: every flight routed, turned into an intent and submitted to a fresh
   SQLite store, conflicts resolved by the fixes the store takes in the deciding
   transaction (an altitude offset, else a departure shift) or by re-routes. First routes and
   intents are planned ahead in ``--plan-processes`` forked processes (default 1), or
   with ``--plan-processes 0`` on ``--plan-threads`` threads (default 1; 0: each in
   turn); submissions stay in the main thread, in departure order. Goal: >= 200
   flights/s end to end, p99 per flight < 50 ms.
3. Through HTTP: ``airgrid serve`` (``--workers``, default 2: one per core of this
   2-core machine, as the README advises) on 127.0.0.1 with a
   fresh store per run, the same flights from ``--clients`` threads (default 8; add 32
   with ``--clients 8,32``), on SQLite and on a throwaway PostgreSQL (initdb/pg_ctl,
   as the tests start one; ``--no-postgres`` skips it). Goal: >= 100 flights/s at 8 clients.
4. Every run's accepted intents, a sample of up to 2,000, checked pairwise with the
   exact conflict test. Goal: zero pairs in conflict.

With ``--corridors PATH`` (a network from ``airgrid corridors --out``, such as
``airgrid corridors --area hunan --seats-only --grid var/grid-hunan-t234 --out
var/net-hunan.geojson``), ``--corridor-share`` of the flights (default 0.2) fly between
its nodes, corridor by corridor (:mod:`airgrid.simulation.corridors`), reported as the
class ``corridor``.

Ends with the summary lines ``flights: N``, ``in-process: X flights/s``, ``http: X
flights/s`` (SQLite, the first client count) and ``accepted pairs in conflict: N``
(over every run).

Usage::

    .venv/bin/python benchmarks/traffic.py [--flights 26000] [--seed 0] [--grid DIR]
        [--clients 8,32] [--workers 2] [--plan-processes 1] [--plan-threads 1]
        [--no-http] [--no-postgres]
        [--corridors PATH [--corridor-share 0.2]]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pg_cluster import Cluster, free_port
from procs import cpu_seconds, machine_idle_s, server_peak_mib

from airgrid.airspace.geofences.airports import airport_zones
from airgrid.airspace.geofences.model import Geofence
from airgrid.airspace.grid import Grid, TierTable, build_grid
from airgrid.airspace.grid.areas import named_area
from airgrid.airspace.store.service import open_store
from airgrid.api.cli.traffic import report_table
from airgrid.api.http.auth import KeyStore
from airgrid.api.http.stores import store_location
from airgrid.data import DATA_DIR, DEFAULT_DEM
from airgrid.routing import GraphFileError, RouteGraph, build_graph
from airgrid.routing.landmarks import landmark_count
from airgrid.routing.search.route import RouteStatus
from airgrid.simulation.corridors import DEFAULT_CORRIDOR_SHARE, load_corridor_demand
from airgrid.simulation.day import (
    DAY_WINDOW_S,
    check_report,
    day_start,
    run_in_process,
    run_over_http,
)
from airgrid.simulation.errors import TrafficError
from airgrid.simulation.http_runner import ApiClient
from airgrid.simulation.planning import FlightPlanner, no_fly_voxels
from airgrid.simulation.report import TrafficReport
from airgrid.simulation.schedule import Flight, make_flights
from airgrid.terrain import Dem

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT / "var" / "grid-hunan-t234"
#: Longest wait for the server's landmarks before the HTTP day (seconds).
LANDMARKS_WAIT_S = 240.0
console = Console(width=132)


def hunan_grid(path: Path) -> Grid:
    """The Hunan T2+T3+T4 grid at ``path``, built there first if missing."""
    if not (path / "meta.json").exists():
        t0 = time.perf_counter()
        build_grid(
            named_area("hunan", DATA_DIR),
            Dem.open(DEFAULT_DEM),
            TierTable().select(["T2", "T3", "T4"]),
        ).save(path)
        print(f"built the Hunan T2+T3+T4 grid in {time.perf_counter() - t0:.0f} s -> {path}")
    return Grid.load(path)


def cached_graph(grid: Grid, cache: Path) -> RouteGraph:
    """The grid's routing graph with ALT landmarks, from ``cache`` or built and saved there."""
    try:
        return RouteGraph.load(cache, grid)
    except GraphFileError:
        t0 = time.perf_counter()
        graph = build_graph(grid, landmarks=landmark_count(grid.n_voxels))
        graph.save(cache)
        print(f"built the routing graph with landmarks in {time.perf_counter() - t0:.0f} s")
        return graph


def probe_flights(planner: FlightPlanner, flights: list[Flight], n: int = 5) -> list[Flight]:
    """Up to ``n`` intercity flights that ``planner``'s graph routes, the widest first (the
    probes of :func:`wait_landmarks`).

    At most 50 candidates are tried, spread evenly over the intercity flights ranked by
    their east-west extent: the very widest of a large day are often beyond reach (no
    route, or over the search budget), and any long route shows the landmarks' effect.
    """
    wide = sorted(
        (x for x in flights if x.origin >= 0 and x.destination >= 0 and x.cls.intercity),
        key=lambda x: abs(x.origin_ll[0] - x.destination_ll[0]),
        reverse=True,
    )
    found: list[Flight] = []
    for f in wide[:: max(1, len(wide) // 50)][:50]:
        if planner.route(f).status is RouteStatus.FOUND:
            found.append(f)
            if len(found) == n:
                break
    return found


def wait_landmarks(base: str, token: str, grid: Grid, probes: list[Flight]) -> None:
    """Wait (at most :data:`LANDMARKS_WAIT_S`) until the server's landmarks are in place:
    a long route's expansions drop once its background thread has computed them.

    The probe is the first of ``probes`` the server routes; one line says how the wait
    ended.
    """
    if not probes or landmark_count(grid.n_voxels) == 0:
        print("server landmarks: no probe flight (or no landmarks on this grid), not waited")
        return
    c = ApiClient(base, token, grid)
    t0 = time.monotonic()
    try:
        probe, first = None, 0
        for f in probes:
            r = c.route(f, [])
            if r.status_code == 200:
                probe, first = f, r.json()["properties"]["expansions"]
                break
            print(f"server landmarks: probe flight {f.index} answered {r.status_code}")
        if probe is None:
            print("server landmarks: the server routed no probe flight, not waited")
            return
        last = first
        while time.monotonic() - t0 < LANDMARKS_WAIT_S:
            time.sleep(3)
            r = c.route(probe, [])
            if r.status_code != 200:
                print(f"server landmarks: probe flight {probe.index} answered {r.status_code}")
                return
            last = r.json()["properties"]["expansions"]
            if last < 0.8 * first:
                print(
                    f"server landmarks: ready ({first:,} -> {last:,} expansions) "
                    f"after {time.monotonic() - t0:.0f} s"
                )
                return
        print(
            f"server landmarks: expansions did not drop within {LANDMARKS_WAIT_S:.0f} s "
            f"({first:,} -> {last:,}); the day runs with the server as it is"
        )
    finally:
        c.http.close()


@contextmanager
def server(grid_path: Path, db_url: str, var: Path, workers: int) -> Iterator[tuple[str, int]]:
    """``airgrid serve`` with ``workers`` processes serving ``grid_path`` on a free
    loopback port with the store at ``db_url`` (which holds the airport geofences
    already)."""
    port = free_port()
    env = dict(
        os.environ,
        AIRGRID_GRID_PATH=str(grid_path),
        AIRGRID_DB_URL=db_url,
        AIRGRID_VAR_DIR=str(var),
    )
    cmd = [sys.executable, "-m", "airgrid.api.cli.main", "serve", "--no-airports"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/v1/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode}")
            time.sleep(0.5)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def http_run(
    grid: Grid,
    grid_path: Path,
    db_url: str,
    flights: list[Flight],
    clients: int,
    tag: str,
    fences: list[Geofence],
    workers: int,
    probes: list[Flight],
    database_pid: int | None = None,
) -> TrafficReport:
    """The flights through a fresh server of ``workers`` processes on ``db_url`` holding
    ``fences``, with ``clients`` threads, once its landmarks are in place (``probes``:
    see :func:`wait_landmarks`). Prints the CPU each side used per flight (the database
    server's too, given its process id) and the machine's idle share."""
    with open_store(store_location(db_url), dem=Dem.open(DEFAULT_DEM)) as store:
        store.write_geofences(fences)
        keys = KeyStore(lambda: store)
        tokens = [keys.create(f"{tag}-{i}", "operator")[0] for i in range(clients)]
        var = Path(tempfile.mkdtemp(prefix="airgrid-traffic-var-"))
        with server(grid_path, db_url, var, workers) as (base, pid):
            wait_landmarks(base, tokens[0], grid, probes)
            s0, c0, d0 = cpu_seconds(pid), time.process_time(), _database_s(database_pid)
            i0, w0 = machine_idle_s(), time.perf_counter()
            report, out = run_over_http(grid, flights, base, tokens, clients=clients, id_prefix=tag)
            server_s, client_s = cpu_seconds(pid) - s0, time.process_time() - c0
            database_s = _database_s(database_pid) - d0
            idle = (machine_idle_s() - i0) / ((time.perf_counter() - w0) * (os.cpu_count() or 1))
            peak = server_peak_mib(pid)
        report = check_report(report, store, out)
    console.print(report_table(report, f"{tag}: {report.mode}, {workers} server worker(s)"))
    print(f"server peak memory: {peak:,.0f} MiB (the largest of its processes)")
    per = 1e3 / max(report.flights, 1)
    database = f", PostgreSQL {database_s * per:.2f} ms" if database_pid is not None else ""
    print(
        f"CPU per flight: server {server_s * per:.2f} ms (its processes){database}, "
        f"clients {client_s * per:.2f} ms (this process); machine idle {idle:.0%}"
    )
    return report


def _database_s(pid: int | None) -> float:
    """CPU seconds of the database server and its backends so far (0 without one)."""
    return 0.0 if pid is None else cpu_seconds(pid)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flights", type=int, default=26_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--grid", type=Path, default=GRID, help="Grid folder (built if missing).")
    ap.add_argument("--clients", default="8", help="HTTP client counts, comma-separated.")
    ap.add_argument("--no-http", action="store_true", help="In-process only.")
    ap.add_argument("--no-postgres", action="store_true", help="HTTP on SQLite only.")
    ap.add_argument(
        "--workers",
        type=int,
        default=2,
        help="Server worker processes (airgrid serve --workers; one per core).",
    )
    ap.add_argument(
        "--corridors", type=Path, help="Corridor network GeoJSON ('airgrid corridors --out')."
    )
    ap.add_argument(
        "--plan-processes",
        type=int,
        default=1,
        help="In-process: forked processes planning first routes and intents ahead "
        "(0: threads instead).",
    )
    ap.add_argument(
        "--plan-threads",
        type=int,
        default=1,
        help="In-process, with --plan-processes 0: threads planning first routes and "
        "intents ahead (0: none).",
    )
    ap.add_argument(
        "--corridor-share",
        type=float,
        default=DEFAULT_CORRIDOR_SHARE,
        help="Share of the flights flown as corridor traffic with --corridors.",
    )
    args = ap.parse_args()
    counts = [int(x) for x in args.clients.split(",") if x.strip()]
    if args.flights < 1 or not counts or min(counts) < 1 or max(counts) > 64:
        ap.error("--flights must be >= 1 and --clients in 1..64")
    if args.plan_threads < 0 or args.plan_processes < 0:
        ap.error("--plan-threads and --plan-processes must be >= 0")
    if not 0 < args.corridor_share <= 1:
        ap.error(f"--corridor-share must be in (0, 1], got {args.corridor_share}")
    try:
        network = load_corridor_demand(args.corridors) if args.corridors else None
    except TrafficError as exc:
        ap.error(str(exc))
    grid = hunan_grid(args.grid)
    graph = cached_graph(grid, args.grid.parent / f"{args.grid.name}-graph")
    t0 = time.perf_counter()
    fences = airport_zones(data_dir=DATA_DIR)
    start = day_start()
    no_fly = no_fly_voxels(grid, fences, start, start + DAY_WINDOW_S)
    planner = FlightPlanner(graph, no_fly=no_fly)
    try:
        flights = make_flights(
            grid,
            args.flights,
            args.seed,
            start,
            connected=planner.connected,
            no_fly=no_fly,
            corridors=network,
            corridor_share=args.corridor_share,
        )
    except TrafficError as exc:
        ap.error(str(exc))
    print(
        f"grid {grid.meta.get('area')} {grid.n_voxels:,} voxels ({', '.join(t.name for t in grid.tiers)}); "
        f"{len(flights):,} flights drawn in {time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs"
    )
    tmp = Path(tempfile.mkdtemp(prefix="airgrid-traffic-"))
    reports: list[TrafficReport] = []
    with open_store(tmp / "in-process", dem=Dem.open(DEFAULT_DEM)) as store:
        store.write_geofences(fences)
        report, _ = run_in_process(
            planner,
            flights,
            store,
            id_prefix="inproc",
            plan_threads=args.plan_threads,
            plan_processes=args.plan_processes,
        )
    console.print(report_table(report, "in-process (SQLite)"))
    reports.append(report)
    http_rate = float("nan")
    if not args.no_http:
        probes = probe_flights(planner, flights)
        for k in counts:
            r = http_run(
                grid,
                args.grid,
                f"sqlite:///{tmp / f'http-{k}' / 'airgrid.sqlite'}",
                flights,
                k,
                f"sqlite-{k}",
                fences,
                args.workers,
                probes,
            )
            reports.append(r)
            if k == counts[0]:
                http_rate = r.flights_per_s
        if not args.no_postgres:
            cluster = Cluster()
            admin = cluster.start()
            try:
                for k in counts:
                    url = cluster.database(admin, f"traffic_{k}")
                    r = http_run(
                        grid,
                        args.grid,
                        url,
                        flights,
                        k,
                        f"postgres-{k}",
                        fences,
                        args.workers,
                        probes,
                        cluster.pid(),
                    )
                    reports.append(r)
                    print(f"http (postgresql, {k} clients): {r.flights_per_s:.1f} flights/s")
            finally:
                cluster.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    print("machine shared with other work: figures are single runs, noisy")
    print(f"flights: {len(flights)}")
    print(f"in-process: {reports[0].flights_per_s:.1f} flights/s")
    print(f"http: {http_rate:.1f} flights/s")
    print(f"accepted pairs in conflict: {sum(r.pairs_in_conflict or 0 for r in reports)}")


if __name__ == "__main__":
    main()
