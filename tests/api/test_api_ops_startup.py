"""Running the platform as a service (operator audit findings 6, 7 and 10-14): a database
that goes away, health probes, and settings, schemas and maps that cannot be used at start,
each refused in one line naming what to fix."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import StartupCheck, create_app
from api.db.engine import Database
from api.db.migrate import SchemaError, head_revision, upgrade
from api.deps import RATE_LIMIT_RESPONSE_HEADERS
from api.limits import PublicLimit
from api.search import LockerIndex
from api.settings import Settings, SettingsError

#: A loopback port nothing listens on: PostgreSQL "away" without touching the shared server.
CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:1/gongpei"


def _app_with_the_database_away(database_url: str, tmp_path: Path):
    """An app (not started) whose database is out of reach: PostgreSQL at a closed port, or
    an SQLite file whose folder is removed once the app is built."""
    if not database_url.startswith("sqlite"):
        return create_app(Settings(database_url=CLOSED_PORT_URL, public_rate_per_s=0.0))
    folder = tmp_path / "gone"
    app = create_app(Settings(database_url=f"sqlite:///{folder / 'gongpei.db'}"))
    shutil.rmtree(folder)
    return app


def _one_line_records(caplog, logger: str) -> list[str]:
    """The logger's messages, each checked to be one line without a traceback."""
    records = [r for r in caplog.records if r.name == logger]
    for record in records:
        assert record.exc_info is None and "\n" not in record.getMessage(), record.getMessage()
    return [r.getMessage() for r in records]


# -- 6: the database away ----------------------------------------------------------------------


def test_a_request_while_the_database_is_away_is_a_503_with_retry_after(
    database_url, tmp_path, caplog
):
    """It was a 500 "internal server error", logged with two ~100-line tracebacks."""
    app = _app_with_the_database_away(database_url, tmp_path)
    client = TestClient(app, raise_server_exceptions=False)
    key = {"X-API-Key": "gp_not_checked_without_the_database"}
    batch = {"format": "native", "problem": {}}
    with caplog.at_level(logging.WARNING):
        answers = [
            client.get("/v1/lockers/1"),  # public
            client.get(f"/v1/batches/{'a' * 32}", headers=key),  # the key's query
            client.post("/v1/batches", json=batch, headers=key),  # the key, before the body
        ]
    for r in answers:
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == "5"
        assert r.json() == {"detail": "the database is unavailable; retry later"}
    lines = _one_line_records(caplog, "gongpei.api")
    assert len(lines) == 3 and all(line.startswith("database out of reach on ") for line in lines)
    # and the OpenAPI document says so for each, as for every operation reading the database
    paths = app.openapi()["paths"]
    for method, path in (
        ("get", "/v1/lockers/{locker_id}"),
        ("get", "/v1/batches/{job_id}"),
        ("post", "/v1/batches"),
    ):
        away = paths[path][method]["responses"]["503"]
        # a public answer also carries the rate limit's headers (counted before the database)
        assert set(away["headers"]) - set(RATE_LIMIT_RESPONSE_HEADERS) == {"Retry-After"}, (
            method, path
        )
        assert away["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    reads = [op for ops in paths.values() for op in ops.values() if "503" in op["responses"]]
    assert len(reads) >= 40
    assert "503" not in paths["/v1/lockers"]["get"]["responses"]  # answered from memory


def test_the_locker_index_logs_an_outage_when_it_begins_and_when_it_ends(
    db, database_url, tmp_path, caplog
):
    """The refresher logged a ~100-line traceback at every refresh (each second) while the
    database was away; now one line when the outage begins and one when it ends."""
    away = _app_with_the_database_away(database_url, tmp_path).state.db.engine
    index = LockerIndex(away, max_age_s=0.001)
    refreshes = []
    refresh = index._refresh

    def counted() -> None:
        refreshes.append(1)
        if len(refreshes) == 5:
            index.engine = db.engine  # the database is back
        if len(refreshes) == 7:
            index._stop.set()
        refresh()

    index._refresh = counted
    with caplog.at_level(logging.INFO):
        index._refresh_forever()  # in this thread, until the seventh refresh
    lines = _one_line_records(caplog, "gongpei.search")
    assert len(lines) == 2, lines
    assert lines[0].startswith("locker index not refreshed, database out of reach")
    assert lines[1].startswith("locker index refreshed again after")
    assert index._snapshot is not None


# -- 7: health probes and the server's logs ----------------------------------------------------


def test_health_probes_answer_without_a_key_or_the_rate_limit(make_client):
    client = make_client(public_rate_per_s=1.0, public_burst=1.0)
    for _ in range(3):
        for path in ("/healthz", "/readyz"):
            r = client.get(path)
            assert r.status_code == 200, (path, r.text)
            assert r.json() == {"status": "ok"}
    summary = [client.get("/v1/open-data/summary").status_code for _ in range(2)]
    assert summary == [200, 429]  # the limit is on, for the public endpoints
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/healthz"]["get"]["responses"]) == {"200"}
    assert set(paths["/readyz"]["get"]["responses"]) == {"200", "503"}


def test_readiness_is_a_503_while_the_database_is_away(database_url, tmp_path):
    client = TestClient(_app_with_the_database_away(database_url, tmp_path))
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json() == {"detail": "the database does not answer"}
    assert client.get("/healthz").status_code == 200  # alive all the same


def _serve(invoke_cli, monkeypatch, *args: str) -> tuple[int, str, list[list[str]]]:
    """`gongpei serve ARGS` with the children's commands recorded instead of started."""
    started: list[list[str]] = []

    class Exited:
        returncode = 0

        def __init__(self, argv, **_):
            started.append(argv)

        def poll(self):
            return 0

        def terminate(self):
            pass

        def wait(self, timeout=None):
            return 0

    with monkeypatch.context() as patched:  # subprocess's own Popen: undone at once
        patched.setattr("api.cli.serve_cmd.subprocess.Popen", Exited)
        patched.setattr("api.cli.serve_cmd.signal.signal", lambda *_: None)
        code, err = invoke_cli("serve", *args)
    return code, err, started


def _after(argv: list[str], option: str) -> str:
    return argv[argv.index(option) + 1]


@pytest.fixture
def sqlite_env(monkeypatch, tmp_path) -> str:
    """A fresh SQLite database in the environment, as `gongpei serve` reads it."""
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    monkeypatch.setenv("GONGPEI_DATABASE_URL", url)
    for name in ("GONGPEI_REDIS_URL", "GONGPEI_MAP_NETWORK"):
        monkeypatch.delenv(name, raising=False)
    return url


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        ("", ["--no-proxy-headers"]),
        ("10.0.0.5", ["--proxy-headers", "--forwarded-allow-ips", "10.0.0.5"]),
    ],
)
def test_serve_trusts_x_forwarded_for_only_from_the_proxies_named(
    invoke_cli, monkeypatch, sqlite_env, trusted, expected
):
    """The public rate limit counts the client X-Forwarded-For names: from any peer trusted
    by mistake, a client could name a new address per request and never be limited."""
    code, _, (uvicorn, *_) = _serve(
        invoke_cli, monkeypatch, "--job-workers", "0", "--forwarded-allow-ips", trusted
    )
    assert code == 0
    for option in expected:
        assert option in uvicorn
    if not trusted:
        assert "--forwarded-allow-ips" not in uvicorn


def test_serve_passes_its_log_level_and_access_log_to_uvicorn(
    invoke_cli, monkeypatch, sqlite_env
):
    _, _, started = _serve(invoke_cli, monkeypatch, "--job-workers", "0")
    (quiet,) = started
    assert _after(quiet, "--log-level") == "warning" and "--no-access-log" in quiet
    code, err, started = _serve(
        invoke_cli, monkeypatch, "--job-workers", "0", "--log-level", "info", "--access-log"
    )
    assert code in (0, None), err
    (chatty,) = started
    assert _after(chatty, "--log-level") == "info" and "--access-log" in chatty
    _, _, (logged,) = _serve(invoke_cli, monkeypatch, "--job-workers", "0", "--access-log")
    assert _after(logged, "--log-level") == "info"  # its lines are info: at warning, none
    _, _, (debug,) = _serve(
        invoke_cli, monkeypatch, "--job-workers", "0", "--access-log", "--log-level", "debug"
    )
    assert _after(debug, "--log-level") == "debug"


# -- 10: database URL, data folder and Redis URL -----------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres//u:hunter2@db.internal/gongpei", "is not a database URL"),
        ("mysql://u:hunter2@db.internal/gongpei", "mysql is not supported"),
        ("postgresql+pg9000://u@db.internal/gongpei", "the driver postgresql+pg9000 is not"),
        (CLOSED_PORT_URL, "cannot connect: connection failed"),
    ],
)
def test_a_database_url_the_platform_cannot_use_stops_serve_in_one_line(
    invoke_cli, monkeypatch, sqlite_env, url, expected
):
    """Tracebacks of 58-143 lines (exit 1) that never named the variable."""
    monkeypatch.setenv("GONGPEI_DATABASE_URL", url)
    code, err, started = _serve(invoke_cli, monkeypatch)
    assert code == 2 and started == []
    assert err.startswith("error: GONGPEI_DATABASE_URL") and expected in err, err
    assert "\n" not in err and "hunter2" not in err


def test_an_sqlite_file_in_a_folder_not_yet_made_gets_its_folder(invoke_cli, monkeypatch, tmp_path):
    """As the data folder is made for the default database ("unable to open database file")."""
    path = tmp_path / "not-yet" / "made" / "gongpei.db"
    monkeypatch.setenv("GONGPEI_DATABASE_URL", f"sqlite:///{path}")
    code, err, started = _serve(invoke_cli, monkeypatch, "--job-workers", "0")
    assert code in (0, None), err
    assert path.is_file() and len(started) == 1


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_a_data_folder_that_cannot_be_made_is_one_line(
    invoke_cli, monkeypatch, tmp_path, where
):
    """FileExistsError / PermissionError tracebacks of 50 lines."""
    a_file = tmp_path / "hostname"
    a_file.write_text("not a folder")
    folder = a_file if where == "a file" else a_file / "data"
    monkeypatch.delenv("GONGPEI_DATABASE_URL", raising=False)
    monkeypatch.setenv("GONGPEI_DATA_DIR", str(folder))
    code, err, started = _serve(invoke_cli, monkeypatch)
    assert code == 2 and started == []
    assert err.startswith("error: GONGPEI_DATA_DIR: ") and str(folder) in err, err
    assert "\n" not in err


def test_a_redis_url_without_its_scheme_stops_serve_before_its_children(
    invoke_cli, monkeypatch, sqlite_env
):
    """The parent started uvicorn, which died on a 47-line traceback about `async+`."""
    monkeypatch.setenv("GONGPEI_REDIS_URL", "127.0.0.1:6379")
    code, err, started = _serve(invoke_cli, monkeypatch)
    assert code == 2 and started == []
    assert err.startswith("error: GONGPEI_REDIS_URL: '127.0.0.1:6379' is not a Redis URL"), err
    assert "async+" not in err


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "rediss://h:6380/2", "unix:///r.sock"])
def test_every_redis_url_form_is_accepted(monkeypatch, sqlite_env, url):
    monkeypatch.setenv("GONGPEI_REDIS_URL", url)
    settings = Settings()
    assert settings.redis_url == url
    PublicLimit(1.0, 1.0, redis_url=url)  # limits spells a socket redis+unix://


# -- 11: schema states at start ----------------------------------------------------------------


def _sqlite_at(tmp_path: Path, revision: str) -> str:
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    database = Database(url)
    upgrade(database.engine, revision)
    database.dispose()
    return url


def _set_revision(url: str, revision: str) -> None:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))


def test_a_database_migrated_by_a_newer_release_is_one_line(
    invoke_cli, monkeypatch, tmp_path
):
    """Alembic's "Can't locate revision identified by '0010'" in 98 lines, after a rollback of
    the code."""
    url = _sqlite_at(tmp_path, "head")
    _set_revision(url, "9999")
    monkeypatch.setenv("GONGPEI_DATABASE_URL", url)
    code, err, started = _serve(invoke_cli, monkeypatch)
    assert code == 2 and started == []
    assert err == (
        "error: the database schema is at revision 9999, which this release does not know "
        f"(its newest is {head_revision()}): a newer Gongpei migrated it; run that release, "
        "or restore the backup taken before the upgrade"
    )


def test_the_designed_stop_of_migration_0007_is_one_line_and_changes_nothing(
    invoke_cli, monkeypatch, tmp_path
):
    url = _sqlite_at(tmp_path, "0006")
    database = Database(url)
    at = "'2024-05-01 00:00:00'"
    with database.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO firms (id, name, role, created_at) VALUES "
                          f"(2, 'SF', 'firm', {at})"))  # fmt: skip
        conn.execute(text(
            "INSERT INTO lockers (id, name, operator, lat, lon, address, area, opening_hours, "
            f"created_at, updated_at) VALUES (1, 'L', '', 36, 120, '', '', '24/7', {at}, {at})"
        ))  # fmt: skip
        for i in (1, 2):
            conn.execute(text(
                "INSERT INTO compartments (id, locker_id, label, size, width_mm, height_mm, "
                f"depth_mm, status) VALUES ({i}, 1, 'A{i}', 'M', 1, 1, 1, 'occupied')"
            ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO reservations (id, firm_id, locker_id, compartment_id, size, "
                "parcel_ref, pickup_code, state, created_at, expires_at, deposited_at, "
                f"failed_pickups) VALUES ('{i:032x}', 2, 1, {i}, 'M', 'P1', '1', 'deposited', "
                f"{at}, {at}, {at}, 0)"
            ))  # fmt: skip
    database.dispose()
    monkeypatch.setenv("GONGPEI_DATABASE_URL", url)
    code, err, started = _serve(invoke_cli, monkeypatch)
    assert code == 2 and started == [] and "\n" not in err
    assert err.startswith(
        f"error: the database schema stays at revision 0006 (the upgrade to {head_revision()} "
        "was rolled back): one parcel is deposited in several compartments"
    ), err
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0006",)]


def test_the_app_refuses_to_start_on_a_schema_behind_in_one_line(tmp_path):
    """It started without a word on a schema one migration behind, then failed at its first
    request needing the newer one (with an older schema still: 95 lines, exit 3)."""
    behind = Settings(database_url=_sqlite_at(tmp_path, "0008"), public_rate_per_s=0.0)
    app = create_app(behind)
    r = TestClient(app).get("/readyz")
    assert r.status_code == 503
    reason = (
        f"the database schema is at revision 0008, behind this release's {head_revision()}: "
        "`gongpei serve` (or `gongpei worker`) migrates it at start"
    )
    assert r.json() == {"detail": reason}
    with pytest.raises(SchemaError, match="behind this release"), TestClient(app):
        pass
    with TestClient(create_app(behind, migrate=True)) as client:  # migrated, it starts
        assert client.get("/readyz").status_code == 200


def test_a_start_refused_reaches_the_server_as_one_line():
    """What uvicorn logs of a failed start is the lifespan's message: Starlette sends the
    whole traceback; `StartupCheck` sends the one line."""

    def behind() -> None:
        raise SchemaError("the database schema is at revision 0008, behind")

    async def app(scope, receive, send):  # pragma: no cover - never reached
        raise AssertionError("started on a schema behind")

    async def lifespan() -> list[dict]:
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "lifespan.startup"}

        async def send(message: dict) -> None:
            sent.append(message)

        with pytest.raises(SchemaError):
            await StartupCheck(app, behind)({"type": "lifespan"}, receive, send)
        return sent

    assert asyncio.run(lifespan()) == [{
        "type": "lifespan.startup.failed",
        "message": "error: the database schema is at revision 0008, behind",
    }]  # fmt: skip


# -- 12: a map that is not there ---------------------------------------------------------------


def test_a_map_network_that_does_not_exist_stops_serve_in_one_line(
    invoke_cli, monkeypatch, sqlite_env, tmp_path
):
    """The server started, and every firm's batch timed on the map failed in the worker."""
    missing = tmp_path / "maps" / "qingdao.osm.pbf"
    monkeypatch.setenv("GONGPEI_MAP_NETWORK", str(missing))
    code, err, started = _serve(invoke_cli, monkeypatch)
    assert code == 2 and started == []
    assert err.startswith(f"error: GONGPEI_MAP_NETWORK: '{missing}': no such file or folder"), err


def test_map_networks_that_exist_are_accepted(monkeypatch, sqlite_env, tmp_path):
    osm = tmp_path / "region.osm.pbf"
    osm.write_bytes(b"")  # whether it loads is the map's own 503, as before
    for source in ("demo", "synthetic:40", str(osm), str(tmp_path)):
        monkeypatch.setenv("GONGPEI_MAP_NETWORK", source)
        assert Settings().map_network == source
    monkeypatch.setenv("GONGPEI_MAP_NETWORK", "synthetic:many")
    with pytest.raises(SettingsError, match="GONGPEI_MAP_NETWORK: 'synthetic:many'"):
        Settings()


# -- 13: time settings past any sensible value -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "most"), [("GONGPEI_JOB_LEASE_S", "86400"), ("GONGPEI_SEARCH_CACHE_S", "3600")]
)
def test_time_settings_are_bounded(monkeypatch, sqlite_env, name, most):
    """1e12 s overflowed every job claim's date (the worker died at each) or the refresher's
    wait (its thread died and search stopped seeing changes)."""
    monkeypatch.setenv(name, "1e12")
    with pytest.raises(SettingsError) as refused:
        Settings()
    assert str(refused.value) == f"{name}: 1e12 must be at most {most}"
    monkeypatch.setenv(name, most)
    Settings()


# -- 14: children import the installed Gongpei, not the current directory's `api` -------------


@pytest.mark.slow
def test_serve_children_ignore_an_api_folder_in_the_current_directory(
    invoke_cli, monkeypatch, sqlite_env, tmp_path
):
    """`python -m` puts the current directory first on sys.path: run from a folder holding
    another project's `api`, the children imported that instead of Gongpei."""
    shadow = tmp_path / "elsewhere"
    (shadow / "api").mkdir(parents=True)
    (shadow / "api" / "__init__.py").write_text("raise SystemExit('not Gongpei')\n")
    monkeypatch.chdir(shadow)
    code, err, (worker, uvicorn) = _serve(
        invoke_cli, monkeypatch, "--port", str(_free_port()), "--job-workers", "1"
    )
    assert code in (0, None), err
    helped = subprocess.run([*worker, "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "Gongpei job worker" in helped.stdout, helped.stderr
    server = subprocess.Popen(uvicorn, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert _answers(f"http://127.0.0.1:{_after(uvicorn, '--port')}/healthz", server)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "not Gongpei" not in output


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str, server: subprocess.Popen, timeout_s: float = 60.0) -> bool:
    """Whether the server answers ``url`` with a 200 before it exits or the time is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def test_serve_starts_its_children_without_the_current_directory_on_their_path(
    invoke_cli, monkeypatch, sqlite_env
):
    _, _, (worker, uvicorn) = _serve(invoke_cli, monkeypatch, "--job-workers", "1")
    assert worker[:2] == uvicorn[:2] == [sys.executable, "-P"]
    import api.app

    app_dir = Path(_after(uvicorn, "--app-dir"))  # uvicorn's default: the current directory
    assert (app_dir / "api" / "app.py").samefile(api.app.__file__)


def test_a_postgresql_connection_gives_up_after_its_timeout_unless_the_url_says_otherwise(
    monkeypatch,
):
    """A host that drops packets held a start, `/readyz` or a request for minutes."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    from api.db.engine import CONNECT_TIMEOUT_S, make_engine

    seen: list[dict] = []

    def refused(*_args, **kwargs):
        seen.append(kwargs)
        raise psycopg.OperationalError("refused here")

    monkeypatch.setattr(psycopg, "connect", refused)
    for url in ("postgresql://u@db.invalid/x", "postgresql://u@db.invalid/x?connect_timeout=3"):
        with pytest.raises(OperationalError):
            make_engine(url).connect()
    assert [k["connect_timeout"] for k in seen] == [CONNECT_TIMEOUT_S, "3"]


# -- the public rate limit's settings are bounded -----------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"GONGPEI_PUBLIC_RATE_PER_S": "1e12"},
            "GONGPEI_PUBLIC_RATE_PER_S: 1e12 must be at most 10000",
        ),
        ({"GONGPEI_PUBLIC_BURST": "1e9"}, "GONGPEI_PUBLIC_BURST: 1e9 must be at most 100000"),
        (
            {"GONGPEI_PUBLIC_RATE_PER_S": "0.0001", "GONGPEI_PUBLIC_BURST": "60"},
            "GONGPEI_PUBLIC_BURST: 60 requests at GONGPEI_PUBLIC_RATE_PER_S 0.0001 take 600000 s;"
            " at most a day's worth (8.64)",
        ),
    ],
)
def test_public_rate_settings_are_bounded(monkeypatch, sqlite_env, env, message):
    """The limiter logs every request of its window: a burst of 1e9 at 1 request/s was a
    window of 31 years, every request a client ever made kept in memory or Redis."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        Settings()
    assert str(refused.value) == message
    monkeypatch.setenv("GONGPEI_PUBLIC_RATE_PER_S", "0")  # no limit: the burst is unused
    monkeypatch.setenv("GONGPEI_PUBLIC_BURST", "60")
    Settings()
