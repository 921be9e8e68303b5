"""A sweep over the locker budget: one run per value, sweep.json and the trade-off curves."""

import json
from pathlib import Path

import pytest

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
