"""`scenario validate` rejects what `scenario run` would, each with file:line: field: why, and a
scenario without firms sites lockers only."""

import json
import sys
from pathlib import Path

import pytest

from api.cli import main
from api.scenario.checks import check_inputs
from api.scenario.demand import read_parcels_file
from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario
from api.scenario.runner import run_scenario

FIRMS = """\
firms:
  - name: A
    depot: {rel: [0, 0]}
    fleet: [{profile: van, count: 2, capacity: 40}]
    parcels: {count: 10, seed: 1}
"""
CENTRES = """\
centres:
  - {id: hub, at: {rel: [0.5, 0.5]}, fleet: [{profile: van, count: 2, capacity: 60}]}
"""
SITING_ONLY = """\
name: siting only
map: {source: "synthetic:400"}
demand: {source: road_nodes, points: 60, seed: 3}
lockers:
  existing:
    - {id: gate-a, at: {rel: [0.3, 0.3]}, compartments: {S: 10, M: 5, L: 2}}
    - {id: gate-b, at: {rel: [0.7, 0.7]}, compartments: {S: 10, M: 5, L: 2}}
  candidates: {road_nodes: 20}
siting: {radius_m: 300, budget: 3, time_limit_s: 2}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, text))
    return [p.removeprefix(f"{tmp_path / 's.yaml'}:") for p in info.value.problems]


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str):
    monkeypatch.setattr(sys, "argv", ["gongpei", *args])
    with pytest.raises(SystemExit) as done:
        main.run()
    return done.value.code, capsys.readouterr()


def test_a_scenario_without_firms_is_siting_only(tmp_path: Path) -> None:
    spec = load_scenario(_write(tmp_path, SITING_ONLY)).spec
    assert not spec.firms and not spec.centres


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            SITING_ONLY + FIRMS,
            "1: centres: no shared centre: the firms' day is planned alone and "
            "pooled at a shared centre, so give at least one (or leave firms out to site "
            "lockers only)",
        ),
        (SITING_ONLY + CENTRES, "10: centres: shared centres but no firms: nothing to pool"),
        (
            SITING_ONLY.replace("budget: 3", "budget: 1"),
            "9: siting.budget: budget 1 is below the 2 "
            "existing lockers, which stay open and count in the budget (give at least 2)",
        ),
        (
            SITING_ONLY.replace("budget: 3", "budget: 1, model: p_median"),
            "9: siting.budget: budget 1",
        ),
        (SITING_ONLY.replace("gate-b", "gate-a"), "5: lockers.existing: ids repeat: gate-a"),
        (
            SITING_ONLY.replace("  existing:\n", "  old:\n").split("  old:")[0]
            + "  candidates: {road_nodes: 0}\nsiting: {budget: 3}\n",
            "5: lockers.candidates: no candidate locker sites: give building_types, a file or "
            "road_nodes",
        ),
        (
            SITING_ONLY.replace("source: road_nodes, points: 60, seed: 3", "rates: {default: 0}"),
            "3: demand.rates: every rate is 0: no building gets parcels",
        ),
        (
            SITING_ONLY.replace("seed: 3", "seed: 3, parcels_per_point: [0, 0]"),
            "3: demand.parcels_per_point: no point gets parcels",
        ),
    ],
)
def test_what_a_run_refuses_is_refused_on_loading(tmp_path: Path, text: str, expected: str) -> None:
    problems = _problems(tmp_path, text)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_set_cover_has_no_budget_to_check(tmp_path: Path) -> None:
    text = SITING_ONLY.replace("budget: 3", "budget: 1, model: set_cover")
    assert load_scenario(_write(tmp_path, text)).spec.siting.budget == 1


def test_run_refuses_a_budget_below_the_existing_lockers_before_any_work(tmp_path: Path) -> None:
    path = _write(tmp_path, SITING_ONLY)
    said = r"^--set siting\.budget=1: siting\.budget: budget 1 is below"
    with pytest.raises(ScenarioError, match=said):
        run_scenario(path, tmp_path / "out", quiet=True, overrides=["siting.budget=1"])
    assert not (tmp_path / "out").exists()


def test_validate_refuses_fleets_adding_up_beyond_the_days_vehicles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Each fleet entry within the day's limit but all of them beyond it passed `validate`, and
    the run refused it only after the map, the demand and the siting: now refused on loading,
    in the run's words at the line the run blames, by the run's own check (its limit moves
    both)."""
    text = (
        SITING_ONLY
        + FIRMS.replace("count: 2,", "count: 600,")
        + CENTRES.replace("count: 2,", "count: 401,")
    )
    code, io = _cli(monkeypatch, capsys, "scenario", "validate", str(_write(tmp_path, text)))
    assert code == 2 and io.err.strip() == (
        f"error: {tmp_path / 's.yaml'}:10: firms: fleet: count: the day's fleets add up to 1001 "
        "vehicles, more than 1000 (firms' and centres' together)"
    )
    assert load_scenario(_write(tmp_path, text.replace("401", "400"))).spec.firms
    monkeypatch.setattr("routing.pooling.day.MAX_DAY_VEHICLES", 3)
    assert _problems(tmp_path, SITING_ONLY + FIRMS + CENTRES) == [
        "10: firms: fleet: count: the day's fleets add up to 4 vehicles, more than 3 "
        "(firms' and centres' together)"
    ]


def test_validate_reads_the_files_a_run_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "day.csv").write_text("id,lat,lon,size\np1,60.17,24.94,S\np2,60.17,24.94,XXL\n")
    (tmp_path / "demand.csv").write_text("id,lat,lon,parcels\nd1,60.17,24.94,0\n")
    text = (
        SITING_ONLY.replace(
            "source: road_nodes, points: 60, seed: 3", "source: file, file: demand.csv"
        )
        + FIRMS.replace("{count: 10, seed: 1}", "{file: day.csv}")
        + CENTRES
    )
    code, io = _cli(monkeypatch, capsys, "scenario", "validate", str(_write(tmp_path, text)))
    assert code == 2 and io.out == ""
    lines = [
        line.removeprefix(f"error: {tmp_path / 's.yaml'}:") for line in io.err.strip().splitlines()
    ]
    assert lines == [
        "3: demand.file: the demand in demand.csv adds up to zero parcels a day",
        "14: firms[0].parcels: day.csv: parcel 'p2': size 'XXL' is unknown (use S, M, L or XL)",
    ]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("p1,95,24.94", "parcel 'p1': lat/lon (95.0, 24.94) is not a coordinate"),
        ("p1,nan,24.94", "parcel 'p1': lat/lon (nan, 24.94) is not a coordinate"),
        ("p1,60.17,24.94\np1,60.18,24.94", "parcel 'p1': id repeats"),
    ],
)
def test_validate_refuses_parcels_the_day_would(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    rows: str,
    expected: str,
) -> None:
    (tmp_path / "day.csv").write_text(f"id,lat,lon\n{rows}\n")
    text = SITING_ONLY + FIRMS.replace("{count: 10, seed: 1}", "{file: day.csv}") + CENTRES
    code, io = _cli(monkeypatch, capsys, "scenario", "validate", str(_write(tmp_path, text)))
    assert code == 2
    assert (
        io.err.strip() == f"error: {tmp_path / 's.yaml'}:14: firms[0].parcels: day.csv: " + expected
    )


def test_firms_may_number_their_parcels_alike(tmp_path: Path) -> None:
    """Read parcels are named FIRM-ID, like drawn ones, so two firms' files may share ids."""
    (tmp_path / "day.csv").write_text("id,lat,lon\n1,60.17,24.94\n")
    second = FIRMS.replace("name: A", "name: B").removeprefix("firms:\n")
    text = (
        SITING_ONLY + (FIRMS + second).replace("{count: 10, seed: 1}", "{file: day.csv}") + CENTRES
    )
    loaded = load_scenario(_write(tmp_path, text))
    check_inputs(loaded, "synthetic:400")
    ids = [
        p.id
        for i, firm in enumerate(loaded.spec.firms)
        for p in read_parcels_file(firm.name, tmp_path / "day.csv", firm.parcels, f"firms[{i}]")
    ]
    assert ids == ["A-1", "B-1"]


def test_validate_checks_the_map_file_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "map.txt").write_text("not osm")
    text = SITING_ONLY.replace('"synthetic:400"', "map.txt")
    code, io = _cli(monkeypatch, capsys, "scenario", "validate", str(_write(tmp_path, text)))
    assert code == 2 and io.err.startswith(
        f"error: {tmp_path / 's.yaml'}:2: map.source: OSM "
        f"file '{tmp_path / 'map.txt'}': unknown file type;"
    )
    code, io = _cli(
        monkeypatch,
        capsys,
        "scenario",
        "validate",
        str(_write(tmp_path, SITING_ONLY)),
        "--map",
        str(tmp_path / "map.txt"),
    )
    assert code == 2 and io.err.startswith(f"error: --map {tmp_path / 'map.txt'}: OSM file ")


def test_validate_checks_the_map_the_run_would_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    text = SITING_ONLY.replace("source: road_nodes, points: 60, seed: 3", "source: buildings")
    code, io = _cli(monkeypatch, capsys, "scenario", "validate", str(_write(tmp_path, text)))
    assert code == 2
    assert (
        io.err.strip() == f"error: {tmp_path / 's.yaml'}:3: demand.source: a synthetic city "
        "has no buildings: use demand source road_nodes or a file"
    )
    text = SITING_ONLY.replace('"synthetic:400"', '"synthetic:many"')
    code, io = _cli(monkeypatch, capsys, "scenario", "validate", str(_write(tmp_path, text)))
    assert code == 2 and ":2: map.source: expected synthetic:N with N a whole number" in io.err
    code, io = _cli(
        monkeypatch,
        capsys,
        "scenario",
        "validate",
        str(_write(tmp_path, text)),
        "--map",
        str(tmp_path / "nowhere.osm"),
    )
    assert code == 2 and "--map" in io.err and "nowhere.osm: file not found" in io.err


def test_validate_says_a_scenario_without_firms_sites_lockers_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    path = _write(tmp_path, SITING_ONLY)
    code, io = _cli(monkeypatch, capsys, "scenario", "validate", str(path))
    assert code in (0, None), io.err
    assert (
        io.out.strip() == f"{path}: valid scenario 'siting only' (siting only, max_coverage: "
        "no firms, so no routes are planned)"
    )


def test_siting_only_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = run_scenario(_write(tmp_path, SITING_ONLY), out, quiet=True)
    assert {name: s["status"] for name, s in summary["stages"].items()} == {
        "graphs": "done",
        "demand": "done",
        "siting": "done",
    }
    assert {"gate-a", "gate-b"} <= set(summary["siting"]["opened"])
    assert len(summary["siting"]["opened"]) == 3
    assert "plans" not in summary and "day" not in summary
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["coverage_curve.png"]
    layers = sorted(p.stem for p in (out / "layers").iterdir())
    assert layers == ["catchments", "demand", "lockers", "roads"]
    html = (out / "report.html").read_text()
    assert 'id="siting-table"' in html and 'id="plans-table"' not in html
    assert json.loads((out / "summary.json").read_text())["siting"]["budget"] == 3


def test_numbers_refuse_true_and_false(tmp_path: Path) -> None:
    """YAML's `true`/`yes` was read as 1: `count: true` one van, `points: yes` one point."""
    text = (
        SITING_ONLY.replace("points: 60", "points: yes")
        + FIRMS.replace("count: 2,", "count: true,")
        + CENTRES
    )
    problems = _problems(tmp_path, text)
    assert any("demand.points: " in p and "not true or false" in p for p in problems), problems
    assert any("firms[0].fleet[0].count: " in p and "not true or false" in p for p in problems)


def test_numbers_refuse_infinity(tmp_path: Path) -> None:
    """YAML's `.inf` passed the checks: an endless walk or time limit reached the solvers."""
    text = (
        SITING_ONLY.replace("radius_m: 300", "radius_m: .inf").replace(
            "time_limit_s: 2", "time_limit_s: .inf"
        )
        + FIRMS
        + CENTRES
    )
    problems = _problems(tmp_path, text)
    for field in ("siting.radius_m: ", "siting.time_limit_s: "):
        assert any(field in p and "finite" in p for p in problems), problems
