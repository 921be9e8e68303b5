"""API test fixtures: each test runs against SQLite and PostgreSQL, on a freshly migrated schema.

PostgreSQL comes from GONGPEI_TEST_POSTGRES_URL (default the CI server); each test session
works in its own schema, dropped at the end, so reruns and parallel sessions never collide.
Where the server is unreachable the PostgreSQL variants skip with the reason.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from api.db.engine import Database, normalise_url
from api.db.migrate import upgrade
from api.db.models import Base
from api.lockers import create_locker
from api.security import create_firm
from api.settings import Settings

POSTGRES_URL = os.environ.get(
    "GONGPEI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _postgres_schema_url(tmp_root: Path) -> Iterator[str]:
    base = normalise_url(POSTGRES_URL)
    try:
        admin = create_engine(base, connect_args={"connect_timeout": 3})
        with admin.connect():
            pass
    except Exception as err:  # any connection failure means "skip"
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is unreachable ({type(err).__name__})")
    schema = f"gp_api_test_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request, tmp_path_factory) -> Iterator[str]:
    """A migrated database of each kind, shared by the session's tests (emptied per test)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "gongpei.db"
        url = f"sqlite:///{path}"
        _migrate(url)
        yield url
        return
    gen = _postgres_schema_url(tmp_path_factory.getbasetemp())
    url = next(gen)
    _migrate(url)
    yield url
    gen.close()


def _migrate(url: str) -> None:
    db = Database(url)
    upgrade(db.engine)
    db.dispose()


@pytest.fixture
def db(database_url) -> Iterator[Database]:
    """The test's database, emptied first."""
    database = Database(database_url)
    with database.writing() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
    yield database
    database.dispose()


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(database_url=database_url, search_cache_s=0.0, public_rate_per_s=0.0)


@pytest.fixture
def client(db, settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def make_client(db, settings):
    """Build a client with changed settings, e.g. a tight rate limit."""
    clients = []

    def make(**changes) -> TestClient:
        c = TestClient(create_app(replace(settings, **changes)))
        clients.append(c.__enter__())
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def auth(db) -> dict[str, dict[str, str]]:
    """Request headers with API keys of two firms (a, b), a planner and an admin."""
    out = {}
    with db.writing() as session:
        roles = (("a", "firm"), ("b", "firm"), ("planner", "planner"), ("admin", "admin"))
        for name, role in roles:
            _, key = create_firm(session, f"firm-{name}", role)
            out[name] = {"X-API-Key": key}
    return out


@pytest.fixture
def lockers(db) -> list[int]:
    """Five lockers in a row east of a campus gate, 100 m apart; the third has no L doors."""
    ids = []
    with db.writing() as session:
        for i in range(5):
            counts = {"S": 2, "M": 2, "L": 0 if i == 2 else 1}
            locker = create_locker(
                session,
                name=f"Locker {i}",
                lat=36.0670,
                lon=120.3830 + i * 0.0011,
                compartments=counts,
                area="Shinan" if i < 3 else "Laoshan",
                operator="Campus Post",
            )
            ids.append(locker.id)
    return ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def start_servers(database_url, tmp_path):
    """Start server processes on loopback against the test database; stopped after.

    `gongpei serve` (with its job workers) when `cli`, else bare uvicorn processes of the app,
    which start faster (the database is already migrated by the fixtures).
    """
    procs: list[subprocess.Popen] = []

    def start(
        count: int, *, job_workers: int = 0, env: dict | None = None, cli: bool = True
    ) -> list[str]:
        urls = []
        for i in range(count):
            port = free_port()
            log = open(tmp_path / f"serve-{port}.log", "w")  # noqa: SIM115 - closed with the process
            proc_env = {
                **os.environ,
                "GONGPEI_DATABASE_URL": database_url,
                "GONGPEI_JOB_LEASE_S": "2",
                **(env or {}),
            }
            if cli:
                cmd = ["-m", "api.cli.main", "serve", "--port", str(port),
                       "--job-workers", str(job_workers if i == 0 else 0)]
            else:
                cmd = ["-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(port),
                       "--log-level", "warning"]
            procs.append(
                subprocess.Popen(
                    [sys.executable, *cmd], env=proc_env, stdout=log, stderr=subprocess.STDOUT
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            _wait_ready(url)
        return urls

    yield start
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_ready(url: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/openapi.json", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not start within {timeout_s} s")


@pytest.fixture
def vroom_problem():
    """A small VROOM-format delivery problem with a travel-time matrix and coordinates."""

    def make(n_jobs: int = 12, seed: int = 0) -> dict:
        rng = np.random.default_rng(seed)
        size = n_jobs + 1
        pts = np.c_[120.38 + rng.uniform(0, 0.03, size), 36.06 + rng.uniform(0, 0.03, size)]
        seconds = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)) * 111_000 / 8.0
        depot = pts[0].tolist()
        return {
            "vehicles": [
                {"id": v, "start_index": 0, "end_index": 0, "start": depot, "end": depot,
                 "capacity": [n_jobs // 2 + 1]}
                for v in (1, 2)
            ],
            "jobs": [
                {"id": j, "location_index": j, "location": pts[j].tolist(), "delivery": [1]}
                for j in range(1, n_jobs + 1)
            ],
            "matrices": {"car": {"durations": seconds.round().astype(int).tolist()}},
        }

    return make


@pytest.fixture
def invoke_cli(monkeypatch, capsys):
    """Run the real `gongpei` entry point with some arguments: its exit code and its stderr
    as one string."""
    from api.cli.main import run

    def invoke(*args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["gongpei", *args])
        with pytest.raises(SystemExit) as stop:
            run()
        return stop.value.code, capsys.readouterr().err.strip()

    return invoke
