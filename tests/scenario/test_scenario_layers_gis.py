"""A scenario's layers as a planner takes them on: each file into a GIS tool (one geometry type
a layer, as a Shapefile or a QGIS layer holds: the route layers mixed the routes' LineStrings
with their stops' Points, which no Shapefile could hold), and the chosen lockers onto the
platform (`gongpei lockers import` refused the lockers layer: no `name`, flat S/M/L counts)."""

import json
import warnings
from pathlib import Path

import geopandas as gpd
import pytest
from typer.testing import CliRunner

from api.cli import main
from api.db.engine import Database
from api.scenario.runner import run_scenario
from api.search import LockerIndex, Query

CITY = """\
name: two firms
map: {source: "synthetic:300"}
demand: {source: road_nodes, points: 40, seed: 3}
lockers:
  existing: [{id: old-1, at: {rel: [0.5, 0.5]}, compartments: {S: 6, M: 3}}]
  candidates: {road_nodes: 12, compartments: {S: 10, M: 5, L: 2}}
siting: {radius_m: 400, budget: 3, time_limit_s: 2}
firms:
  - name: A
    depot: {rel: [0, 0]}
    fleet: [{profile: van, count: 2, capacity: 40}]
    parcels: {count: 8, seed: 1}
  - name: B
    depot: {rel: [1, 1]}
    fleet: [{profile: van, count: 2, capacity: 40}]
    parcels: {count: 8, seed: 2}
centres:
  - {id: hub, at: {rel: [0.5, 0.5]}, fleet: [{profile: van, count: 2, capacity: 60}]}
run: {time_limit_s: 0.5, shapley: "off"}
"""


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("gis")
    (base / "scenario.yaml").write_text(CITY)
    run_scenario(base / "scenario.yaml", base / "out", quiet=True)
    return base / "out" / "layers"


def test_every_layer_file_holds_one_geometry_type_and_writes_as_a_shapefile(
    layers: Path, tmp_path: Path
) -> None:
    files = sorted(layers.glob("*.geojson"))
    for plan in ("solo", "pooled", "lockers"):  # each plan's routes, its stops beside them
        assert {f"routes_{plan}.geojson", f"routes_{plan}_stops.geojson"} <= {p.name for p in files}
    for path in files:
        features = json.loads(path.read_text())["features"]
        kinds = {f["geometry"]["type"] for f in features if f["geometry"] is not None}
        assert len(kinds) == 1, (path.name, kinds)
        with warnings.catch_warnings():  # long field names are cut to 10 characters: said
            warnings.simplefilter("ignore")
            gpd.read_file(path).to_file(tmp_path / f"{path.stem}.shp")
        assert len(gpd.read_file(tmp_path / f"{path.stem}.shp")) == len(features), path.name
    stops = json.loads((layers / "routes_pooled_stops.geojson").read_text())["features"]
    assert any(f["properties"]["type"] == "job" for f in stops)


def test_the_chosen_lockers_import_and_are_found_where_sited(layers: Path, tmp_path: Path) -> None:
    sites = json.loads((layers / "lockers.geojson").read_text())["features"]
    chosen = [f for f in sites if f["properties"]["chosen"]]
    assert len(chosen) == 3 and len(sites) > len(chosen)  # the layer holds every candidate
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    args = ["lockers", "import", str(layers / "lockers.geojson"), "--database-url", url]
    result = CliRunner().invoke(main.app, args)
    assert result.exit_code == 0, result.output
    assert "imported 3 lockers (0 already present)" in result.output
    db = Database(url)
    try:
        index = LockerIndex(db.engine, max_age_s=0)
        for site in chosen:
            lon, lat = site["geometry"]["coordinates"]
            props = site["properties"]
            found, _ = index.search(Query(lat, lon, 5.0, None, False), limit=5, cursor=None)
            [item] = found
            assert item["name"] == (props["name"] or props["id"])
            assert (item["lat"], item["lon"]) == pytest.approx((lat, lon), abs=1e-7)
            assert item["total"] == {size: props[size] for size in ("S", "M", "L")}
    finally:
        db.dispose()
