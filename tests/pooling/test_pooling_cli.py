"""`gongpei pool DAY.yaml -o OUTDIR`: the files it writes, and bad input as one line, exit 2."""

import csv
import json
import sys
import warnings

import geopandas as gpd
import pytest
import yaml

from api.cli.main import run


def gongpei(monkeypatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["gongpei", *args])
    with pytest.raises(SystemExit) as stop:
        run()
    return stop.value.code


def test_pool_writes_summary_table_routes_and_chart(tmp_path, monkeypatch, capsys, day_data):
    day = tmp_path / "day.yaml"
    day.write_text(yaml.safe_dump(day_data))
    out = tmp_path / "out"
    code = gongpei(
        monkeypatch, "pool", str(day), "-o", str(out),
        "--engine", "ortools", "--time-limit", "0.5", "--coalition-time-limit", "0.4",
        "--min-time-limit", "0.2",
    )  # fmt: skip
    assert code == 0
    # piped, the table keeps whole headers and one line per firm (rich's 80 columns cut them)
    table = capsys.readouterr().out
    assert "…" not in table and "CO2 kg solo -> pooled" in table
    assert len([line for line in table.splitlines() if line.lstrip("│ ").startswith("sf ")]) == 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["checker"]["ok"] is True
    assert set(summary["plans"]) == {"solo", "pooled", "lockers"}
    assert summary["plans"]["pooled"]["cost"] < summary["plans"]["solo"]["cost"]
    assert summary["splits"]["pooled"]["method"] == "exact"
    with (out / "firms.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["firm"] for r in rows] == ["sf", "yto"]
    assert float(rows[0]["pooled_saving"]) > 0
    assert float(rows[0]["pooled_transfer_cost"]) > 0
    for plan in ("solo", "pooled", "lockers"):
        routes = json.loads((out / f"routes_{plan}.geojson").read_text())
        lines = [f for f in routes["features"] if f["geometry"]["type"] == "LineString"]
        assert lines and all(f["properties"]["plan"] == plan for f in routes["features"])
        _one_geometry_type_a_file_as_a_shapefile(out, plan, tmp_path)
    # The pooled plans draw each firm's line haul, depot to hub and back (straight, as legs are).
    pooled = json.loads((out / "routes_pooled.geojson").read_text())
    hauls = [f for f in pooled["features"] if f["properties"]["vehicle"] == "line haul to hub"]
    assert sorted(f["properties"]["firm"] for f in hauls) == ["sf", "yto"]
    # `firms` as a route's, so a firm that keeps the features naming it keeps its line haul
    assert all(f["properties"]["firms"] == [f["properties"]["firm"]] for f in hauls)
    depot = day_data["firms"][0]["depot"]
    assert hauls[0]["geometry"]["coordinates"][0] == [depot[1], depot[0]]
    solo = json.loads((out / "routes_solo.geojson").read_text())
    assert {f["properties"]["firm"] for f in solo["features"]} == {"sf", "yto"}
    assert (out / "cost_per_firm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_day_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, day_data):
    day_data["parcels"][2]["firm"] = "ems"
    day = tmp_path / "day.yaml"
    day.write_text(yaml.safe_dump(day_data))
    assert gongpei(monkeypatch, "pool", str(day), "-o", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: parcel 'sf-3': firm 'ems' is unknown"
    assert not (tmp_path / "out").exists()


def test_true_as_a_count_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, day_data):
    """`count: true` (or YAML's `yes`), read as one van, was a run that exited 0."""
    day_data["firms"][0]["fleet"][0]["count"] = True
    day = tmp_path / "day.yaml"
    day.write_text(yaml.safe_dump(day_data))
    assert gongpei(monkeypatch, "pool", str(day), "-o", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: firm 'sf': fleet.0.count: expected a number, not true or false"
    assert not (tmp_path / "out").exists()


def _one_geometry_type_a_file_as_a_shapefile(out, plan: str, tmp_path) -> None:
    """A plan's routes and line haul, and beside them its stops, each one geometry type, as a
    Shapefile holds (routes_<plan>.geojson mixed LineStrings and Points: no Shapefile took it),
    the split a scenario's layers make (`routing.pooling.output.stops_apart`)."""
    for name, kind in ((f"routes_{plan}", "LineString"), (f"routes_{plan}_stops", "Point")):
        features = json.loads((out / f"{name}.geojson").read_text())["features"]
        assert features and {f["geometry"]["type"] for f in features} == {kind}, name
        assert all(f["properties"]["plan"] == plan for f in features)
        with warnings.catch_warnings():  # long field names are cut to 10 characters: said
            warnings.simplefilter("ignore")
            gpd.read_file(out / f"{name}.geojson").to_file(tmp_path / f"{name}.shp")
        assert len(gpd.read_file(tmp_path / f"{name}.shp")) == len(features), name
