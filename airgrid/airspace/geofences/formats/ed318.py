"""Geofences to and from EUROCAE ED-318 GeoJSON.

EUROCAE ED-318, the successor of ED-269's data model, is GeoJSON: ``{"type":
"FeatureCollection", "name", "metadata", "features"}``. Each Feature holds an ED-318
``UASZone`` in ``properties`` and a GeoJSON geometry extended with a vertical
``layer`` ``{"upper", "upperReference", "lower", "lowerReference", "uom"}``. Member
names follow the published JSON model (the ``eurocae_ed318`` module of
interuss/uas_standards, which transcribes the standard's appendix E schema). Mapping:

* ``type`` (ED-269's ``restriction``): prohibited <-> ``PROHIBITED``,
  authorisation_required <-> ``REQ_AUTHORIZATION``, advisory <-> ``NO_RESTRICTION``.
  Read only, towards the stricter category: ``CONDITIONAL`` and ``USPACE`` become
  authorisation_required; ED-269's spelling ``REQ_AUTHORISATION`` is accepted.
  ``variant`` (ED-269's ``type``) is written ``COMMON``; ``COMMON`` and ``CUSTOMIZED``
  are read.
* Geometry: a polygon is a ``Polygon`` with one closed ring (holes are refused, as
  in GeoJSON); a circle is a ``Point`` with ``"extent": {"subType": "Circle",
  "radius": r}``, the radius in the layer's ``uom`` (ED-318 gives the radius no unit
  of its own; this follows ED-269, where ``uomDimensions`` covers it). Read only:
  ``MultiPolygon`` (one geofence per polygon) and a flat ``GeometryCollection`` of
  these, each member with its own ``layer`` or the collection's.
* ``layer``: ``uom`` ``m`` or ``ft`` (either case; 1 ft = 0.3048 m exactly);
  references ``AGL``, ``AMSL`` and ``WGS84`` (height above the ellipsoid, the
  model's ``W84``: made AMSL with the EGM96 geoid when the band is resolved, see
  :mod:`airgrid.airspace.geofences.model`). Limits are written in metres. Read
  leniently as ED-269 (:mod:`.ed269`): numbers as strings, a ``null`` ``lower`` is the
  ground and a ``null`` ``upper`` no upper limit (99 999 m AGL, what the Swiss data
  writes for it); a limit that is given needs its reference.
* ``schedule`` entries with no days and ``null`` times are skipped; ``null`` start and
  end times (and no daylight event) mean the whole day; one of them ``null`` is refused.
* ``limitedApplicability``: absent, empty, or one period without members means
  permanent. A period has ``startDateTime``, ``endDateTime`` and ``schedule``
  entries ``{"day", "startTime", "endTime"}``. Daylight events (``startEvent``,
  ``endEvent``: sunrise, sunset, civil twilight) are refused: the model has no sun
  position. Times of day carry ``Z`` or ``+hh:mm`` when the time zone is ``UTC`` or a
  fixed offset and are bare local times otherwise; the zone itself is written to
  ``extendedProperties.timeZone``. When reading, ``timeZone`` wins; without it the
  times' suffix (the same on every time of the period) sets the zone; without either
  the times are Asia/Shanghai.
* Several geometry parts or several periods give one geofence per (part, period),
  identified ``"<id>#<g>.<a>"`` as for ED-269.
* Texts (``name``, ``otherReasonInfo``, authority ``name``) are lists of ``{"text",
  "lang"}``: written as one entry in ``lang`` (default ``en-GB``; the model keeps no
  language), read as the entry in the preferred language, else the first one.
* ``reason``: ED-318 codes (its list has no ED-269 ``FOREIGN_TERRITORY`` but adds
  ``DAR``). Codes outside the list are written as ``OTHER`` and kept verbatim in
  ``extendedProperties.reasonCodes``, which wins when reading.
* ``zoneAuthority``: written as one entry whose ``name`` is the authority and whose
  ``purpose`` is ``AUTHORIZATION`` for authorisation_required zones, ``INFORMATION``
  otherwise; read from the first entry with a name.
* ``extendedProperties.sourceId`` is the source id; ``country`` and ``identifier``
  map one to one (the Feature ``id`` is written as the identifier, not read).
* Lossy when reading (not kept): ``restrictionConditions``, ``region``,
  ``regulationExemption``, ``message``, ``dataSource``, authority contact details and
  purposes, further translations, the dataset ``metadata`` and ``bbox``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airgrid.airspace.errors import GeofenceFormatError
from airgrid.airspace.geofences.formats.fields import (
    NO_LOWER_LIMIT,
    NO_UPPER_LIMIT,
    checked,
    daily_periods,
    iso_utc,
    lenient_limit,
    lenient_number,
    member,
    one_of,
    out_number,
    outer_ring,
    parse_iso,
    positions,
    unique_identifiers,
    zone_name,
)
from airgrid.airspace.geofences.formats.files import feature_list
from airgrid.airspace.geofences.model import DEFAULT_MAX_VERTICES, Category, Circle, Geofence, Limit
from airgrid.airspace.geofences.schedule import Validity, format_time_of_day
from airgrid.geo.constants import FT

_ED318_TYPE = {
    Category.PROHIBITED: "PROHIBITED",
    Category.AUTHORISATION_REQUIRED: "REQ_AUTHORIZATION",
    Category.ADVISORY: "NO_RESTRICTION",
}
_ED318_TYPE_IN = {v: k for k, v in _ED318_TYPE.items()} | {
    "REQ_AUTHORISATION": Category.AUTHORISATION_REQUIRED,
    "CONDITIONAL": Category.AUTHORISATION_REQUIRED,
    "USPACE": Category.AUTHORISATION_REQUIRED,
}
_ED318_PURPOSE = {
    Category.PROHIBITED: "INFORMATION",
    Category.AUTHORISATION_REQUIRED: "AUTHORIZATION",
    Category.ADVISORY: "INFORMATION",
}
_ED318_PURPOSES = ("AUTHORIZATION", "NOTIFICATION", "INFORMATION")
_ED318_UOM = {"m": 1.0, "ft": FT}
_ED318_REFERENCES = ("AGL", "AMSL", "WGS84")
#: Vertical references as EUROCAE files spell them, and the model's names.
_EUROCAE_TO_REFERENCE = {"AGL": "AGL", "AMSL": "AMSL", "WGS84": "W84"}
_REFERENCE_TO_EUROCAE = {v: k for k, v in _EUROCAE_TO_REFERENCE.items()}
#: ED-318 reason codes (``CodeZoneReasonType``).
ED318_REASONS = (
    "AIR_TRAFFIC",
    "SENSITIVE",
    "PRIVACY",
    "POPULATION",
    "NATURE",
    "NOISE",
    "EMERGENCY",
    "DAR",
    "OTHER",
)
#: Default language tag of the ED-318 texts written (the model keeps no language).
ED318_LANG = "en-GB"
_FIXED_OFFSET = re.compile(r"[+-]\d{2}:\d{2}")


def _texts(text: str, lang: str) -> list[dict[str, str]]:
    return [{"text": text, "lang": lang}]


def _time_suffix(tz: str) -> str:
    """What an ED-318 time of day carries for zone ``tz``: ``Z``, a fixed offset, or nothing."""
    if tz == "UTC":
        return "Z"
    return tz if _FIXED_OFFSET.fullmatch(tz) else ""


def geofence_to_ed318(g: Geofence, *, lang: str = ED318_LANG) -> dict:
    """One geofence as an ED-318 Feature (see the module docstring)."""
    layer = {
        "upper": out_number(g.upper.value_m),
        "upperReference": _REFERENCE_TO_EUROCAE[g.upper.reference.value],
        "lower": out_number(g.lower.value_m),
        "lowerReference": _REFERENCE_TO_EUROCAE[g.lower.reference.value],
        "uom": "m",
    }
    if g.circle is not None:
        geometry: dict[str, Any] = {
            "type": "Point",
            "coordinates": [g.circle.lon, g.circle.lat],
            "extent": {"subType": "Circle", "radius": g.circle.radius_m},
            "layer": layer,
        }
    else:
        assert g.polygon is not None, "a geofence has a polygon or a circle"
        geometry = {
            "type": "Polygon",
            "coordinates": [[list(p) for p in g.polygon] + [list(g.polygon[0])]],
            "layer": layer,
        }
    v = g.validity
    ext: dict[str, Any] = {"timeZone": v.timezone, "sourceId": g.source_id}
    reasons = list(dict.fromkeys(c if c in ED318_REASONS else "OTHER" for c in g.reason_codes))
    if reasons != list(g.reason_codes):
        ext["reasonCodes"] = list(g.reason_codes)
    props: dict[str, Any] = {"identifier": g.identifier, "country": g.country}
    if g.name:
        props["name"] = _texts(g.name, lang)
    props |= {"type": _ED318_TYPE[g.category], "variant": "COMMON"}
    if reasons:
        props["reason"] = reasons
    if g.reason:
        props["otherReasonInfo"] = _texts(g.reason, lang)
    props["extendedProperties"] = ext
    if not v.permanent:
        period: dict[str, Any] = {}
        if v.start is not None:
            period["startDateTime"] = iso_utc(v.start)
        if v.end is not None:
            period["endDateTime"] = iso_utc(v.end)
        if v.daily:
            zone = _time_suffix(v.timezone)
            period["schedule"] = [
                {
                    "day": p.weekday_names,
                    "startTime": format_time_of_day(p.start_s) + zone,
                    "endTime": format_time_of_day(p.end_s) + zone,
                }
                for p in v.daily
            ]
        props["limitedApplicability"] = [period]
    authority: dict[str, Any] = {"purpose": _ED318_PURPOSE[g.category]}
    if g.authority:
        authority["name"] = _texts(g.authority, lang)
    props["zoneAuthority"] = [authority]
    return {"type": "Feature", "id": g.identifier, "geometry": geometry, "properties": props}


def to_ed318(
    fences: Sequence[Geofence],
    *,
    name: str = "airgrid geofences",
    description: str = "",
    lang: str = ED318_LANG,
) -> dict:
    """An ED-318 FeatureCollection ``{"type", "name", "metadata", "features"}``.

    Parameters
    ----------
    fences
        The geofences, one Feature each.
    name
        The collection's ``name``.
    description
        Written to ``metadata.description`` when not empty.
    lang
        Language tag of every text written (names, reasons, authorities).
    """
    metadata = {"description": _texts(description, lang)} if description else {}
    return {
        "type": "FeatureCollection",
        "name": name,
        "metadata": metadata,
        "features": [geofence_to_ed318(g, lang=lang) for g in fences],
    }


def from_ed318(
    doc: dict | str | Path, *, max_vertices: int = DEFAULT_MAX_VERTICES, lang: str | None = None
) -> list[Geofence]:
    """Geofences from an ED-318 FeatureCollection (dict, JSON string or file path).

    Parameters
    ----------
    doc
        The document.
    max_vertices
        Largest polygon accepted.
    lang
        Preferred language of multilingual texts (``"de"`` matches ``"de-CH"``); the
        first entry is taken when none matches or when not given.

    Raises
    ------
    GeofenceFormatError
        Unreadable JSON, not a FeatureCollection, missing or mistyped members, unknown
        enumerations, unsupported geometries or daylight events, repeated identifiers.
    GeofenceError
        The specific subclass for an invalid geofence.
    """
    features = feature_list(doc, "an ED-318 GeoJSON")
    out: list[Geofence] = []
    for i, f in enumerate(features):
        out.extend(ed318_feature_to_geofences(f, index=i, max_vertices=max_vertices, lang=lang))
    return unique_identifiers(out)


def ed318_feature_to_geofences(
    feature: Any,
    *,
    index: int = 0,
    max_vertices: int = DEFAULT_MAX_VERTICES,
    lang: str | None = None,
) -> list[Geofence]:
    """The geofences of one ED-318 Feature (one per geometry part x applicability period)."""
    where = f"feature #{index}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise GeofenceFormatError(f"{where}: expected a GeoJSON Feature")
    props = member(feature, "properties", where)
    if not isinstance(props, dict):
        raise GeofenceFormatError(f"{where}: properties must be an ED-318 UASZone object")
    ident = member(props, "identifier", where)
    if not isinstance(ident, str) or not ident.strip():
        raise GeofenceFormatError(f"{where}: identifier must be a non-empty string")
    where = f"geozone {ident!r}"
    common, ext = _ed318_zone_fields(props, where, lang)
    periods = _optional(props, "limitedApplicability", list, [], where)
    validities = [
        _ed318_period(p, ext, f"{where} limitedApplicability {k}") for k, p in enumerate(periods)
    ] or [checked(where, Validity, timezone=zone_name(ext.get("timeZone"), set(), where))]
    parts = _ed318_parts(member(feature, "geometry", where), f"{where} geometry")
    common |= {
        "name": _text(props.get("name"), "name", where, lang),
        "reason": _text(props.get("otherReasonInfo"), "otherReasonInfo", where, lang),
        "max_vertices": max_vertices,
    }
    out = []
    for gi, (lower, upper, polygon, circle) in enumerate(parts):
        for ai, validity in enumerate(validities):
            gid = ident if len(parts) == 1 and len(validities) == 1 else f"{ident}#{gi}.{ai}"
            out.append(
                checked(
                    f"{where} geometry {gi}",
                    Geofence,
                    identifier=gid,
                    lower=lower,
                    upper=upper,
                    polygon=polygon,
                    circle=circle,
                    validity=validity,
                    **common,
                )
            )
    return out


def _ed318_zone_fields(props: dict, where: str, lang: str | None) -> tuple[dict[str, Any], dict]:
    """The :class:`Geofence` fields other than texts that a UASZone's parts and periods share,
    and the zone's ``extendedProperties``."""
    if "type" not in props and "restriction" in props:
        raise GeofenceFormatError(
            f"{where}: missing field 'type' (ED-318 calls ED-269's 'restriction' 'type')"
        )
    category = _ED318_TYPE_IN[one_of(member(props, "type", where), _ED318_TYPE_IN, "type", where)]
    one_of(member(props, "variant", where), ("COMMON", "CUSTOMIZED"), "variant", where)
    country = member(props, "country", where)
    if not isinstance(country, str) or not re.fullmatch("[A-Z]{3}", country):
        raise GeofenceFormatError(
            f"{where}: country must be an ISO 3166-1 alpha-3 code, got {country!r}"
        )
    ext = _optional(props, "extendedProperties", dict, {}, where)
    source_id = _optional(ext, "sourceId", str, "", f"{where} extendedProperties")
    fields = {
        "category": category,
        "reason_codes": _ed318_reason_codes(props, ext, where),
        "authority": _ed318_authority(props, where, lang),
        "source_id": source_id,
        "country": country,
    }
    return fields, ext


def _ed318_reason_codes(props: dict, ext: dict, where: str) -> tuple[str, ...]:
    """The reason codes: ``extendedProperties.reasonCodes`` when present, else ``reason``."""
    codes = _optional(props, "reason", list, [], where)
    for c in codes:
        one_of(c, ED318_REASONS, "reason", where)
    kept = ext.get("reasonCodes")
    if kept is not None:
        if not isinstance(kept, list) or not all(isinstance(c, str) for c in kept):
            raise GeofenceFormatError(
                f"{where}: extendedProperties.reasonCodes must be a list of strings"
            )
        codes = kept
    return tuple(codes)


def _ed318_authority(props: dict, where: str, lang: str | None) -> str:
    """The name of the first ``zoneAuthority`` entry that has one (every entry is checked)."""
    authorities = member(props, "zoneAuthority", where)
    if not isinstance(authorities, list):
        raise GeofenceFormatError(f"{where}: zoneAuthority must be a list")
    names = []
    for k, a in enumerate(authorities):
        aw = f"{where} zoneAuthority {k}"
        one_of(member(a, "purpose", aw), _ED318_PURPOSES, "purpose", aw)
        names.append(_text(a.get("name"), "name", aw, lang))
    return next((n for n in names if n), "")


def _optional(obj: dict, key: str, kind: type, default: Any, where: str) -> Any:
    """``obj[key]`` checked to be a ``kind``; ``default`` when absent or null."""
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise GeofenceFormatError(
            f"{where}: {key} must be a{'n' if kind is dict else ''} "
            f"{'object' if kind is dict else kind.__name__}, got {type(value).__name__}"
        )
    return value


def _text(value: Any, field: str, where: str, lang: str | None) -> str:
    """The text of an ED-318 ``[{"text", "lang"}]`` list in language ``lang``, else its first; ``""`` for none."""
    if value is None:
        return ""
    if not isinstance(value, list) or not all(
        isinstance(t, dict) and isinstance(t.get("text", ""), (str, type(None))) for t in value
    ):
        raise GeofenceFormatError(f"{where}: {field} must be a list of {{'text', 'lang'}} objects")
    if not value:
        return ""
    pick = 0
    if lang:
        tags = [str(t.get("lang") or "").lower() for t in value]
        exact = [i for i, tag in enumerate(tags) if tag == lang.lower()]
        primary = [
            i for i, tag in enumerate(tags) if tag.split("-")[0] == lang.lower().split("-")[0]
        ]
        pick = (exact or primary or [0])[0]
    return value[pick].get("text") or ""


def _ed318_period(period: Any, ext: dict, where: str) -> Validity:
    if not isinstance(period, dict):
        raise GeofenceFormatError(f"{where}: expected an object")
    start = (
        None if period.get("startDateTime") is None else parse_iso(period["startDateTime"], where)
    )
    end = None if period.get("endDateTime") is None else parse_iso(period["endDateTime"], where)
    daily, suffixes = daily_periods(
        _optional(period, "schedule", list, [], where), "schedule", where
    )
    return checked(
        where, Validity, start, end, daily, zone_name(ext.get("timeZone"), suffixes, where)
    )


_Part = tuple[Limit, Limit, list[tuple[float, float]] | None, Circle | None]


def _ed318_parts(geom: Any, where: str, layer: Any = None, nested: bool = False) -> list[_Part]:
    """(lower, upper, polygon, circle) of each part of an ED-318 geometry; ``layer`` is inherited."""
    if not isinstance(geom, dict):
        raise GeofenceFormatError(f"{where}: expected a GeoJSON geometry object")
    kind = geom.get("type")
    if geom.get("layer") is not None:
        layer = geom["layer"]
    if kind == "GeometryCollection" and not nested:
        members = member(geom, "geometries", where)
        if not isinstance(members, list) or not members:
            raise GeofenceFormatError(f"{where}: geometries must be a non-empty list")
        return [
            p
            for k, m in enumerate(members)
            for p in _ed318_parts(m, f"{where} member {k}", layer, True)
        ]
    if kind not in ("Polygon", "MultiPolygon", "Point"):
        raise GeofenceFormatError(
            f"{where}: geometry type must be Polygon, MultiPolygon, Point (circle) or one "
            f"GeometryCollection of these, got {kind!r}"
        )
    if layer is None:
        raise GeofenceFormatError(f"{where}: missing the vertical 'layer' (upper and lower limits)")
    lower, upper, scale = _ed318_layer(layer, f"{where} layer")
    coords = member(geom, "coordinates", where)
    if kind == "Point":
        extent = geom.get("extent")
        if not isinstance(extent, dict) or extent.get("subType") != "Circle":
            raise GeofenceFormatError(
                f"{where}: a Point zone needs an extent {{'subType': 'Circle', 'radius': r}}"
            )
        ((lon, lat),) = positions([coords], where)
        radius = lenient_number(member(extent, "radius", where), f"{where} radius") * scale
        return [(lower, upper, None, Circle(lon, lat, radius))]
    polygons = [coords] if kind == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise GeofenceFormatError(
            f"{where}: MultiPolygon coordinates must be a non-empty list of polygons"
        )
    out: list[_Part] = []
    for k, rings in enumerate(polygons):
        pw = where if kind == "Polygon" else f"{where} polygon {k}"
        out.append((lower, upper, outer_ring(rings, pw), None))
    return out


def _ed318_layer(layer: Any, where: str) -> tuple[Limit, Limit, float]:
    """Lower and upper limits of an ED-318 ``layer`` (in metres) and its unit in metres.

    A ``null`` ``lower`` is the ground and a ``null`` ``upper`` no upper limit (see
    :data:`~airgrid.airspace.geofences.formats.fields.NO_UPPER_LIMIT`); numbers may be
    numeric strings.
    """
    uom = member(layer, "uom", where)
    if not isinstance(uom, str) or uom.lower() not in _ED318_UOM:
        raise GeofenceFormatError(f"{where}: uom must be m or ft, got {uom!r}")
    scale = _ED318_UOM[uom.lower()]
    lower, upper = (
        lenient_limit(
            member(layer, kind, where),
            layer.get(f"{kind}Reference"),
            _EUROCAE_TO_REFERENCE,
            scale,
            default,
            (kind, f"{kind}Reference"),
            where,
        )
        for kind, default in (("lower", NO_LOWER_LIMIT), ("upper", NO_UPPER_LIMIT))
    )
    return lower, upper, scale


__all__ = [
    "ED318_LANG",
    "ED318_REASONS",
    "ed318_feature_to_geofences",
    "from_ed318",
    "geofence_to_ed318",
    "to_ed318",
]
