"""Geofences to and from GeoJSON (RFC 7946).

A FeatureCollection of Features whose geometry is the footprint Polygon (lon/lat,
counter-clockwise exterior ring, closed). A circle is written as its conservative
polygon *and* a ``circle`` property (``{"center": [lon, lat], "radius_m": r}``);
readers that know the property restore the exact circle, others draw the polygon,
which contains it. Properties: ``identifier, name, category, reason, reason_codes,
authority, source_id, country, lower_m, lower_reference, upper_m, upper_reference,
valid_from, valid_to, timezone, daily_periods`` (``[{"days": ["MON", ...],
"start": "HH:MM:SS", "end": "HH:MM:SS"}]``).

Read leniently, by the rules ``POST /v1/geofences`` applies to the same Feature: ``null``
for an optional property is its default (texts empty, category prohibited, references
AMSL, validity permanent), numbers may be numeric strings. ``lower_m`` and ``upper_m``
are required: airgrid's own format has no "no limit".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airgrid.airspace.errors import GeofenceFormatError
from airgrid.airspace.geofences.formats.fields import (
    checked,
    iso_utc,
    lenient_number,
    member,
    out_number,
    outer_ring,
    parse_iso,
    unique_identifiers,
)
from airgrid.airspace.geofences.formats.files import feature_list
from airgrid.airspace.geofences.model import DEFAULT_MAX_VERTICES, Circle, Geofence, Limit
from airgrid.airspace.geofences.schedule import (
    DEFAULT_TIMEZONE,
    DailyPeriod,
    Validity,
    format_time_of_day,
)


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
        "lower_m": out_number(g.lower.value_m),
        "lower_reference": g.lower.reference.value,
        "upper_m": out_number(g.upper.value_m),
        "upper_reference": g.upper.reference.value,
        "valid_from": iso_utc(g.validity.start),
        "valid_to": iso_utc(g.validity.end),
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


def feature_to_geofence(
    feature: dict, *, max_vertices: int = DEFAULT_MAX_VERTICES, index: int | None = None
) -> Geofence:
    """A geofence from an RFC 7946 Feature written by :func:`geofence_to_feature` (or by hand).

    Only ``identifier``, ``lower_m`` and ``upper_m`` are required; references default
    to AMSL, category to prohibited, validity to permanent. ``index`` (the Feature's
    place in its collection) and a ``name`` property name a Feature without an identifier
    in messages.

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
        label = "feature" if index is None else f"feature #{index}"
        if props.get("name"):
            label += f" ({props['name']!r})"
        raise GeofenceFormatError(f"{label}: missing 'identifier' property")
    periods = props.get("daily_periods") or []
    if not isinstance(periods, list):
        raise GeofenceFormatError(f"{where}: daily_periods must be a list")
    codes = props.get("reason_codes") or []
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise GeofenceFormatError(f"{where}: reason_codes must be a list of strings")
    polygon, circle = _footprint(feature, props, where)
    validity = _validity(props, periods, where)
    lower = _limit(props, "lower", where)
    upper = _limit(props, "upper", where)
    return checked(
        where,
        Geofence,
        identifier=ident,
        lower=lower,
        upper=upper,
        polygon=polygon,
        circle=circle,
        validity=validity,
        category=props.get("category") or "prohibited",
        name=_text(props, "name", where),
        reason=_text(props, "reason", where),
        reason_codes=tuple(codes),
        authority=_text(props, "authority", where),
        source_id=_text(props, "source_id", where),
        country=_text(props, "country", where) or "CHN",
        max_vertices=max_vertices,
    )


def _text(props: dict, key: str, where: str) -> str:
    """A text property: a string, or ``""`` when absent or ``null``."""
    value = props.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise GeofenceFormatError(f"{where}: {key} must be a string, got {value!r}")
    return value


def _footprint(
    feature: dict, props: dict, where: str
) -> tuple[list[tuple[float, float]] | None, Circle | None]:
    """(polygon, circle) of a Feature: the ``circle`` property when present, else its Polygon."""
    if props.get("circle") is not None:
        c = props["circle"]
        center = member(c, "center", where + " circle")
        if not isinstance(center, list) or len(center) != 2:
            raise GeofenceFormatError(f"{where}: circle center must be [lon, lat]")
        circle = Circle(
            lenient_number(center[0], f"{where} circle center"),
            lenient_number(center[1], f"{where} circle center"),
            lenient_number(member(c, "radius_m", where), f"{where} circle radius_m"),
        )
        return None, circle
    geom = member(feature, "geometry", where)
    if not isinstance(geom, dict) or geom.get("type") != "Polygon":
        raise GeofenceFormatError(f"{where}: geometry must be a GeoJSON Polygon")
    return outer_ring(member(geom, "coordinates", where), where), None


def _validity(props: dict, periods: list, where: str) -> Validity:
    """The validity of ``valid_from``, ``valid_to``, ``timezone`` and the daily ``periods``."""
    daily = tuple(
        checked(
            where,
            DailyPeriod.from_strings,
            member(p, "days", where),
            member(p, "start", where),
            member(p, "end", where),
        )
        for p in periods
    )
    return checked(
        where,
        Validity,
        None if props.get("valid_from") is None else parse_iso(props["valid_from"], where),
        None if props.get("valid_to") is None else parse_iso(props["valid_to"], where),
        daily,
        props.get("timezone") or DEFAULT_TIMEZONE,
    )


def _limit(props: dict, side: str, where: str) -> Limit:
    """The ``lower`` or ``upper`` limit: ``<side>_m`` over ``<side>_reference`` (AMSL by default)."""
    return checked(
        where,
        Limit,
        lenient_number(member(props, f"{side}_m", where), f"{where} {side}_m"),
        props.get(f"{side}_reference") or "AMSL",
    )


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
    features = feature_list(doc, "a GeoJSON")
    return unique_identifiers(
        [feature_to_geofence(f, max_vertices=max_vertices, index=i) for i, f in enumerate(features)]
    )


__all__ = ["feature_to_geofence", "from_geojson", "geofence_to_feature", "to_geojson"]
