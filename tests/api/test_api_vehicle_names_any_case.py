"""A vehicle's name (its plate) is one name in any letter case or width (revision 0012).

An audit registered `van-1` and `VAN-1` as two vehicles of one firm: names were compared as
written. Plates are mostly written in capitals, and Chinese input methods type full-width
letters (`苏Ａ12345`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import IntegrityError

from api.db.migrate import alembic_config, upgrade
from api.db.models import Firm, Vehicle


def _add(client, headers, name: str):
    body = {"name": name, "profile": "van", "capacity_parcels": 10}
    return client.post("/v1/vehicles", json=body, headers=headers)


@pytest.mark.parametrize("twin", ["VAN-1", "Van-1", "ｖａｎ-１", " VAN-1 "])
def test_a_name_registered_in_another_case_is_a_409_naming_the_vehicle(client, auth, twin):
    first = _add(client, auth["a"], "van-1").json()["id"]
    r = _add(client, auth["a"], twin)
    assert r.status_code == 409, r.text
    assert r.json()["detail"] == (
        f"vehicle name {twin.strip()!r} is taken by vehicle {first} as 'van-1'"
    )
    assert _add(client, auth["b"], twin).status_code == 201  # another firm's register


def test_a_vehicle_may_change_the_case_of_its_own_name_only(client, auth):
    first = _add(client, auth["a"], "van-1").json()["id"]
    second = _add(client, auth["a"], "van-2").json()["id"]
    r = client.patch(f"/v1/vehicles/{second}", json={"name": "VAN-1"}, headers=auth["a"])
    assert r.status_code == 409 and f"vehicle {first} as 'van-1'" in r.json()["detail"]
    r = client.patch(f"/v1/vehicles/{first}", json={"name": "VAN-1"}, headers=auth["a"])
    assert r.status_code == 200 and r.json()["name"] == "VAN-1"


def test_the_index_refuses_a_twin_in_another_case(client, auth, db):
    """What a concurrent request that passed the check meets: the database's refusal."""
    _add(client, auth["a"], "van-1")
    with db.reading() as session:
        firm_id = session.scalar(select(Firm.id).where(Firm.name == "firm-a"))
    with pytest.raises(IntegrityError), db.writing() as session:
        session.add(Vehicle(firm_id=firm_id, name="VAN-1", capacity_parcels=1))


def test_a_name_that_spells_out_too_long_is_a_422(client, auth):
    r = _add(client, auth["a"], "\ufdfa" * 20)  # 20 characters, 360 once spelt out
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "name"]


def _at_0011(db, rows: list[tuple[int, int, str]]) -> None:
    """The schema at 0011 with two firms and these (id, firm, name) vehicles."""
    config = alembic_config(db.engine)
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0011")
    with db.engine.begin() as conn:
        created = datetime(2025, 3, 1, tzinfo=UTC)
        conn.execute(insert(Firm), [
            {"id": i, "name": f"f{i}", "role": "firm", "created_at": created} for i in (1, 2)
        ])  # fmt: skip
        for i, firm, name in rows:
            conn.exec_driver_sql(
                "INSERT INTO vehicles (id, firm_id, name, profile, capacity_parcels, created_at)"
                " VALUES (?, ?, ?, 'van', 10, '2025-03-01 08:00:00')"
                if db.engine.dialect.name == "sqlite" else
                "INSERT INTO vehicles (id, firm_id, name, profile, capacity_parcels, created_at)"
                " VALUES (%s, %s, %s, 'van', 10, '2025-03-01 08:00:00')",
                (i, firm, name),
            )  # fmt: skip


def test_upgrading_renames_later_twins_in_another_case_and_drops_the_firm_index(db):
    """Both backends: the oldest of each name keeps it, a later twin in another case or width
    becomes `<name> #<id>`; every vehicle is kept, and the firm's own index is gone."""
    try:
        _at_0011(db, [(1, 1, "van-1"), (2, 1, "VAN-1"), (3, 2, "Van-1"), (4, 1, "ｖａｎ-１"),
                      (5, 1, "van-2")])  # fmt: skip
        upgrade(db.engine)
        with db.reading() as session:
            rows = session.execute(
                select(Vehicle.id, Vehicle.name, Vehicle.name_key).order_by(Vehicle.id)
            ).all()
        assert rows == [(1, "van-1", "van-1"), (2, "VAN-1 #2", "van-1 #2"),
                        (3, "Van-1", "van-1"), (4, "ｖａｎ-１ #4", "van-1 #4"),
                        (5, "van-2", "van-2")]  # fmt: skip
        indexes = {i["name"]: i for i in inspect(db.engine).get_indexes("vehicles")}
        assert set(indexes) == {"uq_vehicles_firm_name_key"}
        assert indexes["uq_vehicles_firm_name_key"]["column_names"] == ["firm_id", "name_key"]
    finally:
        upgrade(db.engine)  # leave the shared schema at head for the next tests


def test_an_upgrade_with_no_free_name_for_a_twin_stops_and_keeps_the_database(db):
    """`VAN-1` would become `VAN-1 #2`, but `van-1 #2` is registered: the upgrade stops in
    one line naming both, and nothing changes."""
    try:
        _at_0011(db, [(1, 1, "van-1"), (2, 1, "VAN-1"), (3, 1, "van-1 #2")])
        with pytest.raises(RuntimeError, match=r"vehicle 2 of firm 1: 'VAN-1' .* 'VAN-1 #2'"):
            upgrade(db.engine)
        with db.engine.connect() as conn:
            names = conn.exec_driver_sql("SELECT name FROM vehicles ORDER BY id").scalars()
            assert list(names) == ["van-1", "VAN-1", "van-1 #2"]
    finally:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM vehicles")
        upgrade(db.engine)
