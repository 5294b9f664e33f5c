"""``airgrid keys``: create, list and revoke API keys (stored as hashes only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from airgrid.api.cli.common import cli_settings, console

if TYPE_CHECKING:
    from airgrid.api.http.auth import KeyStore


@contextmanager
def _keys(ctx: typer.Context, db_url: str | None) -> Iterator[KeyStore]:
    """The API keys of the service database (opened, and migrated if needed, for one command)."""
    from airgrid.api.http.auth import KeyStore
    from airgrid.api.http.stores import StorePool

    pool = StorePool(db_url or cli_settings(ctx).db_url, None)
    try:
        yield KeyStore(pool.get)
    finally:
        pool.close()


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
    with _keys(ctx, db_url) as keys:
        token, info = keys.create(name, role)
    typer.echo(token)
    typer.echo(
        f"key {info.key_id} for {info.name} ({info.role}); store the token now, it is not kept",
        err=True,
    )


def list_cmd(ctx: typer.Context, db_url: DbOpt = None) -> None:
    """List keys (ids, names, roles; never tokens)."""
    table = Table("key id", "name", "role", "created (UTC)", "revoked")
    with _keys(ctx, db_url) as keys:
        stored = keys.list_keys()
    for k in stored:
        when = dt.datetime.fromtimestamp(k.created_at, dt.UTC).strftime("%Y-%m-%d %H:%M")
        table.add_row(k.key_id, k.name, k.role.value, when, "yes" if k.revoked else "")
    console.print(table)


def revoke_cmd(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="Key id from 'airgrid keys list'.")],
    db_url: DbOpt = None,
) -> None:
    """Revoke a key: its token stops working at once."""
    with _keys(ctx, db_url) as keys:
        n = keys.revoke(key_id)
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
