"""``airgrid analytics``: density, capacity and hotspots of a store's traffic, for planners.

``density`` writes ``<tier>-density.parquet`` and ``<tier>-density.geojson`` (one row or
hexagon per cell and time bin, the properties of ``GET /v1/analytics/density``);
``hotspots`` prints the cells over capacity. The tiers are the store's own (its policy).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from airgrid.api.cli.common import BadInput, cli_settings, console, existing_store, iso_time

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

    from airgrid.airspace.store.service import Store


@contextmanager
def _analytics_errors() -> Iterator[None]:
    """Analytics errors as bad input (exit code 2)."""
    from airgrid.analytics.errors import AnalyticsError

    try:
        yield
    except AnalyticsError as exc:
        raise BadInput(str(exc)) from None


def _assessed(
    ctx: typer.Context,
    tier: str,
    start: str,
    end: str,
    bin_s: float,
    db_url: str | None,
    capacity_file: Path | None,
) -> pd.DataFrame:
    """The assessed table of the store's traffic (errors as :class:`BadInput`)."""
    from airgrid.analytics.capacity import CapacityTable, Places
    from airgrid.analytics.density import Window
    from airgrid.analytics.source import Limits, analyse_store, tier_named

    settings = cli_settings(ctx)
    t0, t1 = iso_time(start, "--from"), iso_time(end, "--to")
    with _analytics_errors():
        window = Window(t0, t1, bin_s)
        table = CapacityTable.from_toml(capacity_file or settings.capacity_path)
        places = Places.read(settings.data_dir)
        limits = Limits(
            settings.max_analytics_bins, settings.max_analytics_volumes, settings.max_analytics_rows
        )
        with _store(db_url or settings.db_url) as store:
            chosen = tier_named(store.policy.tiers, tier)
            return analyse_store(store, chosen, window, table, places, limits)


@contextmanager
def _store(db_url: str) -> Iterator[Store]:
    """The existing store of ``db_url`` (never creating one)."""
    from airgrid.airspace.store.service import open_store

    location = existing_store(db_url, "--db-url")
    with open_store(location) as store:
        yield store


TierOpt = Annotated[str, typer.Option("--tier", help="Tier name (T1..T4).")]
FromOpt = Annotated[str, typer.Option("--from", help="Window start, ISO 8601 with a zone.")]
ToOpt = Annotated[str, typer.Option("--to", help="Window end, ISO 8601 with a zone.")]
BinOpt = Annotated[float, typer.Option("--bin-s", help="Bin length, seconds.")]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db-url", help="Database (default: AIRGRID_DB_URL or <var dir>/airgrid.sqlite)."
    ),
]
CapOpt = Annotated[
    Path | None,
    typer.Option(
        "--capacity-file",
        help="Capacity table TOML (default: AIRGRID_CAPACITY_PATH or the shipped one).",
    ),
]


def density_cmd(
    ctx: typer.Context,
    tier: TierOpt,
    start: FromOpt,
    end: ToOpt,
    out: Annotated[Path, typer.Option("--out", help="Folder for the Parquet and GeoJSON.")],
    bin_s: BinOpt = 900.0,
    db_url: DbOpt = None,
    capacity_file: CapOpt = None,
) -> None:
    """Traffic, occupancy, conflicts, refusals, capacity and load per cell and bin."""
    from airgrid.analytics.outputs import write_outputs

    assessed = _assessed(ctx, tier, start, end, bin_s, db_url, capacity_file)
    parquet, geojson = write_outputs(assessed, out, f"{tier}-density")
    hot = int(assessed["hotspot"].sum())
    console.print(
        f"{len(assessed)} cell-bins, {assessed['cell'].nunique()} cells, {hot} over capacity"
    )
    typer.echo(f"{parquet}\n{geojson}")


def hotspots_cmd(
    ctx: typer.Context,
    tier: TierOpt,
    start: FromOpt,
    end: ToOpt,
    bin_s: BinOpt = 900.0,
    db_url: DbOpt = None,
    capacity_file: CapOpt = None,
) -> None:
    """Cells over capacity, highest peak load first, with suggested operation."""
    from airgrid.analytics.hotspots import hotspot_cells

    cells = hotspot_cells(_assessed(ctx, tier, start, end, bin_s, db_url, capacity_file))
    table = Table("cell", "class", "capacity", "bins over", "peak count", "peak load", "suggestion")
    for r in cells.itertuples():
        table.add_row(
            r.cell,
            r.area_class,
            f"{r.capacity:.2f}",
            str(r.bins_over),
            str(r.peak_count),
            f"{r.peak_load:.2f}",
            r.suggestion,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``analytics`` command group to ``app``."""
    group = typer.Typer(help="Density, capacity and hotspots for planners.", no_args_is_help=True)
    app.add_typer(group, name="analytics")
    group.command("density")(density_cmd)
    group.command("hotspots")(hotspots_cmd)
