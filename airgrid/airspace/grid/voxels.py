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
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntFlag
from pathlib import Path
from typing import TYPE_CHECKING

import h3
import numpy as np

from airgrid.airspace.errors import AreaTooLargeError, GridFileError, OutsideGridError, VoxelIdError
from airgrid.airspace.grid.h3index import parent_of, resolution_of
from airgrid.airspace.grid.tiers import TierTable, tier_layers

if (
    TYPE_CHECKING
):  # build-time only: terrain (rasterio, pyproj) and areas are imported by build_grid
    from airgrid.airspace.grid.areas import Area
    from airgrid.terrain import Dem, Obstacles

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
#: Default ceiling on cells per build (all tiers together); Hunan at T2 needs ~2.2 M.
DEFAULT_MAX_CELLS = 6_000_000
_EARTH_R = 6_371_008.8


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

_CELL_COLS = {
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
_VOXEL_COLS = {
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
        missing = set(_CELL_COLS) | set(_VOXEL_COLS) | {"tier_cell_start"}
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
            ci = int(self.find_cells(np.array([h3.str_to_int(c)]), t)[0])
            layer = math.floor(alt_m / tier.thickness_m)
            if ci < 0:
                continue
            v = int(self.voxel_index(np.array([ci]), np.array([layer]))[0])
            if v >= 0:
                st = Status(int(self.status[v]))
                reasons = []
                if st & Status.TERRAIN:
                    reasons.append(
                        f"floor {float(self.floor[v]):.0f} m AMSL is below the highest plausible ground "
                        f"{float(self.g_hi[v]):.0f} m AMSL + clearance {self.tiers.clearance_m:.0f} m"
                    )
                if st & Status.GEOFENCE:
                    reasons.append("inside a prohibited geofence")
                return Located(v, t, c, layer, not reasons, "; ".join(reasons))
            columns.append((t, c, layer, ci))
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
        for k in list(_CELL_COLS) + list(_VOXEL_COLS) + ["tier_cell_start"]:
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
        for k in list(_CELL_COLS) + list(_VOXEL_COLS) + ["tier_cell_start"]:
            f = path / f"{k}.npy"
            if not f.exists():
                raise GridFileError(f"grid {path} is missing column {k}")
            cols[k] = np.load(f, mmap_mode="r" if mmap else None)
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


def peak_rss_bytes() -> int:
    """Peak resident memory of this process (or of its largest child), in bytes."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int(max(own, kids) * 1024)


def _rmtree(p: Path) -> None:
    for child in p.iterdir():
        child.unlink()
    p.rmdir()


def _max_diameter_m(lon: np.ndarray, lat: np.ndarray, nv: np.ndarray) -> float:
    """Largest vertex-to-vertex great-circle distance over all cells (metres)."""
    if len(lon) == 0:
        return 0.0
    la = np.radians(lat)
    lo = np.radians(lon)
    best = 0.0
    m = lon.shape[1]
    for a in range(m):
        for b in range(a + 1, m):
            dlat = la[:, b] - la[:, a]
            dlon = lo[:, b] - lo[:, a]
            hav = (
                np.sin(dlat / 2) ** 2 + np.cos(la[:, a]) * np.cos(la[:, b]) * np.sin(dlon / 2) ** 2
            )
            best = max(best, float(np.max(2 * _EARTH_R * np.arcsin(np.sqrt(np.minimum(hav, 1.0))))))
    return best


def band_slopes(
    tiers: TierTable, diameters: list[float], dem: Dem, continuity: bool
) -> list[float | None]:
    """Envelope slope per tier that keeps neighbouring columns of a tier connected.

    Parameters
    ----------
    tiers
        The tier table.
    diameters
        Largest cell diameter (m) built per tier.
    dem
        The DEM (its pixel size enters the bound).
    continuity
        When False, no envelope (``None`` for every tier).

    Returns
    -------
    list
        ``s_i`` (m per m) per tier.

    Notes
    -----
    Two neighbouring columns share a layer if their band grounds differ by at most
    ``H - 2t`` (band height minus two layers lost to lattice snapping). Their grown
    footprints are translates of each other by one cell spacing (at most the cell
    diameter ``d``), and each touches pixels up to one sub-pixel diagonal ``p``
    beyond it, so on an envelope of slope ``s`` their maxima differ by at most
    ``s * (d + 2p)``; a 10 % allowance covers the chamfer metric (8.3 %). Hence
    ``s_i = (H_i - 2 t_i) / (1.1 (d_i + 2p))``. Each tier has its own: non-overlap
    across tiers does not rest on the envelopes (see
    :func:`~airgrid.airspace.grid.tiers.tier_layers`).
    """
    if not continuity:
        return [None] * len(tiers)
    sub = max(min(diameters) / 2, 10.0) if diameters else 100.0
    pix = min(max(dem.pixel_size_m), sub) * math.sqrt(2)
    out: list[float | None] = []
    for tier, d in zip(tiers, diameters):
        room = max(tier.upper_m - tier.lower_m - 2 * tier.thickness_m, 0.25 * tier.thickness_m)
        out.append(room / (1.1 * (d + 2 * pix)))
    return out


def build_grid(
    area: Area,
    dem: Dem,
    tiers: TierTable | None = None,
    *,
    obstacles: Obstacles | None = None,
    max_cells: int = DEFAULT_MAX_CELLS,
    progress: Callable[[str, float], None] | None = None,
    workers: int | None = None,
    continuity: bool = True,
) -> Grid:
    """Build the tiered voxel grid over an area.

    Parameters
    ----------
    area
        Where (see :mod:`airgrid.airspace.grid.areas`).
    dem
        The terrain.
    tiers
        Tier table (default: :data:`~airgrid.airspace.grid.tiers.DEFAULT_TIERS`).
    obstacles
        Optional obstacles raising the ground.
    max_cells
        Refuse builds needing more cells than this (all tiers together).
    progress
        Called with (step description, fraction done).
    workers
        Processes for the H3 cover of large areas.
    continuity
        Measure tier bands from a slope-limited envelope of the ground (see
        :func:`band_slopes`) so that neighbouring columns of a tier always share a
        layer; ``False`` measures them from the cell's own ``g_hi`` (tiers then
        break apart wherever the ground jumps by more than a band).

    Returns
    -------
    Grid

    Raises
    ------
    AreaTooLargeError
        More cells than ``max_cells``.
    airgrid.terrain.TerrainError
        The DEM does not cover the area, or has voids over a whole cell.

    Notes
    -----
    Per tier ``i`` (lowest first) and cell ``c``:

    * ``g_lo(c)``, ``g_hi(c)``: lowest and highest plausible ground over ``c``'s own
      footprint (:func:`~airgrid.terrain.cell_ground`: touched DEM pixels minus /
      plus their margins, obstacles raising ``g_hi``); clearance is checked
      against ``g_hi``.
    * ``band_ground(c)``: the highest value over ``c`` of ``E_i``, the slope-limited
      upper envelope of the DEM's ``height + upward margin`` with slope ``s_i``
      (:meth:`~airgrid.terrain.Dem.band_surface`, :func:`band_slopes`), and never
      below ``g_hi(c)``: neighbouring columns of a tier then share a layer wherever
      the ceiling rule leaves room.
    * Voxels: the layers of :func:`tier_layers`, floors from ``band_ground`` and
      ceilings under ``g_lo + upper_m``; where the two disagree the ceiling wins and
      the tier is absent over the cell (the count of cells the envelope costs this
      way is kept in ``meta["cells_lost_to_envelope"]``); status ``TERRAIN`` where
      the floor is below ``g_hi + clearance``.
    """
    # imported here, not at module level: loading a saved grid (the routing cold path)
    # needs neither the terrain package (rasterio, pyproj) nor shapely
    import shapely

    from airgrid.airspace.grid.areas import _cell_area_deg2, cover_with_vertices
    from airgrid.terrain import band_ground, cell_ground

    tiers = tiers or TierTable()
    report = progress or (lambda step, frac: None)
    t0 = time.perf_counter()
    estimate = sum(area.geometry.area / _cell_area_deg2(t.resolution, area) for t in tiers)
    if estimate > 1.5 * max_cells:
        raise AreaTooLargeError(
            f"area {area.name} needs about {estimate:,.0f} cells at tiers "
            f"{', '.join(t.name for t in tiers)}, more than the limit of {max_cells:,}; "
            "pick fewer or coarser tiers or a smaller area"
        )
    covers = []
    all_verts = []
    for i, tier in enumerate(tiers):
        report(f"H3 cover {tier.name} (res {tier.resolution})", i / (3 * len(tiers)))
        cells, verts = cover_with_vertices(area, tier.resolution, workers=workers)
        covers.append(cells)
        all_verts.append(verts)
        total = sum(len(c) for c in covers)
        if total > max_cells:
            raise AreaTooLargeError(
                f"area {area.name} needs more than {max_cells:,} cells ({total:,} so far at "
                f"tier {tier.name}); pick fewer or coarser tiers or a smaller area"
            )
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in _CELL_COLS if k not in ("cell_start", "cell_parent")
    }
    diams = [_max_diameter_m(*v) for v in all_verts]
    slopes = band_slopes(tiers, diams, dem, continuity)
    sub_pixel_m = max(min(diams) / 2, 10.0) if diams else 100.0
    dem_void_any = 0
    lost: list[int] = []
    for i, (tier, cells, verts) in enumerate(zip(tiers, covers, all_verts)):
        report(f"terrain under {tier.name}", (len(tiers) + 2 * i) / (3 * len(tiers)))
        own = cell_ground(dem, cells, obstacles=obstacles, vertices=verts)
        g = own.g_hi
        slope = slopes[i]
        if slope is None:
            band = g
        else:
            surface = dem.band_surface(
                area.bounds, extra_m=2 * max(diams), slope=slope, max_pixel_m=sub_pixel_m
            )
            band = np.maximum(
                band_ground(surface, cells, pad_m=0.0, obstacles=obstacles, vertices=verts), g
            )
            del surface
        first, count = tier_layers(tier, band, own.g_lo)
        lost.append(int(np.count_nonzero((count == 0) & (tier_layers(tier, g, own.g_lo)[1] > 0))))
        parts["cell_id"].append(cells)
        parts["cell_tier"].append(np.full(len(cells), i, np.int8))
        parts["cell_g_hi"].append(g)
        parts["cell_g_lo"].append(own.g_lo)
        parts["cell_band_ground"].append(band.astype(np.float32))
        parts["cell_dem_max"].append(own.dem_max)
        parts["cell_dem_min"].append(own.dem_min)
        parts["cell_first_layer"].append(first)
        parts["cell_nlayers"].append(count)
        flags = np.where(own.has_void, np.uint8(Status.DEM_VOID), np.uint8(0))
        obst = ~np.isnan(own.obstacle_top) & (own.obstacle_top >= own.upper)
        flags = flags | np.where(obst, np.uint8(Status.OBSTACLE), np.uint8(0))
        parts.setdefault("_flags", []).append(flags)
        dem_void_any += int(own.has_void.sum())
    report("voxels", 0.9)
    cols: dict[str, np.ndarray] = {k: np.concatenate(v) for k, v in parts.items()}
    flags = cols.pop("_flags")
    nlayers = cols["cell_nlayers"]
    cell_start = np.zeros(len(nlayers) + 1, np.int64)
    np.cumsum(nlayers, out=cell_start[1:])
    cols["cell_start"] = cell_start
    tier_counts = [len(c) for c in covers]
    tcs = np.zeros(len(tiers) + 1, np.int64)
    np.cumsum(tier_counts, out=tcs[1:])
    cols["tier_cell_start"] = tcs
    # parent links: a fine tier's cell -> its H3 parent in the next tier up
    parent = np.full(len(nlayers), -1, np.int32)
    for i in range(len(tiers) - 1):
        sl = slice(int(tcs[i]), int(tcs[i + 1]))
        up = tiers[i + 1]
        pid = parent_of(cols["cell_id"][sl], up.resolution)
        ups = cols["cell_id"][int(tcs[i + 1]) : int(tcs[i + 2])]
        pos = np.searchsorted(ups, pid)
        posc = np.minimum(pos, max(len(ups) - 1, 0))
        hit = (ups[posc] == pid) if len(ups) else np.zeros(len(pid), bool)
        parent[sl] = np.where(hit, posc + tcs[i + 1], -1)
    cols["cell_parent"] = parent
    # voxel table
    nvox = int(cell_start[-1])
    vcell = np.repeat(np.arange(len(nlayers), dtype=np.int32), nlayers)
    within = np.arange(nvox, dtype=np.int64) - np.repeat(cell_start[:-1], nlayers)
    layer = (np.repeat(cols["cell_first_layer"].astype(np.int64), nlayers) + within).astype(
        np.int32
    )
    thick = np.array([t.thickness_m for t in tiers], np.float64)
    vt = np.repeat(cols["cell_tier"], nlayers)
    floor = layer * thick[vt]
    ceiling = floor + thick[vt]
    g_hi = np.repeat(cols["cell_g_hi"], nlayers)
    status = np.repeat(flags, nlayers)
    status |= np.where(
        floor < g_hi.astype(np.float64) + tiers.clearance_m, np.uint8(Status.TERRAIN), np.uint8(0)
    )
    cols.update(
        cell=np.repeat(cols["cell_id"], nlayers),
        layer=layer,
        floor=floor.astype(np.float32),
        ceiling=ceiling.astype(np.float32),
        g_hi=g_hi,
        tier=vt,
        status=status.astype(np.uint8),
        voxel_cell=vcell,
    )
    elapsed = time.perf_counter() - t0
    dx, dy = dem.pixel_size_m
    meta = {
        "area": area.name,
        "area_bounds": list(area.bounds),
        "area_wkt": shapely.to_wkt(area.geometry, rounding_precision=6)
        if area.geometry.area < 50
        else None,
        "dem": {
            "sources": list(dem.sources),
            "crs": dem.crs.to_string(),
            "pixel_size_m": [dx, dy],
            "accuracy": dem.accuracy.to_dict(),
            "accuracy_text": dem.accuracy.describe(),
            "cells_with_voids": dem_void_any,
        },
        "cells_lost_to_envelope": lost,
        "obstacles": len(obstacles) if obstacles is not None else 0,
        "band_slopes": [None if v is None else float(v) for v in slopes],
        "build_seconds": elapsed,
        "peak_rss_bytes": peak_rss_bytes(),
    }
    report("done", 1.0)
    log.info("built grid %s: %d cells, %d voxels in %.1f s", area.name, len(nlayers), nvox, elapsed)
    return Grid(tiers, cols, meta)


__all__ = ["BLOCKING", "Grid", "Located", "Status", "build_grid", "resolution_of"]
