"""A small traffic day over a 15 km Changsha grid: schedule, conflict resolution, report,
brute-force check of the accepted intents, and the CLI."""

from __future__ import annotations

import json
import math
import os
from dataclasses import replace
from itertools import combinations

import h3
import numpy as np
import pytest

from airgrid.airspace.geofences.formats.geojson import feature_to_geofence
from airgrid.airspace.store.service import open_store
from airgrid.airspace.traffic.conflicts import find_conflicts
from airgrid.airspace.traffic.holders import Holder
from airgrid.airspace.traffic.models import Conflict, IntentState
from airgrid.airspace.traffic.separation import SeparationMinima
from airgrid.api.cli.main import main
from airgrid.routing.search import strategy
from airgrid.routing.search.strategy import ZonePlanner
from airgrid.simulation import ahead
from airgrid.simulation.day import DAY_WINDOW_S, day_start, run_in_process
from airgrid.simulation.demand import (
    MAX_SPREAD_M,
    SPREAD_M,
    URBAN_DENSITY_PER_KM2,
    DemandPoints,
    great_circle_m,
    spread_radius_m,
)
from airgrid.simulation.departures import departure_times
from airgrid.simulation.errors import TrafficError
from airgrid.simulation.mix import DEFAULT_MIX, FlightClass, mix_for_grid
from airgrid.simulation.planning import (
    REROUTE_BUDGET_FACTOR,
    REROUTE_MIN_BUDGET,
    ROUTE_BUDGET,
    FlightPlanner,
    prohibited_voxels,
)
from airgrid.simulation.runner import REASONS, TAKE_FIX, first_plan, fly
from airgrid.simulation.schedule import make_flights

#: Demand points inside the test grid (112.9-113.05 E, 28.1-28.25 N).
DEMAND = DemandPoints(
    np.array(["a", "b", "c", "d"], object),
    np.array(["hub", "depot", "depot", "drop"], object),
    np.array([28.20, 28.14, 28.22, 28.13]),
    np.array([112.97, 113.03, 112.93, 112.93]),
    np.array([3.0, 1.0, 1.0, 0.5]),
)
#: Hops in T2 and "intercity" flights between the demand points in T3/T4.
MIX = (
    FlightClass("hop", 0.7, 2_000, 8_000, ("T2",), "T2"),
    FlightClass("link", 0.3, 4_000, 15_000, ("T3", "T4"), "T3", intercity=True, cruise_mps=25.0),
)
DAY = day_start()


@pytest.fixture(scope="module")
def flown(graph, tmp_path_factory):
    """200 flights over a quarter of an hour (dense enough to conflict), flown in-process."""
    planner = FlightPlanner(graph)
    flights = make_flights(graph.grid, 200, 7, DAY, MIX, DEMAND, planner.connected)
    # squeeze the day into 15 minutes so that flights meet
    flights = [replace(f, departure=DAY + (f.departure - DAY) / 96) for f in flights]
    store = open_store(tmp_path_factory.mktemp("store"))
    report, outcomes = run_in_process(planner, flights, store, id_prefix="t")
    yield report, outcomes, store
    store.close()


def test_departures_follow_the_curve_and_the_seed():
    a = departure_times(20_000, 0.0, np.random.default_rng(1))
    b = departure_times(20_000, 0.0, np.random.default_rng(1))
    assert np.array_equal(a, b) and np.all(np.diff(a) >= 0)
    assert a.min() >= 0 and a.max() <= 86_400
    hours = np.histogram(a / 3600, bins=24, range=(0, 24))[0]
    assert hours[10] > 5 * hours[3]  # the late-morning peak over the night
    assert hours[18] > 5 * hours[3]


def test_mix_moves_the_t1_share_where_the_grid_has_no_t1(small_grid):
    classes, pickers = mix_for_grid(small_grid, DEFAULT_MIX)
    names = {c.name: c.share for c in classes}
    assert "last-mile-light" not in names  # the grid has no T1
    assert names["last-mile"] == pytest.approx(0.80)
    assert set(pickers) == {"T2", "T3"}


def test_flights_are_seeded_and_in_range(graph):
    a = make_flights(graph.grid, 100, 5, DAY, MIX, DEMAND)
    b = make_flights(graph.grid, 100, 5, DAY, MIX, DEMAND)
    assert [(f.origin, f.destination, f.departure) for f in a] == [
        (f.origin, f.destination, f.departure) for f in b
    ]
    hops = [f for f in a if f.cls.name == "hop" and f.origin >= 0 and f.destination >= 0]
    assert hops
    for f in hops:
        d = great_circle_m(*f.origin_ll, *f.destination_ll)
        assert 2_000 <= d <= 8_000


def test_a_town_spreads_its_flights_over_an_area_that_grows_with_its_population(graph):
    """Origins lie within their point's disc: a populous point's disc is wider (the area
    at URBAN_DENSITY_PER_KM2), the least one is SPREAD_M, an airport's (no population)
    exactly SPREAD_M."""
    assert spread_radius_m(3_093_980) == pytest.approx(
        math.sqrt(3_093_980 / URBAN_DENSITY_PER_KM2 / math.pi) * 1_000
    )
    assert spread_radius_m(10_000) == spread_radius_m(0) == SPREAD_M
    assert spread_radius_m(1e9) == MAX_SPREAD_M
    radius = np.array([6_000.0, SPREAD_M, SPREAD_M, SPREAD_M])
    wide = replace(DEMAND, radius_m=radius)
    hops = (FlightClass("hop", 1.0, 2_000, 8_000, ("T2",), "T2"),)
    flights = make_flights(graph.grid, 400, 5, DAY, hops, wide)
    names = wide.name.tolist()
    far = dict.fromkeys(names, 0.0)
    for f in flights:
        d = great_circle_m(*f.origin_ll, wide.lat, wide.lon)
        k = int(np.argmin(d / radius))  # the point whose disc holds it
        assert d[k] <= radius[k] * 1.01
        far[names[k]] = max(far[names[k]], float(d[k]))
    assert far["a"] > 4_000 > 3_000 * 1.01 >= max(far["b"], far["c"], far["d"])


def test_report_counts_add_up(flown):
    report, outcomes, _ = flown
    assert report.flights == len(outcomes) == 200
    assert report.accepted + sum(report.refused.values()) == report.flights
    assert set(report.refused) == set(REASONS)
    assert sum(n for n, _ in report.by_class.values()) == report.flights
    assert sum(a for _, a in report.by_class.values()) == report.accepted
    assert report.accepted > 100
    # the squeezed day has conflicts to resolve
    assert report.moved + report.delayed + report.rerouted > 0
    assert report.delay_percentiles_s[-1] <= 1_800
    assert 1.0 <= report.inflation_median < 2.0
    assert report.latency_p50_ms <= report.latency_p99_ms
    # the submitting thread used CPU, and no more than the run's wall time
    assert 0 < report.submit_cpu_s <= report.wall_s and report.plan_cpu_s >= 0


def test_a_fix_taken_by_the_store_leaves_the_refusal_for_the_analytics(flown):
    """Every accepted flight moved in time or altitude without a re-route took its fix
    from the store in one submission, whose refusal as first asked is recorded under the
    accepted intent's id."""
    _, outcomes, store = flown
    fixed = [o for o in outcomes if o.accepted and (o.delay_s or o.offset_m) and not o.reroutes]
    assert fixed and all(o.attempts == 1 for o in fixed)
    refused_ids = {r[0] for r in store._db.execute("SELECT intent_id FROM refusals").fetchall()}
    assert {o.intent_id for o in fixed} <= refused_ids


def test_accepted_intents_are_pairwise_free(flown):
    report, outcomes, store = flown
    assert report.checked == report.accepted and report.pairs_in_conflict == 0
    # independently: every accepted pair through the public conflict test
    intents = [store.get(o.intent_id) for o in outcomes if o.intent_id]
    holders = [Holder(i.id, i.operator, i.priority, i.tier, i.state, i.volumes) for i in intents]
    for a, b in combinations(holders, 2):
        assert not find_conflicts(list(a.volumes), a.tier, a.priority, [b], store.policy.separation)


def test_plans_made_ahead_change_no_outcome(graph, flown, tmp_path):
    """The day of ``flown`` (first routes and intents planned ahead on one thread) flown
    again with every plan made in turn, with three threads planning ahead, and with two
    forked processes planning ahead: the same flights are accepted, delayed, moved and
    re-routed alike."""
    _, outcomes, _ = flown
    planner = FlightPlanner(graph)
    flights = make_flights(graph.grid, 200, 7, DAY, MIX, DEMAND, planner.connected)
    flights = [replace(f, departure=DAY + (f.departure - DAY) / 96) for f in flights]

    def strip(out):
        return [replace(o, latency_s=0.0) for o in out]

    for threads, processes in ((0, 0), (3, 0), (0, 2)):
        with open_store(tmp_path / f"s{threads}-{processes}") as store:
            _, again = run_in_process(
                planner,
                flights,
                store,
                id_prefix="t",
                check=False,
                plan_threads=threads,
                plan_processes=processes,
            )
        assert strip(again) == strip(outcomes)


def test_planning_processes_are_forked_and_plan_as_this_one_does(graph, monkeypatch):
    """Plans made in two forked processes come from other processes (each reports its
    pid through the patched ``first_plan`` it inherited) and equal the plans made here."""
    planner = FlightPlanner(graph)
    flights = [f for f in make_flights(graph.grid, 40, 3, DAY, MIX, DEMAND) if f.origin >= 0]

    def tagged(flight, p, operator, id_prefix):
        return os.getpid(), first_plan(flight, p, operator, id_prefix)

    monkeypatch.setattr(ahead, "first_plan", tagged)
    with ahead.plan_in_processes(planner, 2, "o", "p") as plans:
        made = [plans.plan(f).result() for f in flights]
    assert os.getpid() not in {pid for pid, _ in made}
    for f, (_, plan) in zip(flights, made):
        here = first_plan(f, planner, "o", "p")
        assert plan.reason == here.reason
        assert (plan.request is None) == (here.request is None)
        if here.request is not None:
            assert plan.request.intent_id == here.request.intent_id == f"p-{f.index}-0"
            assert [v.footprint.wkb for v in plan.request.volumes] == [
                v.footprint.wkb for v in here.request.volumes
            ]
            assert np.array_equal(plan.route.voxels, here.route.voxels)


def test_planning_processes_search_corridors_after_this_process_used_numba_threads(
    graph, monkeypatch
):
    """Forked planners search every route by corridors (the fast strategy, whose zone plan
    is made with a parallel Numba kernel) although this process ran parallel kernels
    before forking. Under GNU OpenMP (Numba's ``omp`` layer on Linux) a child forked from
    a process that used it is killed when it starts one, so the zone plan must be made
    before the fork; the plans must equal the ones made here."""
    monkeypatch.setattr(strategy, "CORRIDOR_FROM_M", 0.0)
    ZonePlanner(graph)  # a parallel kernel in this process
    planner = FlightPlanner(graph)
    flights = [f for f in make_flights(graph.grid, 12, 5, DAY, MIX, DEMAND) if f.origin >= 0]
    with ahead.plan_in_processes(planner, 2, "o", "p") as plans:
        made = [plans.plan(f).result(timeout=300) for f in flights]
    assert planner.router.zones is not None
    found = 0
    for f, plan in zip(flights, made):
        here = first_plan(f, planner, "o", "p")
        assert plan.reason == here.reason
        if here.route is not None and here.route.voxels is not None:
            assert np.array_equal(plan.route.voxels, here.route.voxels)
            found += here.reason == ""
    assert found >= 5


@pytest.mark.parametrize("kw", [{"plan_threads": -1}, {"plan_processes": -2}])
def test_negative_planning_counts_are_refused(graph, tmp_path, kw):
    with open_store(tmp_path) as store, pytest.raises(TrafficError, match=">= 0"):
        run_in_process(FlightPlanner(graph), [], store, id_prefix="n", **kw)


def test_a_twin_flight_flies_higher_or_lower_then_later_then_around(graph, tmp_path):
    """The fixes a refused flight lets the store take, in order: an altitude offset, else a
    departure shift; without them, a route around the conflict."""
    flights = [f for f in make_flights(graph.grid, 30, 2, DAY, MIX, DEMAND) if f.origin >= 0]
    f = next(x for x in flights if x.cls.name == "hop" and x.destination >= 0)
    planner = FlightPlanner(graph)
    with open_store(tmp_path) as store:

        def submit(r, room_s, take_fix=TAKE_FIX):
            return store.submit(r, preempt=False, max_shift_s=room_s, take_fix=take_fix)

        first = fly(f, planner, submit, operator="o", id_prefix="a")
        assert first.accepted and first.delay_s == 0 and first.offset_m == 0
        twin = fly(f, planner, submit, operator="o", id_prefix="b")
        assert twin.accepted and twin.attempts == 1
        assert twin.offset_m != 0 and twin.delay_s == 0
        got = store.get(f"b-{f.index}-0").volumes
        want = store.get(f"a-{f.index}-0").volumes
        assert [v.floor_m - w.floor_m for v, w in zip(got, want)] == [twin.offset_m] * len(got)
        assert [v.t_start for v in got] == [w.t_start for w in want]

        # taking only departure shifts, the next twin leaves later
        only_shifts = fly(
            f,
            planner,
            lambda r, room_s: submit(r, room_s, ("departure_shift",)),
            operator="o",
            id_prefix="c",
        )
        assert only_shifts.accepted and only_shifts.delay_s > 0 and only_shifts.offset_m == 0
        got = store.get(f"c-{f.index}-0").volumes
        assert [v.t_start - w.t_start for v, w in zip(got, want)] == [only_shifts.delay_s] * len(
            got
        )
        # without proposals the next twin is re-routed around the others instead, in a
        # search bounded by the first one's expansions
        calls: list[tuple[int, int]] = []
        plain = planner.route

        def spy(flight, avoid=None, budget=ROUTE_BUDGET):
            r = plain(flight, avoid, budget)
            calls.append((budget, r.expansions))
            return r

        planner.route = spy
        third = fly(
            f, planner, lambda r, room_s: submit(r, room_s, ()), operator="o", id_prefix="d"
        )
        assert third.reroutes >= 1 and third.attempts >= 2
        bound = max(REROUTE_MIN_BUDGET, REROUTE_BUDGET_FACTOR * calls[0][1])
        assert calls[0][0] == ROUTE_BUDGET and [b for b, _ in calls[1:]] == [bound] * (
            len(calls) - 1
        )
        assert all(e <= bound for _, e in calls[1:])


def test_conflict_voxels_are_those_of_the_cells_around_each_conflict(graph):
    """The voxels a re-route avoids, against a test of every voxel of the grid: those of the
    asked tiers whose cell lies within the conflict's ring of cells and whose band meets
    the conflict's band grown by the vertical minimum and the tube's half-height."""
    grid, planner = graph.grid, FlightPlanner(graph)
    names = [t.name for t in grid.tiers]
    rng = np.random.default_rng(5)
    conflicts = [
        Conflict(
            "x", "o", 0, IntentState.ACCEPTED, 0, 0,
            float(rng.uniform(28.12, 28.23)), float(rng.uniform(112.92, 113.03)),
            float(lo), float(lo + rng.uniform(10, 80)), 0.0, 60.0, 0.0,
            SeparationMinima(float(rng.uniform(30, 600)), float(rng.uniform(10, 40)), 30.0),
            False,
        )
        for lo in rng.uniform(50, 900, 6)
    ]  # fmt: skip
    for tiers in (("T2",), ("T3", "T4")):
        got = planner.conflict_voxels(conflicts, tiers)
        want = set()
        for c in conflicts:
            reach = 2 * c.minima.lateral_m + planner.tube.half_width_m
            lo = c.floor_m - c.minima.vertical_m - planner.tube.half_height_m
            hi = c.ceiling_m + c.minima.vertical_m + planner.tube.half_height_m
            for name in tiers:
                t = names.index(name)
                res = grid.tiers[t].resolution
                k = max(
                    1, math.ceil(reach / (math.sqrt(3) * h3.average_hexagon_edge_length(res, "m")))
                )
                ring = {
                    h3.str_to_int(x) for x in h3.grid_disk(h3.latlng_to_cell(c.lat, c.lon, res), k)
                }
                hit = (
                    (grid.tier == t)
                    & np.isin(grid.cell, list(ring))
                    & (grid.floor <= hi)
                    & (grid.ceiling >= lo)
                )
                want |= set(np.flatnonzero(hit).tolist())
        assert want and set(got.tolist()) == want


def test_prohibited_geofences_keep_the_day_out(graph, tmp_path):
    """With the store's prohibited geofences as no-fly voxels, no flight is drawn to end
    inside them and none routes through them (no refusal for a geofence); without, the
    same day runs into them."""
    lat, lon = float(DEMAND.lat[0]), float(DEMAND.lon[0])  # the busiest point, "a"
    d = 0.02
    fence = feature_to_geofence(
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [lon - d, lat - d],
                        [lon + d, lat - d],
                        [lon + d, lat + d],
                        [lon - d, lat + d],
                        [lon - d, lat - d],
                    ]
                ],
            },
            "properties": {"identifier": "NO-FLY-A", "lower_m": 0, "upper_m": 2_000},
        }
    )
    no_fly = prohibited_voxels(graph.grid, [fence], DAY, DAY + DAY_WINDOW_S)
    assert no_fly is not None and no_fly.any()
    refused = {}
    for name, mask in (("with", no_fly), ("without", None)):
        planner = FlightPlanner(graph, no_fly=mask)
        flights = make_flights(graph.grid, 40, 3, DAY, MIX, DEMAND, planner.connected, mask)
        with open_store(tmp_path / name) as store:
            store.write_geofences([fence])
            report, outcomes = run_in_process(planner, flights, store, id_prefix=name)
        refused[name] = report.refused["geofence"]
        if mask is not None:
            assert report.accepted > 0
            ends = [v for f in flights for v in (f.origin, f.destination) if v >= 0]
            assert ends and not mask[ends].any()
            flown = [flights[o.index] for o in outcomes if o.accepted]
            assert not no_fly[[v for f in flown for v in (f.origin, f.destination)]].any()
    assert refused == {"with": 0, "without": refused["without"]} and refused["without"] > 0


@pytest.mark.parametrize(
    "args",
    [
        ["--flights", "0"],
        ["--flights", "10", "--seed", "-1"],
        ["--flights", "10", "--clients", "0", "--server", "http://127.0.0.1:9"],
        ["--flights", "10", "--day", "tomorrow"],
        ["--flights", "10", "--plan-processes", "-1"],
        ["--flights", "10", "--plan-processes", "9"],
        ["--flights", "10", "--server", "http://127.0.0.1:9"],
        ["--flights", "10", "--db", "sqlite:///tmp/not-the-store-file.db"],
    ],
)
def test_cli_bad_input_exits_2(small_grid, tmp_path_factory, args, capsys):
    grid_dir = tmp_path_factory.mktemp("g")
    small_grid.save(grid_dir)
    assert main(["traffic", "--grid", str(grid_dir), *args]) == 2
    assert "airgrid: error" in capsys.readouterr().err


def test_cli_flies_a_day_and_writes_the_report(small_grid, tmp_path, capsys):
    small_grid.save(tmp_path / "grid")
    code = main(
        [
            "traffic",
            "--grid",
            str(tmp_path / "grid"),
            "--flights",
            "30",
            "--seed",
            "1",
            "--plan-processes",
            "1",
            "--db",
            str(tmp_path / "db"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "accepted pairs in conflict" in printed and "flights/s" in printed
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    assert doc["flights"] == 30 and doc["pairs_in_conflict"] == 0
    assert doc["accepted"] + sum(doc["refused"].values()) == 30
    rows = (tmp_path / "out" / "flights.csv").read_text().splitlines()
    assert len(rows) == 31
