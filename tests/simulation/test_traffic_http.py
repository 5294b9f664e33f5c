"""A small traffic day through the public HTTP API of a real server, with client threads."""

from __future__ import annotations

from dataclasses import replace

from airgrid.airspace.store.service import open_store
from airgrid.api.http.auth import KeyStore
from airgrid.routing import build_graph
from airgrid.simulation.day import day_start, run_over_http
from airgrid.simulation.planning import FlightPlanner
from airgrid.simulation.runner import REASONS
from airgrid.simulation.schedule import make_flights
from tests.servers import airgrid_serve
from tests.simulation.test_traffic_day import DEMAND, MIX


def test_http_day_is_deconflicted_and_counted(small_grid, tmp_path):
    grid_dir = tmp_path / "grid"
    small_grid.save(grid_dir)
    planner = FlightPlanner(build_graph(small_grid))
    day = day_start()
    flights = make_flights(small_grid, 60, 11, day, MIX, DEMAND, planner.connected)
    # within ten minutes, so that flights meet
    flights = [replace(f, departure=day + (f.departure - day) / 144) for f in flights]
    store = open_store(tmp_path)
    keys = KeyStore(lambda: store)
    tokens = [keys.create(f"op-{i}", "operator")[0] for i in range(4)]
    env = {
        "AIRGRID_GRID_PATH": str(grid_dir),
        "AIRGRID_DB_URL": f"sqlite:///{tmp_path / 'airgrid.sqlite'}",
        "AIRGRID_VAR_DIR": str(tmp_path / "var"),
    }
    try:
        with airgrid_serve(env, tmp_path / "uvicorn.log") as base:
            report, outcomes = run_over_http(
                small_grid, flights, base, tokens, clients=4, id_prefix="h", store=store
            )
    finally:
        store.close()
    assert [o.index for o in outcomes] == [f.index for f in flights]
    assert report.accepted + sum(report.refused.values()) == 60
    assert set(report.refused) == set(REASONS)
    assert report.accepted > 30
    assert report.delayed + report.rerouted > 0
    assert report.checked == report.accepted and report.pairs_in_conflict == 0
