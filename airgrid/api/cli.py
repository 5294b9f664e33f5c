"""The ``airgrid`` command: a typer app whose subcommands live in ``airgrid.api.commands``.

Exit codes: 0 success, 1 an unexpected failure, 2 bad input (one-line message on
stderr). Domain errors (every airgrid error family inherits ValueError, LookupError
or OSError) are bad input.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from airgrid.api.commands import grid as grid_cmds

app = typer.Typer(
    name="airgrid",
    help="Tiered H3 3D airspace on real terrain: build grids, look up voxels and terrain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (grid_cmds,):
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
    """Run the CLI; bad input exits 2 with a one-line message."""
    from airgrid.api.commands.common import BadInput

    try:
        app(args=argv, standalone_mode=False)
    except BadInput as exc:
        typer.echo(f"airgrid: error: {exc}", err=True)
        return 2
    except (ValueError, LookupError, OSError) as exc:
        typer.echo(f"airgrid: error: {exc}", err=True)
        return 2
    except typer.Abort:
        typer.echo("airgrid: aborted", err=True)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except Exception as exc:  # click usage errors carry their own exit code (2)
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
