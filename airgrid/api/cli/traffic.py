"""``airgrid traffic``: fly a day of traffic (in-process, or against a running server)."""

from __future__ import annotations

import csv
import json
import uuid
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from airgrid.airspace.geofences.model import Category
from airgrid.airspace.store.service import Store, open_store
from airgrid.api.cli.common import BadInput, cli_settings, console
from airgrid.api.cli.route import GraphCacheOpt, RouteGridOpt, _load
from airgrid.api.http.auth import KeyStore
from airgrid.api.http.stores import store_location
from airgrid.routing.graph import RouteGraph
from airgrid.simulation.ahead import MAX_PLAN_PROCESSES
from airgrid.simulation.corridors import (
    DEFAULT_CORRIDOR_SHARE,
    CorridorDemand,
    load_corridor_demand,
)
from airgrid.simulation.day import DAY_WINDOW_S, day_start, run_in_process, run_over_http
from airgrid.simulation.errors import TrafficError
from airgrid.simulation.http_runner import MAX_CLIENTS
from airgrid.simulation.planning import FlightPlanner, no_fly_voxels
from airgrid.simulation.report import TrafficReport
from airgrid.simulation.runner import FlightOutcome
from airgrid.simulation.schedule import Flight, make_flights

#: Most flights one command may fly.
MAX_FLIGHTS = 200_000


def report_table(r: TrafficReport, title: str) -> Table:
    """A traffic report as a two-column rich table."""
    t = Table(title=title, show_header=False)
    t.add_row("mode", r.mode)
    t.add_row("flights", f"{r.flights:,}")
    share = 100 * r.accepted / r.flights if r.flights else 0.0
    t.add_row("accepted", f"{r.accepted:,} ({share:.1f} %)")
    for reason, n in r.refused.items():
        t.add_row(f"refused: {reason}", f"{n:,}")
    for name, (n, acc) in r.by_class.items():
        t.add_row(f"class {name}", f"{acc:,} of {n:,} accepted, {n - acc:,} refused")
    t.add_row(
        "delayed / re-routed / other altitude", f"{r.delayed:,} / {r.rerouted:,} / {r.moved:,}"
    )
    p50, p90, p99, top = r.delay_percentiles_s
    t.add_row(
        "delay mean / p50 / p90 / p99 / max",
        f"{r.delay_mean_s:.0f} / {p50:.0f} / {p90:.0f} / {p99:.0f} / {top:.0f} s",
    )
    t.add_row(
        "route length / great circle", f"median {r.inflation_median:.3f}, p90 {r.inflation_p90:.3f}"
    )
    t.add_row("wall time", f"{r.wall_s:,.1f} s")
    t.add_row("flights/s (end to end)", f"{r.flights_per_s:,.1f}")
    t.add_row("per flight p50 / p99", f"{r.latency_p50_ms:.1f} / {r.latency_p99_ms:.1f} ms")
    t.add_row("peak memory", f"{r.peak_rss_mib:,.0f} MiB")
    if r.submit_cpu_s is not None and r.plan_cpu_s is not None:
        t.add_row(
            "CPU: submitting thread / planning",
            f"{r.submit_cpu_s:,.1f} / {r.plan_cpu_s:,.1f} s",
        )
    t.add_row(
        "accepted pairs in conflict",
        "not checked"
        if r.pairs_in_conflict is None
        else f"{r.pairs_in_conflict} (among {r.checked:,} accepted intents, every pair)",
    )
    return t


def write_run(out: Path, report: TrafficReport, outcomes: list[FlightOutcome]) -> None:
    """``report.json`` and ``flights.csv`` (one row per flight) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")
    rows = [asdict(o) for o in outcomes]
    with (out / "flights.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["index"])
        w.writeheader()
        w.writerows(rows)


def _check_args(
    flights: int,
    seed: int,
    clients: int,
    processes: int,
    day: str | None,
    server: str | None,
    key: bool,
) -> date | None:
    """The local day asked for, once every argument is valid (:class:`BadInput` otherwise)."""
    if server is not None and not key:
        raise BadInput("--server needs --api-key, or --db (the server's store) to make one")
    if not 0 <= processes <= MAX_PLAN_PROCESSES:
        raise BadInput(f"--plan-processes must be 0..{MAX_PLAN_PROCESSES}, got {processes}")
    if not 1 <= flights <= MAX_FLIGHTS:
        raise BadInput(f"--flights must be 1..{MAX_FLIGHTS}, got {flights}")
    if seed < 0:
        raise BadInput(f"--seed must be >= 0, got {seed}")
    if not 1 <= clients <= MAX_CLIENTS:
        raise BadInput(f"--clients must be 1..{MAX_CLIENTS}, got {clients}")
    try:
        return None if day is None else date.fromisoformat(day)
    except ValueError:
        raise BadInput(f"--day must be YYYY-MM-DD, got {day!r}") from None


def _corridor_demand(path: Path | None, share: float | None) -> CorridorDemand | None:
    """The corridor network of ``--corridors`` (None without), once ``--corridor-share``
    is valid (:class:`BadInput` otherwise)."""
    if path is None:
        if share is not None:
            raise BadInput("--corridor-share needs --corridors (a corridor network file)")
        return None
    if share is not None and not 0 < share <= 1:
        raise BadInput(f"--corridor-share must be in (0, 1], got {share}")
    try:
        return load_corridor_demand(path)
    except TrafficError as exc:
        raise BadInput(str(exc)) from None


def _day_plan(
    graph: RouteGraph,
    store: Store | None,
    the_day: date | None,
    flights: int,
    seed: int,
    network: CorridorDemand | None,
    corridor_share: float | None,
) -> tuple[FlightPlanner, list[Flight]]:
    """The planner (kept out of ``store``'s prohibited geofences and the area's edge) and
    the day's flights (:class:`BadInput` when the grid cannot fly them)."""
    t0 = day_start(the_day)
    fences = store.list_geofences(Category.PROHIBITED) if store is not None else []
    no_fly = no_fly_voxels(graph.grid, fences, t0, t0 + DAY_WINDOW_S)
    planner = FlightPlanner(graph, no_fly=no_fly)
    try:
        plan = make_flights(
            graph.grid,
            flights,
            seed,
            t0,
            connected=planner.connected,
            no_fly=no_fly,
            corridors=network,
            corridor_share=DEFAULT_CORRIDOR_SHARE if corridor_share is None else corridor_share,
        )
    except TrafficError as exc:
        raise BadInput(str(exc)) from None
    return planner, plan


def _tokens(store: Store | None, api_key: str | None, run: str, clients: int) -> list[str]:
    """The API keys the clients fly with: ``api_key``, else one operator key per client
    made in the server's ``store`` (none without either)."""
    if api_key:
        return [api_key]
    if store is None:
        return []
    keys = KeyStore(lambda: store)
    return [keys.create(f"{run}-{i}", "operator")[0] for i in range(clients)]


#: ``--plan-processes``.
PlanProcessesOpt = Annotated[
    int,
    typer.Option(
        help="In-process: forked processes making the flights' first routes and intents "
        "ahead of the submissions (0: one thread does)."
    ),
]


def traffic_cmd(
    ctx: typer.Context,
    flights: Annotated[int, typer.Option(help="Flights in the day.")] = 1_000,
    seed: Annotated[int, typer.Option(help="Seed of the day's demand and departures.")] = 0,
    grid: RouteGridOpt = None,
    graph_cache: GraphCacheOpt = None,
    day: Annotated[
        str | None, typer.Option(help="Local day (UTC+8) YYYY-MM-DD; default tomorrow.")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            help="Store: sqlite:///<dir>/airgrid.sqlite, a SQLite folder, or a postgresql:// URL. In-process default: a fresh folder "
            "<var dir>/traffic/<run>. With --server: the server's store, for API keys, its prohibited geofences and the check."
        ),
    ] = None,
    server: Annotated[
        str | None, typer.Option(help="Fly against this running server (http://host:port).")
    ] = None,
    clients: Annotated[int, typer.Option(help="Client threads with --server.")] = 8,
    plan_processes: PlanProcessesOpt = 0,
    api_key: Annotated[
        str | None,
        typer.Option(help="Operator API key with --server (default: one made in --db)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write report.json and flights.csv to this folder.")
    ] = None,
    corridors: Annotated[
        Path | None,
        typer.Option(
            help="Corridor network GeoJSON (from 'airgrid corridors --out'): a share of the day "
            "flies between its nodes, corridor by corridor, in its tier (class 'corridor')."
        ),
    ] = None,
    corridor_share: Annotated[
        float | None,
        typer.Option(
            help=f"Share of the flights drawn as corridor traffic with --corridors "
            f"(0-1, default {DEFAULT_CORRIDOR_SHARE})."
        ),
    ] = None,
) -> None:
    """Fly a day of traffic: route, submit and deconflict every flight, and report.

    Example with corridor traffic on the default grid (Changsha):
    airgrid corridors --area changsha --kinds hub,depot,drop --grid var/grid-default --out var/net.geojson;
    airgrid traffic --flights 100 --corridors var/net.geojson --corridor-share 0.3
    """
    the_day = _check_args(
        flights, seed, clients, plan_processes, day, server, api_key is not None or db is not None
    )
    network = _corridor_demand(corridors, corridor_share)
    cfg = cli_settings(ctx)
    graph = _load(grid or cfg.grid_path, graph_cache)
    run = f"t{seed}-{uuid.uuid4().hex[:8]}"
    location: str | Path | None
    if server is None:
        location = store_location(db) if db else cfg.var_dir / "traffic" / run
    else:
        location = store_location(db) if db is not None else None
    store = open_store(location) if location is not None else None
    try:
        planner, plan = _day_plan(graph, store, the_day, flights, seed, network, corridor_share)
        if server is not None:
            tokens = _tokens(store, api_key, run, clients)
            report, outcomes = run_over_http(
                graph.grid, plan, server, tokens, clients=clients, id_prefix=run, store=store
            )
        elif store is not None:  # in-process: the store given or a fresh one
            report, outcomes = run_in_process(
                planner, plan, store, id_prefix=run, plan_processes=plan_processes
            )
    finally:
        if store is not None:
            store.close()
    console.print(report_table(report, f"traffic day {run} ({flights:,} flights, seed {seed})"))
    if out is not None:
        write_run(out, report, outcomes)
        console.print(f"wrote {out / 'report.json'} and {out / 'flights.csv'}")


def register(app: typer.Typer) -> None:
    """Add ``traffic`` to ``app``."""
    app.command("traffic")(traffic_cmd)
