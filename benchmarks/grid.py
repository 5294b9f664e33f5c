"""Grid benchmarks: build time and peak memory, H3 assignment rate, terrain on a 3" DEM.

Each build runs in its own process so its peak memory is its own. Printed:

* Changsha prefecture, all tiers, and all of Hunan at T2: build seconds and peak RSS;
* H3 cell assignment (points/s): ``airspace.h3index.latlng_to_cells`` beside the plain
  h3-py loop a user would write;
* per tier, the share of cells where the tier exists (has a usable voxel) and the median
  ground span ``g_hi - g_lo``, over Changsha (T1-T4) and over Hunan (T2, T3, T4);
* the terrain step (ground bounds of every Hunan T2 cell) on a DEM of SRTM-like
  resolution (3 arc-seconds) MADE FOR THIS BENCHMARK ONLY: the shipped 30" DEM resampled
  bilinearly with added random relief. Beside it, the baseline a user would write with
  rasterio (``rasterio.mask.mask(..., all_touched=True, crop=True)`` per cell, timed on a
  sample and given per cell).

Run: ``.venv/bin/python benchmarks/grid.py`` (about 3 minutes on 2 cores).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _build(area: str, tiers: str) -> dict:
    from airgrid.airspace.grid import TierTable, build_grid, named_area
    from airgrid.airspace.grid.build import peak_rss_bytes
    from airgrid.data import DEFAULT_DEM
    from airgrid.terrain import Dem

    dem = Dem.open(DEFAULT_DEM)
    table = TierTable().select(tiers.split(",") if tiers != "all" else None)
    t0 = time.perf_counter()
    g = build_grid(named_area(area), dem, table)
    return {
        "seconds": time.perf_counter() - t0,
        "peak_mib": peak_rss_bytes() / 2**20,
        "cells": g.n_cells,
        "voxels": g.n_voxels,
        "tiers": [
            {k: r[k] for k in ("tier", "exists_share", "span_m_median", "cells_lost_to_envelope")}
            for r in g.tier_summary()
        ],
    }


def _fine_dem_terrain() -> dict:
    import h3
    import rasterio
    import rasterio.mask
    from affine import Affine
    from rasterio.io import MemoryFile
    from scipy.ndimage import zoom

    from airgrid.airspace.grid import cover_cells, named_area
    from airgrid.airspace.grid.build import peak_rss_bytes
    from airgrid.data import DEFAULT_DEM
    from airgrid.terrain import Dem, cell_ground
    from airgrid.terrain.surface import cell_vertices_lonlat

    base = Dem.open(DEFAULT_DEM)
    factor = 10  # 30" -> 3"
    fine = zoom(base.data, factor, order=1).astype(np.float32)
    rng = np.random.default_rng(0)
    # relief at three scales (~9 km, ~900 m, ~90 m), tens to hundreds of metres
    for step, amp in ((100, 150.0), (10, 40.0), (1, 8.0)):
        noise = rng.standard_normal((fine.shape[0] // step + 2, fine.shape[1] // step + 2)).astype(
            np.float32
        )
        if step > 1:
            noise = zoom(noise, step, order=1)
        fine += amp * noise[: fine.shape[0], : fine.shape[1]]
    t = base.transform
    transform = Affine(t.a / factor, 0, t.c, 0, t.e / factor, t.f)
    dem = Dem(fine, transform, 4326, sources=["synthetic 3-arc-second DEM (benchmark only)"])
    cells = cover_cells(named_area("hunan"), 9)
    t0 = time.perf_counter()
    verts = cell_vertices_lonlat(cells)
    t_verts = time.perf_counter() - t0
    t1 = time.perf_counter()
    g = cell_ground(dem, cells, vertices=verts)
    t_kernel = time.perf_counter() - t1
    # baseline: rasterio.mask per cell on a sample
    sample = cells[:: max(1, len(cells) // 300)][:300]
    profile = {
        "driver": "GTiff",
        "width": fine.shape[1],
        "height": fine.shape[0],
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": transform,
    }
    with MemoryFile() as mem:
        with mem.open(**profile) as ds:
            ds.write(fine, 1)
        with mem.open() as ds:
            tb = time.perf_counter()
            ref = []
            for c in sample:
                ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(h3.int_to_str(int(c)))]
                geom = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
                arr, _ = rasterio.mask.mask(ds, [geom], all_touched=True, crop=True, filled=False)
                ref.append(float(arr.max()))
            t_base = (time.perf_counter() - tb) / len(sample)
    ours = g.dem_max[np.searchsorted(cells, sample)]
    return {
        "cells": len(cells),
        "dem_px": list(fine.shape),
        "vertices_s": t_verts,
        "kernel_s": t_kernel,
        "ours_per_cell_us": 1e6 * (t_verts + t_kernel) / len(cells),
        "base_per_cell_us": 1e6 * t_base,
        "ours_ge_rasterio": bool(np.all(ours >= np.array(ref) - 1e-3)),
        "peak_mib": peak_rss_bytes() / 2**20,
    }


def _assignment_rate() -> dict:
    import h3

    from airgrid.airspace.grid.h3index import latlng_to_cells

    rng = np.random.default_rng(1)
    lat = rng.uniform(24.7, 30.1, 500_000)
    lon = rng.uniform(108.8, 114.2, 500_000)
    ours, base = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        latlng_to_cells(lat, lon, 9)
        ours.append(len(lat) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        [h3.latlng_to_cell(a, b, 9) for a, b in zip(lat, lon)]
        base.append(len(lat) / (time.perf_counter() - t0))
    return {"ours": statistics.median(ours), "base": statistics.median(base)}


def _child(name: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, name], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print("airgrid grid benchmark (2-core machine; each build in a fresh process)")
    cs = _child("changsha")
    print(
        f"Changsha prefecture, T1-T4: {cs['seconds']:.1f} s, peak {cs['peak_mib']:,.0f} MiB, "
        f"{cs['cells']:,} cells, {cs['voxels']:,} voxels"
    )
    hn = _child("hunan")
    print(
        f"Hunan, T2 (res 9):          {hn['seconds']:.1f} s, peak {hn['peak_mib']:,.0f} MiB, "
        f"{hn['cells']:,} cells, {hn['voxels']:,} voxels   (goal < 30 s, < 4096 MiB)"
    )
    h34 = _child("hunan-t34")
    print("share of cells where each tier exists (median ground span g_hi - g_lo):")
    for label, rows in (("Changsha", cs["tiers"]), ("Hunan", hn["tiers"] + h34["tiers"])):
        print(
            f"  {label:9s} "
            + "  ".join(
                f"{r['tier']} {100 * r['exists_share']:5.1f}% ({r['span_m_median']:.0f} m)"
                for r in rows
            )
        )
    ar = _assignment_rate()
    print(
        f"H3 cell assignment, res 9:  {ar['ours'] / 1e6:.2f} M points/s; plain h3-py loop "
        f"{ar['base'] / 1e6:.2f} M points/s; ratio {ar['ours'] / ar['base']:.2f}x"
    )
    fd = _child("fine")
    print(
        f'Terrain step on a SYNTHETIC 3" DEM ({fd["dem_px"][0]}x{fd["dem_px"][1]} px, made for this '
        f'benchmark from the 30" DEM + random relief), {fd["cells"]:,} Hunan T2 cells:'
    )
    print(
        f"  ours: vertices {fd['vertices_s']:.1f} s + kernel {fd['kernel_s']:.1f} s = "
        f"{fd['ours_per_cell_us']:.2f} us/cell; rasterio.mask(all_touched) {fd['base_per_cell_us']:.0f} us/cell; "
        f"ratio {fd['base_per_cell_us'] / fd['ours_per_cell_us']:.0f}x; ours >= rasterio on sample: "
        f"{fd['ours_ge_rasterio']}; peak {fd['peak_mib']:,.0f} MiB"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        job = {
            "changsha": lambda: _build("changsha", "all"),
            "hunan": lambda: _build("hunan", "T2"),
            "hunan-t34": lambda: _build("hunan", "T3,T4"),
            "fine": _fine_dem_terrain,
        }[sys.argv[1]]
        print(json.dumps(job()))
    else:
        main()
