"""Independent truth: published airport elevations and summit heights lie within the ground bounds.

Sources are named per point in ``airgrid/data/truth_points.csv`` (OurAirports 2022 and
airportsdata for the airports; Wikipedia articles and the Hunan provincial government
site for the summits, each with the uncertainty of its coordinates).
"""

from __future__ import annotations

import math

import h3
import numpy as np
import pytest

from airgrid.airspace.grid.tiers import DEFAULT_TIERS
from airgrid.terrain import Dem, cell_ground
from airgrid.terrain.calibration import read_truth_points, required_factors
from tests.conftest import DATA

POINTS = read_truth_points(DATA / "truth_points.csv")
RESOLUTIONS = [t.resolution for t in DEFAULT_TIERS]


def _disc_cells(lat: float, lon: float, radius_m: float, res: int) -> np.ndarray:
    """Every cell at ``res`` whose footprint may meet the disc (a superset)."""
    centre = h3.latlng_to_cell(lat, lon, res)
    if radius_m <= 0:
        return np.array([h3.str_to_int(centre)])
    edge = h3.average_hexagon_edge_length(res, unit="m")
    k = math.ceil(radius_m / (1.5 * edge)) + 2
    cells = [
        c
        for c in h3.grid_disk(centre, k)
        if h3.great_circle_distance((lat, lon), h3.cell_to_latlng(c), unit="m")
        <= radius_m + 2.5 * edge
    ]
    return np.array([h3.str_to_int(c) for c in cells])


@pytest.fixture(scope="module", params=["hunan_dem_30arcsec.tif", "hunan_etopo5_5arcmin.tif"])
def dem(request) -> Dem:
    return Dem.open(DATA / request.param)


def test_the_file_holds_both_kinds_of_points() -> None:
    kinds = {p.kind for p in POINTS}
    assert kinds == {"airport", "summit"}
    assert sum(p.kind == "summit" for p in POINTS) >= 9
    names = " ".join(p.name for p in POINTS)
    for must in ("Zhurong", "Lingfeng", "Bamianshan", "Huping"):
        assert must in names


@pytest.mark.parametrize("res", RESOLUTIONS)
def test_every_truth_point_lies_within_its_cells_bounds(dem: Dem, res: int) -> None:
    for p in POINTS:
        cells = _disc_cells(p.lat, p.lon, p.radius_m, res)
        g = cell_ground(dem, cells)
        if p.kind == "airport":
            assert g.g_lo[0] <= p.elevation_m <= g.g_hi[0], (
                p.name,
                res,
                float(g.g_lo[0]),
                float(g.g_hi[0]),
            )
        else:
            assert float(g.g_hi.max()) >= p.elevation_m, (p.name, res, float(g.g_hi.max()))


def test_configured_factors_cover_what_the_points_need(dem: Dem) -> None:
    need = required_factors(dem, POINTS)
    assert need["up"] <= dem.accuracy.up_relief_factor, need
    assert need["down"] <= dem.accuracy.down_relief_factor, need
    # the calibration is tight: the configured factors are no more than 1.3x the need
    assert dem.accuracy.up_relief_factor <= 1.3 * max(need["up"], 1.0)


def test_thirty_arcsecond_dem_reads_airports_better_than_etopo5() -> None:
    # SOURCES.md: mean absolute error 13 m (30") against 126 m (ETOPO5) over the airports
    fine, coarse = (
        Dem.open(DATA / "hunan_dem_30arcsec.tif"),
        Dem.open(DATA / "hunan_etopo5_5arcmin.tif"),
    )
    airports = [p for p in POINTS if p.kind == "airport"]
    lat = np.array([p.lat for p in airports])
    lon = np.array([p.lon for p in airports])
    truth = np.array([p.elevation_m for p in airports])
    err_fine = float(np.mean(np.abs(fine.elevation(lat, lon) - truth)))
    err_coarse = float(np.mean(np.abs(coarse.elevation(lat, lon) - truth)))
    assert err_fine < 20 and err_coarse > 5 * err_fine, (err_fine, err_coarse)


def test_zgha_elevation_matches_the_published_value() -> None:
    # OurAirports: ZGHA 217 ft = 66.1 m; issue #11 asks for 15 m
    h = float(Dem.open(DATA / "hunan_dem_30arcsec.tif").elevation(28.1892, 113.22))
    assert abs(h - 66.1) <= 15
