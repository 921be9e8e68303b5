"""The security audit's HTTP hygiene findings, each pinned: the key is checked before a body is
read and the NaN check stops at the first constant, off the event loop (2); an integer too long
to read is malformed JSON at its field (8); nan in the search's query is "not finite" (9);
private answers are not cached and the map page carries a policy it works under (6); a failed
job does not show the server's map path (7)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import api.headers
import api.json_checks
from api.db.models import Job
from api.jobs.worker import Worker

JSON = {"Content-Type": "application/json"}
CHROMIUM = "/usr/bin/chromium"


# -- 2: the key before the body; the NaN check stops at the first constant, in a thread ------


def test_a_caller_without_a_valid_key_is_refused_before_its_body_is_parsed(
    client, auth, monkeypatch
):
    """FastAPI parsed the body (and the app parsed a NaN body again and walked it, ~3.4 s for
    4.8 MB, on the event loop) before the key check; the 401 now costs no parse at all."""
    body = b"[" + b"0," * 1000 + b"NaN]"
    parsed: list[object] = []
    loads = json.loads

    def spy(text, *args, **kwargs):
        if text in (body, body.decode()):
            parsed.append(text)
        return loads(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", spy)
    refusals = (("/v1/batches", {}, 401), ("/v1/batches", {"X-API-Key": "gp_not-a-key"}, 401),
                ("/v1/centres", auth["a"], 403))
    for path, key, status in refusals:
        r = client.post(path, content=body, headers={**JSON, **key})
        assert r.status_code == status, (path, r.text)
    assert parsed == []
    r = client.post("/v1/batches", content=body, headers={**JSON, **auth["a"]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", 1000]


def test_the_non_finite_check_stops_at_the_first_constant_off_the_event_loop(monkeypatch):
    """It parsed the whole body with every constant marked, then walked the tree in Python."""
    seen: list[tuple[str, bool]] = []
    refuse = api.json_checks._refuse_constant

    def spy(token: str) -> float:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        seen.append((token, on_loop))
        return refuse(token)

    monkeypatch.setattr(api.json_checks, "_refuse_constant", spy)
    problem = api.json_checks.non_finite(b'{"a": [1, {"b": NaN}], "c": [Infinity, -Infinity, NaN]}')
    assert seen == [("NaN", False)]
    assert problem == {
        "type": "json_invalid",
        "loc": ("body", "a", 1, "b"),
        "msg": "JSON decode error: NaN is not JSON (a number must be finite)",
    }


@pytest.mark.parametrize(
    ("body", "loc", "shown"),
    [
        ('[0, "NaN", {"x": [[], {"y": -Infinity}]}]', [2, "x", 1, "y"], "-Infinity"),
        ('{"k": "a \\" [ { NaN", "k2": {"]": [1e400]}}', ["k2", "]", 0], "1e400"),
        ('{"a": 1, "a": [0, Infinity]}', ["a", 1], "Infinity"),  # a repeated key
        ("NaN", [], "NaN"),
        ('{"a": [1e-400, 1e300, "1e400", -1e400]}', ["a", 3], "-1e400"),
    ],
)
def test_the_first_non_finite_number_is_placed_without_walking_a_tree(body, loc, shown):
    for encoding in ("utf-8", "utf-16"):  # JSON may come as UTF-16, which a byte search misses
        problem = api.json_checks.non_finite(body.encode(encoding))
        assert problem["loc"] == ("body", *loc), encoding
        assert problem["msg"].startswith(f"JSON decode error: {shown} is "), encoding
    assert api.json_checks.non_finite(b'["NaN", 1e300, "Infinity"]') is None


def test_a_route_without_a_body_leaves_a_body_sent_to_it_unread(client):
    """A public GET answered a 422 about a NaN body it never reads, after seconds of work."""
    r = client.request("GET", "/v1/centres", content=b"[NaN]", headers=JSON)
    assert r.status_code == 200, r.text


# -- 8: an integer longer than Python reads is malformed JSON, after the key -------------------


def test_an_integer_of_more_than_4300_digits_is_json_invalid_at_its_field(client, auth):
    """It was FastAPI's bare 400 "There was an error parsing the body", before the key check."""
    body = b'{"format": "vroom", "time_limit_s": 1' + b"0" * 5000 + b', "problem": {}}'
    assert client.post("/v1/batches", content=body, headers=JSON).status_code == 401
    r = client.post("/v1/batches", content=body, headers={**JSON, **auth["admin"]})
    assert r.status_code == 403
    r = client.post("/v1/batches", content=body, headers={**JSON, **auth["a"]})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [
        {
            "loc": ["body", "time_limit_s"],
            "msg": "JSON decode error: an integer of more than 4300 digits (too long to read)",
            "type": "json_invalid",
        }
    ]
    # the same digits in a string, or as a float's, are read
    inside = b'{"name": "' + b"1" * 5000 + b'", "role": "firm", "x": 1.' + b"1" * 5000 + b"}"
    r = client.post("/v1/firms", content=inside, headers={**JSON, **auth["admin"]})
    assert r.json()["detail"][0]["loc"] != ["body"], r.text  # refused by its fields, if at all


# -- 9: nan in the search's query ---------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["lat=nan&lon=120", "lat=36&lon=-inf", "lat=36&lon=120&radius_m=inf"]
)
def test_a_search_refuses_nan_and_inf_as_not_finite(client, query):
    """nan was refused with "Input should be less than or equal to 90"."""
    r = client.get(f"/v1/lockers?{query}")
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["msg"] == "Input should be a finite number", problem
    assert problem["type"] == "finite_number"


# -- 6: private answers are not cached; the map page's policy --------------------------------


def test_answers_to_keyed_callers_are_not_cached(client, auth, lockers):
    """A new firm's API key and pickup codes were sent without Cache-Control."""
    r = client.post("/v1/firms", json={"name": "ZTO", "role": "firm"}, headers=auth["admin"])
    assert r.status_code == 201 and r.headers["Cache-Control"] == "no-store"
    r = client.post(
        f"/v1/lockers/{lockers[0]}/reservations",
        json={"size": "S", "parcel_ref": "P-1"},
        headers=auth["a"],
    )
    assert r.status_code == 201 and r.headers["Cache-Control"] == "no-store"
    for key in (auth["a"], {}):  # a keyed route, with its key or without
        r = client.get("/v1/reservations", headers=key)
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    public = client.get("/v1/lockers", params={"lat": 36.067, "lon": 120.383})
    assert public.status_code == 200 and "no-store" not in public.headers["Cache-Control"]


def _inline(page: str, tag: str) -> str:
    (text,) = re.findall(f"<{tag}>(.*?)</{tag}>", page, re.DOTALL)
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_map_page_allows_its_own_script_style_and_tiles_and_no_frame(make_client):
    """/map, which has an API key field, sent no policy and could be framed by any site."""
    tiles = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
    r = make_client(tile_url=tiles).get("/map")
    parts = r.headers["Content-Security-Policy"].split(";")
    policy = dict(part.strip().split(" ", 1) for part in parts)
    assert policy == {
        "default-src": "'none'",
        "img-src": "'self' https://*.tile.openstreetmap.org",
        "connect-src": "'self'",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "form-action": "'none'",
        "script-src": f"'self' {_inline(r.text, 'script')}",
        "style-src": f"'self' {_inline(r.text, 'style')}",
    }
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    markup = re.sub(r"<(script|style)>.*?</\1>", "", r.text, flags=re.DOTALL)
    assert not re.search(r" (style|on[a-z]+)=", markup)  # attributes the policy refuses


def test_the_map_policy_allows_no_script_but_the_pages_own():
    """The script's hash is taken from the page as sent (it holds the config), so only an
    element that is the template's with a JSON value for the config is allowed."""
    template = "<script>const CONFIG = __CONFIG__;\nrun();</script><style>b {}</style>"
    policy = api.headers.MapPolicy(template, "")
    page = template.replace("__CONFIG__", '{"centre": [1, 2]}')
    own = _inline(page.replace("<style>b {}</style>", ""), "script")
    assert f"script-src 'self' {own};" in policy(page)
    for injected in ("alert(1)", "const CONFIG = alert(1);\nrun();"):
        assert "script-src 'self';" in policy(f"<script>{injected}</script>")
    assert "img-src 'self';" in policy(page)  # no tiles, or this server's own
    local = api.headers.MapPolicy(template, "http://127.0.0.1:8080/{z}/{x}/{y}.png")
    assert "img-src 'self' http://127.0.0.1:8080;" in local(page)


@pytest.mark.browser
@pytest.mark.slow
def test_the_map_page_works_under_its_policy(database_url, lockers, start_servers, tmp_path):
    """In Chromium: the markers and roads are drawn and the page breaks no rule of its policy
    (a refused script or style is a console error, not a page error)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the browser test runs once, against SQLite")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed (scripts/ensure-browser.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    env = {"GONGPEI_MAP_NETWORK": "synthetic:100", "GONGPEI_DATA_DIR": str(tmp_path)}
    (url,) = start_servers(1, env=env, cli=False)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page()
            refused: list[str] = []
            page.on("console", lambda m: refused.append(m.text))
            page.goto(f"{url}/map")
            page.wait_for_selector("body[data-loaded='5']", timeout=20_000)
            for pane in ("overlay", "roads"):  # the markers' canvas, the roads' under it
                page.wait_for_selector(f".leaflet-{pane}-pane canvas", timeout=20_000)
            assert page.evaluate("markers.getLayers().length") == 5
            assert [text for text in refused if "Content Security Policy" in text] == []
        finally:
            browser.close()


# -- 7: a failed job names no file of the server's ----------------------------------------------


def test_a_job_failed_by_the_servers_map_does_not_show_its_path(
    make_client, settings, auth, db, caplog
):
    """The firm read "OSM file '/srv/private/maps/...': no such file"."""
    secret = "/srv/private/maps/qingdao-secret.osm.pbf"
    client = make_client(map_network=secret)
    batch = {"format": "vroom", "time_limit_s": 1, "problem": {
        "vehicles": [{"id": 1, "start": [120.38, 36.06]}],
        "jobs": [{"id": 1, "location": [120.381, 36.061]}]}}
    r = client.post("/v1/batches", json=batch, headers=auth["a"])
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    with caplog.at_level(logging.ERROR, logger="gongpei.worker"):
        Worker(replace(settings, map_network=secret)).run(max_jobs=1)
    status = client.get(f"/v1/batches/{job_id}", headers=auth["a"]).json()
    assert status["status"] == "failed"
    generic = f"the server's map cannot be loaded (see the server log, job {job_id})"
    assert status["error"] == generic
    assert secret in caplog.text and job_id in caplog.text  # the detail stays in the log


def test_a_crashed_job_tells_its_owner_no_internals(settings, db, auth, monkeypatch, caplog):
    from api.jobs import queue
    from api.security import authenticate

    with db.reading() as session:
        firm = authenticate(session, auth["a"]["X-API-Key"])
    job_id = queue.submit(db, kind="batch", firm_id=firm.id, payload={"problem": {}})

    def crash(*_args, **_kwargs):
        raise RuntimeError("connection to postgresql://gongpei:hunter2@db/prod lost")

    monkeypatch.setattr("api.jobs.worker.run_job", crash)
    with caplog.at_level(logging.ERROR, logger="gongpei.worker"):
        Worker(settings).run(max_jobs=1)
    with db.reading() as session:
        error = session.get(Job, job_id).error
    assert error == f"internal error (see the server log, job {job_id})"
    assert "hunter2" in caplog.text
