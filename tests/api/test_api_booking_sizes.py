"""Reserving a size a locker has no doors of says so, rather than "no free compartment"."""


def test_reserving_a_size_the_locker_has_no_doors_of_says_so(client, auth, lockers):
    body = {"size": "L", "parcel_ref": "SF9"}
    r = client.post(f"/v1/lockers/{lockers[2]}/reservations", json=body, headers=auth["a"])
    assert r.status_code == 409
    assert r.json()["detail"] == (
        f"locker {lockers[2]} has no compartment of size L at all (its sizes: S, M)"
    )
    r = client.post(f"/v1/lockers/{lockers[0]}/reservations", json=body, headers=auth["a"])
    assert r.status_code == 201
    again = {"size": "L", "parcel_ref": "SF10"}
    r = client.post(f"/v1/lockers/{lockers[0]}/reservations", json=again, headers=auth["a"])
    assert r.status_code == 409
    assert r.json()["detail"] == f"locker {lockers[0]}: no free compartment of size L"
