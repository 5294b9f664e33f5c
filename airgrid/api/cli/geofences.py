"""Geofence subcommands: ``geofences export``, ``geofences import``, ``geofences check``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from airgrid.airspace.geofences.airports import DEFAULT_RADIUS_M, airport_zones
from airgrid.airspace.geofences.formats.files import dump
from airgrid.airspace.geofences.formats.registry import FORMATS, detect_format
from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.geofences.model import Geofence, Limit, Reference
from airgrid.api.cli.common import BadInput, cli_settings, console
from airgrid.terrain import Dem


class Format(str, Enum):
    """Geofence file formats (the names of :data:`~airgrid.airspace.geofences.formats.registry.FORMATS`)."""

    geojson = "geojson"
    ed269 = "ed269"
    ed318 = "ed318"


def load_fences(path: Path | None, data_dir: Path) -> list[Geofence]:
    """Geofences from a GeoJSON, ED-269 or ED-318 file (told apart by content), or the airport defaults of ``data_dir``."""
    if path is None:
        return airport_zones(data_dir=data_dir)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"geofence file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read {path} as JSON: {exc}") from None
    return FORMATS[detect_format(doc)].read(doc)


def _write(fences: list[Geofence], fmt: Format, out: Path | None) -> None:
    doc = FORMATS[fmt.value].write(fences)
    if out is None:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=1))
    else:
        dump(doc, out)
        console.print(f"wrote {len(fences)} geofences to {out} ({fmt.value})")


def _shape(g: Geofence) -> str:
    """A geofence's shape for the listing: its circle's radius or its polygon's vertices."""
    if g.circle is not None:
        return f"circle r={g.circle.radius_m:g} m"
    assert g.polygon is not None, "a geofence without a circle has a polygon"
    return f"polygon {len(g.polygon)} vertices"


def _fence_table(fences: list[Geofence]) -> Table:
    """One row per geofence: identifier, category, shape, limits and validity."""
    table = Table("identifier", "category", "shape", "lower", "upper", "validity")
    for g in fences:
        v = g.validity
        validity = "permanent" if v.permanent else f"{len(v.daily)} daily period(s), {v.timezone}"
        table.add_row(
            g.identifier,
            g.category.value,
            _shape(g),
            f"{g.lower.value_m:g} {g.lower.reference.value}",
            f"{g.upper.value_m:g} {g.upper.reference.value}",
            validity,
        )
    return table


def _check_time(time: str | None) -> float:
    """POSIX seconds of a ``--time`` value (ISO 8601 with a zone), or of now when absent."""
    if time is None:
        return datetime.now(UTC).timestamp()
    try:
        when = datetime.fromisoformat(time)
    except ValueError:
        raise BadInput(f"--time must be ISO 8601, got {time!r}") from None
    if when.tzinfo is None:
        raise BadInput("--time needs a time zone (Z or +08:00)")
    return when.timestamp()


def export_cmd(
    ctx: typer.Context,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.geojson,
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: stdout).")
    ] = None,
    radius_m: Annotated[
        float, typer.Option(help="Protection radius R around runway thresholds.")
    ] = DEFAULT_RADIUS_M,
    upper_agl_m: Annotated[float, typer.Option(help="Upper limit, metres above ground.")] = 1000.0,
) -> None:
    """Export the default airport protection zones (runway-aligned capsules)."""
    fences = airport_zones(
        radius_m=radius_m,
        upper=Limit(upper_agl_m, Reference.AGL),
        data_dir=cli_settings(ctx).data_dir,
    )
    _write(fences, fmt, out)


def import_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="GeoJSON, ED-269 or ED-318 file.")],
    fmt: Annotated[Format | None, typer.Option("--format", help="Convert to this format.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write the conversion.")
    ] = None,
) -> None:
    """Validate a geofence file; list its geofences, or convert it with --format."""
    fences = load_fences(path, cli_settings(ctx).data_dir)
    if fmt is not None:
        _write(fences, fmt, out)
        return
    console.print(_fence_table(fences))
    console.print(f"{len(fences)} valid geofences in {path}")


def check_cmd(
    ctx: typer.Context,
    lat: Annotated[float, typer.Argument(help="Latitude, degrees.")],
    lon: Annotated[float, typer.Argument(help="Longitude, degrees.")],
    alt_m: Annotated[float, typer.Argument(help="Altitude, metres AMSL.")],
    time: Annotated[
        str | None, typer.Option("--time", help="ISO 8601 time with zone (default: now).")
    ] = None,
    fences: Annotated[
        Path | None, typer.Option("--fences", help="Geofence file (default: airports).")
    ] = None,
    dem: Annotated[Path | None, typer.Option("--dem", help="DEM for true-height limits.")] = None,
) -> None:
    """Which geofences contain a 4D point (exact check; exit code 0 either way)."""
    t = _check_time(time)
    cfg = cli_settings(ctx)
    dem_paths = [dem] if dem is not None else cfg.dem_paths
    index = GeofenceIndex(load_fences(fences, cfg.data_dir), dem=Dem.open(dem_paths))
    hits = index.check_point(lat, lon, alt_m, t)
    if not hits:
        console.print("in no geofence")
    for g in hits:
        console.print(f"{g.identifier}\t{g.category.value}\t{g.name}\t{g.reason[:100]}")


def register(app: typer.Typer) -> None:
    """Add the ``geofences`` command group to ``app``."""
    grp = typer.Typer(
        help="Geofences: export the Hunan airport defaults, import/convert files, check points.",
        no_args_is_help=True,
    )
    app.add_typer(grp, name="geofences")
    grp.command("export")(export_cmd)
    grp.command("import")(import_cmd)
    grp.command("check")(check_cmd)
