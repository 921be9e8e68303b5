"""The public audit's standards gaps in the open API, each pinned: CORS for the public GETs and
not for keys (4); unknown and repeated query parameters refused by name (5); the search near a
pole (6); compression, ETag and caching (11); rate-limit headers on allowed answers (12); the
search's documented age (13); HEAD on every GET resource (14); the tiles' credit (16)."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import re
import uuid

import pytest

import api.routers.web
from api.limits import PublicLimit
from api.lockers import create_locker
from api.settings import Settings

ORIGIN = {"Origin": "https://app.example"}
NEAR = {"lat": 36.067, "lon": 120.383}


def _preflight(client, path: str, method: str = "GET", headers: str = ""):
    ask = {**ORIGIN, "Access-Control-Request-Method": method}
    if headers:
        ask["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=ask)


# -- 4: CORS -----------------------------------------------------------------------------------


def test_any_web_page_may_read_the_public_answers(client, lockers):
    """No Access-Control-Allow-Origin: a third-party web app's fetch was blocked by browsers."""
    for path in ("/v1/lockers", f"/v1/lockers/{lockers[0]}", "/v1/open-data/summary"):
        r = client.get(path, params=NEAR if path == "/v1/lockers" else None, headers=ORIGIN)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in r.headers


def test_a_preflight_for_a_get_is_answered_and_not_rate_limited(make_client):
    """The preflight was a 405; it must not spend the client's requests either."""
    client = make_client(public_rate_per_s=1.0, public_burst=1.0)
    for _ in range(3):
        r = _preflight(client, "/v1/lockers?lat=36.067&lon=120.383")
        assert r.status_code == 200, r.text
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert "GET" in r.headers["Access-Control-Allow-Methods"]
        assert "Access-Control-Allow-Credentials" not in r.headers
    assert client.get("/v1/lockers", params=NEAR).status_code == 200  # its one request left


def test_a_web_page_cannot_send_an_api_key_or_write(client):
    """Keys stay server-side: the preflight a keyed or writing call needs is refused."""
    assert _preflight(client, "/v1/reservations", headers="X-API-Key").status_code == 400
    for method in ("POST", "DELETE"):
        assert _preflight(client, "/v1/lockers", method).status_code == 400


# -- 5: query parameters refused by name ---------------------------------------------------------


def _problems(r) -> list[tuple[list, str]]:
    assert r.status_code == 422, r.text
    return [(p["loc"], p["msg"]) for p in r.json()["detail"]]


def test_a_misspelt_search_parameter_is_refused_with_the_name_meant(client, lockers):
    """`radius=100` searched 1,000 m and `sizes=L` every size, silently."""
    r = client.get("/v1/lockers", params={**NEAR, "radius": 100, "sizes": "L"})
    assert _problems(r) == [
        (["query", "radius"], "unknown parameter; did you mean 'radius_m'?"),
        (["query", "sizes"], "unknown parameter; did you mean 'size'?"),
    ]
    r = client.get("/v1/lockers", params={**NEAR, "_": "1700000000"})
    assert _problems(r) == [(["query", "_"], "unknown parameter")]


def test_a_parameter_given_twice_is_refused(client, lockers):
    """The last `lat` won (an empty list for lat=0)."""
    r = client.get("/v1/lockers?lat=36.067&lon=120.383&lat=0")
    assert _problems(r) == [(["query", "lat"], "given more than once")]


def test_every_endpoint_refuses_unknown_parameters(client, auth, lockers):
    r = client.get(f"/v1/lockers/{lockers[0]}", params={"verbose": 1})
    assert _problems(r) == [(["query", "verbose"], "unknown parameter")]
    r = client.get("/v1/reservations", params={"limt": 5}, headers=auth["a"])
    assert _problems(r) == [(["query", "limt"], "unknown parameter; did you mean 'limit'?")]
    r = client.get("/v1/reservations", params={"limit": 5}, headers=auth["a"])
    assert r.status_code == 200, r.text
    r = client.get("/v1/open-data/summary?x=1&x=2")
    assert _problems(r) == [(["query", "x"], "unknown parameter")]


def test_the_map_page_opens_whatever_a_shared_link_added(client):
    """A page, not an API: links shared on the web gain `utm_source`, `fbclid` and the like."""
    assert client.get("/map?utm_source=wechat&fbclid=x").status_code == 200


# -- 6: the search near a pole ------------------------------------------------------------------


@pytest.mark.parametrize("pole", [90.0, -90.0])
def test_the_search_finds_lockers_around_a_pole(client, db, pole):
    """Longitudes were prefiltered to about +-1 degree where the circle holds the pole."""
    sign = 1 if pole > 0 else -1
    with db.writing() as session:
        for lon in (0.0, 180.0):
            create_locker(session, name=f"Pole {lon}", lat=sign * 89.9995, lon=lon,
                          compartments={"S": 1})
    for lat, lon in ((pole, -137.0), (pole, 0.0), (sign * 89.999, 90.0)):
        r = client.get("/v1/lockers", params={"lat": lat, "lon": lon, "radius_m": 200})
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) == 2, (lat, lon, r.json())


def test_the_search_finds_lockers_near_a_pole_off_its_meridian(client, db):
    """Above 89.9 degrees the window was clamped there: 10 degrees, for a locker 20 away."""
    with db.writing() as session:
        create_locker(session, name="Near", lat=89.95, lon=20.0, compartments={"S": 1})
    r = client.get("/v1/lockers", params={"lat": 89.95, "lon": 0.0, "radius_m": 2000})
    assert [item["distance_m"] for item in r.json()["items"]] == [1930.9]


# -- 11: compression and caching -----------------------------------------------------------------


@pytest.fixture
def roads(monkeypatch):
    """A map of 2,000 streets, built without a graph."""
    features = [
        {"type": "Feature", "properties": {"highway": "residential"},
         "geometry": {"type": "LineString", "coordinates": [[120.38 + i / 1e5, 36.06],
                                                            [120.38 + i / 1e5, 36.07]]}}
        for i in range(2000)
    ]
    monkeypatch.setattr(
        api.routers.web, "network_geojson",
        lambda source: {"type": "FeatureCollection", "features": features},
    )


def test_the_road_layer_is_compressed_and_revalidated(make_client, roads):
    """257 kB sent again, uncompressed, on every page load."""
    client = make_client(map_network="demo")
    plain = client.get("/map/network.geojson", headers={"Accept-Encoding": "identity"})
    r = client.get("/map/network.geojson", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert int(r.headers["Content-Length"]) < len(plain.content) / 5
    assert r.json() == plain.json()
    tag = r.headers["ETag"]
    assert tag == plain.headers["ETag"] and tag.startswith('W/"')
    assert re.fullmatch(r"public, max-age=\d+", r.headers["Cache-Control"])
    again = client.get("/map/network.geojson", headers={"If-None-Match": f'"x", {tag}'})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == tag
    assert client.get("/map/network.geojson", headers={"If-None-Match": '"x"'}).status_code == 200


def test_the_map_page_is_compressed_after_its_policy_is_taken(client):
    """The policy hashes the page's script as sent: compression must come after it."""
    r = client.get("/map", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip"
    (script,) = re.findall("<script>(.*?)</script>", r.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in r.headers["Content-Security-Policy"]


def test_the_search_may_be_cached_as_long_as_its_counts_are_old(make_client, lockers):
    client = make_client(search_cache_s=1.0)
    r = client.get("/v1/lockers", params=NEAR)
    assert r.headers["Cache-Control"] == "public, max-age=1"
    assert gzip.decompress(gzip.compress(r.content)) == r.content


# -- 12: rate-limit headers ----------------------------------------------------------------------


def test_allowed_public_answers_say_how_many_requests_are_left(make_client, lockers):
    """A client could not pace itself: only the 429 said anything."""
    client = make_client(public_rate_per_s=20.0, public_burst=60.0)
    paths = ("/v1/lockers", f"/v1/lockers/{lockers[0]}", "/v1/open-data/summary", "/map")
    for n, path in enumerate(paths):
        r = client.get(path, params=NEAR if path == "/v1/lockers" else None, headers=ORIGIN)
        assert r.status_code == 200, r.text
        assert r.headers["RateLimit-Limit"] == "60"
        assert r.headers["RateLimit-Policy"] == "60;w=3"
        assert r.headers["RateLimit-Remaining"] == str(59 - n)
        assert 1 <= int(r.headers["RateLimit-Reset"]) <= 3
        exposed = r.headers["Access-Control-Expose-Headers"].lower()
        assert "ratelimit-remaining" in exposed and "retry-after" in exposed
    refused = make_client(public_rate_per_s=1.0, public_burst=1.0)
    refused.get("/v1/lockers", params=NEAR)
    r = refused.get("/v1/lockers", params=NEAR)
    assert r.status_code == 429 and r.headers["Retry-After"] == r.headers["RateLimit-Reset"]
    assert r.headers["RateLimit-Remaining"] == "0"
    assert "RateLimit-Limit" not in client.get("/v1/reservations").headers  # keyed: no limit


def test_counted_in_redis_an_allowed_answer_gives_the_policy_only():
    """The remaining count would cost a second round trip to Redis on every request."""
    limit = PublicLimit(20.0, 60.0, redis_url="redis://127.0.0.1:6379/0")
    allowance = asyncio.run(limit.take(f"test-{uuid.uuid4().hex}"))
    if allowance is None:  # the store is out of reach: the request went ahead unlimited
        pytest.skip("no Redis at 127.0.0.1:6379")
    assert allowance.allowed
    assert dict(allowance.headers) == {b"ratelimit-limit": b"60", b"ratelimit-policy": b"60;w=3"}


# -- 13: the documented age of the counts --------------------------------------------------------


def test_the_search_documents_the_age_its_setting_allows(client):
    doc = client.get("/openapi.json").json()
    search = doc["paths"]["/v1/lockers"]["get"]["description"]
    assert "about a second" not in search and "GONGPEI_SEARCH_CACHE_S (default 1 s)" in search
    free = doc["components"]["schemas"]["LockerSummary"]["properties"]["free"]["description"]
    assert "live" not in free and "cached" in free


# -- 14: HEAD ------------------------------------------------------------------------------------


def test_head_answers_every_get_resource_without_a_body(client, lockers):
    """Every HEAD was a 405 (RFC 9110 9.1: a general-purpose server supports it)."""
    for path in ("/map", f"/v1/lockers/{lockers[0]}", "/v1/lockers?lat=36.067&lon=120.383",
                 "/healthz"):
        got = client.get(path, headers={"Accept-Encoding": "identity"})
        r = client.head(path, headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200, (path, r.text)
        assert r.content == b""
        assert r.headers["Content-Type"] == got.headers["Content-Type"]
        assert r.headers["Content-Length"] == got.headers["Content-Length"]
    assert client.head("/v1/lockers/999").status_code == 404
    refused = client.head("/v1/firms")  # a POST-only path
    assert refused.status_code == 405 and refused.headers["Allow"] == "POST"
    assert client.delete(f"/v1/lockers/{lockers[0]}").headers["Allow"] == "GET, HEAD, PATCH"


# -- 16: the tiles' credit -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "given", "credit"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", None, "© OpenStreetMap contributors"),
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", None,
         "© OpenStreetMap contributors"),
        ("https://t0.tianditu.gov.cn/{z}/{x}/{y}", None, ""),
        ("https://t0.tianditu.gov.cn/{z}/{x}/{y}", "© 天地图", "© 天地图"),
        ("", "© Somebody", ""),
    ],
)
def test_the_tiles_are_credited_to_their_provider(monkeypatch, database_url, url, given, credit):
    """Every tile URL was credited to OpenStreetMap."""
    monkeypatch.setenv("GONGPEI_TILE_URL", url)
    if given is None:
        monkeypatch.delenv("GONGPEI_TILE_ATTRIBUTION", raising=False)
    else:
        monkeypatch.setenv("GONGPEI_TILE_ATTRIBUTION", given)
    assert Settings(database_url=database_url).tile_credit == credit


def test_the_page_config_carries_the_tiles_credit(make_client):
    from tests.api.test_api_map_page import page_config

    tiles = "https://tiles.example/{z}/{x}/{y}.png"
    config = page_config(make_client(tile_url=tiles, tile_attribution="© Example Maps"))
    assert config["tileAttribution"] == "© Example Maps"
