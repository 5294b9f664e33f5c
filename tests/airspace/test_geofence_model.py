"""Geofence model: validation errors, footprints, vertical bands over real terrain, time semantics."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from airgrid.airspace.errors import (
    AirspaceError,
    CoordinateRangeError,
    DailyPeriodError,
    DegenerateGeometryError,
    EndBeforeStartError,
    GeofenceError,
    LimitValueError,
    LowerAboveUpperError,
    NonPositiveRadiusError,
    RadiusTooLargeError,
    SelfIntersectingRingError,
    TimeZoneError,
    TooManyVerticesError,
)
from airgrid.airspace.geofences.model import Category, Circle, Geofence, Limit, Reference
from airgrid.airspace.geofences.schedule import DailyPeriod, Validity
from airgrid.data import DEFAULT_DEM
from airgrid.terrain import Dem

SQUARE = ((113.0, 28.0), (113.1, 28.0), (113.1, 28.1), (113.0, 28.1))
SH = ZoneInfo("Asia/Shanghai")
GEOD = Geod(ellps="WGS84")
_DEM: Dem | None = None


def dem() -> Dem:
    global _DEM
    if _DEM is None:
        _DEM = Dem.open(DEFAULT_DEM)
    return _DEM


def fence(**kw) -> Geofence:
    args = {"identifier": "F1", "lower": Limit(0.0), "upper": Limit(120.0), "polygon": SQUARE}
    args.update(kw)
    return Geofence(**args)


# -- validation: one specific error per fault ---------------------------------------------
@pytest.mark.parametrize(
    "kw, err",
    [
        (
            {"polygon": ((113.0, 28.0), (113.1, 28.1), (113.1, 28.0), (113.0, 28.1))},
            SelfIntersectingRingError,
        ),
        ({"lower": Limit(200.0), "upper": Limit(100.0)}, LowerAboveUpperError),
        ({"lower": Limit(100.0, "AGL"), "upper": Limit(100.0, "AGL")}, LowerAboveUpperError),
        ({"validity": None}, GeofenceError),
        ({"polygon": None, "circle": Circle(113.0, 28.0, 0.0)}, NonPositiveRadiusError),
        ({"polygon": None, "circle": Circle(113.0, 28.0, -5.0)}, NonPositiveRadiusError),
        ({"polygon": None, "circle": Circle(113.0, 28.0, float("nan"))}, NonPositiveRadiusError),
        ({"polygon": None, "circle": Circle(113.0, 28.0, 1e6)}, RadiusTooLargeError),
        ({"polygon": None, "circle": Circle(190.0, 28.0, 100.0)}, CoordinateRangeError),
        ({"polygon": ((113.0, 28.0), (113.1, 95.0), (113.2, 28.0))}, CoordinateRangeError),
        ({"polygon": ((113.0, 28.0), (float("inf"), 28.1), (113.2, 28.0))}, CoordinateRangeError),
        ({"polygon": ((113.0, 28.0), (113.1, 28.1))}, DegenerateGeometryError),
        ({"polygon": ((113.0, 28.0), (113.1, 28.1), (113.2, 28.2))}, DegenerateGeometryError),
        ({"circle": Circle(113.0, 28.0, 10.0)}, DegenerateGeometryError),
        ({"category": "forbidden"}, GeofenceError),
    ],
)
def test_each_fault_raises_its_error(kw, err):
    with pytest.raises(err):
        fence(**kw)


def test_errors_belong_to_the_airspace_family():
    with pytest.raises(AirspaceError):
        fence(lower=Limit(5.0), upper=Limit(1.0))
    with pytest.raises(ValueError):
        fence(lower=Limit(5.0), upper=Limit(1.0))


def test_bad_reference_and_non_number_limits():
    with pytest.raises(LimitValueError):
        Limit(10.0, "QNH")
    with pytest.raises(LimitValueError):
        Limit("10")  # type: ignore[arg-type]
    with pytest.raises(LimitValueError):
        Limit(float("inf"))


def test_end_before_start():
    with pytest.raises(EndBeforeStartError):
        Validity(start=1000.0, end=999.0)
    with pytest.raises(EndBeforeStartError):
        Validity(start=1000.0, end=1000.0)


def test_too_many_vertices_default_and_configurable():
    ang = np.linspace(0, 2 * np.pi, 10_001, endpoint=False)
    ring = tuple(zip(113 + 0.1 * np.cos(ang), 28 + 0.1 * np.sin(ang)))
    with pytest.raises(TooManyVerticesError):
        fence(polygon=ring)
    assert len(fence(polygon=ring, max_vertices=20_000).footprint.exterior.coords) == 10_001 + 1
    with pytest.raises(TooManyVerticesError):
        fence(polygon=SQUARE, max_vertices=3)


def test_daily_period_faults():
    with pytest.raises(DailyPeriodError):
        DailyPeriod.from_strings(["MONDAY"], "08:00", "09:00")
    with pytest.raises(DailyPeriodError):
        DailyPeriod.from_strings(["MON"], "8h", "09:00")
    with pytest.raises(DailyPeriodError):
        DailyPeriod.from_strings(["MON"], "25:00", "09:00")
    with pytest.raises(DailyPeriodError):
        DailyPeriod.from_strings(["MON"], "09:00", "09:00")
    with pytest.raises(DailyPeriodError):
        DailyPeriod(frozenset({7}), 0, 60)
    with pytest.raises(TimeZoneError):
        Validity(timezone="Mars/Olympus")


def test_ring_is_stored_closed_free_and_counter_clockwise():
    cw = (*tuple(reversed(SQUARE)), SQUARE[-1])
    g = fence(polygon=cw)
    assert len(g.polygon) == 4
    assert shapely.LinearRing(g.polygon).is_ccw
    assert g.footprint.equals(shapely.Polygon(SQUARE))


# -- circles contain the true circle ----------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(lon=st.floats(108.5, 114.5), lat=st.floats(24.5, 30.5), r=st.floats(5.0, 50_000.0))
def test_circle_polygon_contains_true_circle(lon, lat, r):
    g = fence(polygon=None, circle=Circle(lon, lat, r))
    az = np.linspace(0, 360, 2000, endpoint=False)
    plon, plat, _ = GEOD.fwd(
        np.full(az.shape, lon), np.full(az.shape, lat), az, np.full(az.shape, r * (1 - 1e-9))
    )
    assert shapely.covers(g.footprint, shapely.points(plon, plat)).all()
    # and it is not grossly larger: every vertex within 0.2 % of r
    xy = np.asarray(g.footprint.exterior.coords)
    _, _, d = GEOD.inv(np.full(len(xy), lon), np.full(len(xy), lat), xy[:, 0], xy[:, 1])
    assert d.max() <= r * 1.002


# -- vertical bands over real terrain ------------------------------------------------------
#: On the 30" DEM the Suoxi valley dips below 300 m at (110.6, 29.4); 0.02 deg further west
#: the whole box is above 330 m.
WULINGYUAN = ((110.48, 29.30), (110.58, 29.30), (110.58, 29.40), (110.48, 29.40))


def test_agl_limits_resolve_conservatively_over_real_terrain():
    d = dem()
    agl = fence(polygon=WULINGYUAN, lower=Limit(50.0, "AGL"), upper=Limit(120.0, "AGL"))
    amsl = fence(polygon=WULINGYUAN, lower=Limit(50.0), upper=Limit(120.0))
    lo, hi = agl.amsl_band(d)
    w, s, e, n = shapely.Polygon(WULINGYUAN).bounds
    lons, lats = np.meshgrid(np.linspace(w, e, 21), np.linspace(s, n, 21))
    ground = d.elevation(lats.ravel(), lons.ravel())
    assert ground.min() > 300  # real mountains: the band is far above sea level
    assert lo <= ground.min() + 50.0 and hi >= ground.max() + 120.0
    assert amsl.amsl_band(d) == (50.0, 120.0)
    assert agl.amsl_band((100.0, 200.0)) == (150.0, 320.0)
    assert agl.amsl_band(10.0) == (60.0, 130.0)


def test_mixed_references_allowed_and_band_may_be_empty():
    g = fence(lower=Limit(100.0, Reference.AGL), upper=Limit(200.0, Reference.AMSL))
    lo, hi = g.amsl_band((500.0, 600.0))
    assert lo > hi


# -- time semantics ------------------------------------------------------------------------
def ts(*args, tz=SH) -> float:
    return datetime(*args, tzinfo=tz).timestamp()


def test_window_is_closed():
    v = Validity(start=ts(2025, 1, 6, 8), end=ts(2025, 1, 6, 18))
    g = fence(validity=v)
    assert g.is_active(ts(2025, 1, 6, 8)) and g.is_active(ts(2025, 1, 6, 18))
    assert not g.is_active(ts(2025, 1, 6, 8) - 1) and not g.is_active(ts(2025, 1, 6, 18) + 1)
    assert fence().is_active(0.0) and fence().validity.permanent


def test_daily_period_weekdays_and_ends():
    v = Validity(
        daily=(DailyPeriod.from_strings(["MON", "TUE", "WED", "THU", "FRI"], "08:00", "18:00"),)
    )
    g = fence(validity=v)
    assert g.is_active(datetime(2025, 1, 6, 9, tzinfo=SH))  # Monday
    assert g.is_active(ts(2025, 1, 6, 18))  # end included
    assert not g.is_active(ts(2025, 1, 6, 18, 0, 1))
    assert not g.is_active(ts(2025, 1, 6, 7, 59))
    assert not g.is_active(ts(2025, 1, 11, 9))  # Saturday
    ivs = g.active_intervals(ts(2025, 1, 6), ts(2025, 1, 13))
    assert len(ivs) == 5 and all(e - s == 10 * 3600 for s, e in ivs)


def test_daily_period_crossing_midnight_belongs_to_its_start_day():
    g = fence(validity=Validity(daily=(DailyPeriod.from_strings(["FRI"], "22:00", "06:00"),)))
    assert g.is_active(ts(2025, 1, 10, 23))  # Friday night
    assert g.is_active(ts(2025, 1, 11, 5, 59))  # Saturday morning
    assert g.is_active(ts(2025, 1, 11, 6))  # end included
    assert not g.is_active(ts(2025, 1, 11, 6, 0, 1))
    assert not g.is_active(ts(2025, 1, 11, 23))  # Saturday night
    assert not g.is_active(ts(2025, 1, 9, 23))  # Thursday night
    assert g.active_intervals(ts(2025, 1, 6), ts(2025, 1, 13)) == [
        (ts(2025, 1, 10, 22), ts(2025, 1, 11, 6))
    ]


def test_daily_period_timezone():
    p = (DailyPeriod.from_strings(["ANY"], "08:00", "09:00"),)
    t = datetime(2025, 1, 6, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    assert fence(validity=Validity(daily=p)).is_active(t)
    assert not fence(validity=Validity(daily=p, timezone="UTC")).is_active(t)
    assert fence(validity=Validity(daily=p, timezone="+08:00")).is_active(t)


def test_daily_period_across_daylight_saving_change_takes_the_safe_side():
    # 2025-11-02 01:30 happens twice in New York: the period starts at the first.
    p = (DailyPeriod.from_strings(["SUN"], "01:30", "02:30"),)
    g = fence(validity=Validity(daily=p, timezone="America/New_York"))
    ((s, e),) = g.active_intervals(ts(2025, 11, 1, tz=UTC), ts(2025, 11, 3, tz=UTC))
    first_0130 = datetime(2025, 11, 2, 5, 30, tzinfo=UTC).timestamp()
    assert s == first_0130 and e - s == 2 * 3600


def test_daily_period_with_window_and_naive_datetimes():
    v = Validity(
        start=ts(2025, 1, 7),
        end=ts(2025, 1, 8, 12),
        daily=(DailyPeriod.from_strings(["ANY"], "10:00", "14:00"),),
    )
    g = fence(validity=v)
    assert g.active_intervals(ts(2025, 1, 1), ts(2025, 2, 1)) == [
        (ts(2025, 1, 7, 10), ts(2025, 1, 7, 14)),
        (ts(2025, 1, 8, 10), ts(2025, 1, 8, 12)),
    ]
    with pytest.raises(TimeZoneError):
        g.is_active(datetime(2025, 1, 7, 11))


def test_daily_period_gives_one_interval_per_day():
    g = fence(validity=Validity(daily=(DailyPeriod.from_strings(["ANY"], "08:00", "09:00"),)))
    ivs = g.active_intervals(ts(2025, 1, 6), ts(2025, 1, 6) + 3 * 86400 - 1)
    assert len(ivs) == 3 and g.amsl_band(None) == (0.0, 120.0)
    assert ivs[1][0] - ivs[0][0] == pytest.approx(timedelta(days=1).total_seconds())
    assert Category(g.category) is Category.PROHIBITED
    assert math.isclose(ivs[0][1] - ivs[0][0], 3600)
