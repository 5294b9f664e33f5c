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
* smoothing: its share of a route (search + smoothing + clearance), with the Numba
  line-of-sight walk as served and with the plain Python walk (``segment_voxels`` per
  check, the way routes were smoothed before), on the same paths, same waypoints;
* cold process: a fresh ``python`` that imports airgrid, loads the saved grid and
  graph and plans one route (wall time of the whole subprocess);
* Hunan-wide T2 grid: graph build time and memory, Changsha -> Changde; and the
  same on a Hunan T2-T4 grid.

Grids are cached under ``var/bench/``, keyed by a CRC of the airspace and terrain code
(rebuilt when missing or when that code changed).

Run: ``.venv/bin/python benchmarks/routing.py`` (``--skip-hunan`` for the local part only,
``--smoothing-only`` for the smoothing share alone).
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

from airgrid.airspace.grid import Area, Grid, TierTable, build_grid, named_area  # noqa: E402 (after the sys.path insert)
from airgrid.data import DEFAULT_DEM  # noqa: E402 (after the sys.path insert)
from airgrid.geo.constants import EARTH_RADIUS_M as EARTH_R  # noqa: E402 (after the sys.path insert)
from airgrid.routing import at_agl, build_graph, plan_route  # noqa: E402 (after the sys.path insert)
from airgrid.routing.landmarks import LANDMARK_BYTES, MIN_LANDMARKS, landmark_count  # noqa: E402 (after the sys.path insert)
from airgrid.routing.search.router import router_for  # noqa: E402 (after the sys.path insert)
from airgrid.routing.search.sightline import segment_voxels, voxel_lonlat  # noqa: E402 (after the sys.path insert)
from airgrid.routing.search.smooth import legs_clearance, smooth, string_pull  # noqa: E402 (after the sys.path insert)
from airgrid.routing.search.strategy import CORRIDOR_WEIGHT  # noqa: E402 (after the sys.path insert)
from airgrid.terrain import Dem  # noqa: E402 (after the sys.path insert)

CACHE = ROOT / "var" / "bench"
DEM = DEFAULT_DEM
CHANGSHA = (28.19874, 112.97087)
CHANGDE = (29.03205, 111.69844)
EMPTY = np.empty(0, np.uint8)


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
    return Area(
        f"disc {radius_m / 1000:.0f} km", shapely.Polygon(np.column_stack([lon + dlon, lat + dlat]))
    )


def _source_tag() -> str:
    """CRC of the code that builds grids, so a cached grid is rebuilt when that code changes."""
    files = sorted((ROOT / "airgrid" / "airspace").glob("*.py")) + sorted(
        (ROOT / "airgrid" / "terrain").glob("*.py")
    )
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


def python_smooth(graph, path: np.ndarray) -> tuple[np.ndarray, float]:
    """Waypoint indices and least clearance of a voxel path by the plain Python walk:
    :func:`string_pull` with :func:`segment_voxels` per line-of-sight check and per leg."""
    grid = graph.grid
    lat, lon = voxel_lonlat(graph, path)
    pts = np.column_stack([lat, lon, graph.zc[path].astype(np.float64)])
    tiers = grid.tier[path].astype(np.int64)

    def visible(i: int, j: int) -> bool:
        if tiers[i] != tiers[j]:
            return False
        got = segment_voxels(graph, pts[i], pts[j], int(tiers[i]))
        return got is not None and bool((got[0] >= 0).all() and graph.usable[got[0]].all())

    idx = string_pull(len(pts), visible)
    low = math.inf
    for a, b in itertools.pairwise(idx.tolist()):
        if tiers[a] == tiers[b]:
            got = segment_voxels(graph, pts[a], pts[b], int(tiers[a]))
            if got is not None:
                low = min(low, float(np.min(got[2] - grid.cell_g_hi[got[1]])))
    return idx, low


def bench_smoothing(graph, pairs) -> None:
    """Median search and smoothing times per route, smoothing by the Numba walk (as
    served, once its cell hulls are computed, and the first time) and by the plain
    Python walk, and smoothing's share of the route."""
    router = router_for(graph)
    search, cold_ms, numba_ms, python_ms = [], [], [], []
    for a, b in pairs:
        t = time.perf_counter()
        _, _, _, path = router.search(a, b, EMPTY)
        search.append((time.perf_counter() - t) * 1e3)
        path = path.astype(np.int64)
        for runs in (cold_ms, numba_ms):  # first with the cells' hulls still to compute
            t = time.perf_counter()
            pts, wvox = smooth(graph, path, EMPTY, scratch=router.sight)
            low = legs_clearance(graph, pts, wvox, router.sight)
            runs.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        idx, ref_low = python_smooth(graph, path)
        python_ms.append((time.perf_counter() - t) * 1e3)
        assert np.array_equal(path[idx], wvox) and abs(low - ref_low) < 1e-9
    s, c, n, p = (float(np.median(x)) for x in (search, cold_ms, numba_ms, python_ms))
    print(
        f"smoothing (same {len(pairs)} routes, same waypoints; medians): search {s:.2f} ms;\n"
        f"  line of sight in Numba {n:.2f} ms = {n / (s + n) * 100:.0f} % of the route "
        f"(first time over new cells, hulls computed then: {c:.2f} ms);\n"
        f"  plain Python walk {p:.2f} ms = {p / (s + p) * 100:.0f} % of the route ({p / n:.0f}x the Numba walk)"
    )


def python_heuristic(graph, goal: int):
    """Our kernel's heuristic (planar, hex-directional, vertical, ALT if the graph has landmarks) in Python."""
    xy = graph.nxyz.astype(np.float64)
    gx, gy, gz = xy[goal].tolist()
    xs, ys, zs = xy[:, 0].tolist(), xy[:, 1].tolist(), xy[:, 2].tolist()
    dirs, r0, r1 = graph.dirs.tolist(), graph.rates[0].tolist(), graph.rates[1].tolist()
    hr, vr = graph.h_rate, graph.v_rate
    nl = graph.lm.shape[1] // 2
    lt = graph.lm[goal].tolist() if nl else []
    lm = graph.lm

    def h(u: int, _goal: int) -> float:
        dx, dy = gx - xs[u], gy - ys[u]
        best = hr * math.sqrt(dx * dx + dy * dy)
        for j in range(3):
            a = dx * dirs[j][0] + dy * dirs[j][1]
            best = max(best, a * r0[j] if a > 0 else -a * r1[j])
        best += vr * abs(gz - zs[u])
        if nl:
            row = lm[u]
            with np.errstate(
                invalid="ignore"
            ):  # inf - inf (both unreachable) is nan and never wins
                for i in range(nl):
                    a, b = lt[i] - row[i], row[nl + i] - lt[nl + i]
                    if a > best:
                        best = a
                    if b > best:
                        best = b
        return best

    return h


def bench_networkx(graph, pairs, costs, nxg=None):
    import networkx as nx

    t = time.perf_counter()
    nxg = nxg if nxg is not None else graph.to_networkx()
    build = time.perf_counter() - t
    ms = []
    for (a, b), c in zip(pairs, costs):
        h = python_heuristic(graph, b)
        t = time.perf_counter()
        path = nx.astar_path(nxg, a, b, heuristic=h, weight="weight")
        ms.append((time.perf_counter() - t) * 1e3)
        got = sum(nxg[u][v]["weight"] for u, v in itertools.pairwise(path))
        assert abs(got - c) <= 1e-6 * c, (got, c)
    return np.array(ms), build, nxg


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
    from airgrid.airspace.grid import Grid
    from airgrid.routing import RouteGraph, plan_route
    g = Grid.load(sys.argv[1])
    graph = RouteGraph.load(sys.argv[2], g)
    r = plan_route(graph, int(sys.argv[3]), int(sys.argv[4]))
    print(r.status.value, f"{(time.perf_counter() - t0) * 1e3:.0f}", flush=True)
""")


def cold_start(grid_dir: Path, graph_dir: Path, a: int, b: int) -> tuple[float, float, str]:
    """Seconds from spawning a fresh python to its printed first route, and to its exit; its own line."""
    t = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-c", COLD, str(grid_dir), str(graph_dir), str(a), str(b)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as proc:
        line = proc.stdout.readline().strip()
        first = time.perf_counter() - t
        proc.wait()
    return first, time.perf_counter() - t, line


def local(dem: Dem, smoothing_only: bool = False) -> None:
    print("== res-9 grid, 45 km around Changsha (T2: 120-300 m true height, 20 m layers)")
    t = time.perf_counter()
    grid = cached_grid(
        "changsha45_t2",
        lambda: build_grid(disc(*CHANGSHA, 45_000), dem, TierTable().select(["T2"])),
    )
    print(
        f"grid: {grid.n_cells:,} cells, {grid.n_voxels:,} voxels, layers per column "
        f"min/median/max {grid.cell_nlayers.min()}/{int(np.median(grid.cell_nlayers))}/{grid.cell_nlayers.max()}"
        f" ({time.perf_counter() - t:.1f} s)"
    )
    graph = build_graph(grid)
    graph = build_graph(grid)  # second build: numba kernels already loaded
    print(
        f"graph: {graph.n_edges:,} edges, {graph.nbytes / 2**20:.0f} MiB, built in {graph.build_seconds:.2f} s; "
        f"heuristic rates: isotropic {graph.h_rate:.4f}, hex-directional "
        f"{graph.rates.min():.4f}-{graph.rates.max():.4f} per m"
    )
    pairs = pick_pairs(graph, 50, 20_000, 70_000, seed=1)
    k = landmark_count(graph.n_nodes)
    if smoothing_only:
        lm_graph = build_graph(grid, landmarks=k)
        smooth(lm_graph, np.array(pairs[0][:1]), EMPTY)  # compile / load the kernels
        bench_smoothing(lm_graph, pairs)
        return
    geo_ms, geo_exps, costs, _, _ = bench_ours(graph, pairs)
    lm_graph = build_graph(grid, landmarks=k)
    ours, exps, lm_costs, batch_s, batch_exp = bench_ours(lm_graph, pairs)
    assert np.allclose(lm_costs, costs, rtol=1e-9)
    smooth(lm_graph, np.array(pairs[0][:1]), EMPTY)  # compile / load the kernels
    bench_smoothing(lm_graph, pairs)
    eps = exps.sum() / (ours.sum() / 1e3)
    print(
        f"O/D: 50 pairs 20-70 km apart, all in the largest strongly connected component. Our A* as served "
        f"(graph_for, the API and the CLI): {k} ALT landmarks, precomputed in "
        f"{lm_graph.build_seconds - graph.build_seconds:.1f} s, {lm_graph.lm.nbytes / 2**20:.0f} MiB"
    )
    nx_ms, nx_build, nxg = bench_networkx(graph, pairs, costs)
    nxl_ms, _, _ = bench_networkx(lm_graph, pairs, costs, nxg)
    sp_ms, settled = bench_scipy(graph, pairs, costs)
    sp_eps = settled.sum() / (sp_ms.sum() / 1e3)
    med = np.median(ours)

    def row(name: str, ms: np.ndarray, eps_m: float, exp_med: float) -> None:
        print(
            f"{name:<44}{np.median(ms):>10.2f}{eps_m:>12.2f}M{exp_med:>12,.0f}{np.median(ms) / med:>11.1f}x"
        )

    print(f"{'method':<44}{'median ms':>10}{'exp/s':>13}{'median exp':>12}{'vs ours':>12}")
    row(f"airgrid A* (numba) + {k} ALT landmarks", ours, eps / 1e6, np.median(exps))
    row(
        "airgrid A* (numba), geometric h only",
        geo_ms,
        geo_exps.sum() / (geo_ms.sum() / 1e3) / 1e6,
        np.median(geo_exps),
    )
    row(
        "networkx.astar_path, geometric h",
        nx_ms,
        geo_exps.sum() / (nx_ms.sum() / 1e3) / 1e6,
        np.median(geo_exps),
    )
    row(
        "networkx.astar_path, same h as ours (ALT)",
        nxl_ms,
        exps.sum() / (nxl_ms.sum() / 1e3) / 1e6,
        np.median(exps),
    )
    row("scipy dijkstra (limit=cost)", sp_ms, sp_eps / 1e6, np.median(settled))
    print(
        f"  geometric h = planar + hex-directional + vertical bound (a networkx user's best without "
        f"precomputation); networkx expansions/s use our expansion counts; scipy's count nodes settled "
        f"within the limit; networkx graph build {nx_build:.1f} s"
    )
    print(
        f"  ours without landmarks vs networkx with the same geometric h: "
        f"{np.median(nx_ms) / np.median(geo_ms):.0f}x"
    )
    print(
        f"batch (50 pairs, {numba.get_num_threads()} threads, {k} landmarks): "
        f"{batch_s * 1e3:.0f} ms total, {batch_s * 1e3 / 50:.2f} ms/query, {batch_exp / batch_s / 1e6:.2f}M exp/s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        gdir = grid.save(Path(tmp) / "grid")
        rdir = lm_graph.save(Path(tmp) / "graph")
        a, b = pairs[0]
        runs = [cold_start(gdir, rdir, a, b) for _ in range(3)]
    print(
        "cold process, spawn to first route printed (import + load grid & graph + plan + smooth): "
        + ", ".join(
            f"{f:.2f} s (in-process {o.split()[1]} ms, {o.split()[0]}; process exit at {w:.2f} s)"
            for f, w, o in runs
        )
    )


def hunan(dem: Dem) -> None:
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import connected_components

    for tiers in (["T2"], ["T2", "T3", "T4"]):
        name = "+".join(tiers)
        print(f"== Hunan-wide {name} grid")
        grid = cached_grid(
            f"hunan_{'_'.join(tiers)}",
            lambda tiers=tiers: build_grid(named_area("hunan"), dem, TierTable().select(tiers)),
        )
        graph = build_graph(grid)
        print(
            f"grid: {grid.n_cells:,} cells, {grid.n_voxels:,} voxels; graph: {graph.n_edges:,} edges, "
            f"{graph.nbytes / 2**30:.2f} GiB of arrays, built in {graph.build_seconds:.1f} s; "
            f"process RSS now {rss_now_gib():.2f} GiB (grid + graph), "
            f"peak so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB"
        )
        o = at_agl(graph, *CHANGSHA)  # mid-column of the lowest tier
        d = at_agl(graph, *CHANGDE)
        ho = o[2] - float(grid.g_hi[grid.locate(*o).voxel])
        hd = d[2] - float(grid.g_hi[grid.locate(*d).voxel])
        plan_route(graph, o, o)
        r = min(
            (plan_route(graph, o, d, smooth_path=False, strategy="exact") for _ in range(2)),
            key=lambda x: x.search_ms,
        )
        print(
            f"Changsha ({ho:.0f} m above g_hi) -> Changde ({hd:.0f} m), exact A*, geometric h: "
            f"{r.status.value}; search {r.search_ms:.0f} ms, {r.expansions:,} expansions "
            f"({r.expansions / (r.search_ms / 1e3) / 1e6:.2f}M/s)"
            + ("" if r.found else f"; {r.message}")
        )
        if not r.found:
            ones = csr_array(
                (np.ones(graph.n_edges, np.int8), graph.indices, graph.indptr),
                shape=(graph.n_nodes, graph.n_nodes),
            )
            nc, lab = connected_components(ones, directed=False)
            so, sd = lab[r.origin], lab[r.destination]
            print(
                f"  the graph has {nc} components; Changsha's holds {np.sum(lab == so):,} voxels, "
                f"Changde's {np.sum(lab == sd):,}: they are not connected within {name}"
            )
            del graph, grid
            gc.collect()
            continue
        k = landmark_count(graph.n_nodes)
        if k:
            t = time.perf_counter()
            graph.add_landmarks(k)
            pre = time.perf_counter() - t
            graph.router = None
            lm = min(
                (plan_route(graph, o, d, smooth_path=False, strategy="exact") for _ in range(2)),
                key=lambda x: x.search_ms,
            )
            assert abs(lm.cost - r.cost) <= 1e-9 * r.cost
            print(
                f"  exact A* + {k} ALT landmarks (precomputed in {pre:.0f} s, {graph.lm.nbytes / 2**30:.2f} GiB): "
                f"search {lm.search_ms:.0f} ms, {lm.expansions:,} expansions, same cost"
            )
        else:
            print(
                f"  no ALT landmarks as served: fewer than {MIN_LANDMARKS} fit {LANDMARK_BYTES / 2**30:.0f} GiB "
                f"at {graph.n_nodes:,} nodes"
            )
        runs = [plan_route(graph, o, d, smooth_path=False, strategy="fast") for _ in range(5)]
        c = runs[-1]
        t = time.perf_counter()
        full = plan_route(graph, o, d)  # auto: corridor at this distance, smoothed
        total = (time.perf_counter() - t) * 1e3
        print(
            f"  strategy fast (weighted A* w={CORRIDOR_WEIGHT} + exact A* in a zone corridor, zones at H3 res "
            f"{graph.zone_res}, {len(graph.zone_xy):,} zones): search median "
            f"{np.median([x.search_ms for x in runs]):.0f} ms (min {min(x.search_ms for x in runs):.0f}), "
            f"{c.expansions:,} expansions; cost {c.cost:,.0f} vs optimum {r.cost:,.0f} "
            f"(+{(c.cost / r.cost - 1) * 100:.3f} %), proven lower bound {c.cost_lower_bound:,.0f}"
        )
        print(
            f"  as served (strategy auto = fast here), with smoothing: {total:.0f} ms; "
            f"{full.length_m / 1000:.1f} km, {len(full.waypoints)} waypoints, min clearance "
            f"{full.min_clearance_m:.0f} m"
        )
        del graph, grid
        gc.collect()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-hunan", action="store_true", help="only the Changsha part")
    ap.add_argument(
        "--smoothing-only", action="store_true", help="only smoothing's share (Changsha part)"
    )
    args = ap.parse_args()
    print(
        f"python {sys.version.split()[0]}, numba {numba.__version__}, {numba.get_num_threads()} threads, "
        f"load average at start {os.getloadavg()[0]:.1f} (other jobs share these cores)"
    )
    dem = Dem.open(DEM)
    local(dem, args.smoothing_only)
    if not (args.skip_hunan or args.smoothing_only):
        hunan(dem)


if __name__ == "__main__":
    main()
