"""The geofence exchange formats by name, and which one a parsed document is in.

:data:`FORMATS` maps each format's name to its reader and writer, so a caller that
holds a name (a command-line option, a detected format) needs no table of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from airgrid.airspace.errors import GeofenceFormatError
from airgrid.airspace.geofences.formats.ed269 import from_ed269, to_ed269
from airgrid.airspace.geofences.formats.ed318 import from_ed318, to_ed318
from airgrid.airspace.geofences.formats.geojson import from_geojson, to_geojson
from airgrid.airspace.geofences.model import Geofence


@dataclass(frozen=True)
class Format:
    """A geofence exchange format.

    Attributes
    ----------
    name
        ``"geojson"``, ``"ed269"`` or ``"ed318"`` (what :func:`detect_format` returns).
    read
        Geofences from a document (dict, JSON text or file path).
    write
        A document (dict) of geofences.
    """

    name: str
    read: Callable[..., list[Geofence]]
    write: Callable[[Sequence[Geofence]], dict]


#: The formats by name.
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("geojson", from_geojson, to_geojson),
        Format("ed269", from_ed269, to_ed269),
        Format("ed318", from_ed318, to_ed318),
    )
}


def detect_format(doc: Any) -> str:
    """``"geojson"``, ``"ed269"`` or ``"ed318"``: which reader a parsed document is for.

    A FeatureCollection is ED-318 when it has ED-318's ``metadata`` member, or a
    Feature whose properties have a ``type`` (the ED-318 zone type; airgrid's GeoJSON
    has none) or whose geometry has a vertical ``layer``; otherwise it is airgrid
    GeoJSON. Any other object is ED-269 (``UASZoneList``, or its schema's ``features``).

    Raises
    ------
    GeofenceFormatError
        ``doc`` is not a JSON object.
    """
    if not isinstance(doc, dict):
        raise GeofenceFormatError(
            f"a geofence document must be a JSON object, got {type(doc).__name__}"
        )
    if doc.get("type") != "FeatureCollection":
        return "ed269"
    features = doc.get("features")
    if "metadata" in doc or (
        isinstance(features, list) and any(_is_ed318_feature(f) for f in features)
    ):
        return "ed318"
    return "geojson"


def _is_ed318_feature(feature: Any) -> bool:
    if not isinstance(feature, dict):
        return False
    props, geom = feature.get("properties"), feature.get("geometry")
    return (isinstance(props, dict) and "type" in props) or (
        isinstance(geom, dict) and "layer" in geom
    )


__all__ = ["FORMATS", "Format", "detect_format"]
