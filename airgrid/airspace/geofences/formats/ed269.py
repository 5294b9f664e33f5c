"""Geofences to and from EUROCAE ED-269 JSON.

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

Read as producers write it (every form the published schema allows, and these):

* ``null`` where a member is empty, like an absent optional member: texts, lists,
  ``extendedProperties``, ``startDateTime``/``endDateTime``, ``permanent`` (NO).
* An absent or ``null`` ``lowerLimit`` is the ground (0 m AGL); an absent or ``null``
  ``upperLimit`` means no upper limit, read conservatively as
  :data:`~airgrid.airspace.geofences.formats.fields.NO_UPPER_LIMIT` (99 999 m AGL: the
  zone takes every voxel above its floor, to the top of the grid). A limit that is given
  needs its vertical reference.
* Numbers written as strings (``"lowerLimit": "0"``, radii, coordinates).
* A daily period with no days and ``null`` times (a permanent zone's placeholder) is
  skipped; ``null`` start and end times mean the whole day; ``permanent`` YES with
  whole-day periods on every day is permanent.
* Times of day as ``HH:MM``, ``HH:MM:SS`` or ``HH:MM:SS.ss``, each with an optional zone.

Still refused, naming the zone and the member: a limit without its reference, a
missing ``uomDimensions`` (metres or feet cannot be guessed), one time of a period
``null`` and the other given, times without days, ``permanent`` YES with start, end or
partial periods, open rings (the last position must repeat the first, as in GeoJSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airgrid.airspace.errors import GeofenceFormatError
from airgrid.airspace.geofences.formats.fields import (
    NO_LOWER_LIMIT,
    NO_UPPER_LIMIT,
    checked,
    covers_every_day,
    daily_periods,
    iso_utc,
    lenient_limit,
    lenient_number,
    linear_ring,
    member,
    one_of,
    out_number,
    parse_iso,
    positions,
    unique_identifiers,
    zone_name,
)
from airgrid.airspace.geofences.formats.files import load_document
from airgrid.airspace.geofences.model import (
    DEFAULT_MAX_VERTICES,
    Category,
    Circle,
    Geofence,
    Limit,
    Reference,
)
from airgrid.airspace.geofences.schedule import Validity, format_time_of_day
from airgrid.geo.constants import FT

_RESTRICTION = {
    Category.PROHIBITED: "PROHIBITED",
    Category.AUTHORISATION_REQUIRED: "REQ_AUTHORISATION",
    Category.ADVISORY: "NO_RESTRICTION",
}
_RESTRICTION_IN = {v: k for k, v in _RESTRICTION.items()} | {
    "CONDITIONAL": Category.AUTHORISATION_REQUIRED
}


def geofence_to_ed269(g: Geofence) -> dict:
    """One geofence as an ED-269 UASZone (see the module docstring)."""
    if g.circle is not None:
        hp: dict[str, Any] = {
            "type": "Circle",
            "center": [g.circle.lon, g.circle.lat],
            "radius": g.circle.radius_m,
        }
    else:
        assert g.polygon is not None, "a geofence has a polygon or a circle"
        ring = [list(p) for p in g.polygon] + [list(g.polygon[0])]
        hp = {"type": "Polygon", "coordinates": [ring]}
    v = g.validity
    app: dict[str, Any] = {"permanent": "YES" if v.permanent else "NO"}
    if v.start is not None:
        app["startDateTime"] = iso_utc(v.start)
    if v.end is not None:
        app["endDateTime"] = iso_utc(v.end)
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
    doc = load_document(doc)
    zones = doc.get("UASZoneList", doc.get("features")) if isinstance(doc, dict) else None
    if not isinstance(zones, list):
        raise GeofenceFormatError(
            "expected an ED-269 object with a 'UASZoneList' (or 'features') list"
        )
    out: list[Geofence] = []
    for i, z in enumerate(zones):
        out.extend(ed269_zone_to_geofences(z, index=i, max_vertices=max_vertices))
    return unique_identifiers(out)


def ed269_zone_to_geofences(
    zone: dict, *, index: int = 0, max_vertices: int = DEFAULT_MAX_VERTICES
) -> list[Geofence]:
    """The geofences of one ED-269 UASZone (one per geometry x applicability entry)."""
    where = f"UASZone #{index}"
    if isinstance(zone, dict) and zone.get("name"):
        where += f" ({zone['name']!r})"
    ident = member(zone, "identifier", where)
    if not isinstance(ident, str) or not ident:
        raise GeofenceFormatError(f"{where}: identifier must be a non-empty string")
    where = f"UASZone {ident!r}"
    restriction = one_of(member(zone, "restriction", where), _RESTRICTION_IN, "restriction", where)
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
    geoms = member(zone, "geometry", where)
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
                checked(
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


def _applicability(app: Any, ext: dict, where: str) -> Validity:
    if not isinstance(app, dict):
        raise GeofenceFormatError(f"{where}: expected an object")
    start = parse_iso(app["startDateTime"], where) if app.get("startDateTime") else None
    end = parse_iso(app["endDateTime"], where) if app.get("endDateTime") else None
    daily, suffixes = daily_periods(
        app.get("dailyPeriod", app.get("schedule")) or [], "dailyPeriod", where
    )
    tz_name = zone_name(ext.get("timeZone"), suffixes, where)
    permanent = app.get("permanent") or "NO"
    if permanent not in ("YES", "NO"):
        raise GeofenceFormatError(f"{where}: permanent must be YES or NO, got {permanent!r}")
    if permanent == "YES" and covers_every_day(daily):
        daily = ()
    if permanent == "YES" and (start is not None or end is not None or daily):
        raise GeofenceFormatError(f"{where}: permanent YES contradicts its start/end/dailyPeriod")
    return checked(where, Validity, start, end, daily, tz_name)


def _ed269_limits(g: Geofence) -> dict[str, str | int | float]:
    """ED-269 limit members of a geofence; ED-269 has no ellipsoidal reference, so a
    ``W84`` limit is written AMSL on the safe side (see :meth:`Geofence.resolve_limits`)."""
    n_min, n_max = g.undulation_bounds
    out: dict[str, str | int | float] = {}
    for kind, lim, n in (("lower", g.lower, n_max), ("upper", g.upper, n_min)):
        if lim.reference is Reference.W84:
            out[f"{kind}Limit"], out[f"{kind}VerticalReference"] = (
                out_number(lim.value_m - n),
                "AMSL",
            )
        else:
            out[f"{kind}Limit"], out[f"{kind}VerticalReference"] = (
                out_number(lim.value_m),
                lim.reference.value,
            )
    return out


_REFERENCES = {"AGL": "AGL", "AMSL": "AMSL"}


def _volume(geom: Any, where: str) -> tuple[Limit, Limit, list | None, Circle | None]:
    uom = member(geom, "uomDimensions", where)
    if uom not in ("M", "FT"):
        raise GeofenceFormatError(f"{where}: uomDimensions must be M or FT, got {uom!r}")
    scale = 1.0 if uom == "M" else FT
    lower, upper = (
        lenient_limit(
            geom.get(f"{kind}Limit"),
            geom.get(f"{kind}VerticalReference"),
            _REFERENCES,
            scale,
            default,
            (f"{kind}Limit", f"{kind}VerticalReference"),
            where,
        )
        for kind, default in (("lower", NO_LOWER_LIMIT), ("upper", NO_UPPER_LIMIT))
    )
    hp = member(geom, "horizontalProjection", where)
    kind = member(hp, "type", where + " horizontalProjection")
    if kind == "Circle":
        center = member(hp, "center", where)
        if not isinstance(center, list) or len(center) != 2:
            raise GeofenceFormatError(f"{where}: Circle center must be [lon, lat]")
        ((lon, lat),) = positions([center], f"{where} center")
        radius = lenient_number(member(hp, "radius", where), f"{where} radius") * scale
        return lower, upper, None, Circle(lon, lat, radius)
    if kind == "Polygon":
        rings = member(hp, "coordinates", where)
        if not isinstance(rings, list) or len(rings) != 1:
            raise GeofenceFormatError(f"{where}: Polygon coordinates must hold exactly one ring")
        return lower, upper, linear_ring(rings[0], where), None
    raise GeofenceFormatError(
        f"{where}: horizontalProjection type must be Polygon or Circle, got {kind!r}"
    )


__all__ = ["ed269_zone_to_geofences", "from_ed269", "geofence_to_ed269", "to_ed269"]
