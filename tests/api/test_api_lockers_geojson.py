"""The locker search as GeoJSON (`format=geojson`): open-data users converted the JSON page
themselves. The same lockers, properties and paging as the JSON form, as an RFC 7946
FeatureCollection sent as `application/geo+json`, and documented in the OpenAPI document."""

from __future__ import annotations

import jsonschema_rs

NEAR = {"lat": 36.0670, "lon": 120.3830, "radius_m": 1000}


def test_the_page_is_a_feature_collection_of_the_json_items(client, lockers):
    as_json = client.get("/v1/lockers", params={**NEAR, "limit": 3})
    r = client.get("/v1/lockers", params={**NEAR, "limit": 3, "format": "geojson"})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/geo+json"
    assert r.headers["Cache-Control"] == as_json.headers["Cache-Control"]
    page, items = r.json(), as_json.json()["items"]
    assert page["type"] == "FeatureCollection"
    assert [f["properties"] for f in page["features"]] == items
    for feature, item in zip(page["features"], items, strict=True):
        assert feature["type"] == "Feature" and feature["id"] == item["id"]
        assert feature["geometry"] == {"type": "Point", "coordinates": [item["lon"], item["lat"]]}
    assert page["next_cursor"] == as_json.json()["next_cursor"] is not None


def test_geojson_pages_walk_every_locker_once(client, lockers):
    seen, cursor = [], None
    for _ in range(10):
        params = {**NEAR, "limit": 2, "format": "geojson"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/lockers", params=params).json()
        seen += [f["id"] for f in page["features"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == lockers


def test_an_empty_area_is_an_empty_collection(client, lockers):
    r = client.get("/v1/lockers", params={"lat": 0, "lon": 0, "format": "geojson"})
    assert r.json() == {"type": "FeatureCollection", "features": [], "next_cursor": None}


def test_the_json_form_is_the_default_and_unchanged(client, lockers):
    plain = client.get("/v1/lockers", params=NEAR)
    named = client.get("/v1/lockers", params={**NEAR, "format": "json"})
    assert plain.headers["Content-Type"] == named.headers["Content-Type"] == "application/json"
    assert plain.content == named.content
    assert list(plain.json()) == ["items", "next_cursor"]


def test_an_unknown_format_is_refused_by_name(client, lockers):
    r = client.get("/v1/lockers", params={**NEAR, "format": "kml"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "format"]


def test_the_openapi_document_describes_the_geojson_answer(client, lockers):
    doc = client.get("/openapi.json").json()
    search = doc["paths"]["/v1/lockers"]["get"]
    (param,) = [p for p in search["parameters"] if p["name"] == "format"]
    assert param["schema"]["enum"] == ["json", "geojson"]
    assert param["schema"]["default"] == "json" and "RFC 7946" in param["description"]
    ok = search["responses"]["200"]["content"]
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/LockerPage"}
    geo = ok["application/geo+json"]
    assert geo["example"]["next_cursor"] is None  # the null FastAPI drops, put back
    validator = jsonschema_rs.validator_for(
        {**geo["schema"], "components": doc["components"]}
    )
    validator.validate(geo["example"])
    validator.validate(client.get("/v1/lockers", params={**NEAR, "format": "geojson"}).json())
