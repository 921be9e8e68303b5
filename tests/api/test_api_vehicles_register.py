"""A firm's vehicle register: one vehicle per name (plate) and firm, and vehicles removed.

An audit posted `{"name": "Lu B-12345"}` twice and got two vehicles of one plate; there was
no way to take a vehicle off the register.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from api.db.migrate import alembic_config, upgrade
from api.db.models import Firm, Vehicle
from api.routers import vehicles as vehicles_router

VAN = {"name": "Lu B-12345", "profile": "van", "capacity_parcels": 180}


def _add(client, headers, **changes):
    return client.post("/v1/vehicles", json={**VAN, **changes}, headers=headers)


def _names(client, headers) -> list[str]:
    return [v["name"] for v in client.get("/v1/vehicles", headers=headers).json()]


def test_a_plate_registered_twice_is_a_409_naming_the_vehicle(client, auth):
    first = _add(client, auth["a"]).json()["id"]
    for name in ("Lu B-12345", "  Lu B-12345 "):  # surrounding spaces are not a new plate
        r = _add(client, auth["a"], name=name, capacity_parcels=90)
        assert r.status_code == 409, r.text
        assert f"vehicle {first}" in r.json()["detail"] and "Lu B-12345" in r.json()["detail"]
    r = _add(client, auth["a"], name="   ")  # was a vehicle of a blank name
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"]
    assert _names(client, auth["a"]) == ["Lu B-12345"]
    assert _add(client, auth["b"]).status_code == 201  # another firm's register is its own


def test_renaming_to_another_vehicles_plate_is_a_409(client, auth):
    first = _add(client, auth["a"]).json()["id"]
    second = _add(client, auth["a"], name="Lu B-67890").json()["id"]
    r = client.patch(f"/v1/vehicles/{second}", json={"name": "Lu B-12345"}, headers=auth["a"])
    assert r.status_code == 409 and f"vehicle {first}" in r.json()["detail"]
    r = client.patch(f"/v1/vehicles/{second}", json={"name": "Lu B-67890", "capacity_parcels": 5},
                     headers=auth["a"])
    assert r.status_code == 200 and r.json()["capacity_parcels"] == 5  # its own name is fine
    assert _names(client, auth["a"]) == ["Lu B-12345", "Lu B-67890"]


def test_a_twin_posted_concurrently_is_refused_by_the_database(client, auth, db, monkeypatch):
    """Two requests may both pass the check before either commits: the unique index refuses
    the second, still a 409 naming the first (the check is skipped to stage the race)."""
    first = _add(client, auth["a"]).json()["id"]
    with db.reading() as session:
        firm_id = session.scalar(select(Firm.id).where(Firm.name == "firm-a"))
    with pytest.raises(IntegrityError), db.writing() as session:
        session.add(Vehicle(firm_id=firm_id, name="Lu B-12345", capacity_parcels=1))
    monkeypatch.setattr(vehicles_router, "_check_name", lambda *args, **kwargs: None)
    r = _add(client, auth["a"])
    assert r.status_code == 409 and f"vehicle {first}" in r.json()["detail"]
    assert _names(client, auth["a"]) == ["Lu B-12345"]


def test_a_firm_deletes_its_own_vehicle_only(client, auth):
    vid = _add(client, auth["a"]).json()["id"]
    r = client.delete(f"/v1/vehicles/{vid}", headers=auth["b"])
    assert r.status_code == 404 and r.json()["detail"] == f"vehicle {vid} not found"
    assert _names(client, auth["a"]) == ["Lu B-12345"]
    r = client.delete(f"/v1/vehicles/{vid}", headers=auth["a"])
    assert r.status_code == 204 and r.content == b""
    assert _names(client, auth["a"]) == []
    assert client.delete(f"/v1/vehicles/{vid}", headers=auth["a"]).status_code == 404
    assert _add(client, auth["a"]).status_code == 201  # the plate is free again


def test_openapi_documents_the_conflict_and_the_delete(client):
    paths = client.get("/openapi.json").json()["paths"]
    delete = paths["/v1/vehicles/{vehicle_id}"]["delete"]
    assert delete["description"] and {"204", "404"} <= set(delete["responses"])
    for method, path in (("post", "/v1/vehicles"), ("patch", "/v1/vehicles/{vehicle_id}")):
        assert "409" in paths[path][method]["responses"], (method, path)
        assert "409" in paths[path][method]["description"], (method, path)


def test_upgrading_renames_later_twins_and_keeps_every_vehicle(db):
    """A register holding twins from before 0011 (both backends): the oldest keeps the name,
    each later twin becomes `<name> #<id>`, cut to the column's 100 characters."""
    config = alembic_config(db.engine)
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    try:
        long = "L" * 100
        rows = [(1, 1, "Van"), (2, 1, "Van"), (3, 2, "Van"), (4, 1, long), (5, 1, long),
                (6, 1, "Van")]  # fmt: skip
        with db.engine.begin() as conn:
            created = datetime(2025, 3, 1, tzinfo=UTC)
            conn.execute(insert(Firm), [
                {"id": i, "name": f"f{i}", "role": "firm", "created_at": created} for i in (1, 2)
            ])  # fmt: skip
            conn.exec_driver_sql(
                "INSERT INTO vehicles (id, firm_id, name, profile, capacity_parcels, created_at) "
                "VALUES " + ", ".join(
                    f"({i}, {firm}, '{name}', 'van', 10, '2025-03-01 08:00:00')"
                    for i, firm, name in rows
                )
            )
        upgrade(db.engine)
        with db.reading() as session:
            names = session.execute(select(Vehicle.id, Vehicle.name).order_by(Vehicle.id)).all()
        assert names == [(1, "Van"), (2, "Van #2"), (3, "Van"), (4, long),
                         (5, "L" * 97 + " #5"), (6, "Van #6")]  # fmt: skip
    finally:
        upgrade(db.engine)  # leave the shared schema at head for the next tests
