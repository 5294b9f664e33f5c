"""Grid covers of geofences: conservative horizontally and vertically, over real terrain."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airgrid.airspace.errors import OutsideGridError
from airgrid.airspace.geofences.cover import cover_geofence, mark_geofences
from airgrid.airspace.geofences.model import Category, Circle, Geofence, Limit
from airgrid.airspace.geofences.schedule import DailyPeriod, Validity
from airgrid.airspace.grid import Status, area_from_bbox, build_grid
from airgrid.data import DEFAULT_DEM
from airgrid.terrain import Dem

_CACHE: dict = {}
BBOX = (113.10, 28.10, 113.34, 28.30)  # around Changsha Huanghua (ZGHA)
#: Nanling foothills (Jianghua / Lanshan, south Hunan): a ~400 m basin among real mountains.
#: (Wulingyuan's relief is too uncertain on the 30" DEM for any tier to exist there.)
MOUNT = (111.28, 25.04, 111.44, 25.18)


def dem() -> Dem:
    if "dem" not in _CACHE:
        _CACHE["dem"] = Dem.open(DEFAULT_DEM)
    return _CACHE["dem"]


def grid(bbox=BBOX):
    if bbox not in _CACHE:
        _CACHE[bbox] = build_grid(area_from_bbox(*bbox), dem(), workers=1)
    return _CACHE[bbox]


def voxel_at(g, lat: float, lon: float, alt: float) -> list[int]:
    """Voxels (any tier) whose column holds the point's cell and layer."""
    out = []
    for t, tier in enumerate(g.tiers):
        c = h3.str_to_int(h3.latlng_to_cell(lat, lon, tier.resolution))
        ci = g.find_cells(np.array([c]), t)
        v = int(g.voxel_index(ci, np.array([int(np.floor(alt / tier.thickness_m))]))[0])
        if v >= 0:
            out.append(v)
    return out


fence_params = st.tuples(
    st.floats(113.14, 113.30),
    st.floats(28.14, 28.26),
    st.floats(50.0, 6000.0),
    st.integers(3, 12),
    st.booleans(),
    st.integers(0, 2**31 - 1),
)


_GROUND = Limit(0.0, "AGL")
_120_AGL = Limit(120.0, "AGL")


def make_fence(params, lower=_GROUND, upper=_120_AGL) -> Geofence:
    lon, lat, size, n, circle, seed = params
    if circle:
        return Geofence("C", lower, upper, circle=Circle(lon, lat, size))
    rng = np.random.default_rng(seed)
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = size / 111_000 * rng.uniform(0.3, 1.0, n)
    poly = shapely.Polygon(
        np.column_stack([lon + r * np.cos(ang), lat + r * np.sin(ang)])
    ).convex_hull
    return Geofence("P", lower, upper, polygon=tuple(poly.exterior.coords))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=fence_params, seed=st.integers(0, 2**31 - 1))
def test_every_point_of_the_footprint_lies_in_a_covered_cell(params, seed):
    g = grid()
    f = make_fence(params, Limit(-500.0), Limit(20_000.0))  # every layer: a purely horizontal test
    cover = cover_geofence(g, f)
    covered_cells = set(g.cell[cover].tolist())
    rng = np.random.default_rng(seed)
    w, s, e, n = f.footprint.bounds
    pts = shapely.points(rng.uniform(w, e, 4000), rng.uniform(s, n, 4000))
    # points on and just inside the boundary are the hard ones
    bnd = shapely.line_interpolate_point(
        f.footprint.exterior, rng.uniform(0, 1, 500), normalized=True
    )
    inside = [p for p in list(pts) + list(bnd) if f.footprint.covers(p)]
    assert inside
    for p in inside:
        for t, tier in enumerate(g.tiers):
            c = h3.str_to_int(h3.latlng_to_cell(p.y, p.x, tier.resolution))
            ci = int(g.find_cells(np.array([c]), t)[0])
            if ci >= 0 and g.cell_nlayers[ci] > 0:
                assert c in covered_cells


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=fence_params, seed=st.integers(0, 2**31 - 1))
def test_every_point_of_the_volume_lies_in_a_covered_voxel_over_real_terrain(params, seed):
    g = grid()
    d = dem()
    f = make_fence(params)
    cover = set(cover_geofence(g, f).tolist())
    rng = np.random.default_rng(seed)
    w, s, e, n = f.footprint.bounds
    lon, lat = rng.uniform(w, e, 400), rng.uniform(s, n, 400)
    keep = shapely.covers(f.footprint, shapely.points(lon, lat))
    lon, lat = lon[keep], lat[keep]
    ground = d.elevation(lat, lon)
    alt = ground + rng.uniform(0.0, 120.0, len(lat))  # inside the true-height band
    for a, b, z in zip(lat, lon, alt):
        for v in voxel_at(g, a, b, z):
            assert v in cover


def test_agl_and_amsl_limits_over_real_mountains():
    g = grid(MOUNT)
    area = (
        (111.335, 25.085),
        (111.37, 25.085),
        (111.37, 25.11),
        (111.335, 25.11),
    )  # the basin floor, T1 exists
    agl = Geofence("AGL", Limit(0.0, "AGL"), Limit(120.0, "AGL"), polygon=area)
    amsl = Geofence("AMSL", Limit(0.0), Limit(120.0), polygon=area)
    v_agl = cover_geofence(g, agl)
    v_amsl = cover_geofence(g, amsl)
    assert float(g.cell_dem_min[g.voxel_cell[v_agl]].min()) > 300  # real relief under the fence
    assert len(v_agl) > 0 and len(v_amsl) == 0  # 0-120 m AMSL is underground here
    # AGL layers reach from below the lowest ground to above the highest ground + 120 m
    cells = g.voxel_cell[v_agl]
    assert (g.floor[v_agl] <= g.cell_g_hi[cells] + 120.0).all()
    assert (g.ceiling[v_agl] >= g.cell_g_lo[cells]).all()
    # an AMSL band near the top of the grid's columns there, above the AGL band
    top = float(
        g.ceiling[cover_geofence(g, Geofence("ALL", Limit(0.0), Limit(1e4), polygon=area))].max()
    )
    lo_h, hi_h = top - 200.0, top - 100.0
    assert lo_h >= float(g.ceiling[v_agl].max())  # above every voxel of the AGL cover
    high = Geofence("HIGH", Limit(lo_h), Limit(hi_h), polygon=area)
    v_high = cover_geofence(g, high)
    assert len(v_high) and (g.ceiling[v_high] >= lo_h).all() and (g.floor[v_high] <= hi_h).all()


def test_cover_respects_time_and_mark_only_permanent_prohibited():
    g = grid()
    area = ((113.20, 28.18), (113.24, 28.18), (113.24, 28.21), (113.20, 28.21))
    perm = Geofence("PERM", Limit(0.0, "AGL"), Limit(300.0, "AGL"), polygon=area)
    timed = Geofence(
        "TIMED",
        Limit(0.0, "AGL"),
        Limit(300.0, "AGL"),
        polygon=area,
        validity=Validity(start=1000.0, end=2000.0),
    )
    nightly = Geofence(
        "NIGHT",
        Limit(0.0, "AGL"),
        Limit(300.0, "AGL"),
        polygon=area,
        validity=Validity(daily=(DailyPeriod.from_strings(["ANY"], "22:00", "06:00"),)),
    )
    advisory = Geofence(
        "ADV", Limit(0.0, "AGL"), Limit(300.0, "AGL"), polygon=area, category=Category.ADVISORY
    )
    assert len(cover_geofence(g, timed, at_time=1500.0)) == len(cover_geofence(g, perm))
    assert len(cover_geofence(g, timed, at_time=2500.0)) == 0
    status_before = g.status.copy()
    try:
        marked = mark_geofences(g, [timed, nightly, advisory])
        assert len(marked) == 0 and (g.status == status_before).all()
        marked = mark_geofences(g, [perm, timed])
        np.testing.assert_array_equal(marked, cover_geofence(g, perm))
        assert (g.status[marked] & Status.GEOFENCE).all()
        others = np.setdiff1d(np.arange(g.n_voxels), marked)
        np.testing.assert_array_equal(g.status[others], status_before[others])
        v = int(marked[len(marked) // 2])
        lat, lon = h3.cell_to_latlng(h3.int_to_str(int(g.cell[v])))
        loc = g.locate(lat, lon, float(g.floor[v]) + 1.0)
        assert loc.voxel == v and not loc.usable and "geofence" in loc.reason
    finally:
        g.status[:] = status_before


def test_circle_cover_contains_cells_at_the_radius():
    g = grid()
    f = Geofence("C", Limit(0.0), Limit(5000.0), circle=Circle(113.22, 28.20, 3000.0))
    cells = set(g.cell[cover_geofence(g, f)].tolist())
    from pyproj import Geod

    az = np.linspace(0, 360, 720, endpoint=False)
    lon, lat, _ = Geod(ellps="WGS84").fwd(
        np.full(720, 113.22), np.full(720, 28.20), az, np.full(720, 3000.0 - 1e-6)
    )
    checked = np.zeros(len(g.tiers), int)
    for a, b in zip(lat, lon):
        for t, tier in enumerate(g.tiers):
            c = h3.str_to_int(h3.latlng_to_cell(a, b, tier.resolution))
            ci = int(g.find_cells(np.array([c]), t)[0])
            assert ci >= 0  # the cell is in the grid
            if g.cell_nlayers[ci] == 0:
                continue  # the tier is absent over this cell: no voxel to cover
            assert c in cells
            checked[t] += 1
    assert (checked > 0).all()  # every tier exists somewhere on the circle


@pytest.mark.parametrize("bbox", [BBOX])
def test_cover_outside_grid_is_empty(bbox):
    g = grid(bbox)
    far = Geofence("FAR", Limit(0.0), Limit(100.0), circle=Circle(110.0, 25.0, 500.0))
    assert len(cover_geofence(g, far)) == 0


def test_amsl_band_from_grid_bounds_every_cell_under_the_fence():
    g = grid()
    area = ((113.20, 28.18), (113.24, 28.18), (113.24, 28.21), (113.20, 28.21))
    f = Geofence("AGL", Limit(10.0, "AGL"), Limit(120.0, "AGL"), polygon=area)
    lo, hi = f.amsl_band(g)
    cells = g.voxel_cell[cover_geofence(g, f)]
    assert len(cells)
    assert lo <= float(g.cell_g_lo[cells].min()) + 10.0
    assert hi >= float(g.cell_g_hi[cells].max()) + 120.0
    with pytest.raises(OutsideGridError):
        Geofence(
            "FAR", Limit(0.0, "AGL"), Limit(1.0, "AGL"), circle=Circle(110.0, 25.0, 500.0)
        ).amsl_band(g)
