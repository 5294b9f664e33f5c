"""Hillshade rendering and export (PNG plus its WGS84 bounds) for map pages."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning

from airgrid.terrain.dem import Dem


def hillshade(
    dem: Dem, *, azimuth_deg: float = 315.0, altitude_deg: float = 45.0, z_factor: float = 1.0
) -> np.ndarray:
    """Shaded relief as uint8 (0 dark .. 255 lit; voids are 0).

    Parameters
    ----------
    dem
        The elevation raster.
    azimuth_deg, altitude_deg
        Sun direction (clockwise from north) and elevation.
    z_factor
        Vertical exaggeration.

    Returns
    -------
    numpy.ndarray
        uint8 array of the DEM's shape.

    Notes
    -----
    Slopes by Horn's (1981) 3x3 finite differences, as in GDAL's ``gdaldem
    hillshade``; pixel sizes in metres at the raster's centre.
    """
    z = dem.data.astype(np.float64) * z_factor
    filled = np.where(np.isnan(z), np.nanmean(z), z)
    p = np.pad(filled, 1, mode="edge")
    dx_m, dy_m = dem.pixel_size_m
    dzdx = (
        (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    ) / (8 * dx_m)
    dzdy = (
        (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    ) / (8 * dy_m)
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(dzdy, -dzdx)
    zen = math.radians(90.0 - altitude_deg)
    az = math.radians((360.0 - azimuth_deg + 90.0) % 360.0)
    shade = np.cos(zen) * np.cos(slope) + np.sin(zen) * np.sin(slope) * np.cos(az - aspect)
    out = np.clip(shade * 255.0, 0, 255).astype(np.uint8)
    out[np.isnan(dem.data)] = 0
    return out


def export_hillshade(dem: Dem, png_path: str | Path, **kwargs: float) -> dict:
    """Write a hillshade PNG and a ``.json`` sidecar with its WGS84 bounds.

    Parameters
    ----------
    dem
        The elevation raster.
    png_path
        Output PNG; the sidecar is the same path with ``.json``.
    **kwargs
        Passed to :func:`hillshade`.

    Returns
    -------
    dict
        The sidecar: ``bounds`` as ``[west, south, east, north]``, ``crs``, ``width``, ``height``.
    """
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    img = hillshade(dem, **kwargs)
    h, w = img.shape
    with warnings.catch_warnings():
        # the PNG is plain pixels on purpose: its placement travels in the sidecar
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            png_path, "w", driver="PNG", width=w, height=h, count=1, dtype="uint8"
        ) as dst:
            dst.write(img, 1)
    meta = {
        "bounds": list(dem.bounds_lonlat),
        "crs": "EPSG:4326",
        "width": w,
        "height": h,
        "source": list(dem.sources),
    }
    png_path.with_suffix(".json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return meta
