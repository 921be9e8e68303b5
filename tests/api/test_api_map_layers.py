"""Which of the /map page's drawings takes a click where a route passes over the lockers. The
lockers and the routes share one canvas, where what is added last is drawn and clicked on top:
a locker search after a route was shown put the lockers over the route's stops (a click on a
stop opened the locker), and a route's line over a locker took its click as a search."""

from __future__ import annotations

import pytest
from test_api_map import ARGS, CHROMIUM, chromium_once, open_map, open_popup, point, searches
from test_api_map_city_size import FITTED

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The `lockers` fixture's row: locker i at (LAT, WEST + i * STEP).
LAT, WEST, STEP = 36.0670, 120.3830, 0.0011


def along_the_lockers() -> dict:
    """A batch's GeoJSON solution: one van's line over the five lockers, and its stop at
    locker 3."""
    line = {"type": "Feature", "properties": {"vehicle": "van-0"},
            "geometry": {"type": "LineString",
                         "coordinates": [[WEST + i * STEP, LAT] for i in range(5)]}}
    stop = point(WEST + 3 * STEP, LAT, {"type": "job", "id": "at-3", "vehicle": "van-0",
                                        "arrival_s": 28_800, "service_start_s": 28_800,
                                        "departure_s": 28_860})
    return {"type": "FeatureCollection", "features": [line, stop]}


def close_popup(page) -> None:
    page.evaluate("void map.closePopup()")
    page.wait_for_selector(".leaflet-popup", state="detached")  # after its fade


def test_a_route_stays_over_the_lockers_a_later_search_draws(
    database_url, lockers, start_servers
):
    sync_api = chromium_once(database_url)
    (url,) = start_servers(1, cli=False)
    popup = ".leaflet-popup-content"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page, errors = open_map(browser, url)
            asked = searches(page)
            page.route("**/solution?*", lambda r: r.fulfill(json=along_the_lockers()))
            page.fill("#batch", "0" * 32)
            page.fill("#key", "any-key")
            page.evaluate(FITTED)
            page.click("#route button")
            page.wait_for_selector("body[data-route='2']", timeout=10_000)
            page.evaluate("fitted")  # the view zoomed to the route: clicks land where drawn

            # the line over locker 1 lets its click through: not taken as a search from there
            open_popup(page, f"[{LAT}, {WEST + STEP}]")
            assert page.locator(popup).inner_text().startswith("Locker 1\n")
            assert not asked, asked
            close_popup(page)

            # a new search draws the lockers again; the stop on locker 3 is still on top
            page.evaluate("delete document.body.dataset.loaded")
            page.check("#available")
            page.wait_for_selector("body[data-loaded='5']", timeout=10_000)
            open_popup(page, f"[{LAT}, {WEST + 3 * STEP}]")
            text = page.locator(popup).inner_text()
            assert text.startswith("job at-3, van-0\narrives 8:00"), text
            close_popup(page)

            # and locker 3's neighbour, under the line alone, opens as a locker
            open_popup(page, f"[{LAT}, {WEST + 4 * STEP}]")
            assert page.locator(popup).inner_text().startswith("Locker 4\n")
            assert not errors, errors
        finally:
            browser.close()
