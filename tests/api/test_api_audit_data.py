"""The API audit's data defects: worker ids too long for PostgreSQL, migrations of processes
starting together, `gongpei lockers import` and `create-firm` skipping the API's rules, the
search cache missing a locker change, and open data's days in UTC. Each runs on SQLite and
PostgreSQL (the fixtures of conftest.py); PostgreSQL-only races skip on SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, update
from sqlalchemy.exc import DataError
from typer.testing import CliRunner

from api.booking import reserve
from api.cli.main import app
from api.db.engine import Database
from api.db.migrate import alembic_config, upgrade
from api.db.models import Firm, Job, Locker, LockersVersion, Reservation
from api.jobs import queue
from api.jobs.worker import Worker
from api.lockers import LockerInputError
from api.routers.opendata import local_days
from api.search import LockerIndex, Query
from api.security import create_firm
from api.settings import Settings, SettingsError

runner = CliRunner()
#: 63 characters: a server's FQDN (Linux allows hostnames of up to 64).
LONG_HOST = "gongpei-worker-01.logistics.qingdao.example-city.internal.cn-a"


def _queued_job(db: Database) -> str:
    with db.reading() as session:
        firm_id = session.scalar(select(Firm.id))
    if firm_id is None:
        with db.writing() as session:
            firm_id = create_firm(session, "firm-a", "firm")[0].id
    return queue.submit(db, kind="batch", firm_id=firm_id, payload={})


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- #2: worker ids on hosts with long names ------------------------------------------------


def test_a_worker_on_a_host_with_a_long_name_claims_jobs(db, settings, monkeypatch):
    """Its id `host:pid:random` outgrew `jobs.worker_id` (64): PostgreSQL refused every claim
    and the worker died, restarted by `gongpei serve` forever. The id now fits, and still
    names the host and the pid, so the jobs of this host's dead workers are taken over."""
    monkeypatch.setattr("socket.gethostname", lambda: LONG_HOST)
    first, second = _queued_job(db), _queued_job(db)
    worker = Worker(settings)
    assert len(worker.id) <= Job.worker_id.type.length
    assert queue.claim(db, worker.id, lease_s=30).id == first
    dead = _dead_pid()
    with monkeypatch.context() as m:
        m.setattr(os, "getpid", lambda: dead)
        dead_worker = queue.worker_name()
    assert queue.claim(db, dead_worker, lease_s=60).id == second
    monkeypatch.setattr("socket.gethostname", lambda: LONG_HOST[:-1] + "b")  # another host
    assert queue.release_dead_local(db) == 0  # not its worker: its lease must run out
    monkeypatch.setattr("socket.gethostname", lambda: LONG_HOST)
    assert queue.release_dead_local(db) == 1  # the living worker's job stays its own
    assert queue.claim(db, worker.id, lease_s=30).id == second


def test_a_claim_the_database_refuses_is_told_before_the_worker_stops(
    db, settings, monkeypatch, caplog
):
    """A refusal is no outage: no pause mends it. The worker stops, as before, but says why in
    one line, not only a traceback on every restart."""
    caplog.set_level("INFO", logger="gongpei.worker")

    def refused(*_args, **_kwargs):
        raise DataError("UPDATE jobs", {}, Exception("value too long for type varchar(64)\nSQL"))

    monkeypatch.setattr(queue, "claim", refused)
    worker = Worker(settings)
    with pytest.raises(DataError):
        worker.run(max_jobs=1)
    told = [r.getMessage() for r in caplog.records if r.levelname == "CRITICAL"]
    assert len(told) == 1 and worker.id in told[0] and "value too long" in told[0]
    assert "\n" not in told[0]


# --- #3: processes migrating at once ---------------------------------------------------------


def _downgrade(db: Database, revision: str) -> None:
    config = alembic_config(db.engine)
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def _revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_processes_starting_together_migrate_one_after_the_other(
    db, database_url, lockers, monkeypatch
):
    """`gongpei serve` and `gongpei worker` started at once on an outdated database: both
    migrated, and one crashed (PostgreSQL: a duplicate key in pg_type; SQLite: "database is
    locked"). The first to start now holds the migration until it commits: the second waits,
    then finds the schema current. The upgrade keeps the database's rows."""
    head = ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()
    real, migrated, go = command.upgrade, threading.Event(), threading.Event()

    def held_open(config, revision):  # the first start migrates, then stalls before commit
        real(config, revision)
        if not migrated.is_set():
            migrated.set()
            go.wait(30)

    outcomes: dict[str, str] = {}

    def start(name: str) -> None:
        started = Database(database_url)
        try:
            upgrade(started.engine)
            outcomes[name] = "ok"
        except Exception as err:
            outcomes[name] = f"{type(err).__name__}: {str(err).splitlines()[0]}"
        finally:
            started.dispose()

    _downgrade(db, "0007")
    monkeypatch.setattr(command, "upgrade", held_open)
    try:
        first = threading.Thread(target=start, args=("serve",))
        first.start()
        assert migrated.wait(60)
        second = threading.Thread(target=start, args=("worker",))
        second.start()
        time.sleep(2)  # the second start reaches the migration meanwhile
        go.set()
        first.join(60)
        second.join(60)
    finally:
        go.set()
        monkeypatch.undo()
        upgrade(db.engine)  # leave the shared schema at head for the next tests
    assert outcomes == {"serve": "ok", "worker": "ok"}
    assert _revision(db) == head
    with db.reading() as session:
        assert list(session.scalars(select(Locker.id).order_by(Locker.id))) == lockers


# --- #4: `gongpei lockers import` and `gongpei admin create-firm` by the API's rules ----------


def _import(database_url: str, tmp_path, *properties: dict):
    """`gongpei lockers import` of one feature per ``properties`` (over a name and doors)."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [120.38 + i / 1000, 36.06]},
            "properties": {"name": f"Gate {i}", "compartments": {"S": 2}, **props},
        }
        for i, props in enumerate(properties)
    ]
    path = tmp_path / "lockers.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return runner.invoke(app, ["lockers", "import", str(path), "--database-url", database_url])


def test_lockers_import_leaves_null_properties_out(db, database_url, tmp_path, client):
    """A null (common in GeoJSON exports) was stored as the text "None": the map's popup
    showed "None" as the address and the opening hours. It is now absent, as in the API."""
    result = _import(database_url, tmp_path, {"address": None, "opening_hours": None, "ref": None})
    assert result.exit_code == 0, result.output
    with db.reading() as session:
        locker_id = session.scalar(select(Locker.id))
    detail = client.get(f"/v1/lockers/{locker_id}").json()
    assert (detail["address"], detail["opening_hours"]) == ("", "24/7")


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"operator": {"zh": "丰巢", "en": "Hive Box"}}, "property 'operator' must be text, got {"),
        ({"name": "Gate\x00 3"}, "property 'name' must not contain a NUL character"),
        ({"name": "N" * 201}, "property 'name' must be at most 200 characters"),
        ({"ref": "R" * 101}, "property 'ref' must be at most 100 characters"),
        ({"address": "A" * 301}, "property 'address' must be at most 300 characters"),
        ({"area": 7}, "property 'area' must be text, got 7"),
        ({"compartments": {"S": 501}}, "property 'compartments.S' must be at most 500, got 501"),
        ({"compartments": None}, "property 'compartments' is missing"),
    ],
)
def test_lockers_import_refuses_what_the_api_refuses(
    db, database_url, tmp_path, client, auth, properties, message
):
    """What `POST /v1/lockers` refuses, the import stored (SQLite: a NUL, after which the
    locker's GET and PATCH were 500s; a nested object as its Python repr) or failed on with a
    database traceback (PostgreSQL). It is now refused in one line naming the feature and
    the property, and nothing of the file is imported."""
    result = _import(database_url, tmp_path, {"ref": "fine"}, properties)
    assert isinstance(result.exception, LockerInputError), result.output
    assert str(result.exception).startswith("feature 1")
    assert message in str(result.exception)
    with db.reading() as session:
        assert list(session.scalars(select(Locker.id))) == []
    body = {"name": "Gate 1", "lat": 36.06, "lon": 120.38, "compartments": {"S": 2}}
    body.update({"external_ref" if k == "ref" else k: v for k, v in properties.items()})
    assert client.post("/v1/lockers", json=body, headers=auth["admin"]).status_code == 422


def test_create_firm_refuses_a_name_the_api_refuses(db, database_url):
    """A name too long for its column: PostgreSQL failed with a traceback, SQLite stored it."""
    args = ["admin", "create-firm", "F" * 201, "--database-url", database_url]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "name: String should have at most 200 characters" in result.output
    with db.reading() as session:
        assert list(session.scalars(select(Firm.id))) == []


# --- #8: the search cache and locker changes ------------------------------------------------


def _names(index: LockerIndex) -> list[str]:
    items, _ = index.search(Query(36.067, 120.385, 2000, None, False), limit=10, cursor=None)
    return sorted(item["name"] for item in items)


def _rename(db: Database, locker_id: int, name: str, stamped: datetime | None = None) -> None:
    with db.writing() as session:
        locker = session.get(Locker, locker_id)
        locker.name = name
        if stamped is not None:
            locker.updated_at = stamped


def test_search_cache_sees_a_change_stamped_before_the_last_one(db, lockers):
    """The cache reloaded when `(count, max(updated_at))` moved. A change stamped by a host
    whose clock is behind (or stamped at flush and committed after a later-stamped one) left
    the maximum where it was: the public search showed the old name indefinitely."""
    index = LockerIndex(db.engine, max_age_s=3600)  # cached mode, refreshed by hand here
    index._refresh()
    _rename(db, lockers[1], "B new")
    index._refresh()
    _rename(db, lockers[0], "A new", stamped=datetime.now(UTC) - timedelta(minutes=1))
    index._refresh()
    assert _names(index) == ["A new", "B new", "Locker 2", "Locker 3", "Locker 4"]


def test_search_cache_sees_a_change_committed_after_a_later_stamped_one(db, lockers):
    """Two admin edits overlapping a refresh: the one stamped first commits last."""
    if db.is_sqlite:
        pytest.skip("SQLite serialises write transactions: they cannot overlap")
    index = LockerIndex(db.engine, max_age_s=3600)
    index._refresh()
    with db.write_sessions() as slow, slow.begin():
        slow.get(Locker, lockers[0]).name = "A new"
        slow.flush()  # stamped now
        _rename(db, lockers[1], "B new")  # stamped later, committed first
        index._refresh()
    index._refresh()
    assert _names(index) == ["A new", "B new", "Locker 2", "Locker 3", "Locker 4"]


def _version(db: Database) -> int | None:
    with db.reading() as session:
        return session.scalar(select(LockersVersion.changes))


def test_locker_edits_move_the_lockers_version_and_bookings_do_not(client, db, lockers, auth):
    """Every way the API changes lockers counts (so the caches reload), and a booking, which
    changes only availability, does not: on PostgreSQL its row lock would queue bookings."""
    before, admin = _version(db), auth["admin"]
    body = {"size": "S", "parcel_ref": "P-1"}
    held = client.post(f"/v1/lockers/{lockers[0]}/reservations", json=body, headers=auth["a"])
    assert held.status_code == 201
    client.post(f"/v1/reservations/{held.json()['id']}/deposit", headers=auth["a"])
    assert _version(db) == before
    for change in ({"address": "Songling Rd 238"}, {"add_compartments": {"L": 1}}):
        assert client.patch(f"/v1/lockers/{lockers[0]}", json=change, headers=admin).is_success
    new = {"name": "Gate 9", "lat": 36.06, "lon": 120.38, "compartments": {"S": 1}}
    assert client.post("/v1/lockers", json=new, headers=admin).status_code == 201
    assert _version(db) == before + 3



def _free_s(index: LockerIndex, locker_id: int) -> int:
    items, _ = index.search(Query(36.067, 120.385, 2000, None, False), limit=10, cursor=None)
    return next(item["free"]["S"] for item in items if item["id"] == locker_id)


def _hold(db: Database, locker_id: int, ref: str) -> None:
    with db.writing() as session:
        firm = session.scalar(select(Firm))
        reserve(session, firm, locker_id, size="S", parcel_ref=ref, allow_larger=False, ttl_s=600)


def test_search_cache_sees_a_booking_from_a_host_whose_clock_runs_behind(db, lockers, auth,
                                                                         monkeypatch):
    """Free counts were re-read for lockers stamped after the last refresh, less 5 s: a booking
    stamped by a host 10 s behind fell before the window and the public count stayed 2 free
    of 2 until that locker changed again. Every `SWEEP_S` the cache now compares each
    locker's stamp with the one it last read."""
    index = LockerIndex(db.engine, max_age_s=3600)  # cached mode, refreshed by hand here
    index._refresh()
    assert _free_s(index, lockers[0]) == 2
    behind = datetime.now(UTC) - timedelta(seconds=10)
    monkeypatch.setattr("api.booking.utcnow", lambda: behind)
    _hold(db, lockers[0], "P-late")
    index._swept -= index.SWEEP_S  # as if that long had passed
    index._refresh()
    assert _free_s(index, lockers[0]) == 1


def test_search_cache_sees_a_booking_that_commits_long_after_a_refresh(db, lockers, auth,
                                                                      monkeypatch):
    """A booking made before a refresh and committed 10 s later (a wait on a row lock): the
    next sweep reloads its locker's count."""
    if db.is_sqlite:
        pytest.skip("SQLite serialises write transactions: a booking cannot wait on one")
    index = LockerIndex(db.engine, max_age_s=3600)
    index._refresh()
    later = datetime.now(UTC) + timedelta(seconds=10)
    with db.write_sessions() as slow, slow.begin():
        firm = slow.scalar(select(Firm))
        reserve(slow, firm, lockers[1], size="S", parcel_ref="P-slow", allow_larger=False,
                ttl_s=600)
        slow.flush()
        monkeypatch.setattr("api.search.utcnow", lambda: later)
        index._refresh()  # 10 s on, and the booking not committed yet
    index._swept -= index.SWEEP_S
    index._refresh()
    assert _free_s(index, lockers[1]) == 1

# --- #9: open data's days in the platform's time zone ---------------------------------------


def test_open_data_counts_parcels_per_day_of_the_platforms_time_zone(client, db, lockers, auth):
    """Days were UTC's (a deposit at 07:30 in Qingdao counted for the day before) and the
    window began at this time of day 30 days ago (its first day counted in part)."""
    zone = ZoneInfo("Asia/Shanghai")  # the default GONGPEI_TIME_ZONE
    today = datetime.now(zone).date()
    first = today - timedelta(days=29)
    first_start = datetime.combine(first, clock(), zone)
    yesterday_morning = datetime.combine(today - timedelta(days=1), clock(7, 30), zone)
    ids = []
    for ref, size in (("morning", "S"), ("first-day", "S"), ("too-old", "M")):
        body = {"size": size, "parcel_ref": ref}
        made = client.post(f"/v1/lockers/{lockers[0]}/reservations", json=body, headers=auth["a"])
        ids.append(made.json()["id"])
        client.post(f"/v1/reservations/{ids[-1]}/deposit", headers=auth["a"])
    deposited = [yesterday_morning, first_start + timedelta(minutes=1), first_start]
    deposited[2] -= timedelta(minutes=1)
    with db.writing() as session:
        for reservation_id, at in zip(ids, deposited, strict=True):
            session.execute(
                update(Reservation).where(Reservation.id == reservation_id).values(deposited_at=at)
            )
    summary = client.get("/v1/open-data/summary").json()
    assert summary["parcels_by_area_day"] == [
        {"area": "Shinan", "day": str(first), "parcels": 1},
        {"area": "Shinan", "day": str(today - timedelta(days=1)), "parcels": 1},
    ]


def test_days_follow_the_time_zones_rules():
    """A day across a daylight-saving change begins at its own midnight (23 hours long)."""
    days = local_days(ZoneInfo("Europe/Berlin"), datetime(2026, 3, 30, 12, tzinfo=UTC))
    assert len(days) == 30 and str(days[-1][0]) == "2026-03-30"
    assert [start.isoformat() for _, start in days[-3:]] == [
        "2026-03-27T23:00:00+00:00",
        "2026-03-28T23:00:00+00:00",
        "2026-03-29T22:00:00+00:00",
    ]


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("GONGPEI_PUBLIC_RATE_PER_S", "abc", "'abc' is not a number"),
        ("GONGPEI_RESERVATION_TTL_S", "30min", "'30min' is not a number"),
        ("GONGPEI_RESERVATION_TTL_S", "0", "0 must be a finite number, at least 1"),
        ("GONGPEI_SEARCH_CACHE_S", "nan", "nan must be a finite number, at least 0"),
        ("GONGPEI_MAX_BODY_BYTES", "inf", "inf must be a finite number, at least 1"),
        ("GONGPEI_MAX_ACTIVE_JOBS", "1.5", "1.5 must be a whole number"),
        ("GONGPEI_MAX_BODY_BYTES", "1000.5", "1000.5 must be a whole number"),
        ("GONGPEI_TIME_ZONE", "Mars/Base",
         "'Mars/Base' is not a time zone (an IANA name such as Asia/Shanghai)"),
    ],
)
def test_a_bad_setting_stops_every_command_with_one_line_naming_it(
    tmp_path, monkeypatch, name, value, said
):
    """A bad `GONGPEI_*` value printed a 50-79 line traceback (exit 1), and a number's did not
    even name the variable. The CLI and a job worker now stop with one line (exit 2)."""
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["admin", "create-firm", "firm-x", "--role", "firm"])
    assert isinstance(result.exception, SettingsError)
    assert str(result.exception) == f"{name}: {said}"
    worker = subprocess.run(
        [sys.executable, "-m", "api.jobs.worker"], capture_output=True, text=True, timeout=60,
        env={**os.environ, name: value, "GONGPEI_DATA_DIR": str(tmp_path)},
    )
    assert (worker.returncode, worker.stderr) == (2, f"error: {name}: {said}\n")


def test_an_unknown_time_zone_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("GONGPEI_TIME_ZONE", "Asia/Qingdao")
    with pytest.raises(SettingsError, match="GONGPEI_TIME_ZONE: 'Asia/Qingdao' is not a time zone"):
        Settings()
