"""The public map page in a real headless Chromium: loads, shows markers, filters by size."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

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


def test_map_page_shows_lockers_and_filters_by_size(
    database_url, lockers, auth, start_servers, vroom_problem, tmp_path
):
    if not database_url.startswith("sqlite"):
        pytest.skip("the browser test runs once, against SQLite")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed (scripts/ensure-browser.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    env = {"GONGPEI_MAP_NETWORK": "synthetic:400", "GONGPEI_DATA_DIR": str(tmp_path)}
    (url,) = start_servers(1, job_workers=1, env=env)
    import httpx

    batch = {"format": "vroom", "problem": vroom_problem(8), "engine": "ortools",
             "time_limit_s": 1}
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
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{url}/map")
            page.wait_for_selector("body[data-loaded='5']", timeout=20_000)
            assert page.locator(".locker-marker").count() == 5
            page.wait_for_function(
                "document.querySelectorAll('.leaflet-overlay-pane path').length > 50",
                timeout=20_000,
            )
            page.screenshot(path=str(ARTIFACTS / "map-all.png"))

            page.select_option("#size", "L")
            page.wait_for_selector("body[data-loaded='4']", timeout=10_000)
            assert page.locator(".locker-marker").count() == 4  # locker 2 has no L doors
            assert page.locator(".locker-full").count() == 1  # locker 0's only L is reserved
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
            assert page.locator(".route-line").count() >= 1
            page.screenshot(path=str(ARTIFACTS / "map-route.png"))
            assert not errors, errors
        finally:
            browser.close()
    assert (ARTIFACTS / "map-all.png").stat().st_size > 10_000
    assert any((tmp_path / "graphs").iterdir())  # the road graph is cached for restarts
