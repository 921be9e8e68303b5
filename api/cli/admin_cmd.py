"""`gongpei admin`: firms and their API keys, straight on the platform's database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.serve_cmd import DbOption, migrated_database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(help="Administration: firms and their API keys.", no_args_is_help=True)


@app.command("create-firm")
def create_firm_cmd(
    name: Annotated[str, typer.Argument(help="The firm's name (unique).")],
    role: Annotated[str, typer.Option(help="firm, planner or admin.")] = "firm",
    database_url: DbOption = None,
) -> None:
    """Register a firm and print its API key (shown this once; only a hash is stored)."""
    from api.security import create_firm

    db = migrated_database(database_url)
    try:
        with db.writing() as session:
            firm, key = create_firm(session, name, role)
            firm_id, stored_name = firm.id, firm.name
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    finally:
        db.dispose()
    typer.echo(f"firm {firm_id} '{stored_name}' ({role}); API key (shown once):", err=True)
    typer.echo(key)


@app.command("keys")
def keys_cmd(
    firm: Annotated[str, typer.Argument(help="The firm's name.")],
    database_url: DbOption = None,
) -> None:
    """List a firm's API keys (id, prefix, when issued, when revoked); never the keys."""
    from api.security import firm_keys, firm_named

    with _admin_session(database_url) as session:
        for key in firm_keys(session, firm_named(session, firm)):
            revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            typer.echo(f"{key.id}\t{key.prefix}\tissued {key.created_at:%Y-%m-%d %H:%M}\t{revoked}")


@app.command("new-key")
def new_key_cmd(
    firm: Annotated[str, typer.Argument(help="The firm's name.")],
    database_url: DbOption = None,
) -> None:
    """Issue a firm another API key and print it (shown this once). Its other keys keep
    working: hand the new one over, then revoke the old with `revoke-key`."""
    from api.security import firm_named, issue_key

    with _admin_session(database_url) as session:
        key = issue_key(session, firm_named(session, firm))
    typer.echo(f"firm '{firm.strip()}': new API key (shown once):", err=True)
    typer.echo(key)


@app.command("revoke-key")
def revoke_key_cmd(
    firm: Annotated[str, typer.Argument(help="The firm's name.")],
    key: Annotated[
        str | None, typer.Argument(help="The key's id or prefix, as `gongpei admin keys` lists.")
    ] = None,
    all_keys: Annotated[bool, typer.Option("--all", help="Revoke every key of the firm.")] = False,
    database_url: DbOption = None,
) -> None:
    """Revoke a leaked or retired API key: calls made with it are refused (401) at once."""
    from api.security import firm_named, revoke_all_keys, revoke_key

    if (key is None) == (not all_keys):
        typer.echo("error: give either a key (its id or prefix) or --all", err=True)
        raise typer.Exit(2)
    with _admin_session(database_url) as session:
        named = firm_named(session, firm)
        if all_keys:
            typer.echo(f"firm '{named.name}': {revoke_all_keys(session, named)} keys revoked")
        else:
            row = revoke_key(session, named, key)
            typer.echo(f"firm '{named.name}': key {row.id} ({row.prefix}) revoked")


@contextmanager
def _admin_session(database_url: str | None) -> Iterator[Session]:
    """A write session on the migrated database for an admin command; a firm or key that is
    not there is one line and exit code 2, as other bad input is."""
    from api.security import NotFoundError

    db = migrated_database(database_url)
    try:
        with db.writing() as session:
            yield session
    except NotFoundError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
