"""The served-area rule of an intent (every volume inside the grid's area): per intent,
``covered_by_area`` (a raster of tiles wholly inside, then the exact test for the rest)
against ``shapely.covered_by`` on the prepared area (the baseline), in the same run.

Area: Hunan province (its real boundary, 1,435 vertices in the shipped units), as the
province-wide grid serves it; a T4-only grid over it is built for the area's metadata.
Intents: 300 random walks of 40 tube pieces (about 1.1 km long, 55 m half-width) starting
inside the province, so most lie wholly inside and some cross the border. Both answers
are compared on every intent.

Run: ``.venv/bin/python benchmarks/area_rule.py``
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
import shapely

from airgrid.airspace.grid import TierTable, build_grid
from airgrid.airspace.grid.areas import named_area
from airgrid.airspace.grid.served import covered_by_area, served_area
from airgrid.data import DEFAULT_DEM
from airgrid.terrain import Dem

INTENTS = 300
PIECES = 40
STEP_DEG = 0.01
HALF_WIDTH_DEG = 0.0005
RUNS = 5


def walks(area: shapely.Geometry, rng: np.random.Generator) -> list[np.ndarray]:
    """``INTENTS`` footprint arrays, each a random walk of ``PIECES`` buffered segments."""
    w, s, e, n = area.bounds
    out: list[np.ndarray] = []
    while len(out) < INTENTS:
        x, y = rng.uniform(w, e), rng.uniform(s, n)
        if not area.contains(shapely.Point(x, y)):
            continue
        heading = rng.uniform(0.0, 2 * np.pi)
        pts = [(x, y)]
        for _ in range(PIECES):
            heading += rng.normal(0.0, 0.3)
            x, y = x + STEP_DEG * np.cos(heading), y + STEP_DEG * np.sin(heading)
            pts.append((x, y))
        pieces = [
            shapely.LineString(pts[i : i + 2]).buffer(HALF_WIDTH_DEG, 4) for i in range(PIECES)
        ]
        out.append(np.array(pieces, dtype=object))
    return out


def median_ms(fn: Callable[[np.ndarray], object], intents: list[np.ndarray]) -> float:
    """Median time (ms) of ``fn`` per intent, over ``RUNS`` passes."""
    times = []
    for _ in range(RUNS):
        for fps in intents:
            t0 = time.perf_counter()
            fn(fps)
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> None:
    t0 = time.perf_counter()
    grid = build_grid(named_area("湖南省"), Dem.open(DEFAULT_DEM), TierTable().select(["T4"]))
    build_s = time.perf_counter() - t0
    area = served_area(grid)
    t0 = time.perf_counter()
    covered_by_area(grid, [])  # the tiles, once per grid (the server does it at start-up)
    tiles_s = time.perf_counter() - t0
    intents = walks(area, np.random.default_rng(2026))
    answers = [covered_by_area(grid, fps) for fps in intents]
    agree = sum(
        np.array_equal(got, shapely.covered_by(fps, area)) for got, fps in zip(answers, intents)
    )
    inside = sum(bool(got.all()) for got in answers)
    ours = median_ms(lambda fps: covered_by_area(grid, fps), intents)
    base = median_ms(lambda fps: shapely.covered_by(fps, area), intents)
    print(
        f"area: Hunan, {shapely.get_num_coordinates(area):,} vertices; T4 grid built in "
        f"{build_s:.1f} s; tiles in {tiles_s:.2f} s"
    )
    print(
        f"intents: {INTENTS} of {PIECES} volumes, {inside} wholly inside; answers identical "
        f"on {agree} of {INTENTS}"
    )
    print("area rule per intent          median ms   vs baseline")
    print(f"shapely.covered_by (baseline)  {base:9.3f}         1.00x")
    print(f"covered_by_area (tiles)        {ours:9.3f}  {base / ours:11.2f}x")


if __name__ == "__main__":
    main()
