"""Route no-go areas: the blocked-voxel mask of a re-route that sends 50 hexagons around
conflicts, covered afresh (h3's overlap cover per area and tier, as every request paid
before small areas were remembered) against the same request again (the covers
remembered per grid), on the same grid in the same run.

A traffic day's client re-routing a refused flight sends a hexagon of
``2 x lateral minimum + tube half-width`` (170 m for T2) around every conflict so far,
so each later re-route of the flight sends the earlier hexagons again.

Usage::

    .venv/bin/python benchmarks/no_go.py [--grid DIR] [--areas 50] [--repeats 15]

Without ``--grid`` it uses the embedded default grid (``var/grid-default``, built there
first when missing, as ``airgrid serve`` does).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import h3
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from airgrid.airspace.grid import Grid
from airgrid.api.cli.serve import ensure_grid
from airgrid.routing import build_graph
from airgrid.routing.search import constraints
from airgrid.routing.search.constraints import Constraints, constraint_mask
from airgrid.settings import Settings
from airgrid.simulation.http_runner import hexagon


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=Path, default=None, help="Built grid folder.")
    ap.add_argument("--areas", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    if args.grid is None:
        settings = Settings()
        ensure_grid(settings, progress=False)
        args.grid = settings.grid_path
    grid = Grid.load(args.grid)
    graph = build_graph(grid)
    rng = np.random.default_rng(0)
    names = [t.name for t in grid.tiers]
    afresh, again = [], []
    for _ in range(args.repeats):
        picks = rng.choice(grid.n_voxels, args.areas, replace=False)
        centres = [h3.cell_to_latlng(h3.int_to_str(int(c))) for c in grid.cell[picks]]
        areas = [shapely.geometry.shape(hexagon(a, b, 170.0)) for a, b in centres]
        request = Constraints(tiers=names, no_go=tuple(areas))
        constraints._NO_GO = constraints._NoGoCache()  # nothing remembered
        t0 = time.perf_counter()
        first = constraint_mask(graph, request)
        afresh.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        second = constraint_mask(graph, request)
        again.append(time.perf_counter() - t0)
        assert np.array_equal(first, second)
    a, b = statistics.median(afresh) * 1e3, statistics.median(again) * 1e3
    print(
        f"grid {grid.meta.get('area')} {grid.n_voxels:,} voxels ({', '.join(names)}); "
        f"{args.areas} hexagons of 170 m per request, {args.repeats} requests"
    )
    print(f"{'mask of the request':<36}{'median ms':>10}{'vs afresh':>11}")
    print(f"{'covers computed afresh (baseline)':<36}{a:>10.2f}{1.0:>10.2f}x")
    print(f"{'covers remembered':<36}{b:>10.2f}{a / b:>10.2f}x")


if __name__ == "__main__":
    main()
