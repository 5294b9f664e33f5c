"""Tiers: bands of true height, each with its own H3 resolution and layer thickness.

The one rule that places voxels is :func:`tier_layers`; read its docstring before
changing anything vertical.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from airgrid.airspace.errors import TierTableError


@dataclass(frozen=True)
class Tier:
    """One tier.

    Attributes
    ----------
    name
        Short name (``T1`` ...), unique in its table.
    resolution
        H3 resolution of the tier's cells (0-15), unique in its table.
    lower_m, upper_m
        The band of true height, metres above the ground: every voxel of the tier
        is at least ``lower_m`` above the highest plausible ground at its floor and
        at most ``upper_m`` above the lowest plausible ground at its ceiling.
    thickness_m
        Layer thickness; layer ``k`` spans ``[k*t, (k+1)*t)`` metres AMSL.
    use
        What the tier is for (free text).
    """

    name: str
    resolution: int
    lower_m: float
    upper_m: float
    thickness_m: float
    use: str = ""


#: Default tiers. Sources:
#:
#: * T1 0-120 m, res 10: the State Council / Central Military Commission *Interim
#:   Regulations on the Flight Management of Unmanned Aircraft* (in force 1 Jan 2024)
#:   make airspace below 120 m true height the suitable airspace for light UAVs.
#: * T2 120-300 m, res 9: logistics corridors, above light-UAV traffic and below the
#:   300 m top of the low-altitude band many provincial plans reserve for drones.
#: * T3 300-600 m, res 8: larger UAVs and air commuting (eVTOL), under the 600 m
#:   limit commonly cited for China's low-altitude airspace reform pilots.
#: * T4 600-1000 m, res 7: intercity transport, up to the 1000 m true-height top of
#:   "low-altitude airspace" in CAAC usage.
#:
#: Resolutions follow H3's average edge lengths (res 10 ~66 m, 9 ~174 m, 8 ~461 m,
#: 7 ~1.2 km): finer cells where traffic is dense and slow, coarser above.
DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("T1", 10, 0.0, 120.0, 20.0, "light UAVs, last-mile delivery"),
    Tier("T2", 9, 120.0, 300.0, 20.0, "logistics corridors"),
    Tier("T3", 8, 300.0, 600.0, 50.0, "larger UAVs, air commuting"),
    Tier("T4", 7, 600.0, 1000.0, 100.0, "intercity transport"),
)

DEFAULT_CLEARANCE_M = 30.0


@dataclass(frozen=True)
class TierTable:
    """An ordered, validated set of tiers (lowest band first) and the clearance.

    Parameters
    ----------
    tiers
        Tiers in any order; they are sorted by band.
    clearance_m
        A voxel is usable only if its floor is at least this far above the
        highest plausible ground of its cell.

    Raises
    ------
    TierTableError
        Bands overlap or are empty, a resolution is out of 0-15 or repeated, a
        coarser resolution lies below a finer one, a thickness is not positive.
    """

    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    clearance_m: float = DEFAULT_CLEARANCE_M
    _by_name: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tiers = tuple(sorted(self.tiers, key=lambda t: t.lower_m))
        object.__setattr__(self, "tiers", tiers)
        if not tiers:
            raise TierTableError("a tier table needs at least one tier")
        if not (math.isfinite(self.clearance_m) and self.clearance_m >= 0):
            raise TierTableError(f"clearance_m must be >= 0, got {self.clearance_m}")
        names = [t.name for t in tiers]
        if len(set(names)) != len(names):
            raise TierTableError(f"tier names repeat: {names}")
        res = [t.resolution for t in tiers]
        if len(set(res)) != len(res):
            raise TierTableError(f"each tier needs its own H3 resolution, got {res}")
        for t in tiers:
            if not 0 <= t.resolution <= 15:
                raise TierTableError(f"tier {t.name}: resolution {t.resolution} is outside 0-15")
            if not (math.isfinite(t.lower_m) and math.isfinite(t.upper_m)):
                raise TierTableError(f"tier {t.name}: band limits must be finite")
            if not t.lower_m >= 0:
                raise TierTableError(f"tier {t.name}: lower_m must be >= 0 (true height)")
            if not t.upper_m > t.lower_m:
                raise TierTableError(
                    f"tier {t.name}: upper_m {t.upper_m} must exceed lower_m {t.lower_m}"
                )
            if not (math.isfinite(t.thickness_m) and t.thickness_m > 0):
                raise TierTableError(f"tier {t.name}: thickness_m must be positive")
            if t.thickness_m > t.upper_m - t.lower_m:
                raise TierTableError(f"tier {t.name}: thickness_m exceeds the band height")
        for a, b in itertools.pairwise(tiers):
            if a.upper_m > b.lower_m:
                raise TierTableError(f"bands of {a.name} and {b.name} overlap")
            if a.resolution < b.resolution:
                raise TierTableError(
                    f"{a.name} (res {a.resolution}) lies below {b.name} (res {b.resolution}): "
                    "finer resolutions must be lower tiers"
                )
        object.__setattr__(self, "_by_name", {t.name: i for i, t in enumerate(tiers)})

    def __len__(self) -> int:
        return len(self.tiers)

    def __iter__(self):
        return iter(self.tiers)

    def __getitem__(self, i: int) -> Tier:
        return self.tiers[i]

    def index(self, name: str) -> int:
        """Position of the tier called ``name``.

        Raises
        ------
        TierTableError
            No tier has that name.
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise TierTableError(
                f"no tier named {name!r}; tiers are {list(self._by_name)}"
            ) from None

    def select(self, names: list[str] | None) -> TierTable:
        """A table with only the named tiers (all when ``names`` is empty or None)."""
        if not names:
            return self
        return TierTable(tuple(self.tiers[self.index(n)] for n in names), self.clearance_m)

    def to_dict(self) -> dict:
        """Plain-data form (for grid metadata and the API)."""
        return {
            "clearance_m": self.clearance_m,
            "tier": [t.__dict__.copy() for t in self.tiers],
        }

    @classmethod
    def from_dict(cls, doc: dict) -> TierTable:
        """Build from the plain-data form used in TOML files and grid metadata.

        Raises
        ------
        TierTableError
            Missing or mistyped fields, or an inconsistent table.
        """
        try:
            tiers = tuple(
                Tier(
                    name=str(t["name"]),
                    resolution=int(t["resolution"]),
                    lower_m=float(t["lower_m"]),
                    upper_m=float(t["upper_m"]),
                    thickness_m=float(t["thickness_m"]),
                    use=str(t.get("use", "")),
                )
                for t in doc["tier"]
            )
            clearance = float(doc.get("clearance_m", DEFAULT_CLEARANCE_M))
        except (KeyError, TypeError, ValueError) as exc:
            raise TierTableError(f"malformed tier table: {exc!r}") from exc
        return cls(tiers, clearance)

    @classmethod
    def from_toml(cls, path: str | Path) -> TierTable:
        """Read a tier table such as ``airgrid/data/tiers.toml``.

        Raises
        ------
        TierTableError
            Unreadable file or inconsistent table.
        """
        try:
            doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise TierTableError(f"tier table not found: {path}") from exc
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise TierTableError(f"cannot read tier table {path}: {exc}") from exc
        return cls.from_dict(doc)


def tier_layers(
    tier: Tier, band_ground: np.ndarray, g_lo: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The layers a tier occupies over cells: THE vertical placement rule.

    Parameters
    ----------
    tier
        The tier.
    band_ground
        Per cell, the floor reference in metres AMSL: the highest plausible ground
        ``g_hi`` of the cell's footprint, raised by the continuity envelope and
        grown by the diameter of every finer tier's cells (see
        :func:`airgrid.airspace.grid.voxels.build_grid`); never below the cell's ``g_hi``.
    g_lo
        Per cell, the lowest plausible ground in metres AMSL.

    Returns
    -------
    first : int32[n]
        First layer index (layer ``k`` spans ``[k*t, (k+1)*t)`` m AMSL).
    count : int32[n]
        Number of layers; 0 where the band does not fit between the two bounds
        after snapping to the lattice: the tier is absent over that cell.

    Notes
    -----
    A voxel ``[f, c)`` (``c = f + t``) over cell ``x`` belongs to the tier iff::

        f >= band_ground(x) + lower_m   and   c <= g_lo(x) + upper_m

    Both sides are certain under the DEM's margin model: wherever the aircraft is
    in the cell, the ground below it lies in ``[g_lo, g_hi]`` with
    ``g_hi <= band_ground``, so its true height is at least ``lower_m`` at the
    floor and at most ``upper_m`` at the ceiling. The floor side keeps aircraft
    clear of the terrain; the ceiling side keeps them under the band's top, which
    for light UAVs is the 120 m line below manned traffic. Where the ground is too
    uncertain (``band_ground - g_lo > upper_m - lower_m - t`` or so) no layer
    fits and the tier is absent. The terrain clearance is applied on top of this
    as the ``TERRAIN`` status of voxels whose floor is below ``g_hi + clearance``.

    Non-overlap across tiers: let a fine cell ``x`` of a tier and a cell ``P`` of
    any tier above share a point. That point lies in some closed DEM pixel, which
    therefore touches both cells, so ``g_lo(x) <= lower(pixel) <= upper(pixel) <=
    g_hi(P) <= band_ground(P)``. The top of ``x``'s column is at most
    ``g_lo(x) + upper_m`` and the bottom of ``P``'s at least
    ``band_ground(P) + lower_m'``; the table's bands do not overlap
    (``upper_m <= lower_m'``), so the two columns are disjoint. The proof needs no
    growth of coarse footprints and no ordering of the continuity envelopes, and
    ``tests/airspace/test_grid.py`` checks it by brute force on rugged terrain.
    """
    t = tier.thickness_m
    g = np.asarray(band_ground, np.float64)
    lo = np.asarray(g_lo, np.float64)
    first = np.ceil((g + tier.lower_m) / t - 1e-9).astype(np.int64)
    end = np.floor((lo + tier.upper_m) / t + 1e-9).astype(np.int64)
    count = np.maximum(end - first, 0)
    return first.astype(np.int32), count.astype(np.int32)
