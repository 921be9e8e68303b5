"""report.html and its plots, built from a generated run folder and rendered in Chromium."""

import json
import re
import shutil
from pathlib import Path

import pytest

from api.report import plots
from api.report.html import write_report

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM = "/usr/bin/chromium"


def _write_plots(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    plots.coverage_curve(summary["siting"]["curve"], run / "plots" / "coverage_curve.png",
                         chosen=3, radius_m=300)
    plots.firm_costs(summary["firms"], run / "plots" / "firm_costs.png")
    plots.route_profiles(summary["routes"], run / "plots" / "route_profiles.png")


def test_plots_are_png(generated_run: Path) -> None:
    _write_plots(generated_run)
    for name in ("coverage_curve", "firm_costs", "route_profiles"):
        data = (generated_run / "plots" / f"{name}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_report_is_self_contained(generated_run: Path) -> None:
    _write_plots(generated_run)
    html = write_report(generated_run).read_text()
    # nothing the page loads comes from the net (links in text are fine)
    assert not re.findall(r'<(?:script|img|link)[^>]*(?:src|href)="(?:https?:)?//', html)
    assert "L.map(" in html and "Leaflet" in html  # Leaflet inlined from js_lib_leaflet
    assert "url(images/" not in html  # CSS images inlined as data URIs
    assert 'src="plots/coverage_curve.png"' in html
    assert "s27" in html and "pooled + lockers" in html
    assert "40.0" in html  # vehicle-km from the plans table


@pytest.mark.browser
def test_report_renders_in_chromium(generated_run: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    _write_plots(generated_run)
    report = write_report(generated_run)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page(viewport={"width": 1300, "height": 1800})
        # Offline: every request except the report's own files fails, as on a machine with no net.
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else route.abort())
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(report.as_uri())
        page.wait_for_selector("#map[data-ready='1']", timeout=15000)
        assert not errors
        assert page.locator(".leaflet-container").count() == 1
        assert page.locator(".leaflet-overlay-pane canvas, .leaflet-overlay-pane svg").count() >= 1
        assert page.locator(".leaflet-control-layers-overlays label").count() >= 6
        widths = page.eval_on_selector_all(".plots img", "imgs => imgs.map(i => i.naturalWidth)")
        assert len(widths) == 3 and all(w > 100 for w in widths)
        page.screenshot(path=str(ARTIFACTS / "scenario-report-generated.png"), full_page=True)
        browser.close()
    assert (ARTIFACTS / "scenario-report-generated.png").stat().st_size > 10000
    shutil.rmtree(generated_run / "plots")
