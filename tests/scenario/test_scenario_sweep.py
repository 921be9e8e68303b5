"""A sweep over the locker budget: one run per value, sweep.json and the trade-off curves."""

import json
import sys
from pathlib import Path

import pytest

from api.cli import main
from api.scenario import sweep
from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario
from api.scenario.sweep import run_sweep

SWEEP_CITY = """\
name: sweep city
map: {source: "synthetic:400"}
demand: {source: road_nodes, points: 60, seed: 3}
lockers:
  candidates: {road_nodes: 25}
siting: {radius_m: 300, budget: 2, time_limit_s: 2}
firms:
  - name: A
    depot: {rel: [0, 0]}
    fleet: [{profile: van, count: 2, capacity: 40}]
    parcels: {count: 10, seed: 1}
centres:
  - {id: hub, at: {rel: [0.5, 0.5]}, fleet: [{profile: van, count: 2, capacity: 60}]}
run: {time_limit_s: 0.5, shapley: "off"}
"""


@pytest.mark.slow
def test_budget_sweep(tmp_path: Path) -> None:
    scenario = tmp_path / "sweep.yaml"
    scenario.write_text(SWEEP_CITY)
    out = tmp_path / "sweep"
    result = run_sweep(scenario, "siting.budget=1:3:1", out, quiet=True)
    assert [p["value"] for p in result["points"]] == [1, 2, 3]
    assert [p["lockers"] for p in result["points"]] == [1, 2, 3]
    coverage = [p["coverage"] for p in result["points"]]
    assert coverage == sorted(coverage) and coverage[-1] > coverage[0]
    assert all(p["cost"]["pooled"] > 0 for p in result["points"])
    assert json.loads((out / "sweep.json").read_text()) == result
    assert (out / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "siting.budget=2" / "report.html").is_file()


def test_sweep_rejects_a_bad_value_before_running(tmp_path: Path) -> None:
    scenario = tmp_path / "sweep.yaml"
    scenario.write_text(SWEEP_CITY)
    with pytest.raises(ScenarioError, match="budget must be at least 1"):
        run_sweep(scenario, "siting.budget=0:2:1", tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()


def test_sweep_over_null_passes_null(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A swept value goes back to the scenario as YAML: null stays null, not the text 'None'."""
    scenario = tmp_path / "sweep.yaml"
    scenario.write_text(SWEEP_CITY)
    runs = []

    def run_scenario(file, outdir, *, overrides, **_):
        runs.append((outdir.name, overrides))
        transfer = load_scenario(file, overrides=overrides).spec.run.transfer
        return {"plans": {"pooled": {"cost": 1.0 if transfer is None else 2.0}}}

    monkeypatch.setattr(sweep, "run_scenario", run_scenario)
    result = sweep.run_sweep(scenario, "run.transfer=null", tmp_path / "out", quiet=True)
    assert runs == [("run.transfer=null", ["run.transfer=null"])]
    assert result["points"][0]["value"] is None and result["points"][0]["cost"]["pooled"] == 1.0
    assert (tmp_path / "out" / "sweep.png").is_file()


def test_fixed_overrides_hold_in_every_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep could vary one setting only from the file's values: `--fix` holds others in
    every run (and is refused for the swept setting itself, which would override it)."""
    scenario = tmp_path / "sweep.yaml"
    scenario.write_text(SWEEP_CITY)
    runs = []

    def run_scenario(file, outdir, *, overrides, **_):
        runs.append(overrides)
        return {
            "siting": {"opened": [0] * load_scenario(file, overrides=overrides).spec.siting.budget}
        }

    monkeypatch.setattr(sweep, "run_scenario", run_scenario)
    fixed = ["run.transfer=null"]
    result = run_sweep(scenario, "siting.budget=1,2", tmp_path / "out", quiet=True, fixed=fixed)
    assert runs == [[*fixed, "siting.budget=1"], [*fixed, "siting.budget=2"]]
    assert result["fixed"] == fixed and [p["lockers"] for p in result["points"]] == [1, 2]
    with pytest.raises(ScenarioError, match=r"--fix siting.budget=3: siting.budget is the setting"):
        run_sweep(scenario, "siting.budget=1,2", tmp_path / "o2", fixed=["siting.budget=3"])
    assert not (tmp_path / "o2").exists()


def test_cli_refuses_a_second_swept_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Typer kept the last `--set` without a word, so `--set a=1,2 --set b=x` swept b only."""
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "gongpei",
            "scenario",
            "sweep",
            str(tmp_path / "s.yaml"),
            "--set",
            "siting.budget=1,2",
            "--set",
            "run.transfer=null",
            "-o",
            str(tmp_path / "out"),
        ],
    )
    with pytest.raises(SystemExit) as done:
        main.run()
    assert done.value.code == 2 and capsys.readouterr().err.strip() == (
        "error: --set: a sweep varies one setting, got 2 (siting.budget=1,2, run.transfer=null);"
        " hold others with --fix dotted.key=value"
    )
    assert not (tmp_path / "out").exists()
