"""The map page's offline background: the DEM's hillshade as a PNG, and Hunan's boundaries.

Both are rendered or read once per process and kept in memory (a few hundred kB each).
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from airgrid.terrain import Dem
from airgrid.terrain.hillshade import hillshade

#: The boundary levels shipped in the data folder (``hunan_<level>_cgcs2000.geojson``).
BOUNDARY_LEVELS = ("province", "prefectures", "counties")


@dataclass(frozen=True)
class Hillshade:
    """A hillshade image in Web Mercator rows and where it lies.

    Attributes
    ----------
    png
        The greyscale PNG (0 dark .. 255 lit; DEM voids transparent).
    bounds
        ``(west, south, east, north)`` in degrees.
    width, height
        Pixels.
    """

    png: bytes
    bounds: tuple[float, float, float, float]
    width: int
    height: int


def _mercator_y(lat_deg: float | np.ndarray) -> np.ndarray:
    return np.log(np.tan(np.pi / 4 + np.radians(lat_deg) / 2))


def mercator_rows(img: np.ndarray, south: float, north: float) -> np.ndarray:
    """Resample a lon/lat raster's rows so they are evenly spaced in Web Mercator y.

    A map draws an image source by stretching it linearly between its corners in Web
    Mercator; rows evenly spaced in latitude would land up to about 4 km off in the middle
    of a 6° tall raster. Nearest row, columns unchanged (longitude is linear in both).

    Parameters
    ----------
    img
        Rows north to south, evenly spaced in latitude from ``north`` to ``south``.
    south, north
        Latitudes of the raster's outer edges, degrees.

    Returns
    -------
    numpy.ndarray
        An array of ``img``'s shape and dtype.
    """
    h = img.shape[0]
    y_n, y_s = _mercator_y(north), _mercator_y(south)
    y = y_n - (np.arange(h) + 0.5) * (y_n - y_s) / h
    lat = np.degrees(np.arctan(np.sinh(y)))
    src = np.clip(np.floor((north - lat) / (north - south) * h).astype(np.int64), 0, h - 1)
    return img[src]


def render_hillshade(dem: Dem) -> Hillshade:
    """The DEM's hillshade (:func:`airgrid.terrain.hillshade.hillshade`) as a map-ready PNG.

    Parameters
    ----------
    dem
        The served DEM (lon/lat raster).

    Returns
    -------
    Hillshade
    """
    w, s, e, n = (float(v) for v in dem.bounds_lonlat)
    shade = mercator_rows(hillshade(dem), s, n)
    alpha = mercator_rows(np.where(np.isnan(dem.data), 0, 255).astype(np.uint8), s, n)
    h, wd = shade.shape
    with warnings.catch_warnings():
        # plain pixels: the placement travels beside the image, as its bounds
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile() as mem:
            # two bands: GDAL writes a grey + alpha PNG
            with mem.open(driver="PNG", width=wd, height=h, count=2, dtype="uint8") as dst:
                dst.write(shade, 1)
                dst.write(alpha, 2)
            png = mem.read()
    return Hillshade(png=png, bounds=(w, s, e, n), width=wd, height=h)


class MapBackground:
    """The hillshade of the served DEM and the boundary files, rendered or read on first use.

    Parameters
    ----------
    dem
        The served DEM.
    data_dir
        Folder of the ``hunan_<level>_cgcs2000.geojson`` boundary files.
    """

    def __init__(self, dem: Dem, data_dir: Path) -> None:
        self._dem = dem
        self._data_dir = Path(data_dir)
        self._lock = threading.Lock()
        self._hillshade: Hillshade | None = None
        self._boundaries: dict[str, bytes] = {}

    def hillshade(self) -> Hillshade:
        """The hillshade (rendered once, under a lock, by the first caller)."""
        with self._lock:
            if self._hillshade is None:
                self._hillshade = render_hillshade(self._dem)
            return self._hillshade

    def boundaries(self, level: str) -> bytes:
        """The GeoJSON bytes of one boundary level (CGCS2000 lon/lat, within about 1 m of WGS84).

        Raises
        ------
        ValueError
            ``level`` is not one of :data:`BOUNDARY_LEVELS`.
        """
        if level not in BOUNDARY_LEVELS:
            raise ValueError(f"boundary level must be one of {BOUNDARY_LEVELS}, got {level!r}")
        with self._lock:
            if level not in self._boundaries:
                path = self._data_dir / f"hunan_{level}_cgcs2000.geojson"
                self._boundaries[level] = path.read_bytes()
            return self._boundaries[level]


def corners(bounds: tuple[float, float, float, float]) -> list[list[float]]:
    """An image source's corners, clockwise from the top left: ``[[w, n], [e, n], [e, s], [w, s]]``."""
    w, s, e, n = bounds
    return [[w, n], [e, n], [e, s], [w, s]]


__all__ = [
    "BOUNDARY_LEVELS",
    "Hillshade",
    "MapBackground",
    "corners",
    "mercator_rows",
    "render_hillshade",
]
