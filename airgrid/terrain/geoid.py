"""WGS84 ellipsoidal height <-> height above mean sea level, through a geoid grid.

ASTM F3548 and Remote ID report altitudes as heights above the WGS84 ellipsoid
("W84", ``h``); the DEM gives heights above mean sea level ("AMSL", orthometric
``H``). The two differ by the geoid undulation ``N`` (height of the geoid above
the ellipsoid)::

    H = h - N        h = H + N

``N`` comes from a geoid grid evaluated by PROJ (``vgridshift``, bilinear
interpolation between grid nodes). The default grid is the EGM96 15' grid
clipped to lon 95..125 E, lat 15..50 N (``airgrid/data/egm96_15_hunan.tif``, made by
``scripts/clip_geoid.py``); any grid PROJ reads can be used instead, e.g. the
worldwide ``egm96_15.gtx`` or ``us_nga_egm08_25.tif``.

Accuracy
--------
The grid holds EGM96 point values every 15'; between nodes PROJ interpolates
bilinearly. Relative to the full EGM96 spherical-harmonic model (degree 360)
this adds an interpolation error that GeographicLib reports for the same 15'
EGM96 grid with bilinear interpolation as 1.152 m maximum, 40 mm RMS (5 million
random points; GeographicLib's grid is also quantised to 3 mm, ours is float32:
https://geographiclib.sourceforge.io/C++/doc/geoid.html#geoidinterp).
Against NGA's six published EGM96 test values (``OUTINTPT.DAT``, in NGA's
EGM96 ``readme.txt``) our bilinear values differ by 3 to 56 mm; at the one in
the clip (46.874319 N, 102.448729 E: NGA -43.575 m) the difference is -42 mm.
EGM96 itself differs from EGM2008 by about 0.5 m RMS, so this is a
decimetre-class, not a centimetre-class, conversion.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import rasterio
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer
from pyproj.enums import TransformDirection
from pyproj.exceptions import ProjError

from airgrid.data import DEFAULT_GEOID_GRID
from airgrid.terrain.errors import GeoidError

#: Largest error of the bilinear 15' EGM96 grid against the full model (GeographicLib:
#: 1.152 m), added on the safe side whenever a W84 altitude is made AMSL.
GEOID_GRID_ERROR_M = 1.2


class GridBounds(NamedTuple):
    """Extent of a geoid grid's *nodes* (degrees, WGS84)."""

    west: float
    south: float
    east: float
    north: float

    def __str__(self) -> str:
        return f"lon {self.west:g}..{self.east:g}, lat {self.south:g}..{self.north:g}"


def geoid_pipeline(grid_path: str | Path) -> str:
    """PROJ pipeline whose forward direction maps AMSL to W84 height.

    Input and output are ``(lon, lat, h)`` in degrees and metres. The
    ``vgridshift`` forward direction computes ``z + multiplier * N``; with
    ``+multiplier=1`` it adds the undulation (``h = H + N``) and its inverse
    subtracts it (``H = h - N``).

    Parameters
    ----------
    grid_path
        Absolute path of a geoid grid (GeoTIFF, GTX, ...). Quoted in the pipeline
        so that paths with spaces work.
    """
    path = str(grid_path)
    if '"' in path:
        raise GeoidError(f"geoid grid path may not contain a double quote: {path!r}")
    return (
        "+proj=pipeline"
        " +step +proj=unitconvert +xy_in=deg +xy_out=rad"
        f' +step +proj=vgridshift +grids="{path}" +multiplier=1'
        " +step +proj=unitconvert +xy_in=rad +xy_out=deg"
    )


@lru_cache(maxsize=8)
def _transformer(grid_path: str) -> Transformer:
    """Build (once per grid path) the PROJ transformer of :func:`geoid_pipeline`."""
    try:
        return Transformer.from_pipeline(geoid_pipeline(grid_path))
    except ProjError as exc:
        raise GeoidError(f"PROJ cannot use {grid_path} as a vertical (geoid) grid: {exc}") from exc


@lru_cache(maxsize=8)
def _node_info(grid_path: str) -> tuple[GridBounds, tuple[float, float]] | None:
    """Node extent and node spacing (degrees) of a grid as GDAL reads it (None if GDAL cannot say)."""
    try:
        with rasterio.open(grid_path) as src:
            # GDAL reports pixel-area bounds with nodes at pixel centres (for GTX
            # and for PixelIsPoint GeoTIFFs alike): the nodes are half a pixel in.
            b = src.bounds
            rx, ry = src.res
            return GridBounds(
                b.left + rx / 2, b.bottom + ry / 2, b.right - rx / 2, b.top - ry / 2
            ), (float(rx), float(ry))
    except Exception:  # extent and spacing serve messages and box extremes; PROJ decides coverage
        return None


class Geoid:
    """A geoid model: undulation and W84 <-> AMSL height conversion via PROJ.

    Parameters
    ----------
    grid_path
        Geoid grid file (undulation ``N`` in metres above the WGS84 ellipsoid) in
        any format PROJ's ``vgridshift`` reads. Default: the packaged EGM96 15'
        clip :data:`airgrid.data.DEFAULT_GEOID_GRID`.

    Raises
    ------
    GeoidError
        The grid file does not exist or PROJ cannot read it as a vertical grid.

    Notes
    -----
    All methods take latitude and longitude in degrees (WGS84) and broadcast
    their arguments with NumPy rules. Scalar inputs give a ``float``; array
    inputs give an array of the broadcast shape. NaN (or infinite) heights pass
    through unchanged (a DEM void stays a void); non-finite coordinates and
    points outside the grid raise :class:`GeoidError`: a height is never
    silently converted with ``N = 0``.

    The PROJ transformer is built once per grid path and shared.
    """

    def __init__(self, grid_path: str | Path | None = None) -> None:
        path = Path(grid_path) if grid_path is not None else DEFAULT_GEOID_GRID
        path = path.expanduser().resolve()
        if not path.is_file():
            raise GeoidError(f"geoid grid not found: {path}")
        self.path: Path = path
        self._transformer = _transformer(str(path))
        info = _node_info(str(path))
        #: Node extent of the grid, or None if GDAL cannot read it.
        self.bounds: GridBounds | None = info[0] if info else None
        #: Node spacing (lon, lat) in degrees, or None if GDAL cannot read it.
        self.node_step: tuple[float, float] | None = info[1] if info else None

    @property
    def pipeline(self) -> str:
        """The PROJ pipeline string used (forward: AMSL -> W84)."""
        return geoid_pipeline(self.path)

    def __repr__(self) -> str:
        return f"Geoid({str(self.path)!r})"

    # -- conversions ---------------------------------------------------------

    def undulation(self, lat: ArrayLike, lon: ArrayLike) -> float | NDArray[np.float64]:
        """Geoid undulation ``N`` (metres, geoid above WGS84 ellipsoid).

        Parameters
        ----------
        lat, lon
            Latitude and longitude in degrees (WGS84).

        Returns
        -------
        float or numpy.ndarray
            ``N`` at each point.
        """
        return self._apply(lat, lon, 0.0, TransformDirection.FORWARD)

    def w84_to_amsl(
        self, lat: ArrayLike, lon: ArrayLike, h_w84_m: ArrayLike
    ) -> float | NDArray[np.float64]:
        """Height above the WGS84 ellipsoid -> height above mean sea level.

        Parameters
        ----------
        lat, lon
            Latitude and longitude in degrees (WGS84).
        h_w84_m
            Ellipsoidal height in metres (W84, as ASTM F3548 / Remote ID report).

        Returns
        -------
        float or numpy.ndarray
            Orthometric height ``H = h - N`` in metres above mean sea level.
        """
        return self._apply(lat, lon, h_w84_m, TransformDirection.INVERSE)

    def amsl_to_w84(
        self, lat: ArrayLike, lon: ArrayLike, h_amsl_m: ArrayLike
    ) -> float | NDArray[np.float64]:
        """Height above mean sea level -> height above the WGS84 ellipsoid.

        Parameters
        ----------
        lat, lon
            Latitude and longitude in degrees (WGS84).
        h_amsl_m
            Orthometric height in metres above mean sea level (as the DEM gives).

        Returns
        -------
        float or numpy.ndarray
            Ellipsoidal height ``h = H + N`` in metres (W84).
        """
        return self._apply(lat, lon, h_amsl_m, TransformDirection.FORWARD)

    # -- internals -----------------------------------------------------------

    def undulation_range(
        self, west: float, south: float, east: float, north: float
    ) -> tuple[float, float]:
        """Least and greatest undulation ``N`` over a lon/lat box, exactly for the bilinear grid.

        Bilinear interpolation is linear along each axis inside a grid cell, so over
        the part of the box in one cell it peaks at that part's corners. Those
        corners are the box's corners, the nodes inside the box, and the crossings
        of the box's edges with grid lines: all of them are evaluated.

        Raises
        ------
        GeoidError
            The box reaches outside the grid, or GDAL cannot tell the node spacing.
        """
        if self.bounds is None or self.node_step is None:
            raise GeoidError(f"cannot read the node spacing of {self.path}")
        sx, sy = self.node_step
        ox, oy = self.bounds.west, self.bounds.south

        def lines(lo: float, hi: float, origin: float, step: float) -> np.ndarray:
            k = np.arange(np.ceil((lo - origin) / step), np.floor((hi - origin) / step) + 1)
            return np.unique(np.concatenate([[lo, hi], origin + k * step]))

        gx, gy = np.meshgrid(lines(west, east, ox, sx), lines(south, north, oy, sy))
        n = np.asarray(self.undulation(gy.ravel(), gx.ravel()), np.float64)
        return float(n.min()), float(n.max())

    def _apply(
        self, lat: ArrayLike, lon: ArrayLike, h_m: ArrayLike, direction: TransformDirection
    ) -> float | NDArray[np.float64]:
        lat_a, lon_a, h_a = np.broadcast_arrays(
            np.asarray(lat, dtype=np.float64),
            np.asarray(lon, dtype=np.float64),
            np.asarray(h_m, dtype=np.float64),
        )
        shape = lat_a.shape
        lat_f = np.ascontiguousarray(lat_a).ravel().copy()
        lon_f = np.ascontiguousarray(lon_a).ravel().copy()
        h_f = np.ascontiguousarray(h_a).ravel().copy()

        bad = ~(np.isfinite(lat_f) & np.isfinite(lon_f))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise GeoidError(
                f"{int(bad.sum())} point(s) have non-finite coordinates, "
                f"first lat={lat_f[i]}, lon={lon_f[i]}"
            )
        h_ok = np.isfinite(h_f)
        z_in = np.where(h_ok, h_f, 0.0)  # PROJ turns a NaN z into a failed point

        _, _, z = self._transformer.transform(lon_f, lat_f, z_in, direction=direction)
        z = np.asarray(z, dtype=np.float64)

        # PROJ marks points it cannot shift (outside the grid) with HUGE_VAL (inf).
        failed = ~np.isfinite(z)
        if failed.any():
            i = int(np.flatnonzero(failed)[0])
            cover = f"grid nodes cover {self.bounds}" if self.bounds else "grid extent unknown"
            raise GeoidError(
                f"{int(failed.sum())} of {failed.size} point(s) outside the geoid grid "
                f"{self.path.name}, first lat={lat_f[i]:.6f}, lon={lon_f[i]:.6f}; {cover}"
            )

        out = np.where(h_ok, z, h_f).reshape(shape)
        if out.ndim == 0:
            return float(out)
        return out


@lru_cache(maxsize=1)
def default_geoid() -> Geoid:
    """The shared :class:`Geoid` on the packaged EGM96 15' Hunan clip."""
    return Geoid()


def undulation(lat: ArrayLike, lon: ArrayLike) -> float | NDArray[np.float64]:
    """Geoid undulation ``N`` (m) from the default EGM96 grid. See :meth:`Geoid.undulation`."""
    return default_geoid().undulation(lat, lon)


def w84_to_amsl(lat: ArrayLike, lon: ArrayLike, h_w84_m: ArrayLike) -> float | NDArray[np.float64]:
    """W84 ellipsoidal height -> AMSL with the default grid. See :meth:`Geoid.w84_to_amsl`."""
    return default_geoid().w84_to_amsl(lat, lon, h_w84_m)


def amsl_to_w84(lat: ArrayLike, lon: ArrayLike, h_amsl_m: ArrayLike) -> float | NDArray[np.float64]:
    """AMSL -> W84 ellipsoidal height with the default grid. See :meth:`Geoid.amsl_to_w84`."""
    return default_geoid().amsl_to_w84(lat, lon, h_amsl_m)


__all__ = [
    "GEOID_GRID_ERROR_M",
    "Geoid",
    "GridBounds",
    "amsl_to_w84",
    "default_geoid",
    "geoid_pipeline",
    "undulation",
    "w84_to_amsl",
]
