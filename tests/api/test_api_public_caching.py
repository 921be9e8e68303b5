"""The public answers a browser or proxy may keep, and the document against real answers.

A locker's detail and the open-data summary carried no Cache-Control and no ETag (only the
road layer did), so a dashboard polling them fetched the whole body every time; and the
OpenAPI document listed the rate limit's headers on a public 200 and 429 only, while the
304, 404, 422 and 503 that follow the count carry them too."""

from __future__ import annotations

import re

import pytest

from api.limits import RATE_LIMIT_HEADERS

ALLOWANCE = [name for name in RATE_LIMIT_HEADERS if name != "Retry-After"]


def _revalidates(client, path: str, *, max_age: int) -> str:
    """The answer at ``path`` carries an ETag and its age, and that tag sent back is a 304
    with the same validators and no body; the tag."""
    first = client.get(path)
    assert first.status_code == 200, first.text
    tag = first.headers["ETag"]
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', tag)
    assert first.headers["Cache-Control"] == f"public, max-age={max_age}"
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == tag
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    other = client.get(path, headers={"If-None-Match": 'W/"stale", "also-stale"'})
    assert other.status_code == 200 and other.json() == first.json()
    return tag


def test_a_lockers_detail_is_kept_as_long_as_the_search_and_revalidated(
    make_client, lockers, auth
):
    client = make_client(search_cache_s=2.5)
    path = f"/v1/lockers/{lockers[0]}"
    tag = _revalidates(client, path, max_age=3)  # rounded up, as the search's
    booked = client.post(
        f"{path}/reservations", json={"size": "L", "parcel_ref": "ETAG-1"}, headers=auth["a"]
    )
    assert booked.status_code == 201, booked.text
    changed = client.get(path, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.json()["free"]["L"] == 0
    assert changed.headers["ETag"] != tag
    # a keyed caller's copy is never kept, validators or not
    keyed = client.get(path, headers=auth["a"])
    assert keyed.status_code == 200 and keyed.headers["Cache-Control"] == "no-store"


def test_the_open_data_summary_is_kept_a_minute_and_revalidated(client, lockers, auth):
    tag = _revalidates(client, "/v1/open-data/summary", max_age=60)
    booked = client.post(
        f"/v1/lockers/{lockers[1]}/reservations",
        json={"size": "S", "parcel_ref": "ETAG-2"},
        headers=auth["a"],
    )
    assert booked.status_code == 201, booked.text
    changed = client.get("/v1/open-data/summary", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag


def _answers(client, lockers) -> list[tuple[str, str, object]]:
    """(path as documented, method, real answer) for each kind of answer of each public
    operation that a client can bring about."""
    detail = f"/v1/lockers/{lockers[0]}"
    tag = {"If-None-Match": client.get(detail).headers["ETag"]}
    summary_tag = {"If-None-Match": client.get("/v1/open-data/summary").headers["ETag"]}
    road_tag = {"If-None-Match": client.get("/map/network.geojson").headers["ETag"]}
    one = "/v1/lockers/{locker_id}"
    return [
        ("/v1/lockers", "get", client.get("/v1/lockers", params={"lat": 36.067, "lon": 120.38})),
        ("/v1/lockers", "get", client.get("/v1/lockers", params={"lat": 91, "lon": 0})),
        ("/v1/lockers", "get", client.get("/v1/lockers", params={"lat": 0, "lon": 0,
                                                                 "cursor": "junk"})),
        (one, "get", client.get(detail)),
        (one, "get", client.get(detail, headers=tag)),
        (one, "get", client.get("/v1/lockers/999999")),
        (one, "get", client.get("/v1/lockers/0")),
        ("/v1/open-data/summary", "get", client.get("/v1/open-data/summary")),
        ("/v1/open-data/summary", "get", client.get("/v1/open-data/summary",
                                                    headers=summary_tag)),
        ("/v1/centres", "get", client.get("/v1/centres")),
        ("/map", "get", client.get("/map")),
        ("/map/network.geojson", "get", client.get("/map/network.geojson")),
        ("/map/network.geojson", "get", client.get("/map/network.geojson", headers=road_tag)),
    ]


def test_every_public_answer_is_documented_with_the_headers_it_carries(make_client, lockers):
    client = make_client(public_rate_per_s=1000.0, public_burst=1000.0)
    paths = client.get("/openapi.json").json()["paths"]
    answers = _answers(client, lockers)
    client = make_client(public_rate_per_s=1.0, public_burst=1.0)
    client.get("/v1/open-data/summary")
    answers.append(("/v1/open-data/summary", "get", client.get("/v1/open-data/summary")))
    assert {r.status_code for *_, r in answers} == {200, 304, 404, 422, 429}
    for path, method, answer in answers:
        documented = paths[path][method]["responses"].get(str(answer.status_code))
        assert documented is not None, (path, answer.status_code)
        headers = documented.get("headers", {})
        sent = [name for name in ALLOWANCE if name in answer.headers]
        assert sent, (path, answer.status_code)  # the rate limit is on: it is said
        missing = [name for name in sent if name not in headers]
        assert not missing, (path, answer.status_code, missing)
        required = [name for name, header in headers.items() if header.get("required")]
        assert all(name in answer.headers for name in required), (path, answer.status_code)


@pytest.mark.parametrize("path", ["/v1/lockers/{locker_id}", "/v1/open-data/summary",
                                  "/map/network.geojson"])
def test_the_revalidated_answers_document_their_validators(client, path):
    operation = client.get("/openapi.json").json()["paths"][path]["get"]
    assert {"ETag", "Cache-Control"} <= set(operation["responses"]["200"]["headers"])
    assert {"ETag", "Cache-Control"} <= set(operation["responses"]["304"]["headers"])
    asked = {(p["in"], p["name"].lower()) for p in operation["parameters"]}
    assert ("header", "if-none-match") in asked
