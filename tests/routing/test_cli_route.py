"""``airgrid route`` and ``airgrid route-multi`` (in-process through ``main``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airgrid.api.cli.main import main


@pytest.fixture(scope="module")
def saved(small_grid, tmp_path_factory) -> Path:
    return small_grid.save(tmp_path_factory.mktemp("routecli") / "grid")


def test_route_prints_summary_and_writes_geojson(saved, tmp_path, capsys):
    out = tmp_path / "r.geojson"
    # from the part of Changsha where T2 exists and links north (T2 is absent or cut off in the SW hills)
    rc = main(["route", "28.11,112.985", "28.23,113.03", "--grid", str(saved), "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "found" in text and "km" in text and "true height" in text
    doc = json.loads(out.read_text())
    assert doc["geometry"]["type"] == "LineString" and len(doc["geometry"]["coordinates"][0]) == 3
    lo, hi = doc["properties"]["true_height_range_m"][0]
    assert 120 < lo <= hi < 300  # mid-column of T2: 120-300 m above any plausible ground


def test_route_by_place_name_and_constraints(saved, tmp_path, capsys):
    cache = tmp_path / "graph"
    args = [
        "route",
        "Changsha",
        "28.13,113.0",
        "--grid",
        str(saved),
        "--tiers",
        "T2",
        "--max-range-km",
        "100",
        "--graph-cache",
        str(cache),
    ]
    assert main(args) == 0 and "found" in capsys.readouterr().out
    assert (cache / "graph.json").exists()
    stamp = (cache / "indices.npy").stat().st_mtime_ns
    assert main(args) == 0 and "found" in capsys.readouterr().out
    assert (cache / "indices.npy").stat().st_mtime_ns == stamp  # reused, not rebuilt


@pytest.mark.parametrize(
    "args",
    [
        ["route", "20,100", "28.2,113.0"],
        ["route", "nowhere-town", "28.2,113.0"],
        ["route", "28.12,112.92", "28.23,113.03", "--alt", "5"],
        ["route", "28.12,112.92", "28.23,113.03", "--alt", "900", "--height", "200"],
        ["route", "28.12,112.92", "28.23,113.03", "--height", "5"],
        ["route", "28.12,112.92", "28.23,113.03", "--tiers", "T9"],
    ],
)
def test_route_bad_input_exits_2(saved, args, capsys):
    assert main([*args, "--grid", str(saved)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("airgrid: error:") and len(err.strip().splitlines()) == 1


def test_route_multi_csv_and_geojson(saved, tmp_path, capsys):
    csv = tmp_path / "stops.csv"
    # stops where T2 exists and is connected (not over the SW hills or the uncertain ground by the Xiang)
    csv.write_text(
        "lat,lon,name\n28.18,113.0,depot\n28.12,112.99,a\n28.22,113.02,b\n28.23,112.94,c\n"
    )
    out = tmp_path / "m.geojson"
    assert main(["route-multi", str(csv), "--grid", str(saved), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "exact" in text and "status found" in text
    doc = json.loads(out.read_text())
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 4
    gj = tmp_path / "stops.geojson"
    gj.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [lon, lat]},
                        "properties": {"name": n},
                    }
                    for n, lat, lon in (
                        ("d", 28.18, 113.0),
                        ("x", 28.12, 112.99),
                        ("y", 28.22, 113.02),
                    )
                ],
            }
        )
    )
    assert main(["route-multi", str(gj), "--grid", str(saved), "--no-return"]) == 0
    assert "status found" in capsys.readouterr().out


def test_route_multi_bad_file_exits_2(saved, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("lat,lon\n28.1,abc\n28.2,113.0\n")
    assert main(["route-multi", str(bad), "--grid", str(saved)]) == 2
    assert main(["route-multi", str(tmp_path / "missing.csv"), "--grid", str(saved)]) == 2


def test_prefer_corridors(saved, tmp_path, capsys):
    nodes = tmp_path / "nodes.csv"
    nodes.write_text(
        "name,lat,lon,kind,weight\nSouth,28.12,112.99,hub,1\nNorth,28.22,113.02,hub,1\n"
    )
    marked = tmp_path / "marked"
    assert (
        main(
            [
                "corridors",
                "--nodes",
                str(nodes),
                "--grid",
                str(saved),
                "--tier",
                "T2",
                "--no-geofences",
                "--save-grid",
                str(marked),
                "--no-progress",
            ]
        )
        == 0
    )
    capsys.readouterr()
    # north to south, the way lane B (the upper half of band 0) runs: T2 columns are 5-7 layers
    # here, so the default endpoints (mid-column) sit in lane B, which the other way forbids
    assert (
        main(
            [
                "route",
                "28.22,113.02",
                "28.12,112.99",
                "--grid",
                str(marked),
                "--tiers",
                "T2",
                "--prefer-corridors",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    share = int(text.split("voxels (")[1].split("%")[0])
    assert "found" in text and share >= 50
    # the plain grid has no corridors to prefer: a clear error, exit 2
    assert (
        main(["route", "28.12,112.99", "28.22,113.02", "--grid", str(saved), "--prefer-corridors"])
        == 2
    )
    assert "no corridors" in capsys.readouterr().err
