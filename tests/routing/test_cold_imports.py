"""The routing cold path imports only what it needs (issue #3: a fresh process's first route).

``from airgrid.airspace.grid import Grid`` and ``from airgrid.routing import RouteGraph,
plan_route`` stay the public imports, but loading a saved grid and graph and planning a
route must not drag in the terrain package (rasterio, pyproj), networkx or scipy's
sparse/ndimage code: each of those costs start-up time that the route never uses.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import airgrid.airspace.grid
import airgrid.routing
from airgrid.routing import RouteStatus, build_graph, plan_route

ROOT = Path(__file__).resolve().parents[2]

#: Packages (and their submodules) the cold path must not import.
NOT_ON_COLD_PATH = (
    "rasterio",
    "pyproj",
    "affine",
    "networkx",
    "scipy.ndimage",
    "scipy.sparse",
    "airgrid.terrain",
    "airgrid.airspace.geofences.model",
    "airgrid.routing.logistics",
    "concurrent.futures.process",
)

COLD = """
import json, sys
from airgrid.airspace.grid import Grid
from airgrid.routing import RouteGraph, plan_route
g = Grid.load(sys.argv[1])
graph = RouteGraph.load(sys.argv[2], g)
r = plan_route(graph, int(sys.argv[3]), int(sys.argv[4]))
print(json.dumps({"status": r.status.value, "modules": sorted(sys.modules)}))
"""


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in NOT_ON_COLD_PATH)]


def test_cold_route_imports_only_what_it_needs(gen_grid, tmp_path):
    graph = build_graph(gen_grid)
    usable = np.flatnonzero(graph.usable)
    a = int(usable[0])
    b = next(
        int(v) for v in usable[::-1] if plan_route(graph, a, int(v)).status == RouteStatus.FOUND
    )
    gen_grid.save(tmp_path / "grid")
    graph.save(tmp_path / "graph")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            COLD,
            str(tmp_path / "grid"),
            str(tmp_path / "graph"),
            str(a),
            str(b),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    res = json.loads(out.stdout)
    assert res["status"] == "found"
    assert _heavy(res["modules"]) == []


def test_lazy_package_exports_resolve():
    for pkg in (airgrid.airspace.grid, airgrid.routing):
        assert sorted(pkg.__all__) == sorted(n for names in pkg._EXPORTS.values() for n in names)
        assert set(pkg.__all__) <= set(dir(pkg))
        for sub, names in pkg._EXPORTS.items():
            module = importlib.import_module(f"{pkg.__name__}.{sub}")
            for name in names:
                assert getattr(pkg, name) is getattr(module, name)
        with pytest.raises(AttributeError, match="no_such_name"):
            _ = pkg.no_such_name
