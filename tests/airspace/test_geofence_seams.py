"""The seams between the geofence modules: format registry, ground bounds, bin filter, footprint cells."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import shapely

from airgrid.airspace.errors import GeofenceError
from airgrid.airspace.geofences.bins import EPS_DEG, BinFilter
from airgrid.airspace.geofences.formats.registry import FORMATS, detect_format
from airgrid.airspace.geofences.ground import (
    EARTH_GROUND_MAX_M,
    EARTH_GROUND_MIN_M,
    ground_bounds,
)
from airgrid.airspace.geofences.model import Circle, Geofence, Limit
from airgrid.airspace.grid.footprint import footprint_cells

SQUARE = ((113.0, 28.0), (113.1, 28.0), (113.1, 28.1), (113.0, 28.1))


def _fences() -> list[Geofence]:
    return [
        Geofence("P1", Limit(0.0, "AGL"), Limit(120.0, "AGL"), polygon=SQUARE),
        Geofence("C1", Limit(50.0), Limit(300.0), circle=Circle(113.3, 28.2, 800.0)),
    ]


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_registry_reads_what_it_writes_and_detects_it(name):
    fmt = FORMATS[name]
    doc = fmt.write(_fences())
    assert fmt.name == name
    assert detect_format(doc) == name
    assert fmt.read(doc) == _fences()


def test_ground_bounds_of_each_form():
    fp = shapely.Polygon(SQUARE)
    assert ground_bounds(None, fp, "x") == (EARTH_GROUND_MIN_M, EARTH_GROUND_MAX_M)
    assert ground_bounds(12.5, fp, "x") == (12.5, 12.5)
    assert ground_bounds((1.0, 2.0), fp, "x") == (1.0, 2.0)
    with pytest.raises(GeofenceError, match="low <= high"):
        ground_bounds((2.0, 1.0), fp, "x")


def test_bin_filter_boxes_cover_their_entries_footprints():
    fps = [g.footprint for g in _fences()]
    bins = BinFilter.build(fps, 2000.0, 1_000_000)
    assert bins.bin_start[-1] == len(bins.e_fence) == len(bins.e_bin)
    w, s, e, n = bins.boxes(bins.e_bin)
    boxes = shapely.box(w, s, e, n)
    assert shapely.intersects(np.array(fps)[bins.e_fence], boxes).all()
    inside = bins.e_inside
    assert shapely.covers(np.array(fps)[bins.e_fence[inside]], boxes[inside]).all()
    assert (e - w > bins.dx + EPS_DEG).all()


def test_bin_filter_query_finds_a_point_inside():
    fps = [g.footprint for g in _fences()]
    bins = BinFilter.build(fps, 1000.0, 1_000_000)
    lat, lon = np.array([28.05, 29.0]), np.array([113.05, 113.05])
    p, f = bins.query(
        lat,
        lon,
        np.zeros(2),
        np.zeros(2),
        False,
        np.full(len(bins.e_fence), -1.0),
        np.full(len(bins.e_fence), 1.0),
        np.ones(len(fps), np.bool_),
        (np.zeros(len(fps) + 1, np.int64), np.empty(0), np.empty(0)),
    )
    assert p.tolist() == [0] and f.tolist() == [0]


def test_footprint_cells_cover_the_footprint():
    fp = shapely.Polygon(SQUARE)
    cells = footprint_cells(fp, 7)
    assert (np.diff(cells) > 0).all()
    for lon, lat in SQUARE:
        assert h3.str_to_int(h3.latlng_to_cell(lat, lon, 7)) in set(cells.tolist())


def test_the_cli_offers_exactly_the_registered_formats():
    from airgrid.api.cli.geofences import Format

    assert {f.value for f in Format} == set(FORMATS)
