"""When a geofence is active: daily periods, validity windows and their closed intervals.

Times are POSIX seconds (UTC) or aware datetimes. Daily periods are local to a time
zone; every interval is closed, and around a daylight-saving change an ambiguous local
time takes the earliest start and the latest end, so a geofence is never reported
inactive when it may be active.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from airgrid.airspace.errors import (
    DailyPeriodError,
    EndBeforeStartError,
    GeofenceFormatError,
    TimeZoneError,
)
from airgrid.geo.validation import check_time

#: Default time zone of daily periods.
DEFAULT_TIMEZONE = "Asia/Shanghai"
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_TIME_RE = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")


def parse_time_of_day(text: str) -> int:
    """Seconds since midnight of ``"HH:MM"`` or ``"HH:MM:SS"`` (``"24:00"`` allowed).

    Raises
    ------
    DailyPeriodError
        Malformed or out of range.
    """
    m = _TIME_RE.match(str(text).strip())
    if not m:
        raise DailyPeriodError(f"time of day must be 'HH:MM' or 'HH:MM:SS', got {text!r}")
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    sec = h * 3600 + mi * 60 + s
    if mi > 59 or s > 59 or sec > 86400:
        raise DailyPeriodError(f"time of day out of range: {text!r}")
    return sec


def format_time_of_day(sec: int) -> str:
    """``"HH:MM:SS"`` of seconds since midnight (86400 gives ``"24:00:00"``)."""
    return f"{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}"


@dataclass(frozen=True)
class DailyPeriod:
    """A daily activation period on chosen weekdays, in the geofence's time zone.

    Attributes
    ----------
    weekdays
        Days (0 = Monday ... 6 = Sunday) on which the period *starts*.
    start_s, end_s
        Local seconds since midnight, ``0 <= start_s < 86400``, ``0 < end_s <= 86400``.
        ``end_s <= start_s`` means the period crosses midnight and ends the next day
        (22:00-06:00 on a Friday runs until Saturday 06:00). ``start_s == end_s`` is
        refused as ambiguous; a whole day is ``0`` to ``86400``.
    """

    weekdays: frozenset[int]
    start_s: int
    end_s: int

    def __post_init__(self) -> None:
        try:
            days = frozenset(int(d) for d in self.weekdays)
        except (TypeError, ValueError):
            raise DailyPeriodError(
                f"weekdays must be integers 0-6, got {self.weekdays!r}"
            ) from None
        if not days or not days <= set(range(7)):
            raise DailyPeriodError(
                f"weekdays must be a non-empty subset of 0-6, got {sorted(days)}"
            )
        object.__setattr__(self, "weekdays", days)
        if not (0 <= self.start_s < 86400 and 0 < self.end_s <= 86400):
            raise DailyPeriodError(f"period times out of range: {self.start_s}..{self.end_s} s")
        if self.start_s == self.end_s:
            raise DailyPeriodError(
                "a daily period must not start and end at the same time "
                "(use 00:00-24:00 for a whole day)"
            )

    @classmethod
    def from_strings(cls, weekdays: Iterable[str | int], start: str, end: str) -> DailyPeriod:
        """From weekday names (``"MON"`` ... ``"SUN"``, ``"ANY"``) and ``"HH:MM[:SS]"`` times.

        Raises
        ------
        DailyPeriodError
            Unknown weekday, malformed time, empty period.
        """
        days: set[int] = set()
        for d in weekdays:
            if isinstance(d, int):
                days.add(d)
            elif str(d).upper() == "ANY":
                days.update(range(7))
            elif str(d).upper() in WEEKDAYS:
                days.add(WEEKDAYS.index(str(d).upper()))
            else:
                raise DailyPeriodError(f"unknown weekday {d!r}; use MON..SUN or ANY")
        return cls(frozenset(days), parse_time_of_day(start), parse_time_of_day(end))

    @property
    def weekday_names(self) -> list[str]:
        """Weekday names in week order."""
        return [WEEKDAYS[d] for d in sorted(self.weekdays)]

    @property
    def crosses_midnight(self) -> bool:
        """Whether the period ends on the day after it starts."""
        return self.end_s <= self.start_s


@lru_cache(maxsize=64)
def tzinfo_of(name: str) -> ZoneInfo | timezone:
    """A tzinfo for an IANA name (``"Asia/Shanghai"``), ``"UTC"`` or a fixed offset ``"+08:00"``.

    Raises
    ------
    TimeZoneError
        Unknown name.
    """
    if not isinstance(name, str):
        raise TimeZoneError(
            f"a time zone must be given by name (e.g. 'Asia/Shanghai'), got {name!r}"
        )
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name)
    if m:
        off = timedelta(hours=int(m[2]), minutes=int(m[3]))
        return timezone(off if m[1] == "+" else -off)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeZoneError(f"unknown time zone {name!r}") from None


def to_posix(t: float | datetime) -> float:
    """POSIX seconds of a number or an aware datetime.

    Raises
    ------
    TimeZoneError
        A naive datetime (its instant would be a guess).
    GeofenceFormatError
        Not a finite number or datetime, or outside the accepted range
        (:func:`~airgrid.geo.validation.check_time`).
    """
    if isinstance(t, datetime):
        if t.tzinfo is None or t.utcoffset() is None:
            raise TimeZoneError(f"datetime {t.isoformat()} has no time zone")
        return check_time((t - _EPOCH).total_seconds(), "a time", GeofenceFormatError)
    if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)):
        raise GeofenceFormatError(f"a time must be POSIX seconds or an aware datetime, got {t!r}")
    return check_time(float(t), "a time", GeofenceFormatError)


def merge_intervals(ivs: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of closed intervals as sorted, disjoint intervals (touching ones join)."""
    out: list[tuple[float, float]] = []
    for s, e in sorted(ivs):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _wall_to_posix(d: date, sec: int, tz: ZoneInfo | timezone, earliest: bool) -> float:
    """POSIX time of local wall time ``d`` + ``sec``; ambiguous/gap times pick the safe side."""
    day = d + timedelta(days=sec // 86400)
    s = sec % 86400
    base = datetime(day.year, day.month, day.day, s // 3600, s // 60 % 60, s % 60)
    cands = [base.replace(tzinfo=tz, fold=f).timestamp() for f in (0, 1)]
    return min(cands) if earliest else max(cands)


@dataclass(frozen=True)
class Validity:
    """When a geofence is active.

    Attributes
    ----------
    start, end
        POSIX seconds (UTC) of the validity window; ``None`` means unbounded.
    daily
        Daily periods; when given, the geofence is active only inside one of them
        (and inside the window). Empty means all day.
    timezone
        Time zone of the daily periods: an IANA name (default ``Asia/Shanghai``),
        ``"UTC"`` or a fixed offset such as ``"+08:00"``.

    Notes
    -----
    All intervals are closed (active at both ends), which errs towards safety.
    """

    start: float | None = None
    end: float | None = None
    daily: tuple[DailyPeriod, ...] = ()
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        for k in ("start", "end"):
            v = getattr(self, k)
            if v is not None:
                object.__setattr__(self, k, to_posix(v))
        if self.start is not None and self.end is not None and not self.end > self.start:
            raise EndBeforeStartError(
                f"validity ends ({_iso(self.end)}) before or when it starts ({_iso(self.start)})"
            )
        object.__setattr__(self, "daily", tuple(self.daily))
        for p in self.daily:
            if not isinstance(p, DailyPeriod):
                raise DailyPeriodError(f"daily periods must be DailyPeriod objects, got {p!r}")
        tzinfo_of(self.timezone)

    @property
    def permanent(self) -> bool:
        """Active at every instant (no window, no daily periods)."""
        return self.start is None and self.end is None and not self.daily

    def intervals(self, t0: float | datetime, t1: float | datetime) -> list[tuple[float, float]]:
        """Closed, merged active intervals (POSIX seconds) within ``[t0, t1]``.

        Raises
        ------
        GeofenceFormatError
            ``t1 < t0``.
        """
        a, b = to_posix(t0), to_posix(t1)
        if b < a:
            raise GeofenceFormatError("an interval query needs t0 <= t1")
        lo = a if self.start is None else max(a, self.start)
        hi = b if self.end is None else min(b, self.end)
        if hi < lo:
            return []
        if not self.daily:
            return [(lo, hi)]
        tz = tzinfo_of(self.timezone)
        d0 = datetime.fromtimestamp(lo, tz).date() - timedelta(days=1)
        d1 = datetime.fromtimestamp(hi, tz).date()
        ivs = []
        d = d0
        while d <= d1:
            wd = d.weekday()
            for p in self.daily:
                if wd not in p.weekdays:
                    continue
                s = _wall_to_posix(d, p.start_s, tz, earliest=True)
                e = _wall_to_posix(
                    d, p.end_s + (86400 if p.crosses_midnight else 0), tz, earliest=False
                )
                s, e = max(s, lo), min(e, hi)
                if s <= e:
                    ivs.append((s, e))
            d += timedelta(days=1)
        return merge_intervals(ivs)

    def is_active(self, t: float | datetime) -> bool:
        """Whether ``t`` lies in an active interval (ends included)."""
        x = to_posix(t)
        return bool(self.intervals(x, x))


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


__all__ = [
    "DEFAULT_TIMEZONE",
    "WEEKDAYS",
    "DailyPeriod",
    "Validity",
    "format_time_of_day",
    "merge_intervals",
    "parse_time_of_day",
    "to_posix",
    "tzinfo_of",
]
