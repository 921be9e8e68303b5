"""Siting audit regressions: `gongpei site` never writes over a file it reads (one a native
input names, a hard link), and `POST /v1/siting-runs` refuses what its worker would, at the
item, and reads a partial size mix as `gongpei site` does."""

from __future__ import annotations

import json
import os
import re

import pytest
from sqlalchemy import func, select

from api.cli import site_cmd
from api.cli.checks import OptionError, check_output_files
from api.db.models import Job
from api.jobs.worker import Worker

DEMAND = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": "d1",
            "geometry": {"type": "Point", "coordinates": [118.7815, 32.0402]},
            "properties": {"parcels": 10},
        }
    ],
}
NAMED = {  # each file a native input may name, with what it holds
    "demand": ("dem.geojson", json.dumps(DEMAND)),
    "candidates": ("cand.csv", "id,lat,lon\nc1,32.0402262,118.7809381\n"),
    "existing": ("old.csv", "id,lat,lon\ne1,32.04345,118.77822\n"),
    "map": ("city.osm", "<osm version='0.6'></osm>\n"),
}


@pytest.fixture
def gongpei(monkeypatch, invoke_cli):
    """The real entry point: its exit code and stderr. Nothing may be solved."""

    def no_solving(*_args, **_kwargs):
        raise AssertionError("solved although an output would replace an input")

    monkeypatch.setattr(site_cmd, "solve", no_solving)
    return invoke_cli


@pytest.mark.parametrize(
    ("field", "option"),
    [("demand", "--geojson"), ("candidates", "-o"), ("existing", "--curve"), ("map", "-o")],
)
def test_site_refuses_to_write_over_a_file_the_native_input_names(
    gongpei, tmp_path, field, option
):
    """`-o cand.csv --geojson dem.geojson` replaced a native input's points files with the plan
    (exit 0); only the JSON itself was checked."""
    for name, text in NAMED.values():
        (tmp_path / name).write_text(text)
    spec = {"straight_line": True, "radius_m": 400, "model": {"kind": "maxcover", "p": 1}}
    spec |= {key: name for key, (name, _) in NAMED.items()}
    (tmp_path / "in.json").write_text(json.dumps(spec))
    name, text = NAMED[field]
    outputs = {"-o": str(tmp_path / "plan.json"), option: str(tmp_path / name)}
    args = [arg for pair in outputs.items() for arg in pair]
    code, err = gongpei("site", str(tmp_path / "in.json"), "--format", "native", *args)
    expected = f"{option}: {tmp_path / name} is also the {field} file; write it elsewhere"
    assert code == 2 and err.endswith(expected) and len(err.splitlines()) == 1, err
    assert (tmp_path / name).read_text() == text and not (tmp_path / "plan.json").exists()


def test_an_output_hard_linked_to_an_input_or_output_is_refused(tmp_path):
    """A hard link resolves to itself, so `-o` naming a hard link of the input replaced it."""
    source, out = tmp_path / "p.txt", tmp_path / "o.json"
    source.write_text(" 4 4 2\n")
    out.write_text("{}")
    source_link, out_link = tmp_path / "p_link.txt", tmp_path / "o_link.json"
    os.link(source, source_link)
    os.link(out, out_link)
    inputs = {"the input file": source}
    for outputs, message in (
        ({"-o": source_link}, f"-o: {source_link} is also the input file"),
        ({"-o": out, "--geojson": out_link}, f"--geojson: {out_link} is also the -o file"),
    ):
        with pytest.raises(OptionError, match=re.escape(message)):
            check_output_files(inputs, outputs)
    check_output_files(inputs, {"-o": out, "--geojson": tmp_path / "g"})
    assert source.read_text() == " 4 4 2\n"


def _body(**changes) -> dict:
    body = {
        "model": {"kind": "maxcover", "p": 1},
        "radius_m": 400,
        "distance": "straight_line",
        "demand": [
            {"id": "d1", "lat": 32.0402, "lon": 118.7815, "parcels": 10},
            {"id": "d2", "lat": 32.0410, "lon": 118.7816, "parcels": 5},
        ],
        "candidates": [
            {"id": "c1", "lat": 32.0402262, "lon": 118.7809381},
            {"id": "c2", "lat": 32.04345, "lon": 118.77822},
        ],
        "time_limit_s": 5,
    }
    return body | changes


def _refused(client, auth, body) -> dict:
    r = client.post("/v1/siting-runs", json=body, headers=auth["planner"])
    assert r.status_code == 422, r.text
    return r.json()["detail"][0]


def test_compartments_on_a_new_candidate_are_a_422_at_the_item(client, db, auth):
    """They were a 202 and a job that failed in the worker ("existing compartments are only
    for lockers already standing")."""
    body = _body()
    body["candidates"][1]["compartments"] = {"S": 3}
    detail = _refused(client, auth, body)
    assert detail["loc"] == ["body", "candidates", 1], detail
    assert "site 'c2': existing compartments are only for lockers already standing" in (
        detail["msg"]
    )
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
    body["candidates"][1]["existing"] = True
    r = client.post("/v1/siting-runs", json=body, headers=auth["planner"])
    assert r.status_code == 202, r.text


def test_a_partial_mix_is_read_as_gongpei_site_reads_it(client, settings, auth):
    """`{"S": 1}` was a 422 (M and L required) though `gongpei site` reads it as S=1, M=L=0;
    shares that do not sum to 1 are still refused at the point, as there."""
    body = _body(model={"kind": "maxcover", "p": 1, "sizing": {}})
    body["demand"][1]["mix"] = {"S": 1}
    r = client.post("/v1/siting-runs", json=body, headers=auth["planner"])
    assert r.status_code == 202, r.text
    Worker(settings).run(max_jobs=1)
    status = client.get(f"/v1/siting-runs/{r.json()['id']}", headers=auth["planner"]).json()
    assert status["status"] == "done", status
    body["demand"][1]["mix"] = {"M": 0.5}
    detail = _refused(client, auth, body)
    assert detail["loc"] == ["body", "demand", 1] and "summing to 1" in detail["msg"], detail


@pytest.mark.parametrize(
    ("field", "loc", "needle"),
    [
        ("demand", ["body", "demand", 1, "id"], "demand point 'd1': id appears more than once"),
        ("candidates", ["body", "candidates", 1, "id"], "candidate 'c1': id appears more than"),
    ],
)
def test_a_repeated_id_is_a_422_at_the_repeating_item(client, auth, field, loc, needle):
    """Its loc was the whole body; only the message named the item."""
    body = _body()
    body[field][1]["id"] = body[field][0]["id"]
    detail = _refused(client, auth, body)
    assert detail["loc"] == loc and needle in detail["msg"], detail


def test_the_hard_link_case_through_the_command(gongpei, tmp_path):
    """The reproducer's shape: `-o` a hard link of the OR-Library input, refused before
    solving with the input left as it was."""
    source = tmp_path / "p.txt"
    source.write_text(" 4 4 2\n 1 2 9\n 2 3 1\n 3 4 5\n 2 1 1\n")
    os.link(source, tmp_path / "p_link.txt")
    link = tmp_path / "p_link.txt"
    code, err = gongpei("site", str(source), "--format", "orlib-pmed", "-o", str(link))
    assert code == 2 and err.endswith(f"-o: {link} is also the input file; write it elsewhere")
    assert source.read_text().startswith(" 4 4 2")
