"""GeoJSON and ED-269 import/export: exact round trips and clear errors."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airgrid.airspace.errors import (
    GeofenceError,
    GeofenceFormatError,
    NonPositiveRadiusError,
    SelfIntersectingRingError,
)
from airgrid.airspace.geofence import Category, Circle, DailyPeriod, Geofence, Limit, Validity
from airgrid.airspace.geofence_io import (
    dump,
    from_ed269,
    from_geojson,
    to_ed269,
    to_geojson,
)

SQUARE = ((113.0, 28.0), (113.1, 28.0), (113.1, 28.1), (113.0, 28.1))


def sample_fences() -> list[Geofence]:
    t0 = datetime(2025, 5, 1, tzinfo=UTC).timestamp()
    return [
        Geofence("P1", Limit(0.0, "AGL"), Limit(120.0, "AGL"), polygon=SQUARE, name="Square",
                 reason="test area", reason_codes=("SENSITIVE",), authority="Hunan PSB", source_id="src-1"),
        Geofence("C1", Limit(50.5), Limit(300.25), circle=Circle(112.9876543, 28.123456789, 1234.5),
                 category=Category.AUTHORISATION_REQUIRED,
                 validity=Validity(start=t0, end=t0 + 86400 * 30 + 0.25,
                                   daily=(DailyPeriod.from_strings(["MON", "FRI"], "22:00", "06:30:15"),
                                          DailyPeriod.from_strings(["SUN"], "00:00", "24:00")))),
        Geofence("A1", Limit(10.0, "AGL"), Limit(900.0), polygon=SQUARE, category="advisory",
                 validity=Validity(start=t0, timezone="+05:30",
                                   daily=(DailyPeriod.from_strings(["ANY"], "08:00", "09:00"),))),
        Geofence("E1", Limit(0.0), Limit(100.0), polygon=SQUARE, validity=Validity(end=t0), country="FRA"),
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
    area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:]))
    assert area2 > 0  # counter-clockwise exterior (right-hand rule)
    assert all(112 < x < 114 and 27 < y < 29 for x, y in ring)  # lon, lat order
    assert feat["properties"]["circle"] == {"center": [112.9876543, 28.123456789], "radius_m": 1234.5}


def test_ed269_round_trip_exact(tmp_path):
    fences = sample_fences()
    doc = to_ed269(fences)
    assert list(doc) == ["title", "description", "UASZoneList"]
    z = doc["UASZoneList"][1]
    assert z["restriction"] == "REQ_AUTHORISATION"
    assert z["geometry"][0]["horizontalProjection"] == {"type": "Circle", "center": [112.9876543, 28.123456789],
                                                         "radius": 1234.5}
    assert z["applicability"][0]["dailyPeriod"][0] == {"day": ["MON", "FRI"], "startTime": "22:00:00",
                                                       "endTime": "06:30:15"}
    assert doc["UASZoneList"][0]["geometry"][0]["lowerVerticalReference"] == "AGL"
    assert from_ed269(doc) == fences
    assert from_ed269(dump(doc, tmp_path / "z.json")) == fences
    # the "features" key of the ED-269 JSON schema is read too
    assert from_ed269({"features": doc["UASZoneList"]}) == fences


@settings(max_examples=50, deadline=None)
@given(lon=st.floats(108.0, 115.0), lat=st.floats(24.0, 31.0), r=st.floats(0.5, 50_000.0),
       lo=st.floats(-400.0, 5000.0), h=st.floats(0.01, 5000.0), agl=st.booleans(),
       start=st.integers(0, 2_000_000_000), dur=st.integers(1, 10_000_000))
def test_round_trips_property(lon, lat, r, lo, h, agl, start, dur):
    ref = "AGL" if agl else "AMSL"
    g = Geofence("H", Limit(lo, ref), Limit(lo + h, ref), circle=Circle(lon, lat, r),
                 validity=Validity(start=float(start), end=float(start + dur)))
    assert from_geojson(to_geojson([g])) == [g]
    assert from_ed269(to_ed269([g])) == [g]
    assert from_ed269(json.loads(json.dumps(to_ed269([g])))) == [g]


def ed269_zone(**over) -> dict:
    z = {
        "identifier": "Z1", "country": "CHN", "name": "zone", "type": "COMMON", "restriction": "PROHIBITED",
        "reason": ["AIR_TRAFFIC"], "zoneAuthority": [{"name": "CAAC"}],
        "applicability": [{"permanent": "NO", "startDateTime": "2025-01-01T00:00:00+08:00",
                           "endDateTime": "2025-02-01T00:00:00Z",
                           "schedule": [{"day": ["SAT", "SUN"], "startTime": "08:00:00.00Z",
                                         "endTime": "20:00:00.00Z"}]}],
        "geometry": [{"uomDimensions": "FT", "lowerLimit": 0, "lowerVerticalReference": "AGL",
                      "upperLimit": 400, "upperVerticalReference": "AGL",
                      "horizontalProjection": {"type": "Circle", "center": [113.0, 28.0], "radius": 1000}}],
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
    z["geometry"].append({"uomDimensions": "M", "lowerLimit": 100, "lowerVerticalReference": "AMSL",
                          "upperLimit": 200, "upperVerticalReference": "AMSL",
                          "horizontalProjection": {"type": "Polygon",
                                                   "coordinates": [[list(p) for p in SQUARE + (SQUARE[0],)]]}})
    z["applicability"].append({"permanent": "YES"})
    out = from_ed269({"UASZoneList": [z]})
    assert [g.identifier for g in out] == ["Z1#0.0", "Z1#0.1", "Z1#1.0", "Z1#1.1"]
    assert out[3].validity.permanent and out[3].polygon is not None


@pytest.mark.parametrize("mutate, err, text", [
    (lambda z: z.pop("identifier"), GeofenceFormatError, "identifier"),
    (lambda z: z.update(restriction="MAYBE"), GeofenceFormatError, "restriction"),
    (lambda z: z["geometry"][0].update(uomDimensions="KM"), GeofenceFormatError, "uomDimensions"),
    (lambda z: z["geometry"][0].update(lowerVerticalReference="WGS84"), GeofenceFormatError, "VerticalReference"),
    (lambda z: z["geometry"][0].update(upperLimit="high"), GeofenceFormatError, "upperLimit"),
    (lambda z: z["geometry"][0]["horizontalProjection"].update(type="Ellipse"), GeofenceFormatError, "Ellipse"),
    (lambda z: z["geometry"][0]["horizontalProjection"].update(radius=0), NonPositiveRadiusError, "radius"),
    (lambda z: z.update(geometry=[]), GeofenceFormatError, "geometry"),
    (lambda z: z["applicability"][0].update(startDateTime="yesterday"), GeofenceFormatError, "ISO 8601"),
    (lambda z: z["applicability"][0].update(startDateTime="2025-01-01T00:00:00"), GeofenceFormatError,
     "time zone"),
    (lambda z: z["applicability"][0].update(permanent="YES"), GeofenceFormatError, "permanent"),
    (lambda z: z["applicability"][0]["schedule"][0].update(day=["FUNDAY"]), GeofenceError, "weekday"),
    (lambda z: z["geometry"][0].update(horizontalProjection={
        "type": "Polygon", "coordinates": [[[113.0, 28.0], [113.1, 28.1], [113.1, 28.0], [113.0, 28.1],
                                            [113.0, 28.0]]]}), SelfIntersectingRingError, "intersects itself"),
])
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
    holes["features"][0]["geometry"]["coordinates"].append([[113.02, 28.02], [113.03, 28.02], [113.03, 28.03],
                                                           [113.02, 28.02]])
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
