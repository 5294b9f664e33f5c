"""Geofences: validated 4D restricted volumes, their activity in time and their grid covers.

API summary (stable; :mod:`airgrid.airspace.traffic` and the store build on it)
-----------------------------------------------------------------------------
``Geofence(identifier, lower, upper, polygon=... | circle=..., validity=, category=, ...)``
    The model (frozen dataclass). Construction validates and raises a specific
    :class:`~airgrid.airspace.errors.GeofenceError` subclass per fault.
``Geofence.footprint``
    shapely Polygon in lon/lat degrees (RFC 7946 order), never smaller than the
    geofence: a circle becomes a polygon that contains the true circle.
``Geofence.amsl_band(ground) -> (floor_m, ceiling_m)``
    The altitude band in metres AMSL; ``ground`` is a number, a ``(low, high)`` pair,
    a :class:`~airgrid.terrain.Dem` or a :class:`~airgrid.airspace.grid.voxels.Grid`.
``Geofence.is_active(t) -> bool`` / ``Geofence.active_intervals(t0, t1)``
    ``t`` is POSIX seconds (UTC) or an aware datetime; intervals are closed.
``Geofence.to_volumes(ground, t0, t1) -> list[Volume4D]``
    One :class:`~airgrid.geo.volumes.Volume4D` per active interval.
``Geofence.to_geojson_feature()`` / ``Geofence.from_geojson_feature(feature)``
    RFC 7946 Feature, round trip exact.
``cover_geofence(grid, geofence, at_time=None) -> int64 voxel indices``
``mark_geofences(grid, geofences) -> int64 voxel indices``
    Sets ``Status.GEOFENCE`` for permanent prohibited geofences.
``GeofenceIndex`` (in :mod:`airgrid.airspace.geofences.index`)
    Exact point / batch point / track segment / track / Volume4D checks.

Conservative semantics (every choice errs towards a larger protected volume)
---------------------------------------------------------------------------
* **Horizontal.** Polygon edges are straight lines in lon/lat (RFC 7946). A circle
  of radius ``r`` becomes a regular ``n``-gon (``n = CIRCLE_SEGMENTS``) whose
  vertices lie at ``r / cos(pi/n) * (1 + BUFFER_SAFETY)`` in a local
  stereographic plane centred on the circle (:func:`~airgrid.geo.volumes.local_metric`):
  its edges are tangent to a circle larger than ``r``, so it contains the true circle.
* **Vertical.** A limit in true height (``AGL``) is resolved against the terrain so
  the band only grows: the lower limit is added to the *lowest* plausible ground
  (DEM minimum minus its downward margin), the upper limit to the *highest* (DEM
  maximum plus its upward margin, obstacles). A limit above the WGS84 ellipsoid
  (``W84``) becomes AMSL with the EGM96 geoid (:mod:`airgrid.terrain.geoid`): the
  lower limit with the greatest undulation over the footprint's bounding box, the
  upper with the least, each widened by :data:`GEOID_GRID_ERROR_M`. Bands are
  closed: touching counts.
* **Time.** Validity windows and daily periods are closed intervals: a geofence is
  active at the exact second it starts and at the exact second it ends. Around a
  daylight-saving change an ambiguous local time takes the earliest start and the
  latest end.
* **Grid covers** use H3 *overlap* containment on the footprint grown by
  :data:`COVER_PAD_M`, and every layer touching the band.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import h3
import numpy as np
import shapely
from shapely.geometry import mapping

from airgrid.airspace.errors import (
    CoordinateRangeError,
    DailyPeriodError,
    DegenerateGeometryError,
    EndBeforeStartError,
    GeofenceError,
    GeofenceFormatError,
    LimitValueError,
    LowerAboveUpperError,
    NonPositiveRadiusError,
    OutsideGridError,
    RadiusTooLargeError,
    SelfIntersectingRingError,
    TimeZoneError,
    TooManyVerticesError,
)
from airgrid.airspace.grid.voxels import Grid, Status
from airgrid.geo.plane import BUFFER_SAFETY, local_metric
from airgrid.geo.validation import MIN_RADIUS_M, check_identifier, check_time
from airgrid.geo.volumes import Volume4D
from airgrid.terrain import Dem

#: Default limit on polygon vertices (a geofence may set its own ``max_vertices``).
DEFAULT_MAX_VERTICES = 10_000
#: Sides of the polygon that replaces a circle (radius error factor 1/cos(pi/n) - 1 = 3e-4).
CIRCLE_SEGMENTS = 128
#: Largest circle radius: the local plane's scale error stays below 0.002 % within it.
MAX_RADIUS_M = 50_000.0
#: Footprints are grown by this much (metres) before the H3 overlap cover.
COVER_PAD_M = 1.0
#: Default time zone of daily periods.
DEFAULT_TIMEZONE = "Asia/Shanghai"
#: Ground range used for true-height limits when no terrain is given: the Dead Sea shore
#: and the top of Everest. Used only where a caller gives no terrain; errs to safety.
EARTH_GROUND_MIN_M = -450.0
EARTH_GROUND_MAX_M = 8_850.0

#: Polygons smaller than this (square degrees, about 0.01 m^2) are collinear up to rounding.
_MIN_AREA_DEG2 = 1e-12
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Category(str, Enum):
    """What a geofence demands of flights inside it."""

    PROHIBITED = "prohibited"
    AUTHORISATION_REQUIRED = "authorisation_required"
    ADVISORY = "advisory"


class Reference(str, Enum):
    """Vertical reference of a limit."""

    AGL = "AGL"  #: true height above the ground
    AMSL = "AMSL"  #: above mean sea level
    W84 = "W84"  #: above the WGS84 ellipsoid (ASTM F3548, Remote ID, ED-318 "WGS84")


#: Largest error of the bilinear 15' EGM96 grid against the full model (GeographicLib:
#: 1.152 m), added on the safe side whenever a W84 limit is made AMSL.
GEOID_GRID_ERROR_M = 1.2


def _coerce_enum(cls: type[Enum], value: object, what: str) -> Enum:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)  # type: ignore[attr-defined]
        raise GeofenceFormatError(f"unknown {what} {value!r}; expected one of {allowed}") from None


@dataclass(frozen=True)
class Limit:
    """A vertical limit.

    Attributes
    ----------
    value_m
        Metres (above the ground for ``AGL``, above mean sea level for ``AMSL``,
        above the WGS84 ellipsoid for ``W84``).
    reference
        :class:`Reference` (strings ``"AGL"`` / ``"AMSL"`` / ``"W84"`` are accepted).
    """

    value_m: float
    reference: Reference = Reference.AMSL

    def __post_init__(self) -> None:
        try:
            ref = Reference(self.reference)
        except ValueError:
            raise LimitValueError(
                f"unknown vertical reference {self.reference!r}; use AGL, AMSL or W84"
            ) from None
        object.__setattr__(self, "reference", ref)
        if isinstance(self.value_m, bool) or not isinstance(self.value_m, (int, float)):
            raise LimitValueError(f"a limit must be a number of metres, got {self.value_m!r}")
        if not math.isfinite(self.value_m):
            raise LimitValueError(f"a limit must be finite, got {self.value_m}")
        object.__setattr__(self, "value_m", float(self.value_m))

    def resolve(
        self, ground_m: float | np.ndarray, undulation_m: float = 0.0
    ) -> float | np.ndarray:
        """The limit in metres AMSL.

        Parameters
        ----------
        ground_m
            Ground height (m AMSL) an ``AGL`` limit is measured from.
        undulation_m
            Geoid undulation ``N`` a ``W84`` limit is converted with (``AMSL = W84 - N``).
        """
        if self.reference is Reference.AGL:
            return self.value_m + ground_m
        if self.reference is Reference.W84:
            return self.value_m - undulation_m
        return self.value_m


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


@dataclass(frozen=True)
class Circle:
    """A circle: centre (lon, lat degrees) and radius (metres, geodesic from the centre)."""

    lon: float
    lat: float
    radius_m: float


def _check_coords(lon: np.ndarray, lat: np.ndarray, what: str) -> None:
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
        raise CoordinateRangeError(f"{what}: coordinates must be finite numbers")
    if np.any(np.abs(lon) > 180) or np.any(np.abs(lat) > 90):
        i = int(np.flatnonzero((np.abs(lon) > 180) | (np.abs(lat) > 90))[0])
        raise CoordinateRangeError(
            f"{what}: vertex {i} (lon {lon[i]}, lat {lat[i]}) is outside lon [-180, 180] / "
            "lat [-90, 90] (coordinates are lon, lat as in RFC 7946)"
        )


Ground = float | tuple[float, float] | Dem | Grid | None


@dataclass(frozen=True)
class Geofence:
    """A geofence: a footprint, a vertical band and a validity.

    Exactly one of ``polygon`` and ``circle`` is given.

    Attributes
    ----------
    identifier
        Unique id (ED-269 ``identifier``).
    lower, upper
        Vertical limits, each ``AGL`` (true height) or ``AMSL``.
    polygon
        Exterior ring as (lon, lat) pairs; a closing vertex is dropped and the ring
        is stored counter-clockwise (RFC 7946 right-hand rule). No holes: a hole
        would shrink the protected area; describe such shapes as several fences.
    circle
        :class:`Circle` (centre and radius in metres).
    validity
        :class:`Validity` (default: permanent).
    category
        :class:`Category` (default: prohibited).
    name, reason, authority, source_id, country
        Free text; ``country`` is an ISO 3166-1 alpha-3 code (ED-269).
    reason_codes
        ED-269 reason codes (``AIR_TRAFFIC``, ``SENSITIVE``, ...).
    max_vertices
        Largest accepted polygon (not part of equality).

    Raises
    ------
    CoordinateRangeError, TooManyVerticesError, DegenerateGeometryError,
    SelfIntersectingRingError, NonPositiveRadiusError, RadiusTooLargeError,
    LimitValueError, LowerAboveUpperError, GeofenceFormatError
        One class per fault (all are :class:`~airgrid.airspace.errors.GeofenceError`).
        ``LowerAboveUpperError`` is raised when both limits share a reference and
        ``lower >= upper``; with mixed references the band is decided per place
        against the terrain, and is empty where the lower limit ends up higher.
    """

    identifier: str
    lower: Limit
    upper: Limit
    polygon: tuple[tuple[float, float], ...] | None = None
    circle: Circle | None = None
    validity: Validity = field(default_factory=Validity)
    category: Category = Category.PROHIBITED
    name: str = ""
    reason: str = ""
    reason_codes: tuple[str, ...] = ()
    authority: str = ""
    source_id: str = ""
    country: str = "CHN"
    max_vertices: int = field(default=DEFAULT_MAX_VERTICES, compare=False, repr=False)

    def __post_init__(self) -> None:
        check_identifier(self.identifier, "geofence identifier", GeofenceFormatError)
        object.__setattr__(self, "category", _coerce_enum(Category, self.category, "category"))
        for k in ("lower", "upper"):
            if not isinstance(getattr(self, k), Limit):
                raise LimitValueError(f"{k} must be a Limit, got {getattr(self, k)!r}")
        if (
            self.lower.reference is self.upper.reference
            and not self.lower.value_m < self.upper.value_m
        ):
            raise LowerAboveUpperError(
                f"{self.identifier}: lower limit {self.lower.value_m:g} m {self.lower.reference.value} "
                f"is not below upper limit {self.upper.value_m:g} m {self.upper.reference.value}"
            )
        if not isinstance(self.validity, Validity):
            raise GeofenceFormatError(f"validity must be a Validity, got {self.validity!r}")
        if (
            isinstance(self.reason_codes, str | bytes)
            or not isinstance(self.reason_codes, Iterable)
            or not all(isinstance(c, str) for c in self.reason_codes)
        ):
            raise GeofenceFormatError(f"{self.identifier}: reason_codes must be a list of strings")
        for k in ("name", "reason", "authority", "source_id", "country"):
            if not isinstance(getattr(self, k), str):
                raise GeofenceFormatError(f"{self.identifier}: {k} must be a string")
        object.__setattr__(self, "reason_codes", tuple(self.reason_codes))
        if (self.polygon is None) == (self.circle is None):
            raise DegenerateGeometryError(
                f"{self.identifier}: give exactly one of polygon and circle"
            )
        if self.circle is not None:
            self._check_circle()
        else:
            self._check_polygon()

    def _check_circle(self) -> None:
        c = self.circle
        if not isinstance(c, Circle):
            raise GeofenceFormatError(f"circle must be a Circle, got {c!r}")
        try:
            lon, lat, r = float(c.lon), float(c.lat), float(c.radius_m)
        except (TypeError, ValueError):
            raise GeofenceFormatError(f"{self.identifier}: circle values must be numbers") from None
        _check_coords(np.array([lon]), np.array([lat]), f"{self.identifier} circle centre")
        if not (math.isfinite(r) and r >= MIN_RADIUS_M):
            raise NonPositiveRadiusError(
                f"{self.identifier}: radius must be a number of metres >= {MIN_RADIUS_M:g}, got {r}"
            )
        if r > MAX_RADIUS_M:
            raise RadiusTooLargeError(
                f"{self.identifier}: radius {r:g} m exceeds {MAX_RADIUS_M:g} m; describe it as a polygon"
            )
        if abs(lat) + r / _M_PER_DEG_LAT > 89.0:
            raise CoordinateRangeError(f"{self.identifier}: circle reaches too close to a pole")
        object.__setattr__(self, "circle", Circle(lon, lat, r))
        lons = shapely.get_coordinates(self.footprint)[:, 0]
        if np.ptp(lons) > 180 or np.abs(lons).max() > 180:
            raise CoordinateRangeError(
                f"{self.identifier}: circles crossing the antimeridian (180 deg "
                "of longitude) are not supported"
            )

    def _check_polygon(self) -> None:
        try:
            arr = np.asarray(self.polygon, dtype=float)
        except (TypeError, ValueError):
            raise GeofenceFormatError(
                f"{self.identifier}: polygon must be a sequence of (lon, lat) pairs"
            ) from None
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise GeofenceFormatError(
                f"{self.identifier}: polygon must be a sequence of (lon, lat) pairs, got shape {arr.shape}"
            )
        if len(arr) > 1 and np.array_equal(arr[0], arr[-1]):
            arr = arr[:-1]
        _check_coords(arr[:, 0], arr[:, 1], f"{self.identifier} polygon")
        if len(arr) > self.max_vertices:
            raise TooManyVerticesError(
                f"{self.identifier}: polygon has {len(arr)} vertices, the limit is {self.max_vertices}"
            )
        if len(np.unique(arr, axis=0)) < 3:
            raise DegenerateGeometryError(
                f"{self.identifier}: a polygon needs at least 3 distinct vertices"
            )
        if np.ptp(arr[:, 0]) > 180:
            raise CoordinateRangeError(
                f"{self.identifier}: polygons spanning more than 180 deg of longitude "
                "(antimeridian) are not supported"
            )
        ring = shapely.LinearRing(arr)
        if not ring.is_simple:
            raise SelfIntersectingRingError(
                f"{self.identifier}: the polygon ring intersects itself ({shapely.is_valid_reason(shapely.Polygon(ring))})"
            )
        if shapely.Polygon(ring).area <= _MIN_AREA_DEG2:
            raise DegenerateGeometryError(
                f"{self.identifier}: the polygon has no area (collinear vertices)"
            )
        if not ring.is_ccw:
            arr = arr[::-1]
        object.__setattr__(self, "polygon", tuple((float(x), float(y)) for x, y in arr))

    # -- geometry ---------------------------------------------------------------------
    @cached_property
    def footprint(self) -> shapely.Polygon:
        """The horizontal extent, a shapely Polygon in lon/lat degrees.

        A polygon is used as given (edges straight in lon/lat). A circle becomes a
        :data:`CIRCLE_SEGMENTS`-gon circumscribing a circle of radius
        ``r * (1 + BUFFER_SAFETY)`` in a local stereographic plane, so the
        footprint contains every point within ``r`` metres of the centre.
        """
        if self.polygon is not None:
            return shapely.Polygon(self.polygon)
        c = self.circle
        n = CIRCLE_SEGMENTS
        rr = c.radius_m * (1.0 + BUFFER_SAFETY) / math.cos(math.pi / n)
        ang = np.arange(n) * (2 * math.pi / n)
        _, inv = local_metric(c.lon, c.lat)
        lon, lat = inv.transform(rr * np.cos(ang), rr * np.sin(ang))
        return shapely.Polygon(np.column_stack([lon, lat]))

    @property
    def vertex_count(self) -> int:
        """Vertices of the footprint polygon."""
        return len(self.footprint.exterior.coords) - 1

    # -- vertical ---------------------------------------------------------------------
    @property
    def uses_terrain(self) -> bool:
        """Whether a limit is in true height (needs terrain to resolve)."""
        return Reference.AGL in (self.lower.reference, self.upper.reference)

    @property
    def uses_geoid(self) -> bool:
        """Whether a limit is above the WGS84 ellipsoid (needs the geoid to resolve)."""
        return Reference.W84 in (self.lower.reference, self.upper.reference)

    @cached_property
    def undulation_bounds(self) -> tuple[float, float]:
        """(least, greatest) geoid undulation over the footprint's box, widened by :data:`GEOID_GRID_ERROR_M`.

        (0, 0) when no limit is ``W84``.

        Raises
        ------
        airgrid.terrain.geoid.GeoidError
            The footprint lies outside the geoid grid.
        """
        if not self.uses_geoid:
            return 0.0, 0.0
        from airgrid.terrain.geoid import default_geoid

        n_min, n_max = default_geoid().undulation_range(*self.footprint.bounds)
        return n_min - GEOID_GRID_ERROR_M, n_max + GEOID_GRID_ERROR_M

    def resolve_limits(self, low: float | np.ndarray, high: float | np.ndarray) -> tuple:
        """Floor and ceiling in metres AMSL over ground bounds ``(low, high)``, both on the safe side.

        The floor is the lower limit over the lowest ground (AGL) or with the greatest
        undulation (W84); the ceiling the upper limit over the highest ground or with
        the least undulation.
        """
        n_min, n_max = self.undulation_bounds
        return self.lower.resolve(low, n_max), self.upper.resolve(high, n_min)

    def amsl_band(self, ground: Ground = None) -> tuple[float, float]:
        """The altitude band in metres AMSL, resolved conservatively.

        Parameters
        ----------
        ground
            The terrain under the footprint, as

            * ``None``: no terrain; only valid for AMSL limits, else the Earth-wide
              extremes :data:`EARTH_GROUND_MIN_M` / :data:`EARTH_GROUND_MAX_M` are used,
            * a number: one ground height for both limits,
            * ``(low, high)``: lowest and highest ground under the footprint,
            * a :class:`~airgrid.terrain.Dem`: DEM pixels touching the footprint's
              bounding box, minus / plus the DEM's uncertainty margin,
            * a :class:`~airgrid.airspace.grid.voxels.Grid`: over every grid cell (all tiers)
              overlapping the footprint, ``min(cell_g_lo)`` and ``max(cell_g_hi)``.

        Returns
        -------
        (floor_m, ceiling_m)
            AGL lower limits are added to the lowest ground, AGL upper limits to the
            highest, so the band contains the true one. May be empty
            (``floor > ceiling``) only with mixed references.

        Raises
        ------
        OutsideGridError
            A grid has no cell under the footprint.
        airgrid.terrain.OutsideCoverageError
            The DEM does not cover the footprint.
        """
        low, high = self.ground_bounds(ground)
        lo, hi = self.resolve_limits(low, high)
        return float(lo), float(hi)

    def ground_bounds(self, ground: Ground) -> tuple[float, float]:
        """(lowest, highest) plausible ground under the footprint; see :meth:`amsl_band`."""
        if not self.uses_terrain:
            return 0.0, 0.0
        if ground is None:
            return EARTH_GROUND_MIN_M, EARTH_GROUND_MAX_M
        if isinstance(ground, Dem):
            return dem_bounds(ground, *self.footprint.bounds)
        if isinstance(ground, Grid):
            lows, highs = [], []
            for t, tier in enumerate(ground.tiers):
                ci = ground.find_cells(footprint_cells(self.footprint, tier.resolution), t)
                ci = ci[ci >= 0]
                lows.append(ground.cell_g_lo[ci])
                highs.append(ground.cell_g_hi[ci])
            lo, hi = np.concatenate(lows), np.concatenate(highs)
            if len(lo) == 0:
                raise OutsideGridError(
                    f"{self.identifier}: the grid has no cell under the geofence"
                )
            return float(lo.min()), float(hi.max())
        if isinstance(ground, tuple):
            lo, hi = (float(g) for g in ground)
            if not lo <= hi:
                raise GeofenceError(
                    f"ground bounds must be (low, high) with low <= high, got {ground}"
                )
            return lo, hi
        g = float(ground)
        return g, g

    # -- time ---------------------------------------------------------------------------
    def is_active(self, t: float | datetime) -> bool:
        """Whether the geofence is active at ``t`` (POSIX seconds or aware datetime).

        Window ends and daily-period ends count as active (closed intervals).
        """
        return self.validity.is_active(t)

    def active_intervals(
        self, t0: float | datetime, t1: float | datetime
    ) -> list[tuple[float, float]]:
        """Closed active intervals within ``[t0, t1]``, POSIX seconds, merged and sorted."""
        return self.validity.intervals(t0, t1)

    def to_volumes(
        self, ground: Ground, t0: float | datetime, t1: float | datetime
    ) -> list[Volume4D]:
        """The geofence as 4D volumes over ``[t0, t1]`` (one per active interval).

        Zero-length active intervals (a window touching ``t0`` or ``t1``) are widened
        by one second, because a :class:`Volume4D` needs ``t_start < t_end``.
        Returns nothing where the band is empty (mixed references over high ground).
        """
        lo, hi = self.amsl_band(ground)
        if not lo < hi:
            return []
        return [
            Volume4D(self.footprint, lo, hi, s, e if e > s else s + 1.0)
            for s, e in self.active_intervals(t0, t1)
        ]

    # -- GeoJSON ----------------------------------------------------------------------
    def to_geojson_feature(self) -> dict:
        """RFC 7946 Feature; see :func:`airgrid.airspace.geofences.io.geofence_to_feature`."""
        from airgrid.airspace.geofences.io import geofence_to_feature

        return geofence_to_feature(self)

    @classmethod
    def from_geojson_feature(
        cls, feature: dict, *, max_vertices: int = DEFAULT_MAX_VERTICES
    ) -> Geofence:
        """Inverse of :meth:`to_geojson_feature`; see :func:`airgrid.airspace.geofences.io.feature_to_geofence`."""
        from airgrid.airspace.geofences.io import feature_to_geofence

        return feature_to_geofence(feature, max_vertices=max_vertices)


# -- terrain bounds -------------------------------------------------------------------
def dem_bounds(
    dem: Dem, west: float, south: float, east: float, north: float
) -> tuple[float, float]:
    """Lowest and highest plausible ground in a lon/lat box, from a DEM.

    The rule of :func:`airgrid.terrain.bounds.box_ground_bounds`: the DEM pixels
    touching the box grown by one pixel, each widened by its downward and upward
    uncertainty margins.

    Raises
    ------
    airgrid.terrain.OutsideCoverageError
        The box is not inside the DEM.
    airgrid.terrain.NoDataError
        Only voids under the box.
    """
    from airgrid.terrain.bounds import box_ground_bounds
    from airgrid.terrain.errors import NoDataError, OutsideCoverageError

    lo, hi, inside = box_ground_bounds(dem, west, south, east, north)
    if not inside[0]:
        raise OutsideCoverageError(
            f"box {west:.5f},{south:.5f},{east:.5f},{north:.5f} is not inside the DEM {dem.bounds_lonlat}"
        )
    if np.isnan(lo[0]):
        raise NoDataError("only DEM voids under the geofence")
    return float(lo[0]), float(hi[0])


# -- grid covers ----------------------------------------------------------------------
def _pad_deg(geom: shapely.Geometry, pad_m: float) -> float:
    _, s, _, n = geom.bounds
    coslat = max(math.cos(math.radians(max(abs(s), abs(n)))), 0.01)
    return pad_m / (_M_PER_DEG_LON_EQ * coslat)


def footprint_cells(
    footprint: shapely.Geometry, resolution: int, *, pad_m: float = COVER_PAD_M
) -> np.ndarray:
    """Every H3 cell at ``resolution`` overlapping the footprint grown by ``pad_m`` metres.

    The pad is applied in degrees, never less than ``pad_m`` in any direction, and
    absorbs the difference between H3's spherical cell edges and straight lon/lat
    edges. Sorted unique int64 ids.
    """
    grown = footprint.buffer(
        _pad_deg(footprint, pad_m), quad_segs=4, join_style="mitre", mitre_limit=4.0
    )
    cells = h3.h3shape_to_cells_experimental(
        h3.geo_to_h3shape(mapping(grown)), resolution, contain="overlap"
    )
    return np.unique(np.fromiter((h3.str_to_int(c) for c in cells), np.int64, len(cells)))


def cover_geofence(
    grid: Grid, geofence: Geofence, at_time: float | datetime | None = None
) -> np.ndarray:
    """Voxels of ``grid`` that the geofence may touch.

    Parameters
    ----------
    grid
        The grid.
    geofence
        The geofence.
    at_time
        When given, an inactive geofence covers nothing.

    Returns
    -------
    numpy.ndarray
        Sorted int64 voxel indices.

    Notes
    -----
    Per tier: every cell overlapping the footprint (:func:`footprint_cells`), times
    every layer whose ``[floor, ceiling)`` touches the band resolved *over that cell*:
    AGL lower limits are added to ``cell_g_lo`` (lowest plausible ground), AGL
    upper limits to ``cell_g_hi`` (highest plausible ground).
    Layers touching the band at one altitude count. The cover is therefore a
    superset of the geofence's volume, at every tier.
    """
    if at_time is not None and not geofence.is_active(at_time):
        return np.empty(0, np.int64)
    out = []
    for t, tier in enumerate(grid.tiers):
        ci = grid.find_cells(footprint_cells(geofence.footprint, tier.resolution), t)
        ci = ci[ci >= 0]
        if len(ci) == 0:
            continue
        lo, hi = geofence.resolve_limits(
            grid.cell_g_lo[ci].astype(np.float64), grid.cell_g_hi[ci].astype(np.float64)
        )
        lo = np.broadcast_to(np.asarray(lo, np.float64), (len(ci),))
        hi = np.broadcast_to(np.asarray(hi, np.float64), (len(ci),))
        th = tier.thickness_m
        first = grid.cell_first_layer[ci].astype(np.int64)
        last = first + grid.cell_nlayers[ci].astype(np.int64) - 1
        # layer k spans [k*th, (k+1)*th); it touches [lo, hi] iff (k+1)*th >= lo and k*th <= hi
        klo = np.maximum(first, np.ceil(lo / th - 1.0 - 1e-9).astype(np.int64))
        khi = np.minimum(last, np.floor(hi / th + 1e-9).astype(np.int64))
        cnt = np.maximum(khi - klo + 1, 0)
        if cnt.sum() == 0:
            continue
        base = grid.cell_start[ci].astype(np.int64) + (klo - first)
        starts = np.repeat(base, cnt)
        offs = np.arange(int(cnt.sum()), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        out.append(starts + offs)
    return np.unique(np.concatenate(out)) if out else np.empty(0, np.int64)


def mark_geofences(grid: Grid, geofences: Sequence[Geofence]) -> np.ndarray:
    """Set ``Status.GEOFENCE`` (in place) on voxels covered by permanent prohibited geofences.

    Only geofences that are ``prohibited`` and permanently valid are marked: the
    status bit is static, time-limited geofences are checked per flight (intents).
    Bits already set stay set.

    Returns
    -------
    numpy.ndarray
        Sorted int64 indices of the voxels covered (newly or already marked).
    """
    parts = [
        cover_geofence(grid, g)
        for g in geofences
        if g.category is Category.PROHIBITED and g.validity.permanent
    ]
    idx = np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64)
    grid.status[idx] |= np.uint8(Status.GEOFENCE)
    return idx


__all__ = [
    "CIRCLE_SEGMENTS",
    "COVER_PAD_M",
    "DEFAULT_MAX_VERTICES",
    "DEFAULT_TIMEZONE",
    "Category",
    "Circle",
    "DailyPeriod",
    "Geofence",
    "Limit",
    "Reference",
    "Validity",
    "cover_geofence",
    "dem_bounds",
    "footprint_cells",
    "format_time_of_day",
    "mark_geofences",
    "parse_time_of_day",
    "to_posix",
    "tzinfo_of",
]
