"""``airgrid keys``: create, list and revoke API keys (stored as hashes only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from airgrid.api.cli.common import cli_settings, console


def _store(ctx: typer.Context, db_url: str | None):
    from airgrid.api.http.auth import Database, KeyStore

    return KeyStore(Database(db_url or cli_settings(ctx).db_url))


DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db-url", help="Database (default: AIRGRID_DB_URL or <var dir>/airgrid.sqlite)."
    ),
]


def create_cmd(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help="operator, planner, regulator or admin.")],
    name: Annotated[str, typer.Option(help="Principal name (owner of its intents).")],
    db_url: DbOpt = None,
) -> None:
    """Create a key and print its token once; only its hash is stored."""
    token, info = _store(ctx, db_url).create(name, role)
    typer.echo(token)
    typer.echo(
        f"key {info.key_id} for {info.name} ({info.role}); store the token now, it is not kept",
        err=True,
    )


def list_cmd(ctx: typer.Context, db_url: DbOpt = None) -> None:
    """List keys (ids, names, roles; never tokens)."""
    table = Table("key id", "name", "role", "created (UTC)", "revoked")
    for k in _store(ctx, db_url).list_keys():
        when = dt.datetime.fromtimestamp(k.created_at, dt.UTC).strftime("%Y-%m-%d %H:%M")
        table.add_row(k.key_id, k.name, k.role.value, when, "yes" if k.revoked else "")
    console.print(table)


def revoke_cmd(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="Key id from 'airgrid keys list'.")],
    db_url: DbOpt = None,
) -> None:
    """Revoke a key: its token stops working at once."""
    n = _store(ctx, db_url).revoke(key_id)
    if n == 0:
        from airgrid.api.cli.common import BadInput

        raise BadInput(f"no live key with id {key_id}")
    typer.echo(f"revoked {n} key(s)")


def register(app: typer.Typer) -> None:
    """Add the ``keys`` command group to ``app``."""
    keys = typer.Typer(help="API keys for the HTTP API.", no_args_is_help=True)
    app.add_typer(keys, name="keys")
    keys.command("create")(create_cmd)
    keys.command("list")(list_cmd)
    keys.command("revoke")(revoke_cmd)
