"""Corridor traffic: a corridor network designed over the 15 km Changsha test grid, written
as ``airgrid corridors --out`` writes it, flown as a share of the traffic day."""

from __future__ import annotations

import json
import re
from collections import Counter

import h3
import numpy as np
import pytest

from airgrid.airspace.store.service import open_store
from airgrid.api.cli.main import main
from airgrid.routing.corridors.corridor import clear_corridors
from airgrid.routing.corridors.network import NetworkParams, design_network
from airgrid.routing.corridors.nodes import make_node
from airgrid.routing.corridors.report import network_geojson
from airgrid.simulation.corridors import (
    CORRIDOR_CLASS,
    CORRIDOR_SPREAD_M,
    corridor_class,
    load_corridor_demand,
    with_corridors,
)
from airgrid.simulation.day import day_start, run_in_process
from airgrid.simulation.demand import VoxelPicker, great_circle_m
from airgrid.simulation.errors import CorridorFileError, NoDemandError, TrafficError
from airgrid.simulation.planning import FlightPlanner
from airgrid.simulation.schedule import SNAP_M, make_flights
from tests.simulation.test_traffic_day import DEMAND, MIX

#: Network nodes inside the test grid (112.9-113.05 E, 28.1-28.25 N): one large town.
NODES = [
    make_node(f"n{i}", f"N{i}", la, lo, "hub", w)
    for i, (la, lo, w) in enumerate(
        [(28.20, 112.97, 3e5), (28.14, 113.03, 1e5), (28.22, 112.93, 1e5), (28.13, 112.96, 5e4)]
    )
]
DAY = day_start()


@pytest.fixture(scope="module")
def network(graph, tmp_path_factory):
    """The T2 network over :data:`NODES` and its GeoJSON file (the marks the design sets
    in the shared test grid are cleared again)."""
    net = design_network(graph, NODES, NetworkParams(tier="T2"))
    assert net.is_connected() and len(net.corridors) >= 3
    path = tmp_path_factory.mktemp("net") / "net.geojson"
    path.write_text(json.dumps(network_geojson(net)), encoding="utf-8")
    clear_corridors(graph.grid)
    return net, path


def test_reads_the_corridors_geojson(network):
    net, path = network
    d = load_corridor_demand(path)
    m = len(net.corridors)
    assert d.tier == "T2" and len(d) == 2 * m  # each corridor from either end
    for k, c in enumerate(net.corridors):
        assert (d.o_name[k], d.d_name[k]) == (c.a.name, c.b.name)
        assert (d.o_name[m + k], d.d_name[m + k]) == (c.b.name, c.a.name)
        assert (d.o_lat[k], d.o_lon[k]) == (d.d_lat[m + k], d.d_lon[m + k])
        # the ends are where the corridor meets its nodes: within the node's access offset
        for lat, lon, node in ((d.o_lat, d.o_lon, c.a), (d.d_lat, d.d_lon, c.b)):
            gap = float(great_circle_m(lat[k], lon[k], node.lat, node.lon))
            assert gap <= net.access[node.id].offset_m + 100
    # a leg weighs its origin's weight shared by the origin's corridors
    by_name = {n.name: n for n in NODES}
    degree = Counter(x for c in net.corridors for x in (c.a.name, c.b.name))
    w = np.array([by_name[o].weight / degree[o] for o in d.o_name])
    assert np.allclose(d.weight, w / w.max())


def test_legs_are_drawn_by_weight(network):
    d = load_corridor_demand(network[1])
    rng = np.random.default_rng(0)
    legs = {
        ((a, b), (c, e)): k
        for k, (a, b, c, e) in enumerate(zip(d.o_lat, d.o_lon, d.d_lat, d.d_lon))
    }
    drawn = Counter(legs[d.draw(rng)] for _ in range(20_000))
    freq = np.array([drawn[k] for k in range(len(d))]) / 20_000
    assert np.allclose(freq, d.weight / d.weight.sum(), atol=0.015)


def test_the_corridor_share_is_respected(graph, network):
    _, path = network
    d = load_corridor_demand(path)
    mix = with_corridors(MIX, corridor_class(d, 0.3))
    shares = {c.name: c.share for c in mix}
    assert shares == pytest.approx({"hop": 0.49, "link": 0.21, CORRIDOR_CLASS: 0.3})
    planner = FlightPlanner(graph)
    flights = make_flights(
        graph.grid, 600, 4, DAY, MIX, DEMAND, planner.connected, corridors=d, corridor_share=0.3
    )
    n = Counter(f.cls.name for f in flights)
    sigma = (600 * 0.3 * 0.7) ** 0.5
    assert abs(n[CORRIDOR_CLASS] - 180) < 4 * sigma
    assert n["hop"] + n["link"] + n[CORRIDOR_CLASS] == 600


def test_corridor_departures_follow_the_daily_curve(graph, network):
    d = load_corridor_demand(network[1])
    flights = make_flights(graph.grid, 2_000, 1, DAY, MIX, DEMAND, corridors=d, corridor_share=0.5)
    t = np.array([f.departure for f in flights if f.cls.name == CORRIDOR_CLASS])
    hours = np.histogram((t - DAY) / 3600, bins=24, range=(0, 24))[0]
    assert len(t) > 800 and hours[10] > 4 * hours[3] and hours[18] > 4 * hours[3]


def test_a_corridor_class_needs_a_network(graph, network):
    cls = corridor_class(load_corridor_demand(network[1]), 0.5)
    with pytest.raises(TrafficError, match="needs a corridor network"):
        make_flights(graph.grid, 10, 1, DAY, (*MIX, cls), DEMAND)


def test_corridor_flights_end_at_the_network_nodes(graph, network):
    net, path = network
    d = load_corridor_demand(path)
    planner = FlightPlanner(graph)
    flights = make_flights(
        graph.grid, 200, 9, DAY, MIX, DEMAND, planner.connected, corridors=d, corridor_share=0.5
    )
    mine = [f for f in flights if f.cls.name == CORRIDOR_CLASS]
    assert len(mine) > 60 and all(f.cls.tiers == ("T2",) and f.cls.end_tier == "T2" for f in mine)
    picker = VoxelPicker(graph.grid, "T2")
    pairs = {frozenset((c.a.name, c.b.name)) for c in net.corridors}
    by_name = {n.name: n for n in NODES}
    flown = [f for f in mine if f.origin >= 0 and f.destination >= 0]
    assert len(flown) > 0.9 * len(mine)
    reach = CORRIDOR_SPREAD_M + 1.0
    for f in flown:
        # drawn around the two ends of one corridor, from one of its nodes to the other
        near_o = great_circle_m(*f.origin_ll, d.o_lat, d.o_lon) <= reach
        near_d = great_circle_m(*f.destination_ll, d.d_lat, d.d_lon) <= reach
        legs = np.flatnonzero(near_o & near_d)
        assert len(legs) and any(frozenset((d.o_name[k], d.d_name[k])) in pairs for k in legs)
        k = int(legs[0])
        # snapped to the usable T2 voxel nearest the drawn point, near the node
        assert f.origin == picker.nearest(*f.origin_ll, SNAP_M)
        assert f.destination == picker.nearest(*f.destination_ll, SNAP_M)
        for v, name in ((f.origin, d.o_name[k]), (f.destination, d.d_name[k])):
            node = by_name[name]
            cell = h3.int_to_str(int(graph.grid.cell_id[graph.grid.voxel_cell[v]]))
            gap = float(great_circle_m(*h3.cell_to_latlng(cell), node.lat, node.lon))
            assert gap <= net.access[node.id].offset_m + CORRIDOR_SPREAD_M + SNAP_M
    # spread: flights from one corridor end leave from several voxels
    assert len({f.origin for f in flown}) > 2 * len(net.corridors)


def test_corridor_flights_are_flown_and_reported_apart(graph, network, tmp_path):
    _, path = network
    planner = FlightPlanner(graph)
    flights = make_flights(
        graph.grid,
        60,
        2,
        DAY,
        MIX,
        DEMAND,
        planner.connected,
        corridors=load_corridor_demand(path),
        corridor_share=0.5,
    )
    with open_store(tmp_path) as store:
        report, _ = run_in_process(planner, flights, store, id_prefix="c")
    n, acc = report.by_class[CORRIDOR_CLASS]
    assert n == sum(f.cls.name == CORRIDOR_CLASS for f in flights) and 0 < acc <= n
    assert report.pairs_in_conflict == 0


def test_without_corridors_nothing_changes(graph):
    planner = FlightPlanner(graph)
    a = make_flights(graph.grid, 80, 5, DAY, MIX, DEMAND, planner.connected)
    b = make_flights(graph.grid, 80, 5, DAY, MIX, DEMAND, planner.connected, corridors=None)
    assert [(f.cls, f.origin, f.destination, f.departure) for f in a] == [
        (f.cls, f.origin, f.destination, f.departure) for f in b
    ]
    assert {f.cls.name for f in a} == {"hop", "link"}


def test_a_network_outside_the_grid_is_refused(graph, network, tmp_path):
    _, path = network
    doc = json.loads(path.read_text())
    for f in doc["features"]:  # move everything 1 degree north, off the grid
        g = f["geometry"]
        if g["type"] == "Point":
            g["coordinates"][1] += 1
        elif g["type"] == "LineString":
            for p in g["coordinates"]:
                p[1] += 1
    moved = tmp_path / "north.geojson"
    moved.write_text(json.dumps(doc))
    with pytest.raises(NoDemandError, match=r"no corridor of .*north.geojson has both ends"):
        make_flights(graph.grid, 10, 1, DAY, MIX, DEMAND, corridors=load_corridor_demand(moved))


def _broken(doc: dict, how: str) -> dict | str:
    """``doc`` (a network's GeoJSON) broken in one way."""
    feats = doc["features"]
    line = next(f for f in feats if f["properties"]["feature"] == "centreline")
    node = next(f for f in feats if f["properties"]["feature"] == "node")
    if how == "json":
        return json.dumps(doc)[:-40]
    if how == "type":
        return {"type": "Feature", "geometry": None, "properties": {}}
    if how == "no-corridor":
        return {"type": "FeatureCollection", "features": [node]}
    if how == "unknown-end":
        line["properties"]["b_id"] = "nowhere"
    if how == "node-coords":
        node["geometry"]["coordinates"] = ["x", 28.1]
    if how == "line-geometry":
        line["geometry"] = {"type": "Point", "coordinates": [113.0, 28.1]}
    return doc


@pytest.mark.parametrize(
    "how, message",
    [
        ("missing", "cannot read corridor file .*absent.geojson: No such file"),
        ("json", "corridor file .*bad.geojson: not valid JSON"),
        ("type", "bad.geojson: expected a GeoJSON FeatureCollection"),
        ("no-corridor", "bad.geojson: no corridor in it"),
        ("unknown-end", "bad.geojson feature .*: corridor end 'nowhere' is not a node"),
        ("node-coords", "bad.geojson feature .*lon, lat and weight must be numbers"),
        ("line-geometry", "bad.geojson feature .*: a centreline must be a LineString"),
    ],
)
def test_a_bad_corridor_file_exits_2_with_its_message(
    small_grid, network, tmp_path, capsys, how, message
):
    _, path = network
    small_grid.save(tmp_path / "grid")
    bad = tmp_path / ("absent.geojson" if how == "missing" else "bad.geojson")
    if how != "missing":
        doc = _broken(json.loads(path.read_text()), how)
        bad.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        with pytest.raises(CorridorFileError, match=message):
            load_corridor_demand(bad)
    args = ["traffic", "--grid", str(tmp_path / "grid"), "--flights", "5", "--corridors", str(bad)]
    assert main([*args, "--db", str(tmp_path / "db")]) == 2
    err = capsys.readouterr().err
    assert "airgrid: error" in err
    assert re.search(message, err.replace("\n", ""))


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--corridor-share", "0.2"], "--corridor-share needs --corridors"),
        (
            ["--corridors", "NET", "--corridor-share", "1.5"],
            r"--corridor-share must be in \(0, 1\]",
        ),
        (["--corridors", "NET", "--corridor-share", "0"], r"--corridor-share must be in \(0, 1\]"),
    ],
)
def test_cli_corridor_share_is_checked(small_grid, network, tmp_path, capsys, extra, message):
    _, path = network
    small_grid.save(tmp_path / "grid")
    extra = [str(path) if x == "NET" else x for x in extra]
    code = main(["traffic", "--grid", str(tmp_path / "grid"), "--flights", "5", *extra])
    assert code == 2
    assert re.search(message, capsys.readouterr().err)


def test_cli_flies_corridor_traffic(small_grid, network, tmp_path, capsys):
    _, path = network
    small_grid.save(tmp_path / "grid")
    code = main(
        [
            "traffic",
            "--grid",
            str(tmp_path / "grid"),
            "--flights",
            "30",
            "--seed",
            "3",
            "--db",
            str(tmp_path / "db"),
            "--corridors",
            str(path),
            "--corridor-share",
            "0.5",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    assert "class corridor" in capsys.readouterr().out
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    n, acc = doc["by_class"][CORRIDOR_CLASS]
    assert 5 <= n <= 25 and acc > 0 and doc["pairs_in_conflict"] == 0
