"""Public locker search and details, admin locker management, open data."""

from __future__ import annotations

import math
import time


def test_search_nearest_first_with_distance_and_free_counts(client, lockers):
    r = client.get("/v1/lockers", params={"lat": 36.0670, "lon": 120.3830, "radius_m": 1000})
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["id"] for i in items] == lockers
    distances = [i["distance_m"] for i in items]
    assert distances == sorted(distances)
    # 0.0011 deg of longitude at 36.067 N is about 98.9 m
    assert math.isclose(items[1]["distance_m"], 98.9, abs_tol=1.0)
    assert items[0]["free"] == {"S": 2, "M": 2, "L": 1}
    assert "pickup_code" not in r.text


def test_search_radius_excludes_far_lockers(client, lockers):
    r = client.get("/v1/lockers", params={"lat": 36.0670, "lon": 120.3830, "radius_m": 150})
    assert [i["id"] for i in r.json()["items"]] == lockers[:2]


def test_cursor_paging_walks_all_results_once(client, lockers):
    seen, cursor = [], None
    for _ in range(10):
        params = {"lat": 36.0670, "lon": 120.3830, "radius_m": 2000, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/v1/lockers", params=params).json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == lockers


def test_cursor_from_other_query_is_422_with_field_path(client, lockers):
    first = client.get("/v1/lockers", params={"lat": 36.067, "lon": 120.383, "limit": 1}).json()
    r = client.get(
        "/v1/lockers",
        params={"lat": 36.0, "lon": 120.0, "limit": 1, "cursor": first["next_cursor"]},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "cursor"]
    r = client.get("/v1/lockers", params={"lat": 36.0, "lon": 120.0, "cursor": "!!garbage"})
    assert r.status_code == 422


def test_size_filter_and_available_only(client, lockers, auth):
    params = {"lat": 36.0670, "lon": 120.3830, "radius_m": 1000, "size": "L"}
    ids = [i["id"] for i in client.get("/v1/lockers", params=params).json()["items"]]
    assert ids == [lockers[0], lockers[1], lockers[3], lockers[4]]  # locker 2 has no L doors
    r = client.post(
        f"/v1/lockers/{lockers[0]}/reservations",
        json={"size": "L", "parcel_ref": "P1"},
        headers=auth["a"],
    )
    assert r.status_code == 201
    params["available_only"] = "true"
    ids = [i["id"] for i in client.get("/v1/lockers", params=params).json()["items"]]
    assert ids == [lockers[1], lockers[3], lockers[4]]


def test_validation_errors_name_the_field(client):
    r = client.get("/v1/lockers", params={"lat": 95, "lon": 120})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "lat"]
    r = client.get("/v1/lockers", params={"lon": 120})
    assert r.json()["detail"][0]["loc"] == ["query", "lat"]


def test_locker_detail_hides_reservations(client, lockers, auth):
    client.post(
        f"/v1/lockers/{lockers[0]}/reservations",
        json={"size": "S", "parcel_ref": "SECRET-REF"},
        headers=auth["a"],
    )
    r = client.get(f"/v1/lockers/{lockers[0]}")
    assert r.status_code == 200
    body = r.json()
    assert body["free"] == {"S": 1, "M": 2, "L": 1}
    assert [c["available"] for c in body["compartments"] if c["size"] == "S"] == [False, True]
    assert "SECRET-REF" not in r.text and "pickup" not in r.text
    assert client.get("/v1/lockers/999999").status_code == 404


def test_admin_creates_and_updates_lockers_roles_enforced(client, auth):
    body = {"name": "Tower A lobby", "lat": 36.06, "lon": 120.38, "compartments": {"M": 3}}
    assert client.post("/v1/lockers", json=body).status_code == 401
    assert client.post("/v1/lockers", json=body, headers=auth["a"]).status_code == 403
    r = client.post("/v1/lockers", json=body, headers=auth["admin"])
    assert r.status_code == 201
    locker = r.json()
    assert locker["total"] == {"S": 0, "M": 3, "L": 0}
    r = client.patch(
        f"/v1/lockers/{locker['id']}",
        json={"opening_hours": "07:00-22:00", "add_compartments": {"L": 2}},
        headers=auth["admin"],
    )
    assert r.status_code == 200
    assert r.json()["total"] == {"S": 0, "M": 3, "L": 2}
    assert [c["label"] for c in r.json()["compartments"]] == ["M01", "M02", "M03", "L01", "L02"]
    found = client.get("/v1/lockers", params={"lat": 36.06, "lon": 120.38, "size": "L"}).json()
    assert [i["id"] for i in found["items"]] == [locker["id"]]
    bad = dict(body, compartments={"XL": 1})
    r = client.post("/v1/lockers", json=bad, headers=auth["admin"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][:2] == ["body", "compartments"]


def test_open_data_summary_has_no_firm_data(client, lockers, auth):
    r = client.post(
        f"/v1/lockers/{lockers[0]}/reservations",
        json={"size": "S", "parcel_ref": "PRIVATE-1"},
        headers=auth["a"],
    )
    client.post(f"/v1/reservations/{r.json()['id']}/deposit", headers=auth["a"])
    summary = client.get("/v1/open-data/summary").json()
    assert summary["lockers"] == 5
    assert summary["compartments"] == {"S": 10, "M": 10, "L": 4}
    assert summary["free"]["S"] == 9
    assert math.isclose(summary["utilisation"], 1 / 24, abs_tol=1e-3)
    assert [(d["area"], d["parcels"]) for d in summary["parcels_by_area_day"]] == [("Shinan", 1)]
    text = str(summary)
    assert "PRIVATE" not in text and "firm-a" not in text


def test_cached_search_catches_up_with_reservations(make_client, lockers, auth):
    client = make_client(search_cache_s=0.2)
    params = {"lat": 36.0670, "lon": 120.3830, "radius_m": 50}
    assert client.get("/v1/lockers", params=params).json()["items"][0]["free"]["L"] == 1
    r = client.post(
        f"/v1/lockers/{lockers[0]}/reservations",
        json={"size": "L", "parcel_ref": "C1"},
        headers=auth["a"],
    )
    rid = r.json()["id"]
    deadline = time.monotonic() + 5
    while client.get("/v1/lockers", params=params).json()["items"][0]["free"]["L"] != 0:
        assert time.monotonic() < deadline, "cached availability never caught up"
        time.sleep(0.1)
    client.delete(f"/v1/reservations/{rid}", headers=auth["a"])
    while client.get("/v1/lockers", params=params).json()["items"][0]["free"]["L"] != 1:
        assert time.monotonic() < deadline, "cached availability never caught up"
        time.sleep(0.1)


def _hold_overdue(db, reservation_id: str) -> None:
    """Make a hold overdue the way time does: `expires_at` passes, nothing else is written
    (no sweeper, no booking at the locker)."""
    from datetime import timedelta

    from sqlalchemy import update

    from api.db.models import Reservation, utcnow

    with db.writing() as session:
        session.execute(
            update(Reservation)
            .where(Reservation.id == reservation_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def test_a_door_of_an_overdue_hold_is_free_to_the_public(client, db, lockers, auth):
    """Before the sweeper runs, as `booking.effective_state` reads the hold as expired and
    the next booking at the locker takes the door: search, filters and detail agree."""
    reserve = {"size": "L", "parcel_ref": "LATE-1"}
    held = client.post(f"/v1/lockers/{lockers[0]}/reservations", json=reserve, headers=auth["a"])
    kept = client.post(
        f"/v1/lockers/{lockers[1]}/reservations",
        json=reserve | {"parcel_ref": "ON-TIME"},
        headers=auth["a"],
    )
    params = {"lat": 36.0670, "lon": 120.3830, "radius_m": 150, "size": "L", "available_only": True}
    assert [i["id"] for i in client.get("/v1/lockers", params=params).json()["items"]] == []
    _hold_overdue(db, held.json()["id"])

    items = client.get("/v1/lockers", params=params).json()["items"]
    assert [i["id"] for i in items] == [lockers[0]] and items[0]["free"]["L"] == 1
    detail = client.get(f"/v1/lockers/{lockers[0]}").json()
    assert detail["free"]["L"] == 1
    assert [c["available"] for c in detail["compartments"] if c["size"] == "L"] == [True]
    assert client.get(f"/v1/lockers/{lockers[1]}").json()["free"]["L"] == 0  # on time: held
    assert kept.status_code == 201
    # what the public saw is what a booking gets
    again = client.post(
        f"/v1/lockers/{lockers[0]}/reservations",
        json=reserve | {"parcel_ref": "NEXT"},
        headers=auth["b"],
    )
    assert again.status_code == 201 and again.json()["size"] == "L"
    assert client.get(f"/v1/lockers/{lockers[0]}").json()["free"]["L"] == 0


def test_open_data_counts_the_door_of_an_overdue_hold_free(client, db, lockers, auth):
    """The summary agrees with search and locker detail before the sweeper runs."""
    held = client.post(
        f"/v1/lockers/{lockers[0]}/reservations",
        json={"size": "L", "parcel_ref": "LATE-1"},
        headers=auth["a"],
    )
    assert client.get("/v1/open-data/summary").json()["free"]["L"] == 3
    _hold_overdue(db, held.json()["id"])

    summary = client.get("/v1/open-data/summary").json()
    assert client.get(f"/v1/lockers/{lockers[0]}").json()["free"]["L"] == 1
    assert summary["free"] == {"S": 10, "M": 10, "L": 4} and summary["utilisation"] == 0


def test_cached_search_frees_the_door_of_a_hold_falling_due(make_client, db, lockers, auth):
    """The cached index re-reads a locker when a hold there falls due, not only when a booking
    stamps it: nothing is written when time passes."""
    client = make_client(search_cache_s=0.2)
    params = {"lat": 36.0670, "lon": 120.3830, "radius_m": 50}
    r = client.post(
        f"/v1/lockers/{lockers[0]}/reservations",
        json={"size": "L", "parcel_ref": "C2"},
        headers=auth["a"],
    )
    deadline = time.monotonic() + 5
    while client.get("/v1/lockers", params=params).json()["items"][0]["free"]["L"] != 0:
        assert time.monotonic() < deadline, "cached availability never caught up"
        time.sleep(0.1)
    _hold_overdue(db, r.json()["id"])
    while client.get("/v1/lockers", params=params).json()["items"][0]["free"]["L"] != 1:
        assert time.monotonic() < deadline, "the overdue hold's door never showed free"
        time.sleep(0.1)
