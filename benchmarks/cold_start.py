"""Cold start: how long a fresh process takes to reach its first route, stage by stage.

The routing benchmark's cold-process figure (``COLD`` in ``benchmarks/routing.py``) is
one wall time. This script splits the same path into stages, each timed inside a fresh
``python`` (median of ``--runs`` processes, after one discarded warm-up process that
fills Numba's on-disk cache):

* interpreter start (parent clock before spawning -> first line of the child);
* ``import numpy`` and ``import numba`` (what every airgrid import needs anyway);
* ``from airgrid.airspace.grid import Grid`` and ``from airgrid.routing import RouteGraph,
  plan_route``;
* ``Grid.load`` and ``RouteGraph.load`` (the latter checks the grid's fingerprint);
* Numba's BLAS probe: the first dispatch of any Numba function initialises Numba's CPU
  target, whose ``numba.np.arraymath`` imports ``scipy.linalg.cython_blas``
  (``_check_blas``). It is imported here explicitly, as its own stage, just before the
  first route: the total is unchanged, the cost is only moved;
* the first ``plan_route`` (rest of Numba's target set-up, cached kernel loads, search,
  smoothing);
* after the cold path, in the same process: the same route again (warm) and
  ``grid_fingerprint`` again, to show how much of the first route and of
  ``RouteGraph.load`` they are.

Each stage gets its wall and CPU (``time.process_time``) milliseconds; CPU time is the
steadier figure on a busy machine. Runs of the plain benchmark script (``COLD`` below,
as in ``benchmarks/routing.py``) alternate with the staged ones, and their whole
subprocess (spawn to exit, so interpreter start-up and shut-down included) is timed
too. Last, the modules imported in each stage, summed by top-level package (self time
from ``python -X importtime``, median of ``--runs`` processes).

The grid is a T2 disc (``--radius-km``, default 10) around Changsha on the shipped 5'
DEM, cached under ``var/bench/`` keyed by a CRC of the terrain, airspace and routing
code. ``--profile`` adds one cProfile run of the whole cold path.

Run: ``.venv/bin/python benchmarks/cold_start.py`` (``--radius-km 45`` for the routing
benchmark's grid).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
import zlib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CACHE = ROOT / "var" / "bench"
CHANGSHA = (28.19874, 112.97087)
EARTH_R = 6_371_008.8

#: The plain cold path, exactly as in ``benchmarks/routing.py``.
COLD = textwrap.dedent("""
    import sys, time
    t0 = time.perf_counter()
    from airgrid.airspace.grid import Grid
    from airgrid.routing import RouteGraph, plan_route
    g = Grid.load(sys.argv[1])
    graph = RouteGraph.load(sys.argv[2], g)
    r = plan_route(graph, int(sys.argv[3]), int(sys.argv[4]))
    print(r.status.value, f"{(time.perf_counter() - t0) * 1e3:.0f}")
""")

#: The same path with a timestamp after each stage; prints one JSON object on stdout
#: and, with ``-X importtime``, a ``@@stage <name>`` marker on stderr after each stage.
STAGED = textwrap.dedent("""
    import time
    wall0 = time.time()
    t0 = time.perf_counter()
    import json, sys
    marks = []

    def mark(name):
        marks.append((name, time.perf_counter(), time.process_time()))
        print("@@stage", name, file=sys.stderr, flush=True)

    mark("interpreter start")
    import numpy
    mark("import numpy")
    import numba
    mark("import numba")
    from airgrid.airspace.grid import Grid
    mark("from airgrid.airspace.grid import Grid")
    from airgrid.routing import RouteGraph, plan_route
    mark("from airgrid.routing import RouteGraph, plan_route")
    g = Grid.load(sys.argv[1])
    mark("Grid.load")
    graph = RouteGraph.load(sys.argv[2], g)
    mark("RouteGraph.load")
    import scipy.linalg.cython_blas
    mark("numba BLAS probe (import scipy.linalg)")
    r = plan_route(graph, int(sys.argv[3]), int(sys.argv[4]))
    mark("first plan_route")
    stages = {}
    prev, prev_cpu = t0, marks[0][2]
    for name, t, cpu in marks[1:]:
        stages[name] = ((t - prev) * 1e3, (cpu - prev_cpu) * 1e3)
        prev, prev_cpu = t, cpu
    stages["total in-process"] = ((prev - t0) * 1e3, (prev_cpu - marks[0][2]) * 1e3)
    t = time.perf_counter()
    plan_route(graph, int(sys.argv[3]), int(sys.argv[4]))
    after = {"plan_route again (warm)": (time.perf_counter() - t) * 1e3}
    from airgrid.routing.graph import grid_fingerprint
    t = time.perf_counter()
    grid_fingerprint(g)
    after["grid_fingerprint again"] = (time.perf_counter() - t) * 1e3
    print(json.dumps({"wall0": wall0, "status": r.status.value, "stages": stages, "after": after}))
""")

#: The cold path under cProfile (imports, loads and the first route).
PROFILED = textwrap.dedent("""
    import cProfile, pstats, sys
    prof = cProfile.Profile()
    prof.enable()
    from airgrid.airspace.grid import Grid
    from airgrid.routing import RouteGraph, plan_route
    g = Grid.load(sys.argv[1])
    graph = RouteGraph.load(sys.argv[2], g)
    r = plan_route(graph, int(sys.argv[3]), int(sys.argv[4]))
    prof.disable()
    pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(int(sys.argv[5]))
""")


def _source_tag() -> str:
    """CRC of the code that builds grids and graphs (a cached pair is rebuilt when it changes)."""
    files = []
    for pkg in ("terrain", "airspace", "routing"):
        files += sorted((ROOT / "airgrid" / pkg).glob("*.py"))
    return f"{zlib.crc32(b''.join(f.read_bytes() for f in files)):08x}"


def cached_pair(radius_km: float) -> tuple[Path, Path, tuple[int, int], str]:
    """Saved grid and graph folders of a T2 disc around Changsha, with an O/D voxel pair.

    Parameters
    ----------
    radius_km
        Disc radius.

    Returns
    -------
    tuple
        Grid folder, graph folder, ``(origin, destination)`` dense voxel indices in the
        graph's largest strongly connected component, and a one-line description.
    """
    import numpy as np
    import shapely
    from scipy.sparse.csgraph import connected_components

    from airgrid.airspace.grid import Area, Grid, TierTable, build_grid
    from airgrid.data import DEFAULT_DEM
    from airgrid.routing import RouteGraph, build_graph
    from airgrid.terrain import Dem

    base = CACHE / f"cold-r{radius_km:g}-{_source_tag()}"
    for stale in CACHE.glob(f"cold-r{radius_km:g}-*"):
        if stale != base:  # built by older code
            shutil.rmtree(stale)
    gdir, rdir = base / "grid", base / "graph"
    if (gdir / "meta.json").exists() and (rdir / "graph.json").exists():
        grid = Grid.load(gdir, mmap=False)
        graph = RouteGraph.load(rdir, grid)
    else:
        lat, lon = CHANGSHA
        r = radius_km * 1000
        ang = np.linspace(0, 2 * np.pi, 129)[:-1]
        dlat = np.degrees(r * np.sin(ang) / EARTH_R)
        dlon = np.degrees(r * np.cos(ang) / (EARTH_R * math.cos(math.radians(lat))))
        area = Area(
            f"disc {radius_km:g} km", shapely.Polygon(np.column_stack([lon + dlon, lat + dlat]))
        )
        grid = build_grid(area, Dem.open(DEFAULT_DEM), TierTable().select(["T2"]))
        graph = build_graph(grid)
        grid.save(gdir)
        graph.save(rdir)
    _, lab = connected_components(graph.to_scipy(), connection="strong")
    big = np.flatnonzero(lab == np.bincount(lab).argmax())
    rng = np.random.default_rng(1)
    xyz, vc = graph.cell_xyz, grid.voxel_cell
    while True:
        a, b = (int(x) for x in rng.choice(big, 2))
        if EARTH_R * np.linalg.norm(xyz[vc[a]] - xyz[vc[b]]) >= radius_km * 1000:
            break
    desc = (
        f"T2 disc r={radius_km:g} km around Changsha: {grid.n_cells:,} cells, {grid.n_voxels:,} voxels, "
        f"{graph.n_edges:,} edges; route {a} -> {b}"
    )
    return gdir, rdir, (a, b), desc


def _child(
    code: str, args: list[str], importtime: bool = False
) -> tuple[float, float, float, str, str]:
    """Run ``code`` in a fresh ``python``.

    Returns
    -------
    tuple
        ``time.time()`` at spawn, wall ms, CPU ms (user + system) of the child, stdout, stderr.
    """
    cmd = [sys.executable] + (["-X", "importtime"] if importtime else []) + ["-c", code] + args
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    wall = (time.time() - t) * 1e3
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1e3
    return t, wall, cpu, out.stdout, out.stderr


def import_breakdown(stderr: str) -> dict[str, dict[str, float]]:
    """Self import time (ms) per stage and top-level package, from ``-X importtime`` output."""
    per: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    pending: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        if line.startswith("@@stage "):
            per[line[8:]] = dict(pending)
            pending = defaultdict(float)
        elif line.startswith("import time:") and "self [us]" not in line:
            self_us, _, name = (s.strip() for s in line[len("import time:") :].split("|"))
            pending[name.split(".")[0]] += int(self_us) / 1e3
    return per


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--radius-km", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also print the N top cProfile entries (cumulative) of one cold run",
    )
    args = ap.parse_args()

    gdir, rdir, (a, b), desc = cached_pair(args.radius_km)
    argv = [str(gdir), str(rdir), str(a), str(b)]
    _child(COLD, argv)  # warm-up: fill Numba's cache and the page cache
    print(f"== cold start to first route ({desc}); median of {args.runs} fresh processes")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print(
            "(PYTHONDONTWRITEBYTECODE is set: airgrid's own modules are compiled from source in every "
            "process, which an installed package with .pyc files would not do)"
        )

    rows: dict[str, list[tuple[float, float]]] = defaultdict(list)
    after: dict[str, list[float]] = defaultdict(list)
    staged, plain, status = [], [], ""
    for _ in range(args.runs):  # staged and plain runs alternate: both see the same machine load
        t, wall, cpu, out, _ = _child(STAGED, argv)
        staged.append((wall, cpu))
        res = json.loads(out.strip().splitlines()[-1])
        status = res["status"]
        rows["interpreter start"].append(((res["wall0"] - t) * 1e3, math.nan))
        for k, v in res["stages"].items():
            rows[k].append(tuple(v))
        for k, v in res["after"].items():
            after[k].append(v)
        _, wall, cpu, out, _ = _child(COLD, argv)
        plain.append((wall, cpu))
        rows["plain COLD script: in-process"].append((float(out.split()[1]), math.nan))

    imports: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for _ in range(args.runs):
        err = _child(STAGED, argv, importtime=True)[4]
        for stage, pkgs in import_breakdown(err).items():
            for p, ms in pkgs.items():
                imports[stage][p].append(ms)

    med = statistics.median

    def row(name: str, vals: list[tuple[float, float]]) -> None:
        cpu = med(c for _, c in vals)
        print(
            f"{name:<56}{med(w for w, _ in vals):>9.0f}{'' if math.isnan(cpu) else f'{cpu:.0f}':>9}   "
            + " ".join(f"{w:.0f}" for w, _ in vals)
        )

    print(f"{'stage':<56}{'wall ms':>9}{'cpu ms':>9}   wall ms per run")
    for k, v in rows.items():
        if k not in ("total in-process", "plain COLD script: in-process"):
            row(k, v)
    row("total in-process (after interpreter start)", rows["total in-process"])
    row("staged subprocess (spawn to exit)", staged)
    row("plain COLD subprocess, as in routing.py (spawn to exit)", plain)
    row("  its in-process time (printed by the script)", rows["plain COLD script: in-process"])
    print(f"route status: {status}")
    print("after the cold path, same process:")
    for k, v in after.items():
        print(f"  {k:<54}{med(v):>10.1f}")
    print(
        "modules imported per stage, self time by top-level package (median ms, -X importtime; >= 2 ms):"
    )
    for stage, pkgs in imports.items():
        tot = {p: med(v + [0.0] * (args.runs - len(v))) for p, v in pkgs.items()}
        big = sorted(((ms, p) for p, ms in tot.items() if ms >= 2), reverse=True)
        if big:
            print(f"  {stage}: " + ", ".join(f"{p} {ms:.0f}" for ms, p in big))
    if args.profile:
        print(_child(PROFILED, [*argv, str(args.profile)])[3])


if __name__ == "__main__":
    main()
