"""Capacity by area class and hotspots on crafted traffic."""

from __future__ import annotations

from pathlib import Path

import h3
import numpy as np
import pytest
from shapely.geometry import Point

from airgrid.analytics.capacity import CapacityTable, Places, classify
from airgrid.analytics.density import Traffic, Window, cell_areas_m2, density
from airgrid.analytics.errors import AnalyticsInputError
from airgrid.analytics.hotspots import assess, hotspot_cells
from airgrid.analytics.outputs import to_geojson
from airgrid.geo.volumes import Volume4D

from .test_density import T0, T2

#: A rural spot in western Hunan, far from any GeoNames town of 20,000.
RURAL = (29.6, 110.0)


def _cell(lat: float, lon: float) -> int:
    return h3.str_to_int(h3.latlng_to_cell(lat, lon, T2.resolution))


def _through(lat: float, lon: float, heading: str, t: float) -> list[Volume4D]:
    """Two small discs, the first at the cell centre, the second 1 km east or west."""
    step = 0.01 if heading == "E" else -0.01
    a = Point(lon, lat).buffer(0.0003)
    b = Point(lon + step, lat).buffer(0.0003)
    return [Volume4D(a, 250, 280, t, t + 60), Volume4D(b, 250, 280, t + 60, t + 120)]


def _table(tmp_path: Path, per_km2_h: float, persistent: float = 0.5) -> CapacityTable:
    doc = f"""flights_per_km2_per_hour = {per_km2_h}
persistent_share = {persistent}
one_way_share = 0.6
[[class]]
name = "dense_urban"
factor = 0.5
rules = [{{ min_population = 500000, radius_km = 8.0 }}]
[[class]]
name = "rural"
factor = 1.0
rules = []
"""
    path = tmp_path / "capacity.toml"
    path.write_text(doc)
    return CapacityTable.from_toml(path)


def test_cells_are_classed_by_nearby_population() -> None:
    table = CapacityTable.from_toml()
    places = Places.read()
    cells = np.array([_cell(28.1987, 112.9709), _cell(28.1, 112.85), _cell(*RURAL)])
    names = [table.classes[k].name for k in classify(cells, table, places)]
    assert names == ["dense_urban", "suburban", "rural"]


def test_hotspots_and_suggestions_on_a_crafted_case(tmp_path: Path) -> None:
    lat, lon = h3.cell_to_latlng(h3.latlng_to_cell(*RURAL, T2.resolution))
    oneway, mixed = _cell(lat, lon), _cell(lat + 0.05, lon)
    window = Window(T0, T0 + 1_200.0, 600.0)
    intents = [_through(lat, lon, "E", T0 + 10 * k) for k in range(12)]  # bin 0
    intents += [_through(lat, lon, "E", T0 + 700 + 10 * k) for k in range(3)]  # bin 1
    intents += [_through(lat + 0.05, lon, "EW"[k % 2], T0 + 10 * k) for k in range(10)]
    area_km2 = cell_areas_m2(np.array([oneway]))[0] / 1e6
    per_km2_h = 5.0 / (area_km2 * 600 / 3600)  # capacity 5 flights per bin in a rural cell
    got = assess(
        density(Traffic.of(intents), T2, window), _table(tmp_path, per_km2_h), Places.read()
    )
    rows = got.set_index(["cell", "bin_start"])
    a = rows.loc[(h3.int_to_str(oneway), T0)]
    assert (a["count"], a["area_class"]) == (12, "rural")
    assert a["capacity"] == pytest.approx(5.0, rel=1e-6)
    assert a["load"] == pytest.approx(12 / 5.0) and a["hotspot"]
    assert not rows.loc[(h3.int_to_str(oneway), T0 + 600)]["hotspot"]  # 3 flights
    assert a["suggestion"].startswith("one-way E")
    m = rows.loc[(h3.int_to_str(mixed), T0)]
    assert m["hotspot"] and m["suggestion"].startswith("layered")
    spots = hotspot_cells(got)
    spots = spots.set_index("cell")
    assert spots.loc[h3.int_to_str(oneway), "bins_over"] == 1
    assert spots.loc[h3.int_to_str(oneway), "peak_count"] == 12
    assert spots.loc[h3.int_to_str(mixed), "peak_count"] == 10
    # over capacity in one bin of two: below a persistent share of 0.6, no suggestion
    calm = assess(
        density(Traffic.of(intents), T2, window), _table(tmp_path, per_km2_h, 0.6), Places.read()
    )
    assert calm["hotspot"].any() and (calm["suggestion"] == "").all()
    props = to_geojson(got)["features"][0]["properties"]
    assert set(props) >= {
        "cell", "tier", "bin_start", "bin_end", "count", "occupancy", "conflicts",
        "refusals", "capacity", "load", "hotspot", "suggestion",
    }  # fmt: skip


def test_capacity_tables_are_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('flights_per_km2_per_hour = 10\n[[class]]\nname = "x"\nfactor = 1\n'
                   'rules = [{ min_population = 1, radius_km = 1 }]\n')  # fmt: skip
    with pytest.raises(AnalyticsInputError, match="last area class"):
        CapacityTable.from_toml(bad)
    with pytest.raises(AnalyticsInputError, match="cannot read"):
        CapacityTable.from_toml(tmp_path / "missing.toml")
