"""The locker search's `limit`: up to 1,000 a page, as the open-data registry's. It was at
most 100, so /map asked for its 2,000 nearest lockers in 20 requests, one after another (each
needs the cursor of the one before), most of a load's time on a phone network and 20 of a
client's requests against the rate limit (benchmarks/map_page.py)."""

from __future__ import annotations

import pytest

NEAR = {"lat": 36.0670, "lon": 120.3830, "radius_m": 2000}


def test_a_page_of_1000_is_answered(client, lockers):
    r = client.get("/v1/lockers", params={**NEAR, "limit": 1000})
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == lockers


@pytest.mark.parametrize("limit", [0, 1001])
def test_a_limit_out_of_range_is_a_422_at_limit(client, limit):
    r = client.get("/v1/lockers", params={**NEAR, "limit": limit})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "limit"]


def test_the_document_shows_the_bounds(client):
    operation = client.get("/openapi.json").json()["paths"]["/v1/lockers"]["get"]
    (limit,) = (p for p in operation["parameters"] if p["name"] == "limit")
    assert limit["schema"]["minimum"] == 1 and limit["schema"]["maximum"] == 1000
    assert "1,000" in limit["description"]
