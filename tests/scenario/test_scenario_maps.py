"""The shipped campus and office-tower scenarios end to end: on the bundled demo map, and through
--map on the real extracts in ../shared/data/osm/ (short time limits keep CI quick)."""

import json
from pathlib import Path

import pytest

from api.scenario.runner import run_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
QUICK = ["siting.budget=3", "siting.time_limit_s=1", "run.time_limit_s=0.2"]
# office towers has four firms: 2 x 15 coalition solves for the Shapley split; campus checks it
SHAPLEY = {"campus": [], "office-towers": ["run.shapley=off"]}
EXTRACTS = {
    "campus": "beijing_tsinghua_pku_campus.osm",
    "office-towers": "nanjing_xinjiekou_cbd.osm",
}


def _check(out: Path, scenario: str) -> dict:
    summary = json.loads((out / "summary.json").read_text())
    assert {s["status"] for s in summary["stages"].values()} == {"done"}, summary["stages"]
    assert summary["demand"]["points"] > 20
    assert len(summary["siting"]["opened"]) == 3
    assert 0 < summary["siting"]["coverage"] <= 1
    assert summary["checker"]["ok"], summary["checker"]
    plans = summary["plans"]
    day = sum(summary["day"]["per_firm"].values())
    for kind in ("solo", "pooled", "lockers"):
        assert plans[kind]["parcels"] + plans[kind]["unserved"] == day, kind
    assert plans["lockers"]["parcels_in_lockers"] > 0
    if summary["splits"]:
        shares = sum(firm["shares"]["pooled"] for firm in summary["firms"])
        assert shares == pytest.approx(summary["splits"]["pooled"]["cost"], rel=1e-3)
    html = (out / "report.html").read_text()
    assert summary["scenario"]["name"] in html
    for layer in ("roads", "demand", "lockers", "routes_solo", "routes_pooled", "routes_lockers"):
        features = json.loads((out / "layers" / f"{layer}.geojson").read_text())["features"]
        assert features, f"{scenario}: layer {layer} is empty"
    return summary


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["campus", "office-towers"])
def test_scenario_on_demo_map(scenario: str, tmp_path: Path) -> None:
    out = tmp_path / scenario
    run_scenario(SCENARIOS / f"{scenario}.yaml", out, overrides=QUICK + SHAPLEY[scenario],
                 quiet=True)
    summary = _check(out, scenario)
    assert "Helsinki" in summary["map"]["source"] or summary["map"]["source"] == "demo"


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("scenario", ["campus", "office-towers"])
def test_scenario_on_real_extract(scenario: str, shared_dir: Path, tmp_path: Path) -> None:
    extract = shared_dir / "data" / "osm" / EXTRACTS[scenario]
    out = tmp_path / scenario
    run_scenario(SCENARIOS / f"{scenario}.yaml", out, map_file=extract,
                 overrides=QUICK + SHAPLEY[scenario], quiet=True)
    summary = _check(out, scenario)
    assert summary["map"]["source"] == str(extract.resolve())
