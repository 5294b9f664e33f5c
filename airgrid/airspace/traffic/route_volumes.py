"""Routes into volumes: a 4D route (waypoints with times) becomes the 4D volumes it holds.

"Waypoints in, volumes out": :func:`route_to_volumes` cuts every leg into short pieces
along the route's timing profile and reserves a tube around each piece for the piece's
time window (``routing/`` and :meth:`~airgrid.airspace.traffic.models.IntentRequest.from_route`
call it). The tubes err outward, so they contain the exact one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import shapely
from pyproj import Transformer

from airgrid.airspace.errors import RouteError
from airgrid.airspace.traffic.limits import MAX_FOOTPRINT_EXTENT_M, MAX_VOLUMES
from airgrid.airspace.traffic.planes import CIRCUMSCRIBE, QUAD_SEGS, check_latlon, plane_for
from airgrid.geo.plane import BUFFER_SAFETY, transform
from airgrid.geo.volumes import Volume4D


class Waypoint(NamedTuple):
    """A 4D route point: WGS84 degrees, metres above mean sea level, POSIX seconds."""

    lat: float
    lon: float
    alt_m: float
    t: float


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
    piece window; buffers are circumscribed polygons grown by
    :data:`~airgrid.geo.plane.BUFFER_SAFETY`, so they contain the exact tube.
    """
    pts = _checked_route(waypoints, half_width_m, half_height_m, max_piece_m, time_margin_s)
    r = half_width_m * (1 + BUFFER_SAFETY) * CIRCUMSCRIBE
    legs, inverses = _legs(pts, max_piece_m)
    leg, (x0, x1), (y0, y1), (z0, z1), (t0, t1) = _pieces(legs, max_piece_m)
    tracks = np.empty(len(leg), dtype=object)
    line = legs.length[leg] > 0
    ends = np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)[line]
    tracks[line] = shapely.linestrings(
        ends.reshape(-1, 2), indices=np.repeat(np.arange(len(ends)), 2)
    )
    tracks[~line] = shapely.points(x0[~line], y0[~line])
    # every piece buffered in one call, and taken back to lon/lat one plane at a time
    polys = shapely.buffer(tracks, r, quad_segs=QUAD_SEGS)
    of = legs.plane[leg]
    for p, inv in enumerate(inverses):
        sel = of == p
        polys[sel] = transform(inv, polys[sel])
    limits = zip(
        (np.minimum(z0, z1) - half_height_m).tolist(),
        (np.maximum(z0, z1) + half_height_m).tolist(),
        (t0 - time_margin_s).tolist(),
        (t1 + time_margin_s).tolist(),
    )
    return [Volume4D(poly, *lim) for poly, lim in zip(polys.tolist(), limits)]


#: Where each piece of a leg starts and ends in one coordinate.
_Span = tuple[np.ndarray, np.ndarray]


class _Legs(NamedTuple):
    """The legs between consecutive waypoints, as arrays: each leg's plane (index into
    the planes' inverse transforms), its ends in that plane (metres), their altitudes and
    times, and its length in the plane."""

    plane: np.ndarray
    xa: np.ndarray
    xb: np.ndarray
    ya: np.ndarray
    yb: np.ndarray
    za: np.ndarray
    zb: np.ndarray
    ta: np.ndarray
    tb: np.ndarray
    length: np.ndarray


def _pieces(legs: _Legs, max_piece_m: float) -> tuple[np.ndarray, _Span, _Span, _Span, _Span]:
    """Every leg cut into ``n = max(1, ceil(length / max_piece_m))`` equal pieces: per
    piece, its leg, and the start and end of its x, y, altitude and time.

    Piece ``k`` spans the fractions ``k / n`` to ``(k + 1) / n`` of its leg, computed as
    ``np.linspace`` gives them (``k * (1 / n)``, the last exactly 1)."""
    n = np.maximum(1, np.ceil(legs.length / max_piece_m)).astype(np.int64)
    leg = np.repeat(np.arange(len(n)), n)
    k = np.arange(len(leg)) - np.repeat(np.cumsum(n) - n, n)
    step = 1.0 / n[leg]
    f0, f1 = k * step, np.where(k + 1 == n[leg], 1.0, (k + 1) * step)

    def along(a: np.ndarray, b: np.ndarray) -> _Span:
        return a[leg] + f0 * (b[leg] - a[leg]), a[leg] + f1 * (b[leg] - a[leg])

    return (
        leg,
        along(legs.xa, legs.xb),
        along(legs.ya, legs.yb),
        along(legs.za, legs.zb),
        along(legs.ta, legs.tb),
    )


def _checked_route(
    waypoints: Sequence[Waypoint | tuple[float, float, float, float]],
    half_width_m: float,
    half_height_m: float,
    max_piece_m: float,
    time_margin_s: float,
) -> list[Waypoint]:
    """The waypoints as :class:`Waypoint`, once they and the sizes pass every check of
    :func:`route_to_volumes` (:class:`RouteError` otherwise)."""
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
        check_latlon(w.lat, w.lon, RouteError)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (w.alt_m, w.t)):
            raise RouteError(f"waypoint {i}: altitude and time must be finite numbers")
    for i, (a, b) in enumerate(itertools.pairwise(pts)):
        if not b.t > a.t:
            raise RouteError(f"waypoint {i + 1}: time {b.t} is not after {a.t}")
    return pts


def _legs(pts: Sequence[Waypoint], max_piece_m: float) -> tuple[_Legs, list[Transformer]]:
    """The legs of a route, once their pieces are known to fit in :data:`MAX_VOLUMES`, and
    the inverse transforms (plane -> lon/lat) of their planes.

    Each leg lies in the plane of its midpoint (:func:`plane_for`); the legs that share a
    plane are projected in one call."""
    w = np.array(pts, np.float64)  # lat, lon, alt_m, t
    lat, lon = w[:, 0], w[:, 1]
    mid_lon, mid_lat = (lon[:-1] + lon[1:]) / 2, (lat[:-1] + lat[1:]) / 2
    planes = [plane_for(x, y) for x, y in zip(mid_lon.tolist(), mid_lat.tolist())]
    index: dict[int, int] = {}
    for fwd, _ in planes:
        index.setdefault(id(fwd), len(index))
    of = np.array([index[id(fwd)] for fwd, _ in planes])
    inverses = list({id(fwd): inv for fwd, inv in planes}.values())
    forwards = list({id(fwd): fwd for fwd, _ in planes}.values())
    xy = np.empty((len(planes), 4))  # xa, xb, ya, yb
    ends_lon = np.column_stack([lon[:-1], lon[1:]])
    ends_lat = np.column_stack([lat[:-1], lat[1:]])
    for p, fwd in enumerate(forwards):
        sel = of == p
        x, y = fwd.transform(ends_lon[sel].ravel(), ends_lat[sel].ravel())
        xy[sel, :2] = np.reshape(x, (-1, 2))
        xy[sel, 2:] = np.reshape(y, (-1, 2))
    length = np.hypot(xy[:, 1] - xy[:, 0], xy[:, 3] - xy[:, 2])
    pieces = float(np.maximum(1.0, length / max_piece_m).sum())
    if pieces > MAX_VOLUMES:
        raise RouteError(
            f"the route would need {pieces:.3g} pieces of at most {max_piece_m:g} m, more "
            f"than the {MAX_VOLUMES} volumes an intent may hold; raise max_piece_m"
        )
    alt, t = w[:, 2], w[:, 3]
    xa, xb, ya, yb = xy.T
    legs = _Legs(of, xa, xb, ya, yb, alt[:-1], alt[1:], t[:-1], t[1:], length)
    return legs, inverses


def _as_list(
    x: Iterable[Waypoint | tuple[float, float, float, float]],
) -> list[Waypoint | tuple[float, float, float, float]]:
    """The waypoints as a list (a clear error if they are not iterable)."""
    try:
        return list(x)
    except TypeError:
        raise RouteError("waypoints must be a sequence of (lat, lon, alt_m, t)") from None


__all__ = ["Waypoint", "route_to_volumes"]
