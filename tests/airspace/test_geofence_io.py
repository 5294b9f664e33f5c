"""GeoJSON, ED-269 and ED-318 import/export: exact round trips and clear errors."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airgrid.airspace.errors import (
    CoordinateRangeError,
    DailyPeriodError,
    DegenerateGeometryError,
    EndBeforeStartError,
    GeofenceError,
    GeofenceFormatError,
    LimitValueError,
    LowerAboveUpperError,
    NonPositiveRadiusError,
    RadiusTooLargeError,
    SelfIntersectingRingError,
    TimeZoneError,
    TooManyVerticesError,
)
from airgrid.airspace.geofences.formats.ed269 import from_ed269, to_ed269
from airgrid.airspace.geofences.formats.ed318 import from_ed318, to_ed318
from airgrid.airspace.geofences.formats.files import dump
from airgrid.airspace.geofences.formats.geojson import from_geojson, to_geojson
from airgrid.airspace.geofences.formats.registry import detect_format
from airgrid.airspace.geofences.model import Category, Circle, Geofence, Limit
from airgrid.airspace.geofences.schedule import DailyPeriod, Validity
from airgrid.geo.constants import FT
from airgrid.terrain.geoid import GEOID_GRID_ERROR_M, default_geoid

SQUARE = ((113.0, 28.0), (113.1, 28.0), (113.1, 28.1), (113.0, 28.1))


def sample_fences() -> list[Geofence]:
    t0 = datetime(2025, 5, 1, tzinfo=UTC).timestamp()
    return [
        Geofence(
            "P1",
            Limit(0.0, "AGL"),
            Limit(120.0, "AGL"),
            polygon=SQUARE,
            name="Square",
            reason="test area",
            reason_codes=("SENSITIVE",),
            authority="Hunan PSB",
            source_id="src-1",
        ),
        Geofence(
            "C1",
            Limit(50.5),
            Limit(300.25),
            circle=Circle(112.9876543, 28.123456789, 1234.5),
            category=Category.AUTHORISATION_REQUIRED,
            validity=Validity(
                start=t0,
                end=t0 + 86400 * 30 + 0.25,
                daily=(
                    DailyPeriod.from_strings(["MON", "FRI"], "22:00", "06:30:15"),
                    DailyPeriod.from_strings(["SUN"], "00:00", "24:00"),
                ),
            ),
        ),
        Geofence(
            "A1",
            Limit(10.0, "AGL"),
            Limit(900.0),
            polygon=SQUARE,
            category="advisory",
            validity=Validity(
                start=t0,
                timezone="+05:30",
                daily=(DailyPeriod.from_strings(["ANY"], "08:00", "09:00"),),
            ),
        ),
        Geofence(
            "E1", Limit(0.0), Limit(100.0), polygon=SQUARE, validity=Validity(end=t0), country="FRA"
        ),
    ]


def test_geojson_round_trip_exact(tmp_path):
    fences = sample_fences()
    doc = to_geojson(fences)
    assert doc["type"] == "FeatureCollection"
    assert from_geojson(doc) == fences
    path = dump(doc, tmp_path / "f.geojson")
    assert from_geojson(path) == fences
    assert from_geojson(json.dumps(doc)) == fences
    for g in fences:
        assert Geofence.from_geojson_feature(g.to_geojson_feature()) == g


def test_geojson_is_rfc7946():
    feat = sample_fences()[1].to_geojson_feature()
    ring = feat["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1]
    area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))
    assert area2 > 0  # counter-clockwise exterior (right-hand rule)
    assert all(112 < x < 114 and 27 < y < 29 for x, y in ring)  # lon, lat order
    assert feat["properties"]["circle"] == {
        "center": [112.9876543, 28.123456789],
        "radius_m": 1234.5,
    }


def test_ed269_round_trip_exact(tmp_path):
    fences = sample_fences()
    doc = to_ed269(fences)
    assert list(doc) == ["title", "description", "UASZoneList"]
    z = doc["UASZoneList"][1]
    assert z["restriction"] == "REQ_AUTHORISATION"
    assert z["geometry"][0]["horizontalProjection"] == {
        "type": "Circle",
        "center": [112.9876543, 28.123456789],
        "radius": 1234.5,
    }
    assert z["applicability"][0]["dailyPeriod"][0] == {
        "day": ["MON", "FRI"],
        "startTime": "22:00:00",
        "endTime": "06:30:15",
    }
    assert doc["UASZoneList"][0]["geometry"][0]["lowerVerticalReference"] == "AGL"
    assert from_ed269(doc) == fences
    assert from_ed269(dump(doc, tmp_path / "z.json")) == fences
    # the "features" key of the ED-269 JSON schema is read too
    assert from_ed269({"features": doc["UASZoneList"]}) == fences


@settings(max_examples=50, deadline=None)
@given(
    lon=st.floats(108.0, 115.0),
    lat=st.floats(24.0, 31.0),
    r=st.floats(1.0, 50_000.0),
    lo=st.floats(-400.0, 5000.0),
    h=st.floats(0.01, 5000.0),
    agl=st.booleans(),
    start=st.integers(0, 2_000_000_000),
    dur=st.integers(1, 10_000_000),
)
def test_round_trips_property(lon, lat, r, lo, h, agl, start, dur):
    ref = "AGL" if agl else "AMSL"
    g = Geofence(
        "H",
        Limit(lo, ref),
        Limit(lo + h, ref),
        circle=Circle(lon, lat, r),
        validity=Validity(start=float(start), end=float(start + dur)),
    )
    assert from_geojson(to_geojson([g])) == [g]
    assert from_ed269(to_ed269([g])) == [g]
    assert from_ed269(json.loads(json.dumps(to_ed269([g])))) == [g]
    assert from_ed318(json.loads(json.dumps(to_ed318([g])))) == [g]


def ed269_zone(**over) -> dict:
    z = {
        "identifier": "Z1",
        "country": "CHN",
        "name": "zone",
        "type": "COMMON",
        "restriction": "PROHIBITED",
        "reason": ["AIR_TRAFFIC"],
        "zoneAuthority": [{"name": "CAAC"}],
        "applicability": [
            {
                "permanent": "NO",
                "startDateTime": "2025-01-01T00:00:00+08:00",
                "endDateTime": "2025-02-01T00:00:00Z",
                "schedule": [
                    {"day": ["SAT", "SUN"], "startTime": "08:00:00.00Z", "endTime": "20:00:00.00Z"}
                ],
            }
        ],
        "geometry": [
            {
                "uomDimensions": "FT",
                "lowerLimit": 0,
                "lowerVerticalReference": "AGL",
                "upperLimit": 400,
                "upperVerticalReference": "AGL",
                "horizontalProjection": {"type": "Circle", "center": [113.0, 28.0], "radius": 1000},
            }
        ],
    }
    z.update(over)
    return z


def test_ed269_import_units_time_zones_and_synonyms():
    (g,) = from_ed269({"UASZoneList": [ed269_zone()]})
    assert g.upper.value_m == pytest.approx(121.92) and g.circle.radius_m == pytest.approx(304.8)
    assert g.validity.timezone == "UTC"
    assert g.validity.start == datetime(2024, 12, 31, 16, tzinfo=UTC).timestamp()
    assert g.authority == "CAAC" and g.reason_codes == ("AIR_TRAFFIC",)
    sat_noon = datetime(2025, 1, 4, 12, tzinfo=UTC)
    assert g.is_active(sat_noon) and not g.is_active(datetime(2025, 1, 6, 12, tzinfo=UTC))
    (c,) = from_ed269({"UASZoneList": [ed269_zone(restriction="CONDITIONAL")]})
    assert c.category is Category.AUTHORISATION_REQUIRED


def test_ed269_zone_with_several_geometries_and_periods_is_split():
    z = ed269_zone()
    z["geometry"].append(
        {
            "uomDimensions": "M",
            "lowerLimit": 100,
            "lowerVerticalReference": "AMSL",
            "upperLimit": 200,
            "upperVerticalReference": "AMSL",
            "horizontalProjection": {
                "type": "Polygon",
                "coordinates": [[list(p) for p in (*SQUARE, SQUARE[0])]],
            },
        }
    )
    z["applicability"].append({"permanent": "YES"})
    out = from_ed269({"UASZoneList": [z]})
    assert [g.identifier for g in out] == ["Z1#0.0", "Z1#0.1", "Z1#1.0", "Z1#1.1"]
    assert out[3].validity.permanent and out[3].polygon is not None


@pytest.mark.parametrize(
    "mutate, err, text",
    [
        (lambda z: z.pop("identifier"), GeofenceFormatError, "identifier"),
        (lambda z: z.update(restriction="MAYBE"), GeofenceFormatError, "restriction"),
        (
            lambda z: z["geometry"][0].update(uomDimensions="KM"),
            GeofenceFormatError,
            "uomDimensions",
        ),
        (
            lambda z: z["geometry"][0].update(lowerVerticalReference="WGS84"),
            GeofenceFormatError,
            "VerticalReference",
        ),
        (lambda z: z["geometry"][0].update(upperLimit="high"), GeofenceFormatError, "upperLimit"),
        (
            lambda z: z["geometry"][0]["horizontalProjection"].update(type="Ellipse"),
            GeofenceFormatError,
            "Ellipse",
        ),
        (
            lambda z: z["geometry"][0]["horizontalProjection"].update(radius=0),
            NonPositiveRadiusError,
            "radius",
        ),
        (lambda z: z.update(geometry=[]), GeofenceFormatError, "geometry"),
        (
            lambda z: z["applicability"][0].update(startDateTime="yesterday"),
            GeofenceFormatError,
            "ISO 8601",
        ),
        (
            lambda z: z["applicability"][0].update(startDateTime="2025-01-01T00:00:00"),
            GeofenceFormatError,
            "time zone",
        ),
        (lambda z: z["applicability"][0].update(permanent="YES"), GeofenceFormatError, "permanent"),
        (
            lambda z: z["applicability"][0]["schedule"][0].update(day=["FUNDAY"]),
            GeofenceError,
            "weekday",
        ),
        (
            lambda z: z["geometry"][0].update(
                horizontalProjection={
                    "type": "Polygon",
                    "coordinates": [
                        [[113.0, 28.0], [113.1, 28.1], [113.1, 28.0], [113.0, 28.1], [113.0, 28.0]]
                    ],
                }
            ),
            SelfIntersectingRingError,
            "intersects itself",
        ),
    ],
)
def test_ed269_malformed_documents(mutate, err, text):
    z = ed269_zone()
    mutate(z)
    with pytest.raises(err, match=text):
        from_ed269({"UASZoneList": [z]})


def test_malformed_top_level_documents():
    with pytest.raises(GeofenceFormatError, match="UASZoneList"):
        from_ed269({"zones": []})
    with pytest.raises(GeofenceFormatError, match="not valid JSON"):
        from_ed269("{not json")
    with pytest.raises(GeofenceFormatError, match="not found"):
        from_geojson("/nonexistent/fences.geojson")
    with pytest.raises(GeofenceFormatError, match="FeatureCollection"):
        from_geojson({"type": "Feature"})
    doc = to_geojson(sample_fences()[:1])
    dup = copy.deepcopy(doc)
    dup["features"].append(dup["features"][0])
    with pytest.raises(GeofenceFormatError, match="more than once"):
        from_geojson(dup)
    holes = copy.deepcopy(doc)
    holes["features"][0]["geometry"]["coordinates"].append(
        [[113.02, 28.02], [113.03, 28.02], [113.03, 28.03], [113.02, 28.02]]
    )
    with pytest.raises(GeofenceFormatError, match="holes"):
        from_geojson(holes)
    point = copy.deepcopy(doc)
    point["features"][0]["geometry"] = {"type": "Point", "coordinates": [113.0, 28.0]}
    with pytest.raises(GeofenceFormatError, match="Polygon"):
        from_geojson(point)
    missing = copy.deepcopy(doc)
    del missing["features"][0]["properties"]["upper_m"]
    with pytest.raises(GeofenceFormatError, match="upper_m"):
        from_geojson(missing)


# -- ED-318 --------------------------------------------------------------------------
def test_ed318_round_trip_exact(tmp_path):
    fences = [
        *sample_fences(),
        Geofence(
            "R1",
            Limit(-20.0, "AMSL"),
            Limit(60.0, "AGL"),
            polygon=SQUARE[::-1],
            reason_codes=("FOREIGN_TERRITORY", "AIR_TRAFFIC", "AIR_TRAFFIC"),
            validity=Validity(
                daily=(DailyPeriod.from_strings(["SAT"], "06:00", "18:00"),), timezone="UTC"
            ),
        ),
    ]
    doc = to_ed318(fences, description="test set")
    assert doc["type"] == "FeatureCollection" and doc["metadata"] == {
        "description": [{"text": "test set", "lang": "en-GB"}]
    }
    square, circle, _, _, other = doc["features"]
    assert square["geometry"]["layer"] == {
        "upper": 120,
        "upperReference": "AGL",
        "lower": 0,
        "lowerReference": "AGL",
        "uom": "m",
    }
    assert square["properties"]["name"] == [{"text": "Square", "lang": "en-GB"}]
    assert square["properties"]["zoneAuthority"] == [
        {"purpose": "INFORMATION", "name": [{"text": "Hunan PSB", "lang": "en-GB"}]}
    ]
    assert "limitedApplicability" not in square["properties"]
    assert circle["geometry"]["type"] == "Point" and circle["geometry"]["extent"] == {
        "subType": "Circle",
        "radius": 1234.5,
    }
    assert (circle["properties"]["type"], circle["properties"]["variant"]) == (
        "REQ_AUTHORIZATION",
        "COMMON",
    )
    assert circle["properties"]["zoneAuthority"] == [{"purpose": "AUTHORIZATION"}]
    assert circle["properties"]["limitedApplicability"][0]["schedule"][0] == {
        "day": ["MON", "FRI"],
        "startTime": "22:00:00",
        "endTime": "06:30:15",
    }
    assert (
        doc["features"][2]["properties"]["limitedApplicability"][0]["schedule"][0]["startTime"]
        == "08:00:00+05:30"
    )
    assert other["properties"]["limitedApplicability"][0]["schedule"][0]["endTime"] == "18:00:00Z"
    assert other["properties"]["reason"] == ["OTHER", "AIR_TRAFFIC"]
    assert other["properties"]["extendedProperties"]["reasonCodes"] == [
        "FOREIGN_TERRITORY",
        "AIR_TRAFFIC",
        "AIR_TRAFFIC",
    ]
    assert from_ed318(doc) == fences
    assert from_ed318(dump(doc, tmp_path / "z.geojson")) == fences
    assert from_ed318(json.dumps(doc)) == fences
    assert from_ed318(to_ed318(fences, lang="zh-CN"), lang="en") == fences


@settings(max_examples=60, deadline=None)
@given(
    lon=st.floats(100.0, 120.0),
    lat=st.floats(20.0, 40.0),
    d=st.floats(1e-3, 0.5),
    lo=st.floats(-400.0, 5000.0),
    h=st.floats(0.01, 5000.0),
    refs=st.tuples(st.booleans(), st.booleans()),
    tz=st.sampled_from(["UTC", "Asia/Shanghai", "Europe/Zurich", "+05:30", "-03:00"]),
    days=st.frozensets(st.integers(0, 6), min_size=1),
    span=st.tuples(st.integers(0, 86399), st.integers(1, 86400)),
    window=st.one_of(
        st.none(), st.tuples(st.integers(0, 2_000_000_000), st.integers(1, 10_000_000))
    ),
    category=st.sampled_from(Category),
    name=st.text(max_size=20),
    reason=st.text(max_size=20),
    codes=st.lists(
        st.sampled_from(["AIR_TRAFFIC", "NATURE", "DAR", "FOREIGN_TERRITORY", "custom"]), max_size=3
    ),
)
def test_ed318_round_trip_property(
    lon, lat, d, lo, h, refs, tz, days, span, window, category, name, reason, codes
):
    s, e = span
    if s == e:
        e = s + 1
    daily = (DailyPeriod(days, s, e),)
    validity = (
        Validity(daily=daily, timezone=tz)
        if window is None
        else Validity(
            start=float(window[0]), end=float(window[0] + window[1]), daily=daily, timezone=tz
        )
    )
    g = Geofence(
        "P",
        Limit(lo, "AGL" if refs[0] else "AMSL"),
        Limit(lo + h, "AGL" if refs[1] else "AMSL"),
        polygon=((lon, lat), (lon + d, lat), (lon, lat + d)),
        validity=validity,
        category=category,
        name=name,
        reason=reason,
        reason_codes=tuple(codes),
        authority=name,
        source_id=reason,
    )
    assert from_ed318(json.loads(json.dumps(to_ed318([g])))) == [g]


def ed318_layer(**over) -> dict:
    return {
        "upper": 400,
        "upperReference": "AGL",
        "lower": 0,
        "lowerReference": "AGL",
        "uom": "ft",
        **over,
    }


def ed318_feature(**over) -> dict:
    """A geozone as a State might publish it (several languages, members airgrid does not keep)."""
    props = {
        "identifier": "Z1",
        "country": "CHE",
        "name": [
            {"text": "Flugplatz Bern", "lang": "de-CH"},
            {"text": "Bern airfield", "lang": "en-GB"},
        ],
        "type": "REQ_AUTHORIZATION",
        "variant": "COMMON",
        "restrictionConditions": "RST02",
        "region": 0,
        "reason": ["AIR_TRAFFIC"],
        "otherReasonInfo": [{"text": "Aerodrome traffic", "lang": "en-GB"}],
        "regulationExemption": "NO",
        "message": [{"text": "Contact the tower", "lang": "en-GB"}],
        "limitedApplicability": [
            {
                "startDateTime": "2025-01-01T00:00:00+01:00",
                "endDateTime": "2025-02-01T00:00:00Z",
                "schedule": [
                    {
                        "day": ["SAT", "SUN"],
                        "startTime": "08:00:00+01:00",
                        "endTime": "20:00:00+01:00",
                    }
                ],
            }
        ],
        "zoneAuthority": [
            {
                "name": [{"text": "BAZL", "lang": "de-CH"}, {"text": "FOCA", "lang": "en-GB"}],
                "purpose": "AUTHORIZATION",
                "email": {"text": "uas@example.org", "lang": "en-GB"},
                "intervalBefore": "P1D",
            }
        ],
        "dataSource": {"creationDate": "2024-12-01T00:00:00Z", "originator": "FOCA"},
        **over,
    }
    return {
        "type": "Feature",
        "id": "feature-0",
        "properties": props,
        "geometry": {
            "type": "Polygon",
            "coordinates": [[list(p) for p in (*SQUARE, SQUARE[0])]],
            "layer": ed318_layer(),
        },
    }


def fc(*features: dict) -> dict:
    return {
        "type": "FeatureCollection",
        "name": "zones",
        "metadata": {"issued": "2025-01-01T00:00:00Z"},
        "features": list(features),
    }


def test_ed318_import_as_published():
    (g,) = from_ed318(fc(ed318_feature()))
    assert (g.identifier, g.name, g.authority, g.country) == ("Z1", "Flugplatz Bern", "BAZL", "CHE")
    assert g.category is Category.AUTHORISATION_REQUIRED and g.reason_codes == ("AIR_TRAFFIC",)
    assert g.reason == "Aerodrome traffic" and g.source_id == ""
    assert g.upper == Limit(400 * FT, "AGL") and g.lower == Limit(0.0, "AGL")
    assert g.validity.timezone == "+01:00"
    assert g.validity.start == datetime(2024, 12, 31, 23, tzinfo=UTC).timestamp()
    assert g.is_active(datetime(2025, 1, 4, 18, 59, tzinfo=UTC))  # Saturday 19:59 local
    assert not g.is_active(datetime(2025, 1, 4, 19, 1, tzinfo=UTC))
    assert not g.is_active(datetime(2025, 1, 6, 11, tzinfo=UTC))  # Monday
    (en,) = from_ed318(fc(ed318_feature()), lang="en")
    assert (en.name, en.authority) == ("Bern airfield", "FOCA")
    assert from_ed318(fc(ed318_feature()), lang="de-CH")[0].name == "Flugplatz Bern"


@pytest.mark.parametrize(
    "zone_type, category",
    [
        ("PROHIBITED", Category.PROHIBITED),
        ("REQ_AUTHORIZATION", Category.AUTHORISATION_REQUIRED),
        ("REQ_AUTHORISATION", Category.AUTHORISATION_REQUIRED),
        ("CONDITIONAL", Category.AUTHORISATION_REQUIRED),
        ("USPACE", Category.AUTHORISATION_REQUIRED),
        ("NO_RESTRICTION", Category.ADVISORY),
    ],
)
def test_ed318_zone_types(zone_type, category):
    assert from_ed318(fc(ed318_feature(type=zone_type)))[0].category is category


def test_ed318_ellipsoidal_heights_stay_w84_and_resolve_with_the_geoid():
    f = ed318_feature()
    f["geometry"]["layer"] = {
        "lower": 500,
        "lowerReference": "WGS84",
        "upper": 800,
        "upperReference": "WGS84",
        "uom": "M",
    }
    (g,) = from_ed318(fc(f))
    assert (g.lower, g.upper) == (Limit(500, "W84"), Limit(800, "W84"))
    # the AMSL band holds the published one wherever the geoid is under the footprint
    floor, ceiling = g.amsl_band()
    west, south, east, north = g.footprint.bounds
    lat, lon = np.meshgrid(np.linspace(south, north, 7), np.linspace(west, east, 7))
    n = default_geoid().undulation(lat.ravel(), lon.ravel())
    assert floor <= float(np.min(500 - n)) - GEOID_GRID_ERROR_M + 1e-9
    assert ceiling >= float(np.max(800 - n)) + GEOID_GRID_ERROR_M - 1e-9
    # and far tighter than the worldwide undulation bounds (-107 m .. +86 m)
    assert ceiling - floor < 300 + 2 * GEOID_GRID_ERROR_M + 5
    back = to_ed318([g])["features"][0]["geometry"]["layer"]
    assert (back["lowerReference"], back["upperReference"]) == ("WGS84", "WGS84")


def test_ed318_time_zones():
    def tz_of(**period_over) -> str:
        f = ed318_feature()
        f["properties"]["limitedApplicability"][0]["schedule"][0].update(period_over)
        return from_ed318(fc(f))[0].validity.timezone

    assert tz_of(startTime="08:00:00Z", endTime="20:00:00.000Z") == "UTC"
    assert tz_of(startTime="08:00:00", endTime="20:00:00") == "Asia/Shanghai"
    f = ed318_feature(extendedProperties={"timeZone": "Europe/Zurich"})
    assert from_ed318(fc(f))[0].validity.timezone == "Europe/Zurich"
    permanent = ed318_feature(limitedApplicability=None, extendedProperties={"timeZone": "UTC"})
    assert from_ed318(fc(permanent))[0].validity == Validity(timezone="UTC")
    assert from_ed318(fc(ed318_feature(limitedApplicability=[{}])))[0].validity.permanent


def test_ed318_collections_and_periods_are_split():
    ring = [list(p) for p in (*SQUARE, SQUARE[0])]
    moved = [[x + 0.2, y] for x, y in ring]
    f = ed318_feature()
    f["geometry"] = {
        "type": "GeometryCollection",
        "layer": ed318_layer(uom="m"),
        "geometries": [
            {
                "type": "Polygon",
                "coordinates": [ring],
                "layer": ed318_layer(
                    lower=100, lowerReference="AMSL", upper=200, upperReference="AMSL", uom="m"
                ),
            },
            {
                "type": "Point",
                "coordinates": [113.5, 28.5],
                "extent": {"subType": "Circle", "radius": 500},
            },
            {"type": "MultiPolygon", "coordinates": [[ring], [moved]]},
        ],
    }
    f["properties"]["limitedApplicability"].append({"endDateTime": "2024-06-01T00:00:00Z"})
    out = from_ed318(fc(f))
    assert [g.identifier for g in out] == [f"Z1#{p}.{a}" for p in range(4) for a in range(2)]
    assert out[0].lower == Limit(100.0, "AMSL") and out[2].upper == Limit(400.0, "AGL")
    assert out[2].circle == Circle(113.5, 28.5, 500.0) and out[7].polygon[0][0] == pytest.approx(
        113.2
    )
    assert (
        out[1].validity.start is None
        and out[1].validity.end == datetime(2024, 6, 1, tzinfo=UTC).timestamp()
    )


def _props(f: dict) -> dict:
    return f["properties"]


def _schedule(f: dict) -> dict:
    return f["properties"]["limitedApplicability"][0]["schedule"][0]


BOWTIE = [[113.0, 28.0], [113.1, 28.1], [113.1, 28.0], [113.0, 28.1], [113.0, 28.0]]


@pytest.mark.parametrize(
    "mutate, err, text",
    [
        (lambda f: _props(f).pop("identifier"), GeofenceFormatError, "identifier"),
        (lambda f: _props(f).update(type="MAYBE"), GeofenceFormatError, "unknown type 'MAYBE'"),
        (
            lambda f: _props(f).update(restriction=_props(f).pop("type")),
            GeofenceFormatError,
            "ED-269's 'restriction'",
        ),
        (lambda f: _props(f).update(type=["PROHIBITED"]), GeofenceFormatError, "unknown type"),
        (lambda f: _props(f).update(variant="SPECIAL"), GeofenceFormatError, "variant"),
        (lambda f: _props(f).update(country="CH"), GeofenceFormatError, "alpha-3"),
        (
            lambda f: _props(f).update(reason=["FOREIGN_TERRITORY"]),
            GeofenceFormatError,
            "unknown reason",
        ),
        (
            lambda f: _props(f).update(reason="AIR_TRAFFIC"),
            GeofenceFormatError,
            "reason must be a list",
        ),
        (lambda f: _props(f).pop("zoneAuthority"), GeofenceFormatError, "zoneAuthority"),
        (
            lambda f: _props(f)["zoneAuthority"][0].update(purpose="APPROVAL"),
            GeofenceFormatError,
            "purpose",
        ),
        (lambda f: _props(f).update(name="Bern"), GeofenceFormatError, "name must be a list"),
        (
            lambda f: _props(f).update(extendedProperties=[]),
            GeofenceFormatError,
            "extendedProperties must be an object",
        ),
        (
            lambda f: _props(f).update(extendedProperties={"reasonCodes": "X"}),
            GeofenceFormatError,
            "reasonCodes",
        ),
        (
            lambda f: _props(f).update(extendedProperties={"timeZone": "Mars/Olympus"}),
            TimeZoneError,
            "Mars",
        ),
        (lambda f: f.update(geometry=None), GeofenceFormatError, "geometry object"),
        (lambda f: f["geometry"].pop("layer"), GeofenceFormatError, "layer"),
        (lambda f: f["geometry"]["layer"].update(uom="km"), GeofenceFormatError, "uom"),
        (
            lambda f: f["geometry"]["layer"].update(upperReference="FL"),
            GeofenceFormatError,
            "upperReference",
        ),
        (lambda f: f["geometry"]["layer"].update(upper="high"), GeofenceFormatError, "upper"),
        (lambda f: f["geometry"]["layer"].update(upper=float("inf")), LimitValueError, "finite"),
        (lambda f: f["geometry"]["layer"].update(lower=500), LowerAboveUpperError, "not below"),
        (lambda f: f["geometry"].update(type="LineString"), GeofenceFormatError, "LineString"),
        (
            lambda f: f["geometry"].update(type="Point", coordinates=[113.0, 28.0]),
            GeofenceFormatError,
            "extent",
        ),
        (
            lambda f: f["geometry"].update(
                type="Point", coordinates=[113.0, 28.0], extent={"subType": "Circle", "radius": 0}
            ),
            NonPositiveRadiusError,
            "radius",
        ),
        (
            lambda f: f["geometry"].update(
                type="Point",
                coordinates=[113.0, 28.0],
                extent={"subType": "Circle", "radius": 200_000},
            ),
            RadiusTooLargeError,
            "radius",
        ),
        (
            lambda f: f["geometry"].update(
                type="GeometryCollection",
                geometries=[{"type": "GeometryCollection", "geometries": []}],
            ),
            GeofenceFormatError,
            "GeometryCollection",
        ),
        (
            lambda f: f["geometry"]["coordinates"].append(f["geometry"]["coordinates"][0]),
            GeofenceFormatError,
            "holes",
        ),
        (lambda f: f["geometry"]["coordinates"][0].pop(), GeofenceFormatError, "closed"),
        (
            lambda f: f["geometry"].update(coordinates=[BOWTIE]),
            SelfIntersectingRingError,
            "intersects itself",
        ),
        (
            lambda f: f["geometry"]["coordinates"][0][1].__setitem__(0, 200.0),
            CoordinateRangeError,
            "outside",
        ),
        (
            lambda f: f["geometry"].update(
                coordinates=[[[113.0, 28.0], [113.1, 28.1], [113.2, 28.2], [113.0, 28.0]]]
            ),
            DegenerateGeometryError,
            "no area",
        ),
        (
            lambda f: _props(f)["limitedApplicability"][0].update(startDateTime="yesterday"),
            GeofenceFormatError,
            "ISO 8601",
        ),
        (
            lambda f: _props(f)["limitedApplicability"][0].update(
                startDateTime="2025-01-01T00:00:00"
            ),
            GeofenceFormatError,
            "time zone",
        ),
        (
            lambda f: _props(f)["limitedApplicability"][0].update(
                endDateTime="2024-01-01T00:00:00Z"
            ),
            EndBeforeStartError,
            "before",
        ),
        (
            lambda f: _props(f).update(limitedApplicability={}),
            GeofenceFormatError,
            "limitedApplicability must be a list",
        ),
        (lambda f: _schedule(f).update(day=["FUNDAY"]), DailyPeriodError, "weekday"),
        (lambda f: _schedule(f).update(startTime="25:00:00"), DailyPeriodError, "out of range"),
        (lambda f: _schedule(f).update(startEvent="SR"), GeofenceFormatError, "daylight"),
        (
            lambda f: _schedule(f).update(endTime="20:00:00Z"),
            GeofenceFormatError,
            "several time zones",
        ),
    ],
)
def test_ed318_malformed_documents(mutate, err, text):
    f = ed318_feature(identifier="BAD")
    mutate(f)
    with pytest.raises(err, match=text):
        from_ed318(fc(ed318_feature(), f))  # a valid zone before the bad one: nothing is returned


def test_ed318_malformed_top_level_documents():
    with pytest.raises(GeofenceFormatError, match="FeatureCollection"):
        from_ed318(to_ed269(sample_fences()))
    with pytest.raises(GeofenceFormatError, match="expected a GeoJSON Feature"):
        from_ed318({"type": "FeatureCollection", "features": [[]]})
    with pytest.raises(GeofenceFormatError, match="more than once"):
        from_ed318(fc(ed318_feature(), ed318_feature()))
    with pytest.raises(TooManyVerticesError, match="limit is 3"):
        from_ed318(fc(ed318_feature()), max_vertices=3)


def test_detect_format():
    fences = sample_fences()
    assert detect_format(to_geojson(fences)) == "geojson"
    assert detect_format({"type": "FeatureCollection", "features": []}) == "geojson"
    assert detect_format(to_ed269(fences)) == "ed269"
    assert detect_format({"features": to_ed269(fences)["UASZoneList"]}) == "ed269"
    assert detect_format(to_ed318(fences)) == "ed318"
    bare = to_ed318(fences)
    del bare["metadata"]
    assert detect_format(bare) == "ed318"
    with pytest.raises(GeofenceFormatError, match="JSON object"):
        detect_format([])


def test_w84_limits_round_trip_in_geojson_and_go_out_amsl_in_ed269():
    square = [[112.95, 28.15], [112.98, 28.15], [112.98, 28.18], [112.95, 28.18], [112.95, 28.15]]
    g = Geofence("w84-zone", Limit(100, "W84"), Limit(400, "W84"), polygon=square)
    assert Geofence.from_geojson_feature(json.loads(json.dumps(g.to_geojson_feature()))) == g
    zone = to_ed269([g])["UASZoneList"][0]["geometry"][0]
    assert zone["lowerVerticalReference"] == zone["upperVerticalReference"] == "AMSL"
    n = default_geoid().undulation(28.165, 112.965)  # about -16.8 m over Changsha
    assert (
        zone["lowerLimit"] <= 100 - n - GEOID_GRID_ERROR_M
        and zone["upperLimit"] >= 400 - n + GEOID_GRID_ERROR_M
    )
    assert zone["upperLimit"] - zone["lowerLimit"] < 300 + 2 * GEOID_GRID_ERROR_M + 2
    (back,) = from_ed269(to_ed269([g]))
    assert back.amsl_band()[0] <= g.amsl_band()[0] and back.amsl_band()[1] >= g.amsl_band()[1]


def test_ed269_numbers_written_as_strings_are_read():
    """Producers write limits and radii as strings ("lowerLimit": "0")."""
    z = ed269_zone()
    z["geometry"][0].update(lowerLimit="0", upperLimit=" 400 ")
    z["geometry"][0]["horizontalProjection"]["radius"] = "1000"
    (g,) = from_ed269({"UASZoneList": [z]})
    (ref,) = from_ed269({"UASZoneList": [ed269_zone()]})
    assert g == ref


@pytest.mark.parametrize("value", ["zero", "nan", "inf", ""])
def test_ed269_non_numeric_strings_name_the_zone_and_field(value):
    z = ed269_zone()
    z["geometry"][0]["upperLimit"] = value
    with pytest.raises(GeofenceFormatError, match=r"Z1.*upperLimit"):
        from_ed269({"UASZoneList": [z]})
