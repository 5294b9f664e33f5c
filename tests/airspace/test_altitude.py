"""Altitude references at the edge: AMSL, AGL over the highest plausible ground, W84 through EGM96."""

from __future__ import annotations

import math

import pytest
import shapely

from airgrid.airspace.errors import OutsideGridError
from airgrid.airspace.grid import Grid
from airgrid.airspace.grid.altitude import AltitudeReference, band_to_amsl, resolve_altitude
from airgrid.terrain.geoid import GEOID_GRID_ERROR_M, Geoid


def test_amsl_is_taken_as_given(small_grid: Grid) -> None:
    r = resolve_altitude(250.0, "amsl", 28.2, 112.97, grid=small_grid)
    assert r.alt_amsl_m == 250.0 and "AMSL" in r.how


def test_agl_is_at_least_that_high_above_the_real_ground(small_grid: Grid) -> None:
    g_lo, g_hi = small_grid.ground_at(28.2, 112.97)
    r = resolve_altitude(150.0, AltitudeReference.AGL, 28.2, 112.97, grid=small_grid)
    assert r.alt_amsl_m == pytest.approx(g_hi + 150.0)
    assert g_lo < g_hi and "highest plausible ground" in r.how
    with pytest.raises(OutsideGridError):
        resolve_altitude(150.0, "AGL", 40.0, 116.0, grid=small_grid)


def test_w84_subtracts_the_geoid_undulation() -> None:
    geoid = Geoid()
    n = float(geoid.undulation(28.2, 112.97))
    r = resolve_altitude(240.0, "W84", 28.2, 112.97, geoid=geoid)
    assert r.alt_amsl_m == pytest.approx(240.0 - n)
    assert -20 < n < -13  # EGM96 over Changsha is about -16.7 m (tests/terrain/test_geoid.py)


def test_unknown_reference_and_missing_models_are_clear_errors() -> None:
    with pytest.raises(ValueError):
        resolve_altitude(1.0, "QNH", 28.2, 112.97)
    with pytest.raises(ValueError, match="geoid"):
        resolve_altitude(1.0, "W84", 28.2, 112.97)
    with pytest.raises(ValueError, match="grid"):
        resolve_altitude(1.0, "AGL", 28.2, 112.97)
    with pytest.raises(ValueError, match="finite"):
        resolve_altitude(math.inf, "AMSL", 28.2, 112.97)


def test_volume_bands_grow_on_both_sides(small_grid: Grid) -> None:
    box = shapely.box(112.95, 28.15, 112.99, 28.19)
    assert band_to_amsl(200, 300, "AMSL", box) == (200, 300)
    lo, hi = band_to_amsl(100, 200, "AGL", box, grid=small_grid)
    # every cell under the footprint: the floor over its lowest ground, the ceiling over its highest
    for lat, lon in ((28.15, 112.95), (28.17, 112.97), (28.19, 112.99)):
        g_lo, g_hi = small_grid.ground_at(lat, lon)
        assert lo <= g_lo + 100 and hi >= g_hi + 200
    geoid = Geoid()
    wlo, whi = band_to_amsl(200, 300, "W84", box, geoid=geoid)
    for lat, lon in ((28.15, 112.95), (28.19, 112.99), (28.17, 112.97)):
        n = float(geoid.undulation(lat, lon))
        assert (
            wlo <= 200 - n - GEOID_GRID_ERROR_M + 1e-9
            and whi >= 300 - n + GEOID_GRID_ERROR_M - 1e-9
        )
    assert whi - wlo < 100 + 2 * GEOID_GRID_ERROR_M + 1.0
