"""A siting plan's locker layer goes onto the platform as written: `gongpei site --geojson`
wrote sites with an `id` and no `name` (and a scenario's lockers.geojson flat counts `S`, `M`,
`L` and every candidate), which `gongpei lockers import` refused, so a planner retyped them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import main
from api.lockers import LockerInputError, import_geojson

EXAMPLES = Path(__file__).resolve().parents[2] / "routing" / "siting" / "examples"
runner = CliRunner()


def _site(tmp_path: Path, **model: object) -> Path:
    """`gongpei site --geojson` on the Kluuvi example (three of its sites, the standing
    `station` among them), the model's ``model`` options added; returns the locker layer."""
    spec = json.loads((EXAMPLES / "kluuvi.json").read_text())
    spec["model"] |= model
    for field in ("demand", "candidates"):
        spec[field] = str(EXAMPLES / spec[field])
    native, layer = tmp_path / "kluuvi.json", tmp_path / "lockers.geojson"
    native.write_text(json.dumps(spec))
    args = ["site", str(native), "--format", "native", "-o", str(tmp_path / "plan.json"),
            "--geojson", str(layer), "--time-limit", "10"]
    result = runner.invoke(main.app, args)
    assert result.exit_code == 0, result.output
    return layer


def _import(path: Path, database_url: str):
    return runner.invoke(main.app, ["lockers", "import", str(path), "--database-url", database_url])


def test_a_sized_site_plan_is_found_where_it_was_sited(client, database_url, tmp_path) -> None:
    layer = _site(tmp_path, sizing={"dwell_days": 1.5, "max_compartments": 120})
    sites = [(f["properties"], f["geometry"]["coordinates"])
             for f in json.loads(layer.read_text())["features"]]
    assert len(sites) == 3
    result = _import(layer, database_url)
    assert result.exit_code == 0, result.output
    assert "imported 3 lockers (0 already present)" in result.output
    for props, (lon, lat) in sites:
        found = client.get("/v1/lockers", params={"lat": lat, "lon": lon, "radius_m": 5})
        assert found.status_code == 200, found.text
        [item] = found.json()["items"]
        assert item["name"] == props["id"]
        assert (item["lat"], item["lon"]) == pytest.approx((lat, lon), abs=1e-7)
        assert item["total"] == props["compartments"] and sum(item["total"].values()) > 0
    again = _import(layer, database_url)  # the site ids are the refs: nothing twice
    assert "imported 0 lockers (3 already present)" in again.output


def test_an_unsized_site_plan_names_what_it_lacks(tmp_path) -> None:
    """Without a sizing a plan has no counts for the lockers it builds: the import names the
    property and how to get it, rather than invent doors. A standing locker's own (the
    input's compartments_S/M/L) are written, so it alone would import."""
    layer = _site(tmp_path)
    features = json.loads(layer.read_text())["features"]
    props = {f["properties"]["id"]: f["properties"] for f in features}
    assert props["station"]["compartments"] == {"S": 40, "M": 20, "L": 8}
    assert "compartments" not in props["kaisaniemi"]
    with pytest.raises(LockerInputError) as err:
        import_geojson(None, layer)  # type: ignore[arg-type]  # refused before any query
    assert str(err.value).startswith(
        "feature 1 (id 'kaisaniemi'): property 'compartments' is missing: give compartments "
    )
    assert "add a 'sizing'" in str(err.value)


def _scenario_layer(tmp_path: Path, *features: dict) -> Path:
    path = tmp_path / "lockers.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


def _locker(lon: float, **props: object) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, 60.17]},
            "properties": props}


def test_a_scenario_layer_imports_its_chosen_lockers_with_their_counts(client, db,
                                                                     tmp_path) -> None:
    """A scenario's lockers layer: every candidate, flat S/M/L counts (null where unsized),
    a name only where the site has one."""
    layer = _scenario_layer(
        tmp_path,
        _locker(24.94, id="old-1", name=None, chosen=True, status="existing", S=6, M=3, L=0),
        _locker(24.95, id="site-17", name="Kiasma", chosen=True, status="building", S=9, M=4,
                L=1),
        _locker(24.96, id="site-18", name=None, chosen=False, status="road node", S=None,
                M=None, L=None),
    )
    with db.writing() as session:
        assert import_geojson(session, layer) == (2, 0)
    items = client.get("/v1/lockers", params={"lat": 60.17, "lon": 24.95}).json()["items"]
    assert {(i["name"], i["lon"]): i["total"] for i in items} == {
        ("old-1", 24.94): {"S": 6, "M": 3, "L": 0},
        ("Kiasma", 24.95): {"S": 9, "M": 4, "L": 1},
    }


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"id": "a", "S": 2.0}, "feature 0 (id 'a'): property 'S' must be a whole number, got 2.0"),
        ({"id": "a", "S": -1}, "feature 0 (id 'a'): property 'S' must be at least 0, got -1"),
        ({"id": "a", "chosen": "yes", "S": 1},
         "feature 0 (id 'a'): property 'chosen' must be true or false"),
        # a number id (a GIS tool's row number) is no name or ref, as before
        ({"id": 7, "compartments": {"S": 1}}, "feature 0: property 'name' is missing"),
        ({"name": "Gate", "ref": "g", "id": "a"},
         "feature 0 (ref 'g'): property 'compartments' is missing: give compartments"),
    ],
)
def test_a_siting_property_is_refused_by_its_own_name(tmp_path, props, message) -> None:
    layer = _scenario_layer(tmp_path, _locker(24.94, **props))
    with pytest.raises(LockerInputError) as err:
        import_geojson(None, layer)  # type: ignore[arg-type]  # refused before any query
    assert str(err.value).startswith(message)
