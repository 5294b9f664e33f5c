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
from airgrid.airspace.geofences.model import Geofence
from airgrid.airspace.geofences.schedule import DEFAULT_TIMEZONE, DailyPeriod

T = TypeVar("T")


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
    """The exterior ring of GeoJSON Polygon coordinates; holes are refused."""
    if not isinstance(rings, list) or not rings:
        raise GeofenceFormatError(f"{where}: Polygon coordinates must be a list of rings")
    if len(rings) > 1:
        raise GeofenceFormatError(
            f"{where}: polygon holes are not supported (a hole would shrink "
            "the protected area); split the geofence instead"
        )
    return positions(rings[0], where)


def positions(coords: Any, where: str) -> list[tuple[float, float]]:
    """(lon, lat) pairs of a list of GeoJSON positions (extra ordinates are ignored)."""
    if not isinstance(coords, list):
        raise GeofenceFormatError(f"{where}: a ring must be a list of [lon, lat] positions")
    out = []
    for i, p in enumerate(coords):
        if not isinstance(p, (list, tuple)) or len(p) < 2:
            raise GeofenceFormatError(f"{where}: position {i} must be [lon, lat], got {p!r}")
        out.append((number(p[0], f"{where} position {i}"), number(p[1], f"{where} position {i}")))
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
    """Daily periods of an ED-269 ``dailyPeriod`` or ED-318 ``schedule`` list, and the zones their times name."""
    if not isinstance(periods, list):
        raise GeofenceFormatError(f"{where}: {key} must be a list")
    daily = []
    zones: set[str] = set()
    for k, p in enumerate(periods):
        pw = f"{where} {key} {k}"
        days = member(p, "day", pw)
        if not isinstance(days, list):
            raise GeofenceFormatError(f"{pw}: day must be a list of MON..SUN / ANY")
        events = [e for e in ("startEvent", "endEvent") if p.get(e) is not None]
        if events:
            raise GeofenceFormatError(
                f"{pw}: daylight events ({', '.join(events)}) are not supported; "
                "give startTime and endTime"
            )
        s, sz = split_zone(member(p, "startTime", pw), pw)
        e, ez = split_zone(member(p, "endTime", pw), pw)
        zones.update(z for z in (sz, ez) if z)
        daily.append(checked(pw, DailyPeriod.from_strings, days, s.split(".")[0], e.split(".")[0]))
    return tuple(daily), zones


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
    "checked",
    "daily_periods",
    "iso_utc",
    "lenient_number",
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
