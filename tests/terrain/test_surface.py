"""Ground bounds per H3 cell, obstacles, hillshade."""

from __future__ import annotations

import json

import h3
import numpy as np
import pytest
import shapely
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airgrid.terrain import (
    Dem,
    DemAccuracy,
    NoDataError,
    ObstacleError,
    Obstacles,
    OutsideCoverageError,
    band_ground,
    cell_ground,
    export_hillshade,
    hillshade,
)
from tests.conftest import DATA

NO_MARGIN = DemAccuracy(0.0, 0.0, 0.0, 0.0, relief_ring=0)


def cell_poly(c: int) -> shapely.Polygon:
    return shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(h3.int_to_str(c))])


def touched_pixels(dem: Dem, poly: shapely.Geometry) -> np.ndarray:
    """Plainly correct reference: every pixel box that intersects the polygon (shapely)."""
    h, w = dem.shape
    t = dem.transform
    vals = []
    for r in range(h):
        for c in range(w):
            x0, y0 = t @ (c, r)
            x1, y1 = t @ (c + 1, r + 1)
            if shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)).intersects(poly):
                vals.append(dem.data[r, c])
    return np.array(vals)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    pix=st.sampled_from([0.0005, 0.0011, 0.003]),
    res=st.sampled_from([8, 9]),
    lat=st.floats(27.9, 28.1),
    lon=st.floats(112.9, 113.1),
)
def test_cell_max_covers_every_touching_pixel(seed, pix, res, lat, lon) -> None:
    rng = np.random.default_rng(seed)
    n = 40 if res == 9 else 80
    data = rng.uniform(0, 1000, (n, n)).astype(np.float32)
    dem = Dem(
        data,
        Affine(pix, 0, lon - n * pix / 2, 0, -pix, lat + n * pix / 2),
        4326,
        accuracy=NO_MARGIN,
    )
    c = h3.str_to_int(h3.latlng_to_cell(lat, lon, res))
    poly = cell_poly(c)
    w, s, e, nn = dem.bounds_lonlat
    if not shapely.box(w, s, e, nn).contains(poly):
        with pytest.raises(OutsideCoverageError):
            cell_ground(dem, np.array([c]))
        return
    g = cell_ground(dem, np.array([c]))
    ref = touched_pixels(dem, poly)
    # conservative: at least every pixel that touches the cell ...
    assert g.dem_max[0] >= ref.max()
    assert g.dem_min[0] <= ref.min()
    # ... and no more than the pixels touching it grown by the documented 1% pixel safety pad
    assert g.dem_max[0] <= touched_pixels(dem, poly.buffer(0.02 * pix)).max()


def test_hand_checked_cell_maximum() -> None:
    # A res-9 cell over a raster of 0.0005 deg pixels, all 10 m except two pixels:
    # one holding a cell vertex (500 m: touches the cell, must count) and one well
    # outside the cell's bounding box (999 m: must not count). The centre sample is 10 m.
    c = h3.latlng_to_cell(28.0, 113.0, 9)
    lat0, lon0 = h3.cell_to_latlng(c)
    vlat, vlng = h3.cell_to_boundary(c)[0]
    pix = 0.0005
    west, north = lon0 - 0.01, lat0 + 0.01
    data = np.full((40, 40), 10.0, np.float32)
    data[int((north - vlat) / pix), int((vlng - west) / pix)] = 500.0
    data[1, 1] = 999.0
    dem = Dem(
        data,
        Affine(pix, 0, west, 0, -pix, north),
        4326,
        accuracy=DemAccuracy(5.0, 0.5, 5.0, 0.5, relief_ring=1),
    )
    g = cell_ground(dem, np.array([h3.str_to_int(c)]))
    assert float(dem.elevation(lat0, lon0)) == 10.0
    assert g.dem_max[0] == 500.0 and g.dem_min[0] == 10.0
    # upward margin of the 500 m pixel = absolute 5 m + 0.5 x relief (500 - 10) in its 3x3 window
    assert g.g_hi[0] == pytest.approx(500.0 + 5.0 + 0.5 * 490.0)
    # the lowest touched pixels (10 m) sit in windows that see the spike too
    assert g.g_lo[0] == pytest.approx(10.0 - 5.0 - 0.5 * 490.0)
    # a pixel far from both spikes keeps the bare absolute margins
    assert dem.margin_up[20, 30] == pytest.approx(5.0)
    assert dem.lower[20, 30] == pytest.approx(5.0)


def test_pad_is_monotone(real_dem: Dem) -> None:
    cells = np.array(
        [h3.str_to_int(c) for c in h3.grid_disk(h3.latlng_to_cell(27.3, 110.5, 9), 12)]
    )
    a = band_ground(real_dem, cells, pad_m=0.0)
    b = band_ground(real_dem, cells, pad_m=3000)
    assert np.all(b >= a) and np.any(b > a)
    np.testing.assert_array_equal(a, cell_ground(real_dem, cells).dem_max)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), slope=st.floats(0.01, 1.0), relief=st.floats(1, 2000))
def test_band_surface_envelope(seed: int, slope: float, relief: float) -> None:
    rng = np.random.default_rng(seed)
    data = (rng.random((30, 30)) * relief).astype(np.float32)
    data[rng.random((30, 30)) < 0.05] = np.nan
    dem = Dem(
        data,
        Affine(0.001, 0, 112.0, 0, -0.001, 28.0),
        4326,
        accuracy=DemAccuracy(5, 0.5, 5, 0.5, relief_ring=1),
    )
    bounds = dem.bounds_lonlat
    env = dem.band_surface(bounds, extra_m=0, slope=slope, max_pixel_m=40.0)
    f = env.shape[0] // 30
    assert f == 3  # ~100 m pixels split into three
    up = np.repeat(np.repeat(dem.upper, f, 0), f, 1)
    ok = ~np.isnan(up)
    assert np.all(env.data[ok] >= up[ok])  # conservative everywhere
    dx, dy = env.pixel_size_m
    lim_x = slope * dx * 1.02 + 1e-3
    assert np.nanmax(np.abs(np.diff(env.data, axis=1))) <= lim_x
    assert np.nanmax(np.abs(np.diff(env.data, axis=0))) <= slope * dy * 1.02 + 1e-3
    flatter = dem.band_surface(bounds, extra_m=0, slope=slope / 2, max_pixel_m=40.0)
    assert np.all(flatter.data >= env.data - 1e-3)


def test_coarse_dem_margin_is_visible() -> None:
    # Hengshan: ETOPO5 reads ~250 m, the true summit is 1300 m; the margin must cover it
    etopo5 = Dem.open(DATA / "hunan_etopo5_5arcmin.tif")
    c = h3.str_to_int(h3.latlng_to_cell(27.27, 112.70, 9))
    g = cell_ground(etopo5, np.array([c]))
    assert g.g_hi[0] >= 1300
    assert etopo5.accuracy.max_margin_m == 2000


def test_cell_outside_dem(real_dem: Dem) -> None:
    c = h3.str_to_int(h3.latlng_to_cell(35.0, 112.0, 9))
    with pytest.raises(OutsideCoverageError):
        cell_ground(real_dem, np.array([c]))


def test_cell_over_void() -> None:
    data = np.full((40, 40), np.nan, np.float32)
    data[0, 0] = 10.0
    dem = Dem(data, Affine(0.001, 0, 112.98, 0, -0.001, 28.02), 4326)
    c = h3.str_to_int(h3.latlng_to_cell(28.0, 113.0, 10))
    with pytest.raises(NoDataError):
        cell_ground(dem, np.array([c]))


def test_obstacles_raise_touched_cells(tmp_path, real_dem: Dem) -> None:
    tower = {
        "type": "Feature",
        "properties": {"height_m": 400, "name": "mast"},
        "geometry": {"type": "Point", "coordinates": [112.97, 28.2]},
    }
    block = {
        "type": "Feature",
        "properties": {"top_m": 5000},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [112.90, 28.10],
                    [112.91, 28.10],
                    [112.91, 28.11],
                    [112.90, 28.11],
                    [112.90, 28.10],
                ]
            ],
        },
    }
    p = tmp_path / "obs.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [tower, block]}))
    obs = Obstacles.from_geojson(p, real_dem)
    here = h3.str_to_int(h3.latlng_to_cell(28.2, 112.97, 10))
    inside = h3.str_to_int(h3.latlng_to_cell(28.105, 112.905, 10))
    far = h3.str_to_int(h3.latlng_to_cell(28.5, 113.5, 10))
    g = cell_ground(real_dem, np.array([here, inside, far]), obstacles=obs)
    assert g.obstacle_top[0] >= 400 + float(real_dem.elevation(28.2, 112.97))
    assert g.obstacle_top[1] == 5000 and g.g_hi[1] == 5000
    assert np.isnan(g.obstacle_top[2])


@pytest.mark.parametrize(
    "feature, msg",
    [
        (
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [112.9, 28.1]},
            },
            "height",
        ),
        (
            {
                "type": "Feature",
                "properties": {"height_m": -3},
                "geometry": {"type": "Point", "coordinates": [112.9, 28.1]},
            },
            ">= 0",
        ),
        (
            {
                "type": "Feature",
                "properties": {"height_m": 3},
                "geometry": {"type": "LineString", "coordinates": [[112.9, 28.1], [113, 28]]},
            },
            "geometry",
        ),
    ],
)
def test_bad_obstacles(tmp_path, real_dem: Dem, feature, msg) -> None:
    p = tmp_path / "obs.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(ObstacleError, match=msg):
        Obstacles.from_geojson(p, real_dem)


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_hillshade_export(tmp_path, real_dem: Dem) -> None:
    import rasterio

    meta = export_hillshade(real_dem, tmp_path / "hs.png")
    with rasterio.open(tmp_path / "hs.png") as ds:
        assert ds.read(1).shape == real_dem.shape
    side = json.loads((tmp_path / "hs.json").read_text())
    assert side["bounds"] == pytest.approx(list(real_dem.bounds_lonlat)) == meta["bounds"]
    # a pyramid: with the sun in the north-west its NW face is lit, its SE face shaded
    yy, xx = np.mgrid[0:41, 0:41]
    pyramid = 2000.0 - 40.0 * np.maximum(np.abs(xx - 20), np.abs(yy - 20))
    hs = hillshade(Dem(pyramid, Affine(0.001, 0, 112, 0, -0.001, 28), 4326))
    assert hs[10, 10] > hs[30, 30] + 50
    flat = Dem(np.full((10, 10), 50.0), Affine(0.01, 0, 112, 0, -0.01, 28), 4326)
    export_hillshade(flat, tmp_path / "flat.png")
    with rasterio.open(tmp_path / "flat.png") as ds:
        assert len(np.unique(ds.read(1))) == 1
