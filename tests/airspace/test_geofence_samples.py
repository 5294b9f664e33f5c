"""Published geofence files, vendored in ``tests/data/`` (sources and licences in
``tests/data/SOURCE.md``), read as airgrid reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from airgrid.airspace.errors import GeofenceFormatError
from airgrid.airspace.geofences.formats.ed269 import from_ed269
from airgrid.airspace.geofences.formats.ed318 import from_ed318
from airgrid.airspace.geofences.formats.fields import NO_UPPER_LIMIT
from airgrid.airspace.geofences.formats.files import load_document
from airgrid.airspace.geofences.formats.geojson import from_geojson
from airgrid.airspace.geofences.formats.registry import FORMATS, detect_format
from airgrid.airspace.geofences.model import Category, Limit

DATA = Path(__file__).resolve().parents[1] / "data"
#: interuss/monitoring@10dabeaf, monitoring/uss_qualifier/test_data/che/geoawareness/cis_source_sample_ed269.json
INTERUSS_ED269 = DATA / "interuss_cis_source_sample_ed269.json"
#: interuss/monitoring@799bcf9d, monitoring/uss_qualifier/test_data/che/geoawareness/cis_source_sample_ed318.json
INTERUSS_ED318 = DATA / "interuss_cis_source_sample_ed318.json"
#: interuss/monitoring@475cee4c, monitoring/uss_qualifier/test_data/sample_dynamic_restrictions.geojson
INTERUSS_GEOJSON = DATA / "interuss_sample_dynamic_restrictions.geojson"


def test_interuss_swiss_ed269_sample_with_string_null_and_placeholder_members():
    """InterUSS monitoring's Swiss ED-269 sample: "lowerLimit": "0", "upperLimit": null and
    a permanent zone with an empty daily period."""
    assert detect_format(load_document(INTERUSS_ED269)) == "ed269"
    (g,) = from_ed269(INTERUSS_ED269)
    assert (g.identifier, g.name, g.country, g.authority) == (
        "LSXX",
        "LSXX City Sample",
        "CHE",
        "LSXX City Sample",
    )
    assert g.category is Category.AUTHORISATION_REQUIRED and g.reason_codes == ("AIR_TRAFFIC",)
    assert g.validity.permanent
    assert g.lower == Limit(0.0, "AGL") and g.upper == NO_UPPER_LIMIT
    assert len(g.polygon) == 4
    assert g.footprint.contains(g.footprint.centroid)
    # written back and read again, it is the same geofence
    for fmt in FORMATS.values():
        assert fmt.read(fmt.write([g])) == [g]


def test_interuss_swiss_ed318_sample_multilingual_with_99999_m_for_no_upper_limit():
    """InterUSS monitoring's Swiss ED-318 test data (FOCA): three zones, four languages."""
    assert detect_format(load_document(INTERUSS_ED318)) == "ed318"
    fences = from_ed318(INTERUSS_ED318, lang="en")
    assert [g.identifier for g in fences] == ["LSZB003", "BLns058", "LSTB002"]
    bern, nature, airfield = fences
    assert bern.name == "LSZB Bern-Belp 2" and bern.authority == "Skyguide"
    assert nature.name == "Protected natural object Langmatt"
    assert nature.authority == "Ebenrain Centre for Agriculture, Nature and Food"
    assert airfield.reason_codes == ("AIR_TRAFFIC",) and nature.reason_codes == ("NATURE",)
    assert all(g.category is Category.AUTHORISATION_REQUIRED for g in fences)
    assert all(g.validity.permanent and g.country == "CHE" for g in fences)
    assert bern.lower == Limit(60.0, "AGL") and nature.lower == Limit(0.0, "AGL")
    assert all(g.upper == NO_UPPER_LIMIT for g in fences)  # the data's own 99 999 m AGL
    assert from_ed318(INTERUSS_ED318, lang="fr")[1].name == "Objet naturel protégé Langmatt"
    for fmt in FORMATS.values():
        assert fmt.read(fmt.write(fences)) == fences


def test_interuss_dynamic_restrictions_geojson_is_refused_naming_the_feature():
    """InterUSS monitoring's sample dynamic restrictions: plain GeoJSON without identifiers
    or vertical limits, which airgrid cannot turn into a volume."""
    assert detect_format(load_document(INTERUSS_GEOJSON)) == "geojson"
    with pytest.raises(
        GeofenceFormatError, match=r"feature #0 \('Test Polygon Restriction'\).*identifier"
    ):
        from_geojson(INTERUSS_GEOJSON)
