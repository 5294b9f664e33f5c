"""The airgrid console command, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import h3
import pytest

AIRGRID = [str(Path(sys.executable).with_name("airgrid"))]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(AIRGRID + list(args), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "grid"
    r = run(
        "build",
        "--bbox",
        "112.9,28.1,113.0,28.2",
        "--tiers",
        "T2,T3",
        "--out",
        str(out),
        "--no-progress",
    )
    assert r.returncode == 0, r.stderr
    assert "T2" in r.stdout and "terrain-blocked" in r.stdout and "margin" in r.stdout
    assert "exists" in r.stdout and "lost to envelope" in r.stdout
    assert "coarse" not in r.stdout  # the 30" DEM (~0.9 km pixels) gets no coarse-DEM warning
    return out


def test_build_writes_grid(built: Path) -> None:
    meta = json.loads((built / "meta.json").read_text())
    assert meta["tiers"]["tier"][0]["name"] == "T2" and meta["build_seconds"] > 0


def test_voxel_lookup(built: Path) -> None:
    from airgrid.airspace.grid import Grid

    g = Grid.load(built)
    ci = int(
        next(i for i in range(g.n_cells) if g.cell_tier[i] == 0 and g.cell_nlayers[i] > 0)
    )  # T2 exists here
    alt = (int(g.cell_first_layer[ci]) + 0.5) * g.tiers[0].thickness_m  # mid first T2 layer
    lat, lon = h3.cell_to_latlng(h3.int_to_str(int(g.cell_id[ci])))
    r = run("voxel", str(lat), str(lon), str(alt), "--grid", str(built), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["tier"] == "T2" and out["usable"] and out["floor_m"] <= alt < out["ceiling_m"]
    assert out["voxel"].startswith(h3.int_to_str(int(g.cell_id[ci])))
    r = run("voxel", str(lat), str(lon), "10", "--grid", str(built), "--json")
    assert r.returncode == 0 and "below" in json.loads(r.stdout)["reason"]


def test_elevation() -> None:
    r = run("elevation", "28.2", "112.97")
    assert r.returncode == 0 and "m AMSL" in r.stdout


@pytest.mark.parametrize(
    "args, msg",
    [
        (["elevation", "40", "112"], "outside the DEM"),
        (["elevation", "north", "112"], "LAT must be a number"),
        (["build", "--area", "atlantis"], "unknown area"),
        (["build", "--bbox", "1,2,3"], "--bbox"),
        (["build", "--area", "changsha", "--bbox", "1,2,3,4"], "only one"),
        (["build", "--tiers", "T9"], "no tier named"),
        (["build", "--dem", "/no/such.tif"], "not found"),
        (["build", "--area", "hunan", "--max-cells", "100"], "more than the limit"),
        (["voxel", "28", "112", "100", "--grid", "/no/grid"], "airgrid build"),
        (["build", "--clearance", "-5"], "clearance"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], msg: str) -> None:
    r = run(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert msg in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_usage_error_exits_2() -> None:
    r = run("voxel", "28")
    assert r.returncode == 2


def test_verbosity_flags(built: Path) -> None:
    r = run("-vv", "voxel", "28.15", "112.95", "700", "--grid", str(built))
    assert r.returncode == 0
