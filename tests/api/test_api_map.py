"""The public map page in a real headless Chromium: loads, shows markers, filters by size,
shows a batch's routes, keeps markup in locker names (and scenario report popups) as text, and
says why a search was refused."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
#: Markup an admin or an imported GeoJSON file could put in a locker's fields.
MARKUP = {
    "name": '<img src=x onerror="document.title=42">',
    "address": "<script>document.title=43</script>",
    "opening_hours": '<b id="injected">24/7</b>',
}
INJECTED = "img, script, #injected"
#: Which layers of the map's `routes` are lines, stops, and tasks left out (hollow red rings), as
#: tests of `l` in JS for `drawn`: they are drawn on a canvas, with no element of their own.
ROUTE_LINE = "l.feature.geometry.type !== 'Point'"
UNASSIGNED = "l.feature.properties.type === 'unassigned' && l.options.fillOpacity === 0"
ROUTE_STOP = "l.feature.geometry.type === 'Point' && l.feature.properties.type !== 'unassigned'"
#: A locker marker of no free door, in the legend's colour of `.full`.
FULL = "l.options.fillColor === '#c62828'"


def chromium_once(database_url: str):
    """playwright's sync API for a test of the map page, which runs once (against SQLite), or
    a skip where Chromium is not installed."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the browser test runs once, against SQLite")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed (scripts/ensure-browser.sh installs it)")
    return pytest.importorskip("playwright.sync_api")


def open_map(browser, url: str) -> tuple[Any, list[str]]:
    """The map page of the server at ``url`` with its five lockers shown, and the list its
    script errors go to. Playwright evaluates `wait_for_function` strings in the page, which
    the page's policy forbids (no `eval`): the tests bypass it; `test_api_http_hygiene` runs
    the page under it."""
    page = browser.new_page(viewport={"width": 1000, "height": 700}, bypass_csp=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url}/map")
    page.wait_for_selector("body[data-loaded='5']", timeout=20_000)
    return page, errors


def drawn(page, group: str, test: str = "true") -> int:
    """How many layers of the page's layer group `group` (JS: `markers`, `routes`) pass `test`
    (JS about `l`)."""
    return page.evaluate(f"{group}.getLayers().filter(l => {test}).length")


def searches(page) -> list[str]:
    """The locker searches (their URLs) `page` asks for from now on, filled as it asks."""
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/v1/lockers?" in r.url else None)
    return asked


def click_at(page, where: str) -> None:
    """Click the map where the place `where` (JS: a LatLng or [lat, lon]) is drawn, as a
    user's click on a marker of a canvas is."""
    at = page.evaluate(f"map.latLngToContainerPoint({where})")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])


def assert_popup_is_text(page, texts) -> None:
    """The open popup shows `texts` as they are, and none of their markup became elements."""
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    page.wait_for_timeout(300)  # time for an injected onerror to have run
    shown = popup.inner_text()
    assert all(text in shown for text in texts), shown
    assert popup.locator(INJECTED).count() == 0
    assert page.title() not in ("42", "43")


def bad_gateway(route) -> None:
    route.fulfill(status=502, body="<h1>Bad gateway</h1>", content_type="text/html")


def check_route_errors(page) -> None:
    """A 422 (FastAPI's detail is then a list) and a reply that is not JSON read as text."""
    status = page.locator("#route-status")  # the route's own line, not the search's #count
    said = "document.getElementById('route-status').textContent"
    page.fill("#batch", "not-a-batch-id")
    page.click("#route button")
    page.wait_for_function(f"{said}.startsWith('route:')")
    assert status.inner_text().startswith("route: path.job_id: String should match pattern")
    page.route("**/solution?*", bad_gateway)
    page.fill("#batch", "0" * 32)
    page.click("#route button")
    page.wait_for_function(f"{said}.startsWith('route: HTTP')")
    assert status.inner_text() == "route: HTTP 502 Bad Gateway"
    page.unroute("**/solution?*")


def check_locker_markup_is_text(page, url, auth) -> None:
    import httpx

    locker = {**MARKUP, "lat": 36.0690, "lon": 120.3874, "compartments": {"S": 1, "L": 1}}
    r = httpx.post(f"{url}/v1/lockers", json=locker, headers=auth["admin"])
    assert r.status_code == 201, r.text
    near = {"lat": 36.0690, "lon": 120.3874, "radius_m": 50}
    deadline = time.monotonic() + 10
    while not httpx.get(f"{url}/v1/lockers", params=near).json()["items"]:
        assert time.monotonic() < deadline, "the search never saw the new locker"
        time.sleep(0.2)  # the search index is refreshed within GONGPEI_SEARCH_CACHE_S
    page.fill("#place", "36.0690, 120.3874")
    page.click("#search button")
    page.wait_for_selector("body[data-loaded='4']", timeout=10_000)  # lockers 1, 3, 4 and it
    open_popup(page, "[36.0690, 120.3874]")
    assert_popup_is_text(page, MARKUP.values())


def open_popup(page, where: str, *, tries: int = 5) -> None:
    """Click the marker at `where` (for `click_at`) until a popup opens: the search pans the
    map to its place (a route's fit zooms it), and on a loaded machine a click can land while
    the marker still moves, on the map beneath it (which searches again from there, redrawing
    the markers)."""
    from playwright.sync_api import TimeoutError as PopupNotOpen

    popup = page.locator(".leaflet-popup-content")
    for _ in range(tries):
        click_at(page, where)
        try:
            popup.wait_for(timeout=3_000)
            return
        except PopupNotOpen:
            page.wait_for_timeout(500)
    popup.wait_for(timeout=3_000)


def as_if_osm_roads(route) -> None:
    """/map as a server drawing an OSM file's roads (not a synthetic grid) sends it."""
    html = route.fetch().text()
    credit = '"roadsAttribution": "\\u00a9 OpenStreetMap contributors"'
    route.fulfill(body=html.replace('"roadsAttribution": ""', credit), content_type="text/html")


def test_map_page_shows_lockers_and_filters_by_size(
    database_url, lockers, auth, start_servers, vroom_problem, tmp_path
):
    sync_api = chromium_once(database_url)
    env = {"GONGPEI_MAP_NETWORK": "synthetic:400", "GONGPEI_DATA_DIR": str(tmp_path)}
    (url,) = start_servers(1, job_workers=1, env=env)
    import httpx

    problem = vroom_problem(8)
    problem["jobs"][-1]["delivery"] = [100]  # more than a van holds: drawn as left out
    batch = {"format": "vroom", "problem": problem, "engine": "ortools", "time_limit_s": 1}
    job_id = httpx.post(f"{url}/v1/batches", json=batch, headers=auth["a"]).json()["id"]
    r = httpx.post(
        f"{url}/v1/lockers/{lockers[0]}/reservations",
        json={"size": "L", "parcel_ref": "MAP-1"},
        headers=auth["a"],
    )
    assert r.status_code == 201
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page, errors = open_map(browser, url)
            assert drawn(page, "markers") == 5
            page.wait_for_function("roads.getLayers().length > 50", timeout=20_000)
            page.screenshot(path=str(ARTIFACTS / "map-all.png"))

            page.select_option("#size", "L")
            page.wait_for_selector("body[data-loaded='4']", timeout=10_000)
            assert drawn(page, "markers") == 4  # locker 2 has no L doors
            assert drawn(page, "markers", FULL) == 1  # locker 0's only L is reserved
            assert page.locator("#count").inner_text() == "4 lockers"
            page.screenshot(path=str(ARTIFACTS / "map-size-L.png"))

            page.check("#available")
            page.wait_for_selector("body[data-loaded='3']", timeout=10_000)
            page.fill("#place", "36.0670, 120.3874")
            page.click("#search button")
            page.wait_for_selector("body[data-loaded='3']", timeout=10_000)

            deadline = time.monotonic() + 60
            while httpx.get(f"{url}/v1/batches/{job_id}", headers=auth["a"]).json()[
                "status"
            ] not in ("done", "failed"):
                assert time.monotonic() < deadline, "batch not solved in time"
                time.sleep(0.3)
            page.fill("#batch", job_id)
            page.fill("#key", auth["a"]["X-API-Key"])
            page.click("#route button")
            page.wait_for_selector("body[data-route]", timeout=10_000)
            assert drawn(page, "routes", ROUTE_LINE) >= 1
            assert drawn(page, "routes", UNASSIGNED) == 1
            assert drawn(page, "routes", ROUTE_STOP) == 7 + 2 * 2  # jobs, vans start and end
            page.screenshot(path=str(ARTIFACTS / "map-route.png"))
            # a stop opens to its task and its times on the day's clock
            open_popup(page, f"routes.getLayers().filter(l => {ROUTE_STOP})[1].getLatLng()")
            stop = page.locator(".leaflet-popup-content").inner_text()
            assert re.fullmatch(r"job \S+, \S+\narrives \d+:\d\d, served \d+:\d\d, "
                                r"leaves \d+:\d\d", stop), stop
            page.locator(".leaflet-popup-close-button").click()
            check_route_errors(page)
            check_locker_markup_is_text(page, url, auth)
            page.screenshot(path=str(ARTIFACTS / "map-popup.png"))
            # a synthetic grid is no one's data; OSM roads are credited even without tiles
            attribution = ".leaflet-control-attribution"
            assert "OpenStreetMap" not in page.locator(attribution).inner_text()
            assert not errors, errors

            credited = browser.new_page(bypass_csp=True)
            credited.route(f"{url}/map", as_if_osm_roads)
            credited.goto(f"{url}/map")
            credited.wait_for_selector("body[data-loaded]", timeout=20_000)
            credited.wait_for_function("roads.getLayers().length > 50", timeout=20_000)
            assert "© OpenStreetMap contributors" in credited.locator(attribution).inner_text()
        finally:
            browser.close()
    assert (ARTIFACTS / "map-all.png").stat().st_size > 10_000
    assert any((tmp_path / "graphs").iterdir())  # the road graph is cached for restarts


def point(lon: float, lat: float, properties: dict) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }


def test_report_popups_show_scenario_markup_as_text(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (scripts/ensure-browser.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    from api.report.html import write_report

    (tmp_path / "summary.json").write_text(json.dumps({"scenario": {"name": "x"}, "stages": {}}))
    (tmp_path / "layers").mkdir()
    chosen = {"id": MARKUP["name"], "status": MARKUP["address"], "chosen": True}
    # the marked-up locker in the middle, clear of the controls in the corners
    corners = [point(120.381, 36.066, {"id": "west"}), point(120.385, 36.068, {"id": "east"})]
    features = [point(120.383, 36.067, chosen), *corners]
    lockers = {"type": "FeatureCollection", "features": features}
    (tmp_path / "layers" / "lockers.geojson").write_text(json.dumps(lockers))
    report = write_report(tmp_path)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            page.route(
                "**/*",
                lambda route: (
                    route.continue_() if route.request.url.startswith("file:") else route.abort()
                ),
            )
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(report.as_uri())
            page.wait_for_selector("#map[data-ready='1']", timeout=20_000)
            click_at(page, "[36.067, 120.383]")  # the markers are drawn on a canvas
            assert_popup_is_text(page, [MARKUP["name"], MARKUP["address"]])
            assert not errors, errors
        finally:
            browser.close()


TOO_MANY = {"detail": "too many requests from this client; retry later"}


def _count_starts(page, text: str) -> str:
    page.wait_for_function(
        f"document.getElementById('count').textContent.startsWith({json.dumps(text)})",
        timeout=10_000,
    )
    return page.locator("#count").inner_text()


def test_the_map_page_says_why_a_search_failed_and_keeps_its_markers(
    database_url, lockers, start_servers
):
    """It said "0 lockers" on any refused search (a 429 of the rate limit, a 422 for a place
    typed as "lon, lat"), a 429 on a later page cut the list short without a word, and so did
    its cap of 20 pages."""
    sync_api = chromium_once(database_url)
    (url,) = start_servers(1, cli=False)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page, errors = open_map(browser, url)

            # the rate limit refuses the first page
            page.route("**/v1/lockers?*", lambda route: route.fulfill(status=429, json=TOO_MANY))
            page.check("#available")
            assert _count_starts(page, "search:") == f"search: {TOO_MANY['detail']}"
            assert drawn(page, "markers") == 5
            page.unroute("**/v1/lockers?*")

            # a place typed as "lon, lat": refused by the page, before the server's 422
            page.fill("#place", "120.383, 36.067")
            page.click("#search button")
            assert _count_starts(page, "search: lat ") == (
                "search: lat 120.383 is not within -90..90 (enter lat, lon)")
            assert drawn(page, "markers") == 5

            # the rate limit refuses a later page: the list is not cut short
            page.fill("#place", "36.0670, 120.3830")
            page.click("#search button")
            _count_starts(page, "5 lockers")

            def second_page_refused(route) -> None:
                if "cursor=" in route.request.url:
                    route.fulfill(status=429, json=TOO_MANY)
                    return
                first = route.fetch().json()
                route.fulfill(json={**first, "items": first["items"][:2], "next_cursor": "more"})

            page.route("**/v1/lockers?*", second_page_refused)
            page.select_option("#size", "S")
            assert _count_starts(page, "search:") == f"search: {TOO_MANY['detail']}"
            assert drawn(page, "markers") == 5
            page.unroute("**/v1/lockers?*")

            # more pages than the page fetches: it says the farther ones are not shown
            first_items: list[dict] = []

            def pages_without_end(route) -> None:
                if "cursor=" not in route.request.url:
                    first_items[:] = route.fetch().json()["items"][:2]
                route.fulfill(json={"items": first_items, "next_cursor": "more"})

            page.route("**/v1/lockers?*", pages_without_end)
            page.select_option("#size", "M")
            shown = _count_starts(page, "4 ")  # its 2 pages of 2
            assert shown == "4 nearest lockers shown (more farther out: zoom in or search closer)"
            assert not errors, errors
        finally:
            browser.close()
