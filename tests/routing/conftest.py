"""Routing fixtures: a generated-terrain grid (T1 + T2, with terrain-blocked voxels) and
its graph, plus graphs of the real-DEM grids."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from airgrid.airspace.geofences.cover import mark_geofences
from airgrid.airspace.geofences.model import Circle, Geofence, Limit, Reference
from airgrid.airspace.grid import TierTable, area_from_bbox, build_grid
from airgrid.routing import build_graph
from airgrid.terrain import Dem
from tests.conftest import write_tif


@pytest.fixture(scope="session")
def gen_grid(tmp_path_factory):
    """T1+T2 grid over ~6 x 6.6 km of generated terrain: a plain with a steep hill and a ridge.

    T1 (0-120 m true height) has terrain-blocked bottom layers, and the hill makes
    columns step, so the graph has unusable voxels and missing links to route around.
    """
    n = 240
    x = np.linspace(0, 1, n)
    xx, yy = np.meshgrid(x, x)
    z = 50 + 400 * np.exp(-((xx - 0.5) ** 2 + (yy - 0.5) ** 2) / 0.01)
    z += 250 * np.exp(-((xx - 0.3) ** 2) / 0.0008) * (yy > 0.35)
    path = write_tif(
        tmp_path_factory.mktemp("dem") / "gen.tif", z, Affine(0.1 / n, 0, 112.9, 0, -0.1 / n, 28.2)
    )
    dem = Dem.open(path)
    return build_grid(
        area_from_bbox(112.92, 28.12, 112.98, 28.18), dem, TierTable().select(["T1", "T2"])
    )


#: A prohibited circle (2.5 km) across the rolling terrain's west-east line at lat 28.155.
ROLLING_FENCE = Geofence(
    "TEST-P",
    Limit(0.0, Reference.AGL),
    Limit(1000.0, Reference.AGL),
    circle=Circle(113.0, 28.155, 2500.0),
)


def rolling_grid(tmp_path_factory):
    """T2+T3 over ~19 x 13 km of generated rolling terrain with :data:`ROLLING_FENCE` marked.

    A fresh grid per call: corridor tests write marks into it.
    """
    n = 300
    x = np.linspace(0, 1, n)
    xx, yy = np.meshgrid(x, x)
    z = (
        80
        + 60 * np.sin(6 * xx) * np.cos(4 * yy)
        + 300 * np.exp(-((xx - 0.3) ** 2 + (yy - 0.6) ** 2) / 0.005)
    )
    path = write_tif(
        tmp_path_factory.mktemp("dem") / "rolling.tif",
        z,
        Affine(0.25 / n, 0, 112.88, 0, -0.2 / n, 28.26),
    )
    grid = build_grid(
        area_from_bbox(112.9, 28.1, 113.1, 28.22), Dem.open(path), TierTable().select(["T2", "T3"])
    )
    mark_geofences(grid, [ROLLING_FENCE])
    return grid


@pytest.fixture(scope="session")
def gen_graph(gen_grid):
    return build_graph(gen_grid)


@pytest.fixture(scope="session")
def real_t2_grid(real_dem):
    """Real terrain (the 30" DEM), T2 only, ~15 x 17 km around Changsha (T2 is absent or cut off in the SW hills)."""
    return build_grid(
        area_from_bbox(112.9, 28.1, 113.05, 28.25), real_dem, TierTable().select(["T2"])
    )


@pytest.fixture(scope="session")
def real_t2_graph(real_t2_grid):
    return build_graph(real_t2_grid)


@pytest.fixture(scope="session")
def small_graph(small_grid):
    """Graph of the shared T2-T4 real grid (tier transitions included)."""
    return build_graph(small_grid)


@pytest.fixture(scope="session")
def gen_lm_graph(gen_grid):
    """The generated grid's graph with 6 ALT landmarks."""
    return build_graph(gen_grid, landmarks=6)
