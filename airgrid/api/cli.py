"""The ``airgrid`` command: a typer app whose subcommands live in ``airgrid.api.commands``.

Exit codes: 0 success, 1 an unexpected failure, 2 bad input (one-line message on
stderr). Domain errors (every airgrid error family inherits ValueError, LookupError
or OSError) are bad input.
"""

from __future__ import annotations

import gc
import logging
import sys
from typing import Annotated

import typer

from airgrid.api.commands import corridors as corridor_cmds
from airgrid.api.commands import geofences as geofence_cmds
from airgrid.api.commands import grid as grid_cmds
from airgrid.api.commands import keys as keys_cmds
from airgrid.api.commands import route as route_cmds
from airgrid.api.commands import serve as serve_cmds

app = typer.Typer(
    name="airgrid",
    help="Tiered H3 3D airspace on real terrain: build grids, look up voxels and terrain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (grid_cmds, keys_cmds, serve_cmds, geofence_cmds, route_cmds, corridor_cmds):
    module.register(app)


@app.callback()
def _root(
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv: debug).")] = 0,
    quiet: Annotated[int, typer.Option("--quiet", "-q", count=True, help="Less log output.")] = 0,
) -> None:
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logging.basicConfig(level=max(logging.DEBUG, min(level, logging.CRITICAL)),
                        format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code.

    Usage errors are typer's own (exit 2 with usage help); domain errors, whose
    families inherit ValueError, LookupError or OSError, become one line on stderr
    and exit code 2.
    """
    try:
        app(args=argv, prog_name="airgrid")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except (ValueError, LookupError, OSError) as exc:
        typer.echo(f"airgrid: error: {exc}", err=True)
        return 2
    return 0


def run() -> None:
    """Console-script entry point: :func:`main`, then exit with its code.

    Before exiting, every live object is frozen out of the garbage collector: the
    process ends anyway, and the final collection over numba's and the grid's objects
    would add about 0.2 s to every command.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
