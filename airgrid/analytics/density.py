"""Traffic per H3 cell and time bin: count, occupancy, conflicts and refusals.

Volumes are spread over the cells of the tier's resolution by
:func:`~airgrid.analytics.apportion.apportion` (each cell gets the share of the
footprint's area that falls in it) and over the time bins they overlap (each bin gets the
seconds of the volume's window inside it). For one cell and bin:

* ``count``: intents with at least one volume that touches the cell and whose window
  overlaps the bin by a positive time;
* ``occupancy``: the intents' volume-seconds inside the cell (footprint area in the cell
  × the volume's height, ceiling minus floor × seconds in the bin) over the cell's
  volume-seconds (cell area × the tier's band thickness × the bin length); 1.0 means
  the band over the cell was full for the whole bin;
* ``refusals``: refused submissions whose volumes touch the cell in the bin, counted the
  same way;
* ``conflicts``: recorded conflicts (the point where a refused submission met another
  intent or a geofence) in the cell whose interval meets the bin.

Only cells and bins with something to count are listed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import h3
import numpy as np
import pandas as pd
import shapely

from airgrid.airspace.grid.h3index import latlng_to_cells
from airgrid.airspace.grid.tiers import Tier
from airgrid.analytics.apportion import SAMPLES_PER_EDGE, apportion
from airgrid.analytics.errors import AnalyticsInputError
from airgrid.geo.volumes import Volume4D

#: Compass sectors of 45° each, clockwise from north.
SECTORS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


@dataclass(frozen=True)
class Window:
    """Time bins ``[start + k·bin_s, start + (k+1)·bin_s)`` covering ``[start, end)``.

    Attributes
    ----------
    start, end
        POSIX seconds, ``start < end``.
    bin_s
        Bin length (s, > 0); the last bin may reach past ``end``.
    """

    start: float
    end: float
    bin_s: float

    def __post_init__(self) -> None:
        values = (self.start, self.end, self.bin_s)
        if not all(math.isfinite(v) for v in values):
            raise AnalyticsInputError("window start, end and bin length must be finite")
        if self.bin_s <= 0:
            raise AnalyticsInputError(f"bin length must be positive, got {self.bin_s}")
        if self.start >= self.end:
            raise AnalyticsInputError("window start must be before its end")

    @property
    def n_bins(self) -> int:
        """Number of bins."""
        return math.ceil((self.end - self.start) / self.bin_s - 1e-9)


@dataclass(frozen=True)
class Traffic:
    """Volumes of intents (or of refused submissions), one row per volume.

    Attributes
    ----------
    owner
        Which intent each volume belongs to (int64; volumes of one owner consecutive,
        in route order).
    footprint
        Shapely polygons in lon/lat (object array).
    floor_m, ceiling_m, t_start, t_end
        Band (m AMSL) and window (POSIX s) of each volume.
    """

    owner: np.ndarray
    footprint: np.ndarray
    floor_m: np.ndarray
    ceiling_m: np.ndarray
    t_start: np.ndarray
    t_end: np.ndarray

    @classmethod
    def of(cls, intents: Sequence[Sequence[Volume4D]]) -> Traffic:
        """The volumes of each intent in ``intents`` (owner = position in the list)."""
        vols = [v for vs in intents for v in vs]
        owner = np.repeat(np.arange(len(intents)), [len(vs) for vs in intents])
        col = np.array
        return cls(
            owner.astype(np.int64),
            col([v.footprint for v in vols], dtype=object),
            col([v.floor_m for v in vols], np.float64),
            col([v.ceiling_m for v in vols], np.float64),
            col([v.t_start for v in vols], np.float64),
            col([v.t_end for v in vols], np.float64),
        )

    def __len__(self) -> int:
        return len(self.owner)

    def take(self, rows: np.ndarray) -> Traffic:
        """The volumes at ``rows`` (index or boolean mask)."""
        return Traffic(
            self.owner[rows],
            self.footprint[rows],
            self.floor_m[rows],
            self.ceiling_m[rows],
            self.t_start[rows],
            self.t_end[rows],
        )

    def headings(self) -> np.ndarray:
        """Heading (degrees clockwise from north) of each volume: from its centroid to
        the next volume's of the same owner (the last one: from the previous); NaN for an
        owner with one volume."""
        c = shapely.centroid(self.footprint)
        x, y = shapely.get_x(c), shapely.get_y(c)
        dx = np.diff(x) * np.cos(np.radians(y[:-1]))
        dy = np.diff(y)
        same = self.owner[1:] == self.owner[:-1]
        fwd = np.full(len(x), np.nan)
        fwd[:-1] = np.where(same, np.degrees(np.arctan2(dx, dy)), np.nan)
        back = np.full(len(x), np.nan)
        back[1:] = fwd[:-1]
        return np.where(np.isnan(fwd), back, fwd) % 360.0


@dataclass(frozen=True)
class ConflictPoints:
    """Where and when recorded conflicts happened (one row each).

    Attributes
    ----------
    lat, lon
        Degrees.
    t_start, t_end
        The conflict's interval (POSIX s, closed).
    """

    lat: np.ndarray
    lon: np.ndarray
    t_start: np.ndarray
    t_end: np.ndarray


@dataclass(frozen=True)
class Density:
    """What :func:`density` counts.

    Attributes
    ----------
    table
        One row per (cell, bin) with anything counted: ``cell`` (int64 H3), ``bin``
        (index in the window), ``count``, ``occupancy``, ``conflicts``, ``refusals``.
    headings
        Per (``cell``, ``sector`` index into :data:`SECTORS`): ``weight``, the
        volume-seconds of traffic heading that way through the cell over the window.
    window
        The bins.
    tier
        The tier counted.
    cells, cell_area_m2
        The table's distinct cells (sorted int64) and their areas (m²).
    """

    table: pd.DataFrame
    headings: pd.DataFrame
    window: Window
    tier: Tier
    cells: np.ndarray
    cell_area_m2: np.ndarray


def _spread(traffic: Traffic, tier: Tier, window: Window, samples_per_edge: float) -> pd.DataFrame:
    """Rows ``owner, cell, bin, vs, row`` (volume-seconds, volume row) for every volume
    in the window, cell it covers and bin it overlaps."""
    live = np.flatnonzero((traffic.t_end > window.start) & (traffic.t_start < window.end))
    ap = apportion(traffic.footprint[live], tier.resolution, samples_per_edge=samples_per_edge)
    row = live[ap.footprint]
    t0 = np.maximum(traffic.t_start[row], window.start) - window.start
    t1 = np.minimum(traffic.t_end[row], window.end) - window.start
    b0 = np.floor(t0 / window.bin_s).astype(np.int64)
    nb = np.maximum(np.ceil(t1 / window.bin_s).astype(np.int64) - b0, 1)
    pick = np.repeat(np.arange(len(row)), nb)
    b = b0[pick] + np.arange(len(pick)) - np.repeat(np.cumsum(nb) - nb, nb)
    seconds = np.minimum(t1[pick], (b + 1) * window.bin_s) - np.maximum(t0[pick], b * window.bin_s)
    keep = seconds > 0
    pick, b, seconds = pick[keep], b[keep], seconds[keep]
    height = traffic.ceiling_m[row] - traffic.floor_m[row]
    return pd.DataFrame(
        {
            "owner": traffic.owner[row][pick],
            "cell": ap.cell[pick],
            "bin": b,
            "vs": ap.area_m2[pick] * height[pick] * seconds,
            "row": row[pick],
        }
    )


def _counted(spread: pd.DataFrame, name: str) -> pd.Series:
    """Distinct owners per (cell, bin)."""
    owners = spread.drop_duplicates(["cell", "bin", "owner"])
    return owners.groupby(["cell", "bin"]).size().rename(name)


def _conflicts(points: ConflictPoints, tier: Tier, window: Window) -> pd.Series:
    """Recorded conflicts per (cell, bin)."""
    live = (points.t_end >= window.start) & (points.t_start < window.end)
    lat, lon = points.lat[live], points.lon[live]
    cells = latlng_to_cells(lat, lon, tier.resolution)
    b0 = np.floor((np.maximum(points.t_start[live], window.start) - window.start) / window.bin_s)
    b1 = np.floor((np.minimum(points.t_end[live], window.end) - window.start) / window.bin_s)
    b1 = np.minimum(b1, window.n_bins - 1)
    nb = (b1 - b0 + 1).astype(np.int64)
    pick = np.repeat(np.arange(len(cells)), nb)
    b = b0.astype(np.int64)[pick] + np.arange(len(pick)) - np.repeat(np.cumsum(nb) - nb, nb)
    frame = pd.DataFrame({"cell": cells[pick], "bin": b})
    return frame.groupby(["cell", "bin"]).size().rename("conflicts")


def cell_areas_m2(cells: np.ndarray) -> np.ndarray:
    """Area (m²) of each H3 cell (int64)."""
    return np.fromiter(
        (h3.cell_area(h3.int_to_str(c), "m^2") for c in cells.tolist()), np.float64, len(cells)
    )


def density(
    traffic: Traffic,
    tier: Tier,
    window: Window,
    *,
    refused: Traffic | None = None,
    conflicts: ConflictPoints | None = None,
    samples_per_edge: float = SAMPLES_PER_EDGE,
) -> Density:
    """Count traffic, occupancy, refusals and conflicts per cell of ``tier`` and bin.

    Parameters
    ----------
    traffic
        Volumes of the intents that fly (the caller chooses which states count).
    tier
        The tier: its resolution gives the cells, its band thickness the cell volume.
    window
        The time bins.
    refused
        Volumes of refused submissions.
    conflicts
        Recorded conflict points.
    samples_per_edge
        Lattice density of the apportioning (see :mod:`~airgrid.analytics.apportion`).

    Returns
    -------
    Density
    """
    spread = _spread(traffic, tier, window, samples_per_edge)
    parts = [_counted(spread, "count"), spread.groupby(["cell", "bin"])["vs"].sum()]
    if refused is not None and len(refused):
        parts.append(_counted(_spread(refused, tier, window, samples_per_edge), "refusals"))
    if conflicts is not None and len(conflicts.lat):
        parts.append(_conflicts(conflicts, tier, window))
    table = pd.concat(parts, axis=1).fillna(0.0).reset_index()
    for name in ("count", "refusals", "conflicts"):
        table[name] = table[name].astype(np.int64) if name in table else np.int64(0)
    cells = table["cell"].to_numpy(np.int64)
    uniq, inv = np.unique(cells, return_inverse=True)
    areas = cell_areas_m2(uniq)
    cell_vs = areas[inv] * (tier.upper_m - tier.lower_m) * window.bin_s
    table["occupancy"] = table.pop("vs").to_numpy() / cell_vs
    table = table[["cell", "bin", "count", "occupancy", "conflicts", "refusals"]]
    heading = traffic.headings()[spread["row"].to_numpy()]
    sector = np.round(heading / 45.0) % 8
    ok = ~np.isnan(sector)
    headings = (
        pd.DataFrame(
            {
                "cell": spread["cell"][ok],
                "sector": sector[ok].astype(np.int64),
                "weight": spread["vs"][ok],
            }
        )
        .groupby(["cell", "sector"], as_index=False)["weight"]
        .sum()
    )
    table = table.sort_values(["bin", "cell"], ignore_index=True)
    return Density(table, headings, window, tier, uniq, areas)


__all__ = ["SECTORS", "ConflictPoints", "Density", "Traffic", "Window", "cell_areas_m2", "density"]
