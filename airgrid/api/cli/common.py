"""Options and helpers shared by CLI subcommands."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
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
