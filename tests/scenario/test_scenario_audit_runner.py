"""Audited runner, output-folder and sweep defects: each test failed before its fix."""

import contextlib
import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from api.cli import main
from api.scenario import runner, sweep
from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario
from api.scenario.outdir import staged_output
from api.scenario.runner import Run, input_files, run_scenario, solve_settings
from api.scenario.sweep import run_folder, run_sweep, sweep_values
from routing.pooling.compare import SolveSettings

SMALL = """\
name: audit city
map: {source: "synthetic:400"}
demand: {source: road_nodes, points: 60, seed: 3}
lockers:
  candidates: {road_nodes: 12}
siting: {radius_m: 300, budget: 2, time_limit_s: 1}
firms:
  - name: A
    depot: {rel: [0, 0]}
    fleet: [{profile: van, count: 1, capacity: 40}]
    parcels: {count: 6, seed: 1}
centres:
  - {id: hub, at: {rel: [0.5, 0.5]}, fleet: [{profile: van, count: 1, capacity: 60}]}
run: {time_limit_s: 0.3, shapley: "off", locker_drops: false}
"""


def _write(folder: Path, text: str = SMALL, name: str = "s.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# 1. --overwrite deleted the input files lying in the output folder


def test_overwrite_refuses_a_folder_holding_the_map_or_a_parcels_file(tmp_path: Path) -> None:
    """`-o DATA --overwrite` with the --map file and a firm's parcels CSV in DATA deleted both
    once the run completed: only the scenario file was protected. Refused now, naming each."""
    data = tmp_path / "my data"
    data.mkdir()
    (data / "campus.osm").write_text("<osm/>")  # refused before the map is ever read
    (data / "a.csv").write_text("id,lat,lon\n1,0.001,0.001\n")
    (data / "notes.txt").write_text("an earlier result")
    text = SMALL.replace("parcels: {count: 6, seed: 1}", 'parcels: {file: "my data/a.csv"}')
    scenario = _write(tmp_path, text)
    before = _tree(tmp_path)
    with pytest.raises(ScenarioError) as info:
        run_scenario(
            scenario, data, map_file=data / "campus.osm", overwrite=True, quiet=True
        )
    assert info.value.problems == [
        f"{data}: output folder holds the input {data / name}, which --overwrite would "
        "delete: write the outputs elsewhere"
        for name in ("a.csv", "campus.osm")
    ]
    assert _tree(tmp_path) == before


def test_input_files_names_every_file_the_scenario_reads(tmp_path: Path) -> None:
    for name in ("area.geojson", "demand.csv", "sites.csv", "a.csv"):
        (tmp_path / name).write_text("")
    text = (
        SMALL.replace('map: {source: "synthetic:400"}',
                      "map: {polygon: {file: area.geojson, name: x}}")
        .replace("{source: road_nodes, points: 60, seed: 3}", "{source: file, file: demand.csv}")
        .replace("{road_nodes: 12}", "{file: sites.csv}")
        .replace("{count: 6, seed: 1}", "{file: a.csv}")
    )
    loaded = load_scenario(_write(tmp_path, text))
    files = input_files(loaded, str(tmp_path / "map.osm"))
    assert [Path(f).name for f in files] == [
        "s.yaml", "area.geojson", "demand.csv", "sites.csv", "a.csv", "map.osm"
    ]
    assert [Path(f).name for f in input_files(loaded, "synthetic:400")][-1] == "a.csv"


def test_sweep_overwrite_refuses_a_folder_holding_an_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("id,lat,lon\n1,0.001,0.001\n")
    text = SMALL.replace("parcels: {count: 6, seed: 1}", "parcels: {file: out/a.csv}")
    scenario = _write(tmp_path, text)
    monkeypatch.setattr(sweep, "run_scenario", lambda *a, **k: pytest.fail("must not run"))
    with pytest.raises(ScenarioError, match=r"holds the input .*out/a\.csv, which --overwrite"):
        run_sweep(scenario, "siting.budget=1,2", out, overwrite=True, quiet=True)
    assert _tree(out) == ["a.csv"]


# 2. sweeps


def _fake_runs(monkeypatch: pytest.MonkeyPatch, failing: set[str]) -> list[str]:
    """Runs that write a report, or fail (as the budget above the map's candidate sites does,
    found only when run) for the run folders named in ``failing``."""
    runs: list[str] = []

    def run_scenario(file: Path, outdir: Path, *, overrides: list[str], **_: Any) -> dict:
        runs.append(outdir.name)
        if outdir.name in failing:
            raise ScenarioError([f"{file}:6: siting: p is larger than the candidate sites"])
        outdir.mkdir()
        (outdir / "report.html").write_text(outdir.name)
        budget = load_scenario(file, overrides=overrides).spec.siting.budget
        return {"siting": {"opened": [0] * budget, "coverage": budget / 10}}

    monkeypatch.setattr(sweep, "run_scenario", run_scenario)
    return runs


def test_a_failed_sweep_run_keeps_the_finished_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One value failing at run time discarded every finished run and left no output."""
    scenario = _write(tmp_path)
    runs = _fake_runs(monkeypatch, {"siting.budget=2"})
    out = tmp_path / "out"
    with pytest.raises(ScenarioError) as info:
        run_sweep(scenario, "siting.budget=1:3:1", out, quiet=True)
    assert runs == ["siting.budget=1", "siting.budget=2", "siting.budget=3"]
    assert str(info.value) == (
        f"{out}: 1 of 3 sweep runs failed (siting.budget=2; sweep.json gives each error); "
        "the 2 finished are kept there"
    )
    assert _tree(out) == [
        "siting.budget=1", "siting.budget=1/report.html",
        "siting.budget=3", "siting.budget=3/report.html", "sweep.json", "sweep.png",
    ]
    result = json.loads((out / "sweep.json").read_text())
    assert [p["value"] for p in result["points"]] == [1, 3]
    assert result["failed"] == [
        {
            "value": 2,
            "run": "siting.budget=2",
            "error": f"{scenario}:6: siting: p is larger than the candidate sites",
        }
    ]


def test_a_sweep_run_failing_on_a_bug_keeps_the_others_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A run failing on something that is not the scenario's fault (a bug) is recorded with
    its type, and its traceback is logged."""
    scenario = _write(tmp_path)
    _fake_runs(monkeypatch, set())
    real = sweep.run_scenario

    def buggy(file: Path, outdir: Path, **kwargs: Any) -> dict:
        if outdir.name == "siting.budget=1":
            raise ValueError("expected non-negative integer")
        return real(file, outdir, **kwargs)

    monkeypatch.setattr(sweep, "run_scenario", buggy)
    with pytest.raises(ScenarioError, match="1 of 2 sweep runs failed"):
        run_sweep(scenario, "siting.budget=1,2", tmp_path / "out", quiet=True)
    failed = json.loads((tmp_path / "out" / "sweep.json").read_text())["failed"]
    assert failed[0]["error"] == "ValueError: expected non-negative integer"
    assert "Traceback" in caplog.text and (tmp_path / "out" / "siting.budget=2").is_dir()


def test_ctrl_c_in_a_sweep_keeps_the_finished_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A KeyboardInterrupt threw every finished run away with the staging folder."""
    scenario = _write(tmp_path)
    _fake_runs(monkeypatch, set())
    finished = sweep.run_scenario

    def stopped(file: Path, outdir: Path, **kwargs: Any) -> dict:
        if outdir.name == "siting.budget=2":
            raise KeyboardInterrupt
        return finished(file, outdir, **kwargs)

    monkeypatch.setattr(sweep, "run_scenario", stopped)
    with pytest.raises(ScenarioError, match=r"interrupted at siting\.budget=2; the 1 finished"):
        run_sweep(scenario, "siting.budget=1,2,3", tmp_path / "out", quiet=True)
    result = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert result["interrupted"] == "siting.budget=2" and len(result["points"]) == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "siting.budget=1", "sweep.json", "sweep.png"
    ]


@pytest.mark.parametrize("values", ["1:1e9:1", ",".join(map(str, range(1, 102)))])
def test_a_sweep_of_more_than_a_hundred_runs_is_refused_at_once(values: str) -> None:
    """1:1e9:1 built a billion values in memory before the first run."""
    with pytest.raises(ScenarioError, match="runs; a sweep makes at most 100"):
        sweep_values(f"siting.budget={values}")


def test_a_sweep_whose_runs_all_fail_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = _write(tmp_path)
    _fake_runs(monkeypatch, {"siting.budget=1", "siting.budget=2"})
    with pytest.raises(ScenarioError) as info:
        run_sweep(scenario, "siting.budget=1,2", tmp_path / "out", quiet=True)
    assert [p.split(":")[0] for p in info.value.problems] == ["siting.budget=1", "siting.budget=2"]
    assert _tree(tmp_path) == ["s.yaml"]


def test_cli_sweep_with_a_failed_run_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    scenario = _write(tmp_path)
    _fake_runs(monkeypatch, {"siting.budget=3"})
    out = tmp_path / "out"
    args = ["scenario", "sweep", str(scenario), "--set", "siting.budget=2,3", "-o", str(out), "-q"]
    monkeypatch.setattr(sys, "argv", ["gongpei", *args])
    with pytest.raises(SystemExit) as done:
        main.run()
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert "siting.budget=3 failed: " in err and "1 of 2 sweep runs failed" in err
    assert (out / "siting.budget=2" / "report.html").is_file()


def test_a_repeated_sweep_value_is_refused_up_front(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`budget=2,3,2` ran 2 and 3, then failed on an internal `.partial` path."""
    scenario = _write(tmp_path)
    runs = _fake_runs(monkeypatch, set())
    with pytest.raises(ScenarioError) as info:
        run_sweep(scenario, "siting.budget=2,3,2", tmp_path / "out", quiet=True)
    assert str(info.value) == (
        "--set siting.budget=2,3,2: siting.budget is given the value 2 more than once "
        "(each value is one run, in its own folder)"
    )
    assert runs == [] and _tree(tmp_path) == ["s.yaml"]


@pytest.mark.parametrize(
    ("setting", "values"),
    [
        ("x=08:00", ["08:00"]),
        ('x="08:00","12:30"', ["08:00", "12:30"]),
        ('x=["08:00","12:00"],["08:00","18:00"]', [["08:00", "12:00"], ["08:00", "18:00"]]),
        ("x={S: 1, M: 2}, {S: 2}", [{"S": 1, "M": 2}, {"S": 2}]),
        ("x=1:3:1", [1, 2, 3]),
        ("x=0.5:1:0.25", [0.5, 0.75, 1.0]),
        ("x=a:b:c", ["a:b:c"]),
        ("x=null", [None]),
    ],
)
def test_sweep_values_with_colons_and_lists(setting: str, values: list) -> None:
    """A value with `:` was always read as START:STOP:STEP ("must be numbers"), and values were
    split on every `,`, so clock times, lists and mappings could not be swept."""
    assert sweep_values(setting) == ("x", values)


def test_sweep_over_shifts_runs_each_shift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = _write(tmp_path)
    runs = _fake_runs(monkeypatch, set())
    setting = 'firms.0.fleet.0.shift=["08:00","12:00"],["08:00","18:00"]'
    result = run_sweep(scenario, setting, tmp_path / "out", quiet=True)
    assert runs == ["firms.0.fleet.0.shift-run1", "firms.0.fleet.0.shift-run2"]
    assert [p["set"] for p in result["points"]] == [
        "firms.0.fleet.0.shift=['08:00', '12:00']",
        "firms.0.fleet.0.shift=['08:00', '18:00']",
    ]
    assert result["failed"] == []


def test_a_sweep_folder_is_a_plain_name() -> None:
    """A list or a clock time made the folder `firms.0.fleet.0.shift=['08:00', '12:00']`:
    quotes, spaces and brackets to escape in a shell, colons no Windows folder may hold."""
    assert run_folder("siting.budget", 4, 1) == "siting.budget=4"
    assert run_folder("run.time_limit_s", 2.5, 3) == "run.time_limit_s=2.5"
    assert run_folder("firms.0.fleet.0.shift", ["08:00", "12:00"], 2) == (
        "firms.0.fleet.0.shift-run2"
    )
    assert run_folder("run.transfer", None, 1) == "run.transfer=null"


# 3. --time-limit caps the Shapley coalitions too


def test_time_limit_caps_the_coalition_solves(tmp_path: Path) -> None:
    """The coalitions kept the library's 1 s whatever --time-limit said."""
    loaded = load_scenario(_write(tmp_path))
    capped = solve_settings(
        Run(loaded=loaded, source="synthetic:400", progress=None, time_limit_s=0.1),
        SolveSettings,
        ("pooled",),
    )
    assert capped.time_limit_s == capped.coalition_time_limit_s == 0.1
    free = solve_settings(Run(loaded=loaded, source="synthetic:400", progress=None),
                          SolveSettings, ("pooled",))
    assert free.coalition_time_limit_s == SolveSettings.coalition_time_limit_s


def test_a_split_time_limit_of_0_is_none_as_in_the_cli_and_the_api(tmp_path: Path) -> None:
    """`run.split_time_limit_s: 0` was refused ("greater than 0") where `gongpei pool
    --split-time-limit 0` and the API's 0 mean no limit."""
    loaded = load_scenario(_write(tmp_path), overrides=["run.split_time_limit_s=0"])
    settings = solve_settings(
        Run(loaded=loaded, source="synthetic:400", progress=None), SolveSettings, ("pooled",)
    )
    assert settings.split_time_limit_s is None


# 4. the day's refusals at the scenario's own keys


def _spec_with(spec: Any, change: str) -> Any:
    """The scenario with one value the schema would refuse, as if it had let it through."""
    firm, centre = spec.firms[0], spec.centres[0]
    if change == "capacity":
        fleet = firm.fleet[0].model_copy(update={"capacity": 2 * 10**12})
        return spec.model_copy(update={"firms": [firm.model_copy(update={"fleet": [fleet]})]})
    if change == "service_s":
        parcels = firm.parcels.model_copy(update={"service_s": 2 * 10**10})
        return spec.model_copy(update={"firms": [firm.model_copy(update={"parcels": parcels})]})
    if change == "centre id":
        return spec.model_copy(update={"centres": [centre.model_copy(update={"id": ""})]})
    run = spec.run.model_copy(update={"unserved_parcel_cost": 2e9})
    return spec.model_copy(update={"run": run})


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ("capacity", r":10: firms\[0\]\.fleet\[0\]\.capacity: Input should be less than or equal "
         r"to 1000000000000$"),
        ("service_s", r":11: firms\[0\]\.parcels\.service_s: parcel 'A-\d+': service_s: Input "
         r"should be less than or equal to 10000000000$"),
        ("centre id", r":13: centres\[0\]\.id: String should have at least 1 character$"),
        ("unserved", r":14: run\.unserved_parcel_cost: Input should be less than or equal to "
         r"1000000000$"),
    ],
)
def test_a_day_error_names_the_scenario_key(
    change: str, where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every error of the day was blamed on `firms:` in the day's own names
    (`firms: firm 'A': fleet.0.capacity_parcels: ...`, a run.* key at `firms` too)."""
    real = runner.load_scenario

    def loose(file: Path, *, overrides: Any = ()) -> Any:
        loaded = real(file, overrides=overrides)
        return dataclasses.replace(loaded, spec=_spec_with(loaded.spec, change))

    monkeypatch.setattr(runner, "load_scenario", loose)
    scenario = _write(tmp_path)
    with pytest.raises(ScenarioError) as info:
        run_scenario(scenario, tmp_path / "out", quiet=True, coverage_curve=False)
    assert str(info.value).startswith(str(scenario))
    assert re.search(where, str(info.value)), str(info.value)
    assert _tree(tmp_path) == ["s.yaml"]


# 5. set cover's coverage curve reaches the plan


def test_set_cover_curve_reaches_the_lockers_it_opened(tmp_path: Path) -> None:
    """The curve ran to about twice `siting.budget`, which set cover ignores: 1..8 for a plan
    of 11 lockers."""
    text = SMALL.split("firms:")[0].replace(
        "{radius_m: 300, budget: 2, time_limit_s: 1}",
        "{model: set_cover, radius_m: 300, budget: 2, time_limit_s: 1, capacitated: true}",
    ).replace("{road_nodes: 12}", "{road_nodes: 15}")
    summary = run_scenario(_write(tmp_path, text), tmp_path / "out", quiet=True)
    siting = summary["siting"]
    assert len(siting["opened"]) > 2 * 2 + 2  # beyond the old curve, 1 .. 2 * budget + 2
    assert max(point["lockers"] for point in siting["curve"]) >= len(siting["opened"])


# 6. two runs to the same output folder


def test_second_run_to_a_new_folder_is_refused_and_cleaned_up(tmp_path: Path) -> None:
    """The second to finish got an uncaught `OSError: Directory not empty` and left its
    hidden `.out.partial-*` folder behind."""
    out = tmp_path / "out"
    with pytest.raises(ScenarioError) as info, staged_output(out) as late:
        (late / "summary.json").write_text('{"run": "late"}')
        with staged_output(out) as early:
            (early / "summary.json").write_text('{"run": "early"}')
    assert str(info.value) == (
        f"{out}: output folder was filled by another run while this one worked; this run's "
        "outputs were discarded (write them elsewhere, or use --overwrite)"
    )
    assert _tree(tmp_path) == ["out", "out/summary.json"]
    assert json.loads((out / "summary.json").read_text()) == {"run": "early"}


def test_runs_sharing_an_existing_folder_keep_each_others_staging(tmp_path: Path) -> None:
    """An overwriting run moved another run's staging folder away with the old contents, so
    that run crashed; without --overwrite, the later run is refused, not mixed in."""
    out = tmp_path / "out"
    out.mkdir()
    with contextlib.ExitStack() as stack:
        late = stack.enter_context(staged_output(out))
        (late / "summary.json").write_text('{"run": "late"}')
        with staged_output(out, overwrite=True) as early:
            (early / "summary.json").write_text('{"run": "early"}')
        assert late.is_dir()
        (late / "report.html").write_text("late")
        with pytest.raises(ScenarioError, match="filled by another run"):
            stack.close()
    assert _tree(tmp_path) == ["out", "out/summary.json"]
    assert json.loads((out / "summary.json").read_text()) == {"run": "early"}
