"""The ``airgrid`` command: a typer app whose subcommands live in ``airgrid.api.cli``.

Exit codes: 0 success, 1 an internal error (a generic line on stderr; ``-vv`` logs the
traceback), 2 bad input (one-line message on stderr): a domain error (the families of
:data:`airgrid.api.http.errors.DOMAIN_ERRORS`, as the API answers them 4xx), a bad argument,
an invalid ``AIRGRID_*`` variable, or a file the system cannot read or write.
"""

from __future__ import annotations

import gc
import logging
import sys
from typing import Annotated

import typer

from airgrid.api.cli import analytics as analytics_cmds
from airgrid.api.cli import audit as audit_cmds
from airgrid.api.cli import codes as code_cmds
from airgrid.api.cli import corridors as corridor_cmds
from airgrid.api.cli import geofences as geofence_cmds
from airgrid.api.cli import grid as grid_cmds
from airgrid.api.cli import keys as keys_cmds
from airgrid.api.cli import route as route_cmds
from airgrid.api.cli import serve as serve_cmds
from airgrid.api.cli import traffic as traffic_cmds
from airgrid.api.cli.common import BadInput
from airgrid.api.http.errors import DOMAIN_ERRORS

app = typer.Typer(
    name="airgrid",
    help="Tiered H3 3D airspace on real terrain: build grids, look up voxels and terrain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (
    grid_cmds,
    code_cmds,
    keys_cmds,
    serve_cmds,
    geofence_cmds,
    route_cmds,
    corridor_cmds,
    audit_cmds,
    analytics_cmds,
    traffic_cmds,
):
    module.register(app)


@app.callback()
def _root(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv: debug).")
    ] = 0,
    quiet: Annotated[int, typer.Option("--quiet", "-q", count=True, help="Less log output.")] = 0,
) -> None:
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logging.basicConfig(
        level=max(logging.DEBUG, min(level, logging.CRITICAL)),
        format="%(levelname)s %(name)s: %(message)s",
    )


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code.

    Usage errors are typer's own (exit 2 with usage help); domain errors, bad arguments
    and file-system errors become one line on stderr and exit code 2; anything else is an
    internal error: a generic line on stderr (the traceback is logged at debug level) and
    exit code 1.
    """
    try:
        app(args=argv, prog_name="airgrid")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except (*DOMAIN_ERRORS, BadInput, OSError) as exc:
        typer.echo(f"airgrid: error: {exc}", err=True)
        return 2
    except Exception as exc:
        logging.getLogger(__name__).debug("internal error", exc_info=exc)
        typer.echo(
            f"airgrid: internal error ({type(exc).__name__}); run with -vv for the traceback",
            err=True,
        )
        return 1
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
