"""`GET /v1/centres` pages as the locker search does (`limit`, `cursor`, `next_cursor`): it sent
every centre in one unbounded list, so a platform with many centres answered a public,
rate-limited request with all of them at once."""

from __future__ import annotations

import pytest


@pytest.fixture
def centres(client, auth) -> list[int]:
    ids = []
    for i in range(5):
        body = {"name": f"Centre {i}", "lat": 36.1 + i / 100, "lon": 120.4}
        r = client.post("/v1/centres", json=body, headers=auth["admin"])
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def test_centres_come_in_pages_by_id(client, centres):
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        r = client.get("/v1/centres", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {"items", "next_cursor"} and len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == centres and pages == 3
    whole = client.get("/v1/centres").json()  # 20 a page unless asked
    assert [c["id"] for c in whole["items"]] == centres and whole["next_cursor"] is None


def test_a_last_full_page_has_no_next_and_no_centres_is_an_empty_page(client, auth):
    assert client.get("/v1/centres").json() == {"items": [], "next_cursor": None}
    for i in range(2):
        body = {"name": f"Centre {i}", "lat": 36.1, "lon": 120.4 + i / 100}
        assert client.post("/v1/centres", json=body, headers=auth["admin"]).status_code == 201
    assert client.get("/v1/centres", params={"limit": 2}).json()["next_cursor"] is None


#: Not base64 JSON; ["a"]; [true]; [2**40], past a 32-bit id; [1, 2].
BAD_CURSORS = ["junk", "WyJhIl0", "W3RydWVd", "WzEwOTk1MTE2Mjc3NzZd", "WzEsIDJd"]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_a_cursor_not_issued_by_the_api_is_a_422_at_cursor(client, centres, cursor):
    r = client.get("/v1/centres", params={"cursor": cursor})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", "cursor"]


@pytest.mark.parametrize("limit", [0, 101, "x"])
def test_a_limit_out_of_range_is_a_422_at_limit(client, limit):
    r = client.get("/v1/centres", params={"limit": limit})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "limit"]


def test_the_document_shows_the_page_and_its_parameters(client):
    operation = client.get("/openapi.json").json()["paths"]["/v1/centres"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"limit", "cursor"}
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/CentrePage")
