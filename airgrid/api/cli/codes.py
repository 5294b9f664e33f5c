"""Grid-code subcommands: ``code`` (a point's Beidou and ZFXY codes and voxel) and
``decode`` (a code's box and the voxels overlapping it)."""

from __future__ import annotations

import json
import math
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from airgrid.airspace.grid import Grid
from airgrid.airspace.grid.altitude import AltitudeReference, resolve_altitude
from airgrid.airspace.grid.codes import beidou, zfxy
from airgrid.airspace.grid.codes.beidou import CodeBox
from airgrid.airspace.grid.codes.overlap import (
    box_heights,
    clip_to_grid,
    decode_any,
    voxels_in_box,
)
from airgrid.api.cli.common import BadInput, GridOpt, cli_settings, console


def _number(label: str, text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise BadInput(f"{label} must be a number, got {text!r}") from None
    if not math.isfinite(v):
        raise BadInput(f"{label} must be finite")
    return v


def _print(out: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(out))
        return
    t = Table(show_header=False)
    for k, val in out.items():
        t.add_row(k, str(val))
    console.print(t)


def code_cmd(
    ctx: typer.Context,
    lat: Annotated[str, typer.Argument(help="Latitude, degrees.")],
    lon: Annotated[str, typer.Argument(help="Longitude, degrees.")],
    alt: Annotated[str, typer.Argument(help="Altitude in metres, measured from --ref.")],
    ref: Annotated[
        AltitudeReference,
        typer.Option(case_sensitive=False, help="AMSL, AGL or W84 (WGS84 ellipsoid)."),
    ] = AltitudeReference.AMSL,
    level: Annotated[int, typer.Option(help="Beidou level 1-10.")] = 10,
    zoom: Annotated[int, typer.Option(help="ZFXY zoom 0-30.")] = 25,
    grid: GridOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A point's Beidou grid codes, 4D spatial ID and airgrid voxel.

    Beidou grid location codes (GB/T 39409-2020) use the height above the WGS84
    ellipsoid; the 4D spatial ID (ZFXY) the height above mean sea level.
    """
    from airgrid.terrain.geoid import Geoid

    la, lo, al = _number("LAT", lat), _number("LON", lon), _number("ALT", alt)
    if not (-90 <= la <= 90 and -180 <= lo <= 180):
        raise BadInput(f"LAT {la} / LON {lo} out of range")
    cfg = cli_settings(ctx)
    g = Grid.load(grid or cfg.grid_path)
    geoid = Geoid(cfg.geoid_path)
    amsl = resolve_altitude(al, ref, la, lo, grid=g, geoid=geoid).alt_amsl_m
    h = amsl + float(geoid.undulation(la, lo))
    out: dict = {
        "lat": la,
        "lon": lo,
        "alt_amsl_m": round(amsl, 2),
        "alt_w84_m": round(h, 3),
        "beidou_level": level,
        "beidou_2d": str(beidou.encode_2d(la, lo, level)),
        "beidou_height": str(beidou.encode_height(h, level)),
        "beidou_3d": str(beidou.encode_3d(la, lo, h, level)),
        "beidou_3d_appended": str(beidou.encode_3d(la, lo, h, level, "appended")),
        "zfxy": str(zfxy.encode(la, lo, amsl, zoom)),
        "voxel": None,
    }
    if not np.isnan(g.ground_at(la, lo)[1]):
        loc = g.locate(la, lo, amsl)
        out["voxel"] = g.voxel_id(loc.voxel) if loc.voxel >= 0 else None
        out["usable"] = loc.usable
        out["reason"] = loc.reason
    _print(out, as_json)


def decode_cmd(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Beidou 2D/3D code or spatial ID z/f/x/y.")],
    grid: GridOpt = None,
    max_voxels: Annotated[int, typer.Option(help="Refuse codes overlapping more voxels.")] = 20_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The box of a grid code and the airgrid voxels overlapping it.

    Bounds and heights above the WGS84 ellipsoid and above mean sea level; a
    Beidou code is measured from the ellipsoid, a spatial ID from mean sea level.
    """
    from airgrid.terrain.geoid import Geoid

    cfg = cli_settings(ctx)
    kind, box = decode_any(code)
    g = Grid.load(grid or cfg.grid_path)
    lo_m, hi_m = -np.inf, np.inf
    clipped = clip_to_grid(g, box)
    heights = None
    if clipped is not None:
        heights = box_heights(box, *Geoid(cfg.geoid_path).undulation_range(*clipped.bounds))
        if heights is not None:
            lo_m, hi_m = heights[2], heights[3]
    vox = (
        voxels_in_box(g, box, lo_m, hi_m, max_voxels)
        if clipped is not None
        else np.zeros(0, np.int64)
    )
    _print(
        {
            "code": code,
            "kind": kind,
            "level": box.level,
            "bbox": [box.west, box.south, box.east, box.north],
            "bottom_w84_m": _own_or(box, heights, "W84", 0),
            "top_w84_m": _own_or(box, heights, "W84", 1),
            "bottom_amsl_m": _own_or(box, heights, "AMSL", 2),
            "top_amsl_m": _own_or(box, heights, "AMSL", 3),
            "voxels": [g.voxel_id(int(v)) for v in vox],
        },
        as_json,
    )


def _own_or(
    box: CodeBox, heights: tuple[float, float, float, float] | None, ref: str, i: int
) -> float | None:
    """Member ``i`` of :func:`box_heights` over the grid; outside it (no geoid there) the
    code's own bottom or top when it is measured from ``ref``, else None."""
    if heights is not None:
        return heights[i]
    if box.height_reference == ref:
        return box.bottom_m if i % 2 == 0 else box.top_m
    return None


def register(app: typer.Typer) -> None:
    """Add the grid-code subcommands to ``app``."""
    app.command("code")(code_cmd)
    app.command("decode")(decode_cmd)
