"""The runner end to end on a small synthetic city, and bad input found only while running."""

import json
import re
import sys
from pathlib import Path

import pytest

from api.cli import main
from api.scenario.errors import ScenarioError
from api.scenario.runner import run_scenario
from routing.siting import curve as curve_mod

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SMALL_CITY = """\
name: small city
map: {source: "synthetic:500"}
demand: {source: road_nodes, points: 80, seed: 1}
lockers:
  existing: [{id: old-1, at: {rel: [0.5, 0.5]}, compartments: {S: 6, M: 3}}]
  candidates: {road_nodes: 30, compartments: {S: 10, M: 5, L: 2}}
siting: {radius_m: 400, budget: 3, time_limit_s: 5}
firms:
  - name: A
    depot: {rel: [0, 0]}
    fleet: [{profile: van, count: 2, capacity: 40}]
    parcels: {count: 15, seed: 1}
  - name: B
    depot: {rel: [1, 1]}
    fleet: [{profile: van, count: 2, capacity: 40}]
    parcels: {count: 15, seed: 2, time_windows: [{window: ["09:00", "12:00"], share: 0.5}]}
centres:
  - {id: hub, at: {rel: [0.5, 0.5]}, fleet: [{profile: van, count: 3, capacity: 60}]}
run: {time_limit_s: 1, shapley: exact}
"""


def _scenario(tmp_path: Path, text: str = SMALL_CITY) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("run")
    out = base / "out"
    run_scenario(_scenario(base), out, quiet=True)
    return out


def test_run_writes_summary_layers_report(small_run: Path) -> None:
    summary = json.loads((small_run / "summary.json").read_text())
    stages = summary["stages"]
    assert {s["status"] for s in stages.values()} == {"done"}, stages
    siting = summary["siting"]
    assert len(siting["opened"]) == 3 and siting["candidates"] == 31
    assert "old-1" in siting["opened"]  # an existing locker stays open
    curve = [p["share"] for p in siting["curve"]]
    assert curve == sorted(curve) and curve[2] >= siting["coverage"] - 1e-9  # capacity binds
    assert 0 <= siting["walk_m_mean"] <= siting["walk_m_p90"] <= 400
    plans = summary["plans"]
    assert plans["solo"]["parcels"] + plans["solo"]["unserved"] == 30
    assert plans["pooled"]["vehicle_km"] > plans["pooled"]["transfer_km"] > 0
    assert plans["pooled"]["transfer_trips"] >= 1 and plans["solo"]["transfer_km"] == 0
    assert summary["checker"]["ok"]
    shares = [firm["shares"]["pooled"] for firm in summary["firms"]]
    assert sum(shares) == pytest.approx(summary["splits"]["pooled"]["cost"], rel=1e-3)
    for name in (
        "roads",
        "demand",
        "depots",
        "lockers",
        "catchments",
        "routes_solo",
        "routes_pooled",
        "routes_lockers",
    ):
        layer = json.loads((small_run / "layers" / f"{name}.geojson").read_text())
        assert layer["type"] == "FeatureCollection" and layer["features"], name
    html = (small_run / "report.html").read_text()
    assert "small city" in html and 'id="plans-table"' in html
    for plot in ("coverage_curve", "firm_costs", "route_profiles"):
        assert (small_run / "plots" / f"{plot}.png").is_file()
    assert not list(small_run.parent.glob(".out.partial-*"))


@pytest.mark.browser
def test_run_report_renders_in_chromium(small_run: Path, render_report) -> None:
    page = render_report(small_run / "report.html", "scenario-report-small-city.png", STOP_POPUP)
    assert page["overlays"] >= 5 and page["plots"] and page["tables"] >= 3
    # a stop on the map opens to its parcel and its times as a clock
    assert re.search(r"<b>id</b>: \S+<br>.*<b>arrival</b>: \d+:\d\d<br>", page["probe"])


#: Opens the first stop's popup on the report's map and returns its text.
STOP_POPUP = """() => {
  const stops = [];
  map.eachLayer(l => {
    if (l.feature && l.feature.properties.arrival_s !== undefined) stops.push(l);
  });
  if (!stops.length) return "";
  stops[0].openPopup();
  return stops[0].getPopup().getContent();
}"""


def test_route_layers_add_up_to_each_plans_cost(small_run: Path) -> None:
    """A route's cost counts the driver's paid time at stops, as the plan's cost does: the
    routes and line haul on the map add up to the plan's cost in the summary."""
    plans = json.loads((small_run / "summary.json").read_text())["plans"]
    for kind in ("solo", "pooled", "lockers"):
        layer = json.loads((small_run / "layers" / f"routes_{kind}.geojson").read_text())
        costs = [f["properties"]["cost"] for f in layer["features"] if "cost" in f["properties"]]
        assert plans[kind]["unserved"] == 0, kind
        assert sum(costs) == pytest.approx(plans[kind]["cost"], abs=0.05), kind


def test_routes_follow_roads(small_run: Path) -> None:
    routes = json.loads((small_run / "layers" / "routes_pooled.geojson").read_text())
    roads = json.loads((small_run / "layers" / "roads.geojson").read_text())
    road_points = {tuple(c) for f in roads["features"] for c in f["geometry"]["coordinates"]}
    lines = [f for f in routes["features"] if f["geometry"]["type"] == "LineString"]
    coords = [tuple(c) for f in lines for c in f["geometry"]["coordinates"]]
    on_roads = sum(c in road_points for c in coords)
    assert on_roads / len(coords) > 0.5  # stops themselves may lie between road nodes
    # Each firm's line haul, depot to hub and back, is drawn on the roads too.
    hauls = [
        f["properties"]
        for f in routes["features"]
        if f["properties"]["vehicle"] == "line haul to hub"
    ]
    assert sorted(h["firm"] for h in hauls) == ["A", "B"]
    assert all(h["trips"] == 1 and h["parcels"] == 15 for h in hauls)
    # on a road map a route says how far its courier walks between the road and the doors
    delivering = [
        f["properties"]
        for f in lines
        if not f["properties"]["vehicle"].startswith("line haul")
    ]
    assert delivering and all(isinstance(p["walked_m"], int) for p in delivering)


def test_route_layers_show_each_stop_with_its_task_and_times(small_run: Path) -> None:
    """A planner clicking a route on the report sees where it stops, for which parcel and
    when: each plan's stops layer (beside its routes) has a Point per stop with its task id and
    times, as `gongpei pool` writes them, and each route line counts the stops its Points show."""
    summary = json.loads((small_run / "summary.json").read_text())
    for kind in ("solo", "pooled", "lockers"):
        layer = json.loads((small_run / "layers" / f"routes_{kind}.geojson").read_text())
        stops = json.loads((small_run / "layers" / f"routes_{kind}_stops.geojson").read_text())
        points = [f["properties"] for f in stops["features"]]
        tasks = [p for p in points if p["type"] not in ("start", "end")]
        assert tasks, kind
        assert all(p["id"] and p["departure_s"] >= p["arrival_s"] >= 0 for p in tasks), kind
        for line in layer["features"]:
            props = line["properties"]
            if line["geometry"]["type"] == "LineString" and "line haul" not in props["vehicle"]:
                mine = [p for p in tasks if p["vehicle"] == props["vehicle"]]
                assert props["stops"] == len(mine), (kind, props["vehicle"])
        # the plots' profiles count the same stops
        profiles = [r for r in summary["routes"] if r["plan"] == kind]
        assert sum(r["stops"] for r in profiles) == len(tasks), kind


def test_bbox_with_no_roads_names_the_line(tmp_path: Path) -> None:
    text = SMALL_CITY.replace(
        'map: {source: "synthetic:500"}', "map:\n  source: demo\n  bbox: [10.0, 10.0, 10.01, 10.01]"
    )
    out = tmp_path / "out"
    with pytest.raises(ScenarioError, match=r"scenario\.yaml:4: map\.bbox: "):
        run_scenario(_scenario(tmp_path, text), out, quiet=True)
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["scenario.yaml"]


def test_real_site_without_map_says_which_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"needs --map FILE: an OSM extract covering"):
        run_scenario(SCENARIOS / "qingdao-laoshan-campus.yaml", tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()


def test_missing_map_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"--map .*nope\.osm: file not found"):
        run_scenario(
            _scenario(tmp_path), tmp_path / "out", map_file=tmp_path / "nope.osm", quiet=True
        )


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str):
    """Run the `gongpei` entry point in-process (its startup imports are slow in a subprocess)."""
    monkeypatch.setattr(sys, "argv", ["gongpei", *args])
    with pytest.raises(SystemExit) as done:
        main.run()
    return done.value.code, capsys.readouterr()


def test_cli_run_quiet_and_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    scenario = _scenario(
        tmp_path,
        SMALL_CITY.replace("budget: 3", "budget: 2").replace("shapley: exact", 'shapley: "off"'),
    )
    out = tmp_path / "out"
    code, io = _cli(
        monkeypatch,
        capsys,
        "scenario",
        "run",
        str(scenario),
        "-o",
        str(out),
        "--quiet",
        "--time-limit",
        "0.3",
    )
    assert code == 0, io.err
    assert io.out.strip() == f"report: {(out / 'report.html').resolve()}"
    # warnings only: here the demand no candidate reaches (the siting stage's note)
    assert [line.split(":")[0] for line in io.err.splitlines()] == ["WARNING gongpei.scenario"]
    assert "have no candidate site within" in io.err
    code, io = _cli(monkeypatch, capsys, "scenario", "run", str(scenario), "-o", str(out), "-q")
    assert code == 2
    assert (
        io.err.strip() == f"error: {out}: output folder is not empty "
        "(use --overwrite to replace it)"
    )


def test_no_candidate_sites_names_the_setting(tmp_path: Path) -> None:
    text = SMALL_CITY.replace(
        "  existing: [{id: old-1, at: {rel: [0.5, 0.5]}, compartments: {S: 6, M: 3}}]\n", ""
    )
    text = text.replace("{road_nodes: 30, compartments: {S: 10, M: 5, L: 2}}", "{road_nodes: 0}")
    with pytest.raises(ScenarioError, match=r"scenario\.yaml:5: lockers\.candidates: no candidate"):
        run_scenario(_scenario(tmp_path, text), tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()


def test_missing_stage_module_is_reported_not_faked() -> None:
    from api.scenario.runner import Run, StageUnavailable, need, run_stage

    with pytest.raises(StageUnavailable, match=r"routing\.nowhere is not part of this build"):
        need("routing.nowhere")
    run = Run(loaded=None, source="demo", progress=None)
    run_stage(run, "siting", lambda r: need("routing.nowhere"))
    run_stage(run, "plans", lambda r: None, after=("siting",))
    assert run.stages["siting"] == {
        "status": "unavailable",
        "note": "routing.nowhere is not part of this build",
    }
    assert run.stages["plans"] == {"status": "skipped", "note": "needs siting"}


@pytest.mark.slow
@pytest.mark.parametrize("model", ["set_cover", "p_median"])
def test_other_siting_models(model: str, tmp_path: Path) -> None:
    summary = run_scenario(
        _scenario(tmp_path),
        tmp_path / "out",
        quiet=True,
        overrides=[f"siting.model={model}", "siting.capacitated=false", 'run.shapley="off"'],
    )
    siting = summary["siting"]
    assert summary["stages"]["siting"]["status"] == "done" and siting["model"] == model
    if model == "p_median":
        assert len(siting["opened"]) == 3
    else:  # every coverable point is covered: at least what any number of lockers reaches
        assert siting["coverage"] >= max(p["share"] for p in siting["curve"]) - 1e-9
        assert len(siting["opened"]) > 3


def test_without_locker_drops_no_drops_plan_is_reported(tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = run_scenario(
        _scenario(tmp_path),
        out,
        quiet=True,
        time_limit_s=0.3,
        overrides=["run.locker_drops=false", 'run.shapley="off"'],
    )
    assert list(summary["plans"]) == ["solo", "pooled"]
    assert summary["solves"] == 3  # each firm alone and pooled: no drops plan solved unreported
    assert list(summary["savings_vs_solo"]) == ["pooled"] and "locker_drops" not in summary
    assert {route["plan"] for route in summary["routes"]} == {"solo", "pooled"}
    assert all(
        not key.startswith("lockers_") and key != "parcels_in_lockers"
        for row in summary["firms_table"]
        for key in row
    )
    assert all("parcels_in_lockers" not in firm for firm in summary["firms"])
    assert not (out / "layers" / "routes_lockers.geojson").exists()


def test_cli_refuses_a_time_limit_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    missing = tmp_path / "not-read.yaml"  # the option is refused before the file is read
    for command, value in (("run", "0"), ("sweep", "-2")):
        args = ["--set", "siting.budget=1,2"] if command == "sweep" else []
        code, io = _cli(
            monkeypatch,
            capsys,
            "scenario",
            command,
            str(missing),
            *args,
            "-o",
            str(tmp_path / "out"),
            "--time-limit",
            value,
        )
        assert (
            code == 2
            and io.err.strip() == f"error: --time-limit: must be positive, got {float(value)}"
        )
    assert [p.name for p in tmp_path.iterdir()] == []


def test_time_limit_caps_only_when_given() -> None:
    from api.scenario.runner import Run

    assert Run(loaded=None, source="demo", progress=None).limit(5.0) == 5.0
    assert Run(loaded=None, source="demo", progress=None, time_limit_s=0.25).limit(5.0) == 0.25
    # 0 is not "no cap": the command refuses it, and the library passes it on to be refused
    assert Run(loaded=None, source="demo", progress=None, time_limit_s=0.0).limit(5.0) == 0.0


def test_coverage_curve_keeps_the_sitings_capacities(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A capacitated siting's curve counts the parcels its lockers have room for, as the siting
    itself does (as `gongpei site --curve` does): it counted every parcel within walking reach,
    so the chosen plan sat far below its own budget's point; the plot labels the curve so."""
    plotted: dict = {}
    real = curve_mod.plot_curve

    def plot_curve(*args, **kwargs):
        plotted.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(curve_mod, "plot_curve", plot_curve)
    siting_only = _scenario(tmp_path, SMALL_CITY.split("firms:")[0])
    summary = run_scenario(
        siting_only, tmp_path / "out", quiet=True, overrides=["siting.capacitated=true"]
    )
    siting = summary["siting"]
    at_budget = next(p for p in siting["curve"] if p["lockers"] == len(siting["opened"]) == 3)
    assert siting["capacitated"] and siting["coverage"] < 0.1  # the lockers' room binds
    assert at_budget["share"] == pytest.approx(siting["coverage"], rel=0.01)
    assert plotted["capacitated"] and plotted["curve_capacitated"]
