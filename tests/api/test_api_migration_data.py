"""Upgrading a database keeps every row, and foreign keys hold again once it is done.

On SQLite Alembic's batch mode rebuilds a table to change it (0005 rebuilds `jobs` for its
CHECK constraint): a copy is made and the old table dropped. A DROP TABLE deletes its rows
first, and with foreign keys on that delete cascades: every solution of every job was lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from alembic import command
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, delete, select, text
from sqlalchemy.exc import IntegrityError

from api.db.engine import Database
from api.db.migrate import alembic_config, upgrade
from api.db.models import Job, Solution

T0 = datetime(2025, 3, 1, 8, 0)


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


#: Rows for every table of every revision, a column left out where a revision lacks it.
ROWS: dict[str, list[dict]] = {
    "firms": [
        {"id": 1, "name": "firm-a", "role": "firm", "created_at": _at(0)},
        {"id": 2, "name": "firm-b", "role": "planner", "created_at": _at(1)},
    ],
    "api_keys": [
        {"id": 1, "firm_id": 1, "key_hash": "a" * 64, "prefix": "gp_aaaaaaaa",
         "created_at": _at(2), "revoked_at": None},
        {"id": 2, "firm_id": 2, "key_hash": "b" * 64, "prefix": "gp_bbbbbbbb",
         "created_at": _at(3), "revoked_at": _at(9)},
    ],
    "centres": [
        {"id": 1, "name": "Licang depot", "lat": 36.16, "lon": 120.42, "address": "1 Depot Rd",
         "capacity_parcels": 900, "created_at": _at(4), "updated_at": _at(5)},
    ],
    "vehicles": [
        {"id": 1, "firm_id": 1, "name": "Van 1", "name_key": "van 1", "profile": "van",
         "capacity_parcels": 120, "centre_id": 1, "shift": [28800, 64800], "fixed_cost": 50.0,
         "cost_per_km": 1.2, "cost_per_hour": 30.0, "created_at": _at(6)},
        {"id": 2, "firm_id": 2, "name": "Trike 1", "name_key": "trike 1", "profile": "e-tricycle",
         "capacity_parcels": 30, "centre_id": None, "shift": None, "fixed_cost": None,
         "cost_per_km": None, "cost_per_hour": None, "created_at": _at(7)},
    ],
    "lockers": [
        {"id": 1, "external_ref": "osm/1", "name": "Gate 1", "operator": "Campus Post",
         "lat": 36.067, "lon": 120.383, "address": "Gate 1", "area": "Shinan",
         "opening_hours": "24/7", "created_at": _at(8), "updated_at": _at(9),
         "availability_changed_at": _at(30)},
        {"id": 2, "external_ref": None, "name": "Gate 2", "operator": "Campus Post",
         "lat": 36.068, "lon": 120.384, "address": "Gate 2", "area": "Laoshan",
         "opening_hours": "07:00-22:00", "created_at": _at(10), "updated_at": _at(11),
         "availability_changed_at": None},
    ],
    "compartments": [
        {"id": i, "locker_id": locker, "label": f"{locker}-{size}", "size": size,
         "width_mm": 300, "height_mm": 100 * i, "depth_mm": 500, "status": status}
        for i, (locker, size, status) in enumerate(
            [(1, "S", "reserved"), (1, "M", "occupied"), (2, "L", "free")], start=1
        )
    ],
    "reservations": [
        {"id": "r" * 32, "firm_id": 1, "locker_id": 1, "compartment_id": 1, "size": "S",
         "parcel_ref": "P-1", "pickup_code": "123456", "state": "reserved",
         "created_at": _at(20), "expires_at": _at(50), "deposited_at": None,
         "closed_at": None, "failed_pickups": 0},
        {"id": "s" * 32, "firm_id": 1, "locker_id": 1, "compartment_id": 2, "size": "M",
         "parcel_ref": "P-2", "pickup_code": "654321", "state": "deposited",
         "created_at": _at(21), "expires_at": _at(51), "deposited_at": _at(25),
         "closed_at": None, "failed_pickups": 2},
        {"id": "t" * 32, "firm_id": 2, "locker_id": 2, "compartment_id": 3, "size": "L",
         "parcel_ref": "P-3", "pickup_code": "111111", "state": "picked_up",
         "created_at": _at(22), "expires_at": _at(52), "deposited_at": _at(26),
         "closed_at": _at(27), "failed_pickups": 0},
    ],
    "jobs": [
        {"id": "job-batch", "kind": "batch", "firm_id": 1, "status": "done",
         "payload": {"vehicles": [1], "jobs": [{"id": 1}]}, "progress": 1.0, "error": None,
         "attempts": 1, "worker_id": "host:1", "lease_expires_at": None,
         "created_at": _at(30), "started_at": _at(31), "finished_at": _at(32)},
        {"id": "job-siting", "kind": "siting", "firm_id": 2, "status": "done",
         "payload": {"k": 3}, "progress": 1.0, "error": None, "attempts": 2,
         "worker_id": None, "lease_expires_at": None, "created_at": _at(33),
         "started_at": _at(34), "finished_at": _at(35)},
        {"id": "job-failed", "kind": "batch", "firm_id": 1, "status": "failed",
         "payload": {}, "progress": 0.5, "error": "solver crashed", "attempts": 3,
         "worker_id": "host:2", "lease_expires_at": _at(40), "created_at": _at(36),
         "started_at": _at(37), "finished_at": _at(38)},
    ],
    "solutions": [
        {"job_id": "job-batch", "result": {"routes": [[0, 1, 0]], "cost": 42},
         "geojson": {"type": "FeatureCollection", "features": []}, "created_at": _at(32)},
        {"job_id": "job-siting", "result": {"sites": [1, 2]}, "geojson": None,
         "created_at": _at(35)},
    ],
    "pool_participants": [
        {"job_id": "job-batch", "firm_id": 1, "day_firm": "A"},
        {"job_id": "job-batch", "firm_id": 2, "day_firm": "B"},
    ],
    "lockers_version": [{"id": 1, "changes": 7}],
    "idempotency_keys": [
        {"firm_id": 1, "key": "8e03978e-40d5-43e8-bc93-6894a57f9324", "path": "/v1/batches",
         "fingerprint": "f" * 64, "token": "k" * 32, "job_id": "job-batch",
         "created_at": _at(30), "claimed_at": _at(30)},
        {"firm_id": 2, "key": "held", "path": "/v1/siting-runs", "fingerprint": "e" * 64,
         "token": "h" * 32, "job_id": None, "created_at": _at(33), "claimed_at": _at(33)},
    ],
}


def _tables(conn: Connection) -> MetaData:
    """The schema as the database has it (not the models'), `alembic_version` left out."""
    meta = MetaData()
    meta.reflect(conn)
    meta.remove(meta.tables["alembic_version"])
    return meta


def _fill(db: Database) -> None:
    """A row or more in every table the database has, each column of its revision filled."""
    with db.engine.begin() as conn:
        meta = _tables(conn)
        assert set(meta.tables) <= set(ROWS), "a table without test rows"
        for table in meta.sorted_tables:
            rows = [{k: v for k, v in row.items() if k in table.c} for row in ROWS[table.name]]
            conn.execute(table.insert(), rows)


def _snapshot(db: Database, columns: dict[str, list[str]] | None = None) -> dict[str, list]:
    """Every row of every table (of `columns`' tables and columns where given), in key order."""
    with db.engine.connect() as conn:
        meta = _tables(conn)
        columns = columns or {t.name: [c.name for c in t.c] for t in meta.sorted_tables}
        out = {}
        for name, names in columns.items():
            table = meta.tables[name]
            query = select(*(table.c[n] for n in names)).order_by(*table.primary_key.columns)
            out[name] = [dict(row._mapping) for row in conn.execute(query)]
        return out


def _columns(snapshot: dict[str, list]) -> dict[str, list[str]]:
    return {name: list(rows[0]) for name, rows in snapshot.items()}


def _revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _downgrade(db: Database, revision: str) -> None:
    config = alembic_config(db.engine)
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def _assert_foreign_keys_hold(db: Database) -> None:
    """Deleting a job cascades to its solution only; a solution of no job is refused."""
    with db.writing() as session:
        session.execute(delete(Job).where(Job.id == "job-batch"))
    with db.reading() as session:
        assert list(session.scalars(select(Solution.job_id))) == ["job-siting"]
    with pytest.raises(IntegrityError), db.writing() as session:
        session.add(Solution(job_id="no-such-job", result={}))


@pytest.mark.parametrize("start", ["0001", "0004", "0008", "0012", "0013"])
def test_upgrading_an_older_database_keeps_every_row(db, start):
    """An installation at `start` upgrading to the newest schema (both backends): every row
    of every table comes through with its data; SQLite lost all of `solutions` in 0005."""
    _downgrade(db, start)
    try:
        _fill(db)
        before = _snapshot(db)
        assert set(before) >= {"jobs", "solutions"} and all(before.values())
        upgrade(db.engine)
        assert _snapshot(db, _columns(before)) == before
        _assert_foreign_keys_hold(db)
    finally:
        upgrade(db.engine)  # leave the shared schema at head for the next tests


def test_a_database_made_at_0004_keeps_its_solutions_and_enforces_foreign_keys(tmp_path):
    """A SQLite file created by a release at 0004 and opened by this one: its solutions are
    kept, and the connection that migrated (the pool's only one) enforces foreign keys again
    afterwards: the pragma had to be switched off for the rebuild."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Database(url)
    upgrade(old.engine, "0004")
    _fill(old)
    before = _snapshot(old)
    old.dispose()
    db = Database(url)
    upgrade(db.engine)
    assert db.engine.pool.checkedin() == 1
    with db.reading() as session:
        assert session.scalar(text("PRAGMA foreign_keys")) == 1
    assert _snapshot(db, _columns(before)) == before
    _assert_foreign_keys_hold(db)
    db.dispose()


def test_an_upgrade_that_would_leave_dangling_references_is_rolled_back(tmp_path, monkeypatch):
    """Foreign keys are off while SQLite migrates, so nothing stops a migration from leaving a
    row pointing at nothing: such an upgrade is refused before it commits, naming the rows,
    and the database stays at its revision with its rows."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    upgrade(db.engine, "0004")
    _fill(db)
    before = _snapshot(db)
    real = command.upgrade

    def orphaning(config, revision):
        real(config, revision)
        config.attributes["connection"].exec_driver_sql(
            "INSERT INTO solutions (job_id, result, created_at) "
            "VALUES ('no-such-job', '{}', '2025-03-01 08:00:00')"
        )

    monkeypatch.setattr(command, "upgrade", orphaning)
    with pytest.raises(RuntimeError, match=r"solutions row \d+ refers to a missing jobs row"):
        upgrade(db.engine)
    assert _revision(db) == "0004"
    assert _snapshot(db) == before
    with db.reading() as session:
        assert session.scalar(text("PRAGMA foreign_keys")) == 1
    db.dispose()


def test_upgrading_a_current_database_keeps_every_row(db):
    """A database already at the newest schema: `upgrade` on start changes nothing, and
    foreign keys hold as before."""
    _fill(db)
    before = _snapshot(db)
    assert set(before) == set(ROWS)
    upgrade(db.engine)
    assert _snapshot(db) == before
    _assert_foreign_keys_hold(db)
