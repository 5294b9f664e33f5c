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
``Geofence.to_geojson_feature()`` / ``Geofence.from_geojson_feature(feature)``
    RFC 7946 Feature, round trip exact.
``cover_geofence(grid, geofence, at_time=None) -> int64 voxel indices``
``mark_geofences(grid, geofences) -> int64 voxel indices``
    In :mod:`airgrid.airspace.geofences.cover`; the latter sets ``Status.GEOFENCE`` for
    permanent prohibited geofences.
``Validity``, ``DailyPeriod`` (in :mod:`airgrid.airspace.geofences.schedule`)
    When a geofence is active.
``GeofenceIndex`` (in :mod:`airgrid.airspace.geofences.index`)
    Exact point / batch point / track segment / track / Volume4D checks.

Conservative semantics (every choice errs towards a larger protected volume)
---------------------------------------------------------------------------
* **Horizontal.** Polygon edges are straight lines in lon/lat (RFC 7946). A circle
  of radius ``r`` becomes a regular ``n``-gon (``n = CIRCLE_SEGMENTS``) whose
  vertices lie at ``r / cos(pi/n) * (1 + BUFFER_SAFETY)`` in a local
  stereographic plane centred on the circle (:func:`~airgrid.geo.plane.local_metric`):
  its edges are tangent to a circle larger than ``r``, so it contains the true circle.
* **Vertical.** A limit in true height (``AGL``) is resolved against the terrain so
  the band only grows: the lower limit is added to the *lowest* plausible ground
  (DEM minimum minus its downward margin), the upper limit to the *highest* (DEM
  maximum plus its upward margin, obstacles). A limit above the WGS84 ellipsoid
  (``W84``) becomes AMSL with the EGM96 geoid (:mod:`airgrid.terrain.geoid`): the
  lower limit with the greatest undulation over the footprint's bounding box, the
  upper with the least, each widened by
  :data:`~airgrid.terrain.geoid.GEOID_GRID_ERROR_M`. Bands are
  closed: touching counts.
* **Time.** Validity windows and daily periods are closed intervals: a geofence is
  active at the exact second it starts and at the exact second it ends. Around a
  daylight-saving change an ambiguous local time takes the earliest start and the
  latest end.
* **Grid covers** use H3 *overlap* containment on the footprint grown by
  :data:`~airgrid.airspace.grid.footprint.COVER_PAD_M`, and every layer touching the
  band (:mod:`airgrid.airspace.geofences.cover`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from functools import cached_property

import numpy as np
import shapely

from airgrid.airspace.errors import (
    CoordinateRangeError,
    DegenerateGeometryError,
    GeofenceFormatError,
    LimitValueError,
    LowerAboveUpperError,
    NonPositiveRadiusError,
    RadiusTooLargeError,
    SelfIntersectingRingError,
    TooManyVerticesError,
)
from airgrid.airspace.geofences.ground import Ground, ground_bounds
from airgrid.airspace.geofences.schedule import Validity
from airgrid.geo.circles import disc
from airgrid.geo.constants import M_PER_DEG_LAT_MIN
from airgrid.geo.validation import MIN_RADIUS_M, check_identifier
from airgrid.terrain.geoid import GEOID_GRID_ERROR_M, default_geoid

#: Default limit on polygon vertices (a geofence may set its own ``max_vertices``).
DEFAULT_MAX_VERTICES = 10_000
#: Sides of the polygon that replaces a circle (radius error factor 1/cos(pi/n) - 1 = 3e-4).
CIRCLE_SEGMENTS = 128
#: Largest circle radius: the local plane's scale error stays below 0.002 % within it.
MAX_RADIUS_M = 50_000.0
#: Polygons smaller than this (square degrees, about 0.01 m^2) are collinear up to rounding.
_MIN_AREA_DEG2 = 1e-12


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


def _coerce_enum(cls: type[Enum], value: object, what: str) -> Enum:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
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
        :class:`~airgrid.airspace.geofences.schedule.Validity` (default: permanent).
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
        if abs(lat) + r / M_PER_DEG_LAT_MIN > 89.0:
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
        assert c is not None, "a geofence has a polygon or a circle"
        return disc(c.lon, c.lat, c.radius_m, segments=CIRCLE_SEGMENTS)

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
        """(least, greatest) geoid undulation over the footprint's box, widened by :data:`~airgrid.terrain.geoid.GEOID_GRID_ERROR_M`.

        (0, 0) when no limit is ``W84``.

        Raises
        ------
        airgrid.terrain.geoid.GeoidError
            The footprint lies outside the geoid grid.
        """
        if not self.uses_geoid:
            return 0.0, 0.0
        n_min, n_max = default_geoid().undulation_range(*self.footprint.bounds)
        return n_min - GEOID_GRID_ERROR_M, n_max + GEOID_GRID_ERROR_M

    def resolve_limits(
        self, low: float | np.ndarray, high: float | np.ndarray
    ) -> tuple[float | np.ndarray, float | np.ndarray]:
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
              extremes :data:`~airgrid.airspace.geofences.ground.EARTH_GROUND_MIN_M` /
              :data:`~airgrid.airspace.geofences.ground.EARTH_GROUND_MAX_M` are used,
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
        """(lowest, highest) plausible ground under the footprint; see :meth:`amsl_band`.

        ``(0, 0)`` when no limit is in true height (the ground does not matter then).
        """
        if not self.uses_terrain:
            return 0.0, 0.0
        return ground_bounds(ground, self.footprint, self.identifier)

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

    # -- GeoJSON ----------------------------------------------------------------------
    def to_geojson_feature(self) -> dict:
        """RFC 7946 Feature; see :func:`airgrid.airspace.geofences.formats.geojson.geofence_to_feature`."""
        from airgrid.airspace.geofences.formats.geojson import geofence_to_feature

        return geofence_to_feature(self)

    @classmethod
    def from_geojson_feature(
        cls, feature: dict, *, max_vertices: int = DEFAULT_MAX_VERTICES
    ) -> Geofence:
        """Inverse of :meth:`to_geojson_feature`; see :func:`airgrid.airspace.geofences.formats.geojson.feature_to_geofence`."""
        from airgrid.airspace.geofences.formats.geojson import feature_to_geofence

        return feature_to_geofence(feature, max_vertices=max_vertices)


__all__ = [
    "CIRCLE_SEGMENTS",
    "DEFAULT_MAX_VERTICES",
    "Category",
    "Circle",
    "Geofence",
    "Limit",
    "Reference",
]
