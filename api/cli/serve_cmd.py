"""`gongpei serve`, `gongpei worker`, `gongpei admin` (firms and their keys), `gongpei lockers
import`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from api.db.engine import Database
    from api.settings import Settings

admin_app = typer.Typer(help="Administration: firms and their API keys.", no_args_is_help=True)
lockers_app = typer.Typer(help="Locker network: import lockers.", no_args_is_help=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="GONGPEI_DATABASE_URL",
        help="SQLAlchemy URL; default an SQLite file in $GONGPEI_DATA_DIR (./data).",
    ),
]


def _settings(database_url: str | None) -> Settings:
    from api.settings import Settings  # the DB stack loads only for commands that use it

    return Settings(database_url=database_url) if database_url else Settings()


def _migrated(database_url: str | None) -> Database:
    from api.db.engine import Database
    from api.db.migrate import upgrade

    db = Database(_settings(database_url).database_url)
    upgrade(db.engine)
    return db


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="HTTP server processes.")] = 1,
    job_workers: Annotated[int, typer.Option(min=0, help="Job worker processes.")] = 1,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            help="Proxies (comma-separated IPs) whose X-Forwarded-For names the client that "
            "the public rate limit counts; '' trusts none (every request counts as its peer).",
        ),
    ] = "127.0.0.1",
    database_url: DbOption = None,
) -> None:
    """Migrate the database, start job workers and serve the API and the map page.

    uvicorn runs in its own interpreter so that its worker processes import only the app,
    not every CLI command; SIGTERM or Ctrl-C here stops the server and the job workers, and a
    job worker that dies is started again.
    """
    db = _migrated(database_url)
    os.environ["GONGPEI_DATABASE_URL"] = db.url  # the server and worker processes inherit it
    db.dispose()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    job_procs = [_JobWorker() for _ in range(job_workers)]
    uvicorn = [
        sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
        "--host", host, "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
        *_proxy_options(forwarded_allow_ips),
    ]  # fmt: skip
    server = subprocess.Popen(uvicorn)
    try:
        while server.poll() is None:  # the server's life is the command's
            for job_proc in job_procs:
                job_proc.keep_alive()
            time.sleep(SUPERVISE_S)
    except KeyboardInterrupt:
        pass
    finally:
        stop_children([server, *(j.proc for j in job_procs)])
    if server.returncode:
        raise typer.Exit(server.returncode)


def _proxy_options(trusted: str) -> list[str]:
    """uvicorn's options for the proxies trusted to name the client. The client is who the
    public rate limit counts, and X-Forwarded-For is whatever the peer sends: from an
    untrusted peer, or through a proxy that passes the client's own header on instead of
    appending to it, a client could name a new address per request and never be limited."""
    if not trusted.strip():
        return ["--no-proxy-headers"]
    return ["--proxy-headers", "--forwarded-allow-ips", trusted]


SUPERVISE_S = 0.5  # how often `serve` looks at its job workers
STOP_GRACE_S = 30.0  # how long children get to stop before they are killed


def stop_children(children: list[subprocess.Popen], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM every child, then SIGKILL those still running after ``grace_s`` in all. A job
    worker mid-solve does not stop (a solver cannot be cut short): waiting on it ended `serve`
    in a TimeoutExpired traceback and left the worker solving on as an orphan. Killed, its job
    is taken over when its lease runs out (at once by the next worker on this host)."""
    for child in children:
        child.terminate()
    deadline = time.monotonic() + grace_s
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"process {child.pid} still busy after {grace_s:g} s: killed", file=sys.stderr)
            child.kill()
            child.wait()
CRASH_LOOP_S = 10.0  # a worker that dies sooner than this after starting waits longer each time


class _JobWorker:
    """A job worker process that `serve` restarts when it dies: a killed worker left new
    batches queued for good and expired holds unreleased (the sweeper runs in it). One that
    keeps dying at start (a bad database URL, say) is restarted after 1, 2, 4 ... 30 s."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.due = 0.0
        self._start()

    def _start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "api.jobs.worker"])
        self.started = time.monotonic()

    def keep_alive(self) -> None:
        """Restart the worker if it has exited and its wait is over."""
        code = self.proc.poll()
        if code is None:
            return
        now = time.monotonic()
        if not self.due:
            crashed = now - self.started < CRASH_LOOP_S
            self.delay = min(max(1.0, 2 * self.delay), 30.0) if crashed else 0.0
            self.due = now + self.delay
            typer.echo(
                f"job worker {self.proc.pid} exited with code {code}; restarting"
                + (f" in {self.delay:g} s" if self.delay else ""),
                err=True,
            )
        if now >= self.due:
            self.due = 0.0
            self._start()


def worker(database_url: DbOption = None) -> None:
    """Run one job worker in the foreground (add more on any machine sharing the database)."""
    from api.jobs.worker import main

    _migrated(database_url).dispose()
    main(["--database-url", _settings(database_url).database_url])


@admin_app.command("create-firm")
def create_firm_cmd(
    name: Annotated[str, typer.Argument(help="The firm's name (unique).")],
    role: Annotated[str, typer.Option(help="firm, planner or admin.")] = "firm",
    database_url: DbOption = None,
) -> None:
    """Register a firm and print its API key (shown this once; only a hash is stored)."""
    from api.security import create_firm

    db = _migrated(database_url)
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


@admin_app.command("keys")
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


@admin_app.command("new-key")
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


@admin_app.command("revoke-key")
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

    db = _migrated(database_url)
    try:
        with db.writing() as session:
            yield session
    except NotFoundError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()


@lockers_app.command("import")
def import_lockers(
    file: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection of locker Points.")],
    database_url: DbOption = None,
) -> None:
    """Add lockers from GeoJSON (properties: name, compartments {S,M,L}, ref, operator, ...)."""
    from api.lockers import import_geojson

    db = _migrated(database_url)
    try:
        with db.writing() as session:
            added, skipped = import_geojson(session, file)
    finally:
        db.dispose()
    typer.echo(f"imported {added} lockers ({skipped} already present) from {file}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `gongpei` app."""
    app.command()(serve)
    app.command()(worker)
    app.add_typer(admin_app, name="admin")
    app.add_typer(lockers_app, name="lockers")
