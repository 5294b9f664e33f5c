"""Building the tiered grid: H3 covers of an area, ground bounds per cell, layers per tier.

:func:`build_grid` turns an area, a DEM (and optional obstacles) and a tier table into a
:class:`~airgrid.airspace.grid.voxels.Grid`; :func:`band_slopes` sets how steeply each
tier's band may follow the terrain so neighbouring columns always share a voxel.

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

from __future__ import annotations

import logging
import math
import resource
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from airgrid.airspace.errors import AreaTooLargeError
from airgrid.airspace.grid.h3index import parent_of
from airgrid.airspace.grid.tiers import Tier, TierTable, tier_layers
from airgrid.airspace.grid.voxels import Grid, Status
from airgrid.geo.constants import EARTH_RADIUS_M

if TYPE_CHECKING:
    from airgrid.airspace.grid.areas import Area
    from airgrid.terrain import Dem, Obstacles

log = logging.getLogger(__name__)

DEFAULT_MAX_CELLS = 6_000_000


def peak_rss_bytes() -> int:
    """Peak resident memory of this process (or of its largest child), in bytes."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int(max(own, kids) * 1024)


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
            best = max(
                best, float(np.max(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(hav, 1.0)))))
            )
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
    How the columns are measured is in the module notes.
    """
    tiers = tiers or TierTable()
    report = progress or (lambda step, frac: None)
    t0 = time.perf_counter()
    covers, all_verts = _covers(area, tiers, max_cells, workers, report)
    diams = [_max_diameter_m(*v) for v in all_verts]
    slopes = band_slopes(tiers, diams, dem, continuity)
    cols, lost, dem_void_any = _cell_columns(
        area, dem, obstacles, tiers, covers, all_verts, diams, slopes, report
    )
    report("voxels", 0.9)
    flags = cols.pop("_flags")
    tcs = np.zeros(len(tiers) + 1, np.int64)
    np.cumsum([len(c) for c in covers], out=tcs[1:])
    cols["tier_cell_start"] = tcs
    cols["cell_parent"] = _parent_links(cols["cell_id"], tiers, tcs)
    cols.update(_voxel_columns(cols, flags, tiers))
    elapsed = time.perf_counter() - t0
    meta = _grid_meta(area, dem, obstacles, slopes, lost, dem_void_any)
    meta["build_seconds"] = elapsed
    meta["peak_rss_bytes"] = peak_rss_bytes()
    report("done", 1.0)
    log.info(
        "built grid %s: %d cells, %d voxels in %.1f s",
        area.name,
        len(cols["cell_nlayers"]),
        len(cols["layer"]),
        elapsed,
    )
    return Grid(tiers, cols, meta)


def _covers(
    area: Area,
    tiers: TierTable,
    max_cells: int,
    workers: int | None,
    report: Callable[[str, float], None],
) -> tuple[list[np.ndarray], list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """H3 cells of every tier over the area and their boundary vertices (lon, lat, count).

    Raises
    ------
    AreaTooLargeError
        The estimate, or the covers so far, exceed ``max_cells``.
    """
    from airgrid.airspace.grid.areas import _cell_area_deg2, cover_with_vertices

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
        assert verts is not None  # asked for with vertices=True
        covers.append(cells)
        all_verts.append(verts)
        total = sum(len(c) for c in covers)
        if total > max_cells:
            raise AreaTooLargeError(
                f"area {area.name} needs more than {max_cells:,} cells ({total:,} so far at "
                f"tier {tier.name}); pick fewer or coarser tiers or a smaller area"
            )
    return covers, all_verts


class _BandEnvelope(NamedTuple):
    """How one tier's band ground is measured: the area's bounds, the envelope slope
    (None: the cell's own ``g_hi``), the margin around the area and the finest pixel (m).
    """

    area: Area
    slope: float | None
    extra_m: float
    max_pixel_m: float


def _cell_columns(
    area: Area,
    dem: Dem,
    obstacles: Obstacles | None,
    tiers: TierTable,
    covers: list[np.ndarray],
    all_verts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    diams: list[float],
    slopes: list[float | None],
    report: Callable[[str, float], None],
) -> tuple[dict[str, np.ndarray], list[int], int]:
    """The cell columns of every tier, concatenated (see :func:`_tier_cells`).

    Returns
    -------
    columns, lost, voids
        The columns (``_flags`` among them); per tier, the cells the band envelope
        costs; cells touching DEM voids. ``diams`` are the tiers' largest cell diameters (m).
    """
    sub_pixel_m = max(min(diams) / 2, 10.0) if diams else 100.0
    parts: dict[str, list[np.ndarray]] = {}
    voids = 0
    lost: list[int] = []
    for i, (tier, cells, verts) in enumerate(zip(tiers, covers, all_verts)):
        report(f"terrain under {tier.name}", (len(tiers) + 2 * i) / (3 * len(tiers)))
        env = _BandEnvelope(area, slopes[i], 2 * max(diams), sub_pixel_m)
        cols_i, n_lost, n_void = _tier_cells(i, tier, cells, verts, dem, obstacles, env)
        for k, v in cols_i.items():
            parts.setdefault(k, []).append(v)
        lost.append(n_lost)
        voids += n_void
    return {k: np.concatenate(v) for k, v in parts.items()}, lost, voids


def _tier_cells(
    i: int,
    tier: Tier,
    cells: np.ndarray,
    verts: tuple[np.ndarray, np.ndarray, np.ndarray],
    dem: Dem,
    obstacles: Obstacles | None,
    env: _BandEnvelope,
) -> tuple[dict[str, np.ndarray], int, int]:
    """The cell columns of tier ``i`` (plus ``_flags``, the per-cell status bits).

    Returns
    -------
    columns, lost, voids
        Per-cell arrays by column name; cells where the band envelope leaves the tier
        no layer though the cell's own ground would; cells touching DEM voids.
    """
    from airgrid.terrain import band_ground, cell_ground

    own = cell_ground(dem, cells, obstacles=obstacles, vertices=verts)
    g = own.g_hi
    if env.slope is None:
        band = g
    else:
        surface = dem.band_surface(
            env.area.bounds, extra_m=env.extra_m, slope=env.slope, max_pixel_m=env.max_pixel_m
        )
        band = np.maximum(
            band_ground(surface, cells, pad_m=0.0, obstacles=obstacles, vertices=verts), g
        )
        del surface
    first, count = tier_layers(tier, band, own.g_lo)
    lost = int(np.count_nonzero((count == 0) & (tier_layers(tier, g, own.g_lo)[1] > 0)))
    flags = np.where(own.has_void, np.uint8(Status.DEM_VOID), np.uint8(0))
    obst = ~np.isnan(own.obstacle_top) & (own.obstacle_top >= own.upper)
    flags = flags | np.where(obst, np.uint8(Status.OBSTACLE), np.uint8(0))
    columns = {
        "cell_id": cells,
        "cell_tier": np.full(len(cells), i, np.int8),
        "cell_g_hi": g,
        "cell_g_lo": own.g_lo,
        "cell_band_ground": band.astype(np.float32),
        "cell_dem_max": own.dem_max,
        "cell_dem_min": own.dem_min,
        "cell_first_layer": first,
        "cell_nlayers": count,
        "_flags": flags,
    }
    return columns, lost, int(own.has_void.sum())


def _parent_links(cell_id: np.ndarray, tiers: TierTable, tcs: np.ndarray) -> np.ndarray:
    """Per cell, the row of its H3 parent in the next tier up (-1: none), int32.

    ``tcs`` holds the first row of every tier (and the row count last).
    """
    parent = np.full(len(cell_id), -1, np.int32)
    for i in range(len(tiers) - 1):
        sl = slice(int(tcs[i]), int(tcs[i + 1]))
        pid = parent_of(cell_id[sl], tiers[i + 1].resolution)
        ups = cell_id[int(tcs[i + 1]) : int(tcs[i + 2])]
        pos = np.searchsorted(ups, pid)
        posc = np.minimum(pos, max(len(ups) - 1, 0))
        hit = (ups[posc] == pid) if len(ups) else np.zeros(len(pid), bool)
        parent[sl] = np.where(hit, posc + tcs[i + 1], -1)
    return parent


def _voxel_columns(
    cols: dict[str, np.ndarray], flags: np.ndarray, tiers: TierTable
) -> dict[str, np.ndarray]:
    """``cell_start`` and the voxel table from the cell columns and per-cell status bits."""
    nlayers = cols["cell_nlayers"]
    cell_start = np.zeros(len(nlayers) + 1, np.int64)
    np.cumsum(nlayers, out=cell_start[1:])
    nvox = int(cell_start[-1])
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
    return {
        "cell_start": cell_start,
        "cell": np.repeat(cols["cell_id"], nlayers),
        "layer": layer,
        "floor": floor.astype(np.float32),
        "ceiling": ceiling.astype(np.float32),
        "g_hi": g_hi,
        "tier": vt,
        "status": status.astype(np.uint8),
        "voxel_cell": np.repeat(np.arange(len(nlayers), dtype=np.int32), nlayers),
    }


def _grid_meta(
    area: Area,
    dem: Dem,
    obstacles: Obstacles | None,
    slopes: list[float | None],
    lost: list[int],
    dem_void_any: int,
) -> dict:
    """The grid's build record (area, DEM and its accuracy, envelope losses)."""
    # imported here, not at module level: loading a saved grid (the routing cold path)
    # needs neither the terrain package (rasterio, pyproj) nor shapely
    import shapely

    dx, dy = dem.pixel_size_m
    return {
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
    }


__all__ = ["DEFAULT_MAX_CELLS", "band_slopes", "build_grid", "peak_rss_bytes"]
