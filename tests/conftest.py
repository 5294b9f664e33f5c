"""Shared fixtures: the real DEM shipped in airgrid/data/, small generated rasters, small grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from airgrid.airspace.grid import TierTable, area_from_bbox, build_grid
from airgrid.data import DATA_DIR, DEFAULT_DEM
from airgrid.terrain import Dem

DATA = DATA_DIR
REAL_DEM = DEFAULT_DEM


@pytest.fixture(scope="session")
def real_dem() -> Dem:
    """The shipped 30-arc-second DEM of Hunan (the default)."""
    return Dem.open(REAL_DEM)


def write_tif(
    path: Path,
    data: np.ndarray,
    transform: Affine,
    crs: str = "EPSG:4326",
    nodata: float | None = None,
    dtype: str = "float32",
) -> Path:
    """Write a one-band GeoTIFF."""
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(data.astype(dtype), 1)
    return path


@pytest.fixture(scope="session")
def small_grid(real_dem: Dem):
    """T2-T4 grid over a 15 km box in Changsha (builds in about a second)."""
    return build_grid(
        area_from_bbox(112.9, 28.1, 113.05, 28.25), real_dem, TierTable().select(["T2", "T3", "T4"])
    )
