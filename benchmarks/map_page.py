"""The public /map page at city size, in headless Chromium: an older page against this one.

One server (uvicorn, SQLite) with `--lockers` lockers on a grid around Qingdao (imported as
`gongpei lockers import` does) and a synthetic city's roads; a route of `--stops` stops in
`--vans` vans is answered by the browser itself, as a batch's GeoJSON solution. The page as of
`--old` (a commit; the one before the canvas renderer by default) and the page of this checkout
are served in turn by the same server, one fresh page each, `--repeats` times interleaved, and
for each is measured
- load: navigation to the lockers drawn (two animation frames after the page says it shows
  them), and of that the drawing alone (from the last search answer's arrival), and the
  search requests it made (each waits for the one before: its cursor);
- route: the route's answer asked for to its stops drawn;
- pan: `map.panBy` 150 px without animation and the next two frames (median of 10), with the
  lockers and the route on the map; of that the call alone (where Leaflet redraws each path
  or the canvas), and the page's main thread busy per pan (Chrome's TaskDuration);
- the page's elements in #map.
Medians over the repeats, and old / new. `--latency-ms` (and `--down-kbps`) put each request
of the page behind a phone network's round trip (and bandwidth), as Chrome's DevTools
throttling does (`Network.emulateNetworkConditions`): 4G is about 100 ms and 9,000 kbit/s.

    .venv/bin/python benchmarks/map_page.py [--lockers 2000] [--stops 3000] [--vans 10]
                                            [--repeats 5] [--phone] [--old COMMIT]
                                            [--latency-ms 100] [--down-kbps 9000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
CENTRE = (36.067, 120.383)  # the synthetic city's, and the map's default
#: The last commit of api/web/map.html before its lockers and routes went on a canvas.
OLD_PAGE = "7762c63bf127aff5a0e32e63ba1111df10e44daf"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: Marks `performance.now()` two frames after the page sets data-loaded / data-route.
MARKS = """
window.__marks = {};
new MutationObserver(() => {
  for (const key of ["loaded", "route"]) {
    if (document.body && document.body.dataset[key] && !(key in window.__marks)) {
      window.__marks[key] = null;
      requestAnimationFrame(() => requestAnimationFrame(() => {
        window.__marks[key] = performance.now();
      }));
    }
  }
}).observe(document, { attributes: true, subtree: true,
  attributeFilter: ["data-loaded", "data-route"] });
"""
PANS = """async () => {
  const frame = () => new Promise(done => requestAnimationFrame(done));
  const frames = [], calls = [];
  for (let i = 0; i < 10; i++) {
    await frame();
    const start = performance.now();
    map.panBy(i % 2 ? [-150, -80] : [150, 80], { animate: false });
    calls.push(performance.now() - start);
    await frame();
    await frame();
    frames.push(performance.now() - start);
  }
  return [frames, calls];
}"""


def locker_grid(count: int, step_deg: float = 0.0006) -> dict[str, Any]:
    """`count` lockers on a square grid around `CENTRE`, `step_deg` apart (~60 m), as a GeoJSON
    FeatureCollection for `api.lockers.import_geojson`: 2,000 span ~2.7 km, a city district
    in one view. Their free doors cycle 0, 1, 3 (all three colours of the map's legend)."""
    side = math.ceil(math.sqrt(count))
    features = []
    for i in range(count):
        row, col = divmod(i, side)
        lat = CENTRE[0] + (row - side / 2) * step_deg
        lon = CENTRE[1] + (col - side / 2) * step_deg
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": {"name": f"Locker {i}", "ref": f"grid-{i}",
                           "compartments": {"S": (0, 1, 3)[i % 3], "M": 0, "L": 0}},
        })
    return {"type": "FeatureCollection", "features": features}


def many_stop_route(stops: int, vans: int, step_deg: float = 0.0005) -> dict[str, Any]:
    """A batch's GeoJSON solution (as `GET /v1/batches/{id}/solution?format=geojson` gives)
    of `stops` jobs shared by `vans` vans, each van's line through its stops in a serpentine
    over a grid around `CENTRE`; job `i` arrives at 8:00 + i minutes."""
    side = math.ceil(math.sqrt(stops))
    where = []
    for i in range(stops):
        row, col = divmod(i, side)
        col = col if row % 2 == 0 else side - 1 - col
        where.append([round(CENTRE[1] + (col - side / 2) * step_deg, 6),
                      round(CENTRE[0] + (row - side / 2) * step_deg, 6)])
    per_van = math.ceil(stops / vans)
    features = []
    for van in range(vans):
        mine = range(van * per_van, min(stops, (van + 1) * per_van))
        vehicle = f"van-{van}"
        features.append({"type": "Feature", "properties": {"vehicle": vehicle},
                         "geometry": {"type": "LineString", "coordinates": where[mine.start:
                                                                                 mine.stop]}})
        for i in mine:
            at = 28_800 + 60 * i
            features.append({
                "type": "Feature", "geometry": {"type": "Point", "coordinates": where[i]},
                "properties": {"type": "job", "id": i, "vehicle": vehicle, "arrival_s": at,
                               "service_start_s": at, "departure_s": at + 30},
            })
    return {"type": "FeatureCollection", "features": features}


def start_server(folder: Path, lockers: int, roads: int) -> tuple[subprocess.Popen, str]:
    """A migrated SQLite database of `lockers` lockers and a server on it (public rate limit
    off: an older page asks for 20 pages at once), drawing the roads of `synthetic:roads`."""
    from api.db.engine import Database
    from api.db.migrate import upgrade
    from api.lockers import import_geojson

    url = f"sqlite:///{folder / 'gongpei.db'}"
    db = Database(url)
    upgrade(db.engine)
    grid = folder / "lockers.geojson"
    grid.write_text(json.dumps(locker_grid(lockers)))
    with db.writing() as session:
        import_geojson(session, grid)
    db.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GONGPEI_DATABASE_URL": url, "GONGPEI_PUBLIC_RATE_PER_S": "0",
           "GONGPEI_MAP_NETWORK": f"synthetic:{roads}", "GONGPEI_DATA_DIR": str(folder),
           "GONGPEI_TILE_URL": ""}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port",
         str(port), "--log-level", "warning"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/map/network.geojson", timeout=60).status_code == 200:
                return server, base  # the roads built once, before any page is timed
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def serve_template(template: str):
    """A playwright route handler: the server's /map page, its config put in `template`."""
    def handle(route) -> None:
        sent = route.fetch().text()
        config = re.search(r"const CONFIG = (.*);\n", sent).group(1)
        route.fulfill(body=template.replace("__CONFIG__", config), content_type="text/html")
    return handle


def main_thread_s(cdp) -> float:
    """Seconds the page's main thread has been busy (Chrome's TaskDuration)."""
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return next(m["value"] for m in metrics if m["name"] == "TaskDuration")


def measure(browser, base: str, template: str, route: dict, lockers: int, phone: bool,
            network: dict | None) -> dict:
    """One fresh page of `template`: the figures of the module's docstring (ms), its requests
    throttled as `network` says (`Network.emulateNetworkConditions`'s parameters) if given."""
    size = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
            "is_mobile": True, "has_touch": True} if phone else {
            "viewport": {"width": 1000, "height": 700}}
    context = browser.new_context(**size)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        if network:
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", network)
        page.add_init_script(MARKS)
        page.route(f"{base}/map", serve_template(template))
        page.route("**/solution?*", lambda r: r.fulfill(json=route))
        page.goto(f"{base}/map")
        page.wait_for_function("window.__marks && window.__marks.loaded", timeout=120_000)
        assert page.evaluate("document.body.dataset.loaded") == str(lockers)
        load = page.evaluate("""(() => {
            const answers = performance.getEntriesByType("resource")
              .filter(e => e.name.includes("/v1/lockers?")).map(e => e.responseEnd);
            return [__marks.loaded, __marks.loaded - Math.max(...answers), answers.length];
        })()""")
        page.fill("#batch", "0" * 32)
        page.fill("#key", "any-key")
        asked = page.evaluate("""(() => { const at = performance.now();
            document.querySelector("#route button").click(); return at; })()""")
        page.wait_for_function("window.__marks.route", timeout=120_000)
        drawn = page.evaluate("window.__marks.route") - asked
        cdp.send("Performance.enable")
        before = main_thread_s(cdp)
        frames, calls = page.evaluate(PANS)
        busy = (main_thread_s(cdp) - before) * 1000 / len(frames)
        elements = page.evaluate("document.querySelectorAll('#map *').length")
        return {"load": load[0], "draw": load[1], "searches": load[2], "route": drawn,
                "pan": statistics.median(frames), "pan call": statistics.median(calls),
                "pan busy": busy, "elements": elements}
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lockers", type=int, default=2000)
    parser.add_argument("--stops", type=int, default=3000)
    parser.add_argument("--vans", type=int, default=10)
    parser.add_argument("--roads", type=int, default=1000,
                        help="junctions of the synthetic city drawn under them")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--phone", action="store_true",
                        help="a 390 x 844 touch screen at 3 device pixels a CSS pixel")
    parser.add_argument("--old", default=OLD_PAGE, help="the commit of the older page")
    parser.add_argument("--latency-ms", type=float, default=0,
                        help="each request's added round trip (4G: about 100)")
    parser.add_argument("--down-kbps", type=float, default=0,
                        help="download bandwidth, kbit/s (0: not limited; 4G: about 9000)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    old = subprocess.run(["git", "show", f"{args.old}:api/web/map.html"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    pages = {"old": old, "new": (ROOT / "api/web/map.html").read_text(encoding="utf-8")}
    route = many_stop_route(args.stops, args.vans)
    network = None
    if args.latency_ms or args.down_kbps:
        down = args.down_kbps * 1000 / 8 if args.down_kbps else -1  # bytes/s; -1: not limited
        network = {"offline": False, "latency": args.latency_ms, "downloadThroughput": down,
                   "uploadThroughput": -1}
    with tempfile.TemporaryDirectory() as tmp:
        server, base = start_server(Path(tmp), args.lockers, args.roads)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                runs: dict[str, list[dict]] = {name: [] for name in pages}
                for _ in range(args.repeats):
                    for name, template in pages.items():
                        runs[name].append(
                            measure(browser, base, template, route, args.lockers, args.phone,
                                    network))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)
    screen = "phone 390x844@3x" if args.phone else "desktop 1000x700"
    if network:
        down = f"{args.down_kbps:g} kbit/s" if args.down_kbps else "bandwidth not limited"
        screen += f", +{args.latency_ms:g} ms a request, {down}"
    print(f"{args.lockers} lockers, a route of {args.stops} stops in {args.vans} vans, "
          f"synthetic:{args.roads} roads, {screen}; median of {args.repeats} (ms)")
    print(f"{'figure':<10}{'old':>10}{'new':>10}{'old/new':>10}")
    for figure in ("load", "draw", "searches", "route", "pan", "pan call", "pan busy",
                   "elements"):
        old_v, new_v = (statistics.median(r[figure] for r in runs[n]) for n in ("old", "new"))
        print(f"{figure:<10}{old_v:>10.0f}{new_v:>10.0f}{old_v / new_v:>10.2f}")


if __name__ == "__main__":
    main()
