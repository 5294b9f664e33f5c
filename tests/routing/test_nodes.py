"""Logistics nodes: the default Hunan set from airgrid/data/, user files (GeoJSON, CSV) and their errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import shapely

from airgrid.airspace.grid import named_area
from airgrid.routing.corridors.nodes import (
    DEPOT_MIN_POPULATION,
    PREFECTURE_SEATS,
    NodeKind,
    default_nodes,
    load_nodes,
    make_node,
    nodes_to_geojson,
)
from airgrid.routing.errors import NodeFileError, RoutingError
from tests.conftest import DATA

SEAT_NAMES = {
    "Changsha",
    "Zhuzhou",
    "Xiangtan",
    "Hengyang",
    "Shaoyang",
    "Yueyang",
    "Changde",
    "Zhangjiajie",
    "Yiyang",
    "Chenzhou",
    "Yongzhou",
    "Huaihua",
    "Loudi",
    "Jishou",
}


def _population() -> dict[str, int]:
    with (DATA / "hunan_places_geonames.csv").open(encoding="utf-8") as fh:
        return {f"geonames:{r['geonameid']}": int(r["population"]) for r in csv.DictReader(fh)}


def test_default_nodes_have_the_14_seats_as_hubs_with_population_weights() -> None:
    nodes = default_nodes()
    pop = _population()
    seats = [n for n in nodes if n.id in {f"geonames:{g}" for g in PREFECTURE_SEATS}]
    assert {n.name for n in seats} == SEAT_NAMES
    assert all(n.kind is NodeKind.HUB and n.weight == pop[n.id] > 0 for n in seats)
    changsha = next(n for n in seats if n.name == "Changsha")
    assert (changsha.lat, changsha.lon, changsha.weight) == (28.19874, 112.97087, 3093980)
    assert (
        next(n for n in seats if n.name == "Yiyang").id == "geonames:1808316"
    )  # GeoNames "Heshan"


def test_default_nodes_airports_depots_and_drops() -> None:
    nodes = default_nodes()
    pop = _population()
    airports = [n for n in nodes if n.id.startswith("airport:")]
    codes = {n.id.split(":")[1] for n in airports}
    assert {"ZGHA", "ZGXX", "ZGDY", "ZGCD"} <= codes and "ZGCS" not in codes  # air base left out
    assert all(n.kind is NodeKind.HUB and n.weight == 0 for n in airports)
    others = [
        n
        for n in nodes
        if n.id.startswith("geonames:") and int(n.id.split(":")[1]) not in PREFECTURE_SEATS
    ]
    assert all(n.weight == pop[n.id] > 0 for n in others)
    assert all((n.kind is NodeKind.DEPOT) == (n.weight >= DEPOT_MIN_POPULATION) for n in others)
    assert {n.kind for n in others} == {NodeKind.DEPOT, NodeKind.DROP}
    assert len({n.id for n in nodes}) == len(nodes)


def test_default_nodes_filters_by_kind_and_area() -> None:
    hubs = default_nodes(kinds=["hub"])
    assert {n.kind for n in hubs} == {NodeKind.HUB}
    changsha = named_area("changsha")
    inside = default_nodes(area=changsha)
    names = {n.name for n in inside}
    assert "Changsha" in names and "Hengyang" not in names
    assert all(changsha.geometry.covers(shapely.Point(n.lon, n.lat)) for n in inside)


def test_csv_and_geojson_round_trip(tmp_path: Path) -> None:
    f = tmp_path / "nodes.csv"
    f.write_text(
        "name,lat,lon,kind,weight\nDepot A,28.1,112.9,depot,500\nDrop B,28.2,113.0,DROP,\n",
        encoding="utf-8",
    )
    nodes = load_nodes(f)
    assert [(n.id, n.kind, n.weight) for n in nodes] == [
        ("Depot A", NodeKind.DEPOT, 500.0),
        ("Drop B", NodeKind.DROP, 0.0),
    ]
    g = tmp_path / "nodes.geojson"
    g.write_text(json.dumps(nodes_to_geojson(nodes)), encoding="utf-8")
    assert load_nodes(g) == nodes


@pytest.mark.parametrize(
    "name, text, match",
    [
        ("a.csv", "name,lat,lon,kind\nA,28,112,hub\n", "missing"),
        ("a.csv", "name,lat,lon,kind,weight\nA,28,112,warehouse,1\n", "kind must be one of"),
        ("a.csv", "name,lat,lon,kind,weight\nA,95,112,hub,1\n", "out of range"),
        ("a.csv", "name,lat,lon,kind,weight\nA,north,112,hub,1\n", "must be numbers"),
        ("a.csv", "name,lat,lon,kind,weight\nA,28,112,hub,-3\n", ">= 0"),
        ("a.csv", "name,lat,lon,kind,weight\nA,28,112,hub,1\nA,28.1,112,hub,1\n", "used twice"),
        ("a.csv", "name,lat,lon,kind,weight\n", "no logistics nodes"),
        ("a.csv", "name,lat,lon,kind,weight\n,28,112,hub,1\n", "non-empty name"),
        ("a.geojson", "{not json", "not valid JSON"),
        (
            "a.geojson",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {
                                "type": "LineString",
                                "coordinates": [[112, 28], [113, 28]],
                            },
                            "properties": {"name": "L"},
                        }
                    ],
                }
            ),
            "Point features",
        ),
        ("a.geojson", json.dumps({"type": "Polygon", "coordinates": []}), "FeatureCollection"),
        ("a.txt", "name,lat,lon,kind,weight\n", "use a .geojson"),
    ],
)
def test_node_file_errors(tmp_path: Path, name: str, text: str, match: str) -> None:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    with pytest.raises(NodeFileError, match=match) as info:
        load_nodes(f)
    assert isinstance(info.value, RoutingError) and isinstance(info.value, ValueError)


def test_missing_file_and_bad_weight() -> None:
    with pytest.raises(NodeFileError, match="cannot read"):
        load_nodes(Path("/nonexistent/nodes.csv"))
    with pytest.raises(NodeFileError, match="finite"):
        make_node("x", "X", 28, 112, "hub", float("inf"))
