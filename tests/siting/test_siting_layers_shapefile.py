"""A siting plan's GIS files hold one geometry type each, so each converts to a Shapefile: the
lockers (Points) apart from the catchments (LineStrings; none for a point at its own site). One
collection of both could only go to a GeoPackage: ogr2ogr and geopandas refused a Shapefile."""

import json
from pathlib import Path

import geopandas as gpd
import pytest

from api.cli.main import app
from api.cli.site_cmd import catchments_path
from routing.siting import SitingModel, solve
from routing.siting.points import Candidate, DemandPoint, instance_from_points

# a Shapefile's field names are cut to 10 characters (compartment_cost: compartmen)
pytestmark = pytest.mark.filterwarnings("ignore:Column names longer", "ignore:Normalized")
LAT, LON = 36.067, 120.383
M = 1 / 111_320  # about one metre of latitude, in degrees


def _plan():
    demand = [DemandPoint("here", LAT, LON, 10), DemandPoint("north", LAT + 300 * M, LON, 5)]
    sites = [Candidate("s0", LAT, LON, fixed_cost=3)]
    inst = instance_from_points(demand, sites, radius_m=400, straight_line=True)
    return solve(inst, SitingModel("setcover"))


def _as_shapefile(collection: dict, folder: Path, name: str) -> gpd.GeoDataFrame:
    """``collection`` written as an ESRI Shapefile by pyogrio and read back."""
    frame = gpd.GeoDataFrame.from_features(collection["features"], crs="EPSG:4326")
    path = folder / f"{name}.shp"
    frame.to_file(path, driver="ESRI Shapefile", engine="pyogrio")
    return gpd.read_file(path, engine="pyogrio")


def test_each_layer_has_one_geometry_type_and_a_point_at_its_site_none(tmp_path: Path) -> None:
    layers = _plan().to_layers()
    lockers, catchments = layers["lockers"]["features"], layers["catchments"]["features"]
    assert {f["geometry"]["type"] for f in lockers} == {"Point"}
    by_demand = {f["properties"]["demand"]: f for f in catchments}
    assert by_demand["north"]["geometry"]["type"] == "LineString"
    here = by_demand["here"]  # at its own site: no line to draw, and no Point in a line layer
    assert here["geometry"] is None and here["properties"]["parcels"] == 10.0
    for name, collection in layers.items():
        back = _as_shapefile(collection, tmp_path, name)
        assert len(back) == len(collection["features"])
    assert _as_shapefile(layers["catchments"], tmp_path, "c")["parcels"].sum() == 15.0


def test_the_site_command_writes_lockers_and_catchments_apart(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    spec = {
        "straight_line": True,
        "radius_m": 400,
        "demand": [{"id": "here", "lat": LAT, "lon": LON, "parcels": 10},
                   {"id": "north", "lat": LAT + 300 * M, "lon": LON, "parcels": 5}],
        "candidates": [{"id": "s0", "lat": LAT, "lon": LON, "fixed_cost": 3}],
        "model": {"kind": "setcover"},
    }  # fmt: skip
    (tmp_path / "n.json").write_text(json.dumps(spec))
    gj = tmp_path / "plan.geojson"
    args = ["site", str(tmp_path / "n.json"), "--format", "native", "-o", str(tmp_path / "o.json")]
    run = CliRunner().invoke(app, [*args, "--geojson", str(gj)])
    assert run.exit_code == 0, run.exception
    lines = tmp_path / "plan-catchments.geojson"
    assert catchments_path(gj) == lines
    lockers, catchments = (json.loads(p.read_text()) for p in (gj, lines))
    assert [f["properties"]["kind"] for f in lockers["features"]] == ["locker"]
    assert {f["properties"]["kind"] for f in catchments["features"]} == {"catchment"}
    for name, collection in (("lockers", lockers), ("catchments", catchments)):
        assert len(_as_shapefile(collection, tmp_path, name)) == len(collection["features"])


def test_the_catchments_file_is_checked_as_an_output(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    spec = {"straight_line": True, "radius_m": 400, "demand": "plan-catchments.geojson",
            "candidates": [{"id": "s0", "lat": LAT, "lon": LON}], "model": {"kind": "setcover"}}
    (tmp_path / "n.json").write_text(json.dumps(spec))
    (tmp_path / "plan-catchments.geojson").write_text("keep me")
    args = ["site", str(tmp_path / "n.json"), "--format", "native", "-o", str(tmp_path / "o.json")]
    run = CliRunner().invoke(app, [*args, "--geojson", str(tmp_path / "plan.geojson")])
    assert run.exit_code != 0 and "--geojson (catchments)" in str(run.exception)
    assert (tmp_path / "plan-catchments.geojson").read_text() == "keep me"


@pytest.mark.slow  # a scenario run end to end (a small synthetic city, lockers only)
def test_a_scenarios_siting_layers_convert_to_shapefiles(tmp_path: Path) -> None:
    from api.scenario.runner import run_scenario

    (tmp_path / "s.yaml").write_text(SMALL_SITING)
    out = tmp_path / "out"
    run_scenario(tmp_path / "s.yaml", out, quiet=True)
    names = sorted(path.stem for path in (out / "layers").glob("*.geojson"))
    assert {"lockers", "catchments"} <= set(names)
    for name in names:  # every layer of a run that sites lockers only
        collection = json.loads((out / "layers" / f"{name}.geojson").read_text())
        kinds = {f["geometry"]["type"] for f in collection["features"] if f["geometry"]}
        assert len(kinds) <= 1, (name, kinds)
        assert len(_as_shapefile(collection, tmp_path, name)) == len(collection["features"])


SMALL_SITING = """\
name: small siting
map: {source: "synthetic:300"}
demand: {source: road_nodes, points: 40, seed: 1}
lockers:
  candidates: {road_nodes: 12, compartments: {S: 10, M: 5, L: 2}}
siting: {radius_m: 400, budget: 2, time_limit_s: 2}
"""
