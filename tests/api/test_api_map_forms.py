"""The map page's forms in a real headless Chromium, under the page's own policy: a slow
answer for an earlier batch id replaced the later one's route; the route's status went to
the line the search's count is said on, each wiping out the other's; and a place typed by a
Chinese IME in full-width mode ("３６．０６７，１２０．３８３") was refused as not numbers."""

from __future__ import annotations

import pytest
from test_api_map import ARGS, CHROMIUM, ROUTE_LINE, chromium_once, drawn
from test_api_map_audit import TWO_VANS, feature

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SLOW, QUICK = "a" * 32, "b" * 32
#: What the slow batch's answer draws, were it used: one line of another van.
ONE_LINE = {"type": "FeatureCollection", "features": [
    feature("LineString", [[120.3830, 36.0660], [120.3860, 36.0660]], vehicle="C"),
]}


def show_route(page, batch: str) -> None:
    page.fill("#batch", batch)
    page.fill("#key", "any-key")
    page.click("#route button")


def test_a_late_answer_for_an_earlier_route_is_not_drawn(database_url, lockers, start_servers):
    sync_api = chromium_once(database_url)
    from playwright.sync_api import expect

    (url,) = start_servers(1, cli=False)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{url}/map")
            page.wait_for_selector("body[data-loaded='5']", timeout=20_000)
            count, status = page.locator("#count"), page.locator("#route-status")
            expect(count).to_have_text("5 lockers")

            held = []

            def answer(route) -> None:
                if SLOW in route.request.url:
                    held.append(route)  # answered after the quick one
                else:
                    route.fulfill(json=TWO_VANS)

            page.route("**/solution?*", answer)
            show_route(page, SLOW)
            expect(status).to_have_text("loading route…")
            show_route(page, QUICK)
            page.wait_for_selector("body[data-route='4']", timeout=10_000)
            expect(status).to_have_text(f"route {QUICK}: 2 vehicles")
            assert len(held) == 1
            with page.expect_response(lambda r: SLOW in r.url):
                held[0].fulfill(json=ONE_LINE)
            page.wait_for_timeout(500)  # the late answer read and (not) drawn
            assert page.evaluate("document.body.dataset.route") == "4"
            assert drawn(page, "routes", ROUTE_LINE) == 2
            expect(status).to_have_text(f"route {QUICK}: 2 vehicles")
            # the search's count was not touched by the route, nor the route's status by it
            expect(count).to_have_text("5 lockers")
            page.unroute("**/solution?*")

            page.route("**/solution?*", lambda route: route.fulfill(
                status=404, json={"detail": "no such batch"}))
            show_route(page, QUICK)
            expect(status).to_have_text("route: no such batch")
            expect(count).to_have_text("5 lockers")
            page.unroute("**/solution?*")
            page.route("**/v1/lockers?*", lambda route: route.abort())
            page.check("#available")
            expect(count).to_have_text("search: network error, retry")
            expect(status).to_have_text("route: no such batch")
            page.unroute("**/v1/lockers?*")

            page.uncheck("#available")
            expect(count).to_have_text("5 lockers")
            page.fill("#place", "３６．０６７０，１２０．３８５２")  # the middle locker, full-width
            page.evaluate("delete document.body.dataset.loaded")
            page.click("#search button")
            page.wait_for_selector("body[data-loaded='5']", timeout=10_000)
            at = page.evaluate("[origin.lat, origin.lng]")
            assert at == pytest.approx([36.0670, 120.3852])
            expect(count).to_have_text("5 lockers")
            assert not errors, errors
        finally:
            browser.close()
