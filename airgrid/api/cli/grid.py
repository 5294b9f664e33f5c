"""Grid and terrain subcommands: ``build``, ``elevation``, ``voxel``, ``hillshade``, ``areas``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import h3
import numpy as np
import typer
from rich.table import Table

from airgrid.airspace.grid import (
    Area,
    Grid,
    TierTable,
    area_from_bbox,
    area_from_geojson,
    build_grid,
    named_area,
)
from airgrid.airspace.grid.altitude import AltitudeReference, resolve_altitude
from airgrid.airspace.grid.areas import list_named_areas
from airgrid.api.cli.common import (
    BadInput,
    DemOpt,
    GridOpt,
    cli_settings,
    console,
    progress_bar,
)
from airgrid.terrain import Dem, Obstacles, export_hillshade

DEFAULT_AREA = "changsha"
#: H3 resolution at which `elevation` reports the ground bounds (T1's, ~66 m edges).
FINEST_RESOLUTION = 10


def open_dem(
    paths: list[Path], accuracy_m: float | None = None, relief_factor: float | None = None
) -> Dem:
    """Open the DEM(s) given on the command line or by the settings.

    ``accuracy_m`` replaces both absolute margins and ``relief_factor`` both relief
    factors of the DEM's uncertainty model.
    """
    dem = Dem.open(paths)
    for label, v in (("--dem-accuracy", accuracy_m), ("--relief-factor", relief_factor)):
        if v is not None and not (math.isfinite(v) and v >= 0):
            raise BadInput(f"{label} must be a number >= 0")
    dem.accuracy = dem.accuracy.with_overrides(absolute_m=accuracy_m, relief_factor=relief_factor)
    return dem


def resolve_area(name: str | None, bbox: str | None, polygon: Path | None, data_dir: Path) -> Area:
    """One area from exactly one of --area, --bbox, --polygon (default: Changsha).

    Named areas come from the boundary files in ``data_dir``.
    """
    given = [x is not None for x in (name, bbox, polygon)]
    if sum(given) > 1:
        raise BadInput("give only one of --area, --bbox, --polygon")
    if bbox is not None:
        try:
            w, s, e, n = (float(v) for v in bbox.split(","))
        except ValueError:
            raise BadInput(
                f"--bbox must be 'west,south,east,north' in degrees, got {bbox!r}"
            ) from None
        return area_from_bbox(w, s, e, n)
    if polygon is not None:
        return area_from_geojson(polygon)
    return named_area(name or DEFAULT_AREA, data_dir)


def _parse_float(label: str, text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise BadInput(f"{label} must be a number, got {text!r}") from None
    if not math.isfinite(v):
        raise BadInput(f"{label} must be finite")
    return v


def build_cmd(
    ctx: typer.Context,
    area: Annotated[
        str | None,
        typer.Option(
            help="Named area: hunan, a prefecture (changsha ...), a county or GB code. Default: changsha."
        ),
    ] = None,
    bbox: Annotated[str | None, typer.Option(help="west,south,east,north in degrees.")] = None,
    polygon: Annotated[Path | None, typer.Option(help="GeoJSON polygon file.")] = None,
    tiers: Annotated[
        str | None, typer.Option(help="Comma-separated tier names (default: all).")
    ] = None,
    tiers_file: Annotated[
        Path | None,
        typer.Option(
            help="Tier table TOML. Default: AIRGRID_TIERS_PATH or the shipped tiers.toml."
        ),
    ] = None,
    clearance: Annotated[
        float | None,
        typer.Option(help="Terrain clearance in metres (overrides the tier table)."),
    ] = None,
    dem: DemOpt = None,
    dem_accuracy: Annotated[
        float | None,
        typer.Option(
            help="DEM absolute vertical error (m), both margins; default from the pixel spacing."
        ),
    ] = None,
    relief_factor: Annotated[
        float | None,
        typer.Option(
            help="Multiple of local relief added to both margins; default from the pixel spacing."
        ),
    ] = None,
    obstacles: Annotated[
        Path | None, typer.Option(help="Obstacles GeoJSON (height_m or top_m per feature).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Output grid folder. Default: AIRGRID_GRID_PATH or <var dir>/grid-default."
        ),
    ] = None,
    max_cells: Annotated[int, typer.Option(help="Refuse builds needing more cells.")] = 6_000_000,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Build the tiered 3D grid over an area and print its summary."""
    cfg = cli_settings(ctx)
    the_area = resolve_area(area, bbox, polygon, cfg.data_dir)
    table = TierTable.from_toml(tiers_file or cfg.tiers_path)
    if clearance is not None:
        if not (math.isfinite(clearance) and clearance >= 0):
            raise BadInput("--clearance must be a number >= 0")
        table = TierTable(table.tiers, clearance)
    table = table.select([t.strip() for t in tiers.split(",")] if tiers else None)
    the_dem = open_dem(dem or cfg.dem_paths, dem_accuracy, relief_factor)
    obs = Obstacles.from_geojson(obstacles, the_dem) if obstacles else None
    with progress_bar(progress) as update:
        grid = build_grid(
            the_area, the_dem, table, obstacles=obs, max_cells=max_cells, progress=update
        )
    out = out or cfg.grid_path
    grid.save(out)
    print_summary(grid, out)


def elevation_cmd(
    ctx: typer.Context,
    lat: Annotated[str, typer.Argument(help="Latitude, degrees.")],
    lon: Annotated[str, typer.Argument(help="Longitude, degrees.")],
    dem: DemOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Terrain height at a point: the DEM's best estimate (bilinear, m AMSL) and the certain range of the ground."""
    from airgrid.terrain import cell_ground
    from airgrid.terrain.geoid import Geoid

    la, lo = _parse_float("LAT", lat), _parse_float("LON", lon)
    cfg = cli_settings(ctx)
    the_dem = open_dem(dem or cfg.dem_paths)
    h = float(the_dem.elevation(la, lo))
    cell = np.array([h3.str_to_int(h3.latlng_to_cell(la, lo, FINEST_RESOLUTION))])
    g = cell_ground(the_dem, cell)
    n = float(Geoid(cfg.geoid_path).undulation(la, lo))
    out = {
        "lat": la,
        "lon": lo,
        "elevation_m": round(h, 1),
        "g_lo_m": round(float(g.g_lo[0]), 1),
        "g_hi_m": round(float(g.g_hi[0]), 1),
        "geoid_undulation_m": round(n, 2),
    }
    if as_json:
        typer.echo(json.dumps(out))
        return
    dx, dy = the_dem.pixel_size_m
    console.print(
        f"{h:.1f} m AMSL at lat {la} lon {lo}: the DEM's best estimate (bilinear; pixel "
        f"{dx:.0f} x {dy:.0f} m)"
    )
    console.print(
        f"the ground there lies between {out['g_lo_m']:.0f} and {out['g_hi_m']:.0f} m AMSL "
        f"(lowest and highest plausible ground of the res-{FINEST_RESOLUTION} cell; margins "
        f"{the_dem.accuracy.describe()})"
    )
    console.print(
        f"W84 (WGS84 ellipsoidal) height of the estimate: {h + n:.1f} m (EGM96 undulation {n:.2f} m)"
    )


def voxel_cmd(
    ctx: typer.Context,
    lat: Annotated[str, typer.Argument(help="Latitude, degrees.")],
    lon: Annotated[str, typer.Argument(help="Longitude, degrees.")],
    alt: Annotated[str, typer.Argument(help="Altitude in metres, measured from --ref.")],
    ref: Annotated[
        AltitudeReference,
        typer.Option(
            case_sensitive=False,
            help="AMSL (mean sea level), AGL (above ground, over the highest plausible ground) or W84 (WGS84 ellipsoid, EGM96 geoid).",
        ),
    ] = AltitudeReference.AMSL,
    grid: GridOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Which voxel and tier hold a point, and whether it may be flown (or why not)."""
    from airgrid.terrain.geoid import Geoid

    la, lo, al = _parse_float("LAT", lat), _parse_float("LON", lon), _parse_float("ALT", alt)
    cfg = cli_settings(ctx)
    g = Grid.load(grid or cfg.grid_path)
    geoid = Geoid(cfg.geoid_path) if ref is AltitudeReference.W84 else None
    resolved = resolve_altitude(al, ref, la, lo, grid=g, geoid=geoid)
    amsl = resolved.alt_amsl_m
    loc = g.locate(la, lo, amsl)
    out = {
        "lat": la,
        "lon": lo,
        "alt_m": al,
        "alt_ref": ref.value,
        "alt_amsl_m": round(amsl, 2),
        "alt_resolution": resolved.how,
        "usable": loc.usable,
        "reason": loc.reason,
    }
    if loc.voxel >= 0:
        v = loc.voxel
        g_lo, g_hi = float(g.cell_g_lo[g.voxel_cell[v]]), float(g.g_hi[v])
        out.update(
            voxel=g.voxel_id(v),
            tier=g.tiers[loc.tier].name,
            layer=loc.layer,
            floor_m=float(g.floor[v]),
            ceiling_m=float(g.ceiling[v]),
            g_lo_m=g_lo,
            g_hi_m=g_hi,
            true_height_min_m=round(amsl - g_hi, 1),
            true_height_max_m=round(amsl - g_lo, 1),
        )
    elif loc.tier >= 0:
        out.update(tier_column=g.tiers[loc.tier].name, cell=loc.cell)
    if as_json:
        typer.echo(json.dumps(out))
        return
    t = Table(show_header=False)
    for k, val in out.items():
        t.add_row(
            k, f"{val:.1f}" if isinstance(val, float) and k not in ("lat", "lon") else str(val)
        )
    console.print(t)


def hillshade_cmd(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            help="PNG path (a .json with bounds is written beside). Default: <var dir>/hillshade.png."
        ),
    ] = None,
    dem: DemOpt = None,
) -> None:
    """Export a hillshade PNG plus its WGS84 bounds."""
    cfg = cli_settings(ctx)
    out = out or cfg.var_dir / "hillshade.png"
    meta = export_hillshade(open_dem(dem or cfg.dem_paths), out)
    console.print(f"wrote {out} ({meta['width']}x{meta['height']}) bounds {meta['bounds']}")


def areas_cmd(ctx: typer.Context) -> None:
    """List the named areas (province, prefectures, counties)."""
    t = Table("level", "name", "code", "english")
    for a in list_named_areas(cli_settings(ctx).data_dir):
        t.add_row(a["level"], a["name"], a["code"], a["en"])
    console.print(t)


def register(app: typer.Typer) -> None:
    """Add the grid and terrain subcommands to ``app``."""
    app.command("build")(build_cmd)
    app.command("elevation")(elevation_cmd)
    app.command("voxel")(voxel_cmd)
    app.command("hillshade")(hillshade_cmd)
    app.command("areas")(areas_cmd)


def print_summary(grid: Grid, path: Path | None = None) -> None:
    """Print the build summary table: per tier counts, blocked share, DEM and margins."""
    t = Table(title=f"airgrid: {grid.meta['area']}" + (f" -> {path}" if path else ""))
    for col in (
        "tier",
        "res",
        "band m",
        "cells",
        "exists",
        "voxels",
        "usable",
        "terrain-blocked",
        "ground span median m",
        "lost to envelope",
    ):
        t.add_column(col, justify="right")
    for r in grid.tier_summary():
        t.add_row(
            r["tier"],
            str(r["resolution"]),
            r["band_m"],
            f"{r['cells']:,}",
            f"{100 * r['exists_share']:.1f}%",
            f"{r['voxels']:,}",
            f"{r['usable']:,}",
            f"{100 * r['terrain_blocked']:.1f}%",
            f"{r['span_m_median']:.0f}",
            f"{r['cells_lost_to_envelope']:,}",
        )
    console.print(t)
    d = grid.meta["dem"]
    dx, dy = d["pixel_size_m"]
    console.print(
        f"DEM {', '.join(Path(s).name for s in d['sources'])}: pixel {dx:,.0f} x {dy:,.0f} m; ground bounds "
        f"per cell from the touched pixels with margins {d['accuracy_text']}. 'exists' is the share of cells "
        "with a usable voxel: elsewhere the ground is too uncertain for the band (the band must hold over both "
        "the lowest and the highest plausible ground)."
    )
    if max(dx, dy) > 1000:
        console.print(
            "[bold yellow]warning:[/] this DEM is coarse (> 1 km pixels): it flattens peaks by up to "
            "~1.5 km, so its ground bounds are hundreds of metres wide and most tiers are absent. "
            "Not fit for obstacle clearance; use the default 30-arc-second DEM or a finer one."
        )
    console.print(
        f"clearance {grid.tiers.clearance_m:g} m; cells with DEM voids: {d['cells_with_voids']}; "
        f"obstacles: {grid.meta['obstacles']}; build {grid.meta['build_seconds']:.1f} s; "
        f"peak memory {grid.meta['peak_rss_bytes'] / 2**20:,.0f} MiB"
    )
