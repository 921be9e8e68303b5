"""Clipping a scenario's map to a polygon: a ring in the file, or a named GeoJSON boundary."""

import json
from pathlib import Path

import pytest

from api.scenario.errors import ScenarioError
from api.scenario.runner import run_scenario

# A block of central Helsinki (the demo map), as [lon, lat].
RING = [[24.938, 60.166], [24.948, 60.166], [24.948, 60.172], [24.938, 60.172]]
SCENARIO = """\
name: clipped
map:
  source: demo
  polygon: {polygon}
demand: {{source: road_nodes, points: 40, seed: 2}}
lockers:
  candidates: {{road_nodes: 10}}
siting: {{radius_m: 300, budget: 2, time_limit_s: 2}}
firms:
  - name: A
    depot: {{rel: [0.1, 0.1]}}
    fleet: [{{profile: van, count: 2, capacity: 40}}]
    parcels: {{count: 8, seed: 1}}
centres:
  - {{id: hub, at: {{rel: [0.5, 0.5]}}, fleet: [{{profile: van, count: 1, capacity: 60}}]}}
run: {{time_limit_s: 0.3, shapley: "off", locker_drops: false}}
"""


def _run(tmp_path: Path, polygon: str) -> dict:
    tmp_path.mkdir(exist_ok=True)
    scenario = tmp_path / "clipped.yaml"
    scenario.write_text(SCENARIO.format(polygon=polygon))
    run_scenario(scenario, tmp_path / "out", quiet=True)
    return json.loads((tmp_path / "out" / "summary.json").read_text())


@pytest.mark.slow
def test_polygon_ring_and_named_boundary_clip_the_map(tmp_path: Path) -> None:
    ring = _run(tmp_path / "ring", json.dumps(RING))
    west, south, east, north = ring["map"]["extent"]
    assert west >= 24.937 and east <= 24.949 and south >= 60.165 and north <= 60.173
    boundary = tmp_path / "areas.geojson"
    boundary.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Kamppi block"},
         "geometry": {"type": "Polygon", "coordinates": [[*RING, RING[0]]]}}]}))
    named = _run(tmp_path / "named", f"{{file: {boundary}, name: Kamppi block}}")
    assert named["map"]["graphs"] == ring["map"]["graphs"]


def test_unknown_boundary_name(tmp_path: Path) -> None:
    boundary = tmp_path / "areas.geojson"
    boundary.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(ScenarioError, match=r"clipped\.yaml:4: map\.polygon\.name: no feature"):
        _run(tmp_path, f"{{file: {boundary}, name: Nowhere}}")
    assert not (tmp_path / "out").exists()


@pytest.mark.shared
def test_qingdao_boundary_off_the_map(tmp_path: Path, shared_dir: Path) -> None:
    """A real Qingdao subdistrict (香港中路街道) on the Helsinki demo map: no roads, one line."""
    boundaries = shared_dir / "data" / "qingdao" / "qingdao_subdistrict_boundaries.geojson"
    with pytest.raises(ScenarioError, match=r"clipped\.yaml:4: map\.polygon: .*none of the roads"):
        _run(tmp_path, f"{{file: {boundaries}, name: 香港中路街道}}")
