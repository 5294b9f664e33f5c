"""What kinds of flights a traffic day holds: classes with their share, distance range,
tiers, speed and priority.

The default mix (:data:`DEFAULT_MIX`):

* **last-mile, light** (25 %): hops of 2-15 km in T1 and T2 with both ends in T1, the
  light-UAV tier. T1 is flown only where the grid certifies it: a flight of this class
  whose ends have no usable T1 voxel nearby flies as last-mile instead (ends in T2).
* **last-mile** (55 %): hops of 2-15 km in T2 (logistics), ends in T2.
* **intercity** (20 %): 50-300 km between hubs, depots and airports in T3 and T4, ends in
  T3.

With a corridor network, a **corridor** class flies between its nodes in its tier and
takes a share of the day from these (:mod:`airgrid.simulation.corridors`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from airgrid.airspace.grid import Grid
from airgrid.simulation.demand import VoxelPicker
from airgrid.simulation.errors import NoDemandError, TrafficError


@dataclass(frozen=True)
class FlightClass:
    """One kind of flight.

    Attributes
    ----------
    name
        Label in reports.
    share
        Fraction of the day's flights (> 0; a mix's shares are normalised).
    min_m, max_m
        Great-circle distance between origin and destination, metres.
    tiers
        Tiers the route may use.
    end_tier
        Tier both ends lie in.
    fallback
        Name of the class a flight takes when the grid has no usable ``end_tier`` voxel
        near its ends, or None (the flight is then refused for want of an endpoint).
    intercity
        Ends between demand points (True) or a hop from one demand point (False).
    corridor
        Ends at the two ends of a corridor of a network (True; then not ``intercity``).
    cruise_mps
        Cruise speed.
    priority
        Intent priority (0-1000).
    """

    name: str
    share: float
    min_m: float
    max_m: float
    tiers: tuple[str, ...]
    end_tier: str
    fallback: str | None = None
    intercity: bool = False
    cruise_mps: float = 15.0
    priority: int = 20
    corridor: bool = False

    def __post_init__(self) -> None:
        if not (self.share > 0 and 0 < self.min_m <= self.max_m):
            raise TrafficError(f"flight class {self.name!r}: share > 0 and 0 < min_m <= max_m")
        if self.end_tier not in self.tiers:
            raise TrafficError(f"flight class {self.name!r}: end tier must be one of its tiers")
        if self.intercity and self.corridor:
            raise TrafficError(f"flight class {self.name!r}: intercity or corridor, not both")


#: The default mix (see the module docstring).
DEFAULT_MIX: tuple[FlightClass, ...] = (
    FlightClass(
        "last-mile-light", 0.25, 2_000, 15_000, ("T1", "T2"), "T1", "last-mile", False, 12.0
    ),
    FlightClass("last-mile", 0.55, 2_000, 15_000, ("T2",), "T2", None, False, 15.0),
    FlightClass("intercity", 0.20, 50_000, 300_000, ("T3", "T4"), "T3", None, True, 30.0),
)


def mix_for_grid(
    grid: Grid, mix: Sequence[FlightClass] = DEFAULT_MIX, no_fly: np.ndarray | None = None
) -> tuple[list[FlightClass], dict[str, VoxelPicker]]:
    """The classes of ``mix`` that ``grid`` can fly, and a voxel picker per end tier that
    never picks a ``no_fly`` voxel.

    A class whose tiers the grid lacks, or whose end tier has no usable voxel, is left
    out; its share goes to its fallback when it has one, else to the remaining classes
    (shares are normalised when flights are drawn).

    Raises
    ------
    NoDemandError
        No class can be flown on this grid.
    """
    names = {t.name for t in grid.tiers}
    pickers: dict[str, VoxelPicker] = {}
    by_name = {c.name: c for c in mix}
    kept: dict[str, FlightClass] = {}
    moved: dict[str, float] = {}
    for c in mix:
        if set(c.tiers) <= names:
            if c.end_tier not in pickers:
                pickers[c.end_tier] = VoxelPicker(grid, c.end_tier, no_fly)
            if pickers[c.end_tier]:
                kept[c.name] = c
                continue
        if c.fallback is not None and c.fallback in by_name:
            moved[c.fallback] = moved.get(c.fallback, 0.0) + c.share
    if not kept:
        raise NoDemandError(f"the grid's tiers {sorted(names)} fly none of the flight classes")
    out = [
        FlightClass(**{**c.__dict__, "share": c.share + moved.get(c.name, 0.0)})
        for c in kept.values()
    ]
    return out, pickers


__all__ = ["DEFAULT_MIX", "FlightClass", "mix_for_grid"]
