"""Flight intents: 4D reservations, the exact conflict test and the voxel x time-slot keys.

A flight intent is a list of :class:`~airgrid.geo.volumes.Volume4D` held by one
operator at one priority in one tier. This module is pure computation (no storage):

* :func:`route_to_volumes` turns a 4D route (waypoints with times) into volumes along
  its timing profile: "waypoints in, volumes out" (``routing/`` calls it).
* :func:`find_conflicts` is THE verdict: two volumes conflict iff volume A grown by the
  separation minima meets volume B in all four dimensions (details there).
* :class:`KeyScheme` covers every volume, grown by its separation, with voxel x time-slot
  keys. Keys are only an index: intents sharing a key are candidates, and only
  candidates get the exact test. Covers are conservative (a superset), so the index can
  add candidates but never hide a conflict.
* :func:`free_departure_shift` and :func:`free_altitude_offset` find fixes for a
  refused intent.

Decisions where the issue was silent
------------------------------------
* **Closed intervals everywhere.** A gap *equal* to the minimum is a conflict; only a
  strictly larger gap separates (touching grown volumes conflict).
* **Horizontal test by distance.** "A grown by ``lateral`` meets B" is evaluated as
  ``distance(A, B) <= lateral * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M`` in a local
  stereographic plane, which equals intersecting an exact round buffer (no
  polygonal arc approximation), plus a relative and an absolute margin that only add
  conflicts.
* **Separation between tiers** is the larger of the two tiers' minima per dimension.
* **One key lattice for all tiers** (:class:`KeyScheme`: one H3 resolution, one vertical
  key thickness, one slot length), so intents of different tiers whose volumes overlap
  physically always share keys.
"""

from __future__ import annotations

import itertools
import math
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum
from functools import lru_cache
from typing import NamedTuple

import h3.api.basic_int as h3i
import numba as nb
import numpy as np
import shapely
from pyproj import Transformer

from airgrid.airspace.errors import IntentError, RouteError
from airgrid.airspace.traffic.separation import SeparationMinima, SeparationTable
from airgrid.geo.plane import BUFFER_SAFETY, local_metric
from airgrid.geo.validation import check_identifier
from airgrid.geo.volumes import Volume4D

#: Absolute horizontal margin (m) added to every lateral test. Covers the difference between
#: edges straight in lon/lat and straight in the local plane (< 1 cm after densifying to
#: :data:`_DENSIFY_DEG`) and projection round-off, with a wide margin; it only adds conflicts.
LATERAL_TOLERANCE_M = 0.5
#: Extra metres added to the grown footprint before covering it with key cells.
KEY_MARGIN_M = 2.0
#: Arcs of buffers use this many segments per quarter circle.
_QUAD_SEGS = 8
#: Radius factor that makes a polygonal buffer *contain* the true round buffer: the
#: polygon's edges are tangent-outside the circle instead of chords inside it.
_CIRCUMSCRIBE = 1.0 / math.cos(math.pi / (4 * _QUAD_SEGS))
#: Footprints are densified to this edge length (degrees, ~1.1 km) before projection, so
#: an edge straight in lon/lat and the same edge straight in the plane differ by < 1 cm.
_DENSIFY_DEG = 0.01
#: Shortest length of a degree of latitude on the WGS84 ellipsoid (at the equator), m.
_M_PER_DEG_MIN = 110_574.0
#: Local planes are shared by footprints whose centres round to the same multiple of this.
_PLANE_QUANTUM_DEG = 0.2
#: A single volume's footprint may not span more than this (keeps the local plane exact).
MAX_FOOTPRINT_EXTENT_M = 50_000.0
#: An intent may hold at most this many volumes.
MAX_VOLUMES = 5_000
#: Most index keys (or grid voxel-slots) one intent may need; counted before any is made.
MAX_KEYS = 5_000_000
_M_PER_DEG = 111_320.0
_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class Priority(IntEnum):
    """Named priorities (any int 0-1000 is allowed; larger wins)."""

    LEISURE = 10
    COMMERCIAL = 20
    PUBLIC_SERVICE = 30
    MEDICAL = 40


class IntentState(str, Enum):
    """Life cycle: accepted -> activated -> ended; accepted/activated -> cancelled.

    An intent *holds airspace* while accepted or activated. A pre-empted intent is
    cancelled with ``preempted_by`` set (flagged, never deleted).
    """

    ACCEPTED = "accepted"
    ACTIVATED = "activated"
    ENDED = "ended"
    CANCELLED = "cancelled"


#: Allowed transitions (anything else is a :class:`~airgrid.airspace.errors.StateTransitionError`).
TRANSITIONS: dict[IntentState, frozenset[IntentState]] = {
    IntentState.ACCEPTED: frozenset({IntentState.ACTIVATED, IntentState.CANCELLED}),
    IntentState.ACTIVATED: frozenset({IntentState.ENDED, IntentState.CANCELLED}),
    IntentState.ENDED: frozenset(),
    IntentState.CANCELLED: frozenset(),
}
#: States that hold airspace (and keys in the store).
HOLDING = frozenset({IntentState.ACCEPTED, IntentState.ACTIVATED})


class Waypoint(NamedTuple):
    """A 4D route point: WGS84 degrees, metres above mean sea level, POSIX seconds."""

    lat: float
    lon: float
    alt_m: float
    t: float


# -- geometry helpers ---------------------------------------------------------------------


@lru_cache(maxsize=256)
def _plane(qlon: float, qlat: float) -> tuple[Transformer, Transformer]:
    return local_metric(qlon, qlat)


def plane_for(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """Cached local metric plane for a position (centre rounded to 0.2 degrees).

    Footprints are at most :data:`MAX_FOOTPRINT_EXTENT_M` wide and candidates lie next to
    them, so everything projected lies within ~75 km of the plane's centre, where the
    plane overstates distances by at most 0.0034 % and never understates them (see
    :func:`~airgrid.geo.volumes.local_metric`), inside :data:`BUFFER_SAFETY`.
    """
    q = _PLANE_QUANTUM_DEG
    return _plane(round(round(lon / q) * q, 6), round(round(lat / q) * q, 6))


def _apply(tf: Transformer, geoms):
    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = tf.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, fn)


def to_plane(geoms, fwd: Transformer):
    """Project lon/lat geometries (densified first, so lon/lat edges stay faithful)."""
    return _apply(fwd, shapely.segmentize(geoms, _DENSIFY_DEG))


def circle_footprint(lat: float, lon: float, radius_m: float) -> shapely.Polygon:
    """A circle as a lon/lat polygon that contains the true circle.

    The polygon is circumscribed (edges outside the arc) and grown by
    :data:`BUFFER_SAFETY`, so the reserved area is never smaller than asked.

    Raises
    ------
    IntentError
        Radius not positive or larger than half of :data:`MAX_FOOTPRINT_EXTENT_M`,
        coordinates out of range.
    """
    _check_latlon(lat, lon, IntentError)
    if not (isinstance(radius_m, (int, float)) and math.isfinite(radius_m) and radius_m > 0):
        raise IntentError(f"circle radius must be a positive number of metres, got {radius_m!r}")
    if 2 * radius_m > MAX_FOOTPRINT_EXTENT_M:
        raise IntentError(f"circle radius {radius_m} m exceeds {MAX_FOOTPRINT_EXTENT_M / 2:.0f} m")
    _, inv = local_metric(lon, lat)
    disc = shapely.Point(0.0, 0.0).buffer(
        radius_m * (1 + BUFFER_SAFETY) * _CIRCUMSCRIBE, quad_segs=_QUAD_SEGS
    )
    return _apply(inv, disc)


def _check_latlon(lat: float, lon: float, err: type[Exception]) -> None:
    for v in (lat, lon):
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            raise err(f"coordinates must be finite numbers, got lat={lat!r} lon={lon!r}")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise err(f"lat {lat} / lon {lon} out of range")


# -- routes -> volumes --------------------------------------------------------------------


def route_to_volumes(
    waypoints: Sequence[Waypoint | tuple[float, float, float, float]],
    *,
    half_width_m: float,
    half_height_m: float,
    max_piece_m: float = 2_000.0,
    time_margin_s: float = 0.0,
) -> list[Volume4D]:
    """Volumes along a 4D route's timing profile: waypoints in, volumes out.

    Each leg between consecutive waypoints is cut into pieces no longer than
    ``max_piece_m`` (position, altitude and time interpolated linearly). A piece becomes
    one volume: the piece's ground track buffered by ``half_width_m`` (round caps), the
    band from its lowest altitude minus ``half_height_m`` to its highest plus
    ``half_height_m``, and the piece's time window widened by ``time_margin_s``.

    Parameters
    ----------
    waypoints
        ``(lat, lon, alt_m AMSL, t POSIX s)``; at least two; times strictly increasing.
    half_width_m, half_height_m
        Lateral and vertical half-size of the tube the aircraft stays in (> 0).
    max_piece_m
        Longest piece (> 0). Shorter pieces reserve less time per place at the cost of
        more volumes.
    time_margin_s
        Timing uncertainty added on both ends of every piece's window (>= 0).

    Returns
    -------
    list of Volume4D

    Raises
    ------
    RouteError
        Fewer than two waypoints, a value not finite or out of range, times not strictly
        increasing, non-positive sizes, or a piece too large.

    Notes
    -----
    Errs towards safety: the aircraft is assumed anywhere in its piece for the whole
    piece window; buffers are circumscribed polygons grown by :data:`BUFFER_SAFETY`, so
    they contain the exact tube.
    """
    pts = [Waypoint(*w) if not isinstance(w, Waypoint) else w for w in _as_list(waypoints)]
    if len(pts) < 2:
        raise RouteError(f"a route needs at least two waypoints, got {len(pts)}")
    for name, v in (
        ("half_width_m", half_width_m),
        ("half_height_m", half_height_m),
        ("max_piece_m", max_piece_m),
    ):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise RouteError(f"{name} must be a positive number, got {v!r}")
    if not (
        isinstance(time_margin_s, (int, float))
        and math.isfinite(time_margin_s)
        and time_margin_s >= 0
    ):
        raise RouteError(f"time_margin_s must be >= 0, got {time_margin_s!r}")
    if 2 * half_width_m > MAX_FOOTPRINT_EXTENT_M / 2:
        raise RouteError(f"half_width_m {half_width_m} is too large")
    for i, w in enumerate(pts):
        _check_latlon(w.lat, w.lon, RouteError)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (w.alt_m, w.t)):
            raise RouteError(f"waypoint {i}: altitude and time must be finite numbers")
    for i, (a, b) in enumerate(itertools.pairwise(pts)):
        if not b.t > a.t:
            raise RouteError(f"waypoint {i + 1}: time {b.t} is not after {a.t}")
    r = half_width_m * (1 + BUFFER_SAFETY) * _CIRCUMSCRIBE
    legs = []
    pieces = 0.0
    for a, b in itertools.pairwise(pts):
        fwd, inv = plane_for((a.lon + b.lon) / 2, (a.lat + b.lat) / 2)
        (xa, xb), (ya, yb) = fwd.transform([a.lon, b.lon], [a.lat, b.lat])
        length = math.hypot(xb - xa, yb - ya)
        legs.append((a, b, inv, xa, xb, ya, yb, length))
        pieces += max(1.0, length / max_piece_m)
    if pieces > MAX_VOLUMES:  # counted before any piece is built
        raise RouteError(
            f"the route would need {pieces:.3g} pieces of at most {max_piece_m:g} m, more "
            f"than the {MAX_VOLUMES} volumes an intent may hold; raise max_piece_m"
        )
    out: list[Volume4D] = []
    for a, b, inv, xa, xb, ya, yb, length in legs:
        n = max(1, math.ceil(length / max_piece_m))
        f = np.linspace(0.0, 1.0, n + 1)
        xs, ys = xa + f * (xb - xa), ya + f * (yb - ya)
        zs, ts = a.alt_m + f * (b.alt_m - a.alt_m), a.t + f * (b.t - a.t)
        tracks = [
            shapely.LineString([(xs[k], ys[k]), (xs[k + 1], ys[k + 1])])
            if length > 0
            else shapely.Point(xs[k], ys[k])
            for k in range(n)
        ]
        polys = _apply(inv, shapely.buffer(np.array(tracks, dtype=object), r, quad_segs=_QUAD_SEGS))
        for k in range(n):
            out.append(
                Volume4D(
                    polys[k],
                    float(min(zs[k], zs[k + 1]) - half_height_m),
                    float(max(zs[k], zs[k + 1]) + half_height_m),
                    float(ts[k] - time_margin_s),
                    float(ts[k + 1] + time_margin_s),
                )
            )
    return out


def _check_count(n: int, what: str) -> None:
    """Refuse an intent that would need more than :data:`MAX_KEYS` ``what``."""
    if n > MAX_KEYS:
        raise IntentError(
            f"the intent would need {n:.3g} {what}, more than {MAX_KEYS:,}; make it shorter "
            "in time, lower or smaller, or split it"
        )


def _as_list(x) -> list:
    try:
        return list(x)
    except TypeError:
        raise RouteError("waypoints must be a sequence of (lat, lon, alt_m, t)") from None


# -- requests and records -----------------------------------------------------------------


def _validate_volume(i: int, v: object) -> None:
    if not isinstance(v, Volume4D):
        raise IntentError(f"volume {i} is not a Volume4D: {type(v).__name__}")
    if not v.footprint.is_valid:
        raise IntentError(f"volume {i}: invalid footprint ({shapely.is_valid_reason(v.footprint)})")
    w, s, e, n = v.footprint.bounds
    if not (w >= -180 and e <= 180 and s >= -90 and n <= 90):
        raise IntentError(f"volume {i}: footprint coordinates out of range (lon/lat order)")
    lat = (s + n) / 2
    span = max((e - w) * _M_PER_DEG * math.cos(math.radians(lat)), (n - s) * _M_PER_DEG)
    if span > MAX_FOOTPRINT_EXTENT_M:
        raise IntentError(
            f"volume {i}: footprint spans {span / 1000:.0f} km, more than "
            f"{MAX_FOOTPRINT_EXTENT_M / 1000:.0f} km; split it"
        )


@dataclass(frozen=True)
class IntentRequest:
    """What an operator submits.

    Attributes
    ----------
    operator
        Who flies (non-empty, <= 200 characters).
    priority
        Integer 0-1000, larger wins (see :class:`Priority`).
    tier
        Tier name; selects the separation minima (and grid mode).
    volumes
        The 4D volumes (1 .. :data:`MAX_VOLUMES`).
    intent_id
        Optional client id (``[A-Za-z0-9._:-]{1,64}``); a UUID is assigned otherwise.

    Raises
    ------
    IntentError
        Any field invalid (every check runs before anything is stored).
    """

    operator: str
    priority: int
    tier: str
    volumes: tuple[Volume4D, ...]
    intent_id: str | None = None

    def __post_init__(self) -> None:
        if (
            not isinstance(self.operator, str)
            or not self.operator.strip()
            or len(self.operator) > 200
        ):
            raise IntentError("operator must be a non-empty string of at most 200 characters")
        if (
            isinstance(self.priority, bool)
            or not isinstance(self.priority, int)
            or not 0 <= self.priority <= 1000
        ):
            raise IntentError(f"priority must be an integer 0-1000, got {self.priority!r}")
        if not isinstance(self.tier, str) or not self.tier:
            raise IntentError("tier must be a tier name")
        if self.intent_id is not None and (
            not isinstance(self.intent_id, str) or not _ID_RE.match(self.intent_id)
        ):
            raise IntentError(f"intent id must match {_ID_RE.pattern}, got {self.intent_id!r}")
        if self.intent_id is not None:
            check_identifier(self.intent_id, "intent id", IntentError)
        vols = tuple(self.volumes) if not isinstance(self.volumes, Volume4D) else (self.volumes,)
        if not vols:
            raise IntentError("an intent needs at least one volume")
        if len(vols) > MAX_VOLUMES:
            raise IntentError(f"an intent may hold at most {MAX_VOLUMES} volumes, got {len(vols)}")
        for i, v in enumerate(vols):
            _validate_volume(i, v)
        object.__setattr__(self, "volumes", vols)
        object.__setattr__(self, "priority", int(self.priority))

    @classmethod
    def from_route(
        cls,
        operator: str,
        priority: int,
        tier: str,
        waypoints: Sequence[Waypoint | tuple[float, float, float, float]],
        *,
        half_width_m: float,
        half_height_m: float,
        max_piece_m: float = 2_000.0,
        time_margin_s: float = 0.0,
        intent_id: str | None = None,
    ) -> IntentRequest:
        """A request whose volumes come from :func:`route_to_volumes`."""
        vols = route_to_volumes(
            waypoints,
            half_width_m=half_width_m,
            half_height_m=half_height_m,
            max_piece_m=max_piece_m,
            time_margin_s=time_margin_s,
        )
        return cls(operator, priority, tier, tuple(vols), intent_id)

    def shifted(self, seconds: float) -> IntentRequest:
        """The same request ``seconds`` later (a departure-time fix)."""
        return replace(
            self,
            volumes=tuple(
                Volume4D(
                    v.footprint, v.floor_m, v.ceiling_m, v.t_start + seconds, v.t_end + seconds
                )
                for v in self.volumes
            ),
        )

    def raised(self, metres: float) -> IntentRequest:
        """The same request ``metres`` higher (negative: lower) (an altitude fix)."""
        return replace(
            self,
            volumes=tuple(
                Volume4D(v.footprint, v.floor_m + metres, v.ceiling_m + metres, v.t_start, v.t_end)
                for v in self.volumes
            ),
        )

    @property
    def window(self) -> tuple[float, float]:
        """Earliest start and latest end over the volumes."""
        return min(v.t_start for v in self.volumes), max(v.t_end for v in self.volumes)

    def with_id(self) -> IntentRequest:
        """This request with an id (a fresh UUID if it had none)."""
        return self if self.intent_id else replace(self, intent_id=uuid.uuid4().hex)


@dataclass(frozen=True)
class FlightIntent:
    """A stored flight intent.

    Attributes
    ----------
    id, operator, priority, tier, volumes
        As submitted (see :class:`IntentRequest`).
    state
        Life-cycle state (:class:`IntentState`).
    preempted_by
        Id of the higher-priority intent that took this one's airspace, else None.
    reason
        Why the state last changed by someone else's action (pre-emption), else ''.
    created_at, updated_at
        POSIX seconds.
    """

    id: str
    operator: str
    priority: int
    tier: str
    volumes: tuple[Volume4D, ...]
    state: IntentState
    preempted_by: str | None = None
    reason: str = ""
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    @property
    def preempted(self) -> bool:
        """True if a higher-priority intent displaced this one."""
        return self.preempted_by is not None

    @property
    def holds_airspace(self) -> bool:
        """Accepted or activated."""
        return self.state in HOLDING


@dataclass(frozen=True)
class Conflict:
    """One conflict between a volume of the submitted intent and another intent.

    Attributes
    ----------
    other_id, other_operator, other_priority, other_state
        The other intent.
    volume, other_volume
        Indices of the two volumes.
    lat, lon
        Where the conflict is: the centroid of the two footprints' overlap, or, if they
        do not overlap, the middle of the shortest line between them.
    floor_m, ceiling_m
        Altitude band (m AMSL) where the grown volume and the other meet.
    t_start, t_end
        Time window where they meet.
    distance_m
        Horizontal distance between the two footprints (0 when they overlap).
    minima
        The separation that applied.
    preemptable
        True if the submitted intent's priority is higher and the other is only accepted
        (not yet activated): it could be pre-empted.
    """

    other_id: str
    other_operator: str
    other_priority: int
    other_state: IntentState
    volume: int
    other_volume: int
    lat: float
    lon: float
    floor_m: float
    ceiling_m: float
    t_start: float
    t_end: float
    distance_m: float
    minima: SeparationMinima
    preemptable: bool


@dataclass(frozen=True)
class GridConflict:
    """A voxel-slot the submitted intent needs in grid mode that another intent holds.

    Attributes
    ----------
    other_id
        The holder.
    cell, layer, slot
        The voxel (H3 string at the tier's resolution, layer index) and time slot.
    preemptable
        As for :class:`Conflict`.
    """

    other_id: str
    cell: str
    layer: int
    slot: int
    preemptable: bool


@dataclass(frozen=True)
class FixProposal:
    """A change that would make the intent acceptable at answer time (not held).

    Attributes
    ----------
    kind
        ``"departure_shift"`` or ``"altitude_offset"``.
    shift_s
        Seconds to delay every volume (departure shift), else 0.
    offset_m
        Metres to move every volume (altitude offset, negative = down), else 0.
    description
        Human-readable summary.
    """

    kind: str
    shift_s: float
    offset_m: float
    description: str

    def apply(self, request: IntentRequest) -> IntentRequest:
        """The request with this fix applied."""
        return request.shifted(self.shift_s).raised(self.offset_m)


# -- the exact test -----------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """An intent that holds airspace, as seen by the conflict test (a store row)."""

    id: str
    operator: str
    priority: int
    tier: str
    state: IntentState
    volumes: tuple[Volume4D, ...]


def volume_limits(volumes: Sequence[Volume4D]) -> tuple[np.ndarray, np.ndarray]:
    """Footprints (object array) and limits of volumes: per row ``west, south, east, north``
    (the footprint's bounds), ``floor_m, ceiling_m, t_start, t_end`` (shape ``(n, 8)``)."""
    fps = np.array([v.footprint for v in volumes], dtype=object)
    limits = np.empty((len(fps), 8))
    if len(fps):
        limits[:, :4] = shapely.bounds(fps)
        limits[:, 4:] = [(v.floor_m, v.ceiling_m, v.t_start, v.t_end) for v in volumes]
    return fps, limits


@dataclass(frozen=True)
class HolderVolumes:
    """Holders' volumes flattened for the vectorised conflict test, one row per volume.

    :func:`find_conflicts` builds this from a list of holders
    (:meth:`of`); an index that keeps these arrays anyway passes them directly, and may
    leave out volumes that cannot be in conflict.

    Attributes
    ----------
    holders
        The holders.
    holder, volume
        Per row: index into ``holders`` and into that holder's volumes (int64).
    footprint
        Per row: the volume's footprint (object array).
    limits
        Per row: the volume's limits (see :func:`volume_limits`).
    """

    holders: Sequence[Holder]
    holder: np.ndarray
    volume: np.ndarray
    footprint: np.ndarray
    limits: np.ndarray

    @classmethod
    def of(cls, holders: Sequence[Holder]) -> HolderVolumes:
        """Every volume of ``holders``."""
        idx = [(h, j) for h, holder in enumerate(holders) for j in range(len(holder.volumes))]
        fps, limits = volume_limits([v for holder in holders for v in holder.volumes])
        hv = np.array(idx, np.int64).reshape(-1, 2)
        return cls(holders, hv[:, 0], hv[:, 1], fps, limits)


class _Pairs(NamedTuple):
    i: np.ndarray  # own volume index
    h: np.ndarray  # holder index
    j: np.ndarray  # holder volume index
    lateral: np.ndarray
    vertical: np.ndarray
    seconds: np.ndarray
    dist: np.ndarray
    own_m: np.ndarray  # the pair's own footprint in its local plane (metres)
    oth_m: np.ndarray  # the pair's other footprint in the same plane
    plane: np.ndarray  # index into ``inverses``
    inverses: list[Transformer]  # plane -> lon/lat, per plane


def _arr(vols: Sequence[Volume4D]) -> np.ndarray:
    return np.array(
        [(v.floor_m, v.ceiling_m, v.t_start, v.t_end) for v in vols], np.float64
    ).reshape(-1, 4)


@nb.njit(cache=True, nogil=True)
def _near_boxes(a, b, limit, vertical, seconds, check_vertical, check_time):
    """Pairs (own row i, holder row k) of limits ``a`` and ``b`` (see :func:`volume_limits`)
    whose bands (if ``check_vertical``) and windows (if ``check_time``) meet once grown by
    ``vertical[k]`` and ``seconds[k]``, and whose bounding boxes are at most ``limit[k]``
    metres apart in a plane that never overstates distances (see :func:`_flat_plane`; the
    cosine is taken at the pair's largest latitude); with that latitude per pair."""
    n = a.shape[0] * b.shape[0]
    out_i = np.empty(n, np.int64)
    out_k = np.empty(n, np.int64)
    out_lat = np.empty(n)
    c = 0
    for i in range(a.shape[0]):
        for k in range(b.shape[0]):
            if check_vertical and not (
                a[i, 4] - vertical[k] <= b[k, 5] and b[k, 4] <= a[i, 5] + vertical[k]
            ):
                continue
            if check_time and not (
                a[i, 6] - seconds[k] <= b[k, 7] and b[k, 6] <= a[i, 7] + seconds[k]
            ):
                continue
            lat = max(abs(a[i, 1]), abs(a[i, 3]), abs(b[k, 1]), abs(b[k, 3]))
            gx = max(0.0, a[i, 0] - b[k, 2], b[k, 0] - a[i, 2])
            gy = max(0.0, a[i, 1] - b[k, 3], b[k, 1] - a[i, 3])
            gap = math.hypot(
                gx * _M_PER_DEG_MIN * math.cos(math.radians(min(lat, 89.0))), gy * _M_PER_DEG_MIN
            )
            if gap <= limit[k]:
                out_i[c] = i
                out_k[c] = k
                out_lat[c] = lat
                c += 1
    return out_i[:c], out_k[:c], out_lat[:c]


def _no_pairs() -> _Pairs:
    z = np.empty(0, np.int64)
    f = np.empty(0)
    o = np.empty(0, object)
    return _Pairs(z, z, z, f, f, f, f, o, o, z, [])


def _volumes(holders: Sequence[Holder] | HolderVolumes) -> HolderVolumes:
    return holders if isinstance(holders, HolderVolumes) else HolderVolumes.of(holders)


def _conflict_pairs(
    own: Sequence[Volume4D],
    own_tier: str,
    hv: HolderVolumes,
    table: SeparationTable,
    *,
    shift_s: float = 0.0,
    offset_m: float = 0.0,
    check_time: bool = True,
    check_vertical: bool = True,
) -> _Pairs:
    if not own or not len(hv.holder):
        return _no_pairs()
    minima = {t: table.between(own_tier, t) for t in {h.tier for h in hv.holders}}
    per_holder = np.array(
        [(m.lateral_m, m.vertical_m, m.seconds) for m in (minima[h.tier] for h in hv.holders)]
    ).reshape(-1, 3)[hv.holder]
    lat_h, ver_h, sec_h = per_holder.T
    own_fp, a = volume_limits(own)
    a[:, 4:] += (offset_m, offset_m, shift_s, shift_s)
    limit = lat_h * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M  # per holder volume
    # two filters that can only drop pairs farther apart than the minimum, before the exact
    # test: bounding boxes in a plane that never overstates distances (see _near_boxes),
    # then the footprints themselves, their distance in degrees times the shortest length of
    # a degree (of longitude, at the largest latitude a shortest path between them can
    # reach), which never overstates either. The latter is compared with the limit grown
    # once more by BUFFER_SAFETY and LATERAL_TOLERANCE_M, which covers the local plane's
    # scale error and its straight edges (both far smaller)
    i, k, lat_max = _near_boxes(a, hv.limits, limit, ver_h, sec_h, check_vertical, check_time)
    if not len(i):
        return _no_pairs()
    reach = limit[k] * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M
    phi = np.minimum(lat_max + reach / _M_PER_DEG_MIN, 89.0)  # a shortest path stays below
    near = shapely.dwithin(
        own_fp[i], hv.footprint[k], reach / (_M_PER_DEG_MIN * np.cos(np.radians(phi)))
    )
    i, k = i[near], k[near]
    # the exact test: distance in the local stereographic plane of the own volume's
    # centre (rounded to _PLANE_QUANTUM_DEG), each footprint projected once per plane
    d = np.empty(len(i))
    own_m = np.empty(len(i), object)
    oth_m = np.empty(len(i), object)
    plane = np.empty(len(i), np.int64)
    inverses = []
    q = np.round(shapely.get_coordinates(shapely.centroid(own_fp[i])) / _PLANE_QUANTUM_DEG).astype(
        np.int64
    )
    groups: dict[tuple[int, int], list[int]] = {}
    for n, key in enumerate(map(tuple, q.tolist())):
        groups.setdefault(key, []).append(n)
    for (qx, qy), members in groups.items():
        fwd, inv = plane_for(qx * _PLANE_QUANTUM_DEG, qy * _PLANE_QUANTUM_DEG)
        own_at: dict[int, int] = {}
        oth_at: dict[int, int] = {}
        ii = [own_at.setdefault(x, len(own_at)) for x in i[members].tolist()]
        kk = [oth_at.setdefault(x, len(oth_at)) for x in k[members].tolist()]
        metric = to_plane(np.concatenate([own_fp[list(own_at)], hv.footprint[list(oth_at)]]), fwd)
        own_m[members] = metric[ii]
        oth_m[members] = metric[[len(own_at) + x for x in kk]]
        d[members] = shapely.distance(own_m[members], oth_m[members])
        plane[members] = len(inverses)
        inverses.append(inv)
    hit = d <= limit[k]
    i, k, d = i[hit], k[hit], d[hit]
    return _Pairs(
        i,
        hv.holder[k],
        hv.volume[k],
        lat_h[k],
        ver_h[k],
        sec_h[k],
        d,
        own_m[hit],
        oth_m[hit],
        plane[hit],
        inverses,
    )


def _where(p: _Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Lat/lon of each pair's conflict: the centroid of the two footprints' overlap where
    they overlap, else the middle of the shortest line between them (where they come
    closest)."""
    lat = np.empty(len(p.i))
    lon = np.empty(len(p.i))
    pts = shapely.centroid(shapely.shortest_line(p.own_m, p.oth_m))
    overlap = p.dist <= 0.0
    if overlap.any():
        pts[overlap] = shapely.centroid(shapely.intersection(p.own_m[overlap], p.oth_m[overlap]))
    xy = shapely.get_coordinates(pts)
    for g, inv in enumerate(p.inverses):
        sel = p.plane == g
        if sel.any():
            lon[sel], lat[sel] = inv.transform(xy[sel, 0], xy[sel, 1])
    return lat, lon


def find_conflicts(
    own: Sequence[Volume4D],
    own_tier: str,
    own_priority: int,
    holders: Sequence[Holder] | HolderVolumes,
    table: SeparationTable,
) -> list[Conflict]:
    """Every (own volume, holder volume) pair in conflict, with where and when.

    Two volumes A (own) and B (a holder's) conflict iff, with ``m`` the stricter of the
    two tiers' minima,

    * horizontally: ``distance(A, B) <= m.lateral_m * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M``
      (distance in a local stereographic plane, 0 if the footprints overlap);
    * vertically: ``A.floor - m.vertical_m <= B.ceiling and B.floor <= A.ceiling + m.vertical_m``;
    * in time: ``A.t_start - m.seconds <= B.t_end and B.t_start <= A.t_end + m.seconds``.

    Parameters
    ----------
    own
        The submitted intent's volumes.
    own_tier, own_priority
        Its tier (for the minima) and priority (for :attr:`Conflict.preemptable`).
    holders
        Intents holding airspace (candidates from an index, or all of them), or their
        volumes already flattened (:class:`HolderVolumes`).
    table
        Separation minima.

    Returns
    -------
    list of Conflict

    Notes
    -----
    All comparisons are closed, so a gap equal to the minimum conflicts, and both margins
    only enlarge the protected distance: errors go towards reporting a conflict.
    """
    table.for_tier(own_tier)
    hv = _volumes(holders)
    p = _conflict_pairs(own, own_tier, hv, table)
    if len(p.i) == 0:
        return []
    lat, lon = _where(p)
    out = []
    minima: dict[tuple[float, float, float], SeparationMinima] = {}
    for n, (i, h, j, lat_m, ver_m, sec_m) in enumerate(
        zip(
            p.i.tolist(),
            p.h.tolist(),
            p.j.tolist(),
            p.lateral.tolist(),
            p.vertical.tolist(),
            p.seconds.tolist(),
        )
    ):
        a = own[i]
        holder = hv.holders[h]
        b = holder.volumes[j]
        m = minima.get((lat_m, ver_m, sec_m))
        if m is None:
            m = minima[lat_m, ver_m, sec_m] = SeparationMinima(lat_m, ver_m, sec_m)
        out.append(
            Conflict(
                other_id=holder.id,
                other_operator=holder.operator,
                other_priority=holder.priority,
                other_state=holder.state,
                volume=i,
                other_volume=j,
                lat=float(lat[n]),
                lon=float(lon[n]),
                floor_m=max(a.floor_m - m.vertical_m, b.floor_m),
                ceiling_m=min(a.ceiling_m + m.vertical_m, b.ceiling_m),
                t_start=max(a.t_start - m.seconds, b.t_start),
                t_end=min(a.t_end + m.seconds, b.t_end),
                distance_m=float(p.dist[n]),
                minima=m,
                preemptable=own_priority > holder.priority and holder.state == IntentState.ACCEPTED,
            )
        )
    return out


def intents_conflict(
    a: Sequence[Volume4D], a_tier: str, b: Sequence[Volume4D], b_tier: str, table: SeparationTable
) -> bool:
    """Whether two intents conflict (any volume pair); symmetric by construction.

    Both directions are tested, so a tiny asymmetry of the local planes can only add a
    conflict.
    """
    ha = Holder("a", "", 0, a_tier, IntentState.ACCEPTED, tuple(a))
    hb = Holder("b", "", 0, b_tier, IntentState.ACCEPTED, tuple(b))
    return (
        len(_conflict_pairs(a, a_tier, HolderVolumes.of([hb]), table).i) > 0
        or len(_conflict_pairs(b, b_tier, HolderVolumes.of([ha]), table).i) > 0
    )


# -- fixes --------------------------------------------------------------------------------


def _first_free(
    lo: np.ndarray, hi: np.ndarray, stop: float, step: float, both: bool
) -> float | None:
    """First non-zero lattice value ``k * step`` (|value| <= stop) outside every closed [lo, hi].

    Candidates go ``step, 2 step, ...``; with ``both``, ``step, -step, 2 step, -2 step, ...``.
    """
    k = np.arange(1, int(stop // step) + 1, dtype=np.float64) * step
    cand = np.column_stack([k, -k]).ravel() if both else k
    if len(lo) == 0:
        return float(cand[0]) if len(cand) else None
    bad = ((cand[:, None] >= lo[None, :]) & (cand[:, None] <= hi[None, :])).any(axis=1)
    free = cand[~bad]
    return float(free[0]) if len(free) else None


def free_departure_shift(
    request: IntentRequest,
    holders: Sequence[Holder] | HolderVolumes,
    table: SeparationTable,
    *,
    step_s: float = 60.0,
    max_shift_s: float = 7_200.0,
    exclude: Iterable[float] = (),
) -> float | None:
    """Smallest delay ``k * step_s`` (0 < delay <= max) free of every holder, or None.

    Pairs that conflict horizontally and vertically forbid the closed interval of delays
    ``[B.t_start - A.t_end - s, B.t_end - A.t_start + s]``; the first lattice delay
    outside all of them is returned. ``holders`` must include every intent whose
    airspace the shifted windows could reach (the caller widens its query by
    ``max_shift_s``). ``exclude`` lists delays to skip (e.g. blocked by a geofence).
    """
    hv = _volumes(holders)
    p = _conflict_pairs(request.volumes, request.tier, hv, table, check_time=False)
    a = _arr(request.volumes)
    lo, hi = [], []
    for n in range(len(p.i)):
        va = a[int(p.i[n])]
        vb = hv.holders[int(p.h[n])].volumes[int(p.j[n])]
        s = float(p.seconds[n])
        lo.append(vb.t_start - va[3] - s)
        hi.append(vb.t_end - va[2] + s)
    for x in exclude:
        lo.append(x)
        hi.append(x)
    return _first_free(np.asarray(lo), np.asarray(hi), max_shift_s, step_s, both=False)


def free_altitude_offset(
    request: IntentRequest,
    holders: Sequence[Holder] | HolderVolumes,
    table: SeparationTable,
    *,
    step_m: float,
    max_offset_m: float = 300.0,
    min_offset_m: float = -math.inf,
    top_offset_m: float = math.inf,
    exclude: Iterable[float] = (),
) -> float | None:
    """Smallest non-zero offset ``+-k * step_m`` (up first on ties) free of every holder,
    not below ``min_offset_m`` (the caller's terrain limit, if it has one) and not above
    ``top_offset_m`` (the caller's band-top limit, if it has one).

    Pairs that conflict horizontally and in time forbid the closed interval
    ``[B.floor - A.ceiling - v, B.ceiling - A.floor + v]``. Terrain is not known here:
    the caller passes ``min_offset_m`` to keep the volumes clear of it.
    """
    hv = _volumes(holders)
    p = _conflict_pairs(request.volumes, request.tier, hv, table, check_vertical=False)
    a = _arr(request.volumes)
    lo, hi = [], []
    for n in range(len(p.i)):
        va = a[int(p.i[n])]
        vb = hv.holders[int(p.h[n])].volumes[int(p.j[n])]
        v = float(p.vertical[n])
        lo.append(vb.floor_m - va[1] - v)
        hi.append(vb.ceiling_m - va[0] + v)
    for x in exclude:
        lo.append(x)
        hi.append(x)
    if min_offset_m > -math.inf:
        lo.append(-math.inf)
        hi.append(math.nextafter(min_offset_m, -math.inf))
    if top_offset_m < math.inf:
        lo.append(math.nextafter(top_offset_m, math.inf))
        hi.append(math.inf)
    return _first_free(np.asarray(lo), np.asarray(hi), max_offset_m, step_m, both=True)


# -- keys ---------------------------------------------------------------------------------

_LAYER_BITS = 8


def pack_keys(
    cells: np.ndarray, layers: np.ndarray, slots: np.ndarray, resolution: int
) -> np.ndarray:
    """int64 key of each (cell, layer, slot) triple, ordered cell-major for locality.

    ``key = cell_bits << (8 + S) | (layer mod 2**8) << S | (slot mod 2**S)`` with
    ``cell_bits`` the 7 + 3r bits that name an H3 cell at resolution ``r`` and
    ``S = 63 - 8 - (7 + 3r)`` (27 bits at r = 7: slots wrap after ~255 years of minutes;
    layers wrap every 256 layers). The same triple always gives the same key; triples
    that differ only by a whole wrap share one, which only adds candidates to the exact
    test, never hides a conflict. Keys of one cell are contiguous, so an intent's keys
    touch few B-tree pages. Arguments broadcast (``cells[:, None, None]`` ... gives a
    Cartesian product).
    """
    cell_bits = 7 + 3 * resolution
    slot_bits = 63 - _LAYER_BITS - cell_bits
    if slot_bits < 8:
        raise IntentError(f"key resolution {resolution} leaves too few bits for time slots")
    c = (np.asarray(cells, np.int64) >> (45 - 3 * resolution)) & ((1 << cell_bits) - 1)
    lay = np.asarray(layers, np.int64) & ((1 << _LAYER_BITS) - 1)
    sl = np.asarray(slots, np.int64) & ((1 << slot_bits) - 1)
    return ((c << (_LAYER_BITS + slot_bits)) | (lay << slot_bits) | sl).ravel()


def _flat_plane(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Origin and per-degree scales of an equirectangular plane for ``geoms`` that never
    overstates a distance: scales are the shortest degree lengths over the bounding box
    (110 574 m of latitude; that times cos(max |lat|) of longitude), so the map is
    1-Lipschitz and buffering by ``r`` there covers every point within ``r`` true metres."""
    w, s, e, n = shapely.total_bounds(geoms)
    origin = np.array([(w + e) / 2, (s + n) / 2])
    coslat = max(math.cos(math.radians(max(abs(s), abs(n)))), 0.01)
    return origin, np.array([_M_PER_DEG_MIN * coslat, _M_PER_DEG_MIN])


def grow_for_keys(footprints: Sequence[shapely.Geometry], metres: float) -> np.ndarray:
    """Supersets of the footprints grown by ``metres`` (for key covers; errs outward).

    Works in :func:`_flat_plane` (an affine map: lon/lat-straight edges stay straight, no
    densifying, distances never overstated). A footprint that fills at least half of its
    minimum rotated rectangle (route pieces, circles) is replaced by that rectangle with
    its sides pushed out by ``metres`` (square corners contain the round buffer); any
    other is buffered by ``metres`` as a circumscribed polygon.
    """
    fps = np.asarray(footprints, dtype=object)
    origin, scale = _flat_plane(fps)
    flat = shapely.transform(fps, lambda xy: (xy - origin) * scale)
    env = shapely.oriented_envelope(flat)
    boxy = (shapely.get_type_id(env) == 3) & (shapely.area(flat) >= 0.5 * shapely.area(env))
    grown = np.empty(len(fps), dtype=object)
    grown[boxy] = shapely.buffer(env[boxy], metres, join_style="mitre", mitre_limit=2.0)
    grown[~boxy] = shapely.buffer(flat[~boxy], metres * _CIRCUMSCRIBE, quad_segs=_QUAD_SEGS)
    return shapely.transform(grown, lambda xy: xy / scale + origin)


def overlap_cells(footprints: Sequence[shapely.Geometry], resolution: int) -> list[np.ndarray]:
    """Per footprint, every H3 cell at ``resolution`` that overlaps it (touching counts).

    A breadth-first search over the cell grid, one ring at a time for all footprints at
    once: it starts from the cell of an interior point of each part of a footprint and its
    neighbours, keeps the cells whose polygon intersects the footprint, and goes on with
    their neighbours. The cells that overlap a connected part form a connected set (two cells
    that are not neighbours do not touch), so the search reaches every one of them. Cell
    edges are taken straight in lon/lat, < 5 cm from H3's at resolution 7, inside
    :data:`KEY_MARGIN_M`; the start ring holds a cell containing the interior point even if
    that point lies within those centimetres of an edge.
    """
    fps = np.asarray(footprints, dtype=object)
    if len(fps) == 0:
        return []
    parts, owner = shapely.get_parts(fps, return_index=True)
    seen: set[tuple[int, int]] = set()
    cells: list[int] = []
    whose: list[int] = []
    for (x, y), k in zip(
        shapely.get_coordinates(shapely.point_on_surface(parts)).tolist(), owner.tolist()
    ):
        for c in h3i.grid_disk(h3i.latlng_to_cell(y, x, resolution), 1):
            if (k, c) not in seen:
                seen.add((k, c))
                cells.append(c)
                whose.append(k)
    keep: list[list[int]] = [[] for _ in fps]
    shapely.prepare(fps)
    while cells:
        hit = shapely.intersects(
            np.array([_cell_polygon(c) for c in cells], dtype=object), fps[whose]
        )
        ring: list[int] = []
        ring_whose: list[int] = []
        for c, k, ok in zip(cells, whose, hit.tolist()):
            if ok:
                keep[k].append(c)
                for n in h3i.grid_disk(c, 1):
                    if (k, n) not in seen:
                        seen.add((k, n))
                        ring.append(n)
                        ring_whose.append(k)
        cells, whose = ring, ring_whose
    return [np.unique(np.asarray(kp, np.int64)) for kp in keep]


def _ragged(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows repeated ``counts`` times: the source row and the offset 0..count-1 of each."""
    idx = np.repeat(np.arange(len(counts)), counts)
    return idx, np.arange(len(idx)) - np.repeat(np.cumsum(counts) - counts, counts)


@lru_cache(maxsize=65536)
def _cell_polygon(cell: int) -> shapely.Polygon:
    return shapely.Polygon([(lng, lat) for lat, lng in h3i.cell_to_boundary(cell)])


@dataclass(frozen=True)
class KeyScheme:
    """The voxel x time-slot key lattice of the index (one for all tiers).

    Attributes
    ----------
    resolution
        H3 resolution of key cells (default 7, ~1.4 km edges): coarse enough that a
        20 km route needs a few hundred keys, fine enough that candidates stay few.
    layer_m
        Vertical key thickness, metres AMSL (layer ``k`` spans ``[k*layer_m, (k+1)*layer_m]``).
    slot_s
        Time-slot length, seconds (slot ``k`` spans ``[k*slot_s, (k+1)*slot_s]``).

    Notes
    -----
    One lattice for all tiers, rather than each tier's own resolution: an intent of tier
    T1 whose band physically reaches into T2 airspace must share keys with T2 intents
    there, which separate lattices would not guarantee.
    """

    resolution: int = 7
    layer_m: float = 50.0
    slot_s: float = 60.0

    def keys(self, volumes: Sequence[Volume4D], minima: SeparationMinima) -> np.ndarray:
        """Sorted unique keys covering every volume grown by ``minima``.

        The footprint is grown by ``lateral * (1 + BUFFER_SAFETY) + KEY_MARGIN_M`` (see
        :func:`grow_for_keys`) and covered by :func:`overlap_cells`; the band grown by
        ``vertical`` and the window grown by ``seconds`` take every layer and slot they
        touch (closed intervals, so a boundary value takes both neighbours).

        For two conflicting intents, the grown cover of the one with the larger minima
        reaches the other's volume, which its own cover contains: they share a key
        (:meth:`~airgrid.airspace.traffic.separation.SeparationTable.cover_minima` makes this hold
        for any table).
        """
        grown = grow_for_keys(
            [v.footprint for v in volumes], minima.lateral_m * (1 + BUFFER_SAFETY) + KEY_MARGIN_M
        )
        cells = overlap_cells(grown, self.resolution)
        a = _arr(volumes)
        l0 = np.floor((a[:, 0] - minima.vertical_m) / self.layer_m).astype(np.int64)
        nl = np.floor((a[:, 1] + minima.vertical_m) / self.layer_m).astype(np.int64) + 1 - l0
        s0 = np.floor((a[:, 2] - minima.seconds) / self.slot_s).astype(np.int64)
        ns = np.floor((a[:, 3] + minima.seconds) / self.slot_s).astype(np.int64) + 1 - s0
        _check_count(sum(len(c) * int(k) * int(m) for c, k, m in zip(cells, nl, ns)), "index keys")
        owner = np.repeat(np.arange(len(cells)), [len(c) for c in cells])
        cell = np.concatenate(cells)
        i1, off1 = _ragged(nl[owner])  # cell x layer
        owner, cell, layer = owner[i1], cell[i1], l0[owner[i1]] + off1
        i2, off2 = _ragged(ns[owner])  # x slot
        keys = pack_keys(cell[i2], layer[i2], s0[owner[i2]] + off2, self.resolution)
        return np.unique(keys)

    def grid_claims(
        self, volumes: Sequence[Volume4D], resolution: int, thickness_m: float
    ) -> np.ndarray:
        """Voxel-slots (cell, layer, slot) an intent occupies in grid mode, unique rows.

        Voxels are the tier's own cells (``resolution``) and layers (``thickness_m``)
        overlapping each volume, unbuffered: in cell-exclusive operation the voxel is the
        separation. Layers and slots are half-open (``[k*t, (k+1)*t)``), like the grid.
        """
        cells = overlap_cells([v.footprint for v in volumes], resolution)
        _check_count(
            sum(
                len(cs)
                * (math.ceil(v.ceiling_m / thickness_m) - math.floor(v.floor_m / thickness_m))
                * (math.ceil(v.t_end / self.slot_s) - math.floor(v.t_start / self.slot_s))
                for v, cs in zip(volumes, cells)
            ),
            "grid voxel-slots",
        )
        parts = []
        for v, cs in zip(volumes, cells):
            lay = np.arange(
                math.floor(v.floor_m / thickness_m), math.ceil(v.ceiling_m / thickness_m)
            )
            sl = np.arange(math.floor(v.t_start / self.slot_s), math.ceil(v.t_end / self.slot_s))
            c3, l3, s3 = np.meshgrid(cs, lay, sl, indexing="ij")
            parts.append(np.column_stack([c3.ravel(), l3.ravel(), s3.ravel()]))
        return np.unique(np.concatenate(parts), axis=0)


__all__ = [
    "HOLDING",
    "KEY_MARGIN_M",
    "LATERAL_TOLERANCE_M",
    "MAX_FOOTPRINT_EXTENT_M",
    "MAX_KEYS",
    "MAX_VOLUMES",
    "TRANSITIONS",
    "Conflict",
    "FixProposal",
    "FlightIntent",
    "GridConflict",
    "Holder",
    "HolderVolumes",
    "IntentRequest",
    "IntentState",
    "KeyScheme",
    "Priority",
    "Waypoint",
    "circle_footprint",
    "find_conflicts",
    "free_altitude_offset",
    "free_departure_shift",
    "grow_for_keys",
    "intents_conflict",
    "overlap_cells",
    "pack_keys",
    "plane_for",
    "route_to_volumes",
    "to_plane",
    "volume_limits",
]
