"""``airgrid serve``: run the HTTP API under uvicorn on the embedded default set-up."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Annotated

import typer

from airgrid.api.cli.common import BadInput, DemOpt, cli_settings, progress_bar
from airgrid.api.cli.workers import APP, free_port_for, run_workers
from airgrid.settings import Settings


def ensure_grid(settings: Settings, *, progress: bool = True) -> bool:
    """Build the default grid (Changsha, every tier of the tier table) when it is missing or stale.

    The grid is ``settings.grid_path``; only the default location
    (:attr:`~airgrid.settings.Settings.default_grid_path`) is ever built automatically,
    from ``settings.dem_paths``, ``settings.obstacle_path`` and ``settings.tiers_path``.
    It is stale when it was written by another grid format or built from other DEM
    files or another obstacle file than the ones asked for now. Servers started together
    (several ``airgrid serve`` on one host) build it once: the check and the build run
    under an exclusive lock on the file ``<grid path>.lock``, so the later ones wait and
    then find the grid the first one wrote.

    Parameters
    ----------
    settings
        The service settings.
    progress
        Show a progress bar while building.

    Returns
    -------
    bool
        Whether a grid was built.

    Raises
    ------
    BadInput
        ``settings.grid_path`` is not the default location and holds no grid.
    """
    path = settings.grid_path
    if path.resolve() != settings.default_grid_path.resolve():
        return _ensure_grid(settings, progress, is_default=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        return _ensure_grid(settings, progress, is_default=True)


def _ensure_grid(settings: Settings, progress: bool, *, is_default: bool) -> bool:
    """The body of :func:`ensure_grid` (for the default location, under its lock)."""
    from airgrid.airspace.grid.voxels import FORMAT_VERSION

    path, dem_paths, obstacle_path = settings.grid_path, settings.dem_paths, settings.obstacle_path
    meta_path = path / "meta.json"
    wanted = {
        "dem": sorted(str(Path(p).resolve()) for p in dem_paths),
        "obstacles": str(obstacle_path.resolve()) if obstacle_path else None,
    }
    if meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        built = {
            "dem": sorted(str(Path(p).resolve()) for p in meta.get("dem", {}).get("sources", [])),
            "obstacles": meta.get("obstacle_file"),
        }
        if not is_default or (meta.get("format_version") == FORMAT_VERSION and built == wanted):
            return False
        typer.echo(
            f"airgrid: the grid at {path} was built by another grid format or from other terrain; "
            "rebuilding it",
            err=True,
        )
    elif not is_default:
        raise BadInput(f"no grid at {path}; build one with 'airgrid build --out {path}'")
    from airgrid.airspace.grid import TierTable, build_grid
    from airgrid.api.cli.grid import open_dem, resolve_area
    from airgrid.terrain import Obstacles

    typer.echo(f"airgrid: building the default grid at {path} (Changsha, all tiers) ...", err=True)
    dem = open_dem(dem_paths)
    obstacles = Obstacles.from_geojson(obstacle_path, dem) if obstacle_path else None
    with progress_bar(progress) as update:
        grid = build_grid(
            resolve_area(None, None, None, settings.data_dir),
            dem,
            TierTable.from_toml(settings.tiers_path),
            obstacles=obstacles,
            progress=update,
        )
    grid.meta["obstacle_file"] = wanted["obstacles"]
    grid.save(path)
    return True


def ensure_airports(settings: Settings) -> int:
    """Put the Hunan airport protection geofences into a store that has no geofences yet.

    Parameters
    ----------
    settings
        The service settings: the database ``db_url``, the airports of ``data_dir`` and
        the terrain of ``dem_paths``.

    Returns
    -------
    int
        Geofences added (0 when the store already had some, or when another server
        starting at the same time wrote them first).
    """
    from airgrid.airspace.errors import GeofenceExistsError
    from airgrid.airspace.geofences.airports import airport_zones
    from airgrid.api.cli.grid import open_dem
    from airgrid.api.http.stores import StorePool

    pool = StorePool(settings.db_url, open_dem(settings.dem_paths))
    try:
        store = pool.get()
        if store.list_geofences():
            return 0
        zones = airport_zones(data_dir=settings.data_dir)
        try:
            # one transaction, and only if none of them exists: never a partial set, and
            # never a zone a regulator has edited since this server looked
            store.write_geofences(zones, exists=False)
        except GeofenceExistsError:
            return 0
        return len(zones)
    finally:
        pool.close()


def serve_cmd(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes, each on its own socket of the port.")
    ] = 1,
    grid: Annotated[
        Path | None,
        typer.Option(
            help="Grid folder (default: AIRGRID_GRID_PATH or <var dir>/grid-default, built if missing)."
        ),
    ] = None,
    db_url: Annotated[
        str | None,
        typer.Option(
            help="sqlite:///path or postgresql://... (default: AIRGRID_DB_URL or <var dir>/airgrid.sqlite)."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    airports: Annotated[
        bool, typer.Option(help="Seed an empty store with the Hunan airport geofences.")
    ] = True,
    dem: DemOpt = None,
    obstacles: Annotated[
        Path | None,
        typer.Option(
            help="Obstacles GeoJSON for the default grid (height_m or top_m per feature)."
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs).

    Settings come from AIRGRID_* variables; the options override them.
    Each uvicorn worker creates the app and reads the same variables. With several
    workers each listens on its own SO_REUSEPORT socket of the port, so the kernel
    spreads connections over them.
    """
    import uvicorn

    overrides: dict[str, object] = {}
    if grid is not None:
        overrides["grid_path"] = grid
        os.environ["AIRGRID_GRID_PATH"] = str(grid)
    if db_url is not None:
        overrides["db_url"] = db_url
        os.environ["AIRGRID_DB_URL"] = db_url
    if dem:
        overrides["dem_paths"] = dem
        os.environ["AIRGRID_DEM_PATHS"] = json.dumps([str(p) for p in dem])
    if obstacles is not None:
        overrides["obstacle_path"] = obstacles
        os.environ["AIRGRID_OBSTACLE_PATH"] = str(obstacles)
    settings = cli_settings(ctx).model_copy(update=overrides)
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = settings.var_dir / f"prometheus-{os.getpid()}"
        metrics_dir.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)  # workers sum their metrics here
    ensure_grid(settings)
    if airports and (n := ensure_airports(settings)):
        typer.echo(f"airgrid: added {n} airport protection geofences to the empty store", err=True)
    typer.echo(
        f"airgrid: serving {settings.grid_path} on http://{host}:{port} (docs at /docs)",
        err=True,
    )
    if workers == 1:
        uvicorn.run(APP, factory=True, host=host, port=port, log_level=log_level)
        return
    try:
        port = free_port_for(host, port)
    except OSError as exc:
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    run_workers(host, port, workers, log_level)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.command("serve")(serve_cmd)
