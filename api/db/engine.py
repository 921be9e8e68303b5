"""Engines and sessions: SQLite in WAL mode with serialised writes, or PostgreSQL via psycopg."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from network.errors import GongpeiError

#: Execution option asking SQLite to take its write lock when the transaction begins.
WRITE = {"gongpei_write": True}
#: PostgreSQL's deadlock and serialization failures: the transaction is safe to run again.
RETRYABLE_SQLSTATES = ("40P01", "40001")
WRITE_ATTEMPTS = 3
#: What the database raises while it is out of reach (down, restarting, a connection dropped;
#: SQLite locked past its busy timeout): a passing state, unlike a statement it refuses.
UNREACHABLE = (OperationalError, InterfaceError)
T = TypeVar("T")


class UnreachableError(GongpeiError):
    """The database cannot be reached where a command or the server starts: one line naming
    `GONGPEI_DATABASE_URL` and the driver's reason, not a 140-line connection traceback."""


#: Seconds a new PostgreSQL connection may take before it counts as the database out of reach.
CONNECT_TIMEOUT_S = 10
#: libpq's settings that bound how long a connection whose peer went silent (a failover, a
#: host gone without a reset, a NAT or load balancer dropping idle connections silently) is
#: waited on: TCP keepalives after 30 s idle, and 30 s for data sent to be acknowledged. With
#: the kernel's defaults (keepalives after 2 h, retransmissions for about 15 min) the pool's
#: pre-ping on such a connection, so each request and each job worker's lease renewal, hung
#: for minutes where a 503 (or a claim again later) was due. A URL's own values are kept.
LINK_TIMEOUTS = {
    "connect_timeout": CONNECT_TIMEOUT_S,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}


def normalise_url(url: str) -> str:
    """Plain `postgresql://` URLs (as people write them) use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def first_line(err: BaseException) -> str:
    """The driver's first line of a database error: SQLAlchemy wraps it with the driver's
    class name and appends the statement and a help link, and drivers add hints on later
    lines, so a log line or a start-up error stays one line."""
    text = str(getattr(err, "orig", None) or err).strip()
    return text.partition("\n")[0]


def connect(engine: Engine) -> Connection:
    """A connection of ``engine``; `UnreachableError` (one line) where the database cannot be
    reached, for the places that start the platform and have no outage to wait out."""
    try:
        return engine.connect()
    except UNREACHABLE as err:
        shown = engine.url.render_as_string(hide_password=True)
        raise UnreachableError(
            f"GONGPEI_DATABASE_URL ({shown}): cannot connect: {first_line(err)}"
        ) from None


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE for writers.

    SQLite allows one writer at a time. A transaction that starts as a reader and later writes
    can fail with "database is locked" without waiting, so writing sessions (bound with the
    `WRITE` execution option) begin with BEGIN IMMEDIATE and queue on the busy timeout instead.
    """
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        # a host that drops packets would hold a start, `/readyz` or a request for minutes
        given = make_url(url).query
        waits = {key: value for key, value in LINK_TIMEOUTS.items() if key not in given}
        return create_engine(
            url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=waits
        )
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        immediate = conn.get_execution_options().get("gongpei_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """One engine plus two session factories: readers, and writers that serialise on SQLite."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(url)
        self.read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(
            self.engine.execution_options(**WRITE), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.engine)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any error."""
        with self.write_sessions() as session, session.begin():
            yield session

    def write_retrying(self, work: Callable[[Session], T]) -> T:
        """``work`` in a write transaction, run again (up to ``WRITE_ATTEMPTS`` times) where
        PostgreSQL aborted it as a deadlock victim: a booking that expires a parcel's overdue
        hold at another locker locks two lockers, and two such bookings may cross."""
        attempt = 1
        while True:
            try:
                with self.writing() as session:
                    return work(session)
            except OperationalError as err:
                code = getattr(err.orig, "sqlstate", None)
                if code not in RETRYABLE_SQLSTATES or attempt >= WRITE_ATTEMPTS:
                    raise
                attempt += 1

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self.read_sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
