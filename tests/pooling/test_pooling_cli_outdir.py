"""`gongpei pool -o DIR` protects what is there as `scenario run` does: a folder that is not
empty needs --overwrite, which is refused when the folder holds an input (the day replaced by
the output summary.json was the bug); `--platform` says what it found."""

import json
import sys

import pytest
import yaml

from api.cli import pool_cmd
from api.cli.main import run
from routing.pooling.day import parse_day

FAST = ["--time-limit", "0.3", "--coalition-time-limit", "0.2", "--min-time-limit", "0.1"]


def gongpei(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["gongpei", *args])
    with pytest.raises(SystemExit) as stop:
        run()
    return stop.value.code, capsys.readouterr().err


@pytest.fixture
def no_solving(monkeypatch):
    def solved(*_args, **_kwargs):
        raise AssertionError("solved although the output folder was refused")

    monkeypatch.setattr("routing.pooling.compare.compare_day", solved)


def test_the_folder_holding_the_day_is_refused(tmp_path, monkeypatch, capsys, day_data,
                                               no_solving) -> None:  # fmt: skip
    day = tmp_path / "summary.json"  # named as the output that replaced it
    day.write_text(yaml.safe_dump(day_data))
    before = day.read_text()
    code, err = gongpei(monkeypatch, capsys, "pool", str(day), "-o", str(tmp_path))
    assert code == 2
    assert err.strip() == (
        f"error: {tmp_path}: output folder is not empty (use --overwrite to replace it)"
    )
    code, err = gongpei(monkeypatch, capsys, "pool", str(day), "-o", str(tmp_path), "--overwrite")
    assert code == 2
    assert err.strip() == (
        f"error: {tmp_path}: output folder holds the input {day}, which --overwrite would "
        "delete: write the outputs elsewhere"
    )
    assert day.read_text() == before and list(tmp_path.iterdir()) == [day]


def test_the_inputs_are_the_day_its_map_and_its_siting_plan(tmp_path, day_data) -> None:
    day_file = tmp_path / "day.yaml"
    day_data["travel"] = {"source": "city.osm"}
    assert pool_cmd.day_inputs(day_file, parse_day(day_data, base_dir=tmp_path)) == [
        day_file, tmp_path / "city.osm"
    ]
    day_data["travel"] = {"source": "demo"}  # the built-in map is no file
    assert pool_cmd.day_inputs(day_file, parse_day(day_data, base_dir=tmp_path)) == [day_file]
    site = {"id": "s1", "lat": 36.066, "lon": 120.38, "compartments": {"S": 2}}
    (tmp_path / "plan.json").write_text(json.dumps({"sites": [site]}))
    day_data["lockers_from"] = {"siting": "plan.json"}
    assert pool_cmd.day_inputs(day_file, parse_day(day_data, base_dir=tmp_path)) == [
        day_file, tmp_path / "plan.json"
    ]


def test_a_second_run_needs_overwrite_and_replaces_the_first(
    tmp_path, monkeypatch, capsys, day_data
) -> None:
    day = tmp_path / "day.yaml"
    day.write_text(yaml.safe_dump(day_data))
    out = tmp_path / "out"
    assert gongpei(monkeypatch, capsys, "pool", str(day), "-o", str(out), *FAST)[0] == 0
    (out / "notes.txt").write_text("mine")
    code, err = gongpei(monkeypatch, capsys, "pool", str(day), "-o", str(out), *FAST)
    assert code == 2 and "output folder is not empty (use --overwrite" in err
    assert (out / "notes.txt").exists()
    code, _ = gongpei(monkeypatch, capsys, "pool", str(day), "-o", str(out), *FAST, "--overwrite")
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "cost_per_firm.png", "firms.csv", "routes_lockers.geojson",
        "routes_lockers_stops.geojson", "routes_pooled.geojson", "routes_pooled_stops.geojson",
        "routes_solo.geojson", "routes_solo_stops.geojson", "summary.json", "unserved.csv",
    ]  # fmt: skip


def test_platform_lockers_in_reach_are_said_and_listed(
    tmp_path, monkeypatch, capsys, day_data
) -> None:
    day_data["lockers"] = []
    day = tmp_path / "day.yaml"
    day.write_text(yaml.safe_dump(day_data))
    found = [
        {"id": "platform-7", "at": [36.0661, 120.3801], "free": {"S": 3, "M": 1}},
        {"id": "platform-8", "at": [36.0760, 120.3800], "free": {"S": 9}},  # 1.1 km away
    ]
    monkeypatch.setattr(pool_cmd, "platform_lockers", lambda _client, _day: found)
    out = tmp_path / "out"
    code, err = gongpei(monkeypatch, capsys, "pool", str(day), "-o", str(out), *FAST,
                        "--platform", "http://platform.test")  # fmt: skip
    assert code == 0
    assert (
        "platform http://platform.test: 2 lockers near the parcels, 1 within a 300 m walk of "
        "one (free compartments: S 3, M 1)"
    ) in err
    platform = json.loads((out / "summary.json").read_text())["platform"]
    assert platform["url"] == "http://platform.test"
    assert [(lk["id"], lk["free"]) for lk in platform["lockers"]] == [
        ("platform-7", {"S": 3, "M": 1})
    ]
    assert 0 < platform["lockers"][0]["walk_m"] < 300
