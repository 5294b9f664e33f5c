"""``airgrid analytics density|hotspots``: Parquet and GeoJSON out, exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from shapely.geometry import Point

from airgrid.airspace.store.service import open_store
from airgrid.airspace.traffic.models import IntentRequest
from airgrid.api.cli.main import main
from airgrid.geo.volumes import Volume4D

from .test_api import END, START, T0


@pytest.fixture()
def db(tmp_path: Path) -> str:
    """A SQLite store with two intents and one refusal over central Changsha."""
    with open_store(tmp_path) as store:
        for k, who in enumerate(["a", "b", "c"]):
            disc = Point(112.98 + 0.02 * (k == 1), 28.2).buffer(0.002)
            store.submit(IntentRequest(who, 20, "T2", (Volume4D(disc, 250, 290, T0, T0 + 600),)))
    return f"sqlite:///{tmp_path / 'airgrid.sqlite'}"


def test_density_writes_parquet_and_geojson(db: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    args = ["analytics", "density", "--tier", "T2", "--from", START, "--to", END]
    assert main([*args, "--out", str(out), "--db-url", db]) == 0
    table = pd.read_parquet(out / "T2-density.parquet")
    doc = json.loads((out / "T2-density.geojson").read_text())
    assert len(table) == len(doc["features"]) > 0
    assert table["count"].max() == 1 and table["refusals"].sum() > 0
    assert str(table["bin_start"].dtype).startswith("datetime64")
    assert {"geometry", "capacity", "load", "hotspot", "suggestion"} <= set(table.columns)
    assert main(["analytics", "hotspots", "--tier", "T2", "--from", START, "--to", END,
                 "--db-url", db]) == 0  # fmt: skip


@pytest.mark.parametrize(
    "bad",
    [
        ["--from", "yesterday"],
        ["--from", "2031-03-03T08:00:00"],  # no zone
        ["--to", START],  # empty window
        ["--tier", "T9"],
        ["--bin-s", "0"],
        ["--bin-s", "1", "--to", "2031-03-05T08:00:00Z"],  # too many bins
    ],
)
def test_bad_input_exits_2(db: str, tmp_path: Path, bad: list[str], capsys) -> None:
    args = {"--tier": "T2", "--from": START, "--to": END, "--out": str(tmp_path / "o")}
    for k in range(0, len(bad), 2):
        args[bad[k]] = bad[k + 1]
    flat = [x for kv in args.items() for x in kv]
    assert main(["analytics", "density", *flat, "--db-url", db]) == 2
    assert capsys.readouterr().err.startswith("airgrid: error:")


def test_a_missing_store_or_capacity_table_exits_2(tmp_path: Path, db: str, capsys) -> None:
    base = ["analytics", "density", "--tier", "T2", "--from", START, "--to", END, "--out", "o"]
    assert main([*base, "--db-url", f"sqlite:///{tmp_path / 'none' / 'airgrid.sqlite'}"]) == 2
    assert main([*base, "--db-url", db, "--capacity-file", str(tmp_path / "x.toml")]) == 2
