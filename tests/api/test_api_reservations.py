"""Reservations: lifecycle, 409 when full, firm isolation (404), expiry sweeper, DB-level guards,
one active reservation per parcel, operator unlock/release of a locked-out parcel."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from alembic import command
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from typer.testing import CliRunner

from api import booking
from api.booking import release_expired
from api.cli.reservations_cmd import app as reservations_cli
from api.db.migrate import alembic_config, upgrade
from api.db.models import Compartment, Reservation, utcnow
from api.paging import encode_cursor
from api.security import authenticate

runner = CliRunner()


_parcels = itertools.count(1)


def _reserve(client, locker_id, headers, size="M", **extra):
    """Reserve for a new parcel (each call its own parcel_ref unless one is given)."""
    body = {"size": size, "parcel_ref": f"SF100-{next(_parcels)}", **extra}
    return client.post(f"/v1/lockers/{locker_id}/reservations", json=body, headers=headers)


def test_full_lifecycle_reserve_deposit_pickup(client, lockers, auth):
    r = _reserve(client, lockers[0], auth["a"])
    assert r.status_code == 201
    res = r.json()
    assert res["compartment"] == "M01" and res["size"] == "M" and res["state"] == "reserved"
    assert len(res["pickup_code"]) == 8 and res["pickup_code"].isdigit()
    assert res["expires_at"] > res["created_at"]
    rid = res["id"]
    assert (
        client.post(
            f"/v1/reservations/{rid}/pickup",
            json={"pickup_code": res["pickup_code"]},
            headers=auth["a"],
        ).status_code
        == 409
    )  # not deposited yet
    r = client.post(f"/v1/reservations/{rid}/deposit", headers=auth["a"])
    assert r.status_code == 200 and r.json()["state"] == "deposited"
    assert client.post(f"/v1/reservations/{rid}/deposit", headers=auth["a"]).status_code == 409
    assert client.delete(f"/v1/reservations/{rid}", headers=auth["a"]).status_code == 409
    wrong = "00000000" if res["pickup_code"] != "00000000" else "11111111"
    r = client.post(
        f"/v1/reservations/{rid}/pickup", json={"pickup_code": wrong}, headers=auth["a"]
    )
    assert r.status_code == 403
    r = client.post(
        f"/v1/reservations/{rid}/pickup",
        json={"pickup_code": res["pickup_code"]},
        headers=auth["a"],
    )
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


@pytest.mark.parametrize(
    "key",
    [
        ["0001-01-01T00:00:00+14:00", "x"],  # before year 1 in UTC: was a 500
        ["9999-12-31T23:59:59-14:00", "x"],  # after year 9999 in UTC: was a 500
        ["2026-01-01T00:00:00+00:00", "\x00"],  # PostgreSQL text holds no NUL: a 422 on no field
        ["2026-01-01T00:00:00+00:00", 7],
    ],
)
def test_a_forged_newest_first_cursor_is_a_422_on_cursor(client, auth, key):
    """Every newest-first list (a firm's reservations and pool runs, the locked-out parcels)
    refuses a cursor it did not issue before the query, even a well-formed one."""
    cursor = encode_cursor(key)
    for path, who in (
        ("/v1/reservations", "a"),
        ("/v1/pool-runs", "a"),
        ("/v1/reservations/locked", "admin"),
    ):
        r = client.get(path, params={"cursor": cursor}, headers=auth[who])
        assert r.status_code == 422, (path, r.text)
        assert r.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_a_bad_cursor_is_refused_without_the_python_error(client, auth, lockers):
    """The 422 quoted what failed in reading the cursor: "('utf-8' codec can't decode byte
    0xd3 ...)", "fromisoformat: argument must be str"; a search cursor's id of 1e400 was "a
    value cannot be stored"."""
    from api.search import Query

    refused = [{"loc": ["query", "cursor"], "type": "value_error",
                "msg": "not a cursor issued by this API"}]  # fmt: skip
    for cursor in ("0w", encode_cursor([1, "x"]), encode_cursor([["2026"], "x"])):
        for path, who in (
            ("/v1/reservations", "a"),
            ("/v1/pool-runs", "a"),
            ("/v1/reservations/locked", "admin"),
        ):
            r = client.get(path, params={"cursor": cursor}, headers=auth[who])
            assert (r.status_code, r.json()["detail"]) == (422, refused), (path, cursor)
    search = {"lat": 36.0, "lon": 120.0}
    fingerprint = Query(36.0, 120.0, 1000.0, None, False).fingerprint()  # the defaults
    huge_id = encode_cursor([fingerprint, 1.0, 1e400])  # read back as inf
    for cursor in ("0w", encode_cursor([fingerprint, 1.0, "x"]), huge_id):
        r = client.get("/v1/lockers", params={**search, "cursor": cursor})
        assert (r.status_code, r.json()["detail"]) == (422, refused), cursor


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


def _locked_out(client, locker_id, headers):
    """A deposited reservation after five wrong pickup codes."""
    res = _reserve(client, locker_id, headers).json()
    client.post(f"/v1/reservations/{res['id']}/deposit", headers=headers)
    wrong = "0" * 8 if res["pickup_code"] != "0" * 8 else "1" * 8
    for _ in range(5):
        client.post(
            f"/v1/reservations/{res['id']}/pickup", json={"pickup_code": wrong}, headers=headers
        )
    return res


def test_operator_unlocks_a_locked_out_parcel_and_the_right_code_works(client, lockers, auth):
    res = _locked_out(client, lockers[0], auth["a"])
    pickup = f"/v1/reservations/{res['id']}/pickup"
    r = client.post(pickup, json={"pickup_code": res["pickup_code"]}, headers=auth["a"])
    assert r.status_code == 423
    assert f"/v1/reservations/{res['id']}/unlock" in r.json()["detail"]
    assert f"/v1/reservations/{res['id']}/release" in r.json()["detail"]
    unlock = f"/v1/reservations/{res['id']}/unlock"
    assert client.post(unlock).status_code == 401
    assert client.post(unlock, headers=auth["a"]).status_code == 403  # not the firm's to undo
    r = client.post(unlock, headers=auth["admin"])
    assert r.status_code == 200
    body = r.json()
    assert body["state"] == "deposited" and body["failed_pickups"] == 0
    assert "pickup_code" not in body and res["pickup_code"] not in r.text
    r = client.post(pickup, json={"pickup_code": res["pickup_code"]}, headers=auth["a"])
    assert r.status_code == 200 and r.json()["state"] == "picked_up"
    assert client.get(f"/v1/lockers/{lockers[0]}").json()["free"]["M"] == 2
    assert client.post(unlock, headers=auth["admin"]).status_code == 409  # picked up already


def test_operator_lists_the_locked_out_parcels(client, lockers, auth):
    # an operator called by a locked-out recipient had no way to find the reservation
    locked = _locked_out(client, lockers[0], auth["a"])
    _reserve(client, lockers[0], auth["b"])  # a parcel that is not locked out
    url = "/v1/reservations/locked"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=auth["a"]).status_code == 403
    page = client.get(url, headers=auth["admin"]).json()
    assert [r["id"] for r in page["items"]] == [locked["id"]] and page["next_cursor"] is None
    (row,) = page["items"]
    assert row["failed_pickups"] == 5 and row["state"] == "deposited"
    assert "pickup_code" not in row and row["compartment"]
    client.post(f"/v1/reservations/{locked['id']}/unlock", headers=auth["admin"])
    assert client.get(url, headers=auth["admin"]).json()["items"] == []


def test_operator_releases_a_locked_out_parcel_freeing_its_compartment(client, lockers, auth):
    res = _locked_out(client, lockers[0], auth["a"])
    release = f"/v1/reservations/{res['id']}/release"
    assert client.post(release, headers=auth["b"]).status_code == 403
    r = client.post(release, headers=auth["admin"])
    assert r.status_code == 200 and r.json()["state"] == "picked_up"
    assert client.get(f"/v1/reservations/{res['id']}", headers=auth["a"]).json()["state"] == (
        "picked_up"
    )
    assert client.get(f"/v1/lockers/{lockers[0]}").json()["free"]["M"] == 2
    assert client.post(release, headers=auth["admin"]).status_code == 409
    held = _reserve(client, lockers[0], auth["a"]).json()["id"]
    r = client.post(f"/v1/reservations/{held}/release", headers=auth["admin"])
    assert r.status_code == 409 and "not deposited" in r.json()["detail"]  # nothing to hand over
    r = client.post(f"/v1/reservations/{'0' * 32}/unlock", headers=auth["admin"])
    assert r.status_code == 404


def test_operator_actions_are_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "unlock" in paths["/v1/reservations/{reservation_id}/pickup"]["post"]["description"]
    for action in ("unlock", "release"):
        op = paths[f"/v1/reservations/{{reservation_id}}/{action}"]["post"]
        assert "(admin)" in op["summary"]
        assert {"200", "401", "403", "404", "409"} <= set(op["responses"])
        schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/OperatorReservationOut")


def test_one_parcel_has_at_most_one_active_reservation(client, lockers, auth):
    first = _reserve(client, lockers[3], auth["a"], size="S", parcel_ref="SF123").json()
    for locker_id in (lockers[0], lockers[0], lockers[3]):
        r = _reserve(client, locker_id, auth["a"], size="S", parcel_ref="SF123")
        assert r.status_code == 409
        assert "SF123" in r.json()["detail"] and first["id"] in r.json()["detail"]
    assert client.get(f"/v1/lockers/{lockers[0]}").json()["free"]["S"] == 2
    assert client.get(f"/v1/lockers/{lockers[3]}").json()["free"]["S"] == 1
    # another firm's parcel numbers are its own
    assert _reserve(client, lockers[0], auth["b"], size="S", parcel_ref="SF123").status_code == 201
    client.post(f"/v1/reservations/{first['id']}/deposit", headers=auth["a"])
    r = _reserve(client, lockers[0], auth["a"], size="S", parcel_ref="SF123")
    assert r.status_code == 409 and "deposited" in r.json()["detail"]
    client.post(
        f"/v1/reservations/{first['id']}/pickup",
        json={"pickup_code": first["pickup_code"]},
        headers=auth["a"],
    )
    again = _reserve(client, lockers[0], auth["a"], size="S", parcel_ref="SF123")
    assert again.status_code == 201  # picked up: the reference may be used again
    client.delete(f"/v1/reservations/{again.json()['id']}", headers=auth["a"])
    assert _reserve(client, lockers[1], auth["a"], size="S", parcel_ref="SF123").status_code == 201


def test_an_overdue_hold_of_the_parcel_does_not_block_booking_it_again(client, db, lockers, auth):
    old = _reserve(client, lockers[0], auth["a"], size="L", parcel_ref="SF9").json()["id"]
    with db.writing() as session:
        session.execute(
            update(Reservation)
            .where(Reservation.id == old)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert _reserve(client, lockers[1], auth["a"], size="L", parcel_ref="SF9").status_code == 201
    with db.reading() as session:
        assert session.get(Reservation, old).state == "expired"
    assert client.get(f"/v1/lockers/{lockers[0]}").json()["free"]["L"] == 1


def test_database_refuses_two_active_reservations_of_one_parcel(db, lockers, auth, client):
    res = _reserve(client, lockers[0], auth["a"], size="L", parcel_ref="SF7").json()
    with pytest.raises(IntegrityError), db.writing() as session:
        original = session.get(Reservation, res["id"])
        compartment = session.scalars(
            select(Compartment.id).where(
                Compartment.locker_id == lockers[1], Compartment.size == "L"
            )
        ).one()
        session.add(
            Reservation(
                firm_id=original.firm_id,
                locker_id=lockers[1],
                compartment_id=compartment,
                size="L",
                parcel_ref="SF7",
                pickup_code="12345678",
                expires_at=utcnow() + timedelta(minutes=5),
            )
        )
        session.flush()


def test_a_request_that_loses_the_race_for_a_parcel_names_the_winner(
    client, lockers, auth, monkeypatch
):
    """The second of two concurrent requests passed the check before the first committed:
    the unique index refuses its row, and the 409 still names the reservation that won."""
    winner = _reserve(client, lockers[0], auth["a"], size="S", parcel_ref="RACE-1").json()
    checked = booking._holding
    calls = iter([None])
    monkeypatch.setattr(booking, "_holding", lambda *a: next(calls, None) or checked(*a))
    r = _reserve(client, lockers[1], auth["a"], size="S", parcel_ref="RACE-1")
    assert r.status_code == 409
    assert "RACE-1" in r.json()["detail"] and winner["id"] in r.json()["detail"]
    assert client.get(f"/v1/lockers/{lockers[1]}").json()["free"]["S"] == 2  # rolled back


def test_concurrent_reservations_of_one_parcel_hold_one_compartment(db, lockers, auth):
    with db.reading() as session:
        firm = authenticate(session, auth["a"]["X-API-Key"])
    start = threading.Barrier(6)

    def attempt(i: int) -> str:
        """A request's transaction: a refused one is rolled back, as in the router."""
        try:
            with db.writing() as session:
                start.wait()
                return booking.reserve(
                    session,
                    firm,
                    lockers[i % 5],
                    size="S",
                    parcel_ref="STORM-1",
                    allow_larger=False,
                    ttl_s=600,
                ).id
        except booking.BookingError as err:
            assert err.status == 409
            return str(err)

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    winners = [o for o in outcomes if "STORM-1" not in o]
    assert len(winners) == 1, outcomes
    assert all(winners[0] in o for o in outcomes)
    with db.reading() as session:
        held = session.scalars(select(Compartment).where(Compartment.status != "free")).all()
        active = session.scalars(
            select(Reservation.id).where(Reservation.state.in_(("reserved", "deposited")))
        ).all()
    assert len(held) == 1 and active == winners


@pytest.mark.slow
def test_concurrent_reservations_of_one_parcel_across_server_processes(
    db, lockers, auth, start_servers
):
    urls = start_servers(2, cli=False)

    def attempt(i: int) -> httpx.Response:
        return httpx.post(
            f"{urls[i % 2]}/v1/lockers/{lockers[i % 5]}/reservations",
            json={"size": "S", "parcel_ref": "STORM-2"},
            headers=auth["a"],
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(attempt, range(20)))
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 1 and codes.count(409) == 19, codes
    winner = next(r.json()["id"] for r in responses if r.status_code == 201)
    assert all(winner in r.json()["detail"] for r in responses if r.status_code == 409)
    with db.reading() as session:
        held = session.scalar(select(func.count()).where(Compartment.status != "free"))
    assert held == 1


def test_a_reservation_past_expires_at_reads_expired_before_any_sweep(client, db, lockers, auth):
    rid = _reserve(client, lockers[0], auth["a"]).json()["id"]
    kept = _reserve(client, lockers[1], auth["a"]).json()["id"]
    with db.writing() as session:
        session.execute(
            update(Reservation)
            .where(Reservation.id == rid)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert client.get(f"/v1/reservations/{rid}", headers=auth["a"]).json()["state"] == "expired"
    assert client.get(f"/v1/reservations/{kept}", headers=auth["a"]).json()["state"] == ("reserved")

    def listed(state):
        params = {"state": state}
        items = client.get("/v1/reservations", params=params, headers=auth["a"]).json()["items"]
        return [(r["id"], r["state"]) for r in items]

    assert listed("reserved") == [(kept, "reserved")]
    assert listed("expired") == [(rid, "expired")]
    r = client.post(
        f"/v1/reservations/{rid}/pickup", json={"pickup_code": "12345678"}, headers=auth["a"]
    )
    assert r.status_code == 409 and "expired" in r.json()["detail"]
    r = client.post(f"/v1/reservations/{rid}/deposit", headers=auth["a"])
    assert r.status_code == 409 and "expired" in r.json()["detail"]


def _held_twice(db, locker_id, firm_id, parcel_ref, states):
    """Reservations of one parcel, oldest first, as the old release could leave them."""
    ids, now = [], utcnow()
    with db.writing() as session:
        doors = session.scalars(
            select(Compartment).where(Compartment.locker_id == locker_id).order_by(Compartment.id)
        ).all()
        for age, (door, state) in enumerate(zip(doors, states, strict=False)):
            door.status = "occupied" if state == "deposited" else "reserved"
            reservation = Reservation(
                firm_id=firm_id,
                locker_id=locker_id,
                compartment_id=door.id,
                size=door.size,
                parcel_ref=parcel_ref,
                pickup_code="12345678",
                state=state,
                created_at=now + timedelta(seconds=age),
                expires_at=now + timedelta(minutes=30),
            )
            session.add(reservation)
            session.flush()
            ids.append(reservation.id)
    return ids


def _downgrade(db, revision):
    config = alembic_config(db.engine)
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def test_migration_0007_cancels_duplicate_holds_and_stops_on_double_deposits(db, lockers, auth):
    with db.reading() as session:
        firm_id = authenticate(session, auth["a"]["X-API-Key"]).id
    _downgrade(db, "0006")
    try:
        held = _held_twice(db, lockers[0], firm_id, "DUP-1", ["reserved", "deposited", "reserved"])
        newest = _held_twice(db, lockers[1], firm_id, "DUP-2", ["reserved", "reserved"])
        stuck = _held_twice(db, lockers[2], firm_id, "DUP-3", ["deposited", "deposited"])
        with pytest.raises(RuntimeError, match="gongpei reservations release") as err:
            upgrade(db.engine)
        assert all(i in str(err.value) for i in stuck) and "DUP-3" in str(err.value)
        with db.writing() as session:
            booking.release(session, stuck[0])
        upgrade(db.engine)
    except BaseException:
        with db.writing() as session:  # leave the shared schema at head for the next tests
            session.execute(delete(Reservation))
        upgrade(db.engine)
        raise
    with db.reading() as session:
        states = {r.id: r.state for r in session.scalars(select(Reservation))}
        busy = session.scalar(select(func.count()).where(Compartment.status != "free"))
    assert [states[i] for i in held] == ["cancelled", "deposited", "cancelled"]
    assert [states[i] for i in newest] == ["cancelled", "reserved"]
    assert [states[i] for i in stuck] == ["picked_up", "deposited"]
    assert busy == 3  # DUP-1's deposit, DUP-2's newest hold, DUP-3's second deposit


def test_cli_unlocks_and_releases_a_locked_out_parcel(db, database_url, lockers, auth, client):
    res = _locked_out(client, lockers[0], auth["a"])
    url = ["--database-url", database_url]
    result = runner.invoke(reservations_cli, ["unlock", res["id"], *url])
    assert result.exit_code == 0, result.output
    assert "deposited, 0 wrong pickup codes" in result.output
    result = runner.invoke(reservations_cli, ["release", res["id"], *url])
    assert result.exit_code == 0 and "picked_up" in result.output
    result = runner.invoke(reservations_cli, ["release", res["id"], *url])
    assert result.exit_code == 2 and "not deposited" in result.output
    assert client.get(f"/v1/lockers/{lockers[0]}").json()["free"]["M"] == 2


class _Deadlock(Exception):
    sqlstate = "40P01"  # what psycopg reports for PostgreSQL's deadlock victim


@pytest.mark.parametrize(
    ("failures", "cause", "calls", "status"),
    [(1, _Deadlock(), 2, 201), (9, _Deadlock(), 3, 503), (9, Exception("lost"), 1, 503)],
)
def test_a_booking_aborted_as_a_deadlock_victim_is_run_again(
    client, lockers, auth, monkeypatch, failures, cause, calls, status
):
    # two bookings that each expire an overdue hold at the other's locker may cross: PostgreSQL
    # aborts one, which was a 500; it is now run again, up to 3 times, and nothing else is;
    # what still fails is a 503 with Retry-After, as any database error a retry may mend
    real, made = booking.reserve, []

    def failing(*args, **kwargs):
        made.append(1)
        if len(made) <= failures:
            raise OperationalError("SELECT ... FOR UPDATE", {}, cause)
        return real(*args, **kwargs)

    monkeypatch.setattr(booking, "reserve", failing)
    body = {"size": "S", "parcel_ref": "VICTIM-1"}
    r = client.post(f"/v1/lockers/{lockers[0]}/reservations", json=body, headers=auth["a"])
    assert r.status_code == status
    if status == 503:
        assert r.headers["Retry-After"] == "5"
    assert len(made) == calls
