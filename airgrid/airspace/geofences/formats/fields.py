"""Field, time and unit helpers shared by the geofence exchange formats.

Each helper checks one member of a parsed JSON document and raises
:class:`~airgrid.airspace.errors.GeofenceFormatError` naming where in the document
the fault is (``where``), so every format reports faults the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from airgrid.airspace.errors import GeofenceError, GeofenceFormatError
from airgrid.airspace.geofences.model import Geofence, Limit, Reference
from airgrid.airspace.geofences.schedule import DEFAULT_TIMEZONE, DailyPeriod

T = TypeVar("T")

#: The upper limit of a zone that states none (ED-269 ``upperLimit`` absent or ``null``,
#: an ED-318 layer ``upper`` of ``null``): 99 999 m above the highest plausible ground,
#: the value the Swiss ED-318 data writes for "no upper limit". It lies far above the
#: top of any airgrid tier (T4 ends 1000 m above the ground), so the zone takes every
#: voxel above its lower limit, up to the top of the grid.
NO_UPPER_LIMIT = Limit(99_999.0, Reference.AGL)
#: The lower limit of a zone that states none: the ground (0 m AGL, which a geofence
#: resolves over the lowest plausible ground under it).
NO_LOWER_LIMIT = Limit(0.0, Reference.AGL)
#: The times of a daily period whose ``startTime`` and ``endTime`` are both ``null``: the whole day.
_WHOLE_DAY = ("00:00", "24:00")


def iso_utc(t: float | None) -> str | None:
    """ISO 8601 UTC (``Z``) of POSIX seconds, with microseconds only when needed; ``None`` stays ``None``."""
    if t is None:
        return None
    dt = datetime.fromtimestamp(t, UTC)
    return dt.isoformat(timespec="microseconds" if dt.microsecond else "seconds").replace(
        "+00:00", "Z"
    )


def parse_iso(text: Any, where: str) -> float:
    """POSIX seconds of an ISO 8601 date-time that names its zone (``Z`` or an offset)."""
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


def number(v: Any, where: str) -> float:
    """``v`` as a float if it is a JSON number (not a boolean)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise GeofenceFormatError(f"{where}: expected a number, got {v!r}")
    return float(v)


def lenient_number(v: Any, where: str) -> float:
    """``v`` as a float: a JSON number, or a string holding a finite decimal number
    (``"0"``, ``" 120.5 "``), as some producers write numbers."""
    if isinstance(v, str):
        try:
            x = float(v.strip())
        except ValueError:
            raise GeofenceFormatError(f"{where}: expected a number, got the string {v!r}") from None
        if x != x or x in (float("inf"), float("-inf")):
            raise GeofenceFormatError(f"{where}: expected a finite number, got {v!r}")
        return x
    return number(v, where)


def lenient_limit(
    value: Any,
    reference: Any,
    references: dict[str, str],
    scale: float,
    default: Limit,
    fields: tuple[str, str],
    where: str,
) -> Limit:
    """A vertical limit from a value and its reference as exchange formats write them.

    Parameters
    ----------
    value
        A number or a numeric string (see :func:`lenient_number`); ``None`` (absent or
        ``null``) gives ``default`` and the reference is then not needed.
    reference
        The vertical reference as the format spells it (a key of ``references``).
    references
        The format's reference names and the model's (``{"WGS84": "W84", ...}``).
    scale
        Metres per unit of ``value``.
    default
        The limit of an absent value (:data:`NO_LOWER_LIMIT` or :data:`NO_UPPER_LIMIT`).
    fields
        The members' names, for messages (``("upperLimit", "upperVerticalReference")``).
    where
        The zone and geometry, for messages.

    Raises
    ------
    GeofenceFormatError
        A value that is not a number, or a value without a known reference.
    """
    if value is None:
        return default
    field, ref_field = fields
    metres = lenient_number(value, f"{where} {field}") * scale
    if not isinstance(reference, str) or reference not in references:
        raise GeofenceFormatError(
            f"{where}: {ref_field} must be one of {sorted(references)} for {field} "
            f"{value!r}, got {reference!r}"
        )
    return checked(where, Limit, metres, references[reference])


def out_number(x: float) -> int | float:
    """``x`` as an int when it is a whole number (so JSON shows ``120``, not ``120.0``)."""
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else x


def member(d: dict, key: str, where: str) -> Any:
    """``d[key]``, where ``d`` must be an object that has ``key``."""
    if not isinstance(d, dict):
        raise GeofenceFormatError(f"{where}: expected an object, got {type(d).__name__}")
    if key not in d:
        raise GeofenceFormatError(f"{where}: missing field {key!r}")
    return d[key]


def one_of(value: Any, allowed: Iterable[str], field: str, where: str) -> str:
    """``value`` if it is one of the strings ``allowed``, else a format error naming ``field``."""
    if not isinstance(value, str) or value not in allowed:
        raise GeofenceFormatError(
            f"{where}: unknown {field} {value!r}; expected one of {sorted(allowed)}"
        )
    return value


def checked(where: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a model constructor, prefixing validation messages with the document location."""
    try:
        return fn(*args, **kwargs)
    except GeofenceError as exc:
        raise type(exc)(f"{where}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise GeofenceFormatError(f"{where}: {exc}") from exc


def outer_ring(rings: Any, where: str) -> list[tuple[float, float]]:
    """The exterior ring of GeoJSON Polygon coordinates (see :func:`linear_ring`); holes are refused."""
    if not isinstance(rings, list) or not rings:
        raise GeofenceFormatError(f"{where}: Polygon coordinates must be a list of rings")
    if len(rings) > 1:
        raise GeofenceFormatError(
            f"{where}: polygon holes are not supported (a hole would shrink "
            "the protected area); split the geofence instead"
        )
    return linear_ring(rings[0], where)


def linear_ring(coords: Any, where: str) -> list[tuple[float, float]]:
    """(lon, lat) pairs of a closed ring of at least four positions (RFC 7946 section 3.1.6),
    the rule the API's GeoJSON bodies follow too."""
    ring = positions(coords, where)
    if len(ring) < 4:
        raise GeofenceFormatError(
            f"{where}: a linear ring needs at least four positions, got {len(ring)}"
        )
    if ring[0] != ring[-1]:
        raise GeofenceFormatError(
            f"{where}: a linear ring must be closed (its last position repeats the first)"
        )
    return ring


def positions(coords: Any, where: str) -> list[tuple[float, float]]:
    """(lon, lat) pairs of a list of positions ``[lon, lat]`` or ``[lon, lat, alt]`` (the
    altitude is ignored); ordinates may be numeric strings (:func:`lenient_number`)."""
    if not isinstance(coords, list):
        raise GeofenceFormatError(f"{where}: a ring must be a list of [lon, lat] positions")
    out = []
    for i, p in enumerate(coords):
        if not isinstance(p, (list, tuple)) or not 2 <= len(p) <= 3:
            raise GeofenceFormatError(
                f"{where}: position {i} must be [lon, lat] or [lon, lat, alt], got {p!r}"
            )
        pw = f"{where} position {i}"
        out.append((lenient_number(p[0], pw), lenient_number(p[1], pw)))
    return out


def unique_identifiers(fences: list[Geofence]) -> list[Geofence]:
    """``fences`` unchanged, once no identifier is seen twice."""
    seen: set[str] = set()
    for g in fences:
        if g.identifier in seen:
            raise GeofenceFormatError(f"identifier {g.identifier!r} appears more than once")
        seen.add(g.identifier)
    return fences


def split_zone(text: Any, where: str) -> tuple[str, str | None]:
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


def daily_periods(periods: Any, key: str, where: str) -> tuple[tuple[DailyPeriod, ...], set[str]]:
    """Daily periods of an ED-269 ``dailyPeriod`` or ED-318 ``schedule`` list, and the zones their times name.

    Producers write ``null`` where a member is empty: a period with no days (``[]`` or
    ``null``) and both times ``null`` says nothing and is skipped; a period whose two
    times are ``null`` lasts the whole day (00:00-24:00). One time ``null`` and the other
    given, or times without days, are ambiguous and refused.
    """
    if not isinstance(periods, list):
        raise GeofenceFormatError(f"{where}: {key} must be a list")
    daily = []
    zones: set[str] = set()
    for k, p in enumerate(periods):
        pw = f"{where} {key} {k}"
        if not isinstance(p, dict):
            raise GeofenceFormatError(f"{pw}: expected an object, got {type(p).__name__}")
        events = [e for e in ("startEvent", "endEvent") if p.get(e) is not None]
        if events:
            raise GeofenceFormatError(
                f"{pw}: daylight events ({', '.join(events)}) are not supported; "
                "give startTime and endTime"
            )
        days, start, end = p.get("day"), p.get("startTime"), p.get("endTime")
        if not days:
            if days is not None and not isinstance(days, list):
                raise GeofenceFormatError(f"{pw}: day must be a list of MON..SUN / ANY")
            if start is None and end is None:
                continue
            raise GeofenceFormatError(
                f"{pw}: day is empty but the period has times; name its days (MON..SUN or ANY)"
            )
        if not isinstance(days, list):
            raise GeofenceFormatError(f"{pw}: day must be a list of MON..SUN / ANY")
        if (start is None) != (end is None):
            missing = "startTime" if start is None else "endTime"
            raise GeofenceFormatError(
                f"{pw}: {missing} is null while the other time is given; give both, or "
                "neither for the whole day"
            )
        if start is None:
            s, e = _WHOLE_DAY
        else:
            s, sz = split_zone(start, pw)
            e, ez = split_zone(end, pw)
            zones.update(z for z in (sz, ez) if z)
        daily.append(checked(pw, DailyPeriod.from_strings, days, s.split(".")[0], e.split(".")[0]))
    return tuple(daily), zones


def covers_every_day(daily: tuple[DailyPeriod, ...]) -> bool:
    """Whether the periods together are active all day every day (some lasting the whole day
    cover all seven days), which a permanent zone's placeholder periods may say."""
    whole = [p for p in daily if p.start_s == 0 and p.end_s == 86400]
    return (
        bool(daily)
        and len(whole) == len(daily)
        and set().union(*(p.weekdays for p in whole)) == set(range(7))
    )


def zone_name(declared: Any, suffixes: set[str], where: str) -> str:
    """The time zone of daily periods: the declared one, else the one their times name, else the default."""
    if declared is not None:
        return str(declared)
    if len(suffixes) > 1:
        raise GeofenceFormatError(
            f"{where}: daily periods use several time zones {sorted(suffixes)}"
        )
    return next(iter(suffixes)) if suffixes else DEFAULT_TIMEZONE


__all__ = [
    "NO_LOWER_LIMIT",
    "NO_UPPER_LIMIT",
    "checked",
    "covers_every_day",
    "daily_periods",
    "iso_utc",
    "lenient_limit",
    "lenient_number",
    "linear_ring",
    "member",
    "number",
    "one_of",
    "out_number",
    "outer_ring",
    "parse_iso",
    "positions",
    "split_zone",
    "unique_identifiers",
    "zone_name",
]
