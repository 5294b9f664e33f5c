"""The Numba oblique stereographic projection against PROJ's ``sterea`` (through pyproj,
the pipeline :func:`airgrid.geo.plane.local_metric` builds) and the geodesic."""

from __future__ import annotations

import numba as nb
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from airgrid.geo.plane import local_metric
from airgrid.geo.stereographic import sterea_params, sterea_point


@nb.njit(cache=False)
def _project(p: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.empty(len(lon)), np.empty(len(lon))
    for i in range(len(lon)):
        x[i], y[i] = sterea_point(p, lon[i], lat[i])
    return x, y


@settings(max_examples=40, deadline=None)
@given(
    st.floats(-179.0, 179.0),
    st.floats(-80.0, 80.0),
    st.integers(0, 2**32 - 1),
)
def test_points_agree_with_proj_within_a_micrometre(lon0: float, lat0: float, seed: int) -> None:
    """Centres anywhere (given to both to the 1e-8 degree ``local_metric`` writes them
    with), points within about 200 km of them, across the antimeridian too."""
    lon0, lat0 = round(lon0, 8), round(lat0, 8)
    rng = np.random.default_rng(seed)
    lon = lon0 + rng.uniform(-2.0, 2.0, 500)
    lat = np.clip(lat0 + rng.uniform(-1.8, 1.8, 500), -85.0, 85.0)
    fwd, _ = local_metric(lon0, lat0)
    want_x, want_y = fwd.transform(lon, lat)
    x, y = _project(sterea_params(lon0, lat0), lon, lat)
    assert np.abs(x - want_x).max() < 1e-6 and np.abs(y - want_y).max() < 1e-6


def test_the_centre_is_the_origin_and_distances_never_understate() -> None:
    """At Changsha: the centre maps to (0, 0), and planar distances from it are at least
    the geodesic ones (scale 1 at the centre, growing outward)."""
    p = sterea_params(112.9, 28.2)
    x, y = _project(p, np.array([112.9]), np.array([28.2]))
    assert abs(x[0]) < 1e-6 and abs(y[0]) < 1e-6
    rng = np.random.default_rng(3)
    lon, lat, _ = Geod(ellps="WGS84").fwd(
        np.full(2_000, 112.9), np.full(2_000, 28.2), rng.uniform(0, 360, 2_000),
        rng.uniform(1.0, 100_000.0, 2_000),
    )  # fmt: skip
    px, py = _project(p, lon, lat)
    _, _, true = Geod(ellps="WGS84").inv(np.full(2_000, 112.9), np.full(2_000, 28.2), lon, lat)
    ratio = np.hypot(px, py) / true
    assert ratio.min() >= 1 - 1e-12 and ratio.max() < 1 + 1e-4
