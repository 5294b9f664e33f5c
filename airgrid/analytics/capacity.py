"""Capacity of a cell by area class (dense urban, suburban, rural), USEPE style.

The capacity of a cell in one time bin, in flights, is
``flights_per_km2_per_hour × class factor × cell area (km²) × bin length (h)``. A cell's
class is the first of the table whose rules it meets; a rule holds when a populated
place of at least ``min_population`` lies within ``radius_km`` of the cell's centre
(great-circle distance). The places are GeoNames' (``hunan_places_geonames.csv``). The
shipped table (``airgrid/data/capacity.toml``):

* dense urban (factor 0.5): within 8 km of a place of 500,000 or more (the prefecture
  cities' cores);
* suburban (factor 0.75): within 20 km of such a place, or within 6 km of a town of
  20,000 or more;
* rural (factor 1.0): everywhere else.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import h3
import numpy as np
import pandas as pd

from airgrid.analytics.errors import AnalyticsInputError
from airgrid.data import DATA_DIR
from airgrid.geo.constants import EARTH_RADIUS_M

#: The shipped capacity table.
DEFAULT_CAPACITY_FILE: Path = DATA_DIR / "capacity.toml"
#: File name of the populated places in a data folder.
PLACES_FILE = "hunan_places_geonames.csv"


@dataclass(frozen=True)
class AreaClass:
    """One area class of the capacity table.

    Attributes
    ----------
    name
        E.g. ``dense_urban``.
    factor
        Multiplies the capacity per km² (> 0).
    rules
        ``(min_population, radius_km)`` pairs; a cell is of this class when any holds
        (an empty tuple holds everywhere).
    """

    name: str
    factor: float
    rules: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class CapacityTable:
    """The capacity model and the hotspot thresholds.

    Attributes
    ----------
    flights_per_km2_per_hour
        Base capacity (> 0).
    classes
        Area classes, first match wins; the last has no rules.
    persistent_share
        A cell over capacity in at least this share of the bins is suggested for one-way
        or layered operation (0 < share <= 1).
    one_way_share
        One-way is suggested when at least this share of the cell's traffic heads one
        compass sector; layered operation otherwise (0 < share <= 1).
    """

    flights_per_km2_per_hour: float
    classes: tuple[AreaClass, ...]
    persistent_share: float = 0.25
    one_way_share: float = 0.6

    def __post_init__(self) -> None:
        if not self.flights_per_km2_per_hour > 0:
            raise AnalyticsInputError("flights_per_km2_per_hour must be positive")
        if not self.classes or self.classes[-1].rules:
            raise AnalyticsInputError("the last area class must have no rules (it takes the rest)")
        for c in self.classes:
            if not c.factor > 0 or any(not (p >= 0 and r > 0) for p, r in c.rules):
                raise AnalyticsInputError(f"area class {c.name!r}: factor and radii must be > 0")
        for share in (self.persistent_share, self.one_way_share):
            if not 0 < share <= 1:
                raise AnalyticsInputError(f"shares must lie in (0, 1], got {share}")

    @classmethod
    def from_toml(cls, path: str | Path = DEFAULT_CAPACITY_FILE) -> CapacityTable:
        """Read a capacity table such as ``airgrid/data/capacity.toml``.

        Raises
        ------
        AnalyticsInputError
            Unreadable or inconsistent table.
        """
        try:
            doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            classes = tuple(
                AreaClass(
                    str(c["name"]),
                    float(c["factor"]),
                    tuple((float(r["min_population"]), float(r["radius_km"])) for r in c["rules"]),
                )
                for c in doc["class"]
            )
            return cls(
                float(doc["flights_per_km2_per_hour"]),
                classes,
                float(doc.get("persistent_share", 0.25)),
                float(doc.get("one_way_share", 0.6)),
            )
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, AnalyticsInputError):
                raise
            raise AnalyticsInputError(f"cannot read capacity table {path}: {exc}") from exc


@dataclass(frozen=True)
class Places:
    """Populated places: degrees and population."""

    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray

    @classmethod
    def read(cls, data_dir: str | Path = DATA_DIR) -> Places:
        """The GeoNames places of ``data_dir``.

        Raises
        ------
        AnalyticsInputError
            The file is missing or lacks a column.
        """
        path = Path(data_dir) / PLACES_FILE
        try:
            df = pd.read_csv(path, usecols=["latitude", "longitude", "population"])
        except (OSError, ValueError) as exc:
            raise AnalyticsInputError(f"cannot read places {path}: {exc}") from exc
        return cls(
            df["latitude"].to_numpy(np.float64),
            df["longitude"].to_numpy(np.float64),
            df["population"].fillna(0).to_numpy(np.float64),
        )


def _near(
    lat: np.ndarray, lon: np.ndarray, places: Places, min_pop: float, radius_km: float
) -> np.ndarray:
    """Whether a place of at least ``min_pop`` lies within ``radius_km`` (great circle) of
    each point."""
    big = places.population >= min_pop
    hit = np.zeros(len(lat), bool)
    p1, c1 = np.radians(lat), np.cos(np.radians(lat))
    limit = np.sin(radius_km * 1000 / (2 * EARTH_RADIUS_M)) ** 2  # haversine of the radius
    for plat, plon in zip(places.lat[big].tolist(), places.lon[big].tolist(), strict=True):
        p2 = np.radians(plat)
        a = np.sin((p2 - p1) / 2) ** 2 + c1 * np.cos(p2) * np.sin(np.radians(plon - lon) / 2) ** 2
        hit |= a <= limit
    return hit


def classify(cells: np.ndarray, table: CapacityTable, places: Places) -> np.ndarray:
    """Index into ``table.classes`` of each H3 cell (int64), by its centre."""
    centres = [h3.cell_to_latlng(h3.int_to_str(c)) for c in np.asarray(cells).tolist()]
    lat = np.array([c[0] for c in centres], np.float64)
    lon = np.array([c[1] for c in centres], np.float64)
    out = np.full(len(lat), len(table.classes) - 1, np.int64)
    for k in range(len(table.classes) - 2, -1, -1):  # earlier classes overwrite later ones
        hit = np.zeros(len(lat), bool)
        for min_pop, radius in table.classes[k].rules:
            hit |= _near(lat, lon, places, min_pop, radius)
        out[hit] = k
    return out


def capacities(
    cells: np.ndarray, areas_m2: np.ndarray, bin_s: float, table: CapacityTable, places: Places
) -> tuple[np.ndarray, np.ndarray]:
    """Area class name and capacity (flights per bin) of each cell.

    Parameters
    ----------
    cells
        H3 cells (int64).
    areas_m2
        Their areas.
    bin_s
        Bin length (s).
    table, places
        The capacity table and the populated places that classify the cells.

    Returns
    -------
    tuple of numpy.ndarray
        Class names (object) and capacities (float64).
    """
    k = classify(cells, table, places)
    factor = np.array([c.factor for c in table.classes])[k]
    names = np.array([c.name for c in table.classes], dtype=object)[k]
    cap = table.flights_per_km2_per_hour * factor * areas_m2 / 1e6 * bin_s / 3600.0
    return names, cap


__all__ = [
    "DEFAULT_CAPACITY_FILE",
    "PLACES_FILE",
    "AreaClass",
    "CapacityTable",
    "Places",
    "capacities",
    "classify",
]
