"""The locker registry as open data (`GET /v1/open-data/lockers`, whole at `.../lockers.geojson`)
under a licence every answer names. The nearby search (radius at most 50 km) was the only list
of lockers: a civic developer needed a grid of searches for a city, and no answer nor the
OpenAPI document said under what terms the data could be reused."""

from __future__ import annotations

import re

import pytest
from starlette.middleware.gzip import GZipResponder

from api.lockers import create_locker
from api.paging import encode_cursor

REGISTRY = "/v1/open-data/lockers"
WHOLE = "/v1/open-data/lockers.geojson"
CC_BY = {
    "name": "Creative Commons Attribution 4.0 International",
    "identifier": "CC-BY-4.0",
    "url": "https://creativecommons.org/licenses/by/4.0/",
}
PUBLIC_FIELDS = ["id", "name", "operator", "lat", "lon", "address", "area", "opening_hours",
                 "total"]  # fmt: skip


def _walk(client, **params) -> tuple[list[dict], int]:
    """Every page of the registry from the first: the pages' bodies, and how many."""
    pages, cursor = [], None
    while True:
        r = client.get(REGISTRY, params=params | ({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        pages.append(r.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return pages, len(pages)


def test_the_registry_pages_every_locker_once_by_id(client, lockers):
    pages, count = _walk(client, limit=2)
    assert count == 3
    items = [item for page in pages for item in page["items"]]
    assert [item["id"] for item in items] == lockers
    assert all(list(item) == PUBLIC_FIELDS for item in items)  # no free doors, no operator ref
    assert items[0] | {"id": 0} == {
        "id": 0, "name": "Locker 0", "operator": "Campus Post", "lat": 36.067, "lon": 120.383,
        "address": "", "area": "Shinan", "opening_hours": "24/7",
        "total": {"S": 2, "M": 2, "L": 1},
    }  # fmt: skip
    assert items[2]["total"] == {"S": 2, "M": 2, "L": 0}
    whole = client.get(REGISTRY).json()  # 100 a page unless asked
    assert whole["items"] == items and whole["next_cursor"] is None


def test_lockers_anywhere_are_listed_without_their_operators_reference(client, db, lockers):
    """What the search cannot give in one answer: a locker 1,400 km from the others."""
    with db.writing() as session:
        far = create_locker(
            session, name="赫尔辛基", lat=60.17, lon=24.94, compartments={"M": 3},
            external_ref="OP-SECRET-7",
        ).id  # fmt: skip
    items = client.get(REGISTRY).json()["items"]
    assert [item["id"] for item in items] == [*lockers, far]
    assert items[-1]["name"] == "赫尔辛基" and "OP-SECRET-7" not in client.get(REGISTRY).text


def test_the_geojson_pages_hold_the_json_items(client, lockers):
    json_pages, _ = _walk(client, limit=3)
    geo_pages, count = _walk(client, limit=3, format="geojson")
    assert count == 2
    for as_json, geo in zip(json_pages, geo_pages, strict=True):
        assert geo["type"] == "FeatureCollection" and geo["licence"] == CC_BY
        assert geo["next_cursor"] == as_json["next_cursor"]
        assert [f["properties"] for f in geo["features"]] == as_json["items"]
        for feature in geo["features"]:
            item = feature["properties"]
            assert feature["id"] == item["id"]
            assert feature["geometry"] == {"type": "Point", "coordinates": [item["lon"],
                                                                             item["lat"]]}
    r = client.get(REGISTRY, params={"format": "geojson"})
    assert r.headers["Content-Type"] == "application/geo+json"


def test_the_whole_registry_is_one_file_revalidated_until_a_locker_changes(
    client, db, lockers, auth
):
    first = client.get(WHOLE)
    assert first.status_code == 200 and first.headers["Content-Type"] == "application/geo+json"
    assert first.headers["Cache-Control"] == "public, max-age=60"
    body = first.json()
    paged = client.get(REGISTRY, params={"format": "geojson"}).json()
    assert body == paged  # the whole registry is its one, last page
    tag = first.headers["ETag"]
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', tag)
    again = client.get(WHOLE, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    changed = client.patch(
        f"/v1/lockers/{lockers[1]}", json={"opening_hours": "07:00-22:00"}, headers=auth["admin"]
    )
    assert changed.status_code == 200, changed.text
    fresh = client.get(WHOLE, headers={"If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != tag
    assert fresh.json()["features"][1]["properties"]["opening_hours"] == "07:00-22:00"


def test_the_whole_file_is_compressed_once_not_per_request(client, db, monkeypatch):
    """The app's GZipMiddleware compressed the file again for every client (150 ms of CPU at
    10,000 lockers): it is kept compressed, as written, until a locker changes."""
    with db.writing() as session:
        for i in range(60):  # past the size the middleware compresses from
            create_locker(session, name=f"快递柜 {i}", lat=36 + i / 1000, lon=120.4,
                          compartments={"S": 4})  # fmt: skip
    compressed: list[int] = []
    compress = GZipResponder.apply_compression

    async def counted(self, body: bytes, *, more_body: bool) -> bytes:
        compressed.append(len(body))
        return await compress(self, body, more_body=more_body)

    monkeypatch.setattr(GZipResponder, "apply_compression", counted)
    plain = client.get(WHOLE, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and len(plain.content) > 8192
    for _ in range(2):
        packed = client.get(WHOLE, headers={"Accept-Encoding": "gzip, deflate"})
        assert packed.headers["Content-Encoding"] == "gzip"
        assert packed.content == plain.content  # decoded by the client
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert packed.headers["ETag"] == plain.headers["ETag"]
    assert compressed == []
    client.get(REGISTRY, headers={"Accept-Encoding": "gzip"})  # a page is left to it
    assert len(compressed) == 1


def test_a_page_is_revalidated_by_its_etag(client, lockers):
    first = client.get(REGISTRY, params={"limit": 2})
    assert first.headers["Cache-Control"] == "public, max-age=60"
    again = client.get(REGISTRY, params={"limit": 2}, headers={"If-None-Match": first.headers[
        "ETag"]})  # fmt: skip
    assert again.status_code == 304 and again.content == b""


def test_no_lockers_is_an_empty_registry(client):
    assert client.get(REGISTRY).json() == {"items": [], "next_cursor": None, "licence": CC_BY}
    whole = client.get(WHOLE).json()
    assert whole["features"] == [] and whole["next_cursor"] is None


def _problems(r) -> list[tuple[list, str]]:
    assert r.status_code == 422, r.text
    return [(p["loc"], p["msg"]) for p in r.json()["detail"]]


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"cursor": "junk"}, ["query", "cursor"]),
        ({"cursor": encode_cursor(["12"])}, ["query", "cursor"]),  # not a whole number
        ({"cursor": encode_cursor([True])}, ["query", "cursor"]),
        ({"cursor": encode_cursor([1, 2])}, ["query", "cursor"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 1001}, ["query", "limit"]),
        ({"format": "csv"}, ["query", "format"]),
        ({"limt": 5}, ["query", "limt"]),
    ],
)
def test_bad_parameters_are_refused_by_name(client, lockers, params, where):
    assert [loc for loc, _ in _problems(client.get(REGISTRY, params=params))] == [where]


def test_a_cursor_past_every_id_is_an_empty_last_page(client, lockers):
    r = client.get(REGISTRY, params={"cursor": encode_cursor([10**30])})
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["next_cursor"] is None


def test_every_open_data_answer_names_its_licence(client, lockers):
    link = '<https://creativecommons.org/licenses/by/4.0/>; rel="license"'
    for path in (REGISTRY, WHOLE, "/v1/open-data/summary"):
        r = client.get(path, headers={"Origin": "https://civic.example"})
        assert r.status_code == 200, (path, r.text)
        assert r.headers["Link"] == link, path
        # a web page may read it, as it reads the ETag
        assert "link" in r.headers["Access-Control-Expose-Headers"].lower(), path
    assert client.get(REGISTRY).json()["licence"] == CC_BY
    assert client.get(WHOLE).json()["licence"] == CC_BY
    info = client.get("/openapi.json").json()["info"]
    assert info["license"] == {"name": CC_BY["name"], "url": CC_BY["url"]}


def test_the_licence_is_the_platforms_choice(make_client, lockers):
    from api.licence import licence_named

    client = make_client(data_licence=licence_named("odbl-1.0"))
    odbl = "https://opendatacommons.org/licenses/odbl/1-0/"
    assert client.get(REGISTRY).json()["licence"] == {
        "name": "Open Data Commons Open Database License v1.0", "identifier": "ODbL-1.0",
        "url": odbl,
    }  # fmt: skip
    assert client.get(WHOLE).headers["Link"] == f'<{odbl}>; rel="license"'
    assert client.get("/openapi.json").json()["info"]["license"]["url"] == odbl
    own = licence_named("青岛公共数据开放 terms <https://data.qingdao.gov.cn/terms>")
    client = make_client(data_licence=own)
    assert client.get(REGISTRY).json()["licence"] == {
        "name": "青岛公共数据开放 terms", "identifier": None,
        "url": "https://data.qingdao.gov.cn/terms",
    }  # fmt: skip


@pytest.mark.parametrize("value", ["CC-BY", "MIT-ish", "Our terms <ftp://x>", "<https://x.y>"])
def test_a_licence_the_platform_cannot_name_stops_it_naming_the_variable(
    monkeypatch, database_url, value
):
    from api.settings import Settings, SettingsError

    monkeypatch.setenv("GONGPEI_DATA_LICENCE", value)
    with pytest.raises(SettingsError, match=r"^GONGPEI_DATA_LICENCE: .* CC-BY-4\.0, .*"):
        Settings(database_url=database_url)


def test_the_registry_is_rate_limited_as_every_public_answer(make_client, lockers):
    client = make_client(public_rate_per_s=1.0, public_burst=1.0)
    assert client.get(WHOLE).status_code == 200
    refused = client.get(REGISTRY)
    assert refused.status_code == 429 and "RateLimit-Policy" in refused.headers


def test_the_document_describes_both_forms_and_every_answer(make_client, lockers):
    client = make_client(public_rate_per_s=1000.0, public_burst=1000.0)
    doc = client.get("/openapi.json").json()
    page = doc["paths"][REGISTRY]["get"]
    ok = page["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/RegistryPage")
    geo = ok["content"]["application/geo+json"]["schema"]
    feature = geo["properties"]["features"]["items"]["properties"]["properties"]
    assert feature["$ref"].endswith("/RegisteredLocker")
    assert list(doc["components"]["schemas"]["RegisteredLocker"]["properties"]) == PUBLIC_FIELDS
    assert {"Link", "ETag", "Cache-Control"} <= set(ok["headers"])
    assert {p["name"] for p in page["parameters"]} == {"limit", "cursor", "format",
                                                       "if-none-match"}  # fmt: skip
    whole = doc["paths"][WHOLE]["get"]["responses"]
    assert list(whole["200"]["content"]) == ["application/geo+json"]
    tag = {"If-None-Match": client.get(WHOLE).headers["ETag"]}
    answers = [
        (REGISTRY, client.get(REGISTRY)),
        (REGISTRY, client.get(REGISTRY, params={"cursor": "junk"})),
        (WHOLE, client.get(WHOLE)),
        (WHOLE, client.get(WHOLE, headers=tag)),
    ]
    assert [r.status_code for _, r in answers] == [200, 422, 200, 304]
    for path, answer in answers:
        documented = doc["paths"][path]["get"]["responses"][str(answer.status_code)]
        required = [n for n, h in documented.get("headers", {}).items() if h.get("required")]
        assert all(name in answer.headers for name in required), (path, answer.status_code)
