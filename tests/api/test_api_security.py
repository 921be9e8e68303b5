"""Rate limits, body size limit, error bodies without stack traces, admin firms and centres."""

from __future__ import annotations

import secrets
import socket
import time
from dataclasses import replace

import jsonschema_rs
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from api.app import create_app


def test_public_rate_limit_returns_429_with_retry_after(make_client):
    client = make_client(public_rate_per_s=1.0, public_burst=3.0)
    params = {"lat": 36.0, "lon": 120.0}
    codes = [client.get("/v1/lockers", params=params).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]
    r = client.get("/v1/open-data/summary")
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1


REDIS = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def test_server_processes_share_the_rate_limit_through_redis(settings):
    """Two apps stand for two server processes: with Redis, a client's requests count in both."""
    if not _redis_up():
        pytest.skip("no Redis at 127.0.0.1:6379")
    limited = replace(settings, public_rate_per_s=1.0, public_burst=4.0, redis_url=REDIS)
    ip = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    params = {"lat": 36.0, "lon": 120.0}
    with (
        TestClient(create_app(limited), client=(ip, 5000)) as one,
        TestClient(create_app(limited), client=(ip, 5001)) as two,
    ):
        codes = [c.get("/v1/lockers", params=params).status_code for c in (one, two) * 3]
        assert codes == [200, 200, 200, 200, 429, 429]
        assert int(two.get("/v1/lockers", params=params).headers["Retry-After"]) >= 1
        # each process alone would have let all six through
        alone = replace(limited, redis_url="")
        with TestClient(create_app(alone), client=(ip, 5002)) as three:
            assert three.get("/v1/lockers", params=params).status_code == 200


def test_an_unreachable_rate_limit_store_still_limits_each_process(settings, caplog):
    """With Redis down the limit was off (anyone could flood a server) and the answers lost
    their RateLimit headers; each process now counts in memory until Redis is back."""
    dead = replace(settings, public_rate_per_s=1.0, public_burst=1.0,
                   redis_url="redis://127.0.0.1:1/0")  # fmt: skip
    with TestClient(create_app(dead)) as client:
        answers = [client.get("/v1/open-data/summary") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 429, 429]
    assert answers[0].headers["RateLimit-Limit"] == "1"
    assert answers[0].headers["RateLimit-Remaining"] == "0"
    assert int(answers[1].headers["Retry-After"]) >= 1
    assert caplog.text.count("rate limit store unreachable, counting in this process") == 1


def test_a_rate_limit_store_that_hangs_does_not_hold_the_public_api(settings, caplog):
    """A Redis that accepts connections and never answers (frozen, not down) added about 5 s
    to every public request; the store is now given `REDIS_TIMEOUT_S`, then the process
    counts in memory for `REDIS_RETRY_S` without asking Redis (one wait, not one a request).
    (A bound far above that wait, not a speed target.)"""
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(16)  # accepted by the kernel, never read: every command waits forever
        port = hole.getsockname()[1]
        frozen = replace(settings, public_rate_per_s=1.0, public_burst=3.0,
                         redis_url=f"redis://127.0.0.1:{port}/0")  # fmt: skip
        with TestClient(create_app(frozen)) as client:
            limit = client.app.state.public_limit
            asked = []
            hit = limit.limiter.hit

            async def counted_hit(*args):
                asked.append(args)
                return await hit(*args)

            limit.limiter.hit = counted_hit
            waits = []
            for _ in range(3):
                began = time.monotonic()
                assert client.get("/v1/open-data/summary").status_code == 200
                waits.append(time.monotonic() - began)
    assert max(waits) < 3.0, waits
    assert len(asked) == 1
    assert "rate limit store unreachable" in caplog.text


def test_body_size_limit_is_413(make_client, auth):
    client = make_client(max_body_bytes=1000)
    big = {"format": "native", "problem": {"pad": "x" * 2000}}
    r = client.post("/v1/batches", json=big, headers=auth["a"])
    assert r.status_code == 413
    assert "larger than 1000 bytes" in r.json()["detail"]

    def chunks():
        yield b'{"format": "native", "problem": {"pad": "'
        for _ in range(10):
            yield b"x" * 200
        yield b'"}}'

    r = client.post(
        "/v1/batches",
        content=chunks(),
        headers={**auth["a"], "Content-Type": "application/json"},
    )
    assert r.status_code == 413


def _with_probe(make_client, method: str, endpoint):
    """A client of the app with one more route, `METHOD /probe` served by ``endpoint``: how the
    app's own handlers treat what an endpoint raises."""
    client = make_client()
    probe = APIRouter()
    probe.add_api_route("/probe", endpoint, methods=[method])
    client.app.include_router(probe)
    return client


def test_unexpected_errors_are_500_without_stack_trace(make_client):
    def boom():
        raise RuntimeError("secret internal detail")

    client = _with_probe(make_client, "GET", boom)
    client2 = type(client)(client.app, raise_server_exceptions=False)
    r = client2.get("/probe")
    assert r.status_code == 500
    assert r.json() == {"detail": "internal server error"}
    assert "Traceback" not in r.text and "secret" not in r.text
    # answered outside every middleware, it carries the security headers itself
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"


def test_malformed_json_is_422_not_500(client, auth, lockers):
    r = client.post(
        f"/v1/lockers/{lockers[0]}/reservations",
        content=b"{not json",
        headers={**auth["a"], "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    r = client.post(
        f"/v1/lockers/{lockers[0]}/reservations",
        json={"size": "XXL", "parcel_ref": ""},
        headers=auth["a"],
    )
    assert r.status_code == 422
    locs = sorted(tuple(e["loc"]) for e in r.json()["detail"])
    assert locs == [("body", "parcel_ref"), ("body", "size")]


def test_admin_manages_firms_and_centres(client, auth):
    r = client.post("/v1/firms", json={"name": "ZTO", "role": "firm"}, headers=auth["admin"])
    assert r.status_code == 201
    new = r.json()
    assert new["api_key"].startswith("gp_")
    new_key = {"X-API-Key": new["api_key"]}
    assert client.get("/v1/reservations/" + "0" * 32, headers=new_key).status_code == 404
    assert client.post("/v1/firms", json={"name": "ZTO", "role": "firm"},
                       headers=auth["admin"]).status_code == 409
    assert client.post("/v1/firms", json={"name": "Y", "role": "firm"},
                       headers=auth["a"]).status_code == 403
    r = client.patch(f"/v1/firms/{new['id']}", json={"role": "planner"}, headers=auth["admin"])
    assert r.json()["role"] == "planner"
    centre = {"name": "Licang DC", "lat": 36.15, "lon": 120.43, "capacity_parcels": 1000}
    r = client.post("/v1/centres", json=centre, headers=auth["admin"])
    assert r.status_code == 201
    cid = r.json()["id"]
    r = client.patch(f"/v1/centres/{cid}", json={"capacity_parcels": 2000}, headers=auth["admin"])
    assert r.json()["capacity_parcels"] == 2000
    assert client.get("/v1/centres").json()["items"][0]["name"] == "Licang DC"
    assert client.post("/v1/centres", json=centre, headers=auth["b"]).status_code == 403


def test_an_admin_cannot_change_its_own_role(client, db, auth):
    from sqlalchemy import select

    from api.db.models import Firm

    with db.reading() as session:
        me = session.scalar(select(Firm.id).where(Firm.name == "firm-admin"))
    r = client.patch(f"/v1/firms/{me}", json={"role": "firm"}, headers=auth["admin"])
    assert r.status_code == 409 and "own role" in r.json()["detail"]
    r = client.patch(f"/v1/firms/{me}", json={"name": "Bureau"}, headers=auth["admin"])
    assert r.status_code == 200 and r.json()["role"] == "admin"


def test_api_keys_are_stored_hashed(db, auth):
    from sqlalchemy import select

    from api.db.models import ApiKey

    with db.reading() as session:
        stored = session.scalars(select(ApiKey.key_hash)).all()
    plain = auth["a"]["X-API-Key"]
    assert plain not in stored and all(len(h) == 64 for h in stored)


def test_openapi_documents_every_route_with_examples(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/lockers",
        "/v1/lockers/{locker_id}",
        "/v1/lockers/{locker_id}/reservations",
        "/v1/reservations/{reservation_id}/pickup",
        "/v1/batches",
        "/v1/batches/{job_id}/solution",
        "/v1/siting-runs",
        "/v1/open-data/summary",
        "/v1/firms",
        "/v1/centres",
    ):
        assert path in paths, path
    schemas = spec["components"]["schemas"]

    def exemplified(schema: dict) -> bool:
        if "$ref" in schema:
            return exemplified(schemas[schema["$ref"].split("/")[-1]])
        if schema.get("examples") or schema.get("example"):
            return True
        if schema.get("type") == "array":
            return exemplified(schema["items"])
        props = schema.get("properties", {})
        return bool(props) and all(exemplified(p) or "default" in p for p in props.values())

    for path, operations in paths.items():
        for method, op in operations.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                assert exemplified(body["schema"]), f"{method} {path}: request example"
            for code, response in op["responses"].items():
                for media, content in response.get("content", {}).items():
                    if code.startswith("2") and media != "text/html" and "schema" in content:
                        assert content.get("example") or exemplified(content["schema"]), (
                            f"{method} {path}: {code} example"
                        )
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"


def test_firm_vehicles_are_isolated(client, auth):
    centre = client.post("/v1/centres", json={"name": "DC", "lat": 36.1, "lon": 120.4},
                         headers=auth["admin"]).json()
    body = {"name": "Lu B-1", "capacity_parcels": 150, "centre_id": centre["id"]}
    r = client.post("/v1/vehicles", json=body, headers=auth["a"])
    assert r.status_code == 201
    vid = r.json()["id"]
    assert client.post("/v1/vehicles", json={**body, "centre_id": 999},
                       headers=auth["a"]).json()["detail"][0]["loc"] == ["body", "centre_id"]
    r = client.post("/v1/vehicles", json={**body, "capacity_parcels": True}, headers=auth["a"])
    assert r.status_code == 422  # was a vehicle carrying one parcel
    assert r.json()["detail"][0]["loc"] == ["body", "capacity_parcels"]
    assert [v["id"] for v in client.get("/v1/vehicles", headers=auth["a"]).json()] == [vid]
    assert client.get("/v1/vehicles", headers=auth["b"]).json() == []
    assert client.patch(f"/v1/vehicles/{vid}", json={"capacity_parcels": 1},
                        headers=auth["b"]).status_code == 404
    r = client.patch(f"/v1/vehicles/{vid}", json={"profile": "e-tricycle", "centre_id": None},
                     headers=auth["a"])
    assert r.json()["profile"] == "e-tricycle" and r.json()["centre_id"] is None


def test_text_the_database_cannot_store_is_422(client, auth):
    body = {"name": "bad\u0000name", "lat": 36.0, "lon": 120.0, "compartments": {"S": 1}}
    r = client.post("/v1/lockers", json=body, headers=auth["admin"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"]
    assert client.get("/v1/reservations/not-an-id", headers=auth["a"]).status_code == 422
    assert client.get("/v1/batches/%00", headers=auth["a"]).status_code == 422


def test_names_are_stripped_and_never_blank(client, auth):
    admin = auth["admin"]
    for name in ("", "   ", "\t"):
        r = client.post("/v1/firms", json={"name": name, "role": "firm"}, headers=admin)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"], name
    r = client.post("/v1/firms", json={"name": "  Yunda  ", "role": "firm"}, headers=admin)
    assert r.status_code == 201 and r.json()["name"] == "Yunda"
    firm = r.json()["id"]
    assert (
        client.post("/v1/firms", json={"name": "Yunda ", "role": "firm"}, headers=admin).status_code
        == 409
    )  # the same name once stripped
    r = client.patch(f"/v1/firms/{firm}", json={"name": "  "}, headers=admin)
    assert r.status_code == 422 and "empty" in r.json()["detail"][0]["msg"]
    centre = {"name": " ", "lat": 36.1, "lon": 120.4}
    r = client.post("/v1/centres", json=centre, headers=admin)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"]
    locker = {"name": "  ", "lat": 36.1, "lon": 120.4, "compartments": {"S": 1}}
    r = client.post("/v1/lockers", json=locker, headers=admin)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"]


def test_booleans_are_not_numbers(client, auth):
    admin = auth["admin"]
    centre = {"name": "Licang", "lat": True, "lon": 120.4, "capacity_parcels": True}
    r = client.post("/v1/centres", json=centre, headers=admin)
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {
        ("body", "lat"),
        ("body", "capacity_parcels"),
    }
    assert "not true or false" in r.json()["detail"][0]["msg"]
    locker = {"name": "Gate", "lat": 36.1, "lon": 120.4, "compartments": {"S": True}}
    r = client.post("/v1/lockers", json=locker, headers=admin)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "compartments", "S"]
    locker["compartments"] = {"S": 2}
    locker_id = client.post("/v1/lockers", json=locker, headers=admin).json()["id"]
    r = client.patch(
        f"/v1/lockers/{locker_id}", json={"add_compartments": {"M": False}}, headers=admin
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "add_compartments", "M"]


def test_openapi_gives_number_bounds_as_json_schema_keywords(client):
    """The bounds of a nullable number (a siting model's `p`, a centre's `capacity_parcels`) or
    of a map's counts (a locker's `compartments`) were published as `ge`/`le`, which JSON
    Schema clients do not read, once those numbers refused true/false."""

    def raw_bounds(node, where=""):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("ge", "gt", "le", "lt"):
                    yield f"{where}/{key}"
                yield from raw_bounds(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from raw_bounds(value, f"{where}/{i}")

    spec = client.get("/openapi.json").json()
    assert list(raw_bounds(spec)) == []  # components, and the parameters of every operation
    schemas = spec["components"]["schemas"]
    p = schemas["SitingModelSpec"]["properties"]["p"]["anyOf"][0]
    assert (p["minimum"], p["maximum"]) == (1, 10_000)


def test_a_vehicles_centre_is_no_boolean(client, auth):
    """`"centre_id": true` was centre 1, another firm's depot perhaps."""
    centre = client.post(
        "/v1/centres", json={"name": "DC", "lat": 36.1, "lon": 120.4}, headers=auth["admin"]
    ).json()
    body = {"name": "Lu B-1", "capacity_parcels": 150, "centre_id": True}
    r = client.post("/v1/vehicles", json=body, headers=auth["a"])
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["body", "centre_id"] and "not true or false" in detail["msg"]
    vid = client.post(
        "/v1/vehicles", json={**body, "centre_id": centre["id"]}, headers=auth["a"]
    ).json()["id"]
    r = client.patch(f"/v1/vehicles/{vid}", json={"centre_id": True}, headers=auth["a"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "centre_id"]


def test_a_caller_without_a_valid_key_hears_401_before_anything_about_the_body(client, auth):
    malformed = {"Content-Type": "application/json"}
    for headers in (malformed, {**malformed, "X-API-Key": "gp_not-a-key"}):
        for path in ("/v1/firms", "/v1/batches", "/v1/lockers/1/reservations"):
            r = client.post(path, content=b"{not json", headers=headers)
            assert r.status_code == 401, (path, headers, r.text)
            assert r.headers["WWW-Authenticate"] == "APIKey"
    r = client.post("/v1/firms", content=b"{not json", headers={**malformed, **auth["admin"]})
    assert r.status_code == 422  # with a key: the body's fault, with its position


def test_a_body_not_sent_as_json_is_415_naming_the_content_type(client, auth):
    body = b'{"name": "ZTO", "role": "firm"}'
    for given, shown in (("text/plain", "text/plain"), (None, "none")):
        headers = {**auth["admin"], **({"Content-Type": given} if given else {})}
        r = client.post("/v1/firms", content=body, headers=headers)
        assert r.status_code == 415, r.text
        assert "application/json" in r.json()["detail"] and shown in r.json()["detail"]
    assert (
        client.post("/v1/firms", content=body, headers={"Content-Type": "text/plain"}).status_code
        == 401
    )  # no key: that comes first
    assert (
        client.post(
            "/v1/firms", json={"name": "ZTO", "role": "firm"}, headers=auth["admin"]
        ).status_code
        == 201
    )


def test_the_map_page_is_rate_limited_like_the_api(make_client):
    client = make_client(public_rate_per_s=1.0, public_burst=2.0)
    codes = [client.get("/map").status_code for _ in range(4)]
    assert codes == [200, 200, 429, 429]
    assert "429" in client.get("/openapi.json").json()["paths"]["/map"]["get"]["responses"]


def test_a_body_that_is_not_utf8_or_nests_too_deep_is_malformed_json(client, auth):
    """Such bodies were a 400 "There was an error parsing the body" (undocumented) for every
    caller, with no key, or with a key of the wrong role, instead of the 401 or 403 first."""
    malformed = {"Content-Type": "application/json"}
    for body, why in ((b"\xff", "not UTF-8 text (byte 0)"), (b"[" * 100_000, "nested too deeply")):
        r = client.post("/v1/centres", content=body, headers=malformed)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "APIKey", r.text
        r = client.post("/v1/centres", content=body, headers={**malformed, **auth["a"]})
        assert r.status_code == 403, r.text
        r = client.post("/v1/centres", content=body, headers={**malformed, **auth["admin"]})
        assert r.status_code == 422, r.text
        assert r.json()["detail"] == [
            {"loc": ["body"], "msg": f"JSON decode error: {why}", "type": "json_invalid"}
        ]


def test_a_key_of_another_role_hears_403_before_anything_about_the_body(client, auth):
    """Malformed JSON from a firm to an admin's endpoint was a 422 about the body, where a
    well-formed body gets the 403: FastAPI reads the body before the key check runs."""
    malformed = {"Content-Type": "application/json"}
    for path, who, role in (
        ("/v1/centres", "a", "admin"),
        ("/v1/batches", "admin", "firm"),
        ("/v1/siting-runs", "a", "planner or admin"),
    ):
        r = client.post(path, content=b"{", headers={**malformed, **auth[who]})
        assert r.status_code == 403, (path, r.text)
        assert r.json()["detail"] == f"this endpoint needs a key of role {role}"
    r = client.post("/v1/siting-runs", content=b"{", headers={**malformed, **auth["planner"]})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"


def test_an_error_the_api_does_not_place_is_a_422_list_like_the_others(make_client):
    """A user error an endpoint leaves to the app's handler was `{"detail": "..."}`, not the
    list with `loc` that the API's description promises for every 422."""
    from routing.model import ProblemError

    def odd():
        raise ProblemError("jobs: a list is required")

    r = _with_probe(make_client, "POST", odd).post("/probe")
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"loc": ["body"], "type": "value_error", "msg": "jobs: a list is required"}
    ]


def test_a_405_allows_every_method_of_its_path(client, auth):
    """Starlette's Allow named the methods of the first route matching the path only; and
    `DELETE /v1/reservations/locked` cancelled reservation "locked" (a 422 on its id, a 403
    for an admin) where the locked-out list has no DELETE."""
    for method, path, allowed in (
        ("put", "/v1/vehicles", "GET, HEAD, POST"),  # HEAD wherever GET is (RFC 9110 9.1)
        ("put", "/v1/reservations/" + "a" * 32, "DELETE, GET, HEAD"),
        ("delete", "/v1/centres", "GET, HEAD, POST"),
        ("delete", "/v1/reservations/locked", "GET, HEAD"),
        ("options", "/v1/reservations/locked", "GET, HEAD"),
    ):
        for who in ("a", "admin"):
            r = client.request(method, path, headers=auth[who])
            assert r.status_code == 405, (method, path, r.text)
            assert r.headers["Allow"] == allowed, (method, path)
            assert r.json() == {"detail": "Method Not Allowed"}
    assert client.delete("/v1/reservations/" + "a" * 32, headers=auth["a"]).status_code == 404


def _operations(spec: dict):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def test_openapi_documents_the_errors_every_endpoint_returns(client):
    """413 (body size) was documented on 3 endpoints of 13 taking a body, 415 on none, the map
    layer's 429 nowhere, the 429's Retry-After and the 401's WWW-Authenticate in no response;
    and /map's 429 was filed as text/html, though every error is sent as JSON."""
    spec = client.get("/openapi.json").json()
    with_body = [(name, op) for name, op in _operations(spec) if "requestBody" in op]
    assert len(with_body) >= 13
    for name, operation in with_body:
        assert {"413", "415"} <= set(operation["responses"]), name
    assert "429" in spec["paths"]["/map/network.geojson"]["get"]["responses"]
    headers = {"401": "WWW-Authenticate", "429": "Retry-After"}
    seen = set()
    for name, operation in _operations(spec):
        for code, response in operation["responses"].items():
            if code in headers:
                assert response["headers"][headers[code]]["required"], (name, code)
                seen.add(code)
            if code[0] == "4" and "content" in response:
                assert list(response["content"]) == ["application/json"], (name, code)
    assert seen == set(headers)


def test_every_openapi_example_is_valid_against_its_schema(client):
    """FastAPI publishes examples without their None values: pages lacked the required
    `next_cursor`, a job status its `error` and `finished_at`, and the siting result example
    lost `summary.mean_utilisation`."""
    spec = client.get("/openapi.json").json()
    components = {"components": spec["components"]}
    checked = []

    def check(schema: dict, example, where: str) -> None:
        errors = list(jsonschema_rs.validator_for({**schema, **components}).iter_errors(example))
        assert not errors, f"{where}: {errors[0]}"
        checked.append(where)

    def walk(node, where: str) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("examples"), list):  # a schema's (a media type's is a map)
                schema = {k: v for k, v in node.items() if k != "examples"}
                for i, example in enumerate(node["examples"]):
                    check(schema, example, f"{where}/examples/{i}")
            if "example" in node and "schema" in node:
                check(node["schema"], node["example"], f"{where}/example")
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(spec, "")
    assert len(checked) > 100
    for page in ("LockerPage", "ReservationPage", "OperatorReservationPage", "PoolRunPage"):
        assert spec["components"]["schemas"][page]["examples"][0]["next_cursor"] is None
    result = spec["paths"]["/v1/siting-runs/{job_id}/result"]["get"]["responses"]["200"]
    assert result["content"]["application/json"]["example"]["summary"]["mean_utilisation"] is None
