"""`gongpei serve`, `gongpei worker`, `gongpei lockers import`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from api.db.engine import Database
    from api.settings import Settings

lockers_app = typer.Typer(help="Locker network: import lockers.", no_args_is_help=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="GONGPEI_DATABASE_URL",
        help="SQLAlchemy URL; default an SQLite file in $GONGPEI_DATA_DIR (./data).",
    ),
]


class LogLevel(StrEnum):
    """uvicorn's log levels (`gongpei serve --log-level`)."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"
    trace = "trace"


#: How the children are started: `-P` keeps the current directory off their sys.path, where
#: `-m` put it first and a folder named `api` there (another project's, another release's
#: checkout) was imported instead of the installed Gongpei the parent migrated with.
CHILD_PYTHON = [sys.executable, "-P"]


def _code_root() -> str:
    """The folder holding the `api` package this process runs: uvicorn's `--app-dir`. uvicorn
    puts its app dir first on sys.path whatever `-P` says, and its default is the current
    directory; this one holds the very code the parent migrated the database with."""
    import api

    return str(Path(api.__file__).resolve().parent.parent)


def settings_for(database_url: str | None) -> Settings:
    """The platform's settings, `--database-url` standing in for `GONGPEI_DATABASE_URL`."""
    from api.settings import Settings  # the DB stack loads only for commands that use it

    return Settings(database_url=database_url) if database_url else Settings()


def migrated_database(database_url: str | None) -> Database:
    """The platform's database, brought to the newest schema (the admin commands' too)."""
    from api.db.engine import Database
    from api.db.migrate import upgrade

    db = Database(settings_for(database_url).database_url)
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
    log_level: Annotated[
        LogLevel,
        typer.Option(
            # a short metavar: the six levels spelt out widened the option column until an
            # 80-column help cut --forwarded-allow-ips to "--forwarded-allo..."
            metavar="LEVEL",
            help="uvicorn's log level (its errors, startup and warnings): critical, error, "
            "warning, info, debug or trace.",
        ),
    ] = LogLevel.warning,
    access_log: Annotated[
        bool,
        typer.Option(
            help="Log one line per request (uvicorn's access log, at level info: a higher "
            "--log-level is lowered to info)."
        ),
    ] = False,
    database_url: DbOption = None,
) -> None:
    """Migrate the database, start job workers and serve the API and the map page.

    uvicorn runs in its own interpreter, so its worker processes import only the app.

    SIGTERM or Ctrl-C stops the server and its job workers; a job worker that dies is restarted.
    """
    db = migrated_database(database_url)
    os.environ["GONGPEI_DATABASE_URL"] = db.url  # the server and worker processes inherit it
    db.dispose()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    job_procs = [_JobWorker() for _ in range(job_workers)]
    uvicorn = [
        *CHILD_PYTHON, "-m", "uvicorn", "api.app:create_app", "--factory",
        "--host", host, "--port", str(port), "--workers", str(workers),
        *_log_options(log_level, access_log),
        "--app-dir", _code_root(), *_proxy_options(forwarded_allow_ips),
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


def _log_options(level: LogLevel, access_log: bool) -> list[str]:
    """uvicorn's logging options. Its access lines are records of level info, which its
    --log-level also applies to: `--access-log` at the default level warning logged nothing."""
    if access_log and level in (LogLevel.critical, LogLevel.error, LogLevel.warning):
        level = LogLevel.info
    return ["--log-level", level.value, "--access-log" if access_log else "--no-access-log"]


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
        self.proc = subprocess.Popen([*CHILD_PYTHON, "-m", "api.jobs.worker"])
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

    migrated_database(database_url).dispose()
    main(["--database-url", settings_for(database_url).database_url])


@lockers_app.command("import")
def import_lockers(
    file: Annotated[
        Path,
        typer.Argument(
            help="GeoJSON FeatureCollection of locker Points: a locker file, or a siting plan's "
            "lockers (gongpei site --geojson, a scenario's layers/lockers.geojson)."
        ),
    ],
    database_url: DbOption = None,
    datum: Annotated[
        str,
        typer.Option(
            help="Datum of the file's coordinates: wgs84 (GPS, OSM), gcj02 (Amap, Tencent) or "
            "bd09 (Baidu); stored as WGS 84."
        ),
    ] = "wgs84",
) -> None:
    """Add lockers from GeoJSON (properties: name, compartments {S,M,L}, ref, operator, ...)."""
    from api.lockers import import_geojson
    from network.datum import check_datum

    datum = check_datum(datum, "--datum")  # a typo is told before the database is opened
    db = migrated_database(database_url)
    try:
        with db.writing() as session:
            added, skipped = import_geojson(session, file, datum=datum)
    finally:
        db.dispose()
    typer.echo(f"imported {added} lockers ({skipped} already present) from {file}")
