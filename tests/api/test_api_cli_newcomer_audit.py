"""Defects a newcomer found using only the `gongpei` command line: an output written into a
built-graph folder replaced the graph's own files, `network build --overwrite` deleted the map
it read, a SIGTERM left a graph's temporary folder, an unsupported database URL given to
`gongpei reservations` was a traceback, and a demo whose plans failed the checker exited 0."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import pytest
from cli_killed import DAY, killed_run

from api.cli import solve_cmd
from api.cli.main import app, run

PROBLEM = Path(__file__).resolve().parents[2] / "routing" / "examples" / "problem.json"
HELSINKI = "24.935,60.164,24.953,60.179"  # the README's `network build demo --bbox`


@pytest.fixture
def graph_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke_cli) -> Path:
    """A small built graph (`gongpei network build synthetic:100`) and a points file on it."""
    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "city"
    code, err = invoke_cli("network", "build", "synthetic:100", "-o", str(folder))
    assert code in (0, None), err
    return folder


@pytest.fixture
def points(graph_folder: Path, tmp_path: Path) -> Path:
    """Two points on that graph (at the middle of its extent)."""
    west, south, east, north = json.loads((graph_folder / "info.json").read_text())["extent_wsen"]
    lat, lon = (south + north) / 2, (west + east) / 2
    path = tmp_path / "points.csv"
    path.write_text(f"id,lat,lon\na,{lat},{lon}\nb,{lat + 0.001},{lon + 0.001}\n")
    return path


@pytest.mark.parametrize("inside", ["info.json", "graph.pickle", "new.npz", "sub/new.npz"])
def test_a_matrix_is_never_written_into_the_graph_folder(
    graph_folder: Path, points: Path, invoke_cli, inside: str
) -> None:
    """`-o out/hel/info.json` replaced the folder's summary with the .npz: `network info` was
    then a traceback and every later `network matrix` or `solve --network` lost the graph."""
    (graph_folder / "sub").mkdir()
    before = {p.name: p.read_bytes() for p in graph_folder.iterdir() if p.is_file()}
    out = graph_folder / inside
    code, err = invoke_cli("network", "matrix", str(graph_folder), str(points), "-o", str(out))
    assert code == 2
    assert err == f"error: --out: {out} is inside the graph folder; write it elsewhere"
    assert {p.name: p.read_bytes() for p in graph_folder.iterdir() if p.is_file()} == before


def test_solve_writes_no_plan_into_its_network_folder(
    tmp_path: Path, invoke_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same check guards `gongpei solve --network FOLDER`: its plan would have replaced the
    graph it was timed on, after the solve (the README's `out/hel`, the example's map)."""
    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "hel"
    code, err = invoke_cli("network", "build", "demo", "--bbox", HELSINKI, "-o", str(folder))
    assert code in (0, None), err

    def no_solving(*_args, **_kwargs):
        raise AssertionError("solved although the output was refused")

    monkeypatch.setattr(solve_cmd, "solve_problem", no_solving)
    out = folder / "graph.pickle"
    code, err = invoke_cli("solve", str(PROBLEM), "--network", str(folder), "-o", str(out))
    assert code == 2
    assert err == f"error: --output: {out} is inside the --network map; write it elsewhere"


def test_an_output_beside_the_graph_folder_is_still_written(
    graph_folder: Path, points: Path, tmp_path: Path, invoke_cli
) -> None:
    """Only the folder's inside is refused: a file next to it (its name the folder's and more,
    `city.npz` beside `city/`) is an ordinary output."""
    out = tmp_path / "city.npz"
    code, err = invoke_cli("network", "matrix", str(graph_folder), str(points), "-o", str(out))
    assert code in (0, None), err
    assert out.is_file()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://x@localhost/gongpei", "mysql is not supported"),
        ("postgresql+nosuchdriver://x@localhost/gongpei", "is not installed"),
    ],
)
def test_reservations_refuse_a_database_they_cannot_use_in_one_line(
    invoke_cli, url: str, expected: str
) -> None:
    """A MySQL URL was a 30-line ModuleNotFoundError (exit 1); every other platform command
    names GONGPEI_DATABASE_URL (the option's variable) in one line with exit code 2."""
    code, err = invoke_cli("reservations", "release", "0" * 32, "--database-url", url)
    assert code == 2
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("error: GONGPEI_DATABASE_URL: ") and expected in err, err


TINY_OSM = """<?xml version="1.0"?>
<osm version="0.6">
<node id="1" lat="32.0400" lon="118.7800"/><node id="2" lat="32.0400" lon="118.7810"/>
<node id="3" lat="32.0410" lon="118.7810"/><node id="4" lat="32.0410" lon="118.7800"/>
<way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
<tag k="highway" v="residential"/></way>
</osm>
"""


@pytest.mark.parametrize("which", ["map", "polygon"])
def test_network_build_overwrite_never_deletes_its_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke_cli, which: str
) -> None:
    """`network build city.osm -o . --overwrite` (the map kept beside where its graph goes)
    replaced the folder, deleting the OSM file it had just read; `pool` and `scenario run`
    refuse such a folder, and so does `network build` now, before building anything."""
    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path / "data"))
    maps, work = tmp_path / "maps", tmp_path / "work"
    maps.mkdir()
    work.mkdir()
    osm = (maps if which == "map" else work) / "city.osm"
    osm.write_text(TINY_OSM)
    polygon = (work if which == "map" else maps) / "area.geojson"
    ring = [[118.779, 32.039], [118.782, 32.039], [118.782, 32.042], [118.779, 32.042]]
    polygon.write_text(json.dumps({"type": "Polygon", "coordinates": [[*ring, ring[0]]]}))
    what, inside = ("the OSM file", osm) if which == "map" else ("the --polygon file", polygon)
    code, err = invoke_cli(
        "network", "build", str(osm), "--polygon", str(polygon), "-o", str(maps), "--overwrite"
    )
    assert code == 2
    assert err == (
        f"error: --out: {maps} holds {what} {inside}, which --overwrite would delete; "
        "write it elsewhere"
    )
    assert osm.read_text() == TINY_OSM and polygon.is_file()
    code, err = invoke_cli(
        "network", "build", str(osm), "--polygon", str(polygon), "-o", str(work / "graph")
    )
    assert code in (0, None), err  # the same inputs build where they are not in the way


@pytest.mark.parametrize(("violations", "code"), [(None, 0), (["pooled: r1 late"] * 4, 1)])
def test_demo_fails_when_the_checker_finds_violations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, violations, code
) -> None:
    """A demo whose plans broke the day's rules ended with code 0 and said so only in
    summary.json; `pool` and `solve` exit with 1 then, and so does the demo now."""
    checker = {"ok": not violations, "violations": violations or []}
    monkeypatch.setattr(
        "api.scenario.runner.run_scenario", lambda *_a, **_k: {"checker": checker, "plans": {}}
    )
    monkeypatch.setattr(sys, "argv", ["gongpei", "demo", "-q", "-o", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as done:
        run()
    assert (done.value.code or 0) == code
    err = capsys.readouterr().err.strip()
    if violations:
        assert err == (
            "error: the checker found violations in the plans: pooled: r1 late; pooled: r1 "
            "late; pooled: r1 late; and 1 more"
        )
    else:
        assert "error" not in err


KILLED_WHILE_WRITING = """
import os, signal, sys
import network.store
def killed(*_args, **_kwargs):  # SIGTERM arrives while the graph's files are being written
    os.kill(os.getpid(), signal.SIGTERM)
network.store._write_graphml = killed
sys.argv = ["gongpei", "network", "build", "synthetic:100", "-o", sys.argv[1]]
from api.cli.main import app, run
run()
"""


def test_network_build_stopped_by_sigterm_leaves_no_temporary_folder(tmp_path: Path) -> None:
    """`kill` (a scheduler's stop) during `network build` left the hidden `.OUT.tmp-*` folder
    beside OUT (36 MB at 100,000 nodes, GBs for a province); `network matrix` already exited
    through its clean-up on SIGTERM, and so does `build` now: exit code 143, nothing left."""
    done = killed_run(tmp_path, [str(tmp_path / "city")], script=KILLED_WHILE_WRITING)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


@pytest.mark.parametrize("command", ["pool", "demo"])
def test_a_run_stopped_by_sigterm_leaves_no_staging_folder(tmp_path: Path, command: str) -> None:
    """`kill` during `pool` or `demo` left the hidden `.OUT.partial-*` folder their outputs
    are staged in; inside an existing (empty) output folder it then made the next run refuse
    the folder as "not empty". Now they exit 143 through the clean-up, as Ctrl-C does."""
    (tmp_path / "day.yaml").write_text(DAY)
    out = tmp_path / "out"
    out.mkdir()
    args = {"pool": ["pool", "day.yaml", "-o", "out"], "demo": ["demo", "-q", "-o", "out"]}
    done = killed_run(tmp_path, args[command])
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert list(out.iterdir()) == []


def test_pool_help_says_how_its_limits_and_permutations_apply() -> None:
    """`--min-time-limit` said only "Seconds, at least." and `--permutations` hid that orders
    come in antithetic pairs (`--permutations 2` samples 4): the help now says what the
    library does, and the library does what it says."""
    from typer.testing import CliRunner

    from routing.pooling.shapley import _pairs

    result = CliRunner().invoke(app, ["pool", "--help"], env={"COLUMNS": "400"})
    shown = " ".join(result.output.split())
    assert "Seconds at least for any one solve, however small." in shown
    assert "(in antithetic pairs: rounded up to an even number, at least 4)" in shown
    assert "(a firm alone: its share of the parcels)" in shown
    assert [2 * _pairs(n) for n in (1, 2, 3, 4, 5, 100)] == [4, 4, 4, 4, 6, 100]
