"""DEM reading and point sampling."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import rasterio.shutil
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.warp import Resampling, calculate_default_transform, reproject
from scipy.interpolate import RegularGridInterpolator

from airgrid.terrain import (
    Dem,
    DemCrsError,
    DemNotFoundError,
    DemReadError,
    NoDataError,
    OutsideCoverageError,
    TerrainError,
)
from tests.conftest import REAL_DEM, write_tif


def test_pixel_centres_match_rasterio_sample(real_dem: Dem) -> None:
    rng = np.random.default_rng(1)
    with rasterio.open(REAL_DEM) as ds:
        rows = rng.integers(0, ds.height, 300)
        cols = rng.integers(0, ds.width, 300)
        xs, ys = rasterio.transform.xy(ds.transform, rows, cols)  # pixel centres
        expected = np.array([v[0] for v in ds.sample(zip(xs, ys))], float)
    got = real_dem.elevation(np.asarray(ys), np.asarray(xs))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)  # 1/120-degree transform round-off


def test_bilinear_between_centres_matches_scipy(real_dem: Dem) -> None:
    with rasterio.open(REAL_DEM) as ds:
        arr = ds.read(1).astype(float)
        t = ds.transform
    lons = t.c + (np.arange(arr.shape[1]) + 0.5) * t.a
    lats = t.f + (np.arange(arr.shape[0]) + 0.5) * t.e
    interp = RegularGridInterpolator((lats[::-1], lons), arr[::-1])
    rng = np.random.default_rng(2)
    qlat = rng.uniform(lats[-1], lats[0], 500)
    qlon = rng.uniform(lons[0], lons[-1], 500)
    np.testing.assert_allclose(real_dem.elevation(qlat, qlon), interp(np.c_[qlat, qlon]), atol=1e-6)


def _bilinear_numpy(data: np.ndarray, col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """The bilinear rule written plainly with NumPy arrays: corners at pixel centres, edge
    values within half a pixel of the edge, void corners left out and the others'
    weights renormalised (NaN where all four are voids)."""
    h, w = data.shape
    x = np.clip(col - 0.5, 0, w - 1)
    y = np.clip(row - 0.5, 0, h - 1)
    x0 = np.minimum(np.floor(x).astype(np.intp), max(w - 2, 0))
    y0 = np.minimum(np.floor(y).astype(np.intp), max(h - 2, 0))
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = x - x0, y - y0
    corners = np.stack([data[y0, x0], data[y0, x1], data[y1, x0], data[y1, x1]]).astype(float)
    weights = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy])
    valid = ~np.isnan(corners)
    weights = np.where(valid, weights, 0.0)
    wsum = weights.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (np.where(valid, corners, 0.0) * weights).sum(axis=0) / wsum
    return np.where(~valid.any(axis=0) | (wsum <= 0), np.nan, out)


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    void_share=st.sampled_from([0.0, 0.3, 0.7]),
)
def test_bilinear_kernel_equals_the_numpy_rule(
    h: int, w: int, seed: int, void_share: float
) -> None:
    """The Numba sampler gives the plain NumPy rule's heights bit for bit, on rasters with
    voids, one-pixel rasters and points on the edges and the pixel centres; points in
    voids and outside are counted and the first named, as Dem.elevation reports them."""
    rng = np.random.default_rng(seed)
    data = rng.uniform(-50, 3000, (h, w)).astype(np.float32)
    data[rng.random((h, w)) < void_share] = np.nan
    data.flat[rng.integers(0, h * w)] = 1.5  # a DEM holds at least one height
    t = Affine(0.25, 0, 112, 0, -0.25, 30)  # binary fractions: the pixel edges map exactly
    dem = Dem(data, t, 4326)
    col = np.concatenate([rng.uniform(0, w, 40), [0.0, w, 0.5, w - 0.5], rng.integers(0, w + 1, 4)])
    row = np.concatenate([rng.uniform(0, h, 40), [h, 0.0, 0.5, h - 0.5], rng.integers(0, h + 1, 4)])
    lon, lat = t * (col, row)
    want = _bilinear_numpy(dem.data, *dem.lonlat_to_pixel(lon, lat))
    void = np.isnan(want)
    if void.any():
        with pytest.raises(NoDataError, match=f"^{int(void.sum())} point"):
            dem.elevation(lat, lon)
        first = int(np.flatnonzero(void)[0])
        with pytest.raises(NoDataError, match=f"lat {lat[first]:.6f} lon {lon[first]:.6f}"):
            dem.elevation(lat, lon)
    got = dem.elevation(lat[~void], lon[~void])
    np.testing.assert_array_equal(got, want[~void])
    outside = np.concatenate([lat[:3], [30.001]]), np.concatenate([lon[:3], [112.1]])
    with pytest.raises(OutsideCoverageError, match=r"^1 point.*first at lat 30\.001000"):
        dem.elevation(*outside)


def test_known_places_on_real_dem(real_dem: Dem) -> None:
    # SOURCES.md: Changsha centre about 45 m, Dongting Lake about 30 m
    assert 30 <= float(real_dem.elevation(28.2, 112.97)) <= 80
    assert float(real_dem.elevation(29.3, 112.9)) < 60


def test_scalar_and_array_shapes(real_dem: Dem) -> None:
    assert real_dem.elevation(28.2, 112.97).shape == ()
    assert real_dem.elevation(np.full((2, 3), 28.2), np.full((2, 3), 112.97)).shape == (2, 3)


def test_missing_file() -> None:
    with pytest.raises(DemNotFoundError) as e:
        Dem.open("/no/such/dem.tif")
    assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, TerrainError)


def test_unreadable_file(tmp_path) -> None:
    bad = tmp_path / "dem.tif"
    bad.write_text("not a raster")
    with pytest.raises(DemReadError) as e:
        Dem.open(bad)
    assert isinstance(e.value, OSError)


def test_outside_coverage(real_dem: Dem) -> None:
    with pytest.raises(OutsideCoverageError) as e:
        real_dem.elevation(40.0, 112.0)
    assert isinstance(e.value, ValueError)


def test_voids_are_never_zero(tmp_path) -> None:
    data = np.full((10, 10), 100.0, np.float32)
    data[:5, :5] = -9999
    dem = Dem.open(
        write_tif(tmp_path / "v.tif", data, Affine(0.01, 0, 112, 0, -0.01, 28.1), nodata=-9999)
    )
    with pytest.raises(NoDataError):
        dem.elevation(28.1 - 0.015, 112.015)  # deep in the void
    # next to the void the valid neighbours alone decide (renormalised), never pulled to 0
    assert float(dem.elevation(28.1 - 0.05, 112.05)) == pytest.approx(100.0)


def test_all_nodata(tmp_path) -> None:
    data = np.full((4, 4), -9999, np.float32)
    with pytest.raises(NoDataError):
        Dem.open(
            write_tif(tmp_path / "n.tif", data, Affine(0.01, 0, 112, 0, -0.01, 28.1), nodata=-9999)
        )


def test_no_crs(tmp_path) -> None:
    p = tmp_path / "nocrs.tif"
    with rasterio.open(
        p,
        "w",
        driver="GTiff",
        width=4,
        height=4,
        count=1,
        dtype="float32",
        transform=Affine(0.01, 0, 112, 0, -0.01, 28.1),
    ) as dst:
        dst.write(np.ones((4, 4), np.float32), 1)
    with pytest.raises(DemCrsError):
        Dem.open(p)
    assert float(Dem.open(p, crs="EPSG:4326").elevation(28.08, 112.02)) == 1.0


def test_mosaic_of_tiles_equals_whole(tmp_path, real_dem: Dem) -> None:
    with rasterio.open(REAL_DEM) as ds:
        arr = ds.read(1)
        t = ds.transform
    west = write_tif(tmp_path / "w.tif", arr[:, :40], t, dtype="int16")
    east = write_tif(tmp_path / "e.tif", arr[:, 40:], t @ Affine.translation(40, 0), dtype="int16")
    mosaic = Dem.open([west, east])
    np.testing.assert_array_equal(mosaic.data, real_dem.data)
    assert mosaic.transform.almost_equals(real_dem.transform)


def test_srtm_hgt(tmp_path) -> None:
    # an SRTM3 tile: 1201 x 1201 posts over N28E112, written through GDAL's SRTMHGT driver
    n = 1201
    yy, xx = np.mgrid[0:n, 0:n]
    data = (100 + xx // 10 + yy // 20).astype(np.int16)
    src = write_tif(
        tmp_path / "src.tif",
        data,
        Affine(1 / 1200, 0, 112 - 1 / 2400, 0, -1 / 1200, 29 + 1 / 2400),
        dtype="int16",
    )
    hgt = tmp_path / "N28E112.hgt"
    rasterio.shutil.copy(src, hgt, driver="SRTMHGT")
    dem = Dem.open(hgt)
    assert dem.crs.to_epsg() == 4326
    # post (row 600, col 300) is at lat 28.5, lon 112.25
    assert float(dem.elevation(28.5, 112.25)) == 100 + 300 // 10 + 600 // 20
    assert 80 < dem.pixel_size_m[1] < 95


@pytest.mark.parametrize("epsg", [4490, 32649])
def test_other_crs(tmp_path, real_dem: Dem, epsg: int) -> None:
    with rasterio.open(REAL_DEM) as ds:
        if epsg == 4490:  # CGCS2000: same numbers, another datum label
            p = write_tif(
                tmp_path / "cgcs.tif", ds.read(1), ds.transform, crs="EPSG:4490", dtype="int16"
            )
        else:  # UTM 49N, about 0.85 km pixels
            dst_t, w, h = calculate_default_transform(
                ds.crs, f"EPSG:{epsg}", ds.width, ds.height, *ds.bounds
            )
            out = np.full((h, w), np.nan, np.float32)
            reproject(
                ds.read(1).astype(np.float32),
                out,
                src_transform=ds.transform,
                src_crs=ds.crs,
                dst_transform=dst_t,
                dst_crs=f"EPSG:{epsg}",
                resampling=Resampling.bilinear,
                dst_nodata=np.nan,
            )
            p = write_tif(tmp_path / "utm.tif", out, dst_t, crs=f"EPSG:{epsg}", nodata=np.nan)
    dem = Dem.open(p)
    lat, lon = np.array([28.2, 27.5, 29.0]), np.array([112.97, 111.5, 113.5])
    got = dem.elevation(lat, lon)
    want = real_dem.elevation(lat, lon)
    tol = 1e-6 if epsg == 4490 else 60.0  # a second resampling blurs the coarse grid a little
    np.testing.assert_allclose(got, want, atol=tol)
    if epsg == 32649:
        assert not dem.is_geographic and 700 < dem.pixel_size_m[0] < 1000


def test_lonlat_pixel_fast_path_equals_the_general_path(real_dem: Dem) -> None:
    """The WGS84 DEM maps points with one Numba pass; pyproj plus the affine give the same bits."""
    rng = np.random.default_rng(3)
    lon = np.concatenate([rng.uniform(100, 120, 20_000), [np.nan, np.inf, -np.inf, 108.6]])
    lat = np.concatenate([rng.uniform(20, 35, 20_000), [28.0, np.nan, 29.0, 30.3]])
    col, row = real_dem.lonlat_to_pixel(lon, lat)
    assert real_dem._lonlat_native
    x, y = real_dem._to_dem.transform(lon, lat)
    with np.errstate(invalid="ignore"):  # inf * 0 on the general path
        want_col, want_row = real_dem._inverse @ (np.asarray(x), np.asarray(y))
    assert np.array_equal(col, want_col, equal_nan=True)
    assert np.array_equal(row, want_row, equal_nan=True)
    scalar = real_dem.lonlat_to_pixel(112.5, 28.0)  # 0-d input takes the general path
    assert float(scalar[0]) == float(
        real_dem.lonlat_to_pixel(np.array([112.5]), np.array([28.0]))[0][0]
    )
