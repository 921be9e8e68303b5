"""`/docs` from this server alone, `/` and `/robots.txt`. FastAPI's Swagger UI loaded its script
and stylesheet from cdn.jsdelivr.net (and its icon from fastapi.tiangolo.com), often slow or
blocked in mainland China, so the API's one page of documentation might not render for the
platform's own public; `/redoc` needed the CDN and Google's fonts; `/` and `/robots.txt` were
404s."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from test_api_map import ARGS, CHROMIUM, chromium_once

#: Every address a page names in `src` or `href`.
_ADDRESSES = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def _addresses(page: str) -> list[str]:
    named = _ADDRESSES.findall(page)
    named += re.findall(r"url: '([^']+)'", page)  # Swagger UI's document
    return named


def test_the_docs_page_loads_nothing_from_another_host(client):
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    named = _addresses(r.text)
    assert len(named) == 4, named  # stylesheet, icon, script, document
    assert all(url.startswith("/") and not url.startswith("//") for url in named), named
    for url in named:
        served = client.get(url)
        assert served.status_code == 200, url
    assert client.get(named[2]).headers["Content-Type"].startswith(
        ("text/javascript", "application/javascript")
    )
    assert "validator.swagger.io" not in r.text and '"validatorUrl": null' in r.text


def test_no_page_needs_a_cdn(client):
    """ReDoc's page loaded its script from the CDN and its fonts from Google: it is not served
    rather than served broken."""
    assert client.get("/redoc").status_code == 404


def test_the_docs_page_runs_only_its_own_scripts_and_cannot_be_framed(client):
    r = client.get("/docs")
    policy = r.headers["Content-Security-Policy"]
    (start,) = re.findall(r"<script>(.*?)</script>", r.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(start.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in policy
    assert "default-src 'none';" in policy and "frame-ancestors 'none'" in policy
    assert "connect-src 'self';" in policy and "'unsafe-inline'" not in policy
    assert r.headers["X-Frame-Options"] == "DENY"
    # the map keeps its own policy (its tiles, its own inline script and style)
    map_policy = client.get("/map").headers["Content-Security-Policy"]
    assert map_policy != policy and "style-src 'self' 'sha256-" in map_policy


def test_the_root_sends_a_person_to_the_map_and_a_program_to_the_description(client):
    for path in ("/", "/?from=singlemessage&isappinstalled=0", "/?utm_source=wechat"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 307, (path, r.text)
        assert r.headers["Location"] == "/map"  # relative: right behind any proxy
    assert r.headers["Link"] == '</openapi.json>; rel="service-desc", </docs>; rel="service-doc"'
    assert client.get("/").url.path == "/map"
    assert client.head("/", follow_redirects=False).status_code == 307
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/", "/docs", "/robots.txt"} & set(paths)  # pages, not operations


def test_robots_may_read_the_pages_and_the_open_data_but_not_the_rest_of_the_api(client):
    r = client.get("/robots.txt")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    rules = [line.split(": ", 1) for line in r.text.splitlines() if line]
    assert rules == [["User-agent", "*"], ["Allow", "/v1/open-data/"], ["Disallow", "/v1/"]]
    assert r.headers["Cache-Control"] == "public, max-age=86400"


@pytest.mark.browser
@pytest.mark.slow
def test_the_docs_page_renders_under_its_policy_with_no_outside_request(
    database_url, lockers, start_servers
):
    """In Chromium: Swagger UI draws the operations and the licence and "Try it out" answers,
    breaking no rule of the page's policy (a refused script, style, image or call is a console
    error) and asking no other host for anything."""
    sync_api = chromium_once(database_url)
    (url,) = start_servers(1, cli=False)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            console: list[str] = []
            asked: list[str] = []
            page.on("console", lambda m: console.append(m.text))
            page.on("pageerror", lambda exc: console.append(str(exc)))
            page.on("request", lambda request: asked.append(request.url))
            page.goto(f"{url}/docs")
            page.wait_for_selector(".opblock-summary", timeout=20_000)
            assert page.locator(".opblock").count() > 30
            assert "Creative Commons" in page.locator(".info").inner_text()
            registry = "#operations-open_data-locker_registry_v1_open_data_lockers_get"
            page.locator(f"{registry} .opblock-summary").click()
            page.locator(f"{registry} button.try-out__btn").click()
            page.locator(f"{registry} button.execute").click()
            answered = f"{registry} .live-responses-table .response .response-col_status"
            status = page.locator(answered)
            status.wait_for(timeout=10_000)
            assert status.inner_text().strip() == "200"
        finally:
            browser.close()
    assert console == []
    assert [u for u in asked if not u.startswith(url)] == []
