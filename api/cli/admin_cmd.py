"""`gongpei admin`: firms and their API keys, the job queue, pruning and backups, straight on
the platform's database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.serve_cmd import DbOption, migrated_database, settings_for
from network.errors import GongpeiError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from api.db.engine import Database

app = typer.Typer(
    help="Administration: firms and their API keys, jobs, pruning, backups.", no_args_is_help=True
)


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
    """Issue a firm another API key and print it (shown this once).

    Its other keys keep working: hand the new one over, then revoke the old with `revoke-key`.
    """
    from api.security import firm_named, issue_key

    with _admin_session(database_url) as session:
        key, _ = issue_key(session, firm_named(session, firm))
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
    """A write session on the platform's database for an admin command; a firm or key that is
    not there is one line and exit code 2, as other bad input is."""
    from api.security import NotFoundError

    db = _current_database(database_url)
    try:
        with db.writing() as session:
            yield session
    except NotFoundError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()


@app.command("jobs")
def jobs_cmd(
    status: Annotated[
        str | None, typer.Option(help="Only jobs in this state (queued, running, done, ...).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
    database_url: DbOption = None,
) -> None:
    """List jobs newest first: id, kind, firm, status, attempts, progress, when posted.

    The queue as the workers see it, without a key; none found is said on stderr ("no jobs").
    """
    from sqlalchemy import select

    from api.db.models import JOB_STATUSES, Firm, Job

    if status is not None and status not in JOB_STATUSES:
        typer.echo(f"error: --status: one of {', '.join(JOB_STATUSES)}, not '{status}'", err=True)
        raise typer.Exit(2)
    query = select(Job, Firm.name).join(Firm, Firm.id == Job.firm_id)
    if status is not None:
        query = query.where(Job.status == status)
    with _admin_session(database_url) as session:
        rows = session.execute(query.order_by(Job.created_at.desc(), Job.id).limit(limit)).all()
        if not rows:  # an empty queue printed nothing at all, as a failure to connect might
            typer.echo(f"no {status} jobs" if status else "no jobs", err=True)
        for job, firm in rows:
            typer.echo(
                f"{job.id}\t{job.kind}\t{firm}\t{job.status}\tattempt {job.attempts}\t"
                f"{job.progress:.0%}\t{job.created_at:%Y-%m-%d %H:%M:%S}"
                + (f"\t{job.error}" if job.error else "")
            )


@app.command("cancel-job")
def cancel_job_cmd(
    job_id: Annotated[str, typer.Argument(help="The job's id, as `gongpei admin jobs` lists.")],
    database_url: DbOption = None,
) -> None:
    """Cancel a queued or running job of any firm (as its owner's `POST .../cancel` does)."""
    from api.db.models import Job
    from api.jobs import queue

    db = _current_database(database_url)
    try:
        if not queue.cancel(db, job_id):
            with db.reading() as session:
                job = session.get(Job, job_id)
            why = "no such job" if job is None else f"it is {job.status}: nothing to cancel"
            typer.echo(f"error: job {job_id}: {why}", err=True)
            raise typer.Exit(2)
    finally:
        db.dispose()
    typer.echo(f"job {job_id} cancelled")


@app.command("prune")
def prune_cmd(
    older_than: Annotated[
        float, typer.Option("--older-than", help="Days since the job or reservation ended.")
    ] = 90.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, delete nothing.")] = False,
    database_url: DbOption = None,
) -> None:
    """Delete jobs and reservations that ended more than --older-than days ago.

    At least 31 days, as open data counts the last 30 days. Active ones are never touched.
    """
    from api.housekeeping import HousekeepingError, prune

    try:
        with _admin_session(database_url) as session:
            pruned = prune(session, older_than_days=older_than, dry_run=dry_run)
    except HousekeepingError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    verb = "would delete" if dry_run else "deleted"
    typer.echo(
        f"{verb} {pruned.jobs} jobs, {pruned.reservations} reservations and "
        f"{pruned.idempotency_keys} idempotency keys"
    )


@app.command("backup")
def backup_cmd(
    target: Annotated[Path, typer.Argument(help="A new file for the copy.")],
    database_url: DbOption = None,
) -> None:
    """Copy the SQLite database while the platform runs (a consistent copy).

    Copying the file alone loses what is still in its write-ahead log. PostgreSQL: use pg_dump.
    """
    from api.housekeeping import HousekeepingError, backup_sqlite

    try:
        size = backup_sqlite(settings_for(database_url).database_url, target)
    except HousekeepingError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"backed up to {target} ({size:,} bytes)")


def _current_database(database_url: str | None) -> Database:
    """The platform's database, whose schema must be this release's: a command that only
    lists keys or jobs used to migrate it, so a newer install's listing moved a database that
    older servers were running on (they then refused to start). `create-firm`, which makes a
    platform, migrates; the others leave that to `gongpei serve`."""
    from api.db.engine import Database
    from api.db.migrate import check_schema

    db = Database(settings_for(database_url).database_url)
    try:
        check_schema(db.engine)
    except GongpeiError as err:
        db.dispose()
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    return db
