"""`gongpei site` end to end: both OR-Library formats, native input on the demo map, errors."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from routing.siting.errors import CandidateOffGraphError, SitingInputError

ROOT = Path(__file__).resolve().parents[2]
PMED = " 4 4 2\n 1 2 9\n 2 3 1\n 3 4 5\n 2 1 1\n"
CAP = " 2 3\n 10 100.\n 10 50.\n 4\n 8 40\n 6\n 12 6\n 5\n 10 20.\n"


def gongpei(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "api.cli.main", "site", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


class _Run:
    def __init__(self, result):
        self.returncode = result.exit_code
        self.stdout, self.stderr = result.stdout, result.stderr
        self.exception = result.exception


def site(*args: str) -> _Run:
    """The same command in this process (no interpreter start-up): errors stay exceptions."""
    from typer.testing import CliRunner

    from api.cli.main import app

    return _Run(CliRunner().invoke(app, ["site", *args]))


def test_orlib_pmed(tmp_path):
    (tmp_path / "p.txt").write_text(PMED)
    out = tmp_path / "out.json"
    run = site(str(tmp_path / "p.txt"), "--format", "orlib-pmed", "-o", str(out))
    assert run.returncode == 0, run.exception
    plan = json.loads(out.read_text())
    assert plan["open_site_ids"] == [2, 4]  # OR-Library's own numbers
    assert plan["summary"]["objective"] == 2.0 and plan["summary"]["optimal"]
    assert "optimal" in run.stdout


def test_orlib_cap_lists_amounts_served(tmp_path):
    (tmp_path / "c.txt").write_text(CAP)
    out = tmp_path / "out.json"
    run = site(
        str(tmp_path / "c.txt"), "--format", "orlib-cap", "-o", str(out), "--time-limit", "20"
    )
    assert run.returncode == 0, run.exception
    plan = json.loads(out.read_text())
    amounts = {(a["demand"], a["site"]): a["parcels"] for a in plan["assignment"]}
    assert amounts == {(1, 1): 4.0, (2, 2): 6.0, (3, 1): 5.0}
    assert plan["open_site_ids"] == [1, 2]
    summary = plan["summary"]
    assert summary["objective"] == pytest.approx(174.0)
    assert (summary["fixed_cost"], summary["allocation_cost"]) == pytest.approx((150.0, 24.0))
    assert summary["capacity_shortfall"] is False


@pytest.mark.slow  # a fresh interpreter importing the whole CLI
def test_bad_file_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "p.txt").write_text(" 4 1 2\n 1 9 3\n")
    run = gongpei(str(tmp_path / "p.txt"), "--format", "orlib-pmed", "-o", str(tmp_path / "o.json"))
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0
    assert "line 2" in run.stderr and "outside vertices" in run.stderr
    assert not (tmp_path / "o.json").exists()


def test_p_too_large_from_the_command_line(tmp_path):
    (tmp_path / "p.txt").write_text(PMED)
    run = site(
        str(tmp_path / "p.txt"),
        "--format",
        "orlib-pmed",
        "--p",
        "9",
        "-o",
        str(tmp_path / "o.json"),
    )
    assert isinstance(run.exception, SitingInputError)
    assert "p=9 is larger than the 4 candidate sites" in str(run.exception)


def test_native_on_a_synthetic_map_with_points(tmp_path):
    spec = {
        "name": "grid",
        "map": "synthetic:400",
        "radius_m": 600,
        "demand": [
            {
                "id": "d1",
                "lat": 36.0675,
                "lon": 120.3835,
                "parcels": 30,
                "mix": {"S": 0.5, "M": 0.4, "L": 0.1},
            },
            {"id": "d2", "lat": 36.0690, "lon": 120.3850, "parcels": 20},
        ],
        "candidates": [{"id": "c1", "lat": 36.0680, "lon": 120.3840, "fixed_cost": 100}],
        "model": {"kind": "setcover", "sizing": {"dwell_days": 1, "max_compartments": 100}},
    }
    (tmp_path / "n.json").write_text(json.dumps(spec))
    out = tmp_path / "o.json"
    run = site(str(tmp_path / "n.json"), "--format", "native", "-o", str(out))
    assert run.returncode == 0, run.exception
    plan = json.loads(out.read_text())
    (locker,) = plan["sites"]
    assert locker["id"] == "c1" and sum(locker["compartments"].values()) == 50
    assert plan["summary"]["unserved_parcels"] == pytest.approx(0.0)


def test_native_candidate_off_the_walk_graph(tmp_path):
    spec = {
        "map": "synthetic:400",
        "radius_m": 500,
        "demand": [{"id": "d1", "lat": 36.0675, "lon": 120.3835, "parcels": 3}],
        "candidates": [{"id": "in-the-sea", "lat": 36.0, "lon": 120.6}],
        "model": {"kind": "maxcover", "p": 1},
    }
    (tmp_path / "n.json").write_text(json.dumps(spec))
    run = site(str(tmp_path / "n.json"), "--format", "native", "-o", str(tmp_path / "o.json"))
    assert isinstance(run.exception, CandidateOffGraphError)
    assert "in-the-sea" in str(run.exception) and "walk graph" in str(run.exception)


def test_native_from_the_demo_map_buildings(tmp_path):
    spec = {
        "name": "helsinki-demo",
        "map": "demo",
        "radius_m": 400,
        "demand": {"from_buildings": True},
        "candidates": {"from_buildings": True, "min_area_m2": 1500, "fixed_cost": 20000},
        "existing": [{"id": "kamppi", "lat": 60.1690, "lon": 24.9320}],
        "model": {"kind": "maxcover", "p": 4},
    }
    (tmp_path / "n.json").write_text(json.dumps(spec))
    out, gj, png = tmp_path / "o.json", tmp_path / "o.geojson", tmp_path / "c.png"
    run = site(
        str(tmp_path / "n.json"),
        "--format",
        "native",
        "-o",
        str(out),
        "--geojson",
        str(gj),
        "--curve",
        str(png),
        "--curve-max",
        "5",
    )
    assert run.returncode == 0, run.exception
    plan = json.loads(out.read_text())
    assert "kamppi" in plan["open_site_ids"] and len(plan["open_site_ids"]) == 4
    assert plan["summary"]["optimal"] and plan["summary"]["served_parcels"] > 0
    shares = [c["share"] for c in plan["coverage_curve"]]
    assert shares == sorted(shares) and len(shares) == 5
    features = json.loads(gj.read_text())["features"]
    assert sum(f["properties"]["kind"] == "locker" for f in features) == 4
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_sized_set_cover_on_the_demo_map_gets_a_bound(tmp_path):
    # every campus building served, each new locker sized: SCIP's root LP once stalled for the
    # whole limit on this 848-row MIP (its "bound" -8.6e10), because the unserved slack was
    # priced as if every site held max_compartments large compartments; now priced from the
    # parcels, it reaches 0.3 % in 3 s here
    spec = {
        "map": "demo",
        "radius_m": 300,
        "demand": {"from_buildings": True},
        "candidates": {"from_buildings": True, "min_area_m2": 1500},
        "model": {"kind": "setcover", "sizing": {"dwell_days": 1.5, "max_compartments": 120}},
    }
    (tmp_path / "n.json").write_text(json.dumps(spec))
    out = tmp_path / "o.json"
    run = site(str(tmp_path / "n.json"), "--format", "native", "-o", str(out), "--time-limit", "8")
    assert run.returncode == 0, run.exception
    summary = json.loads(out.read_text())["summary"]
    assert summary["coverage"] == pytest.approx(1.0, abs=1e-9)
    assert 0 < summary["bound"] <= summary["objective"] and summary["gap"] < 0.05, summary


TINY = {
    "name": "tiny",
    "straight_line": True,
    "radius_m": 300,
    "demand": [
        {"id": "a", "lat": 36.0675, "lon": 120.3835, "parcels": 30},
        {"id": "b", "lat": 36.0720, "lon": 120.3835, "parcels": 20},
    ],
    "candidates": [
        {"id": "ca", "lat": 36.0676, "lon": 120.3835, "fixed_cost": 100, "capacity": 40},
        {"id": "cb", "lat": 36.0721, "lon": 120.3835, "fixed_cost": 150, "capacity": 40},
    ],
    "model": {"kind": "maxcover", "p": 1},
}


def _tiny(tmp_path, **model) -> Path:
    path = tmp_path / "n.json"
    path.write_text(json.dumps({**TINY, "model": {**TINY["model"], **model}}))
    return path


@pytest.mark.parametrize(
    ("model", "args", "needle"),
    [
        # options that did nothing: now each is an error naming it and why
        (
            {"kind": "setcover", "p": None, "sizing": {}},
            ["--uncapacitated"],
            "--uncapacitated: the file's model has a sizing",
        ),
        ({}, ["--model", "setcover", "--budget", "1"], "--budget does not apply: a setcover"),
        ({}, ["--model", "facility", "--p", "1"], "--p does not apply: a facility model"),
        ({}, ["--radius", "500"], "--radius 500: wider than the input's radius_m 300"),
        # --gap -1 printed SCIP's errors and "gap 100.000%"
        ({}, ["--gap", "-1"], r"--gap must be a relative gap >= 0 \(e.g. 0.01\), got -1.0"),
        ({}, ["--gap", "nan"], "--gap must be a relative gap >= 0"),
        ({}, ["--time-limit", "0"], "--time-limit must be a number of seconds > 0"),
        # a wrongly typed file value: a traceback or the wrong plan before
        ({"p": "1"}, [], "model: field 'p' must be a whole number, got '1'"),
        ({"capacitated": "false"}, [], "model: field 'capacitated' must be true or false"),
        # --model of another kind made a fresh model: the file's options went silently
        (
            {},
            ["--model", "setcover"],
            "--model setcover: the native input's maxcover model sets p 1, which does not apply",
        ),
        (
            {"kind": "pmedian", "unserved_penalty": 900},
            ["--model", "maxcover"],
            "the native input's pmedian model sets unserved_penalty 900, which does not apply",
        ),
        # the file's budget is kept, so too small for two lockers
        (
            {"p": None, "budget": 120},
            ["--model", "pmedian", "--p", "2"],
            "budget 120 is below the 250 that the cheapest 2 lockers cost",
        ),
    ],
)
def test_options_and_values_that_would_mislead_are_refused(tmp_path, model, args, needle):
    out = tmp_path / "o.json"
    run = site(str(_tiny(tmp_path, **model)), "--format", "native", "-o", str(out), *args)
    assert isinstance(run.exception, SitingInputError), run.exception
    assert re.search(needle, str(run.exception)), str(run.exception)
    assert not out.exists()


def test_narrower_radius_and_budget_still_apply(tmp_path):
    out = tmp_path / "o.json"
    path = _tiny(tmp_path, p=None, budget=120)
    run = site(str(path), "--format", "native", "-o", str(out), "--radius", "100")
    assert run.returncode == 0, run.exception
    plan = json.loads(out.read_text())
    assert plan["open_site_ids"] == ["ca"] and plan["summary"]["served_parcels"] == 30


def test_outputs_are_checked_before_solving(tmp_path, monkeypatch):
    import api.cli.site_cmd as site_cmd

    def no_solve(*args, **kwargs):
        raise AssertionError("solved although an output cannot be written")

    monkeypatch.setattr(site_cmd, "solve", no_solve)
    path, out = _tiny(tmp_path), tmp_path / "o.json"
    (tmp_path / "a-file").write_text("keep me")
    (tmp_path / "p.txt").write_text(PMED)
    for args, needle in (
        (["--geojson", str(tmp_path / "a-file" / "x.geojson")], "a folder on its path is a file"),
        (["--curve", str(tmp_path)], "is a folder, not a file"),
        (["--curve", str(path)], "is also the input file"),
    ):
        run = site(str(path), "--format", "native", "-o", str(out), *args)
        assert isinstance(run.exception, SitingInputError), run.exception
        assert needle in str(run.exception)
        assert not out.exists()
    # OR-Library files have no coordinates: --geojson wrote an empty FeatureCollection
    run = site(str(tmp_path / "p.txt"), "--format", "orlib-pmed", "-o", str(out), "--geojson", "g")
    assert "--geojson: OR-Library input has no coordinates" in str(run.exception)
    run = site(str(tmp_path), "--format", "orlib-cap", "-o", str(out))  # a folder as input
    assert "cannot read it" in str(run.exception)
    assert (tmp_path / "a-file").read_text() == "keep me" and path.exists() and not out.exists()


def test_geojson_folder_is_made_like_the_others(tmp_path):
    out, gj = tmp_path / "o.json", tmp_path / "new" / "x.geojson"
    run = site(str(_tiny(tmp_path)), "--format", "native", "-o", str(out), "--geojson", str(gj))
    assert run.returncode == 0, run.exception
    assert json.loads(gj.read_text())["features"] and out.exists()


def test_curve_points_carry_bounds_and_mark_the_plan(tmp_path, monkeypatch):
    # the curve was solved by the heuristic alone, unproven and below the plan it sat beside
    import routing.siting.curve as curve_mod

    drawn = {}
    monkeypatch.setattr(curve_mod, "plot_curve", lambda points, path, **kw: drawn.update(kw))
    out = tmp_path / "o.json"
    args = ("--format", "native", "-o", str(out), "--curve", str(tmp_path / "c.png"))
    run = site(str(_tiny(tmp_path)), *args, "--curve-max", "2")
    assert run.returncode == 0, run.exception
    plan = json.loads(out.read_text())
    points = plan["coverage_curve"]
    assert [c["lockers"] for c in points] == [1, 2]
    assert all(c["bound"] is not None and c["gap"] == 0.0 for c in points)
    assert points[0]["covered_parcels"] == plan["summary"]["objective"] == 30.0
    assert drawn["chosen"] == (1, pytest.approx(0.6)) and drawn["radius_m"] == 300


SIZED = {"sizing": {"dwell_days": 1.0, "max_compartments": 10}}  # 10 parcels a day a locker


def test_another_model_kind_keeps_the_files_sizing(tmp_path):
    # --model pmedian on a sized maxcover file planned unsized lockers taking all 30 parcels
    out = tmp_path / "o.json"
    run = site(
        str(_tiny(tmp_path, **SIZED)), "--format", "native", "-o", str(out), "--model", "pmedian"
    )
    assert run.returncode == 0, run.exception
    plan = json.loads(out.read_text())
    assert plan["summary"]["model"] == "pmedian" and plan["summary"]["capacitated"]
    assert plan["summary"]["served_parcels"] == 10.0
    assert plan["sites"][0]["compartments"] == {"S": 6, "M": 3, "L": 1}


def test_curve_keeps_the_runs_capacity(tmp_path, monkeypatch):
    # the curve was uncapacitated maxcover: 30 and 50 parcels where sized lockers hold 10 each
    import routing.siting.curve as curve_mod

    drawn = {}
    monkeypatch.setattr(curve_mod, "plot_curve", lambda points, path, **kw: drawn.update(kw))
    out = tmp_path / "o.json"
    args = ("--format", "native", "-o", str(out), "--curve", str(tmp_path / "c.png"))
    run = site(str(_tiny(tmp_path, **SIZED)), *args, "--curve-max", "2")
    assert run.returncode == 0, run.exception
    plan = json.loads(out.read_text())
    points = plan["coverage_curve"]
    assert [(c["lockers"], c["covered_parcels"]) for c in points] == [(1, 10.0), (2, 20.0)]
    assert points[0]["covered_parcels"] == plan["summary"]["objective"]
    assert all(c["gap"] == 0.0 for c in points) and drawn["curve_capacitated"]


@pytest.mark.slow  # a fresh interpreter importing the whole CLI
def test_former_tracebacks_are_one_line_and_exit_2(tmp_path):
    run = gongpei(str(tmp_path), "--format", "orlib-cap", "-o", str(tmp_path / "o.json"))
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith("error: ") and "cannot read it" in run.stderr
