"""The geofence readers take ED-269, ED-318 and GeoJSON as producers write them (null
where a member is empty, numbers as strings, no upper limit, missing optional blocks)
and still refuse what is ambiguous, naming the zone and the member."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from airgrid.airspace.errors import GeofenceFormatError
from airgrid.airspace.geofences.cover import cover_geofence
from airgrid.airspace.geofences.formats.ed269 import from_ed269
from airgrid.airspace.geofences.formats.ed318 import from_ed318
from airgrid.airspace.geofences.formats.fields import NO_LOWER_LIMIT, NO_UPPER_LIMIT
from airgrid.airspace.geofences.formats.geojson import from_geojson
from airgrid.airspace.geofences.model import Limit
from airgrid.airspace.grid.tiers import TierTable
from tests.airspace.test_geofence_io import ed269_zone, ed318_feature, fc

RING = ((112.95, 28.15), (112.98, 28.15), (112.98, 28.18), (112.95, 28.18), (112.95, 28.15))


def ring() -> list[list[float]]:
    """A fresh copy of :data:`RING` as JSON lists."""
    return [list(p) for p in RING]


def zone(**over) -> dict:
    """A permanent ED-269 zone over Changsha, metres, ground to 120 m AGL."""
    z = ed269_zone(
        applicability=[{"permanent": "YES"}],
        geometry=[
            {
                "uomDimensions": "M",
                "lowerLimit": 0,
                "lowerVerticalReference": "AGL",
                "upperLimit": 120,
                "upperVerticalReference": "AGL",
                "horizontalProjection": {"type": "Polygon", "coordinates": [ring()]},
            }
        ],
    )
    z.update(over)
    return z


def read(z: dict):
    (g,) = from_ed269({"UASZoneList": [z]})
    return g


REFERENCE = read(zone())


# -- ED-269: lenient forms ------------------------------------------------------------
def test_ed269_placeholder_daily_period_of_a_permanent_zone_is_skipped():
    z = zone()
    z["applicability"] = [
        {
            "permanent": "YES",
            "startDateTime": None,
            "endDateTime": None,
            "dailyPeriod": [{"day": [], "startTime": None, "endTime": None}],
        }
    ]
    g = read(z)
    assert g.validity.permanent and g == REFERENCE


def test_ed269_null_times_mean_the_whole_day():
    z = zone()
    z["applicability"] = [
        {"permanent": "NO", "dailyPeriod": [{"day": ["SAT"], "startTime": None, "endTime": None}]}
    ]
    (p,) = read(z).validity.daily
    assert (p.weekday_names, p.start_s, p.end_s) == (["SAT"], 0, 86400)


def test_ed269_permanent_zone_with_whole_day_periods_on_every_day_is_permanent():
    z = zone()
    z["applicability"] = [
        {"permanent": "YES", "dailyPeriod": [{"day": ["ANY"], "startTime": None, "endTime": None}]}
    ]
    assert read(z) == REFERENCE


def test_ed269_null_upper_limit_is_no_upper_limit_up_to_the_top_of_the_grid(small_grid):
    z = zone()
    z["geometry"][0]["upperLimit"] = None
    g = read(z)
    assert g.upper == NO_UPPER_LIMIT and g.lower == REFERENCE.lower
    top_of_tiers = max(t.upper_m for t in TierTable().tiers)
    assert g.amsl_band((50.0, 300.0))[1] >= 300.0 + top_of_tiers
    # every voxel of every column under the zone, up to the top of the grid
    limited, unlimited = cover_geofence(small_grid, REFERENCE), cover_geofence(small_grid, g)
    columns = np.flatnonzero(np.isin(small_grid.cell, np.unique(small_grid.cell[unlimited])))
    assert set(limited.tolist()) < set(unlimited.tolist()) == set(columns.tolist())


def test_ed269_absent_limits_are_the_ground_and_no_upper_limit():
    z = zone()
    for key in ("lowerLimit", "upperLimit", "lowerVerticalReference", "upperVerticalReference"):
        del z["geometry"][0][key]
    g = read(z)
    assert (g.lower, g.upper) == (NO_LOWER_LIMIT, NO_UPPER_LIMIT)
    z["geometry"][0].update(lowerLimit=None, upperLimit=None)
    assert read(z) == g


def test_ed269_numbers_as_strings_everywhere():
    z = zone()
    z["geometry"][0].update(lowerLimit="0", upperLimit="120")
    z["geometry"][0]["horizontalProjection"]["coordinates"] = [[[str(x), str(y)] for x, y in RING]]
    assert read(z) == REFERENCE
    c = ed269_zone()
    c["geometry"][0]["horizontalProjection"].update(center=["113.0", "28.0"], radius="1000")
    assert read(c) == read(ed269_zone())


def test_ed269_null_optional_members_are_absent():
    z = zone(
        name=None,
        reason=None,
        otherReasonInfo=None,
        message=None,
        zoneAuthority=None,
        extendedProperties=None,
        restrictionConditions=None,
        region=None,
    )
    g = read(z)
    assert (g.name, g.reason, g.reason_codes, g.authority) == ("", "", (), "")
    assert (g.lower, g.upper, g.polygon) == (REFERENCE.lower, REFERENCE.upper, REFERENCE.polygon)
    z["applicability"] = [{"permanent": None, "startDateTime": None, "endDateTime": None}]
    assert read(z).validity.permanent


def test_ed269_short_time_forms_of_the_schema():
    z = zone()
    z["applicability"] = [
        {
            "permanent": "NO",
            "dailyPeriod": [{"day": ["MON"], "startTime": "08:00Z", "endTime": "20:00:00.00Z"}],
        }
    ]
    g = read(z)
    (p,) = g.validity.daily
    assert (p.start_s, p.end_s, g.validity.timezone) == (8 * 3600, 20 * 3600, "UTC")


# -- ED-269: still refused --------------------------------------------------------------
def _periods(*periods):
    return lambda z: z.update(applicability=[{"permanent": "NO", "dailyPeriod": list(periods)}])


@pytest.mark.parametrize(
    "mutate, member",
    [
        (_periods({"day": ["MON"], "startTime": None, "endTime": "18:00"}), "startTime"),
        (_periods({"day": ["MON"], "startTime": "08:00", "endTime": None}), "endTime"),
        (_periods({"day": [], "startTime": "08:00", "endTime": "18:00"}), "day"),
        (_periods({"day": None, "startTime": "08:00", "endTime": "18:00"}), "day"),
        (lambda z: z["geometry"][0].update(upperVerticalReference=None), "upperVerticalReference"),
        (lambda z: z["geometry"][0].pop("lowerVerticalReference"), "lowerVerticalReference"),
        (lambda z: z["geometry"][0].pop("uomDimensions"), "uomDimensions"),
        (lambda z: z["geometry"][0].update(uomDimensions=None), "uomDimensions"),
        (lambda z: z["geometry"][0].update(lowerLimit="low"), "lowerLimit"),
        (
            lambda z: z.update(
                applicability=[
                    {
                        "permanent": "YES",
                        "dailyPeriod": [{"day": ["MON"], "startTime": None, "endTime": None}],
                    }
                ]
            ),
            "permanent",
        ),
        (
            lambda z: z["geometry"][0]["horizontalProjection"]["coordinates"][0].pop(),
            "closed",
        ),
    ],
)
def test_ed269_ambiguous_forms_are_refused_naming_zone_and_member(mutate, member):
    z = zone()
    mutate(z)
    with pytest.raises(GeofenceFormatError, match=rf"UASZone 'Z1'.*{member}"):
        read(z)


def test_ed269_zone_without_identifier_is_named_by_its_name():
    z = zone(name="Airfield X")
    del z["identifier"]
    with pytest.raises(GeofenceFormatError, match=r"UASZone #0 \('Airfield X'\).*identifier"):
        read(z)


# -- ED-318 -------------------------------------------------------------------------------
def test_ed318_null_upper_and_lower_and_numeric_strings():
    f = ed318_feature()
    f["geometry"]["layer"] = {
        "upper": None,
        "upperReference": None,
        "lower": "60",
        "lowerReference": "AGL",
        "uom": "m",
    }
    (g,) = from_ed318(fc(f))
    assert (g.lower, g.upper) == (Limit(60.0, "AGL"), NO_UPPER_LIMIT)
    f["geometry"]["layer"].update(lower=None)
    assert from_ed318(fc(f))[0].lower == NO_LOWER_LIMIT
    f["geometry"]["layer"].update(lower="sixty")
    with pytest.raises(GeofenceFormatError, match=r"geozone 'Z1'.*lower"):
        from_ed318(fc(f))


def test_ed318_placeholder_and_whole_day_schedules():
    f = ed318_feature(
        limitedApplicability=[{"schedule": [{"day": [], "startTime": None, "endTime": None}]}]
    )
    assert from_ed318(fc(f))[0].validity.permanent
    f = ed318_feature(
        limitedApplicability=[{"schedule": [{"day": ["SUN"], "startTime": None, "endTime": None}]}]
    )
    (p,) = from_ed318(fc(f))[0].validity.daily
    assert (p.weekday_names, p.start_s, p.end_s) == (["SUN"], 0, 86400)
    f = ed318_feature(
        limitedApplicability=[
            {"schedule": [{"day": ["SUN"], "startTime": "08:00Z", "endTime": None}]}
        ]
    )
    with pytest.raises(GeofenceFormatError, match=r"geozone 'Z1'.*endTime"):
        from_ed318(fc(f))


def test_ed318_limit_without_its_reference_is_refused():
    f = ed318_feature()
    del f["geometry"]["layer"]["upperReference"]
    with pytest.raises(GeofenceFormatError, match=r"geozone 'Z1'.*upperReference"):
        from_ed318(fc(f))


# -- GeoJSON ----------------------------------------------------------------------------
GJ = {
    "type": "Feature",
    "geometry": {"type": "Polygon", "coordinates": [ring()]},
    "properties": {"identifier": "G1", "lower_m": 0, "upper_m": 300},
}


def test_geojson_nulls_are_defaults_and_numbers_may_be_strings():
    (ref,) = from_geojson({"type": "FeatureCollection", "features": [GJ]})
    f = copy.deepcopy(GJ)
    f["properties"].update(
        name=None,
        reason=None,
        reason_codes=None,
        authority=None,
        source_id=None,
        country=None,
        category=None,
        lower_reference=None,
        upper_reference=None,
        valid_from=None,
        valid_to=None,
        timezone=None,
        daily_periods=None,
        circle=None,
        lower_m="0",
        upper_m="300",
    )
    f["geometry"]["coordinates"] = [[[str(x), str(y)] for x, y in RING]]
    assert from_geojson({"type": "FeatureCollection", "features": [f]}) == [ref]


@pytest.mark.parametrize("value", [None, "high"])
def test_geojson_upper_limit_is_required_and_named(value):
    f = copy.deepcopy(GJ)
    f["properties"]["upper_m"] = value
    with pytest.raises(GeofenceFormatError, match=r"feature 'G1'.*upper_m"):
        from_geojson({"type": "FeatureCollection", "features": [f]})
