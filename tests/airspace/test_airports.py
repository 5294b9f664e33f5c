"""Default airport protection zones from the real data in airgrid/data/."""

from __future__ import annotations

import math

import numpy as np
import shapely
from pyproj import Geod

from airgrid.airspace.geofences.airports import airport_zones, load_airports, load_runways
from airgrid.airspace.geofences.formats.ed269 import from_ed269, to_ed269
from airgrid.airspace.geofences.model import Category, Limit, Reference
from airgrid.geo.plane import local_metric

GEOD = Geod(ellps="WGS84")
OPEN = {
    "ZGHA",
    "ZGDY",
    "ZGCD",
    "ZGHY",
    "ZGLG",
    "ZGSY",
    "ZGYY",
    "ZGCZ",
    "ZGCJ",
    "ZGXX",
    "ZGCS",
    "CN-0071",
}


def by_id():
    return {z.identifier: z for z in airport_zones()}


def test_a_zone_for_every_open_airport_and_none_for_closed():
    zones = by_id()
    assert set(zones) == {f"{c}-AP" for c in OPEN}
    assert not any("Old Yueyang" in z.name for z in zones.values())
    for z in zones.values():
        assert z.category is Category.PROHIBITED and z.validity.permanent
        assert z.lower == Limit(0.0, Reference.AGL) and z.upper == Limit(1000.0, Reference.AGL)
        assert "R = 13 km" in z.reason
    assert from_ed269(to_ed269(list(zones.values()))) == list(zones.values())


def rect_sides(poly: shapely.Polygon) -> tuple[float, float, float]:
    """(axis azimuth deg mod 180, long side m, short side m) of the minimum rotated rectangle."""
    c = poly.centroid
    fwd, _ = local_metric(c.x, c.y)
    xy = np.asarray(poly.exterior.coords)
    x, y = fwd.transform(xy[:, 0], xy[:, 1])
    rect = np.asarray(
        shapely.Polygon(np.column_stack([x, y])).minimum_rotated_rectangle.exterior.coords
    )
    e = np.diff(rect, axis=0)
    lengths = np.hypot(e[:, 0], e[:, 1])
    i = int(np.argmax(lengths))
    return (
        math.degrees(math.atan2(e[i, 0], e[i, 1])) % 180.0,
        float(lengths.max()),
        float(lengths.min()),
    )


def axis_deg(poly: shapely.Polygon) -> float:
    return rect_sides(poly)[0]


def test_zgha_capsule_is_aligned_with_its_runways():
    z = by_id()["ZGHA-AP"]
    assert abs(axis_deg(z.footprint) - 177.0) < 1.0
    assert "thresholds" in z.reason and "derived" not in z.reason


def test_capsule_contains_circles_of_r_around_every_threshold():
    zones = by_id()
    airports = load_airports()
    runways = load_runways(airports)
    az = np.linspace(0, 360, 720, endpoint=False)
    for code in ("ZGHA", "ZGDY", "ZGCD", "ZGXX"):
        fp = zones[f"{code}-AP"].footprint
        for rw in runways[code]:
            for lat, lon in rw.ends:
                plon, plat, _ = GEOD.fwd(
                    np.full(720, lon), np.full(720, lat), az, np.full(720, 13_000 * (1 - 1e-9))
                )
                assert shapely.covers(fp, shapely.points(plon, plat)).all(), code
        # and it is a capsule, not a disc: about 2R wide, 2R + runway long
        _, long_m, short_m = rect_sides(fp)
        assert 26_000 < short_m < 27_600 and long_m > short_m + 2_000


def test_derived_runways_use_true_heading_from_the_magnetic_designator():
    zones = by_id()
    runways = load_runways(load_airports())
    (rw,) = runways["ZGCD"]  # 02/20: magnetic 020, true 016.5
    assert rw.derived and "magnetic 020" in rw.note and "true 016.5" in rw.note
    (lat0, lon0), (lat1, lon1) = rw.ends
    fwd_az, _, dist = GEOD.inv(lon0, lat0, lon1, lat1)
    assert abs(fwd_az % 360 - 16.5) < 0.1 and abs(dist - 8366 * 0.3048) < 1.0
    assert abs(axis_deg(zones["ZGCD-AP"].footprint) - 16.5) < 1.0
    assert "declination -3.5" in zones["ZGCD-AP"].reason
    dy = runways["ZGDY"][0]
    assert not dy.derived and "thresholds" in dy.note


def test_airports_without_runway_get_an_enclosing_circle():
    z = by_id()["ZGCS-AP"]
    assert z.circle is not None and z.circle.radius_m == 13_000 + 1_800 + 500
    assert "No runway record" in z.reason


def test_zones_are_configurable():
    zones = airport_zones(
        radius_m=5_000.0, upper=Limit(300.0, "AMSL"), category=Category.AUTHORISATION_REQUIRED
    )
    z = {g.identifier: g for g in zones}["ZGHA-AP"]
    assert z.upper == Limit(300.0) and z.category is Category.AUTHORISATION_REQUIRED
    assert z.footprint.area < by_id()["ZGHA-AP"].footprint.area / 4


def test_airport_zones_in_the_index_and_on_a_real_grid():
    from airgrid.airspace.geofences.cover import cover_geofence, mark_geofences
    from airgrid.airspace.geofences.index import GeofenceIndex
    from airgrid.airspace.grid import Status, area_from_bbox, build_grid
    from airgrid.data import DEFAULT_DEM
    from airgrid.terrain import Dem

    dem = Dem.open(DEFAULT_DEM)
    zones = airport_zones()
    index = GeofenceIndex(zones, dem=dem)
    lat, lon = 28.189, 113.221  # between ZGHA's runways
    ground = float(dem.elevation(lat, lon))
    assert [g.identifier for g in index.check_point(lat, lon, ground + 500.0, 1.8e9)] == ["ZGHA-AP"]
    # 15 km east of the runways: outside the 13 km capsule (26 km wide, runways run north-south)
    e_lon = lon + 15_000 / (111_320 * math.cos(math.radians(lat)))
    assert index.check_point(lat, e_lon, ground + 500.0, 1.8e9) == []
    # 15 km north of the northern threshold is outside, 12 km is inside
    n12 = 28.2091 + 12_000 / 110_800
    n15 = 28.2091 + 15_000 / 110_800
    assert index.check_point(n12, 113.2224, ground + 100.0) and not index.check_point(
        n15, 113.2224, ground + 100.0
    )
    grid = build_grid(area_from_bbox(113.15, 28.12, 113.30, 28.26), dem, workers=1)
    marked = mark_geofences(grid, zones)
    assert len(marked) and (grid.status[marked] & Status.GEOFENCE).all()
    # the whole small area lies inside ZGHA's zone: every voxel within 0-1000 m true height is covered
    zgha = next(z for z in zones if z.identifier == "ZGHA-AP")
    np.testing.assert_array_equal(marked, cover_geofence(grid, zgha))
    top = grid.cell_g_hi[grid.voxel_cell] + 1000.0
    assert (grid.status[grid.floor <= top] & Status.GEOFENCE).all()
