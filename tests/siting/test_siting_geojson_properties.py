"""A GeoJSON points file from a GIS tool: its own properties (fid, name, osm_id ...) are ignored
and named in one warning, a likely misspelling of a field is refused naming the field meant,
and a CSV or a native file's points stay strict. Numbers of 400 digits are "too large"."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from routing.siting.errors import SitingInputError
from routing.siting.points import read_candidates, read_demand

BIG = "1" + "0" * 399  # a JSON number all the same, beyond any float


def _collection(*properties: dict, **extra: object) -> str:
    features = [
        {"type": "Feature", "id": i, "properties": props,
         "geometry": {"type": "Point", "coordinates": [120.38, 36.06]}}
        for i, props in enumerate(properties)
    ]  # fmt: skip
    return json.dumps({"type": "FeatureCollection", "features": features, **extra})


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_qgis_export_is_read_and_its_own_properties_are_named_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QGIS writes fid and the layer's columns into every feature: the file was refused as
    "unknown field 'fid'"."""
    text = _collection(
        {"fid": 1, "id": "dorm-7", "name": "Dorm 7", "osm_id": 4411, "parcels": 40},
        {"fid": 2, "id": "lab", "name": None, "building": "university", "parcels": 12.5},
    )
    with caplog.at_level(logging.WARNING, logger="gongpei.siting"):
        points = read_demand(_write(tmp_path, "d.geojson", text))
    assert [(p.id, p.parcels) for p in points] == [("dorm-7", 40.0), ("lab", 12.5)]
    assert caplog.messages == [
        "d.geojson: ignored the properties building, fid, name, osm_id "
        "(the fields read here are id, parcels, mix, S, M, L)"
    ]


def test_candidates_keep_their_fields_beside_a_gis_tools_properties(tmp_path: Path) -> None:
    text = _collection(
        {"OBJECTID": 7, "id": "gate", "fixed_cost": 900, "capacity": 60, "existing": True,
         "compartments": {"S": 4, "M": 2, "L": 1}, "operator": "Campus Post"},
    )  # fmt: skip
    (site,) = read_candidates(_write(tmp_path, "c.geojson", text))
    assert (site.id, site.fixed_cost, site.capacity, site.existing, site.compartments) == (
        "gate", 900.0, 60.0, True, (4, 2, 1)
    )


@pytest.mark.parametrize(
    ("reader", "props", "typo", "meant"),
    [
        (read_demand, {"parcel": 4}, "parcel", "parcels"),
        (read_demand, {"parcels": 4, "mixe": [1, 0, 0]}, "mixe", "mix"),
        (read_candidates, {"fixed_cots": 100}, "fixed_cots", "fixed_cost"),
        (read_candidates, {"capcity": 50}, "capcity", "capacity"),
        (read_candidates, {"Exisiting": True}, "Exisiting", "existing"),
        (read_candidates, {"compartment": {"S": 1}}, "compartment", "compartments"),
    ],
)
def test_a_likely_misspelling_of_a_field_is_still_refused_naming_the_field(
    tmp_path: Path, reader, props: dict, typo: str, meant: str
) -> None:
    """A typo of an optional field (a site's cost, a point's mix) must not be dropped as one of
    a GIS tool's own properties: every site would be free, every mix the default."""
    path = _write(tmp_path, "p.geojson", _collection({"fid": 3, **props}))
    with pytest.raises(SitingInputError) as err:
        reader(path)
    message = f"unknown field '{typo}'; did you mean '{meant}'?"
    assert str(err.value) == f"p.geojson feature 0: {message}"


def test_a_near_name_beside_the_field_it_resembles_is_the_gis_tools_own(tmp_path: Path) -> None:
    """A QGIS join adds `capacity_1` beside `capacity`; `capacity_kg` and `fixed_cost_eur`
    are columns of their own: each was refused as a misspelling of the field given beside."""
    text = _collection(
        {"id": "gate", "capacity": 60, "capacity_1": 55, "capacity_kg": 800,
         "fixed_cost": 900, "fixed_cost_eur": 120},
    )  # fmt: skip
    (site,) = read_candidates(_write(tmp_path, "c.geojson", text))
    assert (site.capacity, site.fixed_cost) == (60.0, 900.0)
    demand = _collection({"id": "d", "parcels": 4, "parcels_1": 3})
    assert [p.parcels for p in read_demand(_write(tmp_path, "d.geojson", demand))] == [4.0]


def test_properties_in_another_case_are_the_fields_as_a_csv_header_is(tmp_path: Path) -> None:
    """"fid" and "oid" are no typo of "id": a field of two letters is matched only but for case."""
    text = _collection({"ID": "x", "Parcels": 4, "oid": 9, "fid": 1})
    (point,) = read_demand(_write(tmp_path, "d.geojson", text))
    assert (point.id, point.parcels) == ("x", 4.0)
    twice = _write(tmp_path, "twice.geojson", _collection({"ID": "x", "id": "y", "parcels": 4}))
    with pytest.raises(SitingInputError, match=r"feature 0: property 'id' repeats property 'ID'$"):
        read_demand(twice)


def test_a_csv_column_and_a_native_point_field_are_still_refused(tmp_path: Path) -> None:
    """A CSV is a table made for the reader (a column that is no field is a typo or a file
    split on ';'), a native file's points are our own format: both stay strict."""
    from routing.siting.native import read_native

    csv = _write(tmp_path, "d.csv", "id,lat,lon,parcels,name\nd1,36.06,120.38,3,Dorm\n")
    with pytest.raises(SitingInputError, match=r"d.csv row 2: unknown field 'name' \(it takes"):
        read_demand(csv)
    point = {"id": "d1", "lat": 36.06, "lon": 120.38, "parcels": 3, "name": "Dorm"}
    spec = {"radius_m": 300, "straight_line": True, "demand": [point], "candidates": [point]}
    native = _write(tmp_path, "n.json", json.dumps(spec))
    with pytest.raises(SitingInputError, match=r"^demand\[0\]: unknown field 'name' \(it takes"):
        read_native(native)


def test_gongpei_site_reads_a_gis_export_named_by_a_native_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli.main import app

    demand = _collection(
        {"fid": 1, "id": "d1", "parcels": 5, "name": "Dorm"},
        {"fid": 2, "id": "d2", "parcels": 3, "name": "Lab"},
    )
    sites = _collection({"fid": 1, "id": "s1", "layer": "gates"})
    _write(tmp_path, "d.geojson", demand)
    _write(tmp_path, "s.geojson", sites)
    spec = {"radius_m": 300, "straight_line": True, "demand": "d.geojson",
            "candidates": "s.geojson", "model": {"kind": "maxcover", "p": 1}}  # fmt: skip
    _write(tmp_path, "n.json", json.dumps(spec))
    out = tmp_path / "plan.json"
    run = CliRunner().invoke(app, ["site", str(tmp_path / "n.json"), "--format", "native",
                                   "-o", str(out)])  # fmt: skip
    assert run.exit_code == 0, run.exception
    assert json.loads(out.read_text())["open_site_ids"] == ["s1"]


@pytest.mark.parametrize(
    ("reader", "props", "message"),
    [
        (read_demand, f'"parcels": {BIG}', "field 'parcels' is too large for a number"),
        (read_candidates, f'"capacity": {BIG}', "field 'capacity' is too large for a number"),
        (read_candidates, f'"existing": true, "compartments": {{"S": {BIG}}}',
         "field 'compartments.S' is too large for a count of compartments (at most 10,000)"),
        (read_candidates, f'"existing": true, "compartments_S": {BIG}, "compartments_M": 1, '
         '"compartments_L": 1',
         "field 'compartments_S' is too large for a count of compartments (at most 10,000)"),
    ],
)  # fmt: skip
def test_a_number_of_400_digits_is_too_large_not_no_number(
    tmp_path: Path, reader, props: str, message: str
) -> None:
    """It was "must be a number" (a float field) or an OverflowError traceback (a count)."""
    text = (
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.38, 36.06]}, '
        f'"properties": {{"id": "x", {props}}}}}'
    )
    path = _write(tmp_path, "p.geojson", text)
    with pytest.raises(SitingInputError) as err:
        reader(path)
    assert str(err.value).startswith(f"p.geojson feature 0: {message}")
    assert str(err.value).endswith(", got 1000000000000000... (400 digits)")


def test_a_native_files_number_of_400_digits_is_too_large(tmp_path: Path) -> None:
    from routing.siting.native import read_native

    path = _write(tmp_path, "n.json", f'{{"radius_m": {BIG}, "demand": [], "candidates": []}}')
    with pytest.raises(SitingInputError) as err:
        read_native(path)
    assert str(err.value) == (
        "native file 'n.json': field 'radius_m' is too large for a number (at most about "
        "1.8e308), got 1000000000000000... (400 digits)"
    )
