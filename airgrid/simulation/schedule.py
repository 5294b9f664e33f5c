"""The day's flights: a class, two end voxels and a departure time each.

:func:`make_flights` draws, with one seeded generator, the departure times
(:func:`~airgrid.simulation.departures.departure_times`), each flight's class (by share),
its origin (a demand point by weight, spread over the point's disc, see
:mod:`~airgrid.simulation.demand`) and its destination:

* a hop (last-mile): a uniform distance in the class's range, a uniform bearing;
* intercity: another demand point, by weight, whose distance is in the class's range,
  spread in the same way.

Both ends are snapped to the nearest usable voxel of the class's end tier within
:data:`SNAP_M`, never to a ``no_fly`` voxel: demand inside a prohibited geofence (the
13 km airport zones hold the airports and parts of their towns) is flown from the
zone's edge when that is within :data:`SNAP_M`. Ends are drawn again (up to
:data:`END_TRIES` times) while one finds no voxel, or, when a ``connected`` test is
given, while the two voxels cannot be linked in the class's tiers: much of Hunan's
relief leaves no certain band, and demand goes where the grid serves it. A flight still
without ends takes its class's fallback; if that fails too, it is kept with
``origin == -1`` (or ``destination == -1``) and the report counts it as
refused for want of an endpoint. An intercity origin with no demand point in range flies
a hop of the class's least distance instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from airgrid.airspace.grid import Grid
from airgrid.simulation.demand import (
    DemandPoints,
    VoxelPicker,
    great_circle_m,
    grid_demand,
    offset_point,
)
from airgrid.simulation.departures import departure_times
from airgrid.simulation.mix import DEFAULT_MIX, FlightClass, mix_for_grid

#: Farthest (m) an end is moved to reach a usable voxel of its tier.
SNAP_M = 2_000.0
#: Draws of a flight's ends before it falls back (or is given up as without an endpoint).
END_TRIES = 8


@dataclass(frozen=True)
class Flight:
    """One flight of the day.

    Attributes
    ----------
    index
        Position in the day (departure order).
    cls
        Its :class:`~airgrid.simulation.mix.FlightClass`.
    origin, destination
        Dense voxel indices, -1 when no usable voxel was near.
    departure
        POSIX seconds.
    origin_ll, destination_ll
        The drawn (lat, lon) of the ends, before snapping.
    """

    index: int
    cls: FlightClass
    origin: int
    destination: int
    departure: float
    origin_ll: tuple[float, float]
    destination_ll: tuple[float, float]


def make_flights(
    grid: Grid,
    n: int,
    seed: int,
    day_start: float,
    mix: Sequence[FlightClass] = DEFAULT_MIX,
    demand: DemandPoints | None = None,
    connected: Callable[[FlightClass, int, int], bool] | None = None,
    no_fly: np.ndarray | None = None,
) -> list[Flight]:
    """The day's ``n`` flights over ``grid`` (see the module docstring).

    ``connected(cls, origin, destination)`` says whether a route of class ``cls`` can
    link two voxels (such as :meth:`~airgrid.simulation.planning.FlightPlanner.connected`);
    ``no_fly`` marks the voxels no end may lie in (such as the planner's ``no_fly``).

    Raises
    ------
    TrafficError
        ``n`` negative.
    NoDemandError
        The grid holds no demand point or flies none of the classes.
    """
    rng = np.random.default_rng(seed)
    times = departure_times(n, day_start, rng)
    classes, pickers = mix_for_grid(grid, mix, no_fly)
    by_name = {c.name: c for c in classes}
    pts = demand if demand is not None else grid_demand(grid)
    p_point = pts.weight / pts.weight.sum()
    share = np.array([c.share for c in classes])
    drawn = rng.choice(len(classes), size=n, p=share / share.sum())
    out = []
    for i in range(n):
        c = classes[int(drawn[i])]
        a, b, o, d = _snapped(c, pts, p_point, pickers[c.end_tier], rng, connected)
        if (o < 0 or d < 0) and c.fallback in by_name:
            c = by_name[str(c.fallback)]
            a, b, o, d = _snapped(c, pts, p_point, pickers[c.end_tier], rng, connected)
        out.append(Flight(i, c, o, d, float(times[i]), a, b))
    return out


def _snapped(
    c: FlightClass,
    pts: DemandPoints,
    p_point: np.ndarray,
    picker: VoxelPicker,
    rng: np.random.Generator,
    connected: Callable[[FlightClass, int, int], bool] | None,
) -> tuple[tuple[float, float], tuple[float, float], int, int]:
    """Ends of a flight of class ``c`` and their voxels (-1: none), drawn up to
    :data:`END_TRIES` times until both have a voxel (and are ``connected``)."""
    for _ in range(END_TRIES):
        a, b = _ends(c, pts, p_point, rng)
        o, d = picker.nearest(*a, SNAP_M), picker.nearest(*b, SNAP_M)
        if o >= 0 and d >= 0 and (connected is None or connected(c, o, d)):
            break
    return a, b, o, d


def _spread(pts: DemandPoints, k: int, rng: np.random.Generator) -> tuple[float, float]:
    """A point uniform over the disc of demand point ``k``."""
    return offset_point(
        float(pts.lat[k]),
        float(pts.lon[k]),
        pts.radius(k) * float(np.sqrt(rng.uniform())),
        float(rng.uniform(0, 2 * np.pi)),
    )


def _ends(
    c: FlightClass, pts: DemandPoints, p_point: np.ndarray, rng: np.random.Generator
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Origin and destination (lat, lon) of one flight of class ``c``."""
    k = int(rng.choice(len(pts), p=p_point))
    a = _spread(pts, k, rng)
    if c.intercity:
        dist = great_circle_m(pts.lat[k], pts.lon[k], pts.lat, pts.lon)
        ok = (dist >= c.min_m) & (dist <= c.max_m)
        if ok.any():
            w = np.where(ok, pts.weight, 0.0)
            j = int(rng.choice(len(pts), p=w / w.sum()))
            return a, _spread(pts, j, rng)
    dist_m = float(rng.uniform(c.min_m, c.max_m)) if not c.intercity else c.min_m
    return a, offset_point(*a, dist_m, float(rng.uniform(0, 2 * np.pi)))


__all__ = ["END_TRIES", "SNAP_M", "Flight", "make_flights"]
