"""Routing benchmark: our Numba A* vs networkx.astar_path vs scipy.sparse.csgraph.dijkstra.

One run, one graph, one origin/destination set:

* res-9 (T2, 20 m layers: 8-9 layers per column) grid over a 45 km radius around
  Changsha, its routing graph, 50 voxel pairs 20-70 km apart in the graph's largest
  strongly connected component (so every pair has a route);
* per query: median ms and expansions/s for our A* (without and with ALT landmarks),
  networkx.astar_path (same graph, same geometric heuristic, as a Python function)
  and scipy's Dijkstra (single source, stopped at the route's cost with ``limit``);
  all costs are checked equal;
* batch throughput (both cores);
* cold process: a fresh ``python`` that imports airgrid, loads the saved grid and
  graph and plans one route (wall time of the whole subprocess);
* Hunan-wide T2 grid: graph build time and memory, Changsha -> Zhangjiajie; and the
  same on a Hunan T2-T4 grid.

Grids are cached under ``var/bench/``, keyed by a CRC of the airspace and terrain code
(rebuilt when missing or when that code changed).

Run: ``.venv/bin/python benchmarks/routing.py`` (``--skip-hunan`` for the local part only).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import math
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
import zlib
from pathlib import Path

import numba
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airgrid.airspace import Area, Grid, TierTable, build_grid, named_area
from airgrid.routing import at_true_height, build_graph, plan_route
from airgrid.routing.costs import EARTH_R
from airgrid.routing.search import router_for
from airgrid.terrain import Dem

CACHE = ROOT / "var" / "bench"
DEM = ROOT / "data" / "hunan_etopo5_5arcmin.tif"
CHANGSHA = (28.19874, 112.97087)
ZHANGJIAJIE = (29.12944, 110.47833)
EMPTY = np.empty(0, np.uint8)
LANDMARKS = 8
HUNAN_LANDMARKS = 4  # 8 cut expansions further but not time (16 B more per node to read)


def rss_now_gib() -> float:
    """Current resident memory of this process (GiB), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 2**20
    return math.nan


def disc(lat: float, lon: float, radius_m: float) -> Area:
    """A 128-gon of the given radius (spherical offsets)."""
    ang = np.linspace(0, 2 * np.pi, 129)[:-1]
    dlat = np.degrees(radius_m * np.sin(ang) / EARTH_R)
    dlon = np.degrees(radius_m * np.cos(ang) / (EARTH_R * math.cos(math.radians(lat))))
    return Area(f"disc {radius_m / 1000:.0f} km", shapely.Polygon(np.column_stack([lon + dlon, lat + dlat])))


def _source_tag() -> str:
    """CRC of the code that builds grids, so a cached grid is rebuilt when that code changes."""
    files = sorted((ROOT / "airgrid" / "airspace").glob("*.py")) + sorted((ROOT / "airgrid" / "terrain").glob("*.py"))
    return f"{zlib.crc32(b''.join(f.read_bytes() for f in files)):08x}"


def cached_grid(name: str, make) -> Grid:
    path = CACHE / f"{name}-{_source_tag()}"
    if (path / "meta.json").exists():
        return Grid.load(path, mmap=False)
    g = make()
    g.save(path)
    return g


def pick_pairs(graph, n: int, lo: float, hi: float, seed: int) -> list[tuple[int, int]]:
    from scipy.sparse.csgraph import connected_components

    _, lab = connected_components(graph.to_scipy(), connection="strong")
    big = np.flatnonzero(lab == np.bincount(lab).argmax())
    rng = np.random.default_rng(seed)
    vc, xyz = graph.grid.voxel_cell, graph.cell_xyz
    pairs = []
    while len(pairs) < n:
        a, b = (int(x) for x in rng.choice(big, 2))
        d = EARTH_R * np.linalg.norm(xyz[vc[a]] - xyz[vc[b]])
        if lo <= d <= hi:
            pairs.append((a, b))
    return pairs


def bench_ours(graph, pairs):
    router = router_for(graph)
    router.search(*pairs[0], EMPTY)  # load the cached kernel
    ms, exps, costs = [], [], []
    for a, b in pairs:
        t = time.perf_counter()
        st, c, e, _ = router.search(a, b, EMPTY)
        ms.append((time.perf_counter() - t) * 1e3)
        assert st == 0
        exps.append(e)
        costs.append(c)
    src = np.array([p[0] for p in pairs])
    dst = np.array([p[1] for p in pairs])
    router.batch(src[:2], dst[:2], EMPTY)
    t = time.perf_counter()
    st, bc, be = router.batch(src, dst, EMPTY)
    batch_s = time.perf_counter() - t
    assert (st == 0).all() and np.allclose(bc, costs)
    return np.array(ms), np.array(exps), np.array(costs), batch_s, int(be.sum())


def python_heuristic(graph, goal: int):
    """Our kernel's heuristic as a Python function (for networkx)."""
    vc, xyz, proj, dr, zc = graph.grid.voxel_cell, graph.cell_xyz, graph.proj, graph.dir_rate, graph.zc
    gcell = int(vc[goal])
    gx, gp, zg = xyz[gcell].tolist(), proj[gcell].tolist(), float(zc[goal])
    hr = graph.h_rate * EARTH_R
    xyz_l, proj_l, vc_l, zc_l = xyz.tolist(), proj.tolist(), vc.tolist(), zc.tolist()
    dr0, dr1 = dr[0].tolist(), dr[1].tolist()

    def h(u: int, _goal: int) -> float:
        c = vc_l[u]
        x = xyz_l[c]
        best = hr * math.sqrt((x[0] - gx[0]) ** 2 + (x[1] - gx[1]) ** 2 + (x[2] - gx[2]) ** 2)
        p = proj_l[c]
        for j in range(len(gp)):
            a = gp[j] - p[j]
            best = max(best, a * dr0[j] if a > 0 else -a * dr1[j])
        return best + graph.v_rate * abs(zc_l[u] - zg)

    return h


def bench_networkx(graph, pairs, costs):
    import networkx as nx

    t = time.perf_counter()
    nxg = graph.to_networkx()
    build = time.perf_counter() - t
    ms = []
    for (a, b), c in zip(pairs, costs):
        h = python_heuristic(graph, b)
        t = time.perf_counter()
        path = nx.astar_path(nxg, a, b, heuristic=h, weight="weight")
        ms.append((time.perf_counter() - t) * 1e3)
        got = sum(nxg[u][v]["weight"] for u, v in itertools.pairwise(path))
        assert abs(got - c) <= 1e-6 * c, (got, c)
    return np.array(ms), build


def bench_scipy(graph, pairs, costs):
    from scipy.sparse.csgraph import dijkstra

    csr = graph.to_scipy()
    ms, settled = [], []
    for (a, b), c in zip(pairs, costs):
        t = time.perf_counter()
        d = dijkstra(csr, directed=True, indices=a, limit=c * (1 + 1e-9))
        ms.append((time.perf_counter() - t) * 1e3)
        assert abs(d[b] - c) <= 1e-6 * c
        settled.append(int(np.isfinite(d).sum()))
    return np.array(ms), np.array(settled)


COLD = textwrap.dedent("""
    import sys, time
    t0 = time.perf_counter()
    from airgrid.airspace import Grid
    from airgrid.routing import RouteGraph, plan_route
    g = Grid.load(sys.argv[1])
    graph = RouteGraph.load(sys.argv[2], g)
    r = plan_route(graph, int(sys.argv[3]), int(sys.argv[4]))
    print(r.status.value, f"{(time.perf_counter() - t0) * 1e3:.0f}")
""")


def cold_start(grid_dir: Path, graph_dir: Path, a: int, b: int) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", COLD, str(grid_dir), str(graph_dir), str(a), str(b)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return time.perf_counter() - t, out.stdout.strip()


def local(dem: Dem) -> None:
    print("== res-9 grid, 45 km around Changsha (T2: 120-300 m true height, 20 m layers)")
    t = time.perf_counter()
    grid = cached_grid("changsha45_t2", lambda: build_grid(disc(*CHANGSHA, 45_000), dem,
                                                           TierTable().select(["T2"])))
    print(f"grid: {grid.n_cells:,} cells, {grid.n_voxels:,} voxels, layers per column "
          f"min/median/max {grid.cell_nlayers.min()}/{int(np.median(grid.cell_nlayers))}/{grid.cell_nlayers.max()}"
          f" ({time.perf_counter() - t:.1f} s)")
    graph = build_graph(grid)
    graph = build_graph(grid)  # second build: numba kernels already loaded
    print(f"graph: {graph.n_edges:,} edges, {graph.nbytes / 2**20:.0f} MiB, built in {graph.build_seconds:.2f} s; "
          f"heuristic rates: isotropic {graph.h_rate:.4f}, hex-directional "
          f"{graph.dir_rate.min():.4f}-{graph.dir_rate.max():.4f} per m")
    pairs = pick_pairs(graph, 50, 20_000, 70_000, seed=1)
    ours, exps, costs, batch_s, batch_exp = bench_ours(graph, pairs)
    eps = exps.sum() / (ours.sum() / 1e3)
    lm_graph = build_graph(grid, landmarks=LANDMARKS)
    lm_ms, lm_exps, lm_costs, _, _ = bench_ours(lm_graph, pairs)
    assert np.allclose(lm_costs, costs, rtol=1e-9)
    print(f"O/D: 50 pairs 20-70 km apart, all in the largest strongly connected component; "
          f"median {np.median(exps):,.0f} expansions/query")
    nx_ms, nx_build = bench_networkx(graph, pairs, costs)
    sp_ms, settled = bench_scipy(graph, pairs, costs)
    sp_eps = settled.sum() / (sp_ms.sum() / 1e3)
    print(f"{'method':<34}{'median ms/query':>16}{'expansions/s':>16}{'vs ours':>10}")
    print(f"{'airgrid A* (numba)':<34}{np.median(ours):>16.2f}{eps / 1e6:>15.2f}M{'1.0x':>10}")
    print(f"{f'airgrid A* + {LANDMARKS} ALT landmarks':<34}{np.median(lm_ms):>16.2f}"
          f"{lm_exps.sum() / (lm_ms.sum() / 1e3) / 1e6:>15.2f}M{np.median(lm_ms) / np.median(ours):>9.2f}x"
          f"   (median {np.median(lm_exps):,.0f} expansions; landmarks built in "
          f"{lm_graph.build_seconds - graph.build_seconds:.1f} s)")
    print(f"{'networkx.astar_path (same h)':<34}{np.median(nx_ms):>16.1f}"
          f"{exps.sum() / (nx_ms.sum() / 1e3) / 1e6:>15.3f}M{np.median(nx_ms) / np.median(ours):>9.0f}x")
    print(f"{'scipy dijkstra (limit=cost)':<34}{np.median(sp_ms):>16.1f}{sp_eps / 1e6:>15.2f}M"
          f"{np.median(sp_ms) / np.median(ours):>9.1f}x")
    print(f"  (networkx expansions/s uses our expansion count, same heuristic; scipy's counts nodes settled "
          f"within the limit, median {np.median(settled):,.0f}; networkx graph build {nx_build:.1f} s)")
    print(f"batch (50 pairs, {numba.get_num_threads()} threads): "
          f"{batch_s * 1e3:.0f} ms total, {batch_s * 1e3 / 50:.2f} ms/query, {batch_exp / batch_s / 1e6:.2f}M exp/s")
    with tempfile.TemporaryDirectory() as tmp:
        gdir = grid.save(Path(tmp) / "grid")
        rdir = graph.save(Path(tmp) / "graph")
        a, b = pairs[0]
        runs = [cold_start(gdir, rdir, a, b) for _ in range(3)]
    print("cold process to first route (import + load grid & graph + plan + smooth): "
          + ", ".join(f"{w:.2f} s (in-process {o.split()[1]} ms, {o.split()[0]})" for w, o in runs))


def hunan(dem: Dem) -> None:
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import connected_components

    for tiers in (["T2"], ["T2", "T3", "T4"]):
        name = "+".join(tiers)
        print(f"== Hunan-wide {name} grid")
        grid = cached_grid(f"hunan_{'_'.join(tiers)}",
                           lambda tiers=tiers: build_grid(named_area("hunan"), dem, TierTable().select(tiers)))
        graph = build_graph(grid)
        print(f"grid: {grid.n_cells:,} cells, {grid.n_voxels:,} voxels; graph: {graph.n_edges:,} edges, "
              f"{graph.nbytes / 2**30:.2f} GiB of arrays, built in {graph.build_seconds:.1f} s; "
              f"process RSS now {rss_now_gib():.2f} GiB (grid + graph), "
              f"peak so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
        o = at_true_height(graph, *CHANGSHA)  # mid-column of the lowest tier
        d = at_true_height(graph, *ZHANGJIAJIE)
        ho = o[2] - float(grid.ground[grid.locate(*o).voxel])
        hd = d[2] - float(grid.ground[grid.locate(*d).voxel])
        plan_route(graph, o, o)
        runs = [plan_route(graph, o, d, smooth_path=False) for _ in range(2)]
        r = runs[-1]
        t = time.perf_counter()
        full = plan_route(graph, o, d)
        total = (time.perf_counter() - t) * 1e3
        print(f"Changsha ({ho:.0f} m true height) -> Zhangjiajie ({hd:.0f} m): {r.status.value}; search "
              f"{min(x.search_ms for x in runs):.0f} ms, {r.expansions:,} expansions "
              f"({r.expansions / (r.search_ms / 1e3) / 1e6:.2f}M/s)"
              + (f"; {full.length_m / 1000:.1f} km, {len(full.waypoints)} waypoints, min clearance "
                 f"{full.min_clearance_m:.0f} m; with smoothing {total:.0f} ms" if full.found else
                 f"; {r.message}"))
        if r.found:
            t = time.perf_counter()
            graph.add_landmarks(HUNAN_LANDMARKS)
            pre = time.perf_counter() - t
            graph.router = None
            lm_runs = [plan_route(graph, o, d, smooth_path=False) for _ in range(2)]
            assert abs(lm_runs[-1].cost - r.cost) <= 1e-9 * r.cost
            print(f"  with {HUNAN_LANDMARKS} ALT landmarks (precomputed in {pre:.0f} s, "
                  f"{graph.lm.nbytes / 2**30:.2f} GiB): search {min(x.search_ms for x in lm_runs):.0f} ms, "
                  f"{lm_runs[-1].expansions:,} expansions, same cost")
        else:
            ones = csr_array((np.ones(graph.n_edges, np.int8), graph.indices, graph.indptr),
                             shape=(graph.n_nodes, graph.n_nodes))
            nc, lab = connected_components(ones, directed=False)
            so, sd = lab[r.origin], lab[r.destination]
            print(f"  the graph has {nc} components; Changsha's holds {np.sum(lab == so):,} voxels, "
                  f"Zhangjiajie's {np.sum(lab == sd):,}: they are not connected within {name}")
        del graph, grid
        gc.collect()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-hunan", action="store_true", help="only the Changsha part")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, numba {numba.__version__}, {numba.get_num_threads()} threads, "
          f"load average at start {os.getloadavg()[0]:.1f} (other jobs share these cores)")
    dem = Dem.open(DEM)
    local(dem)
    if not args.skip_hunan:
        hunan(dem)


if __name__ == "__main__":
    main()
