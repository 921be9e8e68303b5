"""/map at city size in a real headless Chromium, under the page's own policy: 2,000 lockers
and a route of 3,000 stops were an SVG element each (over 6,000 in the map), which made the
page sluggish on a phone (`benchmarks/map_page.py`). They are drawn on a canvas, and a click
where one is drawn still opens its popup."""

from __future__ import annotations

import json
import re
import sys
from io import BytesIO
from pathlib import Path

import pytest
from test_api_map import ARGS, CHROMIUM, chromium_once, drawn, open_popup, searches

from api.lockers import import_geojson

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
LOCKERS, STOPS, VANS = 2000, 3000, 10
#: What a locker or a stop would be drawn as with an element each: an SVG path, an icon.
ONE_EACH = ".leaflet-pane path, .leaflet-marker-icon"
#: Sets `fitted`, resolved when the view next stops moving (a route's fit ends its zoom).
FITTED = "void (window.fitted = new Promise(done => map.once('moveend', () => done())))"
#: A locker near the grid's middle, in the first view, with 3 free doors (drawn green).
MIDDLE = 1013
#: The legend's "free" at the markers' opacity (0.9) over the map's background (#fafaf7).
GREEN = [0.9 * c + 0.1 * b for c, b in zip((46, 157, 70), (250, 250, 247), strict=True)]


def map_page():
    """benchmarks/map_page.py, whose generators make the city's lockers and route."""
    sys.path.insert(0, str(BENCH))
    try:
        import map_page
    finally:
        sys.path.remove(str(BENCH))
    return map_page


def colour_at(page, where: str) -> tuple[int, ...]:
    """The colour on screen at the place `where` (JS, as for `click_at`)."""
    from PIL import Image

    at = page.evaluate(f"map.latLngToContainerPoint({where})")
    box = page.locator("#map").bounding_box()
    clip = {"x": box["x"] + at["x"], "y": box["y"] + at["y"], "width": 1, "height": 1}
    return Image.open(BytesIO(page.screenshot(clip=clip))).convert("RGB").getpixel((0, 0))


def test_lockers_and_a_long_route_are_drawn_on_a_canvas(database_url, db, start_servers, tmp_path):
    sync_api = chromium_once(database_url)
    bench = map_page()
    grid = bench.locker_grid(LOCKERS)
    (tmp_path / "lockers.geojson").write_text(json.dumps(grid))
    with db.writing() as session:
        assert import_geojson(session, tmp_path / "lockers.geojson") == (LOCKERS, 0)
    lon, lat = grid["features"][MIDDLE]["geometry"]["coordinates"]
    route = bench.many_stop_route(STOPS, VANS)
    last = route["features"][-1]
    (url,) = start_servers(1, cli=False)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            asked = searches(page)
            page.goto(f"{url}/map")
            page.wait_for_selector(f"body[data-loaded='{LOCKERS}']", timeout=60_000)
            assert drawn(page, "markers") == LOCKERS
            # in pages of 1,000: 20 of 100, one after another, were most of a phone's wait
            assert len(asked) == 2, asked
            assert page.locator(ONE_EACH).count() == 0
            assert page.locator(".leaflet-overlay-pane canvas").count() == 1
            page.wait_for_timeout(300)  # the canvas is drawn on the next frame
            shown = colour_at(page, f"[{lat}, {lon}]")
            assert all(abs(c - g) < 16 for c, g in zip(shown, GREEN, strict=True)), shown

            open_popup(page, f"[{lat}, {lon}]")
            text = page.locator(".leaflet-popup-content").inner_text()
            assert re.match(rf"Locker {MIDDLE}\n.*free S 3 · M 0 · L 0", text, re.DOTALL), text
            page.evaluate("void map.closePopup()")  # (the map itself is too big to return)
            page.wait_for_selector(".leaflet-popup", state="detached")  # after its fade

            page.route("**/solution?*", lambda r: r.fulfill(json=route))
            page.fill("#batch", "0" * 32)
            page.fill("#key", "any-key")
            page.evaluate(FITTED)
            page.click("#route button")
            page.wait_for_selector(f"body[data-route='{STOPS + VANS}']", timeout=60_000)
            page.evaluate("fitted")  # the view zoomed to the route: clicks land where drawn
            assert page.locator("#route-status").inner_text() == f"route {'0' * 32}: 10 vehicles"
            assert page.locator(ONE_EACH).count() == 0
            # the last stop is drawn over everything else at its place
            stop_lon, stop_lat = last["geometry"]["coordinates"]
            open_popup(page, f"[{stop_lat}, {stop_lon}]")
            text = page.locator(".leaflet-popup-content").inner_text()
            assert text.startswith(f"job {STOPS - 1}, van-{VANS - 1}\narrives "), text
            assert not errors, errors
        finally:
            browser.close()
