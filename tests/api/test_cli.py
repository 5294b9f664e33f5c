"""The ``airgrid keys`` and ``airgrid serve`` commands."""

from __future__ import annotations

import pytest

from airgrid.api.cli.common import BadInput
from airgrid.api.cli.main import main
from airgrid.api.cli.serve import ensure_airports, ensure_grid
from airgrid.api.http.app import load_services
from airgrid.api.http.auth import KeyStore, Role
from airgrid.api.http.stores import StorePool
from airgrid.data import DEFAULT_DEM
from airgrid.settings import Settings


def test_keys_create_prints_a_working_token_once(settings, capsys):
    assert (
        main(
            ["keys", "create", "--role", "planner", "--name", "atlas", "--db-url", settings.db_url]
        )
        == 0
    )
    out, err = capsys.readouterr()
    token = out.strip()
    assert token.startswith("agk_") and "not kept" in err
    pool = StorePool(settings.db_url, None)
    principal = KeyStore(pool.get).authenticate(token)
    assert principal.name == "atlas" and principal.role is Role.PLANNER
    assert main(["keys", "list", "--db-url", settings.db_url]) == 0
    listed = capsys.readouterr().out
    assert "atlas" in listed and token not in listed
    assert main(["keys", "revoke", principal.key_id, "--db-url", settings.db_url]) == 0
    assert KeyStore(pool.get).authenticate(token) is None
    pool.close()


def test_keys_create_rejects_unknown_role(settings, capsys):
    assert (
        main(["keys", "create", "--role", "pilot", "--name", "x", "--db-url", settings.db_url]) == 2
    )
    assert "unknown role" in capsys.readouterr().err


def test_serve_runs_uvicorn_on_loopback_with_the_factory(grid_dir, settings, monkeypatch):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append((a, k)))
    monkeypatch.setenv("AIRGRID_GRID_PATH", "unused")
    monkeypatch.setenv("AIRGRID_DB_URL", "unused")
    assert main(["serve", "--grid", str(grid_dir), "--db-url", settings.db_url]) == 0
    ((args, kwargs),) = calls
    assert args == ("airgrid.api.http.app:create_app",)
    assert kwargs["factory"] is True and kwargs["host"] == "127.0.0.1" and kwargs["port"] == 8000
    ids = [g.identifier for g in load_services(settings).stores.get().list_geofences()]
    assert "ZGHA-AP" in ids and "ZGCS-AP" in ids
    assert ensure_airports(settings) == 0  # never twice


def test_ensure_grid_builds_only_the_default(grid_dir, tmp_path):
    assert ensure_grid(Settings(grid_path=grid_dir, dem_paths=[DEFAULT_DEM])) is False
    with pytest.raises(BadInput, match="airgrid build --out"):
        ensure_grid(Settings(grid_path=tmp_path / "elsewhere", var_dir=tmp_path / "var"))


def test_cli_exit_2_for_bad_input_and_1_with_a_generic_line_for_internal_errors(
    tmp_path, capsys, monkeypatch
):
    import json

    from airgrid.api.cli import geofences as geofence_cmds

    bad = tmp_path / "zones.json"
    bad.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[112.9, 28.1], [113.0, 28.1], [113.0, 28.2], [112.9, 28.1]]
                            ],
                        },
                        "properties": {"identifier": "CTR/ZGHA", "lower_m": 0, "upper_m": 100},
                    }
                ],
            }
        )
    )
    assert main(["geofences", "import", str(bad)]) == 2
    assert "CTR/ZGHA" in capsys.readouterr().err

    def broken(path):
        raise IndexError("index 2 is out of bounds for axis 1 with size 2")

    monkeypatch.setattr(geofence_cmds, "load_fences", broken)
    assert main(["geofences", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "internal error" in err and "out of bounds" not in err


def _ensure_in_a_process(var_dir: str, tiers: str, out) -> None:
    out.put(ensure_grid(Settings(var_dir=var_dir, tiers_path=tiers), progress=False))


def test_servers_started_together_build_the_default_grid_once(tmp_path):
    """Two processes asking for the missing default grid at once: one builds it, the other
    waits on the lock and finds it (without the lock both build into one folder)."""
    import multiprocessing

    from airgrid.airspace.grid import Grid

    tiers = tmp_path / "tiers.toml"
    tiers.write_text(
        'clearance_m = 30.0\n[[tier]]\nname = "T4"\nresolution = 7\nlower_m = 600.0\n'
        'upper_m = 1000.0\nthickness_m = 100.0\nuse = "test"\n',
        encoding="utf-8",
    )
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_ensure_in_a_process, args=(str(tmp_path), str(tiers), out))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0, 0]
    assert sorted(out.get(timeout=5) for _ in procs) == [False, True]
    grid = Grid.load(Settings(var_dir=tmp_path).default_grid_path)
    assert grid.n_voxels > 0 and [t.name for t in grid.tiers] == ["T4"]


def test_airports_are_seeded_once_when_servers_start_together(settings, monkeypatch):
    """A server that saw an empty store while another was seeding writes nothing."""
    from airgrid.airspace.store.service import Store

    assert ensure_airports(settings) == 12
    first = {g.identifier: g for g in load_services(settings).stores.get().list_geofences()}
    monkeypatch.setattr(Store, "list_geofences", lambda self, *a, **k: [])
    assert ensure_airports(settings) == 0
    monkeypatch.undo()
    again = load_services(settings).stores.get().list_geofences()
    assert {g.identifier: g for g in again} == first


def test_serve_with_workers_on_a_port_taken_exits_2(
    grid_dir, settings, capsys, monkeypatch, tmp_path
):
    """Several workers bind the port each with SO_REUSEPORT; a port another socket holds
    without it is refused up front, with the address in the message."""
    import socket

    # serve exports these for its workers: set here, they are restored after the test
    monkeypatch.setenv("AIRGRID_GRID_PATH", "unused")
    monkeypatch.setenv("AIRGRID_DB_URL", "unused")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["serve", "--grid", str(grid_dir), "--db-url", settings.db_url, "--no-airports"]
        assert main([*args, "--workers", "2", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
