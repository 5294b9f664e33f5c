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
    tracks: list[shapely.Geometry] = []
    limits: list[tuple[float, float, float, float]] = []
    plane: list[int] = []
    legs, inverses = _legs(pts, max_piece_m)
    for leg in legs:
        a, b, p, xa, xb, ya, yb, length = leg
        n = max(1, math.ceil(length / max_piece_m))
        f = np.linspace(0.0, 1.0, n + 1)
        xs, ys = xa + f * (xb - xa), ya + f * (yb - ya)
        zs, ts = a.alt_m + f * (b.alt_m - a.alt_m), a.t + f * (b.t - a.t)
        for k in range(n):
            tracks.append(
                shapely.LineString([(xs[k], ys[k]), (xs[k + 1], ys[k + 1])])
                if length > 0
                else shapely.Point(xs[k], ys[k])
            )
            limits.append(
                (
                    float(min(zs[k], zs[k + 1]) - half_height_m),
                    float(max(zs[k], zs[k + 1]) + half_height_m),
                    float(ts[k] - time_margin_s),
                    float(ts[k + 1] + time_margin_s),
                )
            )
            plane.append(p)
    # every piece buffered in one call, and taken back to lon/lat one plane at a time
    polys = shapely.buffer(np.array(tracks, dtype=object), r, quad_segs=QUAD_SEGS)
    of = np.array(plane)
    for p, inv in enumerate(inverses):
        sel = of == p
        polys[sel] = transform(inv, polys[sel])
    return [Volume4D(polys[k], *limits[k]) for k in range(len(polys))]


class _Leg(NamedTuple):
    """A leg between two waypoints, its ends in the leg's local plane (metres)."""

    a: Waypoint
    b: Waypoint
    plane: int  # index into the planes' inverse transforms
    xa: float
    xb: float
    ya: float
    yb: float
    length: float


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


def _legs(pts: Sequence[Waypoint], max_piece_m: float) -> tuple[list[_Leg], list[Transformer]]:
    """The legs of a route, once their pieces are known to fit in :data:`MAX_VOLUMES`, and
    the inverse transforms (plane -> lon/lat) of their planes.

    Each leg lies in the plane of its midpoint (:func:`plane_for`); the legs that share a
    plane are projected in one call."""
    pairs = list(itertools.pairwise(pts))
    planes = [plane_for((a.lon + b.lon) / 2, (a.lat + b.lat) / 2) for a, b in pairs]
    index: dict[int, int] = {}
    for fwd, _ in planes:
        index.setdefault(id(fwd), len(index))
    of = np.array([index[id(fwd)] for fwd, _ in planes])
    inverses = list({id(fwd): inv for fwd, inv in planes}.values())
    forwards = list({id(fwd): fwd for fwd, _ in planes}.values())
    xy = np.empty((len(pairs), 4))  # xa, xb, ya, yb
    lon = np.array([(a.lon, b.lon) for a, b in pairs])
    lat = np.array([(a.lat, b.lat) for a, b in pairs])
    for p, fwd in enumerate(forwards):
        sel = of == p
        x, y = fwd.transform(lon[sel].ravel(), lat[sel].ravel())
        xy[sel, :2] = np.reshape(x, (-1, 2))
        xy[sel, 2:] = np.reshape(y, (-1, 2))
    legs = []
    pieces = 0.0
    for n, (a, b) in enumerate(pairs):
        xa, xb, ya, yb = xy[n].tolist()
        length = math.hypot(xb - xa, yb - ya)
        legs.append(_Leg(a, b, int(of[n]), xa, xb, ya, yb, length))
        pieces += max(1.0, length / max_piece_m)
    if pieces > MAX_VOLUMES:
        raise RouteError(
            f"the route would need {pieces:.3g} pieces of at most {max_piece_m:g} m, more "
            f"than the {MAX_VOLUMES} volumes an intent may hold; raise max_piece_m"
        )
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
