"""Reading elevation rasters and sampling them at points.

Any raster GDAL can read works (GeoTIFF, SRTM ``.hgt``, ERDAS, VRT, ...). Several
tiles are read as one mosaic. Nodata becomes NaN (a void); voids are never read as
0. Heights are metres above mean sea level, as the DEM gives them.

Coordinates at the edge are always WGS84 longitude/latitude; CGCS2000 (EPSG:4490)
and projected DEM CRSs are handled by transforming with pyproj.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np
import rasterio
import rasterio.merge
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.errors import RasterioIOError

from airgrid.geo.constants import M_PER_DEG_LAT_MIN, M_PER_DEG_LON_EQUATOR
from airgrid.terrain.errors import (
    DemAccuracyError,
    DemCrsError,
    DemNotFoundError,
    DemReadError,
    NoDataError,
    OutsideCoverageError,
)
from airgrid.terrain.kernels import affine_apply, bilinear

log = logging.getLogger(__name__)

WGS84 = CRS.from_epsg(4326)


def apply_affine(t: Affine, cols: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map pixel coordinates (column, row) through an affine transform, element-wise."""
    return t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f


@dataclass(frozen=True)
class DemAccuracy:
    """Vertical uncertainty model of a DEM, with separate upward and downward margins.

    Every pixel ``p`` gets two margins::

        up(p)   = min(up_absolute_m   + up_relief_factor   * relief(p), max_margin_m)
        down(p) = min(down_absolute_m + down_relief_factor * relief(p), max_margin_m)

    where ``relief(p)`` is the height range of the DEM in the ``(2 relief_ring + 1)``
    pixel square window centred on ``p``. The true ground anywhere in pixel ``p`` is
    taken to lie within ``[height(p) - down(p), height(p) + up(p)]``. The absolute
    terms are the DEM's error over flat ground; the relief terms bound what a grid of
    posts cannot see: a summit between posts rises above every sample, a gorge cuts
    below them, and smoothed products flatten both by a multiple of the local relief.
    A factor of at least 1 also covers a feature displaced by up to ``relief_ring``
    pixels, because the relief window then contains the displaced extreme.

    Parameters
    ----------
    up_absolute_m, up_relief_factor
        Upward margin: metres, and multiple of the local relief.
    down_absolute_m, down_relief_factor
        Downward margin: metres, and multiple of the local relief.
    relief_ring
        How many pixels around a pixel form its relief window.
    max_margin_m
        Upper bound of either margin: no DEM of this class misses relief by more.
    basis
        Where the numbers come from (for reports).
    """

    up_absolute_m: float
    up_relief_factor: float
    down_absolute_m: float
    down_relief_factor: float
    relief_ring: int = 2
    max_margin_m: float = math.inf
    basis: str = ""

    def __post_init__(self) -> None:
        for name in ("up_absolute_m", "up_relief_factor", "down_absolute_m", "down_relief_factor"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise DemAccuracyError(
                    f"DEM accuracy {name} must be a finite number >= 0, got {v!r}"
                )
        if not (isinstance(self.relief_ring, int) and 0 <= self.relief_ring <= 50):
            raise DemAccuracyError(f"relief_ring must be an integer 0-50, got {self.relief_ring!r}")
        if not self.max_margin_m > 0:
            raise DemAccuracyError(f"max_margin_m must be positive, got {self.max_margin_m!r}")

    @classmethod
    def for_spacing(cls, spacing_m: float) -> DemAccuracy:
        """Default accuracy for a DEM whose pixels are ``spacing_m`` apart.

        Parameters
        ----------
        spacing_m
            The larger of the two pixel sizes, in metres.

        Returns
        -------
        DemAccuracy
            The class defaults below, chosen by spacing.

        Notes
        -----
        ==================  ==============  ==============  ======  ===========================
        class               up              down            window  basis
        ==================  ==============  ==============  ======  ===========================
        <= 35 m (1")        5 m + 0.5 R     5 m + 0.5 R     5x5     Copernicus GLO-30 LE90 < 4 m
        <= 100 m (3")       16 m + 1 R      16 m + 1 R      5x5     SRTM 3" LE90 16 m
        <= 1200 m (30")     20 m + 2 R      15 m + 1 R      3x3     calibrated, see below
        coarser (5')        50 m + 4.5 R    50 m + 1 R      5x5     calibrated, see below
        ==================  ==============  ==============  ======  ===========================

        ``R`` is the local relief over the window. The 1" and 3" rows follow the
        products' published accuracy (no such DEM of Hunan is at hand to calibrate
        them); a relief factor of at least 1 keeps displaced features covered (see
        the class).

        The 30" and 5' rows are calibrated on the shipped Hunan DEMs against the
        truth points of ``airgrid/data/truth_points.csv`` (ten airport elevations, nine
        published summit heights, each summit with the uncertainty of its
        coordinates): ``tests/terrain/test_truth.py`` holds every point inside the
        bounds of its cell at every tier resolution, and
        :func:`airgrid.terrain.calibration.required_factors` gives the smallest
        factors that would do. On the 30" grid the airports' errors stay within
        11 m on flat ground and the summits need upward factors up to 1.99 over a
        15 m absolute term (Tianmen Mountain, a cliff-walled mesa 1518.6 m high;
        the others need 0.9 at most); no point needs a downward factor, and 1 is
        kept for valleys the 1 km posts cannot see. On ETOPO5 the summits need an
        upward factor of 4.0 (Hengshan) and the valley airports a downward one of
        0.71 (Zhangjiajie). Where the window's relief is large the coarse DEM
        already resolves the massif, so its margins are capped at 2000 m, above
        the largest error seen (about 1500 m at Lingfeng).
        """
        if spacing_m <= 35:
            return cls(5.0, 0.5, 5.0, 0.5, basis='1" class: Copernicus GLO-30 LE90')
        if spacing_m <= 100:
            return cls(16.0, 1.0, 16.0, 1.0, basis='3" class: SRTM LE90')
        if spacing_m <= 1200:
            return cls(
                20.0,
                2.0,
                15.0,
                1.0,
                relief_ring=1,
                basis='30" class: calibrated on Hunan truth points',
            )
        return cls(
            50.0,
            4.5,
            50.0,
            1.0,
            max_margin_m=2000.0,
            basis="5' class: calibrated on Hunan truth points (ETOPO5)",
        )

    def with_overrides(
        self, *, absolute_m: float | None = None, relief_factor: float | None = None
    ) -> DemAccuracy:
        """The same model with both absolute terms and/or both relief factors replaced."""
        changes: dict[str, Any] = {}
        if absolute_m is not None:
            changes.update(up_absolute_m=absolute_m, down_absolute_m=absolute_m)
        if relief_factor is not None:
            changes.update(up_relief_factor=relief_factor, down_relief_factor=relief_factor)
        if not changes:
            return self
        return dataclasses.replace(self, basis="user override", **changes)

    def describe(self) -> str:
        """One line for reports: both margins and the window."""
        size = 2 * self.relief_ring + 1
        cap = f", capped at {self.max_margin_m:g} m" if math.isfinite(self.max_margin_m) else ""
        return (
            f"up {self.up_absolute_m:g} m + {self.up_relief_factor:g} x relief, down "
            f"{self.down_absolute_m:g} m + {self.down_relief_factor:g} x relief "
            f"({size}x{size}-pixel window{cap})"
        )

    def to_dict(self) -> dict:
        """Plain-data form (grid metadata)."""
        d = dataclasses.asdict(self)
        d["max_margin_m"] = self.max_margin_m if math.isfinite(self.max_margin_m) else None
        return d


class Dem:
    """An elevation raster in memory: a float32 array with NaN voids, its transform and CRS.

    Use :meth:`Dem.open` to read files; the constructor takes arrays (handy for tests
    and for DEMs made in memory).

    Parameters
    ----------
    data
        2-D heights in metres above mean sea level; NaN marks voids.
    transform
        Affine transform from (col, row) pixel corners to CRS coordinates.
    crs
        The raster's CRS (anything :class:`pyproj.CRS` accepts).
    accuracy
        Vertical uncertainty model; by default chosen from the pixel spacing.
    sources
        Names of the files it came from (for reports).
    """

    def __init__(
        self,
        data: np.ndarray,
        transform: Affine,
        crs: CRS | str | int,
        *,
        accuracy: DemAccuracy | None = None,
        sources: Sequence[str] = (),
    ) -> None:
        arr = np.asarray(data, dtype=np.float32)
        if arr.ndim != 2 or arr.size == 0:
            raise DemReadError(f"a DEM must be a non-empty 2-D array, got shape {arr.shape}")
        if transform.b != 0 or transform.d != 0:
            raise DemReadError("rotated or sheared DEM transforms are not supported; warp first")
        self.data = np.ascontiguousarray(arr)
        self.transform = transform
        try:
            self.crs = CRS.from_user_input(crs)
        except Exception as exc:  # pyproj raises its own CRSError
            raise DemCrsError(f"unusable DEM CRS {crs!r}: {exc}") from exc
        self.sources = tuple(sources)
        self._inverse = ~transform
        self._to_dem = Transformer.from_crs(WGS84, self.crs, always_xy=True)
        self._from_dem = Transformer.from_crs(self.crs, WGS84, always_xy=True)
        self.accuracy = accuracy or DemAccuracy.for_spacing(max(self.pixel_size_m))
        if np.isnan(self.data).all():
            raise NoDataError("the DEM holds no valid height at all (every pixel is nodata)")

    # -- reading ----------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        paths: str | Path | Sequence[str | Path],
        *,
        crs: CRS | str | int | None = None,
        accuracy: DemAccuracy | None = None,
    ) -> Dem:
        """Read one DEM file or a mosaic of tiles.

        Parameters
        ----------
        paths
            One path or several; several tiles are merged into one raster (the first
            tile's resolution; where tiles overlap the first valid value wins).
        crs
            CRS to assume for files that carry none (for example a bare ``.xyz``).
            SRTM ``.hgt`` files carry EPSG:4326 through GDAL's SRTMHGT driver.
        accuracy
            Vertical uncertainty model; by default chosen from the pixel spacing.

        Returns
        -------
        Dem

        Raises
        ------
        DemNotFoundError
            A path does not exist.
        DemReadError
            GDAL cannot read a file as a raster.
        DemCrsError
            No CRS, or tiles in different CRSs.
        NoDataError
            The raster holds no valid height.
        """
        items = [paths] if isinstance(paths, (str, Path)) else list(paths)
        if not items:
            raise DemNotFoundError("no DEM path given")
        for p in items:
            if not Path(p).exists():
                raise DemNotFoundError(f"DEM file not found: {p}")
        datasets = []
        try:
            for p in items:
                try:
                    datasets.append(rasterio.open(p))
                except RasterioIOError as exc:
                    raise DemReadError(f"cannot read {p} as a raster: {exc}") from exc
            crss = {ds.crs.to_wkt() if ds.crs else None for ds in datasets}
            if len(crss) > 1:
                raise DemCrsError("the DEM tiles are in different CRSs; warp them to one CRS first")
            file_crs = datasets[0].crs
            if file_crs is None and crs is None:
                raise DemCrsError(f"{items[0]} has no CRS; pass crs= (e.g. 'EPSG:4326')")
            use_crs = crs if crs is not None else file_crs.to_wkt()
            if len(datasets) == 1:
                ds = datasets[0]
                band = ds.read(1, masked=True)
                transform = ds.transform
            else:
                merged, transform = rasterio.merge.merge(datasets, masked=True)
                band = merged[0]
            data = np.ma.filled(band.astype(np.float32), np.nan)
        finally:
            for ds in datasets:
                ds.close()
        log.info("read DEM %s: %s px", [str(p) for p in items], data.shape)
        return cls(data, transform, use_crs, accuracy=accuracy, sources=[str(p) for p in items])

    # -- geometry ---------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns."""
        h, w = self.data.shape
        return int(h), int(w)

    @property
    def is_geographic(self) -> bool:
        """Whether the DEM's CRS is geographic (degrees)."""
        return bool(self.crs.is_geographic)

    @functools.cached_property
    def bounds_lonlat(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the raster in WGS84 degrees (computed once: a
        DEM's raster, transform and CRS never change)."""
        h, w = self.shape
        xs = np.array([0, w, 0, w], dtype=float)
        ys = np.array([0, 0, h, h], dtype=float)
        cx, cy = apply_affine(self.transform, xs, ys)
        lon, lat = self._from_dem.transform(cx, cy)
        return float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))

    @property
    def pixel_size_m(self) -> tuple[float, float]:
        """Approximate pixel width and height in metres at the raster's centre."""
        dx, dy = abs(self.transform.a), abs(self.transform.e)
        if not self.is_geographic:
            return float(dx), float(dy)
        h, w = self.shape
        _, cy = self.transform @ (w / 2, h / 2)
        return (
            float(dx * M_PER_DEG_LON_EQUATOR * math.cos(math.radians(cy))),
            float(dy * M_PER_DEG_LAT_MIN),
        )

    def lonlat_to_pixel(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Continuous pixel coordinates (col, row) of WGS84 points.

        Pixel ``(r, c)`` covers ``[c, c+1) x [r, r+1)``; its centre is ``(c+0.5, r+0.5)``.
        A DEM in WGS84 lon/lat skips the (identity) CRS transform and maps 1-D arrays in
        one Numba pass, with the same arithmetic as the general path.
        """
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        native = self.__dict__.get("_lonlat_native")
        if native is None:  # decided on first use, so Dems built without __init__ get it too
            native = self._lonlat_native = bool(self.crs.equals(WGS84, ignore_axis_order=True))
        if native and lon.ndim == 1 and lon.shape == lat.shape:
            col, row = np.empty_like(lon), np.empty_like(lon)
            inv = self._inverse
            x, y = np.ascontiguousarray(lon), np.ascontiguousarray(lat)
            affine_apply(x, y, inv.a, inv.b, inv.c, inv.d, inv.e, inv.f, col, row)
            return col, row
        x, y = self._to_dem.transform(lon, lat)
        col, row = self._inverse @ (np.asarray(x), np.asarray(y))
        return np.asarray(col, float), np.asarray(row, float)

    # -- conservative surfaces ---------------------------------------------------------
    def _margins(self) -> tuple[np.ndarray, np.ndarray]:
        if getattr(self, "_margin_pair", None) is None:
            # imported here: scipy.ndimage costs ~0.2 s of start-up that routing never needs
            from scipy.ndimage import maximum_filter, minimum_filter

            acc = self.accuracy
            size = 2 * acc.relief_ring + 1
            void = np.isnan(self.data)
            hi = maximum_filter(np.where(void, -np.inf, self.data), size, mode="nearest")
            lo = minimum_filter(np.where(void, np.inf, self.data), size, mode="nearest")
            relief = np.where(np.isfinite(hi) & np.isfinite(lo), hi - lo, 0.0)
            up = np.minimum(acc.up_absolute_m + acc.up_relief_factor * relief, acc.max_margin_m)
            down = np.minimum(
                acc.down_absolute_m + acc.down_relief_factor * relief, acc.max_margin_m
            )
            self._margin_pair = (
                np.where(void, np.nan, up).astype(np.float32),
                np.where(void, np.nan, down).astype(np.float32),
            )
        return self._margin_pair

    @property
    def margin_up(self) -> np.ndarray:
        """Per-pixel upward uncertainty margin (m), NaN on voids (see :class:`DemAccuracy`)."""
        return self._margins()[0]

    @property
    def margin_down(self) -> np.ndarray:
        """Per-pixel downward uncertainty margin (m), NaN on voids (see :class:`DemAccuracy`)."""
        return self._margins()[1]

    @property
    def upper(self) -> np.ndarray:
        """Per-pixel highest plausible ground: height plus upward margin (m AMSL, NaN on voids)."""
        if getattr(self, "_upper", None) is None:
            self._upper = (self.data + self.margin_up).astype(np.float32)
        return self._upper

    @property
    def lower(self) -> np.ndarray:
        """Per-pixel lowest plausible ground: height minus downward margin (m AMSL, NaN on voids)."""
        if getattr(self, "_lower", None) is None:
            self._lower = (self.data - self.margin_down).astype(np.float32)
        return self._lower

    def band_surface(
        self,
        bounds_lonlat: tuple[float, float, float, float],
        *,
        extra_m: float,
        slope: float,
        max_pixel_m: float,
    ) -> Dem:
        """A slope-limited upper envelope of :attr:`upper` over a window, as a raster.

        Parameters
        ----------
        bounds_lonlat
            (west, south, east, north) the result must cover.
        extra_m
            Extra margin around the bounds (metres).
        slope
            Largest slope of the envelope (m per m).
        max_pixel_m
            Pixels coarser than this are split by an integer factor first (each
            sub-pixel keeps its pixel's value, so footprint maxima are unchanged).

        Returns
        -------
        Dem
            A raster ``E >= upper`` (pointwise) in which neighbouring pixels differ by
            at most ``slope`` times their distance; its margin model is zero.

        Notes
        -----
        ``E(p) = max_q (upper(q) - slope * d(p, q))`` over the window, computed exactly
        for the 8-neighbour chamfer metric ``d`` by the two-pass distance-transform
        sweep of Rosenfeld and Pfaltz (1966), in max-plus form. The chamfer metric
        exceeds the Euclidean one by at most 8.3 %. Because ``E`` only ever raises
        ``upper``, anything measured from it stays conservative; a smaller slope gives
        a pointwise larger ``E`` on the same window.
        """
        h, w = self.shape
        west, south, east, north = bounds_lonlat
        xs = np.linspace(west, east, 9)
        ys = np.linspace(south, north, 9)
        gx, gy = np.meshgrid(xs, ys)
        col, row = self.lonlat_to_pixel(gx.ravel(), gy.ravel())
        dx_m, dy_m = self.pixel_size_m
        ex, ey = math.ceil(extra_m / dx_m) + 1, math.ceil(extra_m / dy_m) + 1
        c0 = max(math.floor(col.min()) - ex, 0)
        c1 = min(math.ceil(col.max()) + ex, w)
        r0 = max(math.floor(row.min()) - ey, 0)
        r1 = min(math.ceil(row.max()) + ey, h)
        f = max(1, math.ceil(max(dx_m, dy_m) / max_pixel_m))
        win = self.upper[r0:r1, c0:c1]
        if f > 1:
            win = np.repeat(np.repeat(win, f, axis=0), f, axis=1)
        t = self.transform @ Affine.translation(c0, r0) @ Affine.scale(1.0 / f)
        # metres per sub-pixel, per row (geographic rasters narrow towards the poles)
        rows_y = apply_affine(t, np.zeros(win.shape[0]), np.arange(win.shape[0]) + 0.5)[1]
        if self.is_geographic:
            lat = np.asarray(self._from_dem.transform(np.full(win.shape[0], t.c), rows_y)[1])
            dxr = abs(t.a) * M_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat))
            dy = abs(t.e) * M_PER_DEG_LAT_MIN
        else:
            dxr = np.full(win.shape[0], abs(t.a))
            dy = abs(t.e)
        env = _slope_envelope(
            np.ascontiguousarray(win, np.float32), dxr.astype(np.float64), float(dy), float(slope)
        )
        out = Dem.__new__(Dem)
        out.data = env
        out.transform = t
        out.crs = self.crs
        out.sources = self.sources
        out._inverse = ~t
        out._to_dem = self._to_dem
        out._from_dem = self._from_dem
        out.accuracy = DemAccuracy(0.0, 0.0, 0.0, 0.0, relief_ring=0, basis="slope envelope")
        return out

    # -- sampling ---------------------------------------------------------------------
    def elevation(self, lat: float | np.ndarray, lon: float | np.ndarray) -> np.ndarray:
        """Bilinear height at points, metres above mean sea level.

        Pixel values sit at pixel centres; between them heights are interpolated
        bilinearly. Within half a pixel of the raster's edge the nearest edge value
        is used. Void neighbours are left out and the weights renormalised.

        Parameters
        ----------
        lat, lon
            WGS84 degrees, scalars or arrays of one shape.

        Returns
        -------
        numpy.ndarray
            float64 heights, the shape of the input (0-d for scalars).

        Raises
        ------
        OutsideCoverageError
            A point lies outside the raster.
        NoDataError
            All four pixels around a point are voids.

        Examples
        --------
        >>> import numpy as np
        >>> from affine import Affine
        >>> dem = Dem(np.array([[0.0, 10.0], [20.0, 30.0]]), Affine(1, 0, 0, 0, -1, 2), 4326)
        >>> float(dem.elevation(1.0, 1.0))
        15.0
        """
        lat_a, lon_a = np.broadcast_arrays(np.asarray(lat, float), np.asarray(lon, float))
        col, row = self.lonlat_to_pixel(lon_a.ravel(), lat_a.ravel())
        out = np.empty(col.shape)
        found = bilinear(self.data, col, row, out)
        if found.outside:
            i = found.first_outside
            raise OutsideCoverageError(
                f"{found.outside} point(s) outside the DEM, first at lat {lat_a.ravel()[i]:.6f} "
                f"lon {lon_a.ravel()[i]:.6f}; DEM covers lon/lat {self.bounds_lonlat}"
            )
        if found.void:
            i = found.first_void
            raise NoDataError(
                f"{found.void} point(s) fall in DEM voids, first at lat "
                f"{lat_a.ravel()[i]:.6f} lon {lon_a.ravel()[i]:.6f}"
            )
        return out.reshape(lat_a.shape)


@nb.njit(cache=True)
def _slope_envelope(u, dx_row, dy, slope):
    """Max-plus chamfer sweep: ``e(p) = max(u(p), e(q) - slope * d(p, q))`` over 8-neighbours.

    Voids (NaN) take the envelope of their surroundings (or stay NaN if none reaches).
    """
    h, w = u.shape
    e = np.where(np.isnan(u), -np.inf, u).astype(np.float32)
    for r in range(h):  # forward: neighbours above and to the left
        dxr = dx_row[r]
        dd = math.sqrt(dxr * dxr + dy * dy) * slope
        sx = dxr * slope
        sy = dy * slope
        for c in range(w):
            v = e[r, c]
            if c > 0:
                v = max(v, e[r, c - 1] - sx)
            if r > 0:
                v = max(v, e[r - 1, c] - sy)
                if c > 0:
                    v = max(v, e[r - 1, c - 1] - dd)
                if c + 1 < w:
                    v = max(v, e[r - 1, c + 1] - dd)
            e[r, c] = v
    for r in range(h - 1, -1, -1):  # backward: neighbours below and to the right
        dxr = dx_row[r]
        dd = math.sqrt(dxr * dxr + dy * dy) * slope
        sx = dxr * slope
        sy = dy * slope
        for c in range(w - 1, -1, -1):
            v = e[r, c]
            if c + 1 < w:
                v = max(v, e[r, c + 1] - sx)
            if r + 1 < h:
                v = max(v, e[r + 1, c] - sy)
                if c + 1 < w:
                    v = max(v, e[r + 1, c + 1] - dd)
                if c > 0:
                    v = max(v, e[r + 1, c - 1] - dd)
            e[r, c] = v
    return np.where(np.isinf(e), np.float32(np.nan), e)
