"""Demand and parcels from files, drawn parcels, and their errors."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from api.cli import demo_cmd
from api.scenario.demand import (
    demand_from_buildings,
    draw_parcels,
    read_demand_file,
    read_parcels_file,
)
from api.scenario.errors import ScenarioError
from api.scenario.schema import DemandSpec, LockersSpec, ParcelsSpec
from api.scenario.sites import sites_from_file

MIX = {"S": 0.5, "M": 0.5, "L": 0.0}


def test_demand_csv_and_geojson(tmp_path: Path) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text("id,lat,lon,parcels\na,36.06,120.38,12\nb,36.07,120.39,3.5\n")
    points = read_demand_file(csv, MIX, "s.yaml:5: demand.file")
    assert points.ids == ["a", "b"] and points.parcels.tolist() == [12, 3.5]
    assert np.allclose(points.size_mix, [[0.5, 0.5, 0], [0.5, 0.5, 0]])
    geo = tmp_path / "d.geojson"
    geo.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.38, 36.06]},
         "properties": {"id": "t1", "parcels": 40}}]}))
    points = read_demand_file(geo, MIX, "where")
    assert points.points() == [(36.06, 120.38)]


def test_demand_file_errors_name_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "d.csv"
    bad.write_text("id,lat,lon,parcels\na,36.06,120.38,-2\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml:5: demand\.file: demand point 'a'"):
        read_demand_file(bad, MIX, "s.yaml:5: demand.file")
    bad.write_text("id,lat,lon\na,36.06,120.38\n")
    with pytest.raises(ScenarioError, match="cannot read demand"):
        read_demand_file(bad, MIX, "s.yaml:5: demand.file")


def test_empty_parcels_file_is_a_firm_with_no_parcels(tmp_path: Path) -> None:
    empty = tmp_path / "p.csv"
    empty.write_text("id,lat,lon,size\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml:9: firms\[0\].parcels: firm 'SF' has no"):
        read_parcels_file("SF", empty, ParcelsSpec(file=empty), "s.yaml:9: firms[0].parcels")


def test_drawn_parcels_follow_demand_and_windows() -> None:
    frame = pd.DataFrame({"osm_ref": ["w1", "w2", "r3"], "building": ["dormitory", "yes", "office"],
                          "levels": [5.0, 1.0, 2.0], "area_m2": [1000.0, 200.0, 500.0],
                          "lat": [36.0, 36.1, 36.2], "lon": [120.0, 120.1, 120.2]})
    demand = demand_from_buildings(frame, DemandSpec(rates={"dormitory": 1.5, "default": 0.0}))
    assert demand.ids == ["bw1"] and demand.parcels.tolist() == [75.0]  # 1.5 x 50 x 100 m²
    spec = ParcelsSpec(count=200, seed=4, time_windows=[
        {"window": ["12:00", "13:30"], "share": 0.25}])
    parcels = draw_parcels("JD", spec, demand, {"S": 1.0})
    assert len(parcels) == 200 and {p.demand_id for p in parcels} == {"bw1"}
    assert {p.size for p in parcels} == {"S"}
    lunch = sum(p.window == (12 * 3600, 13 * 3600 + 1800) for p in parcels)
    assert 30 <= lunch <= 70 and draw_parcels("JD", spec, demand, {"S": 1.0}) == parcels


def test_demo_runs_the_campus_scenario() -> None:
    assert demo_cmd.CAMPUS.name == "campus.yaml" and demo_cmd.CAMPUS.is_file()


def test_candidate_sites_file(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_text("id,lat,lon\nlobby-1,36.06,120.38\n")
    spec = LockersSpec(candidates={"file": path, "cost": 2.5, "compartments": {"S": 4}})
    (site,) = sites_from_file(path, spec, "s.yaml:7: lockers.candidates.file")
    assert (site.id, site.lat, site.cost, site.compartments.S, site.existing) == (
        "lobby-1", 36.06, 2.5, 4, False)
    path.write_text("id,lat\nlobby-1,36.06\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml:7: lockers\.candidates\.file: cannot read"):
        sites_from_file(path, spec, "s.yaml:7: lockers.candidates.file")
