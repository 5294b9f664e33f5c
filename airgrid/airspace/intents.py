"""Flight intents: 4D reservations, the exact conflict test and the voxel x time-slot keys.

A flight intent is a list of :class:`~airgrid.airspace.volumes.Volume4D` held by one
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
  azimuthal-equidistant plane, which equals intersecting an exact round buffer (no
  polygonal arc approximation), plus a relative and an absolute margin that only add
  conflicts.
* **Separation between tiers** is the larger of the two tiers' minima per dimension.
* **One key lattice for all tiers** (:class:`KeyScheme`: one H3 resolution, one vertical
  key thickness, one slot length), so intents of different tiers whose volumes overlap
  physically always share keys.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum
from functools import lru_cache
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import h3.api.basic_int as h3i
import numpy as np
import shapely
from pyproj import Transformer

from airgrid.airspace.errors import IntentError, RouteError
from airgrid.airspace.separation import SeparationMinima, SeparationTable
from airgrid.airspace.volumes import BUFFER_SAFETY, Volume4D, local_metric

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
    azimuthal-equidistant scale error stays below 0.015 %, inside :data:`BUFFER_SAFETY`.
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
    disc = shapely.Point(0.0, 0.0).buffer(radius_m * (1 + BUFFER_SAFETY) * _CIRCUMSCRIBE,
                                          quad_segs=_QUAD_SEGS)
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
    for name, v in (("half_width_m", half_width_m), ("half_height_m", half_height_m),
                    ("max_piece_m", max_piece_m)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise RouteError(f"{name} must be a positive number, got {v!r}")
    if not (isinstance(time_margin_s, (int, float)) and math.isfinite(time_margin_s)
            and time_margin_s >= 0):
        raise RouteError(f"time_margin_s must be >= 0, got {time_margin_s!r}")
    if 2 * half_width_m > MAX_FOOTPRINT_EXTENT_M / 2:
        raise RouteError(f"half_width_m {half_width_m} is too large")
    for i, w in enumerate(pts):
        _check_latlon(w.lat, w.lon, RouteError)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (w.alt_m, w.t)):
            raise RouteError(f"waypoint {i}: altitude and time must be finite numbers")
    for i, (a, b) in enumerate(zip(pts, pts[1:])):
        if not b.t > a.t:
            raise RouteError(f"waypoint {i + 1}: time {b.t} is not after {a.t}")
    r = half_width_m * (1 + BUFFER_SAFETY) * _CIRCUMSCRIBE
    out: list[Volume4D] = []
    for a, b in zip(pts, pts[1:]):
        fwd, inv = plane_for((a.lon + b.lon) / 2, (a.lat + b.lat) / 2)
        (xa, xb), (ya, yb) = fwd.transform([a.lon, b.lon], [a.lat, b.lat])
        length = math.hypot(xb - xa, yb - ya)
        n = max(1, math.ceil(length / max_piece_m))
        f = np.linspace(0.0, 1.0, n + 1)
        xs, ys = xa + f * (xb - xa), ya + f * (yb - ya)
        zs, ts = a.alt_m + f * (b.alt_m - a.alt_m), a.t + f * (b.t - a.t)
        tracks = [shapely.LineString([(xs[k], ys[k]), (xs[k + 1], ys[k + 1])])
                  if length > 0 else shapely.Point(xs[k], ys[k]) for k in range(n)]
        polys = _apply(inv, shapely.buffer(np.array(tracks, dtype=object), r, quad_segs=_QUAD_SEGS))
        for k in range(n):
            out.append(Volume4D(
                polys[k],
                float(min(zs[k], zs[k + 1]) - half_height_m),
                float(max(zs[k], zs[k + 1]) + half_height_m),
                float(ts[k] - time_margin_s),
                float(ts[k + 1] + time_margin_s),
            ))
    return out


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
    if not (-180 <= w and e <= 180 and -90 <= s and n <= 90):
        raise IntentError(f"volume {i}: footprint coordinates out of range (lon/lat order)")
    lat = (s + n) / 2
    span = max((e - w) * _M_PER_DEG * math.cos(math.radians(lat)), (n - s) * _M_PER_DEG)
    if span > MAX_FOOTPRINT_EXTENT_M:
        raise IntentError(f"volume {i}: footprint spans {span / 1000:.0f} km, more than "
                          f"{MAX_FOOTPRINT_EXTENT_M / 1000:.0f} km; split it")


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
        if not isinstance(self.operator, str) or not self.operator.strip() or len(self.operator) > 200:
            raise IntentError("operator must be a non-empty string of at most 200 characters")
        if isinstance(self.priority, bool) or not isinstance(self.priority, int) \
                or not 0 <= self.priority <= 1000:
            raise IntentError(f"priority must be an integer 0-1000, got {self.priority!r}")
        if not isinstance(self.tier, str) or not self.tier:
            raise IntentError("tier must be a tier name")
        if self.intent_id is not None and (not isinstance(self.intent_id, str)
                                           or not _ID_RE.match(self.intent_id)):
            raise IntentError(f"intent id must match {_ID_RE.pattern}, got {self.intent_id!r}")
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
    def from_route(cls, operator: str, priority: int, tier: str,
                   waypoints: Sequence[Waypoint | tuple[float, float, float, float]], *,
                   half_width_m: float, half_height_m: float, max_piece_m: float = 2_000.0,
                   time_margin_s: float = 0.0, intent_id: str | None = None) -> "IntentRequest":
        """A request whose volumes come from :func:`route_to_volumes`."""
        vols = route_to_volumes(waypoints, half_width_m=half_width_m, half_height_m=half_height_m,
                                max_piece_m=max_piece_m, time_margin_s=time_margin_s)
        return cls(operator, priority, tier, tuple(vols), intent_id)

    def shifted(self, seconds: float) -> "IntentRequest":
        """The same request ``seconds`` later (a departure-time fix)."""
        return replace(self, volumes=tuple(
            Volume4D(v.footprint, v.floor_m, v.ceiling_m, v.t_start + seconds, v.t_end + seconds)
            for v in self.volumes))

    def raised(self, metres: float) -> "IntentRequest":
        """The same request ``metres`` higher (negative: lower) (an altitude fix)."""
        return replace(self, volumes=tuple(
            Volume4D(v.footprint, v.floor_m + metres, v.ceiling_m + metres, v.t_start, v.t_end)
            for v in self.volumes))

    @property
    def window(self) -> tuple[float, float]:
        """Earliest start and latest end over the volumes."""
        return min(v.t_start for v in self.volumes), max(v.t_end for v in self.volumes)

    def with_id(self) -> "IntentRequest":
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
        Centroid of (own volume grown by the separation) intersected with the other's
        footprint: where the conflict is.
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


class _Pairs(NamedTuple):
    i: np.ndarray  # own volume index
    h: np.ndarray  # holder index
    j: np.ndarray  # holder volume index
    k: np.ndarray  # index into all holders' volumes, flattened
    lateral: np.ndarray
    vertical: np.ndarray
    seconds: np.ndarray
    dist: np.ndarray


def _flat(holders: Sequence[Holder]) -> tuple[np.ndarray, np.ndarray, list[Volume4D]]:
    hidx, vidx, vols = [], [], []
    for h, holder in enumerate(holders):
        for j, v in enumerate(holder.volumes):
            hidx.append(h)
            vidx.append(j)
            vols.append(v)
    return np.asarray(hidx, np.int64), np.asarray(vidx, np.int64), vols


def _arr(vols: Sequence[Volume4D]) -> np.ndarray:
    return np.array([(v.floor_m, v.ceiling_m, v.t_start, v.t_end) for v in vols],
                    np.float64).reshape(-1, 4)


def _plane_groups(own_fp: np.ndarray, i: np.ndarray):
    """Split pairs (by their own-volume index ``i``) by the local plane of that volume.

    Yields ``(fwd, inv, sel)`` with ``sel`` the positions of the pairs in the group.
    """
    cen = shapely.get_coordinates(shapely.centroid(own_fp))
    q = np.round(cen / _PLANE_QUANTUM_DEG).astype(np.int64)
    groups: dict[tuple[int, int], list[int]] = {}
    for n, key in enumerate(map(tuple, q[i].tolist())):
        groups.setdefault(key, []).append(n)
    for (qx, qy), members in groups.items():
        fwd, inv = plane_for(qx * _PLANE_QUANTUM_DEG, qy * _PLANE_QUANTUM_DEG)
        yield fwd, inv, np.asarray(members)


def _pair_planes(own_fp: np.ndarray, oth_fp: np.ndarray, i: np.ndarray, k: np.ndarray):
    """Per plane group: (inv, sel, own footprints of the pairs, other footprints), in metres."""
    for fwd, inv, sel in _plane_groups(own_fp, i):
        ui, ii = np.unique(i[sel], return_inverse=True)
        uk, kk = np.unique(k[sel], return_inverse=True)
        yield inv, sel, to_plane(own_fp[ui], fwd)[ii], to_plane(oth_fp[uk], fwd)[kk]


def _horizontal_distances(own: Sequence[Volume4D], others: Sequence[Volume4D],
                          i: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Metric distance between own[i] and others[k] footprints, pair by pair."""
    out = np.empty(len(i), np.float64)
    if len(i) == 0:
        return out
    own_fp = np.array([v.footprint for v in own], dtype=object)
    oth_fp = np.array([v.footprint for v in others], dtype=object)
    for _, sel, a, b in _pair_planes(own_fp, oth_fp, i, k):
        out[sel] = shapely.distance(a, b)
    return out


def _where(own_fp: np.ndarray, oth_fp: np.ndarray, i: np.ndarray, k: np.ndarray,
           lateral_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lat/lon of the centroid of (own[i] grown by ``lateral_m``) intersected with others[k]
    (the middle of the shortest line between them when the margins alone make them meet)."""
    lat = np.empty(len(i))
    lon = np.empty(len(i))
    for inv, sel, a, b in _pair_planes(own_fp, oth_fp, i, k):
        grown = shapely.buffer(a, lateral_m[sel] * (1 + BUFFER_SAFETY) * _CIRCUMSCRIBE
                               + LATERAL_TOLERANCE_M, quad_segs=_QUAD_SEGS)
        inter = shapely.intersection(grown, b)
        pts = shapely.centroid(inter)
        empty = shapely.is_empty(inter)
        if empty.any():
            pts[empty] = shapely.centroid(shapely.shortest_line(a[empty], b[empty]))
        xy = shapely.get_coordinates(pts)
        x, y = inv.transform(xy[:, 0], xy[:, 1])
        lon[sel], lat[sel] = x, y
    return lat, lon


def _conflict_pairs(own: Sequence[Volume4D], own_tier: str, holders: Sequence[Holder], table: SeparationTable,
                    *, shift_s: float = 0.0, offset_m: float = 0.0,
                    check_time: bool = True, check_vertical: bool = True) -> _Pairs:
    hidx, vidx, vols = _flat(holders)
    empty = np.empty(0, np.int64)
    if not vols or not own:
        z = np.empty(0)
        return _Pairs(empty, empty, empty, empty, z, z, z, z)
    mins = [table.between(own_tier, holders[h].tier) for h in range(len(holders))]
    lat_h = np.array([m.lateral_m for m in mins])[hidx]
    ver_h = np.array([m.vertical_m for m in mins])[hidx]
    sec_h = np.array([m.seconds for m in mins])[hidx]
    a = _arr(own)
    b = _arr(vols)
    a_f, a_c = a[:, 0:1] + offset_m, a[:, 1:2] + offset_m
    a_s, a_e = a[:, 2:3] + shift_s, a[:, 3:4] + shift_s
    mask = np.ones((len(own), len(vols)), bool)
    if check_vertical:
        mask &= (a_f - ver_h <= b[:, 1]) & (b[:, 0] <= a_c + ver_h)
    if check_time:
        mask &= (a_s - sec_h <= b[:, 3]) & (b[:, 2] <= a_e + sec_h)
    i, k = np.nonzero(mask)
    # bounding boxes first: their gap in a plane that never overstates distances (see
    # _flat_plane) is a lower bound of the true distance, so dropping pairs whose boxes are
    # farther apart than the minimum cannot drop a conflict
    ob = shapely.bounds(np.array([v.footprint for v in own], dtype=object))
    hb = shapely.bounds(np.array([v.footprint for v in vols], dtype=object))
    lat_max = np.maximum(np.abs(ob[i][:, [1, 3]]).max(axis=1), np.abs(hb[k][:, [1, 3]]).max(axis=1))
    gx = np.maximum(0.0, np.maximum(ob[i, 0] - hb[k, 2], hb[k, 0] - ob[i, 2]))
    gy = np.maximum(0.0, np.maximum(ob[i, 1] - hb[k, 3], hb[k, 1] - ob[i, 3]))
    gap = np.hypot(gx * _M_PER_DEG_MIN * np.cos(np.radians(np.minimum(lat_max, 89.0))), gy * _M_PER_DEG_MIN)
    near = gap <= lat_h[k] * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M
    i, k = i[near], k[near]
    d = _horizontal_distances(own, vols, i, k)
    hit = d <= lat_h[k] * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M
    i, k, d = i[hit], k[hit], d[hit]
    return _Pairs(i, hidx[k], vidx[k], k, lat_h[k], ver_h[k], sec_h[k], d)


def find_conflicts(own: Sequence[Volume4D], own_tier: str, own_priority: int,
                   holders: Sequence[Holder], table: SeparationTable) -> list[Conflict]:
    """Every (own volume, holder volume) pair in conflict, with where and when.

    Two volumes A (own) and B (a holder's) conflict iff, with ``m`` the stricter of the
    two tiers' minima,

    * horizontally: ``distance(A, B) <= m.lateral_m * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M``
      (distance in a local azimuthal-equidistant plane, 0 if the footprints overlap);
    * vertically: ``A.floor - m.vertical_m <= B.ceiling and B.floor <= A.ceiling + m.vertical_m``;
    * in time: ``A.t_start - m.seconds <= B.t_end and B.t_start <= A.t_end + m.seconds``.

    Parameters
    ----------
    own
        The submitted intent's volumes.
    own_tier, own_priority
        Its tier (for the minima) and priority (for :attr:`Conflict.preemptable`).
    holders
        Intents holding airspace (candidates from the key index, or all of them).
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
    p = _conflict_pairs(own, own_tier, holders, table)
    if len(p.i) == 0:
        return []
    own_fp = np.array([v.footprint for v in own], dtype=object)
    oth_fp = np.array([v.footprint for v in _flat(holders)[2]], dtype=object)
    lat, lon = _where(own_fp, oth_fp, p.i, p.k, p.lateral)
    out = []
    for n in range(len(p.i)):
        a = own[int(p.i[n])]
        holder = holders[int(p.h[n])]
        b = holder.volumes[int(p.j[n])]
        m = SeparationMinima(float(p.lateral[n]), float(p.vertical[n]), float(p.seconds[n]))
        out.append(Conflict(
            other_id=holder.id, other_operator=holder.operator, other_priority=holder.priority,
            other_state=holder.state, volume=int(p.i[n]), other_volume=int(p.j[n]),
            lat=float(lat[n]), lon=float(lon[n]),
            floor_m=max(a.floor_m - m.vertical_m, b.floor_m),
            ceiling_m=min(a.ceiling_m + m.vertical_m, b.ceiling_m),
            t_start=max(a.t_start - m.seconds, b.t_start), t_end=min(a.t_end + m.seconds, b.t_end),
            distance_m=float(p.dist[n]), minima=m,
            preemptable=own_priority > holder.priority and holder.state == IntentState.ACCEPTED,
        ))
    return out


def intents_conflict(a: Sequence[Volume4D], a_tier: str, b: Sequence[Volume4D], b_tier: str,
                     table: SeparationTable) -> bool:
    """Whether two intents conflict (any volume pair); symmetric by construction.

    Both directions are tested, so a tiny asymmetry of the local planes can only add a
    conflict.
    """
    ha = Holder("a", "", 0, a_tier, IntentState.ACCEPTED, tuple(a))
    hb = Holder("b", "", 0, b_tier, IntentState.ACCEPTED, tuple(b))
    return (len(_conflict_pairs(a, a_tier, [hb], table).i) > 0
            or len(_conflict_pairs(b, b_tier, [ha], table).i) > 0)


# -- fixes --------------------------------------------------------------------------------


def _first_free(lo: np.ndarray, hi: np.ndarray, stop: float, step: float, both: bool) -> float | None:
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


def free_departure_shift(request: IntentRequest, holders: Sequence[Holder], table: SeparationTable,
                         *, step_s: float = 60.0, max_shift_s: float = 7_200.0,
                         exclude: Iterable[float] = ()) -> float | None:
    """Smallest delay ``k * step_s`` (0 < delay <= max) free of every holder, or None.

    Pairs that conflict horizontally and vertically forbid the closed interval of delays
    ``[B.t_start - A.t_end - s, B.t_end - A.t_start + s]``; the first lattice delay
    outside all of them is returned. ``holders`` must include every intent whose
    airspace the shifted windows could reach (the caller widens its query by
    ``max_shift_s``). ``exclude`` lists delays to skip (e.g. blocked by a geofence).
    """
    p = _conflict_pairs(request.volumes, request.tier, holders, table, check_time=False)
    a = _arr(request.volumes)
    lo, hi = [], []
    for n in range(len(p.i)):
        va = a[int(p.i[n])]
        vb = holders[int(p.h[n])].volumes[int(p.j[n])]
        s = float(p.seconds[n])
        lo.append(vb.t_start - va[3] - s)
        hi.append(vb.t_end - va[2] + s)
    for x in exclude:
        lo.append(x)
        hi.append(x)
    return _first_free(np.asarray(lo), np.asarray(hi), max_shift_s, step_s, both=False)


def free_altitude_offset(request: IntentRequest, holders: Sequence[Holder], table: SeparationTable,
                         *, step_m: float, max_offset_m: float = 300.0,
                         exclude: Iterable[float] = ()) -> float | None:
    """Smallest non-zero offset ``+-k * step_m`` (up first on ties) free of every holder.

    Pairs that conflict horizontally and in time forbid the closed interval
    ``[B.floor - A.ceiling - v, B.ceiling - A.floor + v]``. Terrain clearance and tier
    bands are NOT checked here: the caller (which knows the grid) must validate the
    offset before using it.
    """
    p = _conflict_pairs(request.volumes, request.tier, holders, table, check_vertical=False)
    a = _arr(request.volumes)
    lo, hi = [], []
    for n in range(len(p.i)):
        va = a[int(p.i[n])]
        vb = holders[int(p.h[n])].volumes[int(p.j[n])]
        v = float(p.vertical[n])
        lo.append(vb.floor_m - va[1] - v)
        hi.append(vb.ceiling_m - va[0] + v)
    for x in exclude:
        lo.append(x)
        hi.append(x)
    return _first_free(np.asarray(lo), np.asarray(hi), max_offset_m, step_m, both=True)


# -- keys ---------------------------------------------------------------------------------

_LAYER_BITS = 8


def pack_keys(cells: np.ndarray, layers: np.ndarray, slots: np.ndarray, resolution: int) -> np.ndarray:
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
    """Per footprint, every H3 cell at ``resolution`` that overlaps it (a superset).

    Seeds are the cells of samples taken at spacing ``s = 0.6 * e`` (``e`` the shortest
    edge of the cell under the footprints' centre): every ring (exterior and holes)
    sampled along its length, plus an interior lattice (or, for a large footprint, h3's
    centre-in-polygon fill, which holds every cell lying wholly inside). A point of a
    footprint lies within ``0.71 s + 0.5 s = 0.73 e`` of a sample (its nearest lattice
    point, or the ring crossing towards it), and a segment shorter than ``e`` cannot cross
    a whole hexagon, so every overlapping cell is a seed or a seed's neighbour. Neighbours
    are kept if they intersect the footprint (touching counts; cell edges are taken
    straight in lon/lat, < 5 cm from H3's at resolution 7, inside :data:`KEY_MARGIN_M`).

    Errs towards safety: the sampling argument and the neighbour ring can only add cells.
    """
    fps = np.asarray(footprints, dtype=object)
    if len(fps) == 0:
        return []
    w, so, ea, no = shapely.total_bounds(fps)
    e = _min_edge_m(h3i.latlng_to_cell((so + no) / 2, (w + ea) / 2, resolution))
    dy = 0.6 * e / _M_PER_DEG
    coslat = max(math.cos(math.radians(max(abs(so), abs(no)))), 0.01)
    dx = dy / coslat
    parts, pidx = shapely.get_parts(fps, return_index=True)
    rings, ridx = shapely.get_rings(parts, return_index=True)
    owner = pidx[ridx]
    counts = np.floor(shapely.length(rings) / dy).astype(np.int64) + 2
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    dist = (np.arange(counts.sum()) - starts) * dy
    rr = np.repeat(rings, counts)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(rr, np.minimum(dist, shapely.length(rr))))
    sx, sy, so_ = [xy[:, 0]], [xy[:, 1]], [np.repeat(owner, counts)]
    seeds: list[set[int]] = [set() for _ in fps]
    for k, fp in enumerate(fps):
        bw, bs, be, bn = fp.bounds
        nx, ny = int((be - bw) / dx) + 2, int((bn - bs) / dy) + 2
        if nx * ny > 4096:
            seeds[k].update(h3i.geo_to_cells(fp, resolution))
        elif nx > 2 and ny > 2:
            gx, gy = np.meshgrid(bw + dx * np.arange(nx), bs + dy * np.arange(ny))
            sx.append(gx.ravel())
            sy.append(gy.ravel())
            so_.append(np.full(gx.size, k))
    px, py, po = np.concatenate(sx), np.concatenate(sy), np.concatenate(so_)
    n_ring = len(xy)
    inside = np.ones(len(px), bool)
    if len(px) > n_ring:
        inside[n_ring:] = shapely.contains_xy(fps[po[n_ring:]], px[n_ring:], py[n_ring:])
    for x, y, k in zip(px[inside].tolist(), py[inside].tolist(), po[inside].tolist()):
        seeds[k].add(h3i.latlng_to_cell(y, x, resolution))
    cand_cells: list[int] = []
    cand_owner: list[int] = []
    for k, sd in enumerate(seeds):
        ring1: set[int] = set()
        for c in sd:
            ring1.update(h3i.grid_disk(c, 1))
        new = ring1 - sd
        cand_cells.extend(new)
        cand_owner.extend([k] * len(new))
    keep: list[list[int]] = [list(sd) for sd in seeds]
    if cand_cells:
        shapely.prepare(fps)
        hit = shapely.intersects(np.array([_cell_polygon(c) for c in cand_cells], dtype=object),
                                 fps[np.asarray(cand_owner)])
        for c, k, ok in zip(cand_cells, cand_owner, hit.tolist()):
            if ok:
                keep[k].append(c)
    return [np.unique(np.asarray(kp, np.int64)) for kp in keep]


def _ragged(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows repeated ``counts`` times: the source row and the offset 0..count-1 of each."""
    idx = np.repeat(np.arange(len(counts)), counts)
    return idx, np.arange(len(idx)) - np.repeat(np.cumsum(counts) - counts, counts)


@lru_cache(maxsize=4096)
def _min_edge_m(cell: int) -> float:
    return min(h3i.edge_length(x, "m") for x in h3i.origin_to_directed_edges(cell))


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
        (:meth:`~airgrid.airspace.separation.SeparationTable.cover_minima` makes this hold
        for any table).
        """
        grown = grow_for_keys([v.footprint for v in volumes],
                              minima.lateral_m * (1 + BUFFER_SAFETY) + KEY_MARGIN_M)
        cells = overlap_cells(grown, self.resolution)
        a = _arr(volumes)
        l0 = np.floor((a[:, 0] - minima.vertical_m) / self.layer_m).astype(np.int64)
        nl = np.floor((a[:, 1] + minima.vertical_m) / self.layer_m).astype(np.int64) + 1 - l0
        s0 = np.floor((a[:, 2] - minima.seconds) / self.slot_s).astype(np.int64)
        ns = np.floor((a[:, 3] + minima.seconds) / self.slot_s).astype(np.int64) + 1 - s0
        owner = np.repeat(np.arange(len(cells)), [len(c) for c in cells])
        cell = np.concatenate(cells)
        i1, off1 = _ragged(nl[owner])  # cell x layer
        owner, cell, layer = owner[i1], cell[i1], l0[owner[i1]] + off1
        i2, off2 = _ragged(ns[owner])  # x slot
        keys = pack_keys(cell[i2], layer[i2], s0[owner[i2]] + off2, self.resolution)
        return np.unique(keys)

    def grid_claims(self, volumes: Sequence[Volume4D], resolution: int,
                    thickness_m: float) -> np.ndarray:
        """Voxel-slots (cell, layer, slot) an intent occupies in grid mode, unique rows.

        Voxels are the tier's own cells (``resolution``) and layers (``thickness_m``)
        overlapping each volume, unbuffered: in cell-exclusive operation the voxel is the
        separation. Layers and slots are half-open (``[k*t, (k+1)*t)``), like the grid.
        """
        cells = overlap_cells([v.footprint for v in volumes], resolution)
        parts = []
        for v, cs in zip(volumes, cells):
            lay = np.arange(math.floor(v.floor_m / thickness_m),
                            math.ceil(v.ceiling_m / thickness_m))
            sl = np.arange(math.floor(v.t_start / self.slot_s), math.ceil(v.t_end / self.slot_s))
            c3, l3, s3 = np.meshgrid(cs, lay, sl, indexing="ij")
            parts.append(np.column_stack([c3.ravel(), l3.ravel(), s3.ravel()]))
        return np.unique(np.concatenate(parts), axis=0)


__all__ = [
    "HOLDING", "KEY_MARGIN_M", "LATERAL_TOLERANCE_M", "MAX_FOOTPRINT_EXTENT_M", "MAX_VOLUMES",
    "TRANSITIONS", "Conflict", "FixProposal", "FlightIntent", "GridConflict", "Holder",
    "IntentRequest", "IntentState", "KeyScheme", "Priority", "Waypoint",
    "circle_footprint", "find_conflicts", "free_altitude_offset", "free_departure_shift",
    "grow_for_keys", "pack_keys", "intents_conflict", "overlap_cells", "plane_for",
    "route_to_volumes", "to_plane",
]
