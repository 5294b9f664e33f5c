"""Options and helpers shared by CLI subcommands."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from airgrid.settings import Settings

console = Console(width=None if sys.stdout.isatty() else 132)


class BadInput(ValueError):
    """A CLI argument is invalid (exit code 2)."""


def iso_time(text: str, option: str) -> float:
    """POSIX seconds of an ISO 8601 time with a zone given to ``option``.

    Raises
    ------
    BadInput
        Not ISO 8601, or without a time zone.
    """
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(
            f"{option} must be ISO 8601 with a zone, e.g. 2031-03-03T08:00:00Z; got {text!r}"
        ) from None
    if d.tzinfo is None:
        raise BadInput(f"{option} needs a time zone (Z or +08:00); got {text!r}")
    return d.timestamp()


def existing_store(db_url: str, option: str) -> str | Path:
    """Where the existing store of ``db_url`` is, never creating one: its SQLite folder,
    or the PostgreSQL URL.

    Raises
    ------
    BadInput
        An unusable URL, or no SQLite store file at its path (a fresh store would answer
        with nothing instead of an error).
    """
    from airgrid.airspace.store.backends import SQLITE_FILE
    from airgrid.api.http.stores import DatabaseUrlError, store_location

    try:
        location = store_location(db_url)
    except DatabaseUrlError as exc:
        raise BadInput(f"{option}: {exc}") from None
    if isinstance(location, Path) and not (location / SQLITE_FILE).is_file():
        raise BadInput(
            f"{option}: no store at {location / SQLITE_FILE} (`airgrid serve` or "
            "`airgrid traffic --db` creates one)"
        )
    return location


DemOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--dem",
        help="DEM file(s), any GDAL raster; several make a mosaic. Default: AIRGRID_DEM_PATHS or the 30-arc-second Hunan DEM shipped with airgrid.",
    ),
]
GridOpt = Annotated[
    Path | None,
    typer.Option(
        "--grid", help="Built grid folder. Default: AIRGRID_GRID_PATH or <var dir>/grid-default."
    ),
]


def cli_settings(ctx: typer.Context) -> Settings:
    """The settings of the running command.

    They are read from the ``AIRGRID_*`` environment once per command, on first use,
    and kept on the command's root context.

    Parameters
    ----------
    ctx
        The running command's context.

    Raises
    ------
    BadInput
        An ``AIRGRID_*`` variable holds an invalid value.
    """
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        try:
            root.obj = Settings()
        except ValidationError as exc:
            problems = "; ".join(
                f"AIRGRID_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                for e in exc.errors()
            )
            raise BadInput(f"invalid setting: {problems}") from None
        except SettingsError as exc:  # a list or mapping variable that is not JSON
            raise BadInput(f"invalid setting: {exc}") from None
    return root.obj


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator:
    """A rich progress bar; yields ``update(step, fraction)``."""
    if not enabled:
        yield lambda step, frac: None
        return
    with Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as prog:
        task = prog.add_task("starting", total=1.0)

        def update(step: str, frac: float) -> None:
            prog.update(task, description=step, completed=frac)

        yield update
