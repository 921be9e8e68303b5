"""Parcel ids of different firms: a day names a parcel by its id alone, so two firms' parcels of
one id are refused naming both firms; a scenario keeps its firms' own ids apart (``FIRM-ID``)
and refuses, before any map is built, the firm names and ids that would still meet."""

import sys
from pathlib import Path

import pytest

from api.cli import main
from api.scenario.runner import run_scenario
from routing.pooling.day import parse_day
from routing.pooling.errors import PoolingError

FLEET = [{"type": "van", "count": 1}]


def _day(parcels: list[tuple[str, str]]) -> dict:
    return {
        "travel": {"straight_line": True},
        "firms": [
            {"id": "SF", "depot": [36.06, 120.38], "fleet": FLEET},
            {"id": "YTO", "depot": [36.07, 120.39], "fleet": FLEET},
        ],
        "centres": [{"id": "hub", "at": [36.065, 120.385], "fleet": FLEET}],
        "parcels": [
            {"id": pid, "firm": firm, "at": [36.06 + 0.001 * k, 120.38]}
            for k, (pid, firm) in enumerate(parcels)
        ],
    }


def test_a_day_refuses_one_parcel_id_at_two_firms_naming_both():
    # said "parcel 'p1': id repeats", naming neither firm
    with pytest.raises(PoolingError) as err:
        parse_day(_day([("p0", "SF"), ("p1", "SF"), ("p1", "YTO")]))
    assert str(err.value) == (
        "parcel 'p1': id repeats: firms 'SF' and 'YTO' each have a parcel 'p1', and parcel ids "
        "must differ across the day's firms (give them the firm's prefix, e.g. 'SF-p1' and "
        "'YTO-p1')"
    )


def test_a_day_refuses_one_parcel_id_twice_at_one_firm():
    with pytest.raises(PoolingError) as err:
        parse_day(_day([("p1", "SF"), ("p1", "SF")]))
    assert str(err.value) == "parcel 'p1': id repeats (firm 'SF' has it twice)"


SCENARIO = """\
name: firm ids
map: {source: "synthetic:400"}
demand: {source: road_nodes, points: 60, seed: 3}
lockers:
  existing: [{id: gate, at: {lat: 36.0585, lon: 120.3790}, compartments: {S: 10, M: 5, L: 2}}]
  candidates: {road_nodes: 12}
siting: {radius_m: 300, budget: 2, time_limit_s: 1}
firms:
  - name: %s
    depot: {rel: [0, 0]}
    fleet: [{profile: van, count: 1, capacity: 40}]
    parcels: %s
  - name: %s
    depot: {rel: [1, 1]}
    fleet: [{profile: van, count: 1, capacity: 40}]
    parcels: %s
centres:
  - {id: hub, at: {rel: [0.5, 0.5]}, fleet: [{profile: van, count: 2, capacity: 60}]}
run: {time_limit_s: 0.3, shapley: exact, locker_drops: true}
"""
PLACES = "id,lat,lon\n1,36.0579,120.3775\n2,36.0585,120.3790\n3,36.0600,120.3800\n"


def _validate(monkeypatch, capsys, path: Path) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["gongpei", "scenario", "validate", str(path)])
    with pytest.raises(SystemExit) as done:
        main.run()
    return done.value.code, capsys.readouterr().err


def test_a_scenario_refuses_firm_names_and_ids_that_meet_in_the_day(
    tmp_path: Path, monkeypatch, capsys
):
    # firm "a"'s parcel "b-1" and firm "a-b"'s first drawn parcel are both "a-b-1" in the day:
    # `scenario validate` passed it and `scenario run` failed after the map, the demand and the
    # siting, with "firms: parcel 'a-b-1': id repeats"
    (tmp_path / "a.csv").write_text(PLACES.replace("\n1,", "\nb-1,"))
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO % ("a", "{file: a.csv}", "a-b", "{count: 3, seed: 1}"))
    code, err = _validate(monkeypatch, capsys, path)
    assert code == 2
    assert err.strip() == (
        f"error: {path}:16: firms[1].parcels: parcel 1 (drawn) of firm 'a-b' and parcel 'b-1' "
        "of firm 'a' are both 'a-b-1' in the day, which names each parcel FIRM-ID: rename the "
        "parcel or the firm"
    )


@pytest.mark.slow
def test_two_firms_parcel_ids_are_kept_apart_through_the_day(tmp_path: Path) -> None:
    """Both firms number their parcels 1, 2, 3 (the day's SF-1.. and YTO-1..): each keeps its
    own three through the plans, the split and the drops at the standing locker by 2 and 3."""
    (tmp_path / "a.csv").write_text(PLACES)
    (tmp_path / "b.csv").write_text(PLACES)
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO % ("SF", "{file: a.csv}", "YTO", "{file: b.csv}"))
    summary = run_scenario(path, tmp_path / "out", quiet=True, coverage_curve=False)
    assert summary["day"]["per_firm"] == {"SF": 3, "YTO": 3}
    assert [row["parcels"] for row in summary["plans"].values()] == [6, 6, 6]
    firms = [(row["name"], row["parcels"], row["parcels_in_lockers"]) for row in summary["firms"]]
    assert firms == [("SF", 3, 2), ("YTO", 3, 2)]
    assert sorted(summary["firms"][0]["shares"]) == ["lockers", "pooled"]
    (drop,) = summary["locker_drops"]
    assert (drop["locker"], sorted(drop["parcels"])) == ("gate", ["SF-2", "SF-3", "YTO-2", "YTO-3"])
