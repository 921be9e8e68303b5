"""`gongpei solve`, `pool` and `demo` refuse bad input and bad options before any solving: exit
code 2 and one line naming the option or the item and field, never a traceback."""

from __future__ import annotations

import copy
import io
import json
import sys
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from api.cli import demo_cmd, solve_cmd
from api.cli.main import run
from routing.engines import Progress

NATIVE = {
    "locations": [{"lat": 36.066, "lon": 120.383}, {"lat": 36.070, "lon": 120.390}],
    "centres": [{"id": "hub", "location": 0}],
    "vehicles": [{"id": "v1", "start": "hub", "end": "hub"}],
    "jobs": [{"id": "a", "location": 1}],
    "travel": {"source": "straight_line"},
}
DAY = {
    "name": "two firms",
    "travel": {"straight_line": True, "walk_radius_m": 300},
    "firms": [
        {"id": "sf", "depot": [36.0900, 120.4100], "fleet": [{"count": 1}]},
        {"id": "yto", "depot": [36.0950, 120.4050], "fleet": [{"count": 1}]},
    ],
    "centres": [{"id": "hub", "at": [36.0800, 120.3950], "fleet": [{"count": 2}]}],
    "parcels": [
        {"id": "sf-1", "firm": "sf", "at": [36.0672, 120.3833]},
        {"id": "yto-1", "firm": "yto", "at": [36.0674, 120.3836]},
    ],
}


@pytest.fixture
def gongpei(monkeypatch, invoke_cli):
    """Run the real entry point; returns its exit code and its stderr as one string. Nothing
    may be solved: each case here must be refused first."""

    def no_solving(*_args, **_kwargs):
        raise AssertionError("solved although the command line was bad")

    monkeypatch.setattr(solve_cmd, "solve_problem", no_solving)
    monkeypatch.setattr("routing.pooling.compare.compare_day", no_solving)
    monkeypatch.setattr("api.scenario.runner.run_stage", no_solving)
    return invoke_cli


def one_line(err: str) -> str:
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def native_file(tmp_path: Path, **changes) -> str:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps({**NATIVE, **changes}))
    return str(path)


def day_file(tmp_path: Path, day: dict | None = None, text: str | None = None) -> str:
    path = tmp_path / "day.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(day or DAY))
    return str(path)


@pytest.mark.parametrize(
    ("travel", "expected"),
    [
        ("straight_line", 'error: travel: expected an object such as {"source": "straight_line"}'),
        ({"source": "teleport"}, "error: travel.source: 'teleport' is not a travel source"),
    ],
)
def test_solve_refuses_bad_travel(gongpei, tmp_path, travel, expected) -> None:
    problem = native_file(tmp_path, travel=travel)
    code, err = gongpei("solve", problem, "-o", str(tmp_path / "out.json"))
    assert code == 2 and one_line(err).startswith(expected)
    assert "choose from network, straight_line" in err or "source is one of network" in err


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["-o", "/nonexistent/dir/o.json"], "error: --output: cannot write /nonexistent/dir/"),
        (["-o", "{tmp}"], "error: --output: {tmp} is a folder, not a file"),
        (["-o", "{tmp}/o.json", "--geojson", "{tmp}/missing/r.geojson"], "error: --geojson: "),
        (["-o", "/proc/o.json"], "error: --output: cannot write /proc/o.json"),  # solved, then lost
        (["-o", "{tmp}/o.json", "--engine", "gurobi"], "error: engine: unknown engine 'gurobi' "
                                                       "(choose from auto, ortools, pyvrp)"),
        (["-o", "{tmp}/o.json", "--time-limit", "-1"], "error: --time-limit: must be positive"),
        (["-o", "{tmp}/o.json", "--time-limit", "inf", "--network", "{tmp}/map.osm"],
         "error: --time-limit: must be finite, got inf"),  # before the map is read
        (["-o", "{tmp}/problem.json"], "error: --output: {tmp}/problem.json is also the problem "
                                       "file; write it elsewhere"),
        (["-o", "{tmp}/o.json", "--geojson", "{tmp}/./o.json"],
         "error: --geojson: {tmp}/o.json is also the --output file; write it elsewhere"),
        (["-o", "{tmp}/o.json", "--network", "{tmp}/map.osm", "--geojson", "{tmp}/map.osm"],
         "error: --geojson: {tmp}/map.osm is also the --network map"),
        (["-o", "{tmp}/o.json", "--seed", "-3"],
         "error: --seed: must be a whole number from 0 to 4294967294, got -3"),  # PyVRP's range
        (["-o", "{tmp}/o.json", "--seed", "4294967295"], "error: --seed: must be a whole number"),
    ],
)  # fmt: skip
def test_solve_checks_its_options_before_solving(gongpei, tmp_path, options, expected) -> None:
    options = [o.replace("{tmp}", str(tmp_path)) for o in options]
    (tmp_path / "map.osm").write_text("<osm/>")
    problem = native_file(tmp_path)
    code, err = gongpei("solve", problem, *options)
    assert code == 2 and one_line(err).startswith(expected.replace("{tmp}", str(tmp_path)))
    assert not (tmp_path / "o.json").exists()
    assert json.loads(Path(problem).read_text()) == NATIVE  # an input is never overwritten
    assert (tmp_path / "map.osm").read_text() == "<osm/>"


def test_solve_progress_is_the_best_search_objective_so_far() -> None:
    out = io.StringIO()
    progress = solve_cmd.progress_printer(Console(file=out, width=200), every_s=1.0)
    for elapsed, cost in ((1.0, 3362.0), (1.5, 1500.0), (2.0, 1822.0), (3.0, 4874.0)):
        progress(Progress("ortools", elapsed, cost))
    progress(Progress("ortools", 4.0, None))
    lines = out.getvalue().splitlines()
    assert lines == [
        "  ortools   1.0s  best search objective so far 3362.00",
        "  ortools   2.0s  best search objective so far 1500.00",
        "  ortools   3.0s  best search objective so far 1500.00",
    ]


def test_pool_speaks_of_a_heavy_parcel_in_kg(gongpei, tmp_path) -> None:
    day = copy.deepcopy(DAY)
    day["parcels"][0]["kg"] = 5000
    code, err = gongpei("pool", day_file(tmp_path, day), "-o", str(tmp_path / "out"))
    assert code == 2
    assert one_line(err) == (
        "error: parcel 'sf-1': kg: 5000 kg is more than any vehicle of firm 'sf' carries "
        "(largest 800 kg)"
    )
    day["parcels"][0]["kg"] = 900  # the firm's own van takes it; the shared fleet does not
    day["firms"][0]["fleet"][0]["capacity_kg"] = 1000
    code, err = gongpei("pool", day_file(tmp_path, day), "-o", str(tmp_path / "out"))
    assert code == 2 and "vehicle of the shared centres carries (largest 800 kg)" in one_line(err)
    assert not (tmp_path / "out").exists()


def test_pool_yaml_error_is_one_line_with_its_place(gongpei, tmp_path) -> None:
    text = yaml.safe_dump(DAY).replace("firms:", "firms: [", 1)
    path = day_file(tmp_path, text=text)
    code, err = gongpei("pool", path, "-o", str(tmp_path / "out"))
    line = text[: text.index("- depot")].count("\n") + 1
    assert code == 2
    assert one_line(err) == (
        f"error: {path}:{line}:1: not valid YAML: expected the node content, but found '-' "
        "(while parsing a flow node)"
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--time-limit", "-1"], "error: --time-limit: must be positive, got -1.0"),
        (["--coalition-time-limit", "0"], "error: --coalition-time-limit: must be positive"),
        (["--coalition-time-limit", "inf"], "error: --coalition-time-limit: must be finite"),
        (["--time-limit", "inf"], "error: --time-limit: must be finite, got inf"),
        (["--shapley-precision", "inf"], "error: --shapley-precision: must be finite"),
        (["--engine", "gurobi"], "error: engine: unknown engine 'gurobi' (choose from auto, "),
        (["-o", "{day}"], "error: --outdir: cannot make folder {day}: {day} is a file"),
        (["-o", "{day}/out"], "error: --outdir: cannot make folder {day}/out: {day} is a file"),
        (["--seed", "-1"], "error: --seed: must be a whole number from 0 to 4294967294, got -1"),
        (["--shapley-precision", "-1"], "error: --shapley-precision: must be 0 or more, got -1.0"),
        (["--exact-max-firms", "-5"], "error: --exact-max-firms: must be 0 or more, got -5"),
        (["--shapley-precision", "2"], "error: --shapley-precision: must be a share below 1 "
                                       "(0.02 for 2 %), got 2"),
    ],
)
def test_pool_checks_its_options_before_solving(gongpei, tmp_path, options, expected) -> None:
    day = day_file(tmp_path)
    options = [o.replace("{day}", day) for o in options]
    code, err = gongpei("pool", day, "-o", str(tmp_path / "out"), *options)
    assert code == 2 and one_line(err).startswith(expected.replace("{day}", day))
    assert not (tmp_path / "out").exists()


def test_pool_caches_road_graphs_in_the_data_dir_by_default(monkeypatch, tmp_path) -> None:
    """As its help says: without --cache-dir the graphs go to $GONGPEI_DATA_DIR (those of
    scenario runs), not nowhere, so a second run does not build them again."""
    asked = []

    def travel_asked(_day, *, cache_dir):
        asked.append(cache_dir)
        raise SystemExit(0)

    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr("routing.pooling.travel.day_travel", travel_asked)
    monkeypatch.setattr(sys, "argv", ["gongpei", "pool", day_file(tmp_path), "-o", "out"])
    with pytest.raises(SystemExit):
        run()
    assert asked == [tmp_path / "data" / "graphs"]


def test_a_map_built_by_one_command_is_read_by_the_others_and_the_workers(
    monkeypatch, tmp_path
) -> None:
    """`network build`, `solve --network` and the server with its workers each had a cache
    folder of their own: one map was built and stored three times."""
    from api.jobs.runner import read_batch
    from routing.travel import road_graphs

    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(sys, "argv", ["gongpei", "network", "build", "demo", "--profile",
                                      "walk", "-o", str(tmp_path / "built")])  # fmt: skip
    with pytest.raises(SystemExit) as stop:
        run()
    assert stop.value.code in (0, None)
    (entry,) = (tmp_path / "data" / "graphs").glob("graph-*.pickle")
    graph = road_graphs(["walk"], network="demo", cache_dir=str(tmp_path / "data" / "graphs"))
    assert graph["walk"].graph["cache"] == "hit"
    import network.graph
    import routing.travel

    built, build = [], network.graph.build_graph
    monkeypatch.setattr(network.graph, "build_graph",
                        lambda *a, **kw: built.append(kw["cache_dir"]) or build(*a, **kw))
    routing.travel._graph.cache_clear()  # a fresh worker process
    stops = [[24.9384, 60.1699], [24.9410, 60.1710]]
    batch = {"vehicles": [{"id": 1, "start": stops[0], "profile": "walk"}],
             "jobs": [{"id": 1, "location": stops[1]}]}  # fmt: skip
    read_batch({"format": "vroom", "problem": batch, "network": "demo"})
    assert built == [str(tmp_path / "data" / "graphs")]
    assert list((tmp_path / "data" / "graphs").glob("graph-*.pickle")) == [entry]


def test_demo_keeps_a_folder_of_the_users_files(gongpei, tmp_path) -> None:
    folder = tmp_path / "precious"
    folder.mkdir()
    (folder / "thesis.txt").write_text("years of work")
    code, err = gongpei("demo", "-q", "-o", str(folder))
    assert code == 2
    assert (
        one_line(err) == f"error: {folder}: output folder is not empty (use --overwrite to "
        "replace it)"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["precious"]
    assert (folder / "thesis.txt").read_text() == "years of work"


@pytest.mark.parametrize(
    ("extra", "options", "replaced"),
    [(None, [], True), ("thesis.txt", [], False), ("thesis.txt", ["--overwrite"], True)],
)
def test_demo_replaces_only_its_own_output(monkeypatch, tmp_path, extra, options, replaced):
    """`make demo` run twice replaces the first run's output; a folder with anything else in it
    is replaced only with --overwrite."""
    folder = tmp_path / "demo-campus"
    (folder / "layers").mkdir(parents=True)
    (folder / "report.html").write_text("<html></html>")
    (folder / "summary.json").write_text(json.dumps({"scenario": {"file": str(demo_cmd.CAMPUS)}}))
    if extra:
        (folder / extra).write_text("mine")
    asked = []

    def run_scenario(_file, _outdir, *, quiet, overwrite):
        asked.append(overwrite)
        return {}

    monkeypatch.setattr("api.scenario.runner.run_scenario", run_scenario)
    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "argv", ["gongpei", "demo", "-q", *options])
    with pytest.raises(SystemExit) as done:
        run()
    assert done.value.code == 0 and asked == [replaced]
