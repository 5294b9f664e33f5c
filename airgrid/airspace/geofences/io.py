"""Geofences to and from GeoJSON (RFC 7946), EUROCAE ED-269 JSON and EUROCAE ED-318 GeoJSON.

Every direction is exact: ``from_x(to_x(fences)) == fences`` for every valid
geofence list (times are written as ISO 8601 UTC with microseconds when needed).
:func:`detect_format` tells the three apart by content.

GeoJSON
-------
A FeatureCollection of Features whose geometry is the footprint Polygon (lon/lat,
counter-clockwise exterior ring, closed). A circle is written as its conservative
polygon *and* a ``circle`` property (``{"center": [lon, lat], "radius_m": r}``);
readers that know the property restore the exact circle, others draw the polygon,
which contains it. Properties: ``identifier, name, category, reason, reason_codes,
authority, source_id, country, lower_m, lower_reference, upper_m, upper_reference,
valid_from, valid_to, timezone, daily_periods`` (``[{"days": ["MON", ...],
"start": "HH:MM:SS", "end": "HH:MM:SS"}]``).

ED-269
------
``{"title", "description", "UASZoneList": [zone, ...]}`` (``"features"`` is read as
a synonym). Each zone carries ``identifier, country, name, type, restriction,
reason, otherReasonInfo, message, zoneAuthority, applicability, geometry,
extendedProperties``. Mapping:

* ``restriction``: prohibited <-> ``PROHIBITED``, authorisation_required <->
  ``REQ_AUTHORISATION``, advisory <-> ``NO_RESTRICTION``; ``CONDITIONAL`` is read as
  authorisation_required (the stricter of the two that fit).
* ``applicability``: ``permanent`` YES/NO, ``startDateTime``/``endDateTime``,
  ``dailyPeriod`` (``schedule`` is read as a synonym) with ``day`` (MON..SUN, ANY),
  ``startTime``, ``endTime``. Times of day are local to
  ``extendedProperties.timeZone`` (default Asia/Shanghai); a time written with a
  ``Z`` or ``+hh:mm`` suffix and no ``timeZone`` sets that fixed offset.
* ``geometry[].horizontalProjection``: ``{"type": "Polygon", "coordinates":
  [[[lon, lat], ...]]}`` or ``{"type": "Circle", "center": [lon, lat], "radius": r}``
  (lon, lat order as in GeoJSON); ``uomDimensions`` ``M`` or ``FT`` (feet are
  converted to metres, 0.3048 m exactly); vertical references ``AGL`` or ``AMSL`` (a
  ``W84`` limit is written AMSL on the safe side).
* A zone with several geometries or several applicability entries becomes one
  geofence per (geometry, applicability) pair, identified ``"<id>#<g>.<a>"``.
  Nothing is dropped; single-entry zones keep their identifier.
* ``otherReasonInfo`` holds the free-text reason, ``zoneAuthority[0].name`` the
  authority, ``extendedProperties.sourceId`` the source id.

ED-318
------
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
  :mod:`airgrid.airspace.geofences.model`). Limits are written in metres.
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

Malformed documents raise :class:`~airgrid.airspace.errors.GeofenceFormatError`
(a :class:`~airgrid.airspace.errors.GeofenceError`) naming the zone and field;
invalid geofences raise their specific :class:`GeofenceError` subclass. A document
is read whole before anything is returned: a fault anywhere imports nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airgrid.airspace.errors import GeofenceError, GeofenceFormatError
from airgrid.airspace.geofences.model import (
    DEFAULT_MAX_VERTICES,
    DEFAULT_TIMEZONE,
    Category,
    Circle,
    DailyPeriod,
    Geofence,
    Limit,
    Reference,
    Validity,
    format_time_of_day,
)

FT = 0.3048
_RESTRICTION = {
    Category.PROHIBITED: "PROHIBITED",
    Category.AUTHORISATION_REQUIRED: "REQ_AUTHORISATION",
    Category.ADVISORY: "NO_RESTRICTION",
}
_RESTRICTION_IN = {v: k for k, v in _RESTRICTION.items()} | {
    "CONDITIONAL": Category.AUTHORISATION_REQUIRED
}
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


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    dt = datetime.fromtimestamp(t, UTC)
    return dt.isoformat(timespec="microseconds" if dt.microsecond else "seconds").replace(
        "+00:00", "Z"
    )


def _parse_iso(text: Any, where: str) -> float:
    if not isinstance(text, str):
        raise GeofenceFormatError(f"{where}: expected an ISO 8601 date-time string, got {text!r}")
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise GeofenceFormatError(f"{where}: not an ISO 8601 date-time: {text!r}") from None
    if dt.tzinfo is None:
        raise GeofenceFormatError(
            f"{where}: date-time {text!r} has no time zone (add Z or an offset)"
        )
    return dt.timestamp()


def _num(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise GeofenceFormatError(f"{where}: expected a number, got {v!r}")
    return float(v)


def _out_num(x: float) -> int | float:
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else x


def _get(d: dict, key: str, where: str) -> Any:
    if not isinstance(d, dict):
        raise GeofenceFormatError(f"{where}: expected an object, got {type(d).__name__}")
    if key not in d:
        raise GeofenceFormatError(f"{where}: missing field {key!r}")
    return d[key]


def _enum(value: Any, allowed: Iterable[str], field: str, where: str) -> str:
    """``value`` if it is one of the strings ``allowed``, else a format error naming ``field``."""
    if not isinstance(value, str) or value not in allowed:
        raise GeofenceFormatError(
            f"{where}: unknown {field} {value!r}; expected one of {sorted(allowed)}"
        )
    return value


def _call(where: str, fn, *args, **kwargs):
    """Run a model constructor, prefixing validation messages with the document location."""
    try:
        return fn(*args, **kwargs)
    except GeofenceError as exc:
        raise type(exc)(f"{where}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise GeofenceFormatError(f"{where}: {exc}") from exc


# -- GeoJSON -------------------------------------------------------------------------
def geofence_to_feature(g: Geofence) -> dict:
    """One geofence as an RFC 7946 Feature (see the module docstring)."""
    ring = [list(c) for c in g.footprint.exterior.coords]
    props: dict[str, Any] = {
        "identifier": g.identifier,
        "name": g.name,
        "category": g.category.value,
        "reason": g.reason,
        "reason_codes": list(g.reason_codes),
        "authority": g.authority,
        "source_id": g.source_id,
        "country": g.country,
        "lower_m": _out_num(g.lower.value_m),
        "lower_reference": g.lower.reference.value,
        "upper_m": _out_num(g.upper.value_m),
        "upper_reference": g.upper.reference.value,
        "valid_from": _iso(g.validity.start),
        "valid_to": _iso(g.validity.end),
        "timezone": g.validity.timezone,
        "daily_periods": [
            {
                "days": p.weekday_names,
                "start": format_time_of_day(p.start_s),
                "end": format_time_of_day(p.end_s),
            }
            for p in g.validity.daily
        ],
    }
    if g.circle is not None:
        props["circle"] = {"center": [g.circle.lon, g.circle.lat], "radius_m": g.circle.radius_m}
    return {
        "type": "Feature",
        "id": g.identifier,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": props,
    }


def feature_to_geofence(feature: dict, *, max_vertices: int = DEFAULT_MAX_VERTICES) -> Geofence:
    """A geofence from an RFC 7946 Feature written by :func:`geofence_to_feature` (or by hand).

    Only ``identifier``, ``lower_m`` and ``upper_m`` are required; references default
    to AMSL, category to prohibited, validity to permanent.

    Raises
    ------
    GeofenceFormatError
        Not a Feature, not a Polygon, polygon holes, missing or mistyped fields.
    GeofenceError
        The specific subclass for an invalid geofence.
    """
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise GeofenceFormatError("expected a GeoJSON Feature object")
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise GeofenceFormatError(
            f"feature: 'properties' must be an object, got {type(props).__name__}"
        )
    ident = props.get("identifier", feature.get("id"))
    where = f"feature {ident!r}"
    if not isinstance(ident, str) or not ident:
        raise GeofenceFormatError("feature: missing 'identifier' property")
    periods = props.get("daily_periods") or []
    if not isinstance(periods, list):
        raise GeofenceFormatError(f"{where}: daily_periods must be a list")
    codes = props.get("reason_codes") or []
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise GeofenceFormatError(f"{where}: reason_codes must be a list of strings")
    circle = None
    polygon = None
    if props.get("circle") is not None:
        c = props["circle"]
        center = _get(c, "center", where + " circle")
        if not isinstance(center, list) or len(center) != 2:
            raise GeofenceFormatError(f"{where}: circle center must be [lon, lat]")
        circle = Circle(
            _num(center[0], where), _num(center[1], where), _num(_get(c, "radius_m", where), where)
        )
    else:
        geom = _get(feature, "geometry", where)
        if not isinstance(geom, dict) or geom.get("type") != "Polygon":
            raise GeofenceFormatError(f"{where}: geometry must be a GeoJSON Polygon")
        polygon = _outer_ring(_get(geom, "coordinates", where), where)
    daily = tuple(
        _call(
            where,
            DailyPeriod.from_strings,
            _get(p, "days", where),
            _get(p, "start", where),
            _get(p, "end", where),
        )
        for p in periods
    )
    validity = _call(
        where,
        Validity,
        None if props.get("valid_from") is None else _parse_iso(props["valid_from"], where),
        None if props.get("valid_to") is None else _parse_iso(props["valid_to"], where),
        daily,
        props.get("timezone") or DEFAULT_TIMEZONE,
    )
    lower = _call(
        where,
        Limit,
        _num(_get(props, "lower_m", where), where),
        props.get("lower_reference", "AMSL"),
    )
    upper = _call(
        where,
        Limit,
        _num(_get(props, "upper_m", where), where),
        props.get("upper_reference", "AMSL"),
    )
    return _call(
        where,
        Geofence,
        identifier=ident,
        lower=lower,
        upper=upper,
        polygon=polygon,
        circle=circle,
        validity=validity,
        category=props.get("category", "prohibited"),
        name=str(props.get("name", "")),
        reason=str(props.get("reason", "")),
        reason_codes=tuple(codes),
        authority=str(props.get("authority", "")),
        source_id=str(props.get("source_id", "")),
        country=str(props.get("country", "CHN")),
        max_vertices=max_vertices,
    )


def _outer_ring(rings: Any, where: str) -> list[tuple[float, float]]:
    """The exterior ring of GeoJSON Polygon coordinates; holes are refused."""
    if not isinstance(rings, list) or not rings:
        raise GeofenceFormatError(f"{where}: Polygon coordinates must be a list of rings")
    if len(rings) > 1:
        raise GeofenceFormatError(
            f"{where}: polygon holes are not supported (a hole would shrink "
            "the protected area); split the geofence instead"
        )
    return _ring(rings[0], where)


def _ring(coords: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(coords, list):
        raise GeofenceFormatError(f"{where}: a ring must be a list of [lon, lat] positions")
    out = []
    for i, p in enumerate(coords):
        if not isinstance(p, (list, tuple)) or len(p) < 2:
            raise GeofenceFormatError(f"{where}: position {i} must be [lon, lat], got {p!r}")
        out.append((_num(p[0], f"{where} position {i}"), _num(p[1], f"{where} position {i}")))
    return out


def to_geojson(fences: Sequence[Geofence]) -> dict:
    """A FeatureCollection of geofences (RFC 7946)."""
    return {"type": "FeatureCollection", "features": [geofence_to_feature(g) for g in fences]}


def from_geojson(
    doc: dict | str | Path, *, max_vertices: int = DEFAULT_MAX_VERTICES
) -> list[Geofence]:
    """Geofences from a FeatureCollection (a dict, a JSON string or a file path).

    Raises
    ------
    GeofenceFormatError
        Unreadable JSON, not a FeatureCollection, malformed features, repeated identifiers.
    GeofenceError
        The specific subclass for an invalid geofence.
    """
    features = _features(doc, "a GeoJSON")
    return _unique([feature_to_geofence(f, max_vertices=max_vertices) for f in features])


def _unique(fences: list[Geofence]) -> list[Geofence]:
    seen: set[str] = set()
    for g in fences:
        if g.identifier in seen:
            raise GeofenceFormatError(f"identifier {g.identifier!r} appears more than once")
        seen.add(g.identifier)
    return fences


def _load(doc: dict | str | Path) -> Any:
    if isinstance(doc, Path) or (isinstance(doc, str) and not doc.lstrip().startswith("{")):
        try:
            return json.loads(Path(doc).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise GeofenceFormatError(f"geofence file not found: {doc}") from None
        except (OSError, ValueError) as exc:
            raise GeofenceFormatError(f"cannot read {doc} as JSON: {exc}") from None
    if isinstance(doc, str):
        try:
            return json.loads(doc)
        except ValueError as exc:
            raise GeofenceFormatError(f"not valid JSON: {exc}") from None
    return doc


def _features(doc: dict | str | Path, what: str) -> list:
    """The ``features`` of a FeatureCollection given as a dict, JSON text or file path.

    Raises
    ------
    GeofenceFormatError
        Unreadable JSON, or not a FeatureCollection with a ``features`` list (``what``
        names the expected kind in the message).
    """
    doc = _load(doc)
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise GeofenceFormatError(f"expected {what} FeatureCollection with a 'features' list")
    return doc["features"]


# -- ED-269 --------------------------------------------------------------------------


def geofence_to_ed269(g: Geofence) -> dict:
    """One geofence as an ED-269 UASZone (see the module docstring)."""
    if g.circle is not None:
        hp: dict[str, Any] = {
            "type": "Circle",
            "center": [g.circle.lon, g.circle.lat],
            "radius": g.circle.radius_m,
        }
    else:
        ring = [list(p) for p in g.polygon] + [list(g.polygon[0])]
        hp = {"type": "Polygon", "coordinates": [ring]}
    v = g.validity
    app: dict[str, Any] = {"permanent": "YES" if v.permanent else "NO"}
    if v.start is not None:
        app["startDateTime"] = _iso(v.start)
    if v.end is not None:
        app["endDateTime"] = _iso(v.end)
    if v.daily:
        app["dailyPeriod"] = [
            {
                "day": p.weekday_names,
                "startTime": format_time_of_day(p.start_s),
                "endTime": format_time_of_day(p.end_s),
            }
            for p in v.daily
        ]
    return {
        "identifier": g.identifier,
        "country": g.country,
        "name": g.name,
        "type": "COMMON",
        "restriction": _RESTRICTION[g.category],
        "reason": list(g.reason_codes),
        "otherReasonInfo": g.reason,
        "message": g.name,
        "zoneAuthority": [{"name": g.authority}] if g.authority else [],
        "applicability": [app],
        "geometry": [
            {
                "uomDimensions": "M",
                **_ed269_limits(g),
                "horizontalProjection": hp,
            }
        ],
        "extendedProperties": {"timeZone": v.timezone, "sourceId": g.source_id},
    }


def to_ed269(
    fences: Sequence[Geofence], *, title: str = "airgrid geofences", description: str = ""
) -> dict:
    """An ED-269 document ``{"title", "description", "UASZoneList": [...]}``."""
    return {
        "title": title,
        "description": description,
        "UASZoneList": [geofence_to_ed269(g) for g in fences],
    }


def from_ed269(
    doc: dict | str | Path, *, max_vertices: int = DEFAULT_MAX_VERTICES
) -> list[Geofence]:
    """Geofences from an ED-269 document (dict, JSON string or file path).

    Raises
    ------
    GeofenceFormatError
        Unreadable JSON, no ``UASZoneList``/``features`` list, missing or mistyped fields,
        unknown enumerations, repeated identifiers.
    GeofenceError
        The specific subclass for an invalid geofence.
    """
    doc = _load(doc)
    zones = doc.get("UASZoneList", doc.get("features")) if isinstance(doc, dict) else None
    if not isinstance(zones, list):
        raise GeofenceFormatError(
            "expected an ED-269 object with a 'UASZoneList' (or 'features') list"
        )
    out: list[Geofence] = []
    for i, z in enumerate(zones):
        out.extend(ed269_zone_to_geofences(z, index=i, max_vertices=max_vertices))
    return _unique(out)


def ed269_zone_to_geofences(
    zone: dict, *, index: int = 0, max_vertices: int = DEFAULT_MAX_VERTICES
) -> list[Geofence]:
    """The geofences of one ED-269 UASZone (one per geometry x applicability entry)."""
    where = f"UASZone #{index}"
    ident = _get(zone, "identifier", where)
    if not isinstance(ident, str) or not ident:
        raise GeofenceFormatError(f"{where}: identifier must be a non-empty string")
    where = f"UASZone {ident!r}"
    restriction = _enum(_get(zone, "restriction", where), _RESTRICTION_IN, "restriction", where)
    ext = zone.get("extendedProperties") or {}
    if not isinstance(ext, dict):
        raise GeofenceFormatError(f"{where}: extendedProperties must be an object")
    category = _RESTRICTION_IN[restriction]
    reasons = zone.get("reason") or []
    if not isinstance(reasons, list):
        raise GeofenceFormatError(f"{where}: reason must be a list of ED-269 reason codes")
    auth = zone.get("zoneAuthority") or []
    if not isinstance(auth, list):
        raise GeofenceFormatError(f"{where}: zoneAuthority must be a list")
    authority = str(auth[0].get("name") or "") if auth and isinstance(auth[0], dict) else ""
    geoms = _get(zone, "geometry", where)
    apps = zone.get("applicability") or [{"permanent": "YES"}]
    if not isinstance(geoms, list) or not geoms:
        raise GeofenceFormatError(f"{where}: geometry must be a non-empty list")
    if not isinstance(apps, list):
        raise GeofenceFormatError(f"{where}: applicability must be a list")
    validities = [_applicability(a, ext, f"{where} applicability {k}") for k, a in enumerate(apps)]
    out = []
    for gi, geom in enumerate(geoms):
        gw = f"{where} geometry {gi}"
        lower, upper, polygon, circle = _volume(geom, gw)
        for ai, validity in enumerate(validities):
            gid = ident if len(geoms) == 1 and len(validities) == 1 else f"{ident}#{gi}.{ai}"
            out.append(
                _call(
                    gw,
                    Geofence,
                    identifier=gid,
                    lower=lower,
                    upper=upper,
                    polygon=polygon,
                    circle=circle,
                    validity=validity,
                    category=category,
                    name=str(zone.get("name") or ""),
                    reason=str(zone.get("otherReasonInfo") or ""),
                    reason_codes=tuple(str(r) for r in reasons),
                    authority=authority,
                    source_id=str(ext.get("sourceId") or ""),
                    country=str(zone.get("country") or "CHN"),
                    max_vertices=max_vertices,
                )
            )
    return out


def _split_tz(text: Any, where: str) -> tuple[str, str | None]:
    """``"08:00:00+08:00"`` -> (``"08:00:00"``, ``"+08:00"``); ``Z`` gives ``"UTC"``."""
    if not isinstance(text, str):
        raise GeofenceFormatError(f"{where}: a time of day must be a string, got {text!r}")
    t = text.strip()
    if t.endswith(("Z", "z")):
        return t[:-1], "UTC"
    for sign in ("+", "-"):
        if sign in t:
            base, off = t.split(sign, 1)
            return base, sign + (off if ":" in off else off[:2] + ":" + off[2:])
    return t, None


def _schedule(periods: Any, key: str, where: str) -> tuple[tuple[DailyPeriod, ...], set[str]]:
    """Daily periods of an ED-269 ``dailyPeriod`` or ED-318 ``schedule`` list, and the zones their times name."""
    if not isinstance(periods, list):
        raise GeofenceFormatError(f"{where}: {key} must be a list")
    daily = []
    zones: set[str] = set()
    for k, p in enumerate(periods):
        pw = f"{where} {key} {k}"
        days = _get(p, "day", pw)
        if not isinstance(days, list):
            raise GeofenceFormatError(f"{pw}: day must be a list of MON..SUN / ANY")
        events = [e for e in ("startEvent", "endEvent") if p.get(e) is not None]
        if events:
            raise GeofenceFormatError(
                f"{pw}: daylight events ({', '.join(events)}) are not supported; "
                "give startTime and endTime"
            )
        s, sz = _split_tz(_get(p, "startTime", pw), pw)
        e, ez = _split_tz(_get(p, "endTime", pw), pw)
        zones.update(z for z in (sz, ez) if z)
        daily.append(_call(pw, DailyPeriod.from_strings, days, s.split(".")[0], e.split(".")[0]))
    return tuple(daily), zones


def _zone_name(declared: Any, suffixes: set[str], where: str) -> str:
    """The time zone of daily periods: the declared one, else the one their times name, else the default."""
    if declared is not None:
        return str(declared)
    if len(suffixes) > 1:
        raise GeofenceFormatError(
            f"{where}: daily periods use several time zones {sorted(suffixes)}"
        )
    return next(iter(suffixes)) if suffixes else DEFAULT_TIMEZONE


def _applicability(app: Any, ext: dict, where: str) -> Validity:
    if not isinstance(app, dict):
        raise GeofenceFormatError(f"{where}: expected an object")
    start = _parse_iso(app["startDateTime"], where) if app.get("startDateTime") else None
    end = _parse_iso(app["endDateTime"], where) if app.get("endDateTime") else None
    daily, suffixes = _schedule(
        app.get("dailyPeriod", app.get("schedule")) or [], "dailyPeriod", where
    )
    tz_name = _zone_name(ext.get("timeZone"), suffixes, where)
    permanent = app.get("permanent", "NO")
    if permanent not in ("YES", "NO"):
        raise GeofenceFormatError(f"{where}: permanent must be YES or NO, got {permanent!r}")
    if permanent == "YES" and (start is not None or end is not None or daily):
        raise GeofenceFormatError(f"{where}: permanent YES contradicts its start/end/dailyPeriod")
    return _call(where, Validity, start, end, daily, tz_name)


def _ed269_limits(g: Geofence) -> dict:
    """ED-269 limit members of a geofence; ED-269 has no ellipsoidal reference, so a
    ``W84`` limit is written AMSL on the safe side (see :meth:`Geofence.resolve_limits`)."""
    n_min, n_max = g.undulation_bounds
    out = {}
    for kind, lim, n in (("lower", g.lower, n_max), ("upper", g.upper, n_min)):
        if lim.reference is Reference.W84:
            out[f"{kind}Limit"], out[f"{kind}VerticalReference"] = _out_num(lim.value_m - n), "AMSL"
        else:
            out[f"{kind}Limit"], out[f"{kind}VerticalReference"] = (
                _out_num(lim.value_m),
                lim.reference.value,
            )
    return out


def _volume(geom: Any, where: str) -> tuple[Limit, Limit, list | None, Circle | None]:
    uom = _get(geom, "uomDimensions", where)
    if uom not in ("M", "FT"):
        raise GeofenceFormatError(f"{where}: uomDimensions must be M or FT, got {uom!r}")
    scale = 1.0 if uom == "M" else FT

    def limit(kind: str) -> Limit:
        value = _num(_get(geom, f"{kind}Limit", where), f"{where} {kind}Limit")
        ref = _get(geom, f"{kind}VerticalReference", where)
        if ref not in ("AGL", "AMSL"):
            raise GeofenceFormatError(
                f"{where}: {kind}VerticalReference must be AGL or AMSL, got {ref!r}"
            )
        return _call(where, Limit, value * scale, ref)

    lower, upper = limit("lower"), limit("upper")
    hp = _get(geom, "horizontalProjection", where)
    kind = _get(hp, "type", where + " horizontalProjection")
    if kind == "Circle":
        center = _get(hp, "center", where)
        if not isinstance(center, list) or len(center) != 2:
            raise GeofenceFormatError(f"{where}: Circle center must be [lon, lat]")
        radius = _num(_get(hp, "radius", where), f"{where} radius") * scale
        return lower, upper, None, Circle(_num(center[0], where), _num(center[1], where), radius)
    if kind == "Polygon":
        rings = _get(hp, "coordinates", where)
        if not isinstance(rings, list) or len(rings) != 1:
            raise GeofenceFormatError(f"{where}: Polygon coordinates must hold exactly one ring")
        return lower, upper, _ring(rings[0], where), None
    raise GeofenceFormatError(
        f"{where}: horizontalProjection type must be Polygon or Circle, got {kind!r}"
    )


# -- ED-318 --------------------------------------------------------------------------
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
        "upper": _out_num(g.upper.value_m),
        "upperReference": _REFERENCE_TO_EUROCAE[g.upper.reference.value],
        "lower": _out_num(g.lower.value_m),
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
            period["startDateTime"] = _iso(v.start)
        if v.end is not None:
            period["endDateTime"] = _iso(v.end)
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
    features = _features(doc, "an ED-318 GeoJSON")
    out: list[Geofence] = []
    for i, f in enumerate(features):
        out.extend(ed318_feature_to_geofences(f, index=i, max_vertices=max_vertices, lang=lang))
    return _unique(out)


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
    props = _get(feature, "properties", where)
    if not isinstance(props, dict):
        raise GeofenceFormatError(f"{where}: properties must be an ED-318 UASZone object")
    ident = _get(props, "identifier", where)
    if not isinstance(ident, str) or not ident.strip():
        raise GeofenceFormatError(f"{where}: identifier must be a non-empty string")
    where = f"geozone {ident!r}"
    if "type" not in props and "restriction" in props:
        raise GeofenceFormatError(
            f"{where}: missing field 'type' (ED-318 calls ED-269's 'restriction' 'type')"
        )
    category = _ED318_TYPE_IN[_enum(_get(props, "type", where), _ED318_TYPE_IN, "type", where)]
    _enum(_get(props, "variant", where), ("COMMON", "CUSTOMIZED"), "variant", where)
    country = _get(props, "country", where)
    if not isinstance(country, str) or not re.fullmatch("[A-Z]{3}", country):
        raise GeofenceFormatError(
            f"{where}: country must be an ISO 3166-1 alpha-3 code, got {country!r}"
        )
    ext = _optional(props, "extendedProperties", dict, {}, where)
    source_id = _optional(ext, "sourceId", str, "", f"{where} extendedProperties")
    codes = _optional(props, "reason", list, [], where)
    for c in codes:
        _enum(c, ED318_REASONS, "reason", where)
    kept = ext.get("reasonCodes")
    if kept is not None:
        if not isinstance(kept, list) or not all(isinstance(c, str) for c in kept):
            raise GeofenceFormatError(
                f"{where}: extendedProperties.reasonCodes must be a list of strings"
            )
        codes = kept
    authorities = _get(props, "zoneAuthority", where)
    if not isinstance(authorities, list):
        raise GeofenceFormatError(f"{where}: zoneAuthority must be a list")
    names = []
    for k, a in enumerate(authorities):
        aw = f"{where} zoneAuthority {k}"
        _enum(_get(a, "purpose", aw), _ED318_PURPOSES, "purpose", aw)
        names.append(_text(a.get("name"), "name", aw, lang))
    periods = _optional(props, "limitedApplicability", list, [], where)
    validities = [
        _ed318_period(p, ext, f"{where} limitedApplicability {k}") for k, p in enumerate(periods)
    ] or [_call(where, Validity, timezone=_zone_name(ext.get("timeZone"), set(), where))]
    parts = _ed318_parts(_get(feature, "geometry", where), f"{where} geometry")
    common = {
        "category": category,
        "name": _text(props.get("name"), "name", where, lang),
        "reason": _text(props.get("otherReasonInfo"), "otherReasonInfo", where, lang),
        "reason_codes": tuple(codes),
        "authority": next((n for n in names if n), ""),
        "source_id": source_id,
        "country": country,
        "max_vertices": max_vertices,
    }
    out = []
    for gi, (lower, upper, polygon, circle) in enumerate(parts):
        for ai, validity in enumerate(validities):
            gid = ident if len(parts) == 1 and len(validities) == 1 else f"{ident}#{gi}.{ai}"
            out.append(
                _call(
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
        None if period.get("startDateTime") is None else _parse_iso(period["startDateTime"], where)
    )
    end = None if period.get("endDateTime") is None else _parse_iso(period["endDateTime"], where)
    daily, suffixes = _schedule(_optional(period, "schedule", list, [], where), "schedule", where)
    return _call(
        where, Validity, start, end, daily, _zone_name(ext.get("timeZone"), suffixes, where)
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
        members = _get(geom, "geometries", where)
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
    coords = _get(geom, "coordinates", where)
    if kind == "Point":
        extent = geom.get("extent")
        if not isinstance(extent, dict) or extent.get("subType") != "Circle":
            raise GeofenceFormatError(
                f"{where}: a Point zone needs an extent {{'subType': 'Circle', 'radius': r}}"
            )
        ((lon, lat),) = _ring([coords], where)
        radius = _num(_get(extent, "radius", where), f"{where} radius") * scale
        return [(lower, upper, None, Circle(lon, lat, radius))]
    polygons = [coords] if kind == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise GeofenceFormatError(
            f"{where}: MultiPolygon coordinates must be a non-empty list of polygons"
        )
    out: list[_Part] = []
    for k, rings in enumerate(polygons):
        pw = where if kind == "Polygon" else f"{where} polygon {k}"
        ring = _outer_ring(rings, pw)
        if ring and ring[0] != ring[-1]:
            raise GeofenceFormatError(
                f"{pw}: a linear ring must be closed (its last position repeats the first)"
            )
        out.append((lower, upper, ring, None))
    return out


def _ed318_layer(layer: Any, where: str) -> tuple[Limit, Limit, float]:
    """Lower and upper limits of an ED-318 ``layer`` (in metres) and its unit in metres."""
    uom = _get(layer, "uom", where)
    if not isinstance(uom, str) or uom.lower() not in _ED318_UOM:
        raise GeofenceFormatError(f"{where}: uom must be m or ft, got {uom!r}")
    scale = _ED318_UOM[uom.lower()]

    def limit(kind: str) -> Limit:
        value = _num(_get(layer, kind, where), f"{where} {kind}") * scale
        ref = _enum(
            _get(layer, f"{kind}Reference", where), _ED318_REFERENCES, f"{kind}Reference", where
        )
        return _call(where, Limit, value, _EUROCAE_TO_REFERENCE[ref])

    return limit("lower"), limit("upper"), scale


# -- format detection ----------------------------------------------------------------
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


def dump(doc: dict, path: str | Path) -> Path:
    """Write a document as UTF-8 JSON (written to a temporary name, then renamed)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False), encoding="utf-8")
    tmp.replace(path)
    return path


__all__ = [
    "ED318_LANG",
    "ED318_REASONS",
    "detect_format",
    "dump",
    "ed269_zone_to_geofences",
    "ed318_feature_to_geofences",
    "feature_to_geofence",
    "from_ed269",
    "from_ed318",
    "from_geojson",
    "geofence_to_ed269",
    "geofence_to_ed318",
    "geofence_to_feature",
    "to_ed269",
    "to_ed318",
    "to_geojson",
]
