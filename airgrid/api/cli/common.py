"""Options and helpers shared by CLI subcommands."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from airgrid.airspace.grid.areas import DATA_DIR

console = Console(width=None if sys.stdout.isatty() else 132)

#: The tier table shipped in ``data/``.
DEFAULT_TIERS = DATA_DIR / "tiers.toml"


class BadInput(ValueError):
    """A CLI argument is invalid (exit code 2)."""


DemOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--dem",
        help="DEM file(s), any GDAL raster; several make a mosaic. Default: the 30-arc-second Hunan DEM in data/.",
    ),
]


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
