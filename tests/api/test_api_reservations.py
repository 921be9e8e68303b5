"""Reservations: lifecycle, 409 when full, firm isolation (404), expiry sweeper, DB-level guard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from api.booking import release_expired
from api.db.models import Compartment, Reservation, utcnow


def _reserve(client, locker_id, headers, size="M", **extra):
    body = {"size": size, "parcel_ref": "SF100", **extra}
    return client.post(f"/v1/lockers/{locker_id}/reservations", json=body, headers=headers)


def test_full_lifecycle_reserve_deposit_pickup(client, lockers, auth):
    r = _reserve(client, lockers[0], auth["a"])
    assert r.status_code == 201
    res = r.json()
    assert res["compartment"] == "M01" and res["size"] == "M" and res["state"] == "reserved"
    assert len(res["pickup_code"]) == 8 and res["pickup_code"].isdigit()
    assert res["expires_at"] > res["created_at"]
    rid = res["id"]
    assert client.post(f"/v1/reservations/{rid}/pickup", json={"pickup_code": res["pickup_code"]},
                       headers=auth["a"]).status_code == 409  # not deposited yet
    r = client.post(f"/v1/reservations/{rid}/deposit", headers=auth["a"])
    assert r.status_code == 200 and r.json()["state"] == "deposited"
    assert client.post(f"/v1/reservations/{rid}/deposit", headers=auth["a"]).status_code == 409
    assert client.delete(f"/v1/reservations/{rid}", headers=auth["a"]).status_code == 409
    wrong = "00000000" if res["pickup_code"] != "00000000" else "11111111"
    r = client.post(f"/v1/reservations/{rid}/pickup", json={"pickup_code": wrong},
                    headers=auth["a"])
    assert r.status_code == 403
    r = client.post(f"/v1/reservations/{rid}/pickup", json={"pickup_code": res["pickup_code"]},
                    headers=auth["a"])
    assert r.status_code == 200 and r.json()["state"] == "picked_up"
    assert client.get(f"/v1/lockers/{lockers[0]}").json()["free"]["M"] == 2


def test_409_when_no_compartment_of_size_and_allow_larger(client, lockers, auth):
    assert _reserve(client, lockers[0], auth["a"], size="L").status_code == 201
    r = _reserve(client, lockers[0], auth["a"], size="L")
    assert r.status_code == 409 and "size L" in r.json()["detail"]
    assert _reserve(client, lockers[0], auth["a"], size="S").json()["compartment"] == "S01"
    assert _reserve(client, lockers[0], auth["a"], size="S").json()["compartment"] == "S02"
    assert _reserve(client, lockers[0], auth["a"], size="S").status_code == 409
    r = _reserve(client, lockers[0], auth["a"], size="S", allow_larger=True)
    assert r.status_code == 201 and r.json()["size"] == "M"
    assert _reserve(client, 999999, auth["a"]).status_code == 404


def test_cancel_frees_the_compartment(client, lockers, auth):
    rid = _reserve(client, lockers[2], auth["a"], size="M").json()["id"]
    _reserve(client, lockers[2], auth["a"], size="M")
    assert _reserve(client, lockers[2], auth["a"], size="M").status_code == 409
    r = client.delete(f"/v1/reservations/{rid}", headers=auth["a"])
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert _reserve(client, lockers[2], auth["a"], size="M").json()["compartment"] == "M01"


def test_firm_isolation_other_firms_reservation_is_404(client, lockers, auth):
    res = _reserve(client, lockers[0], auth["a"]).json()
    rid = res["id"]
    assert client.get(f"/v1/reservations/{rid}", headers=auth["a"]).status_code == 200
    assert client.get(f"/v1/reservations/{rid}", headers=auth["b"]).status_code == 404
    for method, path, body in (
        ("post", f"/v1/reservations/{rid}/deposit", None),
        ("post", f"/v1/reservations/{rid}/pickup", {"pickup_code": res["pickup_code"]}),
        ("delete", f"/v1/reservations/{rid}", None),
    ):
        r = client.request(method, path, json=body, headers=auth["b"])
        assert r.status_code == 404, (method, path)
    assert client.get(f"/v1/reservations/{rid}", headers=auth["a"]).json()["state"] == "reserved"


def test_roles_and_keys_enforced(client, lockers, auth):
    assert _reserve(client, lockers[0], {}).status_code == 401
    assert _reserve(client, lockers[0], {"X-API-Key": "gp_not-a-key"}).status_code == 401
    assert _reserve(client, lockers[0], auth["planner"]).status_code == 403
    assert _reserve(client, lockers[0], auth["admin"]).status_code == 403


def test_sweeper_releases_expired_reservations(client, db, lockers, auth):
    rid = _reserve(client, lockers[0], auth["a"], size="L").json()["id"]
    kept = _reserve(client, lockers[1], auth["a"], size="L").json()["id"]
    with db.writing() as session:
        session.execute(
            update(Reservation)
            .where(Reservation.id == rid)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with db.writing() as session:
        assert release_expired(session) == 1
    body = client.get(f"/v1/reservations/{rid}", headers=auth["a"]).json()
    assert body["state"] == "expired"
    assert client.get(f"/v1/reservations/{kept}", headers=auth["a"]).json()["state"] == "reserved"
    assert client.get(f"/v1/lockers/{lockers[0]}").json()["free"]["L"] == 1
    assert client.post(f"/v1/reservations/{rid}/deposit", headers=auth["a"]).status_code == 409


def test_expired_reservation_is_released_on_next_booking_without_sweeper(
    make_client, lockers, auth
):
    client = make_client(reservation_ttl_s=0.0)
    first = _reserve(client, lockers[0], auth["a"], size="L").json()
    second = _reserve(client, lockers[0], auth["a"], size="L")
    assert second.status_code == 201 and second.json()["compartment"] == first["compartment"]
    assert client.get(f"/v1/reservations/{first['id']}", headers=auth["a"]).json()["state"] == (
        "expired"
    )


def test_database_refuses_two_active_reservations_of_one_compartment(db, lockers, auth, client):
    res = _reserve(client, lockers[0], auth["a"], size="L").json()
    with pytest.raises(IntegrityError), db.writing() as session:
        original = session.get(Reservation, res["id"])
        session.add(
            Reservation(
                firm_id=original.firm_id,
                locker_id=original.locker_id,
                compartment_id=original.compartment_id,
                size="L",
                parcel_ref="DOUBLE",
                pickup_code="12345678",
                expires_at=utcnow() + timedelta(minutes=5),
            )
        )
        session.flush()
    with db.reading() as session:
        statuses = session.scalars(
            select(Compartment.status).where(Compartment.locker_id == lockers[0])
        ).all()
    assert statuses.count("reserved") == 1


def test_firm_lists_only_its_reservations_with_cursor_paging(client, lockers, auth):
    mine = [_reserve(client, lockers[i % 5], auth["a"], size="S").json()["id"] for i in range(7)]
    _reserve(client, lockers[0], auth["b"], size="M")
    client.delete(f"/v1/reservations/{mine[0]}", headers=auth["a"])
    seen, cursor = [], None
    for _ in range(10):
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = client.get("/v1/reservations", params=params, headers=auth["a"]).json()
        seen += [r["id"] for r in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(mine) and len(seen) == 7
    cancelled = client.get("/v1/reservations", params={"state": "cancelled"}, headers=auth["a"])
    assert [r["id"] for r in cancelled.json()["items"]] == [mine[0]]
    assert len(client.get("/v1/reservations", headers=auth["b"]).json()["items"]) == 1
    r = client.get("/v1/reservations", params={"cursor": "bm9wZQ"}, headers=auth["a"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_pickup_code_refused_after_five_wrong_tries(client, lockers, auth):
    res = _reserve(client, lockers[0], auth["a"]).json()
    client.post(f"/v1/reservations/{res['id']}/deposit", headers=auth["a"])
    wrong = "0" * 8 if res["pickup_code"] != "0" * 8 else "1" * 8
    path = f"/v1/reservations/{res['id']}/pickup"
    codes = [
        client.post(path, json={"pickup_code": wrong}, headers=auth["a"]).status_code
        for _ in range(5)
    ]
    assert codes == [403] * 5
    r = client.post(path, json={"pickup_code": res["pickup_code"]}, headers=auth["a"])
    assert r.status_code == 423
    assert client.get(f"/v1/reservations/{res['id']}", headers=auth["a"]).json()["state"] == (
        "deposited"
    )


def test_pickup_codes_never_appear_on_public_endpoints(client, lockers, auth):
    codes = []
    for locker_id in lockers:
        res = _reserve(client, locker_id, auth["a"], size="S").json()
        client.post(f"/v1/reservations/{res['id']}/deposit", headers=auth["a"])
        codes.append(res["pickup_code"])
    public = [
        client.get("/v1/lockers", params={"lat": 36.067, "lon": 120.383, "radius_m": 5000}),
        *(client.get(f"/v1/lockers/{i}") for i in lockers),
        client.get("/v1/open-data/summary"),
        client.get("/v1/centres"),
        client.get("/map"),
    ]
    for response in public:
        assert response.status_code == 200
        assert not any(code in response.text for code in codes), response.url
        assert "SF100" not in response.text  # nor the firms' parcel references
