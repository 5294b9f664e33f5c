"""Geofences to and from GeoJSON (RFC 7946) and EUROCAE ED-269 JSON.

Both directions are exact: ``from_x(to_x(fences)) == fences`` for every valid
geofence list (times are written as ISO 8601 UTC with microseconds when needed).

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
  converted to metres, 0.3048 m exactly); vertical references ``AGL`` or ``AMSL``.
* A zone with several geometries or several applicability entries becomes one
  geofence per (geometry, applicability) pair, identified ``"<id>#<g>.<a>"``.
  Nothing is dropped; single-entry zones keep their identifier.
* ``otherReasonInfo`` holds the free-text reason, ``zoneAuthority[0].name`` the
  authority, ``extendedProperties.sourceId`` the source id.

Malformed documents raise :class:`~airgrid.airspace.errors.GeofenceFormatError`
(a :class:`~airgrid.airspace.errors.GeofenceError`) naming the zone and field;
invalid geofences raise their specific :class:`GeofenceError` subclass.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airgrid.airspace.errors import GeofenceError, GeofenceFormatError
from airgrid.airspace.geofence import (
    DEFAULT_MAX_VERTICES,
    DEFAULT_TIMEZONE,
    Category,
    Circle,
    DailyPeriod,
    Geofence,
    Limit,
    Validity,
    format_time_of_day,
)

FT = 0.3048
_RESTRICTION = {
    Category.PROHIBITED: "PROHIBITED",
    Category.AUTHORISATION_REQUIRED: "REQ_AUTHORISATION",
    Category.ADVISORY: "NO_RESTRICTION",
}
_RESTRICTION_IN = {v: k for k, v in _RESTRICTION.items()} | {"CONDITIONAL": Category.AUTHORISATION_REQUIRED}


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    dt = datetime.fromtimestamp(t, UTC)
    return dt.isoformat(timespec="microseconds" if dt.microsecond else "seconds").replace("+00:00", "Z")


def _parse_iso(text: Any, where: str) -> float:
    if not isinstance(text, str):
        raise GeofenceFormatError(f"{where}: expected an ISO 8601 date-time string, got {text!r}")
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise GeofenceFormatError(f"{where}: not an ISO 8601 date-time: {text!r}") from None
    if dt.tzinfo is None:
        raise GeofenceFormatError(f"{where}: date-time {text!r} has no time zone (add Z or an offset)")
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
        "identifier": g.identifier, "name": g.name, "category": g.category.value, "reason": g.reason,
        "reason_codes": list(g.reason_codes), "authority": g.authority, "source_id": g.source_id,
        "country": g.country,
        "lower_m": _out_num(g.lower.value_m), "lower_reference": g.lower.reference.value,
        "upper_m": _out_num(g.upper.value_m), "upper_reference": g.upper.reference.value,
        "valid_from": _iso(g.validity.start), "valid_to": _iso(g.validity.end),
        "timezone": g.validity.timezone,
        "daily_periods": [
            {"days": p.weekday_names, "start": format_time_of_day(p.start_s), "end": format_time_of_day(p.end_s)}
            for p in g.validity.daily
        ],
    }
    if g.circle is not None:
        props["circle"] = {"center": [g.circle.lon, g.circle.lat], "radius_m": g.circle.radius_m}
    return {"type": "Feature", "id": g.identifier, "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": props}


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
    ident = props.get("identifier", feature.get("id"))
    where = f"feature {ident!r}"
    if not isinstance(ident, str) or not ident:
        raise GeofenceFormatError("feature: missing 'identifier' property")
    circle = None
    polygon = None
    if props.get("circle") is not None:
        c = props["circle"]
        center = _get(c, "center", where + " circle")
        if not isinstance(center, list) or len(center) != 2:
            raise GeofenceFormatError(f"{where}: circle center must be [lon, lat]")
        circle = Circle(_num(center[0], where), _num(center[1], where), _num(_get(c, "radius_m", where), where))
    else:
        geom = _get(feature, "geometry", where)
        if not isinstance(geom, dict) or geom.get("type") != "Polygon":
            raise GeofenceFormatError(f"{where}: geometry must be a GeoJSON Polygon")
        rings = _get(geom, "coordinates", where)
        if not isinstance(rings, list) or not rings:
            raise GeofenceFormatError(f"{where}: Polygon coordinates must be a list of rings")
        if len(rings) > 1:
            raise GeofenceFormatError(f"{where}: polygon holes are not supported (a hole would shrink "
                                      "the protected area); split the geofence instead")
        polygon = _ring(rings[0], where)
    daily = tuple(
        _call(where, DailyPeriod.from_strings, _get(p, "days", where), _get(p, "start", where),
              _get(p, "end", where))
        for p in (props.get("daily_periods") or [])
    )
    validity = _call(where, Validity,
                     None if props.get("valid_from") is None else _parse_iso(props["valid_from"], where),
                     None if props.get("valid_to") is None else _parse_iso(props["valid_to"], where),
                     daily, props.get("timezone") or DEFAULT_TIMEZONE)
    lower = _call(where, Limit, _num(_get(props, "lower_m", where), where), props.get("lower_reference", "AMSL"))
    upper = _call(where, Limit, _num(_get(props, "upper_m", where), where), props.get("upper_reference", "AMSL"))
    return _call(where, Geofence, identifier=ident, lower=lower, upper=upper, polygon=polygon, circle=circle,
                 validity=validity, category=props.get("category", "prohibited"),
                 name=str(props.get("name", "")), reason=str(props.get("reason", "")),
                 reason_codes=tuple(props.get("reason_codes") or ()), authority=str(props.get("authority", "")),
                 source_id=str(props.get("source_id", "")), country=str(props.get("country", "CHN")),
                 max_vertices=max_vertices)


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


def from_geojson(doc: dict | str | Path, *, max_vertices: int = DEFAULT_MAX_VERTICES) -> list[Geofence]:
    """Geofences from a FeatureCollection (a dict, a JSON string or a file path).

    Raises
    ------
    GeofenceFormatError
        Unreadable JSON, not a FeatureCollection, malformed features, repeated identifiers.
    GeofenceError
        The specific subclass for an invalid geofence.
    """
    doc = _load(doc)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(
            doc.get("features"), list):
        raise GeofenceFormatError("expected a GeoJSON FeatureCollection with a 'features' list")
    return _unique([feature_to_geofence(f, max_vertices=max_vertices) for f in doc["features"]])


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


# -- ED-269 --------------------------------------------------------------------------
def geofence_to_ed269(g: Geofence) -> dict:
    """One geofence as an ED-269 UASZone (see the module docstring)."""
    if g.circle is not None:
        hp: dict[str, Any] = {"type": "Circle", "center": [g.circle.lon, g.circle.lat], "radius": g.circle.radius_m}
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
        app["dailyPeriod"] = [{"day": p.weekday_names, "startTime": format_time_of_day(p.start_s),
                               "endTime": format_time_of_day(p.end_s)} for p in v.daily]
    return {
        "identifier": g.identifier, "country": g.country, "name": g.name, "type": "COMMON",
        "restriction": _RESTRICTION[g.category], "reason": list(g.reason_codes), "otherReasonInfo": g.reason,
        "message": g.name,
        "zoneAuthority": [{"name": g.authority}] if g.authority else [],
        "applicability": [app],
        "geometry": [{
            "uomDimensions": "M",
            "lowerLimit": _out_num(g.lower.value_m), "lowerVerticalReference": g.lower.reference.value,
            "upperLimit": _out_num(g.upper.value_m), "upperVerticalReference": g.upper.reference.value,
            "horizontalProjection": hp,
        }],
        "extendedProperties": {"timeZone": v.timezone, "sourceId": g.source_id},
    }


def to_ed269(fences: Sequence[Geofence], *, title: str = "airgrid geofences", description: str = "") -> dict:
    """An ED-269 document ``{"title", "description", "UASZoneList": [...]}``."""
    return {"title": title, "description": description, "UASZoneList": [geofence_to_ed269(g) for g in fences]}


def from_ed269(doc: dict | str | Path, *, max_vertices: int = DEFAULT_MAX_VERTICES) -> list[Geofence]:
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
        raise GeofenceFormatError("expected an ED-269 object with a 'UASZoneList' (or 'features') list")
    out: list[Geofence] = []
    for i, z in enumerate(zones):
        out.extend(ed269_zone_to_geofences(z, index=i, max_vertices=max_vertices))
    return _unique(out)


def ed269_zone_to_geofences(zone: dict, *, index: int = 0,
                            max_vertices: int = DEFAULT_MAX_VERTICES) -> list[Geofence]:
    """The geofences of one ED-269 UASZone (one per geometry x applicability entry)."""
    where = f"UASZone #{index}"
    ident = _get(zone, "identifier", where)
    if not isinstance(ident, str) or not ident:
        raise GeofenceFormatError(f"{where}: identifier must be a non-empty string")
    where = f"UASZone {ident!r}"
    restriction = _get(zone, "restriction", where)
    if restriction not in _RESTRICTION_IN:
        raise GeofenceFormatError(f"{where}: unknown restriction {restriction!r}; expected one of "
                                  f"{sorted(_RESTRICTION_IN)}")
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
            out.append(_call(gw, Geofence, identifier=gid, lower=lower, upper=upper, polygon=polygon,
                             circle=circle, validity=validity, category=category,
                             name=str(zone.get("name") or ""), reason=str(zone.get("otherReasonInfo") or ""),
                             reason_codes=tuple(str(r) for r in reasons), authority=authority,
                             source_id=str(ext.get("sourceId") or ""), country=str(zone.get("country") or "CHN"),
                             max_vertices=max_vertices))
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


def _applicability(app: Any, ext: dict, where: str) -> Validity:
    if not isinstance(app, dict):
        raise GeofenceFormatError(f"{where}: expected an object")
    start = _parse_iso(app["startDateTime"], where) if app.get("startDateTime") else None
    end = _parse_iso(app["endDateTime"], where) if app.get("endDateTime") else None
    periods = app.get("dailyPeriod", app.get("schedule")) or []
    if not isinstance(periods, list):
        raise GeofenceFormatError(f"{where}: dailyPeriod must be a list")
    tz_name = ext.get("timeZone")
    daily = []
    suffixes = set()
    for k, p in enumerate(periods):
        pw = f"{where} dailyPeriod {k}"
        days = _get(p, "day", pw)
        if not isinstance(days, list):
            raise GeofenceFormatError(f"{pw}: day must be a list of MON..SUN / ANY")
        s, sz = _split_tz(_get(p, "startTime", pw), pw)
        e, ez = _split_tz(_get(p, "endTime", pw), pw)
        suffixes.update(z for z in (sz, ez) if z)
        daily.append(_call(pw, DailyPeriod.from_strings, days, s.split(".")[0], e.split(".")[0]))
    if tz_name is None:
        if len(suffixes) > 1:
            raise GeofenceFormatError(f"{where}: daily periods use several time zones {sorted(suffixes)}")
        tz_name = suffixes.pop() if suffixes else DEFAULT_TIMEZONE
    permanent = app.get("permanent", "NO")
    if permanent not in ("YES", "NO"):
        raise GeofenceFormatError(f"{where}: permanent must be YES or NO, got {permanent!r}")
    if permanent == "YES" and (start is not None or end is not None or daily):
        raise GeofenceFormatError(f"{where}: permanent YES contradicts its start/end/dailyPeriod")
    return _call(where, Validity, start, end, tuple(daily), str(tz_name))


def _volume(geom: Any, where: str) -> tuple[Limit, Limit, list | None, Circle | None]:
    uom = _get(geom, "uomDimensions", where)
    if uom not in ("M", "FT"):
        raise GeofenceFormatError(f"{where}: uomDimensions must be M or FT, got {uom!r}")
    scale = 1.0 if uom == "M" else FT

    def limit(kind: str) -> Limit:
        value = _num(_get(geom, f"{kind}Limit", where), f"{where} {kind}Limit")
        ref = _get(geom, f"{kind}VerticalReference", where)
        if ref not in ("AGL", "AMSL"):
            raise GeofenceFormatError(f"{where}: {kind}VerticalReference must be AGL or AMSL, got {ref!r}")
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
    raise GeofenceFormatError(f"{where}: horizontalProjection type must be Polygon or Circle, got {kind!r}")


def dump(doc: dict, path: str | Path) -> Path:
    """Write a document as UTF-8 JSON (written to a temporary name, then renamed)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False), encoding="utf-8")
    tmp.replace(path)
    return path


__all__ = [
    "dump", "ed269_zone_to_geofences", "feature_to_geofence", "from_ed269", "from_geojson", "geofence_to_ed269",
    "geofence_to_feature", "to_ed269", "to_geojson",
]
