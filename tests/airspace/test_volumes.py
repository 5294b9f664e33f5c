"""The local metric plane every buffer and exact distance test uses."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from airgrid.geo.plane import BUFFER_SAFETY, local_metric

WGS84 = Geod(ellps="WGS84")


@pytest.mark.parametrize("lat0", [0.0, 28.2, 61.5, 84.0])
@pytest.mark.parametrize(("reach_m", "bound"), [(75_000.0, 3.4e-5), (150_000.0, 1.4e-4)])
def test_planar_distances_never_understate_and_barely_overstate(
    lat0: float, reach_m: float, bound: float
) -> None:
    """Pairs of points within ``reach_m`` of the centre: planar / geodesic distance lies in
    [1, 1 + bound], the figures the docstring of local_metric promises."""
    rng = np.random.default_rng(int(lat0 * 10 + reach_m))
    n = 5_000
    lon, lat, _ = WGS84.fwd(
        np.full(2 * n, 112.9),
        np.full(2 * n, lat0),
        rng.uniform(0, 360, 2 * n),
        rng.uniform(0, reach_m, 2 * n),
    )
    fwd, inv = local_metric(112.9, lat0)
    x, y = fwd.transform(lon, lat)
    planar = np.hypot(x[:n] - x[n:], y[:n] - y[n:])
    _, _, true = WGS84.inv(lon[:n], lat[:n], lon[n:], lat[n:])
    ratio = planar[true > 1.0] / true[true > 1.0]
    assert ratio.min() >= 1 - 1e-9
    assert ratio.max() <= 1 + bound < 1 + BUFFER_SAFETY
    back_lon, back_lat = inv.transform(x, y)
    assert np.abs(back_lon - lon).max() < 1e-9 and np.abs(back_lat - lat).max() < 1e-9
