"""Pool routes are drawn along the roads their travel was timed on, as `scenario run` and
`solve --geojson` draw theirs; straight only for straight-line travel (notes/helperJ FINDINGS,
usability 1). The figures on the lines do not change with the drawing."""

from __future__ import annotations

import copy
import itertools
import json
import sys
from pathlib import Path

import pytest
import yaml

from network.geo import haversine_m
from network.synthetic import synthetic_city
from routing.pooling.compare import DayResult, SolveSettings, compare_day
from routing.pooling.day import parse_day
from routing.pooling.generate import generate_day
from routing.pooling.output import road_lines, route_features
from routing.pooling.travel import DayTravel, day_travel

FAST = SolveSettings(
    engine="ortools", time_limit_s=0.5, coalition_time_limit_s=0.4, min_time_limit_s=0.2
)


@pytest.fixture(scope="module")
def city_day() -> dict:
    """Two firms of four parcels on `synthetic:150`, with its lockers."""
    return generate_day(synthetic_city(150, seed=0), source="synthetic:150", firms=2,
                        parcels_per_firm=4, seed=2)  # fmt: skip


@pytest.fixture(scope="module")
def compared(city_day: dict) -> tuple[DayResult, DayTravel]:
    day = parse_day(copy.deepcopy(city_day))
    travel = day_travel(day)
    return compare_day(day, travel, FAST), travel


def _lines(features: list[dict]) -> list[dict]:
    return [f for f in features if f["geometry"]["type"] == "LineString"]


def _length_m(coords: list[list[float]]) -> float:
    return sum(haversine_m(a[1], a[0], b[1], b[0]) for a, b in itertools.pairwise(coords))


def test_pool_routes_follow_the_roads_of_a_map(compared: tuple[DayResult, DayTravel]) -> None:
    result, travel = compared
    along = road_lines(travel)
    assert along is not None
    straight, drawn = route_features(result), route_features(result, along=along)
    assert set(drawn) == {"solo", "pooled", "lockers"}
    for kind in drawn:
        before, after = _lines(straight[kind]), _lines(drawn[kind])
        assert [f["properties"] for f in after] == [f["properties"] for f in before]  # figures
        for old, new in zip(before, after, strict=True):
            stops = old["geometry"]["coordinates"]  # straight: one vertex a stop
            line = new["geometry"]["coordinates"]
            assert len(line) > len(stops), (kind, new["properties"]["vehicle"])
            assert line[0] == stops[0] and line[-1] == stops[-1]  # from and to its markers
            props = new["properties"]
            # the drawn line is the road driven, plus the courier's walk (and a depot's way to
            # its road): never shorter than what the figures say was driven
            assert _length_m(line) >= props["distance_m"] * 0.99 - 1, props
        assert [f for f in drawn[kind] if f["geometry"]["type"] == "Point"] == [
            f for f in straight[kind] if f["geometry"]["type"] == "Point"
        ]


def test_costs_and_km_on_road_drawn_lines_still_add_up(
    compared: tuple[DayResult, DayTravel],
) -> None:
    """README: the lines' costs add up to the plan's cost (less undelivered parcels' charge,
    none here), and their metres to its vehicle-km, line haul included."""
    result, travel = compared
    figures = result.plan_figures()
    for kind, features in route_features(result, along=road_lines(travel)).items():
        lines = [f["properties"] for f in _lines(features)]
        assert figures[kind].unserved == 0
        assert sum(p["cost"] for p in lines) == pytest.approx(figures[kind].cost, abs=0.02)
        metres = sum(p["distance_m"] for p in lines)
        assert metres == pytest.approx(figures[kind].vehicle_km * 1000, abs=len(lines))


def test_straight_line_travel_keeps_straight_legs(new_day) -> None:
    assert road_lines(day_travel(parse_day(new_day()))) is None


def test_pool_cli_and_pool_run_draw_routes_on_the_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, city_day: dict
) -> None:
    from api.cli.main import run
    from api.jobs.runner import run_pool

    day = tmp_path / "day.yaml"
    day.write_text(yaml.safe_dump(city_day))
    monkeypatch.setattr(sys, "argv", [
        "gongpei", "pool", str(day), "-o", str(tmp_path / "out"), "--engine", "ortools",
        "--time-limit", "0.5", "--coalition-time-limit", "0.4", "--min-time-limit", "0.2",
        "--cache-dir", str(tmp_path / "graphs"),
    ])  # fmt: skip
    with pytest.raises(SystemExit) as stop:
        run()
    assert stop.value.code == 0
    pooled = json.loads((tmp_path / "out" / "routes_pooled.geojson").read_text())
    payload = {"day": copy.deepcopy(city_day), "network": "synthetic:150", "engine": "ortools",
               "time_limit_s": 0.5, "coalition_time_limit_s": 0.4, "shapley_precision": 0.0}
    _, collection = run_pool(payload, lambda _done: None)
    for features in (pooled["features"], collection["features"]):
        lines = _lines(features)
        assert lines
        for line in lines:  # straight, a haul or a route of one stop would have 3 vertices
            assert len(line["geometry"]["coordinates"]) > 3, line["properties"]
