"""Fixtures for scenario tests: a run folder with generated figures, layers and routes."""

import json
import math
import random
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update"]


def _line(points: list[tuple[float, float]], **props) -> dict:
    coords = [[lon, lat] for lat, lon in points]
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "LineString", "coordinates": coords}}


def _point(lat: float, lon: float, **props) -> dict:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def _collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


@pytest.fixture(scope="session", autouse=True)
def _data_dir(tmp_path_factory: pytest.TempPathFactory):
    """Built graphs are cached in a temporary folder, shared by this folder's tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GONGPEI_DATA_DIR", str(tmp_path_factory.mktemp("gongpei-data")))
        yield


@pytest.fixture
def generated_run(tmp_path: Path) -> Path:
    """A run folder (summary.json + layers/) as the runner writes it, from seeded random data."""
    rng = random.Random(7)
    lat0, lon0 = 60.170, 24.944
    grid = [(lat0 + 0.001 * i, lon0 + 0.002 * j) for i in range(8) for j in range(8)]
    roads = [_line([grid[i], grid[i + 1]]) for i in range(len(grid) - 1) if (i + 1) % 8]
    roads += [_line([grid[i], grid[i + 8]]) for i in range(len(grid) - 8)]
    demand = [_point(*p, id=f"d{k}", parcels=rng.randint(1, 30)) for k, p in enumerate(grid)]
    lockers = [_point(*grid[k], id=f"s{k}", chosen=k in (9, 27, 45), status="candidate")
               for k in range(0, 64, 3)]
    catch = [_line([grid[k], grid[9]]) for k in (0, 1, 8, 10, 17)]
    routes: dict[str, list[dict]] = {"solo": [], "pooled": [], "lockers": []}
    for plan, n in (("solo", 4), ("pooled", 2), ("lockers", 2)):
        for v in range(n):
            stops = rng.sample(grid, 6)
            t, load, profile = 8 * 3600.0, 6 * 5, []
            for _ in stops:
                profile.append({"t": t, "load": load, "type": "delivery"})
                t += rng.uniform(300, 900)
                load -= 5
            routes[plan].append(_line([grid[0], *stops, grid[0]], plan=plan, firm=f"F{v}",
                                      vehicle=f"{plan}-{v}", profile=profile, stops=6))
    layers = tmp_path / "layers"
    layers.mkdir()
    for name, features in {"roads": roads, "demand": demand, "lockers": lockers,
                           "catchments": catch, "depots": [_point(*grid[0], id="hub")],
                           **{f"routes_{p}": r for p, r in routes.items()}}.items():
        (layers / f"{name}.geojson").write_text(json.dumps(_collection(features)))
    curve = [{"lockers": k, "share": 1 - math.exp(-k / 3), "total_parcels": 300.0,
              "bound": 300.0 * min(1.0, 1.1 * (1 - math.exp(-k / 3)))} for k in range(1, 11)]
    figures = {"vehicle_km": 40.0, "vehicles": 4, "driver_hours": 9.5, "stops": 24,
               "co2_kg": 7.2, "cost": 640.0, "parcels": 120, "unserved": 0}
    summary = {
        "scenario": {"name": "generated", "description": "report test data"},
        "siting": {"status": "done", "model": "max_coverage", "radius_m": 300.0, "candidates": 22,
                   "opened": ["s9", "s27", "s45"], "coverage": 0.63, "walk_m_mean": 140.0,
                   "walk_m_p90": 260.0, "gap": 0.0, "curve": curve, "budget": 3,
                   "lockers": [{"id": f"s{k}", "kind": "building (dormitory)",
                                "parcels_per_day": 40.0, "capacity_per_day": 45.3,
                                "utilisation": 0.883, "compartments": {"S": 40, "M": 20, "L": 8}}
                               for k in (9, 27, 45)],
                   "capacitated": True},
        "plans": {"solo": figures, "pooled": {**figures, "cost": 480.0, "vehicles": 2},
                  "lockers": {**figures, "cost": 400.0, "vehicles": 2, "parcels_in_lockers": 30}},
        "firms": [{"name": f"F{k}", "parcels": 30, "solo_cost": 160.0,
                   "shares": {"pooled": 120.0 + k, "lockers": 100.0 + k},
                   "by_parcels": {"pooled": 120.0, "lockers": 100.0},
                   "by_standalone": {"pooled": 120.0, "lockers": 100.0}} for k in range(4)],
        "firms_table": [{"firm": f"F{k}", "solo_cost": 160.0, "pooled_shapley": 120.0 + k,
                         "pooled_shapley_ci": 0.0, "lockers_shapley": 100.0 + k,
                         "lockers_shapley_ci": 4.0} for k in range(4)],
        "splits": {"pooled": {}, "lockers": {}},
        "routes": [f["properties"] for r in routes.values() for f in r],
        "stages": {"graphs": {"status": "done", "seconds": 1.0}},
    }
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    return tmp_path


@pytest.fixture
def render_report():
    """Open a report.html in headless Chromium with the network cut off (only file: URLs load),
    check the map drew and the plots loaded, keep a full-page screenshot in artifacts/. A
    ``probe`` (a JavaScript function's source) runs on the drawn page; its value is returned
    under "probe"."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")

    def render(report: Path, screenshot: str, probe: str | None = None) -> dict:
        ARTIFACTS.mkdir(exist_ok=True)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1300, "height": 1800})
            online: list[str] = []

            def offline(route) -> None:
                if route.request.url.startswith("file:"):
                    route.continue_()
                    return
                online.append(route.request.url)
                route.abort()

            page.route("**/*", offline)
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(report.as_uri())
            page.wait_for_selector("#map[data-ready='1']", timeout=20000)
            drawn = page.locator(".leaflet-overlay-pane canvas, .leaflet-overlay-pane svg").count()
            page.wait_for_timeout(300)  # time for a request the page would make
            result = {
                "online": online,
                "errors": errors,
                "overlays": page.locator(".leaflet-control-layers-overlays label").count(),
                "plots": page.eval_on_selector_all(
                    ".plots img", "imgs => imgs.map(i => i.naturalWidth)"),
                "tables": page.locator("table").count(),
                "probe": page.evaluate(probe) if probe else None,
            }
            page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
            browser.close()
        assert not errors, errors
        assert not result["online"], f"the report fetched {result['online'][:3]}"
        assert drawn >= 1, "the map drew nothing"
        assert all(width > 100 for width in result["plots"]), "a plot did not load"
        assert (ARTIFACTS / screenshot).stat().st_size > 10000
        return result

    return render


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list:
    """The matplotlib figures the plot functions draw, kept open when they are done."""
    import matplotlib.pyplot as plt

    drawn: list = []
    monkeypatch.setattr(plt, "close", drawn.append)
    yield drawn
    for fig in drawn:
        fig.clf()
