"""The API agreeing with itself and with the CLI (README audit, usability items 6, 8 and 13):
who lists pooling runs, siting and pooling inputs read as `gongpei site`/`pool` read them, a
reservation's deadline and pickup refusal, quiet schema checks, the tile URL setting."""

from __future__ import annotations

import copy
import logging

import pytest
from sqlalchemy import select

from api.db.engine import connect
from api.db.migrate import schema_problem
from api.db.models import Job
from api.jobs.worker import Worker
from api.schemas.jobs import SitingSubmit
from api.security import create_firm
from api.settings import Settings, SettingsError
from routing.siting.native import model_from_dict

DAY = {
    "name": "two towers",
    "travel": {"straight_line": True},
    "firms": [
        {"id": "sf", "depot": [36.0900, 120.4100], "fleet": [{"count": 1}]},
        {"id": "yto", "depot": [36.0950, 120.4050], "fleet": [{"count": 1}]},
    ],
    "centres": [{"id": "hub", "at": [36.0800, 120.3950], "fleet": [{"count": 2}]}],
    "parcels": [
        {"id": "sf-1", "firm": "sf", "at": [36.0662, 120.3800]},
        {"id": "yto-1", "firm": "yto", "at": [36.0661, 120.3803]},
    ],
}


def _pool(client, headers, name="two towers", **changes):
    day = {**copy.deepcopy(DAY), "name": name}
    r = client.post("/v1/pool-runs", json={"day": day, **changes}, headers=headers)
    assert r.status_code == 202, r.text
    return r.json()["id"]


# -- who lists pooling runs -----------------------------------------------------------------------


def test_a_planner_lists_the_pool_runs_it_posted(client, db, auth):
    """A planner's key was a 403 ("needs a key of role firm"): it had to keep every job id."""
    with db.writing() as session:
        _, other = create_firm(session, "other-planner", "planner")
    mine = [_pool(client, auth["planner"], name=f"day {k}") for k in range(3)]
    theirs = _pool(client, {"X-API-Key": other}, firms_on_platform={"sf": "firm-a"})
    admins = _pool(client, auth["admin"])
    page = client.get("/v1/pool-runs?limit=2", headers=auth["planner"])
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert [(r["id"], r["day"], r["firm"]) for r in items] == [
        (mine[2], "day 2", None),
        (mine[1], "day 1", None),
    ]
    rest = client.get(
        f"/v1/pool-runs?cursor={page.json()['next_cursor']}", headers=auth["planner"]
    ).json()
    assert [r["id"] for r in rest["items"]] == [mine[0]] and rest["next_cursor"] is None
    # each listed run is one the caller may read, and only those
    for job_id in mine:
        assert client.get(f"/v1/pool-runs/{job_id}", headers=auth["planner"]).status_code == 200
    listed = client.get("/v1/pool-runs", headers={"X-API-Key": other}).json()["items"]
    assert [r["id"] for r in listed] == [theirs]
    listed = client.get("/v1/pool-runs", headers=auth["admin"]).json()["items"]
    assert [r["id"] for r in listed] == [admins]
    # a firm's view is as before: the runs it takes part in, with its id in the day
    listed = client.get("/v1/pool-runs", headers=auth["a"]).json()["items"]
    assert [(r["id"], r["firm"]) for r in listed] == [(theirs, "sf")]
    assert client.get("/v1/pool-runs").status_code == 401
    doc = client.get("/openapi.json").json()["paths"]["/v1/pool-runs"]["get"]
    assert "planner" in doc["summary"] and "posted" in doc["description"]


# -- siting and pooling inputs as the CLI reads them ----------------------------------------------

#: The OpenAPI example's points, radius and distance, with a short limit (tests set the model).
_EXAMPLE = SitingSubmit.model_config["json_schema_extra"]["examples"][0]
SITING = {**{k: v for k, v in _EXAMPLE.items() if k != "model"}, "time_limit_s": 5}


def _stored_payload(db, job_id):
    with db.reading() as session:
        return session.scalar(select(Job.payload).where(Job.id == job_id))


def test_sizing_true_and_false_are_read_as_a_native_siting_file_reads_them(
    client, db, auth, settings
):
    """`"sizing": true` ran under `gongpei site` and was a 422 here ("Input should be a valid
    dictionary"), though the API takes "the same siting runs as gongpei site"."""
    for switch in (True, False):
        model = {"kind": "maxcover", "p": 1, "sizing": switch}
        r = client.post("/v1/siting-runs", json={**SITING, "model": model}, headers=auth["planner"])
        assert r.status_code == 202, r.text
        stored = _stored_payload(db, r.json()["id"])["model"]
        assert model_from_dict(stored) == model_from_dict(model)  # as the native file's model
    assert Worker(settings).run(max_jobs=2) == 2
    with db.reading() as session:
        statuses = session.scalars(select(Job.status).order_by(Job.created_at)).all()
    assert statuses == ["done", "done"]
    for wrong in ("true", 1):
        model = {"kind": "maxcover", "p": 1, "sizing": wrong}
        r = client.post("/v1/siting-runs", json={**SITING, "model": model}, headers=auth["planner"])
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "model", "sizing"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["SitingModelSpec"]
    assert {"type": "boolean"} in schema["properties"]["sizing"]["anyOf"]


def test_split_time_limit_zero_is_no_limit_as_in_the_cli(client, db, auth):
    """`--split-time-limit 0` is no limit; the API refused 0 and took only null."""
    for none in (0, 0.0, None):
        job_id = _pool(client, auth["planner"], split_time_limit_s=none)
        assert _stored_payload(db, job_id)["split_time_limit_s"] is None
    job_id = _pool(client, auth["planner"], split_time_limit_s=30)
    assert _stored_payload(db, job_id)["split_time_limit_s"] == 30
    r = client.post(
        "/v1/pool-runs", json={"day": DAY, "split_time_limit_s": -1}, headers=auth["planner"]
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "split_time_limit_s"]
    doc = client.get("/openapi.json").json()["components"]["schemas"]["PoolSubmit"]
    assert "0 or null: no limit" in doc["properties"]["split_time_limit_s"]["description"]


# -- reservations: the deadline shown and why a pickup is refused --------------------------------


def _reserve(client, locker_id, headers, ref):
    r = client.post(
        f"/v1/lockers/{locker_id}/reservations",
        json={"size": "M", "parcel_ref": ref},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_a_deposited_reservation_shows_no_expiry(client, lockers, auth):
    """A deposit never expires, yet it kept showing its booking's + 30 min."""
    held = _reserve(client, lockers[0], auth["a"], "SF-EXP-1")
    assert held["expires_at"] is not None  # a hold runs out
    rid = held["id"]
    r = client.post(f"/v1/reservations/{rid}/deposit", headers=auth["a"])
    assert r.json()["state"] == "deposited" and r.json()["expires_at"] is None
    assert client.get(f"/v1/reservations/{rid}", headers=auth["a"]).json()["expires_at"] is None
    listed = client.get("/v1/reservations?state=deposited", headers=auth["a"]).json()["items"]
    assert [(r["id"], r["expires_at"]) for r in listed] == [(rid, None)]
    code = {"pickup_code": held["pickup_code"]}
    r = client.post(f"/v1/reservations/{rid}/pickup", json=code, headers=auth["a"])
    assert r.json()["state"] == "picked_up" and r.json()["expires_at"] is None
    cancelled = _reserve(client, lockers[0], auth["a"], "SF-EXP-2")["id"]
    r = client.delete(f"/v1/reservations/{cancelled}", headers=auth["a"])
    assert r.json()["state"] == "cancelled" and r.json()["expires_at"] is None
    doc = client.get("/openapi.json").json()["components"]["schemas"]["ReservationOut"]
    assert "null once deposited" in doc["properties"]["expires_at"]["description"]


def test_pickup_before_deposit_says_the_parcel_is_not_deposited_yet(client, lockers, auth):
    """The OpenAPI example's pickup of a new reservation was 409 "reservation ... is
    reserved", which did not say why."""
    held = _reserve(client, lockers[0], auth["a"], "SF-PICK-1")
    code = {"pickup_code": held["pickup_code"]}
    r = client.post(f"/v1/reservations/{held['id']}/pickup", json=code, headers=auth["a"])
    assert r.status_code == 409
    assert r.json()["detail"] == (
        f"reservation {held['id']} is reserved, not deposited yet: its parcel is not in the "
        "compartment (deposit it first)"
    )
    client.delete(f"/v1/reservations/{held['id']}", headers=auth["a"])
    r = client.post(f"/v1/reservations/{held['id']}/pickup", json=code, headers=auth["a"])
    assert r.status_code == 409 and "cancelled before a parcel was put in" in r.json()["detail"]


# -- start-up: quiet schema checks, the tile URL --------------------------------------------------


def test_the_schema_check_logs_nothing_of_alembic(db, caplog):
    """A job worker logs at INFO, and its start-up schema check wrote alembic's "Context impl
    SQLiteImpl." and "Will assume non-transactional DDL." to `gongpei serve`'s stderr at
    --log-level warning, from a check that migrates nothing."""
    with caplog.at_level(logging.DEBUG), connect(db.engine) as connection:
        assert schema_problem(connection) is None
    assert [r.getMessage() for r in caplog.records if r.name.startswith("alembic")] == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://x", "'ftp://x' is not an http or https tile URL template"),
        ("tile.openstreetmap.org/{z}/{x}/{y}.png", "is not an http or https tile URL template"),
        ("https://tiles.example/{z}/{x}.png", "lacks {y}"),
        ("https://tiles.example/tile.png", "lacks {z}, {x}, {y}"),
    ],
)
def test_a_tile_url_the_map_cannot_use_is_refused_naming_the_variable(
    monkeypatch, tmp_path, url, expected
):
    monkeypatch.setenv("GONGPEI_TILE_URL", url)
    with pytest.raises(SettingsError) as refused:
        Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}")
    assert str(refused.value).startswith("GONGPEI_TILE_URL: ") and expected in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png",
        "http://127.0.0.1:8080/tms/{z}/{x}/{-y}.png",
        "/tiles/{z}/{x}/{y}.png",
    ],
)
def test_tile_urls_leaflet_reads_are_accepted(monkeypatch, tmp_path, url):
    monkeypatch.setenv("GONGPEI_TILE_URL", url)
    assert Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}").tile_url == url
