"""The tiered 3D grid: voxels as absolute volumes over H3 cells, in columnar arrays.

A voxel is an H3 cell (a hexagonal prism footprint) between a floor and a ceiling in
metres above mean sea level. Each tier has its own H3 resolution and its own layer
lattice (layer ``k`` of a tier spans ``[k*t, (k+1)*t)`` m AMSL for every cell); which
layers a tier occupies over a cell is decided by :func:`~airgrid.airspace.grid.tiers.tier_layers`.

Inside, everything is dense integer indices into two tables:

* the **cell table** (one row per cell per tier, sorted by tier then H3 id), and
* the **voxel table** (one row per voxel, grouped by cell, layers ascending).

Outside, a voxel is named by its H3 string and layer: ``"8a4159...ffff:12"``.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from enum import IntFlag
from pathlib import Path
from typing import TYPE_CHECKING

import h3
import numpy as np

from airgrid.airspace.errors import GridFileError, OutsideGridError, VoxelIdError
from airgrid.airspace.grid.tiers import TierTable

if (
    TYPE_CHECKING
):  # build-time only: terrain (rasterio, pyproj) and areas are imported by build_grid
    pass

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
#: Default ceiling on cells per build (all tiers together); Hunan at T2 needs ~2.2 M.


class Status(IntFlag):
    """Voxel status bits (uint8). Bits 6-7 are free for later flags."""

    TERRAIN = 1  #: floor below the highest plausible ground + clearance
    DEM_VOID = 2  #: some DEM pixels under the cell were voids (left out)
    OBSTACLE = 4  #: an obstacle, not the DEM, sets the cell's ground
    GEOFENCE = 8  #: inside a permanent prohibited geofence
    CORRIDOR = 16  #: part of a planned corridor
    LANE_B = 32  #: corridor lane of the reverse direction


#: Bits that make a voxel unusable for flight.
BLOCKING = Status.TERRAIN | Status.GEOFENCE

CELL_COLUMNS = {
    "cell_id": np.int64,
    "cell_tier": np.int8,
    "cell_g_hi": np.float32,
    "cell_g_lo": np.float32,
    "cell_band_ground": np.float32,
    "cell_dem_max": np.float32,
    "cell_dem_min": np.float32,
    "cell_first_layer": np.int32,
    "cell_nlayers": np.int32,
    "cell_start": np.int64,
    "cell_parent": np.int32,
}
VOXEL_COLUMNS = {
    "cell": np.int64,
    "layer": np.int32,
    "floor": np.float32,
    "ceiling": np.float32,
    "g_hi": np.float32,
    "tier": np.int8,
    "status": np.uint8,
    "voxel_cell": np.int32,
}


@dataclass(frozen=True)
class Located:
    """Where a point in 3D falls in the grid.

    Attributes
    ----------
    voxel
        Dense voxel index, or -1 if the point is in no voxel.
    tier
        Tier index of the voxel (or of the nearest tier column), -1 if outside.
    cell
        H3 string of that tier's cell at the point ('' if outside every tier).
    layer
        Layer index of the point on that tier's lattice.
    usable
        Whether the voxel may be flown.
    reason
        Why not usable / why no voxel ('' when usable).
    """

    voxel: int
    tier: int
    cell: str
    layer: int
    usable: bool
    reason: str


class Grid:
    """A built grid: cell and voxel tables plus metadata.

    Build with :func:`build_grid`; persist with :meth:`save` / :meth:`Grid.load`.

    Heights are metres above mean sea level and named by what they bound: per cell,
    ``cell_g_lo`` and ``cell_g_hi`` are the lowest and highest plausible ground,
    ``cell_band_ground`` the floor reference of the tier's band (``>= cell_g_hi``),
    ``cell_dem_min`` / ``cell_dem_max`` the extreme DEM pixels touching the cell;
    per voxel, ``floor`` and ``ceiling`` its limits and ``g_hi`` its cell's highest
    plausible ground.
    """

    def __init__(self, tiers: TierTable, cols: dict[str, np.ndarray], meta: dict) -> None:
        missing = set(CELL_COLUMNS) | set(VOXEL_COLUMNS) | {"tier_cell_start"}
        missing -= set(cols)
        if missing:
            raise GridFileError(f"grid is missing columns {sorted(missing)}")
        self.tiers = tiers
        self.meta = meta
        for k, v in cols.items():
            setattr(self, k, v)
        self.cell_id: np.ndarray
        self.cell_tier: np.ndarray
        self.cell_g_hi: np.ndarray
        self.cell_g_lo: np.ndarray
        self.cell_band_ground: np.ndarray
        self.cell_dem_max: np.ndarray
        self.cell_dem_min: np.ndarray
        self.cell_first_layer: np.ndarray
        self.cell_nlayers: np.ndarray
        self.cell_start: np.ndarray
        self.cell_parent: np.ndarray
        self.tier_cell_start: np.ndarray
        self.cell: np.ndarray
        self.layer: np.ndarray
        self.floor: np.ndarray
        self.ceiling: np.ndarray
        self.g_hi: np.ndarray
        self.tier: np.ndarray
        self.status: np.ndarray
        self.voxel_cell: np.ndarray

    # -- sizes ------------------------------------------------------------------------
    @property
    def n_cells(self) -> int:
        """Cells over all tiers."""
        return len(self.cell_id)

    @property
    def n_voxels(self) -> int:
        """Voxels over all tiers."""
        return len(self.cell)

    def tier_slice(self, t: int) -> slice:
        """Cell-table rows of tier ``t``."""
        return slice(int(self.tier_cell_start[t]), int(self.tier_cell_start[t + 1]))

    def usable(self) -> np.ndarray:
        """Boolean mask of voxels that may be flown (no blocking status bit)."""
        return (self.status & np.uint8(BLOCKING)) == 0

    # -- lookups ----------------------------------------------------------------------
    def find_cells(self, cells: np.ndarray, t: int) -> np.ndarray:
        """Cell-table index of each H3 id in tier ``t``; -1 where absent."""
        sl = self.tier_slice(t)
        ids = self.cell_id[sl]
        q = np.asarray(cells, np.int64)
        pos = np.searchsorted(ids, q)
        pos_c = np.minimum(pos, max(len(ids) - 1, 0))
        hit = (len(ids) > 0) & (ids[pos_c] == q) if len(ids) else np.zeros(len(q), bool)
        return np.where(hit, pos_c + sl.start, -1).astype(np.int64)

    def voxel_index(self, cell_index: np.ndarray, layer: np.ndarray) -> np.ndarray:
        """Voxel index of (cell index, layer) pairs; -1 where the layer is not in the column."""
        ci = np.asarray(cell_index, np.int64)
        lay = np.asarray(layer, np.int64)
        ok = ci >= 0
        cis = np.where(ok, ci, 0)
        off = lay - self.cell_first_layer[cis]
        ok &= (off >= 0) & (off < self.cell_nlayers[cis])
        return np.where(ok, self.cell_start[cis] + off, -1)

    def voxel_id(self, v: int) -> str:
        """Public id ``"<h3 cell>:<layer>"`` of voxel ``v``."""
        if not 0 <= v < self.n_voxels:
            raise OutsideGridError(f"voxel index {v} out of range 0..{self.n_voxels - 1}")
        return f"{h3.int_to_str(int(self.cell[v]))}:{int(self.layer[v])}"

    def parse_voxel_id(self, vid: str) -> int:
        """Dense index of a public voxel id.

        Raises
        ------
        VoxelIdError
            Malformed id.
        OutsideGridError
            Well formed, but not a voxel of this grid.
        """
        cell, sep, layer = str(vid).rpartition(":")
        if not sep or not h3.is_valid_cell(cell):
            raise VoxelIdError(f"voxel id must be '<h3 cell>:<layer>', got {vid!r}")
        try:
            lay = int(layer)
        except ValueError:
            raise VoxelIdError(f"voxel layer must be an integer, got {layer!r}") from None
        res = h3.get_resolution(cell)
        t = next((i for i, tr in enumerate(self.tiers) if tr.resolution == res), None)
        if t is None:
            raise OutsideGridError(f"no tier at H3 resolution {res} (voxel {vid})")
        ci = self.find_cells(np.array([h3.str_to_int(cell)]), t)
        v = int(self.voxel_index(ci, np.array([lay]))[0])
        if v < 0:
            raise OutsideGridError(f"voxel {vid} is not in this grid")
        return v

    def ground_at(self, lat: float, lon: float) -> tuple[float, float]:
        """(g_lo, g_hi) in metres AMSL of the finest tier's cell under a point; NaNs outside."""
        for t, tier in enumerate(self.tiers):
            c = h3.str_to_int(h3.latlng_to_cell(lat, lon, tier.resolution))
            ci = int(self.find_cells(np.array([c]), t)[0])
            if ci >= 0:
                return float(self.cell_g_lo[ci]), float(self.cell_g_hi[ci])
        return math.nan, math.nan

    def locate(self, lat: float, lon: float, alt_m: float) -> Located:
        """The voxel containing a point (altitude in metres AMSL), and whether it is usable.

        Because voxels never overlap, at most one contains the point. When none does,
        ``reason`` tells why: outside the area, below the lowest tier (terrain), in a
        gap between tiers, or above the highest tier.

        Raises
        ------
        OutsideGridError
            Coordinates not finite or out of range.
        """
        if not (math.isfinite(lat) and math.isfinite(lon) and math.isfinite(alt_m)):
            raise OutsideGridError("lat, lon and altitude must be finite numbers")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise OutsideGridError(f"lat {lat} / lon {lon} out of range")
        columns = []
        for t, tier in enumerate(self.tiers):
            c = h3.latlng_to_cell(lat, lon, tier.resolution)
            ci = self._cell_row(h3.str_to_int(c), t)
            layer = math.floor(alt_m / tier.thickness_m)
            if ci < 0:
                continue
            off = layer - int(self.cell_first_layer[ci])
            if 0 <= off < int(self.cell_nlayers[ci]):
                v = int(self.cell_start[ci]) + off
                reasons = self._unusable_reasons(v)
                return Located(v, t, c, layer, not reasons, "; ".join(reasons))
            columns.append((t, c, layer, ci))
        return self._not_located(columns, alt_m)

    def _cell_row(self, cell: int, t: int) -> int:
        """Cell-table index of one H3 id in tier ``t`` (-1 if absent): :meth:`find_cells`
        for a single id, without its array set-up."""
        sl = self.tier_slice(t)
        ids = self.cell_id[sl]
        pos = int(ids.searchsorted(cell))
        return sl.start + pos if pos < len(ids) and int(ids[pos]) == cell else -1

    def _unusable_reasons(self, v: int) -> list[str]:
        """Why voxel ``v`` may not be used (empty: usable)."""
        st = Status(int(self.status[v]))
        reasons = []
        if st & Status.TERRAIN:
            reasons.append(
                f"floor {float(self.floor[v]):.0f} m AMSL is below the highest plausible ground "
                f"{float(self.g_hi[v]):.0f} m AMSL + clearance {self.tiers.clearance_m:.0f} m"
            )
        if st & Status.GEOFENCE:
            reasons.append("inside a prohibited geofence")
        return reasons

    def _not_located(self, columns: list[tuple[int, str, int, int]], alt_m: float) -> Located:
        """The :class:`Located` of a point in no voxel, with the reason.

        ``columns`` holds, per tier whose cell at the point is in the grid (lowest tier
        first), the tier, the cell's H3 string, the point's layer and the cell's row.
        """
        if not columns:
            return Located(-1, -1, "", 0, False, "outside the grid's area")
        absent = [(t, c, layer, ci) for t, c, layer, ci in columns if self.cell_nlayers[ci] == 0]
        columns = [col for col in columns if self.cell_nlayers[col[3]] > 0]
        if not columns:
            t, c, layer, ci = absent[0]
            return Located(
                -1,
                t,
                c,
                layer,
                False,
                "no tier exists here: "
                + "; ".join(self._absent_reason(a[0], a[3]) for a in absent),
            )
        spans = []  # (bottom, top) of each tier's column at this point, lowest tier first
        for t, _c, _layer, ci in columns:
            thick = self.tiers[t].thickness_m
            first = int(self.cell_first_layer[ci])
            spans.append((first * thick, (first + int(self.cell_nlayers[ci])) * thick))
        t, c, layer, ci = columns[0]
        if alt_m < spans[0][0]:
            note = "".join(f"; {self._absent_reason(a[0], a[3])}" for a in absent if a[0] < t)
            return Located(
                -1,
                t,
                c,
                layer,
                False,
                f"below tier {self.tiers[t].name}'s band (starts at {spans[0][0]:.0f} m AMSL "
                f"here; highest plausible ground {float(self.cell_g_hi[ci]):.0f} m AMSL){note}",
            )
        for k in range(len(columns) - 1):
            if spans[k][1] <= alt_m < spans[k + 1][0]:
                lo_t, hi_t = self.tiers[columns[k][0]].name, self.tiers[columns[k + 1][0]].name
                t, c, layer, _ = columns[k]
                return Located(
                    -1,
                    t,
                    c,
                    layer,
                    False,
                    f"between tier {lo_t} (top {spans[k][1]:.0f} m AMSL) and tier {hi_t} "
                    f"(bottom {spans[k + 1][0]:.0f} m AMSL here): each band is certain over "
                    "the ground bounds of its own cell, and a coarser cell's bounds are wider",
                )
        t, c, layer, _ = columns[-1]
        return Located(
            -1,
            t,
            c,
            layer,
            False,
            f"above the highest tier {self.tiers[t].name} (ends at {spans[-1][1]:.0f} m AMSL here)",
        )

    def _absent_reason(self, t: int, ci: int) -> str:
        """Why tier ``t`` has no layer over cell-table row ``ci``."""
        tier = self.tiers[t]
        lo, hi = float(self.cell_g_lo[ci]), float(self.cell_band_ground[ci])
        return (
            f"tier {tier.name} ({tier.lower_m:g}-{tier.upper_m:g} m above ground) is absent: its floor "
            f"must be {tier.lower_m:g} m above the highest plausible ground ({hi:.0f} m AMSL) and "
            f"its ceiling {tier.upper_m:g} m above the lowest ({lo:.0f} m AMSL), which leaves no "
            f"{tier.thickness_m:g} m layer"
        )

    # -- persistence ------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the grid to a folder of ``.npy`` columns plus ``meta.json``.

        The folder is written under a temporary name and renamed at the end, so a
        crash never leaves a half-written grid under ``path``.
        """
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        if tmp.exists():
            _rmtree(tmp)
        tmp.mkdir(parents=True)
        for k in list(CELL_COLUMNS) + list(VOXEL_COLUMNS) + ["tier_cell_start"]:
            np.save(tmp / f"{k}.npy", np.ascontiguousarray(getattr(self, k)))
        meta = dict(self.meta, format_version=FORMAT_VERSION, tiers=self.tiers.to_dict())
        (tmp / "meta.json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        if path.exists():
            _rmtree(path)
        tmp.rename(path)
        return path

    @classmethod
    def load(cls, path: str | Path, *, mmap: bool = True) -> Grid:
        """Load a saved grid; columns are memory-mapped read-only (status is copied, writable).

        Each mapped column is a plain ``numpy.ndarray`` view of its ``numpy.memmap``:
        indexing a memmap, or passing one to a Numba kernel, runs Python code on every call.

        Raises
        ------
        GridFileError
            Missing folder or column, or another format version.
        """
        path = Path(path)
        meta_path = path / "meta.json"
        if not meta_path.exists():
            raise GridFileError(f"no grid at {path} (meta.json missing); run 'airgrid build' first")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format_version") != FORMAT_VERSION:
            raise GridFileError(
                f"grid {path} has format {meta.get('format_version')}, this airgrid reads {FORMAT_VERSION}"
            )
        cols = {}
        for k in list(CELL_COLUMNS) + list(VOXEL_COLUMNS) + ["tier_cell_start"]:
            f = path / f"{k}.npy"
            if not f.exists():
                raise GridFileError(f"grid {path} is missing column {k}")
            cols[k] = np.load(f, mmap_mode="r").view(np.ndarray) if mmap else np.load(f)
        cols["status"] = np.array(cols["status"])
        tiers = TierTable.from_dict(meta.pop("tiers"))
        return cls(tiers, cols, meta)

    # -- reporting --------------------------------------------------------------------
    def tier_summary(self) -> list[dict]:
        """Per tier: sizes, where the tier exists, how tight the ground bounds are.

        Returns
        -------
        list of dict
            One per tier: ``cells``, ``voxels``, ``usable`` voxels,
            ``terrain_blocked`` (share of voxels), ``exists_share`` (share of the
            tier's cells with at least one usable voxel), ``span_m_median`` and
            ``span_m_max`` (``g_hi - g_lo`` over the tier's cells) and, from the
            build, ``cells_lost_to_envelope`` (cells where the band would fit over
            the cell's own ground but not over the continuity envelope: the price
            in connectivity of the ceiling rule winning).
        """
        lost = self.meta.get("cells_lost_to_envelope") or [0] * len(self.tiers)
        usable = self.usable()
        rows = []
        for t, tier in enumerate(self.tiers):
            sl = self.tier_slice(t)
            n = sl.stop - sl.start
            v0 = int(self.cell_start[sl.start]) if n else 0
            v1 = int(self.cell_start[sl.stop]) if n else 0
            st = self.status[v0:v1]
            nv = v1 - v0
            span = (self.cell_g_hi[sl] - self.cell_g_lo[sl]).astype(np.float64)
            has_usable = np.zeros(n, bool)
            if nv:
                np.logical_or.at(has_usable, self.voxel_cell[v0:v1] - sl.start, usable[v0:v1])
            rows.append(
                {
                    "tier": tier.name,
                    "resolution": tier.resolution,
                    "band_m": f"{tier.lower_m:g}-{tier.upper_m:g}",
                    "cells": n,
                    "voxels": nv,
                    "terrain_blocked": float(np.count_nonzero(st & np.uint8(Status.TERRAIN)) / nv)
                    if nv
                    else 0.0,
                    "usable": int(np.count_nonzero(usable[v0:v1])),
                    "exists_share": float(has_usable.mean()) if n else 0.0,
                    "span_m_median": float(np.median(span)) if n else 0.0,
                    "span_m_max": float(span.max()) if n else 0.0,
                    "cells_lost_to_envelope": int(lost[t]),
                }
            )
        return rows


def _rmtree(p: Path) -> None:
    for child in p.iterdir():
        child.unlink()
    p.rmdir()


__all__ = [
    "BLOCKING",
    "CELL_COLUMNS",
    "FORMAT_VERSION",
    "VOXEL_COLUMNS",
    "Grid",
    "Located",
    "Status",
]
